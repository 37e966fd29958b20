"""One layer's forward and backward steps, with the caches that connect them.

Forward:   Z[l] = W[l] A[l-1] + b[l],   A[l] = g[l](Z[l]),
           (dropout) A[l] = A[l] * D[l] / keep_prob
Backward:  (dropout) dA[l] = dA[l] * D[l] / keep_prob,   dZ[l] = dA[l] * g[l]'(Z[l]),
           dW[l] = (1/m) dZ[l] A[l-1]^T + (λ/m) W[l] (+ (λ1/m) sign(W[l]) with L1),
           db[l] = (1/m) Σ_i dZ[l],
           dA[l-1] = W[l]^T dZ[l]

Shapes: A[l-1] ``(n[l-1], m)``, W ``(n[l], n[l-1])``, b ``(n[l], 1)``, Z / A / D ``(n[l], m)``.

Batch normalization (``batchnorm_forward`` / ``batchnorm_backward``) sits between the linear step
and g[l] of a hidden layer: Z[l] = W[l] A[l-1] (no b[l]: the mean subtraction cancels it),
Z̃[l] = γ[l] ⊙ Z_norm[l] + β[l], A[l] = g[l](Z̃[l]).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._random import Rng, rand
from .activations import get_activation
from .losses import l1_gradient, l2_gradient


class LinearCache(NamedTuple):
    """What the linear step's backward needs: its input and its parameters."""

    A_prev: np.ndarray
    W: np.ndarray
    b: np.ndarray | None  # None for a batch-normalized layer (it has no b)


class BatchNormCache(NamedTuple):
    """What ``batchnorm_backward`` needs from ``batchnorm_forward``.

    ``Z_norm`` ``(n, m)``; ``gamma``, ``mu``, ``var`` and ``inv_std`` = 1/√(σ² + ε) ``(n, 1)``.
    ``training``: whether μ and σ² are the batch's own statistics (True: they depend on every
    column of Z, and the backward pass goes through them) or constants, the running statistics
    used at test time (``batchnorm_inference``).
    """

    Z_norm: np.ndarray
    gamma: np.ndarray
    mu: np.ndarray
    var: np.ndarray
    inv_std: np.ndarray
    training: bool = True


class LayerCache(NamedTuple):
    """One layer's record of the forward pass.

    ``D`` is the dropout mask applied to this layer's output (None when the layer keeps every unit).
    ``Z`` is the activation's input: for a batch-normalized layer Z̃ = γ ⊙ Z_norm + β, whose
    ``bn`` holds what ``batchnorm_backward`` needs (None for a layer without batch norm).
    """

    linear: LinearCache
    Z: np.ndarray
    activation: str
    D: np.ndarray | None = None
    keep_prob: float = 1.0
    bn: BatchNormCache | None = None


def linear_forward(
    A_prev: np.ndarray, W: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, LinearCache]:
    """Z = W A_prev + b  (b broadcasts over the m columns)."""
    Z = W @ A_prev + b
    return Z, LinearCache(A_prev, W, b)


def linear_backward(
    dZ: np.ndarray, cache: LinearCache, lambd: float = 0.0, need_dA_prev: bool = True,
    *, l1: float = 0.0,
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """dW = (1/m) dZ A_prev^T (+ (λ/m) W) (+ (λ1/m) sign(W)),  db = (1/m) Σ_i dZ,
    dA_prev = W^T dZ.

    ``need_dA_prev=False`` skips dA_prev (the first layer's input gradient is never used).
    ``l1``: the L1 strength λ1 (its subgradient is 0 where W = 0).
    """
    A_prev, W, _ = cache
    m = A_prev.shape[1]
    dW = 1.0 / m * (dZ @ A_prev.T)
    if lambd:
        dW = dW + l2_gradient(W, lambd, m)
    if l1:
        dW = dW + l1_gradient(W, l1, m)
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
    dA: np.ndarray, cache: LayerCache, lambd: float = 0.0, need_dA_prev: bool = True,
    *, l1: float = 0.0,
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """dZ = dA * g'(Z), then the linear backward step."""
    dZ = activation_backward(dA, cache)
    return linear_backward(dZ, cache.linear, lambd, need_dA_prev, l1=l1)


# ------------------------------------------------------------------------ batch normalization

#: ε of batch normalization: σ² + ε stays positive when a unit is constant over the batch.
BN_EPSILON = 1e-8


def batchnorm_forward(
    Z: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float = BN_EPSILON
) -> tuple[np.ndarray, BatchNormCache]:
    """Batch normalization over the m examples (columns) of Z ``(n, m)``:

        μ = (1/m) Σ_i z(i),   σ² = (1/m) Σ_i (z(i) - μ)²,   z_norm = (z - μ) / √(σ² + ε),
        z̃ = γ ⊙ z_norm + β

    with γ, β (and μ, σ²) of shape ``(n, 1)``. σ² is the biased (1/m) variance. With one example
    (m = 1), σ² = 0: ε keeps √(σ² + ε) finite and nonzero, z_norm = 0 and z̃ = β.

    Returns ``(Z_tilde, cache)``, Z_tilde ``(n, m)``.

    >>> import numpy as np
    >>> Z = np.array([[1.0, 3.0], [2.0, 2.0]])
    >>> Zt, cache = batchnorm_forward(Z, np.ones((2, 1)), np.zeros((2, 1)))
    >>> Zt.round(6).tolist(), cache.mu.ravel().tolist(), cache.var.ravel().tolist()
    ([[-1.0, 1.0], [0.0, 0.0]], [2.0, 2.0], [1.0, 0.0])
    """
    m = Z.shape[1]
    mu = 1.0 / m * np.sum(Z, axis=1, keepdims=True)
    Z_centered = Z - mu
    var = 1.0 / m * np.sum(np.square(Z_centered), axis=1, keepdims=True)
    inv_std = 1.0 / np.sqrt(var + eps)
    Z_norm = Z_centered * inv_std
    Z_tilde = gamma * Z_norm + beta
    return Z_tilde, BatchNormCache(Z_norm, gamma, mu, var, inv_std)


def batchnorm_inference(
    Z: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    running_mean: np.ndarray,
    running_var: np.ndarray,
    eps: float = BN_EPSILON,
) -> tuple[np.ndarray, BatchNormCache]:
    """Batch normalization at test time: z_norm = (z - μ_run) / √(σ²_run + ε),
    z̃ = γ ⊙ z_norm + β, with the running statistics (``(n, 1)``) in place of the batch's, so
    each column's output depends on that column alone (one example predicted alone gets what it
    gets inside a batch). The cache's ``training`` is False.

    >>> import numpy as np
    >>> Zt, _ = batchnorm_inference(np.array([[3.0, 5.0]]), np.ones((1, 1)), np.zeros((1, 1)),
    ...                             np.array([[1.0]]), np.array([[4.0]]), eps=0.0)
    >>> Zt.tolist()
    [[1.0, 2.0]]
    """
    inv_std = 1.0 / np.sqrt(running_var + eps)
    Z_norm = (Z - running_mean) * inv_std
    Z_tilde = gamma * Z_norm + beta
    return Z_tilde, BatchNormCache(Z_norm, gamma, running_mean, running_var, inv_std, False)


def batchnorm_backward(
    dZ_tilde: np.ndarray, cache: BatchNormCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The gradients through batch normalization, from dz̃ = ∂J/∂z̃ ``(n, m)``:

        dβ = Σ_i dz̃(i),   dγ = Σ_i dz̃(i) ⊙ z_norm(i),
        dz = (γ / (m √(σ² + ε))) ⊙ (m dz̃ - Σ_i dz̃(i) - z_norm ⊙ Σ_i dz̃(i) ⊙ z_norm(i))

    (dz goes through μ and σ², which depend on every example of the batch). With the running
    statistics of test time (``cache.training`` False) they are constants: dz = γ dz̃ / √(σ² + ε).

    dz is linear in dz̃, so it holds as well for the course's dZ, which is m times ∂J/∂Z
    (dZ[L] = A[L] - Y); ``network.model_backward`` then divides the sums by m, as db is
    (1/m) Σ_i dZ. At m = 1, z_norm = 0 and dz = 0: the output is β whatever z is.

    Returns ``(dZ, dgamma, dbeta)``: ``(n, m)``, ``(n, 1)``, ``(n, 1)``.

    >>> import numpy as np
    >>> Zt, cache = batchnorm_forward(np.array([[1.0, 3.0]]), np.ones((1, 1)), np.zeros((1, 1)))
    >>> dZ, dgamma, dbeta = batchnorm_backward(np.array([[1.0, 1.0]]), cache)
    >>> dZ.tolist(), dbeta.tolist()
    ([[0.0, 0.0]], [[2.0]])
    """
    Z_norm, gamma, _, _, inv_std, training = cache
    dbeta = np.sum(dZ_tilde, axis=1, keepdims=True)
    dgamma = np.sum(dZ_tilde * Z_norm, axis=1, keepdims=True)
    if not training:
        return (gamma * inv_std) * dZ_tilde, dgamma, dbeta
    m = dZ_tilde.shape[1]
    dZ = (gamma * inv_std / m) * (m * dZ_tilde - dbeta - Z_norm * dgamma)
    return dZ, dgamma, dbeta
