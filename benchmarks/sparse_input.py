"""Sparse X: training time of ``MLPClassifier`` on a SciPy CSR matrix, against the same data
densified, and against scikit-learn's ``MLPClassifier`` on the same CSR matrix, in one run.

The data look like bag-of-words text: ``m`` rows, ``n_x`` columns, a density of ``d`` (ones and
small counts), two classes from a hidden linear rule. Every contestant trains the same network
(one hidden layer of 32 relu units, Adam, batches of 200, ``max_iter`` epochs with no early stop:
``tol=0, n_iter_no_change=max_iter``) from the same seed; the table gives the median of
``--repeat`` fits (contestants alternate, so all see the same load) and the ratios.

    python benchmarks/sparse_input.py                 # 5000 × 20000 at 0.5 % density, 3 repeats
    python benchmarks/sparse_input.py --quick         # a small problem: checks that it runs

nnlab takes a sparse X through its textbook steps (``explain_path`` says so): the first layer's
products ``W[1] X^T`` and ``dZ[1] X`` stay sparse × dense; the densified fit takes the fast path.
No assertion: this prints numbers.
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SkMLP

from nnlab import MLPClassifier


def make_data(m: int, n_x: int, density: float, seed: int = 0) -> tuple[sp.csr_matrix, np.ndarray]:
    rng = np.random.RandomState(seed)
    X = sp.random(m, n_x, density=density, format="csr", random_state=rng,
                  data_rvs=lambda k: rng.randint(1, 4, k).astype(np.float64))
    w = rng.randn(n_x)
    y = (X @ w > 0).astype(int)
    return X, y


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--features", type=int, default=20000)
    parser.add_argument("--density", type=float, default=0.005)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="a small problem, one repeat")
    args = parser.parse_args()
    if args.quick:
        args.rows, args.features, args.epochs, args.repeat = 400, 2000, 2, 1
    X, y = make_data(args.rows, args.features, args.density)
    dense = X.toarray()
    kw = dict(hidden_layer_sizes=(32,), batch_size=200, max_iter=args.epochs, tol=0.0,
              n_iter_no_change=args.epochs, random_state=0)
    contestants = {
        "nnlab, sparse X": lambda: MLPClassifier(**kw).fit(X, y),
        "nnlab, dense X": lambda: MLPClassifier(**kw).fit(dense, y),
        "scikit-learn, sparse X": lambda: SkMLP(**kw).fit(X, y),
    }
    times: dict[str, list[float]] = {name: [] for name in contestants}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for fit in contestants.values():  # a first fit each, untimed (imports, kernels)
            fit()
        for _ in range(args.repeat):
            for name, fit in contestants.items():
                start = time.perf_counter()
                fit()
                times[name].append(time.perf_counter() - start)
    base = statistics.median(times["nnlab, sparse X"])
    print(f"{args.rows} rows × {args.features} features, density {args.density:g} "
          f"({X.nnz} nonzeros; dense: {dense.nbytes / 2**20:.0f} MiB), {args.epochs} epochs, "
          f"median of {args.repeat}")
    print(f"{'contestant':<24} {'seconds':>8} {'÷ nnlab sparse':>15}")
    for name, ts in times.items():
        t = statistics.median(ts)
        print(f"{name:<24} {t:8.3f} {t / base:15.2f}")


if __name__ == "__main__":
    main()
