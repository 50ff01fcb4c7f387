#!/usr/bin/env bash
# The test command: installs what the tests need, builds, then runs every tier.
# Tiers: unit, integration (real Jupyter), e2e (built binary through real MCP clients),
# slurm (real single-node Slurm, when that tier exists), bench smoke.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
npm run build >&2

# node 20 does not expand globs itself: the shell does.
shopt -s nullglob
unit=(test/unit/*.test.ts)
integration=(test/integration/*.test.ts)
e2e=(test/e2e/*.test.ts)

node --import tsx --test --test-concurrency=1 "${unit[@]}" "${integration[@]}" "${e2e[@]}"
