"""l. Batch normalization (course 2, week 3), measured over 20 seeds.

A deep, narrow network on the moons (300 points, ``load_moons``): 2-10-10-10-10-10-1, relu in
the five hidden layers, a sigmoid output, He initialization, full-batch gradient descent for 200
iterations, the same initial W for both versions of each seed (``initialize_parameters(...,
random_state=seed)`` draws the same W with or without batch norm). The batch-normalized version
normalizes every hidden layer's Z over the batch, ``Z̃ = γ ⊙ (Z - μ) / sqrt(σ² + ε) + β``,
and has γ, β in place of b. Each claim is checked on every one of the seeds 0 .. 19:

- at α = 0.1, the batch-normalized network brings the cost to J ≤ 0.2 (and keeps it there) in
  fewer iterations than the plain one;
- at α = 3, where the plain network stalls (after a jump, J sits at log 2 ≈ 0.693, or near
  it: one output for every point), the batch-normalized one still trains;
- with the running averages of μ and σ² (β_bn = 0.9) that prediction uses, an example alone
  gets the same output as inside the batch; with the batch's own statistics it would not
  (one example alone has σ² = 0, z_norm = 0: every example would get the same output).

The runs are the four (α, batch norm) settings, each a loop over the 20 seeds.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ..datasets import load_moons
from ..engine import train
from ..initializers import initialize_parameters
from ..network import model_forward, predict_forward
from ..training import DivergenceError
from ._core import ExperimentRun, Figure, Row, Task, claim_row, settled_at_or_below

NAME = "batchnorm"
LETTER = "l"
TITLE = "Batch normalization"
HIDDEN = 5
LAYERS = [2] + [10] * HIDDEN + [1]
ACTIVATIONS = ["relu"] * HIDDEN + ["sigmoid"]
ITERATIONS = 200
SEEDS = tuple(range(20))
#: The examples (the moons' 300 points).
M = 300
#: The learning rates: the first one trains both networks, the second stalls the plain one.
ALPHA_SLOW, ALPHA_FAST = 0.1, 3.0
TARGET = 0.2
#: A run "stalls" when its last cost is still above this (log 2 ≈ 0.693 is a constant guess).
STALLED = 0.5
#: key → (label, α, batch norm)
SETTINGS = {
    f"{kind}:alpha={a:g}": (f"{'batch norm' if bn else 'plain'}, α = {a:g}", a, bn)
    for a in (ALPHA_SLOW, ALPHA_FAST) for kind, bn in (("plain", False), ("bn", True))
}
#: No course numbers: the course makes these points in words and figures; see ``rows``.
COURSE_NUMBERS: dict = {}


def load(data_dir: str | os.PathLike[str] | None = None) -> None:
    """The data are generated (nothing to read)."""


def _one_seed(X: np.ndarray, Y: np.ndarray, alpha: float, batch_norm: bool,
              seed: int) -> tuple[list[float], dict[str, np.ndarray] | None]:
    """The per-iteration costs of one seed and the trained parameters; no costs and None
    if the cost became infinite (not seen on these seeds: batch norm or not, a relu network's
    cost here stalls rather than blows up)."""
    params = initialize_parameters(LAYERS, "he", seed, batch_norm=batch_norm)
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            result = train(X, Y, params=params, activations=ACTIVATIONS, optimizer="gd",
                           learning_rate=alpha, num_epochs=ITERATIONS)
    except DivergenceError:
        return [], None
    return [float(c) for c in result.costs], result.params


def single_vs_batch(X: np.ndarray, params: dict[str, np.ndarray]) -> dict[str, float]:
    """How far each example's output alone is from its output in the whole batch X (n_x, m):
    with the running statistics (``predict_forward``, what prediction uses), and with the batch's
    own statistics (``model_forward(training=True)``, as in training). Returns the largest
    difference of each, and the spread (max - min) of the m outputs of examples alone in
    training mode."""
    batch = predict_forward(X, params, ACTIVATIONS)
    alone = np.hstack([predict_forward(X[:, i:i + 1], params, ACTIVATIONS)
                       for i in range(X.shape[1])])
    train_batch, _ = model_forward(X, params, ACTIVATIONS, training=True)
    train_alone = np.hstack([model_forward(X[:, i:i + 1], params, ACTIVATIONS, training=True)[0]
                             for i in range(X.shape[1])])
    return {"running_max_diff": float(np.max(np.abs(alone - batch))),
            "batch_stats_max_diff": float(np.max(np.abs(train_alone - train_batch))),
            "batch_stats_alone_spread": float(np.ptp(train_alone)),
            "output_spread": float(np.ptp(batch))}


def run(key: str) -> ExperimentRun:
    """The setting ``key`` of ``SETTINGS`` on every seed."""
    label, alpha, bn = SETTINGS[key]
    X, Y = load_moons(n_samples=M)
    per_seed: list[dict[str, Any]] = []
    curves: list[list[float]] = []
    kept = None
    for seed in SEEDS:
        costs, params = _one_seed(X, Y, alpha, bn, seed)
        curves.append(costs)
        entry: dict[str, Any] = {
            "seed": seed, "iterations_to_target": settled_at_or_below(costs, TARGET),
            "final_cost": costs[-1] if costs else None, "diverged": params is None}
        if bn and params is not None:
            entry.update(single_vs_batch(X, params))
        if seed == SEEDS[0]:
            kept = params
        per_seed.append(entry)
    finished = [c for c in curves if c]
    median = np.median(np.array(finished), axis=0) if finished else np.array([])
    return ExperimentRun(
        key, label,
        {"layer_dims": LAYERS, "activations": ACTIVATIONS, "init": "he", "batch_norm": bn,
         "bn_momentum": 0.9, "learning_rate": alpha, "iterations": ITERATIONS,
         "batch": "full", "seeds": [SEEDS[0], SEEDS[-1]]},
        costs=[(i, float(c)) for i, c in enumerate(median)],
        params=kept,
        extra={"seeds": per_seed, "curves": curves},
    )


def tasks(data_dir: str | None) -> list[Task]:
    # (the batch-normalized runs take the textbook stepper: about 2 ms an iteration here)
    return [Task(NAME, key, run, {"key": key}, weight=8.0 if SETTINGS[key][2] else 0.5)
            for key in SETTINGS]


def _key(bn: bool, alpha: float) -> str:
    return f"{'bn' if bn else 'plain'}:alpha={alpha:g}"


def _needed(entry: dict[str, Any]) -> float:
    n = entry["iterations_to_target"]
    return np.inf if n is None else n


def _final(entry: dict[str, Any]) -> float:
    return np.inf if entry["final_cost"] is None else entry["final_cost"]


def _counts(runs: dict[str, ExperimentRun]) -> dict[str, Any]:
    """The seed counts behind the claims."""
    def seeds(bn: bool, alpha: float) -> list[dict[str, Any]]:
        return runs[_key(bn, alpha)].extra["seeds"]

    slow_plain, slow_bn = seeds(False, ALPHA_SLOW), seeds(True, ALPHA_SLOW)
    fast_plain, fast_bn = seeds(False, ALPHA_FAST), seeds(True, ALPHA_FAST)
    bn_all = slow_bn + fast_bn
    return {
        "n": len(SEEDS),
        "faster": sum(_needed(b) < _needed(p) for p, b in zip(slow_plain, slow_bn, strict=True)),
        "slow_plain_reached": sum(e["iterations_to_target"] is not None for e in slow_plain),
        "slow_bn_iterations": [e["iterations_to_target"] for e in slow_bn],
        "fast_plain_stalled": sum(_final(e) > STALLED for e in fast_plain),
        "fast_plain_finals": [_final(e) for e in fast_plain],
        "fast_bn_trained": sum(e["iterations_to_target"] is not None for e in fast_bn),
        "fast_bn_iterations": [e["iterations_to_target"] for e in fast_bn],
        "fast_bn_lower": sum(_final(b) < _final(p)
                             for p, b in zip(fast_plain, fast_bn, strict=True)),
        "running_max_diff": max(e.get("running_max_diff", np.inf) for e in bn_all),
        "batch_stats_max_diff": min(e.get("batch_stats_max_diff", 0.0) for e in bn_all),
        "batch_stats_alone_spread": max(e.get("batch_stats_alone_spread", 0.0) for e in bn_all),
        "single_equal": sum(e.get("running_max_diff", np.inf) <= 1e-12 for e in bn_all),
        "bn_runs": len(bn_all), "m": M,
    }


def _median(values: list[int | None]) -> str:
    finite = [v for v in values if v is not None]
    return "—" if len(finite) < len(values) / 2 else f"{float(np.median(finite)):g}"


def rows(runs: dict[str, ExperimentRun]) -> list[Row]:
    exp = f"{LETTER} {NAME}"
    c = _counts(runs)
    n = c["n"]
    return [
        claim_row(
            exp, f"iterations to J ≤ {TARGET:g} at α = {ALPHA_SLOW:g}, seeds 0-{n - 1}",
            "batch norm speeds up learning",
            f"batch norm faster on {c['faster']}/{n} seeds (median "
            f"{_median(c['slow_bn_iterations'])}; plain reached it on "
            f"{c['slow_plain_reached']}/{n} in {ITERATIONS})",
            c["faster"] == n),
        claim_row(
            exp, f"α = {ALPHA_FAST:g}: plain stalls, batch norm trains",
            "batch norm tolerates a larger learning rate",
            f"plain ends above J = {STALLED:g} on {c['fast_plain_stalled']}/{n}; batch norm "
            f"reaches J ≤ {TARGET:g} on {c['fast_bn_trained']}/{n} and ends lower on "
            f"{c['fast_bn_lower']}/{n}",
            c["fast_bn_trained"] == n and c["fast_bn_lower"] == n
            and c["fast_plain_stalled"] >= n * 3 // 4),
        claim_row(
            exp, "one example alone vs in the batch (running μ, σ²)",
            "test time uses running averages of μ, σ²",
            f"max |Δ| {c['running_max_diff']:.1e} on {c['single_equal']}/{c['bn_runs']} "
            f"trained networks (batch statistics: ≥ {c['batch_stats_max_diff']:.2f})",
            c["single_equal"] == c["bn_runs"] and c["batch_stats_max_diff"] > 0.01),
    ]


def figures(runs: dict[str, ExperimentRun], data_dir: str | None, out_dir: Path) -> list[Figure]:
    from ..plotting import new_figure, save_figure

    fig, axes = new_figure(3, panel_size=(4.4, 3.6))
    for ax, alpha in zip(axes, (ALPHA_SLOW, ALPHA_FAST), strict=False):
        for bn, color in ((False, "C0"), (True, "C1")):
            run_ = runs[_key(bn, alpha)]
            curves = np.array([c for c in run_.extra["curves"] if c])
            if curves.size:
                low, high = np.min(curves, axis=0), np.max(curves, axis=0)
                ax.fill_between(np.arange(curves.shape[1]), low, high, color=color, alpha=0.2,
                                linewidth=0)
            it, cost = zip(*run_.costs, strict=True)
            ax.plot(it, cost, color=color, linewidth=1.8,
                    label=f"{'batch norm' if bn else 'plain'}: median, min-max")
        ax.axhline(TARGET, color="gray", linestyle=":", linewidth=1)
        ax.set_yscale("log")
        ax.set_xlabel("iteration")
        ax.set_ylabel("cost")
        ax.set_title(f"α = {alpha:g}, {len(SEEDS)} seeds")
        ax.legend(fontsize=8)
    c = _counts(runs)
    slow = runs[_key(False, ALPHA_SLOW)].extra["seeds"]
    fast = runs[_key(True, ALPHA_SLOW)].extra["seeds"]
    ax = axes[2]
    cap = ITERATIONS + 10
    ax.scatter([min(_needed(e), cap) for e in slow], [min(_needed(e), cap) for e in fast],
               s=18, color="C1")
    ax.plot([0, cap], [0, cap], color="gray", linewidth=1)
    ax.set_xlim(0, cap + 5)
    ax.set_ylim(0, cap + 5)
    ax.set_xlabel(f"plain (>{ITERATIONS}: not reached)")
    ax.set_ylabel("batch norm")
    ax.set_title(f"iterations to J ≤ {TARGET:g}, α = {ALPHA_SLOW:g} "
                 f"({c['faster']}/{c['n']} below the line)", fontsize=9)
    save_figure(fig, out_dir / "l_batchnorm.png",
                "a 5-hidden-layer relu network on the moons, with and without batch norm")
    return [Figure("l_batchnorm.png",
                   "The cost per iteration at each learning rate (the median over the seeds, "
                   "and the band from their lowest to their highest cost), and the iterations "
                   "each seed needs to reach the dotted cost and stay there.")]


def notebook(runs: dict[str, ExperimentRun], figs: list[Figure]) -> str:
    c = _counts(runs)
    n = c["n"]
    finals = c["fast_plain_finals"]
    lowest = min(finals)
    return f"""\
- **Faster** (α = {ALPHA_SLOW:g}): the batch-normalized network brings J to {TARGET:g} and keeps
  it there after a median of {_median(c["slow_bn_iterations"])} iterations, faster on
  {c["faster"]}/{n} seeds; the plain one gets there on {c["slow_plain_reached"]}/{n} seeds within
  {ITERATIONS} iterations. Normalizing each layer's Z keeps every layer's input at mean 0 and
  variance 1 whatever the layers before it did, so no layer's units start saturated or dead and
  one α suits them all (the course's explanation; what is measured here is the speed).
- **A larger α** (α = {ALPHA_FAST:g}): the plain network's cost jumps in the first steps, then
  sits at or near log 2 = 0.693 (one output for every point) and ends above {STALLED:g} on
  {c["fast_plain_stalled"]}/{n} seeds (the lowest final cost of the
  plain runs is {lowest:.3f}: the claim holds on most seeds, not all); the batch-normalized one
  reaches J ≤ {TARGET:g} on {c["fast_bn_trained"]}/{n} (median {_median(c["fast_bn_iterations"])}
  iterations) and ends lower on {c["fast_bn_lower"]}/{n}. A batch-normalized layer's output does
  not change when its W is scaled, so a step that would blow W up only rescales it.
- **Test time**: `predict` normalizes with the running averages of μ and σ² (β_bn = 0.9 over
  the training batches), so one example alone gets its output in the batch to
  {c["running_max_diff"]:.1e} on all {c["bn_runs"]} trained networks ({c["single_equal"]}
  within 1e-12). With the batch's own statistics, as in training, an example alone has σ² = 0
  and z_norm = 0: all {c["m"]} examples alone get one same output (spread
  {c["batch_stats_alone_spread"]:.1e}), off by at least {c["batch_stats_max_diff"]:.2f} from
  their outputs in the batch.
"""

