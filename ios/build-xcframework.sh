#!/usr/bin/env bash
# Builds ios/AuthenticatorCoreFFI.xcframework, the C side of the Swift package on Apple platforms,
# and syncs the generated Swift into the package. macOS with Xcode only.
#
#   ios/build-xcframework.sh            → ios/AuthenticatorCoreFFI.xcframework
#                                         + ios/Sources/AuthenticatorCore/Generated/AuthenticatorCore.swift
#
# Slices (static libraries, profile `mobile`: release, size-optimised, see Cargo.toml):
#   ios-arm64                    aarch64-apple-ios
#   ios-arm64_x86_64-simulator   aarch64-apple-ios-sim + x86_64-apple-ios, joined with lipo
# Each slice carries Headers/AuthenticatorCoreFFI.h and Headers/module.modulemap (module
# AuthenticatorCoreFFI). Header, module map and Swift come from uniffi-bindgen run on an
# unstripped host build (bindings/generate.sh), so they always match the Rust code.
#
# Environment: IPHONEOS_DEPLOYMENT_TARGET (default 15.0, as Package.swift's platforms).
#
# NOT RUN in this repository's CI (Linux, no Xcode): written to be run on a Mac.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
DEVICE_TARGET=aarch64-apple-ios
SIM_TARGETS=(aarch64-apple-ios-sim x86_64-apple-ios)
PROFILE=mobile
LIB=libauthenticator_core.a
OUT="$HERE/AuthenticatorCoreFFI.xcframework"

die() {
  echo "build-xcframework: $*" >&2
  exit 1
}

[ "$(uname -s)" = Darwin ] ||
  die "needs macOS with Xcode (xcodebuild, lipo and the iOS SDKs); this is $(uname -s). On Linux, ios/run-tests.sh tests the package against the host library instead."
for tool in xcodebuild lipo xcrun cargo; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool not found (install Xcode, its command line tools, and Rust via rustup)"
done
xcrun --sdk iphoneos --show-sdk-path >/dev/null 2>&1 || die "no iOS SDK: select a full Xcode with 'sudo xcode-select -s /Applications/Xcode.app'"
xcrun --sdk iphonesimulator --show-sdk-path >/dev/null 2>&1 || die "no iOS Simulator SDK in the selected Xcode"

if command -v rustup >/dev/null 2>&1; then
  rustup target add "$DEVICE_TARGET" "${SIM_TARGETS[@]}" >/dev/null
else
  echo "build-xcframework: rustup not found; assuming the std for $DEVICE_TARGET ${SIM_TARGETS[*]} is installed" >&2
fi

export IPHONEOS_DEPLOYMENT_TARGET="${IPHONEOS_DEPLOYMENT_TARGET:-15.0}"
cd "$REPO"
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')

# 1. Static libraries. The crate's crate-type is ["lib", "cdylib"]; `cargo rustc --crate-type`
#    builds it as a staticlib instead, without touching the manifest.
for target in "$DEVICE_TARGET" "${SIM_TARGETS[@]}"; do
  echo "build-xcframework: cargo rustc --target $target --profile $PROFILE (staticlib)"
  cargo rustc --quiet -p authenticator-ffi --lib --crate-type staticlib --profile "$PROFILE" --target "$target"
  [ -f "$target_dir/$target/$PROFILE/$LIB" ] || die "cargo did not produce $target_dir/$target/$PROFILE/$LIB"
done

# 2. Header, module map and Swift from uniffi-bindgen, on the unstripped host library.
echo "build-xcframework: generating bindings (bindings/generate.sh)"
bindings=$(bash "$REPO/bindings/generate.sh" "$target_dir/xcframework-bindings" | tail -n 1)/swift
for f in AuthenticatorCore.swift AuthenticatorCoreFFI.h AuthenticatorCoreFFI.modulemap; do
  [ -f "$bindings/$f" ] || die "uniffi-bindgen wrote no $bindings/$f"
done
grep -q '^module AuthenticatorCoreFFI ' "$bindings/AuthenticatorCoreFFI.modulemap" ||
  die "the generated module map does not declare module AuthenticatorCoreFFI (check uniffi.toml ffi_module_name)"

work="$target_dir/xcframework-build"
rm -rf "$work"
mkdir -p "$work/headers" "$work/ios-simulator"
cp "$bindings/AuthenticatorCoreFFI.h" "$work/headers/"
# Inside an XCFramework the module map must be named module.modulemap.
cp "$bindings/AuthenticatorCoreFFI.modulemap" "$work/headers/module.modulemap"

# 3. One fat simulator library (arm64 + x86_64); device stays arm64 only.
sim_libs=()
for target in "${SIM_TARGETS[@]}"; do sim_libs+=("$target_dir/$target/$PROFILE/$LIB"); done
lipo -create "${sim_libs[@]}" -output "$work/ios-simulator/$LIB"
lipo -info "$work/ios-simulator/$LIB"

# 4. The XCFramework (xcodebuild refuses to overwrite one).
rm -rf "$OUT"
xcodebuild -create-xcframework \
  -library "$target_dir/$DEVICE_TARGET/$PROFILE/$LIB" -headers "$work/headers" \
  -library "$work/ios-simulator/$LIB" -headers "$work/headers" \
  -output "$OUT"

# 5. The Swift side, from the same generation.
bash "$HERE/sync-bindings.sh" "$bindings"

echo "build-xcframework: wrote $OUT"
du -sh "$OUT"/*/ 2>/dev/null || true
