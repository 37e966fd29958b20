"""j. Backpropagation with stochastic descent and validation-based stopping.

The course notes' algorithm, on the football data with its own validation set (``Xval``, 200
points; 211 training points): the regularization experiment's 2-20-3-1 network (relu, relu,
sigmoid) with weights ``randn / sqrt(n[l-1])`` from a ``RandomState(3)``, and then

    repeat for epoch = 1, 2, ...:
        shuffle the training examples (a permutation drawn from one ``RandomState(1)``)
        for each example (x, y) in that order: forward, backward, θ -= α dθ   (α = 0.03)
        compute the cost J on the validation set
        if J_val is the lowest so far: remember θ and the epoch
        else if it has not fallen for 5 epochs (the patience): stop
    return the remembered θ

"Error" here is the cost J (cross-entropy) that backprop minimizes; the share of misclassified
points is recorded too. The run is capped at 200 epochs.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from .. import optimizers
from ..datasets import TrainTest, load_football
from ..engine import explain_path, make_stepper
from ..initializers import initialize_parameters
from ..network import compute_cost, model_forward, predict
from ..training import EpochLoop, LoopCallback
from ._core import (
    ExperimentRun,
    Figure,
    Params,
    Row,
    Task,
    accuracy_row,
    claim_row,
    count_correct,
    divide_by_sqrt_fan_in,
)

NAME = "stopping"
LETTER = "j"
TITLE = "Stochastic backprop with validation-based stopping"
LAYERS = [2, 20, 3, 1]
ACTIVATIONS = ["relu", "relu", "sigmoid"]
ALPHA = 0.03
PATIENCE = 5
MAX_EPOCHS = 200
SHUFFLE_SEED = 1
SETTINGS = {"sgd": "per-example updates, validation-based stopping"}
#: No course numbers: the notes give the algorithm, not a result; see ``rows``.
COURSE_NUMBERS: dict = {}


def load(data_dir: str | os.PathLike[str] | None = None) -> TrainTest:
    """This experiment's data (raises ``DataFileError`` if data.mat is missing)."""
    return load_football(data_dir)


def cost_and_error(X: np.ndarray, Y: np.ndarray, params: Params) -> tuple[float, float]:
    """J and the share of misclassified columns of X (n_x, m), Y (1, m)."""
    AL, _ = model_forward(X, params, ACTIVATIONS)
    wrong = np.mean(predict(X, params, ACTIVATIONS) != Y)
    return float(compute_cost(AL, Y)), float(wrong)


def train_with_validation_stopping(
    data: TrainTest,
    learning_rate: float = ALPHA,
    patience: int = PATIENCE,
    max_epochs: int = MAX_EPOCHS,
    seed: int = SHUFFLE_SEED,
) -> dict[str, Any]:
    """The algorithm of the module docstring, in the epoch loop (batches of one example, the
    shuffles from one generator, a callback keeping the best weights and stopping). Returns the
    best parameters, the epoch they come from, the epoch it stopped at, and per epoch (0: before
    training) the training and validation cost and error."""
    params = initialize_parameters(LAYERS, divide_by_sqrt_fan_in, np.random.RandomState(3))
    optimizer = optimizers.gd(learning_rate)
    path = explain_path(optimizer=optimizer, dtype=data.X_train.dtype, activations=ACTIVATIONS,
                        dims=LAYERS, fast="exact")
    stepper = make_stepper(path, params, ACTIVATIONS, optimizer, fast="exact")
    shuffles = np.random.RandomState(seed)
    stopper = _ValidationStopping(data, patience)
    stopper.record(params)
    loop = EpochLoop(stepper, data.X_train, data.Y_train, batch_size=1,
                     shuffle_rng=lambda epoch: shuffles, learning_rate=learning_rate,
                     callbacks=[stopper])
    loop.run(max_epochs)
    epoch, m = loop.epoch, data.X_train.shape[1]
    return {"params": stopper.best_params, "best_epoch": stopper.best_epoch,
            "stopped_epoch": epoch, "stopped_early": epoch - stopper.best_epoch >= patience,
            "updates": epoch * m, "history": stopper.history}


class _ValidationStopping(LoopCallback):
    """After every epoch: the training and validation cost and error; keep the weights of the
    lowest validation cost; stop when it has not fallen for ``patience`` epochs."""

    def __init__(self, data: TrainTest, patience: int):
        self.data, self.patience = data, patience
        self.history: dict[str, list[float]] = {"train_cost": [], "val_cost": [],
                                                "train_error": [], "val_error": []}
        self.best_cost, self.best_epoch = math.inf, 0
        self.best_params: Params = {}

    def record(self, params: Params, epoch: int = 0) -> None:
        d = self.data
        for split, (Xs, Ys) in (("train", (d.X_train, d.Y_train)), ("val", (d.X_test, d.Y_test))):
            cost, error = cost_and_error(Xs, Ys, params)
            self.history[f"{split}_cost"].append(cost)
            self.history[f"{split}_error"].append(error)
        if self.history["val_cost"][-1] < self.best_cost:
            self.best_cost, self.best_epoch = self.history["val_cost"][-1], epoch
            self.best_params = {k: v.copy() for k, v in params.items()}

    def on_epoch_end(self, epoch: int, logs: dict[str, float], loop: EpochLoop) -> None:
        self.record(loop.stepper.params, epoch + 1)  # epoch 0 is before training
        if epoch + 1 - self.best_epoch >= self.patience:
            loop.stop_training = True


def run(data_dir: str | None) -> ExperimentRun:
    data = load_football(data_dir)
    out = train_with_validation_stopping(data)
    h, best = out["history"], out["best_epoch"]
    return ExperimentRun(
        "sgd", SETTINGS["sgd"],
        {"layer_dims": LAYERS, "activations": ACTIVATIONS, "init": "randn / sqrt(n[l-1])",
         "random_state": 3, "optimizer": "gd", "learning_rate": ALPHA, "batch_size": 1,
         "shuffle": f"one RandomState({SHUFFLE_SEED}), a permutation per epoch",
         "stop_on": "validation cost", "patience": PATIENCE, "max_epochs": MAX_EPOCHS},
        {"train": count_correct(data.X_train, data.Y_train, out["params"], ACTIVATIONS),
         "validation": count_correct(data.X_test, data.Y_test, out["params"], ACTIVATIONS)},
        list(enumerate(h["val_cost"])),
        out["params"],
        extra={
            "best_epoch": best,
            "stopped_epoch": out["stopped_epoch"],
            "stopped_early": out["stopped_early"],
            "updates": out["updates"],
            "best_val_cost": h["val_cost"][best],
            "best_val_error": h["val_error"][best],
            **h,
        },
    )


def tasks(data_dir: str | None) -> list[Task]:
    return [Task(NAME, "sgd", run, {"data_dir": data_dir}, weight=0.6)]


def rows(runs: dict[str, ExperimentRun]) -> list[Row]:
    exp = f"{LETTER} {NAME}"
    r = runs["sgd"]
    e = r.extra
    after = e["val_cost"][e["best_epoch"] + 1:]
    waited = (e["stopped_early"] and e["stopped_epoch"] == e["best_epoch"] + PATIENCE
              and len(after) == PATIENCE and min(after) >= e["best_val_cost"])
    return [
        claim_row(exp, f"stopped at epoch (best epoch), patience {PATIENCE}",
                  "stop when the validation error stops falling",
                  f"{e['stopped_epoch']} ({e['best_epoch']}), {e['updates']} updates", waited),
        claim_row(exp, "best validation cost (epoch 0: before training)",
                  "the kept weights are the best on validation",
                  f"{e['best_val_cost']:.4f} (epoch 0: {e['val_cost'][0]:.4f})",
                  e["best_val_cost"] == min(e["val_cost"]) < e["val_cost"][0]),
        accuracy_row(exp, "kept weights: train", None, r.accuracy["train"]),
        accuracy_row(exp, "kept weights: validation", None, r.accuracy["validation"]),
    ]


def figures(runs: dict[str, ExperimentRun], data_dir: str | None, out_dir: Path) -> list[Figure]:
    from ..plotting import network_classifier, new_figure, plot_decision_boundary, save_figure

    r = runs["sgd"]
    e = r.extra
    epochs = np.arange(len(e["val_cost"]))
    fig, axes = new_figure(3, panel_size=(4.6, 3.8))
    for ax, kind, scale, ylabel in ((axes[0], "cost", 1.0, "cost J"),
                                    (axes[1], "error", 100.0, "misclassified (%)")):
        ax.plot(epochs, scale * np.asarray(e[f"train_{kind}"]), "o-", markersize=2.5,
                label="training set")
        ax.plot(epochs, scale * np.asarray(e[f"val_{kind}"]), "o-", markersize=2.5,
                label="validation set")
        ax.axvline(e["stopped_epoch"], color="black", linestyle="--", linewidth=1,
                   label=f"stopped (epoch {e['stopped_epoch']})")
        ax.plot([e["best_epoch"]], [scale * e[f"val_{kind}"][e["best_epoch"]]], "*",
                color="black", markersize=11, label=f"kept: epoch {e['best_epoch']}")
        ax.set_xlabel("epoch")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    axes[0].set_title("cost per epoch", fontsize=10)
    axes[1].set_title("classification error per epoch", fontsize=10)
    data = load_football(data_dir)
    assert r.params is not None  # the run keeps its weights
    plot_decision_boundary(
        axes[2], network_classifier(r.params, ACTIVATIONS), data.X_test, data.Y_test,
        f"kept weights over the validation points\nvalidation {r.accuracy['validation']}")
    save_figure(fig, out_dir / "j_stopping.png",
                f"per-example updates, α = {ALPHA:g}, patience {PATIENCE} epochs")
    return [Figure("j_stopping.png",
                   "Training and validation cost and error after every epoch of per-example "
                   "updates; the run stops once the validation cost has not fallen for "
                   f"{PATIENCE} epochs and keeps the weights of the best epoch (star).")]


def notebook(runs: dict[str, ExperimentRun], figs: list[Figure]) -> str:
    r = runs["sgd"]
    e = r.extra
    m = e["updates"] // max(e["stopped_epoch"], 1)
    return f"""\
Each epoch visits the {m} training points once, in a new random order, and updates the weights
after every one of them. The validation cost falls quickly at first (from {e["val_cost"][0]:.3f}
before training to {e["val_cost"][min(3, len(e["val_cost"]) - 1)]:.3f} after three epochs), then
hovers: per-example steps at α = {ALPHA:g} are noisy, and after epoch {e["best_epoch"]} (validation
cost {e["best_val_cost"]:.4f}, {100 * e["best_val_error"]:.1f} % of the validation points
misclassified) it did not fall again for {PATIENCE} epochs, so the run stopped at epoch
{e["stopped_epoch"]}, after {e["updates"]} updates, and kept the weights of epoch
{e["best_epoch"]}: train {r.accuracy["train"]}, validation {r.accuracy["validation"]}.

For comparison, the course's unregularized full-batch network in d (same architecture and
initial weights) needs 30000 iterations and scores 91.5 % on these 200 points. The validation
set chose the stopping epoch here, so its accuracy is a slightly optimistic estimate; a third,
untouched set would be needed for an unbiased one, and the football data has only two.
"""
