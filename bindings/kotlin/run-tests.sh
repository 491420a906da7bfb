#!/usr/bin/env bash
# The Kotlin/JVM binding tests: generated Kotlin + the real host library through JNA, JUnit 5
# under Maven, including push approvals against a real privacyIDEA 3.14 test server.
#
#   bindings/kotlin/run-tests.sh [extra mvn args, e.g. -Dtest=VaultTest]
#
# 1. java/mvn (installs default-jdk-headless + maven with apt-get when missing);
# 2. bindings/generate.sh: debug library + Kotlin in <target>/bindings/kotlin, snapshotted into
#    <target>/kotlin-jvm-tests/{kotlin,native} (other scripts regenerate <target>/bindings);
# 3. privacyIDEA on 127.0.0.1 in a temp workdir (tests/privacyidea/pi-server.sh), stopped by PID
#    on exit, also on failure or Ctrl-C; PI_WATCH_PID stops it even if this script is killed;
# 4. mvn clean test with jna.library.path and bindings.dir = the snapshot, PI_ENV_FILE = the server's
#    env file.
# Exits with Maven's status. Maven's local repository stays in ~/.m2 (the download cache).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$repo"

log() { printf '[kotlin-tests] %s\n' "$*" >&2; }

if ! command -v java >/dev/null 2>&1 || ! command -v mvn >/dev/null 2>&1; then
  log "java or mvn missing: installing default-jdk-headless and maven"
  sudo_cmd=()
  [ "$(id -u)" = 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq default-jdk-headless maven >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
  export PATH="$HOME/.cargo/bin:$PATH"
fi

# generate.sh rewrites the shared <target>/bindings on every run (other scripts call it too), so
# the tests compile and load a private snapshot: the generated Kotlin and the library it was
# generated from, copied side by side into <target>/kotlin-jvm-tests (outside Maven's build dir,
# which `mvn clean` empties).
snapshot=""
take_snapshot() {
  local lib
  snapshot="$target_dir/kotlin-jvm-tests"
  rm -rf "$snapshot" && mkdir -p "$snapshot/native"
  cp -R "$bindings_out/kotlin" "$snapshot/kotlin" 2>/dev/null || return 1
  [ -f "$snapshot/kotlin/org/authenticator/core/authenticator_core.kt" ] || return 1
  for lib in libauthenticator_core.so libauthenticator_core.dylib; do
    if [ -f "$target_dir/debug/$lib" ]; then cp "$target_dir/debug/$lib" "$snapshot/native/" || return 1; fi
  done
  [ -n "$(ls -A "$snapshot/native")" ]
}
for attempt in 1 2 3; do
  log "generating bindings (debug)"
  bindings_out="$(bash bindings/generate.sh)"
  target_dir="$(dirname "$bindings_out")"
  take_snapshot && break
  [ "$attempt" = 3 ] && { log "error: the bindings or the library vanished while copying them"; exit 1; }
  log "the bindings changed while being copied (another generate.sh?); generating again"
done

# FFI convention (issue 9): no unsigned types in the API, which Java cannot call (Kotlin mangles
# functions taking ULong/UInt/UByte/UShort). uniffi's own plumbing keeps ULong in
# `allocationSize` and internal helpers; anything else is a Rust u8/u16/u32/u64 in the API.
unsigned="$(grep -HnE '\b(UByte|UShort|UInt|ULong)\b' "$snapshot/kotlin/org/authenticator/core/"*.kt |
  grep -vE 'fun allocationSize\(|^[^:]+:[0-9]+:[[:space:]]*(//|\*|/\*)|internal fun ' || true)"
if [ -n "$unsigned" ]; then
  log "error: unsigned types in the generated Kotlin API (use i64/i32 in authenticator-core/src/ffi.rs):"
  printf '%s\n' "$unsigned" >&2
  exit 1
fi
log "generated Kotlin API: no unsigned types"

pi_workdir="$(mktemp -d "${TMPDIR:-/tmp}/kotlin-push-e2e.XXXXXX")"
stop_server() {
  local status=$?
  bash "$repo/tests/privacyidea/pi-server.sh" stop "$pi_workdir" >/dev/null 2>&1 || true
  rm -rf "$pi_workdir"
  return "$status"
}
trap stop_server EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log "starting the privacyIDEA test server in $pi_workdir"
PI_WATCH_PID=$$ bash tests/privacyidea/pi-server.sh start "$pi_workdir" </dev/null
export PI_ENV_FILE="$pi_workdir/server.env"

# -B: no colours or progress bars; -ntp: no download lines (the first run downloads ~85 MB into
# ~/.m2). Not -q: surefire's per-class and closing "Tests run: N, Failures: 0, …" lines must show.
set +e
mvn -B -ntp -f "$here/pom.xml" clean test \
  -Djna.library.path="$snapshot/native" \
  -Dbindings.dir="$snapshot/kotlin" \
  "$@"
status=$?
set -e
exit "$status"
