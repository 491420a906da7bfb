#!/usr/bin/env bash
# Builds the core library and generates its Kotlin and Swift bindings.
#
#   bindings/generate.sh [--release] [--android] [OUT_DIR]   → OUT_DIR/{kotlin,swift,lib}
#
# --android also writes OUT_DIR/kotlin-android: the Android flavour of the Kotlin bindings
# (android/uniffi-android.toml), read from the same library (android/run-jvm-tests.sh).
#
# OUT_DIR defaults to <cargo target dir>/bindings. Scripts pass a directory of their own, so
# concurrent callers never write (or read) each other's output. The last line printed is OUT_DIR.
#
# The library is copied into OUT_DIR/lib first and the bindings are generated in library mode from
# that *unstripped* copy (stripping removes the uniffi metadata they are read from); the copy is
# then stripped in place. So OUT_DIR/lib holds exactly the library the bindings were read from,
# whatever another build does to the target dir afterwards: load and link that one. Generated code
# is build output: never edit or commit it.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
LOG_PREFIX=generate
cd "$AUTHENTICATOR_REPO"
need_cargo

profile=debug
cargo_profile=(--profile dev)
out=""
android=0
for arg in "$@"; do
  case "$arg" in
  --release)
    # The mobile profile: release with size optimisation (see Cargo.toml).
    profile=mobile
    cargo_profile=(--profile mobile)
    ;;
  --android) android=1 ;;
  -*) die "usage: bindings/generate.sh [--release] [--android] [OUT_DIR]" ;;
  *)
    [ -z "$out" ] || die "usage: bindings/generate.sh [--release] [--android] [OUT_DIR]"
    out=$arg
    ;;
  esac
done

relocs=()
if [ "$profile" = mobile ] && [ "$(uname -s)" = Linux ]; then
  # Packed relative relocations (RELR, GNU ld >= 2.38, lld): the relocation table of a shared
  # library full of vtables shrinks from ~340 KB to a few KB, which keeps the library under its
  # 5 MB budget. Android builds get the same with lld's --pack-dyn-relocs (android/README.md).
  # Identical code folding (lld, the linker rustc uses here): -49 KB. Rust gives function
  # addresses no identity; the Kotlin suite passes on this build (AUTHENTICATOR_SHIPPED_LIBRARY=1).
  # Unwind tables only where unwinding can happen: Rust functions that may panic keep theirs
  # (uniffi catches panics by unwinding), the ones LLVM proves cannot unwind and the C code
  # (SQLite, ring's C), which no panic ever crosses, get none: -149 KB.
  # The AES of other apps' legacy exports (RustCrypto `aes`, CBC only; ring does the vault's
  # AES-GCM) and totp-rs's SHA-256/512 (RustCrypto `sha2` 0.11: one or two blocks per code of
  # the few accounts that use them; SHA-1 and every other hash stay as they are) in their
  # compact software forms, without the unrolled and per-CPU copies: -47 KB, at no cost anyone
  # waits for.
  relocs=(RUSTFLAGS="${RUSTFLAGS:-} -C link-arg=-Wl,-z,pack-relative-relocs -C link-arg=-Wl,--icf=all -C force-unwind-tables=no --cfg aes_force_soft --cfg aes_compact --cfg sha2_backend=\"soft\" --cfg sha2_backend_soft=\"compact\"" CFLAGS="${CFLAGS:-} -fno-asynchronous-unwind-tables -fno-unwind-tables")
fi
env "${relocs[@]}" cargo build --quiet -p authenticator-ffi "${cargo_profile[@]}"
cargo build --quiet -p uniffi-bindgen
target_dir=$(cargo_target_dir)
case "$(uname -s)" in
Darwin) lib_file=libauthenticator_core.dylib ;;
*) lib_file=libauthenticator_core.so ;;
esac
out=${out:-$target_dir/bindings}
mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -rf "$out/kotlin" "$out/kotlin-android" "$out/swift" "$out/lib"
mkdir -p "$out/lib"
lib="$out/lib/$lib_file"
cp "$target_dir/$profile/$lib_file" "$lib"

bindgen="$target_dir/debug/uniffi-bindgen"
"$bindgen" generate "$lib" --language kotlin --no-format --config uniffi.toml --out-dir "$out/kotlin" >/dev/null
if [ "$android" = 1 ]; then
  "$bindgen" generate "$lib" --language kotlin --no-format --config android/uniffi-android.toml \
    --out-dir "$out/kotlin-android" >/dev/null
fi
"$bindgen" generate "$lib" --language swift --no-format --config uniffi.toml --out-dir "$out/swift" >/dev/null

strip --strip-unneeded "$lib" 2>/dev/null || strip -x "$lib"
echo "$out"
