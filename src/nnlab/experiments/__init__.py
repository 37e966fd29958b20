"""The course's experiments, run on the engine's public functions.

Each module is one experiment; ``nnlab reproduce`` (``run_experiments``) runs them in parallel
processes and writes the report.

| letter | name | what |
| --- | --- | --- |
| a | ``logistic`` | logistic regression on the cat pictures, and four learning rates |
| b | ``planar`` | the planar flower: a linear baseline, 2-4-1 tanh, hidden sizes 1 to 50 |
| c | ``initialization`` | zeros / randn·10 / He on the circles |
| d | ``regularization`` | none / L2 / dropout on the football data |
| e | ``optimization`` | mini-batch gradient descent / momentum / Adam on the moons |
| f | ``deep`` | 2-layer and 4-layer networks on the cat pictures |
| g | ``gradcheck`` | gradient checking, 1-D and N-D; the per-array report names the planted bugs |
| h | ``descent`` | full-batch, mini-batch and stochastic descent on the moons |
| i | ``momentum`` | mini-batch descent with and without momentum: the smoother path |
| j | ``stopping`` | per-example backprop on the football data, stopped by its validation set |
| k | ``normalization`` | raw, scaled and standardized pixels for logistic regression on the cats |

a-g reproduce the course's printed numbers; h-k (and g's per-array check) the claims it makes
with figures, each tested on nnlab's numbers (``Row.claim``).
"""

from __future__ import annotations

from ._core import Accuracy, Expected, ExperimentRun, Figure, Row, Task
from ._registry import EXPERIMENTS, resolve
from .scheduler import ExperimentResult, Report, run_experiments

__all__ = [
    "EXPERIMENTS",
    "Accuracy",
    "ExperimentResult",
    "ExperimentRun",
    "Expected",
    "Figure",
    "Report",
    "Row",
    "Task",
    "resolve",
    "run_experiments",
]
