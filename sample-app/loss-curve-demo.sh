#!/usr/bin/env bash
# Draws sample-app/loss-curve.png: the loss of an uninterrupted run, and of a run that is paused and resumed (a
# checkpoint is written on pause), killed with kill -9, and started again (it resumes from its last checkpoint). Both
# must end with the same final-weights-sha256; the script fails otherwise.
# Run from the repository root after `mvn -B -q package -DskipTests`. Writes its logs under a temporary directory.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
app="$root/sample-app/target/sample-app.jar"
agent="$root/agent/target/pauser.jar"
pauser() { java -jar "$agent" "$@"; }
work=$(mktemp -d)
cd "$work"
args=(--log-every 20 --step-delay-ms 5)

java -jar "$app" --log-every 20 > whole.log

java -javaagent:"$agent"=every=250,pauseAtStep=800 -jar "$app" "${args[@]}" > part1.log 2> part1.err &
pid=$!
until pauser status "$pid" 2>/dev/null | grep -q 'PAUSED'; do sleep 0.2; done
sleep 1
pauser resume "$pid"
step=0
until [ "$step" -ge 1700 ]; do
    sleep 0.1
    step=$(pauser status "$pid" | awk '$1 == "step" {print $2}')
done
kill -9 "$pid"
wait "$pid" || true
killed=$(grep '^step ' part1.log | tail -1 | sed -E 's#^step ([0-9]+)/.*#\1#')

java -javaagent:"$agent"=every=250 -jar "$app" "${args[@]}" > part2.log 2> part2.err
resumed=$(grep -o 'resuming from .* at step [0-9]*' part2.err | grep -o '[0-9]*$')

h1=$(tail -1 whole.log)
h2=$(tail -1 part2.log)
echo "uninterrupted: $h1"
echo "restarted:     $h2 (killed after step $killed, resumed at step $resumed)"
[ "$h1" = "$h2" ]

java -cp "$app" dev.pauser.sample.LossCurve --out "$root/sample-app/loss-curve.png" \
    --title "sample-app: uninterrupted vs paused, killed and restarted" \
    --mark "800=pause + resume (checkpoint)" --mark "$killed=kill -9" \
    --mark "$resumed=restart resumes from checkpoint" \
    uninterrupted=whole.log "paused at 800, killed at $killed, restarted=part1.log+part2.log"
echo "logs in $work"
