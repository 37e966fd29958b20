"""The playground's settings: every value the page sends, checked on the server.

The page sends its form (and the URL holds it) as a flat mapping of setting names to values. The
values may be JSON numbers, lists, or the strings a form field holds (``"0.01"``, ``"4,4"``):
``parse_settings`` turns them into a ``Settings`` record or raises ``SettingsError`` naming the
field and saying what is allowed, e.g.

    learning rate (lr) = -1 is out of range: allowed 0 < lr ≤ 10

The limits on layers, units, points and sessions are a ``Limits`` record (the command's flags).

>>> s = parse_settings({"dataset": "xor", "layers": "4,2", "activations": "tanh", "lr": "0.03"})
>>> s.layers, s.activations, s.lr
([4, 2], ['tanh', 'tanh'], 0.03)
>>> try:
...     parse_settings({"lr": "-1"})
... except SettingsError as error:
...     print(error.field, "|", error)
lr | learning rate (lr) = -1 is out of range: allowed 0 < lr ≤ 10
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .. import activations, initializers, optimizers
from ..datasets.features import DEFAULT_FEATURES, FEATURES, check_feature_names
from ..runs.config import CONSTRAINTS, Interval, Options, PerLayer, TrainConfig

#: The data sets offered, in the page's order: name → (label, default noise or None when the set
#: has no noise setting, whether the number of points can be chosen).
DATASETS: dict[str, tuple[str, float | None, bool]] = {
    "moons": ("moons", 0.2, True),
    "circles": ("circles", 0.05, True),
    "flower": ("planar flower", None, True),
    "xor": ("xor", 0.1, True),
    "blobs": ("gaussian blobs", 0.4, True),
    "spiral": ("spiral", 0.05, True),
    "football": ("football (course file)", None, False),
    "csv": ("uploaded CSV", None, False),
    "plane": ("plane (regression)", 0.05, True),
    "gaussian": ("gaussian bumps (regression)", 0.05, True),
    "sine": ("sine, y against x1 (regression)", 0.05, True),
    "step": ("step, y against x1 (regression)", 0.05, True),
    "abs": ("|x|, y against x1 (regression)", 0.05, True),
    "cubic": ("cubic, y against x1 (regression)", 0.05, True),
}
#: The problem types: classification (2 to ``MAX_CLASSES`` classes; a sigmoid output for two,
#: softmax for more) and regression (an identity output, the mean squared error).
PROBLEMS = ("classification", "regression")
MAX_CLASSES = 5
#: The data sets of each problem type; ``MULTICLASS`` have 2 to ``MAX_CLASSES`` classes.
REGRESSION_SETS = ("plane", "gaussian", "sine", "step", "abs", "cubic")
#: The 1-D regression sets: y against x1 (drawn as a curve); their features are those of x1.
CURVE_SETS = ("sine", "step", "abs", "cubic")
X1_FEATURES = ("x1", "x1_sq", "sin_x1")
MULTICLASS = ("blobs", "spiral", "csv")
HIDDEN_ACTIVATIONS = list(activations.HIDDEN_ACTIVATIONS)
INITS = list(initializers.INITIALIZERS)
OPTIMIZER_NAMES = list(optimizers.COURSE_OPTIMIZERS)
FULL_BATCH = "full"

#: The page's settings that are a run's settings: the name ``TrainConfig`` gives each. They are
#: checked with ``TrainConfig``'s constraints (``nnlab.runs.config.CONSTRAINTS``), narrowed
#: where the page allows less (``_LIMITS``).
SHARED = {
    "n_points": "n_samples", "noise": "noise", "test_fraction": "val_split", "seed": "seed",
    "layers": "layers", "activations": "activation", "init": "init",
    "init_scale": "init_scale", "l2": "l2", "l1": "l1", "keep_prob": "keep_prob",
    "optimizer": "optimizer", "lr": "lr", "beta": "beta", "beta1": "beta1", "beta2": "beta2",
    "epsilon": "epsilon", "decay": "decay", "batch_size": "batch_size",
}
#: Where the page narrows the shared limits: (low, high), None keeping the shared end; the
#: largest sizes come from the server's ``Limits``.
_LIMITS: dict[str, tuple[float | None, float | None]] = {
    "n_points": (10, None), "noise": (None, 2.0), "test_fraction": (0.05, 0.9),
    "init_scale": (None, 100.0), "l2": (None, 10.0), "l1": (None, 10.0), "keep_prob": (0.05, None),
    "lr": (None, 10.0), "decay": (None, 100.0),
}

#: Settings that define the data: compared runs share them.
DATA_KEYS = ("problem", "classes", "dataset", "upload", "n_points", "noise", "test_fraction",
             "seed")
#: Settings a compared run may change.
MODEL_KEYS = (
    "features", "layers", "activations", "batch_norm", "init", "init_scale", "l2", "l1",
    "keep_prob", "optimizer", "lr", "beta", "beta1", "beta2", "epsilon", "decay", "batch_size",
)
#: Settings that change a running network from its next update on (weights, optimizer state and
#: epoch count kept); changing any other setting starts a new run from epoch 0.
LIVE_KEYS = ("lr", "decay", "l2", "l1", "keep_prob", "optimizer", "beta", "beta1", "beta2",
             "epsilon", "batch_size")
#: The choices of the page's Speed control, in epochs per second (None: as fast as possible).
SPEEDS: tuple[int | None, ...] = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, None)
#: The page's default speed: slow enough to watch the first hundred epochs.
DEFAULT_SPEED = 10
LABELS = {
    "problem": "problem type", "classes": "number of classes",
    "dataset": "data set", "upload": "uploaded file", "n_points": "number of points",
    "noise": "noise", "test_fraction": "test fraction", "seed": "seed",
    "features": "input features", "layers": "hidden layers", "activations": "activations",
    "batch_norm": "batch norm",
    "init": "initialization", "init_scale": "random init scale", "l2": "L2 λ", "l1": "L1 λ1",
    "keep_prob": "dropout keep_prob", "optimizer": "optimizer", "lr": "learning rate",
    "beta": "momentum β", "beta1": "Adam β1", "beta2": "β2", "epsilon": "ε",
    "decay": "learning-rate decay", "batch_size": "batch size", "compare": "compare",
}
#: A run's default settings.
_RUN = TrainConfig()
UPLOAD_ID = re.compile(r"^[0-9a-f]{16}$")
MAX_LABEL = 40


class SettingsError(ValueError):
    """A value from the page that is missing, of the wrong type or out of range.

    ``field`` names the setting (the page marks that field); ``str(error)`` is the message shown.
    """

    def __init__(self, field: str | None, message: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Limits:
    """What one server allows; each is a flag of ``nnlab playground`` (``--max-units`` ...).

    Attributes:
        max_layers: hidden layers per network.
        max_units: units per hidden layer.
        max_points: points in a data set (generated or uploaded).
        max_sessions: pages connected at once; the next one is told the server is busy.
        max_steps: updates (mini-batch steps) per run; then training pauses with a message.
        max_upload_bytes: size of an uploaded CSV file.
        max_uploads: uploaded files kept in memory (the oldest is forgotten first).
        train_threads: threads that train, shared by all sessions in turn.
    """

    max_layers: int = 6
    max_units: int = 16
    max_points: int = 2000
    max_sessions: int = 32
    max_steps: int = 1_000_000
    max_upload_bytes: int = 1_000_000
    max_uploads: int = 64
    train_threads: int = 2

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{f.name}={value!r} must be a whole number >= 1")

    def to_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Settings:
    """One run's settings, all checked. See ``LABELS`` for what each is called in the page."""

    problem: str = "classification"
    classes: int = 2
    dataset: str = "moons"
    upload: str | None = None
    n_points: int = 300
    noise: float = 0.2
    test_fraction: float = 0.3
    seed: int = 1
    features: list[str] = field(default_factory=lambda: list(DEFAULT_FEATURES))
    layers: list[int] = field(default_factory=lambda: [4, 4])
    activations: list[str] = field(default_factory=lambda: ["tanh", "tanh"])
    #: batch-normalize each hidden layer (one flag per hidden layer)
    batch_norm: list[bool] = field(default_factory=lambda: [False, False])
    init: str = "xavier"
    init_scale: float = 0.01
    # the page's defaults (issue 20): mini-batches of 32 and a little L2 keep the default run
    # generalizing (its test loss stays near its train loss for tens of thousands of epochs)
    l2: float = 0.01
    #: λ1 of the L1 term (λ1/m) Σ ||W[l]||₁ (0: none)
    l1: float = 0.0
    keep_prob: float = 1.0
    # how the network learns: a run's defaults (``TrainConfig``'s)
    optimizer: str = _RUN.optimizer
    lr: float = _RUN.lr
    beta: float = _RUN.beta
    beta1: float = _RUN.beta1
    beta2: float = _RUN.beta2
    epsilon: float = _RUN.epsilon
    decay: float = _RUN.decay
    batch_size: int | None = 32

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data: the full batch is ``"full"``, no upload is ``""``."""
        data = dataclasses.asdict(self)
        data["batch_size"] = FULL_BATCH if self.batch_size is None else self.batch_size
        data["upload"] = self.upload or ""
        return data

    @property
    def output(self) -> str:
        """The output activation: sigmoid (two classes), softmax (more), identity (regression)."""
        if self.problem == "regression":
            return "identity"
        return "softmax" if self.classes > 2 else "sigmoid"

    @property
    def dropout(self) -> bool:
        return self.keep_prob < 1.0 and bool(self.layers)

    def optimizer_hyperparams(self) -> dict[str, Any]:
        """The keyword arguments of the chosen optimizer (``nnlab.optimizers``' one mapping)."""
        return optimizers.optimizer_hyperparams(self.optimizer, dataclasses.asdict(self))

    def schedule(self) -> optimizers.Schedule | None:
        """The learning rate's decay, α = α0 / (1 + decay · epoch) (None: no decay)."""
        return optimizers.schedule_from(self.lr, self.decay)

    def to_train_config(
        self, epochs: int, dataset: str | None = None, target: str | None = None
    ) -> TrainConfig:
        """The same run as a ``TrainConfig`` (what "Export" writes for ``nnlab train --config``).

        ``dataset`` replaces the data set's name (an uploaded CSV's file name); ``target`` names
        the CSV's label column.
        """
        if self.output != "sigmoid":
            what = ("regression" if self.problem == "regression"
                    else f"classification with {self.classes} classes")
            raise SettingsError("problem", f"{what}: a TOML export is for two-class runs on "
                                           "nnlab's data sets; export the model instead")
        generated = DATASETS[self.dataset][2] and self.dataset != "csv"
        acts = self.activations
        return TrainConfig(
            dataset=dataset or self.dataset,
            target=target,
            n_samples=self.n_points if generated else None,
            noise=self.noise if DATASETS[self.dataset][1] is not None else None,
            layers=list(self.layers),
            activation=acts[0] if acts and len(set(acts)) == 1 else list(acts),
            batch_norm=list(self.batch_norm) if any(self.batch_norm) else False,
            output="sigmoid",
            init=self.init,
            init_scale=self.init_scale if self.init == "random" else None,
            optimizer=self.optimizer,
            lr=self.lr,
            beta=self.beta,
            beta1=self.beta1,
            beta2=self.beta2,
            epsilon=self.epsilon,
            decay=self.decay,
            batch_size=self.batch_size,
            epochs=int(epochs),
            l2=self.l2,
            l1=self.l1,
            keep_prob=self.keep_prob,
            val_split=self.test_fraction if self.dataset != "football" else 0.0,
            seed=self.seed,
            features=list(self.features),
        )


# -- parsing single values ------------------------------------------------------------------------


def _name(key: str) -> str:
    label = LABELS.get(key, key)
    return f"{label} ({key})" if label != key else key


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value) if value.strip() != value or not value else value
    return repr(value) if not isinstance(value, int | float) else f"{value:g}"


def _number(key: str, value: Any) -> float:
    if isinstance(value, bool) or value is None or isinstance(value, list | dict):
        raise SettingsError(key, f"{_name(key)} = {_show(value)} is not a number")
    if isinstance(value, str):
        text = value.strip()
        if not text:
            raise SettingsError(key, f"{_name(key)} is empty: a number is needed")
        try:
            value = float(text)
        except ValueError:
            raise SettingsError(key, f"{_name(key)} = {_show(text)} is not a number") from None
    if not isinstance(value, int | float) or not math.isfinite(value):
        raise SettingsError(key, f"{_name(key)} = {_show(value)} is not a finite number")
    return float(value)


def shared(key: str, low: float | None = None, high: float | None = None) -> Any:
    """The constraint of the page's setting ``key``: ``TrainConfig``'s (for a per-layer list,
    its entries'), narrowed to the page's limits (``_LIMITS``, then ``low`` / ``high``).

    >>> shared("lr").describe("lr", le="≤")
    '0 < lr ≤ 10'
    """
    constraint = CONSTRAINTS[SHARED[key]]
    if isinstance(constraint, PerLayer):
        constraint = constraint.each
    if isinstance(constraint, Interval):
        page_low, page_high = _LIMITS.get(key, (None, None))
        constraint = constraint.narrow(page_low, page_high).narrow(low, high)
    return constraint


def _ranged(key: str, value: Any) -> float:
    interval = shared(key)
    x = _number(key, value)
    if not interval.contains(x):
        raise SettingsError(
            key, f"{_name(key)} = {x:g} is out of range: allowed {interval.describe(key, '≤')}"
        )
    return x


def _whole(key: str, value: Any, interval: Interval, what: str | None = None) -> int:
    x = _number(key, value)
    if x != int(x):
        raise SettingsError(key, f"{_name(key)} = {x:g} must be a whole number")
    if not interval.contains(x):
        raise SettingsError(
            key, f"{_name(key)} = {int(x)} is out of range: allowed {interval.describe(key, '≤')}"
            + (f" ({what})" if what else "")
        )
    return int(x)


def _choice(key: str, value: Any, choices: Sequence[str] | Options) -> str:
    if isinstance(choices, Options):
        choices = choices.choices
    if not isinstance(value, str) or value not in choices:
        raise SettingsError(
            key, f"{_name(key)} = {_show(value)} is unknown: choose one of {', '.join(choices)}"
        )
    return value


def _list(key: str, value: Any) -> list[Any]:
    """A JSON list, or the text of a form field: comma-separated, empty for none."""
    if isinstance(value, list):
        return value
    if isinstance(value, str):
        text = value.strip()
        return [part.strip() for part in text.split(",")] if text else []
    raise SettingsError(key, f"{_name(key)} = {_show(value)} must be a list, e.g. 4,4")


# -- the whole record -----------------------------------------------------------------------------


def parse_settings(
    raw: Mapping[str, Any], limits: Limits | None = None, base: Settings | None = None
) -> Settings:
    """Check every value of ``raw`` (missing ones come from ``base``, else the defaults).

    Raises ``SettingsError`` for the first bad value, an unknown key, or a value of the wrong type.
    """
    limits = limits or Limits()
    if not isinstance(raw, Mapping):
        raise SettingsError(None, "settings must be an object of name: value pairs")
    known = set(DATA_KEYS) | set(MODEL_KEYS)
    unknown = sorted(str(k) for k in raw if k not in known)
    if unknown:
        raise SettingsError(
            unknown[0], f"unknown setting(s) {', '.join(map(repr, unknown))}; known: "
            + ", ".join(DATA_KEYS + MODEL_KEYS)
        )
    start = base or Settings()
    given = {k: raw[k] for k in raw}
    v = {k: given.get(k, getattr(start, k)) for k in DATA_KEYS + MODEL_KEYS}
    out: dict[str, Any] = {}

    out["problem"] = _choice("problem", v["problem"], PROBLEMS)
    out["classes"] = _whole("classes", v["classes"], Interval(int, 2, MAX_CLASSES),
                            "classification has 2 to 5 classes")
    out["dataset"] = _choice("dataset", v["dataset"], list(DATASETS))
    regression = out["problem"] == "regression"
    if regression and out["dataset"] not in REGRESSION_SETS:
        raise SettingsError("dataset", f"data set {out['dataset']} is for classification: "
                            f"regression uses {', '.join(REGRESSION_SETS)}")
    if not regression and out["dataset"] in REGRESSION_SETS:
        raise SettingsError("dataset", f"data set {out['dataset']} is for regression: choose "
                            "problem type regression, or a classification data set")
    if regression:
        out["classes"] = 2  # (not used)
    elif out["classes"] > 2 and out["dataset"] not in MULTICLASS:
        raise SettingsError("classes", f"{out['dataset']} has two classes: {out['classes']} "
                            f"classes come with {' or '.join(MULTICLASS)}")
    upload = v["upload"]
    if out["dataset"] == "csv":
        if upload in (None, ""):
            raise SettingsError("upload", "uploaded CSV: choose a CSV file to upload first")
        if not isinstance(upload, str) or not UPLOAD_ID.match(upload):
            raise SettingsError("upload", f"uploaded file id {_show(upload)} is not valid")
        out["upload"] = upload
    else:
        out["upload"] = None
    out["n_points"] = _whole("n_points", v["n_points"], shared("n_points", high=limits.max_points),
                             "raise the limit with --max-points")
    out["noise"] = _ranged("noise", v["noise"])
    out["test_fraction"] = _ranged("test_fraction", v["test_fraction"])
    out["seed"] = _whole("seed", v["seed"], shared("seed"))

    features = _list("features", v["features"])
    if out["dataset"] in CURVE_SETS and "features" not in given:
        # a 1-D set: the features of x1 among those the run had (x1 alone when none)
        features = [f for f in features if f in X1_FEATURES] or ["x1"]
    try:
        out["features"] = check_feature_names(features)
    except ValueError as exc:
        raise SettingsError("features", f"{_name('features')}: {_feature_problem(exc)}") from None
    if out["dataset"] in CURVE_SETS:
        other = [f for f in out["features"] if f not in X1_FEATURES]
        if other:
            raise SettingsError(
                "features", f"{_name('features')}: {', '.join(other)} use x2, but {out['dataset']}"
                f" is y against x1 alone: choose among {', '.join(X1_FEATURES)}")
    layers = _list("layers", v["layers"])
    if len(layers) > limits.max_layers:
        raise SettingsError(
            "layers", f"hidden layers: {len(layers)} is too many: allowed at most "
            f"{limits.max_layers} (raise the limit with --max-layers)"
        )
    out["layers"] = [
        _units(i, n, limits) for i, n in enumerate(layers)
    ]
    acts = _list("activations", v["activations"])
    if len(acts) == 1 and len(layers) > 1:
        acts = acts * len(layers)
    if "activations" not in given and "layers" in given and len(acts) != len(layers):
        # layers changed alone: keep the first activation for every layer
        acts = [acts[0] if acts else "relu"] * len(layers)
    if len(acts) != len(layers):
        raise SettingsError(
            "activations", f"activations: {len(acts)} given for {len(layers)} hidden layers: "
            "give one per hidden layer"
        )
    hidden = shared("activations").narrow(HIDDEN_ACTIVATIONS)
    out["activations"] = [_choice("activations", a, hidden) for a in acts]
    out["batch_norm"] = _flags("batch_norm", v["batch_norm"], len(layers), "batch_norm" in given)
    out["init"] = _choice("init", v["init"], shared("init"))
    for key in ("init_scale", "l2", "l1", "keep_prob"):
        out[key] = _ranged(key, v[key])
    out["optimizer"] = _choice("optimizer", v["optimizer"], shared("optimizer"))
    for key in ("lr", "beta", "beta1", "beta2", "epsilon", "decay"):
        out[key] = _ranged(key, v[key])
    batch = v["batch_size"]
    if batch is None or (isinstance(batch, str) and batch.strip().lower() == FULL_BATCH):
        out["batch_size"] = None
    else:
        out["batch_size"] = _whole("batch_size", batch,
                                   shared("batch_size", high=limits.max_points),
                                   'or "full" for the full batch')
    return Settings(**out)


_TRUE = ("true", "1", "on", "yes")
_FALSE = ("false", "0", "off", "no")


def _flags(key: str, value: Any, n: int, given: bool) -> list[bool]:
    """One switch per hidden layer: a list (JSON booleans, 0 / 1, or the words true / false), or
    one for every layer. Not given while the layers changed: the first n, then off."""
    items = value if isinstance(value, list) else (
        _list(key, value) if isinstance(value, str) else [value])
    flags = []
    for item in items:
        word = item.strip().lower() if isinstance(item, str) else None
        if isinstance(item, bool) or (item in (0, 1) and not isinstance(item, float)):
            flags.append(bool(item))
        elif word in _TRUE or word in _FALSE:
            flags.append(word in _TRUE)
        else:
            raise SettingsError(key, f"{_name(key)} = {_show(item)} must be true or false")
    if len(flags) == 1 and n > 1:
        flags = flags * n
    if not given and len(flags) != n:
        flags = (flags + [False] * n)[:n]
    if len(flags) != n:
        raise SettingsError(key, f"{_name(key)}: {len(flags)} given for {n} hidden layers: give "
                                 "one per hidden layer")
    return flags


def _units(i: int, n: Any, limits: Limits) -> int:
    try:
        return _whole("layers", n, shared("layers", high=limits.max_units),
                      "raise the limit with --max-units")
    except SettingsError as exc:
        raise SettingsError("layers", f"hidden layer {i + 1}: {exc}") from None


def _feature_problem(exc: ValueError) -> str:
    text = str(exc)
    if text.startswith("features is empty"):
        return "none chosen: choose at least one, e.g. x1"
    return text.split(": ", 1)[1] if text.startswith("features: ") else text


# -- comparisons ----------------------------------------------------------------------------------

#: Ready-made comparisons: the course's experiments. ``base`` is the setup the course ran them on
#: (the page applies it with the preset); ``variants`` are what each compared run changes.
PRESETS: dict[str, dict[str, Any]] = {
    "init": {
        "title": "zeros / large random / He",
        "base": {"dataset": "circles", "noise": 0.05, "layers": [10, 5],
                 "activations": ["relu", "relu"], "optimizer": "gd", "lr": 0.01,
                 "batch_size": FULL_BATCH, "l2": 0.0, "keep_prob": 1.0, "decay": 0.0,
                 "features": ["x1", "x2"]},
        "variants": [
            {"label": "zeros", "init": "zeros"},
            {"label": "large random (×10)", "init": "random", "init_scale": 10.0},
            {"label": "He", "init": "he"},
        ],
    },
    "optimizer": {
        "title": "gradient descent / momentum / Adam",
        "base": {"dataset": "moons", "noise": 0.2, "layers": [5, 2],
                 "activations": ["relu", "relu"], "init": "he", "lr": 0.0007, "batch_size": 64,
                 "l2": 0.0, "keep_prob": 1.0, "decay": 0.0, "features": ["x1", "x2"]},
        "variants": [
            {"label": "gradient descent", "optimizer": "gd"},
            {"label": "momentum", "optimizer": "momentum", "beta": 0.9},
            {"label": "Adam", "optimizer": "adam", "beta1": 0.9, "beta2": 0.999},
        ],
    },
    "regularization": {
        "title": "none / L2 / dropout",
        "base": {"dataset": "flower", "layers": [16, 8], "activations": ["relu", "relu"],
                 "init": "he", "optimizer": "adam", "lr": 0.01, "batch_size": FULL_BATCH,
                 "features": ["x1", "x2"]},
        "variants": [
            {"label": "no regularization", "l2": 0.0, "keep_prob": 1.0},
            {"label": "L2 λ=0.7", "l2": 0.7, "keep_prob": 1.0},
            {"label": "dropout keep_prob=0.86", "l2": 0.0, "keep_prob": 0.86},
        ],
    },
}


@dataclass(frozen=True)
class Variant:
    """One of the compared runs: its label and its full settings."""

    label: str
    settings: Settings


def parse_compare(
    raw: Any, base: Settings, limits: Limits | None = None
) -> list[Variant]:
    """Check a comparison: None or an empty list (no comparison), or 2 to 4 variants, each an
    object with an optional ``label`` and settings that override ``base``'s model and training
    settings. The data settings (``DATA_KEYS``) are shared and cannot change between variants."""
    limits = limits or Limits()
    if raw is None or raw == [] or raw == "":
        return []
    if not isinstance(raw, list):
        raise SettingsError("compare", "compare must be a list of 2 to 4 settings")
    if not 2 <= len(raw) <= 4:
        raise SettingsError(
            "compare", f"compare: {len(raw)} settings given; a comparison runs 2 to 4 settings"
        )
    out = []
    for i, item in enumerate(raw):
        default = "ABCD"[i]
        if not isinstance(item, Mapping):
            raise SettingsError("compare", f"compare {default}: must be an object of settings")
        label = item.get("label", default)
        if not isinstance(label, str) or not label.strip() or len(label) > MAX_LABEL:
            raise SettingsError(
                "compare", f"compare {default}: label must be a text of 1 to {MAX_LABEL} characters"
            )
        changes = {k: val for k, val in item.items() if k != "label"}
        shared = sorted(k for k in changes if k in DATA_KEYS)
        if shared:
            raise SettingsError(
                "compare", f"compare {label}: {', '.join(shared)} cannot change between compared "
                "runs: they share the data and the seed"
            )
        try:
            settings = parse_settings(changes, limits, base=base)
        except SettingsError as exc:
            raise SettingsError(exc.field, f"compare {label}: {exc}") from None
        out.append(Variant(label.strip(), settings))
    return out


def _football_missing() -> str | None:
    """Why the football set cannot be offered (its file is not in the data folder), or None."""
    from ..datasets import DataFileError, find_data_file
    from ..datasets.football import FOOTBALL_EXPECTED, FOOTBALL_FILE

    try:
        find_data_file(FOOTBALL_FILE, FOOTBALL_EXPECTED)
    except DataFileError as exc:
        return str(exc)
    return None


def options(limits: Limits) -> dict[str, Any]:
    """What the page needs to draw its controls: choices, defaults, limits, presets. A data set
    that cannot be used here (football without its file) comes with ``unavailable``: why."""
    missing = {"football": _football_missing()}
    return {
        "datasets": [
            {"name": k, "label": lab, "noise": noise, "points": points,
             "unavailable": missing.get(k)}
            for k, (lab, noise, points) in DATASETS.items()
        ],
        "features": [{"name": k, "label": f.label} for k, f in FEATURES.items()],
        "problems": list(PROBLEMS),
        "regression_sets": list(REGRESSION_SETS),
        "curve_sets": list(CURVE_SETS),
        "x1_features": list(X1_FEATURES),
        "multiclass_sets": list(MULTICLASS),
        "max_classes": MAX_CLASSES,
        "activations": HIDDEN_ACTIVATIONS,
        "inits": INITS,
        "optimizers": OPTIMIZER_NAMES,
        "defaults": Settings().to_dict(),
        "limits": limits.to_dict(),
        "labels": LABELS,
        "presets": PRESETS,
        "live": list(LIVE_KEYS),
        "speeds": list(SPEEDS),
        "default_speed": DEFAULT_SPEED,
    }


def parse_speed(value: Any) -> float | None:
    """The pace of a playing session in epochs per second, 1 to 1000, or None (``null``,
    ``"max"``): as fast as the server goes.

    >>> parse_speed("20"), parse_speed(None), parse_speed("max")
    (20.0, None, None)
    """
    if value is None or (isinstance(value, str) and value.strip().lower() == "max"):
        return None
    x = _number("speed", value)
    if not 1 <= x <= 1000:
        raise SettingsError("speed", f"speed = {x:g} epochs per second is out of range: allowed "
                                     "1 ≤ speed ≤ 1000, or max")
    return x
