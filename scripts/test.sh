#!/usr/bin/env bash
# The test command: installs what the tests need, builds, then runs every tier.
# Tiers: unit, integration (real Jupyter), e2e (built binary through real MCP clients),
# faults (injected faults: kills, cut connections, full disk, traps, bad input), slurm (real
# single-node Slurm), plus the benchmark suite in smoke mode.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh --with-slurm
npm run build >&2
# Tests run through tsx, which does not type-check: the tests, benchmarks and sources are checked here.
npm run -s typecheck >&2
# Lint and format check (Biome): fails on a finding or on a file `npm run format` would change.
npm run -s lint >&2

# node 20 does not expand globs itself: the shell does.
shopt -s nullglob
unit=(test/unit/*.test.ts)
integration=(test/integration/*.test.ts)
e2e=(test/e2e/*.test.ts)
slurm=(test/slurm/*.test.ts)
faults=(test/faults/*.test.ts)
# MCP over streamable HTTP: token, Host/Origin, body limit, the conformance runner, a real client.
http=(test/http/*.test.ts)
# Claude Code, pinned, in .cache/ (scripts/install-claude-code.sh; the tier skips if it cannot be installed).
claude=(test/claude/*.test.ts)

# A real one-node Slurm for the slurm tier (idempotent; needs root to start daemons).
if [ "$(id -u)" = 0 ]; then bash scripts/slurm-cluster.sh up; else echo "test: not root, the slurm tier will skip" >&2; fi

# The benchmark suite in smoke mode: proves it still runs; asserts no timings. Before the tests,
# so that the test runner's summary is the last thing printed.
bash scripts/bench.sh --smoke

node --import tsx --test --test-concurrency=1 "${unit[@]}" "${integration[@]}" "${e2e[@]}" "${http[@]}" "${claude[@]}" "${faults[@]}" "${slurm[@]}"
