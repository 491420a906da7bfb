#!/usr/bin/env bash
# Known advisories of our dependencies: `cargo audit` offline, against the RustSec advisory
# database snapshot in ../shared/rustsec/ (a git bundle: these machines cannot reach GitHub).
#
#   bash scripts/audit.sh install   once, from scripts/provision.sh: cargo-audit $CARGO_AUDIT_VERSION
#                                   (crates.io) and the database cloned from the bundle, both cached
#                                   outside the clone; a newer bundle is cloned anew
#   bash scripts/audit.sh           the check (./test-all): any advisory, or an unmaintained,
#                                   unsound or yanked crate, fails it, except the ones
#                                   .cargo/audit.toml ignores with the reason
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
LOG_PREFIX=audit
need_cargo

CARGO_AUDIT_VERSION=0.22.2
CACHE="${AUTHENTICATOR_CACHE:-$HOME/.cache/authenticator-core}"
TOOL="$CACHE/tools/cargo-audit-$CARGO_AUDIT_VERSION"
DB="$CACHE/advisory-db"
BUNDLE="${RUSTSEC_BUNDLE:-$AUTHENTICATOR_REPO/../shared/rustsec/advisory-db.bundle}"

bundle_head() { git bundle list-heads "$BUNDLE" | awk 'NR == 1 { print $1 }'; }

if [ "${1:-}" = install ]; then
  if [ ! -x "$TOOL/bin/cargo-audit" ]; then
    log "installing cargo-audit $CARGO_AUDIT_VERSION into $TOOL (once)"
    cargo install --quiet --locked cargo-audit --version "$CARGO_AUDIT_VERSION" --root "$TOOL"
  fi
  [ -f "$BUNDLE" ] || die "no advisory database at $BUNDLE (../shared/rustsec beside the clone)"
  if [ "$(git -C "$DB" rev-parse HEAD 2>/dev/null)" != "$(bundle_head)" ]; then
    log "cloning the advisory database from $BUNDLE"
    rm -rf "$DB.new"
    git clone --quiet "$BUNDLE" "$DB.new" 2>/dev/null
    rm -rf "$DB"
    mv "$DB.new" "$DB"
  fi
  exit 0
fi

[ -x "$TOOL/bin/cargo-audit" ] && [ -d "$DB" ] ||
  die "cargo-audit or the advisory database is missing: run scripts/provision.sh once (./test-all does)"
cd "$AUTHENTICATOR_REPO"
log "advisory database at $(git -C "$DB" log -1 --format='%h (%cs)')"
"$TOOL/bin/cargo-audit" audit --db "$DB" --no-fetch --stale
