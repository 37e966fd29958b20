"""Numba's BLAS without SciPy's ``scipy.linalg`` package: a start-up saving for the command line.

Numba calls BLAS (``np.dot`` inside the compiled kernels) through the function pointers that two
of SciPy's Cython extension modules export, ``scipy.linalg.cython_blas`` and
``scipy.linalg.cython_lapack``. Numba imports them while it loads its first kernel, and Python
imports a module's package first: ``scipy.linalg``, whose ``__init__`` brings in SciPy's array-API
layer (and with it ``numpy.f2py``, ``numpy.testing``, ``numpy.ma``). Measured on the 2-core
machine: ``import numba`` plus its first kernel load took 0.79 s (median of 7 processes), 0.59 s
with the two modules loaded directly; ``nnlab train moons`` spends ~0.05 s on its own work.

The two modules need nothing from their package, so ``load()`` loads each from its file under
its own full name (``sys.modules["scipy.linalg.cython_blas"]``): Numba's import then finds it
there, and a later ``import scipy.linalg`` (scikit-learn's, say) runs as usual and shares the
same modules (``from scipy.linalg import cython_blas`` gives the one loaded here). One
difference remains: until something reads it through ``from ... import``, the attribute
``scipy.linalg.cython_blas`` is not set on the package. So only the ``nnlab`` command asks for
this (``nnlab.cli.main`` calls ``use_direct_load()``), in a process that runs none of the user's
code; ``import nnlab`` never does it.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import sys
from types import ModuleType

#: The modules Numba's BLAS and LAPACK calls import (numba.np.linalg.ensure_blas / ensure_lapack).
MODULES = ("scipy.linalg.cython_blas", "scipy.linalg.cython_lapack")

_asked = False


def use_direct_load() -> None:
    """Ask for ``load()`` when ``nnlab.fast`` is imported in this process (its kernels import
    Numba). The command line asks, once, before it runs a command."""
    global _asked
    _asked = True


def load_if_asked() -> None:
    """``load()``, if this process asked for it (``nnlab.fast`` calls this first, before its
    ``kernels`` module imports Numba)."""
    if _asked:
        load()


def load() -> bool:
    """Load ``MODULES`` from their files, unless ``scipy.linalg`` or either module is imported
    already; True if they were loaded here. Anything unexpected (no SciPy, another layout, a
    module that fails to load) leaves ``sys.modules`` as it was and returns False: the usual
    import then happens where Numba asks for it."""
    if "scipy.linalg" in sys.modules or any(name in sys.modules for name in MODULES):
        return False
    try:
        import scipy
    except ImportError:
        return False
    loaded: list[str] = []
    try:
        for name in MODULES:
            sys.modules[name] = _from_file(name, list(scipy.__path__))
            loaded.append(name)
    except Exception:  # any failure: back to the usual import
        for name in loaded:
            del sys.modules[name]
        return False
    return True


def _from_file(name: str, scipy_path: list[str]) -> ModuleType:
    """The extension module ``name`` (``scipy.linalg.<tail>``), found in the ``linalg`` folders
    of ``scipy_path`` and executed, without importing ``scipy.linalg``."""
    folders = [os.path.join(folder, "linalg") for folder in scipy_path]
    spec = importlib.machinery.PathFinder.find_spec(name, folders)
    if spec is None or not isinstance(spec.loader, importlib.machinery.ExtensionFileLoader):
        raise ImportError(f"no extension module {name} in {folders}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
