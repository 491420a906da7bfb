#!/usr/bin/env bash
# JMH benchmark of the Kotlin/JVM bindings: `codes(now)` for 1,000 accounts through JNA
# (target ≤ 5 ms), on the library apps ship (the `mobile` profile: release, size-optimised,
# stripped). Not part of run-tests.sh / test-all.
#
#   bindings/kotlin/run-bench.sh [mvn args, e.g. -Dbench.args="-f 2 -wi 5 -i 20 -p accounts=1,1000"]
#
# Bindings and library come from bindings/generate.sh --release into <target>/kotlin-jvm-bench.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../../scripts/lib.sh"
LOG_PREFIX=kotlin-bench
cd "$AUTHENTICATOR_REPO"
need_cargo

log "building the mobile-profile library and generating bindings"
out="$(bash bindings/generate.sh --release "$(cargo_target_dir)/kotlin-jvm-bench" | tail -n 1)"

exec mvn -B -ntp -f "$here/pom.xml" -Pbench verify \
  -Djna.library.path="$out/lib" \
  -Dbindings.dir="$out/kotlin" \
  "$@"
