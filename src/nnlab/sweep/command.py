"""``nnlab sweep``: run a sweep file, show the ranked table, write the results.

Exit codes: 0 when at least one trial finished, 1 when every trial failed or diverged, 2 for a
user's mistake (a bad sweep file, an unreachable scheduler: one line on stderr), 130 when
interrupted (the finished trials are kept: the same command resumes).
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import sys
from pathlib import Path

from .spec import MAX_TRIALS, SweepError

EPILOG = """\
examples:
  nnlab sweep examples/sweeps/optimizers.toml       # all CPUs, results in sweeps/optimizers/
  nnlab sweep my.toml --out runs/my --jobs 4        # resumes if runs/my has finished trials
  nnlab sweep my.toml --set epochs=2000 --set dataset=circles
  nnlab sweep my.toml --scheduler tcp://10.0.0.5:8786   # a Dask cluster (nnlab[dask])
  nnlab sweep my.toml --dry-run                     # list the points, run nothing

A sweep file has [sweep] (seed, seeds, metric, goal, n_samples, expect), [base] (a training config,
as `nnlab train --config` reads), and any of [cases] (named sets of settings), [grid] (lists of
values, every combination) and [random] (distributions: uniform, loguniform, int, choice).
"""


def cmd_sweep(args: argparse.Namespace) -> int:
    """Run a hyperparameter sweep: every point of the sweep file over several seeds, locally in
    worker processes or on a Dask cluster; a table ranked by the metric (mean ± std over seeds),
    results.json / results.csv, best.toml and plots in --out. Finished trials are kept and not
    run again."""
    from .execute import run_sweep, scheduler_address
    from .report import format_table, summarize, to_json
    from .spec import expand, load_spec

    if args.max_trials < 1:
        raise SweepError(f"--max-trials {args.max_trials}: expected a number of trials >= 1")
    spec = load_spec(args.spec, overrides=args.set or [], max_trials=args.max_trials)
    if args.jobs is not None and args.jobs < 1:
        raise SweepError(f"--jobs {args.jobs}: expected a number of processes >= 1")
    if args.scheduler is not None and args.jobs is not None:
        raise SweepError("--jobs applies to local runs; with --scheduler the cluster's workers "
                         "run the trials")
    if args.scheduler is not None:
        scheduler_address(args.scheduler)  # its form, before anything runs or connects
    out = Path(args.out) if args.out else Path("sweeps") / Path(args.spec).stem
    if args.dry_run:
        return _dry_run(args, spec, expand(spec), out)

    progress = None
    if not args.quiet:
        from ..experiments.progress import ProgressLine

        progress = ProgressLine(sys.stderr)
    try:
        result = run_sweep(spec, out, jobs=args.jobs, scheduler=args.scheduler,
                           data_dir=args.data_dir, retry_failed=args.retry_failed,
                           progress=progress, plots=not args.no_plots, warn=_warn)
    except KeyboardInterrupt:
        if progress is not None:
            progress.close()  # before the message (close again below does nothing)
        saved = len(list((out / "trials").glob("*.json"))) if (out / "trials").is_dir() else 0
        print(f"nnlab sweep: interrupted; {saved} finished trial(s) are saved in {out}: run the "
              "same command to go on", file=sys.stderr)
        return 130
    finally:
        if progress is not None:
            progress.close()
    summaries = summarize(result)
    finished = sum(len(s.values) for s in summaries)
    if args.json:
        payload = to_json(result)
        payload["run"] = {"ran": result.ran, "reused": result.reused, "where": result.where,
                          "out": str(out), "files": result.files}
        print(json.dumps(payload, indent=1, ensure_ascii=False))
    else:
        print(format_table(result, summaries))
        print()
        if "best" in result.files:
            print(f"best: {summaries[0].point.label} -> {result.files['best']} "
                  f"(nnlab train --config {result.files['best']})")
        print(f"results: {result.files['json']}  {result.files['csv']}"
              + "".join(f"  {result.files[k]}" for k in ("params_plot", "curves_plot")
                        if k in result.files))
        print(f"{result.ran} trial(s) ran on {result.where}, {result.reused} were already "
              f"finished ({result.wall_seconds:.1f} s)")
        failed = sum(s.failed for s in summaries)
        if failed:
            print(f"{failed} trial(s) failed or diverged (recorded with their error in "
                  f"{result.files['csv']}); they count as finished: after fixing a cause, "
                  "add --retry-failed to run them again")
    if finished == 0:
        print(f"nnlab sweep: every trial failed; first error: {summaries[0].errors[0]}"
              if summaries and summaries[0].errors else "nnlab sweep: no trial finished",
              file=sys.stderr)
        return 1
    return 0


def _warn(line: str) -> None:
    print(f"nnlab sweep: warning: {line}", file=sys.stderr)


def _dry_run(args: argparse.Namespace, spec, trials, out: Path) -> int:
    from .execute import TrialStore

    store = TrialStore(out)
    done = {t.id for t in trials if store.load(t) is not None}
    for line in store.problems:
        _warn(line)
    pts = []
    for t in trials:
        if t.seed_index == 0:
            pts.append({"label": t.point.label, "params": t.point.params,
                        "changes": t.point.changes})
    info = {"name": spec.name, "points": pts, "seeds": spec.seeds, "trials": len(trials),
            "finished": len(done), "metric": spec.metric, "goal": spec.goal, "out": str(out),
            "seed_values": [t.seed for t in trials[:spec.seeds]]}
    if args.json:
        print(json.dumps(info, indent=1))
        return 0
    print(f"sweep {spec.name}: {len(pts)} point(s) x {spec.seeds} seed(s) = {len(trials)} "
          f"trials ({len(done)} already finished in {out}); metric {spec.metric} ({spec.goal})")
    for p in pts:
        print(f"  {p['label']}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``sweep`` to the ``nnlab`` parser's sub-commands."""
    p = sub.add_parser("sweep", help="hyperparameter sweep over seeds, locally or on Dask",
                       description=inspect.cleandoc(cmd_sweep.__doc__ or ""), epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       allow_abbrev=False)
    p.add_argument("spec", metavar="SWEEP.toml", help="the sweep file")
    p.add_argument("--out", metavar="DIR", help="the sweep's folder (default: "
                   "sweeps/<file name>); finished trials found there are not run again")
    p.add_argument("--jobs", type=int, metavar="N", help="local worker processes (default: "
                   f"the number of CPUs, {os.cpu_count()}; 1 runs in this process)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="run on the Dask cluster of this "
                   "scheduler, e.g. tcp://10.0.0.5:8786 (needs nnlab[dask])")
    p.add_argument("--max-trials", type=int, default=MAX_TRIALS, metavar="N", help="refuse a "
                   f"sweep of more than N trials (default: {MAX_TRIALS}); the count is checked "
                   "before any point is made")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="change a [base] "
                   "setting, e.g. --set epochs=15000 (repeat it for more)")
    p.add_argument("--data-dir", metavar="DIR", help="folder of the course's data files, as "
                   "the workers see it (default: $NNLAB_DATA)")
    p.add_argument("--retry-failed", action="store_true", help="run failed and diverged "
                   "trials again")
    p.add_argument("--dry-run", action="store_true", help="list the points, run nothing")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    p.add_argument("--quiet", action="store_true", help="no progress display")
    p.add_argument("--json", action="store_true", help="print results.json's content (and "
                   "where it ran) instead of the table")
    p.set_defaults(func=cmd_sweep)
