#!/usr/bin/env bash
# Rewrites docs/reference.md from the command definitions (the help texts in src/commands/),
# as `integration-cli man --markdown` prints them. tests/docs.rs fails until it is run after a
# help text changes.
set -euo pipefail
cd "$(dirname "$0")/.."
new=$(mktemp)
trap 'rm -f "$new"' EXIT
cargo run --quiet -- man --markdown > "$new"
cat "$new" > docs/reference.md
trap - EXIT
echo "docs/reference.md: regenerated"
