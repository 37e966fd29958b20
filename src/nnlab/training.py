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
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from ._random import RandomLike, Rng, check_random_state
from .data import check_batch_size, random_mini_batches
from .initializers import WeightInit, check_layer_dims, initialize_parameters
from .network import (
    check_activations,
    check_keep_probs,
    compute_cost,
    model_backward,
    model_forward,
    num_layers,
    resolve_loss,
)
from .optimizers import Optimizer, Schedule, apply_updates, get_optimizer

Params = dict[str, np.ndarray]
#: Called after every epoch with (epoch, params, cost); returning True stops training.
EpochCallback = Callable[[int, Params, float], bool | None]


class DivergenceError(FloatingPointError):
    """The cost became NaN or infinite. ``params`` holds the last weights with a finite cost."""

    def __init__(self, epoch: int, cost: float, params: Params, learning_rate: float | None):
        self.epoch, self.cost, self.params = epoch, cost, params
        hint = (
            f"; try a smaller learning rate than {learning_rate:g}"
            if learning_rate
            else "; try a smaller learning rate"
        )
        super().__init__(
            f"training diverged at epoch {epoch}: the cost became {cost}{hint} "
            "(the last weights with a finite cost are kept)"
        )


@dataclass
class TrainResult:
    """What ``train`` returns.

    Attributes:
        params: the trained ``W1, b1, ..., WL, bL``.
        costs: the cost of every epoch (for mini-batches, the example-weighted mean over batches).
        optimizer_state: the optimizer's final state (e.g. Adam's v, s and t).
        epochs: how many epochs ran.
        learning_rates: the learning rate used in each epoch (None where the optimizer has
            no ``learning_rate`` of its own and no ``decay`` is given).
    """

    params: Params
    costs: list[float]
    optimizer_state: Any
    epochs: int
    learning_rates: list[float | None] = field(default_factory=list)


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


def check_training_data(X: np.ndarray, Y: np.ndarray, n_x: int, n_y: int) -> None:
    """X must be (n_x, m) and Y (n_y, m), finite, with m >= 1."""
    if X.ndim != 2 or X.shape[0] != n_x:
        raise ValueError(f"X has shape {X.shape}; expected (n_x, m) = ({n_x}, m)")
    if Y.ndim != 2 or Y.shape != (n_y, X.shape[1]):
        raise ValueError(f"Y has shape {Y.shape}; expected (n_y, m) = ({n_y}, {X.shape[1]})")
    if X.shape[1] == 0:
        raise ValueError("X holds no examples (m = 0)")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(Y))):
        raise ValueError("X and Y must be finite: they contain NaN or infinity")


class Prepared(NamedTuple):
    """``train``'s checked inputs: data in one float dtype, initial parameters (drawn from
    ``rng``), activations, keep probabilities, batch size, optimizer and loss."""

    X: np.ndarray
    Y: np.ndarray
    dtype: np.dtype
    rng: Rng
    params: Params
    activations: list[str]
    keep_probs: list[float]
    m: int
    batch_size: int
    optimizer: Optimizer
    base_lr: float | None
    loss: str


def prepare_training(
    X: np.ndarray,
    Y: np.ndarray,
    layer_dims: Sequence[int] | None,
    activations: Sequence[str] | None,
    *,
    init: str | WeightInit,
    init_scale: float | None,
    params: Mapping[str, np.ndarray] | None,
    optimizer: str | Optimizer,
    learning_rate: float,
    num_epochs: int,
    batch_size: int | None,
    lambd: float,
    keep_probs: float | Sequence[float] | None,
    loss: str | None,
    random_state: RandomLike,
) -> Prepared:
    """Check ``train``'s arguments and draw the initial parameters (the first draws from the
    generator); shared by the textbook loop and the fast path so both start identically."""
    X = np.asarray(X)
    if not np.issubdtype(X.dtype, np.floating):
        X = X.astype(np.float64)
    dtype = X.dtype
    Y = np.asarray(Y, dtype=dtype)
    rng = check_random_state(random_state)
    if params is None:
        if layer_dims is None:
            raise ValueError("train needs layer_dims (e.g. [2, 4, 1]) or initial params")
        dims = check_layer_dims(layer_dims)
        params = initialize_parameters(dims, init, rng, dtype=dtype, scale=init_scale)
    else:
        params = {k: np.array(v, dtype=dtype) for k, v in params.items()}
    L = num_layers(params)
    dims = [params["W1"].shape[1]] + [params[f"W{l}"].shape[0] for l in range(1, L + 1)]
    if layer_dims is not None and check_layer_dims(layer_dims) != dims:
        raise ValueError(f"layer_dims={list(layer_dims)} do not match the params' sizes {dims}")
    if activations is None:
        activations = ["relu"] * (L - 1) + ["sigmoid"]
    activations = check_activations(activations, L)
    kp = check_keep_probs(keep_probs, L)
    if lambd < 0:
        raise ValueError(f"lambd={lambd} is negative: expected lambd >= 0")
    if isinstance(num_epochs, bool) or not isinstance(num_epochs, int) or num_epochs < 0:
        raise ValueError(f"num_epochs={num_epochs!r} must be an int >= 0")
    check_training_data(X, Y, dims[0], dims[-1])
    m = X.shape[1]
    batch_size = check_batch_size(batch_size, m)
    if isinstance(optimizer, str):
        optimizer = get_optimizer(optimizer, learning_rate=learning_rate)
    base_lr = optimizer.hyperparams.get("learning_rate")
    return Prepared(X, Y, dtype, rng, params, activations, kp, m, batch_size, optimizer,
                    base_lr, resolve_loss(activations[-1], loss))


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
