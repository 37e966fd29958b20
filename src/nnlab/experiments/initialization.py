"""c. Initialization on the circles (course 2, week 1).

A 2-10-5-1 network (relu, relu, sigmoid), α = 0.01, 15000 iterations of full-batch gradient
descent, weights drawn layer by layer from a ``RandomState(3)``:

- zeros: every unit of a layer computes the same thing, forever (symmetry is never broken);
- ``randn * 10``: symmetry is broken but the huge weights saturate the sigmoid, so the first
  costs are enormous and learning is slow;
- He, ``randn * sqrt(2 / n[l-1])``: the scale that keeps relu activations' variance steady.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..datasets import TrainTest, load_circles
from ..engine import train
from ._core import (
    CourseNumbers,
    ExperimentRun,
    Figure,
    Row,
    Task,
    accuracy_rows,
    count_correct,
    course,
    sample_costs,
)

#: Its data come from scikit-learn (runs and figures import it; see ``scheduler``).
SKLEARN = True
NAME = "initialization"
LETTER = "c"
TITLE = "Initialization: zeros, large random, He"
LAYERS = [2, 10, 5, 1]
ACTIVATIONS = ["relu", "relu", "sigmoid"]
#: key → (label, init, init_scale, course train of 300, course test of 100)
SETTINGS = {
    "zeros": ("zeros", "zeros", None, course(150, 300), course(50, 100)),
    "large": ("randn * 10", "random", 10.0, course(249, 300), course(86, 100)),
    "he": ("He", "he", None, course(298, 300), course(96, 100)),
}
#: run key → split → the course's number.
COURSE_NUMBERS: CourseNumbers = {k: {"train": s[3], "test": s[4]} for k, s in SETTINGS.items()}


def load(data_dir: str | os.PathLike[str] | None = None) -> TrainTest:
    """This experiment's data (raises ``DataFileError`` if a file is missing)."""
    return load_circles()


def run(key: str) -> ExperimentRun:
    """Train 2-10-5-1 on the circles (2, 300) from the initialization ``key``."""
    label, init, scale, _, _ = SETTINGS[key]
    data = load_circles()
    result = train(
        data.X_train, data.Y_train, LAYERS, ACTIVATIONS, init=init, init_scale=scale,
        random_state=3, learning_rate=0.01, num_epochs=15000,
    )
    return ExperimentRun(
        key, label,
        {"layer_dims": LAYERS, "activations": ACTIVATIONS, "init": label, "random_state": 3,
         "learning_rate": 0.01, "iterations": 15000, "batch": "full"},
        {"train": count_correct(data.X_train, data.Y_train, result.params, ACTIVATIONS),
         "test": count_correct(data.X_test, data.Y_test, result.params, ACTIVATIONS)},
        sample_costs(result.costs), result.params,
    )


def tasks(data_dir: str | None) -> list[Task]:
    return [Task(NAME, key, run, {"key": key}, weight=2.2) for key in SETTINGS]


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

    data = load_circles()
    fig, axes = new_figure(4, panel_size=(3.8, 3.6))
    for ax, key in zip(axes, SETTINGS, strict=False):
        r = runs[key]
        assert r.params is not None  # every run of this experiment keeps its weights
        plot_decision_boundary(
            ax, network_classifier(r.params, ACTIVATIONS), data.X_train, data.Y_train,
            f"{r.label}\ntrain {r.accuracy['train']}, test {r.accuracy['test']}",
        )
    plot_costs(axes[3], {runs[k].label: runs[k].costs for k in SETTINGS}, log=True,
               title="cost (log scale)")
    save_figure(fig, out_dir / "c_initialization.png", "three initializations, same network")
    return [Figure("c_initialization.png",
                   "The three initializations side by side (training points), and their costs.")]


def notebook(runs: dict[str, ExperimentRun], figs: list[Figure]) -> str:
    z, big, he = runs["zeros"], runs["large"], runs["he"]
    return f"""\
Same network, same data, same 15000 iterations; only the starting weights differ.
With **zeros** every unit of a layer gets the same gradient and stays a copy of its neighbours:
the network never becomes more than one unit wide and predicts one class everywhere
({z.accuracy["train"]} train, {z.accuracy["test"]} test; its cost stays at
{z.costs[-1][1]:.4f} = log 2). **randn · 10** breaks the symmetry but starts with saturated
sigmoids and a first cost of {big.costs[0][1]:.1f}; after 15000 iterations it is still poor
({big.accuracy["train"]} train, {big.accuracy["test"]} test). **He** initialization scales each
layer by sqrt(2 / n[l-1]) and learns the circles: {he.accuracy["train"]} train,
{he.accuracy["test"]} test.
"""
