#!/usr/bin/env bash
# The Kotlin/JVM binding tests: generated Kotlin + the real host library through JNA, JUnit 5
# under Maven, including push approvals against a real privacyIDEA 3.14 test server.
#
#   bindings/kotlin/run-tests.sh [extra mvn args, e.g. -Dtest=VaultTest]
#
# 1. java/mvn (installed by scripts/provision.sh);
# 2. bindings/generate.sh into <target>/kotlin-jvm-tests: the Kotlin and the library it was read
#    from, a directory of this script's own (no other caller writes there);
# 3. privacyIDEA on 127.0.0.1 in a temp workdir (pi_start/pi_stop of scripts/lib.sh), stopped by
#    PID on exit, also on failure or Ctrl-C, and even if this script is killed;
# 4. mvn clean test with jna.library.path and bindings.dir in that directory, PI_ENV_FILE = the
#    server's env file; likewise eduMFA 2.9.5 (edumfa_start) for a tiqr sign-in, EDUMFA_ENV_FILE.
# Exits with Maven's status. Maven's local repository stays in ~/.m2 (the download cache).
#
# AUTHENTICATOR_SHIPPED_LIBRARY=1 runs the same tests on the library apps ship (generate.sh
# --release: the mobile profile, packed relocations, identical code folding) instead of the
# debug build, in a directory of its own.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../../scripts/lib.sh"
LOG_PREFIX=kotlin-tests
cd "$AUTHENTICATOR_REPO"
need_cargo

need_tool java
need_tool mvn

if [ "${AUTHENTICATOR_SHIPPED_LIBRARY:-}" = 1 ]; then
  log "generating bindings (the shipped library: --release)"
  out="$(bash bindings/generate.sh --release "$(cargo_target_dir)/kotlin-jvm-tests-shipped" | tail -n 1)"
else
  log "generating bindings (debug)"
  out="$(bash bindings/generate.sh "$(cargo_target_dir)/kotlin-jvm-tests" | tail -n 1)"
fi

# FFI convention (issue 9): no unsigned types in the API, which Java cannot call (Kotlin mangles
# functions taking ULong/UInt/UByte/UShort). uniffi's own plumbing keeps ULong in
# `allocationSize` and internal helpers; anything else is a Rust u8/u16/u32/u64 in the API.
unsigned="$(grep -HnE '\b(UByte|UShort|UInt|ULong)\b' "$out/kotlin/org/authenticator/core/"*.kt |
  grep -vE 'fun allocationSize\(|^[^:]+:[0-9]+:[[:space:]]*(//|\*|/\*)|internal fun ' || true)"
if [ -n "$unsigned" ]; then
  log "error: unsigned types in the generated Kotlin API (use i64/i32 in crates/ffi/src):"
  printf '%s\n' "$unsigned" >&2
  exit 1
fi
log "generated Kotlin API: no unsigned types"

trap 'pi_stop; edumfa_stop; dav_stop' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
pi_start kotlin-tests
edumfa_start kotlin-tests
dav_start kotlin-tests

# -B: no colours or progress bars; -ntp: no download lines (the first run downloads ~85 MB into
# ~/.m2). Not -q: surefire's per-class and closing "Tests run: N, Failures: 0, …" lines must show.
set +e
mvn -B -ntp -f "$here/pom.xml" clean test \
  -Djna.library.path="$out/lib" \
  -Dbindings.dir="$out/kotlin" \
  "$@"
status=$?
set -e
exit "$status"
