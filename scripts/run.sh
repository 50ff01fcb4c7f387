#!/usr/bin/env bash
# The run command: builds if needed, then serves MCP over stdio on the local backend.
# Everything but the protocol goes to stderr.
set -euo pipefail
# Install and build in the checkout, but serve from the caller's directory: a relative setting
# (the default JLAB_MCP_NOTEBOOK_DIR=./notebooks) is the project's that an MCP client starts us in.
here="$(cd "$(dirname "$0")/.." && pwd)"
if [ ! -d "$here/node_modules" ]; then (cd "$here" && npm ci --no-audit --no-fund) >&2; fi
if [ ! -f "$here/dist/cli.js" ] || [ -n "$(cd "$here" && find src assets -newer dist/cli.js -print -quit)" ]; then (cd "$here" && npm run build) >&2; fi
# No Jupyter here? The binary sets it up in the background (JLAB_MCP_SETUP: apt as root, else a
# private venv) while it already serves MCP; see docs/setup.md, "Jupyter on a fresh machine".
# The run command serves the local backend unless JLAB_MCP_RUN_MODE or JLAB_MCP_JUPYTER_URL says
# otherwise (the jlab-mcp binary itself picks slurm on a machine with sbatch; see docs/slurm.md). A default
# rather than JLAB_MCP_RUN_MODE, so the status resource says who chose the mode.
export JLAB_MCP_DEFAULT_RUN_MODE="${JLAB_MCP_DEFAULT_RUN_MODE:-local}"
exec node "$here/dist/cli.js" "$@"
