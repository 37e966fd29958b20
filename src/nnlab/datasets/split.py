"""Containers and orientation helpers shared by the loaders, and the random train / held-out
split of a run (``train_test_split``, equal to scikit-learn's)."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .._random import RandomLike, Rng, check_random_state


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


def _approximate_mode(counts: np.ndarray, n_draws: int, rng: Rng) -> np.ndarray:
    """How many of ``n_draws`` examples to take from each class of ``counts``: the class's share
    ``counts / counts.sum() * n_draws`` rounded down, then one more for the classes with the
    largest remainders until the total is ``n_draws`` (ties broken by ``rng.choice``)."""
    share = counts / counts.sum() * n_draws
    taken = np.floor(share)
    missing = int(n_draws - taken.sum())
    remainder = share - taken
    for value in np.unique(remainder)[::-1]:
        if missing == 0:
            break
        (tied,) = np.nonzero(remainder == value)
        extra = min(len(tied), missing)
        taken[rng.choice(tied, size=extra, replace=False)] += 1
        missing -= extra
    return taken.astype(int)


def _stratified_rows(y: np.ndarray, n_train: int, n_test: int,
                     rng: Rng) -> tuple[np.ndarray, np.ndarray]:
    """Training and test rows with each class of ``y`` in (about) its share of both."""
    classes, label_index, counts = np.unique(y, return_inverse=True, return_counts=True)
    if counts.min() < 2:
        raise ValueError(f"class {classes[counts.argmin()].item()!r} has a single example: "
                         "stratifying needs at least 2 of each class")
    for n, name in ((n_train, "training"), (n_test, "held-out")):
        if n < len(classes):
            raise ValueError(f"the {name} part would hold {n} example{'s' * (n != 1)}, "
                             f"fewer than the {len(classes)} classes")
    members = np.split(np.argsort(label_index, kind="stable"), np.cumsum(counts)[:-1])
    n_train_of = _approximate_mode(counts, n_train, rng)
    n_test_of = _approximate_mode(counts - n_train_of, n_test, rng)
    train: list[int] = []
    test: list[int] = []
    for rows, a, b, count in zip(members, n_train_of, n_test_of, counts, strict=True):
        rows = rows[rng.permutation(count)]
        train.extend(rows[:a])
        test.extend(rows[a:a + b])
    return rng.permutation(train), rng.permutation(test)


def train_test_split(
    X: np.ndarray,
    y: np.ndarray,
    *,
    test_size: float,
    random_state: RandomLike,
    stratify: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``X_train, X_test, y_train, y_test``: the rows of ``X (m, n_x)`` and ``y (m,)`` split at
    random, ``ceil(test_size * m)`` of them held out (``0 < test_size < 1``); with ``stratify``
    (labels, usually ``y``) each class keeps about its share in both parts.

    Equal, row for row, to scikit-learn's ``sklearn.model_selection.train_test_split(X, y,
    test_size=test_size, random_state=random_state, stratify=stratify)`` for a float
    ``test_size``, an int or ``RandomState`` seed and 1-D ``stratify`` labels: the same draws
    from the same generator, in the same order, without importing scikit-learn.

    >>> X, y = np.arange(20.0).reshape(10, 2), np.array([0, 1] * 5)
    >>> X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2,
    ...                                                     random_state=0, stratify=y)
    >>> X_train.shape, X_test.shape, sorted(y_test.tolist())
    ((8, 2), (2, 2), [0, 1])
    """
    m = len(X)
    if not 0 < test_size < 1:
        raise ValueError(f"test_size={test_size}: expected a fraction in (0, 1)")
    n_test = math.ceil(test_size * m)
    n_train = m - n_test
    if n_train == 0:
        raise ValueError(f"holding out {n_test} of {m} examples (test_size={test_size}) "
                         "leaves none for training")
    rng = check_random_state(random_state)
    if stratify is None:
        rows = rng.permutation(m)
        test, train = rows[:n_test], rows[n_test:]
    else:
        train, test = _stratified_rows(np.asarray(stratify), n_train, n_test, rng)
    return X[train], X[test], y[train], y[test]
