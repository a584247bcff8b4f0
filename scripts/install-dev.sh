#!/usr/bin/env bash
# Installs what the tests and the evaluation need into .venv/ (created when missing) from the lock
# requirements/dev.txt: the package with every extra, the weight files of the evaluation models, and the Node
# glTF validator. Safe to rerun. System packages (EGL driver, node, redis, chromium) are .ci/run's job.
#   HEADCAST_USE_ACTIVE_ENV=1 bash scripts/install-dev.sh   # into the active environment instead
set -euo pipefail
cd "$(dirname "$0")/.."

HEADCAST_CREATE_VENV=1 source scripts/env.sh
echo "== pip install -r requirements/dev.txt ($HEADCAST_PY)"
pip_locked -r requirements/build.txt -r requirements/dev.txt
py -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
echo "== headcast assets weights (face parsing, FaceNet, emotion classifier)"
py -m headcast assets weights
if command -v npm >/dev/null 2>&1; then
  npm ci --prefix tools/node --no-audit --no-fund --loglevel=error
fi
