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

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._random import RandomLike, Rng, check_random_state
from .activations import get_activation
from .callbacks import Callback, History, ProgressBar, TerminateOnNaN, _warn_terminated
from .data import check_batch_size
from .engine import explain_path, make_stepper
from .fast.path import check_fast
from .initializers import INITIALIZERS, initialize_parameters
from .network import (
    batch_accuracy_sum,
    compute_cost,
    predict_forward,
    predict_from_output,
    resolve_loss,
)
from .optimizers import Optimizer, get_optimizer, registered_spec
from .training import DivergenceError, EpochLoop, LoopCallback, Stepper

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

    Args:
        units: n[l], the number of units.
        activation: g: "relu", "tanh", "sigmoid", "softmax", "leaky_relu" or "identity".
        init: "he" (default), "xavier", "random" (randn · ``init_scale``, 0.01 by default),
            "zeros", "glorot_uniform" (scikit-learn's, factor 2 for sigmoid layers, else 6), or a
            ``LayerInit`` callable ``(n_l, n_prev, rng) -> W or (W, b)``.
        keep_prob: inverted-dropout keep probability of this layer's output (1: no dropout;
            the output layer must keep 1).
        init_scale: the multiplier of ``init="random"``.
    """

    units: int
    activation: str = "relu"
    init: str | LayerInit = "he"
    keep_prob: float = 1.0
    init_scale: float | None = None

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
        if fn == "glorot_uniform":
            fn = glorot_uniform(2.0 if self.activation == "sigmoid" else 6.0)
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


def _has_batch_hook(callback: Callback) -> bool:
    """Whether the callback watches every batch (``Callback.wants_batches``: then ``fit`` stops
    after every batch)."""
    return callback.wants_batches()


#: Prediction and evaluation go through the network in row chunks whose layers (Z, A and a
#: temporary per unit and example) take at most this many bytes.
PREDICT_BYTES = 64 * 2**20


def _as_rows(X: Any, name: str = "X") -> np.ndarray:
    """X as a finite float 2-D array (float32 stays float32; anything else becomes float64)."""
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


class _FitCallbacks(LoopCallback):
    """``Model.fit``'s part of the epoch loop: the model's (Keras-style) callbacks, the
    ``History`` first among them, the validation data, and callbacks that replace the weights,
    the optimizer or the learning rate between epochs."""

    def __init__(self, model: Model, callbacks: list[Callback], X_val: np.ndarray | None,
                 Y_val: np.ndarray | None, dtype: np.dtype):
        self.model, self.callbacks = model, callbacks
        self.X_val, self.Y_val, self.dtype = X_val, Y_val, dtype
        self.per_batch = any(_has_batch_hook(cb) for cb in callbacks)

    def free_epochs(self, loop: EpochLoop) -> int:
        """As many as every callback allows (``Callback.free_epochs``); one with validation
        data (its scores need each epoch's weights)."""
        if self.X_val is not None:
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
        if self.X_val is not None:  # (one epoch per call: free_epochs says so)
            assert self.Y_val is not None and len(logs["loss"]) == 1
            scores = model._evaluate_arrays(self.X_val, self.Y_val, prefix="val_")
            record.update({k: [v] for k, v in scores.items()})
        record["learning_rate"] = logs["learning_rate"]
        optimizer, l2 = model.optimizer, model.l2
        for cb in self.callbacks:
            cb.on_epochs_end(first, record)
        # A callback may have replaced the weights, the optimizer state, the optimizer or λ.
        if model.optimizer is not optimizer or model.l2 != l2:
            loop.replace_stepper(model._stepper(self.dtype))
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
        random_state: seed, ``RandomState`` or ``Generator``; the initialization, then every
            shuffle and dropout mask are drawn from it, in that order.
        input_dim: n_x; when given the weights are initialized now, else at the first ``fit``.
        fused: use ``dZ[L] = A[L] - Y`` when the loss and output activation allow it.
        fast: the fast path's switch, as for ``nnlab.train``: True, "exact" or False
            (``explain_path`` says which stepper ``fit`` runs).

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
        fused: bool = True,
        fast: bool | str = True,
    ):
        self.fast = check_fast(fast)
        self.layers = list(layers)
        if not self.layers:
            raise ValueError("a Model needs at least one layer")
        for i, layer in enumerate(self.layers):
            if not isinstance(layer, Dense):
                raise ValueError(f"layers[{i}] is {layer!r}; expected a Dense layer spec")
        if self.layers[-1].keep_prob != 1.0:
            raise ValueError("the output layer cannot use dropout: set its keep_prob to 1")
        self.loss = resolve_loss(self.layers[-1].activation, loss)
        l2 = float(l2)
        if not (math.isfinite(l2) and l2 >= 0):
            raise ValueError(f"l2={l2} is out of range: expected a finite λ >= 0")
        self.l2, self.fused = l2, bool(fused)
        self.rng: Rng = check_random_state(random_state)
        self._live: Stepper | None = None  # during fit: the stepper that holds newer weights
        self._synced: tuple[Any, Any] = (None, None)
        self.params = None
        self.opt_state = None
        self.history: History | None = None
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
        return self._opt_state

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
    def built(self) -> bool:
        return self.params is not None

    @property
    def input_dim(self) -> int | None:
        return None if self.params is None else int(self.params["W1"].shape[1])

    @property
    def layer_dims(self) -> list[int]:
        """``[n_x, n_1, ..., n_L]`` (n_x once built)."""
        if self.params is None:
            raise ValueError("the model is not built yet: call build(input_dim) or fit")
        n_x = self.input_dim
        assert n_x is not None
        return [n_x] + [layer.units for layer in self.layers]

    def count_params(self) -> int:
        """Σ_l n[l] (n[l-1] + 1)."""
        dims = self.layer_dims
        return sum(dims[l] * (dims[l - 1] + 1) for l in range(1, len(dims)))

    def build(self, input_dim: int, dtype: np.dtype | type = np.float64) -> Model:
        """Initialize ``W1, b1, ..., WL, bL`` for ``input_dim`` features, drawing from ``rng``
        layer by layer, and reset the optimizer's state."""
        if isinstance(input_dim, bool) or not isinstance(input_dim, int | np.integer):
            raise ValueError(f"input_dim={input_dim!r} must be an int >= 1")
        if input_dim < 1:
            raise ValueError(f"input_dim={input_dim} is out of range: expected >= 1")
        dtype = np.dtype(dtype)
        params: Params = {}
        n_prev = int(input_dim)
        for l, layer in enumerate(self.layers, start=1):
            params[f"W{l}"], params[f"b{l}"] = layer.initialize(n_prev, self.rng, dtype)
            n_prev = layer.units
        self.params = params
        self.opt_state = self.optimizer.init(params)
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
        self.opt_state = None if self.params is None else optimizer.init(self.params)

    # ------------------------------------------------------------------------------- pickling
    def __getstate__(self) -> dict[str, Any]:
        if self._live is not None:
            self._sync()
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
        return self._path(self.params["W1"].dtype if X is None else _as_rows(X).dtype)

    def _path(self, dtype: np.dtype) -> Any:
        return explain_path(optimizer=self.optimizer, dtype=dtype, activations=self.activations,
                            dims=self.layer_dims, loss=self.loss, fused=self.fused,
                            lambd=self.l2, params=self.params, fast=getattr(self, "fast", True))

    def _stepper(self, dtype: np.dtype) -> Stepper:
        """The stepper ``explain_path`` chooses, holding the model's weights and state."""
        assert self.params is not None
        fast = getattr(self, "fast", True)  # (models pickled by nnlab 0.2 have no switch)
        return make_stepper(self._path(dtype), self.params, self.activations, self.optimizer,
                            self.opt_state, lambd=self.l2, keep_probs=self.keep_probs,
                            loss=self.loss, fused=self.fused, dtype=dtype, fast=fast)

    def fit(
        self,
        X: Any,
        y: Any,
        epochs: int = 1,
        batch_size: int | None = None,
        validation_data: tuple[Any, Any] | None = None,
        validation_split: float = 0.0,
        shuffle: bool = True,
        callbacks: Iterable[Callback] = (),
        verbose: int = 1,
        initial_epoch: int = 0,
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
            verbose: 0 silent, 1 a ``ProgressBar`` (a live bar on a terminal, else one line per
                epoch), 2 one line per epoch.
            initial_epoch: the number of the first epoch (what schedules and logs see).

        Returns:
            The ``History`` of this call (also ``model.history``). Raises ``DivergenceError``
            (with the model left at the last weights whose epoch cost was finite) when the cost
            becomes NaN or infinite, unless a ``TerminateOnNaN`` callback stops training first.
        """
        X = self._check_X(X)
        if isinstance(epochs, bool) or not isinstance(epochs, int | np.integer) or epochs < 0:
            raise ValueError(f"epochs={epochs!r} must be an int >= 0")
        Y = self._targets(y, X.shape[0], X.dtype)
        if validation_data is not None and validation_split:
            raise ValueError("give validation_data or validation_split, not both")
        X_val = Y_val = None
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
        elif validation_data is not None:
            if len(validation_data) != 2:
                raise ValueError("validation_data must be a pair (X_val, y_val)")
            X_val = self._check_X(validation_data[0], "X_val")
            Y_val = self._targets(validation_data[1], X_val.shape[0], X.dtype, "y_val")
            X_val = X_val.astype(X.dtype, copy=False)
        if self.params is None:
            self.build(X.shape[1], X.dtype)
        elif X.shape[1] != self.input_dim:
            raise ValueError(
                f"X has {X.shape[1]} features, but the model was built for {self.input_dim}"
            )
        assert self.params is not None
        if self.opt_state is None:
            self.opt_state = self.optimizer.init(self.params)
        if self.learning_rate is None:
            raise ValueError("the optimizer has no learning rate: pass learning_rate")

        m = X.shape[0]
        bs = check_batch_size(batch_size, m)
        steps = math.ceil(m / bs) if bs < m else 1
        callbacks = list(callbacks)
        if verbose:
            callbacks.append(ProgressBar(per_epoch_lines=verbose >= 2))
        terminate = any(isinstance(cb, TerminateOnNaN) for cb in callbacks)
        history = History()  # the first callback: it records each epoch before the others see it
        callbacks.insert(0, history)
        for cb in callbacks:
            cb.set_model(self)
            cb.set_params({"epochs": int(epochs), "steps": steps, "samples": m,
                           "batch_size": min(bs, m)})
        self.history = history
        self.stop_training = False
        for cb in callbacks:
            cb.on_train_begin({})
        link = _FitCallbacks(self, callbacks, X_val, Y_val, X.dtype)
        # The one epoch loop, on the columns X^T (n_x, m): a view of the rows, no copy.
        loop = EpochLoop(self._stepper(X.dtype), X.T, Y.T, batch_size=bs, shuffle=shuffle,
                         rng=self.rng, learning_rate=self.learning_rate, callbacks=[link],
                         accuracy=self.layers[-1].activation in ("sigmoid", "softmax"),
                         first_epoch=int(initial_epoch))
        try:
            loop.run(max(0, int(epochs) - int(initial_epoch)))
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

    def evaluate(self, X: Any, y: Any) -> dict[str, float]:
        """``{"loss": ..., "accuracy": ...}`` on (X, y), without dropout; the loss is the data
        loss alone (no L2 term); accuracy only for sigmoid / softmax outputs."""
        self._require_built()
        X = self._check_X(X)
        return self._evaluate_arrays(X, self._targets(y, X.shape[0], X.dtype))

    # ------------------------------------------------------------------------------ display
    def summary(self) -> str:
        """A table of the layers: units, activation, init, keep_prob, the shapes of W, b, Z and
        A (m examples), and the parameter count n[l] (n[l-1] + 1); returned as a string."""
        n_prev: Any = self.input_dim if self.params is not None else "n_x"
        rows = [("layer", "units", "activation", "init", "keep_prob", "W", "b", "Z, A",
                 "params")]
        total = 0
        for l, layer in enumerate(self.layers, start=1):
            count = layer.units * (n_prev + 1) if isinstance(n_prev, int) else None
            total += count or 0
            rows.append((
                str(l), str(layer.units), layer.activation, layer.init_name,
                f"{layer.keep_prob:g}", f"({layer.units}, {n_prev})", f"({layer.units}, 1)",
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
        lines.append(f"loss: {self.loss}, L2 λ = {self.l2:g}; optimizer: {self.optimizer.name}"
                     f" ({hp})")
        return "\n".join(lines)

    def __repr__(self) -> str:
        dims = "x".join(str(layer.units) for layer in self.layers)
        return f"Model({dims}, loss={self.loss!r}, optimizer={self.optimizer.name!r})"
