#!/usr/bin/env bash
# The independent QR tools the CLI tests check our QR codes against (issue 11):
#   zbarimg  (Debian's zbar-tools) decodes the codes `show-qr` and `export --google --qr` draw;
#   qrencode (Debian's qrencode)   makes the images `add --qr` and `import IMAGE` must read.
# Installs them with apt-get when missing; fails (exit 1) when they cannot be installed. Run by
# ./test-all before `cargo test`, and by the CLI tests themselves when a tool is missing
# (tests/cli/qr.rs), so `cargo test --test cli qr` works on a fresh machine too. The tests never
# skip for want of a tool.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
LOG_PREFIX=qr-tools

if command -v zbarimg >/dev/null 2>&1 && command -v qrencode >/dev/null 2>&1; then
  exit 0
fi
command -v apt-get >/dev/null 2>&1 || die "zbarimg/qrencode missing and no apt-get: install zbar-tools and qrencode"
log "zbarimg or qrencode missing: installing zbar-tools and qrencode"
sudo_cmd=()
[ "$(id -u)" = 0 ] || sudo_cmd=(sudo)
"${sudo_cmd[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends zbar-tools qrencode >/dev/null
command -v zbarimg >/dev/null 2>&1 || die "zbarimg still missing after installing zbar-tools"
command -v qrencode >/dev/null 2>&1 || die "qrencode still missing after installing qrencode"
