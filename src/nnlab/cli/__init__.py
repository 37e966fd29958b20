"""The ``nnlab`` command line: ``main()`` and its parser.

Each command lives in one module that adds its sub-parser with ``register(subparsers)`` and
handles the parsed arguments in ``cmd_<name>(args) -> int`` (the exit code). ``build_parser``
registers those modules, in the order ``nnlab --help`` shows them (``COMMANDS``):

| module | commands |
| --- | --- |
| ``demo`` | ``demo`` |
| ``train`` | ``train`` (the settings' flags: ``options``) |
| ``saved_model`` | ``evaluate``, ``predict``, ``summary``, ``plot`` |
| ``export`` | ``export`` (ONNX, safetensors) |
| ``gradcheck`` | ``gradcheck`` |
| ``datasets`` | ``datasets`` (and ``datasets fetch`` / ``status``) |
| ``nnlab.sweep.command`` | ``sweep`` |
| ``reproduce`` | ``reproduce`` |
| ``playground`` | ``playground`` |

A user's mistake is one ``UsageError`` (``common``), or one of ``common.user_errors()``: one line on
stderr, exit code 2, never a traceback.

``main`` imports only the module of the command it runs: the others are listed by name and
one-line help (``COMMANDS``; a test holds it equal to what the modules register), so that
``nnlab --help`` imports no command module (nor NumPy) and ``nnlab train`` none but its own.

>>> args = build_parser().parse_args(["demo", "--iterations", "5"])
>>> args.command, args.iterations, args.func.__module__
('demo', 5, 'nnlab.cli.demo')
>>> sorted(build_parser(only=()).parse_args(["demo"]).__dict__)  # listed, not registered
['command']
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections.abc import Collection, Sequence
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


#: Every command, in the order ``nnlab --help`` lists them: its name, the module whose
#: ``register`` adds its parser, and its one-line help (the same as that parser's).
COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("demo", "nnlab.cli.demo", "train the 2-4-1 tanh network on the planar flower data"),
    ("train", "nnlab.cli.train", "train a network on a data set"),
    ("evaluate", "nnlab.cli.saved_model",
     "loss and accuracy of a saved model on a data set (its train and test parts, if any)"),
    ("predict", "nnlab.cli.saved_model", "predictions of a saved model for every example of a "
     "data set (or a features-only csv)"),
    ("summary", "nnlab.cli.saved_model", "show a saved model's layers and shapes"),
    ("plot", "nnlab.cli.saved_model", "plot a model's decision boundary and cost curves"),
    ("export", "nnlab.cli.export", "write a saved model as ONNX or safetensors"),
    ("gradcheck", "nnlab.cli.gradcheck", "check backprop against finite differences"),
    ("datasets", "nnlab.cli.datasets",
     "list the data sets, show one, or fetch the course's files"),
    ("sweep", "nnlab.sweep.command", "hyperparameter sweep over seeds, locally or on Dask"),
    ("reproduce", "nnlab.cli.reproduce",
     "rerun the course's experiments and compare every number with the course's"),
    ("playground", "nnlab.cli.playground",
     "start the browser playground on 127.0.0.1 and print its address"),
)


def build_parser(only: Collection[str] | None = None) -> argparse.ArgumentParser:
    """The ``nnlab`` parser. Every command is registered by its module (imported here:
    ``--version`` and a fresh ``import nnlab.cli`` build nothing); with ``only``, just the
    modules of the commands named in it, the others listed by name and help (enough for
    ``nnlab --help`` and for an unknown command's error)."""
    parser = _Parser(
        prog="nnlab",
        description="Fully-connected neural networks in vectorized NumPy, in course notation.",
    )
    parser.add_argument("--version", action="version", version=f"nnlab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    wanted = {module for name, module, _ in COMMANDS if only is None or name in only}
    registered: set[str] = set()
    for name, module, help_line in COMMANDS:
        if module not in wanted:
            sub.add_parser(name, help=help_line)
        elif module not in registered:  # its register adds all of its commands, in order
            importlib.import_module(module).register(sub)
            registered.add(module)
    return parser


def _command_of(argv: Sequence[str]) -> str | None:
    """The command that ``argv`` names: its first word that is not an option (``nnlab`` itself
    takes no option with a value)."""
    return next((word for word in argv if not word.startswith("-")), None)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``nnlab ARGV`` (default: ``sys.argv[1:]``); return the exit code."""
    words = list(sys.argv[1:] if argv is None else argv)
    if words == ["--version"]:
        print(f"nnlab {__version__}")  # what the parser's --version prints, without building it
        return 0
    command = _command_of(words)
    parser = build_parser(only=[command] if command else [])
    args = parser.parse_args(words)
    if args.command is None:
        parser.print_help()
        return 2
    from .._scipy_blas import use_direct_load
    from .common import user_errors

    use_direct_load()  # if the command loads Numba: ~0.2 s less start-up (nnlab._scipy_blas)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("nnlab: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `nnlab datasets | head`: the reader left; not an error
        sys.stdout = open(os.devnull, "w")  # keep the interpreter quiet as it exits
        return 0
    except user_errors() as exc:  # called only once an error comes: no import before
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"nnlab {args.command}: error: {message}", file=sys.stderr)
        if getattr(args, "json", False):
            print(json.dumps({"error": message}))
        return 2


__all__ = ["COMMANDS", "CommandError", "UsageError", "build_parser", "main"]
