"""The ``nnlab`` command line: ``main()`` and its parser.

Each command lives in one module that adds its sub-parser with ``register(subparsers)`` and
handles the parsed arguments in ``cmd_<name>(args) -> int`` (the exit code). ``build_parser``
registers those modules, in the order ``nnlab --help`` shows them:

| module | commands |
| --- | --- |
| ``demo`` | ``demo`` |
| ``train`` | ``train`` (the settings' flags: ``options``) |
| ``saved_model`` | ``evaluate``, ``predict``, ``summary``, ``plot`` |
| ``gradcheck`` | ``gradcheck`` |
| ``datasets`` | ``datasets`` (and ``datasets fetch`` / ``status``) |
| ``nnlab.sweep.command`` | ``sweep`` |
| ``reproduce`` | ``reproduce`` |
| ``playground`` | ``playground`` |

A user's mistake is one ``UsageError`` (``common``), or one of ``common.user_errors()``: one line on
stderr, exit code 2, never a traceback.

>>> args = build_parser().parse_args(["demo", "--iterations", "5"])
>>> args.command, args.iterations, args.func.__module__
('demo', 5, 'nnlab.cli.demo')
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from .._version import __version__
from .common import CommandError, UsageError


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
    """The ``nnlab`` parser, with every command registered (imported here: ``--version`` and a
    fresh ``import nnlab.cli`` build nothing)."""
    from ..sweep import command as sweep
    from . import datasets, demo, gradcheck, playground, reproduce, saved_model, train

    parser = _Parser(
        prog="nnlab",
        description="Fully-connected neural networks in vectorized NumPy, in course notation.",
    )
    parser.add_argument("--version", action="version", version=f"nnlab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in (demo, train, saved_model, gradcheck, datasets, sweep, reproduce, playground):
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``nnlab ARGV`` (default: ``sys.argv[1:]``); return the exit code."""
    if list(sys.argv[1:] if argv is None else argv) == ["--version"]:
        print(f"nnlab {__version__}")  # what the parser's --version prints, without building it
        return 0
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    from .common import user_errors

    mistakes = user_errors()
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


__all__ = ["CommandError", "UsageError", "build_parser", "main"]
