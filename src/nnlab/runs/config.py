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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import tomli_w

from ..activations import ACTIVATIONS
from ..datasets.features import check_feature_names
from ..initializers import INITIALIZERS
from ..optimizers import COURSE_OPTIMIZERS, Schedule, optimizer_hyperparams, schedule_from

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
    nnlab.runs.config.ConfigError: deep.toml: nested 40 levels deep; settings nest 32 levels at most
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
        l1: λ1 of the L1 term (λ1/m) Σ ||W[l]||₁ (0: none), beside or instead of L2.
        batch_norm: batch-normalize the hidden layers (True / False for all, or one per hidden
            layer): such a layer has γ[l], β[l] and no b[l], and predicts with the running μ, σ².
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
    l1: float = 0.0
    keep_prob: float | list[float] = 1.0
    batch_norm: bool | list[bool] = False
    val_split: float = 0.0
    early_stopping: int = 0
    seed: int = 0
    features: list[str] | None = None

    def __post_init__(self) -> None:
        self.validate()

    # -- validation ---------------------------------------------------------------------------

    def validate(self) -> None:
        """Check every value against ``CONSTRAINTS``, then the rules that tie settings together;
        raise ``ConfigError`` naming the first bad one."""
        check("layers", self.layers)  # first: the per-layer settings count on it
        for key, what in (("activation", "names"), ("keep_prob", "values"),
                          ("batch_norm", "values")):
            value = getattr(self, key)
            if isinstance(value, list) and len(value) != len(self.layers):
                raise ConfigError(
                    f"{key} has {len(value)} {what} for {len(self.layers)} hidden layers"
                    + (": give one name, or one per hidden layer" if key == "activation" else "")
                )
        for f in dataclasses.fields(self):
            check(f.name, getattr(self, f.name))
        if self.target is not None:
            from ..datasets.registry import DATASETS

            if self.dataset in DATASETS or self.dataset.lower().endswith(".npz"):
                raise ConfigError(
                    f"target={self.target!r} names a CSV file's label column, but the data set "
                    f"{self.dataset!r} is not a .csv file: leave target out"
                )
        if self.init_scale is not None and self.init != "random":
            raise ConfigError(f"init_scale={self.init_scale} only applies to init='random'")
        if self.early_stopping and self.val_split == 0:
            raise ConfigError(
                f"early_stopping={self.early_stopping} needs a validation set: set val_split, "
                "e.g. 0.2"
            )

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

    def batch_norms(self) -> list[bool]:
        """Whether each hidden layer is batch-normalized."""
        if isinstance(self.batch_norm, list):
            return [bool(b) for b in self.batch_norm]
        return [bool(self.batch_norm)] * len(self.layers)

    def optimizer_hyperparams(self) -> dict[str, Any]:
        """The keyword arguments of ``nnlab.optimizers.<optimizer>`` (from ``lr``, ``beta``, ...:
        see ``nnlab.optimizers.optimizer_hyperparams``)."""
        return optimizer_hyperparams(self.optimizer, dataclasses.asdict(self))

    def schedule(self) -> Schedule | None:
        """The learning-rate decay of ``decay`` / ``decay_interval`` (None: no decay): see
        ``nnlab.optimizers.schedule_from``."""
        return schedule_from(self.lr, self.decay, self.decay_interval)

    # -- conversion ---------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The settings as plain data. TOML has no null: the full batch is written
        ``batch_size = "full"`` and other None values are left out (None is their default)."""
        data = dataclasses.asdict(self)
        if data["batch_size"] is None:
            data["batch_size"] = FULL_BATCH
        for key, default in OMITTED_AT_DEFAULT.items():
            value = data.get(key)
            if value is default or (  # (settings written before the key existed read alike)
                    isinstance(default, float) and not isinstance(value, bool)
                    and isinstance(value, int | float) and value == default):
                del data[key]
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


# -- the constraint table -----------------------------------------------------------------------


class Constraint(Protocol):
    """What a setting may be: ``check(name, value)`` returns the value or raises ``ConfigError``
    with a message that names the setting, the value and what is allowed."""

    def check(self, name: str, value: Any) -> Any: ...


@dataclass(frozen=True)
class Interval:
    """A whole number (``kind=int``) or a finite real (``kind=float``) in [low, high]; ``closed``
    says which ends belong to it: "both", "left", "right" or "neither" (as scikit-learn's);
    ``finite=False`` lets an infinite end hold infinity (NaN never belongs).

    >>> lr = Interval(float, 0.0, 1e3, closed="right")
    >>> lr.contains(0.0), lr.contains(1e3), lr.describe("lr")
    (False, True, '0 < lr <= 1000')
    >>> lr.narrow(high=10).describe("lr", le="≤")
    '0 < lr ≤ 10'
    """

    kind: type
    low: float
    high: float
    closed: str = "both"
    finite: bool = True

    def __post_init__(self) -> None:
        if self.kind not in (int, float) or self.closed not in _CLOSED:
            raise ValueError(f"Interval({self.kind!r}, closed={self.closed!r}): kind is int or "
                             f"float and closed one of {', '.join(_CLOSED)}")

    @property
    def low_open(self) -> bool:
        return self.closed in ("right", "neither")

    @property
    def high_open(self) -> bool:
        return self.closed in ("left", "neither")

    def contains(self, x: float) -> bool:
        """Whether the number ``x`` lies in the interval (NaN never does, infinities only with
        ``finite=False``)."""
        if math.isnan(x) or (self.finite and math.isinf(x)):
            return False
        above = x > self.low if self.low_open else x >= self.low
        below = x < self.high if self.high_open else x <= self.high
        return above and below

    def _show(self, x: float) -> str:
        return str(x) if self.kind is int else f"{x:g}"

    def describe(self, name: str, le: str = "<=") -> str:
        """The interval as a condition on ``name``, e.g. ``0 < lr <= 1000`` (``le``: how ≤ is
        written)."""
        left = "<" if self.low_open else le
        right = "<" if self.high_open else le
        return f"{self._show(self.low)} {left} {name} {right} {self._show(self.high)}"

    def brackets(self) -> str:
        """The interval as scikit-learn writes it: ``[0.0, 1.0)``."""
        left = "(" if self.low_open else "["
        right = ")" if self.high_open else "]"
        return f"{left}{self.low}, {self.high}{right}"

    def narrow(self, low: float | None = None, high: float | None = None) -> Interval:
        """This interval cut to [low, high] (None: that end stays): a form that allows less
        (the playground) narrows the shared limits with its own, and cannot widen them. An end
        moved inwards belongs to the interval (is closed).

        >>> Interval(float, 0.0, 1.0, closed="right").narrow(low=0.05, high=2.0).describe("p")
        '0.05 <= p <= 1'
        """
        lo, low_open = self.low, self.low_open
        if low is not None and low > self.low:
            lo, low_open = low, False
        hi, high_open = self.high, self.high_open
        if high is not None and high < self.high:
            hi, high_open = high, False
        closed = {(False, False): "both", (False, True): "left", (True, False): "right",
                  (True, True): "neither"}[(low_open, high_open)]
        return Interval(self.kind, lo, hi, closed, self.finite)

    def check(self, name: str, value: Any) -> Any:
        whole = self.kind is int
        if isinstance(value, bool) or not isinstance(value, int if whole else int | float):
            what = "a whole number" if whole else "a number"
            raise ConfigError(f"{name}={value!r} must be {what}")
        if not self.contains(value):
            raise ConfigError(f"{name}={value} is out of range: expected {self.describe(name)}")
        return value


_CLOSED = ("both", "left", "right", "neither")


@dataclass(frozen=True)
class Options:
    """One of the names of a registry (kept in the registry's order).

    >>> Options(["gd", "adam"]).check("optimizer", "sgd")
    Traceback (most recent call last):
    ...
    nnlab.runs.config.ConfigError: optimizer='sgd' is unknown: choose one of gd, adam
    """

    choices: tuple[str, ...]

    def __init__(self, choices: Iterable[str]):
        object.__setattr__(self, "choices", tuple(choices))

    def narrow(self, keep: Iterable[str]) -> Options:
        """The options that are also in ``keep`` (a form may offer fewer, never others)."""
        allowed = set(keep)
        return Options(c for c in self.choices if c in allowed)

    def check(self, name: str, value: Any) -> Any:
        if not isinstance(value, str) or value not in self.choices:
            raise ConfigError(
                f"{name}={value!r} is unknown: choose one of {', '.join(self.choices)}"
            )
        return value


@dataclass(frozen=True)
class Text:
    """A string (``nonempty``: the message for an empty one)."""

    empty: str | None = None

    def check(self, name: str, value: Any) -> Any:
        if not isinstance(value, str):
            raise ConfigError(f"{name}={value!r} must be a str")
        if not value and self.empty:
            raise ConfigError(f"{name} is empty: {self.empty}")
        return value


@dataclass(frozen=True)
class PerLayer:
    """One value for every hidden layer, or a list with one per hidden layer (``list_only``: a
    list is required, its entries named ``name[i]``)."""

    each: Constraint
    list_only: str | None = None

    def check(self, name: str, value: Any) -> Any:
        if isinstance(value, list):
            for i, v in enumerate(value):
                self.each.check(f"{name}[{i}]" if self.list_only else name, v)
            return value
        if self.list_only:
            raise ConfigError(f"{name}={value!r} must be a list of {self.list_only}")
        return self.each.check(name, value)


@dataclass(frozen=True)
class Flag:
    """A switch: true or false (not 0 / 1, not a string).

    >>> Flag().check("batch_norm", "yes")
    Traceback (most recent call last):
    ...
    nnlab.runs.config.ConfigError: batch_norm='yes' must be true or false
    """

    def check(self, name: str, value: Any) -> Any:
        if not isinstance(value, bool):
            raise ConfigError(f"{name}={value!r} must be true or false")
        return value


class FeatureNames:
    """Input feature maps' names (``nnlab.features``)."""

    def check(self, name: str, value: Any) -> Any:
        try:
            return check_feature_names(value)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None


#: A real number in [0, 1): the moving averages' β.
_BETA = Interval(float, 0.0, 1.0, closed="left")
_MANY = 10**9

#: Every setting of a run and what it may be (``check`` applies it; ``TrainConfig.validate`` checks
#: them all, then the rules that tie settings together). The playground's settings and the
#: estimators' parameters reuse these for the settings they share.
CONSTRAINTS: dict[str, Constraint] = {
    "dataset": Text(empty="give a data set's name or a file's path"),
    "target": Text(),
    "n_samples": Interval(int, 2, 1_000_000),
    "noise": Interval(float, 0.0, 10.0),
    "layers": PerLayer(Interval(int, 1, 100_000), list_only="sizes, e.g. [20, 3]"),
    "activation": PerLayer(Options(ACTIVATIONS)),
    "output": Options(ACTIVATIONS),
    "init": Options(INITIALIZERS),
    "init_scale": Interval(float, 0.0, 1e6, closed="right"),
    "optimizer": Options(COURSE_OPTIMIZERS),
    "lr": Interval(float, 0.0, 1e3, closed="right"),
    "beta": _BETA,
    "beta1": _BETA,
    "beta2": _BETA,
    "epsilon": Interval(float, 0.0, 1.0, closed="right"),
    "decay": Interval(float, 0.0, 1e6),
    "decay_interval": Interval(int, 1, _MANY),
    "batch_size": Interval(int, 1, _MANY),
    "epochs": Interval(int, 0, _MANY),
    "l2": Interval(float, 0.0, 1e6),
    "l1": Interval(float, 0.0, 1e6),
    "keep_prob": PerLayer(Interval(float, 0.0, 1.0, closed="right")),
    "batch_norm": PerLayer(Flag()),
    "val_split": Interval(float, 0.0, 1.0, closed="left"),
    "early_stopping": Interval(int, 0, _MANY),
    "seed": Interval(int, 0, 2**32 - 1),
    "features": FeatureNames(),
}

#: Settings that ``to_dict`` leaves out at their default: the settings (and the sweeps' trial
#: ids, a digest of them) of runs that do not use them stay as they were before they existed.
OMITTED_AT_DEFAULT: dict[str, Any] = {"l1": 0.0, "batch_norm": False}

#: The settings that may be None (typed ``... | None``): None passes their check.
OPTIONAL: frozenset[str] = frozenset(
    f.name for f in dataclasses.fields(TrainConfig) if "None" in str(f.type).split(" | ")
)


def check(name: str, value: Any) -> Any:
    """Check one setting against ``CONSTRAINTS``; returns the value, or raises ``ConfigError``
    naming the setting, the value and what is allowed.

    >>> check("lr", 0.01)
    0.01
    >>> check("lr", 0)
    Traceback (most recent call last):
    ...
    nnlab.runs.config.ConfigError: lr=0 is out of range: expected 0 < lr <= 1000
    """
    if value is None and name in OPTIONAL:
        return None
    return CONSTRAINTS[name].check(name, value)


__all__ = [
    "CONSTRAINTS", "FULL_BATCH", "MAX_NESTING", "OMITTED_AT_DEFAULT", "OPTIONAL", "ConfigError",
    "Constraint", "FeatureNames", "Flag", "Interval", "Options", "PerLayer", "Text", "TrainConfig",
    "check", "check_nesting", "nesting_depth",
]
