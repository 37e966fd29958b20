"""Containers and orientation helpers shared by the loaders."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


def as_samples_pair(X: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The engine's ``X (n_x, m)``, ``Y (1, m)`` → scikit-learn's ``X (m, n_x)``, ``y (m,)``
    (integer labels)."""
    return np.ascontiguousarray(X.T), Y.reshape(-1).astype(np.int64)


class TrainTest(NamedTuple):
    """A training set and a test set, in the engine's orientation: ``X (n_x, m)``, ``Y (1, m)``
    (or, after ``as_samples()``, ``X (m, n_x)`` and ``y (m,)``)."""

    X_train: np.ndarray
    Y_train: np.ndarray
    X_test: np.ndarray
    Y_test: np.ndarray

    def as_samples(self) -> TrainTest:
        """The same data as ``X (m, n_features)`` and integer ``y (m,)``."""
        return TrainTest(
            *as_samples_pair(self.X_train, self.Y_train),
            *as_samples_pair(self.X_test, self.Y_test),
        )
