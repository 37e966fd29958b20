"""``nnlab reproduce``: rerun the course's experiments (``nnlab.experiments``) in worker
processes and compare every number with the course's.

Exit codes: 0 when no experiment failed to run, 1 when one did, 2 for a user's mistake.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from .common import UsageError


def cmd_reproduce(args: argparse.Namespace) -> int:
    """Rerun the course's experiments on the engine and compare every accuracy with the course's:
    a table in the terminal; report.md, PNG figures and results.json in --out."""
    from ..datasets.fetch import Fetcher, offline
    from ..experiments import resolve, run_experiments
    from ..experiments.progress import ProgressLine
    from ..experiments.report import format_table, not_run_lines, summary_line, write_report

    names = [n for item in args.only or [] for n in item.split(",") if n.strip()]
    try:
        selected = resolve(names)
    except ValueError as exc:
        raise UsageError(f"--only: {exc}") from None
    if args.jobs is not None and args.jobs < 1:
        raise UsageError(f"--jobs {args.jobs}: expected a number of processes >= 1")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: it exists and is not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--out {out}: cannot create it ({exc.strerror})") from None

    fetch = None
    if not (args.no_download or offline()):  # a missing course file is downloaded on first need
        fetch = Fetcher(args.data_dir, announce=lambda line: print(
            f"nnlab reproduce: {line}", file=sys.stderr, flush=True))
    progress = ProgressLine(sys.stderr)
    try:
        report = run_experiments(selected, args.data_dir, args.jobs, out, progress, fetch)
    finally:
        progress.close()
    md, js = write_report(report, out)
    if args.json:
        print(json.dumps(report.to_json(), indent=1, ensure_ascii=False))
        for line in not_run_lines(report):  # each reason once, naming all its experiments
            print(f"nnlab reproduce: {line}", file=sys.stderr)
    else:
        print(format_table(report))
        print()
        print(summary_line(report))
        print(f"report: {md}  results: {js}  ({report.wall_seconds:.1f} s, "
              f"{report.jobs} job{'s' if report.jobs != 1 else ''})")
    return 1 if report.failed else 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``reproduce`` to the ``nnlab`` parser's sub-commands."""
    reproduce = sub.add_parser(
        "reproduce",
        help="rerun the course's experiments and compare every number with the course's",
        description=cmd_reproduce.__doc__,
        epilog="example: nnlab reproduce --only planar,gradcheck --out report/",
    )
    reproduce.add_argument("--out", default="reproduce-report/", metavar="DIR",
                           help="folder for report.md, the figures and results.json "
                                "(default: reproduce-report/)")
    reproduce.add_argument("--only", action="append", metavar="NAME",
                           help="run only these experiments, by name or letter: logistic (a), "
                                "planar (b), initialization (c), regularization (d), "
                                "optimization (e), deep (f), gradcheck (g), descent (h), "
                                "momentum (i), stopping (j), normalization (k); repeat it or "
                                "give a comma list")
    reproduce.add_argument("--json", action="store_true",
                           help="print the results as JSON instead of the table")
    reproduce.add_argument("--data-dir", metavar="DIR",
                           help="folder with data.mat and the cat .h5 files (default: "
                                "$NNLAB_DATA, then the cache; see nnlab datasets status)")
    reproduce.add_argument("--no-download", action="store_true",
                           help="do not download a missing course file (NNLAB_OFFLINE=1 too); "
                                "its experiments are skipped")
    reproduce.add_argument("--jobs", type=int, default=None, metavar="N",
                           help=f"worker processes (default: the number of CPUs, {os.cpu_count()})")
    reproduce.set_defaults(func=cmd_reproduce)
