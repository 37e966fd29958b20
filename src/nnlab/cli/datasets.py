"""``nnlab datasets``: list the data sets, show one (with a scatter plot), ``fetch`` the
course's files (verified by SHA-256) or show their ``status``.
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from typing import Any

from .common import UsageError, emit


def cmd_datasets(args: argparse.Namespace) -> int:
    """List the data sets, or show one: shape, classes and counts, and a scatter plot.

    ``nnlab datasets fetch`` downloads the course's files (verified by SHA-256) into the cache or
    --data-dir; ``nnlab datasets status`` says where each is found and whether its hash matches
    (exit 1 when one is missing or wrong)."""
    from ..datasets.catalog import CATALOG  # listing: no NumPy, nothing built

    if args.name == "fetch":
        return _datasets_fetch(args)
    if args.name == "status":
        return _datasets_status(args)
    if not args.name:  # described from the catalog: nothing is built or read
        rows = []
        for name, about in CATALOG.items():
            row: dict[str, Any] = {"name": name, "file": bool(about.files),
                                   "samples": about.samples, "features": about.features,
                                   "task": about.task, "description": about.description}
            if about.files:
                row["files"] = list(about.files)
            rows.append(row)
        if args.json:
            print(json.dumps({"datasets": rows}))
            return 0
        print("data sets (nnlab datasets NAME shows one; nnlab datasets fetch gets the course's "
              "files):")
        for r in rows:
            size = f"{r['samples']} x {r['features']}, {r['task']}"
            print(textwrap.fill(f"  {r['name']:<20} {size:<24} {r['description']}", 100,
                                subsequent_indent=" " * 48, break_long_words=False))
        return 0
    import numpy as np

    from ..datasets.registry import load_dataset

    ds = load_dataset(args.name, data_dir=args.data_dir)
    info: dict[str, Any] = {"name": args.name, "samples": int(ds.X.shape[0]),
                            "features": int(ds.X.shape[1]), "task": ds.task,
                            "description": ds.description}
    if ds.task != "regression":
        values, counts = np.unique(ds.y, return_counts=True)
        info["classes"] = {str(v): int(c) for v, c in zip(values, counts, strict=True)}
    if ds.X_test is not None:
        info["test_samples"] = int(ds.X_test.shape[0])
    if args.plot:
        if ds.X.shape[1] != 2:
            raise UsageError(f"--plot needs 2-D data; {args.name} has {ds.X.shape[1]} features")
        from ..plotting import new_figure, plot_points, save_figure

        fig, axes = new_figure(1)
        plot_points(axes[0], ds.X.T, ds.y.reshape(1, -1), title=args.name)
        save_figure(fig, args.plot)
        info["plot"] = args.plot
    text = "\n".join(f"{k}: {v}" for k, v in info.items())
    emit(args, info, text)
    return 0


def _datasets_fetch(args: argparse.Namespace) -> int:
    """``nnlab datasets fetch``: download the course's files, verified, and say where."""
    from ..datasets import fetch

    if fetch.offline():
        raise UsageError(f"${fetch.OFFLINE_ENV} is set: downloads are off (unset it to fetch)")

    def announce(line: str) -> None:
        if not args.json:
            print(f"nnlab datasets fetch: {line}", file=sys.stderr, flush=True)

    got = fetch.fetch(data_dir=args.data_dir, announce=announce)
    files = [{"name": n, "path": str(p), "downloaded": d} for n, (p, d) in got.items()]
    lines = [f"{f['name']}: {'downloaded' if f['downloaded'] else 'already there'}, sha256 ok: "
             f"{f['path']}" for f in files]
    emit(args, {"files": files}, "\n".join(lines))
    return 0


def _datasets_status(args: argparse.Namespace) -> int:
    """``nnlab datasets status``: the search order, and each file: where, hash ok."""
    from ..datasets import fetch

    found = fetch.status(args.data_dir)
    ok = all(s.hash_ok for s in found)
    if args.json:
        print(json.dumps({"files": [s.to_json() for s in found], "ok": ok}))
        return 0 if ok else 1
    print("\n".join(fetch.describe_search(args.data_dir)))
    for s in found:
        if s.path is None:
            state = "missing (nnlab datasets fetch gets it)"
        else:
            state = (f"{'sha256 ok' if s.hash_ok else 'WRONG sha256'}: {s.path} ({s.how})")
        print(f"  {s.name:<20} {state}")
    return 0 if ok else 1


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``datasets`` to the ``nnlab`` parser's sub-commands."""
    q = sub.add_parser("datasets", help="list the data sets, show one, or fetch the course's "
                       "files", description=cmd_datasets.__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="examples:\n  nnlab datasets\n  nnlab datasets moons --plot "
                       "moons.png\n  nnlab datasets fetch\n  nnlab datasets status")
    q.add_argument("name", nargs="?", help="a data set's name, or fetch / status")
    q.add_argument("--plot", metavar="FILE.png", help="scatter plot of a 2-D data set")
    q.add_argument("--data-dir", metavar="DIR", help="the folder of the course's files (fetch: "
                   "where they go; default: $NNLAB_DATA, then the cache)")
    q.add_argument("--json", action="store_true", help="print machine-readable JSON")
    q.set_defaults(func=cmd_datasets)
