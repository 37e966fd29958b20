"""A training run's settings as one validated record, read from and written to TOML.

The same keys serve ``nnlab train`` (each key is also a flag: ``batch_size`` is
``--batch-size``), ``nnlab train --config run.toml``, the playground's "Export" button and
``nnlab sweep`` (which varies some of them). Every value is checked with a message that names the
key, the value and what is allowed.

>>> cfg = TrainConfig(dataset="moons", layers=[5, 2], optimizer="adam", lr=0.01, epochs=50)
>>> cfg.hidden_activations()
['relu', 'relu']
>>> TrainConfig.from_toml(cfg.to_toml()) == cfg
True
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from .activations import ACTIVATIONS
from .features import check_feature_names
from .initializers import INITIALIZERS
from .optimizers import OPTIMIZERS

#: How the full batch (``batch_size=None``) is written in TOML and on the command line.
FULL_BATCH = "full"


class ConfigError(ValueError):
    """A setting that is missing, of the wrong type or out of range."""


#: The deepest nesting of arrays / tables / objects a settings text may have. A run's settings
#: nest two levels at most; Python's parsers recurse once per level and fail at ~1000.
MAX_NESTING = 32


def nesting_depth(text: str) -> int:
    """The deepest nesting of ``[ ]`` and ``{ }`` in a TOML or JSON text, outside strings and
    comments: a linear scan that needs no parser, so it can refuse a text before a recursive
    parser sees it.

    >>> nesting_depth('a = [[1, 2], {b = "[[["}]  # [[[')
    2
    """
    depth = deepest = 0
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif c in "]}":
            depth = max(depth - 1, 0)
        elif c == "#":  # a TOML comment (JSON has none outside strings)
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        elif c in "\"'":
            delim = c * 3 if text.startswith(c * 3, i) else c
            i += len(delim)
            while i < n and not text.startswith(delim, i):
                if len(delim) == 1 and text[i] == "\n":
                    break  # an unterminated string: the parser says so
                i += 2 if c == '"' and text[i] == "\\" else 1
            i += len(delim)
            continue
        i += 1
    return deepest


def check_nesting(text: str, where: str = "config", limit: int = MAX_NESTING) -> None:
    """Refuse (``ConfigError``) a TOML / JSON text nested deeper than ``limit`` levels.

    >>> check_nesting("a = " + "[" * 40 + "]" * 40, where="deep.toml")
    Traceback (most recent call last):
    ...
    nnlab.config.ConfigError: deep.toml: nested 40 levels deep; settings nest 32 levels at most
    """
    depth = nesting_depth(text)
    if depth > limit:
        raise ConfigError(f"{where}: nested {depth} levels deep; settings nest {limit} levels "
                          "at most")


@dataclass
class TrainConfig:
    """Everything that defines a training run.

    Attributes:
        dataset: a data set's name (``nnlab datasets`` lists them) or a path to a CSV / NPZ file.
        target: the label column of a CSV file (default: the last column).
        n_samples, noise: size and noise of generated data sets (None: the set's own default).
        layers: hidden layer sizes, e.g. ``[20, 3]`` (the output layer is added to fit the labels).
        activation: one name for every hidden layer, or one per hidden layer.
        output: the output activation; None picks sigmoid (binary), softmax (multiclass) or
            identity (regression) from the labels.
        init: "zeros", "random", "he" or "xavier";  init_scale: the factor of "random".
        optimizer: "gd", "momentum", "rmsprop" or "adam";  lr: the learning rate α.
        beta: momentum's β;  beta1, beta2, epsilon: Adam's and RMSprop's.
        decay: the rate of α = α0 / (1 + decay · epoch) (0: no decay);  decay_interval: when set,
            α = α0 / (1 + decay · floor(epoch / decay_interval)).
        batch_size: examples per update; None (``"full"`` in TOML) is the full batch, 1 is
            stochastic descent.
        epochs: passes over the training data.
        l2: λ of the L2 term;  keep_prob: dropout's keep probability (one, or one per hidden layer).
        val_split: fraction of the examples held out for validation.
        early_stopping: stop after this many epochs without a better validation loss (0: off).
        seed: seeds every random choice of the run.
        features: input feature maps of 2-D data (``nnlab.features``), e.g.
            ``["x1", "x2", "x1_x2"]``; None feeds the data's own columns.
    """

    dataset: str = "moons"
    target: str | None = None
    n_samples: int | None = None
    noise: float | None = None
    layers: list[int] = field(default_factory=lambda: [10])
    activation: str | list[str] = "relu"
    output: str | None = None
    init: str = "he"
    init_scale: float | None = None
    optimizer: str = "adam"
    lr: float = 0.01
    beta: float = 0.9
    beta1: float = 0.9
    beta2: float = 0.999
    epsilon: float = 1e-8
    decay: float = 0.0
    decay_interval: int | None = None
    batch_size: int | None = 64
    epochs: int = 100
    l2: float = 0.0
    keep_prob: float | list[float] = 1.0
    val_split: float = 0.0
    early_stopping: int = 0
    seed: int = 0
    features: list[str] | None = None

    def __post_init__(self) -> None:
        self.validate()

    # -- validation ---------------------------------------------------------------------------

    def validate(self) -> None:
        """Check every value; raise ``ConfigError`` naming the first bad one."""
        _check_type("dataset", self.dataset, str)
        if not self.dataset:
            raise ConfigError("dataset is empty: give a data set's name or a file's path")
        _check_optional("target", self.target, str)
        if self.target is not None:
            from .datasets.registry import DATASETS

            if self.dataset in DATASETS or self.dataset.lower().endswith(".npz"):
                raise ConfigError(
                    f"target={self.target!r} names a CSV file's label column, but the data set "
                    f"{self.dataset!r} is not a .csv file: leave target out"
                )
        if self.n_samples is not None:
            _check_int("n_samples", self.n_samples, low=2, high=1_000_000)
        if self.noise is not None:
            _check_number("noise", self.noise, low=0.0, high=10.0)
        if not isinstance(self.layers, list):
            raise ConfigError(f"layers={self.layers!r} must be a list of sizes, e.g. [20, 3]")
        for i, n in enumerate(self.layers):
            _check_int(f"layers[{i}]", n, low=1, high=100_000)
        acts = self.activation if isinstance(self.activation, list) else [self.activation]
        if isinstance(self.activation, list) and len(acts) != len(self.layers):
            raise ConfigError(
                f"activation has {len(acts)} names for {len(self.layers)} hidden layers: "
                "give one name, or one per hidden layer"
            )
        for a in acts:
            _check_choice("activation", a, ACTIVATIONS)
        if self.output is not None:
            _check_choice("output", self.output, ACTIVATIONS)
        _check_choice("init", self.init, INITIALIZERS)
        if self.init_scale is not None:
            if self.init != "random":
                raise ConfigError(f"init_scale={self.init_scale} only applies to init='random'")
            _check_number("init_scale", self.init_scale, low=0.0, high=1e6, low_open=True)
        _check_choice("optimizer", self.optimizer, OPTIMIZERS)
        _check_number("lr", self.lr, low=0.0, high=1e3, low_open=True)
        for name in ("beta", "beta1", "beta2"):
            _check_number(name, getattr(self, name), low=0.0, high=1.0, high_open=True)
        _check_number("epsilon", self.epsilon, low=0.0, high=1.0, low_open=True)
        _check_number("decay", self.decay, low=0.0, high=1e6)
        if self.decay_interval is not None:
            _check_int("decay_interval", self.decay_interval, low=1, high=10**9)
        if self.batch_size is not None:
            _check_int("batch_size", self.batch_size, low=1, high=10**9)
        _check_int("epochs", self.epochs, low=0, high=10**9)
        _check_number("l2", self.l2, low=0.0, high=1e6)
        kps = self.keep_prob if isinstance(self.keep_prob, list) else [self.keep_prob]
        if isinstance(self.keep_prob, list) and len(kps) != len(self.layers):
            raise ConfigError(
                f"keep_prob has {len(kps)} values for {len(self.layers)} hidden layers"
            )
        for k in kps:
            _check_number("keep_prob", k, low=0.0, high=1.0, low_open=True)
        _check_number("val_split", self.val_split, low=0.0, high=1.0, high_open=True)
        _check_int("early_stopping", self.early_stopping, low=0, high=10**9)
        if self.early_stopping and self.val_split == 0:
            raise ConfigError(
                f"early_stopping={self.early_stopping} needs a validation set: set val_split, "
                "e.g. 0.2"
            )
        _check_int("seed", self.seed, low=0, high=2**32 - 1)
        if self.features is not None:
            try:
                check_feature_names(self.features)
            except ValueError as exc:
                raise ConfigError(str(exc)) from None

    # -- derived values -----------------------------------------------------------------------

    def hidden_activations(self) -> list[str]:
        """One activation name per hidden layer."""
        if isinstance(self.activation, list):
            return list(self.activation)
        return [self.activation] * len(self.layers)

    def keep_probs(self) -> list[float]:
        """One keep probability per hidden layer."""
        if isinstance(self.keep_prob, list):
            return [float(k) for k in self.keep_prob]
        return [float(self.keep_prob)] * len(self.layers)

    def optimizer_hyperparams(self) -> dict[str, float]:
        """The keyword arguments of ``nnlab.optimizers.<optimizer>``."""
        return {
            "gd": {"learning_rate": self.lr},
            "momentum": {"learning_rate": self.lr, "beta": self.beta},
            "rmsprop": {"learning_rate": self.lr, "beta2": self.beta2, "epsilon": self.epsilon},
            "adam": {"learning_rate": self.lr, "beta1": self.beta1, "beta2": self.beta2,
                     "epsilon": self.epsilon},
        }[self.optimizer]

    # -- conversion ---------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The settings as plain data. TOML has no null: the full batch is written
        ``batch_size = "full"`` and other None values are left out (None is their default)."""
        data = dataclasses.asdict(self)
        if data["batch_size"] is None:
            data["batch_size"] = FULL_BATCH
        return {k: v for k, v in data.items() if v is not None}

    def to_toml(self) -> str:
        """The settings as a TOML document, readable by ``nnlab train --config``."""
        return "# nnlab training run (nnlab train --config FILE)\n" + tomli_w.dumps(self.to_dict())

    @classmethod
    def keys(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "config") -> TrainConfig:
        """Build from plain data; an unknown key is an error that lists the known ones."""
        unknown = sorted(set(data) - set(cls.keys()))
        if unknown:
            raise ConfigError(
                f"{where}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(cls.keys())}"
            )
        data = dict(data)
        if data.get("batch_size") == FULL_BATCH:
            data["batch_size"] = None
        return cls(**data)

    @classmethod
    def from_toml(cls, text: str, where: str = "config") -> TrainConfig:
        check_nesting(text, where)
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{where}: not valid TOML ({exc})") from None
        except RecursionError:  # the scan's bound should have refused it first
            raise ConfigError(f"{where}: nested too deeply to read") from None
        return cls.from_dict(data, where)

    @classmethod
    def from_file(cls, path: str | Path) -> TrainConfig:
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(f"{path}: no such config file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read the config file ({exc})") from None
        return cls.from_toml(text, where=str(path))

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with some settings changed (validated)."""
        return dataclasses.replace(self, **changes)


def _check_type(name: str, value: Any, kind: type) -> None:
    if not isinstance(value, kind):
        raise ConfigError(f"{name}={value!r} must be a {kind.__name__}")


def _check_optional(name: str, value: Any, kind: type) -> None:
    if value is not None:
        _check_type(name, value, kind)


def _check_choice(name: str, value: Any, choices: Mapping[str, Any]) -> None:
    if not isinstance(value, str) or value not in choices:
        raise ConfigError(f"{name}={value!r} is unknown: choose one of {', '.join(choices)}")


def _check_int(name: str, value: Any, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{name}={value!r} must be a whole number")
    if not low <= value <= high:
        raise ConfigError(f"{name}={value} is out of range: expected {low} <= {name} <= {high}")


def _check_number(
    name: str, value: Any, low: float, high: float, low_open: bool = False,
    high_open: bool = False,
) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{name}={value!r} must be a number")
    ok = math.isfinite(value) and (value > low if low_open else value >= low) and (
        value < high if high_open else value <= high
    )
    if not ok:
        left = "<" if low_open else "<="
        right = "<" if high_open else "<="
        raise ConfigError(
            f"{name}={value} is out of range: expected {low:g} {left} {name} {right} {high:g}"
        )
