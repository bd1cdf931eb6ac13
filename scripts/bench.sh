#!/usr/bin/env bash
# Benchmarks of the release binary, each figure a median over repeated runs beside a baseline
# measured in the same run (see benches/cli.rs). BENCH_RUNS=N changes the repetitions (30).
# Needs curl (the refresh baseline) and GNU time at /usr/bin/time (peak RSS; skipped without).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v curl > /dev/null || { echo "bench.sh needs curl for the refresh baseline" >&2; exit 1; }
cargo bench --locked --bench cli -- "$@"
