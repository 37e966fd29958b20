"""g. Gradient checking (course 2, week 1).

Two-sided finite differences ``(J(θ + ε) - J(θ - ε)) / 2ε`` with ε = 1e-7 against backprop's
gradient, compared by ``||g - g̃|| / (||g|| + ||g̃||)``:

- 1-D: ``J(θ) = θ x`` with x = 2, θ = 4, whose derivative is x (course threshold 1e-7);
- N-D: a 4-5-3-1 network (relu, relu, sigmoid) on m = 3 random examples — the course's test case:
  from a ``RandomState(1)``, ``X = randn(4, 3)``, then W1, b1, W2, b2, W3, b3 each ``randn``, and
  Y = [1, 1, 0] (threshold 2e-7). Checked twice: with the backward pass the course hands out with
  two planted bugs (``dW2`` doubled and ``db1`` times 4), which the check must catch, and with
  nnlab's ``model_backward``, which must pass.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from ..gradcheck import THRESHOLD, gradient_check, relative_difference
from ..network import model_backward, model_forward
from ._core import Figure, Row, Run, Task

NAME = "gradcheck"
LETTER = "g"
TITLE = "Gradient checking"
ACTIVATIONS = ["relu", "relu", "sigmoid"]
EPSILON = 1e-7
ONE_D_THRESHOLD = 1e-7
#: What the course's notebook printed.
COURSE_1D = 2.919335883291695e-10
COURSE_BUGGY = 0.28509315678069896
#: No accuracies here: the rows compare relative differences and verdicts (see ``rows``).
COURSE_NUMBERS: dict = {}


def load(data_dir: str | os.PathLike[str] | None = None) -> None:
    return None


def check_1d(x: float = 2.0, theta: float = 4.0, epsilon: float = EPSILON) -> float:
    """The relative difference between dJ/dθ = x and the two-sided estimate, for J(θ) = θ x."""
    J_plus = (theta + epsilon) * x
    J_minus = (theta - epsilon) * x
    approx = (J_plus - J_minus) / (2 * epsilon)
    return relative_difference(np.array([x]), np.array([approx]))


def course_test_case() -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """X (4, 3), Y (1, 3) and the parameters of a 4-5-3-1 network, drawn as the course does."""
    rng = np.random.RandomState(1)
    X = rng.randn(4, 3)
    Y = np.array([[1.0, 1.0, 0.0]])
    params = {}
    for l, (n, n_prev) in enumerate([(5, 4), (3, 5), (1, 3)], start=1):
        params[f"W{l}"] = rng.randn(n, n_prev)
        params[f"b{l}"] = rng.randn(n, 1)
    return X, Y, params


def buggy_backward(
    params: Mapping[str, np.ndarray], X: np.ndarray, Y: np.ndarray
) -> dict[str, np.ndarray]:
    """Backprop with the course's two planted mistakes: dW2 twice too large, db1 four times."""
    AL, caches = model_forward(X, params, ACTIVATIONS)
    grads = model_backward(AL, Y, caches)
    grads["dW2"] = grads["dW2"] * 2
    grads["db1"] = grads["db1"] * 4
    return grads


def run() -> Run:
    X, Y, params = course_test_case()
    buggy = gradient_check(params, X, Y, ACTIVATIONS, epsilon=EPSILON, grad_fn=buggy_backward)
    right = gradient_check(params, X, Y, ACTIVATIONS, epsilon=EPSILON)
    one_d = check_1d()
    return Run(
        "checks", "gradient checks",
        {"epsilon": EPSILON, "threshold_1d": ONE_D_THRESHOLD, "threshold": THRESHOLD,
         "network": [4, 5, 3, 1], "activations": ACTIVATIONS, "m": 3},
        extra={
            "1d": {"difference": one_d, "passed": one_d < ONE_D_THRESHOLD},
            "buggy": {"difference": buggy.difference, "passed": buggy.passed,
                      "per_parameter": buggy.per_parameter, "report": buggy.report()},
            "nnlab": {"difference": right.difference, "passed": right.passed,
                      "per_parameter": right.per_parameter, "report": right.report()},
        },
    )


def tasks(data_dir: str | None) -> list[Task]:
    return [Task(NAME, "checks", run, {}, weight=0.3)]


def _verdict(passed: bool) -> str:
    return "passes" if passed else "fails"


def _same(a: float, b: float) -> bool:
    """Equal to the four significant digits the table shows."""
    return f"{a:.4g}" == f"{b:.4g}"


def rows(runs: dict[str, Run]) -> list[Row]:
    e = runs["checks"].extra
    exp = f"{LETTER} {NAME}"
    d1, bug, ok = e["1d"], e["buggy"], e["nnlab"]
    return [
        Row(exp, "1-D J(θ) = θx", f"{COURSE_1D:.4g}, passes",
            f"{d1['difference']:.4g}, {_verdict(d1['passed'])}",
            _same(d1["difference"], COURSE_1D) and d1["passed"]),
        Row(exp, "4-5-3-1, course's planted bugs",
            f"{COURSE_BUGGY:.4g}, fails", f"{bug['difference']:.4g}, {_verdict(bug['passed'])}",
            _same(bug["difference"], COURSE_BUGGY) and not bug["passed"]),
        Row(exp, "4-5-3-1, nnlab's backprop", f"< {THRESHOLD:g}, passes",
            f"{ok['difference']:.4g}, {_verdict(ok['passed'])}", bool(ok["passed"])),
    ]


def figures(runs: dict[str, Run], data_dir: str | None, out_dir: Path) -> list[Figure]:
    from ..plotting import new_figure, plot_relative_differences, save_figure

    e = runs["checks"].extra
    fig, axes = new_figure(1, panel_size=(6.5, 3.8))
    plot_relative_differences(
        axes[0],
        {"nnlab's backprop": e["nnlab"]["per_parameter"],
         "course's buggy backprop": e["buggy"]["per_parameter"]},
        THRESHOLD, title="relative difference per parameter array",
    )
    save_figure(fig, out_dir / "g_gradcheck.png")
    return [Figure("g_gradcheck.png",
                   "Each parameter array's relative difference: the planted bugs stand out.")]


def notebook(runs: dict[str, Run], figs: list[Figure]) -> str:
    e = runs["checks"].extra
    return f"""\
For J(θ) = θx the two-sided difference reproduces the derivative to
{e["1d"]["difference"]:.3e} — the course's number to the last digit. On the 4-5-3-1 network the
check catches the course's planted bugs (relative difference {e["buggy"]["difference"]:.6f}, the
course's {COURSE_BUGGY:.6f}) and points at the arrays they are in, W2 and b1. nnlab's own
backward pass passes: {e["nnlab"]["difference"]:.3e}. (Per array, the tiny b1 and b3 gradients
are within rounding noise of 2e-7; the overall difference is what the course judges.)

```
{e["buggy"]["report"]}
```

```
{e["nnlab"]["report"]}
```
"""
