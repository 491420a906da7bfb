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
# The push test servers, for one script run: privacyIDEA 3.14 (tests/privacyidea/pi-server.sh)
# and eduMFA 2.9.5 (tests/edumfa/edumfa-server.sh, the same harness), one generic start/stop.
#
#   server_start KIND NAME  KIND = pi | edumfa. Starts a fresh server in a new temp workdir named
#                   after NAME; sets PI_WORKDIR / EDUMFA_WORKDIR and exports PI_ENV_FILE /
#                   EDUMFA_ENV_FILE (the server's server.env). PI_WATCH_PID is this shell, so the
#                   server stops even if the script is killed outright.
#   server_stop KIND        stop it by PID and remove the workdir; idempotent, for EXIT traps.
#   pi_start/pi_stop, edumfa_start/edumfa_stop   the same for one KIND.

PI_WORKDIR=""
EDUMFA_WORKDIR=""

server_script() {
  case "$1" in
  pi) echo "$AUTHENTICATOR_REPO/tests/privacyidea/pi-server.sh" ;;
  edumfa) echo "$AUTHENTICATOR_REPO/tests/edumfa/edumfa-server.sh" ;;
  *) die "unknown server kind $1 (pi | edumfa)" ;;
  esac
}

server_start() {
  local kind=$1 name=$2 upper work script
  upper=$(echo "$kind" | tr '[:lower:]' '[:upper:]')
  script=$(server_script "$kind")
  work="$(mktemp -d "${TMPDIR:-/tmp}/$name-$kind.XXXXXX")"
  printf -v "${upper}_WORKDIR" '%s' "$work"
  log "starting the $kind test server in $work"
  PI_WATCH_PID=$$ bash "$script" start "$work" </dev/null >/dev/null || die "the $kind test server did not start"
  [ -f "$work/server.env" ] || die "the $kind test server wrote no $work/server.env"
  export "${upper}_ENV_FILE=$work/server.env"
}

server_stop() {
  local kind=$1 upper var
  upper=$(echo "$kind" | tr '[:lower:]' '[:upper:]')
  var="${upper}_WORKDIR"
  [ -n "${!var}" ] || return 0
  bash "$(server_script "$kind")" stop "${!var}" >/dev/null 2>&1 || true
  rm -rf "${!var}"
  printf -v "$var" '%s' ""
}

pi_start() { server_start pi "$1"; }
pi_stop() { server_stop pi; }
edumfa_start() { server_start edumfa "$1"; }
edumfa_stop() { server_stop edumfa; }

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

# ---------------------------------------------------------------------------------------------
# System packages: every Debian package any script or test needs, installed in ONE apt-get run,
# up front, by scripts/provision.sh (./test-all runs it first). Tests and suite scripts never
# install anything: they call need_tool, which fails with a pointer to scripts/provision.sh.
#
#   SYSTEM_PACKAGES   "command-or-path:package" pairs; a package is installed when its probe is
#                     missing (a path is tested with -x, a name looked up on PATH)
#   need_system_packages  install the missing ones (one apt-get update + install, under a lock,
#                     so two provisioners on one machine never race for dpkg's lock)
#   need_tool PROBE   exit 1 unless PROBE is there, naming the package and the provisioning step

SYSTEM_PACKAGES=(
  /usr/sbin/apache2:apache2 # the WebDAV server of the sync tests (tests/webdav/server.sh)
  htpasswd:apache2-utils
  /usr/sbin/chronyd:chrony # the NTP server of the clock tests (crates/testkit/src/chrony.rs)
  zbarimg:zbar-tools       # the independent QR decoder (cli/tests/cli/qr.rs)
  qrencode:qrencode        # the independent QR encoder
  java:default-jdk-headless # the Kotlin and Android JVM suites
  mvn:maven
  flock:util-linux
)

probe_present() {
  case "$1" in
  /*) [ -x "$1" ] ;;
  *) command -v "$1" >/dev/null 2>&1 ;;
  esac
}

# The packages of SYSTEM_PACKAGES (plus any given as arguments, "probe:package") whose probe fails.
missing_system_packages() {
  local pair missing=()
  for pair in "${SYSTEM_PACKAGES[@]}" "$@"; do
    probe_present "${pair%%:*}" || missing+=("${pair#*:}")
  done
  [ ${#missing[@]} -eq 0 ] || printf '%s\n' "${missing[@]}" | sort -u
}

need_system_packages() {
  local missing
  missing=$(missing_system_packages "$@")
  [ -n "$missing" ] || return 0
  command -v apt-get >/dev/null 2>&1 || die "missing packages and no apt-get: install $(echo $missing)"
  local sudo_cmd=()
  [ "$(id -u)" = 0 ] || sudo_cmd=(sudo)
  # shellcheck disable=SC2046,SC2086 # one word per package
  log "installing Debian packages (once): $(echo $missing)"
  (
    # Two provisioners at once (two clones' test runs) take turns; the second finds nothing to do.
    command -v flock >/dev/null 2>&1 && flock 9
    missing=$(missing_system_packages "$@")
    [ -n "$missing" ] || exit 0
    "${sudo_cmd[@]}" apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends $missing >/dev/null
  ) 9>"${TMPDIR:-/tmp}/authenticator-apt.lock" || die "apt-get install failed"
  missing=$(missing_system_packages "$@")
  [ -z "$missing" ] || die "still missing after apt-get: $(echo $missing)"
}

need_tool() {
  probe_present "$1" && return 0
  local pair package=""
  for pair in "${SYSTEM_PACKAGES[@]}"; do [ "${pair%%:*}" = "$1" ] && package="${pair#*:}"; done
  die "$1 is missing${package:+ (Debian package $package)}: run scripts/provision.sh once (./test-all does)"
}
