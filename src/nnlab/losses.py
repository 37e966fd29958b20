"""Losses: the cost J over a batch and its output gradient dA[L] = ∂L/∂A[L] per example.

Shapes: ``AL`` (the network's output) and ``Y`` are ``(n_y, m)``. Each ``gradient`` returns the
per-example derivative (no 1/m: the 1/m is applied once, in ``dW = (1/m) dZ A_prev^T``).

Each loss names its *canonical link*: the output activation for which the error term is simply
``dZ[L] = A[L] - Y`` (sigmoid for binary cross-entropy, softmax for categorical cross-entropy,
identity for squared error). ``model_backward`` uses that fused form when it applies. The robust
regression losses (mean absolute error, Huber) have none (``link`` is ``"none"``): their
``dZ[L]`` always goes the general way, ``dA[L] * g[L]'(Z[L])``.

Huber's threshold δ is part of the loss's name: ``"huber"`` is δ = 1 and ``huber(0.5)`` gives
the name ``"huber(delta=0.5)"``, which every way in takes as it takes ``"huber"`` (and a saved
model keeps):

>>> import numpy as np
>>> AL, Y = np.array([[0.5, 3.0]]), np.array([[0.0, 0.0]])
>>> float(get_loss("huber").cost(AL, Y))                 # (0.5 · 0.5² + 1 · (3 - 0.5)) / 2
1.3125
>>> huber(0.5)
'huber(delta=0.5)'
>>> get_loss(huber(0.5)).gradient(AL, Y)                 # clip(a - y, -δ, δ)
array([[0.5, 0.5]])
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Mapping
from typing import NamedTuple

import numpy as np


def _tiny(A: np.ndarray) -> float:
    """The smallest positive normal number of A's float dtype: a floor that keeps log finite."""
    dtype = A.dtype if np.issubdtype(A.dtype, np.floating) else np.dtype(np.float64)
    return float(np.finfo(dtype).tiny)


def _safe_log(A: np.ndarray) -> np.ndarray:
    """log(A), with A floored at the dtype's tiny so that log(0) is a large finite negative."""
    return np.log(np.maximum(A, _tiny(A)))


def binary_crossentropy(AL: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """J = -(1/m) Σ (y log a + (1-y) log(1-a)), summed over outputs too (multilabel).

    Equal to the formula wherever it is finite; where it is not (a = 0 with y = 1, say) log(0) is
    replaced by log(tiny) ≈ -708, so the cost is always finite.
    """
    m = Y.shape[1]
    logprobs = Y * _safe_log(AL) + (1 - Y) * _safe_log(1 - AL)
    return -np.sum(logprobs) / m


def binary_crossentropy_gradient(AL: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """dA[L] = -(y/a - (1-y)/(1-a)), with the denominators floored at tiny (always finite)."""
    tiny = _tiny(AL)
    return -(Y / np.maximum(AL, tiny) - (1 - Y) / np.maximum(1 - AL, tiny))


def binary_crossentropy_from_logits(ZL: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """The same cost computed from the logits Z[L] (A = σ(Z)), exact for any Z:

    -(y log σ(z) + (1-y) log(1-σ(z))) = max(z, 0) - z y + log(1 + exp(-|z|)).
    """
    m = Y.shape[1]
    return np.sum(np.maximum(ZL, 0) - ZL * Y + np.log1p(np.exp(-np.abs(ZL)))) / m


def categorical_crossentropy(AL: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """J = -(1/m) Σ_i Σ_k y[k, i] log a[k, i], for one-hot (or probability) columns of Y."""
    m = Y.shape[1]
    return -np.sum(Y * _safe_log(AL)) / m


def categorical_crossentropy_gradient(AL: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """dA[L] = -y / a, with a floored at tiny."""
    return -Y / np.maximum(AL, _tiny(AL))


def mean_squared_error(AL: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """J = (1/2m) Σ_i ||a_i - y_i||²  (the ½ makes the gradient a - y)."""
    m = Y.shape[1]
    return np.sum((AL - Y) ** 2) / (2 * m)


def mean_squared_error_gradient(AL: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """dA[L] = a - y."""
    return AL - Y


def mean_absolute_error(AL: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """J = (1/m) Σ_i ||a_i - y_i||₁ = (1/m) Σ_i Σ_k |a[k, i] - y[k, i]| (summed over outputs,
    as the squared error is)."""
    m = Y.shape[1]
    return np.sum(np.abs(AL - Y)) / m


def mean_absolute_error_gradient(AL: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """dA[L] = sign(a - y): the subgradient, 0 where a = y exactly (|r| has no slope there)."""
    return np.sign(AL - Y)


def huber_cost(AL: np.ndarray, Y: np.ndarray, delta: float = 1.0) -> np.ndarray:
    """J = (1/m) Σ_i Σ_k h_δ(a[k, i] - y[k, i]), with the residual r = a - y and

        h_δ(r) = ½ r²             for |r| ≤ δ   (the squared error near 0),
        h_δ(r) = δ (|r| - δ/2)    for |r| > δ   (the absolute error, scaled, far away).

    The two pieces meet with the same value and slope at |r| = δ.
    """
    m = Y.shape[1]
    R = np.abs(AL - Y)
    return np.sum(np.where(R <= delta, 0.5 * R * R, delta * (R - 0.5 * delta))) / m


def huber_gradient(AL: np.ndarray, Y: np.ndarray, delta: float = 1.0) -> np.ndarray:
    """dA[L] = clip(a - y, -δ, δ): the residual near 0, ±δ beyond δ."""
    return np.clip(AL - Y, -delta, delta)


class Loss(NamedTuple):
    """A cost ``(AL, Y) -> J``, its gradient ``(AL, Y) -> dA[L]`` and its canonical output link."""

    cost: Callable[[np.ndarray, np.ndarray], np.ndarray]
    gradient: Callable[[np.ndarray, np.ndarray], np.ndarray]
    link: str


LOSSES: dict[str, Loss] = {
    "binary_crossentropy": Loss(binary_crossentropy, binary_crossentropy_gradient, "sigmoid"),
    "categorical_crossentropy": Loss(
        categorical_crossentropy, categorical_crossentropy_gradient, "softmax"
    ),
    "mean_squared_error": Loss(mean_squared_error, mean_squared_error_gradient, "identity"),
    "mean_absolute_error": Loss(mean_absolute_error, mean_absolute_error_gradient, "none"),
    "huber": Loss(huber_cost, huber_gradient, "none"),  # δ = 1; huber(δ) names another δ
}

_HUBER_NAME = re.compile(r"huber\(delta=([^()]+)\)")


def _check_delta(delta: float) -> float:
    if isinstance(delta, bool) or not isinstance(delta, int | float | np.floating | np.integer):
        raise ValueError(f"Huber's delta={delta!r} must be a number > 0")
    delta = float(delta)
    if not (math.isfinite(delta) and delta > 0):
        raise ValueError(f"Huber's delta={delta!r} must be finite and > 0")
    return delta


def huber(delta: float = 1.0) -> str:
    """The name of the Huber loss with threshold δ, for ``loss=`` anywhere a loss is named:
    ``"huber"`` for δ = 1, else ``"huber(delta=δ)"`` (which ``get_loss`` reads back).

    >>> huber(2), huber(1.0)
    ('huber(delta=2.0)', 'huber')
    """
    delta = _check_delta(delta)
    return "huber" if delta == 1.0 else f"huber(delta={delta!r})"


@functools.lru_cache(maxsize=64)
def _huber_variant(delta: float) -> Loss:
    return Loss(functools.partial(huber_cost, delta=delta),
                functools.partial(huber_gradient, delta=delta), "none")

#: The loss that goes with each output activation when none is named.
DEFAULT_LOSS_FOR_OUTPUT = {
    "sigmoid": "binary_crossentropy",
    "softmax": "categorical_crossentropy",
    "identity": "mean_squared_error",
    "tanh": "mean_squared_error",
    "relu": "mean_squared_error",
    "leaky_relu": "mean_squared_error",
}


def get_loss(name: str) -> Loss:
    """Look up a loss by name (a ``LOSSES`` key, or ``"huber(delta=δ)"`` as ``huber(δ)``
    writes it), with a clear error for an unknown one."""
    try:
        return LOSSES[name]
    except (KeyError, TypeError):
        pass
    match = _HUBER_NAME.fullmatch(name) if isinstance(name, str) else None
    if match is not None:
        try:
            delta = float(match.group(1))
        except ValueError:
            raise ValueError(f"loss {name!r}: Huber's delta must be a number > 0") from None
        return _huber_variant(_check_delta(delta))
    raise ValueError(
        f"unknown loss {name!r}: expected one of {', '.join(sorted(LOSSES))} "
        "(or 'huber(delta=δ)')"
    )


def default_loss(output_activation: str) -> str:
    """The loss used with ``output_activation`` when none is given."""
    return DEFAULT_LOSS_FOR_OUTPUT.get(output_activation, "mean_squared_error")


def weight_names(params: Mapping[str, np.ndarray]) -> list[str]:
    """The weight matrices' keys, W1, W2, …, WL in layer order."""
    L = sum(1 for k in params if k.startswith("W"))
    return [f"W{l}" for l in range(1, L + 1)]


def l2_penalty(params: Mapping[str, np.ndarray], lambd: float, m: int) -> float:
    """(λ/2m) Σ_l ||W[l]||²_F  (biases are not penalized)."""
    if lambd == 0:
        return 0.0
    return lambd / (2 * m) * sum(float(np.sum(np.square(params[k]))) for k in weight_names(params))


def l2_gradient(W: np.ndarray, lambd: float, m: int) -> np.ndarray:
    """∂/∂W of the L2 term: (λ/m) W."""
    return (lambd * W) / m
