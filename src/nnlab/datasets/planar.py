"""The planar "flower" data: two interleaved classes of points in the plane, 400 in all."""

from __future__ import annotations

import numpy as np

from .._random import RandomLike, check_random_state, randn
from .split import as_samples_pair


def load_flower(
    n_per_class: int = 200, random_state: RandomLike = 1, as_samples: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """The flower: for each class j = 0, 1 (class 0 first), with N points per class,

        t = linspace(3.12 j, 3.12 (j+1), N) + 0.2 randn(N),   r = 4 sin(4t) + 0.2 randn(N),

    and the points ``(r sin t, r cos t)`` labelled j. The default ``random_state=1`` is the
    course's.

    Returns ``X`` of shape ``(2, 2N)`` and ``Y`` of shape ``(1, 2N)`` (labels 0.0 / 1.0), or with
    ``as_samples=True`` X ``(2N, 2)`` and integer labels ``(2N,)``.

    >>> X, Y = load_flower()
    >>> X.shape, Y.shape, X[:, 0].round(6).tolist()
    ((2, 400), (1, 400), [1.204442, 3.576114])
    """
    rng = check_random_state(random_state)
    N = int(n_per_class)
    if N < 1:
        raise ValueError(f"n_per_class={n_per_class} is out of range: expected >= 1")
    max_ray = 4
    X = np.zeros((2 * N, 2))
    Y = np.zeros((2 * N, 1))
    for j in range(2):
        ix = range(N * j, N * (j + 1))
        t = np.linspace(j * 3.12, (j + 1) * 3.12, N) + randn(rng, (N,)) * 0.2
        r = max_ray * np.sin(4 * t) + randn(rng, (N,)) * 0.2
        X[ix] = np.c_[r * np.sin(t), r * np.cos(t)]
        Y[ix] = j
    return as_samples_pair(X.T, Y.T) if as_samples else (X.T, Y.T)
