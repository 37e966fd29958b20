"""The training settings as flags: ``nnlab train`` and ``nnlab gradcheck`` take one flag per
``TrainConfig`` key (``--layers 20,3``, ``--lr 0.01``, ...) and ``--config FILE.toml``; flags
override the file, which overrides the defaults.

>>> import argparse
>>> parser = argparse.ArgumentParser()
>>> add_settings(parser)
>>> config = config_from_args(parser.parse_args(["moons", "--layers", "5,2", "--lr", "0.1"]))
>>> config.dataset, config.layers, config.lr
('moons', [5, 2], 0.1)
"""

from __future__ import annotations

import argparse
from typing import Any

from ..runs.config import FULL_BATCH, TrainConfig


def _ints(text: str) -> list[int]:
    if text.strip().lower() == "none":
        return []  # no hidden layer: logistic (or linear) regression
    try:
        sizes = [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        sizes = []
    if not sizes:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a list of whole numbers like 20,3 (none: no hidden layer)"
        )
    return sizes


def _names(text: str) -> str | list[str]:
    parts = [t.strip() for t in text.split(",") if t.strip()]
    return parts[0] if len(parts) == 1 else parts


def _floats(text: str) -> float | list[float]:
    try:
        parts = [float(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number or a list of numbers") from None
    return parts[0] if len(parts) == 1 else parts


def _batch(text: str) -> int | str:
    """A batch size, or ``"full"`` (kept as the string: None would read as "not given")."""
    if text == FULL_BATCH:
        return FULL_BATCH
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a batch size: give a whole number, or 'full'"
        ) from None


def _features(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


#: The "parser" of an on / off setting: a flag pair ``--batch-norm`` / ``--no-batch-norm``.
SWITCH = "switch"

#: One flag per TrainConfig key: key -> (the flag's parser, its help text).
SETTINGS: dict[str, tuple[Any, str]] = {
    "target": (str, "the label column of a CSV file (default: the last)"),
    "n_samples": (int, "points of a generated data set"),
    "noise": (float, "noise of a generated data set"),
    "features": (_features, "2-D input features, e.g. x1,x2,x1_sq,x2_sq,x1_x2,sin_x1,sin_x2"),
    "layers": (_ints, "hidden layer sizes, e.g. 20,3, or none (default: 10)"),
    "activation": (_names, "hidden activation, one or one per layer: relu, tanh, sigmoid, "
                   "leaky_relu, identity (default: relu)"),
    "output": (str, "output activation (default: from the labels)"),
    "init": (str, "zeros, random, he or xavier (default: he)"),
    "init_scale": (float, "the factor of --init random (default 0.01)"),
    "optimizer": (str, "gd, momentum, rmsprop or adam (default: adam)"),
    "lr": (float, "learning rate α (default: 0.01)"),
    "beta": (float, "momentum's β (default 0.9)"),
    "beta1": (float, "Adam's β1 (default 0.9)"),
    "beta2": (float, "Adam's / RMSprop's β2 (default 0.999)"),
    "epsilon": (float, "Adam's / RMSprop's ε (default 1e-8)"),
    "decay": (float, "learning-rate decay: α = α0 / (1 + decay · epoch) (default 0: none)"),
    "decay_interval": (int, "decay in steps: α0 / (1 + decay · floor(epoch / interval))"),
    "batch_size": (_batch, "examples per update, or 'full' (default: 64)"),
    "epochs": (int, "passes over the data (default: 100)"),
    "l2": (float, "L2 strength λ (default: 0)"),
    "l1": (float, "L1 strength λ1: (λ1/m) Σ |W| drives weights to zero (default: 0)"),
    "keep_prob": (_floats, "dropout keep probability, one or one per hidden layer (default 1)"),
    "batch_norm": (SWITCH, "batch-normalize every hidden layer (γ, β instead of b; running "
                   "μ, σ² for prediction); a config file may give one true/false per layer"),
    "val_split": (float, "fraction held out for validation (default: 0)"),
    "early_stopping": (int, "stop after N epochs without a better validation loss (0: off)"),
    "seed": (int, "seeds every random choice (default: 0)"),
}


#: The settings that do not change a gradient check (how training goes on from the gradient).
TRAINING_ONLY = ("optimizer", "lr", "beta", "beta1", "beta2", "epsilon", "decay",
                 "decay_interval", "batch_size", "epochs", "val_split", "early_stopping")


def add_settings(p: argparse.ArgumentParser, with_dataset: bool = True,
                 skip: tuple[str, ...] = ()) -> None:
    """Add the settings' flags (all but ``skip``), ``--config``, ``--data-dir`` and ``--json``."""
    if with_dataset:
        p.add_argument("dataset", nargs="?", help="a data set's name (nnlab datasets) or a "
                       ".csv / .npz file (default: moons, or the config's)")
    p.add_argument("--config", metavar="FILE.toml", help="read the settings from a TOML file; "
                   "flags override it")
    for key, (kind, text) in SETTINGS.items():
        if key in skip:
            continue
        if kind == SWITCH:  # --x / --no-x; absent stays None ("not given": the file's holds)
            p.add_argument("--" + key.replace("_", "-"), dest=key,
                           action=argparse.BooleanOptionalAction, default=None, help=text)
            continue
        p.add_argument("--" + key.replace("_", "-"), dest=key, type=kind, default=None,
                       help=text)
    p.add_argument("--data-dir", metavar="DIR",
                   help="folder of the course's data files (default: $NNLAB_DATA)")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """Defaults, then the --config file, then the flags; validated."""
    data: dict[str, Any] = {}
    if getattr(args, "config", None):
        data = TrainConfig.from_file(args.config).to_dict()
        if data.get("batch_size") == FULL_BATCH:
            data["batch_size"] = None
    if getattr(args, "dataset", None):
        data["dataset"] = args.dataset
    for key in SETTINGS:
        value = getattr(args, key, None)
        if value is not None:
            data[key] = value
    if data.get("batch_size") == FULL_BATCH:
        data["batch_size"] = None
    for key in ("layers",):
        if key in data and isinstance(data[key], int):
            data[key] = [data[key]]
    return TrainConfig.from_dict(data, where=getattr(args, "config", None) or "flags")

