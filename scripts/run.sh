#!/usr/bin/env bash
# The run command: builds if needed, then serves MCP over stdio on the local backend.
# Everything but the protocol goes to stderr.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ]; then npm ci --no-audit --no-fund >&2; fi
if [ ! -f dist/cli.js ] || [ -n "$(find src assets -newer dist/cli.js -print -quit)" ]; then npm run build >&2; fi
if ! command -v jupyter-server >/dev/null && ! command -v jupyter >/dev/null && [ -z "${JLAB_MCP_JUPYTER_CMD:-}${JLAB_MCP_JUPYTER_URL:-}" ]; then
  echo "jlab-mcp: no Jupyter server on PATH. Install it: apt-get install jupyter-server python3-ipykernel (Debian/Ubuntu) or pip install jupyter_server ipykernel. Serving anyway; tool calls will say the same." >&2
fi
# The run command serves the local backend unless told otherwise (the jlab-mcp binary itself
# picks slurm on a machine with sbatch; see README).
export JLAB_MCP_RUN_MODE="${JLAB_MCP_RUN_MODE:-local}"
exec node dist/cli.js "$@"
