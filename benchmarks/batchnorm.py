"""The cost of batch normalization: step time with and without it, textbook vs fast stepper.

    .venv/bin/python benchmarks/batchnorm.py            # MEDIUM: 784-256-128-10, batch 128
    .venv/bin/python benchmarks/batchnorm.py --quick    # a few steps: checks that it all runs

On MEDIUM of ``benchmarks/run.py`` (784-256-128-10 relu/softmax, 30000 synthetic float32
examples, mini-batches of 128, Adam), it times ``nnlab.train`` for one epoch (235 updates) four
ways: without and with batch norm on both hidden layers, on the textbook stepper (``fast=False``)
and on the fast one (``fast=True``: batch norm runs on the in-place steps, the plain network may
run compiled). It prints the median (and least) time per update over ``--repeats`` runs (after
one warm-up run per way; the runs go round robin over the four ways, so that a change in the
machine's load hits them alike), the slowdown batch norm costs on each stepper, the fast
stepper's speed-up, and how far the fast stepper's weights are from the textbook's after the
epoch (float32 rounding, grown over the updates: with ``fast="exact"`` they are equal).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from peers import CONFIGS, make_data  # noqa: E402


def run(batch_norm: bool, fast: bool, X: np.ndarray, Y: np.ndarray, dims: list[int],
        batch: int) -> tuple[float, dict[str, np.ndarray], str]:
    """One epoch of ``nnlab.train``: (seconds, final params, path)."""
    import nnlab

    acts = ["relu"] * (len(dims) - 2) + ["softmax"]
    start = time.perf_counter()
    result = nnlab.train(X, Y, dims, acts, init="he", optimizer="adam", learning_rate=0.001,
                         num_epochs=1, batch_size=batch, random_state=0, fast=fast,
                         batch_norm=batch_norm)
    return time.perf_counter() - start, result.params, result.path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="512 examples, one run each")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per way (median)")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        print(f"batchnorm.py: --repeats {args.repeats}: expected >= 1", file=sys.stderr)
        return 2
    cfg = CONFIGS["MEDIUM"]
    data = make_data(cfg)
    m = 512 if args.quick else cfg.m
    repeats = 1 if args.quick else args.repeats
    X, Y = np.ascontiguousarray(data.X[:m].T), np.ascontiguousarray(data.Y[:m].T)
    dims, batch = list(cfg.dims), cfg.batch or m
    steps = -(-m // batch)
    print(f"MEDIUM: {'-'.join(map(str, dims))} relu/softmax, {m} float32 examples, batch "
          f"{batch} ({steps} updates per epoch), adam; median of {repeats} run(s)")
    ways = [(batch_norm, fast) for batch_norm in (False, True) for fast in (False, True)]
    times: dict[tuple[bool, bool], list[float]] = {way: [] for way in ways}
    finals: dict[tuple[bool, bool], dict[str, np.ndarray]] = {}
    paths: dict[tuple[bool, bool], str] = {}
    for way in ways:  # warm-up (compiles, caches)
        run(*way, X, Y, dims, batch)
    for _ in range(repeats):  # round robin: a change of the machine's load hits every way
        for way in ways:
            seconds, finals[way], paths[way] = run(*way, X, Y, dims, batch)
            times[way].append(seconds)
    per_step = {way: statistics.median(t) / steps * 1e3 for way, t in times.items()}
    print(f"{'batch norm':<11} {'stepper':<9} {'path':<16} {'ms / update':>12} {'(min)':>8}")
    for batch_norm, fast in ways:
        way = (batch_norm, fast)
        print(f"{'yes' if batch_norm else 'no':<11} {'fast' if fast else 'textbook':<9} "
              f"{paths[way]:<16} {per_step[way]:>12.3f} {min(times[way]) / steps * 1e3:>8.3f}")
    for fast in (False, True):
        ratio = per_step[True, fast] / per_step[False, fast]
        print(f"batch norm costs x{ratio:.2f} per update on the "
              f"{'fast' if fast else 'textbook'} stepper")
    for batch_norm in (False, True):
        speedup = per_step[batch_norm, False] / per_step[batch_norm, True]
        print(f"fast vs textbook {'with' if batch_norm else 'without'} batch norm: "
              f"x{speedup:.2f}")
    for batch_norm in (False, True):
        a, b = finals[batch_norm, False], finals[batch_norm, True]
        diff = max(float(np.max(np.abs(a[k].astype(np.float64) - b[k]))) for k in a)
        print(f"{'with' if batch_norm else 'without'} batch norm, fast vs textbook weights "
              f"after the epoch: max |difference| {diff:.3g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
