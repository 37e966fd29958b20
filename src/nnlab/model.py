"""``Model``: a network built from layer specs, trained with ``fit`` — the engine without the loop.

Rows of ``X`` are examples here, ``(n_samples, n_features)``, as in every Python ML library; the
model transposes once, at its boundary, to the engine's columns (``A[0] = X^T`` is ``(n_x, m)``).
Everything inside is the engine: ``model_forward``, ``compute_cost``, ``model_backward``, an
optimizer's ``update`` and ``apply_updates``, called in the same order and drawing from the same
generator in the same order as ``nnlab.train`` (the initialization first, layer by layer, then per
epoch the shuffle and per update the dropout masks), so ``Model.fit`` trains the very numbers
``train`` does for the same settings.

>>> import numpy as np
>>> from nnlab import Dense, Model
>>> rng = np.random.RandomState(1)
>>> X = rng.randn(300, 2); y = (X[:, 0] * X[:, 1] > 0).astype(int)
>>> model = Model([Dense(8, "tanh", init="xavier"), Dense(1, "sigmoid")],
...               optimizer="adam", learning_rate=0.05, random_state=1)
>>> history = model.fit(X, y, epochs=300, verbose=0)
>>> history.loss[-1] < history.loss[0], model.predict(X[:3]).shape
(True, (3,))
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np

from ._random import RandomLike, Rng, check_random_state
from .activations import get_activation
from .callbacks import (
    AutoProgress,
    Callback,
    History,
    ProgressBar,
    TerminateOnNaN,
    _warn_terminated,
)
from .data import check_batch_size
from .engine import explain_path, make_stepper
from .fast.path import check_fast
from .initializers import INITIALIZERS, initialize_parameters
from .losses import check_l1, check_poisson_targets
from .metrics import METRICS, Metric, MetricFn, get_metrics, metric_logs
from .network import (
    batch_accuracy_sum,
    compute_cost,
    example_accuracies,
    predict_forward,
    predict_from_output,
    resolve_loss,
)
from .optimizers import Optimizer, get_optimizer, registered_spec
from .training import DivergenceError, EpochLoop, LoopCallback, Stepper
from .weights import check_sample_weight, class_weights

Params = dict[str, np.ndarray]
#: A layer initializer: ``(n_l, n_prev, rng) -> W`` (biases start at zero) or ``-> (W, b)``,
#: with ``W`` of shape ``(n_l, n_prev)`` and ``b`` of shape ``(n_l, 1)`` or ``(n_l,)``.
LayerInit = Callable[[int, int, Rng], "np.ndarray | tuple[np.ndarray, np.ndarray]"]

#: Initializer names a ``Dense`` layer accepts.
INIT_NAMES = (*INITIALIZERS, "glorot_uniform")


class GlorotUniform:
    """scikit-learn's MLP initialization: with r = sqrt(factor / (n[l-1] + n[l])),
    ``W ~ U(-r, r)`` and ``b ~ U(-r, r)`` (scikit-learn uses factor 6, or 2 for logistic units).

    Draws as scikit-learn does, layer by layer: the weights as an ``(n[l-1], n[l])`` array (its
    ``coefs_`` orientation, transposed here to ``W``), then the ``n[l]`` biases; so a
    ``RandomState`` seeded alike gives scikit-learn's initial weights exactly. A class rather than
    a closure so that models using it can be pickled.
    """

    def __init__(self, factor: float = 6.0):
        factor = float(factor)
        if not (math.isfinite(factor) and factor > 0):
            raise ValueError(f"factor={factor} must be a finite number > 0")
        self.factor = factor

    def __call__(self, n_l: int, n_prev: int, rng: Rng) -> tuple[np.ndarray, np.ndarray]:
        r = math.sqrt(self.factor / (n_prev + n_l))
        W = np.ascontiguousarray(rng.uniform(-r, r, (n_prev, n_l)).T)
        b = rng.uniform(-r, r, n_l).reshape(n_l, 1)
        return W, b

    def __repr__(self) -> str:
        return f"GlorotUniform(factor={self.factor:g})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, GlorotUniform) and other.factor == self.factor

    def __hash__(self) -> int:
        return hash(("GlorotUniform", self.factor))


def glorot_uniform(factor: float = 6.0) -> GlorotUniform:
    """scikit-learn's initializer as a ``LayerInit`` (see ``GlorotUniform``)."""
    return GlorotUniform(factor)


@dataclass(frozen=True)
class Dense:
    """A fully-connected layer: ``Z = W A_prev + b``, ``A = g(Z)``, then inverted dropout.

    With ``batch_norm=True`` (hidden layers only) the layer normalizes Z over the mini-batch's m
    examples before g: ``Z = W A_prev``, ``z_norm = (Z - μ) / sqrt(σ² + ε)``,
    ``Z̃ = γ ⊙ z_norm + β``, ``A = g(Z̃)``. It then has γ[l] (ones) and β[l] (zeros), both
    ``(units, 1)`` and trained, and **no b[l]**: the mean subtraction would cancel it (β takes
    its place). Prediction normalizes with the running averages of μ and σ² kept during training
    (``running_mean{l}``, ``running_var{l}``), so an example gets the same output alone as in a
    batch.

    Args:
        units: n[l], the number of units.
        activation: g: "relu", "tanh", "sigmoid", "softmax", "leaky_relu" or "identity".
        init: "he" (default), "xavier", "random" (randn · ``init_scale``, 0.01 by default),
            "zeros", "glorot_uniform" (scikit-learn's, factor 2 for sigmoid layers, else 6), or a
            ``LayerInit`` callable ``(n_l, n_prev, rng) -> W or (W, b)``.
        keep_prob: inverted-dropout keep probability of this layer's output (1: no dropout;
            the output layer must keep 1).
        init_scale: the multiplier of ``init="random"``.
        batch_norm: batch-normalize the layer (see above; not for the output layer).

    >>> Dense(8, "relu", batch_norm=True).parameter_names(1)
    ['W1', 'gamma1', 'beta1']
    """

    units: int
    activation: str = "relu"
    init: str | LayerInit = "he"
    keep_prob: float = 1.0
    init_scale: float | None = None
    batch_norm: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.units, bool) or not isinstance(self.units, int | np.integer):
            raise ValueError(f"units={self.units!r} must be an int >= 1")
        if self.units < 1:
            raise ValueError(f"units={self.units} is out of range: expected >= 1")
        get_activation(self.activation)
        if not callable(self.init) and self.init not in INIT_NAMES:
            raise ValueError(
                f"unknown init {self.init!r}: expected one of {', '.join(INIT_NAMES)} "
                "or a callable"
            )
        if self.init_scale is not None and self.init != "random":
            raise ValueError(f"init_scale only applies to init='random', not {self.init!r}")
        if not 0.0 < float(self.keep_prob) <= 1.0:
            raise ValueError(
                f"keep_prob={self.keep_prob} is out of range: expected 0 < keep_prob <= 1"
            )
        if not isinstance(self.batch_norm, bool | np.bool_):
            raise ValueError(f"batch_norm={self.batch_norm!r} must be True or False")

    def parameter_names(self, l: int) -> list[str]:
        """The trained parameters of this layer as layer ``l``: ``W{l}, b{l}``, or with batch
        norm ``W{l}, gamma{l}, beta{l}`` (its running statistics are not trained)."""
        if self.batch_norm:
            return [f"W{l}", f"gamma{l}", f"beta{l}"]
        return [f"W{l}", f"b{l}"]

    def count_params(self, n_prev: int) -> int:
        """The trained numbers: n[l] (n[l-1] + 1), or with batch norm n[l] (n[l-1] + 2)
        (γ and β instead of b)."""
        return self.units * (n_prev + (2 if self.batch_norm else 1))

    def layer_params(self, l: int, n_prev: int, rng: Rng,
                     dtype: np.dtype) -> dict[str, np.ndarray]:
        """This layer's entries of the params dict as layer ``l``: ``W{l}, b{l}`` from
        ``initialize``; with batch norm ``W{l}`` (the same draws: a b an initializer draws is
        drawn and dropped, so the generator ends where it would without batch norm),
        ``gamma{l}`` = 1, ``beta{l}`` = 0, ``running_mean{l}`` = 0, ``running_var{l}`` = 1."""
        W, b = self.initialize(n_prev, rng, dtype)
        if not self.batch_norm:
            return {f"W{l}": W, f"b{l}": b}
        shape = (self.units, 1)
        return {f"W{l}": W, f"gamma{l}": np.ones(shape, dtype), f"beta{l}": np.zeros(shape, dtype),
                f"running_mean{l}": np.zeros(shape, dtype),
                f"running_var{l}": np.ones(shape, dtype)}

    @property
    def init_name(self) -> str:
        """The initializer's name, for display."""
        if isinstance(self.init, str):
            return self.init
        if isinstance(self.init, GlorotUniform):
            return "glorot_uniform"
        return getattr(self.init, "__name__", type(self.init).__name__)

    def initialize(self, n_prev: int, rng: Rng, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
        """``(W, b)`` of shapes ``(units, n_prev)`` and ``(units, 1)``, drawn from ``rng``.

        The engine's named initializers go through ``initialize_parameters([n_prev, units])``,
        which draws exactly what the whole-network call draws for this layer.
        """
        if isinstance(self.init, str) and self.init in INITIALIZERS:
            p = initialize_parameters(
                [n_prev, self.units], self.init, rng, dtype=dtype, scale=self.init_scale
            )
            return p["W1"], p["b1"]
        fn = self.init
        if isinstance(fn, str):  # (the only other name __post_init__ lets through)
            fn = glorot_uniform(2.0 if self.activation == "sigmoid" else 6.0)
        if type(fn) is GlorotUniform:  # (its W and b have the shapes, in float64)
            W, b = fn(self.units, n_prev, rng)
            return W.astype(dtype, copy=False), b.astype(dtype, copy=False)
        assert callable(fn)  # __post_init__ let through only names and callables
        out = fn(self.units, n_prev, rng)
        W, b = out if isinstance(out, tuple) else (out, np.zeros((self.units, 1)))
        W, b = np.asarray(W), np.asarray(b).reshape(-1, 1)
        if W.shape != (self.units, n_prev) or b.shape != (self.units, 1):
            raise ValueError(
                f"init returned W {W.shape} and b {b.shape}; expected "
                f"{(self.units, n_prev)} and {(self.units, 1)}"
            )
        return W.astype(dtype, copy=False), b.astype(dtype, copy=False)


#: Kept for code written against nnlab 0.2: the optimizer registry's ``get_optimizer``.
make_optimizer = get_optimizer


def summary_html(summary: str, caption: str = "") -> str:
    """A ``Model.summary`` text as HTML: its table (the lines between the header and the
    closing rule, cut at the header's columns) as a ``<table>``, the lines after it as
    paragraphs, everything escaped."""
    lines = summary.splitlines()
    rules = [i for i, line in enumerate(lines) if line and set(line) == {"-"}]
    if len(rules) < 2:  # not the table we know: show the text as it is
        return f"<pre>{html.escape(summary)}</pre>"
    header, body, notes = lines[0], lines[rules[0] + 1:rules[1]], lines[rules[1] + 1:]
    starts = [i for i, ch in enumerate(header)
              if ch != " " and (i == 0 or header[max(0, i - 2):i] == "  ")]
    bounds = list(zip(starts, [*starts[1:], None], strict=True))

    def cells(line: str, tag: str) -> str:
        return "".join(f"<{tag}>{html.escape(line[a:b].strip())}</{tag}>" for a, b in bounds)

    parts = ['<div class="nnlab-model">', '<table class="nnlab-summary">']
    if caption:
        parts.append(f"<caption>{html.escape(caption)}</caption>")
    parts.append(f"<thead><tr>{cells(header, 'th')}</tr></thead>")
    parts.append("<tbody>" + "".join(f"<tr>{cells(row, 'td')}</tr>" for row in body)
                 + "</tbody>")
    parts.append("</table>")
    parts += [f"<p>{html.escape(note)}</p>" for note in notes if note.strip()]
    parts.append("</div>")
    return "\n".join(parts)


def _check_verbose(verbose: Any) -> int | str:
    """``fit``'s verbose: "auto", 0, 1 or 2 (True is 1)."""
    if verbose == "auto" and isinstance(verbose, str):
        return verbose
    if isinstance(verbose, bool | int | np.integer) and 0 <= int(verbose) <= 2:
        return int(verbose)
    raise ValueError(f"verbose={verbose!r}: expected 'auto', 0, 1 or 2")


def _predicted(metrics: Sequence[Metric]) -> list[Metric]:
    """The metrics that need the network's predictions: all but the running accuracy that a
    classifier's epoch logs (and ``evaluate``) already hold."""
    return [m for m in metrics if m is not METRICS["accuracy"]]


#: Prediction and evaluation go through the network in row chunks whose layers (Z, A and a
#: temporary per unit and example) take at most this many bytes.
PREDICT_BYTES = 64 * 2**20


def _is_sparse(X: Any) -> bool:
    """Whether X is a SciPy sparse matrix or array (without importing scipy.sparse)."""
    return type(X).__module__.startswith("scipy.sparse")


def _sparse_rows(X: Any, name: str) -> Any:
    """A sparse X as CSR (CSC kept) of float32 / float64, 2-D, finite, with rows."""
    if X.format not in ("csr", "csc"):
        X = X.tocsr()
    if X.dtype not in (np.float32, np.float64):
        if X.dtype.kind not in "fiub":
            raise ValueError(f"{name} has dtype {X.dtype}; expected numbers")
        X = X.astype(np.float64)
    if X.ndim != 2 or X.shape[0] == 0:
        raise ValueError(f"{name} has shape {X.shape}; expected (n_samples, n_features) with "
                         "at least one row")
    if not np.all(np.isfinite(X.data)):
        raise ValueError(f"{name} contains NaN or infinity")
    return X


def _as_rows(X: Any, name: str = "X") -> np.ndarray:
    """X as a finite float 2-D array (float32 stays float32; anything else becomes float64).
    A SciPy sparse X stays sparse (CSR or CSC): the first layer multiplies it as it is."""
    if _is_sparse(X):
        return cast(np.ndarray, _sparse_rows(X, name))
    X = np.asarray(X)
    if X.dtype.kind not in "fiub":
        raise ValueError(f"{name} has dtype {X.dtype}; expected numbers")
    if X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64)
    if X.ndim != 2:
        raise ValueError(
            f"{name} has shape {X.shape}; expected (n_samples, n_features) — one row per example"
        )
    if X.shape[0] == 0:
        raise ValueError(f"{name} holds no examples (0 rows)")
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{name} contains NaN or infinity")
    return X


#: The hidden activations scikit-learn's MLP has: the engine's name → scikit-learn's.
SKLEARN_HIDDEN = {"relu": "relu", "tanh": "tanh", "sigmoid": "logistic", "identity": "identity"}


def sklearn_mlp(model: Model, classes: Sequence[Any] | np.ndarray | None = None) -> Any:
    """A fitted ``sklearn.neural_network.MLPClassifier`` or ``MLPRegressor`` holding the
    model's weights, ``coefs_[l-1] = W[l]^T`` and ``intercepts_[l-1] = b[l]`` (copies), or a
    ``ValueError`` saying why scikit-learn's MLP cannot hold the network. ``Model.to_sklearn``
    documents the rules; ``classes`` are the labels of the output units (default: the model
    file's ``extra["classes"]``, else 0, 1, ...)."""
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    from sklearn.preprocessing import LabelBinarizer

    model._require_built()
    params = model.params
    assert params is not None
    L = len(model.layers)
    other = sorted(set(params) - {f"{p}{l}" for l in range(1, L + 1) for p in "Wb"})
    if other:
        raise ValueError(f"scikit-learn's MLP cannot hold this network: it has no batch norm "
                         f"(or other parameters than W and b), and this one has {other}")
    hidden, out = model.activations[:-1], model.activations[-1]
    if len(set(hidden)) > 1:
        raise ValueError(f"scikit-learn's MLP cannot hold this network: it has one activation "
                         f"for every hidden layer, and this one has {hidden}")
    act = hidden[0] if hidden else "relu"
    if act not in SKLEARN_HIDDEN:
        raise ValueError(f"scikit-learn's MLP cannot hold this network: its hidden activations "
                         f"are relu, tanh, logistic (sigmoid) and identity, not {act!r}")
    n_out = model.layers[-1].units
    kind = {"sigmoid": "binary" if n_out == 1 else "multilabel-indicator",
            "softmax": "multiclass" if n_out > 1 else None, "identity": "regression",
            "exp": "poisson"}.get(out)
    if kind is None:
        raise ValueError(f"scikit-learn's MLP cannot hold this network: its outputs are one "
                         f"sigmoid (binary), several sigmoids (multilabel), softmax (multiclass), "
                         f"identity or exp (regression), not {n_out} {out} unit(s)")
    dims = model.layer_dims
    est: Any
    if kind in ("regression", "poisson"):
        est = MLPRegressor(hidden_layer_sizes=tuple(dims[1:-1]), activation=SKLEARN_HIDDEN[act],
                           **({"loss": "poisson"} if kind == "poisson" else {}))
    else:
        if classes is None:
            classes = getattr(model, "extra", {}).get("classes") or None
        labels = np.asarray(range(max(n_out, 2)) if classes is None else classes)
        wanted = (1, 2) if kind == "binary" else (n_out,)
        if labels.ndim != 1 or len(labels) not in wanted or len(set(labels.tolist())) != len(
                labels):
            raise ValueError(f"classes: expected {' or '.join(map(str, wanted))} distinct "
                             f"labels for {n_out} {out} unit(s), got {labels.tolist()!r:.80}")
        est = MLPClassifier(hidden_layer_sizes=tuple(dims[1:-1]),
                            activation=SKLEARN_HIDDEN[act])
        binarizer = LabelBinarizer()
        binarizer.classes_, binarizer.y_type_, binarizer.sparse_input_ = labels, kind, False
        est._label_binarizer, est.classes_ = binarizer, labels
    est.coefs_ = [np.array(params[f"W{l}"].T) for l in range(1, L + 1)]
    est.intercepts_ = [params[f"b{l}"].reshape(-1).copy() for l in range(1, L + 1)]
    est.n_features_in_, est.n_layers_, est.n_outputs_ = dims[0], L + 1, n_out
    est.out_activation_ = {"sigmoid": "logistic"}.get(out, out)
    if model.history is not None and model.history.loss:
        est.loss_curve_ = [float(v) for v in model.history.loss]
        est.loss_, est.best_loss_ = est.loss_curve_[-1], min(est.loss_curve_)
        est.n_iter_ = len(est.loss_curve_)
    return est


class _Fresh:
    """``Model.opt_state`` before anything read it: the optimizer's initial state
    (``optimizer.init(params)``), made when read; a stepper starts from it without a copy."""

    def __repr__(self) -> str:
        return "<fresh optimizer state>"


_FRESH = _Fresh()


class _FitCallbacks(LoopCallback):
    """``Model.fit``'s part of the epoch loop: the model's (Keras-style) callbacks, the
    ``History`` first among them, the validation data, and callbacks that replace the weights,
    the optimizer or the learning rate between epochs."""

    #: The validation examples' weights.
    w_val: np.ndarray | None = None
    #: The metrics of ``fit(metrics=...)`` that need predictions (all but the running
    #: accuracy), and the training rows they are measured on after each epoch.
    metrics: Sequence[Metric] = ()
    X_fit: np.ndarray | None = None
    Y_fit: np.ndarray | None = None

    def __init__(self, model: Model, callbacks: list[Callback], X_val: np.ndarray | None,
                 Y_val: np.ndarray | None, dtype: np.dtype):
        self.model, self.callbacks = model, callbacks
        self.kinds: dict[str, bool] = {}  # what the data asks of the stepper: weighted, sparse
        self.X_val, self.Y_val, self.dtype = X_val, Y_val, dtype
        # (a callback that watches every batch makes fit stop after every batch)
        self.per_batch = any(cb.wants_batches() for cb in callbacks)

    def free_epochs(self, loop: EpochLoop) -> int:
        """As many as every callback allows (``Callback.free_epochs``); one with validation
        data or metrics (their scores need each epoch's weights)."""
        if self.X_val is not None or self.metrics:
            return 1
        return min(cb.free_epochs() for cb in self.callbacks)

    def on_epoch_begin(self, epoch: int, loop: EpochLoop) -> None:
        for cb in self.callbacks:
            cb.on_epoch_begin(epoch, {})
        loop.learning_rate = self.model.learning_rate  # a schedule callback may have set it

    def on_batch_end(self, batch: int, cost: float, size: int, loop: EpochLoop) -> None:
        for cb in self.callbacks:
            cb.on_batch_end(batch, {"loss": cost, "size": float(size)})
        if self.model.stop_training:
            loop.stop_training = True

    def on_epochs_end(self, first: int, logs: dict[str, list[float]], loop: EpochLoop) -> None:
        """The epochs of one stepper call, handed to every callback at once (their
        ``free_epochs`` allowed the call); the model holds the weights of the last."""
        model = self.model
        model._live = loop.stepper  # the weights of the call's last epoch, copied when read
        record = {"loss": logs["loss"]}
        if "accuracy" in logs:
            record["accuracy"] = logs["accuracy"]
        if self.metrics:  # (one epoch per call: free_epochs says so)
            assert self.X_fit is not None and self.Y_fit is not None
            scores = model._metric_scores(self.X_fit, self.Y_fit, self.metrics)
            record.update({k: [float(v)] for k, v in scores.items()})
        if self.X_val is not None:  # (one epoch per call: free_epochs says so)
            assert self.Y_val is not None and len(logs["loss"]) == 1
            scores = (model._evaluate_arrays(self.X_val, self.Y_val, prefix="val_")
                      if self.w_val is None else
                      model._weighted_scores(self.X_val, self.Y_val, self.w_val, "val_"))
            scores.update(model._metric_scores(self.X_val, self.Y_val, self.metrics, "val_"))
            record.update({k: [float(v)] for k, v in scores.items()})
        record["learning_rate"] = logs["learning_rate"]
        optimizer, l2, l1 = model.optimizer, model.l2, getattr(model, "l1", 0.0)
        for cb in self.callbacks:
            cb.on_epochs_end(first, record)
        # A callback may have replaced the weights, the optimizer state, the optimizer, λ or λ1.
        if (model.optimizer is not optimizer or model.l2 != l2
                or getattr(model, "l1", 0.0) != l1):
            loop.replace_stepper(model._stepper(self.dtype, **self.kinds))
        elif model._live is None and (model._params is not model._synced[0]
                                      or model._opt_state is not model._synced[1]):
            loop.stepper.load_state(model.params, model.opt_state)  # a callback replaced them
        if model.stop_training:
            loop.stop_training = True


class Model:
    """A fully-connected network from ``Dense`` layer specs, with ``fit / evaluate / predict``.

    Args:
        layers: ``[Dense(n_1, ...), ..., Dense(n_L, output_activation)]``.
        loss: "binary_crossentropy", "categorical_crossentropy", "mean_squared_error",
            "mean_absolute_error", "huber" (δ = 1) or ``nnlab.losses.huber(δ)``; by default the
            natural loss of the output activation (sigmoid → binary cross-entropy, softmax →
            categorical, otherwise squared error).
        optimizer: "gd", "momentum", "rmsprop", "adam" or "sgd" (built with ``learning_rate``),
            or an ``Optimizer`` such as ``nnlab.optimizers.adam(0.001, beta1=0.9)``.
        learning_rate: α; by default the optimizer's own.
        l2: λ of the L2 term (λ/2m) Σ ||W[l]||², m the batch size.
        l1: λ1 of the L1 term (λ1/m) Σ ||W[l]||₁ (its gradient (λ1/m) sign(W), 0 at W = 0):
            pushes weights to zero, as L2 only shrinks them.
        random_state: seed, ``RandomState`` or ``Generator``; the initialization, then every
            shuffle and dropout mask are drawn from it, in that order.
        input_dim: n_x; when given the weights are initialized now, else at the first ``fit``.
        fused: use ``dZ[L] = A[L] - Y`` when the loss and output activation allow it.
        fast: the fast path's switch, as for ``nnlab.train``: True, "exact" or False
            (``explain_path`` says which stepper ``fit`` runs).
        bn_momentum: β_bn of the batch-normalized layers' running statistics, which
            prediction uses: after each training batch μ_run = β_bn μ_run + (1 - β_bn) μ, the
            same for σ² (0.9 by default).

    Attributes:
        params: ``{"W1": (n_1, n_x), "b1": (n_1, 1), ...}`` once built.
        optimizer, opt_state: the optimizer and its state (kept between ``fit`` calls).
        learning_rate: the current α (callbacks may change it).
        rng: the generator everything is drawn from.
        history: the ``History`` of the last ``fit``.
        stop_training: set it to True (from a callback) to stop ``fit`` after the current batch.
    """

    def __init__(
        self,
        layers: Sequence[Dense],
        *,
        loss: str | None = None,
        optimizer: str | Optimizer = "adam",
        learning_rate: float | None = None,
        l2: float = 0.0,
        random_state: RandomLike = None,
        input_dim: int | None = None,
        l1: float = 0.0,
        fused: bool = True,
        fast: bool | str = True,
        bn_momentum: float = 0.9,
    ):
        self.fast = check_fast(fast)
        bn_momentum = float(bn_momentum)
        if not 0.0 <= bn_momentum < 1.0:
            raise ValueError(f"bn_momentum={bn_momentum} is out of range: expected "
                             "0 <= bn_momentum < 1")
        self.bn_momentum = bn_momentum
        self.layers = list(layers)
        if not self.layers:
            raise ValueError("a Model needs at least one layer")
        for i, layer in enumerate(self.layers):
            if not isinstance(layer, Dense):
                raise ValueError(f"layers[{i}] is {layer!r}; expected a Dense layer spec")
        if self.layers[-1].keep_prob != 1.0:
            raise ValueError("the output layer cannot use dropout: set its keep_prob to 1")
        if self.layers[-1].batch_norm:
            raise ValueError("the output layer cannot use batch norm: only hidden layers can "
                             "(its output is the prediction, not a layer's input)")
        self.loss = resolve_loss(self.layers[-1].activation, loss)
        l2 = float(l2)
        if not (math.isfinite(l2) and l2 >= 0):
            raise ValueError(f"l2={l2} is out of range: expected a finite λ >= 0")
        self.l2, self.fused = l2, bool(fused)
        self.l1 = check_l1(l1)
        self.rng: Rng = check_random_state(random_state)
        self._opt_state: Any = None
        self._live: Stepper | None = None  # during fit: the stepper that holds newer weights
        self._synced: tuple[Any, Any] = (None, None)
        self.params = None
        self.opt_state = None
        self.history: History | None = None
        self.metrics: list[Metric] = []  # those of the last fit (evaluate reports them)
        self.stop_training = False
        self.set_optimizer(optimizer, learning_rate)
        if input_dim is not None:
            self.build(input_dim)

    # ------------------------------------------------------------------------------- weights
    @property
    def params(self) -> Params | None:
        """``W1, b1, ..., WL, bL`` (None until built). During ``fit`` the newest weights live
        in the stepper, which may run many epochs per call: reading them (from a callback, say)
        takes a copy of the last epoch's."""
        if self._live is not None:
            self._sync()
        return self._params

    @params.setter
    def params(self, value: Params | None) -> None:
        if self._live is not None:
            self._sync()
        self._params = value

    @property
    def opt_state(self) -> Any:
        """The optimizer's state (e.g. Adam's v, s and t); during ``fit`` as ``params``."""
        if self._live is not None:
            self._sync()
        state: Any = self._opt_state
        if state is _FRESH:  # made when first read (a stepper starts from it alone)
            assert self._params is not None  # (fresh only once built)
            state = self._opt_state = self.optimizer.init(self._params)
        return state

    @opt_state.setter
    def opt_state(self, value: Any) -> None:
        if self._live is not None:
            self._sync()
        self._opt_state = value

    def _sync(self) -> None:
        """Take the weights and optimizer state from the stepper that trains them."""
        stepper, self._live = self._live, None
        assert stepper is not None
        self._params, self._opt_state = self._synced = stepper.state()

    # ----------------------------------------------------------------------------- structure
    @property
    def activations(self) -> list[str]:
        """g[1], ..., g[L]."""
        return [layer.activation for layer in self.layers]

    @property
    def keep_probs(self) -> list[float]:
        """The hidden layers' keep probabilities (the engine's ``keep_probs``)."""
        return [float(layer.keep_prob) for layer in self.layers[:-1]]

    @property
    def batch_norm(self) -> list[bool]:
        """Whether each hidden layer is batch-normalized (the engine's ``batch_norm``)."""
        return [bool(layer.batch_norm) for layer in self.layers[:-1]]

    @property
    def built(self) -> bool:
        return self.params is not None

    @property
    def input_dim(self) -> int | None:
        params = self.params
        return None if params is None else int(params["W1"].shape[1])

    @property
    def layer_dims(self) -> list[int]:
        """``[n_x, n_1, ..., n_L]`` (n_x once built)."""
        params = self.params
        if params is None:
            raise ValueError("the model is not built yet: call build(input_dim) or fit")
        return [int(params["W1"].shape[1])] + [layer.units for layer in self.layers]

    def count_params(self) -> int:
        """The trained numbers: Σ_l n[l] (n[l-1] + 1), with n[l] (n[l-1] + 2) for a
        batch-normalized layer (γ and β instead of b; its running statistics not counted)."""
        dims = self.layer_dims
        return sum(layer.count_params(dims[l - 1])
                   for l, layer in enumerate(self.layers, start=1))

    def build(self, input_dim: int, dtype: np.dtype | type = np.float64) -> Model:
        """Initialize ``W1, b1, ..., WL, bL`` for ``input_dim`` features, drawing from ``rng``
        layer by layer, and reset the optimizer's state. A batch-normalized layer gets
        ``gamma{l}``, ``beta{l}`` and its running statistics instead of ``b{l}`` (see
        ``Dense``), from the same draws."""
        if isinstance(input_dim, bool) or not isinstance(input_dim, int | np.integer):
            raise ValueError(f"input_dim={input_dim!r} must be an int >= 1")
        if input_dim < 1:
            raise ValueError(f"input_dim={input_dim} is out of range: expected >= 1")
        dtype = np.dtype(dtype)
        params: Params = {}
        n_prev = int(input_dim)
        for l, layer in enumerate(self.layers, start=1):
            params.update(layer.layer_params(l, n_prev, self.rng, dtype))
            n_prev = layer.units
        self.params = params
        self.opt_state = _FRESH
        return self

    def set_optimizer(self, optimizer: str | Optimizer, learning_rate: float | None = None) -> None:
        """Use ``optimizer`` from now on, with a fresh state (and α = ``learning_rate``, or the
        optimizer's own)."""
        if isinstance(optimizer, str):
            hp = {} if learning_rate is None else {"learning_rate": learning_rate}
            optimizer = make_optimizer(optimizer, **hp)
        elif not isinstance(optimizer, Optimizer):
            raise ValueError(f"optimizer={optimizer!r}: expected a name or an nnlab Optimizer")
        self.optimizer = optimizer
        lr = optimizer.hyperparams.get("learning_rate") if learning_rate is None else learning_rate
        self.learning_rate = None if lr is None else float(lr)
        self.opt_state = None if self.params is None else _FRESH

    # ------------------------------------------------------------------------------- pickling
    def __getstate__(self) -> dict[str, Any]:
        self.opt_state  # noqa: B018 - syncs from a live stepper, makes a fresh state
        state = dict(self.__dict__)
        state["_synced"] = (None, None)
        opt = state.pop("optimizer")
        spec = (opt.name, dict(opt.hyperparams))
        if registered_spec(opt) is None:
            raise TypeError(
                f"cannot pickle a Model whose optimizer {opt.name!r} is not one of nnlab's "
                "named optimizers (its functions cannot be saved)"
            )
        state["_optimizer_spec"] = spec
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        name, hp = state.pop("_optimizer_spec")
        for key in ("params", "opt_state"):  # pickled before they became properties
            if key in state:
                state["_" + key] = state.pop(key)
        state.setdefault("_live", None)
        state.setdefault("_synced", (None, None))
        self.__dict__.update(state)
        self.optimizer = make_optimizer(name, **hp)

    # ------------------------------------------------------------------------------ data
    def _check_X(self, X: Any, name: str = "X") -> np.ndarray:
        X = _as_rows(X, name)
        if self.params is not None and X.shape[1] != self.input_dim:
            raise ValueError(
                f"{name} has {X.shape[1]} features, but the model was built for {self.input_dim}"
            )
        return X

    def _targets(self, y: Any, m: int, dtype: np.dtype, name: str = "y") -> np.ndarray:
        """y as an ``(m, n_L)`` array: a 1-D y is one column, or for a softmax output the
        integer class labels ``0 .. n_L - 1``, one-hot encoded."""
        n_y = self.layers[-1].units
        y = np.asarray(y)
        if y.shape[0] != m:
            raise ValueError(f"{name} has {y.shape[0]} rows but X has {m}")
        if y.ndim == 1 and self.layers[-1].activation == "softmax" and n_y > 1:
            if not np.all(np.equal(np.mod(y, 1), 0)) or y.min() < 0 or y.max() >= n_y:
                raise ValueError(
                    f"{name} must hold integer class labels 0..{n_y - 1} for a softmax output "
                    f"of {n_y} units (or be one-hot, shape (m, {n_y}))"
                )
            Y = np.zeros((m, n_y), dtype=dtype)
            Y[np.arange(m), y.astype(np.int64)] = 1
            return Y
        Y = y.reshape(m, 1) if y.ndim == 1 else y
        if Y.ndim != 2 or Y.shape[1] != n_y:
            raise ValueError(f"{name} has shape {y.shape}; expected ({m},) or ({m}, {n_y})")
        Y = Y.astype(dtype)
        if not np.all(np.isfinite(Y)):
            raise ValueError(f"{name} contains NaN or infinity")
        if self.loss == "poisson":
            check_poisson_targets(Y)
        return Y

    def _accuracy_sum(self, AL: np.ndarray, Y: np.ndarray) -> float | None:
        """Σ over the batch's examples of their accuracy (None for non-classification outputs)."""
        out = self.layers[-1].activation
        return batch_accuracy_sum(AL, Y, out) if out in ("sigmoid", "softmax") else None

    # ------------------------------------------------------------------------------ training
    def explain_path(self, X: Any = None) -> Any:
        """Which stepper ``fit`` runs (``nnlab.explain_path``), for data like X (default: the
        model's dtype)."""
        self._require_built()
        assert self.params is not None
        if X is None:
            return self._path(self.params["W1"].dtype)
        return self._path(_as_rows(X).dtype, sparse=_is_sparse(X))

    def _path(self, dtype: np.dtype, weighted: bool = False, sparse: bool = False,
              activations: list[str] | None = None) -> Any:
        """``explain_path`` for this model (``activations``: ``self.activations``, when the
        caller has them already)."""
        return explain_path(weighted=weighted, sparse=sparse, optimizer=self.optimizer,
                            dtype=dtype, activations=activations or self.activations,
                            dims=self.layer_dims, loss=self.loss, fused=self.fused,
                            lambd=self.l2, params=self._params, fast=getattr(self, "fast", True),
                            l1=getattr(self, "l1", 0.0))

    def _stepper(self, dtype: np.dtype, weighted: bool = False, sparse: bool = False
                 ) -> Stepper:
        """The stepper ``explain_path`` chooses, holding the model's weights and state
        (``weighted``: for examples with sample weights; ``sparse``: for a sparse X)."""
        params, activations = self.params, self.activations  # (params: synced)
        assert params is not None
        fast = getattr(self, "fast", True)  # (models pickled by nnlab 0.2 have no switch)
        fresh = self._opt_state is _FRESH  # the stepper's own start
        return make_stepper(self._path(dtype, weighted, sparse, activations), params, activations,
                            self.optimizer, None if fresh else self.opt_state, lambd=self.l2,
                            l1=getattr(self, "l1", 0.0), keep_probs=self.keep_probs,
                            loss=self.loss, fused=self.fused,
                            dtype=dtype, fast=fast, weighted=weighted,
                            bn_momentum=getattr(self, "bn_momentum", 0.9))

    def fit(
        self,
        X: Any,
        y: Any,
        epochs: int = 1,
        batch_size: int | None = None,
        validation_data: tuple[Any, ...] | None = None,
        validation_split: float = 0.0,
        shuffle: bool = True,
        callbacks: Iterable[Callback] = (),
        verbose: int | str = "auto",
        initial_epoch: int = 0,
        sample_weight: Any = None,
        class_weight: Any = None,
        metrics: Iterable[str | MetricFn | Metric] | None = None,
    ) -> History:
        """Train on X ``(n_samples, n_features)`` and y for ``epochs`` passes over the data.

        Per epoch: shuffle the rows (when ``shuffle`` and ``batch_size < n_samples``, one
        ``rng.permutation``), cut them into batches of ``batch_size`` (None: the full batch, one
        update per epoch), and for each batch do forward → cost → backward → optimizer update with
        the current ``learning_rate``. Then evaluate the validation data and call the callbacks.

        Args:
            y: ``(n_samples,)`` or ``(n_samples, n_L)``; for a softmax output a 1-D y holds the
                class indices (one-hot encoded here).
            validation_data: ``(X_val, y_val)``, evaluated after every epoch.
            validation_split: instead, hold out this fraction of the rows — the last ones,
                before any shuffling (no random draw).
            callbacks: ``Callback`` objects (see ``nnlab.callbacks``).
            verbose: "auto" (default) an ``AutoProgress``: a live bar on a terminal or in
                Jupyter, in a log a line per 5 % of the run; 0 silent; 1 a ``ProgressBar`` (a
                bar per epoch on a terminal, else one line per epoch); 2 one line per epoch.
            initial_epoch: the number of the first epoch (what schedules and logs see).
            sample_weight: a weight ``(n_samples,)`` per example (``nnlab.weights``): each
                batch's cost is its examples' weighted mean (L2 over Σ w instead of m), so
                integer weights train as repeated rows do and a 0 drops a row.
                ``validation_data`` may then be ``(X_val, y_val, w_val)``.
            class_weight: for classification, ``{class index: weight}`` or ``"balanced"``:
                each example's weight is its class's (times its ``sample_weight``).
            metrics: names ("accuracy", "precision", "recall", "f1" for a binary classifier;
                "mae", "rmse", "r2") or functions ``(y_true, y_pred) -> float`` given
                ``predict``'s output (see ``nnlab.metrics``). Each is recorded per epoch in the
                ``History`` under its name — on the training data with the epoch's final
                weights, without dropout — and as ``val_`` + name on the validation data;
                ``evaluate`` reports them too. "accuracy" is the running accuracy that
                classifiers always record. Any other metric costs a forward pass over the data
                per epoch and one stepper call per epoch; sample weights do not enter them.

        Returns:
            The ``History`` of this call (also ``model.history``). Raises ``DivergenceError``
            (with the model left at the last weights whose epoch cost was finite) when the cost
            becomes NaN or infinite, unless a ``TerminateOnNaN`` callback stops training first.
        """
        X = self._check_X(X)
        if isinstance(epochs, bool) or not isinstance(epochs, int | np.integer) or epochs < 0:
            raise ValueError(f"epochs={epochs!r} must be an int >= 0")
        verbose = _check_verbose(verbose)
        chosen = self._check_metrics(metrics)
        Y = self._targets(y, X.shape[0], X.dtype)
        if validation_data is not None and validation_split:
            raise ValueError("give validation_data or validation_split, not both")
        X_val = Y_val = w_val = None
        weights = self._fit_weights(sample_weight, class_weight, Y, X.dtype)
        if validation_split:
            if not 0.0 < validation_split < 1.0:
                raise ValueError(f"validation_split={validation_split} must be in (0, 1)")
            n_val = round(X.shape[0] * validation_split)
            if n_val < 1 or n_val >= X.shape[0]:
                raise ValueError(
                    f"validation_split={validation_split} leaves {n_val} of {X.shape[0]} "
                    "examples for validation: both parts need at least one"
                )
            X, X_val = X[:-n_val], X[-n_val:]
            Y, Y_val = Y[:-n_val], Y[-n_val:]
            if weights is not None:
                weights, w_val = weights[:-n_val], weights[-n_val:]
        elif validation_data is not None:
            if len(validation_data) not in (2, 3):
                raise ValueError("validation_data must be (X_val, y_val) or "
                                 "(X_val, y_val, sample_weight_val)")
            X_val = self._check_X(validation_data[0], "X_val")
            Y_val = self._targets(validation_data[1], X_val.shape[0], X.dtype, "y_val")
            X_val = X_val.astype(X.dtype, copy=False)
            if len(validation_data) == 3 and validation_data[2] is not None:
                w_val = check_sample_weight(validation_data[2], X_val.shape[0], X.dtype,
                                            "the validation sample_weight")
        return self._fit_checked(X, Y, int(epochs), batch_size, shuffle, callbacks,
                                 verbose, int(initial_epoch), weights,
                                 None if X_val is None else (X_val, Y_val, w_val), chosen)

    def _fit_checked(self, X: np.ndarray, Y: np.ndarray, epochs: int, batch_size: int | None,
                     shuffle: bool, callbacks: Iterable[Callback], verbose: int | str,
                     initial_epoch: int, weights: np.ndarray | None = None,
                     validation: tuple[Any, Any, Any] | None = None,
                     chosen: list[Metric] | None = None) -> History:
        """``fit`` on data already checked (by ``fit``, or by an estimator that checked it the
        same way): X ``(m, n_x)`` finite float rows (or sparse), Y ``(m, n_L)`` of X's dtype,
        ``weights`` each example's checked weight (or None), ``validation`` the checked
        ``(X_val, Y_val, w_val)`` of X's dtype (or None), ``verbose`` as ``_check_verbose``
        returns it, ``chosen`` the checked metrics."""
        X_val, Y_val, w_val = (None, None, None) if validation is None else validation
        callbacks = list(callbacks)
        chosen = [] if chosen is None else chosen
        params = self.params
        if params is None:
            self.build(X.shape[1], X.dtype)
        elif X.shape[1] != params["W1"].shape[1]:
            raise ValueError(
                f"X has {X.shape[1]} features, but the model was built for {self.input_dim}"
            )
        if self._opt_state is None:
            self.opt_state = _FRESH
        if self.learning_rate is None:
            raise ValueError("the optimizer has no learning rate: pass learning_rate")

        m = X.shape[0]
        bs = check_batch_size(batch_size, m)
        steps = math.ceil(m / bs) if bs < m else 1
        if verbose == "auto":
            callbacks.append(AutoProgress())
        elif verbose:
            callbacks.append(ProgressBar(per_epoch_lines=int(verbose) >= 2))
        history = History()  # the first callback: it records each epoch before the others see it
        callbacks.insert(0, history)
        run = {"epochs": epochs, "steps": steps, "samples": m, "batch_size": min(bs, m),
               "initial_epoch": initial_epoch}
        terminate = False  # (whether a TerminateOnNaN turns a divergence into a stop)
        for cb in callbacks:
            cb.set_model(self)
            cb.set_params(run)
            terminate = terminate or isinstance(cb, TerminateOnNaN)
        self.history = history
        self.metrics = chosen
        self.stop_training = False
        for cb in callbacks:
            cb.on_train_begin({})
        link = _FitCallbacks(self, callbacks, X_val, Y_val, X.dtype)
        link.w_val = w_val
        if weights is not None:
            link.kinds["weighted"] = True
        if _is_sparse(X):
            link.kinds["sparse"] = True
        link.metrics, link.X_fit, link.Y_fit = _predicted(chosen), X, Y
        # The one epoch loop, on the columns X^T (n_x, m): a view of the rows, no copy.
        stepper = self._stepper(X.dtype, **link.kinds)
        loop = EpochLoop(stepper, X.T, Y.T, batch_size=bs, shuffle=shuffle, rng=self.rng,
                         learning_rate=self.learning_rate, callbacks=[link],
                         accuracy=self.layers[-1].activation in ("sigmoid", "softmax"),
                         first_epoch=initial_epoch, sample_weight=weights)
        try:
            loop.run(max(0, epochs - initial_epoch))
            self._live = loop.stepper
            self._sync()
        except DivergenceError as error:
            # the weights and optimizer state from before that epoch
            self._live = None
            self.opt_state = loop.stepper.state()[1]
            self.params = error.params
            if not (terminate and self.stop_training):
                raise
            _warn_terminated(error.epoch)
        finally:
            if self._live is not None:  # stopped by another exception: the weights so far
                self._sync()  # (and no stepper outlives fit)
        for cb in callbacks:
            cb.on_train_end({})
        return history

    # --------------------------------------------------------------------------- inference
    def _require_built(self) -> None:
        if self.params is None:
            raise ValueError("the model has no weights yet: call fit (or build) first")

    def _row_chunks(self, X: np.ndarray) -> list[slice]:
        """Row ranges of X whose forward pass keeps every layer's Z and A within
        ``PREDICT_BYTES``: one range (the whole batch, the same bits) unless the network is wide
        and the data long, so that a wide stored model cannot exhaust memory at prediction."""
        per_row = 3 * sum(self.layer_dims) * X.dtype.itemsize
        rows = max(1, PREDICT_BYTES // max(per_row, 1))
        m = X.shape[0]
        return [slice(i, min(i + rows, m)) for i in range(0, max(m, 1), rows)]

    def forward(self, X: Any) -> np.ndarray:
        """A[L] for X ``(n_samples, n_features)``, without dropout, as ``(n_samples, n_L)``.

        The engine's ``model_forward`` without its caches (``network.predict_forward``: the same
        bits). Long inputs to wide networks go through in row chunks (see ``PREDICT_BYTES``);
        no example depends on another, but BLAS may add a product's terms in another order for
        another number of columns, so a chunk's outputs can differ from one pass's in the last
        bit.
        """
        self._require_built()
        assert self.params is not None
        X = self._check_X(X)
        params, acts = self.params, self.activations
        chunks = self._row_chunks(X)
        if len(chunks) == 1:
            return predict_forward(X.T, params, acts).T
        first = predict_forward(X[chunks[0]].T, params, acts).T
        out = np.empty((X.shape[0], first.shape[1]), dtype=first.dtype)
        out[chunks[0]] = first
        for c in chunks[1:]:
            out[c] = predict_forward(X[c].T, params, acts).T
        return out

    def predict_proba(self, X: Any) -> np.ndarray:
        """The network's output ``(n_samples, n_L)``: probabilities for sigmoid / softmax."""
        return self.forward(X)

    def predict(self, X: Any) -> np.ndarray:
        """Labels: ``A > 0.5`` (0/1) for sigmoid, the argmax for softmax, A[L] itself otherwise.

        Shape ``(n_samples,)`` for one output column or softmax, else ``(n_samples, n_L)``.
        """
        out = predict_from_output(self.forward(X).T, self.layers[-1].activation).T
        return out[:, 0] if out.shape[1] == 1 else out

    def _evaluate_arrays(self, X: np.ndarray, Y: np.ndarray, prefix: str = "") -> dict[str, float]:
        assert self.params is not None
        chunks = self._row_chunks(X)
        if len(chunks) == 1:
            AL = predict_forward(X.T, self.params, self.activations)
            logs = {prefix + "loss": float(compute_cost(AL, Y.T, loss=self.loss))}
            acc = self._accuracy_sum(AL, Y.T)
        else:  # the mean cost as the chunks' means weighted by their sizes
            cost, acc = 0.0, 0.0
            for c in chunks:
                AL = predict_forward(X[c].T, self.params, self.activations)
                cost += float(compute_cost(AL, Y[c].T, loss=self.loss)) * AL.shape[1]
                part = self._accuracy_sum(AL, Y[c].T)
                acc = None if part is None or acc is None else acc + part
            logs = {prefix + "loss": cost / X.shape[0]}
        if acc is not None:
            logs[prefix + "accuracy"] = acc / X.shape[0]
        return logs

    def _fit_weights(self, sample_weight: Any, class_weight: Any, Y: np.ndarray,
                     dtype: np.dtype) -> np.ndarray | None:
        """The examples' weights for ``fit``: ``sample_weight`` times the weight of each
        example's class (``class_weight``); None when neither is given."""
        m = Y.shape[0]
        w = None if sample_weight is None else check_sample_weight(sample_weight, m, dtype)
        if class_weight is None:
            return w
        out = self.layers[-1].activation
        if out == "softmax":
            labels, classes = np.argmax(Y, axis=1), np.arange(Y.shape[1])
        elif out == "sigmoid" and Y.shape[1] == 1:
            labels, classes = (Y[:, 0] > 0.5).astype(np.int64), np.arange(2)
        else:
            raise ValueError("class_weight needs a classifier: a softmax output, or one sigmoid "
                             "output (binary)")
        per_class = class_weights(class_weight, labels, classes, w).astype(dtype)
        return check_sample_weight(per_class if w is None else per_class * w, m, dtype,
                                   "the weights from class_weight")

    def _weighted_scores(self, X: np.ndarray, Y: np.ndarray, w: np.ndarray,
                         prefix: str = "") -> dict[str, float]:
        """``_evaluate_arrays`` with a weight per example: the weighted mean loss (no penalty)
        and, for classifiers, Σ_i w_i correct_i / Σ_i w_i."""
        assert self.params is not None
        AL = predict_forward(X.T, self.params, self.activations)
        logs = {prefix + "loss": float(compute_cost(AL, Y.T, loss=self.loss, sample_weight=w))}
        correct = example_accuracies(AL, Y.T, self.layers[-1].activation)
        if correct is not None:
            logs[prefix + "accuracy"] = float(np.dot(correct, w) / np.sum(w))
        return logs

    def evaluate(self, X: Any, y: Any,
                 metrics: Iterable[str | MetricFn | Metric] | None = None) -> dict[str, float]:
        """``{"loss": ..., "accuracy": ..., metric: ...}`` on (X, y), without dropout; the loss
        is the data loss alone (no L2 term); accuracy only for sigmoid / softmax outputs; then
        each of ``metrics`` (as ``fit``'s; by default those of the last ``fit``)."""
        self._require_built()
        X = self._check_X(X)
        chosen = getattr(self, "metrics", []) if metrics is None else self._check_metrics(metrics)
        Y = self._targets(y, X.shape[0], X.dtype)
        logs = self._evaluate_arrays(X, Y)
        logs.update(self._metric_scores(X, Y, _predicted(chosen)))
        return logs

    def _check_metrics(self, metrics: Iterable[str | MetricFn | Metric] | None) -> list[Metric]:
        """``fit``'s metrics, checked against the output layer (``metrics.get_metrics``)."""
        out = self.layers[-1]
        chosen = get_metrics(metrics, out.activation, out.units)
        if out.activation in ("sigmoid", "softmax") and any(
                m.name == "accuracy" and m is not METRICS["accuracy"] for m in chosen):
            raise ValueError("a classifier records its own 'accuracy': give your metric "
                             "Metric(fn, name=...) another name")
        return chosen

    def _metric_scores(self, X: np.ndarray, Y: np.ndarray, metrics: Sequence[Metric],
                       prefix: str = "") -> dict[str, float]:
        """Each metric on the rows X ``(m, n_x)`` and their targets Y ``(m, n_L)``, from one
        forward pass without dropout (in row chunks, as ``forward``)."""
        if not metrics:
            return {}
        assert self.params is not None
        chunks = self._row_chunks(X)
        AL = np.concatenate([predict_forward(X[c].T, self.params, self.activations)
                             for c in chunks], axis=1) if len(chunks) > 1 else \
            predict_forward(X.T, self.params, self.activations)
        return metric_logs(metrics, AL, Y, self.layers[-1].activation, prefix)

    def to_sklearn(self, classes: Sequence[Any] | np.ndarray | None = None) -> Any:
        """scikit-learn's own fitted ``MLPClassifier`` / ``MLPRegressor`` with this network's
        weights (``coefs_[l-1] = W[l]^T``, ``intercepts_[l-1] = b[l]``, copies), predicting what
        ``predict_proba`` / ``predict`` do (to rounding).

        scikit-learn's MLP holds a network with one hidden activation (relu, tanh, sigmoid as
        "logistic", identity) and an output of one sigmoid (binary: its ``predict_proba`` is
        ``[1 - σ, σ]``), several sigmoids (multilabel), softmax (multiclass) or identity
        (regression); dropout is fine (it is never applied at prediction), batch norm is not.
        Anything else is a ``ValueError`` that says why. ``classes``: the labels of the output
        units (default: a loaded model's ``extra["classes"]``, else 0, 1, ...). The training
        settings are scikit-learn's defaults; ``loss_curve_`` is this model's history.

        >>> import numpy as np
        >>> X = np.random.RandomState(0).randn(50, 3); y = (X[:, 0] > 0).astype(int)
        >>> model = Model([Dense(4, "tanh"), Dense(1, "sigmoid")], random_state=0)
        >>> _ = model.fit(X, y, epochs=3, verbose=0)
        >>> clf = model.to_sklearn(classes=["no", "yes"])
        >>> p = model.predict_proba(X)[:, 0]
        >>> type(clf).__name__, bool(np.allclose(clf.predict_proba(X)[:, 1], p))
        ('MLPClassifier', True)
        >>> bool(np.array_equal(clf.predict(X), np.where(model.predict(X) == 1, "yes", "no")))
        True
        """
        return sklearn_mlp(self, classes)

    # ------------------------------------------------------------------------------ display
    def summary(self) -> str:
        """A table of the layers: units, activation, init, keep_prob, the shapes of W, b, Z and
        A (m examples), and the parameter count n[l] (n[l-1] + 1); returned as a string.

        With batch-normalized layers a "batch norm" column shows their γ, β shapes, their b
        column says "none" (the mean subtraction cancels b; β takes its place), their count is
        n[l] (n[l-1] + 2), and a last line counts the running statistics (not trained).

        >>> model = Model([Dense(4, batch_norm=True), Dense(1, "sigmoid")], input_dim=2)
        >>> print(model.summary().splitlines()[2])
        1      4      relu        he    1          γ, β (4, 1)  (4, 2)  none    (4, m)  16
        """
        n_prev: Any = self.input_dim if self.params is not None else "n_x"
        norm = any(layer.batch_norm for layer in self.layers)
        rows: list[tuple[str, ...]] = [
            ("layer", "units", "activation", "init", "keep_prob",
             *(("batch norm",) if norm else ()), "W", "b", "Z, A", "params")]
        total = running = 0
        for l, layer in enumerate(self.layers, start=1):
            count = layer.count_params(n_prev) if isinstance(n_prev, int) else None
            total += count or 0
            running += 2 * layer.units if layer.batch_norm else 0
            bn = (f"γ, β ({layer.units}, 1)" if layer.batch_norm else "-",) if norm else ()
            rows.append((
                str(l), str(layer.units), layer.activation, layer.init_name,
                f"{layer.keep_prob:g}", *bn, f"({layer.units}, {n_prev})",
                "none" if layer.batch_norm else f"({layer.units}, 1)",
                f"({layer.units}, m)", "?" if count is None else f"{count:,}",
            ))
            n_prev = layer.units
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
                 for r in rows]
        rule = "-" * len(lines[0])
        hp = ", ".join(f"{k}={v:g}" for k, v in self.optimizer.hyperparams.items())
        lines = [lines[0], rule, *lines[1:], rule]
        lines.append(f"total params: {total:,}" if self.params is not None
                     else "total params: ? (not built: call build(input_dim) or fit)")
        l1 = getattr(self, "l1", 0.0)
        lines.append(f"loss: {self.loss}, L2 λ = {self.l2:g}"
                     + (f", L1 λ1 = {l1:g}" if l1 else "")
                     + f"; optimizer: {self.optimizer.name} ({hp})")
        if norm:
            lines.append(f"batch norm: layers with γ, β have no b; {running:,} running statistics "
                         "(μ, σ² per unit, not trained) normalize at prediction")
        return "\n".join(lines)

    def __repr__(self) -> str:
        dims = "x".join(str(layer.units) for layer in self.layers)
        norm = [l for l, layer in enumerate(self.layers, start=1) if layer.batch_norm]
        shown = f", batch_norm={norm}" if norm else ""  # the batch-normalized layers' numbers
        return f"Model({dims}{shown}, loss={self.loss!r}, optimizer={self.optimizer.name!r})"

    def _repr_html_(self) -> str:
        """The ``summary`` as an HTML table (what Jupyter shows for a model), every cell
        escaped.

        >>> html = Model([Dense(4, "tanh"), Dense(1, "sigmoid")], input_dim=2)._repr_html_()
        >>> html.count("<tr>"), "<th>activation</th>" in html, "total params: 17" in html
        (3, True, True)
        """
        return summary_html(self.summary(), repr(self))
