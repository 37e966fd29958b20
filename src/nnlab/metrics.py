"""Metrics: numbers ``Model.fit(metrics=[...])`` records per epoch beside the loss, and
``Model.evaluate`` reports.

A metric is a function ``(y_true, y_pred) -> float`` on rows (one example per row, as
``Model.predict`` returns them). The named ones are plain NumPy, each equal to its namesake in
``sklearn.metrics`` (the tests compare them on the same predictions):

| name      | formula                                 | reads                              |
| --------- | --------------------------------------- | ---------------------------------- |
| accuracy  | (1/m) Σ_i [ŷ_i = y_i]                   | labels (sigmoid or softmax output) |
| precision | TP / (TP + FP), 0 when no ŷ_i = 1       | labels, binary (1 is positive)     |
| recall    | TP / (TP + FN), 0 when no y_i = 1       | labels, binary                     |
| f1        | 2 TP / (2 TP + FP + FN)                 | labels, binary                     |
| mae       | (1/m) Σ_i abs(a_i - y_i)                | outputs A[L]                       |
| rmse      | sqrt((1/m) Σ_i (a_i - y_i)²)            | outputs A[L]                       |
| r2        | 1 - Σ_i (a_i - y_i)² / Σ_i (y_i - ȳ)²   | outputs A[L]                       |

"labels" are what ``predict`` gives a classifier (``A[L] > 0.5`` for sigmoid, the argmax for
softmax) against the class labels; "outputs" are ``A[L]`` itself (the values of a regression,
the probabilities of a classifier) against the targets (one-hot for softmax). With several
output columns, mae, rmse and r2 are the mean over the columns of each column's value
(scikit-learn's ``multioutput="uniform_average"``); r2 of a constant column is 1 when it is
predicted exactly, else 0 (scikit-learn's ``force_finite``).

Any other function ``(y_true, y_pred) -> float`` is a metric too, named by its ``__name__``
and given what ``predict`` returns (labels for a classifier, values for a regression); wrap it
in ``Metric`` to rename it or to give it the outputs (probabilities) instead.

>>> import numpy as np
>>> f1(np.array([1, 0, 1, 1]), np.array([1, 0, 0, 1]))
0.8
>>> round(r2(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.5, 3.0])), 6)
0.875
>>> get_metric("mean_absolute_error").name
'mae'
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .network import predict_from_output

MetricFn = Callable[[Any, Any], Any]

#: Output activations whose network is a classifier (``predict`` gives labels).
CLASSIFIER_OUTPUTS = ("sigmoid", "softmax")


# ---------------------------------------------------------------------- the named functions
def _pair(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has shape {y_true.shape} but y_pred has {y_pred.shape}")
    if y_true.shape[0] == 0:
        raise ValueError("a metric needs at least one example")
    return y_true, y_pred


def _columns(y: np.ndarray) -> np.ndarray:
    """y as ``(m, k)`` floats: a 1-D y is one column."""
    return y.reshape(y.shape[0], -1).astype(np.float64)


def accuracy(y_true: Any, y_pred: Any) -> float:
    """The fraction of examples whose label is right (rows must match whole)."""
    y_true, y_pred = _pair(y_true, y_pred)
    right = (y_true == y_pred).reshape(y_true.shape[0], -1).all(axis=1)
    return float(np.mean(right))


def _binary_counts(y_true: Any, y_pred: Any) -> tuple[int, int, int]:
    """(TP, FP, FN) of 0/1 labels, class 1 the positive one."""
    y_true, y_pred = _pair(y_true, y_pred)
    for name, y in (("y_true", y_true), ("y_pred", y_pred)):
        if y.ndim != 1 or not ((y == 0) | (y == 1)).all():
            raise ValueError(f"{name} must be 1-D labels 0 and 1 for a binary metric")
    t, p = y_true == 1, y_pred == 1
    return int(np.sum(t & p)), int(np.sum(~t & p)), int(np.sum(t & ~p))


def precision(y_true: Any, y_pred: Any) -> float:
    """TP / (TP + FP): the share of the predicted positives that are positive (0 when none is
    predicted positive)."""
    tp, fp, _ = _binary_counts(y_true, y_pred)
    return tp / (tp + fp) if tp + fp else 0.0


def recall(y_true: Any, y_pred: Any) -> float:
    """TP / (TP + FN): the share of the positives predicted positive (0 without positives)."""
    tp, _, fn = _binary_counts(y_true, y_pred)
    return tp / (tp + fn) if tp + fn else 0.0


def f1(y_true: Any, y_pred: Any) -> float:
    """2 TP / (2 TP + FP + FN), the harmonic mean of precision and recall (0 when both are 0)."""
    tp, fp, fn = _binary_counts(y_true, y_pred)
    return 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0


def mae(y_true: Any, y_pred: Any) -> float:
    """Mean absolute error, the mean over the output columns of (1/m) Σ_i |a_i - y_i|."""
    y_true, y_pred = _pair(y_true, y_pred)
    return float(np.mean(np.mean(np.abs(_columns(y_pred) - _columns(y_true)), axis=0)))


def rmse(y_true: Any, y_pred: Any) -> float:
    """Root mean squared error, the mean over the output columns of sqrt((1/m) Σ_i (a_i -
    y_i)²)."""
    y_true, y_pred = _pair(y_true, y_pred)
    mse = np.mean((_columns(y_pred) - _columns(y_true)) ** 2, axis=0)
    return float(np.mean(np.sqrt(mse)))


def r2(y_true: Any, y_pred: Any) -> float:
    """The coefficient of determination, the mean over the output columns of
    ``1 - Σ_i (a_i - y_i)² / Σ_i (y_i - ȳ)²`` (a constant column: 1 if predicted exactly,
    else 0)."""
    y_true, y_pred = _pair(y_true, y_pred)
    Y, A = _columns(y_true), _columns(y_pred)
    residual = np.sum((Y - A) ** 2, axis=0)
    total = np.sum((Y - Y.mean(axis=0)) ** 2, axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        scores = np.where(total > 0, 1.0 - residual / np.where(total > 0, total, 1.0),
                          np.where(residual == 0, 1.0, 0.0))
    return float(np.mean(scores))


# ---------------------------------------------------------------------------- the registry
@dataclass(frozen=True)
class Metric:
    """A metric for ``fit`` / ``evaluate``: its name (the ``History`` key; ``val_`` + name on
    the validation data), its function ``(y_true, y_pred) -> float`` and what it reads.

    Args:
        fn: the function.
        name: by default ``fn.__name__``.
        on: "predictions" (what ``predict`` returns: labels for a classifier, against the
            class labels) or "outputs" (``A[L]``: probabilities or values, against the
            targets, one-hot for softmax); either is 1-D for one output column.
        binary: it needs a binary classifier (one sigmoid unit or a softmax of two).
        classifier: it needs a classifier (a sigmoid or softmax output).

    >>> from sklearn.metrics import roc_auc_score
    >>> auc = Metric(roc_auc_score, name="auc", on="outputs")
    >>> auc.name, auc.on
    ('auc', 'outputs')
    """

    fn: MetricFn
    name: str = ""
    on: str = "predictions"
    binary: bool = False
    classifier: bool = False

    def __post_init__(self) -> None:
        if not callable(self.fn):
            raise ValueError(f"a metric must be a function (y_true, y_pred) -> float; "
                             f"got {self.fn!r}")
        if self.on not in ("predictions", "outputs"):
            raise ValueError(f"on={self.on!r}: expected 'predictions' or 'outputs'")
        if not self.name:
            name = getattr(self.fn, "__name__", None) or type(self.fn).__name__
            object.__setattr__(self, "name", str(name))
        if self.name in ("loss", "learning_rate") or self.name.startswith("val_"):
            raise ValueError(f"a metric cannot be named {self.name!r}: History uses that name "
                             "(give Metric(fn, name=...) another)")

    def __call__(self, y_true: Any, y_pred: Any) -> float:
        value = np.asarray(self.fn(y_true, y_pred))
        if value.size != 1 or value.dtype.kind not in "fiub":
            raise ValueError(f"metric {self.name!r} returned {value!r}; expected one number")
        return float(value.reshape(()))

    def check(self, output_activation: str, units: int) -> None:
        """Raise a clear ``ValueError`` when the model's output cannot give this metric."""
        out = f"{output_activation} of {units} unit{'s' if units > 1 else ''}"
        if (self.classifier or self.binary) and output_activation not in CLASSIFIER_OUTPUTS:
            raise ValueError(f"metric {self.name!r} needs a classifier (a sigmoid or softmax "
                             f"output); this model's output is {out}")
        if self.binary and not (units == 1 or (output_activation == "softmax" and units == 2)):
            raise ValueError(f"metric {self.name!r} is binary: it needs one sigmoid unit or a "
                             f"softmax of 2 units; this model's output is {out}")


METRICS: dict[str, Metric] = {
    "accuracy": Metric(accuracy, "accuracy", classifier=True),
    "precision": Metric(precision, "precision", binary=True),
    "recall": Metric(recall, "recall", binary=True),
    "f1": Metric(f1, "f1", binary=True),
    "mae": Metric(mae, "mae", on="outputs"),
    "rmse": Metric(rmse, "rmse", on="outputs"),
    "r2": Metric(r2, "r2", on="outputs"),
}

#: Other names of the named metrics (Keras's and scikit-learn's spellings).
ALIASES = {"acc": "accuracy", "f1_score": "f1", "mean_absolute_error": "mae",
           "root_mean_squared_error": "rmse", "r2_score": "r2"}

_MAXIMIZED_WORDS = ("precision", "recall", "f1", "r2", "auc")


def greater_is_better(name: str) -> bool:
    """Whether a log named ``name`` (``val_`` or not) improves upward: names holding "acc" or
    "score", or a word (between underscores) "precision", "recall", "f1", "r2" or "auc", do;
    losses and errors do not.

    >>> [greater_is_better(k) for k in ("val_f1", "macro_f1", "val_loss", "rmse", "error2")]
    [True, True, False, False, False]
    """
    base = name.removeprefix("val_")
    if "acc" in base or "score" in base:
        return True
    return any(word in _MAXIMIZED_WORDS for word in base.split("_"))


def get_metric(spec: str | MetricFn | Metric) -> Metric:
    """The ``Metric`` for a name (see the table above), a ``Metric``, or a function
    ``(y_true, y_pred) -> float`` (named by its ``__name__``, given ``predict``'s output)."""
    if isinstance(spec, Metric):
        return spec
    if isinstance(spec, str):
        name = ALIASES.get(spec, spec)
        if name not in METRICS:
            raise ValueError(f"unknown metric {spec!r}: expected one of "
                             f"{', '.join(METRICS)} or a function (y_true, y_pred) -> float")
        return METRICS[name]
    if callable(spec):
        return Metric(spec)
    raise ValueError(f"metrics must hold names or functions (y_true, y_pred) -> float; "
                     f"got {spec!r}")


def get_metrics(specs: Iterable[str | MetricFn | Metric] | str | None,
                output_activation: str, units: int) -> list[Metric]:
    """The metrics of ``fit(metrics=...)``, each checked against the model's output layer;
    names must not repeat."""
    if specs is None:
        return []
    if isinstance(specs, str) or callable(specs):
        specs = [specs]
    found: list[Metric] = []
    for spec in specs:
        metric = get_metric(spec)
        metric.check(output_activation, units)
        if any(m.name == metric.name for m in found):
            raise ValueError(f"two metrics are named {metric.name!r}: give one "
                             "Metric(fn, name=...) another name")
        found.append(metric)
    return found


# ---------------------------------------------------------------------- on a model's output
def labels_of(Y: np.ndarray, output_activation: str) -> np.ndarray:
    """The class labels of targets ``Y`` ``(m, n_L)`` (rows): the argmax of one-hot rows for
    softmax, 0/1 integers for sigmoid; 1-D for one column. Regression targets stay as they
    are."""
    if output_activation == "softmax":
        return np.argmax(Y, axis=1)
    if output_activation == "sigmoid":
        Y = (Y > 0.5).astype(np.int64)
    return _squeeze(Y)


def metric_logs(metrics: Iterable[Metric], AL: np.ndarray, Y: np.ndarray,
                output_activation: str, prefix: str = "") -> dict[str, float]:
    """``{prefix + name: value}`` of each metric on the network's output ``AL`` ``(n_L, m)``
    (columns, as the engine gives it) and the targets ``Y`` ``(m, n_L)`` (rows).

    >>> AL = np.array([[0.9, 0.2, 0.4, 0.7]]); Y = np.array([[1.0], [0.0], [1.0], [1.0]])
    >>> metric_logs([METRICS["recall"], METRICS["mae"]], AL, Y, "sigmoid", "val_")
    {'val_recall': 0.6666666666666666, 'val_mae': 0.3}
    """
    logs: dict[str, float] = {}
    pairs: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # what each kind reads, made once
    for metric in metrics:
        if metric.on not in pairs:
            if metric.on == "outputs":
                pairs["outputs"] = (_squeeze(Y), _squeeze(AL.T))
            else:
                P = predict_from_output(AL, output_activation).T
                pairs["predictions"] = (labels_of(Y, output_activation), _squeeze(P))
        logs[prefix + metric.name] = metric(*pairs[metric.on])
    return logs


def _squeeze(rows: np.ndarray) -> np.ndarray:
    """``(m, 1)`` rows as ``(m,)``; more columns stay."""
    return rows[:, 0] if rows.shape[1] == 1 else rows


__all__ = [
    "ALIASES",
    "METRICS",
    "Metric",
    "accuracy",
    "f1",
    "get_metric",
    "get_metrics",
    "greater_is_better",
    "labels_of",
    "mae",
    "metric_logs",
    "precision",
    "r2",
    "recall",
    "rmse",
]
