"""Extra 2-D toy sets for the playground: xor, two gaussian blobs and two interleaved spirals.

Every generator takes ``n_points``, ``noise`` and a ``random_state`` (an int seed, a
``RandomState`` or a ``Generator``: every draw goes through it, never through NumPy's global
state), and returns the engine's orientation: ``X`` of shape ``(2, m)`` and ``Y`` of shape
``(1, m)`` with float labels 0.0 / 1.0 (or, with ``as_samples=True``, ``X (m, 2)`` and integer
``y (m,)``). Class 0 comes first: ``m // 2`` points of class 0, then the rest of class 1.

>>> X, Y = make_spiral(100, noise=0.0, random_state=0)
>>> X.shape, Y.shape, int(Y.sum())
((2, 100), (1, 100), 50)
"""

from __future__ import annotations

import math

import numpy as np

from .._random import RandomLike, Rng, check_random_state, rand, randn

#: The noise each generator uses when none is given.
DEFAULT_NOISE = {"xor": 0.1, "blobs": 0.4, "spiral": 0.05}


def _check(n_points: int, noise: float) -> tuple[int, float]:
    if isinstance(n_points, bool) or not isinstance(n_points, int | np.integer) or n_points < 2:
        raise ValueError(f"n_points={n_points!r} is out of range: expected an int >= 2")
    noise = float(noise)
    if not (math.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise={noise} is out of range: expected a finite number >= 0")
    return int(n_points), noise


def _finish(
    X: np.ndarray, labels: np.ndarray, as_samples: bool
) -> tuple[np.ndarray, np.ndarray]:
    """(2, m) points and (m,) labels → the engine's (X, Y) or scikit-learn's (X, y)."""
    if as_samples:
        return np.ascontiguousarray(X.T), labels.astype(np.int64)
    return X.astype(np.float64), labels.reshape(1, -1).astype(np.float64)


def _labels(m: int) -> np.ndarray:
    """m // 2 zeros, then ones."""
    return (np.arange(m) >= m // 2).astype(np.float64)


def make_xor(
    n_points: int = 300,
    noise: float = DEFAULT_NOISE["xor"],
    random_state: RandomLike = 0,
    as_samples: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """The exclusive-or pattern: points in the four quadrants, label 1 where x1 and x2 share a sign.

    For each point, with u ~ U[0, 1)² drawn from ``rng`` and signs s chosen by the label:

        class 1: s = (+, +) or (-, -),   class 0: s = (+, -) or (-, +)   (alternating),
        x = s · (0.1 + 0.9 u) + noise · randn(2)

    so that before the noise every point lies at least 0.1 away from both axes.

    >>> X, Y = make_xor(8, noise=0.0, random_state=1)
    >>> bool(np.all((X[0] * X[1] > 0) == (Y[0] == 1)))
    True
    """
    rng = check_random_state(random_state)
    m, noise = _check(n_points, noise)
    labels = _labels(m)
    quadrant = np.arange(m) % 2  # which of the two quadrants of its class a point goes to
    s1 = np.where(quadrant == 0, 1.0, -1.0)
    s2 = np.where(labels == 1, s1, -s1)
    u = rand(rng, (2, m))
    X = np.vstack([s1, s2]) * (0.1 + 0.9 * u) + noise * randn(rng, (2, m))
    return _finish(X, labels, as_samples)


def make_gaussian_blobs(
    n_points: int = 300,
    noise: float = DEFAULT_NOISE["blobs"],
    random_state: RandomLike = 0,
    as_samples: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Two round gaussian clouds: class 0 around (-1, -1), class 1 around (1, 1),

        x = c_y + noise · randn(2),   c_0 = (-1, -1),  c_1 = (1, 1)

    ``noise`` is the standard deviation of each cloud (they overlap from about 0.7 on).

    >>> X, Y = make_gaussian_blobs(200, noise=0.1, random_state=2)
    >>> bool(X[:, Y[0] == 1].mean() > 0.9 and X[:, Y[0] == 0].mean() < -0.9)
    True
    """
    rng = check_random_state(random_state)
    m, noise = _check(n_points, noise)
    labels = _labels(m)
    centers = np.where(labels == 1, 1.0, -1.0)
    X = np.vstack([centers, centers]) + noise * randn(rng, (2, m))
    return _finish(X, labels, as_samples)


def make_spiral(
    n_points: int = 300,
    noise: float = DEFAULT_NOISE["spiral"],
    random_state: RandomLike = 0,
    as_samples: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved spiral arms, one per class. Point i of the N points of class j:

        r = i / N,   t = 1.75 · 2π · i / N + j π,
        x = (r sin t, r cos t) + noise · randn(2)

    The arms turn 1.75 times around the origin and reach radius 1.

    >>> X, Y = make_spiral(6, noise=0.0)
    >>> X.round(3).tolist()[0]
    [0.0, -0.167, 0.577, 0.0, 0.167, -0.577]
    """
    rng = check_random_state(random_state)
    m, noise = _check(n_points, noise)
    labels = _labels(m)
    X = np.empty((2, m))
    for j, (start, stop) in enumerate(((0, m // 2), (m // 2, m))):
        n = stop - start
        i = np.arange(n)
        r = i / n
        t = 1.75 * 2 * math.pi * i / n + j * math.pi
        X[:, start:stop] = np.vstack([r * np.sin(t), r * np.cos(t)])
    X += noise * randn(rng, (2, m))
    return _finish(X, labels, as_samples)


#: The playground's name of each generator.
TOY_SETS = {"xor": make_xor, "blobs": make_gaussian_blobs, "spiral": make_spiral}


def make_toy(
    name: str, n_points: int, noise: float | None = None, random_state: RandomLike = 0
) -> tuple[np.ndarray, np.ndarray]:
    """``make_xor``, ``make_gaussian_blobs`` or ``make_spiral`` by name ("xor", "blobs",
    "spiral"); ``noise=None`` uses the set's own default."""
    try:
        make = TOY_SETS[name]
    except KeyError:
        raise ValueError(
            f"unknown toy set {name!r}: expected one of {', '.join(TOY_SETS)}"
        ) from None
    rng: Rng = check_random_state(random_state)
    return make(n_points, DEFAULT_NOISE[name] if noise is None else noise, rng)
