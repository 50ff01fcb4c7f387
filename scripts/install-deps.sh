#!/usr/bin/env bash
# Installs what jlab-mcp and its tests need on a Debian-like machine: Debian packages (only when
# root and missing) and the npm dependencies. Idempotent; prints what it does on stderr.
set -euo pipefail
cd "$(dirname "$0")/.."

want_slurm=0
[ "${1:-}" = "--with-slurm" ] && want_slurm=1

# Jupyter from Debian: the server, a Python kernel, matplotlib (figures in tests), nbformat
# (validation in tests), jupyter_client (the benchmark baseline) and pandas (inspect_variables tests);
# JupyterHub 3 and its proxy for the hub tests (test/e2e/jupyterhub.test.ts).
debs=(jupyter-server python3-ipykernel python3-matplotlib python3-nbformat python3-jupyter-client python3-pandas jupyterhub node-configurable-http-proxy python3-venv)
[ "$want_slurm" = 1 ] && debs+=(slurmctld slurmd slurm-client munge)

missing=()
for pkg in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "install-deps: apt-get install ${missing[*]}" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  else
    echo "install-deps: missing Debian packages: ${missing[*]} — install them (sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "install-deps: npm ci" >&2
  npm ci --no-audit --no-fund >&2
fi

# The Python MCP SDK client for test/e2e/clients.test.ts (test/clients/pyclient.py), in a venv of
# its own under .cache/, from the Python index pip reaches here (pip config list shows it).
if ! .cache/pymcp/bin/python -c 'import mcp' 2>/dev/null; then
  echo "install-deps: python3 -m venv .cache/pymcp && pip install mcp" >&2
  python3 -m venv .cache/pymcp >&2
  # The machine's local index, when it has one, named outright: pip would otherwise spend minutes
  # retrying an unreachable public index for each package.
  index=()
  [ -d /opt/pypi/simple ] && index+=(--index-url file:///opt/pypi/simple)
  [ -d /opt/pypi-more/simple ] && index+=(--extra-index-url file:///opt/pypi-more/simple)
  .cache/pymcp/bin/pip install -q "${index[@]}" mcp >&2 ||
    echo "install-deps: could not install the Python MCP client; its part of test/e2e/clients.test.ts will skip" >&2
fi
