#!/usr/bin/env bash
# Runs the Swift package's XCTest tests (ios/Tests) against the host build of the core, with a
# real privacyIDEA test server for the push test. The one command ./test-all calls.
#
#   ios/run-tests.sh                  generate bindings, start the server, `swift test`
#   ios/run-tests.sh --provision-only only make sure a Swift toolchain is there
#   ios/run-tests.sh -- ARGS…         extra arguments for `swift test` (e.g. -- --filter Push)
#
# Swift: the `swift` on PATH when there is one (macOS with Xcode, a Linux with Swift installed).
# Otherwise, on Linux as root, Swift 6 in a cached Debian trixie chroot made and entered by
# ios/provision-swift.sh (see there), with the repo, the cargo target dir, the server's work dir
# and the shared fixtures bind-mounted at their own paths.
#
# Environment: SWIFT_IN_CHROOT=1 (use the chroot even when swift is on PATH), and those of
# provision-swift.sh (AUTHENTICATOR_CACHE, DEBIAN_MIRROR, IOS_CHROOT_NO_UNSHARE).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HERE/../scripts/lib.sh"
LOG_PREFIX=ios
REPO=$AUTHENTICATOR_REPO
CHROOT_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

use_chroot() {
  [ "${SWIFT_IN_CHROOT:-0}" = 1 ] && return 0
  ! command -v swift >/dev/null 2>&1
}

swift_args=()
case "${1:-}" in
--provision-only)
  if use_chroot; then exec bash "$HERE/provision-swift.sh"; fi
  log "using $(command -v swift)"
  exit 0
  ;;
--)
  shift
  swift_args=("$@")
  ;;
"") ;;
*) die "usage: ios/run-tests.sh [--provision-only | -- SWIFT_TEST_ARGS…]" ;;
esac

need_cargo
# The chroot comes from scripts/provision.sh; `exec` below fails with a pointer there without it.

target_dir=$(cargo_target_dir)
log "building the core and generating the Swift bindings (bindings/generate.sh)"
bindings_out=$(bash "$REPO/bindings/generate.sh" "$target_dir/ios-tests" | tail -n 1)
[ -f "$bindings_out/swift/AuthenticatorCore.swift" ] || die "bindings/generate.sh wrote no Swift into $bindings_out/swift"
# The library the bindings were read from, in this script's own directory.
lib_dir="$bindings_out/lib"
bash "$HERE/sync-bindings.sh" "$bindings_out/swift"

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
trap 'pi_stop; edumfa_stop; dav_stop' EXIT
trap 'on_signal 130' INT
trap 'on_signal 143' TERM
pi_start ios-tests
edumfa_start ios-tests
dav_start ios-tests

# XCTest only, unless a test imports Swift Testing: its runner would otherwise close the output
# with "Test run with 0 tests passed", which reads as if nothing ran.
if ! grep -rqs '^import Testing' "$HERE/Tests"; then
  swift_args=(--disable-swift-testing "${swift_args[@]}")
fi

test_env=(
  PI_ENV_FILE="$PI_ENV_FILE"
  EDUMFA_ENV_FILE="$EDUMFA_ENV_FILE"
  SYNC_DAV_URL="$SYNC_DAV_URL"
  SYNC_DAV_PASSWORD="$SYNC_DAV_PASSWORD"
  CI="${CI:-}" # under CI=true a missing fixture or server fails a test instead of skipping it
  AUTHENTICATOR_CORE_LOCAL_FFI=1 # macOS: the host .dylib, not the XCFramework (Linux always)
  AUTHENTICATOR_CORE_LIB_DIR="$lib_dir"
  AUTHENTICATOR_REPO="$REPO" # test scripts (tests/clock/sntp_server.py) of this checkout
  LD_LIBRARY_PATH="$lib_dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
)
status=0
if use_chroot; then
  binds=("$REPO")
  case "$target_dir/" in "$REPO"/*) ;; *) binds+=("$target_dir") ;; esac
  binds+=("$PI_WORKDIR" "$EDUMFA_WORKDIR")
  # The shared import fixtures (real Aegis/2FAS exports), when present beside the clone.
  if [ -d "$REPO/../shared/fixtures" ]; then binds+=("$(cd "$REPO/../shared/fixtures" && pwd)"); fi
  log "swift test (Swift in the chroot of ios/provision-swift.sh)"
  # pi_admin.py runs with the chroot's python3: the server's venv python is a host binary.
  set -m
  bash "$HERE/provision-swift.sh" exec "${binds[@]}" -- /usr/bin/env -i PATH="$CHROOT_PATH" HOME=/root LANG=C.UTF-8 \
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
