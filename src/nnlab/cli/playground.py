"""``nnlab playground``: the browser playground's local server (``nnlab.playground``); its
limits are flags, checked before the server starts."""

from __future__ import annotations

import argparse
import sys

from .common import UsageError


def cmd_playground(args: argparse.Namespace) -> int:
    """Start the browser playground: a local server where nnlab's engine trains networks live
    in the page (decision boundary, hidden units, weights, curves, gradient check, comparisons)."""
    from .._extras import require

    for package in ("starlette", "uvicorn", "websockets"):  # pip install "nnlab[playground]"
        require(package, "playground", "the playground")
    from ..playground.server import serve
    from ..playground.settings import Limits

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


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``playground`` to the ``nnlab`` parser's sub-commands."""
    from ..playground.settings import Limits

    limits = Limits()
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
