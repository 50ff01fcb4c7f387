#!/usr/bin/env bash
# Installs Claude Code, pinned, into a private prefix for the test tier in test/claude (the
# client our users run). Not a dependency in package.json: it would weigh on every user's
# `npm ci`. Idempotent: nothing happens when the pinned version is already there. Exit status
# non-zero (and a reason on stderr) when it cannot be installed, e.g. offline; the tier then skips.
# Prints the path of the `claude` executable on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."

version="${CLAUDE_CODE_VERSION:-2.1.328}"
prefix="${CLAUDE_CODE_PREFIX:-$PWD/.cache/claude-code}"
pkg="$prefix/node_modules/@anthropic-ai/claude-code"
bin="$prefix/node_modules/.bin/claude"

# The package at the pinned version, and its native binary in place (the postinstall copies it
# over a stub): `claude --version` answers with that version.
installed() {
  [ -x "$bin" ] && [ "$(node -p "require('$pkg/package.json').version" 2>/dev/null)" = "$version" ] &&
    [ "$("$bin" --version 2>/dev/null | cut -d' ' -f1)" = "$version" ]
}

if ! installed; then
  mkdir -p "$prefix"
  # engines says node>=22, yet 2.1.328 runs on Node 20 (its work is done by a native binary
  # from the per-platform optional dependency); --engine-strict=false keeps npm from refusing.
  log="$prefix/install.log"
  # Few, short retries: offline, the tier should skip soon rather than wait out npm's backoff.
  if ! npm install --prefix "$prefix" --no-audit --no-fund --no-save --engine-strict=false \
      --fetch-retries=1 --fetch-retry-mintimeout=2000 --fetch-retry-maxtimeout=5000 \
      "@anthropic-ai/claude-code@$version" >"$log" 2>&1; then
    cat "$log" >&2
    why="$(grep -m1 -E '^npm error (code|network|[0-9]{3})' "$log" || true)"
    echo "install-claude-code: npm could not install @anthropic-ai/claude-code@$version into $prefix (${why:-see the npm output above}; offline?)" >&2
    exit 1
  fi
  if ! installed; then
    echo "install-claude-code: @anthropic-ai/claude-code@$version is not usable after npm install ($bin)" >&2
    exit 1
  fi
fi
echo "$bin"
