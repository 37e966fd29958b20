"""e. Optimizers on the moons (course 2, week 2).

A 2-5-2-1 network (relu, relu, sigmoid), He weights from a ``RandomState(3)``, α = 0.0007,
10000 epochs of mini-batches of 64 (the 300 points make batches of 64, 64, 64, 64, 44), the
shuffle of epoch e drawn from a ``RandomState(11 + e)`` as the course's notebook does:

- mini-batch gradient descent: θ -= α g;
- momentum, β = 0.9: v = β v + (1-β) g, θ -= α v;
- Adam, β1 = 0.9, β2 = 0.999, ε = 1e-8: bias-corrected v̂ and ŝ, θ -= α v̂ / (sqrt(ŝ) + ε).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .. import optimizers
from ..datasets import load_moons
from ..engine import train
from ._core import (
    CourseNumbers,
    ExperimentRun,
    Figure,
    Reseeded,
    Row,
    Task,
    accuracy_rows,
    count_correct,
    course,
    sample_costs,
)

#: Its data come from scikit-learn (runs and figures import it; see ``scheduler``).
SKLEARN = True
NAME = "optimization"
LETTER = "e"
TITLE = "Optimizers: mini-batch gradient descent, momentum, Adam"
LAYERS = [2, 5, 2, 1]
ACTIVATIONS = ["relu", "relu", "sigmoid"]
ALPHA = 0.0007
#: key → (label, the course's training accuracy of 300 points)
SETTINGS = {
    "gd": ("mini-batch gradient descent", course(239, 300)),
    "momentum": ("momentum β = 0.9", course(239, 300)),
    "adam": ("Adam", course(282, 300)),
}
#: run key → split → the course's number.
COURSE_NUMBERS: CourseNumbers = {k: {"train": s[1]} for k, s in SETTINGS.items()}


def load(data_dir: str | os.PathLike[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """This experiment's data (raises ``DataFileError`` if a file is missing)."""
    return load_moons()


def make_optimizer(key: str) -> optimizers.Optimizer:
    """The course's gd, momentum (β = 0.9) or Adam (0.9, 0.999, 1e-8: the registry's defaults),
    all with α = 0.0007."""
    return optimizers.get_optimizer(key, learning_rate=ALPHA)


def run(key: str) -> ExperimentRun:
    """Train 2-5-2-1 on the moons (2, 300) with the optimizer ``key``."""
    X, Y = load_moons()
    opt = make_optimizer(key)
    result = train(
        X, Y, LAYERS, ACTIVATIONS, init="he", random_state=3, optimizer=opt,
        num_epochs=10000, batch_size=64, shuffle_rng=Reseeded(11),
    )
    return ExperimentRun(
        key, SETTINGS[key][0],
        {"layer_dims": LAYERS, "activations": ACTIVATIONS, "init": "he", "random_state": 3,
         "optimizer": opt.name, **opt.hyperparams, "epochs": 10000, "batch_size": 64,
         "shuffle": "RandomState(11 + epoch)"},
        {"train": count_correct(X, Y, result.params, ACTIVATIONS)},
        sample_costs(result.costs), result.params,
    )


def tasks(data_dir: str | None) -> list[Task]:
    weights = {"gd": 11.0, "momentum": 12.0, "adam": 14.0}
    return [Task(NAME, key, run, {"key": key}, weight=weights[key]) for key in SETTINGS]


def rows(runs: dict[str, ExperimentRun]) -> list[Row]:
    return accuracy_rows(f"{LETTER} {NAME}", runs, COURSE_NUMBERS)


def figures(runs: dict[str, ExperimentRun], data_dir: str | None, out_dir: Path) -> list[Figure]:
    from ..plotting import (
        network_classifier,
        new_figure,
        plot_costs,
        plot_decision_boundary,
        save_figure,
    )

    X, Y = load_moons()
    short = {"gd": "gradient descent", "momentum": "momentum", "adam": "Adam"}
    fig, axes = new_figure(4, panel_size=(3.8, 3.6))
    for ax, key in zip(axes, SETTINGS, strict=False):
        r = runs[key]
        assert r.params is not None  # every run of this experiment keeps its weights
        plot_decision_boundary(ax, network_classifier(r.params, ACTIVATIONS), X, Y,
                               f"{short[key]}: {r.accuracy['train']}")
    plot_costs(axes[3], {short[k]: runs[k].costs for k in SETTINGS}, xlabel="epoch",
               title="cost per epoch")
    save_figure(fig, out_dir / "e_optimization.png", f"the same network and α = {ALPHA:g}")
    return [Figure("e_optimization.png",
                   "Mini-batch gradient descent, momentum and Adam side by side, and their costs.")]


def notebook(runs: dict[str, ExperimentRun], figs: list[Figure]) -> str:
    gd, mom, adam = runs["gd"], runs["momentum"], runs["adam"]
    return f"""\
With the small learning rate α = 0.0007, plain mini-batch gradient descent has not got far after
10000 epochs ({gd.accuracy["train"]}); momentum's averaged steps are the same size on this
problem and end at the same place ({mom.accuracy["train"]}). Adam divides each parameter's step
by the root of its recent squared gradients, so every parameter moves at a useful speed: it
separates the moons ({adam.accuracy["train"]}) and its cost falls far lower
({adam.costs[-1][1]:.3f} against {gd.costs[-1][1]:.3f}).
"""
