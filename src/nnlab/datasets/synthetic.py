"""The course's synthetic 2-D sets: circles (initialization notebook) and moons (optimization
notebook). The course draws them with scikit-learn's ``make_circles`` / ``make_moons`` from
NumPy's global generator seeded with ``s``; here the same draws come from an explicit
``RandomState(s)``, through ``make_circles`` / ``make_moons`` below, which give the same arrays as
scikit-learn's bit for bit (a test compares them) without importing scikit-learn (a second of
start-up for ``nnlab train moons``).

>>> X, y = make_moons(4, noise=None, shuffle=False)
>>> X.round(3).tolist(), y.tolist()
([[1.0, 0.0], [-1.0, 0.0], [0.0, 0.5], [2.0, 0.5]], [0, 0, 1, 1])
"""

from __future__ import annotations

import numpy as np

from .._random import RandomLike, check_random_state
from .split import TrainTest, as_samples_pair


def _shuffled_noisy(X: np.ndarray, y: np.ndarray, noise: float | None, shuffle: bool,
                    random_state: RandomLike) -> tuple[np.ndarray, np.ndarray]:
    """The rows of ``X (m, 2)`` and ``y (m,)`` in a random order, then Gaussian noise of standard
    deviation ``noise`` added to ``X``: the draws of scikit-learn's generators, in their order
    (one ``shuffle`` of ``arange(m)``, then one ``normal(scale=noise, size=(m, 2))``)."""
    rng = check_random_state(random_state)
    if shuffle:
        order = np.arange(len(y))
        rng.shuffle(order)
        X, y = X[order], y[order]
    if noise is not None:
        X = X + rng.normal(scale=noise, size=X.shape)
    return X, y


def make_moons(
    n_samples: int = 100,
    *,
    shuffle: bool = True,
    noise: float | None = None,
    random_state: RandomLike = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved half circles: ``X (n_samples, 2)`` and integer labels ``y (n_samples,)``.

    The upper moon (label 0) has ``n_samples // 2`` points ``(cos t, sin t)``, the lower one
    (label 1) the rest, ``(1 - cos t, 1 - sin t - 0.5)``, for ``t`` evenly spaced in ``[0, pi]``;
    then the rows are shuffled and noise is added. Equal, bit for bit, to scikit-learn's
    ``sklearn.datasets.make_moons(n_samples, shuffle=shuffle, noise=noise,
    random_state=random_state)`` for an int ``n_samples`` and an int or ``RandomState`` seed
    (``None`` draws from a fresh generator, never NumPy's global one).

    >>> X, y = make_moons(300, noise=0.2, random_state=3)
    >>> X.shape, y.shape, int(y.sum())
    ((300, 2), (300,), 150)
    """
    n_upper = n_samples // 2
    n_lower = n_samples - n_upper
    t_upper = np.linspace(0, np.pi, n_upper)
    t_lower = np.linspace(0, np.pi, n_lower)
    X = np.empty((n_samples, 2))
    X[:n_upper, 0] = np.cos(t_upper)
    X[:n_upper, 1] = np.sin(t_upper)
    X[n_upper:, 0] = 1 - np.cos(t_lower)
    X[n_upper:, 1] = 1 - np.sin(t_lower) - 0.5
    y = np.concatenate([np.zeros(n_upper, dtype=np.intp), np.ones(n_lower, dtype=np.intp)])
    return _shuffled_noisy(X, y, noise, shuffle, random_state)


def make_circles(
    n_samples: int = 100,
    *,
    shuffle: bool = True,
    noise: float | None = None,
    random_state: RandomLike = None,
    factor: float = 0.8,
) -> tuple[np.ndarray, np.ndarray]:
    """A large circle (label 0, ``n_samples // 2`` points) around a small one of radius
    ``factor`` (label 1, the rest): ``X (n_samples, 2)`` and integer labels ``y (n_samples,)``.

    Each circle's points sit at angles evenly spaced in ``[0, 2 pi)``; then the rows are shuffled
    and noise is added. Equal, bit for bit, to scikit-learn's
    ``sklearn.datasets.make_circles(n_samples, shuffle=shuffle, noise=noise,
    random_state=random_state, factor=factor)`` for an int ``n_samples`` and an int or
    ``RandomState`` seed (``None`` draws from a fresh generator, never NumPy's global one).

    >>> X, y = make_circles(4, factor=0.5, shuffle=False)
    >>> X.round(3).tolist(), y.tolist()
    ([[1.0, 0.0], [-1.0, 0.0], [0.5, 0.0], [-0.5, 0.0]], [0, 0, 1, 1])
    """
    n_outer = n_samples // 2
    n_inner = n_samples - n_outer
    t_outer = np.linspace(0, 2 * np.pi, n_outer, endpoint=False)
    t_inner = np.linspace(0, 2 * np.pi, n_inner, endpoint=False)
    X = np.empty((n_samples, 2))
    X[:n_outer, 0] = np.cos(t_outer)
    X[:n_outer, 1] = np.sin(t_outer)
    X[n_outer:, 0] = np.cos(t_inner) * factor
    X[n_outer:, 1] = np.sin(t_inner) * factor
    y = np.concatenate([np.zeros(n_outer, dtype=np.intp), np.ones(n_inner, dtype=np.intp)])
    return _shuffled_noisy(X, y, noise, shuffle, random_state)


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
    rng = check_random_state(random_state)
    X, y = make_moons(n_samples=n_samples, noise=noise, random_state=rng)
    pair = _columns(X, y)
    return as_samples_pair(*pair) if as_samples else pair
