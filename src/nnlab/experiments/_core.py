"""The pieces every experiment is made of.

An experiment module (``logistic``, ``planar``, ...) defines:

- ``NAME``, ``LETTER``, ``TITLE``: how ``--only`` and the report name it;
- ``load(data_dir)``: reads its data (raising ``DataFileError`` if a file is missing), so that the
  scheduler can skip it with a clear message before starting anything;
- ``tasks(data_dir) -> list[Task]``: its independent training runs, each a picklable call that
  the scheduler may send to another process;
- ``rows(runs) -> list[Row]``: the course's numbers beside nnlab's, for the table;
- ``figures(runs, data_dir, out_dir) -> list[Figure]`` and ``notebook(runs, figures) -> str``:
  its pictures and its section of ``report.md``.

A run's accuracy is a count of correct predictions, and "match" means the same count as the
course's (a course number printed with fewer digits stands for every count it could round from).
Some experiments (h-k, and part of g) reproduce a *claim* the course makes with a figure rather
than a number ("SGD's path is noisy", "normalized inputs converge faster"): their rows are
``claim=True``, the course column states the claim, the nnlab column the numbers that test it, and
``match`` says whether those numbers show it. Claims are counted apart from the course's numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._random import Rng, randn
from ..network import predict

Params = dict[str, np.ndarray]


@dataclass(frozen=True)
class Accuracy:
    """``correct`` of ``total`` examples classified correctly."""

    correct: int
    total: int

    @property
    def percent(self) -> float:
        return 100.0 * self.correct / self.total

    def __str__(self) -> str:
        return f"{format_percent(self.percent)} ({self.correct}/{self.total})"

    def to_json(self) -> dict[str, Any]:
        return {"correct": self.correct, "total": self.total, "percent": self.percent}


def format_percent(p: float) -> str:
    """A percentage rounded to two decimals: 99.04 %, 89.00 % (for 88.995...); trailing zeros are
    dropped only when the value is exact: 70 %, 67.5 %."""
    text = f"{p:.2f}"
    if abs(p - round(p, 2)) < 1e-9:
        text = text.rstrip("0").rstrip(".")
    return f"{text} %"


@dataclass(frozen=True)
class Expected:
    """A number the course printed, and the counts of correct predictions it stands for.

    ``counts`` usually holds one count; a number printed with fewer digits (the flower baseline's
    "47 %", printed with ``%d``) stands for every count that prints the same.
    """

    text: str
    counts: tuple[int, ...]
    total: int

    def matches(self, accuracy: Accuracy) -> bool:
        return accuracy.total == self.total and accuracy.correct in self.counts


def course(correct: int, total: int, text: str | None = None) -> Expected:
    """The course's accuracy ``correct / total`` (as a percentage unless ``text`` is given)."""
    return Expected(text or format_percent(100.0 * correct / total), (correct,), total)


def course_truncated(percent: int, total: int) -> Expected:
    """A course accuracy printed as ``'%d' % p``: every count whose percentage truncates to it."""
    counts = tuple(c for c in range(total + 1) if math.floor(100.0 * c / total) == percent)
    return Expected(f"{percent} %", counts, total)


@dataclass(frozen=True)
class Row:
    """One line of the terminal table: the course's number beside nnlab's.

    ``match`` is None when the course printed nothing to compare with. With ``claim=True`` the
    row is a claim the course makes (in words, in ``course``) and ``match`` says whether nnlab's
    numbers (in ``nnlab``) show it.
    """

    experiment: str
    setting: str
    course: str
    nnlab: str
    match: bool | None
    claim: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "experiment": self.experiment,
            "setting": self.setting,
            "course": self.course,
            "nnlab": self.nnlab,
            "match": self.match,
            **({"claim": True} if self.claim else {}),
        }


def claim_row(experiment: str, setting: str, claim: str, numbers: str, holds: bool) -> Row:
    """A row for a claim of the course: ``numbers`` are nnlab's, ``holds`` whether they show it."""
    return Row(experiment, setting, claim, numbers, bool(holds), claim=True)


def accuracy_row(
    experiment: str, setting: str, expected: Expected | None, accuracy: Accuracy
) -> Row:
    """A table row for an accuracy, compared by count when the course printed one."""
    if expected is None:
        return Row(experiment, setting, "—", str(accuracy), None)
    return Row(experiment, setting, expected.text, str(accuracy), expected.matches(accuracy))


#: run key → split ("train", "test") → the course's number (None: the course printed none).
CourseNumbers = dict[str, dict[str, "Expected | None"]]


def accuracy_rows(experiment: str, runs: Mapping[str, ExperimentRun],
                  numbers: CourseNumbers) -> list[Row]:
    """One row per run and split, in the order of ``numbers``."""
    return [
        accuracy_row(experiment, f"{runs[key].label}: {split}", expected,
                     runs[key].accuracy[split])
        for key, splits in numbers.items()
        for split, expected in splits.items()
    ]


@dataclass
class ExperimentRun:
    """What one training run produced.

    Attributes:
        key: short name within the experiment ("he", "adam", "n_h=20").
        label: what the report calls it.
        setting: every hyperparameter, as JSON-able values.
        accuracy: "train" and, where there is a test set, "test".
        costs: ``[(iteration, cost), ...]`` every 100 iterations (epochs) and the last one.
        params: the trained parameters, kept for the pictures of 2-D runs (not written to JSON).
        extra: anything else the experiment reports (JSON-able).
        timings: wall-clock seconds the run measured, by name (shown in report.md, not written to
            JSON: they change from one run to the next, and the JSON must not).
    """

    key: str
    label: str
    setting: dict[str, Any]
    accuracy: dict[str, Accuracy] = field(default_factory=dict)
    costs: list[tuple[int, float]] = field(default_factory=list)
    params: Params | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "setting": self.setting,
            "accuracy": {k: a.to_json() for k, a in self.accuracy.items()},
            "costs": [[i, c] for i, c in self.costs],
            **({"extra": self.extra} if self.extra else {}),
        }


@dataclass(frozen=True)
class Task:
    """One independent run: ``fn(**kwargs) -> ExperimentRun``, with ``fn`` a module-level
    function so that the task can be sent to a worker process. ``weight`` is its rough cost in
    seconds here, used only to start the longest runs first. ``sklearn``: the run imports
    scikit-learn (the scheduler keeps such runs off the worker started before the import)."""

    experiment: str
    key: str
    fn: Callable[..., ExperimentRun]
    kwargs: Mapping[str, Any]
    weight: float = 1.0
    sklearn: bool = False

    def __call__(self) -> ExperimentRun:
        return self.fn(**self.kwargs)


@dataclass(frozen=True)
class Figure:
    """A PNG written into the report folder, and its caption."""

    filename: str
    caption: str


def count_correct(
    X: np.ndarray, Y: np.ndarray, params: Mapping[str, np.ndarray], activations: Sequence[str]
) -> Accuracy:
    """How many of the m columns of X ``(n_x, m)`` the network labels as Y ``(1, m)`` does."""
    predictions = predict(X, params, activations)
    return Accuracy(int(np.sum(predictions == Y)), int(Y.shape[1]))


def sample_costs(costs: Sequence[float], every: int = 100) -> list[tuple[int, float]]:
    """``[(0, J0), (100, J100), ..., (last, J_last)]`` from one cost per iteration."""
    picked = [(i, float(costs[i])) for i in range(0, len(costs), every)]
    if costs and picked[-1][0] != len(costs) - 1:
        picked.append((len(costs) - 1, float(costs[-1])))
    return picked


def settled_at_or_below(costs: Sequence[float], target: float) -> int | None:
    """The first index from which every cost is ≤ ``target`` (it reached the target and stayed
    there to the end of the run), or None. With ``costs[i]`` the cost after i updates (or
    epochs), that is how many a run needed; a cost that dips below and bounces back up does not
    count as reached.

    >>> settled_at_or_below([0.70, 0.69, 0.67, 0.66], 0.68)
    2
    >>> settled_at_or_below([0.70, 0.49, 0.80, 0.45, 0.40], 0.5)
    3
    >>> settled_at_or_below([0.70, 0.69], 0.5) is None
    True
    """
    settled = None
    for i in range(len(costs) - 1, -1, -1):
        if costs[i] > target:
            break
        settled = i
    return settled


class Reseeded:
    """``step -> rng``: one ``RandomState`` reseeded with ``seed_of(step)`` at every call.

    The course reseeds NumPy's global generator with ``s`` before drawing (the shuffle of
    epoch e uses seed 11 + e; the dropout masks use seed 1 at every forward pass).
    ``RandomState.seed(s)`` gives the same stream as ``RandomState(s)`` and is ~80 times cheaper
    than building a new generator, which matters at 30000 steps. Picklable, so runs that use it
    can go to worker processes.
    """

    def __init__(self, offset: int = 0, constant: bool = False):
        self.offset, self.constant = int(offset), bool(constant)
        self._rng = np.random.RandomState()

    def seed_of(self, step: int) -> int:
        return self.offset if self.constant else self.offset + step

    def __call__(self, step: int) -> Rng:
        self._rng.seed(self.seed_of(step))
        return self._rng


def divide_by_sqrt_fan_in(n_l: int, n_prev: int, rng: Rng) -> np.ndarray:
    """W = randn(n[l], n[l-1]) / sqrt(n[l-1]): the course's regularization and deep-network
    notebooks' form. (nnlab's "xavier" is ``randn * sqrt(1 / n)``: the same number mathematically,
    but not always the same last bit, and these runs are compared bit for bit.)"""
    return randn(rng, (n_l, n_prev)) / np.sqrt(n_prev)
