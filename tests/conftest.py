"""Shared test setup.

The course's data files are not in the repository: the tests read them from ``$NNLAB_DATA``, and
when it is unset from ``<repo>/../shared/data`` (where the development machines and CI keep them).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
os.environ.setdefault("NNLAB_DATA", str((REPO.parent / "shared" / "data").resolve()))


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The folder holding the course's data files (``$NNLAB_DATA``)."""
    return Path(os.environ["NNLAB_DATA"])
