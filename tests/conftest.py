"""Shared test setup: where the course's data files come from, and a sealed download cache.

The course's files are not in the repository. The tests take them from one folder, the first of:
``$NNLAB_DATA`` (when it holds the three files), ``<repo>/../shared/data`` (where the development
machines and CI keep them), the download cache (``$NNLAB_CACHE`` or pooch's, when it holds the
three files with the right SHA-256). That folder becomes ``$NNLAB_DATA`` for the whole run; when
there is none, the tests that need the files (the ``data_dir`` fixture) skip and say how to get
them (``nnlab datasets fetch``).

Every test then runs with its own empty download cache and ``NNLAB_OFFLINE=1``: no test reads the
user's cache behind a folder it chose, and none touches the network (the download tests serve
their files from 127.0.0.1 and say so).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
#: The bundled folder of the development tree.
BUNDLED = REPO.parent / "shared" / "data"


def _find_course_data() -> tuple[Path | None, str]:
    """The folder holding the course's files, or None and why (said by the skips)."""
    from nnlab.datasets._files import cache_dir
    from nnlab.datasets.fetch import COURSE_FILES, sha256_of

    def holds_all(folder: Path) -> bool:
        return all((folder / name).is_file() for name in COURSE_FILES)

    env = os.environ.get("NNLAB_DATA")
    if env:
        if holds_all(Path(env)):
            return Path(env), ""
        return None, (f"$NNLAB_DATA={env} does not hold the course's files "
                      f"({', '.join(COURSE_FILES)}): run `nnlab datasets fetch --data-dir {env}`")
    if holds_all(BUNDLED):
        return BUNDLED.resolve(), ""
    cache = cache_dir()
    if cache is not None and holds_all(cache) and all(
            sha256_of(cache / name) == spec.sha256 for name, spec in COURSE_FILES.items()):
        return cache, ""
    return None, ("the course's data files are not here: run `nnlab datasets fetch` (or set "
                  "NNLAB_DATA to a folder holding them) to run this test")


COURSE_DATA, NO_DATA_REASON = _find_course_data()
if COURSE_DATA is not None:
    os.environ["NNLAB_DATA"] = str(COURSE_DATA)
else:
    os.environ.pop("NNLAB_DATA", None)
_CACHE = tempfile.mkdtemp(prefix="nnlab-test-cache-")
atexit.register(shutil.rmtree, _CACHE, ignore_errors=True)
os.environ["NNLAB_CACHE"] = _CACHE
os.environ["NNLAB_OFFLINE"] = "1"
os.environ.pop("NNLAB_DATA_URL", None)


@pytest.fixture(scope="session")
def course_data() -> Path | None:
    """The folder holding the course's files, or None (for a test that checks both cases)."""
    return COURSE_DATA


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The folder holding the course's data files (also ``$NNLAB_DATA``); skips the test when
    there is none, saying how to get the files."""
    if COURSE_DATA is None:
        pytest.skip(NO_DATA_REASON)
    return COURSE_DATA


#: The fast path's two backends: Numba's compiled kernels, and NumPy alone (what a plain install
#: without Numba runs, or any install with ``NNLAB_NUMBA=0``).
FAST_BACKENDS = ("numba", "numpy")


@pytest.fixture(params=FAST_BACKENDS)
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Runs the test once per fast-path backend and returns its name: ``"numba"`` (skipped, with
    the reason, when Numba is not installed) or ``"numpy"`` (``NNLAB_NUMBA=0``). The kernels read
    ``NNLAB_NUMBA`` whenever a trainer is built, so every trainer the test builds uses it.

    A test module opts in with ``pytestmark = pytest.mark.usefixtures("backend")``; a test about
    the compiled path alone narrows it with
    ``@pytest.mark.parametrize("backend", ["numba"], indirect=True)``.
    """
    from nnlab.fast import kernels

    name = request.param
    if name == "numba":
        if not kernels.available():
            pytest.skip("numba is not installed: the compiled backend is not tested here")
        monkeypatch.delenv("NNLAB_NUMBA", raising=False)
    else:
        monkeypatch.setenv("NNLAB_NUMBA", "0")
    assert kernels.enabled() == (name == "numba")
    return name
