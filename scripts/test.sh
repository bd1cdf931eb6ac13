#!/usr/bin/env bash
# Every test of the project: unit tests, black-box tests of the binary against the stub
# provider, flow tests through fakes, and the demo (so the README's first command stays true).
# Extra arguments go to `cargo test` (e.g. scripts/test.sh refresh).
set -euo pipefail
cd "$(dirname "$0")/.."

cargo test --all-targets --locked "$@"
if [ $# -eq 0 ]; then
  echo "== scripts/demo.sh"
  log=$(mktemp)
  if bash scripts/demo.sh > "$log" 2>&1; then
    echo "demo: ok"
    rm -f "$log"
  else
    cat "$log"; rm -f "$log"
    echo "demo: FAILED" >&2
    exit 1
  fi
fi
