#!/usr/bin/env bash
# The benchmark command (npm run bench): builds if needed, then runs bench/run.ts against a
# real local Jupyter. Arguments go to bench/run.ts: --smoke | --full, --strict, --only p1,p2…
# (CI=true without --full means --smoke). Progress on stderr, the table on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f dist/cli.js ] || [ -n "$(find src assets package.json tsconfig.json -newer dist/cli.js -print -quit)" ]; then
  npm run build >&2
fi
exec node --import tsx bench/run.ts "$@"
