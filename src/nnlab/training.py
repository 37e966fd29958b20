"""The training loop: the one epoch loop of nnlab, and the textbook stepper it drives.

One epoch = one pass over the data. With the full batch an epoch is one iteration of gradient
descent; with mini-batches the columns are shuffled every epoch (``rng.permutation(m)``) and
cut into batches of ``batch_size``, each making one update. ``EpochLoop`` owns everything
around the updates — the shuffles, the partition, the learning rate of each epoch, the epoch
cost, divergence, stopping, callbacks and the record of costs — and hands the updates to a
*stepper*. Every way in (``nnlab.train``, ``Model.fit`` and the estimators over it, the
playground, the sweeps, the experiments, ``nnlab train``) builds a stepper and runs this loop.

**The stepper protocol** (``Stepper``): a stepper holds the parameters and the optimizer state
and makes the updates of whole epochs:

- ``bind(X, Y)``: the training data, X ``(n_x, m)`` and Y ``(n_y, m)``, once per loop;
- ``run(plan) -> Steps``: the updates of ``len(plan.orders)`` epochs (an order is the epoch's
  permutation of the examples, None for the examples in order), on batches of
  ``plan.batch_size``, at learning rate ``plan.learning_rate``; it returns every batch's cost
  (before its update) as a ``(epochs, batches)`` array and the epoch costs (``steps_from``
  builds it from the costs in update order). When an epoch's cost (``epoch_cost``) is not
  finite, the stepper stops after it and goes back to its parameters and state from before that
  epoch;
- ``max_epochs_per_call(m, batch_size)``: how many epochs one ``run`` may take (1 for steppers
  that make one call per batch; many for compiled whole-epoch ones);
- ``params`` (the current parameters), ``state()`` (copies of the parameters and the optimizer
  state) and ``load_state(params, opt_state)`` (for callbacks that restore weights, and resume);
- ``draws_masks``: whether its updates draw dropout masks;
- optionally ``permutations(rng, m, n)``: the orders of the loop's next ``n`` epochs as the
  stepper's ``run`` takes them (an ``(n, m)`` array, or the stepper's own kind), the same as
  ``n`` calls of ``rng.permutation(m)``, and ``rng`` left after ``run`` as they leave it; or
  None to let the loop draw them (``FastTrainer``'s compiled epochs draw them inside).

Two steppers implement it: ``TextbookStepper`` below (``train_step``: the course's formulas of
``network.py`` and ``optimizers.py``, one call per batch), and ``nnlab.fast.FastTrainer`` (the
same formulas on flat preallocated buffers, optionally whole epochs compiled).
``nnlab.engine.explain_path`` chooses between them and says why.

>>> import numpy as np
>>> from nnlab import initialize_parameters, optimizers
>>> rng = np.random.RandomState(0)
>>> X = rng.randn(2, 200); Y = (X[0:1] * X[1:2] > 0).astype(float)
>>> params = initialize_parameters([2, 8, 1], "xavier", random_state=1)
>>> stepper = TextbookStepper(params, ["tanh", "sigmoid"], optimizers.adam(0.05))
>>> loop = EpochLoop(stepper, X, Y, batch_size=50, rng=np.random.RandomState(1))
>>> loop.run(300)
300
>>> loop.costs[-1] < loop.costs[0]
True
"""

from __future__ import annotations

import functools
import math
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

import numpy as np

from ._random import RandomLike, Rng, check_random_state, permutation
from .data import check_batch_size
from .initializers import WeightInit, check_layer_dims, initialize_parameters
from .losses import check_l1, check_poisson_targets
from .network import (
    batch_accuracy_sum,
    check_activations,
    check_batch_norm,
    check_keep_probs,
    compute_cost,
    model_backward,
    model_forward,
    num_layers,
    resolve_loss,
    update_running_stats,
)
from .optimizers import Optimizer, Schedule, apply_updates, get_optimizer
from .weights import check_sample_weight

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
        path: which stepper trained the network (see ``nnlab.engine.explain_path``).
    """

    params: Params
    costs: list[float]
    optimizer_state: Any
    epochs: int
    learning_rates: list[float | None] = field(default_factory=list)
    path: str = "textbook"


# ------------------------------------------------------------------------------ the protocol


class Plan(NamedTuple):
    """What one ``Stepper.run`` call does: an epoch per entry of ``orders``.

    Attributes:
        orders: per epoch, the permutation of the m examples (batches are its consecutive
            slices), or None for the examples in order; or what the stepper's
            ``permutations`` returned for them.
        batch_size: examples per update (m or more: the full batch).
        learning_rate: α for every update of the call.
        rng: the generator of the dropout masks (the loop's, shared with the shuffles).
        dropout_rng: instead, ``step -> generator`` for the masks of update number ``step``.
        first_step: the number of the call's first update (counted from the loop's start).
        on_batch: called after every update with (batch index in its epoch, cost, batch size);
            returning True stops the call after that update.
        accuracy: also count each batch's correct examples (``network.batch_accuracy_sum``).
        start: with one order, the batch of its epoch to begin at (``EpochLoop.run_batch``:
            earlier calls made the batches before it).
    """

    orders: Sequence[np.ndarray | None] | Any
    batch_size: int
    learning_rate: float | None
    rng: Rng | None = None
    dropout_rng: Callable[[int], Rng] | None = None
    first_step: int = 0
    on_batch: Callable[[int, float, int], bool | None] | None = None
    accuracy: bool = False
    start: int = 0


class EpochSteps(NamedTuple):
    """An epoch cut short (an ``on_batch`` stop, or a batch whose cost is not finite): the costs
    of the batches it made (and their counts of correct examples when the plan asked for them),
    and its cost (``epoch_cost`` of those batches)."""

    costs: np.ndarray
    corrects: np.ndarray | None
    cost: float


class Steps(NamedTuple):
    """What one ``Stepper.run`` call did, booked by the loop in bulk (no Python object per
    epoch).

    Attributes:
        costs: ``(e, B)``: the cost of every batch (before its update) of the e epochs that ran
            to their end, B batches each.
        totals: their e epoch costs (``epoch_cost``, or ``epoch_costs`` at once: the same bits).
        corrects: ``(e, B)``: each batch's count of correct examples (when the plan asked).
        cut: the epoch after those, when it stopped before its end; otherwise None.
        accuracies: the e epochs' accuracies, Σ_b corrects[e, b] / m summed in order (when
            ``steps_from`` had the counts; None: the loop sums ``corrects`` itself).
    """

    costs: np.ndarray
    totals: list[float]
    corrects: np.ndarray | None = None
    cut: EpochSteps | None = None
    accuracies: list[float] | None = None

    @property
    def epochs(self) -> int:
        """How many epochs the call ran (the cut one included)."""
        return len(self.totals) + (self.cut is not None)



def steps_from(costs: np.ndarray, sizes: np.ndarray, corrects: np.ndarray | None = None
               ) -> Steps:
    """A call's batch costs, in update order (``(n,)``, float64), cut into its whole epochs of
    ``sizes.size`` batches and the cut one after them (``corrects`` alike)."""
    B = sizes.size
    whole = costs.size // B * B
    matrix = costs[:whole].reshape(-1, B)
    cut = None
    if whole < costs.size:
        rest = costs[whole:]
        cut = EpochSteps(rest, None if corrects is None else corrects[whole:],
                         epoch_cost(rest, sizes))
    m = int(sizes.sum())
    if corrects is None:
        return Steps(matrix, row_sums(matrix, sizes, m), None, cut)
    right = corrects[:whole].reshape(-1, B)
    # costs and counts summed in one pass: the costs already times the batch sizes, both times 1
    # (exact), so each row's sum is the same operations as summing it alone: the same bits
    sums = row_sums(np.concatenate((np.multiply(matrix, sizes), right)), np.ones_like(sizes), m)
    e = right.shape[0]
    return Steps(matrix, sums[:e], right, cut, sums[e:])


def row_sums(matrix: np.ndarray, weights: np.ndarray, total: int) -> list[float]:
    """``Σ_b matrix[e, b] · weights[b] / total`` for every row e of ``matrix`` ``(e, B)``, summed
    in order (``epoch_cost`` with ``weights`` the batch sizes): row by row in Python for a few
    rows, by ``epoch_costs`` for many (cheaper from about ten on; the same bits)."""
    if matrix.shape[0] <= 8:
        out, ws = [], weights.tolist()
        for row in matrix.tolist():
            acc = 0.0
            for x, w in zip(row, ws, strict=True):
                acc += x * w
            out.append(acc / total)
        return out
    return epoch_costs(matrix, weights, total).tolist()


class Stepper(Protocol):
    """Makes the updates of whole epochs for ``EpochLoop`` (see the module docstring)."""

    path: str
    draws_masks: bool

    @property
    def params(self) -> Params: ...

    def bind(self, X: np.ndarray, Y: np.ndarray, sample_weight: np.ndarray | None = None
             ) -> None: ...

    def max_epochs_per_call(self, m: int, batch_size: int) -> int: ...

    def run(self, plan: Plan) -> Steps: ...

    def state(self) -> tuple[Params, Any]: ...

    def load_state(self, params: Mapping[str, np.ndarray], opt_state: Any) -> None: ...


@functools.lru_cache(maxsize=64)
def batch_sizes(m: int, batch_size: int) -> np.ndarray:
    """The sizes of an epoch's batches: ``batch_size`` each, the remainder last (float64,
    read-only: one array per (m, batch_size), shared)."""
    sizes = np.array([min(batch_size, m - k) for k in range(0, m, batch_size)], np.float64)
    sizes.flags.writeable = False
    return sizes


def epoch_cost(costs: np.ndarray, sizes: np.ndarray) -> float:
    """J of an epoch: Σ_b cost_b · m_b / Σ_b m_b over its batches, summed in batch order (the
    same bits as adding the batches one by one, as the course's loop does); NaN for an epoch
    that has no batch."""
    if costs.size == 0:
        return math.nan
    total, seen = 0.0, 0.0
    for cost, size in zip(costs.tolist(), sizes.tolist(), strict=False):
        total += cost * size
        seen += size
    return total / seen


def epoch_costs(costs: np.ndarray, sizes: np.ndarray, m: int) -> np.ndarray:
    """``epoch_cost`` of every row of ``costs`` ``(epochs, batches)`` (whole epochs of m
    examples), at once: the same operations, so the same bits."""
    return np.add.accumulate(np.multiply(costs, sizes), axis=1)[:, -1] / m


# ------------------------------------------------------------------------- the textbook step


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
    l1: float = 0.0,
    bn_momentum: float = 0.9,
) -> tuple[Params, Any, float]:
    """One update on the batch (X, Y): forward, cost, backward, optimizer step.

    ``lambd`` and ``l1`` are the L2 and L1 strengths. Batch-normalized layers (params holding
    ``gamma{l}``) normalize with the batch's statistics, and after the update their running
    statistics move towards them (``network.update_running_stats`` with β_bn = ``bn_momentum``).
    Returns the new parameters, the new optimizer state and the batch's cost (before the update).
    """
    params, opt_state, cost, _ = _step(params, optimizer, opt_state, X, Y, activations, lambd,
                                       keep_probs, rng, resolve_loss(activations[-1], loss),
                                       fused, learning_rate, l1=check_l1(l1),
                                       bn_momentum=check_bn_momentum(bn_momentum))
    return params, opt_state, cost


def _step(params: Params, optimizer: Optimizer, opt_state: Any, X: np.ndarray, Y: np.ndarray,
          activations: Sequence[str], lambd: float, keep_probs: Sequence[float] | None,
          rng: Rng | None, loss: str, fused: bool, learning_rate: float | None,
          *, l1: float = 0.0, sample_weight: np.ndarray | None = None,
          bn_momentum: float = 0.9,
          ) -> tuple[Params, Any, float, np.ndarray]:
    """``train_step`` that also returns A[L] (for the batch's accuracy)."""
    AL, caches = model_forward(X, params, activations, keep_probs, rng)
    cost = float(compute_cost(AL, Y, params, lambd, loss=loss, l1=l1,
                              sample_weight=sample_weight))
    grads = model_backward(AL, Y, caches, lambd=lambd, loss=loss, fused=fused, l1=l1,
                           sample_weight=sample_weight)
    updates, opt_state = optimizer.update(grads, opt_state, learning_rate=learning_rate)
    new = apply_updates(params, updates)
    if any(c.bn is not None for c in caches):
        new = update_running_stats(new, caches, bn_momentum)
    return new, opt_state, cost, AL


def check_bn_momentum(bn_momentum: float) -> float:
    """β_bn of the running statistics must be in [0, 1)."""
    value = float(bn_momentum)
    if not 0.0 <= value < 1.0:
        raise ValueError(f"bn_momentum={bn_momentum} is out of range: expected "
                         "0 <= bn_momentum < 1")
    return value


class TextbookStepper:
    """The course's step as a ``Stepper``: per batch ``model_forward`` → ``compute_cost`` →
    ``model_backward`` → ``optimizer.update`` → ``apply_updates`` (``train_step``).

    Args:
        params: the starting ``W1, b1, ..., WL, bL`` (not changed: every update makes new ones).
        activations: g[1], ..., g[L].
        optimizer: any ``Optimizer``;  opt_state: its state (default: ``optimizer.init``).
        lambd: L2 strength λ.  keep_probs: dropout keep probabilities of the hidden layers.
        loss: the loss (default: the output activation's natural loss).
        fused: dZ[L] = A[L] - Y when the loss's canonical link is the output activation.
        l1: L1 strength λ1 (the term (λ1/m) Σ ||W[l]||₁).
        bn_momentum: β_bn of the running statistics of batch-normalized layers (params holding
            ``gamma{l}``, ``beta{l}``, ``running_mean{l}``, ``running_var{l}``): after every
            update, μ_run = β_bn μ_run + (1 - β_bn) μ (σ² alike) with the batch's μ, σ².
            They live in params, so ``state()`` / ``load_state`` carry them.
    """

    path = "textbook"

    def __init__(
        self,
        params: Mapping[str, np.ndarray],
        activations: Sequence[str],
        optimizer: Optimizer,
        opt_state: Any = None,
        *,
        lambd: float = 0.0,
        keep_probs: float | Sequence[float] | None = None,
        loss: str | None = None,
        fused: bool = True,
        l1: float = 0.0,
        bn_momentum: float = 0.9,
    ):
        L = num_layers(params)
        check_batch_norm(None, params, L)
        self.bn_momentum = check_bn_momentum(bn_momentum)
        self._params = dict(params)
        self.activations = check_activations(activations, L)
        self.keep_probs = check_keep_probs(keep_probs, L)
        self.draws_masks = any(k < 1.0 for k in self.keep_probs)
        self.optimizer = optimizer
        self.opt_state = optimizer.init(self._params) if opt_state is None else opt_state
        self.lambd = float(lambd)
        self.l1 = check_l1(l1)
        self.loss = resolve_loss(self.activations[-1], loss)
        self.fused = fused

    @property
    def params(self) -> Params:
        return self._params

    def bind(self, X: np.ndarray, Y: np.ndarray, sample_weight: np.ndarray | None = None
             ) -> None:
        """The training data, and optionally a weight per example (``nnlab.weights``)."""
        self.X, self.Y, self.w = X, Y, sample_weight

    def max_epochs_per_call(self, m: int, batch_size: int) -> int:
        return 1

    def state(self) -> tuple[Params, Any]:
        """The parameters and the optimizer state (no copies needed: updates make new arrays)."""
        return self._params, self.opt_state

    def load_state(self, params: Mapping[str, np.ndarray], opt_state: Any) -> None:
        self._params, self.opt_state = dict(params), opt_state

    def run(self, plan: Plan) -> Steps:
        X, Y, w = self.X, self.Y, self.w
        m = X.shape[1]
        sizes = batch_sizes(m, min(plan.batch_size, m))
        step = plan.first_step
        costs: list[float] = []
        corrects: list[float] = []
        for order in plan.orders:
            previous = (self._params, self.opt_state)
            w_epoch = w if w is None or order is None else w[order]
            if order is None and plan.batch_size >= m:
                batches = [(X, Y)]
            elif order is None:
                batches = [(X[:, k : k + plan.batch_size], Y[:, k : k + plan.batch_size])
                           for k in range(0, m, plan.batch_size)]
            else:
                X_shuffled, Y_shuffled = X[:, order], Y[:, order]
                batches = [(X_shuffled[:, k : k + plan.batch_size],
                            Y_shuffled[:, k : k + plan.batch_size])
                           for k in range(0, m, plan.batch_size)]
            total, stopped = 0.0, False  # Σ cost · m_b, to tell a non-finite epoch cost
            for b, (X_batch, Y_batch) in enumerate(batches[plan.start:], start=plan.start):
                w_batch = (None if w_epoch is None
                           else w_epoch[b * plan.batch_size : (b + 1) * plan.batch_size])
                rng = plan.dropout_rng(step) if plan.dropout_rng is not None else plan.rng
                self._params, self.opt_state, cost, AL = _step(
                    self._params, self.optimizer, self.opt_state, X_batch, Y_batch,
                    self.activations, self.lambd, self.keep_probs, rng, self.loss, self.fused,
                    plan.learning_rate, l1=self.l1, sample_weight=w_batch,
                    bn_momentum=self.bn_momentum,
                )
                step += 1
                costs.append(cost)
                total += cost * X_batch.shape[1]
                if plan.accuracy:
                    corrects.append(batch_accuracy_sum(AL, Y_batch, self.activations[-1]))
                if plan.on_batch is not None and plan.on_batch(b, cost, X_batch.shape[1]):
                    stopped = True
                    break
            if not math.isfinite(total):
                self._params, self.opt_state = previous
                break
            if stopped:
                break
        return steps_from(np.array(costs, np.float64), sizes,
                          np.array(corrects, np.float64) if plan.accuracy else None)


# ------------------------------------------------------------------------------- the loop


#: ``free_epochs`` of a callback that never needs more than the logs, whenever it reads them.
ANY_EPOCHS = sys.maxsize


class LoopCallback:
    """What ``EpochLoop`` calls. Subclasses override what they need; ``loop.stop_training =
    True`` stops the loop after the current batch (from ``on_batch_end``) or epoch.

    ``per_batch``: the loop calls ``on_batch_end`` (the compiled stepper then makes one call per
    batch). ``free_epochs``: how many epochs the loop may run in one stepper call before this
    callback must look (several epochs per call save a Python round trip each).
    """

    per_batch = False

    def free_epochs(self, loop: EpochLoop) -> int:
        """How many epochs may run in one stepper call, from the next one on: during all of them
        but the last, ``on_epoch_end`` (called for each after the call) reads only its logs —
        not the weights — and neither stops training nor changes the learning rate or the
        stepper; after the last one, where ``loop.stepper`` holds that epoch's weights, it may
        do anything. The default, 1: after every epoch. ``ANY_EPOCHS``: logs only, always."""
        return 1

    def on_epoch_begin(self, epoch: int, loop: EpochLoop) -> None:
        """Before the epoch's shuffle (a learning-rate schedule may set ``loop.learning_rate``)."""

    def on_batch_end(self, batch: int, cost: float, size: int, loop: EpochLoop) -> None:
        """After every update (only when ``per_batch``)."""

    def on_epoch_end(self, epoch: int, logs: dict[str, float], loop: EpochLoop) -> None:
        """After every epoch: ``logs`` holds ``loss`` (the epoch cost), ``learning_rate`` (unless
        the optimizer keeps its own) and, when the loop counts them, ``accuracy``.
        ``epoch == loop.last_in_call``: the stepper's weights are this epoch's."""

    def on_epochs_end(self, first: int, logs: dict[str, list[float]], loop: EpochLoop) -> None:
        """After a stepper call, for its epochs ``first, first + 1, ...``: ``logs`` maps each
        name to a list with one entry per epoch. By default ``on_epoch_begin`` (for all but the
        first, which had it before the call) and ``on_epoch_end`` for each epoch in turn;
        callbacks that can book many epochs at once override it."""
        items = list(logs.items())
        for e in range(len(logs["loss"])):
            epoch = first + e
            if e:
                self.on_epoch_begin(epoch, loop)
            self.on_epoch_end(epoch, {k: v[e] for k, v in items}, loop)
            if loop.stop_training and epoch < loop.last_in_call:
                raise RuntimeError(
                    f"{type(self).__name__} stopped training after epoch {epoch}, inside a "
                    f"stepper call that ran on to epoch {loop.last_in_call}: its "
                    "free_epochs allowed that call"
                )


class EpochLoop:
    """The epoch loop: shuffle, partition, update through a ``Stepper``, record, call back.

    Args:
        stepper: makes the updates (``TextbookStepper`` or ``nnlab.fast.FastTrainer``).
        X, Y: the training data, ``(n_x, m)`` and ``(n_y, m)``.
        batch_size: examples per update; None for the full batch.
        shuffle: shuffle the examples every epoch (mini-batches only).
        rng: draws every shuffle and dropout mask, in the order the updates need them.
        shuffle_rng: ``epoch -> rng`` for each epoch's shuffle instead.
        dropout_rng: ``step -> rng`` for the masks of each update instead.
        learning_rate: α of every epoch, or a schedule ``epoch -> α``; callbacks may also set
            ``loop.learning_rate`` in ``on_epoch_begin``.
        callbacks: ``LoopCallback`` objects.
        accuracy: also log each epoch's training accuracy (of the batches, before their update).
        first_epoch: the number of the first epoch (what schedules and logs see).
        record_batches: also keep every batch's cost (``batch_costs``).
        sample_weight: a weight ``(m,)`` per example (``nnlab.weights``): each batch's cost is
            its examples' weighted mean, and an epoch's cost Σ_b cost_b m_b / m (as
            scikit-learn's ``loss_``). The stepper must take weights (``bind``'s third
            argument; the compiled whole-epoch path does not: ``explain_path(weighted=True)``).

    After ``run``: ``costs``, ``learning_rates`` (and ``accuracies``) of every epoch, ``epoch``
    (the next epoch's number), ``step`` (updates made). A non-finite epoch cost raises
    ``DivergenceError``; the stepper is then back at the weights and state before that epoch.
    """

    def __init__(
        self,
        stepper: Stepper,
        X: np.ndarray,
        Y: np.ndarray,
        *,
        batch_size: int | None = None,
        shuffle: bool = True,
        rng: RandomLike = None,
        shuffle_rng: Callable[[int], Rng] | None = None,
        dropout_rng: Callable[[int], Rng] | None = None,
        learning_rate: float | Schedule | None = None,
        callbacks: Sequence[LoopCallback] = (),
        accuracy: bool = False,
        first_epoch: int = 0,
        record_batches: bool = False,
        sample_weight: np.ndarray | None = None,
    ):
        self.stepper = stepper
        self.record_batches = record_batches
        self.batch_costs: list[float] = []
        self.m = X.shape[1]
        self.batch_size = min(check_batch_size(batch_size, self.m), self.m)
        self.sizes = batch_sizes(self.m, self.batch_size)
        self._ones = np.ones_like(self.sizes)  # (an accuracy is Σ corrects / Σ sizes)
        self.full_batch = self.batch_size >= self.m
        self.shuffle = shuffle
        self.rng = check_random_state(rng)
        self.shuffle_rng, self.dropout_rng = shuffle_rng, dropout_rng
        self.schedule = learning_rate if callable(learning_rate) else None
        self.learning_rate: float | None = None if callable(learning_rate) else learning_rate
        self.callbacks = list(callbacks)
        self.accuracy = accuracy
        self.epoch = int(first_epoch)
        self.step = 0
        self.stop_training = False
        self.last_in_call = self.epoch - 1  # the last epoch of the latest stepper call
        self.costs: list[float] = []
        self.learning_rates: list[float | None] = []  # None: the optimizer's own
        self.accuracies: list[float] = []
        self._partial: _PartialEpoch | None = None  # an epoch under way (``run_batch``)
        self._X, self._Y = X, Y
        self.sample_weight = (None if sample_weight is None
                              else check_sample_weight(sample_weight, self.m, X.dtype))
        self._bind(stepper)

    def _bind(self, stepper: Stepper) -> None:
        if self.sample_weight is None:
            stepper.bind(self._X, self._Y)
        else:
            stepper.bind(self._X, self._Y, self.sample_weight)

    def replace_stepper(self, stepper: Stepper) -> None:
        """Go on with another stepper (e.g. a callback changed the optimizer) on the same data."""
        self._bind(stepper)
        self.stepper = stepper

    def _epochs_per_call(self, remaining: int) -> int:
        """How many epochs the next stepper call runs: as many as the stepper takes and every
        callback's ``free_epochs`` allows, when α is constant and no shuffle shares a generator
        with the dropout masks (its draws alternate with theirs); otherwise one."""
        if (remaining <= 1 or self.schedule is not None
                or not (self.full_batch or not self.shuffle or not self.stepper.draws_masks)):
            return 1
        n = min(remaining, self.stepper.max_epochs_per_call(self.m, self.batch_size))
        for cb in self.callbacks:
            n = min(n, cb.free_epochs(self))
        return max(1, n)

    def _order(self, epoch: int) -> np.ndarray | None:
        if self.full_batch or not self.shuffle:
            return None
        shuffler = self.shuffle_rng(epoch) if self.shuffle_rng is not None else self.rng
        return permutation(shuffler, self.m)  # the course's shuffle

    def _orders(self, first: int, n: int) -> Sequence[np.ndarray | None] | Any:
        """The orders of epochs first, ..., first + n - 1: the stepper's (``permutations``:
        the same draws as n ``_order`` calls), else drawn one by one."""
        if n > 1 and self.shuffle and not self.full_batch and self.shuffle_rng is None:
            draw = getattr(self.stepper, "permutations", None)
            rows = None if draw is None else draw(self.rng, self.m, n)
            if rows is not None:
                return rows
        return [self._order(first + e) for e in range(n)]

    def run(self, epochs: int) -> int:
        """Train ``epochs`` more epochs (fewer when a callback stops); returns how many ran.
        An epoch that ``run_batch`` left under way is finished first, and counts as one."""
        done = 0
        self.stop_training = False
        if epochs > 0 and self._partial is not None:
            while self._partial is not None:
                self.run_batch()
            done = 1
        per_batch = [cb for cb in self.callbacks if cb.per_batch]

        def on_batch(b: int, cost: float, size: int) -> bool:
            for cb in per_batch:
                cb.on_batch_end(b, cost, size, self)
            return self.stop_training

        with np.errstate(over="ignore", invalid="ignore"):
            while done < epochs and not self.stop_training:
                n = self._epochs_per_call(epochs - done)
                first = self.epoch
                for cb in self.callbacks:
                    cb.on_epoch_begin(first, self)
                if self.schedule is not None:
                    self.learning_rate = self.schedule(first)
                lr = self.learning_rate  # None: the optimizer's own
                orders = self._orders(first, n)
                steps = self.stepper.run(Plan(
                    orders, self.batch_size, lr, self.rng, self.dropout_rng, self.step,
                    on_batch if per_batch else None, self.accuracy,
                ))
                done += self._record(first, steps, lr)
        return done

    def set_learning_rate(self, learning_rate: float | Schedule | None) -> None:
        """α from the next update on: a constant, a schedule ``epoch -> α`` (from this epoch),
        or None for the optimizer's own."""
        if callable(learning_rate):
            self.schedule = learning_rate
            self.learning_rate = learning_rate(self.epoch)
        else:
            self.schedule, self.learning_rate = None, learning_rate

    @property
    def batch_in_epoch(self) -> int:
        """How many batches of the epoch under way ``run_batch`` has made (0: none)."""
        return 0 if self._partial is None else len(self._partial.costs)

    def run_batch(self) -> float:
        """One update: the next batch of the epoch under way, its order drawn (and
        ``on_epoch_begin`` called) at its first batch, the same draws as ``run`` makes. The batch
        that completes the epoch books it as ``run`` would (its cost from all its batches, the
        callbacks' logs); so an epoch made a batch at a time is the epoch ``run(1)`` makes, bit
        for bit. Returns the batch's cost (before its update). A cost that is not finite puts the
        stepper back at the weights from before the epoch and raises ``DivergenceError``."""
        with np.errstate(over="ignore", invalid="ignore"):
            if self._partial is None:
                epoch = self.epoch
                for cb in self.callbacks:
                    cb.on_epoch_begin(epoch, self)
                if self.schedule is not None:
                    self.learning_rate = self.schedule(epoch)
                params, opt_state = self.stepper.state()
                self._partial = _PartialEpoch(self._order(epoch), _copies(params), opt_state,
                                              [], [])
            p = self._partial
            b = len(p.costs)
            lr = self.learning_rate  # (set_learning_rate may change it between batches)
            per_batch = [cb for cb in self.callbacks if cb.per_batch]

            def one_batch(b: int, cost: float, size: int) -> bool:
                for cb in per_batch:
                    cb.on_batch_end(b, cost, size, self)
                return True

            steps = self.stepper.run(Plan(
                [p.order], self.batch_size, lr, self.rng, self.dropout_rng, self.step + b,
                one_batch, self.accuracy, start=b))
            made = steps.cut if steps.cut is not None else EpochSteps(
                steps.costs[0], None if steps.corrects is None else steps.corrects[0], 0.0)
            cost = float(made.costs[0])
            p.costs.append(cost)
            if made.corrects is not None:
                p.corrects.append(float(made.corrects[0]))
            if not math.isfinite(cost):
                self._partial = None
                self.stepper.load_state(p.params, p.opt_state)
                raise DivergenceError(self.epoch, cost, _copies(p.params), lr)
            if len(p.costs) == self.sizes.size:  # the epoch is complete: book it
                self._partial = None
                self._record(self.epoch, steps_from(
                    np.array(p.costs), self.sizes,
                    np.array(p.corrects) if self.accuracy else None), lr)
            return cost

    def _record(self, first: int, steps: Steps, lr: float | None) -> int:
        """Book the epochs of one stepper call in bulk (costs, learning rates, accuracies, the
        update count), hand their logs to the callbacks, and raise ``DivergenceError`` at an
        epoch whose cost is not finite (the callbacks see the epochs before it)."""
        n = steps.epochs
        self.last_in_call = first + n - 1
        cut = steps.cut
        self.step += steps.costs.size + (0 if cut is None else cut.costs.size)
        if self.record_batches:
            self.batch_costs.extend(steps.costs.ravel().tolist())
            if cut is not None:
                self.batch_costs.extend(cut.costs.tolist())
        totals = list(steps.totals)
        if cut is not None:
            totals.append(cut.cost)
        finite = all(map(math.isfinite, totals))
        good = totals if finite else totals[: [math.isfinite(c) for c in totals].index(False)]
        k = len(good)
        self.costs.extend(good)
        self.learning_rates.extend([lr] * k)
        self.epoch = first + k
        logs: dict[str, list[float]] = {"loss": good}
        if steps.corrects is not None:  # summed batch by batch, as the course's loops do
            # (each row summed in order, as Python's sum does: the same bits)
            accuracies = (list(steps.accuracies) if steps.accuracies is not None
                          else row_sums(steps.corrects, self._ones, self.m))
            if cut is not None and cut.corrects is not None:
                accuracies.append(sum(cut.corrects.tolist())
                                  / sum(self.sizes[: cut.corrects.size].tolist()))
            accuracies = accuracies[:k]
            self.accuracies.extend(accuracies)
            logs["accuracy"] = accuracies
        if lr is not None:
            logs["learning_rate"] = [float(lr)] * k
        if k:
            for cb in self.callbacks:
                cb.on_epochs_end(first, logs, self)
        if not finite:
            raise DivergenceError(first + k, totals[k], _copies(self.stepper.params), lr)
        return n


class _PartialEpoch(NamedTuple):
    """An epoch that ``EpochLoop.run_batch`` makes a batch at a time: its order, the state
    before it (to go back to), and the costs (and correct counts) of its batches so far."""

    order: np.ndarray | None
    params: Params
    opt_state: Any
    costs: list[float]
    corrects: list[float]


def _copies(params: Mapping[str, np.ndarray]) -> Params:
    return {k: np.array(v, copy=True) for k, v in params.items()}


class PrintCost(LoopCallback):
    """Print "Cost after iteration i: J" every ``every`` epochs, as the course's loops do."""

    def __init__(self, every: int):
        self.every = every

    def free_epochs(self, loop: EpochLoop) -> int:
        return ANY_EPOCHS

    def on_epoch_end(self, epoch: int, logs: dict[str, float], loop: EpochLoop) -> None:
        if self.every and epoch % self.every == 0:
            print(f"Cost after iteration {epoch}: {logs['loss']:f}")


class CallEachEpoch(LoopCallback):
    """``callback(epoch, params, cost) -> stop?`` after every epoch, with a copy of the
    parameters (``train``'s ``callback``)."""

    def __init__(self, callback: EpochCallback):
        self.callback = callback

    def on_epoch_end(self, epoch: int, logs: dict[str, float], loop: EpochLoop) -> None:
        if self.callback(epoch, _copies(loop.stepper.params), logs["loss"]):
            loop.stop_training = True


# ------------------------------------------------------------------------- checked inputs


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


class TrainingInputs(NamedTuple):
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
    l1: float = 0.0,
    batch_norm: bool | Sequence[bool] | None = None,
) -> TrainingInputs:
    """Check ``train``'s arguments and draw the initial parameters (the first draws from the
    generator), whichever stepper then trains. ``batch_norm`` (a bool or one per hidden layer)
    gives the drawn parameters γ, β and running statistics; with ``params`` given it must agree
    with them (None: whatever they hold)."""
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
        params = initialize_parameters(dims, init, rng, dtype=dtype, scale=init_scale,
                                       batch_norm=batch_norm)
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
    check_batch_norm(batch_norm, params, L)
    if lambd < 0:
        raise ValueError(f"lambd={lambd} is negative: expected lambd >= 0")
    check_l1(l1)
    if isinstance(num_epochs, bool) or not isinstance(num_epochs, int) or num_epochs < 0:
        raise ValueError(f"num_epochs={num_epochs!r} must be an int >= 0")
    check_training_data(X, Y, dims[0], dims[-1])
    m = X.shape[1]
    batch_size = check_batch_size(batch_size, m)
    if isinstance(optimizer, str):
        optimizer = get_optimizer(optimizer, learning_rate=learning_rate)
    base_lr = optimizer.hyperparams.get("learning_rate")
    loss = resolve_loss(activations[-1], loss)
    if loss == "poisson":
        check_poisson_targets(Y)
    return TrainingInputs(X, Y, dtype, rng, params, activations, kp, m, batch_size, optimizer,
                          base_lr, loss)


__all__ = [
    "ANY_EPOCHS",
    "CallEachEpoch",
    "DivergenceError",
    "EpochLoop",
    "EpochSteps",
    "LoopCallback",
    "Plan",
    "PrintCost",
    "Stepper",
    "Steps",
    "TextbookStepper",
    "TrainResult",
    "TrainingInputs",
    "batch_sizes",
    "epoch_cost",
    "epoch_costs",
    "prepare_training",
    "steps_from",
    "train_step",
]
