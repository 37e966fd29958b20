"""The course's synthetic 2-D sets drawn with scikit-learn: circles (initialization notebook) and
moons (optimization notebook). The course draws them from NumPy's global generator seeded with
``s``; here the same draws come from an explicit ``RandomState(s)``.
"""

from __future__ import annotations

import numpy as np

from .._random import RandomLike, check_random_state
from .split import TrainTest, as_samples_pair


def _columns(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(m, 2) points and (m,) labels → X (2, m) and Y (1, m) float64."""
    return X.T.astype(np.float64), y.reshape(1, -1).astype(np.float64)


def load_circles(
    n_train: int = 300,
    n_test: int = 100,
    noise: float = 0.05,
    train_random_state: RandomLike = 1,
    test_random_state: RandomLike = 2,
    as_samples: bool = False,
) -> TrainTest:
    """Two concentric circles: ``make_circles(n_train, noise=0.05)`` from ``RandomState(1)`` for
    training and ``make_circles(n_test, noise=0.05)`` from ``RandomState(2)`` for testing.

    Returns ``TrainTest(X_train (2, 300), Y_train (1, 300), X_test (2, 100), Y_test (1, 100))``,
    or with ``as_samples=True`` X ``(m, 2)`` and integer labels ``(m,)``.
    """
    from sklearn.datasets import make_circles

    train = make_circles(
        n_samples=n_train, noise=noise, random_state=check_random_state(train_random_state)
    )
    test = make_circles(
        n_samples=n_test, noise=noise, random_state=check_random_state(test_random_state)
    )
    data = TrainTest(*_columns(*train), *_columns(*test))
    return data.as_samples() if as_samples else data


def load_moons(
    n_samples: int = 300,
    noise: float = 0.2,
    random_state: RandomLike = 3,
    as_samples: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved half moons: ``make_moons(300, noise=0.2)`` from ``RandomState(3)``.

    Returns ``X (2, 300)`` and ``Y (1, 300)`` (float 0/1), or with ``as_samples=True``
    X ``(300, 2)`` and integer labels ``(300,)``.
    """
    from sklearn.datasets import make_moons

    rng = check_random_state(random_state)
    X, y = make_moons(n_samples=n_samples, noise=noise, random_state=rng)
    pair = _columns(X, y)
    return as_samples_pair(*pair) if as_samples else pair
