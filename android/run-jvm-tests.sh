#!/usr/bin/env bash
# The Android library on the JVM: the module's own Kotlin (android/authenticator/src/main, in
# place) and the Android flavour of the generated bindings, compiled against the real Android
# framework (Robolectric's android-all, API 34) with warnings as errors, then Robolectric tests on
# API 24 (the module's minSdk), 34 and 35 against the host libauthenticator_core.so through JNA.
#
#   android/run-jvm-tests.sh [extra mvn args, e.g. -Dtest=KeystoreDataKeyTest]
#
# 1. java/mvn (installed by scripts/provision.sh);
# 2. bindings/generate.sh --android into <target>/android-jvm-tests (this script's own directory):
#    the JVM and Android flavours of the Kotlin and the library they were read from;
# 3. the classes.jar of Robolectric's two AAR dependencies, into <that directory>/aar-classes;
# 4. mvn clean test in android/jvm-tests. Robolectric runs offline: Maven copies the
#    android-all-instrumented jars into its target dir and points robolectric.dependency.dir there.
# Exits with Maven's status. Maven's local repository stays in ~/.m2 (the download cache: ~200 MB
# on the first run, which takes ~2 minutes more).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../scripts/lib.sh"
LOG_PREFIX=android-jvm-tests
cd "$AUTHENTICATOR_REPO"
need_cargo

need_tool java
need_tool mvn

log "generating bindings (debug, Android flavour)"
out="$(bash bindings/generate.sh --android "$(cargo_target_dir)/android-jvm-tests" | tail -n 1)"
[ -f "$out/kotlin-android/org/authenticator/core/authenticator_core.kt" ] ||
  die "bindings/generate.sh wrote no Android-flavour Kotlin into $out/kotlin-android"

# Robolectric's two AAR dependencies, as the jars inside them (Maven cannot put an AAR on a
# classpath, and no plugin of the build can unzip them before it resolves them itself).
aar_classes="$out/aar-classes"
mkdir -p "$aar_classes"
for aar in androidx.test:monitor:1.8.0 androidx.test.espresso:espresso-idling-resource:3.7.0; do
  name=$(echo "$aar" | cut -d: -f2)
  [ -s "$aar_classes/$name.jar" ] && continue
  log "fetching $aar (AAR) and unzipping its classes.jar"
  mvn -B -ntp -q -Dstyle.color=never org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
    -Dartifact="$aar:aar" -DoutputDirectory="$aar_classes" -Dmdep.stripVersion=true
  python3 - "$aar_classes/$name.aar" "$aar_classes/$name.jar" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as aar, aar.open("classes.jar") as src, open(sys.argv[2] + ".tmp", "wb") as dst:
    shutil.copyfileobj(src, dst)
shutil.move(sys.argv[2] + ".tmp", sys.argv[2])
PY
done

# -B: no colours or progress bars; -ntp: no download lines. Not -q: surefire's per-class and
# closing "Tests run: N, Failures: 0, …" lines must show.
set +e
mvn -B -ntp -f "$here/jvm-tests/pom.xml" clean test \
  -Djna.library.path="$out/lib" \
  -Dbindings.dir="$out/kotlin-android" \
  -Daar.classes="$aar_classes" \
  -Drobolectric.jars="$out/robolectric-jars" \
  "$@"
status=$?
set -e
exit "$status"
