#!/usr/bin/env bash
# Builds the core library and generates its Kotlin and Swift bindings.
#
#   bindings/generate.sh [--release]      → target/bindings/{kotlin,swift,lib}
#
# Bindings are generated in library mode from the *unstripped* library (stripping removes the
# uniffi metadata they are read from); lib/ then gets a stripped copy to ship. Generated code is
# build output: never edit or commit it.
set -euo pipefail
cd "$(dirname "$0")/.."

profile=debug
cargo_profile=(--profile dev)
if [ "${1:-}" = "--release" ]; then
  # The mobile profile: release with size optimisation (see Cargo.toml).
  profile=mobile
  cargo_profile=(--profile mobile)
fi

cargo build --quiet -p authenticator-core "${cargo_profile[@]}"
cargo build --quiet -p uniffi-bindgen
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
case "$(uname -s)" in
  Darwin) lib_file=libauthenticator_core.dylib ;;
  *) lib_file=libauthenticator_core.so ;;
esac
lib="$target_dir/$profile/$lib_file"
out="$target_dir/bindings"
rm -rf "$out/kotlin" "$out/swift" "$out/lib"
mkdir -p "$out/lib"

bindgen="$target_dir/debug/uniffi-bindgen"
"$bindgen" generate "$lib" --language kotlin --no-format --config uniffi.toml --out-dir "$out/kotlin" >/dev/null
"$bindgen" generate "$lib" --language swift --no-format --config uniffi.toml --out-dir "$out/swift" >/dev/null

cp "$lib" "$out/lib/$lib_file"
strip --strip-unneeded "$out/lib/$lib_file" 2>/dev/null || strip -x "$out/lib/$lib_file"
echo "$out"
