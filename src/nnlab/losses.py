"""Losses: the cost J over a batch and its output gradient dA[L] = ∂L/∂A[L] per example.

Shapes: ``AL`` (the network's output) and ``Y`` are ``(n_y, m)``. Each ``gradient`` returns the
per-example derivative (no 1/m: the 1/m is applied once, in ``dW = (1/m) dZ A_prev^T``).

Each loss names its *canonical link*: the output activation for which the error term is simply
``dZ[L] = A[L] - Y`` (sigmoid for binary cross-entropy, softmax for categorical cross-entropy,
identity for squared error, exp for the Poisson deviance). ``model_backward`` uses that fused
form when it applies. The robust
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


def binary_crossentropy_elements(AL: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """L[k, i] = -(y log a + (1-y) log(1-a)), log floored at tiny: the terms of the cost."""
    return -(Y * _safe_log(AL) + (1 - Y) * _safe_log(1 - AL))


def categorical_crossentropy_elements(AL: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """L[k, i] = -y log a, log floored at tiny."""
    return -(Y * _safe_log(AL))


def squared_error_elements(AL: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """L[k, i] = ½ (a - y)²."""
    return 0.5 * (AL - Y) ** 2


def absolute_error_elements(AL: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """L[k, i] = |a - y|."""
    return np.abs(AL - Y)


def huber_elements(AL: np.ndarray, Y: np.ndarray, delta: float = 1.0) -> np.ndarray:
    """L[k, i] = h_δ(a - y) (see ``huber_cost``)."""
    R = np.abs(AL - Y)
    return np.where(R <= delta, 0.5 * R * R, delta * (R - 0.5 * delta))


def poisson_elements(AL: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """L[k, i] = a - y + y log(y / a): half the Poisson deviance's terms (see
    ``poisson_deviance``), y log y = 0 at y = 0 and log a floored at tiny."""
    return AL - Y + Y * (_safe_log(Y) - _safe_log(AL))


def poisson_deviance(AL: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """J = (1/m) Σ_i Σ_k (a - y + y log(y / a)): half the Poisson deviance, scikit-learn's
    ``loss="poisson"`` (for counts or rates y >= 0 and means a > 0, the output of ``exp``).

    It is the negative log-likelihood (1/m) Σ (a - y log a) plus (1/m) Σ (y log y - y), a
    constant in a: the same gradient, and J = 0 for a perfect fit. y log y is 0 at y = 0, and
    log a is floored at tiny (so J stays finite for a = 0).

    >>> import numpy as np
    >>> round(float(poisson_deviance(np.array([[1.0, 2.0]]), np.array([[1.0, 0.0]]))), 6)
    1.0
    """
    m = Y.shape[1]
    return np.sum(poisson_elements(AL, Y)) / m


def poisson_gradient(AL: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """dA[L] = 1 - y / a, a floored at tiny (with A = exp(Z): dZ[L] = (1 - y/a) a = a - y)."""
    return 1 - Y / np.maximum(AL, _tiny(AL))


def check_poisson_targets(Y: np.ndarray) -> None:
    """The Poisson loss needs y >= 0 (counts or rates): one clear ``ValueError`` otherwise.

    >>> import numpy as np
    >>> check_poisson_targets(np.array([[0.0, 3.0]]))
    >>> check_poisson_targets(np.array([[1.0, -2.0]]))
    Traceback (most recent call last):
    ...
    ValueError: loss='poisson' requires non-negative y (counts or rates); the smallest is -2.0
    """
    Y = np.asarray(Y)
    if Y.size and np.min(Y) < 0:
        raise ValueError("loss='poisson' requires non-negative y (counts or rates); the "
                         f"smallest is {float(np.min(Y))!r}")


class Loss(NamedTuple):
    """A cost ``(AL, Y) -> J``, its gradient ``(AL, Y) -> dA[L]`` and its canonical output link.

    ``elements`` gives the cost's terms ``(AL, Y) -> L`` ``(n_y, m)``, so that
    ``cost = Σ L / m`` and, with sample weights, ``J = Σ_i w_i Σ_k L[k, i] / Σ_i w_i``
    (``nnlab.weights.weighted_cost``).
    """

    cost: Callable[[np.ndarray, np.ndarray], np.ndarray]
    gradient: Callable[[np.ndarray, np.ndarray], np.ndarray]
    link: str
    elements: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None


LOSSES: dict[str, Loss] = {
    "binary_crossentropy": Loss(binary_crossentropy, binary_crossentropy_gradient, "sigmoid",
                                binary_crossentropy_elements),
    "categorical_crossentropy": Loss(
        categorical_crossentropy, categorical_crossentropy_gradient, "softmax",
        categorical_crossentropy_elements,
    ),
    "mean_squared_error": Loss(mean_squared_error, mean_squared_error_gradient, "identity",
                               squared_error_elements),
    "mean_absolute_error": Loss(mean_absolute_error, mean_absolute_error_gradient, "none",
                                absolute_error_elements),
    # δ = 1; huber(δ) names another δ
    "huber": Loss(huber_cost, huber_gradient, "none", huber_elements),
    "poisson": Loss(poisson_deviance, poisson_gradient, "exp", poisson_elements),
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
                functools.partial(huber_gradient, delta=delta), "none",
                functools.partial(huber_elements, delta=delta))

#: The loss that goes with each output activation when none is named.
DEFAULT_LOSS_FOR_OUTPUT = {
    "sigmoid": "binary_crossentropy",
    "softmax": "categorical_crossentropy",
    "identity": "mean_squared_error",
    "tanh": "mean_squared_error",
    "relu": "mean_squared_error",
    "leaky_relu": "mean_squared_error",
    "exp": "poisson",
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


def l2_penalty(params: Mapping[str, np.ndarray], lambd: float, m: float) -> float:
    """(λ/2m) Σ_l ||W[l]||²_F  (biases are not penalized)."""
    if lambd == 0:
        return 0.0
    return lambd / (2 * m) * sum(float(np.sum(np.square(params[k]))) for k in weight_names(params))


def l2_gradient(W: np.ndarray, lambd: float, m: int) -> np.ndarray:
    """∂/∂W of the L2 term: (λ/m) W."""
    return (lambd * W) / m


def l1_penalty(params: Mapping[str, np.ndarray], l1: float, m: float) -> float:
    """(λ1/m) Σ_l ||W[l]||₁ = (λ1/m) Σ_l Σ_jk |W[l][j, k]|  (biases are not penalized).

    Scaled by 1/m as the L2 term's (λ/2m) Σ ||W||² is, so that λ1 means the same at any batch
    size.

    >>> import numpy as np
    >>> params = {"W1": np.array([[1.0, -2.0]]), "b1": np.array([[5.0]])}
    >>> l1_penalty(params, 0.5, 3)                  # 0.5 / 3 · (1 + 2)
    0.5
    """
    if l1 == 0:
        return 0.0
    return l1 / m * sum(float(np.sum(np.abs(params[k]))) for k in weight_names(params))


def l1_gradient(W: np.ndarray, l1: float, m: int) -> np.ndarray:
    """∂/∂W of the L1 term: (λ1/m) sign(W), the subgradient 0 where W = 0 exactly (|w| has no
    slope there; 0 is the one subgradient that leaves a zero weight at zero).

    >>> import numpy as np
    >>> l1_gradient(np.array([[-3.0, 0.0, 2.0]]), 0.5, 2).tolist()
    [[-0.25, 0.0, 0.25]]
    """
    return (l1 * np.sign(W)) / m


def check_l1(l1: float, name: str = "l1") -> float:
    """λ1 as a float: a finite number >= 0, else one clear ``ValueError``.

    >>> check_l1(0.01)
    0.01
    """
    if isinstance(l1, bool) or not isinstance(l1, int | float | np.floating | np.integer):
        raise ValueError(f"{name}={l1!r} must be a number >= 0")
    value = float(l1)
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{name}={l1!r} must be finite and >= 0")
    return value
