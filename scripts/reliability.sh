#!/usr/bin/env bash
# Prints the reliability table: runs every file with tagged cases (test/faults, and the [fault] and
# [bad-input] cases of the other tiers)
# against real Jupyter (and the real Slurm, when up and root) and prints one row per case.
# Needs what `npm test` installs; builds first.
set -euo pipefail
cd "$(dirname "$0")/.."
npm run build >&2
# Every file with a [fault] or [bad-input] case: the fault tier, and the tagged cases of the others.
mapfile -t tagged < <(grep -l -e '\[fault\]' -e '\[bad-input\]' test/*/*.test.ts)
node --import tsx --test --test-concurrency=1 --test-reporter=./test/reporters/reliability.mjs "${tagged[@]}"
