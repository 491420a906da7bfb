#!/usr/bin/env bash
# Runs the Swift package's XCTest tests (ios/Tests) against the host build of the core, with a
# real privacyIDEA test server for the push test. The one command ./test-all calls.
#
#   ios/run-tests.sh                  generate bindings, start the server, `swift test`
#   ios/run-tests.sh --provision-only only make sure a Swift toolchain is there
#   ios/run-tests.sh -- ARGS…         extra arguments for `swift test` (e.g. -- --filter Push)
#
# Swift: the `swift` on PATH when there is one (macOS with Xcode, a Linux with Swift installed).
# Otherwise, on Linux as root, Swift 6 from Debian trixie's `swiftlang` in a chroot (the host's
# libc is too old for current Swift), made once with debootstrap and cached OUTSIDE the clone:
#   ${AUTHENTICATOR_CACHE:-$HOME/.cache/authenticator-core}/swift-trixie/   (~2.7 GB)
# Every chroot run happens in a private mount namespace (unshare), with proc, /dev, the repo, the
# cargo target dir and the server's work dir bind-mounted at the same absolute paths, and is
# unmounted by a trap on every exit; if the process is killed outright, the kernel drops the
# namespace's mounts with it.
#
# Environment: AUTHENTICATOR_CACHE, SWIFT_IN_CHROOT=1 (use the chroot even when swift is on
# PATH), DEBIAN_MIRROR (for debootstrap; default: the host's apt mirror or deb.debian.org),
# IOS_CHROOT_NO_UNSHARE=1 (mount in the current namespace; the trap still unmounts).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
CACHE="${AUTHENTICATOR_CACHE:-$HOME/.cache/authenticator-core}"
SWIFT_ROOT="$CACHE/swift-trixie"
# Bump when the package list below changes: a root without this marker is rebuilt.
SWIFT_ROOT_MARKER="$SWIFT_ROOT/.authenticator-swift-ready-v1"
CHROOT_PACKAGES=(swiftlang libc6-dev libstdc++-14-dev python3)
CHROOT_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

log() { printf '[ios] %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

# ---------------------------------------------------------------------------------------------
# Chroot plumbing

# Fails when anything is mounted at or below $1 (in this mount namespace). Guards every rm -rf of
# a chroot: a leftover bind mount of the repo inside it would otherwise be deleted through it.
assert_nothing_mounted_under() {
  local dir=$1 mp
  while read -r _ _ _ _ mp _; do
    mp=$(printf '%b' "$mp") # mountinfo escapes spaces as \040
    case "$mp" in
    "$dir" | "$dir"/*) die "$mp is still mounted; unmount it (umount -R '$dir') and retry" ;;
    esac
  done </proc/self/mountinfo
}

# chroot_exec ROOT BIND_DIR… -- COMMAND…
# Runs COMMAND in ROOT with proc and /dev mounted and each BIND_DIR bind-mounted at the same
# absolute path, all in a private mount namespace when unshare works, and unmounts on every exit.
# COMMAND's exit status is returned.
chroot_exec() {
  # shellcheck disable=SC2016 # expanded by the inner bash
  local inner='
set -uo pipefail
root=$1; shift
mounted=()
cleanup() {
  local i
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
    umount "${mounted[i]}" 2>/dev/null || umount -l "${mounted[i]}" 2>/dev/null ||
      echo "[ios] warning: could not unmount ${mounted[i]}" >&2
  done
  mounted=()
}
trap cleanup EXIT
trap "exit 130" INT
trap "exit 143" TERM
bind() { # bind SOURCE TARGET: a private, non-recursive bind (nothing propagates back to the host)
  mount --bind "$1" "$2" || exit 1
  mounted+=("$2")
  mount --make-private "$2" 2>/dev/null || true
}
mount -t proc proc "$root/proc" || exit 1
mounted+=("$root/proc")
bind /dev "$root/dev"
if [ -d /dev/pts ] && mountpoint -q /dev/pts 2>/dev/null; then bind /dev/pts "$root/dev/pts"; fi
while [ "$1" != -- ]; do
  mkdir -p "$root$1" && bind "$1" "$root$1"
  shift
done
shift
[ -f /etc/resolv.conf ] && cp -L /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null
chroot "$root" "$@"
status=$?
cleanup
exit $status
'
  local root=$1
  shift
  if [ "${IOS_CHROOT_NO_UNSHARE:-0}" != 1 ] && unshare --mount --propagation private true 2>/dev/null; then
    unshare --mount --propagation private bash -c "$inner" chroot-exec "$root" "$@"
  else
    bash -c "$inner" chroot-exec "$root" "$@"
  fi
}

debian_mirror() {
  if [ -n "${DEBIAN_MIRROR:-}" ]; then
    echo "$DEBIAN_MIRROR"
    return
  fi
  local uri
  uri=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
    awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i ~ /\/debian\/?$/) { print $i; exit } }')
  if [ -z "$uri" ]; then
    uri=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^https?:.*\/debian\/?$/) { print $i; exit } }' \
      /etc/apt/sources.list 2>/dev/null || true)
  fi
  echo "${uri:-http://deb.debian.org/debian}"
}

# Makes $SWIFT_ROOT (Debian trixie + swiftlang) unless its marker is there. Idempotent; concurrent
# callers wait on a lock and the first one builds it.
provision_chroot() {
  [ -f "$SWIFT_ROOT_MARKER" ] && return 0
  [ "$(uname -s)" = Linux ] || die "no swift on PATH (install Xcode or a Swift toolchain)"
  [ "$(id -u)" = 0 ] || die "no swift on PATH, and making the Swift chroot needs root (debootstrap, mount, chroot)"
  mkdir -p "$CACHE"
  exec 8>"$CACHE/swift-trixie.lock"
  flock 8
  if [ -f "$SWIFT_ROOT_MARKER" ]; then
    flock -u 8
    return 0
  fi
  local started=$SECONDS partial="$SWIFT_ROOT.partial" mirror
  mirror=$(debian_mirror)
  log "provisioning Swift 6 (Debian trixie swiftlang) in $SWIFT_ROOT: once, about a minute, ~2.7 GB"
  if ! command -v debootstrap >/dev/null 2>&1; then
    log "installing debootstrap"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  fi
  for dir in "$partial" "$SWIFT_ROOT"; do
    if [ -e "$dir" ]; then
      assert_nothing_mounted_under "$dir"
      rm -rf "$dir"
    fi
  done
  log "debootstrap trixie from $mirror"
  debootstrap --variant=minbase --include=ca-certificates trixie "$partial" "$mirror" >"$CACHE/swift-trixie-debootstrap.log" 2>&1 ||
    die "debootstrap failed; see $CACHE/swift-trixie-debootstrap.log"
  log "apt-get install ${CHROOT_PACKAGES[*]} (in the chroot)"
  chroot_exec "$partial" -- /usr/bin/env -i PATH="$CHROOT_PATH" HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive \
    /bin/sh -c "apt-get update -qq && apt-get install -y -qq --no-install-recommends ${CHROOT_PACKAGES[*]} >/dev/null && apt-get clean" ||
    die "installing swiftlang in the chroot failed"
  chroot_exec "$partial" -- /usr/bin/env -i PATH="$CHROOT_PATH" HOME=/root swift --version ||
    die "swift does not run in the chroot"
  assert_nothing_mounted_under "$partial"
  mv "$partial" "$SWIFT_ROOT"
  touch "$SWIFT_ROOT_MARKER"
  flock -u 8
  log "Swift chroot ready in $((SECONDS - started)) s"
}

# ---------------------------------------------------------------------------------------------

use_chroot() {
  [ "${SWIFT_IN_CHROOT:-0}" = 1 ] && return 0
  ! command -v swift >/dev/null 2>&1
}

swift_args=()
case "${1:-}" in
--provision-only)
  if use_chroot; then provision_chroot; else log "using $(command -v swift)"; fi
  exit 0
  ;;
--)
  shift
  swift_args=("$@")
  ;;
"") ;;
*) die "usage: ios/run-tests.sh [--provision-only | -- SWIFT_TEST_ARGS…]" ;;
esac

if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
  export PATH="$HOME/.cargo/bin:$PATH"
fi
command -v cargo >/dev/null 2>&1 || die "cargo not found: install Rust (rustup) first"

if use_chroot; then provision_chroot; fi

log "building the core and generating the Swift bindings (bindings/generate.sh)"
bindings_out=$(bash "$REPO/bindings/generate.sh" | tail -n 1)
[ -f "$bindings_out/swift/AuthenticatorCore.swift" ] || die "bindings/generate.sh wrote no Swift into $bindings_out/swift"
target_dir=$(dirname "$bindings_out")
lib_dir="$target_dir/debug"
bash "$HERE/sync-bindings.sh" "$bindings_out/swift"

# The privacyIDEA test server for the push test; stopped by PID on every exit (and by its
# watcher if this script is killed outright).
pi_wd=$(mktemp -d "${TMPDIR:-/tmp}/ios-tests-pi.XXXXXX")
# shellcheck disable=SC2317 # trap handlers
cleanup() {
  "$REPO/tests/privacyidea/pi-server.sh" stop "$pi_wd" >/dev/null 2>&1 || true
  rm -rf "$pi_wd"
}
# `swift test` runs as a background job in its own process group (set -m), so that a TERM or
# INT sent to this script alone reaches it at once instead of waiting for the tests to finish.
child=""
# shellcheck disable=SC2317 # trap handler
on_signal() {
  if [ -n "$child" ]; then
    kill -TERM -- "-$child" 2>/dev/null || true
    wait "$child" 2>/dev/null || true
  fi
  exit "$1"
}
trap cleanup EXIT
trap 'on_signal 130' INT
trap 'on_signal 143' TERM
log "starting the privacyIDEA test server"
PI_WATCH_PID=$$ "$REPO/tests/privacyidea/pi-server.sh" start "$pi_wd" >/dev/null
[ -f "$pi_wd/server.env" ] || die "the privacyIDEA test server did not start"

# XCTest only, unless a test imports Swift Testing: its runner would otherwise close the output
# with "Test run with 0 tests passed", which reads as if nothing ran.
if ! grep -rqs '^import Testing' "$HERE/Tests"; then
  swift_args=(--disable-swift-testing "${swift_args[@]}")
fi

test_env=(
  PI_ENV_FILE="$pi_wd/server.env"
  AUTHENTICATOR_CORE_LOCAL_FFI=1 # macOS: the host .dylib, not the XCFramework (Linux always)
  AUTHENTICATOR_CORE_LIB_DIR="$lib_dir"
  LD_LIBRARY_PATH="$lib_dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
)
status=0
if use_chroot; then
  # Readers share the lock, so the chroot is never rebuilt under a running test.
  exec 8>"$CACHE/swift-trixie.lock"
  flock -s 8
  [ -f "$SWIFT_ROOT_MARKER" ] || die "the Swift chroot disappeared; run again"
  binds=("$REPO")
  case "$target_dir/" in "$REPO"/*) ;; *) binds+=("$target_dir") ;; esac
  binds+=("$pi_wd")
  # The shared import fixtures (real Aegis/2FAS exports), when present beside the clone.
  if [ -d "$REPO/../shared/fixtures" ]; then binds+=("$(cd "$REPO/../shared/fixtures" && pwd)"); fi
  log "swift test (Swift in the chroot $SWIFT_ROOT)"
  # pi_admin.py runs with the chroot's python3: the server's venv python is a host binary.
  set -m
  chroot_exec "$SWIFT_ROOT" "${binds[@]}" -- /usr/bin/env -i PATH="$CHROOT_PATH" HOME=/root LANG=C.UTF-8 \
    TERM="${TERM:-dumb}" "${test_env[@]}" PI_ADMIN_PYTHON=/usr/bin/python3 \
    swift test --package-path "$HERE" "${swift_args[@]}" &
else
  log "swift test ($(command -v swift))"
  set -m
  env "${test_env[@]}" swift test --package-path "$HERE" "${swift_args[@]}" &
fi
child=$!
set +m
wait "$child" || status=$?
child=""
exit "$status"
