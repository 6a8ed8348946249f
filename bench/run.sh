#!/usr/bin/env bash
# Runs every benchmark harness and writes bench/RESULTS.md (from the repository root or anywhere in it).
# Options go to BenchAll: --only NAME,NAME   --smoke   --out FILE
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -B -q package -DskipTests
exec java -cp "bench/target/pauser-bench-0.1.0.jar:bench/target/lib/*" dev.pauser.bench.report.BenchAll "$@"
