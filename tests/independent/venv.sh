#!/usr/bin/env bash
# A Python venv with the independent implementations the tests check our crypto against:
# `cryptography` (OpenSSL's scrypt, PBKDF2, AES-GCM) decrypts our encrypted Aegis and 2FAS exports;
# `PyNaCl` (libsodium's Argon2id and XChaCha20-Poly1305 secretstream) seals Ente Auth encrypted
# exports for the import tests, as no real one exists among the fixtures.
#
#   bash tests/independent/venv.sh install   installs once (idempotent; scripts/provision.sh)
#   bash tests/independent/venv.sh           prints the venv's python, or fails when not installed
#
# Cache (outside the clone): ${AUTHENTICATOR_CACHE:-$HOME/.cache/authenticator-core}/crypto-$VERSION-nacl-$NACL_VERSION/
#   venv/ (marker .installed), download/ (the wheels, so a re-install is offline), pip-cache/.
set -euo pipefail

VERSION=46.0.3
NACL_VERSION=1.6.2
CACHE_ROOT="${AUTHENTICATOR_CACHE:-$HOME/.cache/authenticator-core}/crypto-$VERSION-nacl-$NACL_VERSION"
PACKAGES=("cryptography==$VERSION" "pynacl==$NACL_VERSION")
VENV="$CACHE_ROOT/venv"
MARKER="$VENV/.installed"

log() { printf '[crypto-venv] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

installed() { [ -f "$MARKER" ] && [ -x "$VENV/bin/python" ]; }

do_install() {
  local py dl
  py="$(command -v python3)" || die "no python3 found"
  log "installing ${PACKAGES[*]} into $VENV (one-time)"
  rm -rf "$VENV"
  "$py" -m venv "$VENV"
  export PIP_CACHE_DIR="$CACHE_ROOT/pip-cache" PIP_DISABLE_PIP_VERSION_CHECK=1
  dl="$CACHE_ROOT/download"
  mkdir -p "$dl"
  if ! "$VENV/bin/python" -m pip install --quiet --no-index --find-links "$dl" "${PACKAGES[@]}" >/dev/null 2>&1; then
    "$VENV/bin/python" -m pip download --quiet --only-binary=:all: -d "$dl" "${PACKAGES[@]}"
    "$VENV/bin/python" -m pip install --quiet --no-index --find-links "$dl" "${PACKAGES[@]}"
  fi
  "$VENV/bin/python" -c 'import cryptography.hazmat.primitives.ciphers.aead, nacl.bindings, nacl.pwhash' ||
    die "cryptography or PyNaCl does not import"
  echo "${PACKAGES[*]} installed $(date -u +%FT%TZ)" >"$MARKER"
}

if [ "${1:-}" = install ] && ! installed; then
  mkdir -p "$CACHE_ROOT"
  # Two provisioners at once (two clones) on a cold cache: one installs, the other waits.
  (
    flock 9
    installed || do_install
  ) 9>"$CACHE_ROOT/.install.lock"
fi
installed || die "not installed in $VENV: run scripts/provision.sh once (./test-all does)"
echo "$VENV/bin/python"
