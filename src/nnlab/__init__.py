"""nnlab: fully-connected neural networks in vectorized NumPy, in the course's notation.

The engine (course level, examples as columns: X is (n_x, m)):

>>> import numpy as np
>>> import nnlab
>>> params = nnlab.initialize_parameters([2, 4, 1], init="random", random_state=2)
>>> sorted(params)
['W1', 'W2', 'b1', 'b2']
"""

from . import callbacks, optimizers
from ._version import __version__
from .data import random_mini_batches
from .gradcheck import (
    GradientCheckResult,
    gradient_check,
    params_to_vector,
    vector_to_params,
)
from .initializers import initialize_parameters
from .model import Dense, History, Model
from .network import compute_cost, model_backward, model_forward, predict
from .optimizers import apply_updates
from .training import DivergenceError, TrainResult, train

#: Imported on first use: they pull in scikit-learn, which the engine and the command line's
#: start-up should not pay for.
_LAZY = {
    "MLPClassifier": "estimators",
    "MLPRegressor": "estimators",
    "LogisticRegression": "estimators",
    "load": "saving",
    "save": "saving",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
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
