"""Optimizers as pure ``init`` / ``update`` pairs (in the style of optax), and learning-rate decay.

An optimizer is two functions:

- ``init(params) -> state``: a NamedTuple holding the step count and any moving averages;
- ``update(grads, state, learning_rate=None) -> (updates, state)``: ``updates`` are the steps to
  *add* to the parameters (``apply_updates`` does it); ``learning_rate`` overrides the optimizer's
  own for this step (that is how the training loop applies a decay schedule).

Neither changes its inputs. ``grads`` are keyed ``dW1, db1, ...``; state and updates are keyed
like the parameters, ``W1, b1, ...``. The update rules, with g = dθ and t the step count (from 1):

- gd:        θ -= α g
- momentum:  v = β v + (1-β) g;                                   θ -= α v
- rmsprop:   s = β2 s + (1-β2) g²;                                θ -= α g / (sqrt(s) + ε)
- adam:      v = β1 v + (1-β1) g,  s = β2 s + (1-β2) g²,
             v̂ = v / (1-β1^t),     ŝ = s / (1-β2^t);              θ -= α v̂ / (sqrt(ŝ) + ε)

>>> import numpy as np
>>> opt = adam(learning_rate=0.1)
>>> params = {"W1": np.array([[1.0]]), "b1": np.array([[0.0]])}
>>> state = opt.init(params)
>>> updates, state = opt.update({"dW1": np.array([[2.0]]), "db1": np.array([[0.0]])}, state)
>>> apply_updates(params, updates)["W1"].round(6).tolist(), int(state.t)
([[0.9]], 1)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import numpy as np

Params = dict[str, np.ndarray]
Grads = Mapping[str, np.ndarray]
Updates = dict[str, np.ndarray]


class Optimizer(NamedTuple):
    """An ``init`` / ``update`` pair, with its name and hyperparameters for display and saving."""

    init: Callable[[Mapping[str, np.ndarray]], Any]
    update: Callable[..., tuple[Updates, Any]]
    name: str
    hyperparams: dict[str, float]


class GDState(NamedTuple):
    """Plain gradient descent keeps only the step count."""

    t: int


class MomentumState(NamedTuple):
    """Step count and v, the exponentially weighted average of the gradients."""

    t: int
    v: dict[str, np.ndarray]


class RMSpropState(NamedTuple):
    """Step count and s, the exponentially weighted average of the squared gradients."""

    t: int
    s: dict[str, np.ndarray]


class AdamState(NamedTuple):
    """Step count t and the first (v) and second (s) moment estimates."""

    t: int
    v: dict[str, np.ndarray]
    s: dict[str, np.ndarray]


def _check_positive(name: str, value: float) -> float:
    value = float(value)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name}={value} is out of range: expected a finite number > 0")
    return value


def _check_beta(name: str, value: float) -> float:
    value = float(value)
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{name}={value} is out of range: expected 0 <= {name} < 1")
    return value


def _grad(grads: Grads, key: str) -> np.ndarray:
    """The gradient of parameter ``key`` (W1 -> dW1)."""
    return grads["d" + key]


def _param_keys(grads: Grads) -> list[str]:
    return [k[1:] for k in grads]


def _zeros_like(params: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k: np.zeros_like(p) for k, p in params.items()}


def gd(learning_rate: float = 0.0075) -> Optimizer:
    """Gradient descent: θ -= α g."""
    alpha0 = _check_positive("learning_rate", learning_rate)

    def init(params: Mapping[str, np.ndarray]) -> GDState:
        return GDState(t=0)

    def update(
        grads: Grads, state: GDState, learning_rate: float | None = None
    ) -> tuple[Updates, GDState]:
        alpha = alpha0 if learning_rate is None else learning_rate
        updates = {k: -(alpha * _grad(grads, k)) for k in _param_keys(grads)}
        return updates, GDState(t=state.t + 1)

    return Optimizer(init, update, "gd", {"learning_rate": alpha0})


def momentum(learning_rate: float = 0.0075, beta: float = 0.9) -> Optimizer:
    """Momentum as an exponentially weighted average: v = β v + (1-β) g,  θ -= α v."""
    alpha0 = _check_positive("learning_rate", learning_rate)
    beta = _check_beta("beta", beta)

    def init(params: Mapping[str, np.ndarray]) -> MomentumState:
        return MomentumState(t=0, v=_zeros_like(params))

    def update(
        grads: Grads, state: MomentumState, learning_rate: float | None = None
    ) -> tuple[Updates, MomentumState]:
        alpha = alpha0 if learning_rate is None else learning_rate
        v, updates = {}, {}
        for k in _param_keys(grads):
            v[k] = beta * state.v[k] + (1 - beta) * _grad(grads, k)
            updates[k] = -(alpha * v[k])
        return updates, MomentumState(t=state.t + 1, v=v)

    return Optimizer(init, update, "momentum", {"learning_rate": alpha0, "beta": beta})


def rmsprop(learning_rate: float = 0.001, beta2: float = 0.999, epsilon: float = 1e-8) -> Optimizer:
    """RMSprop: s = β2 s + (1-β2) g²,  θ -= α g / (sqrt(s) + ε)."""
    alpha0 = _check_positive("learning_rate", learning_rate)
    beta2 = _check_beta("beta2", beta2)
    epsilon = _check_positive("epsilon", epsilon)

    def init(params: Mapping[str, np.ndarray]) -> RMSpropState:
        return RMSpropState(t=0, s=_zeros_like(params))

    def update(
        grads: Grads, state: RMSpropState, learning_rate: float | None = None
    ) -> tuple[Updates, RMSpropState]:
        alpha = alpha0 if learning_rate is None else learning_rate
        s, updates = {}, {}
        for k in _param_keys(grads):
            g = _grad(grads, k)
            s[k] = beta2 * state.s[k] + (1 - beta2) * np.square(g)
            updates[k] = -(alpha * g / (np.sqrt(s[k]) + epsilon))
        return updates, RMSpropState(t=state.t + 1, s=s)

    hp = {"learning_rate": alpha0, "beta2": beta2, "epsilon": epsilon}
    return Optimizer(init, update, "rmsprop", hp)


def adam(
    learning_rate: float = 0.001, beta1: float = 0.9, beta2: float = 0.999, epsilon: float = 1e-8
) -> Optimizer:
    """Adam: v = β1 v + (1-β1) g,  s = β2 s + (1-β2) g²,  v̂ = v/(1-β1^t),  ŝ = s/(1-β2^t),
    θ -= α v̂ / (sqrt(ŝ) + ε); t counts the updates, starting at 1."""
    alpha0 = _check_positive("learning_rate", learning_rate)
    beta1 = _check_beta("beta1", beta1)
    beta2 = _check_beta("beta2", beta2)
    epsilon = _check_positive("epsilon", epsilon)

    def init(params: Mapping[str, np.ndarray]) -> AdamState:
        return AdamState(t=0, v=_zeros_like(params), s=_zeros_like(params))

    def update(
        grads: Grads, state: AdamState, learning_rate: float | None = None
    ) -> tuple[Updates, AdamState]:
        alpha = alpha0 if learning_rate is None else learning_rate
        t = state.t + 1
        v, s, updates = {}, {}, {}
        for k in _param_keys(grads):
            g = _grad(grads, k)
            v[k] = beta1 * state.v[k] + (1 - beta1) * g
            v_hat = v[k] / (1 - beta1**t)
            s[k] = beta2 * state.s[k] + (1 - beta2) * np.power(g, 2)
            s_hat = s[k] / (1 - beta2**t)
            updates[k] = -(alpha * v_hat / (np.sqrt(s_hat) + epsilon))
        return updates, AdamState(t=t, v=v, s=s)

    hp = {"learning_rate": alpha0, "beta1": beta1, "beta2": beta2, "epsilon": epsilon}
    return Optimizer(init, update, "adam", hp)


class SGDState(NamedTuple):
    """Step count and the velocity v (scikit-learn's form: the step itself, not an average)."""

    t: int
    v: dict[str, np.ndarray]


def sgd(learning_rate: float = 0.001, momentum: float = 0.9, nesterov: bool = True) -> Optimizer:
    """Stochastic gradient descent with momentum in scikit-learn's form (its ``solver="sgd"``):

    v = μ v - α g,   θ += v;   with Nesterov's momentum the step is instead μ v - α g
    (using the v just computed): θ += μ v - α g.

    ``momentum=0`` is plain gradient descent. This is not the course's ``momentum`` optimizer
    (an average, v = β v + (1-β) g, θ -= α v): here v accumulates the scaled steps, so the
    effective step size grows to about α / (1 - μ).
    """
    alpha0 = _check_positive("learning_rate", learning_rate)
    mu = float(momentum)
    if not 0.0 <= mu <= 1.0:
        raise ValueError(f"momentum={mu} is out of range: expected 0 <= momentum <= 1")
    nesterov = bool(nesterov)

    def init(params: Mapping[str, np.ndarray]) -> SGDState:
        return SGDState(t=0, v=_zeros_like(params))

    def update(
        grads: Grads, state: SGDState, learning_rate: float | None = None
    ) -> tuple[Updates, SGDState]:
        alpha = alpha0 if learning_rate is None else learning_rate
        v, updates = {}, {}
        for k in _param_keys(grads):
            g = _grad(grads, k)
            v[k] = mu * state.v[k] - alpha * g
            updates[k] = mu * v[k] - alpha * g if nesterov else v[k]
        return updates, SGDState(t=state.t + 1, v=v)

    hp = {"learning_rate": alpha0, "momentum": mu, "nesterov": float(nesterov)}
    return Optimizer(init, update, "sgd", hp)


OPTIMIZERS: dict[str, Callable[..., Optimizer]] = {
    "gd": gd,
    "momentum": momentum,
    "rmsprop": rmsprop,
    "adam": adam,
}


def get_optimizer(name: str, **hyperparams: float) -> Optimizer:
    """Build an optimizer by name: ``get_optimizer("adam", learning_rate=0.01)``."""
    try:
        factory = OPTIMIZERS[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown optimizer {name!r}: expected one of {', '.join(OPTIMIZERS)}"
        ) from None
    return factory(**hyperparams)


def apply_updates(params: Mapping[str, np.ndarray], updates: Mapping[str, np.ndarray]) -> Params:
    """θ + update for every parameter (a new dict; the inputs are not changed)."""
    return {k: p + updates[k] if k in updates else p for k, p in params.items()}


# ---------------------------------------------------------------------------------------------
# Learning-rate decay: functions of the epoch number (0, 1, 2, ...) returning α.

Schedule = Callable[[int], float]


def inverse_time_decay(learning_rate: float, decay_rate: float) -> Schedule:
    """α = α0 / (1 + decay_rate · epoch)."""
    alpha0 = _check_positive("learning_rate", learning_rate)
    if decay_rate < 0:
        raise ValueError(f"decay_rate={decay_rate} is negative: expected decay_rate >= 0")

    def schedule(epoch: int) -> float:
        return alpha0 / (1 + decay_rate * epoch)

    return schedule


def scheduled_inverse_time_decay(
    learning_rate: float, decay_rate: float, time_interval: int = 1000
) -> Schedule:
    """α = α0 / (1 + decay_rate · floor(epoch / time_interval)): decays in steps."""
    alpha0 = _check_positive("learning_rate", learning_rate)
    if decay_rate < 0:
        raise ValueError(f"decay_rate={decay_rate} is negative: expected decay_rate >= 0")
    if time_interval < 1:
        raise ValueError(f"time_interval={time_interval} is out of range: expected >= 1")

    def schedule(epoch: int) -> float:
        return alpha0 / (1 + decay_rate * math.floor(epoch / time_interval))

    return schedule


def exponential_decay(learning_rate: float, base: float = 0.95) -> Schedule:
    """α = base^epoch · α0 (base 0.95 by default)."""
    alpha0 = _check_positive("learning_rate", learning_rate)
    if not 0 < base <= 1:
        raise ValueError(f"base={base} is out of range: expected 0 < base <= 1")

    def schedule(epoch: int) -> float:
        return base**epoch * alpha0

    return schedule


def constant(learning_rate: float) -> Schedule:
    """α = α0 at every epoch."""
    alpha0 = _check_positive("learning_rate", learning_rate)

    def schedule(epoch: int) -> float:
        return alpha0

    return schedule
