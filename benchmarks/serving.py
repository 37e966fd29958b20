"""Serving: one-row latency and batch throughput of nnlab's predictions against scikit-learn's.

Each config builds one network and gives the same weights to nnlab and to scikit-learn (nnlab's
``coefs_`` / ``intercepts_``, or ``coef_`` / ``intercept_``, copied into the scikit-learn estimator
after a one-iteration fit that only sets its shapes), so both compute the same function. Then:

- **1 row**: the median of 1000 calls on one row, in µs (the calls of nnlab and of scikit-learn
  alternate in blocks of 100, so both see the same machine load);
- **1k rows**, **100k rows**: rows per second, the median of several calls (alternating too).

The ratio is always "nnlab is this many times as fast": scikit-learn's µs ÷ nnlab's µs for one
row, nnlab's rows/s ÷ scikit-learn's for batches. Each config runs in its own subprocess.

    python benchmarks/serving.py                       # the nnlab that `python` imports
    python benchmarks/serving.py --quick               # fewer calls and rows: checks that it runs
    python benchmarks/serving.py --compare OLD/src     # another nnlab too: before → after
    python benchmarks/serving.py --threads 1           # BLAS on one thread (a busy machine)

With ``--compare SRC`` every config also runs in a subprocess with SRC first on PYTHONPATH (the
two alternate, config by config), and the table gets the other checkout's numbers and after ÷
before. No assertion: this prints numbers; the goal (issue 17) is in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

#: name -> (estimator, hidden sizes, n_features, n_classes (0: regression), dtype)
CONFIGS: dict[str, tuple[str, tuple[int, ...], int, int, str]] = {
    "moons MLPClassifier": ("MLPClassifier", (64, 32), 2, 2, "float64"),
    "moons Model": ("Model", (64, 32), 2, 2, "float64"),
    "MLPRegressor": ("MLPRegressor", (64, 32), 8, 0, "float64"),
    "LogisticRegression": ("LogisticRegression", (), 20, 2, "float64"),
    "784-256-128-10 float64": ("MLPClassifier", (256, 128), 784, 10, "float64"),
    "784-256-128-10 float32": ("MLPClassifier", (256, 128), 784, 10, "float32"),
}


def _weights(dims: list[int], dtype: str, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """He-scaled W[l] (n[l], n[l-1]) and small b[l] (n[l],), drawn from one seeded generator."""
    rng = np.random.RandomState(seed)
    return [((rng.randn(dims[l], dims[l - 1]) * np.sqrt(2.0 / dims[l - 1])).astype(dtype),
             (0.1 * rng.randn(dims[l])).astype(dtype)) for l in range(1, len(dims))]


def _pair(name: str) -> tuple[Callable[[np.ndarray], Any], Callable[[np.ndarray], Any], str]:
    """(nnlab's call, scikit-learn's call, the call's name) for one config, same weights."""
    import sklearn.linear_model
    import sklearn.neural_network

    import nnlab

    kind, hidden, n_x, n_classes, dtype = CONFIGS[name]
    rng = np.random.RandomState(1)
    X = rng.randn(64, n_x).astype(dtype)
    y = np.arange(64) % n_classes if n_classes else rng.randn(64)
    n_out = 1 if n_classes <= 2 else n_classes
    weights = _weights([n_x, *hidden, n_out], dtype)
    warnings.simplefilter("ignore")  # the one-iteration fits do not converge
    if kind == "LogisticRegression":
        ours: Any = nnlab.LogisticRegression(max_iter=1).fit(X, y)
        ours.coef_[...] = weights[0][0]
        ours.intercept_[...] = weights[0][1]
        theirs: Any = sklearn.linear_model.LogisticRegression(max_iter=1).fit(X, y)
        theirs.coef_, theirs.intercept_ = weights[0][0].copy(), weights[0][1].copy()
        return ours.predict_proba, theirs.predict_proba, "predict_proba"
    sk_cls = (sklearn.neural_network.MLPRegressor if kind == "MLPRegressor"
              else sklearn.neural_network.MLPClassifier)
    theirs = sk_cls(hidden_layer_sizes=hidden, max_iter=1, random_state=0).fit(X, y)
    theirs.coefs_ = [W.T.copy() for W, _ in weights]
    theirs.intercepts_ = [b.copy() for _, b in weights]
    sk_call = theirs.predict if kind == "MLPRegressor" else theirs.predict_proba
    if kind == "Model":
        out = "sigmoid" if n_out == 1 else "softmax"
        model = nnlab.Model([*(nnlab.Dense(n, "relu") for n in hidden), nnlab.Dense(n_out, out)],
                            input_dim=n_x)
        model.params = {}
        for l, (W, b) in enumerate(weights, start=1):
            model.params[f"W{l}"], model.params[f"b{l}"] = W.copy(), b.reshape(-1, 1).copy()
        return model.predict_proba, sk_call, "predict_proba"
    est_cls = nnlab.MLPRegressor if kind == "MLPRegressor" else nnlab.MLPClassifier
    ours = est_cls(hidden_layer_sizes=hidden, max_iter=1, random_state=0).fit(X, y)
    ours.coefs_ = [W.T for W, _ in weights]
    ours.intercepts_ = [b for _, b in weights]
    if kind == "MLPRegressor":
        return ours.predict, sk_call, "predict"
    return ours.predict_proba, sk_call, "predict_proba"


def _one_row_us(fns: list[Callable[[np.ndarray], Any]], x: np.ndarray, calls: int
                ) -> list[float]:
    """Median µs of ``calls`` calls each, the functions alternating in blocks of 100 calls."""
    times: list[list[float]] = [[] for _ in fns]
    block = min(100, calls)
    for f in fns:
        f(x)  # warm-up
    for _ in range(max(1, calls // block)):
        for f, ts in zip(fns, times, strict=True):
            for _ in range(block):
                t = time.perf_counter()
                f(x)
                ts.append(time.perf_counter() - t)
    return [statistics.median(ts) * 1e6 for ts in times]


def _rows_per_s(fns: list[Callable[[np.ndarray], Any]], X: np.ndarray, repeats: int
                ) -> list[float]:
    """Rows per second, from the median of ``repeats`` calls each, the functions alternating."""
    times: list[list[float]] = [[] for _ in fns]
    for f in fns:
        f(X)
    for _ in range(repeats):
        for f, ts in zip(fns, times, strict=True):
            t = time.perf_counter()
            f(X)
            ts.append(time.perf_counter() - t)
    return [X.shape[0] / statistics.median(ts) for ts in times]


def worker(name: str, quick: bool) -> dict[str, Any]:
    """Everything measured for one config, in this process."""
    import nnlab

    ours, theirs, call = _pair(name)
    _, _, n_x, _, dtype = CONFIGS[name]
    rng = np.random.RandomState(2)
    big = 2_000 if quick else 100_000
    X = rng.randn(big, n_x).astype(dtype)
    # the same network: Model's binary output is the one column σ, scikit-learn's [1 - σ, σ]
    a = np.asarray(ours(X[:1000])).reshape(1000, -1)
    b = np.asarray(theirs(X[:1000])).reshape(1000, -1)
    diff = float(np.max(np.abs(a - b[:, b.shape[1] - a.shape[1]:])))
    result: dict[str, Any] = {"config": name, "call": call, "nnlab_file": nnlab.__file__,
                              "max_abs_diff": diff}
    result["1 row"] = _one_row_us([ours, theirs], X[:1], 100 if quick else 1000)
    result["1k rows"] = _rows_per_s([ours, theirs], X[:1000], 5 if quick else 50)
    result[f"{big // 1000}k rows"] = _rows_per_s([ours, theirs], X, 2 if quick else 7)
    return result


def _run_worker(name: str, quick: bool, src: str | None, threads: int | None
                ) -> dict[str, Any]:
    env = dict(os.environ)
    if threads is not None:
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = str(threads)
    if src is not None:
        env["PYTHONPATH"] = os.pathsep.join([src, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    args = [sys.executable, __file__, "--worker", name] + (["--quick"] if quick else [])
    proc = subprocess.run(args, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        sys.exit(f"serving.py: the worker for {name!r} failed:\n{proc.stderr}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    if src is not None and not os.path.realpath(result["nnlab_file"]).startswith(
            os.path.realpath(src)):
        sys.exit(f"serving.py: nnlab was imported from {result['nnlab_file']}, not from {src}")
    return result


def _fmt(key: str, value: float) -> str:
    return f"{value:,.0f} µs" if key == "1 row" else f"{value:,.0f}"


def _ratio(key: str, ours: float, theirs: float) -> float:
    return theirs / ours if key == "1 row" else ours / theirs


def table(results: list[dict[str, Any]], before: list[dict[str, Any]] | None) -> str:
    head = ["config", "call", "rows", "nnlab", "scikit-learn", "nnlab speed-up ×"]
    if before is not None:
        head += ["nnlab before", "speed-up × before", "after ÷ before"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for i, r in enumerate(results):
        for key in [k for k in r if k.endswith(" row") or k.endswith(" rows")]:
            ours, theirs = r[key]
            row = [r["config"], r["call"], key + (" (µs)" if key == "1 row" else " (rows/s)"),
                   _fmt(key, ours), _fmt(key, theirs), f"{_ratio(key, ours, theirs):.2f}"]
            if before is not None:
                old, old_theirs = before[i][key]
                row += [_fmt(key, old), f"{_ratio(key, old, old_theirs):.2f}",
                        f"{_ratio(key, ours, old):.2f}"]
            lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls and rows")
    parser.add_argument("--configs", default=",".join(CONFIGS),
                        help="comma-separated config names (default: all)")
    parser.add_argument("--compare", metavar="SRC", help="also time the nnlab in SRC")
    parser.add_argument("--threads", type=int, help="limit BLAS to N threads (a shared machine)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker is not None:
        print(json.dumps(worker(args.worker, args.quick)))
        return 0
    names = [n.strip() for n in args.configs.split(",") if n.strip()]
    unknown = [n for n in names if n not in CONFIGS]
    if unknown:
        print(f"serving.py: unknown config {unknown[0]!r}: expected one of "
              f"{', '.join(CONFIGS)}", file=sys.stderr)
        return 2
    if args.compare is not None and not os.path.isdir(os.path.join(args.compare, "nnlab")):
        print(f"serving.py: --compare {args.compare}: no nnlab package there", file=sys.stderr)
        return 2
    results, before = [], [] if args.compare else None
    for name in names:
        results.append(_run_worker(name, args.quick, None, args.threads))
        if before is not None:
            before.append(_run_worker(name, args.quick, args.compare, args.threads))
        print(f"{name}: done (nnlab vs scikit-learn max |Δ| = {results[-1]['max_abs_diff']:.1e})",
              file=sys.stderr)
    print(table(results, before))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
