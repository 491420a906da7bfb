#!/usr/bin/env bash
# Stand up a real eduMFA 2.9.5 server (privacyIDEA's fork, from PyPI) on 127.0.0.1 for the
# eduPUSH and tiqr interop tests. The same harness as tests/privacyidea/pi-server.sh, with
# PI_FLAVOR=edumfa:
#
#   edumfa-server.sh install | start WORKDIR | stop WORKDIR | restart WORKDIR | status WORKDIR
#
# Cache: ${AUTHENTICATOR_CACHE:-$HOME/.cache/authenticator-core}/edumfa-2.9.5/. See README.md.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PI_FLAVOR=edumfa exec "$HERE/../privacyidea/pi-server.sh" "$@"
