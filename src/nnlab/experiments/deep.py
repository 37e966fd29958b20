"""f. Deep networks on the cat pictures (course 1, week 4).

- [12288, 7, 1]: weights ``randn * 0.01``;
- [12288, 20, 7, 5, 1]: weights ``randn / sqrt(n[l-1])``;

relu hidden layers and a sigmoid output, each initialized from a ``RandomState(1)``, α = 0.0075,
2500 iterations of full-batch gradient descent. As in the course's week-4 code, the backward pass
starts from the general ``dA[L] = -(y/a - (1-y)/(1-a))`` and goes through the sigmoid's
derivative (``fused=False``), instead of the shortcut ``dZ[L] = A[L] - Y``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ..datasets import TrainTest, load_cat, load_cat_images
from ..engine import train
from ..network import predict
from ._core import (
    CourseNumbers,
    ExperimentRun,
    Figure,
    Row,
    Task,
    accuracy_rows,
    count_correct,
    course,
    divide_by_sqrt_fan_in,
    sample_costs,
)

NAME = "deep"
LETTER = "f"
TITLE = "Deep networks on cat pictures"
#: key → (label, hidden sizes, course train of 209, course test of 50)
SETTINGS = {
    "2-layer": ("[12288, 7, 1]", [7], course(209, 209), course(36, 50)),
    "4-layer": ("[12288, 20, 7, 5, 1]", [20, 7, 5], course(206, 209), course(40, 50)),
}
#: run key → split → the course's number.
COURSE_NUMBERS: CourseNumbers = {k: {"train": s[2], "test": s[3]} for k, s in SETTINGS.items()}


def load(data_dir: str | os.PathLike[str] | None = None) -> TrainTest:
    """This experiment's data (raises ``DataFileError`` if a file is missing)."""
    return load_cat(data_dir)


def activations_for(hidden: list[int]) -> list[str]:
    """relu for each hidden layer, sigmoid for the output."""
    return ["relu"] * len(hidden) + ["sigmoid"]


def run(key: str, data_dir: str | None) -> ExperimentRun:
    """Train the network ``key`` of ``SETTINGS`` on the 209 training pictures (12288, 209)."""
    label, hidden, _, _ = SETTINGS[key]
    data = load_cat(data_dir)
    layers = [data.X_train.shape[0], *hidden, 1]
    acts = activations_for(hidden)
    if key == "2-layer":
        init_options: dict[str, Any] = {"init": "random", "init_scale": 0.01}
        init_name = "randn * 0.01"
    else:
        init_options = {"init": divide_by_sqrt_fan_in}
        init_name = "randn / sqrt(n[l-1])"
    result = train(
        data.X_train, data.Y_train, layers, acts, random_state=1, learning_rate=0.0075,
        num_epochs=2500, fused=False, **init_options,
    )
    test_predictions = predict(data.X_test, result.params, acts)
    return ExperimentRun(
        key, label,
        {"layer_dims": layers, "activations": acts, "init": init_name, "random_state": 1,
         "learning_rate": 0.0075, "iterations": 2500, "batch": "full",
         "output_gradient": "general dA[L] (fused=False)"},
        {"train": count_correct(data.X_train, data.Y_train, result.params, acts),
         "test": count_correct(data.X_test, data.Y_test, result.params, acts)},
        sample_costs(result.costs),
        extra={"test_predictions": [int(p) for p in test_predictions.ravel()]},
    )


def tasks(data_dir: str | None) -> list[Task]:
    return [
        Task(NAME, "4-layer", run, {"key": "4-layer", "data_dir": data_dir}, weight=17.0),
        Task(NAME, "2-layer", run, {"key": "2-layer", "data_dir": data_dir}, weight=12.0),
    ]


def rows(runs: dict[str, ExperimentRun]) -> list[Row]:
    return accuracy_rows(f"{LETTER} {NAME}", runs, COURSE_NUMBERS)


def figures(runs: dict[str, ExperimentRun], data_dir: str | None, out_dir: Path) -> list[Figure]:
    from ..plotting import new_figure, plot_costs, plot_images, save_figure

    fig, axes = new_figure(1, panel_size=(6.0, 3.8))
    plot_costs(axes[0], {runs[k].label: runs[k].costs for k in SETTINGS},
               title="cost, α = 0.0075")
    save_figure(fig, out_dir / "f_deep_costs.png")

    _, _, test_x, test_y = load_cat_images(data_dir)
    predicted = np.array(runs["4-layer"].extra["test_predictions"])
    wrong = np.flatnonzero(predicted != test_y)
    figs = [Figure("f_deep_costs.png", "The cost of the 2-layer and the 4-layer network.")]
    if wrong.size:
        names = ("non-cat", "cat")
        fig, axes = new_figure(wrong.size, ncols=min(wrong.size, 5), panel_size=(2.0, 2.2))
        plot_images(axes, test_x[wrong], [f"said {names[predicted[i]]}\nis {names[test_y[i]]}"
                                          for i in wrong])
        save_figure(fig, out_dir / "f_deep_mistakes.png")
        figs.append(Figure("f_deep_mistakes.png",
                           "The test pictures the 4-layer network gets wrong."))
    return figs


def notebook(runs: dict[str, ExperimentRun], figs: list[Figure]) -> str:
    two, four = runs["2-layer"], runs["4-layer"]
    return f"""\
The same pictures as in (a), now with hidden relu layers. The 2-layer network fits every
training picture ({two.accuracy["train"]}) and recognizes {two.accuracy["test"]} of the test
pictures; the 4-layer network, initialized with the 1/sqrt(n) scale, generalizes better:
{four.accuracy["train"]} train, {four.accuracy["test"]} test (logistic regression: 70 %).
Its mistakes are shown below: non-cats it calls cats (butterflies, birds, busy street scenes) and
cats seen close up or in unusual poses.
"""
