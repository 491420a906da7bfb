#!/usr/bin/env bash
# The real NTP server the clock tests measure against (issue 15): chronyd from Debian's `chrony`,
# run by the tests themselves as an unprivileged-port server on 127.0.0.1 with a private
# configuration (tests/clock/chrony.sh). Installs it with apt-get when missing; fails (exit 1)
# when it cannot be installed. Run by ./test-all before `cargo test`, and by the clock tests when
# chronyd is missing, so `cargo test --test cli clock` works on a fresh machine too. The tests
# never skip for want of it.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
LOG_PREFIX=chrony

chronyd_path() { command -v chronyd 2>/dev/null || { [ -x /usr/sbin/chronyd ] && echo /usr/sbin/chronyd; }; }

if [ -n "$(chronyd_path)" ]; then
  exit 0
fi
command -v apt-get >/dev/null 2>&1 || die "chronyd missing and no apt-get: install chrony"
log "chronyd missing: installing chrony (its system service is not started by the tests)"
sudo_cmd=()
[ "$(id -u)" = 0 ] || sudo_cmd=(sudo)
"${sudo_cmd[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends chrony >/dev/null
[ -n "$(chronyd_path)" ] || die "chronyd still missing after installing chrony"
