#!/bin/sh
# The GPU bundle's test, for a machine without a GPU (CI runs it after `mvn -B verify`, which packages everything):
# builds it with scripts/make-gpu-bundle.sh (which fails over 64 MiB), unpacks the archive elsewhere and, with a java
# on PATH that fails if called, checks that from the bundle alone: its java runs pauser.jar and the sample app under
# the agent; the sample's CUDA mode says there is no GPU; gpu-check.sh says "no NVIDIA GPU" with exit status 3; with a
# stand-in nvidia-smi that claims a GPU, check (a) runs test classes through JUnit's console launcher and check (d)
# reports that the benchmark can't use the GPU; GpuCopyBench says there is no device with exit status 3.
# Exit status 0 when every check holds; otherwise 1 after the first that does not, with its output.
set -u

root=$(cd -P -- "$(dirname -- "$0")/.." && pwd -P)
sh "$root/scripts/make-gpu-bundle.sh" || exit 1

scratch=$(mktemp -d "${TMPDIR:-/tmp}/pauser-gpu-bundle-test.XXXXXX") || exit 1
trap 'rm -rf "$scratch"' EXIT
tar -C "$scratch" -xzf "$root/target/gpu-bundle.tar.gz" || exit 1
bundle=$scratch/gpu-bundle

# Nothing may fall back to a JDK of this machine: the first java on PATH fails loudly.
mkdir -p "$scratch/no-jdk" "$scratch/fake-gpu"
cat >"$scratch/no-jdk/java" <<'STUB'
#!/bin/sh
echo "test-gpu-bundle: the java on PATH was called ($*): the bundle must use its own" >&2
exit 99
STUB
# Claims one GPU, as nvidia-smi does, where the CUDA driver itself is absent.
cat >"$scratch/fake-gpu/nvidia-smi" <<'STUB'
#!/bin/sh
case "$*" in
    -L) echo "GPU 0: Stand-in GPU (UUID: GPU-00000000-0000-0000-0000-000000000000)" ;;
    *) echo 0 ;;
esac
STUB
chmod 755 "$scratch/no-jdk/java" "$scratch/fake-gpu/nvidia-smi"
plain_path=$scratch/no-jdk:/usr/bin:/bin
unset JAVA_HOME
# gpu-check.sh keeps the scratch directory of a failed check: here, inside this test's own, removed at the end.
mkdir -p "$scratch/tmp"
TMPDIR=$scratch/tmp
export TMPDIR

checked=0
# expect <name> <expected exit status> <text the output must hold> <command...>
expect() {
    name=$1
    want=$2
    text=$3
    shift 3
    PATH=$plain_path "$@" >"$scratch/out" 2>&1
    got=$?
    if [ "$got" -ne "$want" ] || ! grep -q -F -- "$text" "$scratch/out"; then
        echo "test-gpu-bundle: FAILED: $name: exit status $got (expected $want), output should hold '$text':"
        sed 's/^/  | /' "$scratch/out"
        exit 1
    fi
    checked=$((checked + 1))
    echo "test-gpu-bundle: ok: $name: $(grep -F -m 1 -- "$text" "$scratch/out")"
}

expect "bin/java -version" 0 "version" "$bundle/bin/java" -version
expect "pauser.jar --version" 0 "$(sed -n 's/^Pauser GPU bundle //p' "$bundle/BUNDLE.txt")" \
    "$bundle/bin/java" -jar "$bundle/pauser.jar" --version
expect "bin/pauser list (the bundle as JAVA_HOME)" 0 "" env JAVA_HOME="$bundle" "$bundle/bin/pauser" list
expect "the sample app under the agent (CPU)" 0 "final-weights-sha256=" "$bundle/bin/java" \
    -javaagent:"$bundle/pauser.jar=dir=$scratch/ckpt,every=20" -jar "$bundle/sample-app/sample-app.jar" --steps 60 \
    --log-every 0

# gpu-check.sh reads the device attributes over JMX by pid with PauserAttributes (the attach and management agents of
# the bundle's runtime): read two of a sample run's.
PATH=$plain_path "$bundle/bin/java" -javaagent:"$bundle/pauser.jar=dir=$scratch/ckpt-jmx" \
    -jar "$bundle/sample-app/sample-app.jar" --steps 1000000 --step-delay-ms 5 --log-every 0 >"$scratch/run.out" 2>&1 &
run=$!
trap 'kill -9 $run 2>/dev/null; rm -rf "$scratch"' EXIT
deadline=$(($(date +%s) + 120))
until PATH=$plain_path JAVA_HOME=$bundle "$bundle/bin/pauser" status "$run" 2>/dev/null | grep -q RUNNING; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
        echo "test-gpu-bundle: FAILED: the sample run under the agent was not RUNNING within 120 s:"
        sed 's/^/  | /' "$scratch/run.out"
        exit 1
    fi
    sleep 0.2
done
expect "PauserAttributes over JMX by pid" 0 "State=RUNNING" "$bundle/bin/java" \
    -cp "$bundle/bench/pauser-bench.jar:$bundle/bench/lib/*" dev.pauser.bench.PauserAttributes "$run" Step State
kill -9 "$run"
wait "$run" 2>/dev/null

PATH=$plain_path "$bundle/bin/java" -jar "$bundle/sample-app/sample-app.jar" --device cuda >"$scratch/out" 2>&1
if grep -q -- "--device cpu" "$scratch/out" && ! grep -q "needs an NVIDIA GPU" "$scratch/out"; then
    echo "test-gpu-bundle: skipped: the sample app of this build has no CUDA mode: $(head -n 1 "$scratch/out")"
else
    expect "sample-app --device cuda without a GPU" 2 "sample-app: --device cuda needs an NVIDIA GPU and its driver: " \
        "$bundle/bin/java" -jar "$bundle/sample-app/sample-app.jar" --device cuda
    lines=$(wc -l <"$scratch/out")
    if [ "$lines" -ne 1 ]; then
        echo "test-gpu-bundle: FAILED: sample-app --device cuda without a GPU printed $lines lines, not one:"
        sed 's/^/  | /' "$scratch/out"
        exit 1
    fi
fi

expect "GpuCopyBench without a GPU" 3 "GpuCopyBench: no NVIDIA GPU: " \
    "$bundle/bin/java" -cp "$bundle/bench/pauser-bench.jar:$bundle/bench/lib/*" dev.pauser.bench.GpuCopyBench \
    --agent "$bundle/pauser.jar"
expect "gpu-check.sh without a GPU" 3 "gpu-check: no NVIDIA GPU: " "$bundle/gpu-check.sh"
expect "gpu-check.sh with an unknown check" 2 "unknown check 'e'" "$bundle/gpu-check.sh" e

plain_path=$scratch/fake-gpu:$plain_path
expect "gpu-check.sh a: the console launcher runs bundled test classes" 0 "(a) PASS: GPU tests: " \
    env GPU_CHECK_TESTS='^dev\.pauser\.(gate\.GateTest|sample\.CommandLineTest)$' "$bundle/gpu-check.sh" a
for class in GateTest CommandLineTest; do # one of the agent's test classes, one of the sample app's
    if ! grep -q "$class" "$scratch/out"; then
        echo "test-gpu-bundle: FAILED: gpu-check.sh a did not run $class:"
        sed 's/^/  | /' "$scratch/out"
        exit 1
    fi
done
# the build's GPU test classes, none of which finds a usable device here (before they exist: none is found)
expect "gpu-check.sh a: GPU tests without a usable device fail the check" 1 "(a) FAIL: " "$bundle/gpu-check.sh" a
# (b) and (c) drive the sample app like any: with its CPU mode, (b) goes through kill -9 and resume to the same hash,
# and (c) fails, there being no device memory to give back.
cpu_sample="--steps 1000 --log-every 250"
expect "gpu-check.sh b with the CPU sample: kill -9, resume, same hash" 0 "(b) PASS: killed after step" \
    env GPU_CHECK_SAMPLE_ARGS="$cpu_sample" "$bundle/gpu-check.sh" b
expect "gpu-check.sh c with the CPU sample: nothing released" 1 "(c) FAIL: " \
    env GPU_CHECK_SAMPLE_ARGS="$cpu_sample" "$bundle/gpu-check.sh" c
expect "gpu-check.sh d: a GPU the CUDA driver can't use fails the check" 1 \
    "(d) FAIL: the benchmark's JVM can't use the GPU nvidia-smi lists" "$bundle/gpu-check.sh" d

echo "test-gpu-bundle: all $checked checks hold"
