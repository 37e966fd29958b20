"""The one decision: which stepper trains a network, and why.

``explain_path`` is the only place that chooses between the steppers: every way in (``train``,
``Model.fit`` and the estimators, the playground, the sweeps, the experiments, the command line)
asks it, and the answer names the path and the reason:

- ``"textbook"``: ``nnlab.training.TextbookStepper`` (the course's functions, one call each);
- ``"numpy in place"``: ``FastTrainer`` on flat preallocated buffers, the same operations in
  the same order (bit for bit the textbook; with Numba, its update and activation passes run
  as exact compiled loops); batch-normalized networks always run here (the compiled
  whole-epoch kernel has no batch norm);
- ``"numpy in place, W[1] in the span of the data"``: the same, with full-batch descent on
  inputs wider than twice the examples carrying W[1] as W[1]₀ - C X^T (equal to rounding);
- ``"compiled whole-epoch"``: ``FastTrainer`` with every batch of an epoch (or many full-batch
  epochs) in one compiled call (small networks, Numba; equal to rounding).

**The one switch** is ``fast``: True (the fastest of these that applies), ``"exact"`` (only the
paths that give the textbook's numbers bit for bit) or False (the textbook). The environment can
override it for a whole process, as a documented switch for tests and comparisons:
``NNLAB_EXACT=1`` turns every ``fast=True`` into ``"exact"``; ``NNLAB_NUMBA=0`` runs the fast
path on NumPy alone, as a plain install without Numba does.

>>> import numpy as np
>>> explain_path(optimizer="adam", dtype=np.float64, activations=["relu", "sigmoid"],
...              dims=[2, 4, 1], fast=False).name
'textbook'
>>> path = explain_path(optimizer="sgd", dtype=np.float64, activations=["relu", "sigmoid"],
...                     dims=[2, 4, 1])
>>> path.name, path.reason
('textbook', "the optimizer 'sgd' has no update on the fast path")
>>> explain_path(optimizer="adam", dtype=np.float64, activations=["relu", "identity"],
...              dims=[2, 4, 1], loss="huber").reason
"the fast path has no loss 'huber'"
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

from ..losses import get_loss
from ..network import resolve_loss
from ..optimizers import Optimizer, registered_spec
from . import kernels, rounded_kernels

#: The dtypes of the fast path.
FAST_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
#: Networks with at most this many weights (Σ n[l] n[l-1]) train whole epochs compiled when
#: Numba is there; larger ones spend their time in the matrix products, which BLAS does best.
COMPILED_MAX_UNITS = 8192
#: The most examples for which full-batch descent on wide inputs carries W[1] in the span of the
#: data (``_DualFirstLayer``: an m x m Gram matrix).
DUAL_MAX_M = 4096
#: The activations and losses the fast path computes in place (any other loss, such as
#: ``"mean_absolute_error"`` or ``"huber"``, trains on the textbook stepper).
FAST_ACTIVATIONS = ("relu", "sigmoid", "tanh", "leaky_relu", "softmax", "identity")
FAST_LOSSES = ("binary_crossentropy", "categorical_crossentropy", "mean_squared_error")

TEXTBOOK = "textbook"
IN_PLACE = "numpy in place"
DUAL = "numpy in place, W[1] in the span of the data"
COMPILED = "compiled whole-epoch"


class Path(NamedTuple):
    """The chosen stepper (``name``: one of the four above) and the reason in words."""

    name: str
    reason: str

    @property
    def fast(self) -> bool:
        """Whether ``FastTrainer`` runs it."""
        return self.name != TEXTBOOK


def exact_only() -> bool:
    """True when ``NNLAB_EXACT`` is set (to anything but ``0``): every ``fast=True`` then acts
    as ``fast="exact"``."""
    return os.environ.get("NNLAB_EXACT", "0") not in ("", "0")


def check_fast(fast: Any) -> bool | str:
    """``fast`` must be True, False or "exact"."""
    if isinstance(fast, str) and fast == "exact":
        return fast
    if fast is True or fast is False:
        return fast
    raise ValueError(f"fast must be True, False or 'exact', not {fast!r}")


def fast_optimizer(optimizer: str | Optimizer) -> bool:
    """Whether the fast path has this optimizer's update: a registry optimizer (by name, or
    built by its registry entry) whose entry says so. A hand-made ``Optimizer`` never is."""
    if isinstance(optimizer, str):
        from ..optimizers import OPTIMIZERS

        spec = OPTIMIZERS.get(optimizer)
    else:
        spec = registered_spec(optimizer)
    return spec is not None and bool(spec.fast)


def compiled_applies(dims: Sequence[int], activations: Sequence[str], loss: str,
                     fused: bool) -> bool:
    """Whether the whole-epoch kernel does this network: dZ[L] = A[L] - Y (``fused`` and the
    loss's link is the output activation), no hidden softmax, and at most
    ``COMPILED_MAX_UNITS`` weights."""
    L = len(dims) - 1
    return (
        fused
        and get_loss(loss).link == activations[-1]
        and loss in rounded_kernels.LOSS_CODES
        and all(a in rounded_kernels.ACTIVATION_CODES for a in activations)
        and "softmax" not in activations[:-1]
        and sum(dims[l] * dims[l + 1] for l in range(L)) <= COMPILED_MAX_UNITS
    )


def whole_epochs(dims: Sequence[int], activations: Sequence[str], loss: str, fused: bool,
                 fast: bool | str = True) -> bool:
    """Whether ``FastTrainer`` trains whole epochs in one compiled call: ``fast=True`` (and
    no ``NNLAB_EXACT``), Numba enabled, and a network ``compiled_applies`` to."""
    return (fast is True and not exact_only() and kernels.enabled()
            and compiled_applies(dims, activations, loss, fused))


def dual_applies(optimizer_name: str, lambd: float, n_x: int, m: int, full_batch: bool,
                 l1: float = 0.0) -> bool:
    """Whether W[1] may be carried in the span of the examples: plain gradient descent, no L2
    and no L1, the full batch, at least twice as many features as examples, and
    m ≤ ``DUAL_MAX_M``."""
    return (optimizer_name == "gd" and not lambd and not l1 and full_batch and n_x >= 2 * m
            and m <= DUAL_MAX_M)


def explain_path(
    *,
    optimizer: str | Optimizer,
    dtype: Any,
    activations: Sequence[str],
    dims: Sequence[int],
    loss: str | None = None,
    fused: bool = True,
    lambd: float = 0.0,
    params: Mapping[str, np.ndarray] | None = None,
    m: int | None = None,
    batch_size: int | None = None,
    watched: bool = True,
    fast: bool | str = True,
    l1: float = 0.0,
    weighted: bool = False,
    sparse: bool = False,
) -> Path:
    """Choose the stepper for these settings and say why (see the module docstring).

    Args:
        optimizer: a name or an ``Optimizer``.  dtype: the data's dtype.
        activations, dims: g[1..L] and ``[n_x, n_1, ..., n_L]``.  loss, fused, lambd, l1: as
            for ``train``.  params: starting parameters (only W1, b1, ..., WL, bL run fast,
            and batch norm's γ, β, running statistics: on the in-place steps, not compiled).
        m, batch_size: the number of examples and the batch size (None: the full batch), when
            known: W[1] in the span of the data needs the full batch of a fixed data set.
        watched: whether anything looks at the weights between epochs (callbacks).
        weighted: whether the examples carry sample weights (the in-place steps take them;
            the compiled whole epochs and the dual first layer do not).
        sparse: whether X is a SciPy sparse matrix (the textbook steps multiply it as it is).
        fast: the switch: True, "exact" or False.
    """
    fast = check_fast(fast)
    if fast is True and exact_only():
        fast = "exact"
    if fast is False:
        return Path(TEXTBOOK, "fast=False")
    if sparse:
        return Path(TEXTBOOK, "a sparse X: the textbook steps multiply it in the first layer")
    name = optimizer if isinstance(optimizer, str) else optimizer.name
    if not fast_optimizer(optimizer):
        return Path(TEXTBOOK, f"the optimizer {name!r} has no update on the fast path")
    dt = np.dtype(dtype)
    if np.issubdtype(dt, np.integer) or dt == np.bool_:
        dt = np.dtype(np.float64)  # train makes them float64
    if dt not in FAST_DTYPES:
        return Path(TEXTBOOK, f"the fast path runs float32 or float64, not {dt}")
    bn: list[int] = []
    if params is not None:
        L = len(dims) - 1
        bn = [l for l in range(1, L) if f"gamma{l}" in params]
        expected = {f"W{l}" for l in range(1, L + 1)} | {f"b{l}" for l in range(1, L + 1)
                                                         if l not in bn}
        expected |= {f"{p}{l}" for l in bn
                     for p in ("gamma", "beta", "running_mean", "running_var")}
        if set(params) != expected:
            return Path(TEXTBOOK, "the parameters hold more than W1, b1, ..., WL, bL "
                                  "(and batch norm's γ, β and running statistics)")
    unknown = [a for a in activations if a not in FAST_ACTIVATIONS]
    if unknown:
        return Path(TEXTBOOK, f"the fast path has no activation {unknown[0]!r}")
    if loss is not None and loss not in FAST_LOSSES:
        return Path(TEXTBOOK, f"the fast path has no loss {loss!r}")
    loss_name = resolve_loss(activations[-1], loss)
    exact = " (bit for bit the textbook)"
    if fast == "exact":
        return Path(IN_PLACE, "fast='exact'" + exact)
    if weighted:
        return Path(IN_PLACE, "sample weights: the in-place steps" + exact)
    if bn:
        return Path(IN_PLACE, f"batch-normalized layers ({', '.join(map(str, bn))}): the "
                              "in-place steps (the compiled whole-epoch kernel has no batch "
                              "norm), equal to the textbook to rounding")
    if whole_epochs(dims, activations, loss_name, fused):
        weights = sum(dims[l] * dims[l + 1] for l in range(len(dims) - 1))
        return Path(COMPILED, f"a small network ({weights} weights ≤ {COMPILED_MAX_UNITS}) "
                              "with Numba")
    full_batch = m is not None and (batch_size is None or batch_size >= m)
    if (m is not None and not watched
            and dual_applies(name, lambd, dims[0], m, full_batch, l1)):
        return Path(DUAL, f"full-batch descent with n_x = {dims[0]} ≥ 2 m = {2 * m}")
    why = "Numba's exact update passes" if kernels.enabled() else "NumPy alone"
    return Path(IN_PLACE, f"a fast optimizer on {dt}, {why}" + exact)
