"""Optimizers as pure ``init`` / ``update`` pairs (in the style of optax), and learning-rate decay.

An optimizer is two functions:

- ``init(params) -> state``: a NamedTuple holding the step count and any moving averages;
- ``update(grads, state, learning_rate=None) -> (updates, state)``: ``updates`` are the steps to
  *add* to the parameters (``apply_updates`` does it); ``learning_rate`` overrides the optimizer's
  own for this step (that is how the training loop applies a decay schedule).

Neither changes its inputs. ``grads`` are keyed ``dW1, db1, ...``; state and updates are keyed
like the parameters, ``W1, b1, ...`` (and batch norm's ``gamma{l}``, ``beta{l}``, updated like
any parameter; its running statistics are never updated by an optimizer). The update rules,
with g = dθ and t the step count (from 1):

- gd:        θ -= α g
- momentum:  v = β v + (1-β) g;                                   θ -= α v
- rmsprop:   s = β2 s + (1-β2) g²;                                θ -= α g / (sqrt(s) + ε)
- adam:      v = β1 v + (1-β1) g,  s = β2 s + (1-β2) g²,
             v̂ = v / (1-β1^t),     ŝ = s / (1-β2^t);              θ -= α v̂ / (sqrt(ŝ) + ε)
- sgd:       scikit-learn's momentum, v = μ v - α g;  θ += v (Nesterov: θ += μ v - α g)

``OPTIMIZERS`` is the one registry: an entry per optimizer (its factory, its hyperparameters with
their defaults and the settings keys that set them, whether the fast path has its update).
``get_optimizer`` builds one by name, ``optimizer_hyperparams`` reads its keywords from named
settings (``lr``, ``beta``, ...) and ``registered_spec`` tells whether a factory built an
``Optimizer``. Adding an optimizer is a factory and one entry. ``SCHEDULES`` holds the
learning-rate schedules and ``schedule_from`` makes the course's decay from a run's settings.

>>> import numpy as np
>>> opt = adam(learning_rate=0.1)
>>> params = {"W1": np.array([[1.0]]), "b1": np.array([[0.0]])}
>>> state = opt.init(params)
>>> updates, state = opt.update({"dW1": np.array([[2.0]]), "db1": np.array([[0.0]])}, state)
>>> apply_updates(params, updates)["W1"].round(6).tolist(), int(state.t)
([[0.9]], 1)
"""

from __future__ import annotations

import inspect
import math
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
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
    """Zeros for each trained parameter: batch norm's running statistics (``running_mean{l}``,
    ``running_var{l}``) are not trained, so they get no moving averages (γ and β do)."""
    return {k: np.zeros_like(p) for k, p in params.items() if not k.startswith("running_")}


#: What each factory built: its ``update`` function → (name, hyperparameters). An ``Optimizer``
#: is registered (``registered_spec``) only when its own ``update`` is in here with the same name
#: and hyperparameters; the entries go when the functions do.
_BUILT: weakref.WeakKeyDictionary[Callable[..., Any], tuple[str, dict[str, float]]] = (
    weakref.WeakKeyDictionary()
)


def _registered(optimizer: Optimizer) -> Optimizer:
    """Record that a factory of this module built ``optimizer`` (see ``registered_spec``)."""
    _BUILT[optimizer.update] = (optimizer.name, dict(optimizer.hyperparams))
    return optimizer


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

    return _registered(Optimizer(init, update, "gd", {"learning_rate": alpha0}))


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

    return _registered(
        Optimizer(init, update, "momentum", {"learning_rate": alpha0, "beta": beta})
    )


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
    return _registered(Optimizer(init, update, "rmsprop", hp))


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
    return _registered(Optimizer(init, update, "adam", hp))


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
    return _registered(Optimizer(init, update, "sgd", hp))


# ---------------------------------------------------------------------------------------------
# The registry: one entry per optimizer. Every way in (``train``, ``Model``, ``TrainConfig``, the
# CLI, the playground, the sweeps, the estimators, the fast path) reads this table.

#: The settings key (``TrainConfig``, the playground, the CLI) that a hyperparameter is read from,
#: where it differs from the hyperparameter's own name (``learning_rate`` is the setting ``lr``).
SETTING_NAMES: dict[str, str] = {"learning_rate": "lr"}


@dataclass(frozen=True)
class Hyperparam:
    """One keyword of an optimizer's factory: its name, its default, and the settings key that
    sets it (``optimizer_hyperparams`` reads that key)."""

    name: str
    default: Any
    setting: str


@dataclass(frozen=True)
class OptimizerSpec:
    """A registry entry: how to build one optimizer and what it takes.

    Attributes:
        name: the optimizer's name (also ``Optimizer.name``).
        factory: builds it: ``factory(**hyperparams) -> Optimizer``; calling the entry does too.
        hyperparams: the factory's keywords with their defaults and settings keys, in order.
        fast: whether the fast path has this optimizer's update (only for an ``Optimizer`` the
            factory built: see ``registered_spec``).
        course: one of the course's optimizers, offered by ``TrainConfig`` (so the CLI and the
            sweeps) and the playground; the others (``sgd``) by ``Model`` and the estimators.

    >>> OPTIMIZERS["adam"].defaults()
    {'learning_rate': 0.001, 'beta1': 0.9, 'beta2': 0.999, 'epsilon': 1e-08}
    >>> OPTIMIZERS["momentum"](learning_rate=0.1).hyperparams
    {'learning_rate': 0.1, 'beta': 0.9}
    """

    name: str
    factory: Callable[..., Optimizer]
    hyperparams: tuple[Hyperparam, ...]
    fast: bool
    course: bool

    def __call__(self, **hyperparams: Any) -> Optimizer:
        return self.factory(**hyperparams)

    def defaults(self) -> dict[str, Any]:
        """The hyperparameters' defaults, by name."""
        return {h.name: h.default for h in self.hyperparams}


def _spec(factory: Callable[..., Optimizer], *, fast: bool, course: bool) -> OptimizerSpec:
    """An entry whose hyperparameters are read off the factory's signature (one source)."""
    hps = tuple(
        Hyperparam(p.name, p.default, SETTING_NAMES.get(p.name, p.name))
        for p in inspect.signature(factory).parameters.values()
    )
    return OptimizerSpec(factory.__name__, factory, hps, fast=fast, course=course)


#: Every optimizer, by name: ``OPTIMIZERS["adam"](learning_rate=0.01)`` builds one.
OPTIMIZERS: dict[str, OptimizerSpec] = {
    spec.name: spec
    for spec in (
        _spec(gd, fast=True, course=True),
        _spec(momentum, fast=True, course=True),
        _spec(rmsprop, fast=True, course=True),
        _spec(adam, fast=True, course=True),
        _spec(sgd, fast=False, course=False),
    )
}

#: The course's optimizers (``OptimizerSpec.course``): what ``TrainConfig`` and the playground
#: offer.
COURSE_OPTIMIZERS: tuple[str, ...] = tuple(n for n, s in OPTIMIZERS.items() if s.course)


def optimizer_spec(name: str) -> OptimizerSpec:
    """The registry entry of ``name``, with a clear error for an unknown one."""
    try:
        return OPTIMIZERS[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown optimizer {name!r}: expected one of {', '.join(OPTIMIZERS)}"
        ) from None


def get_optimizer(name: str, **hyperparams: Any) -> Optimizer:
    """Build an optimizer by name: ``get_optimizer("adam", learning_rate=0.01)``; ``sgd``'s
    ``nesterov`` may be any truth value (its factory makes it a bool)."""
    return optimizer_spec(name)(**hyperparams)


def optimizer_hyperparams(name: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """The keyword arguments of optimizer ``name``, read from a mapping of named settings (the
    keys of ``Hyperparam.setting``: ``lr``, ``beta``, ``beta1``, ``beta2``, ``epsilon``,
    ``momentum``, ``nesterov``). Other keys are ignored; a missing one keeps the default.

    >>> optimizer_hyperparams("rmsprop", {"lr": 0.01, "beta": 0.5, "beta2": 0.99, "epsilon": 1e-7})
    {'learning_rate': 0.01, 'beta2': 0.99, 'epsilon': 1e-07}
    """
    spec = optimizer_spec(name)
    return {h.name: values[h.setting] for h in spec.hyperparams if h.setting in values}


def registered_spec(optimizer: Any) -> OptimizerSpec | None:
    """The registry entry that built ``optimizer``, or None: None for an ``Optimizer`` made by
    hand (even one named "adam"), or one whose name or hyperparameters were changed afterwards.

    >>> registered_spec(adam(0.01)).name
    'adam'
    >>> hand_made = Optimizer(adam().init, lambda g, s, learning_rate=None: ({}, s), "adam", {})
    >>> registered_spec(hand_made) is None
    True
    """
    if not isinstance(optimizer, Optimizer):
        return None
    try:
        built = _BUILT.get(optimizer.update)
    except TypeError:  # not a function (cannot be weakly referenced)
        return None
    if built is None or built[0] != optimizer.name or built[1] != optimizer.hyperparams:
        return None
    return OPTIMIZERS.get(optimizer.name)

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


#: Every learning-rate schedule, by name: ``SCHEDULES[name](learning_rate, ...) -> Schedule``.
SCHEDULES: dict[str, Callable[..., Schedule]] = {
    "constant": constant,
    "inverse_time_decay": inverse_time_decay,
    "scheduled_inverse_time_decay": scheduled_inverse_time_decay,
    "exponential": exponential_decay,
}


def schedule_from(
    learning_rate: float, decay: float = 0.0, decay_interval: int | None = None
) -> Schedule | None:
    """The course's learning-rate decay from a run's settings (``TrainConfig``'s ``lr``,
    ``decay``, ``decay_interval``; the playground's; the estimators' ``learning_rate_init``,
    ``decay_rate``, ``decay_interval``): None when ``decay`` is 0 (α stays α0); else
    α = α0 / (1 + decay · epoch), or with ``decay_interval``
    α = α0 / (1 + decay · floor(epoch / decay_interval)).

    >>> schedule_from(0.1) is None
    True
    >>> [round(schedule_from(0.1, 1.0)(e), 4) for e in range(3)]
    [0.1, 0.05, 0.0333]
    >>> [schedule_from(0.1, 1.0, decay_interval=2)(e) for e in range(3)]
    [0.1, 0.1, 0.05]
    """
    if not decay:
        return None
    if decay_interval is not None:
        return SCHEDULES["scheduled_inverse_time_decay"](learning_rate, decay, decay_interval)
    return SCHEDULES["inverse_time_decay"](learning_rate, decay)
