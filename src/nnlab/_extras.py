"""Optional extras: importing a package that only some features need, with a one-line hint.

``import nnlab`` and the estimators need NumPy, SciPy and scikit-learn only. Figures, the course's
data files, the playground's server, the compiled kernels and dask come with extras
(``pip install "nnlab[plot]"`` and so on); a feature that needs one imports it through
:func:`require`, which names the extra when the package is missing.

>>> require("numpy", "core", "the engine").__name__
'numpy'
"""

from __future__ import annotations

import importlib
from types import ModuleType

#: extra -> the packages it brings (the names in pyproject.toml's optional dependencies)
EXTRAS: dict[str, tuple[str, ...]] = {
    "plot": ("matplotlib",),
    "course": ("h5py", "pooch"),
    "playground": ("starlette", "uvicorn", "websockets"),
    "fast": ("numba",),
    "dask": ("dask", "distributed"),
    "export": ("onnx", "onnxruntime", "safetensors"),
    "notebook": ("tqdm",),
}


class MissingExtraError(ImportError):
    """A package that an optional feature needs is not installed; the message says which
    ``pip install "nnlab[EXTRA]"`` brings it."""


def install_hint(extra: str) -> str:
    """The command that installs ``extra``: ``pip install "nnlab[EXTRA]"``."""
    return f'pip install "nnlab[{extra}]"'


def require(module: str, extra: str, feature: str) -> ModuleType:
    """Import ``module`` for ``feature``, or raise :class:`MissingExtraError` naming ``extra``.

    ``feature`` is what the user asked for, e.g. ``"nnlab plot"``; the message is one line:
    ``nnlab plot needs matplotlib, which is not installed: pip install "nnlab[plot]"``.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.partition(".")[0]
        raise MissingExtraError(
            f"{feature} needs {top}, which is not installed: {install_hint(extra)}"
        ) from exc
