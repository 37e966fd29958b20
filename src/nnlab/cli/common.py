"""What every ``nnlab`` command shares: the one error class for a user's mistake, the list of
errors that are the user's, and the output (text, or JSON with ``--json``).

>>> str(UsageError("--jobs 0: expected a number of processes >= 1"))
'--jobs 0: expected a number of processes >= 1'
>>> fmt_metrics({"train": {"loss": 0.25, "accuracy": 0.9}})
'train: loss 0.2500, accuracy 90.00 %'
"""

from __future__ import annotations

import argparse
import json
from typing import Any


class UsageError(Exception):
    """A mistake in what the user asked for: printed as one line on stderr, exit code 2."""


#: The name ``nnlab.commands`` gave the same error.
CommandError = UsageError


def user_errors() -> tuple[type[BaseException], ...]:
    """The errors that are the user's: ``nnlab.cli.main`` shows each as one line (exit code 2)."""
    from .._extras import MissingExtraError
    from ..datasets import DataFileError
    from ..datasets.registry import DataError
    from ..files.format import FileWriteError, ModelFileError
    from ..runs.config import ConfigError

    return (UsageError, MissingExtraError, ConfigError, DataError, DataFileError, ModelFileError,
            ValueError, FileNotFoundError, PermissionError, IsADirectoryError, FileWriteError)


def emit(args: argparse.Namespace, payload: dict[str, Any], text: str) -> None:
    """Print ``payload`` as JSON with ``--json``, else ``text``."""
    if args.json:
        print(json.dumps(payload, indent=1, default=_json_default))
    else:
        print(text)


def _json_default(x: Any) -> Any:
    import numpy as np  # here, not at the top: `nnlab --help` / `--version` load no NumPy

    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.floating):
        return float(x)
    if isinstance(x, np.ndarray):
        return x.tolist()
    raise TypeError(f"{type(x).__name__} is not JSON serializable")


def fmt_metrics(metrics: dict[str, dict[str, float]]) -> str:
    """Loss (and accuracy) per split, one line each."""
    lines = []
    for split, m in metrics.items():
        parts = [f"loss {m['loss']:.4f}"]
        if "accuracy" in m:
            parts.append(f"accuracy {100 * m['accuracy']:.2f} %")
        lines.append(f"{split:>5}: " + ", ".join(parts))
    return "\n".join(lines)
