"""i. Momentum smooths the path (course 2, week 2).

The optimization experiment's network and initialization (2-5-2-1, He weights from a
``RandomState(3)``) on the moons, mini-batches of 64 shuffled with ``RandomState(11 + epoch)``,
200 epochs (1000 updates) at α = 0.3, a learning rate large enough for plain mini-batch descent
to zig-zag:

- mini-batch gradient descent: θ -= α g;
- momentum, β = 0.9 (the course's form): v = β v + (1-β) g, θ -= α v: each step follows an
  exponentially weighted average of the last ~1/(1-β) = 10 gradients, at the same α.

Recorded at every iteration: the cost of its mini-batch (before the update) and the cost J on all
300 examples after the update, which is the path itself, without the batch-to-batch differences
of the examples. Reported: the variance of each over the last 250 iterations (50 epochs).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .. import optimizers
from ..datasets import load_moons
from ._core import ExperimentRun, Figure, Row, Task, claim_row
from .descent import ACTIVATIONS, LAYERS, descend, plot_iteration_costs, roughness

#: Its data come from scikit-learn (runs and figures import it; see ``scheduler``).
SKLEARN = True
NAME = "momentum"
LETTER = "i"
TITLE = "Momentum smooths the path"
ALPHA = 0.3
BETA = 0.9
EPOCHS = 200
BATCH_SIZE = 64
#: The variances are over the last LAST_N iterations.
LAST_N = 250
#: key → label
SETTINGS = {"gd": "mini-batch gradient descent", "momentum": f"momentum β = {BETA:g}"}
#: No course numbers: the course makes this point with a figure; see ``rows``.
COURSE_NUMBERS: dict = {}


def load(data_dir: str | os.PathLike[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """This experiment's data: the moons, X (2, 300) and Y (1, 300)."""
    return load_moons()


def run(key: str) -> ExperimentRun:
    """Mini-batch descent with (``key="momentum"``) or without (``"gd"``) momentum."""
    X, Y = load_moons()
    opt = optimizers.gd(ALPHA) if key == "gd" else optimizers.momentum(ALPHA, beta=BETA)
    out = descend(X, Y, opt, BATCH_SIZE, EPOCHS, cost_after_every_update=True)
    batch, path = out["iteration_costs"], out["update_costs"]
    return ExperimentRun(
        key, SETTINGS[key],
        {"layer_dims": LAYERS, "activations": ACTIVATIONS, "init": "he", "random_state": 3,
         "optimizer": opt.name, **opt.hyperparams, "epochs": EPOCHS, "batch_size": BATCH_SIZE,
         "shuffle": "RandomState(11 + epoch)", "last_n": LAST_N},
        costs=list(enumerate(out["epoch_costs"])),
        params=out["params"],
        extra={
            "batch_costs": batch,
            "path_costs": path,
            "batch_cost_variance": float(np.var(batch[-LAST_N:])),
            "path_cost_variance": float(np.var(path[-LAST_N:])),
            "path_roughness": roughness(path[-LAST_N:]),
            "path_cost_mean": float(np.mean(path[-LAST_N:])),
            "final_cost": path[-1],
        },
        timings={"updates": out["seconds"]},
    )


def tasks(data_dir: str | None) -> list[Task]:
    return [Task(NAME, key, run, {"key": key}, weight=0.3) for key in SETTINGS]


def rows(runs: dict[str, ExperimentRun]) -> list[Row]:
    exp = f"{LETTER} {NAME}"
    gd, mom = runs["gd"].extra, runs["momentum"].extra
    return [
        claim_row(exp, f"variance of J on all 300, last {LAST_N} it.: GD / momentum",
                  "momentum smooths the path",
                  f"{gd['path_cost_variance']:.2e} / {mom['path_cost_variance']:.2e}",
                  mom["path_cost_variance"] < gd["path_cost_variance"]),
        claim_row(exp, f"variance of the batch's J, last {LAST_N} it.: GD / momentum",
                  "momentum smooths the path",
                  f"{gd['batch_cost_variance']:.2e} / {mom['batch_cost_variance']:.2e}",
                  mom["batch_cost_variance"] < gd["batch_cost_variance"]),
    ]


def figures(runs: dict[str, ExperimentRun], data_dir: str | None, out_dir: Path) -> list[Figure]:
    from ..plotting import new_figure, save_figure

    fig, axes = new_figure(3, panel_size=(4.6, 3.6))
    colors = {"gd": "C0", "momentum": "C3"}
    for key in SETTINGS:
        plot_iteration_costs(axes[0], runs[key].extra["batch_costs"], 1,
                             "the cost of each mini-batch", color=colors[key],
                             label=runs[key].label)
    n = len(runs["gd"].extra["path_costs"])
    it = np.arange(1, n + 1)
    for key in SETTINGS:
        path = runs[key].extra["path_costs"]
        axes[1].plot(it, path, color=colors[key], linewidth=0.9, label=runs[key].label)
        axes[2].plot(it[-LAST_N:], path[-LAST_N:], color=colors[key], linewidth=1.1,
                     label=f"{runs[key].label}: variance "
                           f"{runs[key].extra['path_cost_variance']:.1e}")
    axes[1].axvspan(n - LAST_N + 1, n, color="gray", alpha=0.15)
    for ax, title in ((axes[1], "J on all 300 examples after each update"),
                      (axes[2], f"the same, last {LAST_N} iterations")):
        ax.set_xlabel("iteration (update)")
        ax.set_ylabel("cost J")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        ax.set_title(title, fontsize=10)
    axes[0].legend(fontsize=8)
    save_figure(fig, out_dir / "i_momentum.png",
                f"mini-batches of {BATCH_SIZE}, α = {ALPHA:g}, with and without momentum")
    return [Figure("i_momentum.png",
                   "Left: the cost of each iteration's mini-batch. Middle and right: the cost on "
                   "the whole training set after each update (shaded: the iterations whose "
                   "variance is reported).")]


def notebook(runs: dict[str, ExperimentRun], figs: list[Figure]) -> str:
    gd, mom = runs["gd"].extra, runs["momentum"].extra
    ratio = gd["path_cost_variance"] / max(mom["path_cost_variance"], 1e-300)
    return f"""\
At α = {ALPHA:g} plain mini-batch descent overshoots: each step follows one mini-batch's
gradient, and the cost on the whole training set jumps up and down from one update to the next.
Momentum takes the same α but steps along the average of the recent gradients, in which their
batch-to-batch disagreements cancel: over the last {LAST_N} iterations the variance of the
whole-set cost is {gd["path_cost_variance"]:.2e} without momentum and
{mom["path_cost_variance"]:.2e} with it, {ratio:.0f} times smaller (the root mean square of the
change from one update to the next: {gd["path_roughness"]:.2e} and
{mom["path_roughness"]:.2e}); the cost each hovers around: {gd["path_cost_mean"]:.3f} and
{mom["path_cost_mean"]:.3f}.

The per-iteration cost the training loop sees, each batch's own cost, hides most of this: the
five mini-batches of an epoch are different examples with different costs even for the same
weights, so its variance ({gd["batch_cost_variance"]:.2e} against
{mom["batch_cost_variance"]:.2e}) falls by much less. That is why the smoothing shows in the cost
on the whole set.
"""
