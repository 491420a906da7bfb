#!/usr/bin/env bash
# Everything the test suites need that is not in the clone, provisioned once, up front, and cached
# outside the clone; ./test-all runs it first. Idempotent: a provisioned machine takes ~1 s.
#
#   1. Debian packages (one apt-get run, scripts/lib.sh need_system_packages): apache2 and
#      apache2-utils (WebDAV), chrony (NTP), zbar-tools and qrencode (QR), a JDK and Maven, and
#      debootstrap when Swift must come in a chroot;
#   2. the Python venvs of the real servers and independent implementations: privacyIDEA 3.14,
#      eduMFA 2.9.5 (tests/privacyidea/pi-server.sh install, tests/edumfa/edumfa-server.sh
#      install) and cryptography + PyNaCl
#      (tests/independent/venv.sh install);
#   3. Swift 6 (ios/provision-swift.sh) when no swift is on PATH;
#   4. cargo-audit and the RustSec advisory database from ../shared/rustsec (scripts/audit.sh).
# Tests and suite scripts install nothing: a missing piece fails them with a pointer here.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
LOG_PREFIX=provision
cd "$AUTHENTICATOR_REPO"

extra=()
swift_chroot=0
if ! command -v swift >/dev/null 2>&1 || [ "${SWIFT_IN_CHROOT:-0}" = 1 ]; then
  swift_chroot=1
  extra+=(debootstrap:debootstrap)
fi
need_system_packages "${extra[@]}"
bash tests/privacyidea/pi-server.sh install
bash tests/edumfa/edumfa-server.sh install
bash tests/independent/venv.sh install >/dev/null
if [ "$swift_chroot" = 1 ]; then bash ios/provision-swift.sh; fi
bash scripts/audit.sh install
log "ready"
