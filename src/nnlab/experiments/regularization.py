"""d. Regularization on the football data (course 2, week 1).

A 2-20-3-1 network (relu, relu, sigmoid), weights ``randn / sqrt(n[l-1])`` from a
``RandomState(3)``, α = 0.3, 30000 iterations of full-batch gradient descent:

- no regularization: it overfits the noisy training points;
- L2, λ = 0.7: the cost gains ``(λ/2m) Σ ||W||²`` and every ``dW`` gains ``(λ/m) W``;
- dropout with keep_prob = 0.86 on both hidden layers, **as the course runs it**: the notebook
  reseeds NumPy's global generator with 1 at the start of every forward pass, so every
  iteration draws the *same* masks — the network trained is one fixed thinned network;
- dropout with **fresh masks** every iteration (one generator, ``RandomState(3)`` after the
  weights): dropout as it is meant to work. The course printed no number for it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..datasets import TrainTest, load_football
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
    divide_by_sqrt_fan_in,
    sample_costs,
)

NAME = "regularization"
LETTER = "d"
TITLE = "Regularization: none, L2, dropout"
LAYERS = [2, 20, 3, 1]
ACTIVATIONS = ["relu", "relu", "sigmoid"]
#: key → (label, course train of 211, course test of 200); None: the course printed nothing.
SETTINGS = {
    "none": ("no regularization", course(200, 211), course(183, 200)),
    "l2": ("L2, λ = 0.7", course(198, 211), course(186, 200)),
    "dropout-course": ("dropout 0.86, course's masks", course(196, 211), course(190, 200)),
    "dropout-fresh": ("dropout 0.86, fresh masks", None, None),
}
#: run key → split → the course's number.
COURSE_NUMBERS: CourseNumbers = {k: {"train": s[1], "test": s[2]} for k, s in SETTINGS.items()}


def load(data_dir: str | os.PathLike[str] | None = None) -> TrainTest:
    """This experiment's data (raises ``DataFileError`` if a file is missing)."""
    return load_football(data_dir)


def run(key: str, data_dir: str | None) -> ExperimentRun:
    """Train 2-20-3-1 on the football data (2, 211) with the regularization ``key``."""
    data = load_football(data_dir)
    options: dict[str, Any] = {}
    setting: dict[str, Any] = {}
    if key == "l2":
        options = {"lambd": 0.7}
        setting = {"lambd": 0.7}
    elif key == "dropout-course":
        options = {"keep_probs": 0.86, "dropout_rng": Reseeded(1, constant=True)}
        setting = {"keep_prob": 0.86, "masks": "RandomState(1) re-created at every forward pass"}
    elif key == "dropout-fresh":
        options = {"keep_probs": 0.86}
        setting = {"keep_prob": 0.86,
                   "masks": "fresh every iteration, drawn from the RandomState(3) of the weights"}
    result = train(
        data.X_train, data.Y_train, LAYERS, ACTIVATIONS, init=divide_by_sqrt_fan_in,
        random_state=3, learning_rate=0.3, num_epochs=30000, **options,
    )
    return ExperimentRun(
        key, SETTINGS[key][0],
        {"layer_dims": LAYERS, "activations": ACTIVATIONS, "init": "randn / sqrt(n[l-1])",
         "random_state": 3, "learning_rate": 0.3, "iterations": 30000, "batch": "full",
         **setting},
        {"train": count_correct(data.X_train, data.Y_train, result.params, ACTIVATIONS),
         "test": count_correct(data.X_test, data.Y_test, result.params, ACTIVATIONS)},
        sample_costs(result.costs), result.params,
    )


def tasks(data_dir: str | None) -> list[Task]:
    weights = {"none": 6.0, "l2": 7.5, "dropout-course": 9.0, "dropout-fresh": 9.0}
    return [Task(NAME, key, run, {"key": key, "data_dir": data_dir}, weight=weights[key])
            for key in SETTINGS]


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

    data = load_football(data_dir)
    short = {"none": "no regularization", "l2": "L2, λ = 0.7",
             "dropout-course": "dropout, course's fixed masks",
             "dropout-fresh": "dropout, fresh masks"}
    fig, axes = new_figure(4, panel_size=(3.8, 3.6))
    for ax, key in zip(axes, SETTINGS, strict=True):
        r = runs[key]
        assert r.params is not None  # every run of this experiment keeps its weights
        plot_decision_boundary(
            ax, network_classifier(r.params, ACTIVATIONS), data.X_test, data.Y_test,
            f"{short[key]}\ntrain {r.accuracy['train']}, test {r.accuracy['test']}",
        )
    save_figure(fig, out_dir / "d_regularization.png",
                "decision boundaries over the test points")
    fig, axes = new_figure(1, panel_size=(6.0, 3.8))
    plot_costs(axes[0], {short[k]: runs[k].costs for k in SETTINGS}, log=True,
               title="cost during training (log scale)")
    save_figure(fig, out_dir / "d_regularization_costs.png")
    return [
        Figure("d_regularization.png",
               "No regularization, L2, and dropout (the course's fixed masks, and fresh masks) "
               "side by side, over the test points."),
        Figure("d_regularization_costs.png",
               "Their costs. The L2 cost includes the penalty; a dropout cost is that of the "
               "thinned network of each iteration."),
    ]


def notebook(runs: dict[str, ExperimentRun], figs: list[Figure]) -> str:
    none, l2, dc, df = (runs[k] for k in SETTINGS)
    return f"""\
Without regularization the network draws small islands around noisy training points: train
{none.accuracy["train"]}, test {none.accuracy["test"]}. **L2** (λ = 0.7) pulls every weight
toward zero and the boundary becomes smoother: train {l2.accuracy["train"]}, test
{l2.accuracy["test"]}. **Dropout** run exactly as the course's notebook runs it gives the
course's numbers — train {dc.accuracy["train"]}, test {dc.accuracy["test"]} — but that notebook
reseeds NumPy's generator with 1 at the start of every forward pass, so the masks are the same at
all 30000 iterations: it trains one fixed thinned network rather than averaging over random ones
(its cost falls smoothly, as a deterministic network's does).
With **fresh masks** at every iteration (dropout as intended; the course printed no number for
it) the cost is as noisy as real dropout makes it, and nnlab gets train {df.accuracy["train"]},
test {df.accuracy["test"]}.
"""
