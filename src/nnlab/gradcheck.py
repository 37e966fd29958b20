"""Gradient checking: backprop's gradient against two-sided finite differences of the cost.

θ is every parameter flattened into one vector (W1, …, WL, b1, …, bL, then batch norm's γ and β,
each in C order: nnlab's one layout of θ, ``network.parameter_keys``; the fast path's flat buffer is
laid out the same way). Batch norm's running statistics are not trained, so not in θ; the cost is
that of training mode (the batch's μ and σ²), so the check covers dγ, dβ and dZ through μ, σ².
For each component i:  g̃_i = (J(θ + ε e_i) - J(θ - ε e_i)) / (2ε),  and the check reports

    difference = ||g - g̃||₂ / (||g||₂ + ||g̃||₂)

which is about 1e-7 or smaller when backprop is right. The same ratio per parameter array points at
the layer whose gradient is wrong. Dropout is refused: a random mask makes J a different function at
every evaluation, so the finite differences would not measure the gradient.

Kinks. relu and leaky_relu (``activations.KINKED``) have no derivative at Z = 0. When the steps
θ ± ε e_i put some pre-activation Z[l] (of one unit on one example) on the other side of 0 than it
is at θ, g̃_i averages the two slopes and can disagree with a correct backprop by a lot (a unit with
Z = 0 exactly, say every first-layer relu dead on an example so that Z2 = b2 = 0, gives half the
slope). Each such entry is marked: the check compares the signs of every kinked Z at θ, θ + ε e_i
and θ - ε e_i (from the forward passes it runs anyway). The verdict leaves the marked entries out:
if they alone push the difference above the threshold, the check is *inconclusive at a kink*
(``result.verdict == "inconclusive"``, ``result.kinks`` names the layer, unit and example of each
crossing) instead of reporting a mistake; a difference that remains without them is a mistake.
When no entry crosses a kink, every number is what the plain check gives.

>>> import numpy as np
>>> from nnlab import initialize_parameters, gradient_check
>>> rng = np.random.RandomState(1)
>>> X, Y = rng.randn(4, 3), np.array([[1, 0, 1]])
>>> params = initialize_parameters([4, 5, 3, 1], init="xavier", random_state=1)
>>> result = gradient_check(params, X, Y, ["relu", "relu", "sigmoid"])
>>> result.passed, result.difference < 1e-7
(True, True)
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from .activations import KINKED
from .network import (
    check_activations,
    check_keep_probs,
    compute_cost,
    model_backward,
    model_forward,
    num_layers,
    parameter_keys,
    resolve_loss,
    running_keys,
)

Params = dict[str, np.ndarray]
#: The default threshold (the course's): a larger difference means a mistake in backprop.
THRESHOLD = 2e-7


def params_to_vector(params: Mapping[str, np.ndarray]) -> np.ndarray:
    """Flatten W1, ..., WL, b1, ..., bL (each in C order; ``network.parameter_keys``) into one
    vector of shape (N,)."""
    return np.concatenate([np.ravel(params[k]) for k in parameter_keys(params)])


def grads_to_vector(grads: Mapping[str, np.ndarray]) -> np.ndarray:
    """Flatten dW1, ..., dWL, db1, ..., dbL into one vector, in the order of
    ``params_to_vector``."""
    return params_to_vector({k[1:]: v for k, v in grads.items()})


def vector_to_params(theta: np.ndarray, like: Mapping[str, np.ndarray]) -> Params:
    """Inverse of ``params_to_vector``: cut θ into arrays shaped like those of ``like``. The
    arrays of ``like`` that are not in θ (batch norm's running statistics) come along as
    copies, after the trained ones."""
    keys = parameter_keys(like)
    sizes = [like[k].size for k in keys]
    if theta.ndim != 1 or theta.size != sum(sizes):
        raise ValueError(f"theta has shape {theta.shape}; expected ({sum(sizes)},)")
    out, start = {}, 0
    for k, n in zip(keys, sizes, strict=True):
        out[k] = theta[start : start + n].reshape(like[k].shape)
        start += n
    for k in running_keys(like):
        if k in like:
            out[k] = np.array(like[k], copy=True)
    return out


def _report_order(key: str) -> tuple[int, int]:
    """W1, b1, gamma1, beta1, W2, ...: a parameter's layer, then its kind."""
    name = key.rstrip("0123456789")
    return int(key[len(name):]), ("W", "b", "gamma", "beta").index(name)


def relative_difference(g: np.ndarray, g_approx: np.ndarray) -> float:
    """||g - g̃||₂ / (||g||₂ + ||g̃||₂), and 0 when both are zero."""
    numerator = np.linalg.norm(g - g_approx)
    denominator = np.linalg.norm(g) + np.linalg.norm(g_approx)
    return float(numerator / denominator) if denominator > 0 else 0.0


class Kink(NamedTuple):
    """A pre-activation ``Z[layer][unit, example]`` of a kinked activation (relu, leaky_relu) that
    some ±ε step of the check put on the other side of 0. ``layer`` counts from 1 as in Z1, Z2;
    ``unit`` (row of Z) and ``example`` (column of X) count from 0."""

    layer: int
    unit: int
    example: int


def _spans(values: Sequence[int], limit: int = 8) -> str:
    """0, 1, 2, 5 -> "0-2, 5"; more than ``limit`` runs end in "… (n in all)"."""
    runs: list[str] = []
    vals = sorted(set(values))
    i = 0
    while i < len(vals):
        j = i
        while j + 1 < len(vals) and vals[j + 1] == vals[j] + 1:
            j += 1
        runs.append(str(vals[i]) if i == j else f"{vals[i]}-{vals[j]}")
        i = j + 1
    text = ", ".join(runs[:limit])
    return text + (f", … ({len(vals)} in all)" if len(runs) > limit else "")


@dataclass(frozen=True)
class GradientCheckResult:
    """The outcome of a gradient check.

    Attributes:
        difference: the relative difference over all parameters.
        per_parameter: the same ratio for each of W1, b1, ..., WL, bL (with batch norm, the
            γ and β of layer l as ``gamma{l}``, ``beta{l}``: dgamma{l}, dbeta{l} checked).
        threshold: above it, the check fails.
        gradient, approx: the backprop and finite-difference vectors (N,).
        kink_mask: (N,) booleans, True for the entries whose ±ε steps crossed a kink (None: none
            was looked for).
        kinks: every ``Kink`` crossed, sorted.
        difference_off_kink, per_parameter_off_kink: the ratios over the entries that crossed no
            kink (equal to ``difference`` / ``per_parameter`` when none did).
        entries_at_kink: for each of W1, b1, ...: (entries that crossed a kink, entries).
    """

    difference: float
    per_parameter: dict[str, float]
    threshold: float
    gradient: np.ndarray = field(repr=False)
    approx: np.ndarray = field(repr=False)
    kink_mask: np.ndarray | None = field(default=None, repr=False)
    kinks: tuple[Kink, ...] = ()
    difference_off_kink: float | None = None
    per_parameter_off_kink: dict[str, float] | None = None
    entries_at_kink: dict[str, tuple[int, int]] | None = None

    @property
    def passed(self) -> bool:
        return self.difference <= self.threshold

    @property
    def inconclusive(self) -> bool:
        """Above the threshold only because of entries whose ±ε steps crossed a kink."""
        off = self.difference if self.difference_off_kink is None else self.difference_off_kink
        return not self.passed and bool(self.kinks) and off <= self.threshold

    @property
    def verdict(self) -> str:
        """``"passed"``, ``"inconclusive"`` (at a kink) or ``"wrong"`` (a mistake in backprop)."""
        if self.passed:
            return "passed"
        return "inconclusive" if self.inconclusive else "wrong"

    def _off_kink(self, k: str) -> float:
        off = self.per_parameter_off_kink
        return self.per_parameter[k] if off is None else off[k]

    @property
    def failing(self) -> list[str]:
        """The parameters whose own relative difference is above the threshold, even without the
        entries that crossed a kink."""
        return [k for k, d in self.per_parameter.items()
                if d > self.threshold and self._off_kink(k) > self.threshold]

    @property
    def at_kink(self) -> list[str]:
        """The parameters above the threshold only because of entries that crossed a kink."""
        return [k for k, d in self.per_parameter.items()
                if d > self.threshold and self._off_kink(k) <= self.threshold]

    def _kink_counts(self) -> str:
        """For the report: "b2 (4 of 4)" for each parameter with entries at a kink."""
        counts = self.entries_at_kink or {}
        return ", ".join(f"{k} ({n} of {size})" for k, (n, size) in counts.items() if n)

    def kink_summary(self) -> str:
        """The kinks crossed, one clause per layer: "Z2 units 0-3 on example 7"."""
        parts = []
        for layer in sorted({k.layer for k in self.kinks}):
            units = [k.unit for k in self.kinks if k.layer == layer]
            examples = [k.example for k in self.kinks if k.layer == layer]
            u, e = len(set(units)), len(set(examples))
            parts.append(f"Z{layer} unit{'s' if u > 1 else ''} {_spans(units)} on "
                         f"example{'s' if e > 1 else ''} {_spans(examples)}")
        return "; ".join(parts)

    def __float__(self) -> float:
        return self.difference

    def report(self) -> str:
        """A small table: each parameter's relative difference and verdict, then the total."""
        lines = [f"{'parameter':<10} {'relative difference':>20}  verdict"]
        at_kink = set(self.at_kink)
        for k, d in self.per_parameter.items():
            mark = "ok" if d <= self.threshold else "at a kink" if k in at_kink else "WRONG"
            lines.append(f"{k:<10} {d:>20.3e}  {mark}")
        verdict = {
            "passed": "passed",
            "inconclusive": "INCONCLUSIVE at a kink",
            "wrong": "FAILED: there is a mistake in backpropagation",
        }[self.verdict]
        lines.append(f"{'all':<10} {self.difference:>20.3e}  {verdict}")
        if self.inconclusive:
            lines.append(textwrap.fill(
                f"Entries at a kink: {self._kink_counts()}. Their ±ε steps move Z across 0 at "
                f"{self.kink_summary()} (counting from 0), where relu/leaky_relu has no "
                "derivative, so their finite differences do not measure the gradient. Every "
                f"other entry agrees (relative difference {self.difference_off_kink:.3e} <= "
                f"{self.threshold:g}): no mistake found. Check at other weights or examples "
                "to settle these.", width=100))
        return "\n".join(lines)


def gradient_check(
    params: Mapping[str, np.ndarray],
    X: np.ndarray,
    Y: np.ndarray,
    activations: Sequence[str],
    lambd: float = 0.0,
    epsilon: float = 1e-7,
    *,
    loss: str | None = None,
    keep_probs: float | Sequence[float] | None = None,
    grad_fn: Callable[[Params, np.ndarray, np.ndarray], Mapping[str, np.ndarray]] | None = None,
    threshold: float = THRESHOLD,
    l1: float = 0.0,
) -> GradientCheckResult:
    """Compare backprop's gradient with two-sided finite differences of J(θ).

    Everything is computed in float64. ``grad_fn(params, X, Y) -> grads`` replaces backprop
    (to check a hand-written or deliberately broken backward pass); by default it is
    ``model_forward`` then ``model_backward`` with the same loss, λ and ``l1`` (λ1: check it at
    weights with no zero entry, where |w| has its kink). ``keep_probs`` below 1 is refused.

    Entries whose ±ε steps move a relu/leaky_relu pre-activation across 0 are marked and left out
    of the verdict (see the module's "Kinks"): ``result.verdict`` is ``"passed"``,
    ``"inconclusive"`` (only such entries disagree; ``result.kinks`` names them) or ``"wrong"``.

    Returns a ``GradientCheckResult`` (``float(result)`` is the overall relative difference).

    Both first-layer relu units are off on example 0, so Z2 = b2 = 0 there exactly and the steps
    b2 ± ε land on both sides of relu's kink; backprop is right, and the check says so:

    >>> import numpy as np
    >>> X, Y = np.array([[1.0, -1.0]]), np.array([[1.0, 0.0]])
    >>> params = {"W1": np.array([[-1.0], [-2.0]]), "b1": np.zeros((2, 1)),
    ...           "W2": np.array([[1.0, 1.0]]), "b2": np.zeros((1, 1)),
    ...           "W3": np.array([[1.0]]), "b3": np.zeros((1, 1))}
    >>> result = gradient_check(params, X, Y, ["relu", "relu", "sigmoid"])
    >>> result.verdict, result.failing, result.at_kink, result.kinks
    ('inconclusive', [], ['b2'], (Kink(layer=2, unit=0, example=0),))
    """
    L = num_layers(params)
    if any(k < 1.0 for k in check_keep_probs(keep_probs, L)):
        raise ValueError(
            "gradient checking is refused with dropout on (keep_prob < 1): each forward pass would "
            "draw a new random mask, so J(θ+ε) and J(θ-ε) would be different functions and the "
            "finite differences would not measure the gradient. Check with keep_probs=None, then "
            "turn dropout back on."
        )
    if not epsilon > 0:
        raise ValueError(f"epsilon={epsilon} is out of range: expected epsilon > 0")
    loss_name = resolve_loss(activations[-1], loss)
    p64 = {k: np.asarray(v, dtype=np.float64) for k, v in params.items()}
    X64 = np.asarray(X, dtype=np.float64)
    Y64 = np.asarray(Y, dtype=np.float64)

    kinked = [l for l, a in enumerate(check_activations(activations, L), 1) if a in KINKED]

    def cost(p: Mapping[str, np.ndarray]) -> tuple[float, list[np.ndarray]]:
        """J(p), and the sign pattern (Z > 0) of each kinked layer's Z."""
        AL, caches = model_forward(X64, p, activations)
        signs = [caches[l - 1].Z > 0 for l in kinked]
        return float(compute_cost(AL, Y64, p, lambd, loss=loss_name, l1=l1)), signs

    grads: Mapping[str, np.ndarray]
    if grad_fn is None:
        AL, caches = model_forward(X64, p64, activations)
        grads = model_backward(AL, Y64, caches, lambd=lambd, loss=loss_name, l1=l1)
    else:
        grads = grad_fn(p64, X64, Y64)
    g = grads_to_vector(grads)

    theta = params_to_vector(p64)
    signs = cost(p64)[1] if kinked else []
    approx = np.empty_like(theta)
    kink_mask = np.zeros(theta.size, dtype=bool)
    crossed: set[Kink] = set()
    for i in range(theta.size):
        theta_plus = theta.copy()
        theta_plus[i] += epsilon
        theta_minus = theta.copy()
        theta_minus[i] -= epsilon
        J_plus, signs_plus = cost(vector_to_params(theta_plus, p64))
        J_minus, signs_minus = cost(vector_to_params(theta_minus, p64))
        approx[i] = (J_plus - J_minus) / (2 * epsilon)
        for l, at, plus, minus in zip(kinked, signs, signs_plus, signs_minus, strict=True):
            moved = (plus != at) | (minus != at)
            if moved.any():
                kink_mask[i] = True
                units, examples = np.nonzero(moved)
                crossed.update(Kink(l, int(u), int(e))
                               for u, e in zip(units, examples, strict=True))

    smooth = ~kink_mask
    per_parameter, per_parameter_off, entries_at_kink, start = {}, {}, {}, 0
    for k in parameter_keys(p64):
        n = p64[k].size
        part = slice(start, start + n)
        per_parameter[k] = relative_difference(g[part], approx[part])
        keep = smooth[part]
        per_parameter_off[k] = (per_parameter[k] if keep.all()
                                else relative_difference(g[part][keep], approx[part][keep]))
        entries_at_kink[k] = (int(n - np.count_nonzero(keep)), n)
        start += n
    # the report reads layer by layer: W1, b1, W2, b2, ... (gamma1 and beta1 after W1)
    by_layer = sorted(per_parameter, key=_report_order)
    per_parameter = {k: per_parameter[k] for k in by_layer}
    per_parameter_off = {k: per_parameter_off[k] for k in by_layer}
    entries_at_kink = {k: entries_at_kink[k] for k in by_layer}
    difference = relative_difference(g, approx)
    return GradientCheckResult(
        difference, per_parameter, threshold, g, approx,
        kink_mask=kink_mask, kinks=tuple(sorted(crossed)),
        difference_off_kink=(difference if smooth.all()
                             else relative_difference(g[smooth], approx[smooth])),
        per_parameter_off_kink=per_parameter_off, entries_at_kink=entries_at_kink,
    )
