"""The fast stepper: the textbook formulas, computed in preallocated buffers.

``FastTrainer`` is one of the two steppers of the epoch loop (``nnlab.training.Stepper``). With
``compiled=False`` (``fast="exact"``, or ``NNLAB_EXACT=1``): the same math, the same order of
floating-point operations and the same random draws as the textbook stepper (``train_step``:
``network.py``, ``optimizers.py``), so the same parameters bit for bit on one machine
(tests/fast/test_stepper.py, tests/fast/test_kernels.py). By default two further steps give
the same numbers to float rounding instead: small networks train whole epochs in one compiled
call (``FastTrainer.run_batches``, ``rounded_kernels.run_batches``; Numba), and full-batch gradient
descent on wide inputs carries W[1] in the span of the examples (``_DualFirstLayer``). What the
exact steps change is only where the numbers live:

- **One flat buffer per kind.** θ (all parameters), dθ (all gradients) and the optimizer's moving
  averages v, s are each one 1-D array; ``W1, b1, ...`` are reshaped views into it, laid out
  ``[W1 ... WL, b1 ... bL]`` (so the L2 term touches one slice). An optimizer update is then a
  handful of whole-buffer operations instead of ~10 per parameter array.
- **Cache blocking.** On large networks each whole-buffer operation is a pass over megabytes; the
  update runs block by block (``CHUNK_BYTES`` per array) so that its ~16 operations per block
  stay in the CPU cache: per element the same operations in the same order, grouped differently.
- **Preallocated work arrays** per batch size (the full batches and the smaller last one), every
  NumPy call writing with ``out=``; the activations are computed in place over Z (every g'(Z) the
  backward needs can be read from A = g(Z), see ``_BACKWARD``); dA[0] is never computed.
- **The 1/m of dW and db** (and the L2 term (λ/m) W) is applied in the optimizer's pass over the
  gradient buffer instead of once per array: the same products, done once.
- **Mini-batches as rows.** The data is kept as an ``(m, n_x)`` C-contiguous copy; shuffling takes
  rows (a contiguous copy per example) and each batch is the ``.T`` view of a slice of rows, which
  BLAS reads as an ``(n_x, batch)`` matrix without copying.
- **Scalars as 0-d arrays of the dtype**, so float32 stays float32 exactly as with Python floats
  (NumPy casts a Python float to the array's dtype) without converting on every call.
- **Compiled exact passes** (with Numba, ``kernels.py``): each optimizer update as one loop, the
  relu layers' bias + activation and derivative as one pass each, the same operations bit for bit.

>>> import numpy as np
>>> from nnlab import initialize_parameters
>>> rng = np.random.RandomState(0)
>>> X = rng.randn(2, 64).astype(np.float32); Y = (X[:1] * X[1:] > 0).astype(np.float32)
>>> trainer = FastTrainer(initialize_parameters([2, 4, 1], random_state=1, dtype=np.float32),
...                       ["relu", "sigmoid"], optimizer="adam", learning_rate=0.01)
>>> cost = trainer.step(X, Y)
>>> sorted(trainer.params), trainer.params["W1"].dtype, trainer.optimizer_state().t
(['W1', 'W2', 'b1', 'b2'], dtype('float32'), 1)
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from .._random import RandomLike, Rng, check_random_state, rand
from ..activations import LEAKY_RELU_SLOPE
from ..layers import BN_EPSILON
from ..losses import check_l1, get_loss, l1_penalty, l2_penalty
from ..network import (
    batch_accuracy_sum,
    check_activations,
    check_batch_norm,
    check_keep_probs,
    compute_cost,
    num_layers,
    parameter_keys,
    resolve_loss,
    running_keys,
)
from ..optimizers import (
    AdamState,
    GDState,
    MomentumState,
    Optimizer,
    RMSpropState,
    get_optimizer,
)
from ..training import Plan, Steps, batch_sizes, check_bn_momentum, steps_from
from ..weights import normalized
from . import kernels as _kernels
from . import rounded_kernels as _rounded
from .path import COMPILED, DUAL, FAST_DTYPES, IN_PLACE, exact_only, fast_optimizer, whole_epochs

Params = dict[str, np.ndarray]

#: Bytes per array in one block of the optimizer update (64 Ki float32, 32 Ki float64): the
#: block's six arrays (θ, dθ, v, s and two scratch) take 1.5 MiB, within a 2 MiB L2 cache.
CHUNK_BYTES = 1 << 18
#: Full-batch epochs per compiled call, and the most dropout-mask elements drawn ahead for one
#: call.
EPOCHS_PER_CALL = 1000
MASK_ELEMENTS_PER_CALL = 1 << 20
#: Mini-batch runs: at most this many example indices (shuffles of several epochs) per call.
ROWS_PER_CALL = 1 << 18
#: ``kernels`` accuracy codes of the output activations with an accuracy.
ACCURACY_CODES = {"sigmoid": _rounded.THRESHOLD_ACCURACY, "softmax": _rounded.ARGMAX_ACCURACY}


# ---------------------------------------------------------------------------------------------
# Activations in place. Forward: Z -> A = g(Z) overwriting Z. Backward: dA -> dZ = dA * g'(Z)
# overwriting dA, computed from A = g(Z) (never from Z, which the forward overwrote). Each gives
# bit for bit what the function of the same name in activations.py gives.


def _relu(Z, tmp, row):
    """A = max(Z, 0)."""
    np.maximum(Z, 0, out=Z)


def _sigmoid(Z, tmp, row):
    """A = 1 / (1 + exp(-Z))."""
    np.negative(Z, out=Z)
    np.exp(Z, out=Z)
    np.add(Z, 1, out=Z)
    np.divide(1, Z, out=Z)


def _tanh(Z, tmp, row):
    """A = tanh(Z)."""
    np.tanh(Z, out=Z)


def _leaky_relu(Z, tmp, row):
    """A = Z where Z > 0, slope·Z elsewhere; for 0 < slope < 1 that is max(Z, slope·Z)."""
    np.multiply(Z, LEAKY_RELU_SLOPE, out=tmp)
    np.maximum(Z, tmp, out=Z)


def _softmax(Z, tmp, row):
    """A = exp(Z - max_k Z) / Σ_k exp(Z - max_k Z), per column."""
    np.maximum.reduce(Z, axis=0, keepdims=True, out=row)
    np.subtract(Z, row, out=Z)
    np.exp(Z, out=Z)
    np.add.reduce(Z, axis=0, keepdims=True, out=row)
    np.divide(Z, row, out=Z)


def _identity(Z, tmp, row):
    """A = Z."""


def _relu_backward(dA, A, tmp, row):
    """dZ = dA * 1[Z > 0]  (Z > 0 exactly where A = max(Z, 0) > 0)."""
    np.greater(A, 0, out=tmp)
    np.multiply(dA, tmp, out=dA)


def _sigmoid_backward(dA, A, tmp, row):
    """dZ = dA * σ(Z) * (1 - σ(Z)),  σ(Z) = A."""
    np.multiply(dA, A, out=dA)
    np.subtract(1, A, out=tmp)
    np.multiply(dA, tmp, out=dA)


def _tanh_backward(dA, A, tmp, row):
    """dZ = dA * (1 - tanh(Z)²),  tanh(Z) = A."""
    np.square(A, out=tmp)
    np.subtract(1, tmp, out=tmp)
    np.multiply(dA, tmp, out=dA)


def _leaky_relu_backward(dA, A, tmp, row):
    """dZ = dA where Z > 0, slope·dA elsewhere  (Z > 0 exactly where A > 0)."""
    np.multiply(dA, LEAKY_RELU_SLOPE, out=tmp)
    np.copyto(tmp, dA, where=A > 0)
    np.copyto(dA, tmp)


def _softmax_backward(dA, A, tmp, row):
    """dZ = A * (dA - Σ_k A[k] dA[k]), per column."""
    np.multiply(A, dA, out=tmp)
    np.add.reduce(tmp, axis=0, keepdims=True, out=row)
    np.subtract(dA, row, out=dA)
    np.multiply(A, dA, out=dA)


def _identity_backward(dA, A, tmp, row):
    """dZ = dA."""


_FORWARD: dict[str, Callable] = {
    "relu": _relu,
    "sigmoid": _sigmoid,
    "tanh": _tanh,
    "leaky_relu": _leaky_relu,
    "softmax": _softmax,
    "identity": _identity,
}
_BACKWARD: dict[str, Callable] = {
    "relu": _relu_backward,
    "sigmoid": _sigmoid_backward,
    "tanh": _tanh_backward,
    "leaky_relu": _leaky_relu_backward,
    "softmax": _softmax_backward,
    "identity": _identity_backward,
}


# ---------------------------------------------------------------------------------------------
# Costs into scratch buffers; each is the expression of losses.py, operation for operation.


def _binary_crossentropy(AL, Y, w):
    """J = -(1/m) Σ (y log a + (1-y) log(1-a)), log floored at tiny."""
    t1, t2 = w.cost1, w.cost2
    if w.kernels:  # the same operations, the arithmetic around the logs in two passes
        _kernels.log_floors(AL, w.tiny_value, t1, t2)
        np.log(t1, out=t1)
        np.log(t2, out=t2)
        _kernels.cross_entropy_terms(Y, t1, t2)
        return -np.add.reduce(t1, axis=None) / w.m
    np.maximum(AL, w.tiny, out=t1)
    np.log(t1, out=t1)
    np.multiply(Y, t1, out=t1)  # y log a
    np.subtract(1, AL, out=t2)
    np.maximum(t2, w.tiny, out=t2)
    np.log(t2, out=t2)
    np.subtract(1, Y, out=w.cost3)
    np.multiply(w.cost3, t2, out=t2)  # (1-y) log(1-a)
    np.add(t1, t2, out=t1)
    return -np.add.reduce(t1, axis=None) / w.m


def _categorical_crossentropy(AL, Y, w):
    """J = -(1/m) Σ_i Σ_k y log a, log floored at tiny."""
    t1 = w.cost1
    np.maximum(AL, w.tiny, out=t1)
    np.log(t1, out=t1)
    np.multiply(Y, t1, out=t1)
    return -np.add.reduce(t1, axis=None) / w.m


def _mean_squared_error(AL, Y, w):
    """J = (1/2m) Σ ||a - y||²."""
    t1 = w.cost1
    np.subtract(AL, Y, out=t1)
    np.square(t1, out=t1)
    return np.add.reduce(t1, axis=None) / (2 * w.m)


_COSTS: dict[str, Callable] = {
    "binary_crossentropy": _binary_crossentropy,
    "categorical_crossentropy": _categorical_crossentropy,
    "mean_squared_error": _mean_squared_error,
}


class _Work:
    """The work arrays for one batch size m: one set per layer, allocated once.

    ``A[l]`` holds Z[l] and then A[l] = g(Z[l]) (before dropout); ``out[l]`` is the layer's
    output after dropout (``A[l]`` itself without dropout); ``dA[l]`` holds dA[l] and then
    dZ[l] (for the hidden layers), ``dZL`` the output's dZ[L].
    """

    def __init__(self, dims: list[int], m: int, dtype: np.dtype, dropout: list[bool],
                 kernels: bool = False, bn: list[bool] | None = None):
        L = len(dims) - 1
        self.m = m
        self.kernels = kernels  # the exact compiled passes (_kernels) may replace NumPy calls
        self.inv_m = np.array(1.0 / m, dtype)
        self.tiny = np.array(np.finfo(dtype).tiny, dtype)
        self.tiny_value = dtype.type(np.finfo(dtype).tiny)
        self.A = [np.empty((dims[l], m), dtype) for l in range(1, L + 1)]
        self.D = [np.empty((dims[l], m), dtype) if dropout[l - 1] else None for l in range(1, L)]
        pairs = zip(self.A[:-1], self.D, strict=True)
        self.out = [A if D is None else np.empty_like(A) for A, D in pairs]
        self.out.append(self.A[-1])  # the output layer never drops units
        self.dA = [np.empty((dims[l], m), dtype) for l in range(1, L)]
        self.tmp = [np.empty((dims[l], m), dtype) for l in range(1, L + 1)]
        self.row = np.empty((1, m), dtype)
        self.dZL = np.empty((dims[L], m), dtype)
        self.cost1, self.cost2, self.cost3 = (np.empty((dims[L], m), dtype) for _ in range(3))
        # batch norm (per batch-normalized layer): Z_norm (n, m); μ, σ², 1/√(σ² + ε) and a
        # scratch column (n, 1)
        flags = bn if bn is not None else [False] * L
        self.Z_norm = [np.empty((dims[l], m), dtype) if flags[l - 1] else None
                       for l in range(1, L + 1)]
        self.mu, self.var, self.inv_std, self.col = (
            [np.empty((dims[l], 1), dtype) if flags[l - 1] else None for l in range(1, L + 1)]
            for _ in range(4))


class _DualFirstLayer:
    """The first layer's weights in the span of the training examples.

    With plain gradient descent on one fixed full batch X ``(n_x, m)``, every update of W[1] is
    -α dW[1] = -(α/m) dZ[1] X^T: W[1] stays W[1]₀ - C X^T, with C = Σ_t (α_t/m) dZ[1]_t an
    ``(n[1], m)`` matrix. So Z[1] - b[1] = W[1] X = P₀ - C G, with P₀ = W[1]₀ X and the Gram
    matrix G = X^T X ``(m, m)`` computed once. Per step that is an ``n[1] x m x m`` product in
    place of the two ``n[1] x n_x x m`` ones of the forward pass and of dW[1]: on the cat
    pictures (n_x = 12288, m = 209) about 120 times less work. W[1] itself is formed once, at
    the end. The same numbers in exact arithmetic; in floating point they agree with the plain
    steps to rounding (``tests/fast/test_stepper.py``).
    """

    def __init__(self, W1: np.ndarray, X: np.ndarray):
        self.X = X
        self.W1_0 = W1.copy()
        self.G = X.T @ X
        self.P0 = W1 @ X
        self.P = self.P0.copy()
        self.C = np.zeros_like(self.P)
        self.dZ1: np.ndarray | None = None
        self._scaled = np.empty_like(self.P)

    def step(self, inv_m: np.ndarray, alpha: np.ndarray) -> None:
        """C += α (dZ[1] / m);  P = P₀ - C G."""
        assert self.dZ1 is not None  # set by FastTrainer._backward before every step
        np.multiply(self.dZ1, inv_m, out=self._scaled)
        np.multiply(self._scaled, alpha, out=self._scaled)
        np.add(self.C, self._scaled, out=self.C)
        np.matmul(self.C, self.G, out=self.P)
        np.subtract(self.P0, self.P, out=self.P)

    def form_W1(self, W1: np.ndarray) -> None:
        """W[1] = W[1]₀ - C X^T, into W1."""
        np.subtract(self.W1_0, self.C @ self.X.T, out=W1)


#: No shuffle drawn in the kernel (``run_batches``'s ``shuffle_key``, ``shuffle_pos``).
_NO_KEY, _NO_POS = np.empty(0, np.uint32), np.zeros(1, np.int64)


class Shuffles:
    """The next ``n`` shuffles ``rng.permutation(m)`` of a ``RandomState``, as the orders of a
    ``Plan`` (``FastTrainer.permutations``): the compiled epochs draw each at their start
    (``kernels.mt19937_permutation``, bit for bit NumPy's draws); ``advance`` then leaves
    ``rng`` in the state the n calls leave it in. ``drawn()`` makes them with NumPy instead."""

    def __init__(self, rng: np.random.RandomState, m: int, n: int):
        self.rng, self.m, self.n = rng, m, n
        self.start: dict[str, Any] = {}

    def __len__(self) -> int:
        return self.n

    def words(self) -> tuple[np.ndarray, int] | None:
        """The generator's 624 words and position; None unless it runs on MT19937. The words
        are a copy: the kernel draws from them in place, ``start`` keeps the state for a
        replay."""
        self.start = self.rng.get_state(legacy=False)
        if self.start["bit_generator"] != "MT19937":
            return None
        state = self.start["state"]
        return np.array(state["key"], np.uint32), int(state["pos"])

    def advance(self, key: np.ndarray, pos: int) -> None:
        """Put the generator at the state the kernel's draws left (its words and position)."""
        after = dict(self.start, state={"key": key, "pos": pos})
        self.rng.set_state(after)

    def drawn(self) -> np.ndarray:
        """The n orders ``(n, m)``, drawn now by NumPy (``rng.permutation(m)`` n times)."""
        return np.stack([self.rng.permutation(self.m) for _ in range(self.n)])


class FastTrainer:
    """A network's parameters, gradients and optimizer state in flat buffers, and ``step``.

    ``step(X, Y, learning_rate, rng)`` is one ``train_step``: forward (with dropout masks drawn
    from ``rng`` layer by layer), cost, backward, optimizer update, in place. ``params`` is the
    ``{"W1": ..., "b1": ...}`` dict of views into the parameter buffer (it changes with every
    step); ``optimizer_state()`` exports the state as the textbook NamedTuple.

    Args:
        params: the starting ``W1, b1, ..., WL, bL`` (copied).
        activations: g[1], ..., g[L].
        optimizer: "gd", "momentum", "rmsprop", "adam" or one of those ``Optimizer``s (with its
            hyperparameters), as for ``train``.
        learning_rate: α when ``optimizer`` is a name.
        loss: the loss (default: the output activation's natural loss).
        lambd: L2 strength λ.  keep_probs: dropout keep probabilities of the hidden layers.
        fused: dZ[L] = A[L] - Y when the loss's canonical link is the output activation.
        dtype: float32 or float64 (default: the params' dtype).
        l1: L1 strength λ1 (dW gains (λ1/m) sign(W), applied with the L2 term).
        bn_momentum: β_bn of the running statistics of batch-normalized layers (params with
            ``gamma{l}``): their γ, β live in θ after the biases, their running statistics in
            arrays of their own (in ``params`` and ``state()``); the batch norm runs in place
            with ``layers.batchnorm_forward`` / ``batchnorm_backward``'s operations in their
            order (never compiled whole epochs).
        compiled: let ``run_batches`` train whole epochs compiled where it applies (equal to
            the NumPy path to rounding); False (or ``NNLAB_EXACT=1``) keeps every result
            bit-identical to it.
    """

    def __init__(
        self,
        params: Mapping[str, np.ndarray],
        activations: Sequence[str],
        *,
        optimizer: str | Optimizer = "adam",
        learning_rate: float = 0.001,
        loss: str | None = None,
        lambd: float = 0.0,
        keep_probs: float | Sequence[float] | None = None,
        fused: bool = True,
        dtype: np.dtype | type | None = None,
        compiled: bool = True,
        l1: float = 0.0,
        bn_momentum: float = 0.9,
    ):
        L = num_layers(params)
        self.L = L
        self.dims = [params["W1"].shape[1]] + [params[f"W{l}"].shape[0] for l in range(1, L + 1)]
        self.dtype = np.dtype(params["W1"].dtype if dtype is None else dtype)
        if self.dtype not in FAST_DTYPES:
            raise ValueError(f"the fast path runs float32 or float64, not {self.dtype}")
        self.activations = check_activations(activations, L)
        self.keep_probs = check_keep_probs(keep_probs, L)
        self.dropout = [k < 1.0 for k in self.keep_probs]
        self._dropout_units = sum(d for d, drop in zip(self.dims[1:], self.dropout, strict=False)
                                  if drop)
        self.lambd = float(lambd)
        self.l1 = check_l1(l1)
        self.loss = resolve_loss(self.activations[-1], loss)
        self.fused = bool(fused) and get_loss(self.loss).link == self.activations[-1]
        if isinstance(optimizer, str):
            optimizer = get_optimizer(optimizer, learning_rate=learning_rate)
        if not fast_optimizer(optimizer):
            raise ValueError(f"the fast path has no update for optimizer {optimizer.name!r}")
        self.optimizer = optimizer
        self.hyper = dict(optimizer.hyperparams)
        self.t = 0
        #: Per layer: batch-normalized (params hold gamma{l}); β_bn of the running statistics.
        self.bn = [*check_batch_norm(None, params, L), False]
        self.bn_momentum = check_bn_momentum(bn_momentum)

        # θ laid out [W1 ... WL, b1 ... bL, γ..., β...] (nnlab's one layout); dθ, v, s alike.
        keys = parameter_keys(params)
        shapes = {f"W{l}": (self.dims[l], self.dims[l - 1]) for l in range(1, L + 1)}
        shapes.update({f"{p}{l}": (self.dims[l], 1) for l in range(1, L + 1)
                       for p in ("b", "gamma", "beta")})
        for k in keys:
            if tuple(np.shape(params[k])) != shapes[k]:
                raise ValueError(f"{k} has shape {np.shape(params[k])}, expected {shapes[k]}")
        self._offsets, offset = {}, 0
        for k in keys:
            size = shapes[k][0] * shapes[k][1]
            self._offsets[k] = (offset, offset + size, shapes[k])
            offset += size
        self.size = offset
        self.n_weights = sum(shapes[f"W{l}"][0] * shapes[f"W{l}"][1] for l in range(1, L + 1))
        self.theta = np.empty(self.size, self.dtype)
        self.grad = np.zeros(self.size, self.dtype)
        # The textbook's key order: W1, b1, W2, b2, ... (W1, gamma1, beta1 with batch norm)
        self.keys = [k for l in range(1, L + 1)
                     for k in ((f"W{l}", f"gamma{l}", f"beta{l}") if self.bn[l - 1]
                               else (f"W{l}", f"b{l}"))]
        self._params: Params = self._views(self.theta)
        for k in self.keys:
            self._params[k][...] = params[k]
        # W, dW, b, db, γ, β, dγ, dβ and the update's blocks: views made when first used
        # (the compiled whole epochs never use them; see the cached properties below).
        #: The running statistics (not trained, so not in θ): arrays of their own, in params.
        self._running = {k: np.array(params[k], dtype=self.dtype) for k in running_keys(params)}
        self._params.update(self._running)
        self._prev_running = {k: np.empty_like(v) for k, v in self._running.items()}
        name = optimizer.name
        self.v = np.zeros(self.size, self.dtype) if name in ("momentum", "adam") else None
        self.s = np.zeros(self.size, self.dtype) if name in ("rmsprop", "adam") else None
        # The update as a plain function of (self, lr, w): a bound method kept on the instance
        # would be a reference cycle, keeping the data's copies alive until a garbage collection.
        self._update: Callable = getattr(FastTrainer, f"_update_{name}")
        #: The compiled update (``_kernels.py``, same bits) when Numba is there; else NumPy's.
        self.kernels = _kernels.enabled()
        if self.kernels:
            self._update = FastTrainer._update_compiled
            self._hp = np.zeros(_kernels.HP_SIZE, self.dtype)
        #: Whether ``run_batches`` runs whole epochs compiled (``_rounded.run_batches``).
        self.compiled = not any(self.bn) and whole_epochs(self.dims, self.activations,
                                                          self.loss, self.fused, compiled)
        if self.compiled:
            self._setup_compiled()
        #: Results equal to the textbook's to rounding allowed: Adam's update in another form
        #: (``_update_compiled``), db of relu layers summed with relu's derivative (``_backward``)
        self._rounded_sums = self.kernels and compiled and not exact_only()
        self.draws_masks = any(self.dropout)
        self.path = COMPILED if self.compiled else IN_PLACE
        self._dual_wanted = False
        self._rounded_adam = self._rounded_sums and name == "adam"
        self._scalar_cache: dict[float, np.ndarray] = {}
        self._work: dict[int, _Work] = {}
        if self.loss not in _COSTS:
            raise ValueError(f"the fast path has no loss {self.loss!r}: train it with "
                             "fast=False (nnlab.explain_path routes it so)")
        self._cost = _COSTS[self.loss]
        self._forward_fns = [_FORWARD[a] for a in self.activations]
        self._dual: _DualFirstLayer | None = None
        #: relu layers whose bias + activation (and derivative) run as one compiled pass
        self._fused_relu = [self.kernels and a == "relu" and not bn
                            for a, bn in zip(self.activations, self.bn, strict=True)]
        self._backward_fns = [_BACKWARD[a] for a in self.activations]
        if self.kernels:  # tanh's and sigmoid's derivatives as one exact pass each
            exact_bwd = {"tanh": _kernels.tanh_backward, "sigmoid": _kernels.sigmoid_backward}
            self._backward_fns = [
                (lambda dA, A, tmp, row, f=exact_bwd[a]: f(dA, A)) if a in exact_bwd else fn
                for a, fn in zip(self.activations, self._backward_fns, strict=True)
            ]

    # -- whole epochs compiled (small networks) -------------------------------------------------

    def _setup_compiled(self) -> None:
        h = self.hyper
        self._dims = np.array(self.dims, np.int64)
        self._act_codes = np.array([_rounded.ACTIVATION_CODES[a] for a in self.activations],
                                   np.int64)
        self._loss_code = _rounded.LOSS_CODES[self.loss]
        self._opt_code = _rounded.OPTIMIZER_CODES[self.optimizer.name]
        self._betas = (float(h.get("beta1", h.get("beta", 0.0))), float(h.get("beta2", 0.0)))
        net_hp = np.zeros(_rounded.NET_HP_SIZE, self.dtype)
        net_hp[_rounded.NET_LAMBD] = self.lambd
        net_hp[_rounded.NET_L1] = self.l1
        net_hp[_rounded.NET_EPS] = h.get("epsilon", 0.0)
        net_hp[_rounded.NET_HALF] = 0.5
        net_hp[_rounded.NET_ONE] = 1.0
        net_hp[_rounded.NET_SLOPE] = LEAKY_RELU_SLOPE
        net_hp[_rounded.NET_TINY] = np.finfo(self.dtype).tiny
        self._net_hp = net_hp
        self._keep = np.array([*self.keep_probs, 1.0], self.dtype)
        self._no_masks = np.empty(0, self.dtype)
        self._net_work: dict[int, np.ndarray] = {}

    def run_batches(
        self,
        X_rows: np.ndarray,
        Y_rows: np.ndarray,
        rows: np.ndarray,
        batch_size: int,
        learning_rate: float,
        accuracy: int = 0,
        rngs: RandomLike | Callable[[int], RandomLike] = None,
        passes: int = 1,
        prev: np.ndarray | None = None,
        masks: np.ndarray | None = None,
        shuffle: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Updates on the batches ``rows[k : k + batch_size]`` of X_rows ``(m, n_x)`` / Y_rows
        ``(m, n_y)`` (examples as rows, C-contiguous, the trainer's dtype), all in one compiled
        call (only where ``self.compiled``). ``rows`` ``(m_b,)``, or ``(passes, m_b)`` for
        another order of the examples in every pass. Returns each batch's cost and accuracy sum
        (``_kernels`` accuracy code); it stops after a batch whose cost is not finite.

        With dropout, ``rngs`` is the generator of every batch's masks, or ``rngs(k)`` gives
        batch k's (called just before they are drawn: it may reseed and return one shared
        generator); all are drawn before the call, in the order ``step`` would draw them.
        ``masks``: instead, the masks drawn already (by ``_masks``, e.g. to replay a call).
        ``passes``: go over ``rows`` that many times (full-batch epochs in one call); ``prev``:
        where θ is copied before every batch (the last finite weights after a stop).
        ``shuffle``: a ``RandomState``'s words and position ``(key, pos)`` (updated in place):
        each pass draws its order of ``rows``' m examples from it, as ``permutation(m)``."""
        work = self._net_work.get(batch_size)
        if work is None:
            if len(self._net_work) > 4:
                self._net_work.clear()
            size = _rounded.work_size(self._dims, batch_size)
            work = self._net_work[batch_size] = np.empty(size, self.dtype)
        rows = rows.reshape(1, -1) if rows.ndim == 1 else rows
        if rows.shape[0] not in (1, passes):
            raise ValueError(f"rows has {rows.shape[0]} orders for {passes} passes")
        m = rows.shape[1]
        n_batches = -(-m // batch_size) * passes
        costs, corrects = np.empty(n_batches), np.empty(n_batches)
        v = self.grad if self.v is None else self.v
        s = self.grad if self.s is None else self.s
        if not any(self.dropout):
            masks = self._no_masks
        elif masks is None:
            masks = self._masks(rngs, m, batch_size, passes)
        done = _rounded.run_batches(
            X_rows, Y_rows, rows, batch_size, passes, self._dims, self._act_codes, self._keep,
            masks, self._loss_code, accuracy, self._opt_code, self.theta, self.grad, v, s,
            self._no_masks if prev is None else prev, self._net_hp, self._hp, self._betas[0],
            self._betas[1], self.t, float(learning_rate), work, costs, corrects,
            *(shuffle if shuffle is not None else (_NO_KEY, _NO_POS)),
        )
        self.t += done
        return costs[:done], corrects[:done]

    def _masks(self, rngs: RandomLike | Callable[[int], RandomLike], m: int, batch_size: int,
               passes: int = 1) -> np.ndarray:
        """The dropout masks of every batch, D[l] = (rand(n_l, mb) < keep_prob), batch by batch
        and layer by layer from ``rngs`` (or ``rngs(batch)``), as ``_forward`` draws them.

        A batch's uniforms for all its layers come in one draw (the same stream as one draw
        per layer). When ``rngs`` has a true ``constant`` attribute it returns a generator in
        the same state at every call (the course reseeds with the same seed before every
        forward pass), so batches of one size get the same masks: drawn once, then copied."""
        if rngs is None:
            raise ValueError("dropout needs the generators of the masks: pass rngs")
        sizes = [min(batch_size, m - start) for start in range(0, m, batch_size)] * passes
        if not callable(rngs):
            return self._masks_from_one(check_random_state(rngs), sizes)
        layers = self._dropout_layers()
        units = sum(n for n, _ in layers)
        masks = np.empty(sum(sizes) * units, self.dtype)
        constant = bool(getattr(rngs, "constant", False))
        drawn: dict[int, np.ndarray] = {}
        start = 0
        for batch, mb in enumerate(sizes):
            out = masks[start : start + units * mb]
            start += units * mb
            if mb in drawn:
                np.copyto(out, drawn[mb])
                continue
            u = rand(check_random_state(rngs(batch)), (units * mb,))
            self._compare_masks(u, [mb], layers, out)
            if constant:
                drawn[mb] = out
        return masks

    def _dropout_layers(self) -> list[tuple[int, float]]:
        """(n[l], keep_prob) of each hidden layer with dropout, in order."""
        return [(self.dims[l + 1], self.keep_probs[l]) for l in range(self.L - 1)
                if self.dropout[l]]

    @staticmethod
    def _compare_masks(u: np.ndarray, sizes: list[int], layers: list[tuple[int, float]],
                       out: np.ndarray) -> None:
        """out = (u < keep_prob) as 0/1, each batch's stretch of ``u`` cut layer by layer."""
        if len({kp for _, kp in layers}) == 1:
            np.less(u, layers[0][1], out=out, casting="unsafe")
            return
        start = 0
        for mb in sizes:
            for n, kp in layers:
                part = slice(start, start + n * mb)
                np.less(u[part], kp, out=out[part], casting="unsafe")
                start += n * mb

    def _masks_from_one(self, rng: Rng, sizes: list[int]) -> np.ndarray:
        """``_masks`` from one generator: its uniforms come in one draw (the same stream as a
        draw per mask), compared with each layer's keep probability."""
        layers = self._dropout_layers()
        u = rand(rng, (sum(sizes) * sum(n for n, _ in layers),))
        masks = np.empty(u.size, self.dtype)
        self._compare_masks(u, sizes, layers, masks)
        return masks

    # -- the first layer in the span of the data (wide inputs, full batch, plain descent) -------

    def start_dual(self, X: np.ndarray) -> None:
        """From now on every step is on the full batch X: W[1] is carried as W[1]₀ - C X^T
        (see ``_DualFirstLayer``) until ``finish_dual``."""
        self._dual = _DualFirstLayer(self.W[0], X)
        self._rest_step = np.empty(self.size - self.dims[0] * self.dims[1], self.dtype)
        self._update_all = self._update
        self._update = FastTrainer._update_dual

    def finish_dual(self) -> None:
        """Back to the plain mode, W[1] = W[1]₀ - C X^T formed."""
        dual, self._dual = self._dual, None
        assert dual is not None
        self._update = self._update_all
        dual.form_W1(self.W[0])

    def dual_coefficients(self) -> np.ndarray:
        """A copy of C, from which ``finish_dual`` forms W[1] as it is now."""
        assert self._dual is not None
        return self._dual.C.copy()

    def _update_dual(self, lr: float, w: _Work) -> None:
        """The gd update: W[1] through C and P (``_DualFirstLayer.step``), the rest of θ as in
        ``_update_gd`` (one slice past W[1])."""
        alpha = self._scalar(lr)
        assert self._dual is not None
        self._dual.step(w.inv_m, alpha)
        k = self.dims[0] * self.dims[1]
        theta, g, step = self.theta[k:], self.grad[k:], self._rest_step
        np.multiply(g, w.inv_m, out=g)
        np.multiply(g, alpha, out=step)
        np.subtract(theta, step, out=theta)

    # -- views and state -----------------------------------------------------------------------

    @functools.cached_property
    def W(self) -> list[np.ndarray]:
        """W[l] per layer: views into θ."""
        return [self._params[f"W{l}"] for l in range(1, self.L + 1)]

    @functools.cached_property
    def dW(self) -> list[np.ndarray]:
        """dW[l] per layer: views into dθ."""
        return [self._view(self.grad, f"W{l}") for l in range(1, self.L + 1)]

    # b, db, γ, dγ, β, dβ per layer (None where the layer has none): views made when first
    # used, then plain attributes (the in-place steps read them every batch).

    @functools.cached_property
    def b(self) -> list[Any]:
        """b[l] per layer (None for a batch-normalized layer): views into θ."""
        return self._layer_views("b", False)[0]

    @functools.cached_property
    def db(self) -> list[Any]:
        return self._layer_views("b", False)[1]

    @functools.cached_property
    def gamma(self) -> list[Any]:
        """γ[l] of the batch-normalized layers (None for the others): views into θ."""
        return self._layer_views("gamma", True)[0]

    @functools.cached_property
    def dgamma(self) -> list[Any]:
        return self._layer_views("gamma", True)[1]

    @functools.cached_property
    def beta(self) -> list[Any]:
        """β[l] of the batch-normalized layers (None for the others): views into θ."""
        return self._layer_views("beta", True)[0]

    @functools.cached_property
    def dbeta(self) -> list[Any]:
        return self._layer_views("beta", True)[1]

    @functools.cached_property
    def _blocks(self) -> list[tuple]:
        return self._make_blocks()

    def _layer_views(self, name: str, bn: bool) -> tuple[list[Any], list[Any]]:
        """Per layer, the views of parameter ``name`` (b, gamma, beta) in θ and dθ: for the
        layers whose batch norm is ``bn``, None for the others."""
        keys = [f"{name}{l}" if self.bn[l - 1] == bn else None for l in range(1, self.L + 1)]
        return ([None if k is None else self._params[k] for k in keys],
                [None if k is None else self._view(self.grad, k) for k in keys])

    def _view(self, buffer: np.ndarray, key: str) -> np.ndarray:
        start, stop, shape = self._offsets[key]
        return buffer[start:stop].reshape(shape)

    def _views(self, buffer: np.ndarray) -> Params:
        return {k: self._view(buffer, k) for k in self.keys}

    def set_params(self, params: Mapping[str, np.ndarray]) -> None:
        """Copy ``params`` into the parameter buffer (and the running statistics)."""
        for k in self.keys:
            self.params[k][...] = params[k]
        for k, running in self._running.items():
            running[...] = params[k]

    def optimizer_state(self) -> Any:
        """The optimizer's state as the textbook's NamedTuple (copies of the buffers)."""
        name = self.optimizer.name
        if name == "gd":
            return GDState(t=self.t)
        if name == "momentum":
            assert self.v is not None
            return MomentumState(t=self.t, v=self._copies(self.v))
        if name == "rmsprop":
            assert self.s is not None
            return RMSpropState(t=self.t, s=self._copies(self.s))
        assert self.v is not None and self.s is not None
        return AdamState(t=self.t, v=self._copies(self.v), s=self._copies(self.s))

    def set_optimizer_state(self, state: Any) -> None:
        """Load a textbook optimizer state (as ``optimizer_state()`` or ``train`` return it)."""
        self.t = int(state.t)
        for name in ("v", "s"):
            buffer = getattr(self, name)
            if buffer is not None:
                views = self._views(buffer)
                for k in self.keys:
                    views[k][...] = getattr(state, name)[k]

    @property
    def output(self) -> np.ndarray:
        """A[L] of the last step's batch, before its update (a work array: read it before the
        next step)."""
        return self._last.A[-1]

    # -- the stepper protocol (nnlab.training.Stepper) -------------------------------------------

    @property
    def params(self) -> Params:
        """``W1, b1, ...``: views into the parameter buffer (they change with every step)."""
        if self._dual is not None:  # W[1] = W[1]₀ - C X^T, formed when looked at
            self._dual.form_W1(self.W[0])
        return self._params

    def state(self) -> tuple[Params, Any]:
        """Copies of the parameters and of the optimizer state, as the textbook keeps them."""
        self.params  # noqa: B018 - forms W[1] when it is carried in the span of the data
        params = self._copies(self.theta)
        params.update({k: v.copy() for k, v in self._running.items()})
        return params, self.optimizer_state()

    def load_state(self, params: Mapping[str, np.ndarray], opt_state: Any) -> None:
        """Copy ``params`` and a textbook optimizer state into the buffers."""
        self.set_params(params)
        self.set_optimizer_state(opt_state)

    def carry_first_layer(self) -> None:
        """Full-batch descent from ``bind`` on carries W[1] in the span of the data
        (``nnlab.fast.path.dual_applies``; ``explain_path`` says when)."""
        self._dual_wanted = True
        self.path = DUAL

    #: The current batch's normalized sample weights w̃ ``(1, m)`` (None: no weights).
    _w_tilde: np.ndarray | None = None

    def bind(self, X: np.ndarray, Y: np.ndarray, sample_weight: np.ndarray | None = None
             ) -> None:
        """The training data, X ``(n_x, m)`` and Y ``(n_y, m)`` in the trainer's dtype: kept as
        given for the full batch, and as ``(m, n_x)`` rows for mini-batches (a shuffle gathers
        whole rows; each batch is the ``.T`` view of a slice of rows). ``sample_weight``
        ``(m,)``: a weight per example (``nnlab.weights``), taken by the in-place steps only
        (``explain_path(weighted=True)`` never picks the compiled or dual path)."""
        if sample_weight is not None and (self.compiled or self._dual_wanted):
            raise ValueError("sample weights need the in-place steps: build the trainer with "
                             "compiled=False (explain_path(weighted=True) does)")
        self._sw = None if sample_weight is None else np.asarray(sample_weight, self.dtype)
        if X.dtype != self.dtype:
            X = X.astype(self.dtype)
        if Y.dtype != self.dtype:
            Y = Y.astype(self.dtype)
        if not (X.flags.c_contiguous or X.flags.f_contiguous):
            X = np.ascontiguousarray(X)
        self._X, self._Y, self._m = X, Y, X.shape[1]
        self._rows: tuple[np.ndarray, np.ndarray] | None = None
        self._order: np.ndarray | None = None
        self._shuffled: tuple[np.ndarray, np.ndarray] | None = None
        self._prev = np.empty_like(self.theta)
        self._prev_v = None if self.v is None else np.empty_like(self.v)
        self._prev_s = None if self.s is None else np.empty_like(self.s)
        if self._dual is not None:
            self.finish_dual()
        if self._dual_wanted:
            self.start_dual(X)

    def _row_data(self) -> tuple[np.ndarray, np.ndarray]:
        if self._rows is None:
            self._rows = (np.ascontiguousarray(self._X.T), np.ascontiguousarray(self._Y.T))
        return self._rows

    def _in_order(self) -> np.ndarray:
        """``arange(m)``: the rows of an epoch in order (one array per binding)."""
        if self._order is None:
            self._order = np.arange(self._m)
        return self._order

    def permutations(self, rng: RandomLike, m: int, n: int) -> Shuffles | None:
        """The loop's next ``n`` shuffles (``EpochLoop``), for the compiled whole epochs: drawn
        inside them, each at the start of its epoch (``Shuffles``), the same draws as n calls
        of ``rng.permutation(m)`` and ``rng`` left as they leave it. None (the loop draws them
        with NumPy) on the other paths, where an epoch costs far more than its shuffle."""
        if self.compiled and type(rng) is np.random.RandomState and n > 1:
            return Shuffles(rng, m, n)
        return None

    def max_epochs_per_call(self, m: int, batch_size: int) -> int:
        """Compiled: up to ``EPOCHS_PER_CALL`` epochs per call (fewer when their dropout masks
        or shuffles would take too much memory); in place: as many full-batch epochs, and one
        epoch of mini-batches."""
        if not self.compiled:  # epochs share a call (one Python round trip fewer each)
            return EPOCHS_PER_CALL if batch_size >= m else max(1, min(EPOCHS_PER_CALL,
                                                                      ROWS_PER_CALL // m))
        if batch_size >= m:
            units = self._dropout_units
            return max(1, min(EPOCHS_PER_CALL, MASK_ELEMENTS_PER_CALL // max(1, units * m)))
        return max(1, min(EPOCHS_PER_CALL, ROWS_PER_CALL // m))

    def run(self, plan: Plan) -> Steps:
        """The epochs of ``plan`` (see ``nnlab.training.Stepper``)."""
        lr = self.hyper["learning_rate"] if plan.learning_rate is None else plan.learning_rate
        if self.compiled:
            return self._run_compiled(plan, lr)
        return self._run_steps(plan, lr)

    def _save(self) -> Any:
        """The state before an epoch (into preallocated buffers), for ``_restore``."""
        np.copyto(self._prev, self.theta)
        for k, running in self._running.items():
            np.copyto(self._prev_running[k], running)
        if self._prev_v is not None and self.v is not None:
            np.copyto(self._prev_v, self.v)
        if self._prev_s is not None and self.s is not None:
            np.copyto(self._prev_s, self.s)
        return (self.t, None if self._dual is None else self.dual_coefficients())

    def _restore(self, saved: Any) -> None:
        self.t, C = saved
        np.copyto(self.theta, self._prev)
        for k, running in self._running.items():
            np.copyto(running, self._prev_running[k])
        if self._prev_v is not None and self.v is not None:
            np.copyto(self.v, self._prev_v)
        if self._prev_s is not None and self.s is not None:
            np.copyto(self.s, self._prev_s)
        if C is not None:
            assert self._dual is not None
            self._dual.C[...] = C
            np.matmul(C, self._dual.G, out=self._dual.P)
            np.subtract(self._dual.P0, self._dual.P, out=self._dual.P)

    def _batches(self, order: np.ndarray | None, batch_size: int
                 ) -> list[tuple[np.ndarray, np.ndarray]]:
        """An epoch's batches as ``(n_x, m_b)`` / ``(n_y, m_b)`` arrays."""
        m = self._m
        if batch_size >= m:
            return [(self._X, self._Y)]
        X_rows, Y_rows = self._row_data()
        if order is not None:
            if self._shuffled is None:
                self._shuffled = (np.empty_like(X_rows), np.empty_like(Y_rows))
            X_rows, Y_rows = self._shuffled
            # mode="clip": no bounds check, so NumPy writes into out without a buffer
            np.take(self._rows[0], order, axis=0, out=X_rows, mode="clip")  # type: ignore[index]
            np.take(self._rows[1], order, axis=0, out=Y_rows, mode="clip")  # type: ignore[index]
        return [(X_rows[k : k + batch_size].T, Y_rows[k : k + batch_size].T)
                for k in range(0, m, batch_size)]

    def load_kernels(self, batch_size: int) -> None:
        """Load (or compile) the whole-epoch code for batches of ``batch_size`` now, making no
        update and drawing nothing: so that a timed run measures the updates alone."""
        if self.compiled:
            X_rows, Y_rows = self._row_data()
            self.run_batches(X_rows, Y_rows, np.arange(0), min(batch_size, self._m), 0.0)

    def _run_steps(self, plan: Plan, lr: float) -> Steps:
        """One ``_step`` per batch (the in-place NumPy path). A full-batch epoch needs no copy
        of the state to go back to: a step whose cost is not finite makes no update."""
        m = self._m
        sizes = batch_sizes(m, min(plan.batch_size, m))
        full = self._batches(None, plan.batch_size) if plan.batch_size >= m else None
        draws = self.draws_masks
        step = plan.first_step
        costs: list[float] = []
        corrects: list[float] = []
        plain = not (draws or plan.accuracy or plan.on_batch is not None
                     or self._sw is not None)
        step_on, record, isfinite = self._step, costs.append, math.isfinite
        for order in plan.orders:
            saved = None if full is not None else self._save()
            batches = full if full is not None else self._batches(order, plan.batch_size)
            weights = self._batch_weights(order, plan.batch_size)
            first, batches = plan.start, batches[plan.start:]  # (start: one order only)
            total, stopped = 0.0, False  # Σ cost · m_b, to tell a non-finite epoch cost
            if plain:  # (the loop below, without what this plan does not ask for)
                for X_batch, Y_batch in batches:
                    cost = step_on(X_batch, Y_batch, lr, None)
                    record(cost)
                    total += cost * X_batch.shape[1]
                    if not isfinite(total):
                        break
                batches = []  # (``step`` numbers the masks' draws: none here)
            for b, (X_batch, Y_batch) in enumerate(batches, start=first):
                rng = None
                if draws:
                    rng = check_random_state(plan.dropout_rng(step) if plan.dropout_rng
                                             is not None else plan.rng)
                cost = self._step(X_batch, Y_batch, lr, rng,
                                  None if weights is None else weights[b])
                step += 1
                costs.append(cost)
                if plan.accuracy:
                    corrects.append(batch_accuracy_sum(self.output, Y_batch,
                                                       self.activations[-1]))
                total += cost * X_batch.shape[1]
                if not math.isfinite(total):  # (a full batch made no update: see _step)
                    stopped = True
                    break
                if plan.on_batch is not None and plan.on_batch(b, cost, X_batch.shape[1]):
                    stopped = True
                    break
            if not math.isfinite(total):
                if saved is not None:
                    self._restore(saved)
                break
            if stopped:
                break
        return steps_from(np.array(costs, np.float64), sizes,
                          np.array(corrects, np.float64) if plan.accuracy else None)

    def _run_compiled(self, plan: Plan, lr: float) -> Steps:
        """Every batch of the plan's epochs in one compiled call (one call per batch when
        ``plan.on_batch`` looks at each). An epoch whose cost is not finite is undone by
        replaying the call from its start up to the epoch before it: the same inputs, the same
        masks, the same bits."""
        X_rows, Y_rows = self._row_data()
        m = self._m
        bs = min(plan.batch_size, m)
        n = len(plan.orders)
        sizes = batch_sizes(m, bs)
        orders = plan.orders
        shuffles = orders if isinstance(orders, Shuffles) else None
        words = None if shuffles is None else shuffles.words()
        if shuffles is not None and (words is None or plan.on_batch is not None or plan.start):
            orders, shuffles, words = shuffles.drawn(), None, None  # (NumPy's draws, now)
        first = None if shuffles is not None else orders[0]
        if shuffles is not None:  # each epoch draws its order in the kernel
            rows, passes = self._in_order(), n
        elif n == 1 and first is not None:
            rows, passes = first, 1
        elif all(o is None for o in orders):
            rows, passes = self._in_order(), n
        else:
            rows = np.stack([np.arange(m) if o is None else o for o in orders])
            passes = n
        code = ACCURACY_CODES.get(self.activations[-1], 0) if plan.accuracy else 0
        start = self._save()  # the state before the call, for a replay
        masks = None
        if plan.on_batch is not None or plan.start:  # one epoch (never sharing a call)
            costs, corrects = self._run_batch_by_batch(plan, X_rows, Y_rows, rows, bs, lr, code)
        else:
            if self.draws_masks:
                masks = self._masks(_step_rngs(plan.dropout_rng, plan.rng, plan.first_step), m,
                                    bs, passes)
            shuffle = None if words is None else (words[0], np.array([words[1]], np.int64))
            costs, corrects = self.run_batches(X_rows, Y_rows, rows, bs, lr, code,
                                               passes=passes, masks=masks, shuffle=shuffle)
            if shuffles is not None and shuffle is not None:  # (the kernel's new state)
                shuffles.advance(shuffle[0], int(shuffle[1][0]))
        steps = steps_from(costs, sizes, corrects if plan.accuracy else None)
        if not all(map(math.isfinite, steps.totals)):  # (a sum that overflows; the kernel
            e = [math.isfinite(c) for c in steps.totals].index(False)  # stops at a NaN batch)
            steps = Steps(steps.costs[: e + 1], steps.totals[: e + 1],
                          None if steps.corrects is None else steps.corrects[: e + 1])
        elif steps.cut is not None and not math.isfinite(steps.cut.cost):
            e = len(steps.totals)
        else:
            return steps
        self._restore(start)  # back to the call's start, then up to the epoch before e
        if shuffles is not None:  # the same orders again: the call's draws, made by NumPy
            shuffles.rng.set_state(shuffles.start)
            rows = shuffles.drawn()  # (and the generator left after all n, as promised)
        if e:
            rows_e = rows if rows.ndim == 1 else rows[:e]
            used = None if masks is None else masks[: masks.size // n * e]
            self.run_batches(X_rows, Y_rows, rows_e, bs, lr, passes=e, masks=used)
        return steps

    def _run_batch_by_batch(self, plan: Plan, X_rows: np.ndarray, Y_rows: np.ndarray,
                            rows: np.ndarray, bs: int, lr: float, code: int
                            ) -> tuple[np.ndarray, np.ndarray]:
        """One compiled call per batch (each drawing its own masks), ``plan.on_batch`` after
        each, from the batch ``plan.start`` of the epoch."""
        assert len(plan.orders) == 1
        m = self._m
        costs: list[float] = []
        corrects: list[float] = []
        step = plan.first_step
        for order in (rows if rows.ndim == 2 else [rows]):
            for b, k in enumerate(range(plan.start * bs, m, bs), start=plan.start):
                part = order[k : k + bs]
                rngs = None
                if self.draws_masks:
                    rngs = _step_rngs(plan.dropout_rng, plan.rng, step)
                step += 1
                c, a = self.run_batches(X_rows, Y_rows, part, part.size, lr, code, rngs)
                costs.extend(c.tolist())
                corrects.extend(a.tolist())
                if c.size == 0:
                    break
                stop = plan.on_batch is not None and plan.on_batch(b, float(c[-1]), part.size)
                if stop or not math.isfinite(c[-1]):  # (the kernel stops at such a batch)
                    break
        return np.array(costs), np.array(corrects)

    def _copies(self, buffer: np.ndarray) -> Params:
        """The arrays of ``buffer`` per key, as views of one copy of it (disjoint, so no two
        share memory; one copy is cheaper than one per array)."""
        return self._views(buffer.copy())

    def _scalar(self, value: float) -> np.ndarray:
        """value as a 0-d array of the dtype: what NumPy makes of a Python float here."""
        s = self._scalar_cache.get(value)
        if s is None:
            if len(self._scalar_cache) > 64:
                self._scalar_cache.clear()
            s = self._scalar_cache[value] = np.array(value, self.dtype)
        return s

    def _work_for(self, m: int) -> _Work:
        w = self._work.get(m)
        if w is None:
            if len(self._work) > 4:
                self._work.clear()
            w = self._work[m] = _Work(self.dims, m, self.dtype, self.dropout, self.kernels,
                                      self.bn)
        return w

    # -- one step ------------------------------------------------------------------------------

    def step(
        self,
        X: np.ndarray,
        Y: np.ndarray,
        learning_rate: float | None = None,
        rng: RandomLike = None,
    ) -> float:
        """One update on the batch X ``(n_x, m)``, Y ``(n_y, m)``; returns the cost before it.

        ``rng`` draws the dropout masks (needed only with dropout).
        """
        if X.ndim != 2 or X.shape[0] != self.dims[0] or Y.shape != (self.dims[-1], X.shape[1]):
            raise ValueError(
                f"X {X.shape} and Y {Y.shape} must be (n_x, m) = ({self.dims[0]}, m) and "
                f"(n_y, m) = ({self.dims[-1]}, m)"
            )
        if X.dtype != self.dtype:
            X = X.astype(self.dtype)
        if Y.dtype != self.dtype:
            Y = Y.astype(self.dtype)
        gen: Rng | None = None
        if any(self.dropout):
            gen = check_random_state(rng)
        lr = self.hyper["learning_rate"] if learning_rate is None else learning_rate
        with np.errstate(over="ignore"):
            return self._step(X, Y, lr, gen)

    def _batch_weights(self, order: np.ndarray | None, batch_size: int
                       ) -> list[np.ndarray] | None:
        """An epoch's batches' sample weights, in ``_batches``'s order (None: no weights)."""
        sw = self._sw
        if sw is None:
            return None
        if order is not None:
            sw = sw[order]
        return [sw[k : k + batch_size] for k in range(0, self._m, batch_size)]

    def _step(self, X: np.ndarray, Y: np.ndarray, lr: float, rng: Rng | None,
              sample_weight: np.ndarray | None = None) -> float:
        if sample_weight is not None:
            return self._weighted_step(X, Y, lr, rng, sample_weight)
        w = self._last = self._work_for(X.shape[1])
        AL = self._forward(X, w, rng)
        cost = self._cost(AL, Y, w)
        if self.lambd:
            cost = cost + l2_penalty(self.params, self.lambd, w.m)
        if self.l1:
            cost = cost + l1_penalty(self.params, self.l1, w.m)
        cost = float(self.dtype.type(cost))
        if not math.isfinite(cost * w.m):  # no update: the loop goes back to before it anyway
            return cost
        self._backward(X, Y, w)
        self.t += 1
        self._update(self, lr, w)
        if self._running:
            self._update_running_stats(w)
        return cost

    def _weighted_step(self, X: np.ndarray, Y: np.ndarray, lr: float, rng: Rng | None,
                       sample_weight: np.ndarray) -> float:
        """``_step`` with a weight per example (``nnlab.weights``): the weighted cost, dZ[L]'s
        columns scaled by w̃ = (m/s) w, and λ, λ1 by m/s for the update."""
        w = self._last = self._work_for(X.shape[1])
        AL = self._forward(X, w, rng)
        cost = float(self.dtype.type(compute_cost(
            AL, Y, self.params, self.lambd, loss=self.loss, l1=self.l1,
            sample_weight=sample_weight)))
        if not math.isfinite(cost * w.m):
            return cost
        self._w_tilde, scale = normalized(sample_weight, w.m)
        lambd, l1 = self.lambd, self.l1
        try:
            self._backward(X, Y, w)
            self.lambd, self.l1 = lambd * scale, l1 * scale
            self.t += 1
            self._update(self, lr, w)
            if self._running:
                self._update_running_stats(w)
        finally:
            self._w_tilde, self.lambd, self.l1 = None, lambd, l1
        return cost

    def _forward(self, X: np.ndarray, w: _Work, rng: Rng | None) -> np.ndarray:
        """Z[l] = W[l] A[l-1] + b[l],  A[l] = g[l](Z[l]);  dropout: A[l] = A[l] * D[l] / kp."""
        A_prev = X
        W, b, bn, fused_relu, forward_fns = (self.W, self.b, self.bn, self._fused_relu,
                                             self._forward_fns)  # (read once: every batch)
        for l in range(self.L):
            Z = w.A[l]
            if l == 0 and self._dual is not None:
                np.copyto(Z, self._dual.P)  # Z[1] - b[1] = W[1] X, kept up to date
            else:
                np.matmul(W[l], A_prev, out=Z)
            if bn[l]:  # Z̃ = γ ⊙ Z_norm + β in place of Z + b
                self._batchnorm_forward(l, Z, w)
                forward_fns[l](Z, w.tmp[l], w.row)
            elif fused_relu[l]:
                _kernels.bias_relu(Z, b[l])  # the same two operations, one pass
            else:
                np.add(Z, b[l], out=Z)
                forward_fns[l](Z, w.tmp[l], w.row)
            if l < self.L - 1 and self.dropout[l]:
                kp, D, A = self.keep_probs[l], w.D[l], w.out[l]
                assert rng is not None and D is not None
                np.less(rand(rng, Z.shape), kp, out=D)  # D = rand(n, m) < keep_prob
                np.multiply(Z, D, out=A)
                np.divide(A, kp, out=A)
                A_prev = A
            else:
                A_prev = Z
        return A_prev

    def _batchnorm_forward(self, l: int, Z: np.ndarray, w: _Work) -> None:
        """Z = W[l] A[l-1] -> Z̃ = γ ⊙ Z_norm + β in place, with the operations of
        ``layers.batchnorm_forward`` in its order: μ = (1/m) Σ_i Z, σ² = (1/m) Σ_i (Z - μ)²,
        Z_norm = (Z - μ) · 1/√(σ² + ε) (kept for the backward pass, μ and σ² for the running
        statistics)."""
        mu, var, inv_std, Z_norm, tmp = w.mu[l], w.var[l], w.inv_std[l], w.Z_norm[l], w.tmp[l]
        assert mu is not None and var is not None and inv_std is not None and Z_norm is not None
        np.add.reduce(Z, axis=1, keepdims=True, out=mu)
        np.multiply(w.inv_m, mu, out=mu)
        np.subtract(Z, mu, out=Z_norm)  # Z - μ
        np.square(Z_norm, out=tmp)
        np.add.reduce(tmp, axis=1, keepdims=True, out=var)
        np.multiply(w.inv_m, var, out=var)
        np.add(var, self._scalar(BN_EPSILON), out=inv_std)
        np.sqrt(inv_std, out=inv_std)
        np.divide(1, inv_std, out=inv_std)
        np.multiply(Z_norm, inv_std, out=Z_norm)
        np.multiply(self.gamma[l], Z_norm, out=Z)
        np.add(Z, self.beta[l], out=Z)

    def _batchnorm_backward(self, l: int, dZ: np.ndarray, w: _Work) -> None:
        """dZ̃ -> dZ in place, dβ = Σ_i dZ̃ and dγ = Σ_i dZ̃ ⊙ Z_norm into dθ (times 1/m in the
        update, as db): ``layers.batchnorm_backward``'s operations in its order,
        dZ = (γ · 1/√(σ² + ε) / m) ⊙ (m dZ̃ - dβ - Z_norm ⊙ dγ)."""
        Z_norm, inv_std, col, tmp = w.Z_norm[l], w.inv_std[l], w.col[l], w.tmp[l]
        dgamma, dbeta = self.dgamma[l], self.dbeta[l]
        assert Z_norm is not None and inv_std is not None and col is not None
        np.add.reduce(dZ, axis=1, keepdims=True, out=dbeta)
        np.multiply(dZ, Z_norm, out=tmp)
        np.add.reduce(tmp, axis=1, keepdims=True, out=dgamma)
        np.multiply(self.gamma[l], inv_std, out=col)
        np.divide(col, w.m, out=col)
        np.multiply(w.m, dZ, out=dZ)
        np.subtract(dZ, dbeta, out=dZ)
        np.multiply(Z_norm, dgamma, out=tmp)
        np.subtract(dZ, tmp, out=dZ)
        np.multiply(col, dZ, out=dZ)

    def _update_running_stats(self, w: _Work) -> None:
        """After an update: μ_run = β_bn μ_run + (1 - β_bn) μ, σ²_run alike, with the batch's
        μ, σ² (``network.update_running_stats``'s operations)."""
        b, one_minus_b = self._scalar(self.bn_momentum), self._scalar(1 - self.bn_momentum)
        for l in range(self.L - 1):
            if not self.bn[l]:
                continue
            col = w.col[l]
            assert col is not None
            for name, stat in (("mean", w.mu[l]), ("var", w.var[l])):
                assert stat is not None
                running = self._running[f"running_{name}{l + 1}"]
                np.multiply(b, running, out=running)
                np.multiply(one_minus_b, stat, out=col)
                np.add(running, col, out=running)

    def _backward(self, X: np.ndarray, Y: np.ndarray, w: _Work) -> None:
        """dZ[L] = A[L] - Y (fused) or dA[L] * g'(Z[L]); then for l = L..1:
        dW[l] = dZ[l] A[l-1]^T,  db[l] = Σ_i dZ[l]  (both times 1/m, in the update),
        dA[l-1] = W[l]^T dZ[l] (· D[l-1] / kp),  dZ[l-1] = dA[l-1] * g'(Z[l-1]); no dA[0]."""
        L, AL, dZ = self.L, w.A[-1], w.dZL
        if self.fused:
            np.subtract(AL, Y, out=dZ)
        else:
            dZ[...] = get_loss(self.loss).gradient(AL, Y)
            self._backward_fns[-1](dZ, AL, w.tmp[-1], w.row)
        if self._w_tilde is not None:  # sample weights: dZ[L](i) *= w̃_i
            np.multiply(dZ, self._w_tilde, out=dZ)
        db_done = False  # db[l] summed with relu's derivative (relu_backward_sum)
        W, dW, db, bn, fused_relu = self.W, self.dW, self.db, self.bn, self._fused_relu
        for l in range(L - 1, -1, -1):
            A_prev = X if l == 0 else w.out[l - 1]
            if bn[l]:  # dZ holds dZ̃[l]: dγ, dβ, then dZ[l] through μ and σ²
                self._batchnorm_backward(l, dZ, w)
                db_done = True  # (no b[l])
            if l == 0 and self._dual is not None:
                self._dual.dZ1 = dZ  # dW[1] = dZ[1] X^T is never formed (see _DualFirstLayer)
            else:
                np.matmul(dZ, A_prev.T, out=dW[l])
            if not db_done:
                np.add.reduce(dZ, axis=1, keepdims=True, out=db[l])
            if l == 0:
                break
            dA = w.dA[l - 1]
            np.matmul(W[l].T, dZ, out=dA)
            if self.dropout[l - 1]:
                D = w.D[l - 1]
                assert D is not None
                np.multiply(dA, D, out=dA)
                np.divide(dA, self.keep_probs[l - 1], out=dA)
            db_done = fused_relu[l - 1] and self._rounded_sums
            if db_done:  # and db[l-1] = Σ dZ[l-1], summed in another order
                _rounded.relu_backward_sum(dA, w.A[l - 1], db[l - 1])
            elif fused_relu[l - 1]:
                _kernels.relu_backward(dA, w.A[l - 1])  # the same two operations, one pass
            else:
                self._backward_fns[l - 1](dA, w.A[l - 1], w.tmp[l - 1], w.row)
            dZ = dA

    # -- the optimizers, block by block over the flat buffers ----------------------------------

    def _make_blocks(self) -> list[tuple]:
        """Per block [i, j): views of θ, dθ, v, s, two scratch arrays, and the block's part of
        the weights (for the L2 term)."""
        chunk = max(1, CHUNK_BYTES // self.dtype.itemsize)
        scratch = [np.empty(min(chunk, self.size), self.dtype) for _ in range(2)]
        blocks = []
        for i in range(0, self.size, chunk):
            j = min(i + chunk, self.size)
            k = min(j, self.n_weights)

            def part(buffer, i=i, j=j):
                return None if buffer is None else buffer[i:j]

            weights = (self.theta[i:k], self.grad[i:k], scratch[0][: k - i]) if k > i else None
            blocks.append(
                (
                    self.theta[i:j], self.grad[i:j], part(self.v), part(self.s),
                    scratch[0][: j - i], scratch[1][: j - i], weights,
                )
            )
        return blocks

    def _finish_gradient(self, g: np.ndarray, weights: tuple | None, w: _Work) -> None:
        """dθ = (1/m) dθ;  dW += (λ/m) W  (the textbook's ``dW + (λ W) / m``);
        dW += (λ1/m) sign(W)  (the textbook's ``dW + (λ1 sign(W)) / m``)."""
        np.multiply(g, w.inv_m, out=g)
        if self.lambd and weights is not None:
            W, dW, t = weights
            np.multiply(W, self.lambd, out=t)
            np.divide(t, w.m, out=t)
            np.add(dW, t, out=dW)
        if self.l1 and weights is not None:
            W, dW, t = weights
            np.sign(W, out=t)
            np.multiply(t, self.l1, out=t)
            np.divide(t, w.m, out=t)
            np.add(dW, t, out=dW)

    def _update_compiled(self, lr: float, w: _Work) -> None:
        """The update of ``_update_<optimizer>`` in one compiled loop (``_kernels.update``).

        Adam, when results equal to rounding are allowed (``compiled``): its bias corrections
        folded into α and ε, α (v/c1) / (sqrt(s/c2) + ε) = a v / (sqrt(s) + e) with
        a = α sqrt(c2)/c1 and e = ε sqrt(c2)."""
        h, t, hp = self.hyper, self.t, self._hp
        b1, b2 = h.get("beta1", h.get("beta", 0.0)), h.get("beta2", 0.0)
        c1, c2, eps = 1 - b1**t, 1 - b2**t, h.get("epsilon", 0.0)
        kernel: Any = self._update_kernel
        if self._rounded_adam:
            lr, eps = lr * math.sqrt(c2) / c1, eps * math.sqrt(c2)
        hp[:] = (w.inv_m, self.lambd, w.m, lr, b1, 1 - b1, b2, 1 - b2, c1, c2, eps, self.l1)
        _kernels.apply_update(kernel, self._update_parts, hp, bool(self.lambd), bool(self.l1))

    @functools.cached_property
    def _update_kernel(self) -> Callable:
        """The compiled update: the optimizer's exact one, or Adam's rounded form."""
        if self._rounded_adam:
            return _rounded.adam_rounded
        return _kernels.UPDATES[self.optimizer.name]

    @functools.cached_property
    def _update_parts(self) -> _kernels.Parts:
        """θ, dθ, v, s sliced for the compiled update, once (``_kernels.update_parts``)."""
        return _kernels.update_parts(self.theta, self.grad, self.v, self.s, self.n_weights)

    def _update_gd(self, lr: float, w: _Work) -> None:
        """θ -= α g."""
        alpha = self._scalar(lr)
        for theta, g, _, _, t1, _, weights in self._blocks:
            self._finish_gradient(g, weights, w)
            np.multiply(g, alpha, out=t1)
            np.subtract(theta, t1, out=theta)

    def _update_momentum(self, lr: float, w: _Work) -> None:
        """v = β v + (1-β) g;  θ -= α v."""
        beta = self.hyper["beta"]
        alpha, b, one_minus_b = self._scalar(lr), self._scalar(beta), self._scalar(1 - beta)
        for theta, g, v, _, t1, _, weights in self._blocks:
            self._finish_gradient(g, weights, w)
            np.multiply(v, b, out=v)
            np.multiply(g, one_minus_b, out=t1)
            np.add(v, t1, out=v)
            np.multiply(v, alpha, out=t1)
            np.subtract(theta, t1, out=theta)

    def _update_rmsprop(self, lr: float, w: _Work) -> None:
        """s = β2 s + (1-β2) g²;  θ -= α g / (sqrt(s) + ε)."""
        beta2 = self.hyper["beta2"]
        alpha, b2, one_minus_b2 = self._scalar(lr), self._scalar(beta2), self._scalar(1 - beta2)
        eps = self._scalar(self.hyper["epsilon"])
        for theta, g, _, s, t1, t2, weights in self._blocks:
            self._finish_gradient(g, weights, w)
            np.multiply(s, b2, out=s)
            np.square(g, out=t1)
            np.multiply(t1, one_minus_b2, out=t1)
            np.add(s, t1, out=s)
            np.sqrt(s, out=t2)
            np.add(t2, eps, out=t2)
            np.multiply(g, alpha, out=t1)
            np.divide(t1, t2, out=t1)
            np.subtract(theta, t1, out=theta)

    def _update_adam(self, lr: float, w: _Work) -> None:
        """v = β1 v + (1-β1) g,  s = β2 s + (1-β2) g²,  v̂ = v/(1-β1^t),  ŝ = s/(1-β2^t);
        θ -= α v̂ / (sqrt(ŝ) + ε)."""
        h, t = self.hyper, self.t
        b1, b2 = self._scalar(h["beta1"]), self._scalar(h["beta2"])
        one_minus_b1, one_minus_b2 = self._scalar(1 - h["beta1"]), self._scalar(1 - h["beta2"])
        c1 = np.array(1 - h["beta1"] ** t, self.dtype)
        c2 = np.array(1 - h["beta2"] ** t, self.dtype)
        alpha, eps = self._scalar(lr), self._scalar(h["epsilon"])
        for theta, g, v, s, t1, t2, weights in self._blocks:
            self._finish_gradient(g, weights, w)
            np.multiply(v, b1, out=v)
            np.multiply(g, one_minus_b1, out=t1)
            np.add(v, t1, out=v)  # v = β1 v + (1-β1) g
            np.multiply(s, b2, out=s)
            np.square(g, out=t1)
            np.multiply(t1, one_minus_b2, out=t1)
            np.add(s, t1, out=s)  # s = β2 s + (1-β2) g²
            np.divide(s, c2, out=t2)  # ŝ
            np.sqrt(t2, out=t2)
            np.add(t2, eps, out=t2)  # sqrt(ŝ) + ε
            np.divide(v, c1, out=t1)  # v̂
            np.multiply(t1, alpha, out=t1)
            np.divide(t1, t2, out=t1)
            np.subtract(theta, t1, out=theta)  # θ -= α v̂ / (sqrt(ŝ) + ε)




def _step_rngs(dropout_rng: Callable[[int], Rng] | None, rng: Rng | None,
               first_step: int) -> Rng | Callable[[int], RandomLike] | None:
    """The masks' generators for ``run_batches``: the run's one generator, or batch k ->
    ``dropout_rng`` of its update's number."""
    if dropout_rng is None:
        return rng
    if getattr(dropout_rng, "constant", False):  # the same state at every step (_masks)
        return dropout_rng
    return lambda k: dropout_rng(first_step + k)
