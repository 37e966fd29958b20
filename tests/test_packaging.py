"""Packaging: the metadata in pyproject.toml, and (slow) the wheel built, installed into a new
virtual environment and used there."""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import tomllib
import venv
import zipfile
from pathlib import Path

import pytest

import nnlab
from nnlab._extras import EXTRAS, install_hint

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PROJECT = PYPROJECT["project"]


def requirement_names(requirements: list[str]) -> set[str]:
    """The distributions that requirement strings name, with their extras: ``dask[distributed]``
    gives dask and distributed."""
    names: set[str] = set()
    for req in requirements:
        match = re.match(r"\s*([A-Za-z0-9_.-]+)\s*(?:\[([^\]]*)\])?", req)
        assert match, req
        names.add(match.group(1).lower().replace("_", "-"))
        if match.group(1).lower() == "dask" and match.group(2):
            names.update(e.strip() for e in match.group(2).split(","))
    return names


# ------------------------------------------------------------------------------- the metadata
def test_the_license_is_mit_and_shipped():
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License")
    assert "the nnlab authors" in text
    assert PROJECT["license"] == "MIT"
    assert PROJECT["license-files"] == ["LICENSE"]
    # license = "MIT" (an SPDX expression) and license-files need setuptools 77 (PEP 639)
    assert PYPROJECT["build-system"]["requires"] == ["setuptools>=77"]


def test_the_classifiers_name_the_pythons_of_requires_python():
    classifiers = PROJECT["classifiers"]
    assert PROJECT["requires-python"] == ">=3.11"
    assert "Programming Language :: Python :: 3.11" in classifiers
    assert "Typing :: Typed" in classifiers
    assert not [c for c in classifiers if c.startswith("License ::")]  # PEP 639: the expression


def test_the_required_dependencies_are_the_light_install():
    assert requirement_names(PROJECT["dependencies"]) == {"numpy", "scipy", "scikit-learn",
                                                          "tomli-w"}


def test_each_extra_that_nnlab_names_brings_the_packages_it_names():
    optional = PROJECT["optional-dependencies"]
    for extra, modules in EXTRAS.items():
        assert extra in optional, extra
        assert set(modules) <= requirement_names(optional[extra]), extra
    everything = set().union(*(requirement_names(optional[e]) for e in EXTRAS))
    assert requirement_names(optional["all"]) == {"nnlab"}  # nnlab[plot,course,...]
    assert set(re.findall(r"\[(.*)\]", optional["all"][0])[0].split(",")) == set(EXTRAS)
    assert everything >= {"matplotlib", "h5py", "pooch", "starlette", "uvicorn", "websockets",
                          "numba", "dask", "distributed"}
    assert install_hint("plot") == 'pip install "nnlab[plot]"'


def test_the_wheel_ships_py_typed_and_the_playgrounds_page():
    data = PYPROJECT["tool"]["setuptools"]["package-data"]["nnlab"]
    assert "py.typed" in data and "playground/static/*" in data
    assert (ROOT / "src" / "nnlab" / "py.typed").is_file()
    assert (ROOT / "src" / "nnlab" / "playground" / "static" / "index.html").is_file()


def test_the_changelog_starts_with_this_release_and_covers_0_1_0():
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## (.+)$", text, flags=re.MULTILINE)
    assert headings[0].startswith(("Unreleased", nnlab.__version__))
    assert any(h.startswith("0.1.0") for h in headings)


# ------------------------------------------------------------------ the wheel, installed (slow)
def _setuptools_builds_this() -> bool:
    """Whether this environment's setuptools can build nnlab (PEP 639 needs 77 or later)."""
    try:
        version = importlib.metadata.version("setuptools")
    except importlib.metadata.PackageNotFoundError:
        return False
    return int(version.split(".")[0]) >= 77


def build_wheel(out: Path, work: Path) -> Path:
    """Build nnlab's wheel from a copy of the sources (the working tree gets no build/ or
    egg-info) into ``out``, as ``python -m build --wheel`` does, through pip (quicker). Without
    network when this environment's setuptools is recent enough; otherwise pip fetches setuptools
    into an isolated build environment."""
    src = work / "nnlab-src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, src / name)
    shutil.copytree(ROOT / "src" / "nnlab", src / "src" / "nnlab",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--disable-pip-version-check",
           "--quiet", "--wheel-dir", str(out), str(src)]
    if _setuptools_builds_this():
        cmd.append("--no-build-isolation")
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (wheel,) = out.glob("nnlab-*.whl")
    return wheel


@pytest.mark.slow
def test_the_wheel_installs_into_a_new_venv_and_trains_there(tmp_path):
    wheel = build_wheel(tmp_path / "dist", tmp_path)
    assert wheel.name == f"nnlab-{nnlab.__version__}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        metadata = zf.read(f"nnlab-{nnlab.__version__}.dist-info/METADATA").decode()
    assert {"nnlab/py.typed", "nnlab/playground/static/index.html",
            "nnlab/playground/static/app.js",
            f"nnlab-{nnlab.__version__}.dist-info/licenses/LICENSE"} <= names
    assert not [n for n in names if "__pycache__" in n or n.startswith("tests/")]
    assert "License-Expression: MIT" in metadata
    assert "Requires-Dist: matplotlib" in metadata and '; extra == "plot"' in metadata

    # A new venv with nnlab from the wheel only. Its dependencies (NumPy, scikit-learn...) come
    # from this environment's site-packages through a .pth file: installing them would download
    # ~100 MB; a .pth line adds the folder to sys.path without running that folder's own .pth
    # files, so the editable install of the working tree stays out.
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    new_site = Path(subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True, text=True, check=True).stdout.strip())
    ours = [p for p in sys.path if Path(p).name in ("site-packages", "dist-packages")]
    (new_site / "dev-dependencies.pth").write_text("".join(f"{p}\n" for p in ours))
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
         "--no-index", "--no-compile", "--disable-pip-version-check", "--quiet", str(wheel)],
        capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stderr

    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    version = subprocess.run([env_dir / "bin" / "nnlab", "--version"], capture_output=True,
                             text=True, timeout=120, env=clean, cwd=tmp_path)
    assert version.returncode == 0, version.stderr
    assert version.stdout == f"nnlab {nnlab.__version__}\n"
    fit = subprocess.run([python, "-c", """
import numpy as np
import nnlab
X = np.random.default_rng(0).normal(size=(60, 2)); y = (X[:, 0] * X[:, 1] > 0).astype(int)
clf = nnlab.MLPClassifier(hidden_layer_sizes=(4,), max_iter=20, random_state=0).fit(X, y)
print(nnlab.__file__)
print(clf.predict(X[:5]).shape, clf.n_iter_)
"""], capture_output=True, text=True, timeout=300, env=clean, cwd=tmp_path)
    assert fit.returncode == 0, fit.stderr
    where, result = fit.stdout.splitlines()
    assert Path(where).is_relative_to(new_site)  # the wheel's copy, not the working tree's
    assert result == "(5,) 20"
