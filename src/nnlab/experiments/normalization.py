"""k. Normalizing inputs speeds up gradient descent (course 2, week 1).

Logistic regression on the 209 training pictures (the network [12288, 1], sigmoid), weights and
bias started at zero, full-batch gradient descent for 200 iterations, with the same learning
rates α = 0.001, 0.005, 0.01 for three versions of the same pixels ``x`` (12288 per picture):

- raw: ``x`` as stored, 0 to 255;
- divided by 255: ``x / 255``, 0 to 1, as the course and experiment a feed them;
- standardized per feature: ``(x - μ_j) / σ_j`` with each pixel value's mean μ_j and standard
  deviation σ_j over the training pictures, so every feature has mean 0 and variance 1.

Reported: the iterations each needs to bring the cost J to 0.5 for good (from then on J stays at
or below 0.5; it starts at log 2 ≈ 0.693), and whether it diverges, meaning J rises above
10 × J(0) at some iteration.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..datasets import load_cat, load_cat_images
from ..engine import train
from ._core import ExperimentRun, Figure, Row, Task, claim_row, settled_at_or_below

NAME = "normalization"
LETTER = "k"
TITLE = "Normalizing inputs"
ACTIVATIONS = ["sigmoid"]
ITERATIONS = 200
ALPHAS = (0.001, 0.005, 0.01)
TARGET = 0.5
#: J above DIVERGED × J(0) at any iteration: the run diverged.
DIVERGED = 10.0
#: input key → label
INPUTS = {"raw": "raw pixels (0-255)", "scaled": "pixels / 255",
          "standardized": "standardized per feature"}
SETTINGS = {f"{inp}:alpha={a:g}": (inp, a) for a in ALPHAS for inp in INPUTS}
#: No course numbers: the course makes this point with a figure; see ``rows``.
COURSE_NUMBERS: dict = {}


def load(data_dir: str | os.PathLike[str] | None = None) -> None:
    """Check that the cat pictures can be read (raises ``DataFileError`` if not)."""
    load_cat(data_dir)


def inputs(kind: str, data_dir: str | None) -> tuple[np.ndarray, np.ndarray]:
    """The training pictures as X (12288, 209) in the form ``kind``, and Y (1, 209)."""
    train_x, train_y, _, _ = load_cat_images(data_dir)
    raw = train_x.reshape(train_x.shape[0], -1).T.astype(np.float64)
    Y = train_y.reshape(1, -1).astype(np.float64)
    if kind == "raw":
        return raw, Y
    if kind == "scaled":
        return raw / 255.0, Y
    if kind == "standardized":
        return standardize(raw), Y
    raise ValueError(f"unknown input kind {kind!r}: expected one of {', '.join(INPUTS)}")


def standardize(X: np.ndarray) -> np.ndarray:
    """``(X - μ) / σ`` per feature (row) of X (n_x, m): μ_j and σ_j over the m examples.
    A feature that never varies (σ_j = 0) is only centred.

    >>> X = np.array([[0.0, 255.0, 51.0], [10.0, 10.0, 40.0]])
    >>> np.round(standardize(X), 3)
    array([[-0.926,  1.389, -0.463],
           [-0.707, -0.707,  1.414]])
    """
    mu = X.mean(axis=1, keepdims=True)
    sigma = X.std(axis=1, keepdims=True)
    return (X - mu) / np.where(sigma > 0, sigma, 1.0)


def run(key: str, data_dir: str | None) -> ExperimentRun:
    """Logistic regression on the inputs and α of ``key`` (see ``SETTINGS``)."""
    kind, alpha = SETTINGS[key]
    X, Y = inputs(kind, data_dir)
    n_x = X.shape[0]
    result = train(X, Y, [n_x, 1], ACTIVATIONS, init="zeros", learning_rate=alpha,
                   num_epochs=ITERATIONS)
    costs = [float(c) for c in result.costs]
    return ExperimentRun(
        key, f"{INPUTS[kind]}, α = {alpha:g}",
        {"inputs": kind, "layer_dims": [n_x, 1], "activations": ACTIVATIONS, "init": "zeros",
         "learning_rate": alpha, "iterations": ITERATIONS, "batch": "full"},
        costs=list(enumerate(costs)),
        extra={
            "iterations_to_target": settled_at_or_below(costs, TARGET),
            "diverged": max(costs) > DIVERGED * costs[0],
            "max_cost": max(costs),
            "lowest_after_first_step": min(costs[1:], default=costs[0]),
            "final_cost": costs[-1],
            "input_mean": float(X.mean()),
        },
    )


def tasks(data_dir: str | None) -> list[Task]:
    return [Task(NAME, key, run, {"key": key, "data_dir": data_dir}, weight=0.0025 * ITERATIONS)
            for key in SETTINGS]


def _key(kind: str, alpha: float) -> str:
    return f"{kind}:alpha={alpha:g}"


def _iterations(n: int | None) -> str:
    return "—" if n is None else str(n)


def rows(runs: dict[str, ExperimentRun]) -> list[Row]:
    exp = f"{LETTER} {NAME}"

    def needed(kind: str, a: float) -> float:
        n = runs[_key(kind, a)].extra["iterations_to_target"]
        return np.inf if n is None else n

    alphas = ", ".join(f"{a:g}" for a in ALPHAS)
    faster = all(needed("standardized", a) < needed("scaled", a) for a in ALPHAS)
    raw = [runs[_key("raw", a)].extra for a in ALPHAS]
    return [
        claim_row(
            exp, f"iterations to J ≤ {TARGET:g} at α = {alphas}: /255 → standardized",
            "normalized inputs reach the cost in fewer iterations",
            " → ".join(", ".join(_iterations(runs[_key(k, a)].extra["iterations_to_target"])
                                 for a in ALPHAS) for k in ("scaled", "standardized")),
            faster),
        claim_row(
            exp, f"raw pixels 0-255, the same α = {alphas}",
            "unnormalized inputs diverge",
            "max J " + ", ".join(f"{e['max_cost']:.0f}" for e in raw)
            + f" (J(0) = {runs[_key('raw', ALPHAS[0])].costs[0][1]:.3f})",
            all(e["diverged"] and e["iterations_to_target"] is None for e in raw)),
    ]


def figures(runs: dict[str, ExperimentRun], data_dir: str | None, out_dir: Path) -> list[Figure]:
    from ..plotting import new_figure, plot_costs, save_figure

    fig, axes = new_figure(len(ALPHAS), panel_size=(4.6, 3.8))
    for ax, a in zip(axes, ALPHAS, strict=True):
        plot_costs(ax, {INPUTS[k]: runs[_key(k, a)].costs for k in INPUTS}, log=True,
                   title=f"α = {a:g}")
        ax.axhline(TARGET, color="gray", linestyle=":", linewidth=1)
    save_figure(fig, out_dir / "k_normalization.png",
                "logistic regression on the cat pictures: the same α, three versions of the inputs")
    return [Figure("k_normalization.png",
                   f"The cost per iteration (log scale; dotted: J = {TARGET:g}) for raw, scaled "
                   "and standardized pixels at each learning rate.")]


def notebook(runs: dict[str, ExperimentRun], figs: list[Figure]) -> str:
    lines = ["| α | " + " | ".join(INPUTS.values()) + " |",
             "| --- | " + " | ".join("---" for _ in INPUTS) + " |"]
    for a in ALPHAS:
        cells = []
        for k in INPUTS:
            e = runs[_key(k, a)].extra
            if e["diverged"]:
                cells.append(f"diverges (J up to {e['max_cost']:.0f}, after the first step "
                             f"never below {e['lowest_after_first_step']:.0f})")
            else:
                cells.append(f"{_iterations(e['iterations_to_target'])} "
                             f"(J after {ITERATIONS}: {e['final_cost']:.3f})")
        lines.append(f"| {a:g} | " + " | ".join(cells) + " |")
    table = "\n".join(lines)
    mean = runs[_key("scaled", ALPHAS[0])].extra["input_mean"]
    return f"""\
Iterations after which J stays at or below {TARGET:g} ("—": not within {ITERATIONS}):

{table}

Gradient descent takes one α for every weight, but the cost's curvature along a weight grows with
the square of its input's scale. Raw pixel values up to 255 make the cost 255² times more curved
than the same pictures divided by 255: at every α here the first step overshoots so far that the
sigmoid saturates and J jumps to hundreds, where it stays (raw pixels would need an α about 255²
times smaller). Dividing by 255 fixes the scale, but every input is still positive, with a mean
of {mean:.2f}: the cost is then far more curved along the direction that moves all weights
together than along the others, so an α small enough for that direction is slow for the rest,
and a larger one zig-zags (the bands in the α = 0.005 and 0.01 curves). Standardizing each
feature to mean 0 and variance 1 removes that shared offset and gives every input the same
scale: at each α the cost reaches {TARGET:g} in fewer iterations. Standardization uses the
training set's μ and σ; the same μ and σ would be applied to any test picture.
"""

