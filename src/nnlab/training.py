"""The training loop: the course's ``model()`` generalized to any depth, optimizer and batch size.

One epoch = one pass over the data. With ``batch_size=None`` (full batch) an epoch is one
iteration of gradient descent; with mini-batches the columns are shuffled every epoch and each
batch makes one update. Each step is forward → cost → backward → optimizer update.

>>> import numpy as np
>>> from nnlab import train
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
from .data import random_mini_batches
from .initializers import WeightInit
from .network import (
    compute_cost,
    model_backward,
    model_forward,
    resolve_loss,
)
from .optimizers import Optimizer, Schedule, apply_updates
from .training_setup import (
    DivergenceError,
    EpochCallback,
    Params,
    TrainResult,
    prepare_training,
)


def train_step(
    params: Params,
    optimizer: Optimizer,
    opt_state: Any,
    X: np.ndarray,
    Y: np.ndarray,
    activations: Sequence[str],
    *,
    lambd: float = 0.0,
    keep_probs: Sequence[float] | None = None,
    rng: Rng | None = None,
    loss: str | None = None,
    fused: bool = True,
    learning_rate: float | None = None,
) -> tuple[Params, Any, float]:
    """One update on the batch (X, Y): forward, cost, backward, optimizer step.

    Returns the new parameters, the new optimizer state and the batch's cost (before the update).
    """
    loss_name = resolve_loss(activations[-1], loss)
    AL, caches = model_forward(X, params, activations, keep_probs, rng)
    cost = float(compute_cost(AL, Y, params, lambd, loss=loss_name))
    grads = model_backward(AL, Y, caches, lambd=lambd, loss=loss_name, fused=fused)
    updates, opt_state = optimizer.update(grads, opt_state, learning_rate=learning_rate)
    return apply_updates(params, updates), opt_state, cost


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
    random_state: RandomLike = None,
    shuffle_rng: Callable[[int], Rng] | None = None,
    dropout_rng: Callable[[int], Rng] | None = None,
    callback: EpochCallback | None = None,
    print_every: int = 0,
    fast: bool | str = True,
) -> TrainResult:
    """Train an L-layer network on X ``(n_x, m)`` and Y ``(n_y, m)``.

    Args:
        layer_dims: ``[n_x, n_1, ..., n_L]`` (may be omitted when ``params`` is given).
        activations: one per layer; default relu for hidden layers and sigmoid for the output.
        init, init_scale: the initializer (see ``initialize_parameters``), unless ``params``
            is given.
        params: start from these parameters instead of initializing.
        optimizer: "gd", "momentum", "rmsprop", "adam" (built with ``learning_rate``), or an
            ``Optimizer`` such as ``nnlab.optimizers.adam(0.001, beta1=0.9)``.
        learning_rate: α, used when ``optimizer`` is given by name.
        num_epochs: passes over the data (with the full batch, iterations).
        batch_size: examples per update; None for the full batch, 1 for stochastic descent.
        lambd: the L2 strength λ.  keep_probs: dropout keep probability per hidden layer.
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
        fast: True: run on ``nnlab.fast`` when it applies (textbook optimizers, float32 /
            float64): the same formulas and random draws on flat preallocated buffers; for
            small networks, when Numba is installed, whole epochs compiled, and for full-batch
            descent on inputs wider than twice the examples, W[1] carried in their span (both
            give the same results to float rounding). "exact" (or ``NNLAB_EXACT=1``): only the
            steps that give the code below's results bit for bit. False: the code below.

    Returns:
        A ``TrainResult``. Raises ``DivergenceError`` (with the last finite weights) if the cost
        becomes NaN or infinite.
    """
    if fast not in (True, False, "exact"):
        raise ValueError(f"fast must be True, False or 'exact', not {fast!r}")
    if fast:  # the fast path (fast.py): same arguments, same result; tests/test_fast.py
        from .fast import fast_path_applies, fast_train

        if fast_path_applies(X, params=params, optimizer=optimizer, activations=activations,
                             loss=loss):
            return fast_train(
                X, Y, layer_dims, activations, init=init, init_scale=init_scale, params=params,
                optimizer=optimizer, learning_rate=learning_rate, num_epochs=num_epochs,
                batch_size=batch_size, lambd=lambd, keep_probs=keep_probs, loss=loss,
                fused=fused, decay=decay, random_state=random_state, shuffle_rng=shuffle_rng,
                dropout_rng=dropout_rng, callback=callback, print_every=print_every,
                compiled=fast is True,
            )
    p = prepare_training(
        X, Y, layer_dims, activations, init=init, init_scale=init_scale, params=params,
        optimizer=optimizer, learning_rate=learning_rate, num_epochs=num_epochs,
        batch_size=batch_size, lambd=lambd, keep_probs=keep_probs, loss=loss,
        random_state=random_state,
    )
    X, Y, rng, params, activations, kp = p.X, p.Y, p.rng, p.params, p.activations, p.keep_probs
    m, batch_size, optimizer, base_lr = p.m, p.batch_size, p.optimizer, p.base_lr
    opt_state = optimizer.init(params)
    loss_name = p.loss

    costs: list[float] = []
    lrs: list[float | None] = []
    step = 0
    epoch = -1
    # A diverging run overflows on its way to inf / NaN: it is reported once, as a
    # DivergenceError naming the epoch, instead of as a stream of RuntimeWarnings.
    with np.errstate(over="ignore", invalid="ignore"):
        for epoch in range(num_epochs):
            lr = decay(epoch) if decay is not None else base_lr
            lrs.append(lr)
            if batch_size >= m:
                batches = [(X, Y)]
            else:
                shuffler = shuffle_rng(epoch) if shuffle_rng is not None else rng
                batches = random_mini_batches(X, Y, batch_size, shuffler)
            previous, total = params, 0.0
            for X_batch, Y_batch in batches:
                step_rng = dropout_rng(step) if dropout_rng is not None else rng
                params, opt_state, cost = train_step(
                    params, optimizer, opt_state, X_batch, Y_batch, activations,
                    lambd=lambd, keep_probs=kp, rng=step_rng, loss=loss_name, fused=fused,
                    learning_rate=lr,
                )
                total += cost * X_batch.shape[1]
                step += 1
            epoch_cost = total / m
            if not np.isfinite(epoch_cost):
                raise DivergenceError(epoch, epoch_cost, previous, lr)
            costs.append(epoch_cost)
            if print_every and epoch % print_every == 0:
                print(f"Cost after iteration {epoch}: {epoch_cost:f}")
            if callback is not None and callback(epoch, params, epoch_cost):
                break
    return TrainResult(params, costs, opt_state, epoch + 1, lrs)
