#!/usr/bin/env bash
# Prints the reliability table: runs the fault tier (test/faults: injected faults and bad input)
# against real Jupyter (and the real Slurm, when up and root) and prints one row per case.
# Needs what `npm test` installs; builds first.
set -euo pipefail
cd "$(dirname "$0")/.."
npm run build >&2
shopt -s nullglob
faults=(test/faults/*.test.ts)
node --import tsx --test --test-concurrency=1 --test-reporter=./test/reporters/reliability.mjs "${faults[@]}"
