#!/usr/bin/env bash
# Swift 6 for Linux hosts without one: Debian trixie's `swiftlang` in a chroot (the host's libc is
# too old for current Swift), made once with debootstrap and cached OUTSIDE the clone:
#   ${AUTHENTICATOR_CACHE:-$HOME/.cache/authenticator-core}/swift-trixie/   (~2.7 GB)
#
#   ios/provision-swift.sh                         make the chroot unless it is ready (idempotent)
#   ios/provision-swift.sh exec DIR… -- COMMAND…   run COMMAND in the ready chroot (never makes it), each DIR
#                                                  bind-mounted at its own absolute path
#
# Needs Linux and root (debootstrap, mount, chroot). Concurrent callers wait on a lock: the first
# one builds the chroot, and `exec` holds a shared lock so the chroot is never rebuilt under it.
# Every `exec` happens in a private mount namespace (unshare), with proc, /dev and the DIRs
# bind-mounted, all unmounted by a trap on every exit; if the process is killed outright, the
# kernel drops the namespace's mounts with it. COMMAND's exit status is returned.
#
# Environment: AUTHENTICATOR_CACHE, DEBIAN_MIRROR (for debootstrap; default: the host's apt
# mirror or deb.debian.org), IOS_CHROOT_NO_UNSHARE=1 (mount in the current namespace; the trap
# still unmounts).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
LOG_PREFIX=ios

CACHE="${AUTHENTICATOR_CACHE:-$HOME/.cache/authenticator-core}"
SWIFT_ROOT="$CACHE/swift-trixie"
# Bump when the package list below changes: a root without this marker is rebuilt.
SWIFT_ROOT_MARKER="$SWIFT_ROOT/.authenticator-swift-ready-v1"
CHROOT_PACKAGES=(swiftlang libc6-dev libstdc++-14-dev python3)
CHROOT_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

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
  need_tool debootstrap
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

case "${1:-}" in
"") provision_chroot ;;
exec)
  shift
  [ -f "$SWIFT_ROOT_MARKER" ] || die "no Swift chroot in $SWIFT_ROOT: run scripts/provision.sh once (./test-all does)"
  # Readers share the lock, so the chroot is never rebuilt under a running command.
  exec 8>"$CACHE/swift-trixie.lock"
  flock -s 8
  [ -f "$SWIFT_ROOT_MARKER" ] || die "the Swift chroot disappeared; run again"
  chroot_exec "$SWIFT_ROOT" "$@"
  ;;
*) die "usage: ios/provision-swift.sh [exec DIR… -- COMMAND…]" ;;
esac
