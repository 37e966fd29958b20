"""Sample weights: a weight w_i ≥ 0 per example, as scikit-learn's ``sample_weight``.

With weights the cost of a batch is the weighted mean of the examples' losses, and the
regularization terms are divided by the weights' sum s = Σ_i w_i instead of m (as
scikit-learn's MLP does):

    J = (1/s) Σ_i w_i L(a(i), y(i)) + (λ/2s) Σ_l ||W[l]||²_F,

so integer weights give the cost (and gradients) of the batch with each example repeated w_i
times, and a zero weight drops its example. In the backward pass only two things change:
the output error is scaled per example, ``dZ[L](i) ← w̃_i dZ[L](i)`` with the normalized
weights ``w̃ = (m/s) w`` (mean 1 over the batch), and λ becomes ``λ̃ = (m/s) λ``; the rest of
the recursion (``dW = (1/m) dZ A^T + (λ̃/m) W``, …) is the unweighted one.

A batch whose weights are all 0 has no data term (its cost is the penalty alone, with m for s).

>>> import numpy as np
>>> from nnlab.losses import get_loss
>>> AL = np.array([[0.9, 0.2, 0.6]]); Y = np.array([[1.0, 0.0, 1.0]])
>>> loss = get_loss("binary_crossentropy")
>>> J, s = weighted_cost(loss, AL, Y, np.array([2.0, 1.0, 0.0]))
>>> bool(np.isclose(J, loss.cost(AL[:, [0, 0, 1]], Y[:, [0, 0, 1]]))), s
(True, 3.0)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .losses import Loss


def check_sample_weight(sample_weight: Any, m: int, dtype: Any = np.float64,
                        name: str = "sample_weight") -> np.ndarray:
    """``sample_weight`` as a ``(m,)`` array of ``dtype``: one finite weight ≥ 0 per example,
    not all 0. A scalar gives every example that weight."""
    w = np.asarray(sample_weight)
    if w.dtype == object or not (np.issubdtype(w.dtype, np.number) or w.dtype == np.bool_):
        raise ValueError(f"{name} must hold numbers, not {w.dtype}")
    if w.ndim == 0:
        w = np.full(m, w, dtype)
    elif w.ndim == 2 and 1 in w.shape:
        w = w.reshape(-1)
    if w.ndim != 1 or w.shape[0] != m:
        raise ValueError(f"{name} has shape {w.shape}; expected ({m},), one weight per example")
    w = w.astype(dtype, copy=True)
    if not np.all(np.isfinite(w)):
        raise ValueError(f"{name} holds NaN or infinite values")
    if np.any(w < 0):
        raise ValueError(f"{name} holds negative values: every weight must be >= 0")
    if m and not np.any(w > 0):
        raise ValueError(f"{name}: every weight is zero, so there is nothing to fit")
    return w


def weight_sum(sample_weight: np.ndarray | None, m: int) -> float:
    """s = Σ_i w_i (m without weights, and m for a batch whose weights are all 0)."""
    if sample_weight is None:
        return float(m)
    s = float(np.sum(sample_weight))
    return s if s > 0 else float(m)


def normalized(sample_weight: np.ndarray, m: int) -> tuple[np.ndarray, float]:
    """``(w̃, m/s)``: the weights scaled to mean 1 over the batch, ``(1, m)`` for broadcasting
    over dZ[L]'s columns, and the factor m/s that scales λ (and λ1)."""
    scale = m / weight_sum(sample_weight, m)
    return (sample_weight * scale).reshape(1, -1), scale


def weighted_cost(loss: Loss, AL: np.ndarray, Y: np.ndarray,
                  sample_weight: np.ndarray) -> tuple[float, float]:
    """``(J, s)``: J = (1/s) Σ_i w_i Σ_k L[k, i] (no penalty), and s = Σ_i w_i."""
    if loss.elements is None:
        raise ValueError("this loss has no per-example form, so it cannot take sample weights")
    m = Y.shape[1]
    per_example = np.sum(loss.elements(AL, Y), axis=0)
    s = float(np.sum(sample_weight))
    if s <= 0:
        return 0.0, float(m)
    return float(np.dot(per_example, sample_weight) / s), s


def class_weights(class_weight: Any, labels: np.ndarray, classes: np.ndarray,
                  sample_weight: np.ndarray | None = None) -> np.ndarray:
    """Per-example weights from ``class_weight``: a dict ``{class: weight}`` (classes not named
    weigh 1) or ``"balanced"`` (``m / (K · count(class))``, as scikit-learn's
    ``compute_class_weight``; with ``sample_weight`` the counts and m are sums of the weights);
    ``labels`` ``(m,)`` are the examples' classes among ``classes``.

    >>> class_weights("balanced", np.array([0, 0, 0, 1]), np.array([0, 1])).tolist()
    [0.6666666666666666, 0.6666666666666666, 0.6666666666666666, 2.0]
    """
    classes = np.asarray(classes)
    index = {c.item() if hasattr(c, "item") else c: k for k, c in enumerate(classes)}
    if isinstance(class_weight, str):
        if class_weight != "balanced":
            raise ValueError(f"class_weight={class_weight!r}: expected a dict or 'balanced'")
        codes = np.searchsorted(classes, labels)
        counts = np.bincount(codes, weights=sample_weight, minlength=classes.size)
        total = labels.size if sample_weight is None else float(np.sum(sample_weight))
        per_class = np.where(counts > 0,
                             total / (classes.size * np.where(counts > 0, counts, 1.0)), 0.0)
    elif isinstance(class_weight, dict):
        per_class = np.ones(classes.size)
        for c, weight in class_weight.items():
            if c not in index:
                raise ValueError(f"class_weight names the class {c!r}, which is not among "
                                 f"the classes {classes.tolist()}")
            if not (np.isfinite(weight) and weight >= 0):
                raise ValueError(f"class_weight[{c!r}] = {weight!r}: expected a weight >= 0")
            per_class[index[c]] = float(weight)
        codes = np.searchsorted(classes, labels)
    else:
        raise ValueError(f"class_weight={class_weight!r}: expected a dict or 'balanced'")
    return per_class[codes]


__all__ = ["check_sample_weight", "class_weights", "normalized", "weight_sum",
           "weighted_cost"]
