"""Activation functions, each forward ``g(Z)`` next to its backward ``dZ = dA * g'(Z)``.

Shapes: ``Z``, ``A``, ``dA`` and ``dZ`` are all ``(n[l], m)``: one column per example.
Every function keeps the dtype of its input (float32 in, float32 out).

>>> import numpy as np
>>> Z = np.array([[-1.0, 0.0, 2.0]])
>>> ACTIVATIONS["relu"].forward(Z).tolist()
[[0.0, 0.0, 2.0]]
>>> ACTIVATIONS["relu"].backward(np.ones_like(Z), Z).tolist()
[[0.0, 0.0, 1.0]]
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

LEAKY_RELU_SLOPE = 0.01


def sigmoid(Z: np.ndarray) -> np.ndarray:
    """σ(Z) = 1 / (1 + exp(-Z)).

    For Z < -709 (float64) ``exp(-Z)`` overflows to inf and σ correctly becomes 0; the overflow
    warning is silenced because the result is exact, and no NaN can come out.
    """
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-Z))


def sigmoid_backward(dA: np.ndarray, Z: np.ndarray) -> np.ndarray:
    """dZ = dA * σ(Z) (1 - σ(Z))."""
    s = sigmoid(Z)
    return dA * s * (1 - s)


def tanh(Z: np.ndarray) -> np.ndarray:
    """tanh(Z)."""
    return np.tanh(Z)


def tanh_backward(dA: np.ndarray, Z: np.ndarray) -> np.ndarray:
    """dZ = dA * (1 - tanh(Z)²)."""
    A = np.tanh(Z)
    return dA * (1 - A**2)


def relu(Z: np.ndarray) -> np.ndarray:
    """relu(Z) = max(0, Z)."""
    return np.maximum(Z, 0)


def relu_backward(dA: np.ndarray, Z: np.ndarray) -> np.ndarray:
    """dZ = dA * 1[Z > 0]  (the derivative at 0 is taken as 0)."""
    return dA * (Z > 0)


def leaky_relu(Z: np.ndarray, slope: float = LEAKY_RELU_SLOPE) -> np.ndarray:
    """leaky_relu(Z) = Z where Z > 0, slope·Z elsewhere (slope 0.01)."""
    return np.where(Z > 0, Z, slope * Z)


def leaky_relu_backward(
    dA: np.ndarray, Z: np.ndarray, slope: float = LEAKY_RELU_SLOPE
) -> np.ndarray:
    """dZ = dA * (1 where Z > 0, slope elsewhere)."""
    return np.where(Z > 0, dA, slope * dA)


def softmax(Z: np.ndarray) -> np.ndarray:
    """softmax over each column: A[k, i] = exp(Z[k, i] - max_k Z) / Σ_k exp(Z[k, i] - max_k Z).

    Subtracting the column maximum leaves the result unchanged and keeps ``exp`` from overflowing.
    """
    T = np.exp(Z - Z.max(axis=0, keepdims=True))
    return T / T.sum(axis=0, keepdims=True)


def softmax_backward(dA: np.ndarray, Z: np.ndarray) -> np.ndarray:
    """dZ = A * (dA - Σ_k A[k] dA[k]) per column: the softmax Jacobian times dA.

    (∂A[j]/∂Z[k] = A[j] (1[j=k] - A[k]).)
    """
    A = softmax(Z)
    return A * (dA - (A * dA).sum(axis=0, keepdims=True))


def identity(Z: np.ndarray) -> np.ndarray:
    """identity(Z) = Z (linear output, for regression)."""
    return Z


def identity_backward(dA: np.ndarray, Z: np.ndarray) -> np.ndarray:
    """dZ = dA."""
    return dA


@functools.lru_cache(maxsize=8)
def _exp_ceiling_of(dtype: np.dtype) -> np.floating:
    """The largest z of ``dtype`` whose exp is finite: log(max float) (≈ 709.78 for float64,
    88.72 for float32), rounded in the dtype and stepped down until exp(z) does not overflow."""
    z = dtype.type(np.log(np.finfo(dtype).max))
    with np.errstate(over="ignore"):
        while not np.isfinite(np.exp(z)):
            z = np.nextafter(z, dtype.type(-np.inf))
    return z


def _exp_ceiling(Z: np.ndarray) -> np.floating:
    dtype = Z.dtype if np.issubdtype(Z.dtype, np.floating) else np.dtype(np.float64)
    return _exp_ceiling_of(np.dtype(dtype))


def exp(Z: np.ndarray) -> np.ndarray:
    """exp(Z), the Poisson loss's output (A > 0: a rate or a count's mean; the log link).

    Overflow-safe: Z is first clipped at log(max float) of its dtype (≈ 709.78 in float64,
    88.72 in float32), so A is at most about the largest finite number of the dtype and never
    inf; below the clip it is exactly ``np.exp(Z)``.

    >>> A = exp(np.array([[0.0, 1.0, 1000.0]]))
    >>> A[0, :2].tolist() == [1.0, np.e], bool(np.isfinite(A[0, 2]) and A[0, 2] > 1e308)
    (True, True)
    """
    return np.exp(np.minimum(Z, _exp_ceiling(Z)))


def exp_backward(dA: np.ndarray, Z: np.ndarray) -> np.ndarray:
    """dZ = dA * exp(Z) (exp is its own derivative), with Z clipped as in ``exp``: the clip
    only guards against overflow, so its zero slope above the ceiling is not used."""
    return dA * exp(Z)


class Activation(NamedTuple):
    """A forward ``g(Z) -> A`` and its backward ``(dA, Z) -> dZ``."""

    forward: Callable[[np.ndarray], np.ndarray]
    backward: Callable[[np.ndarray, np.ndarray], np.ndarray]


ACTIVATIONS: dict[str, Activation] = {
    "sigmoid": Activation(sigmoid, sigmoid_backward),
    "tanh": Activation(tanh, tanh_backward),
    "relu": Activation(relu, relu_backward),
    "leaky_relu": Activation(leaky_relu, leaky_relu_backward),
    "softmax": Activation(softmax, softmax_backward),
    "identity": Activation(identity, identity_backward),
    "exp": Activation(exp, exp_backward),
}


#: The activations a hidden layer may use: all but softmax, which normalizes across a layer's
#: units (an output layer's, for one-hot labels), and exp, the Poisson loss's output (a hidden
#: exp layer compounds exponentials and overflows).
HIDDEN_ACTIVATIONS: tuple[str, ...] = tuple(a for a in ACTIVATIONS if a not in ("softmax", "exp"))


#: The activations whose derivative jumps at Z = 0 (a kink): a finite difference whose ±ε steps
#: put some Z on both sides of 0 does not measure the derivative there (see ``gradient_check``).
KINKED: frozenset[str] = frozenset({"relu", "leaky_relu"})


def get_activation(name: str) -> Activation:
    """Look up an activation by name, with a clear error for an unknown one."""
    try:
        return ACTIVATIONS[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown activation {name!r}: expected one of {', '.join(sorted(ACTIVATIONS))}"
        ) from None
