"""Callbacks: code that ``Model.fit`` calls at fixed points of the training loop.

A callback subclasses ``Callback`` and overrides any of the hooks; ``fit`` calls them in this
order::

    on_train_begin(logs)
    for each epoch:   on_epoch_begin(epoch, logs)
                      for each mini-batch: ... update ...; on_batch_end(batch, logs)
                      on_epoch_end(epoch, logs)
    on_train_end(logs)

``logs`` is a dict of floats: after a batch, ``loss`` (the batch's cost before its update) and
``size`` (its number of examples); after an epoch, what the ``History`` records for it (``loss``,
``accuracy``, ``val_loss``, ``val_accuracy``, ``learning_rate``, where they apply). A callback
reaches the model through ``self.model``: it may read or replace ``model.params``, set
``model.learning_rate`` (used from the next update on) and set ``model.stop_training = True``
(``fit`` stops after the current batch). ``self.params`` holds ``epochs``, ``steps`` (batches per
epoch), ``samples``, ``batch_size`` and ``initial_epoch`` of the current ``fit``.

>>> import numpy as np
>>> from nnlab import Dense, Model
>>> from nnlab.callbacks import EarlyStopping
>>> rng = np.random.RandomState(0)
>>> X = rng.randn(200, 2); y = (X[:, 0] > 0).astype(int)
>>> model = Model([Dense(4, "tanh"), Dense(1, "sigmoid")], optimizer="adam",
...               learning_rate=0.05, random_state=0)
>>> history = model.fit(X, y, epochs=500, validation_split=0.25, verbose=0,
...                     callbacks=[EarlyStopping(monitor="val_loss", patience=5)])
>>> len(history) < 500
True
"""

from __future__ import annotations

import csv
import importlib
import math
import sys
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import IO, Any, Protocol

import numpy as np

from ._extras import require
from .metrics import greater_is_better
from .training import ANY_EPOCHS

Logs = dict[str, float]


class TrainingModel(Protocol):
    """What a callback may read and set on the model being trained (``nnlab.Model`` is one):
    its parameters, its current learning rate α and the flag that stops ``fit``. Declared here
    so that callbacks need not import the model module that imports them."""

    params: dict[str, np.ndarray] | None
    learning_rate: float | None
    stop_training: bool


class Callback:
    """Base class: every hook does nothing. Override the ones you need.

    Attributes:
        model: the ``Model`` being trained (set by ``fit`` before ``on_train_begin``).
        params: ``{"epochs", "steps", "samples", "batch_size", "initial_epoch"}`` of the
            current ``fit``.
    """

    def __init__(self) -> None:
        self.model: TrainingModel | None = None
        self.params: dict[str, Any] = {}

    def set_model(self, model: TrainingModel) -> None:
        self.model = model

    def set_params(self, params: Mapping[str, Any]) -> None:
        self.params = dict(params)

    def free_epochs(self) -> int:
        """How many epochs ``fit`` may run, from the next one, before this callback must look:
        during all of them but the last, ``on_epoch_end`` (then called for each, after them)
        reads only its logs — not ``self.model``'s weights — and neither stops training nor
        changes the learning rate, the optimizer or the weights. The compiled stepper runs
        that many epochs in one call. The default, 1, is always right; a callback that only
        records its logs returns ``ANY_EPOCHS``."""
        return 1

    def wants_batches(self) -> bool:
        """Whether ``fit`` must call ``on_batch_end`` after every update (asked after
        ``on_train_begin``; then each batch is its own stepper call): by default, when the class
        overrides ``on_batch_end``."""
        return type(self).on_batch_end is not Callback.on_batch_end

    def on_train_begin(self, logs: Logs | None = None) -> None:
        """Called once, before the first epoch."""

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        """Called before each epoch (``epoch`` counts from ``initial_epoch``, 0 by default)."""

    def on_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Called after each update; ``logs`` has the batch's ``loss`` and ``size``."""

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """Called after each epoch with that epoch's record (see ``History``)."""

    def on_epochs_end(self, first: int, logs: Mapping[str, list[float]]) -> None:
        """Called after several epochs that ran in one stepper call (as many as every
        callback's ``free_epochs`` allowed): ``logs`` maps each name to one entry per epoch.
        By default ``on_epoch_begin`` (for all but the first, which had it before the call)
        and ``on_epoch_end`` for each; a callback that books many epochs at once overrides
        it."""
        items, n = list(logs.items()), len(logs["loss"])
        for e in range(n):
            if e:
                self.on_epoch_begin(first + e, {})
            self.on_epoch_end(first + e, {k: v[e] for k, v in items})
            if e < n - 1 and self.model is not None and self.model.stop_training:
                raise RuntimeError(
                    f"{type(self).__name__} stopped training after epoch {first + e}, but its "
                    f"free_epochs let training run on to epoch {first + n - 1} in one call"
                )

    def on_train_end(self, logs: Logs | None = None) -> None:
        """Called once, after the last epoch (also when a callback stopped training)."""


class History(Callback):
    """What ``fit`` recorded, one entry per epoch.

    ``history.history`` maps each name to its list: ``loss`` (the example-weighted mean of the
    batches' costs, each taken before its update and including the L2 term, as ``train``'s
    ``costs``), ``accuracy`` (for sigmoid / softmax outputs, the running accuracy over the
    epoch's batches — the fraction of correct outputs for sigmoid, of correct argmax for
    softmax), ``val_loss`` and ``val_accuracy`` (on the validation data after the epoch, without
    dropout; the loss without the L2 term), each metric of ``fit(metrics=...)`` under its name
    (``f1``, ``r2``, ...: on the training data with the epoch's final weights) and its ``val_``
    twin, and ``learning_rate`` (α used in the epoch).
    ``history.epoch`` lists the epoch numbers. ``history["loss"]`` and ``history.loss`` also work.

    A callback: ``fit`` puts a new one first in its callbacks, so it records each epoch before
    the others see it.
    """

    KEYS = ("loss", "accuracy", "val_loss", "val_accuracy", "learning_rate")

    def __init__(self) -> None:
        super().__init__()
        self.epoch: list[int] = []
        self.history: dict[str, list[float]] = {}

    def free_epochs(self) -> int:
        return ANY_EPOCHS  # it only records the logs

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        self.append(epoch, logs or {})

    def on_epochs_end(self, first: int, logs: Mapping[str, list[float]]) -> None:
        """Record the epochs of one stepper call at once: a list (of floats, as ``fit``
        passes) is taken as it is, any other sequence converted entry by entry."""
        self.epoch.extend(range(first, first + len(logs["loss"])))
        for k, v in logs.items():
            self.history.setdefault(k, []).extend(v if type(v) is list else map(float, v))

    def append(self, epoch: int, logs: Mapping[str, float]) -> None:
        """Record one epoch."""
        self.epoch.append(int(epoch))
        for k, v in logs.items():
            self.history.setdefault(k, []).append(float(v))

    def extend(self, other: History) -> None:
        """Append every epoch of ``other`` (used to accumulate over ``partial_fit`` calls)."""
        n = len(other.epoch)
        if all(len(v) == n for v in other.history.values()):
            self.epoch.extend(other.epoch)
            for k, v in other.history.items():
                self.history.setdefault(k, []).extend(v)
            return
        for i, e in enumerate(other.epoch):
            self.append(e, {k: v[i] for k, v in other.history.items()})

    def __getitem__(self, key: str) -> list[float]:
        return self.history[key]

    def __contains__(self, key: object) -> bool:
        return key in self.history

    def __len__(self) -> int:
        return len(self.epoch)

    def __repr__(self) -> str:
        return f"History(epochs={len(self)}, keys={sorted(self.history)})"

    def _get(self, key: str) -> list[float]:
        return self.history.get(key, [])

    @property
    def loss(self) -> list[float]:
        return self._get("loss")

    @property
    def accuracy(self) -> list[float]:
        return self._get("accuracy")

    @property
    def val_loss(self) -> list[float]:
        return self._get("val_loss")

    @property
    def val_accuracy(self) -> list[float]:
        return self._get("val_accuracy")

    @property
    def learning_rate(self) -> list[float]:
        return self._get("learning_rate")

    def plot(self, keys: Sequence[str] | None = None, ax: Any = None) -> Any:
        """Draw the recorded curves against the epochs and return the matplotlib ``Figure``:
        one axes per metric, with the training value and its ``val_`` twin on the same axes.

        Needs matplotlib (``pip install "nnlab[plot]"``). A new figure is drawn on the Agg
        backend without pyplot: it never opens a window; save it with ``fig.savefig(path)``.

        Args:
            keys: the metrics, by name without ``val_`` (``"loss"``, ``"accuracy"``,
                ``"learning_rate"``; ``"val_loss"`` means ``"loss"``); by default every one
                recorded but the learning rate, losses first.
            ax: where to draw: an axes (for one metric) or a sequence of axes, one per metric;
                by default a new figure with the metrics side by side.

        >>> h = History()
        >>> for e, (loss, val) in enumerate([(0.9, 1.0), (0.5, 0.7), (0.3, 0.6)]):
        ...     h.append(e, {"loss": loss, "val_loss": val, "learning_rate": 0.1})
        >>> fig = h.plot()
        >>> [line.get_label() for line in fig.axes[0].get_lines()]
        ['loss', 'val_loss']
        >>> fig.axes[0].get_lines()[1].get_ydata().tolist()
        [1.0, 0.7, 0.6]
        """
        metrics = self._plot_metrics(keys)
        if ax is None:
            figure = require("matplotlib.figure", "plot", "History.plot")
            agg = require("matplotlib.backends.backend_agg", "plot", "History.plot")
            fig = figure.Figure(figsize=(4.0 * len(metrics), 3.2), layout="constrained")
            agg.FigureCanvasAgg(fig)
            axes = list(fig.subplots(1, len(metrics), squeeze=False)[0])
        else:
            axes = [ax] if hasattr(ax, "plot") else list(ax)
            if len(axes) != len(metrics):
                raise ValueError(f"{len(axes)} axes given for {len(metrics)} metrics "
                                 f"({', '.join(metrics)}): pass one axes per metric")
            fig = axes[0].figure
        for axes_, metric in zip(axes, metrics, strict=True):
            for key in (metric, "val_" + metric):
                values = self.history.get(key)
                if not values:
                    continue
                # the epoch numbers, unless the key missed some epochs (then its positions)
                x = self.epoch if len(values) == len(self.epoch) else list(range(len(values)))
                axes_.plot(x, values, label=key, marker="." if len(values) < 30 else None)
            axes_.set_xlabel("epoch")
            axes_.set_ylabel(metric)
            axes_.legend()
        return fig

    def _plot_metrics(self, keys: Sequence[str] | None) -> list[str]:
        """The metrics to draw (names without ``val_``), checked against what was recorded."""
        if not self.epoch or not any(self.history.values()):
            raise ValueError("this History holds no epochs: nothing to plot")
        recorded: list[str] = []
        for key in self.history:
            metric = key.removeprefix("val_")
            if metric not in recorded:
                recorded.append(metric)
        if isinstance(keys, str):
            keys = [keys]
        if keys is None:
            default = [k for k in recorded if k != "learning_rate"] or recorded
            return sorted(default, key=lambda k: "loss" not in k)  # losses first, stable
        metrics: list[str] = []
        for key in keys:
            metric = key.removeprefix("val_")
            if metric not in recorded:
                raise ValueError(f"History.plot: {key!r} was not recorded; "
                                 f"recorded: {', '.join(sorted(self.history))}")
            if metric not in metrics:
                metrics.append(metric)
        if not metrics:
            raise ValueError("History.plot: keys names no metric")
        return metrics


def _monitor_mode(monitor: str, mode: str) -> str:
    """'min' or 'max': with mode='auto', accuracies, scores, precision, recall, F1 and R² are
    maximized, losses and errors minimized (``metrics.greater_is_better``)."""
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"mode={mode!r} is not one of 'auto', 'min', 'max'")
    if mode != "auto":
        return mode
    return "max" if greater_is_better(monitor) else "min"


def _monitored(logs: Logs | None, monitor: str, who: str) -> float:
    """The monitored value, or a clear error naming what the logs do hold."""
    logs = logs or {}
    if monitor not in logs:
        hint = " (pass validation_data or validation_split to fit)" if "val_" in monitor else ""
        raise ValueError(
            f"{who} monitors {monitor!r}, which this fit does not record{hint}; "
            f"available: {', '.join(sorted(logs)) or 'nothing'}"
        )
    return float(logs[monitor])


class _Plateau:
    """Shared bookkeeping: the best value so far and the epochs since it improved by min_delta.

    An epoch improves when ``value < best - min_delta`` (mode 'min') or
    ``value > best + min_delta`` (mode 'max').
    """

    def __init__(self, monitor: str, mode: str, min_delta: float):
        if min_delta < 0:
            raise ValueError(f"min_delta={min_delta} is negative: expected min_delta >= 0")
        self.monitor, self.mode, self.min_delta = monitor, _monitor_mode(monitor, mode), min_delta
        self.reset()

    def reset(self) -> None:
        self.best = math.inf if self.mode == "min" else -math.inf
        self.wait = 0

    def improved(self, value: float) -> bool:
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta


class EarlyStopping(Callback):
    """Stop when the monitored quantity has not improved for ``patience`` epochs in a row.

    This is the backprop algorithm's "train until the validation error stops falling": with
    ``monitor="val_loss"`` training stops after ``patience`` epochs without the validation loss
    falling below its best by more than ``min_delta``.

    Args:
        monitor: a key of the epoch logs: "val_loss" (default), "val_accuracy", "loss", ...
        min_delta: the smallest change that counts as an improvement (>= 0).
        patience: epochs without improvement before stopping (0: stop at the first).
        mode: "min", "max" or "auto" (maximize accuracies, scores, precision, recall, F1 and
            R², minimize others).
        baseline: training stops unless the monitored value beats this within ``patience`` epochs.
        restore_best_weights: at the end of training (stopped early or not), put back the weights
            of the best epoch.

    Attributes:
        best, best_epoch, stopped_epoch (None when it did not stop training), best_params.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        min_delta: float = 0.0,
        patience: int = 0,
        mode: str = "auto",
        baseline: float | None = None,
        restore_best_weights: bool = False,
    ):
        super().__init__()
        if patience < 0:
            raise ValueError(f"patience={patience} is negative: expected patience >= 0")
        self.monitor, self.patience, self.baseline = monitor, int(patience), baseline
        self.restore_best_weights = restore_best_weights
        self._plateau = _Plateau(monitor, mode, min_delta)
        self.min_delta, self.mode = min_delta, self._plateau.mode
        self.best: float = self._plateau.best
        self.best_epoch: int | None = None
        self.stopped_epoch: int | None = None
        self.best_params: dict[str, np.ndarray] | None = None

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self._plateau.reset()
        if self.baseline is not None:
            self._plateau.best = float(self.baseline)
        self.best, self.best_epoch, self.stopped_epoch, self.best_params = (
            self._plateau.best, None, None, None,
        )

    def free_epochs(self) -> int:
        """Watching a training log without restoring weights, it can stop no sooner than after
        ``patience - wait`` more epochs without improvement (``wait`` grows by one per epoch)."""
        if self.restore_best_weights or self.monitor.startswith("val_"):
            return 1
        return max(1, self.patience - self._plateau.wait)

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        value = _monitored(logs, self.monitor, "EarlyStopping")
        p = self._plateau
        if p.improved(value):
            p.best, p.wait = value, 0
            self.best, self.best_epoch = value, epoch
            if self.restore_best_weights:
                assert self.model is not None and self.model.params is not None
                self.best_params = {k: v.copy() for k, v in self.model.params.items()}
            return
        p.wait += 1
        if p.wait >= self.patience:
            self.stopped_epoch = epoch
            assert self.model is not None
            self.model.stop_training = True

    def on_train_end(self, logs: Logs | None = None) -> None:
        if self.restore_best_weights and self.best_params is not None:
            assert self.model is not None
            self.model.params = {k: v.copy() for k, v in self.best_params.items()}


class LearningRateScheduler(Callback):
    """Set the learning rate at the start of every epoch: ``α = schedule(epoch)``.

    ``schedule`` is any ``epoch -> α`` function, such as those of ``nnlab.optimizers``
    (``inverse_time_decay``, ``scheduled_inverse_time_decay``, ``exponential_decay``); with
    ``fit(initial_epoch=0)`` this matches ``train(decay=schedule)``.
    """

    def __init__(self, schedule: Callable[[int], float], verbose: int = 0):
        super().__init__()
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        lr = float(self.schedule(epoch))
        if not (math.isfinite(lr) and lr > 0):
            raise ValueError(f"the schedule returned learning rate {lr} at epoch {epoch}")
        assert self.model is not None
        self.model.learning_rate = lr
        if self.verbose:
            print(f"Epoch {epoch}: learning rate {lr:.6g}")


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when the monitored quantity stops improving.

    After ``patience`` epochs without an improvement larger than ``min_delta``:
    ``α = max(α · factor, min_lr)``, then wait ``cooldown`` epochs before counting again.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        factor: float = 0.1,
        patience: int = 10,
        mode: str = "auto",
        min_delta: float = 1e-4,
        cooldown: int = 0,
        min_lr: float = 0.0,
        verbose: int = 0,
    ):
        super().__init__()
        if not 0.0 < factor < 1.0:
            raise ValueError(f"factor={factor} is out of range: expected 0 < factor < 1")
        if patience < 0 or cooldown < 0 or min_lr < 0:
            raise ValueError("patience, cooldown and min_lr must be >= 0")
        self.monitor, self.factor, self.patience = monitor, float(factor), int(patience)
        self.cooldown, self.min_lr, self.verbose = int(cooldown), float(min_lr), verbose
        self._plateau = _Plateau(monitor, mode, min_delta)
        self._cooldown_left = 0

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self._plateau.reset()
        self._cooldown_left = 0

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        value = _monitored(logs, self.monitor, "ReduceLROnPlateau")
        p = self._plateau
        if self._cooldown_left > 0:
            self._cooldown_left -= 1
            p.wait = 0
        if p.improved(value):
            p.best, p.wait = value, 0
            return
        if self._cooldown_left > 0:
            return
        p.wait += 1
        if p.wait >= self.patience:
            assert self.model is not None and self.model.learning_rate is not None
            old = self.model.learning_rate
            new = max(old * self.factor, self.min_lr)
            if new < old:
                self.model.learning_rate = new
                if self.verbose:
                    print(f"Epoch {epoch}: reducing the learning rate from {old:.6g} to {new:.6g}")
            self._cooldown_left, p.wait = self.cooldown, 0


class TerminateOnNaN(Callback):
    """Stop training at the first batch whose loss is NaN or infinite.

    Without it ``fit`` raises ``nnlab.DivergenceError``; with it ``fit`` returns normally, keeping
    the weights from the start of the diverging epoch (the last whose epoch cost was finite) and a
    ``RuntimeWarning``. ``terminated_batch`` records where it happened.
    """

    def __init__(self) -> None:
        super().__init__()
        self.terminated_batch: int | None = None

    def on_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            self.terminated_batch = batch
            assert self.model is not None
            self.model.stop_training = True


class LambdaCallback(Callback):
    """A callback from plain functions, as Keras's: each one is called as its hook is, with
    the same arguments — ``on_epoch_begin(epoch, logs)``, ``on_epoch_end(epoch, logs)``,
    ``on_batch_end(batch, logs)``, ``on_train_begin(logs)``, ``on_train_end(logs)`` (``logs``
    a dict, see the module docstring); a hook left None does nothing. The functions reach the
    model through the callback's ``model`` attribute, like any callback's hooks.

    Only with an ``on_batch_end`` does ``fit`` stop after every batch to call it (a
    per-batch callback costs the compiled path its whole-epoch calls).

    >>> import numpy as np
    >>> from nnlab import Dense, Model
    >>> losses = []
    >>> log = LambdaCallback(on_epoch_end=lambda epoch, logs: losses.append(logs["loss"]))
    >>> X = np.random.RandomState(0).randn(20, 2); y = (X[:, 0] > 0).astype(int)
    >>> _ = Model([Dense(3, "tanh"), Dense(1, "sigmoid")], random_state=0).fit(
    ...     X, y, epochs=4, callbacks=[log], verbose=0)
    >>> len(losses)
    4
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> LambdaCallback:
        # With an on_batch_end, the class that has the hook: fit asks the class whether a
        # callback overrides on_batch_end before it calls it after every batch.
        batch = kwargs.get("on_batch_end", args[2] if len(args) > 2 else None)
        if cls is LambdaCallback and batch is not None:
            cls = _LambdaBatchCallback
        return super().__new__(cls)

    def __init__(
        self,
        on_epoch_begin: Callable[[int, Logs], Any] | None = None,
        on_epoch_end: Callable[[int, Logs], Any] | None = None,
        on_batch_end: Callable[[int, Logs], Any] | None = None,
        on_train_begin: Callable[[Logs], Any] | None = None,
        on_train_end: Callable[[Logs], Any] | None = None,
    ):
        super().__init__()
        hooks = {"on_epoch_begin": on_epoch_begin, "on_epoch_end": on_epoch_end,
                 "on_batch_end": on_batch_end, "on_train_begin": on_train_begin,
                 "on_train_end": on_train_end}
        for name, fn in hooks.items():
            if fn is not None and not callable(fn):
                raise ValueError(f"LambdaCallback({name}={fn!r}): expected a function or None")
        self._epoch_begin, self._epoch_end = on_epoch_begin, on_epoch_end
        self._batch_end = on_batch_end
        self._train_begin, self._train_end = on_train_begin, on_train_end

    def on_train_begin(self, logs: Logs | None = None) -> None:
        if self._train_begin is not None:
            self._train_begin(logs if logs is not None else {})

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        if self._epoch_begin is not None:
            self._epoch_begin(epoch, logs if logs is not None else {})

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        if self._epoch_end is not None:
            self._epoch_end(epoch, logs if logs is not None else {})

    def on_train_end(self, logs: Logs | None = None) -> None:
        if self._train_end is not None:
            self._train_end(logs if logs is not None else {})


class _LambdaBatchCallback(LambdaCallback):
    """A ``LambdaCallback`` given an ``on_batch_end`` (``LambdaCallback(...)`` makes it)."""

    def on_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        assert self._batch_end is not None
        self._batch_end(batch, logs if logs is not None else {})


class CSVLogger(Callback):
    """Write one row per epoch (``epoch`` and the epoch's logs) to a CSV file.

    The file is opened at ``on_train_begin`` (appended to when ``append=True``), flushed after
    every row, and closed at ``on_train_end``.
    """

    def __init__(self, filename: str, separator: str = ",", append: bool = False):
        super().__init__()
        self.filename, self.separator, self.append = str(filename), separator, append
        self._file: IO[str] | None = None
        self._writer: csv.DictWriter | None = None
        self._keys: list[str] | None = None

    def on_train_begin(self, logs: Logs | None = None) -> None:
        mode = "a" if self.append else "w"
        self._file = open(self.filename, mode, newline="", encoding="utf-8")
        self._writer, self._keys = None, None
        self._has_header = self.append and self._file.tell() > 0

    def free_epochs(self) -> int:
        return ANY_EPOCHS  # it only writes the logs

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        logs = dict(logs or {})
        assert self._file is not None
        if self._writer is None:
            self._keys = ["epoch", *sorted(logs)]
            self._writer = csv.DictWriter(
                self._file, fieldnames=self._keys, delimiter=self.separator,
                extrasaction="ignore", lineterminator="\n",
            )
            if not self._has_header:
                self._writer.writeheader()
        assert self._keys is not None
        row = {k: logs.get(k, "") for k in self._keys}
        row["epoch"] = epoch
        self._writer.writerow(row)
        self._file.flush()

    def on_train_end(self, logs: Logs | None = None) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def _format_logs(logs: Mapping[str, float]) -> str:
    return " - ".join(f"{k}: {v:.4g}" if k == "learning_rate" else f"{k}: {v:.4f}"
                      for k, v in logs.items())


class ProgressBar(Callback):
    """Report progress: a bar that fills batch by batch on a terminal, one line per epoch otherwise.

    Args:
        stream: where to write (``sys.stdout`` by default, looked up when training starts).
        per_epoch_lines: force one line per epoch even on a terminal (``fit(verbose=2)``).
        width: the bar's width in characters.

    A line reads ``Epoch 3/10 - loss: 0.3012 - accuracy: 0.8800 - val_loss: ...``.
    """

    def __init__(self, stream: IO[str] | None = None, per_epoch_lines: bool = False,
                 width: int = 30):
        super().__init__()
        self.stream, self.per_epoch_lines, self.width = stream, per_epoch_lines, width
        self._out: IO[str] | None = None
        self._live = False
        self._seen = 0

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self._out = self.stream if self.stream is not None else sys.stdout
        isatty = getattr(self._out, "isatty", None)
        self._live = not self.per_epoch_lines and bool(isatty and isatty())

    def wants_batches(self) -> bool:
        return self._live  # a live bar fills batch by batch; lines need only the epochs

    def free_epochs(self) -> int:
        return 1 if self._live else ANY_EPOCHS  # (its lines read only the logs)

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        self._seen = 0
        self._epoch = epoch

    def _prefix(self, epoch: int) -> str:
        epochs = self.params.get("epochs")
        return f"Epoch {epoch + 1}/{epochs}" if epochs else f"Epoch {epoch + 1}"

    def on_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        if not self._live:
            return
        assert self._out is not None
        self._seen += int((logs or {}).get("size", 0))
        total = max(int(self.params.get("samples", 0)), 1)
        filled = min(self.width, self.width * self._seen // total)
        bar = "=" * filled + "." * (self.width - filled)
        loss = (logs or {}).get("loss", float("nan"))
        self._out.write(f"\r{self._prefix(self._epoch)} [{bar}] {self._seen}/{total} "
                        f"- loss: {loss:.4f}")
        self._out.flush()

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        line = f"{self._prefix(epoch)} - {_format_logs(logs or {})}"
        assert self._out is not None
        if self._live:
            self._out.write("\r\033[K" + line + "\n")
        else:
            self._out.write(line + "\n")
        self._out.flush()


def in_jupyter() -> bool:
    """Whether this runs in a Jupyter kernel (an IPython shell with a kernel app, as in
    JupyterLab, the classic notebook, VS Code's notebooks and Colab). Imports nothing."""
    ipython = sys.modules.get("IPython")
    get_ipython = getattr(ipython, "get_ipython", None)
    if get_ipython is None:
        return False
    try:
        shell = get_ipython()
    except Exception:  # a half-initialized IPython: not a notebook we can draw in
        return False
    if shell is None:
        return False
    return (type(shell).__name__ == "ZMQInteractiveShell"
            or "IPKernelApp" in getattr(shell, "config", {}))


def _tqdm_class() -> Any:
    """tqdm's ``tqdm.auto.tqdm`` (a widget in Jupyter with ipywidgets, else a text bar), or
    None when tqdm is not installed (``pip install "nnlab[notebook]"``)."""
    try:
        with warnings.catch_warnings():  # (tqdm warns in Jupyter without ipywidgets)
            warnings.simplefilter("ignore")
            auto = importlib.import_module("tqdm.auto")
    except ImportError:
        return None
    return auto.tqdm


class AutoProgress(Callback):
    """What ``fit(verbose="auto")`` shows: a live bar on a terminal or in Jupyter, a few lines
    in a log.

    - **live** (the stream is a terminal, or this runs in a Jupyter kernel): one bar over the
      run, with the latest logs beside it — tqdm's ``tqdm.auto`` when tqdm is installed (a
      widget in Jupyter with ipywidgets, else a text bar), otherwise a plain bar redrawn in
      place with ``\\r``. With ``by_batch_epochs`` epochs or fewer of several batches each, the
      bar fills batch by batch (then every batch is its own stepper call, as for Keras's bar);
      otherwise it counts epochs, and the epochs share compiled calls of about 1 % of the run.
    - **log** (anything else: a file, a pipe, a CI log): a line for the first epoch, then one
      each time another ``every`` of the run (5 %) is done — at most 21 lines, never one per
      epoch — and the last epoch's if training stopped before its end. A line reads
      ``Epoch 50/1000 - 0.4s - loss: 0.3012 - accuracy: 0.8800`` (the time since ``fit``
      began). The lines need only the logs: the epochs run in as few stepper calls as without
      it.

    Args:
        stream: where to write (``sys.stdout`` by default, looked up when training starts).
        every: the share of the run between log lines.
        live: draw a live bar (True) or write log lines (False); None: decide as above.
        tqdm: use tqdm when it is importable (False: always the plain bar).
        by_batch_epochs: the most epochs for which a live bar fills batch by batch.

    >>> import io
    >>> import numpy as np
    >>> from nnlab import Dense, Model
    >>> X = np.random.RandomState(0).randn(40, 2); y = (X[:, 0] > 0).astype(int)
    >>> log = io.StringIO()
    >>> _ = Model([Dense(3, "tanh"), Dense(1, "sigmoid")], random_state=0).fit(
    ...     X, y, epochs=1000, callbacks=[AutoProgress(log)], verbose=0)
    >>> lines = log.getvalue().splitlines()
    >>> len(lines), lines[0].split(" - ")[0], lines[-1].split(" - ")[0]
    (21, 'Epoch 1/1000', 'Epoch 1000/1000')
    """

    def __init__(self, stream: IO[str] | None = None, every: float = 0.05,
                 live: bool | None = None, tqdm: bool = True, by_batch_epochs: int = 10):
        super().__init__()
        if not 0.0 < every <= 1.0:
            raise ValueError(f"every={every} is out of range: expected 0 < every <= 1")
        self.stream, self.every, self.live = stream, float(every), live
        self.tqdm, self.by_batch_epochs = bool(tqdm), int(by_batch_epochs)
        self._out: IO[str] | None = None
        self._live = self._by_batch = False
        self._bar: Any = None
        self._first = self._runs = self._done = 0
        self._last: tuple[int, Logs] | None = None
        self._printed = -1
        self._start = self._drawn = 0.0
        self._width = 0
        self._epoch = 0

    # ------------------------------------------------------------------------- the protocol
    def on_train_begin(self, logs: Logs | None = None) -> None:
        self._out = self.stream if self.stream is not None else sys.stdout
        if self.live is None:
            isatty = getattr(self._out, "isatty", None)
            self._live = bool(isatty and isatty()) or in_jupyter()
        else:
            self._live = bool(self.live)
        epochs = int(self.params.get("epochs") or 0)
        self._first = int(self.params.get("initial_epoch") or 0)
        self._runs = max(0, epochs - self._first)  # the epochs this fit runs (at most)
        steps = int(self.params.get("steps") or 1)
        self._by_batch = self._live and steps > 1 and self._runs <= self.by_batch_epochs
        self._done, self._last, self._printed = 0, None, -1
        self._start = self._drawn = time.perf_counter()
        self._bar = None
        if self._live and self._runs:
            tqdm = _tqdm_class() if self.tqdm else None
            if tqdm is not None:
                self._bar = tqdm(total=self._runs * (steps if self._by_batch else 1),
                                 unit="batch" if self._by_batch else "epoch",
                                 file=self._out, leave=True, dynamic_ncols=True)

    def wants_batches(self) -> bool:
        return self._by_batch

    def free_epochs(self) -> int:
        if not self._live:
            return ANY_EPOCHS  # (log lines read only the logs)
        return 1 if self._by_batch else max(1, math.ceil(self._runs / 100))

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        self._epoch = epoch
        if self._by_batch and self._bar is not None:
            self._bar.set_description_str(self._prefix(epoch), refresh=False)

    def on_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        if not self._by_batch:
            return
        loss = (logs or {}).get("loss", math.nan)
        if self._bar is not None:
            self._bar.set_postfix_str(f"loss: {loss:.4f}", refresh=False)
            self._bar.update(1)
            return
        steps = int(self.params.get("steps") or 1)
        self._done += 1
        self._draw(self._prefix(self._epoch), self._done, self._runs * steps,
                   f"loss: {loss:.4f}")

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        self.on_epochs_end(epoch, {k: [v] for k, v in (logs or {"loss": math.nan}).items()})

    def on_epochs_end(self, first: int, logs: Mapping[str, list[float]]) -> None:
        n = len(logs["loss"])
        last = first + n - 1
        self._last = (last, {k: v[-1] for k, v in logs.items()})
        if self._live:
            if not self._by_batch:
                self._show_epochs(n)
            elif self._bar is not None:
                self._bar.set_postfix_str(_format_logs(self._last[1]), refresh=False)
            else:  # the plain bar: the epoch's logs once its last batch is in
                steps = int(self.params.get("steps") or 1)
                self._draw(self._prefix(last), self._done, self._runs * steps,
                           _format_logs(self._last[1]), force=True)
            return
        for epoch in range(first, last + 1):
            if self._milestone(epoch):
                self._line(epoch, {k: v[epoch - first] for k, v in logs.items()})

    def on_train_end(self, logs: Logs | None = None) -> None:
        if self._live:
            if self._bar is not None:
                self._bar.close()
                self._bar = None
            elif self._width:
                assert self._out is not None
                if self._last is not None and not self._by_batch and self._done < self._runs:
                    self._draw(self._prefix(self._last[0]), self._done, self._runs,
                               _format_logs(self._last[1]), force=True)
                self._out.write("\n")
                self._out.flush()
                self._width = 0
        elif self._last is not None and self._printed != self._last[0]:
            self._line(*self._last)  # stopped before the end: say where

    # ---------------------------------------------------------------------------- drawing
    def _prefix(self, epoch: int) -> str:
        epochs = self.params.get("epochs")
        return f"Epoch {epoch + 1}/{epochs}" if epochs else f"Epoch {epoch + 1}"

    def _milestone(self, epoch: int) -> bool:
        """Whether the epoch (counted i = 1, 2, ... in this fit) ends another ``every`` of the
        run: i = 1, and the i where floor(i / (every · n)) grows."""
        i = epoch - self._first + 1
        if i <= 1 or self._runs <= 0:
            return True
        parts = max(1, round(1.0 / self.every))
        return i * parts // self._runs > (i - 1) * parts // self._runs

    def _line(self, epoch: int, logs: Mapping[str, float]) -> None:
        assert self._out is not None
        elapsed = time.perf_counter() - self._start
        self._out.write(f"{self._prefix(epoch)} - {elapsed:.1f}s - {_format_logs(logs)}\n")
        self._out.flush()
        self._printed = epoch

    def _show_epochs(self, n: int) -> None:
        assert self._last is not None
        self._done += n
        if self._bar is not None:
            self._bar.set_postfix_str(_format_logs(self._last[1]), refresh=False)
            self._bar.update(n)
            return
        self._draw(self._prefix(self._last[0]), self._done, self._runs,
                   _format_logs(self._last[1]))

    def _draw(self, prefix: str, done: int, total: int, text: str, force: bool = False) -> None:
        """The plain bar, redrawn in place at most ten times a second (and at the end)."""
        now = time.perf_counter()
        if not force and done < total and now - self._drawn < 0.1 and self._width:
            return
        self._drawn = now
        total = max(total, 1)
        filled = min(30, 30 * done // total)
        line = (f"{prefix} [{'=' * filled}{'.' * (30 - filled)}] {100 * done // total:3d}% "
                f"- {text}")
        assert self._out is not None
        self._out.write("\r" + line.ljust(self._width))
        self._out.flush()
        self._width = len(line)


def _warn_terminated(epoch: int) -> None:
    warnings.warn(
        f"TerminateOnNaN: the loss became NaN or infinite in epoch {epoch}; training stopped "
        "with the weights from the start of that epoch",
        RuntimeWarning,
        stacklevel=3,
    )
