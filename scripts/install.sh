#!/usr/bin/env bash
# Installs headcast into .venv/ (created when missing) from the lock requirements/runtime.txt — with hair (torch CPU
# and the BiSeNet face-parsing weights) — plus the system libraries it renders with (Mesa's EGL driver: moderngl on
# a CPU) and the web page's 3D viewer bundle. Safe to rerun.
#   HEADCAST_USE_ACTIVE_ENV=1 bash scripts/install.sh   # into the active environment instead (see scripts/env.sh)
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
# EGL + Mesa for rendering; libgl1/libglib2.0-0 for OpenCV's (mediapipe's) cv2; python3-venv for the environment.
missing=()
for pkg in libegl1 libgl1-mesa-dri libgl1 libglib2.0-0; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=(python3-venv)
if [ "${#missing[@]}" -gt 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "== apt-get install ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

HEADCAST_CREATE_VENV=1 source scripts/env.sh
echo "== pip install -r requirements/runtime.txt ($HEADCAST_PY)"
pip_locked -r requirements/build.txt -r requirements/runtime.txt
py -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
echo "== headcast assets weights (face parsing)"
py -m headcast assets weights --only bisenet

# The web page's 3D viewer: three.js bundled with esbuild from web/ (npm registry, package-lock.json; not in git).
if command -v npm >/dev/null 2>&1; then
  npm ci --prefix web --no-audit --no-fund --loglevel=error && npm run --prefix web build --silent
else
  echo "note: npm not found; 'headcast serve' will show pictures but no 3D viewer (cd web && npm ci && npm run build)"
fi
echo "== done: run headcast as $(dirname "$HEADCAST_PY")/headcast"
