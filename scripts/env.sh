# Sourced by the install, lint and test scripts: picks the Python environment they use and defines `py` and
# `pip_locked`.
#   default                      .venv/ in the checkout (the install scripts create it when missing)
#   HEADCAST_VENV=DIR            another virtual environment folder
#   HEADCAST_USE_ACTIVE_ENV=1    the python on PATH as it is (an environment you manage yourself)
# The lock files are requirements/*.txt (scripts/update-lock.sh makes them).

if [ "${HEADCAST_USE_ACTIVE_ENV:-0}" = 1 ]; then
  HEADCAST_PY=$(command -v python3 || command -v python)
else
  venv_dir=${HEADCAST_VENV:-.venv}
  HEADCAST_PY=$venv_dir/bin/python
  if [ ! -x "$HEADCAST_PY" ] && [ "${HEADCAST_CREATE_VENV:-0}" = 1 ]; then
    echo "== python3 -m venv $venv_dir"
    python3 -m venv "$venv_dir"
  fi
  if [ ! -x "$HEADCAST_PY" ]; then
    echo "error: no environment at $venv_dir; run 'bash scripts/install.sh' first (or set HEADCAST_USE_ACTIVE_ENV=1)" >&2
    exit 1
  fi
  # Commands the scripts start (ruff, mypy, node helpers calling python) see the environment first.
  PATH="$(cd "$venv_dir/bin" && pwd):$PATH"
  export PATH VIRTUAL_ENV="$(cd "$venv_dir" && pwd)"
fi
export HEADCAST_PY

py() { "$HEADCAST_PY" "$@"; }
# Installs exactly what a lock file lists (every package pinned, every archive's sha256 checked).
pip_locked() { py -m pip install --quiet --disable-pip-version-check --require-hashes "$@"; }
