"""Gradient checking: backprop's gradient against two-sided finite differences of the cost.

θ is every parameter flattened into one vector (W1, b1, W2, b2, … in layer order, each in C order).
For each component i:  g̃_i = (J(θ + ε e_i) - J(θ - ε e_i)) / (2ε),  and the check reports

    difference = ||g - g̃||₂ / (||g||₂ + ||g̃||₂)

which is about 1e-7 or smaller when backprop is right. The same ratio per parameter array points at
the layer whose gradient is wrong. Dropout is refused: a random mask makes J a different function at
every evaluation, so the finite differences would not measure the gradient.

>>> import numpy as np
>>> from nnlab import initialize_parameters, gradient_check
>>> rng = np.random.RandomState(1)
>>> X, Y = rng.randn(4, 3), np.array([[1, 0, 1]])
>>> params = initialize_parameters([4, 5, 3, 1], init="xavier", random_state=1)
>>> result = gradient_check(params, X, Y, ["relu", "relu", "sigmoid"])
>>> result.passed, result.difference < 1e-7
(True, True)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from .network import (
    check_keep_probs,
    compute_cost,
    model_backward,
    model_forward,
    num_layers,
    resolve_loss,
)

Params = dict[str, np.ndarray]
#: The default threshold (the course's): a larger difference means a mistake in backprop.
THRESHOLD = 2e-7


def parameter_keys(params: Mapping[str, np.ndarray]) -> list[str]:
    """W1, b1, W2, b2, ..., WL, bL: the order of the flattened vector."""
    L = num_layers(params)
    return [k for l in range(1, L + 1) for k in (f"W{l}", f"b{l}")]


def params_to_vector(params: Mapping[str, np.ndarray]) -> np.ndarray:
    """Flatten W1, b1, ..., WL, bL (each in C order) into one vector of shape (N,)."""
    return np.concatenate([np.ravel(params[k]) for k in parameter_keys(params)])


def grads_to_vector(grads: Mapping[str, np.ndarray]) -> np.ndarray:
    """Flatten dW1, db1, ..., dWL, dbL into one vector, in the order of ``params_to_vector``."""
    return params_to_vector({k[1:]: v for k, v in grads.items()})


def vector_to_params(theta: np.ndarray, like: Mapping[str, np.ndarray]) -> Params:
    """Inverse of ``params_to_vector``: cut θ into arrays shaped like those of ``like``."""
    keys = parameter_keys(like)
    sizes = [like[k].size for k in keys]
    if theta.ndim != 1 or theta.size != sum(sizes):
        raise ValueError(f"theta has shape {theta.shape}; expected ({sum(sizes)},)")
    out, start = {}, 0
    for k, n in zip(keys, sizes, strict=True):
        out[k] = theta[start : start + n].reshape(like[k].shape)
        start += n
    return out


def relative_difference(g: np.ndarray, g_approx: np.ndarray) -> float:
    """||g - g̃||₂ / (||g||₂ + ||g̃||₂), and 0 when both are zero."""
    numerator = np.linalg.norm(g - g_approx)
    denominator = np.linalg.norm(g) + np.linalg.norm(g_approx)
    return float(numerator / denominator) if denominator > 0 else 0.0


@dataclass(frozen=True)
class GradientCheckResult:
    """The outcome of a gradient check.

    Attributes:
        difference: the relative difference over all parameters.
        per_parameter: the same ratio for each of W1, b1, ..., WL, bL.
        threshold: above it, the check fails.
        gradient, approx: the backprop and finite-difference vectors (N,).
    """

    difference: float
    per_parameter: dict[str, float]
    threshold: float
    gradient: np.ndarray = field(repr=False)
    approx: np.ndarray = field(repr=False)

    @property
    def passed(self) -> bool:
        return self.difference <= self.threshold

    @property
    def failing(self) -> list[str]:
        """The parameters whose own relative difference is above the threshold."""
        return [k for k, d in self.per_parameter.items() if d > self.threshold]

    def __float__(self) -> float:
        return self.difference

    def report(self) -> str:
        """A small table: each parameter's relative difference and verdict, then the total."""
        lines = [f"{'parameter':<10} {'relative difference':>20}  verdict"]
        for k, d in self.per_parameter.items():
            lines.append(f"{k:<10} {d:>20.3e}  {'ok' if d <= self.threshold else 'WRONG'}")
        verdict = "passed" if self.passed else "FAILED: there is a mistake in backpropagation"
        lines.append(f"{'all':<10} {self.difference:>20.3e}  {verdict}")
        return "\n".join(lines)


def gradient_check(
    params: Mapping[str, np.ndarray],
    X: np.ndarray,
    Y: np.ndarray,
    activations: Sequence[str],
    lambd: float = 0.0,
    epsilon: float = 1e-7,
    *,
    loss: str | None = None,
    keep_probs: float | Sequence[float] | None = None,
    grad_fn: Callable[[Params, np.ndarray, np.ndarray], Mapping[str, np.ndarray]] | None = None,
    threshold: float = THRESHOLD,
) -> GradientCheckResult:
    """Compare backprop's gradient with two-sided finite differences of J(θ).

    Everything is computed in float64. ``grad_fn(params, X, Y) -> grads`` replaces backprop
    (to check a hand-written or deliberately broken backward pass); by default it is
    ``model_forward`` then ``model_backward`` with the same loss and λ. ``keep_probs`` below 1
    is refused.

    Returns a ``GradientCheckResult`` (``float(result)`` is the overall relative difference).
    """
    L = num_layers(params)
    if any(k < 1.0 for k in check_keep_probs(keep_probs, L)):
        raise ValueError(
            "gradient checking is refused with dropout on (keep_prob < 1): each forward pass would "
            "draw a new random mask, so J(θ+ε) and J(θ-ε) would be different functions and the "
            "finite differences would not measure the gradient. Check with keep_probs=None, then "
            "turn dropout back on."
        )
    if not epsilon > 0:
        raise ValueError(f"epsilon={epsilon} is out of range: expected epsilon > 0")
    loss_name = resolve_loss(activations[-1], loss)
    p64 = {k: np.asarray(v, dtype=np.float64) for k, v in params.items()}
    X64 = np.asarray(X, dtype=np.float64)
    Y64 = np.asarray(Y, dtype=np.float64)

    def cost(p: Mapping[str, np.ndarray]) -> float:
        AL, _ = model_forward(X64, p, activations)
        return float(compute_cost(AL, Y64, p, lambd, loss=loss_name))

    if grad_fn is None:
        AL, caches = model_forward(X64, p64, activations)
        grads = model_backward(AL, Y64, caches, lambd=lambd, loss=loss_name)
    else:
        grads = grad_fn(p64, X64, Y64)
    g = grads_to_vector(grads)

    theta = params_to_vector(p64)
    approx = np.empty_like(theta)
    for i in range(theta.size):
        theta_plus = theta.copy()
        theta_plus[i] += epsilon
        theta_minus = theta.copy()
        theta_minus[i] -= epsilon
        J_plus = cost(vector_to_params(theta_plus, p64))
        J_minus = cost(vector_to_params(theta_minus, p64))
        approx[i] = (J_plus - J_minus) / (2 * epsilon)

    per_parameter, start = {}, 0
    for k in parameter_keys(p64):
        n = p64[k].size
        per_parameter[k] = relative_difference(g[start : start + n], approx[start : start + n])
        start += n
    return GradientCheckResult(
        relative_difference(g, approx), per_parameter, threshold, g, approx
    )
