#!/usr/bin/env bash
# Static checks: ruff (lint rules incl. docstrings, from pyproject.toml) and mypy on the package.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== ruff check"
python -m ruff check src tests scripts
echo "== mypy"
python -m mypy
