#!/usr/bin/env bash
# Copies the uniffi-generated Swift bindings into the package (generated code is build output:
# these paths are git-ignored; never edit them by hand).
#
#   ios/sync-bindings.sh [SWIFT_DIR]
#
# SWIFT_DIR holds AuthenticatorCore.swift, AuthenticatorCoreFFI.h and AuthenticatorCoreFFI.modulemap
# (default: runs bindings/generate.sh into <target>/ios-sync-bindings and uses its swift/).
#   AuthenticatorCore.swift        → Sources/AuthenticatorCore/Generated/   (every platform)
#   AuthenticatorCoreFFI.h         → Sources/AuthenticatorCoreFFI/          (the .systemLibrary
#   AuthenticatorCoreFFI.modulemap → Sources/AuthenticatorCoreFFI/module.modulemap  target used
#                                     on Linux; Apple platforms get both from the XCFramework)
# Files are rewritten only when their content changed, so SwiftPM does not rebuild for nothing.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

src=${1:-}
if [ -z "$src" ]; then
  source "$HERE/../scripts/lib.sh"
  need_cargo
  src="$(bash "$HERE/../bindings/generate.sh" "$(cargo_target_dir)/ios-sync-bindings" | tail -n 1)/swift"
fi
for f in AuthenticatorCore.swift AuthenticatorCoreFFI.h AuthenticatorCoreFFI.modulemap; do
  [ -f "$src/$f" ] || { echo "sync-bindings: $src/$f missing (run bindings/generate.sh)" >&2; exit 1; }
done

install_if_changed() { # SRC DEST
  mkdir -p "$(dirname "$2")"
  if ! cmp -s "$1" "$2"; then cp "$1" "$2.tmp" && mv "$2.tmp" "$2"; fi
}
install_if_changed "$src/AuthenticatorCore.swift" "$HERE/Sources/AuthenticatorCore/Generated/AuthenticatorCore.swift"
install_if_changed "$src/AuthenticatorCoreFFI.h" "$HERE/Sources/AuthenticatorCoreFFI/AuthenticatorCoreFFI.h"
install_if_changed "$src/AuthenticatorCoreFFI.modulemap" "$HERE/Sources/AuthenticatorCoreFFI/module.modulemap"
