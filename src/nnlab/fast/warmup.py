"""Compile the fast path's Numba kernels ahead of time (``run.sh`` calls ``warm_up`` once after
installing), so that no user command pays for the compilation."""

from __future__ import annotations

import numpy as np

from ..initializers import initialize_parameters
from . import kernels, rounded_kernels
from .stepper import FastTrainer


def warm_up() -> None:
    """Compile every kernel of ``kernels`` and ``rounded_kernels`` for float32 and float64, by
    running the fast stepper once per case (into Numba's on-disk cache, so later processes load
    them, not compile)."""
    if not kernels.enabled():
        return

    for dtype in (np.float32, np.float64):
        X, Y = np.zeros((8, 2), dtype), np.zeros((8, 1), dtype)
        for optimizer in rounded_kernels.OPTIMIZER_CODES:
            params = initialize_parameters([2, 3, 1], random_state=0, dtype=dtype)
            trainer = FastTrainer(params, ["relu", "sigmoid"], optimizer=optimizer)
            trainer.run_batches(X, Y, np.arange(8), 4, 0.01, rounded_kernels.THRESHOLD_ACCURACY)
            dropout = FastTrainer(params, ["relu", "sigmoid"], optimizer=optimizer,
                                  keep_probs=0.5)
            dropout.run_batches(X, Y, np.arange(8), 4, 0.01, rounded_kernels.THRESHOLD_ACCURACY, 0)
            for exact in (False, True):  # Adam: the rounded and the exact update
                FastTrainer(params, ["relu", "sigmoid"], optimizer=optimizer,
                            compiled=not exact)._step(np.ascontiguousarray(X.T),
                                                      np.ascontiguousarray(Y.T), 0.01, None)
        params = initialize_parameters([2, 3, 1], random_state=0, dtype=dtype)
        for loss in ("binary_crossentropy", "mean_squared_error"):  # tanh's, sigmoid's passes
            FastTrainer(params, ["tanh", "sigmoid"], loss=loss)._step(
                np.ascontiguousarray(X.T), np.ascontiguousarray(Y.T), 0.01, None)
