"""What the training loop (``training.py``) and the fast path (``fast.py``) share: the checked
inputs of a run (``prepare_training``, so both start from the same draws), its result record and
the divergence error. It sits below both, so that neither imports the other's module to get them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from ._random import RandomLike, Rng, check_random_state
from .data import check_batch_size
from .initializers import WeightInit, check_layer_dims, initialize_parameters
from .network import check_activations, check_keep_probs, num_layers, resolve_loss
from .optimizers import Optimizer, get_optimizer

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
