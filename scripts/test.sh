#!/usr/bin/env bash
# The test command of the README and CI: lint + type check, then pytest (extra arguments go to pytest).
# Runs in the project's environment (.venv/, made by scripts/install-dev.sh; see scripts/env.sh). The glTF-validator tests need node and tools/node/node_modules:
# this script runs `npm ci` there when npm is available and the folder is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

if command -v npm >/dev/null 2>&1 && [ ! -d tools/node/node_modules/gltf-validator ]; then
  echo "== npm ci (tools/node: Khronos glTF validator)"
  npm ci --prefix tools/node --no-audit --no-fund --loglevel=error \
    || echo "warning: npm ci failed; the glTF-validator tests will be skipped" >&2
fi

bash scripts/lint.sh
echo "== pytest"
py -m pytest "$@"
