"""Run a training configuration end to end: data → model → fit → metrics → model file.

This is what ``nnlab train`` does, and what ``nnlab sweep`` does for each trial. Every random
choice comes from ``config.seed``: the train / validation split (scikit-learn's
``train_test_split``, stratified for classification) and, through ``Model(random_state=seed)``,
the initialization, the shuffles and the dropout masks.

>>> from nnlab.config import TrainConfig
>>> result = run_config(TrainConfig(dataset="moons", layers=[8], epochs=30, lr=0.05,
...                                 val_split=0.2), verbose=0)
>>> sorted(result.metrics), result.metrics["train"]["accuracy"] > 0.8
(['train', 'val'], True)
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .callbacks import Callback, EarlyStopping, LearningRateScheduler
from .config import TrainConfig
from .datasets.registry import Dataset, load_dataset
from .io import atomic_write_bytes
from .model import Dense, History, Model
from .optimizers import inverse_time_decay, scheduled_inverse_time_decay
from .saving import (
    ModelCheckpoint,
    load_checkpoint,
    load_model,
    restore_early_stopping,
    save_model,
)

MODEL_FILE = "model.npz"
CONFIG_FILE = "config.toml"


@dataclass
class Prepared:
    """A data set made ready for a network: features expanded, labels encoded, split."""

    dataset: Dataset
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray | None
    y_val: np.ndarray | None
    X_test: np.ndarray | None
    y_test: np.ndarray | None
    classes: list
    task: str


@dataclass
class RunResult:
    """What a run produced: the trained model, its history (over all resumed parts) and the
    loss / accuracy on each split (``train``, ``val`` and ``test`` where they exist)."""

    config: TrainConfig
    model: Model
    history: History
    metrics: dict[str, dict[str, float]]
    classes: list
    task: str
    epochs_run: int
    stopped_early: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def apply_features(X: np.ndarray, features: Sequence[str] | None) -> np.ndarray:
    """The chosen 2-D feature maps of X ``(n_samples, 2)`` (no change without features)."""
    if not features:
        return X
    from .features import expand_features

    if X.shape[1] != 2:
        raise ValueError(
            f"features={list(features)} apply to 2-D data, but the data has {X.shape[1]} features"
        )
    return np.ascontiguousarray(expand_features(X.T, list(features)).T)


def encode_labels(y: np.ndarray, classes: list) -> np.ndarray:
    """Class labels → indices 0 .. k-1 in the order of ``classes``."""
    index = {c: i for i, c in enumerate(classes)}
    try:
        return np.array([index[v] for v in y.tolist()], dtype=np.int64)
    except KeyError as exc:
        raise ValueError(
            f"label {exc.args[0]!r} is not one of the model's classes {classes}"
        ) from None


def prepare_data(config: TrainConfig, data_dir: str | os.PathLike | None = None) -> Prepared:
    """Load ``config.dataset``, expand features, encode labels and split off validation."""
    from sklearn.model_selection import train_test_split

    ds = load_dataset(config.dataset, n_samples=config.n_samples, noise=config.noise,
                      seed=config.seed, data_dir=data_dir, target=config.target)
    features = getattr(config, "features", None)
    X = apply_features(ds.X, features)
    X_test = None if ds.X_test is None else apply_features(ds.X_test, features)
    if ds.task == "regression":
        classes: list = []
        y, y_test = ds.y.astype(np.float64), ds.y_test
    else:
        classes = ds.classes
        if len(classes) < 2:
            raise ValueError(f"{ds.name}: the labels hold a single class {classes}: need two")
        y = encode_labels(ds.y, classes)
        y_test = None if ds.y_test is None else encode_labels(ds.y_test, classes)
    X_val = y_val = None
    if config.val_split:
        stratify = y if ds.task != "regression" and np.bincount(y).min() >= 2 else None
        try:
            X, X_val, y, y_val = train_test_split(
                X, y, test_size=config.val_split, random_state=config.seed, stratify=stratify
            )
        except ValueError as exc:
            raise ValueError(f"val_split={config.val_split}: {exc}") from None
    return Prepared(ds, X, y, X_val, y_val, X_test, y_test, classes, ds.task)


def build_model(config: TrainConfig, n_features: int, task: str, n_classes: int) -> Model:
    """The network of ``config``: its hidden layers, then an output layer that fits the task
    (1 sigmoid unit for two classes, k softmax units for k classes, 1 identity unit for
    regression, unless ``config.output`` says otherwise)."""
    acts, kps = config.hidden_activations(), config.keep_probs()
    layers = [
        Dense(n, a, init=config.init, keep_prob=k, init_scale=config.init_scale)
        for n, a, k in zip(config.layers, acts, kps, strict=True)
    ]
    if task == "regression":
        out_units, out_act = 1, config.output or "identity"
        if out_act in ("sigmoid", "softmax"):
            raise ValueError(
                f"output={out_act!r} does not fit real-valued targets: a regression needs an "
                "unbounded output such as 'identity' (or classes as labels)"
            )
    elif n_classes == 2:
        out_units, out_act = 1, config.output or "sigmoid"
        if out_act != "sigmoid":
            raise ValueError(
                f"output={out_act!r} does not fit two classes: binary cross-entropy needs a "
                "'sigmoid' output (leave --output unset)"
            )
    else:
        out_units, out_act = n_classes, config.output or "softmax"
        if out_act != "softmax":
            raise ValueError(
                f"output={out_act!r} does not fit {n_classes} classes: categorical "
                "cross-entropy needs a 'softmax' output (leave --output unset)"
            )
    out_init = config.init
    layers.append(Dense(out_units, out_act, init=out_init, init_scale=config.init_scale))
    from .optimizers import get_optimizer

    optimizer = get_optimizer(config.optimizer, **config.optimizer_hyperparams())
    return Model(layers, optimizer=optimizer, l2=config.l2, random_state=config.seed,
                 input_dim=n_features)


def _scheduler(config: TrainConfig) -> Callback | None:
    if not config.decay:
        return None
    if config.decay_interval:
        schedule = scheduled_inverse_time_decay(config.lr, config.decay, config.decay_interval)
    else:
        schedule = inverse_time_decay(config.lr, config.decay)
    return LearningRateScheduler(schedule)


def evaluate_splits(model: Model, prepared: Prepared) -> dict[str, dict[str, float]]:
    """Loss (without the L2 term) and accuracy on every split that exists."""
    splits = {"train": (prepared.X_train, prepared.y_train),
              "val": (prepared.X_val, prepared.y_val),
              "test": (prepared.X_test, prepared.y_test)}
    return {name: model.evaluate(X, y) for name, (X, y) in splits.items() if X is not None}


class _RestoreEarlyStopping(Callback):
    """Placed after an ``EarlyStopping``: once that one has reset itself at ``on_train_begin``,
    put back the state a checkpoint recorded (so that it goes on counting, and at the end
    restores the best weights, as the uninterrupted run's did)."""

    def __init__(self, target: EarlyStopping, state: dict, arrays: dict):
        super().__init__()
        self.target, self.state, self.arrays = target, state, arrays

    def on_train_begin(self, logs: dict | None = None) -> None:
        restore_early_stopping(self.target, self.state, self.arrays)


def run_config(
    config: TrainConfig,
    *,
    data_dir: str | os.PathLike | None = None,
    verbose: int = 1,
    callbacks: Sequence[Callback] = (),
    checkpoint: str | os.PathLike | None = None,
    checkpoint_every: int = 1,
    resume: str | os.PathLike | None = None,
) -> RunResult:
    """Train ``config`` and measure it.

    ``checkpoint`` names a checkpoint file written every ``checkpoint_every`` epochs;
    ``resume`` a checkpoint to continue from (the settings are taken from it, and the result is
    bit for bit that of a run that was never interrupted).
    """
    history = History()
    start_epoch, es_info = 0, None
    if resume is not None:
        model, info = load_checkpoint(resume)
        saved = info["extra"].get("config")
        if not isinstance(saved, dict):
            raise ValueError(f"{resume}: this checkpoint holds no training settings")
        config = TrainConfig.from_dict(saved, where=str(resume))
        prepared = prepare_data(config, data_dir)
        start_epoch = info["epoch"]
        if model.history is not None:
            history.extend(model.history)
        es_info = (info["early_stopping"], info["arrays"])
    else:
        prepared = prepare_data(config, data_dir)
        model = build_model(config, prepared.X_train.shape[1], prepared.task,
                            len(prepared.classes))
    extra = {"config": config.to_dict(), "classes": prepared.classes, "task": prepared.task,
             "feature_names": prepared.dataset.feature_names,
             "features": getattr(config, "features", None)}

    cbs: list[Callback] = []
    scheduler = _scheduler(config)
    if scheduler is not None:
        cbs.append(scheduler)
    stopper = None
    if config.early_stopping:
        stopper = EarlyStopping(monitor="val_loss", patience=config.early_stopping,
                                restore_best_weights=True)
        cbs.append(stopper)
        if es_info is not None and es_info[0] is not None:
            cbs.append(_RestoreEarlyStopping(stopper, es_info[0], es_info[1]))
    cbs.extend(callbacks)
    if checkpoint is not None:
        cbs.append(ModelCheckpoint(checkpoint, every=checkpoint_every, extra=extra,
                                   earlier=history, others=[stopper] if stopper else []))
    validation = None
    if prepared.X_val is not None:
        validation = (prepared.X_val, prepared.y_val)
    end_epoch = max(config.epochs, start_epoch)
    if es_info is not None and (es_info[0] or {}).get("stopped_epoch") is not None:
        end_epoch = start_epoch  # the run had stopped early: only its ending is left to do
    # Even with no epoch left (a checkpoint written after the last epoch but before the end of
    # training), fit runs the callbacks' ends: an early stopper restores its best weights.
    # A diverging run is reported once, as a DivergenceError naming the epoch, rather than as a
    # stream of overflow warnings on its way there.
    with np.errstate(over="ignore", invalid="ignore"):
        _fit(model, prepared, config, validation, cbs, verbose, start_epoch, end_epoch)
    history.extend(model.history)
    model.history = history
    stopped = stopper is not None and stopper.stopped_epoch is not None
    return RunResult(config, model, history, evaluate_splits(model, prepared), prepared.classes,
                     prepared.task, len(history), stopped, extra)


def _fit(model: Model, prepared: Prepared, config: TrainConfig, validation, callbacks,
         verbose: int, start_epoch: int, end_epoch: int) -> None:
    model.fit(prepared.X_train, prepared.y_train, epochs=end_epoch,
              batch_size=config.batch_size, validation_data=validation, callbacks=callbacks,
              verbose=verbose, initial_epoch=start_epoch)


def model_path(path: str | os.PathLike) -> Path:
    """A model's file: ``path`` itself for a ``.npz``, else ``path/model.npz`` (a folder)."""
    path = Path(path)
    return path if path.suffix == ".npz" else path / MODEL_FILE


def save_run(result: RunResult, path: str | os.PathLike) -> Path:
    """Write the trained model (and, for a folder, its settings as ``config.toml``)."""
    file = model_path(path)
    save_model(result.model, file, extra=result.extra)
    if file.name == MODEL_FILE and file.parent == Path(path):
        atomic_write_bytes(Path(path) / CONFIG_FILE, result.config.to_toml().encode("utf-8"))
    return file


def load_run_model(path: str | os.PathLike) -> Model:
    """Read a model written by ``save_run`` (a folder or an ``.npz``)."""
    return load_model(model_path(path))
