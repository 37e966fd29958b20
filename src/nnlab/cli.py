"""The ``nnlab`` command line.

Each sub-command is a function that takes the parsed arguments and returns an exit code; user
mistakes are reported as one line on stderr (exit code 2), never as a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return int(args.func(args))
    except UsageError as exc:
        print(f"nnlab {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("nnlab: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
