"""b. The planar flower (course 1, week 3): a linear baseline, then one hidden tanh layer.

- scikit-learn's ``LogisticRegressionCV()`` with its defaults: a straight line through a flower.
  (The course prints its accuracy with ``%d``, as "47 %": any of 188 to 191 points of 400.)
- 2 → 4 tanh → 1 sigmoid, weights ``randn * 0.01`` from a ``RandomState(2)`` (W1, then W2),
  biases zero, α = 1.2, 10000 iterations of full-batch gradient descent (the course prints
  "90 %" with ``%d``: it is 363 of 400 points, 90.75 %).
- The same network with n_h = 1, 2, 3, 4, 5, 20, 50 hidden units, 5000 iterations, each
  initialized from a fresh ``RandomState(2)``.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np

from ..datasets import load_flower
from ..engine import train
from ._core import (
    Accuracy,
    CourseNumbers,
    ExperimentRun,
    Figure,
    Row,
    Task,
    accuracy_rows,
    count_correct,
    course,
    course_truncated,
    sample_costs,
)

NAME = "planar"
LETTER = "b"
TITLE = "Planar flower: logistic regression vs. one hidden layer"
ACTIVATIONS = ["tanh", "sigmoid"]
M = 400
HIDDEN_SIZES = (1, 2, 3, 4, 5, 20, 50)
#: The course's accuracies (of 400 points): the baseline, the 2-4-1 network, the hidden sizes.
COURSE = {
    "baseline": course_truncated(47, M),
    "n_h=4, 10000 iterations": course(363, M),
    "n_h=1": course(270, M),
    "n_h=2": course(269, M),
    "n_h=3": course(363, M),
    "n_h=4": course(362, M),
    "n_h=5": course(365, M),
    "n_h=20": course(360, M),
    "n_h=50": course(361, M),
}
#: run key → split → the course's number.
COURSE_NUMBERS: CourseNumbers = {k: {"train": c} for k, c in COURSE.items()}
#: Why a run may not match (shown in the report beside the row).
NOTES = {
    "n_h=20": (
        "thousands of steps of α = 1.2 amplify the last bits of the matrix products, so the "
        "count depends on the order in which the BLAS kernel sums them, not on the formulas. "
        "With OpenBLAS's generic kernel (OPENBLAS_CORETYPE=Prescott) nnlab gives the course's "
        "360 / 400 here (and 361 for n_h = 50), but then the 10000-iteration 2-4-1 run ends at "
        "362 instead of 363; with this machine's default kernel that run and every other one "
        "match and this one ends 2 points away. No single kernel reproduces every flower number "
        "the course printed, and some copies of the course notebook run elsewhere print "
        "90.5 % for n_h = 20 too."
    ),
}


def load(data_dir: str | os.PathLike[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """This experiment's data (raises ``DataFileError`` if a file is missing)."""
    return load_flower()


def run_baseline() -> ExperimentRun:
    """scikit-learn's ``LogisticRegressionCV()`` (default settings) on the flower."""
    from sklearn.linear_model import LogisticRegressionCV

    X, Y = load_flower()
    clf = LogisticRegressionCV()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # about defaults changing in later versions
        clf.fit(X.T, Y.ravel())
    predictions = clf.predict(X.T).reshape(1, -1)
    line = {"W1": clf.coef_.astype(np.float64), "b1": clf.intercept_.reshape(1, 1)}
    return ExperimentRun(
        "baseline", "LogisticRegressionCV()",
        {"model": "sklearn.linear_model.LogisticRegressionCV()"},
        {"train": Accuracy(int(np.sum(predictions == Y)), M)},
        params=line,
    )


def run_network(n_h: int, iterations: int) -> ExperimentRun:
    """2 → n_h tanh → 1 sigmoid, ``randn * 0.01`` from RandomState(2), α = 1.2."""
    X, Y = load_flower()
    # fast="exact": the textbook's arithmetic bit for bit. At α = 1.2 the path is chaotic
    # enough that rounding-level differences (the whole-epoch kernel's sums) move a few points
    # across the boundary after thousands of iterations (measured: 362 instead of 363 of 400).
    result = train(
        X, Y, [2, n_h, 1], ACTIVATIONS, init="random", init_scale=0.01, random_state=2,
        learning_rate=1.2, num_epochs=iterations, fast="exact",
    )
    key = f"n_h={n_h}" if iterations == 5000 else f"n_h={n_h}, {iterations} iterations"
    return ExperimentRun(
        key, f"2-{n_h}-1 tanh, {iterations} it.",
        {"layer_dims": [2, n_h, 1], "activations": ACTIVATIONS, "init": "randn * 0.01",
         "random_state": 2, "learning_rate": 1.2, "iterations": iterations, "batch": "full"},
        {"train": count_correct(X, Y, result.params, ACTIVATIONS)},
        sample_costs(result.costs), result.params,
    )


def tasks(data_dir: str | None) -> list[Task]:
    out = [
        Task(NAME, "baseline", run_baseline, {}, weight=0.5, sklearn=True),
        Task(NAME, "n_h=4, 10000 iterations", run_network, {"n_h": 4, "iterations": 10000},
             weight=1.5),
    ]
    out += [
        Task(NAME, f"n_h={n}", run_network, {"n_h": n, "iterations": 5000},
             weight=0.5 + 0.02 * n)
        for n in HIDDEN_SIZES
    ]
    return out


def rows(runs: dict[str, ExperimentRun]) -> list[Row]:
    return accuracy_rows(f"{LETTER} {NAME}", runs, COURSE_NUMBERS)


def figures(runs: dict[str, ExperimentRun], data_dir: str | None, out_dir: Path) -> list[Figure]:
    from ..plotting import (
        network_classifier,
        new_figure,
        plot_costs,
        plot_decision_boundary,
        plot_points,
        save_figure,
    )

    X, Y = load_flower()
    base, net = runs["baseline"], runs["n_h=4, 10000 iterations"]
    assert base.params is not None and net.params is not None  # these runs keep their weights
    fig, axes = new_figure(4, panel_size=(3.8, 3.6))
    plot_points(axes[0], X, Y, "the flower: 400 points")
    plot_decision_boundary(axes[1], network_classifier(base.params, ["sigmoid"]), X, Y,
                           f"logistic regression: {base.accuracy['train']}")
    plot_decision_boundary(axes[2], network_classifier(net.params, ACTIVATIONS), X, Y,
                           f"2-4-1 tanh: {net.accuracy['train']}")
    plot_costs(axes[3], {"2-4-1 tanh": net.costs}, title="cost, α = 1.2")
    save_figure(fig, out_dir / "b_planar.png")

    fig, axes = new_figure(len(HIDDEN_SIZES), ncols=4, panel_size=(3.4, 3.2))
    for ax, n in zip(axes, HIDDEN_SIZES, strict=True):
        r = runs[f"n_h={n}"]
        assert r.params is not None  # every network run keeps its weights
        plot_decision_boundary(ax, network_classifier(r.params, ACTIVATIONS), X, Y,
                               f"n_h = {n}: {r.accuracy['train']}")
    save_figure(fig, out_dir / "b_planar_hidden_sizes.png",
                "hidden layer size (5000 iterations each)")
    return [
        Figure("b_planar.png", "The flower, the best straight line, and the 2-4-1 tanh network."),
        Figure("b_planar_hidden_sizes.png", "The decision boundary for each hidden layer size."),
    ]


def notebook(runs: dict[str, ExperimentRun], figs: list[Figure]) -> str:
    base, net = runs["baseline"], runs["n_h=4, 10000 iterations"]
    sizes = ", ".join(f"{n}: {format_short(runs[f'n_h={n}'].accuracy['train'])}"
                      for n in HIDDEN_SIZES)
    r20 = runs["n_h=20"]
    note = ""
    if not COURSE["n_h=20"].matches(r20.accuracy["train"]):
        note = f"\n*About n_h = 20 ({r20.accuracy['train']}, course 90 %):* {NOTES['n_h=20']}\n"
    return f"""\
The flower is not linearly separable: the best straight line scikit-learn finds labels
{base.accuracy["train"]} of the points correctly, about chance. One hidden layer of four tanh
units, trained by the backpropagation formulas of the engine, bends the boundary around the
petals: {net.accuracy["train"]}.

Hidden layer sizes (5000 iterations each) — {sizes}. One or two units are too few to draw the
petals; from three on the network fits them, and more units mostly fit the noise.
{note}"""


def format_short(accuracy: Accuracy) -> str:
    return f"{accuracy.percent:.2f}".rstrip("0").rstrip(".") + " %"
