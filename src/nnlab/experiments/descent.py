"""h. Batch, stochastic and mini-batch gradient descent (course 2, week 2).

The optimization experiment's network and initialization, 2-5-2-1 (relu, relu, sigmoid) with He
weights from a ``RandomState(3)``, on the moons ``X (2, 300)``; plain gradient descent
``θ -= α dθ`` with α = 0.1 for 30 epochs, an epoch cut into updates three ways:

- full batch: one update per epoch, its gradient averaged over all 300 examples;
- mini-batches of 64: five updates per epoch (64, 64, 64, 64, 44 examples);
- stochastic (batch size 1): 300 updates per epoch, one per example.

The shuffle of epoch e is drawn from a ``RandomState(11 + e)``, as in e. Recorded: the cost of
every iteration's batch, before its update (the cost the update saw), and the cost J on the whole
training set before training and after every epoch. From these: the epochs each needs to bring J
to 0.68 and to 0.6 for good (from then on J stays at or below it); how rough its path is, as the
root mean square of the change in the per-iteration cost from one iteration to the next; and the
wall time of its updates.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .. import optimizers
from ..datasets import load_moons
from ..engine import explain_path, make_stepper
from ..fast import FastTrainer
from ..initializers import initialize_parameters
from ..network import compute_cost, model_forward
from ..training import EpochLoop, LoopCallback
from ._core import (
    ExperimentRun,
    Figure,
    Params,
    Reseeded,
    Row,
    Task,
    claim_row,
    settled_at_or_below,
)

#: Its data come from scikit-learn (runs and figures import it; see ``runner``).
SKLEARN = True
NAME = "descent"
LETTER = "h"
TITLE = "Batch, stochastic and mini-batch gradient descent"
LAYERS = [2, 5, 2, 1]
ACTIVATIONS = ["relu", "relu", "sigmoid"]
ALPHA = 0.1
EPOCHS = 30
#: The costs on the whole training set whose first epoch is reported.
TARGETS = (0.68, 0.6)
#: key → (label, batch size; None: the full batch)
SETTINGS: dict[str, tuple[str, int | None]] = {
    "batch": ("full batch (300)", None),
    "minibatch": ("mini-batches of 64", 64),
    "stochastic": ("stochastic (batch size 1)", 1),
}
#: No course numbers: the course makes this point with a figure; see ``rows``.
COURSE_NUMBERS: dict = {}


def load(data_dir: str | os.PathLike[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """This experiment's data: the moons, X (2, 300) and Y (1, 300)."""
    return load_moons()


def full_cost(X: np.ndarray, Y: np.ndarray, params: Params,
              activations: Sequence[str] = ACTIVATIONS) -> float:
    """J on the whole set: forward on every column of X (n_x, m), then the cross-entropy."""
    AL, _ = model_forward(X, params, activations)
    return float(compute_cost(AL, Y))


def descend(
    X: np.ndarray,
    Y: np.ndarray,
    optimizer: optimizers.Optimizer,
    batch_size: int | None,
    epochs: int,
    *,
    shuffle_rng: Callable[[int], Any] | None = None,
    cost_after_every_update: bool = False,
    fast: bool = True,
) -> dict[str, Any]:
    """Train 2-5-2-1 (He weights from ``RandomState(3)``) in the epoch loop, recording costs.

    Every epoch the m columns of X ``(n_x, m)`` are shuffled with ``shuffle_rng(epoch)`` and cut
    into batches of ``batch_size`` (None: one full batch, not shuffled); the default
    ``shuffle_rng`` is the course's, ``RandomState(11 + epoch)``. Each batch makes one update of
    the stepper ``explain_path`` chooses for ``fast`` (with Numba, every update of an epoch in
    one compiled call, equal to ``train_step``'s to float rounding; ``fast=False``: the textbook
    step; with ``cost_after_every_update``, the textbook step too). Returns a dict with:

    - ``iteration_costs``: the cost of every update's batch before the update;
    - ``epoch_costs``: J on the whole set before training, then after every epoch (epochs + 1);
    - ``update_costs``: J on the whole set after every update (only with
      ``cost_after_every_update``);
    - ``params``: the trained parameters; ``seconds``: the wall time of the updates alone.
    """
    shuffle_rng = Reseeded(11) if shuffle_rng is None else shuffle_rng
    params = initialize_parameters(LAYERS, "he", np.random.RandomState(3))
    fast = False if cost_after_every_update else fast
    path = explain_path(optimizer=optimizer, dtype=X.dtype, activations=ACTIVATIONS,
                        dims=LAYERS, fast=fast)
    stepper = make_stepper(path, params, ACTIVATIONS, optimizer, fast=fast)
    recorder = _CostRecorder(X, Y, per_update=cost_after_every_update)
    loop = EpochLoop(stepper, X, Y, batch_size=batch_size, shuffle_rng=shuffle_rng,
                     learning_rate=optimizer.hyperparams.get("learning_rate"),
                     callbacks=[recorder], record_batches=True)
    if isinstance(stepper, FastTrainer):
        stepper.load_kernels(batch_size or X.shape[1])  # before the clock starts
    recorder.epoch_costs.append(full_cost(X, Y, params))
    started = time.perf_counter()
    loop.run(epochs)
    seconds = time.perf_counter() - started - recorder.seconds
    return {"iteration_costs": loop.batch_costs, "epoch_costs": recorder.epoch_costs,
            "update_costs": recorder.update_costs, "params": stepper.state()[0],
            "seconds": seconds}


class _CostRecorder(LoopCallback):
    """J on the whole set after every epoch (and after every update when ``per_update``),
    timing itself so that ``descend`` can report the updates' time alone."""

    def __init__(self, X: np.ndarray, Y: np.ndarray, per_update: bool):
        self.X, self.Y, self.per_batch = X, Y, per_update
        self.epoch_costs: list[float] = []
        self.update_costs: list[float] = []
        self.seconds = 0.0

    def on_batch_end(self, batch: int, cost: float, size: int, loop: EpochLoop) -> None:
        started = time.perf_counter()
        self.update_costs.append(full_cost(self.X, self.Y, loop.stepper.params))
        self.seconds += time.perf_counter() - started

    def on_epoch_end(self, epoch: int, logs: dict[str, float], loop: EpochLoop) -> None:
        started = time.perf_counter()
        self.epoch_costs.append(full_cost(self.X, self.Y, loop.stepper.params))
        self.seconds += time.perf_counter() - started


def roughness(costs: Sequence[float]) -> float:
    """sqrt(mean((J[t+1] - J[t])²)): how much the cost jumps from one iteration to the next.

    >>> round(roughness([1.0, 0.9, 0.8]), 6), round(roughness([1.0, 0.5, 1.0]), 6)
    (0.1, 0.5)
    """
    d = np.diff(np.asarray(costs, dtype=np.float64))
    return float(np.sqrt(np.mean(d**2))) if d.size else 0.0


def run(key: str) -> ExperimentRun:
    """Train with the batch size of ``key`` for ``EPOCHS`` epochs."""
    X, Y = load_moons()
    label, batch_size = SETTINGS[key]
    out = descend(X, Y, optimizers.gd(ALPHA), batch_size, EPOCHS)
    epoch_costs, iteration_costs = out["epoch_costs"], out["iteration_costs"]
    return ExperimentRun(
        key, label,
        {"layer_dims": LAYERS, "activations": ACTIVATIONS, "init": "he", "random_state": 3,
         "optimizer": "gd", "learning_rate": ALPHA, "epochs": EPOCHS,
         "batch_size": batch_size or X.shape[1],
         "shuffle": "RandomState(11 + epoch)" if batch_size else "none"},
        costs=list(enumerate(epoch_costs)),
        params=out["params"],
        extra={
            "updates_per_epoch": len(iteration_costs) // EPOCHS,
            "iteration_costs": iteration_costs,
            "final_cost": epoch_costs[-1],
            "epochs_to": {str(t): settled_at_or_below(epoch_costs, t) for t in TARGETS},
            "roughness": roughness(iteration_costs),
        },
        timings={"updates": out["seconds"]},
    )


def tasks(data_dir: str | None) -> list[Task]:
    weights = {"batch": 0.05, "minibatch": 0.1, "stochastic": 1.0}
    return [Task(NAME, key, run, {"key": key}, weight=weights[key]) for key in SETTINGS]


def _epochs_text(epochs: int | None) -> str:
    return "—" if epochs is None else str(epochs)


def rows(runs: dict[str, ExperimentRun]) -> list[Row]:
    exp = f"{LETTER} {NAME}"
    b, mb, s = (runs[k].extra for k in SETTINGS)
    noisy = s["roughness"] > mb["roughness"] > b["roughness"]
    t0, t1 = (str(t) for t in TARGETS)

    def order(e: dict[str, Any], t: str) -> float:
        return np.inf if e["epochs_to"][t] is None else e["epochs_to"][t]

    faster = order(s, t0) <= order(mb, t0) < order(b, t0) and order(mb, t1) < order(b, t1)
    lower = s["final_cost"] < mb["final_cost"] < b["final_cost"]
    return [
        claim_row(exp, "path roughness: batch / 64 / SGD",
                  "SGD noisiest, mini-batch between, batch smooth",
                  f"{b['roughness']:.2g} / {mb['roughness']:.2g} / {s['roughness']:.2g}", noisy),
        claim_row(exp, f"epochs to J ≤ {t0}, ≤ {t1}: batch / 64 / SGD",
                  "SGD, mini-batch far faster per epoch",
                  " / ".join(", ".join(_epochs_text(e["epochs_to"][t]) for t in (t0, t1))
                             for e in (b, mb, s)), faster),
        claim_row(exp, f"J after {EPOCHS} epochs: batch / 64 / SGD",
                  "more updates per epoch, lower J",
                  f"{b['final_cost']:.3f} / {mb['final_cost']:.3f} / {s['final_cost']:.3f}",
                  lower),
    ]


def _moving_average(values: Sequence[float], window: int) -> np.ndarray:
    """The mean of each full window of ``window`` consecutive values (len - window + 1 of them)."""
    v = np.asarray(values, dtype=np.float64)
    window = max(1, min(window, v.size))
    c = np.concatenate([[0.0], np.cumsum(v)])
    return (c[window:] - c[:-window]) / window


def plot_iteration_costs(ax, costs: Sequence[float], window: int, title: str,
                         color: str = "C0", label: str | None = None) -> None:
    """Each iteration's cost as a thin line, and (window > 1) its moving average on top."""
    it = np.arange(1, len(costs) + 1)
    each = label if window <= 1 else f"{label}, each iteration" if label else "each iteration"
    if len(costs) > 1000:  # thousands of points: dots show the spread better than a line
        ax.plot(it, costs, ".", color=color, markersize=1.5, alpha=0.35, label=each)
    else:
        ax.plot(it, costs, color=color, linewidth=0.6, alpha=0.45 if window > 1 else 1.0,
                label=each)
    if window > 1:
        ax.plot(it[window - 1:], _moving_average(costs, window), color=color, linewidth=1.6,
                label=f"{label}, mean of {window}" if label else f"mean of {window}")
    ax.set_xlabel("iteration (update)")
    ax.set_ylabel("cost J of the batch")
    ax.grid(alpha=0.3)
    ax.set_title(title, fontsize=10)


def figures(runs: dict[str, ExperimentRun], data_dir: str | None, out_dir: Path) -> list[Figure]:
    from ..plotting import new_figure, plot_costs, save_figure

    fig, axes = new_figure(4, ncols=2, panel_size=(5.2, 3.6))
    top = max(max(runs[k].extra["iteration_costs"]) for k in ("batch", "minibatch"))
    for ax, key, color in zip(axes, SETTINGS, ("C0", "C1", "C2"), strict=False):
        r = runs[key]
        per_epoch = r.extra["updates_per_epoch"]
        plot_iteration_costs(
            ax, r.extra["iteration_costs"], per_epoch,
            f"{r.label}: {per_epoch} update{'s' if per_epoch > 1 else ''} per epoch",
            color=color,
        )
        ax.set_ylim(0, max(1.6, 1.1 * top))
    if axes[2].get_lines():
        axes[2].legend(fontsize=8, loc="upper right")
    plot_costs(axes[3], {runs[k].label: runs[k].costs for k in SETTINGS}, xlabel="epoch",
               title="J on all 300 examples after each epoch")
    for t in TARGETS:
        axes[3].axhline(t, color="gray", linestyle=":", linewidth=1)
    save_figure(fig, out_dir / "h_descent.png",
                f"the same network, α = {ALPHA:g}, {EPOCHS} epochs")
    return [Figure("h_descent.png",
                   "The cost of each update's batch (thin; thick: its mean over an epoch; the "
                   "stochastic panel clips single examples' costs above the axis), and the cost "
                   "on the whole set per epoch (dotted: the costs 0.68 and 0.6).")]


def notebook(runs: dict[str, ExperimentRun], figs: list[Figure]) -> str:
    b, mb, s = (runs[k] for k in SETTINGS)
    t0, t1 = (str(t) for t in TARGETS)
    lines = [
        "| batch | updates per epoch | J after 30 epochs | epochs to J ≤ "
        f"{t0} | to J ≤ {t1} | roughness | wall time of the updates |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in (b, mb, s):
        e = r.extra
        seconds = r.timings.get("updates")
        wall = "—" if seconds is None else (
            f"{seconds:.3f} s ({1000 * seconds / EPOCHS:.2f} ms per epoch)")
        lines.append(
            f"| {r.label} | {e['updates_per_epoch']} | {e['final_cost']:.3f} | "
            f"{_epochs_text(e['epochs_to'][t0])} | {_epochs_text(e['epochs_to'][t1])} | "
            f"{e['roughness']:.3g} | {wall} |")
    table = "\n".join(lines)
    per_update = {k: runs[k].timings.get("updates", 0.0) / max(len(
        runs[k].extra["iteration_costs"]), 1) for k in SETTINGS}
    if per_update["batch"] > 0 and per_update["stochastic"] > 0:
        speed = (
            f"an update on one example took {1e3 * per_update['stochastic']:.3f} ms here and an "
            f"update on all 300 {1e3 * per_update['batch']:.3f} ms, because the vectorized "
            "products over 300 columns cost little more than over one and every update has its "
            "fixed costs (a pass over every layer, the parameter update); so an epoch of "
            "stochastic descent takes about "
            f"{per_update['stochastic'] * 300 / per_update['batch']:.0f} times as long as a "
            "full-batch epoch"
        )
    else:
        speed = "an epoch of stochastic descent makes 300 updates where the full batch makes one"
    return f"""\
Every update is one step of the same gradient descent; what differs is how many examples each
gradient averages, and so how many updates an epoch makes. Per epoch, the many small steps win
by far: after {EPOCHS} epochs the full batch has taken {EPOCHS} steps and J is still
{b.extra["final_cost"]:.3f}, mini-batches of 64 ({5 * EPOCHS} steps) bring it to
{mb.extra["final_cost"]:.3f} and single examples ({300 * EPOCHS} steps) to
{s.extra["final_cost"]:.3f}. The price is noise: an example's gradient only estimates the
average one, so the cost seen at each iteration jumps about (roughness
{s.extra["roughness"]:.3g}, against {mb.extra["roughness"]:.3g} for mini-batches and
{b.extra["roughness"]:.2g} for the full batch, whose cost falls smoothly). And per second the
picture changes: {speed}. Mini-batches
keep most of the vectorization and most of the progress per epoch: the usual choice.

{table}

(Wall times are those of the `train_step` calls in this run, one BLAS thread; they vary with the
machine's load. "Epochs to J ≤ c": the epoch after which J stays at or below c; "—": not within
{EPOCHS} epochs.)
"""
