"""nnlab: fully-connected neural networks in vectorized NumPy, in the course's notation.

The engine (course level, examples as columns: X is (n_x, m)):

>>> import numpy as np
>>> import nnlab
>>> params = nnlab.initialize_parameters([2, 4, 1], init="random", random_state=2)
>>> sorted(params)
['W1', 'W2', 'b1', 'b2']

Every name below is imported on first use (``nnlab.train`` imports ``nnlab.training``), so
``import nnlab`` and the command line's start-up load only what they use: the estimators pull in
scikit-learn, the fast path Numba, the figures matplotlib, and none of them loads before it is
needed. ``from nnlab import train`` works as usual.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

#: public name -> the submodule that defines it (a submodule's own name maps to itself)
_LAZY: dict[str, str] = {
    "callbacks": "callbacks",
    "optimizers": "optimizers",
    "random_mini_batches": "data",
    "GradientCheckResult": "gradcheck",
    "gradient_check": "gradcheck",
    "params_to_vector": "gradcheck",
    "vector_to_params": "gradcheck",
    "initialize_parameters": "initializers",
    "Dense": "model",
    "History": "callbacks",
    "Model": "model",
    "compute_cost": "network",
    "model_backward": "network",
    "model_forward": "network",
    "predict": "network",
    "apply_updates": "optimizers",
    "DivergenceError": "training",
    "TrainResult": "training",
    "train": "engine",
    "explain_path": "engine",
    "MLPClassifier": "estimators",
    "MLPRegressor": "estimators",
    "LogisticRegression": "estimators",
    "load": "files.models",
    "save": "files.models",
    "export": "files.export",
}

#: module paths that moved, still reachable as attributes: ``nnlab.io.load_params`` after
#: ``import nnlab`` (``from nnlab.io import ...`` is gone: import from the new module)
_MOVED: dict[str, str] = {
    "io": "files.format",
    "saving": "files.models",
    "features": "datasets.features",
    "config": "runs.config",
}

if TYPE_CHECKING:  # what type checkers and editors see: the same names, imported eagerly
    from . import callbacks, optimizers
    from .callbacks import History
    from .data import random_mini_batches
    from .engine import explain_path, train
    from .estimators import LogisticRegression, MLPClassifier, MLPRegressor
    from .files.export import export
    from .files.models import load, save
    from .gradcheck import (
        GradientCheckResult,
        gradient_check,
        params_to_vector,
        vector_to_params,
    )
    from .initializers import initialize_parameters
    from .model import Dense, Model
    from .network import compute_cost, model_backward, model_forward, predict
    from .optimizers import apply_updates
    from .training import DivergenceError, TrainResult


def __getattr__(name: str) -> Any:
    """Import the submodule that defines ``name`` on first use, and keep the value."""
    if name in _MOVED:  # not kept in globals(): ``nnlab.io`` is no submodule of its own
        return importlib.import_module(f".{_MOVED[name]}", __name__)
    if name in _LAZY:
        module = importlib.import_module(f".{_LAZY[name]}", __name__)
        value = module if _LAZY[name] == name else getattr(module, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'nnlab' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "Dense",
    "DivergenceError",
    "GradientCheckResult",
    "History",
    "LogisticRegression",
    "MLPClassifier",
    "MLPRegressor",
    "Model",
    "TrainResult",
    "__version__",
    "apply_updates",
    "callbacks",
    "compute_cost",
    "explain_path",
    "export",
    "gradient_check",
    "initialize_parameters",
    "load",
    "model_backward",
    "model_forward",
    "optimizers",
    "params_to_vector",
    "predict",
    "random_mini_batches",
    "save",
    "train",
    "vector_to_params",
]
