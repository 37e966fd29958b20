"""One layer's forward and backward steps, with the caches that connect them.

Forward:   Z[l] = W[l] A[l-1] + b[l],   A[l] = g[l](Z[l]),
           (dropout) A[l] = A[l] * D[l] / keep_prob
Backward:  (dropout) dA[l] = dA[l] * D[l] / keep_prob,   dZ[l] = dA[l] * g[l]'(Z[l]),
           dW[l] = (1/m) dZ[l] A[l-1]^T + (λ/m) W[l],   db[l] = (1/m) Σ_i dZ[l],
           dA[l-1] = W[l]^T dZ[l]

Shapes: A[l-1] ``(n[l-1], m)``, W ``(n[l], n[l-1])``, b ``(n[l], 1)``, Z / A / D ``(n[l], m)``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._random import Rng, rand
from .activations import get_activation
from .losses import l2_gradient


class LinearCache(NamedTuple):
    """What the linear step's backward needs: its input and its parameters."""

    A_prev: np.ndarray
    W: np.ndarray
    b: np.ndarray


class LayerCache(NamedTuple):
    """One layer's record of the forward pass.

    ``D`` is the dropout mask applied to this layer's output (None when the layer keeps every unit).
    """

    linear: LinearCache
    Z: np.ndarray
    activation: str
    D: np.ndarray | None = None
    keep_prob: float = 1.0


def linear_forward(
    A_prev: np.ndarray, W: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, LinearCache]:
    """Z = W A_prev + b  (b broadcasts over the m columns)."""
    Z = W @ A_prev + b
    return Z, LinearCache(A_prev, W, b)


def linear_backward(
    dZ: np.ndarray, cache: LinearCache, lambd: float = 0.0, need_dA_prev: bool = True
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """dW = (1/m) dZ A_prev^T (+ (λ/m) W),  db = (1/m) Σ_i dZ,  dA_prev = W^T dZ.

    ``need_dA_prev=False`` skips dA_prev (the first layer's input gradient is never used).
    """
    A_prev, W, _ = cache
    m = A_prev.shape[1]
    dW = 1.0 / m * (dZ @ A_prev.T)
    if lambd:
        dW = dW + l2_gradient(W, lambd, m)
    db = 1.0 / m * np.sum(dZ, axis=1, keepdims=True)
    dA_prev = W.T @ dZ if need_dA_prev else None
    return dA_prev, dW, db


def linear_activation_forward(
    A_prev: np.ndarray, W: np.ndarray, b: np.ndarray, activation: str
) -> tuple[np.ndarray, LayerCache]:
    """A = g(W A_prev + b)."""
    Z, linear_cache = linear_forward(A_prev, W, b)
    A = get_activation(activation).forward(Z)
    return A, LayerCache(linear_cache, Z, activation)


def dropout_mask(shape: tuple[int, ...], keep_prob: float, rng: Rng, dtype) -> np.ndarray:
    """D = (rand(shape) < keep_prob), as 0/1 values of ``dtype``."""
    return (rand(rng, shape) < keep_prob).astype(dtype)


def dropout_forward(A: np.ndarray, D: np.ndarray, keep_prob: float) -> np.ndarray:
    """Inverted dropout: A * D / keep_prob (E[A] is unchanged by the 1/keep_prob scaling)."""
    return A * D / keep_prob


def dropout_backward(dA: np.ndarray, D: np.ndarray, keep_prob: float) -> np.ndarray:
    """dA * D / keep_prob: the same mask as the forward pass, so dropped units get no gradient."""
    return dA * D / keep_prob


def activation_backward(dA: np.ndarray, cache: LayerCache) -> np.ndarray:
    """dZ = dA * g'(Z)."""
    return get_activation(cache.activation).backward(dA, cache.Z)


def linear_activation_backward(
    dA: np.ndarray, cache: LayerCache, lambd: float = 0.0, need_dA_prev: bool = True
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """dZ = dA * g'(Z), then the linear backward step."""
    dZ = activation_backward(dA, cache)
    return linear_backward(dZ, cache.linear, lambd, need_dA_prev)
