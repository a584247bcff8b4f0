#!/usr/bin/env bash
# Static checks: ruff (lint rules incl. docstrings, from pyproject.toml) and mypy on the package, run from the
# project's environment (.venv/ unless scripts/env.sh is told otherwise).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

echo "== ruff check"
py -m ruff check src tests scripts
echo "== mypy"
py -m mypy
