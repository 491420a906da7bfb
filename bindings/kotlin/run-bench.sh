#!/usr/bin/env bash
# JMH benchmark of the Kotlin/JVM bindings: `codes(now)` for 1,000 accounts through JNA
# (target ≤ 5 ms), on the library apps ship (the `mobile` profile: release, size-optimised).
# Not part of run-tests.sh / test-all.
#
#   bindings/kotlin/run-bench.sh [mvn args, e.g. -Dbench.args="-f 2 -wi 5 -i 20 -p accounts=1,1000"]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here/../.."

if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
  export PATH="$HOME/.cargo/bin:$PATH"
fi

echo "[kotlin-bench] building the mobile-profile library and generating bindings" >&2
bindings_out="$(bash bindings/generate.sh --release)"
target_dir="$(dirname "$bindings_out")"

exec mvn -B -ntp -f "$here/pom.xml" -Pbench verify \
  -Djna.library.path="$target_dir/mobile" \
  -Dbindings.dir="$target_dir/bindings/kotlin" \
  "$@"
