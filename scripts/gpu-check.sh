#!/bin/sh
# Checks Pauser's GPU support on a machine with an NVIDIA GPU, from the bundle scripts/make-gpu-bundle.sh makes
# (unpack gpu-bundle.tar.gz anywhere and run gpu-bundle/gpu-check.sh; no JDK and no network needed):
#   (a) the GPU test classes, with JUnit's console launcher;
#   (b) kill -9 of `sample-app --device cuda` under the agent, then the same command again: it resumes from the last
#       checkpoint and ends with the final-weights-sha256 of an uninterrupted run;
#   (c) a pause with releaseGpuOnPause=true: the GPU's memory in use drops while paused, comes back on resume, and the
#       run ends with the same hash;
#   (d) GpuCopyBench: how long steps are held for the device copy, and the copies' throughput, each next to a plain
#       copy of the same bytes measured in the same run (targets: held <= 1.25 x a device-to-device copy; with host
#       staging, >= 80 % of a plain pinned device-to-host copy).
# Usage: gpu-check.sh [a] [b] [c] [d]: the checks to run, all four when none is named (to rerun one that failed).
# Prints every figure and a verdict per check. Exit status: 0 every check passed, 1 a check failed, 2 the bundle is
# incomplete, 3 no NVIDIA GPU (nothing else is run). Sized for 5 minutes at most on an H100/H200.
# Settings (environment): GPU_CHECK_WORK (scratch directory; default a new one under $TMPDIR or /tmp, removed when
# every check passed), GPU_CHECK_SAMPLE_ARGS (the sample's options for (b) and (c)), GPU_CHECK_SLOW_ARGS (added to
# slow the runs that are interrupted), GPU_CHECK_BENCH_MB (state size of (d), MiB), GPU_CHECK_TESTS (a regular
# expression for the test classes of (a)).
set -u

bundle=$(cd -P -- "$(dirname -- "$0")" && pwd -P) || exit 2
java=$bundle/bin/java
sample_args=${GPU_CHECK_SAMPLE_ARGS:---device cuda --hidden 4096 --layers 4 --steps 1000 --log-every 250}
slow_args=${GPU_CHECK_SLOW_ARGS:---step-delay-ms 10}
bench_mb=${GPU_CHECK_BENCH_MB:-8192}
gpu_tests=${GPU_CHECK_TESTS:-'^dev\.pauser\..*(Cuda|Gpu)[A-Za-z0-9_]*(Test|IT)$'}
# The bundle's runtime is the JDK of bin/pauser and of the JVMs the tests start.
JAVA_HOME=$bundle
export JAVA_HOME

say() {
    echo "gpu-check: $*"
}

checks=""
for check in "$@"; do
    case $check in
        a|b|c|d) checks="$checks $check" ;;
        *)
            echo "gpu-check: unknown check '$check'; usage: gpu-check.sh [a] [b] [c] [d] (all four when none is named)" >&2
            exit 2
            ;;
    esac
done
[ -n "$checks" ] || checks=" a b c d"
selected() {
    case "$checks " in
        *" $1 "*) return 0 ;;
        *) return 1 ;;
    esac
}

for need in bin/java bin/pauser pauser.jar sample-app/sample-app.jar bench/pauser-bench.jar tests/classes tests/lib; do
    if [ ! -e "$bundle/$need" ]; then
        echo "gpu-check: $bundle/$need is missing: run gpu-check.sh from an unpacked bundle of scripts/make-gpu-bundle.sh" >&2
        exit 2
    fi
done

# No GPU: say why, in one line, and stop before anything starts a JVM that would fail for that reason.
if ! command -v nvidia-smi >/dev/null 2>&1; then
    say "no NVIDIA GPU: nvidia-smi is not on PATH (no NVIDIA driver on this machine)"
    exit 3
fi
if ! gpus=$(nvidia-smi -L 2>&1) || ! printf '%s\n' "$gpus" | grep -q '^GPU '; then
    say "no NVIDIA GPU: nvidia-smi -L lists none ($(printf '%s' "$gpus" | head -n 1))"
    exit 3
fi

work=${GPU_CHECK_WORK:-$(mktemp -d "${TMPDIR:-/tmp}/pauser-gpu-check.XXXXXX")} || exit 2
mkdir -p "$work" || exit 2
case $bundle$work in
    *[[:space:]]*)
        echo "gpu-check: $bundle or $work holds a space: unpack the bundle (or set GPU_CHECK_WORK) to a path without one" >&2
        exit 2
        ;;
esac
started=$(date +%s)
children=""
cleanup() {
    for pid in $children; do
        kill -9 "$pid" 2>/dev/null
    done
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

results=""
failed=0
verdict() { # verdict <check> PASS|FAIL <line>
    results="$results
  $1 $2: $3"
    say "$1 $2: $3"
    if [ "$2" = FAIL ]; then
        failed=1
    fi
}

# Runs a command with a deadline where coreutils' timeout exists.
bounded() { # bounded <seconds> <command...>
    limit=$1
    shift
    if command -v timeout >/dev/null 2>&1; then
        timeout -s KILL "$limit" "$@"
    else
        "$@"
    fi
}

# Polls a condition every 0.2 s until it holds (0) or the deadline passes (1).
wait_until() { # wait_until <seconds> <command...>
    deadline=$(($(date +%s) + $1))
    shift
    while ! "$@"; do
        [ "$(date +%s)" -lt "$deadline" ] || return 1
        sleep 0.2
    done
}

alive() { # the process runs (not ended, nor ended and waiting for this shell to collect its status)
    state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c 1)
    [ -n "$state" ] && [ "$state" != Z ]
}

ended() {
    ! alive "$1"
}

finish() { # finish <pid> <seconds>: waits until the process ends, kills it at the deadline; its exit status
    if ! wait_until "$2" ended "$1"; then
        say "pid $1 still runs after $2 s: killed"
        kill -9 "$1" 2>/dev/null
    fi
    wait "$1"
}

final_hash() {
    sed -n 's/^final-weights-sha256=//p' "$1" | tail -n 1
}

newest_checkpoint() { # the step of the newest committed checkpoint in a directory, or nothing
    ls -d "$1"/ckpt-[0-9]* 2>/dev/null | sed 's|.*/ckpt-0*||' | sort -n | tail -n 1
}

has_checkpoint_after() { # has_checkpoint_after <dir> <step>
    step=$(newest_checkpoint "$1")
    [ -n "$step" ] && [ "$step" -gt "$2" ]
}

trains() { # trains <output file>: a progress line is out
    grep -q '^step [0-9]' "$1"
}

until_ended() { # until_ended <pid> <condition...>: the condition holds, or the process ended (then the caller looks)
    watched=$1
    shift
    "$@" || ended "$watched"
}

gpu_memory_used_mib() {
    nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -i 0 | tr -d ' '
}

attribute() { # attribute <pid> <name>: one attribute of the Pauser MXBean, read over JMX
    "$java" -cp "$bundle/bench/pauser-bench.jar:$bundle/bench/lib/*" dev.pauser.bench.PauserAttributes "$1" "$2" \
        | sed -n "s/^$2=//p"
}

pauser() {
    "$bundle/bin/pauser" "$@"
}

run_sample() { # run_sample <output file> <java options...> [-- <more sample options...>]: at most 10 minutes; its status
    start_sample "$@"
    finish "$pid" 600
}

start_sample() { # the same in the background; sets $pid
    out=$1
    shift
    jvm_options=""
    while [ $# -gt 0 ] && [ "$1" != -- ]; do
        jvm_options="$jvm_options $1"
        shift
    done
    [ $# -eq 0 ] || shift
    # word lists: no option here holds a space (the scratch directory is checked for that)
    "$java" $jvm_options -jar "$bundle/sample-app/sample-app.jar" $sample_args "$@" >"$out" 2>&1 &
    pid=$!
    children="$children $pid"
}

say "bundle: $(head -n 2 "$bundle/BUNDLE.txt" 2>/dev/null | tr '\n' ' ')"
say "java: $("$java" -version 2>&1 | head -n 1); agent: $("$java" -jar "$bundle/pauser.jar" --version 2>&1 | head -n 1)"
say "GPU: $(printf '%s\n' "$gpus" | head -n 1); driver $(nvidia-smi --query-gpu=driver_version --format=csv,noheader -i 0)"
say "scratch directory: $work"

# (a) -----------------------------------------------------------------------------------------------------------
if selected a; then
    say "(a) GPU tests: classes matching $gpu_tests"
    # run_tests <name> <class directory> <class path>: one module's test classes in a JVM of their own, as surefire runs
    # them (one module's tests can leave a JVM where another's can't start: JCuda's driver class fails to initialize
    # only once per JVM), with everything on the JVM's class path (tests that start child JVMs hand them
    # java.class.path), and the JVM options of the build's surefire configuration (agent/pom.xml).
    run_tests() {
        bounded 600 "$java" --add-opens java.base/java.util=ALL-UNNAMED --add-opens jdk.random/jdk.random=ALL-UNNAMED \
            -Dpauser.test.agentJar="$bundle/pauser.jar" -Dpauser.test.appJar="$bundle/sample-app/sample-app.jar" \
            -Dpauser.test.jdk25=/nonexistent -cp "$3" org.junit.platform.console.ConsoleLauncher execute \
            --disable-banner --disable-ansi-colors --details=tree --scan-class-path "$2" \
            --include-classname "$gpu_tests" --reports-dir "$work/junit-$1" >"$work/tests-$1.out" 2>&1
        status=$?
        sed "s/^/  $1: /" "$work/tests-$1.out"
        return $status
    }
    count() { # count <word>: the numbers on the summary lines "[ N tests <word> ]" of both runs, added
        cat "$work"/tests-*.out | sed -n "s/^\[ *\([0-9][0-9]*\) tests $1 *\]$/\1/p" \
            | { total=0; while read -r n; do total=$((total + n)); done; echo "$total"; }
    }
    launcher=$(ls "$bundle"/tests/lib/junit-platform-console-standalone-*.jar | head -n 1)
    testkit=$(ls "$bundle"/tests/lib/pauser-testkit-*.jar | head -n 1)
    agent_path=$bundle/tests/classes
    for jar in "$bundle"/tests/lib/*.jar; do
        agent_path=$agent_path:$jar
    done
    sample_path=$bundle/tests/sample-classes:$launcher:$testkit:$bundle/sample-app/sample-app.jar
    for jar in "$bundle"/sample-app/lib/*.jar; do
        sample_path=$sample_path:$jar
    done
    tests_status=0
    run_tests agent "$bundle/tests/classes" "$agent_path" || tests_status=$?
    run_tests sample-app "$bundle/tests/sample-classes" "$sample_path" || tests_status=$?
    found=$(count found)
    skipped=$(count skipped)
    aborted=$(count aborted)
    succeeded=$(count successful)
    failed_tests=$(count failed)
    # A GPU test that finds no device is aborted by its assumption, whose message says so ("no CUDA device can be used
    # here: ...", "no usable CUDA device here: ..."); here, where nvidia-smi lists a GPU, that is a failure. (Tests of
    # the no-GPU paths are aborted where a GPU is usable, with other words: those are expected.)
    no_device=$(cat "$work"/tests-*.out | grep -E -c 'Assumption failed: no (usable )?CUDA device')
    summary="$found found, $succeeded passed, $aborted aborted ($no_device for want of a usable CUDA device),"
    summary="$summary $skipped skipped, $failed_tests failed"
    if [ "$tests_status" -ne 0 ]; then
        verdict "(a)" FAIL "GPU tests: $summary (launcher exit status $tests_status)"
    elif [ "$found" -eq 0 ]; then
        verdict "(a)" FAIL "no test class matches $gpu_tests in the bundle"
    elif [ "$no_device" -gt 0 ]; then
        verdict "(a)" FAIL "GPU tests: $summary: they could not use the GPU nvidia-smi lists (the reasons are above)"
    elif [ "$succeeded" -eq 0 ]; then
        verdict "(a)" FAIL "GPU tests: $summary: none ran to the end"
    else
        verdict "(a)" PASS "GPU tests: $summary"
    fi
fi

# The reference for (b) and (c): the same sample run, uninterrupted, without the agent -------------------------
reference=""
if selected b || selected c; then
    say "uninterrupted run, no agent: sample-app $sample_args"
    run_sample "$work/reference.out"
    reference_status=$?
    reference=$(final_hash "$work/reference.out")
    tail -n 3 "$work/reference.out" | sed 's/^/  /'
    if [ "$reference_status" -ne 0 ] || [ -z "$reference" ]; then
        say "the uninterrupted run failed (status $reference_status): $work/reference.out"
        reference=""
    fi
fi

# (b) -----------------------------------------------------------------------------------------------------------
if selected b && [ -z "$reference" ]; then
    verdict "(b)" FAIL "not run: the uninterrupted run gave no final-weights-sha256"
elif selected b; then
    say "(b) kill -9 under the agent, then the same command again"
    dir=$work/b-checkpoints
    start_sample "$work/b-killed.out" -javaagent:"$bundle/pauser.jar=dir=$dir,every=250" -- $slow_args
    if ! wait_until 300 until_ended "$pid" has_checkpoint_after "$dir" 250 || ! alive "$pid"; then
        verdict "(b)" FAIL "no second checkpoint while the run went on (finished or stuck?): $work/b-killed.out"
        head -n 5 "$work/b-killed.out" | sed 's/^/  /'
        kill -9 "$pid" 2>/dev/null
        wait "$pid"
    else
        kill -9 "$pid"
        wait "$pid" # 137
        killed_at=$(newest_checkpoint "$dir")
        say "killed with -9; newest checkpoint: step $killed_at"
        run_sample "$work/b-resumed.out" -javaagent:"$bundle/pauser.jar=dir=$dir,every=250"
        resumed_status=$?
        grep '^pauser: resum' "$work/b-resumed.out" | sed 's/^/  /'
        tail -n 2 "$work/b-resumed.out" | sed 's/^/  /'
        resumed=$(final_hash "$work/b-resumed.out")
        if [ "$resumed_status" -ne 0 ]; then
            verdict "(b)" FAIL "the resumed run exited with status $resumed_status: $work/b-resumed.out"
        elif ! grep -q '^pauser: resuming from' "$work/b-resumed.out"; then
            verdict "(b)" FAIL "the run started again did not resume from a checkpoint: $work/b-resumed.out"
        elif [ "$resumed" != "$reference" ]; then
            verdict "(b)" FAIL "resumed from step $killed_at: final-weights-sha256=$resumed, uninterrupted $reference"
        else
            verdict "(b)" PASS "killed after step $killed_at, resumed: the same final-weights-sha256 as uninterrupted"
        fi
    fi
fi

# (c) -----------------------------------------------------------------------------------------------------------
if selected c && [ -z "$reference" ]; then
    verdict "(c)" FAIL "not run: the uninterrupted run gave no final-weights-sha256"
elif selected c; then
    say "(c) pause and resume with releaseGpuOnPause=true"
    dir=$work/c-checkpoints
    start_sample "$work/c.out" -javaagent:"$bundle/pauser.jar=dir=$dir,releaseGpuOnPause=true" -- $slow_args
    if ! wait_until 300 until_ended "$pid" trains "$work/c.out" || ! alive "$pid"; then
        verdict "(c)" FAIL "the run did not train: $work/c.out"
        head -n 5 "$work/c.out" | sed 's/^/  /'
        kill -9 "$pid" 2>/dev/null
        wait "$pid"
    else
        before=$(gpu_memory_used_mib)
        pause_line=$(pauser pause "$pid" --wait=300s 2>&1)
        pause_status=$?
        echo "  pauser pause: $pause_line"
        # where the memory is given back after PAUSED is reported, wait (a minute at most) until the agent says it was;
        # an agent without device state (DeviceStateBytes 0) has nothing to give back
        state_bytes=$(attribute "$pid" DeviceStateBytes)
        released_some() { released=$(attribute "$pid" DeviceBytesReleased); [ "${released:-0}" -gt 0 ]; }
        if [ "${state_bytes:-0}" -gt 0 ]; then
            wait_until 60 released_some
        else
            released_some
        fi
        paused=$(gpu_memory_used_mib)
        pauser status "$pid" 2>&1 | sed 's/^/  status: /'
        progress_lines=$(grep -c '^step [0-9]' "$work/c.out")
        resume_line=$(pauser resume "$pid" 2>&1)
        echo "  pauser resume: $resume_line"
        # The memory is taken again on resume, before the steps go on: the next progress line comes after it.
        trains_again() { [ "$(grep -c '^step [0-9]' "$work/c.out")" -gt "$progress_lines" ] || ! alive "$pid"; }
        wait_until 300 trains_again
        resumed_mem=$(gpu_memory_used_mib)
        release_error=$(attribute "$pid" DeviceReleaseError)
        finish "$pid" 600
        c_status=$?
        tail -n 2 "$work/c.out" | sed 's/^/  /'
        c_hash=$(final_hash "$work/c.out")
        released_mib=$((${released:-0} / 1048576))
        say "GPU memory in use: $before MiB training, $paused MiB paused, $resumed_mem MiB after resume;" \
            "DeviceBytesReleased ${released:-?} ($released_mib MiB) of DeviceStateBytes ${state_bytes:-?}"
        if [ "$pause_status" -ne 0 ]; then
            verdict "(c)" FAIL "pauser pause --wait exited with status $pause_status"
        elif [ "$released_mib" -le 0 ] || [ $((before - paused)) -lt $((released_mib / 2)) ]; then
            verdict "(c)" FAIL "the memory in use did not drop while paused ($before -> $paused MiB; DeviceBytesReleased ${released:-?})"
        elif [ $((resumed_mem - paused)) -lt $((released_mib / 2)) ]; then
            verdict "(c)" FAIL "the memory in use did not come back on resume ($paused -> $resumed_mem MiB)"
        elif [ -n "$release_error" ]; then
            verdict "(c)" FAIL "DeviceReleaseError: $release_error"
        elif [ "$c_status" -ne 0 ] || [ "$c_hash" != "$reference" ]; then
            verdict "(c)" FAIL "after the pause the run ended with status $c_status, final-weights-sha256=$c_hash, uninterrupted $reference"
        else
            verdict "(c)" PASS "paused: $((before - paused)) MiB given back, resumed: $((resumed_mem - paused)) MiB taken again, the same final-weights-sha256"
        fi
    fi
fi

# (d) -----------------------------------------------------------------------------------------------------------
if selected d; then
    say "(d) GpuCopyBench, $bench_mb MiB of device state"
    bounded 600 "$java" -cp "$bundle/bench/pauser-bench.jar:$bundle/bench/lib/*" dev.pauser.bench.GpuCopyBench \
        --agent "$bundle/pauser.jar" --mb "$bench_mb" --runs 3
    case $? in
        0) verdict "(d)" PASS "every figure measured and on target (above)" ;;
        3) verdict "(d)" FAIL "the benchmark's JVM can't use the GPU nvidia-smi lists (its reason is above)" ;;
        *) verdict "(d)" FAIL "a figure missed its target or could not be measured (above)" ;;
    esac
fi

say "done in $(($(date +%s) - started)) s:$results"
if [ "$failed" -ne 0 ]; then
    say "the runs' output is kept in $work"
    exit 1
fi
[ -n "${GPU_CHECK_WORK:-}" ] || rm -rf "$work"
exit 0
