"""Input feature maps for 2-D data: the network sees chosen functions of (x1, x2) as its inputs.

A linear model on ``x1², x2²`` separates the circles; one on ``x1·x2`` separates xor. Each feature
maps ``X`` of shape ``(2, m)`` (examples are columns) to one row of shape ``(m,)``:

====== ========= ==================
name   shown as  value
====== ========= ==================
x1     x1        x1
x2     x2        x2
x1_sq  x1²       x1 · x1
x2_sq  x2²       x2 · x2
x1_x2  x1·x2     x1 · x2
sin_x1 sin x1    sin(x1)
sin_x2 sin x2    sin(x2)
====== ========= ==================

``expand_features(X, names)`` stacks the chosen rows, in the order given, into the network's input
``(len(names), m)``.

>>> import numpy as np
>>> X = np.array([[1.0, 2.0], [3.0, -1.0]])
>>> expand_features(X, ["x1", "x1_x2", "x2_sq"]).tolist()
[[1.0, 2.0], [3.0, -2.0], [9.0, 1.0]]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np


class Feature(NamedTuple):
    """One input feature: how it is shown and the function ``X (2, m) -> (m,)``."""

    label: str
    fn: Callable[[np.ndarray], np.ndarray]


FEATURES: dict[str, Feature] = {
    "x1": Feature("x1", lambda X: X[0]),
    "x2": Feature("x2", lambda X: X[1]),
    "x1_sq": Feature("x1²", lambda X: X[0] * X[0]),
    "x2_sq": Feature("x2²", lambda X: X[1] * X[1]),
    "x1_x2": Feature("x1·x2", lambda X: X[0] * X[1]),
    "sin_x1": Feature("sin x1", lambda X: np.sin(X[0])),
    "sin_x2": Feature("sin x2", lambda X: np.sin(X[1])),
}

#: The features of plain 2-D data.
DEFAULT_FEATURES = ["x1", "x2"]


def check_feature_names(names: Sequence[str]) -> list[str]:
    """A non-empty list of known feature names without repeats; ``ValueError`` otherwise.

    >>> check_feature_names(["x1", "x1²"])
    Traceback (most recent call last):
    ...
    ValueError: features: 'x1²' is unknown: choose from x1, x2, x1_sq, x2_sq, x1_x2, sin_x1, sin_x2
    """
    if isinstance(names, str) or not isinstance(names, Sequence):
        raise ValueError(f"features={names!r} must be a list of names, e.g. ['x1', 'x2']")
    out = list(names)
    if not out:
        raise ValueError("features is empty: choose at least one input feature, e.g. x1")
    for name in out:
        if not isinstance(name, str) or name not in FEATURES:
            raise ValueError(
                f"features: {name!r} is unknown: choose from {', '.join(FEATURES)}"
            )
    repeated = sorted({n for n in out if out.count(n) > 1})
    if repeated:
        raise ValueError(f"features: {', '.join(repeated)} is given more than once")
    return out


def expand_features(X: np.ndarray, names: Sequence[str]) -> np.ndarray:
    """The network's input ``(len(names), m)``: one row per feature of the 2-D points
    ``X (2, m)``, in the order of ``names``."""
    names = check_feature_names(names)
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] != 2:
        raise ValueError(f"X has shape {X.shape}; expected (2, m): 2-D points as columns")
    return np.vstack([FEATURES[name].fn(X) for name in names])
