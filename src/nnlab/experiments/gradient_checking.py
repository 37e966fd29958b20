"""g. Gradient checking (course 2, week 1).

Two-sided finite differences ``(J(θ + ε) - J(θ - ε)) / 2ε`` with ε = 1e-7 against backprop's
gradient, compared by ``||g - g̃|| / (||g|| + ||g̃||)``:

- 1-D: ``J(θ) = θ x`` with x = 2, θ = 4, whose derivative is x (course threshold 1e-7);
- N-D: a 4-5-3-1 network (relu, relu, sigmoid) on m = 3 random examples — the course's test case:
  from a ``RandomState(1)``, ``X = randn(4, 3)``, then W1, b1, W2, b2, W3, b3 each ``randn``, and
  Y = [1, 1, 0] (threshold 2e-7). Checked twice: with the backward pass the course hands out with
  two planted bugs (``dW2`` doubled and ``db1`` times 4, planted through ``gradient_check``'s
  ``grad_fn`` hook around ``model_backward``), which the check must catch, and with nnlab's
  ``model_backward``, which must pass;
- per parameter array: the same two checks with ε = 1e-5, where the report must name exactly the
  two arrays with planted bugs, dW2 and db1. (With the course's ε = 1e-7 the finite differences
  carry a rounding error of ~1e-7 from evaluating J itself, enough to push the ratio of a correct
  array with a small gradient over 2e-7: see the notebook. The error of the estimate against ε,
  from 1e-2 to 1e-10, shows why; and the same check with J computed from the logits shows where
  that error comes from.)
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

from ..gradcheck import (
    THRESHOLD,
    GradientCheckResult,
    gradient_check,
    grads_to_vector,
    parameter_keys,
    params_to_vector,
    relative_difference,
    vector_to_params,
)
from ..losses import binary_crossentropy, binary_crossentropy_from_logits
from ..network import model_backward, model_forward
from ._core import ExperimentRun, Figure, Params, Row, Task, claim_row

NAME = "gradcheck"
LETTER = "g"
TITLE = "Gradient checking"
ACTIVATIONS = ["relu", "relu", "sigmoid"]
EPSILON = 1e-7
ONE_D_THRESHOLD = 1e-7
#: The step for the per-array verdicts: J's rounding error over 2ε is 100 times smaller than at
#: 1e-7, while the truncation error (∝ ε²) is still far below it (see ``EPSILONS``).
EPSILON_PER_ARRAY = 1e-5
#: The steps of the sweep that shows the estimate's error against ε.
EPSILONS = tuple(10.0**-k for k in range(2, 11))
#: The arrays the course plants bugs in, as the gradients' names.
PLANTED = ("dW2", "db1")
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


def output_logits(params: Params, X: np.ndarray) -> np.ndarray:
    """Z[L] (1, m) of the 4-5-3-1 network: the output before its sigmoid."""
    _, caches = model_forward(X, params, ACTIVATIONS)
    return caches[-1].Z


def finite_differences(cost: Callable[[Params], float], params: Params,
                       epsilon: float) -> np.ndarray:
    """(J(θ + ε e_i) - J(θ - ε e_i)) / 2ε for every component i of θ (W1, b1, ... flattened),
    as ``gradient_check`` computes them, but for any ``cost(params) -> J``."""
    theta = params_to_vector(params)
    approx = np.empty_like(theta)
    for i in range(theta.size):
        plus, minus = theta.copy(), theta.copy()
        plus[i] += epsilon
        minus[i] -= epsilon
        approx[i] = (cost(vector_to_params(plus, params))
                     - cost(vector_to_params(minus, params))) / (2 * epsilon)
    return approx


def per_array(g: np.ndarray, approx: np.ndarray, params: Params) -> dict[str, float]:
    """The relative difference of each array W1, b1, ... (slices of the flat vectors)."""
    out, start = {}, 0
    for k in parameter_keys(params):
        n = params[k].size
        out[k] = relative_difference(g[start:start + n], approx[start:start + n])
        start += n
    return out


def gradient_names(arrays: list[str]) -> list[str]:
    """["b1", "W2"] → ["db1", "dW2"]: the gradients' names for the flagged arrays."""
    return [f"d{k}" for k in arrays]


def _summary(result: GradientCheckResult) -> dict:
    return {"difference": result.difference, "passed": result.passed,
            "per_parameter": result.per_parameter, "failing": result.failing,
            "report": result.report()}


def diagnose(X: np.ndarray, Y: np.ndarray, params: Params) -> dict:
    """Why per-array ratios of a correct backprop exceed 2e-7 at ε = 1e-7.

    - ``sweep``: for each ε of ``EPSILONS``, the largest error of one estimated partial
      derivative ``max_i |g_i - g̃_i|``, the overall difference and each array's ratio;
    - ``outputs``: the network's outputs a (1, m); J evaluated from them and from the logits;
    - ``logits``: the per-array ratios at ε = 1e-7 when J is computed from the logits,
      ``max(z, 0) - z y + log(1 + exp(-|z|))``, instead of from a through ``log(1 - a)``.
    """
    AL, caches = model_forward(X, params, ACTIVATIONS)
    g = grads_to_vector(model_backward(AL, Y, caches))
    sweep = []
    for eps in EPSILONS:
        r = gradient_check(params, X, Y, ACTIVATIONS, epsilon=eps)
        sweep.append({"epsilon": eps, "max_abs_error": float(np.max(np.abs(g - r.approx))),
                      "difference": r.difference, "per_parameter": r.per_parameter})

    def j_from_logits(p: Params) -> float:
        return float(binary_crossentropy_from_logits(output_logits(p, X), Y))

    approx = finite_differences(j_from_logits, params, EPSILON)
    return {
        "gradient_norms": {k: float(np.linalg.norm(v)) for k, v in
                           vector_to_params(g, params).items()},
        "sweep": sweep,
        "outputs": AL.ravel().tolist(),
        "labels": Y.ravel().tolist(),
        "cost_from_outputs": float(binary_crossentropy(AL, Y)),
        "cost_from_logits": j_from_logits(params),
        "logits": {"epsilon": EPSILON, "difference": relative_difference(g, approx),
                   "max_abs_error": float(np.max(np.abs(g - approx))),
                   "per_parameter": per_array(g, approx, params)},
    }


def run() -> ExperimentRun:
    X, Y, params = course_test_case()
    buggy = gradient_check(params, X, Y, ACTIVATIONS, epsilon=EPSILON, grad_fn=buggy_backward)
    right = gradient_check(params, X, Y, ACTIVATIONS, epsilon=EPSILON)
    buggy_fine = gradient_check(params, X, Y, ACTIVATIONS, epsilon=EPSILON_PER_ARRAY,
                                grad_fn=buggy_backward)
    right_fine = gradient_check(params, X, Y, ACTIVATIONS, epsilon=EPSILON_PER_ARRAY)
    one_d = check_1d()
    return ExperimentRun(
        "checks", "gradient checks",
        {"epsilon": EPSILON, "threshold_1d": ONE_D_THRESHOLD, "threshold": THRESHOLD,
         "network": [4, 5, 3, 1], "activations": ACTIVATIONS, "m": 3},
        extra={
            "1d": {"difference": one_d, "passed": one_d < ONE_D_THRESHOLD},
            "buggy": {"difference": buggy.difference, "passed": buggy.passed,
                      "per_parameter": buggy.per_parameter, "failing": buggy.failing,
                      "report": buggy.report()},
            "nnlab": {"difference": right.difference, "passed": right.passed,
                      "per_parameter": right.per_parameter, "failing": right.failing,
                      "report": right.report()},
            "per_array": {"epsilon": EPSILON_PER_ARRAY, "buggy": _summary(buggy_fine),
                          "nnlab": _summary(right_fine)},
            "diagnosis": diagnose(X, Y, params),
        },
    )


def tasks(data_dir: str | None) -> list[Task]:
    return [Task(NAME, "checks", run, {}, weight=0.3)]


def _verdict(passed: bool) -> str:
    return "passes" if passed else "fails"


def _same(a: float, b: float) -> bool:
    """Equal to the four significant digits the table shows."""
    return f"{a:.4g}" == f"{b:.4g}"


def _named(names: list[str]) -> str:
    return ", ".join(names) if names else "none"


def rows(runs: dict[str, ExperimentRun]) -> list[Row]:
    e = runs["checks"].extra
    exp = f"{LETTER} {NAME}"
    d1, bug, ok = e["1d"], e["buggy"], e["nnlab"]
    fine = e["per_array"]
    bug_f, ok_f = fine["buggy"], fine["nnlab"]
    eps = f"ε = {fine['epsilon']:g}"
    largest_ok = max(ok_f["per_parameter"].values())
    return [
        Row(exp, "1-D J(θ) = θx", f"{COURSE_1D:.4g}, passes",
            f"{d1['difference']:.4g}, {_verdict(d1['passed'])}",
            _same(d1["difference"], COURSE_1D) and d1["passed"]),
        Row(exp, "4-5-3-1, course's planted bugs",
            f"{COURSE_BUGGY:.4g}, fails", f"{bug['difference']:.4g}, {_verdict(bug['passed'])}",
            _same(bug["difference"], COURSE_BUGGY) and not bug["passed"]),
        Row(exp, "4-5-3-1, nnlab's backprop", f"< {THRESHOLD:g}, passes",
            f"{ok['difference']:.4g}, {_verdict(ok['passed'])}", bool(ok["passed"])),
        claim_row(exp, f"planted bugs: arrays over {THRESHOLD:g} ({eps})",
                  f"the check names {', '.join(PLANTED)}",
                  f"{_named(gradient_names(bug_f['failing']))} "
                  f"(difference {bug_f['difference']:.4g})",
                  sorted(gradient_names(bug_f["failing"])) == sorted(PLANTED)
                  and bug_f["difference"] > 1000 * THRESHOLD),
        claim_row(exp, f"nnlab's backprop: arrays over {THRESHOLD:g} ({eps})",
                  "none", f"{_named(gradient_names(ok_f['failing']))} "
                  f"(largest {largest_ok:.2g})", not ok_f["failing"] and ok_f["passed"]),
    ]


def figures(runs: dict[str, ExperimentRun], data_dir: str | None, out_dir: Path) -> list[Figure]:
    from ..plotting import new_figure, plot_relative_differences, save_figure

    e = runs["checks"].extra
    fine = e["per_array"]
    fig, axes = new_figure(3, panel_size=(5.0, 3.9))
    plot_relative_differences(
        axes[0],
        {"nnlab's backprop": e["nnlab"]["per_parameter"],
         "course's buggy backprop": e["buggy"]["per_parameter"]},
        THRESHOLD, title=f"per array, the course's ε = {EPSILON:g}",
    )
    plot_relative_differences(
        axes[1],
        {"nnlab's backprop": fine["nnlab"]["per_parameter"],
         "course's buggy backprop": fine["buggy"]["per_parameter"]},
        THRESHOLD, title=f"per array, ε = {fine['epsilon']:g}",
    )
    sweep = e["diagnosis"]["sweep"]
    eps = [p["epsilon"] for p in sweep]
    ax = axes[2]
    ax.plot(eps, [p["max_abs_error"] for p in sweep], "o-", color="black",
            label="largest |g_i - g̃_i|")
    for k in ("b1", "b3", "W1"):
        ax.plot(eps, [p["per_parameter"][k] for p in sweep], ".--", linewidth=1,
                label=f"ratio of {k}")
    ax.axhline(THRESHOLD, color="gray", linestyle=":", linewidth=1,
               label=f"threshold {THRESHOLD:g}")
    logits = e["diagnosis"]["logits"]
    ax.plot([logits["epsilon"]], [logits["max_abs_error"]], "*", color="C3", markersize=11,
            label=f"largest error, J from logits (ε = {EPSILON:g})")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("ε")
    ax.set_ylabel("error of the estimate (nnlab's backprop)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    ax.set_title("truncation (∝ ε²) against rounding (∝ 1/ε)", fontsize=10)
    save_figure(fig, out_dir / "g_gradcheck.png")
    return [Figure("g_gradcheck.png",
                   "Each parameter array's relative difference at ε = 1e-7 and 1e-5: the planted "
                   "bugs stand out; and the error of the finite differences against ε.")]


def notebook(runs: dict[str, ExperimentRun], figs: list[Figure]) -> str:
    e = runs["checks"].extra
    fine, diag = e["per_array"], e["diagnosis"]
    bug7, ok7 = e["buggy"]["per_parameter"], e["nnlab"]["per_parameter"]
    by_eps = {p["epsilon"]: p for p in diag["sweep"]}
    err7 = by_eps[EPSILON]["max_abs_error"]
    err5 = by_eps[fine["epsilon"]]["max_abs_error"]
    a = diag["outputs"]
    logits = diag["logits"]
    noisy = e["nnlab"]["failing"]
    norms = diag["gradient_norms"]
    best = min(diag["sweep"], key=lambda p: p["max_abs_error"])
    j_gap = abs(diag["cost_from_outputs"] - diag["cost_from_logits"])
    return f"""\
For J(θ) = θx the two-sided difference reproduces the derivative to
{e["1d"]["difference"]:.3e} — the course's number to the last digit. On the 4-5-3-1 network the
check catches the course's planted bugs (relative difference {e["buggy"]["difference"]:.6f}, the
course's {COURSE_BUGGY:.6f}); nnlab's own backward pass passes: {e["nnlab"]["difference"]:.3e}.

**Which arrays?** Each array's own ratio should point at the bugs. A gradient multiplied by k
has the ratio |kg - g| / (|kg| + |g|) = (k-1)/(k+1): 1/3 for dW2 (k = 2) and 3/5 for db1
(k = 4), and that is what the check measures ({bug7["W2"]:.4f} and {bug7["b1"]:.4f}). But with
the course's ε = {EPSILON:g} the correct arrays {_named(noisy)} also read above {THRESHOLD:g} with
nnlab's backprop (b3: {ok7["b3"]:.3g}; with the buggy pass, which does not touch b3, exactly the
same {bug7["b3"]:.3g}). That is the finite differences' error, not backprop's. Their error has two
parts: truncation, ∝ ε², and the rounding error of J itself divided by 2ε. The network's output
for the third example (y = 0) is a = {a[2]:.5f}, and its loss -log(1 - a) is computed from
1 - a = {1 - a[2]:.2e}, which keeps only about 13 of the 16 digits of a: J computed that way
differs from J computed from the logits by {j_gap:.1e}, and that rounding error, divided by
2ε = 2e-7, puts an error of up to {err7:.1e} on each estimated partial derivative. An array
whose gradient is small next to that gets a ratio above 2e-7: b3's gradient is
{norms["b3"]:.3f}, b1's has norm {norms["b1"]:.3f} (W2's: {norms["W2"]:.3f}). The sweep in the
figure shows both parts of the error: the largest one falls as ε² from ε = 1e-2, is smallest at
ε = {best["epsilon"]:g} ({best["max_abs_error"]:.1e}; {err5:.1e} at ε = {fine["epsilon"]:g}) and
grows as 1/ε below. Two ways to remove it, both checked here:

- **J from the logits**, max(z, 0) - z y + log(1 + e^-|z|), which never forms 1 - a: with the
  same ε = {EPSILON:g} the largest error falls to {logits["max_abs_error"]:.1e} and every array's
  ratio to at most {max(logits["per_parameter"].values()):.1e} (nnlab's `gradient_check`
  evaluates J from the outputs, as the course does, so this one is computed by the experiment);
- **ε = {fine["epsilon"]:g}**, near the bottom of the curve: the check itself, unchanged, with
  the same threshold {THRESHOLD:g}. Every correct array reads at most
  {max(fine["nnlab"]["per_parameter"].values()):.1e}, and the report names exactly
  {_named(gradient_names(fine["buggy"]["failing"]))}:

```
{fine["buggy"]["report"]}
```

```
{fine["nnlab"]["report"]}
```

With ε = {EPSILON:g}, as the course runs it:

```
{e["buggy"]["report"]}
```

```
{e["nnlab"]["report"]}
```
"""
