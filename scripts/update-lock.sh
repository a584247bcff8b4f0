#!/usr/bin/env bash
# Re-resolves every Python dependency to the newest versions pyproject.toml allows and rewrites the lock files in
# requirements/ (every package, direct and transitive, pinned with its sha256 hashes), made by pip-tools'
# pip-compile — pip's own resolver, run on this Python, so markers and Requires-Python are judged as pip will
# judge them at install time. A deliberate upgrade: run this, then the test suite
# (`bash scripts/install-dev.sh && bash scripts/test.sh`) decides whether the new lock lands.
#   bash scripts/update-lock.sh            # newest allowed versions (a few minutes: every archive is hashed)
#   bash scripts/update-lock.sh --keep     # re-resolve keeping today's pins (after editing pyproject.toml)
set -euo pipefail
cd "$(dirname "$0")/.."

PIP_TOOLS_VERSION=7.6.2
tools=.cache/lock-tools
if [ ! -x "$tools/bin/pip-compile" ]; then
  python3 -m venv "$tools"
  "$tools/bin/python" -m pip install --quiet --disable-pip-version-check "pip-tools==$PIP_TOOLS_VERSION"
fi
upgrade=(--upgrade)
[ "${1:-}" = "--keep" ] && upgrade=()
# torch 2.13.0 is the CPU build (local label +cpu) from pip's configured find-links folder, as at install time.
compile=("$tools/bin/pip-compile" --quiet --generate-hashes --allow-unsafe --strip-extras --no-header
         --annotation-style line --no-emit-find-links --no-emit-index-url)
header() {
  printf '# %s\n# Made by scripts/update-lock.sh (pip-tools %s, Python %s) from %s; do not edit by hand.\n' \
    "$1" "$PIP_TOOLS_VERSION" "$("$tools/bin/python" -c 'import platform; print(platform.python_version())')" "$2"
}
write() {  # write LOCK DESCRIPTION SOURCE -- pip-compile arguments
  local lock=$1 what=$2 from=$3; shift 4
  "${compile[@]}" "$@" -o "$lock.new"
  { header "$what" "$from"; cat "$lock.new"; } > "$lock"
  rm -f "$lock.new"
}
keep() { [ "${#upgrade[@]}" -eq 0 ] && [ -f "$1" ] && cp "$1" "$1.new" || true; }

# dev.txt: everything the tests and the evaluation need (every extra). runtime.txt and build.txt are resolved
# inside it (-c), so the locks never disagree on a version.
keep requirements/dev.txt
write requirements/dev.txt "Lock for development, tests and evaluation: the package with every extra." \
  "pyproject.toml [all extras]" -- "${upgrade[@]}" --all-extras pyproject.toml
keep requirements/runtime.txt
write requirements/runtime.txt "Lock for the runtime: the package with the hair and service-redis extras." \
  "pyproject.toml [hair,service-redis]" -- --extra hair --extra service-redis -c requirements/dev.txt pyproject.toml
keep requirements/build.txt
write requirements/build.txt "Lock for building the package (pyproject.toml's build-system requires)." \
  "requirements/build.in" -- -c requirements/dev.txt requirements/build.in
echo "lock files written: requirements/{dev,runtime,build}.txt"
