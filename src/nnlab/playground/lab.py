"""Training on the server: one ``LabRun`` per network, a ``Lab`` holding a session's runs and
data.

A ``LabRun`` trains exactly as ``nnlab.train(..., fast="exact")`` does with
``random_state=seed``: one ``RandomState(seed)`` draws the initial weights, then every epoch's
shuffle and every dropout mask, in that order; the stepper ``explain_path`` chooses for
``fast="exact"`` runs the epochs of the one epoch loop (``nnlab.training.EpochLoop``), a tick at a
time. So the same settings and seed give the same run, epoch for epoch, whatever the pace at
which the page watches it.

The page is sent snapshots: the output over a grid covering the points (the decision boundary as a
heatmap), each hidden unit's output over a coarser grid, the weights, and the train / test loss and
accuracy curves. Grids travel as base64 bytes (0..255), curves as short lists of numbers.

>>> from nnlab.playground.settings import parse_settings
>>> lab = Lab(parse_settings({"dataset": "xor", "n_points": 60, "layers": [3]}))
>>> _ = lab.step(5)
>>> lab.runs[0].epoch
5

Learning settings change without a reset (``Lab.change``: from the next update on, the weights,
the optimizer's state and the epoch count kept; each change is marked on the curves), and
``Lab.step_once`` makes one epoch or one mini-batch and says what it did to the cost:

>>> lab.change(parse_settings({"dataset": "xor", "n_points": 60, "layers": [3], "lr": 0.1}))
['α 0.01 → 0.1']
>>> report = lab.step_once("epoch")["step"]
>>> report["epoch_before"], report["epoch_after"]
(5, 6)
"""

from __future__ import annotations

import base64
import math
import os
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import fields
from typing import Any

import numpy as np

from ..datasets.features import expand_features
from ..engine import explain_path, make_stepper
from ..files.format import save_params
from ..gradcheck import gradient_check
from ..initializers import initialize_parameters
from ..losses import get_loss
from ..network import model_forward
from ..optimizers import get_optimizer
from ..training import DivergenceError, EpochLoop
from .data import Data, UploadStore, build_data
from .settings import (
    CURVE_SETS,
    LABELS,
    LIVE_KEYS,
    Limits,
    Settings,
    SettingsError,
    Variant,
)

#: Resolution of the decision-boundary grid (GRID × GRID points) and of each unit's grid.
GRID = 48
UNIT_STRIDE = 3
UNIT_GRID = GRID // UNIT_STRIDE
#: A 1-D set's curve: the network's prediction at this many x1 values across the view.
CURVE_POINTS = 160
#: At most this many rows of curves are kept per run: beyond it every other row is dropped and
#: rows are recorded half as often (so a long run keeps its whole shape in bounded memory).
MAX_HISTORY = 1000
#: The gradient check uses at most this many training points (it costs two forward passes per
#: parameter).
GRADCHECK_EXAMPLES = 64
#: At most this many changes are marked on a run's curves (the latest ones).
MAX_MARKS = 50
#: At most this many changes and weight edits are kept for the Python export (beyond: it says
#: that the run is too changed to replay).
MAX_JOURNAL = 2000
#: How a change is named on the curves' marks.
#: The loss of each output activation.
OUTPUT_LOSSES = {"sigmoid": "binary_crossentropy", "softmax": "categorical_crossentropy",
                 "identity": "mean_squared_error"}
SYMBOLS = {"lr": "α", "decay": "decay", "l2": "λ", "l1": "λ1", "keep_prob": "keep_prob",
           "optimizer": "optimizer", "beta": "β", "beta1": "β1", "beta2": "β2", "epsilon": "ε",
           "batch_size": "batch"}


def _b64(values: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(values, dtype=np.uint8).tobytes()).decode("ascii")


def _show(value: Any) -> str:
    """A setting's value on a mark: ``full`` for the full batch, numbers as short as they go."""
    if value is None:
        return "full"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def dataclasses_fields(settings: Settings) -> list[str]:
    return [f.name for f in fields(settings)]


def _round(x: float, digits: int = 6) -> float | None:
    """A finite float for JSON (None for NaN / infinity), with ``digits`` significant digits."""
    x = float(x)
    if not math.isfinite(x):
        return None
    return float(f"{x:.{digits}g}")


def grid_points(box: Sequence[float], n: int) -> np.ndarray:
    """The centres of an n × n grid over ``box``, as ``(2, n·n)`` columns, row by row from the top
    (largest x2) and left to right (smallest x1) — the order of an image's pixels."""
    x1_min, x1_max, x2_min, x2_max = box
    x1 = x1_min + (np.arange(n) + 0.5) / n * (x1_max - x1_min)
    x2 = x2_max - (np.arange(n) + 0.5) / n * (x2_max - x2_min)
    g1, g2 = np.meshgrid(x1, x2)
    return np.vstack([g1.ravel(), g2.ravel()])


def encode_grid(values: np.ndarray, symmetric: bool) -> dict[str, Any]:
    """Grid values as bytes: ``symmetric`` maps [-s, s] to 0..255 with s = max |v| (sent as
    ``scale``), otherwise [0, 1] to 0..255."""
    v = np.nan_to_num(np.asarray(values, dtype=np.float64), nan=0.0, posinf=1e300, neginf=-1e300)
    if symmetric:
        scale = float(np.max(np.abs(v))) if v.size else 0.0
        scaled = (v / scale + 1) / 2 if scale > 0 else np.full_like(v, 0.5)
        return {"scale": _round(min(scale, 1e300), 4), "data": _b64(np.round(scaled * 255))}
    return {"scale": 1.0, "data": _b64(np.round(np.clip(v, 0, 1) * 255))}


class Curves:
    """The curves of one run: rows ``[epoch, train loss, test loss, train accuracy, test
    accuracy]`` recorded every ``stride`` epochs; ``version`` changes when rows are dropped."""

    def __init__(self) -> None:
        self.rows: list[list[float | None]] = []
        self.stride = 1
        self.version = 0

    def wants(self, epoch: int) -> bool:
        return epoch % self.stride == 0 and (not self.rows or self.rows[-1][0] != epoch)

    def add(self, row: list[float | None]) -> None:
        self.rows.append(row)
        if len(self.rows) > MAX_HISTORY:
            self.rows = self.rows[::2]
            self.stride *= 2
            self.version += 1


class LabRun:
    """One network trained on the lab's data with one ``Settings``."""

    def __init__(self, label: str, settings: Settings, data: Data, limits: Limits,
                 initial: Mapping[str, np.ndarray] | None = None):
        s = self.settings = settings
        #: The settings the run started with (``settings`` holds the latest changes).
        self.first_settings = settings
        self.label = label
        self.limits = limits
        self.features = list(s.features)
        self.X_train = expand_features(data.X_train, s.features)
        self.X_test = expand_features(data.X_test, s.features)
        #: sigmoid (two classes, labels 0 / 1), softmax (K classes, one-hot columns) or identity
        #: (regression, the values)
        self.output = s.output
        self.loss = OUTPUT_LOSSES[self.output]
        if self.output == "softmax":
            eye = np.eye(s.classes)
            self.Y_train = eye[data.Y_train[0].astype(int)].T
            self.Y_test = eye[data.Y_test[0].astype(int)].T
        else:
            self.Y_train, self.Y_test = data.Y_train, data.Y_test
        #: Regression: the largest |target|, the ends of the colour scale (0 is white).
        self.value_scale = float(max(np.max(np.abs(data.Y_train)), np.max(np.abs(data.Y_test)),
                                     1e-12))
        self.grid = expand_features(grid_points(data.box, GRID), s.features)
        #: A 1-D set (y against x1): the x1 values its curve is drawn at, and their features.
        self.curve_x: np.ndarray | None = None
        if s.dataset in CURVE_SETS:
            self.curve_x = np.linspace(data.box[0], data.box[1], CURVE_POINTS)
            self.curve_inputs = expand_features(
                np.vstack([self.curve_x, np.zeros(CURVE_POINTS)]), s.features)
        self.layer_dims = [len(s.features), *s.layers, self.Y_train.shape[0]]
        self.activations = [*s.activations, self.output]
        self.keep_probs = [s.keep_prob] * len(s.layers)
        self.rng = np.random.RandomState(s.seed)
        #: Batch-normalized hidden layers (their running statistics draw the heatmaps).
        self.batch_norm = list(s.batch_norm)
        params = initialize_parameters(
            self.layer_dims, s.init, self.rng, scale=s.init_scale if s.init == "random" else None,
            batch_norm=self.batch_norm if any(self.batch_norm) else None,
        )
        #: The weights the run started from when they were loaded (a model file), else None.
        self.initial: dict[str, np.ndarray] | None = None
        if initial is not None:  # drawn all the same: the generator goes on as in a new run
            params = self.initial = {k: np.array(v, dtype=np.float64) for k, v in initial.items()}
        self.optimizer = get_optimizer(s.optimizer, **s.optimizer_hyperparams())
        self.path = explain_path(optimizer=self.optimizer, dtype=self.X_train.dtype,
                                 activations=self.activations, dims=self.layer_dims,
                                 params=params, lambd=s.l2, l1=s.l1, fast="exact")
        stepper = make_stepper(self.path, params, self.activations, self.optimizer,
                               keep_probs=self.keep_probs, lambd=s.l2, l1=s.l1, fast="exact")
        schedule = s.schedule()
        # The one epoch loop, a tick at a time (``train_epoch``).
        self.loop = EpochLoop(stepper, self.X_train, self.Y_train, batch_size=s.batch_size,
                              rng=self.rng, learning_rate=schedule or s.lr)
        self.lr = s.lr
        #: The changes made without a reset: ``{"epoch", "step", "label"}``, drawn on the curves.
        self.marks: list[dict[str, Any]] = []
        #: Everything done to the run besides training, in order (what the Python export replays):
        #: ``{"kind": "change", "epoch", "batch", "settings"}`` and ``{"kind": "weight", "epoch",
        #: "batch", "layer", "row", "column", "value"}``.
        self.journal: list[dict[str, Any]] = []
        #: Changes made beyond ``MAX_JOURNAL`` (not kept: the Python export refuses).
        self.unrecorded = 0
        self.diverged: str | None = None
        self.stopped: str | None = None
        self.history = Curves()
        self.record()

    @property
    def params(self) -> dict[str, np.ndarray]:
        """The current weights (the stepper's: read them before the next epoch)."""
        return self.loop.stepper.params

    @property
    def epoch(self) -> int:
        return self.loop.epoch

    @property
    def steps(self) -> int:
        """Updates made (those of an epoch under way included)."""
        return self.loop.step + self.loop.batch_in_epoch

    @property
    def batch(self) -> int:
        """Mini-batches made of the epoch under way (0: none, between epochs)."""
        return self.loop.batch_in_epoch

    @property
    def active(self) -> bool:
        return self.diverged is None and self.stopped is None

    @property
    def batches(self) -> int:
        """Mini-batches per epoch (1 for the full batch)."""
        return len(self.loop.sizes)

    def current_lr(self) -> float:
        """α of the epoch under way (the decay's schedule at this epoch, else the setting)."""
        loop = self.loop
        if loop.schedule is not None:
            return float(loop.schedule(loop.epoch))
        return float(loop.learning_rate if loop.learning_rate is not None else self.settings.lr)

    def train_epoch(self) -> None:
        """One epoch of the loop, as ``nnlab.train`` makes it (the rest of it, when it was begun
        a mini-batch at a time)."""
        if not self.active:
            return
        try:
            self.loop.run(1)
        except DivergenceError as error:  # the weights from before that epoch are kept
            self.diverged = str(error)
            return
        self.lr = self.loop.learning_rates[-1] or self.settings.lr
        self._after_update()

    def _after_update(self) -> None:
        if self.steps >= self.limits.max_steps:
            self.stopped = (
                f"{self.label}: paused after {self.steps} updates, the limit per run "
                f"(raise it with --max-steps)"
            )
        if self.batch == 0 and self.history.wants(self.epoch):
            self.record()

    def train_batch(self) -> float | None:
        """One mini-batch update (a whole epoch for the full batch): the loop's ``run_batch``,
        the next batch of the epoch under way. The loop draws the epoch's shuffle at its first
        batch and the dropout masks batch by batch, as it does for a whole epoch, so that an
        epoch made a batch at a time is the epoch ``train_epoch`` makes, bit for bit. Returns
        the batch's cost (None: a whole epoch was made)."""
        if not self.active:
            return None
        if self.batches == 1:
            self.train_epoch()
            return None
        loop, b = self.loop, self.loop.batch_in_epoch
        lr = self.current_lr()
        try:
            cost = loop.run_batch()
        except DivergenceError as error:  # the weights from before that epoch are kept
            self.diverged = (f"{self.label + ': ' if self.label else ''}training diverged at "
                             f"epoch {error.epoch}, mini-batch {b + 1}: the cost became "
                             f"{error.cost}; try a smaller learning rate than {lr:g}")
            return error.cost
        self.lr = lr
        self._after_update()
        return cost

    def train_loss(self) -> float:
        """The cost on the whole training set (the loss without the L1 / L2 terms, no dropout)."""
        return self._loss_and_accuracy(self.X_train, self.Y_train)[0]

    def change(self, settings: Settings) -> str | None:
        """Apply new learning settings (``LIVE_KEYS``) from the next update on, keeping the
        weights, the optimizer's state (a new optimizer starts from its own) and the epoch count;
        returns the change's label (None: nothing changed). A change of any other setting needs a
        new run: ``SettingsError``."""
        old = self.settings
        fixed = [k for k in dataclasses_fields(old) if k not in LIVE_KEYS
                 and getattr(old, k) != getattr(settings, k)]
        if fixed:
            raise SettingsError(fixed[0], f"{LABELS.get(fixed[0], fixed[0])} cannot change "
                                          "without a reset: configure a new run")
        changed = [k for k in LIVE_KEYS if getattr(old, k) != getattr(settings, k)]
        if not changed:
            return None
        loop = self.loop
        params, opt_state = loop.stepper.state()
        optimizer = get_optimizer(settings.optimizer, **settings.optimizer_hyperparams())
        if settings.optimizer != old.optimizer:
            opt_state = optimizer.init(params)
        self.path = explain_path(optimizer=optimizer, dtype=self.X_train.dtype,
                                 activations=self.activations, dims=self.layer_dims,
                                 params=params, lambd=settings.l2, l1=settings.l1, fast="exact")
        self.optimizer = optimizer
        self.keep_probs = [settings.keep_prob] * len(settings.layers)
        stepper = make_stepper(self.path, params, self.activations, optimizer, opt_state,
                               keep_probs=self.keep_probs, lambd=settings.l2, l1=settings.l1,
                               fast="exact")
        schedule = settings.schedule()
        if settings.batch_size != old.batch_size:
            # a new loop on the same weights and generator, from the epoch reached (an epoch
            # begun a mini-batch at a time is left: the next epoch starts afresh)
            new = EpochLoop(stepper, self.X_train, self.Y_train, batch_size=settings.batch_size,
                            rng=self.rng, learning_rate=schedule or settings.lr,
                            first_epoch=loop.epoch)
            new.step = loop.step + loop.batch_in_epoch
            self.loop = new
        else:
            loop.replace_stepper(stepper)
            loop.set_learning_rate(schedule or settings.lr)
        self.settings = settings
        self.lr = self.current_lr()
        label = ", ".join(f"{SYMBOLS[k]} {_show(getattr(old, k))} → {_show(getattr(settings, k))}"
                          for k in changed)
        self._mark(label)
        self._record({"kind": "change", "epoch": self.epoch, "batch": self.batch,
                      "settings": settings})
        return label

    def _record(self, event: dict[str, Any]) -> None:
        if len(self.journal) < MAX_JOURNAL:
            self.journal.append(event)
        else:
            self.unrecorded += 1

    def _mark(self, label: str) -> None:
        self.marks = [*self.marks, {"epoch": self.epoch, "step": self.steps, "label": label}]
        self.marks = self.marks[-MAX_MARKS:]

    def set_weight(self, layer: Any, row: Any, column: Any, value: Any) -> str:
        """Set one weight ``W[layer][row, column]`` of the running network (from its next update
        on; the optimizer's state and the epoch count kept), as a click on a weight line does;
        returns the change's label, marked on the curves. A bad index or value:
        ``SettingsError``."""
        L = len(self.layer_dims) - 1

        def whole(x: Any) -> bool:
            return isinstance(x, int) and not isinstance(x, bool)

        if not whole(layer) or not 1 <= layer <= L:
            raise SettingsError("weight", f"layer = {layer!r} is not a layer of this network "
                                          f"(1 to {L})")
        rows, columns = self.layer_dims[layer], self.layer_dims[layer - 1]
        if not whole(row) or not 0 <= row < rows or not whole(column) or not 0 <= column < columns:
            raise SettingsError("weight", f"W{layer}[{row!r}, {column!r}] is not a weight: "
                                          f"W{layer} is {rows} × {columns}, counting from 0")
        if isinstance(value, bool) or not isinstance(value, int | float) or not (
                math.isfinite(value) and abs(value) <= 100):
            raise SettingsError("weight", f"weight = {value!r} is not a number between -100 "
                                          "and 100")
        params, opt_state = self.loop.stepper.state()
        key = f"W{layer}"
        old = float(params[key][row, column])
        W = np.array(params[key], copy=True)
        W[row, column] = float(value)
        self.loop.stepper.load_state({**params, key: W}, opt_state)
        label = f"W{layer}[{row},{column}] {old:.3g} → {float(value):g}"
        self._mark(label)
        self._record({"kind": "weight", "epoch": self.epoch, "batch": self.batch,
                      "layer": layer, "row": row, "column": column, "value": float(value)})
        return label

    def _loss_and_accuracy(self, X: np.ndarray, Y: np.ndarray) -> tuple[float, float | None]:
        """The loss (cross-entropy, or the mean squared error for regression) and the accuracy
        (None for regression)."""
        with np.errstate(all="ignore"):
            AL, _ = model_forward(X, self.params, self.activations, training=False)
            loss = float(get_loss(self.loss).cost(AL, Y))
        if self.output == "identity":
            return loss, None
        if self.output == "softmax":
            return loss, float(np.mean(np.argmax(AL, axis=0) == np.argmax(Y, axis=0)))
        return loss, float(np.mean((AL > 0.5) == (Y > 0.5)))

    def _row(self) -> list[float | None]:
        train_loss, train_acc = self._loss_and_accuracy(self.X_train, self.Y_train)
        test_loss, test_acc = self._loss_and_accuracy(self.X_test, self.Y_test)
        return [self.epoch, _round(train_loss), _round(test_loss),
                None if train_acc is None else _round(train_acc, 4),
                None if test_acc is None else _round(test_acc, 4)]

    def record(self) -> None:
        """Add the current losses (without the L1 / L2 terms) and accuracies."""
        self.history.add(self._row())

    def metrics(self) -> dict[str, Any]:
        """The latest losses and accuracies (recorded now if the curve skipped this epoch)."""
        if self.history.rows[-1][0] != self.epoch:
            row = self._row()
        else:
            row = self.history.rows[-1]
        keys = ("epoch", "train_loss", "test_loss", "train_accuracy", "test_accuracy")
        return dict(zip(keys, row, strict=True))

    def pictures(self, units: bool) -> dict[str, Any]:
        """The output over the grid, and (with ``units``) every hidden unit's output and the
        weights."""
        with np.errstate(all="ignore"):
            # (predict-time: batch-normalized layers use their running statistics)
            AL, caches = model_forward(self.grid, self.params, self.activations, training=False)
        out: dict[str, Any]
        if self.output == "softmax":  # the predicted class, and its probability as the shade
            out = {"boundary": encode_grid(np.max(AL, axis=0), symmetric=False)["data"],
                   "classes": _b64(np.argmax(AL, axis=0)),
                   "probs": [encode_grid(a, symmetric=False)["data"] for a in AL]}
        elif self.output == "identity":  # the value on the data's scale: -s .. 0 .. s → 0..255
            v = np.clip(np.nan_to_num(AL[0] / self.value_scale), -1, 1)
            out = {"boundary": _b64(np.round((v + 1) / 2 * 255))}
        else:
            out = {"boundary": encode_grid(AL[0], symmetric=False)["data"]}
        if self.curve_x is not None:  # a 1-D set: the prediction along x1
            with np.errstate(all="ignore"):
                curve, _ = model_forward(self.curve_inputs, self.params, self.activations,
                                         training=False)
            out["curve"] = [_round(v, 5) for v in curve[0]]
        if units:
            pick: np.ndarray = np.zeros((GRID, GRID), dtype=bool)
            pick[UNIT_STRIDE // 2 :: UNIT_STRIDE, UNIT_STRIDE // 2 :: UNIT_STRIDE] = True
            pick = pick.ravel()
            layers = []
            for cache in caches[1:]:  # caches[l].linear.A_prev is A[l], the hidden layer's output
                A = cache.linear.A_prev
                layers.append([encode_grid(A[j, pick], symmetric=True) for j in range(A.shape[0])])
            out["units"] = layers
            out["weights"] = [self._layer_weights(l) for l in range(1, len(self.layer_dims))]
        return out

    def _layer_weights(self, l: int) -> dict[str, Any]:
        """Layer l's W and b (a batch-normalized layer: its γ and β, and ``b`` is β)."""
        p = self.params

        def rows(a: np.ndarray) -> list[Any]:
            return np.round(np.nan_to_num(a), 4).tolist()

        if f"gamma{l}" in p:
            return {"W": rows(p[f"W{l}"]), "b": rows(p[f"beta{l}"][:, 0]),
                    "gamma": rows(p[f"gamma{l}"][:, 0]), "batch_norm": True}
        return {"W": rows(p[f"W{l}"]), "b": rows(p[f"b{l}"][:, 0])}

    def describe(self) -> dict[str, Any]:
        return {"label": self.label, "layer_dims": self.layer_dims,
                "activations": self.activations, "features": self.features,
                "settings": self.settings.to_dict()}


class Lab:
    """A session's data and runs (one, or 2 to 4 compared ones), and what the page has been sent.

    Not thread-safe: the server calls one method at a time per lab.
    """

    def __init__(
        self,
        settings: Settings,
        variants: Sequence[Variant] = (),
        limits: Limits | None = None,
        uploads: UploadStore | None = None,
        initial: Mapping[str, np.ndarray] | None = None,
    ):
        self.limits = limits or Limits()
        self.settings = settings
        self.data = build_data(settings, uploads)
        chosen = list(variants) or [Variant("", settings)]
        self.comparing = bool(variants)
        if initial is not None and self.comparing:
            raise SettingsError("compare", "a loaded model trains alone: stop comparing first")
        self.runs = [LabRun(v.label, v.settings, self.data, self.limits, initial)
                     for v in chosen]
        self._sent: list[tuple[int, int]] = [(-1, 0)] * len(self.runs)  # (version, rows sent)
        self._reported: set[int] = set()
        #: Set (from any thread) when the page has gone: training stops after the current epoch.
        self.closed = False
        #: Epochs trained by the latest ``advance``.
        self.advanced = 0

    @property
    def active(self) -> bool:
        return any(run.active for run in self.runs)

    def step(self, epochs: int = 1) -> dict[str, Any]:
        """Train every run ``epochs`` epochs (in lockstep); return a snapshot."""
        for _ in range(epochs):
            if self.closed:
                break
            for run in self.runs:
                run.train_epoch()
        return self.snapshot()

    def advance(self, budget_s: float, max_epochs: int | None = None) -> dict[str, Any]:
        """Train every run in lockstep for about ``budget_s`` seconds (at least one epoch, at most
        ``max_epochs``); return a snapshot. The pace only decides which epochs are shown, never
        the run. ``advanced`` holds the number of epochs trained."""
        start = time.perf_counter()
        self.advanced = 0
        while self.active and not self.closed:
            for run in self.runs:
                run.train_epoch()
            self.advanced += 1
            if time.perf_counter() - start >= budget_s or (
                max_epochs is not None and self.advanced >= max_epochs
            ):
                break
        return self.snapshot()

    def step_once(self, unit: str = "epoch") -> dict[str, Any]:
        """One epoch (``unit="epoch"``) or one mini-batch (``"batch"``; an epoch for the full
        batch) of every run; the snapshot's ``step`` says what the first run did: its epoch and
        update count and its training cost (the loss, without the L1 / L2 terms) before and after.
        """
        if unit not in ("epoch", "batch"):
            raise SettingsError("unit", f"step unit {unit!r}: expected epoch or batch")
        run = self.runs[0]
        before = {"epoch_before": run.epoch, "steps_before": run.steps,
                  "batch": run.batch, "batches": run.batches,
                  "loss_before": _round(run.train_loss())}
        for each in self.runs:
            if unit == "batch":
                each.train_batch()
            else:
                each.train_epoch()
        snapshot = self.snapshot()
        snapshot["step"] = {"unit": unit if run.batches > 1 else "epoch", **before,
                            "epoch_after": run.epoch, "steps_after": run.steps,
                            "loss_after": _round(run.train_loss())}
        return snapshot

    def change(self, settings: Settings) -> list[str]:
        """New learning settings (``LIVE_KEYS``) for the run, from its next update on, the weights
        and epoch count kept (``LabRun.change``); returns the changes' labels (marked on the
        curves). Raises ``SettingsError`` for a change that needs a new run, or while comparing."""
        if self.comparing:
            raise SettingsError("compare", "settings cannot change while comparing without a "
                                           "reset: configure the comparison again")
        label = self.runs[0].change(settings)
        self.settings = settings
        return [label] if label else []

    def set_weight(self, layer: Any, row: Any, column: Any, value: Any) -> str:
        """One weight of the (single) run changed by hand (``LabRun.set_weight``)."""
        if self.comparing:
            raise SettingsError("compare", "weights cannot be edited while comparing")
        return self.runs[0].set_weight(layer, row, column, value)

    def ready(self) -> dict[str, Any]:
        """The message that opens a configured lab: the points, the view, the networks."""
        d = self.data

        def points(X: np.ndarray, Y: np.ndarray) -> list[list[float]]:
            return np.round(np.vstack([X, Y]).T, 4).tolist()

        features = {
            name: encode_grid(
                expand_features(grid_points(d.box, UNIT_GRID), [name])[0], symmetric=True
            )
            for name in self.runs[0].features
        }
        return {
            "type": "ready",
            "settings": self.settings.to_dict(),
            "comparing": self.comparing,
            "runs": [run.describe() for run in self.runs],
            "data": {"name": d.name, "train": points(d.X_train, d.Y_train),
                     "test": points(d.X_test, d.Y_test), "box": list(d.box)},
            "grid": GRID,
            "unit_grid": UNIT_GRID,
            "feature_grids": features,
            "dropout": any(run.settings.dropout for run in self.runs),
            "problem": self.settings.problem,
            "classes": self.settings.classes,
            "output": self.runs[0].output,
            "value_scale": _round(self.runs[0].value_scale),
            "curve_x": (None if self.runs[0].curve_x is None
                        else [_round(x, 5) for x in self.runs[0].curve_x]),
            "snapshot": self.snapshot(),
        }

    def snapshot(self) -> dict[str, Any]:
        """The runs' state since the last snapshot: new curve rows, pictures, metrics, and any
        divergence or limit reached (each reported once, in ``events``)."""
        runs, events = [], []
        for i, run in enumerate(self.runs):
            version, sent = self._sent[i]
            rows = run.history.rows
            reset = version != run.history.version
            new = rows if reset else rows[sent:]
            self._sent[i] = (run.history.version, len(rows))
            item = {"label": run.label, "epoch": run.epoch, "steps": run.steps,
                    "lr": _round(run.lr), "rows": new, "reset": reset,
                    "batch": run.batch, "batches": run.batches,
                    "marks": run.marks, "metrics": run.metrics(), "diverged": run.diverged,
                    "stopped": run.stopped}
            item.update(run.pictures(units=not self.comparing))
            runs.append(item)
            if not run.active and i not in self._reported:
                self._reported.add(i)
                kind = "diverged" if run.diverged else "stopped"
                events.append({"kind": kind, "run": i, "label": run.label,
                               "message": run.diverged or run.stopped})
        return {"type": "snapshot", "runs": runs, "events": events, "active": self.active}

    def gradient_check(self, run_index: int = 0) -> dict[str, Any]:
        """The engine's gradient check on a run's current weights and (at most
        ``GRADCHECK_EXAMPLES``) training points. Raises ``ValueError`` while dropout is on."""
        run = self.runs[run_index]
        m = min(GRADCHECK_EXAMPLES, run.X_train.shape[1])
        result = gradient_check(
            run.params, run.X_train[:, :m], run.Y_train[:, :m], run.activations,
            lambd=run.settings.l2, keep_probs=run.keep_probs, l1=run.settings.l1,
        )
        return {
            "type": "gradcheck", "run": run_index, "label": run.label, "epoch": run.epoch,
            "difference": float(f"{result.difference:.3e}"), "threshold": result.threshold,
            "passed": result.passed, "failing": result.failing,
            "per_parameter": {k: float(f"{d:.3e}") for k, d in result.per_parameter.items()},
            "examples": m, "parameters": int(result.gradient.size),
            "verdict": result.verdict, "at_kink": result.at_kink,
            "kinks": result.kink_summary() if result.inconclusive else "",
        }

    def train_config(self, run_index: int = 0):
        """The run's settings as a ``TrainConfig``, with ``epochs`` = the epochs trained so far."""
        run = self.runs[run_index]
        csv = run.settings.dataset == "csv"
        return run.settings.to_train_config(
            epochs=run.epoch, dataset=self.data.name if csv else None,
            target=self.data.target if csv else None,
        )

    def model_file(self, run_index: int = 0) -> bytes:
        """The run's current weights as an nnlab model file (``nnlab.files.format.save_params``),
        with the activations, layer sizes, features and training settings in its JSON config."""
        run = self.runs[run_index]
        with tempfile.TemporaryDirectory(prefix="nnlab-playground-") as folder:
            path = os.path.join(folder, "model.npz")
            # (a TOML config describes two-class runs only; the others keep their settings)
            config = (self.train_config(run_index).to_dict() if run.output == "sigmoid"
                      else {"playground_settings": run.settings.to_dict()})
            save_params(
                path, run.params, activations=run.activations, layer_dims=run.layer_dims,
                features=run.features, epoch=run.epoch, label=run.label,
                source="nnlab playground",
                **({"train_config": config} if run.output == "sigmoid" else config),
            )
            with open(path, "rb") as f:
                return f.read()


def load_model_bytes(data: bytes) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Read a model file from bytes (for tests and tools): ``(params, config)``."""
    from ..files.format import load_params

    with tempfile.TemporaryDirectory(prefix="nnlab-playground-") as folder:
        path = os.path.join(folder, "model.npz")
        with open(path, "wb") as f:
            f.write(data)
        return load_params(path)


__all__ = ["GRID", "UNIT_GRID", "Curves", "Lab", "LabRun", "grid_points", "load_model_bytes"]
