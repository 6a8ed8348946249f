#!/bin/sh
# Builds target/gpu-bundle/ and target/gpu-bundle.tar.gz: everything scripts/gpu-check.sh needs on a machine with an
# NVIDIA GPU and neither a JDK nor a network. A jlink runtime (only the modules the agent, the sample app, the GPU
# tests and the benchmark use; no JConsole) at the top, so bundle/bin/java runs; pauser.jar and bin/pauser; the sample
# app with its libraries; the test classes of the agent and of the sample app, with their class path and JUnit's
# console launcher; the bench jar.
# Run it from anywhere after `mvn -B package -DskipTests` in the repository. JAVA_HOME (else the JDK of the jlink on
# PATH) is the JDK whose modules go in: 17 or later. Prints what went in and the sizes; fails when over 64 MiB.
set -eu

root=$(cd -P -- "$(dirname -- "$0")/.." && pwd -P)
out=$root/target/gpu-bundle
archive=$root/target/gpu-bundle.tar.gz
limit_mib=64

die() {
    echo "make-gpu-bundle: $*" >&2
    exit 2
}

if [ -n "${JAVA_HOME:-}" ]; then
    jdk=$JAVA_HOME
else
    jlink_on_path=$(command -v jlink) || die "no jlink on PATH and no JAVA_HOME; point JAVA_HOME at a JDK 17 or later"
    jdk=$(cd -P -- "$(dirname -- "$(readlink -f -- "$jlink_on_path")")/.." && pwd -P)
fi
[ -x "$jdk/bin/jlink" ] && [ -x "$jdk/bin/jdeps" ] \
    || die "$jdk has no bin/jlink and bin/jdeps; point JAVA_HOME at a JDK 17 or later (not a JRE)"
feature=$("$jdk/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p')
case $feature in
    ''|1.*|9|1[0-6]) die "$jdk is Java ${feature:-of unknown version}; point JAVA_HOME at a JDK 17 or later" ;;
esac

# What the build made. Each missing piece is named with the command that makes it.
version=$(sed -n 's|^  <version>\(.*\)</version>|\1|p' "$root/pom.xml" | head -n 1)
agent_jar=$root/agent/target/pauser.jar
agent_classes=$root/agent/target/original-pauser.jar
test_classes=$root/agent/target/test-classes
sample_test_classes=$root/sample-app/target/test-classes
sample_jar=$root/sample-app/target/sample-app.jar
sample_lib=$root/sample-app/target/lib
bench_jar=$root/bench/target/pauser-bench-$version.jar
bench_lib=$root/bench/target/lib
test_lib=$root/bench/target/gpu-test-lib
for need in "$agent_jar" "$agent_classes" "$test_classes" "$sample_test_classes" "$sample_jar" "$sample_lib" "$bench_jar" "$bench_lib" \
    "$test_lib"; do
    [ -e "$need" ] || die "$need is missing; build first: (cd $root && mvn -B package -DskipTests)"
done

rm -rf "$out" "$archive"
work=$root/target/gpu-bundle-work
rm -rf "$work"
mkdir -p "$work"

# Two jars are not taken whole. Of ONNX Runtime's 72 MB only the classes and the linux-x64 library can load on the GPU
# machine (the other platforms' libraries and debug symbols are the rest); of JCuda's natives, the 24 MB PTX compiler
# library serves only jcuda.nvptxcompiler, which nothing here uses (the driver compiles PTX when it loads a module).
# jfreechart serves only the sample's LossCurve picture tool. trimmed <jar>: the path of the jar to bundle, or nothing.
mkdir -p "$work/trimmed"
trimmed() {
    name=$(basename -- "$1")
    case $name in
        jfreechart-*) return ;;
        onnxruntime-*) drop="ai/onnxruntime/native/osx-* ai/onnxruntime/native/win-* ai/onnxruntime/native/linux-aarch64/*" ;;
        jcuda-natives-*) drop="lib/libJNvPTXCompiler-*" ;;
        *) echo "$1"; return ;;
    esac
    if [ ! -f "$work/trimmed/$name" ]; then
        cp "$1" "$work/trimmed/$name"
        set -f # patterns for zip, not for the shell
        # shellcheck disable=SC2086
        zip -q -d "$work/trimmed/$name" $drop >/dev/null
        set +f
    fi
    echo "$work/trimmed/$name"
}

stage=$work/stage
# Jars named the same (JCuda and its natives sit in three class paths) are stored once, as hard links.
place() { # place <jar> <destination dir>
    mkdir -p "$2"
    set -- "$(trimmed "$1")" "$2"
    [ -n "$1" ] || return 0
    name=$(basename -- "$1")
    for have in "$stage"/sample-app/lib/"$name" "$stage"/bench/lib/"$name" "$stage"/tests/lib/"$name"; do
        if [ -f "$have" ] && cmp -s "$have" "$1"; then
            ln "$have" "$2/$name"
            return
        fi
    done
    cp "$1" "$2/$name"
}

mkdir -p "$stage/sample-app"
cp "$sample_jar" "$stage/sample-app/sample-app.jar"
for jar in "$sample_lib"/*.jar; do place "$jar" "$stage/sample-app/lib"; done
mkdir -p "$stage/bench"
cp "$bench_jar" "$stage/bench/pauser-bench.jar"
for jar in "$bench_lib"/*.jar; do place "$jar" "$stage/bench/lib"; done
mkdir -p "$stage/tests"
cp -R "$test_classes" "$stage/tests/classes"
cp -R "$sample_test_classes" "$stage/tests/sample-classes"
mkdir -p "$stage/tests/lib"
cp "$agent_classes" "$stage/tests/lib/pauser-agent-classes.jar"
for jar in "$test_lib"/*.jar; do place "$jar" "$stage/tests/lib"; done

# Modules: what jdeps finds in every class that runs from the bundle, less JConsole (only JConsoleIT uses it,
# and it is not a GPU test), plus what the agent and its tools use without naming it in byte code: the attach
# and management agents (JMX by pid), JFR, the socket options of jdk.net, sun.misc of jdk.unsupported, and
# jdk.random where the JDK has it (the random-generator codec opens it; from JDK 23 on it is part of java.base).
found=$("$jdk/bin/jdeps" --print-module-deps --ignore-missing-deps --multi-release "$feature" \
    "$stage"/sample-app/sample-app.jar "$stage"/sample-app/lib/*.jar "$stage"/bench/pauser-bench.jar \
    "$stage"/bench/lib/*.jar "$stage"/tests/classes "$stage"/tests/sample-classes "$stage"/tests/lib/*.jar 2>/dev/null | tail -n 1)
required="java.management java.management.rmi jdk.attach jdk.jfr jdk.management jdk.management.agent jdk.net
jdk.unsupported"
if "$jdk/bin/java" --list-modules | grep -q '^jdk\.random@'; then
    required="$required jdk.random"
fi
modules=$(printf '%s\n' "$found" $required | tr ',' '\n' | grep -v -x 'jdk.jconsole' | grep . | sort -u | paste -s -d, -)
echo "make-gpu-bundle: runtime of $jdk (Java $feature), modules: $modules"

# zip-6 names the level from JDK 21 on; 17 knows only the numbered plugins (2 = zip).
case $feature in
    17|18|19|20) compress=2 ;;
    *) compress=zip-6 ;;
esac
"$jdk/bin/jlink" --add-modules "$modules" --output "$out" --strip-debug --no-header-files --no-man-pages \
    --compress="$compress"
mv "$stage/sample-app" "$stage/bench" "$stage/tests" "$out/"
cp "$agent_jar" "$out/pauser.jar"
cp "$root/dist/src/bin/pauser" "$out/bin/pauser"
chmod 755 "$out/bin/pauser"

cp "$root/scripts/gpu-check.sh" "$out/gpu-check.sh"
chmod 755 "$out/gpu-check.sh"
{
    echo "Pauser GPU bundle $version"
    echo "commit: $(git -C "$root" rev-parse HEAD 2>/dev/null || echo unknown)$(git -C "$root" status --porcelain 2>/dev/null | grep -q . && echo ' (with uncommitted changes)')"
    echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ) with $("$jdk/bin/java" -version 2>&1 | head -n 1)"
    echo "modules: $modules"
} >"$out/BUNDLE.txt"
rm -rf "$work"

# The bundle's own java must run the agent jar it holds (a pauser.jar packaged twice without `clean` nests its classes
# under inst/inst/ and fails here rather than on the GPU machine).
if ! version_line=$("$out/bin/java" -jar "$out/pauser.jar" --version 2>&1); then
    echo "make-gpu-bundle: $out/bin/java -jar pauser.jar --version fails: $(printf '%s' "$version_line" | head -n 1);" \
        "rebuild the jars: (cd $root && mvn -B clean package -DskipTests)" >&2
    exit 1
fi
echo "make-gpu-bundle: $version_line"

tar -C "$root/target" -czf "$archive" gpu-bundle
dir_kib=$(du -sk "$out" | cut -f1)
tar_bytes=$(wc -c <"$archive")
echo "make-gpu-bundle: $out: $((dir_kib / 1024)) MiB unpacked"
echo "make-gpu-bundle: $archive: $((tar_bytes / 1048576)) MiB ($tar_bytes bytes; limit $limit_mib MiB)"
if [ "$tar_bytes" -ge $((limit_mib * 1048576)) ]; then
    echo "make-gpu-bundle: $archive is over $limit_mib MiB" >&2
    exit 1
fi
