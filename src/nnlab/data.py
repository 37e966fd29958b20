"""Mini-batches: shuffle the examples (columns), then cut them into batches.

>>> import numpy as np
>>> X, Y = np.zeros((2, 300)), np.zeros((1, 300))
>>> [Xb.shape[1] for Xb, Yb in random_mini_batches(X, Y, 64, random_state=0)]
[64, 64, 64, 64, 44]
"""

from __future__ import annotations

import numpy as np

from ._random import RandomLike, check_random_state, permutation


def check_batch_size(batch_size: int | None, m: int) -> int:
    """The batch size to use: ``None`` means the full batch (all m examples)."""
    if batch_size is None:
        return m
    if isinstance(batch_size, bool) or not isinstance(batch_size, int | np.integer):
        raise ValueError(f"batch_size={batch_size!r} must be an int >= 1 or None (full batch)")
    if batch_size < 1:
        raise ValueError(f"batch_size={batch_size} is out of range: expected >= 1 or None")
    return int(batch_size)


def random_mini_batches(
    X: np.ndarray,
    Y: np.ndarray,
    batch_size: int = 64,
    random_state: RandomLike = None,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Shuffle the m columns with ``rng.permutation(m)``, then partition them.

    Every batch holds ``batch_size`` examples except the last, which holds the remainder
    (m = 300, batch 64: 64, 64, 64, 64, 44). ``X`` is ``(n_x, m)`` and ``Y`` ``(n_y, m)``.

    Returns a list of ``(X_batch, Y_batch)``; the batches are copies, X and Y are not changed.
    """
    if X.ndim != 2 or Y.ndim != 2 or X.shape[1] != Y.shape[1]:
        raise ValueError(
            f"X {X.shape} and Y {Y.shape} must be (n_x, m) and (n_y, m) with the same m"
        )
    m = X.shape[1]
    batch_size = check_batch_size(batch_size, m)
    rng = check_random_state(random_state)
    order = permutation(rng, m)
    shuffled_X, shuffled_Y = X[:, order], Y[:, order]
    return [
        (shuffled_X[:, k : k + batch_size], shuffled_Y[:, k : k + batch_size])
        for k in range(0, m, batch_size)
    ]
