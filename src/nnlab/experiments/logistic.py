"""a. Logistic regression on the cat pictures (course 1, week 2).

Logistic regression is the network [12288, 1] with a sigmoid output: ``A = σ(w^T X + b)``,
``dw = (1/m) X (A - Y)^T``, ``db = (1/m) Σ (A - Y)``. The weights start at zero (for a single
unit there is no symmetry to break), full batch, α = 0.005, 2000 iterations; then the same model
with α = 0.01, 0.001 and 0.0001 for 1500 iterations each.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..datasets import TrainTest, load_cat
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

NAME = "logistic"
LETTER = "a"
TITLE = "Logistic regression on cat pictures"
ACTIVATIONS = ["sigmoid"]
#: (α, iterations) → the course's (train, test) accuracy: 209 training and 50 test pictures.
SETTINGS = {
    "alpha=0.005": (0.005, 2000, course(207, 209), course(35, 50)),
    "alpha=0.01": (0.01, 1500, course(208, 209), course(34, 50)),
    "alpha=0.001": (0.001, 1500, course(186, 209), course(32, 50)),
    "alpha=0.0001": (0.0001, 1500, course(143, 209), course(18, 50)),
}
#: run key → split → the course's number.
COURSE_NUMBERS: CourseNumbers = {k: {"train": s[2], "test": s[3]} for k, s in SETTINGS.items()}


def load(data_dir: str | os.PathLike[str] | None = None) -> TrainTest:
    """This experiment's data (raises ``DataFileError`` if a file is missing)."""
    return load_cat(data_dir)


def run(key: str, data_dir: str | None) -> ExperimentRun:
    """Train logistic regression with the setting ``key`` of ``SETTINGS``."""
    alpha, iterations = SETTINGS[key][:2]
    data = load_cat(data_dir)
    n_x = data.X_train.shape[0]
    result = train(
        data.X_train, data.Y_train, [n_x, 1], ACTIVATIONS, init="zeros",
        learning_rate=alpha, num_epochs=iterations,
    )
    return ExperimentRun(
        key, f"α = {alpha:g}, {iterations} it.",
        {"layer_dims": [n_x, 1], "activations": ACTIVATIONS, "init": "zeros",
         "learning_rate": alpha, "iterations": iterations, "batch": "full"},
        {"train": count_correct(data.X_train, data.Y_train, result.params, ACTIVATIONS),
         "test": count_correct(data.X_test, data.Y_test, result.params, ACTIVATIONS)},
        sample_costs(result.costs),
    )


def tasks(data_dir: str | None) -> list[Task]:
    return [
        Task(NAME, key, run, {"key": key, "data_dir": data_dir}, weight=0.0018 * s[1])
        for key, s in SETTINGS.items()
    ]


def rows(runs: dict[str, ExperimentRun]) -> list[Row]:
    return accuracy_rows(f"{LETTER} {NAME}", runs, COURSE_NUMBERS)


def figures(runs: dict[str, ExperimentRun], data_dir: str | None, out_dir: Path) -> list[Figure]:
    from ..plotting import new_figure, plot_costs, save_figure

    fig, (left, right) = new_figure(2, panel_size=(5.0, 3.6))
    main = runs["alpha=0.005"]
    plot_costs(left, {main.label: main.costs}, title="α = 0.005: the cost falls steadily")
    plot_costs(
        right, {f"α = {SETTINGS[k][0]:g}": runs[k].costs for k in SETTINGS if k != "alpha=0.005"},
        title="learning rates compared (1500 iterations)",
    )
    save_figure(fig, out_dir / "a_logistic_costs.png")
    return [Figure("a_logistic_costs.png",
                   "Logistic regression on the cat pictures: the cost per iteration.")]


def notebook(runs: dict[str, ExperimentRun], figs: list[Figure]) -> str:
    main = runs["alpha=0.005"]
    return f"""\
The simplest network: one sigmoid unit on the 12288 pixel values of a 64 × 64 picture, weights
and bias started at zero, α = 0.005, 2000 iterations of full-batch gradient descent. It fits the
training pictures almost perfectly ({main.accuracy["train"]}) but recognizes only
{main.accuracy["test"]} of the test pictures: a linear model on raw pixels overfits. With α = 0.01
the cost oscillates at first and the model fits the training set even better without testing
better; with α = 0.0001 it has barely started learning after 1500 iterations.
"""
