"""A sweep file, read and expanded into trials.

A sweep file is TOML::

    [sweep]
    name = "optimizers"          # optional: a title for the table and plots
    seed = 0                     # the sweep's seed: every trial seed and random draw comes from it
    seeds = 20                   # trials per point, each with its own derived seed
    metric = "train.accuracy"    # split.quantity: train / val / test and accuracy / loss
    goal = "max"                 # optional: "max" (default for accuracy) or "min" (for loss)
    n_samples = 0                # random draws of the [random] settings (with a [random] table)
    expect = ["adam > gd"]       # optional claims, checked seed by seed

    [base]                       # a TrainConfig: anything `nnlab train --config` reads
    dataset = "moons"
    layers = [5, 2]

    [cases]                      # optional: named sets of settings that go together
    gd = { optimizer = "gd" }
    adam = { optimizer = "adam" }

    [grid]                       # optional: every combination of these values
    lr = [0.0007, 0.007]

    [random]                     # optional: n_samples draws from these distributions
    l2 = { dist = "loguniform", low = 1e-3, high = 1.0 }

The points of a sweep are the cases × the grid's combinations × the random draws (each part
counts once when absent); each point runs ``seeds`` times. The seeds are **shared by every point**
(common random numbers): seed k of one point is seed k of every other, so two points are compared
on the same initial-weight draws, shuffles, dropout masks and validation split, and ``expect``
claims can be checked seed by seed.

A sweep has at most ``MAX_TRIALS`` (100,000) trials: a bigger one is refused at once, from the
product of its axes' lengths, before any point is made (``nnlab sweep --max-trials N`` raises the
limit).

Seeds come from ``numpy.random.SeedSequence(seed).spawn(2)``: the first child draws the random
search's samples, the second spawns one child per seed index, whose first ``uint32`` word is the
``TrainConfig.seed`` of that index. They depend on nothing but the sweep's seed and the index, so a
sweep is the same whatever runs it, and seed k does not change when ``seeds`` grows.

>>> spec = parse_spec('''
... [sweep]
... seeds = 2
... metric = "train.accuracy"
... [base]
... dataset = "moons"
... epochs = 5
... [grid]
... optimizer = ["gd", "adam"]
... ''')
>>> [(t.point.label, t.seed_index) for t in expand(spec)]
[('optimizer=gd', 0), ('optimizer=gd', 1), ('optimizer=adam', 0), ('optimizer=adam', 1)]
>>> trial_seeds(0, 2) == trial_seeds(0, 3)[:2]
True
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..runs.config import CONSTRAINTS, FULL_BATCH, ConfigError, Interval, TrainConfig

#: The splits and quantities a metric can name.
SPLITS = ("train", "val", "test")
QUANTITIES = ("accuracy", "loss")
DISTRIBUTIONS = ("uniform", "loguniform", "int", "choice")
_SWEEP_KEYS = ("name", "seed", "seeds", "metric", "goal", "n_samples", "expect")
#: The most trials a sweep may have unless told otherwise (``nnlab sweep --max-trials N``,
#: ``parse_spec(..., max_trials=N)``): the count (points x seeds, a product of the axes'
#: lengths) is checked before any point is made, so a huge grid is refused at once.
MAX_TRIALS = 100_000
_TABLES = ("sweep", "base", "cases", "grid", "random")


class SweepError(ConfigError):
    """A mistake in a sweep file or in how a sweep is run (one line, names the key)."""


@dataclass(frozen=True)
class Distribution:
    """Where a random-search setting is drawn from.

    - ``uniform``: a float in [low, high);  ``loguniform``: exp(uniform(log low, log high));
    - ``int``: a whole number in [low, high], both ends included;
    - ``choice``: one of ``values`` (any TOML values: numbers, names, lists such as layers).

    >>> rng = np.random.default_rng(0)
    >>> d = Distribution("loguniform", low=1e-4, high=1e-1)
    >>> 1e-4 <= d.draw(rng) < 1e-1
    True
    >>> Distribution("choice", values=([5, 2], [10])).draw(rng) in ([5, 2], [10])
    True
    """

    kind: str
    low: float | None = None
    high: float | None = None
    values: tuple[Any, ...] = ()

    def draw(self, rng: np.random.Generator) -> Any:
        """One value, drawn from ``rng``."""
        if self.kind == "uniform":
            assert self.low is not None and self.high is not None
            return float(rng.uniform(self.low, self.high))
        if self.kind == "loguniform":
            assert self.low is not None and self.high is not None
            return float(math.exp(rng.uniform(math.log(self.low), math.log(self.high))))
        if self.kind == "int":
            assert self.low is not None and self.high is not None
            return int(rng.integers(int(self.low), int(self.high), endpoint=True))
        return _copy(self.values[int(rng.integers(len(self.values)))])

    @property
    def log_scale(self) -> bool:
        return self.kind == "loguniform"

    def describe(self) -> str:
        if self.kind == "choice":
            return "choice of " + ", ".join(format_value(v) for v in self.values)
        return f"{self.kind}({format_value(self.low)}, {format_value(self.high)})"


@dataclass(frozen=True)
class Point:
    """One combination of settings: ``params`` maps each axis of the sweep (a case's name under
    ``"case"``, a grid or random key) to its value here; ``changes`` are the ``TrainConfig``
    settings that differ from ``[base]``."""

    index: int
    label: str
    params: dict[str, Any]
    changes: dict[str, Any]


@dataclass(frozen=True)
class Trial:
    """One training run: a point with the seed of ``seed_index``. ``id`` is a digest of the
    complete settings: the same settings always have the same id, whatever the sweep."""

    index: int
    point: Point
    seed_index: int
    seed: int
    config: dict[str, Any]
    id: str


@dataclass
class SweepSpec:
    """A sweep file's content, checked (see the module's docstring for the format)."""

    base: dict[str, Any]
    cases: dict[str, dict[str, Any]] = field(default_factory=dict)
    grid: dict[str, list[Any]] = field(default_factory=dict)
    random: dict[str, Distribution] = field(default_factory=dict)
    n_samples: int = 0
    seeds: int = 1
    seed: int = 0
    metric: str = "val.accuracy"
    goal: str = "max"
    name: str = "sweep"
    expect: list[tuple[str, str]] = field(default_factory=list)

    @property
    def split(self) -> str:
        return self.metric.split(".")[0]

    @property
    def quantity(self) -> str:
        return self.metric.split(".")[1]

    def axes(self) -> list[str]:
        """The swept parameters, in the order of the sweep file."""
        return (["case"] if self.cases else []) + list(self.grid) + list(self.random)

    def n_points(self) -> int:
        n = max(len(self.cases), 1) * math.prod(len(v) for v in self.grid.values())
        return n * (self.n_samples if self.random else 1)

    def n_trials(self) -> int:
        return self.n_points() * self.seeds


def trial_seeds(sweep_seed: int, n: int) -> list[int]:
    """The ``TrainConfig.seed`` of seed indices 0 .. n-1: the first ``uint32`` word of each child
    of ``SeedSequence(sweep_seed).spawn(2)[1]``.

    >>> trial_seeds(0, 3) == trial_seeds(0, 3), len(set(trial_seeds(7, 20)))
    (True, 20)
    """
    _, seed_root = np.random.SeedSequence(sweep_seed).spawn(2)
    return [int(c.generate_state(1, dtype=np.uint32)[0]) for c in seed_root.spawn(n)]


def sample_rng(sweep_seed: int) -> np.random.Generator:
    """The generator of the random search's draws: ``SeedSequence(sweep_seed).spawn(2)[0]``."""
    draws, _ = np.random.SeedSequence(sweep_seed).spawn(2)
    return np.random.Generator(np.random.PCG64(draws))


# ------------------------------------------------------------------------------------ reading


def load_spec(
    path: str | Path, overrides: Sequence[str] = (), max_trials: int = MAX_TRIALS
) -> SweepSpec:
    """Read and check a sweep file; ``overrides`` are ``KEY=VALUE`` changes to ``[base]`` (the
    value in TOML syntax, or a bare word), e.g. ``epochs=15000``; a sweep of more than
    ``max_trials`` trials is refused."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SweepError(f"{path}: no such sweep file") from None
    except IsADirectoryError:
        raise SweepError(f"{path}: is a folder, not a sweep file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SweepError(f"{path}: cannot read the sweep file ({exc})") from None
    return parse_spec(text, where=str(path), overrides=overrides, default_name=path.stem,
                      max_trials=max_trials)


def parse_override(item: str) -> tuple[str, Any]:
    """``"epochs=500"`` → ``("epochs", 500)``; the value is read as TOML, else as a string.

    >>> parse_override("layers=[20, 3]"), parse_override("init=he")
    (('layers', [20, 3]), ('init', 'he'))
    """
    key, sep, raw = item.partition("=")
    key = key.strip().replace("-", "_")
    if not sep or not key:
        raise SweepError(f"--set {item!r}: expected KEY=VALUE, e.g. --set epochs=500")
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    return key, value


def parse_spec(
    text: str,
    where: str = "sweep",
    overrides: Sequence[str] = (),
    default_name: str = "sweep",
    max_trials: int = MAX_TRIALS,
) -> SweepSpec:
    """Parse and check a sweep file's text (see the module docstring). A sweep of more than
    ``max_trials`` trials (``MAX_TRIALS`` by default) is refused before its points are made.

    >>> grid = "[base]\\ndataset = 'moons'\\n[grid]\\nlr = " + str([0.1] * 1000)
    >>> try:
    ...     parse_spec(grid + "\\nepochs = " + str(list(range(1, 1001))))
    ... except SweepError as error:
    ...     print(str(error)[:67])
    sweep: 1000000 trials (1000000 points x 1 seed(s)) is more than the
    >>> len(parse_spec(grid, max_trials=1000).grid["lr"])
    1000
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SweepError(f"{where}: not valid TOML ({exc})") from None
    unknown = sorted(set(data) - set(_TABLES))
    if unknown:
        raise SweepError(f"{where}: unknown table or key {', '.join(unknown)}; a sweep file has "
                         f"the tables {', '.join('[' + t + ']' for t in _TABLES)}")
    for table in _TABLES:
        if table in data and not isinstance(data[table], dict):
            raise SweepError(f"{where}: {table} must be a table, [{table}]")
    if "base" not in data:
        raise SweepError(f"{where}: no [base] table: give the training settings every trial "
                         "starts from (e.g. dataset, layers, epochs)")
    head = data.get("sweep", {})
    bad = sorted(set(head) - set(_SWEEP_KEYS))
    if bad:
        raise SweepError(f"{where}: unknown key(s) in [sweep]: {', '.join(bad)}; known: "
                         f"{', '.join(_SWEEP_KEYS)}")

    base = dict(data["base"])
    for item in overrides:
        key, value = parse_override(item)
        base[key] = value
    if "seed" in base:
        raise SweepError(f"{where}: [base] seed is set by the sweep: use [sweep] seed (the sweep's "
                         "seed) and seeds = N (trials per point)")
    _config(base, f"{where}: [base]")  # names an unknown key or a bad value

    cases = _cases(data.get("cases", {}), where)
    grid = _grid(data.get("grid", {}), where)
    random = _random(data.get("random", {}), where)
    n_samples = head.get("n_samples", 0)
    _whole(n_samples, f"{where}: [sweep] n_samples", 0, 100_000)
    if random and n_samples < 1:
        raise SweepError(f"{where}: [random] needs [sweep] n_samples = N (how many draws), N >= 1")
    if n_samples and not random:
        raise SweepError(f"{where}: [sweep] n_samples = {n_samples} needs a [random] table of "
                         "distributions to draw from")
    for key, dist in random.items():
        _check_draws(key, dist, f"{where}: [random] {key}")
    seen: dict[str, str] = {k: "cases" for settings in cases.values() for k in settings}
    for table, keys in (("grid", grid), ("random", random)):
        for key in keys:
            if key in seen:
                raise SweepError(f"{where}: {key} is in both [{seen[key]}] and [{table}]")
            seen[key] = table

    seeds = head.get("seeds", 1)
    _whole(seeds, f"{where}: [sweep] seeds", 1, 100_000)
    seed = head.get("seed", 0)
    _whole(seed, f"{where}: [sweep] seed", 0, 2**63 - 1)
    metric = head.get("metric", "val.accuracy")
    split, _, quantity = str(metric).partition(".")
    if not isinstance(metric, str) or split not in SPLITS or quantity not in QUANTITIES:
        raise SweepError(f"{where}: [sweep] metric={metric!r} is unknown: give split.quantity, "
                         f"split one of {', '.join(SPLITS)} and quantity one of "
                         f"{', '.join(QUANTITIES)}, e.g. \"val.accuracy\"")
    goal = head.get("goal", "min" if quantity == "loss" else "max")
    if goal not in ("max", "min"):
        raise SweepError(f"{where}: [sweep] goal={goal!r} must be \"max\" or \"min\"")
    name = head.get("name", default_name)
    if not isinstance(name, str) or not name:
        raise SweepError(f"{where}: [sweep] name={name!r} must be a non-empty string")

    spec = SweepSpec(base=base, cases=cases, grid=grid, random=random, n_samples=n_samples,
                     seeds=seeds, seed=seed, metric=metric, goal=goal, name=name)
    if isinstance(max_trials, bool) or not isinstance(max_trials, int) or max_trials < 1:
        raise SweepError(f"max_trials={max_trials!r} must be a whole number >= 1")
    if spec.n_trials() > max_trials:  # a product of the axes' lengths: nothing is expanded yet
        raise SweepError(f"{where}: {spec.n_trials()} trials ({spec.n_points()} points x "
                         f"{spec.seeds} seed(s)) is more than the limit of {max_trials}: sweep "
                         "less at once, or raise the limit with --max-trials N")
    spec.expect = _expect(head.get("expect", []), spec, where)
    # every combination must make a valid TrainConfig: find a bad one before anything runs
    for point in points(spec):
        _config({**base, **point.changes}, f"{where}: point {point.label!r}")
    return spec


def _config(data: dict[str, Any], where: str) -> TrainConfig:
    try:
        return TrainConfig.from_dict(data, where=where)
    except ConfigError as exc:
        message = str(exc)
        if not message.startswith(where):
            message = f"{where}: {message}"
        raise SweepError(message) from None
    except TypeError as exc:  # pragma: no cover - from_dict names unknown keys first
        raise SweepError(f"{where}: {exc}") from None


def _whole(value: Any, name: str, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SweepError(f"{name}={value!r} must be a whole number from {low} to {high}")


def _known_key(key: str, where: str) -> None:
    if key == "seed":
        raise SweepError(f"{where}: seed cannot be swept: the sweep derives it; set [sweep] "
                         "seeds = N for N seeds per point")
    if key not in TrainConfig.keys():
        raise SweepError(f"{where}: {key} is not a training setting; known: "
                         f"{', '.join(k for k in TrainConfig.keys() if k != 'seed')}")


def _cases(table: Mapping[str, Any], where: str) -> dict[str, dict[str, Any]]:
    cases: dict[str, dict[str, Any]] = {}
    for name, settings in table.items():
        if not isinstance(settings, dict):
            raise SweepError(f"{where}: [cases] {name} must be a table of settings, e.g. "
                             f"{name} = {{ init = \"he\" }}")
        for key in settings:
            _known_key(key, f"{where}: [cases] {name}")
        cases[name] = dict(settings)
    return cases


def _grid(table: Mapping[str, Any], where: str) -> dict[str, list[Any]]:
    grid: dict[str, list[Any]] = {}
    for key, values in table.items():
        _known_key(key, f"{where}: [grid]")
        if not isinstance(values, list) or not values:
            raise SweepError(f"{where}: [grid] {key} must be a non-empty list of values, e.g. "
                             f"{key} = [{format_value(TrainConfig().to_dict().get(key, 1))}]")
        if key == "layers" and all(isinstance(v, int) for v in values):
            raise SweepError(f"{where}: [grid] layers is a list of layer lists, e.g. "
                             f"layers = [[5, 2], [10]], not {values}")
        grid[key] = list(values)
    return grid


def _random(table: Mapping[str, Any], where: str) -> dict[str, Distribution]:
    out: dict[str, Distribution] = {}
    for key, d in table.items():
        here = f"{where}: [random] {key}"
        _known_key(key, f"{where}: [random]")
        if not isinstance(d, dict):
            raise SweepError(f"{here} must be a distribution, e.g. {key} = {{ dist = "
                             "\"loguniform\", low = 1e-4, high = 1e-1 }")
        kind = d.get("dist")
        if kind not in DISTRIBUTIONS:
            raise SweepError(f"{here}: dist={kind!r} is unknown: choose one of "
                             f"{', '.join(DISTRIBUTIONS)}")
        allowed = {"dist", "values"} if kind == "choice" else {"dist", "low", "high"}
        extra = sorted(set(d) - allowed)
        if extra:
            raise SweepError(f"{here}: {', '.join(extra)} do(es) not apply to dist={kind!r}; it "
                             f"takes {', '.join(sorted(allowed - {'dist'}))}")
        if kind == "choice":
            values = d.get("values")
            if not isinstance(values, list) or not values:
                raise SweepError(f"{here}: dist=\"choice\" needs values = [...], a non-empty list")
            out[key] = Distribution("choice", values=tuple(values))
            continue
        low: Any = d.get("low")  # checked to be numbers below
        high: Any = d.get("high")
        for name, v in (("low", low), ("high", high)):
            ok = isinstance(v, int) if kind == "int" else isinstance(v, int | float)
            if isinstance(v, bool) or not ok or not math.isfinite(v):
                what = "a whole number" if kind == "int" else "a number"
                raise SweepError(f"{here}: {name}={v!r} must be {what}")
        if not low <= high or (kind != "int" and low == high):
            raise SweepError(f"{here}: low={low} must be below high={high}")
        if kind == "loguniform" and low <= 0:
            raise SweepError(f"{here}: dist=\"loguniform\" needs 0 < low (got low={low})")
        out[key] = Distribution(kind, low=low, high=high)
    return out


def _check_draws(key: str, dist: Distribution, where: str) -> None:
    """Refuse a distribution that can draw values the setting does not allow (its constraint in
    ``nnlab.runs.config.CONSTRAINTS``): found here, whatever the draws turn out to be."""
    constraint: Any = CONSTRAINTS[key]
    interval = getattr(constraint, "each", constraint)
    if dist.kind == "choice" or not isinstance(interval, Interval):
        return
    assert dist.low is not None and dist.high is not None
    if interval.kind is int and dist.kind != "int":
        raise SweepError(f"{where}: dist={dist.kind!r} draws fractions, but {key} is a whole "
                         "number: use dist = \"int\"")
    # uniform and loguniform draw from [low, high): high may be an open end of the setting's
    high_ok = interval.contains(dist.high) or (
        dist.kind != "int" and interval.high_open and dist.high == interval.high)
    if not (interval.contains(dist.low) and high_ok):
        raise SweepError(f"{where}: {dist.describe()} can draw values outside what {key} "
                         f"allows: {interval.describe(key)}")


def _expect(claims: Any, spec: SweepSpec, where: str) -> list[tuple[str, str]]:
    if not isinstance(claims, list) or not all(isinstance(c, str) for c in claims):
        raise SweepError(f"{where}: [sweep] expect must be a list of claims like \"he > zeros\"")
    labels = [p.label for p in points(spec)]
    out = []
    for claim in claims:
        left, sep, right = claim.partition(">")
        left, right = left.strip(), right.strip()
        if not sep or not left or not right:
            raise SweepError(f"{where}: [sweep] expect {claim!r}: write \"A > B\", A and B points "
                             "of the sweep (better first)")
        for label in (left, right):
            if label not in labels:
                raise SweepError(f"{where}: [sweep] expect {claim!r}: {label!r} is not a point; "
                                 f"the points are {'; '.join(labels[:20])}")
        out.append((left, right))
    return out


# ---------------------------------------------------------------------------------- expanding


def format_value(value: Any) -> str:
    """A setting's value as the table and the labels show it.

    >>> format_value(0.00070), format_value([20, 3]), format_value("he"), format_value(None)
    ('0.0007', '20,3', 'he', 'full')
    """
    if value is None:
        return FULL_BATCH
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list | tuple):
        return ",".join(format_value(v) for v in value)
    return str(value)


def points(spec: SweepSpec) -> list[Point]:
    """Every point of the sweep: cases (outermost) × grid × random draws (innermost)."""
    case_items: list[tuple[str | None, dict[str, Any]]] = (
        list(spec.cases.items()) if spec.cases else [(None, {})]
    )
    grid_keys = list(spec.grid)
    combos = list(itertools.product(*(spec.grid[k] for k in grid_keys)))
    samples: list[dict[str, Any]] = [{}]
    if spec.random:
        rng = sample_rng(spec.seed)
        samples = [{k: d.draw(rng) for k, d in spec.random.items()}
                   for _ in range(spec.n_samples)]
    out: list[Point] = []
    for (case, case_settings), combo, sample in itertools.product(case_items, combos, samples):
        params: dict[str, Any] = {}
        changes = dict(case_settings)
        parts = []
        if case is not None:
            params["case"] = case
            parts.append(case)
        for key, value in zip(grid_keys, combo, strict=True):
            params[key] = _copy(value)
            changes[key] = _copy(value)
            parts.append(f"{key}={format_value(value)}")
        for key, value in sample.items():
            params[key] = value
            changes[key] = value
            parts.append(f"{key}={format_value(value)}")
        label = ", ".join(parts) or "base"
        out.append(Point(len(out), label, params, changes))
    labels = [p.label for p in out]
    if len(set(labels)) != len(labels):  # a random draw can repeat a choice: number them
        out = [Point(p.index, f"#{p.index} {p.label}", p.params, p.changes) for p in out]
    return out


def expand(spec: SweepSpec) -> list[Trial]:
    """Every trial: each point × each seed index, in that order."""
    seeds = trial_seeds(spec.seed, spec.seeds)
    trials: list[Trial] = []
    for point in points(spec):
        settings = {**spec.base, **point.changes}
        for k, seed in enumerate(seeds):
            config = TrainConfig.from_dict({**settings, "seed": seed}).to_dict()
            trials.append(Trial(len(trials), point, k, seed, config, config_id(config)))
    return trials


def config_id(config: Mapping[str, Any]) -> str:
    """A short digest of a trial's complete settings (its file name in ``trials/``).

    >>> config_id({"lr": 0.1, "seed": 1}) == config_id({"seed": 1, "lr": 0.1})
    True
    """
    text = json.dumps(config, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _copy(value: Any) -> Any:
    return list(value) if isinstance(value, list | tuple) else value
