#!/usr/bin/env bash
# Set up a local virtualenv (.venv) if needed, then run nnlab's main job or its test suite.
#
#   bash run.sh reproduce [ARGS...]   install nnlab, then run `nnlab reproduce ARGS...`
#   bash run.sh test [PYTEST ARGS...] install nnlab with its dev tools, then ruff + the whole suite
#   bash run.sh nnlab ARGS...         install nnlab, then run any nnlab command
#
# Idempotent: the install step is skipped when pyproject.toml has not changed since the last one.
set -euo pipefail
cd "$(dirname "$0")"

mode="${1:-}"
[ $# -gt 0 ] && shift
case "$mode" in
  reproduce|nnlab) extras="[plot,course,fast]" ;;
  test) extras="[dev]" ;;
  *) echo "usage: bash run.sh reproduce|test|nnlab [ARGS...]" >&2; exit 2 ;;
esac

python="${PYTHON:-}"
if [ -z "$python" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1; then python="$candidate"; break; fi
  done
fi
[ -n "$python" ] || { echo "run.sh: Python 3.11 or newer is needed (python3.11 not found)" >&2; exit 1; }

if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
stamp=".venv/.nnlab-installed${extras}"
want="$(cat pyproject.toml | sha256sum | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".${extras}"
  echo "$want" > "$stamp"
fi
# Python's bytecode of nnlab, written here: an editable install leaves src/ uncompiled, and where
# PYTHONDONTWRITEBYTECODE is set Python would compile nnlab's source again in every command
# (~0.1 s of each start-up). compileall rewrites only the files that changed (~0.07 s).
.venv/bin/python -m compileall -q src/nnlab
# Compile the Numba kernels once, into their on-disk cache, rather than in a user's command:
# again whenever their source changed (Numba's cache is keyed on it), e.g. after a git pull.
kernels="$(cat src/nnlab/fast/*.py | sha256sum | cut -d' ' -f1)"
if [ ! -f .venv/.nnlab-kernels ] || [ "$(cat .venv/.nnlab-kernels)" != "$kernels" ]; then
  .venv/bin/python -c "from nnlab.fast import warm_up; warm_up()"
  echo "$kernels" > .venv/.nnlab-kernels
fi

# The course's data files (cat pictures, football) are not part of nnlab: point NNLAB_DATA at
# them. Next to this clone, a shared/data folder holds them; use it when nothing else is set.
if [ -z "${NNLAB_DATA:-}" ] && [ -d ../shared/data ]; then
  NNLAB_DATA="$(cd ../shared/data && pwd)"
  export NNLAB_DATA
fi

case "$mode" in
  reproduce) exec .venv/bin/nnlab reproduce "$@" ;;
  nnlab) exec .venv/bin/nnlab "$@" ;;
  test)
    if [ -x .ci/prepare ]; then .ci/prepare; fi
    .venv/bin/ruff check .
    # the types of the shipped package (py.typed): the public API must type-check
    .venv/bin/mypy src/nnlab
    # the docs site: a broken link, a missing page or an API name that no longer exists fails
    NO_MKDOCS_2_WARNING=1 .venv/bin/mkdocs build --strict --site-dir site
    exec .venv/bin/python -m pytest -n 2 "$@" ;;
esac
