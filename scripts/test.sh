#!/usr/bin/env bash
# Installs everything into .venv and runs the whole test suite: lint, format check, types, tests.
# Arguments go to pytest. The tests run in parallel (pytest-xdist); type-checking runs beside them.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
# The package is installed editable, so only a change of its requirements needs a new install.
installed=.venv/.jsm-reconciler-installed
wanted="$(cksum pyproject.toml)"
if [ "$(cat "$installed" 2>/dev/null)" != "$wanted" ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
  echo "$wanted" >"$installed"
fi
.venv/bin/ruff check .
.venv/bin/ruff format --check .
types="$(mktemp)"
trap 'rm -f "$types"' EXIT
.venv/bin/mypy >"$types" 2>&1 &
mypy_pid=$!
tests=0
# Twice as many workers as cores: the tests spend much of their time waiting on subprocesses and local servers.
.venv/bin/pytest -n "$(( 2 * $(nproc) ))" --dist worksteal "$@" || tests=$?
mypy=0
wait "$mypy_pid" || mypy=$?
cat "$types"
exit $((tests != 0 ? tests : mypy))
