#!/usr/bin/env bash
# Refreshes the vendored Public Suffix List (crates/domain/data/public-suffix-list.txt) from the
# newest `psl` crate on crates.io, whose data/rules.txt is the list of publicsuffix.org without
# comments (ICANN and private sections, wildcards, exceptions; IDN rules in Unicode).
#
#   scripts/update-psl.sh [VERSION]     VERSION: a psl crate version requirement (default "*")
#
# It makes a throwaway cargo project depending on `psl`, lets cargo fetch it (the ordinary
# registry client, no extra tool), and copies the list under an MPL-2.0 notice naming the crate
# version and the date. crates/domain/build.rs compresses it at build time (docs/passkeys.md,
# "Public Suffix List"); commit the new file, then run `cargo test -p authenticator-domain psl`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
LOG_PREFIX=update-psl
cd "$AUTHENTICATOR_REPO"
need_cargo

requirement=${1:-*}
dest=crates/domain/data/public-suffix-list.txt
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

mkdir -p "$tmp/src"
: >"$tmp/src/lib.rs"
cat >"$tmp/Cargo.toml" <<TOML
[package]
name = "psl-fetch"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
psl = "$requirement"

[workspace]
TOML
# Its own target dir and lock file: nothing of the workspace is touched.
(cd "$tmp" && CARGO_TARGET_DIR="$tmp/target" cargo fetch --quiet)
manifest=$(cd "$tmp" && cargo metadata --format-version 1 |
  python3 -c 'import json, sys
m = json.load(sys.stdin)
print(next(p["manifest_path"] for p in m["packages"] if p["name"] == "psl"))')
crate_dir=$(dirname "$manifest")
version=$(basename "$crate_dir")
version=${version#psl-}
rules="$crate_dir/data/rules.txt"
[ -s "$rules" ] || die "no data/rules.txt in $crate_dir"
count=$(grep -cv -e '^//' -e '^[[:space:]]*$' "$rules")
[ "$count" -gt 5000 ] || die "only $count rules in $rules: refusing to replace the list"

{
  cat <<HEADER
// This Source Code Form is subject to the terms of the Mozilla Public
// License, v. 2.0. If a copy of the MPL was not distributed with this
// file, You can obtain one at https://mozilla.org/MPL/2.0/.
//
// The Public Suffix List, https://publicsuffix.org/list/public_suffix_list.dat (ICANN and
// private sections, without the list's own comments), as data/rules.txt of the \`psl\` crate
// $version (crates.io), copied on $(date -u +%Y-%m-%d) by scripts/update-psl.sh. Do not edit:
// run that script. crates/domain/build.rs reads it ("//" lines are comments).
HEADER
  cat "$rules"
  # rules.txt ends without a newline.
  [ -z "$(tail -c1 "$rules")" ] || echo
} >"$dest.new"
mv "$dest.new" "$dest"
log "$dest: $count rules from psl $version"
