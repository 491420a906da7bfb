# Shared helpers for the project's scripts (./run, ./test-all, bindings/*, ios/*). Source it:
#
#   source "<repo>/scripts/lib.sh"
#   LOG_PREFIX=kotlin-tests        # optional: the tag of log/die lines (default: the script's name)
#
# Sourcing has no side effects beyond defining these functions and AUTHENTICATOR_REPO.

AUTHENTICATOR_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# A headline (./run, ./test-all).
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# A progress line on stderr, tagged with $LOG_PREFIX; die logs an error and exits 1.
log() { printf '[%s] %s\n' "${LOG_PREFIX:-$(basename "$0" .sh)}" "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

# cargo on PATH (rustup's ~/.cargo/bin added when needed), or a clear failure. The toolchain comes
# from rustup on the machine image (a registry cannot supply it).
need_cargo() {
  if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
  fi
  command -v cargo >/dev/null 2>&1 || die "cargo not found: install Rust (rustup) first"
}

# need_cargo, plus rustfmt and clippy (the lint gates of ./test-all).
need_rust() {
  need_cargo
  local component
  for component in rustfmt clippy; do
    if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1; then
      rustup component add "$component" >/dev/null 2>&1 || die "missing rust component $component"
    fi
  done
}

# Prints cargo's target directory (CARGO_TARGET_DIR, .cargo/config, or <repo>/target).
cargo_target_dir() {
  (cd "$AUTHENTICATOR_REPO" && cargo metadata --format-version 1 --no-deps) |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])'
}

# ---------------------------------------------------------------------------------------------
# The privacyIDEA test server (tests/privacyidea/pi-server.sh) for one script run.
#
#   pi_start NAME   start a fresh server in a new temp workdir named after NAME; sets PI_WORKDIR
#                   and exports PI_ENV_FILE (the server's server.env). PI_WATCH_PID is this
#                   shell, so the server stops even if the script is killed outright.
#   pi_stop         stop it by PID and remove the workdir; idempotent, for EXIT traps.

PI_WORKDIR=""

pi_start() {
  PI_WORKDIR="$(mktemp -d "${TMPDIR:-/tmp}/$1-pi.XXXXXX")"
  log "starting the privacyIDEA test server in $PI_WORKDIR"
  PI_WATCH_PID=$$ bash "$AUTHENTICATOR_REPO/tests/privacyidea/pi-server.sh" start "$PI_WORKDIR" </dev/null >/dev/null ||
    die "the privacyIDEA test server did not start"
  [ -f "$PI_WORKDIR/server.env" ] || die "the privacyIDEA test server wrote no $PI_WORKDIR/server.env"
  export PI_ENV_FILE="$PI_WORKDIR/server.env"
}

pi_stop() {
  [ -n "$PI_WORKDIR" ] || return 0
  bash "$AUTHENTICATOR_REPO/tests/privacyidea/pi-server.sh" stop "$PI_WORKDIR" >/dev/null 2>&1 || true
  rm -rf "$PI_WORKDIR"
  PI_WORKDIR=""
}

# The eduMFA 2.9.5 test server (tests/edumfa/edumfa-server.sh), the same way: edumfa_start NAME
# sets EDUMFA_WORKDIR and exports EDUMFA_ENV_FILE; edumfa_stop stops it (idempotent).
EDUMFA_WORKDIR=""

edumfa_start() {
  EDUMFA_WORKDIR="$(mktemp -d "${TMPDIR:-/tmp}/$1-edumfa.XXXXXX")"
  log "starting the eduMFA test server in $EDUMFA_WORKDIR"
  PI_WATCH_PID=$$ bash "$AUTHENTICATOR_REPO/tests/edumfa/edumfa-server.sh" start "$EDUMFA_WORKDIR" </dev/null >/dev/null ||
    die "the eduMFA test server did not start"
  [ -f "$EDUMFA_WORKDIR/server.env" ] || die "the eduMFA test server wrote no $EDUMFA_WORKDIR/server.env"
  export EDUMFA_ENV_FILE="$EDUMFA_WORKDIR/server.env"
}

edumfa_stop() {
  [ -n "$EDUMFA_WORKDIR" ] || return 0
  bash "$AUTHENTICATOR_REPO/tests/edumfa/edumfa-server.sh" stop "$EDUMFA_WORKDIR" >/dev/null 2>&1 || true
  rm -rf "$EDUMFA_WORKDIR"
  EDUMFA_WORKDIR=""
}

# ---------------------------------------------------------------------------------------------
# The WebDAV test server for sync (tests/webdav/server.sh: Apache httpd + mod_dav_fs).
#
#   dav_start NAME  start one in a new temp workdir, unless SYNC_DAV_URL is already set (a server
#                   shared by several suites, e.g. ./test-all's); exports SYNC_DAV_URL and
#                   SYNC_DAV_PASSWORD (user "sync")
#   dav_stop        stop the one dav_start started, and remove its workdir; idempotent

DAV_WORKDIR=""

dav_start() {
  if [ -n "${SYNC_DAV_URL:-}" ]; then
    return 0
  fi
  DAV_WORKDIR="$(mktemp -d "${TMPDIR:-/tmp}/$1-dav.XXXXXX")"
  log "starting the WebDAV test server (Apache) in $DAV_WORKDIR"
  bash "$AUTHENTICATOR_REPO/tests/webdav/server.sh" start "$DAV_WORKDIR" </dev/null >/dev/null ||
    die "the WebDAV test server did not start"
  SYNC_DAV_URL="$(cat "$DAV_WORKDIR/url")"
  SYNC_DAV_PASSWORD="$(cat "$DAV_WORKDIR/password")"
  export SYNC_DAV_URL SYNC_DAV_PASSWORD
}

dav_stop() {
  [ -n "$DAV_WORKDIR" ] || return 0
  bash "$AUTHENTICATOR_REPO/tests/webdav/server.sh" stop "$DAV_WORKDIR" >/dev/null 2>&1 || true
  rm -rf "$DAV_WORKDIR"
  DAV_WORKDIR=""
  unset SYNC_DAV_URL SYNC_DAV_PASSWORD
}

# A JDK and Maven for the JVM suites (bindings/kotlin, android): apt-get when either is missing.
need_jdk_maven() {
  command -v java >/dev/null 2>&1 && command -v mvn >/dev/null 2>&1 && return 0
  log "java or mvn missing: installing default-jdk-headless and maven"
  local sudo_cmd=()
  [ "$(id -u)" = 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq default-jdk-headless maven >/dev/null
}
