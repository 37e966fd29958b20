"""The engine's way in from arrays: ``train``, and ``make_stepper`` for the other ways in.

``train(X, Y, ...)`` is the course's ``model()`` generalized to any depth, optimizer and batch
size: it checks its arguments (``training.prepare_training``), asks ``explain_path`` which
stepper to use, builds it (``make_stepper``) and runs the one epoch loop
(``training.EpochLoop``). ``Model.fit``, the playground and the experiments build their
steppers with ``make_stepper`` too, so every way in makes the same decision.

>>> import numpy as np
>>> rng = np.random.RandomState(0)
>>> X = rng.randn(2, 200); Y = (X[0:1] * X[1:2] > 0).astype(float)
>>> result = train(X, Y, [2, 8, 1], ["tanh", "sigmoid"], init="xavier", optimizer="adam",
...                learning_rate=0.05, num_epochs=300, random_state=1)
>>> result.costs[-1] < result.costs[0]
True
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ._random import RandomLike, Rng
from .fast.path import COMPILED, DUAL, Path, check_fast, explain_path
from .fast.stepper import FastTrainer
from .initializers import WeightInit
from .optimizers import Optimizer, Schedule
from .training import (
    CallEachEpoch,
    EpochCallback,
    EpochLoop,
    LoopCallback,
    PrintCost,
    Stepper,
    TextbookStepper,
    TrainResult,
    prepare_training,
)

__all__ = ["explain_path", "fast_train", "make_stepper", "train"]


def make_stepper(
    path: Path,
    params: Mapping[str, np.ndarray],
    activations: Sequence[str],
    optimizer: Optimizer,
    opt_state: Any = None,
    *,
    dtype: Any = None,
    fast: bool | str = True,
    weighted: bool = False,
    bn_momentum: float = 0.9,
    **network: Any,
) -> Stepper:
    """The stepper ``path`` names (from ``explain_path``), holding ``params`` and the optimizer
    state. ``network`` holds the settings both steppers take alike (``lambd``, ``l1``,
    ``keep_probs``, ``loss``, ``fused``). With ``fast="exact"`` a fast stepper gives the
    textbook's numbers bit for bit. ``bn_momentum``: β_bn of the running statistics of
    batch-normalized layers."""
    if not path.fast:
        return TextbookStepper(params, activations, optimizer, opt_state,
                               bn_momentum=bn_momentum, **network)
    trainer = FastTrainer(params, activations, optimizer=optimizer, dtype=dtype,
                          compiled=fast is True and not weighted, bn_momentum=bn_momentum,
                          **network)
    if (path.name == COMPILED) != trainer.compiled:  # explain_path and FastTrainer agree
        raise RuntimeError(f"path {path.name!r} but the trainer compiled={trainer.compiled}")
    if opt_state is not None:
        trainer.set_optimizer_state(opt_state)
    if path.name == DUAL:
        trainer.carry_first_layer()
    return trainer


def train(
    X: np.ndarray,
    Y: np.ndarray,
    layer_dims: Sequence[int] | None = None,
    activations: Sequence[str] | None = None,
    *,
    init: str | WeightInit = "he",
    init_scale: float | None = None,
    params: Mapping[str, np.ndarray] | None = None,
    optimizer: str | Optimizer = "gd",
    learning_rate: float = 0.0075,
    num_epochs: int = 3000,
    batch_size: int | None = None,
    lambd: float = 0.0,
    keep_probs: float | Sequence[float] | None = None,
    loss: str | None = None,
    fused: bool = True,
    decay: Schedule | None = None,
    l1: float = 0.0,
    random_state: RandomLike = None,
    shuffle_rng: Callable[[int], Rng] | None = None,
    dropout_rng: Callable[[int], Rng] | None = None,
    callback: EpochCallback | None = None,
    print_every: int = 0,
    fast: bool | str = True,
    sample_weight: Any = None,
    batch_norm: bool | Sequence[bool] | None = None,
    bn_momentum: float = 0.9,
) -> TrainResult:
    """Train an L-layer network on X ``(n_x, m)`` and Y ``(n_y, m)``.

    Args:
        layer_dims: ``[n_x, n_1, ..., n_L]`` (may be omitted when ``params`` is given).
        activations: one per layer; default relu for hidden layers and sigmoid for the output.
        init, init_scale: the initializer (see ``initialize_parameters``), unless ``params``
            is given.
        params: start from these parameters instead of initializing.
        optimizer: "gd", "momentum", "rmsprop", "adam", "sgd" (built with ``learning_rate``), or
            an ``Optimizer`` such as ``nnlab.optimizers.adam(0.001, beta1=0.9)``.
        learning_rate: α, used when ``optimizer`` is given by name.
        num_epochs: passes over the data (with the full batch, iterations).
        batch_size: examples per update; None for the full batch, 1 for stochastic descent.
        lambd: the L2 strength λ.  keep_probs: dropout keep probability per hidden layer.
        l1: the L1 strength λ1: the cost gains (λ1/m) Σ_l ||W[l]||₁, dW[l] gains
            (λ1/m) sign(W[l]) (0 where W[l] = 0); biases are not penalized.
        loss: defaults to the natural loss of the output activation.
        fused: use dZ[L] = A[L] - Y when the loss and output activation allow it.
        decay: a schedule ``epoch -> α`` (see ``nnlab.optimizers``), applied each epoch.
        random_state: seeds everything: the initialization, then the shuffles and dropout masks,
            all drawn in order from one generator.
        shuffle_rng: ``epoch -> rng`` for the shuffle of each epoch instead (the course's optimizer
            notebook reseeds every epoch: ``lambda e: np.random.RandomState(11 + e)``).
        dropout_rng: ``step -> rng`` for the dropout masks of each update instead (the course's
            dropout notebook reseeds every forward pass: ``lambda t: np.random.RandomState(1)``).
            A callable with a true ``constant`` attribute promises a generator in the same
            state at every call (as that one): the fast path then draws the masks once.
        callback: ``(epoch, params, cost) -> stop?`` called after every epoch.
        print_every: print "Cost after iteration i: J" every that many epochs (0: never).
        fast: the one switch of the fast path (``nnlab.fast``): True runs the fastest stepper
            that applies (equal to the textbook to float rounding), "exact" only steppers that
            give the textbook's numbers bit for bit, False the textbook's functions.
            ``explain_path`` says which one runs and why; ``result.path`` names it.
        sample_weight: a weight ``(m,)`` per example (``nnlab.weights``): each batch's cost
            is the weighted mean of its examples' losses, with the penalties over Σ w instead
            of m, so integer weights train as repeated examples do.
        batch_norm: batch-normalize every hidden layer (True) or those flagged (one bool per
            hidden layer): Z̃ = γ ⊙ (Z - μ) / √(σ² + ε) + β with the batch's μ, σ² while
            training, γ and β trained (not L2-penalized), no b; None: as ``params`` hold (any
            params with ``gamma{l}`` train batch-normalized).
        bn_momentum: β_bn of the running statistics that ``predict`` uses:
            μ_run = β_bn μ_run + (1 - β_bn) μ after every update (σ² alike).

    Returns:
        A ``TrainResult``. Raises ``DivergenceError`` (with the last finite weights) if the cost
        becomes NaN or infinite.
    """
    fast = check_fast(fast)
    p = prepare_training(
        X, Y, layer_dims, activations, init=init, init_scale=init_scale, params=params,
        optimizer=optimizer, learning_rate=learning_rate, num_epochs=num_epochs,
        batch_size=batch_size, lambd=lambd, keep_probs=keep_probs, loss=loss,
        random_state=random_state, l1=l1, batch_norm=batch_norm,
    )
    dims = [p.params["W1"].shape[1]] + [p.params[f"W{l}"].shape[0]
                                        for l in range(1, len(p.activations) + 1)]
    path = explain_path(optimizer=p.optimizer, dtype=p.dtype, activations=p.activations,
                        dims=dims, loss=p.loss, fused=fused, lambd=lambd, l1=l1, params=p.params,
                        m=p.m, batch_size=p.batch_size, watched=callback is not None,
                        fast=fast, weighted=sample_weight is not None)
    stepper = make_stepper(path, p.params, p.activations, p.optimizer, lambd=lambd, l1=l1,
                           keep_probs=p.keep_probs, loss=p.loss, fused=fused, dtype=p.dtype,
                           fast=fast, weighted=sample_weight is not None,
                           bn_momentum=bn_momentum)
    callbacks: list[LoopCallback] = []
    if print_every:
        callbacks.append(PrintCost(print_every))
    if callback is not None:
        callbacks.append(CallEachEpoch(callback))
    loop = EpochLoop(stepper, p.X, p.Y, batch_size=p.batch_size, rng=p.rng,
                     shuffle_rng=shuffle_rng, dropout_rng=dropout_rng,
                     learning_rate=decay if decay is not None else p.base_lr,
                     callbacks=callbacks, sample_weight=sample_weight)
    loop.run(num_epochs)
    return TrainResult(stepper.params, loop.costs, stepper.state()[1], loop.epoch,
                       loop.learning_rates, path.name)


def fast_train(X: np.ndarray, Y: np.ndarray, *args: Any, compiled: bool = True,
               **kwargs: Any) -> TrainResult:
    """``train`` with ``fast=True`` (``compiled``) or ``fast="exact"``: kept for code written
    against nnlab 0.2."""
    return train(X, Y, *args, fast=True if compiled else "exact", **kwargs)
