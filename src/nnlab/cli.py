"""The ``nnlab`` command line.

Each sub-command is a function that takes the parsed arguments and returns an exit code; user
mistakes are reported as one line on stderr (exit code 2), never as a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from ._version import __version__


class UsageError(Exception):
    """A mistake in what the user asked for: printed as one line, exit code 2."""


def cmd_demo(args: argparse.Namespace) -> int:
    """Train the course's 2-4-1 tanh network on the planar flower data."""
    from .datasets import load_flower
    from .network import predict
    from .training import train

    X, Y = load_flower()
    activations = ["tanh", "sigmoid"]
    print("Planar flower data: 400 points, 2 classes. Network 2 -> 4 tanh -> 1 sigmoid,")
    print("weights randn * 0.01 from RandomState(2), learning rate 1.2, 10000 iterations.")
    result = train(
        X, Y, [2, 4, 1], activations, init="random", random_state=2,
        learning_rate=1.2, num_epochs=args.iterations, print_every=1000,
    )
    accuracy = float((predict(X, result.params, activations) == Y).mean() * 100)
    print(f"Accuracy: {accuracy:.2f} %  (course: 90 %, i.e. 90.75 %)")
    return 0


def cmd_reproduce(args: argparse.Namespace) -> int:
    """Rerun the course's experiments on the engine and compare every accuracy with the course's:
    a table in the terminal; report.md, PNG figures and results.json in --out."""
    from .datasets.fetch import Fetcher, offline
    from .experiments import resolve, run_experiments
    from .experiments.progress import ProgressLine
    from .experiments.report import format_table, not_run_lines, summary_line, write_report

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


def cmd_playground(args: argparse.Namespace) -> int:
    """Start the browser playground: a local server where nnlab's engine trains networks live
    in the page (decision boundary, hidden units, weights, curves, gradient check, comparisons)."""
    from ._extras import require

    for package in ("starlette", "uvicorn", "websockets"):  # pip install "nnlab[playground]"
        require(package, "playground", "the playground")
    from .playground.server import serve
    from .playground.settings import Limits

    try:
        limits = Limits(
            max_layers=args.max_layers, max_units=args.max_units, max_points=args.max_points,
            max_sessions=args.max_sessions, max_steps=args.max_steps,
            max_upload_bytes=args.max_upload_bytes, train_threads=args.train_threads,
        )
    except ValueError as exc:
        name, _, rest = str(exc).partition("=")
        raise UsageError(f"--{name.replace('_', '-')} {rest}") from None
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port {args.port} is out of range: expected 0 to 65535")
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"nnlab playground: warning: --host {args.host} lets other machines reach the "
              "playground; it has no login", file=sys.stderr)
    try:
        serve(args.host, args.port, limits, open_browser=args.open,
              announce=lambda line: print(line, flush=True))
    except KeyboardInterrupt:  # Ctrl+C is how a server is stopped: not an error
        pass
    except OSError as exc:
        raise UsageError(
            f"cannot listen on {args.host}:{args.port} ({exc.strerror or exc}): choose another "
            "port with --port N (--port 0 picks a free one)"
        ) from None
    print("nnlab playground: stopped", flush=True)
    return 0


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors as one line (no usage block) and exit code 2, and no
    abbreviated flags (``--data`` must not be read as ``--data-dir``). Sub-command parsers are
    of this class too."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="nnlab",
        description="Fully-connected neural networks in vectorized NumPy, in course notation.",
    )
    parser.add_argument("--version", action="version", version=f"nnlab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = sub.add_parser(
        "demo",
        help="train the 2-4-1 tanh network on the planar flower data",
        description=cmd_demo.__doc__,
        epilog="example: nnlab demo --iterations 5000",
    )
    demo.add_argument("--iterations", type=int, default=10000, help="default: 10000")
    demo.set_defaults(func=cmd_demo)
    from .commands import register

    register(sub)
    from .sweep.command import register as register_sweep

    register_sweep(sub)
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
    from .playground.settings import Limits as _PlaygroundLimits

    limits = _PlaygroundLimits()
    playground = sub.add_parser(
        "playground",
        help="start the browser playground on 127.0.0.1 and print its address",
        description=cmd_playground.__doc__,
        epilog="example: nnlab playground --port 8000 --open",
    )
    playground.add_argument("--port", type=int, default=8000,
                            help="port to listen on (default: 8000; 0 picks a free one)")
    playground.add_argument("--host", default="127.0.0.1",
                            help="address to listen on (default: 127.0.0.1, this machine only)")
    playground.add_argument("--open", action="store_true", help="open the page in a browser")
    for flag, what in (
        ("max-layers", "hidden layers per network"),
        ("max-units", "units per hidden layer"),
        ("max-points", "points in a data set, generated or uploaded"),
        ("max-sessions", "pages connected at once"),
        ("max-steps", "updates per run before training pauses"),
        ("max-upload-bytes", "size of an uploaded CSV file"),
        ("train-threads", "threads that train, shared by all sessions"),
    ):
        default = getattr(limits, flag.replace("-", "_"))
        playground.add_argument(f"--{flag}", type=int, default=default, metavar="N",
                                help=f"limit: {what} (default: {default})")
    playground.set_defaults(func=cmd_playground)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    if list(sys.argv[1:] if argv is None else argv) == ["--version"]:
        print(f"nnlab {__version__}")  # what the parser's --version prints, without building it
        return 0
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    from ._extras import MissingExtraError
    from .commands import user_errors

    mistakes: tuple[type[BaseException], ...] = (UsageError, MissingExtraError, *user_errors())
    try:
        return int(args.func(args))
    except mistakes as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"nnlab {args.command}: error: {message}", file=sys.stderr)
        if getattr(args, "json", False):
            print(json.dumps({"error": message}))
        return 2
    except KeyboardInterrupt:
        print("nnlab: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `nnlab datasets | head`: the reader left; not an error
        sys.stdout = open(os.devnull, "w")  # keep the interpreter quiet as it exits
        return 0


if __name__ == "__main__":
    sys.exit(main())
