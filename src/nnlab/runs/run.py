"""Run a training configuration end to end: data → model → fit → metrics → model file.

This is what ``nnlab train`` does, and what ``nnlab sweep`` does for each trial. Every random
choice comes from ``config.seed``: the train / validation split (``train_test_split``, the same
rows as scikit-learn's, stratified for classification) and, through
``Model(random_state=seed)``, the initialization, the shuffles and the dropout masks.

>>> from nnlab.runs.config import TrainConfig
>>> result = run_config(TrainConfig(dataset="moons", layers=[8], epochs=30, lr=0.05,
...                                 val_split=0.2), verbose=0)
>>> sorted(result.metrics), result.metrics["train"]["accuracy"] > 0.8
(['train', 'val'], True)
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..callbacks import Callback, EarlyStopping, LearningRateScheduler
from ..datasets.registry import Dataset, load_dataset
from ..files.format import ModelFileError
from ..files.models import (
    ModelCheckpoint,
    load,
    load_checkpoint,
    load_model,
    restore_early_stopping,
    save_model,
)
from ..model import Dense, History, Model
from .config import ConfigError, TrainConfig

MODEL_FILE = "model.npz"
CONFIG_FILE = "config.toml"


@dataclass
class PreparedRun:
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
    #: The data loss of the initialized network on the training split, before any update
    #: (None for a resumed run).
    initial_loss: float | None = None


def apply_features(X: np.ndarray, features: Sequence[str] | None) -> np.ndarray:
    """The chosen 2-D feature maps of X ``(n_samples, 2)`` (no change without features)."""
    if not features:
        return X
    from ..datasets.features import expand_features

    if X.shape[1] != 2:
        raise ValueError(
            f"features={list(features)} apply to 2-D data, but the data has {X.shape[1]} features"
        )
    return np.ascontiguousarray(expand_features(X.T, list(features)).T)


def encode_labels(y: np.ndarray | Sequence, classes: list) -> np.ndarray:
    """Class labels → indices 0 .. k-1 in the order of ``classes``; labels that are not among
    ``classes`` are a ValueError naming them.

    >>> encode_labels(["yes", "no", "yes"], ["no", "yes"]).tolist()
    [1, 0, 1]
    """
    index = {c: i for i, c in enumerate(classes)}
    values = y.tolist() if isinstance(y, np.ndarray) else list(y)
    unknown = sorted({v for v in values if v not in index}, key=str)
    if unknown:
        shown = ", ".join(repr(v) for v in unknown[:10]) + (" ..." if len(unknown) > 10 else "")
        raise ValueError(
            f"label{'s' if len(unknown) > 1 else ''} {shown} never seen in training: the model's "
            f"classes are {', '.join(repr(c) for c in classes)}"
        )
    return np.array([index[v] for v in values], dtype=np.int64)


def prepare_data(config: TrainConfig, data_dir: str | os.PathLike | None = None) -> PreparedRun:
    """Load ``config.dataset``, expand features, encode labels and split off validation."""
    from ..datasets.split import train_test_split

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
        y = encode_labels(ds.labels(ds.y), classes)
        y_test = None if ds.y_test is None else encode_labels(ds.labels(ds.y_test), classes)
    X_val = y_val = None
    if config.val_split:
        stratify = y if ds.task != "regression" and np.bincount(y).min() >= 2 else None
        try:
            X, X_val, y, y_val = train_test_split(
                X, y, test_size=config.val_split, random_state=config.seed, stratify=stratify
            )
        except ValueError as exc:
            raise ValueError(f"val_split={config.val_split}: {exc}") from None
    return PreparedRun(ds, X, y, X_val, y_val, X_test, y_test, classes, ds.task)


def build_model(config: TrainConfig, n_features: int, task: str, n_classes: int) -> Model:
    """The network of ``config``: its hidden layers, then an output layer that fits the task
    (1 sigmoid unit for two classes, k softmax units for k classes, 1 identity unit for
    regression, unless ``config.output`` says otherwise)."""
    acts, kps = config.hidden_activations(), config.keep_probs()
    norms = config.batch_norms()
    layers = [
        Dense(n, a, init=config.init, keep_prob=k, init_scale=config.init_scale, batch_norm=bn)
        for n, a, k, bn in zip(config.layers, acts, kps, norms, strict=True)
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
    from ..optimizers import get_optimizer

    optimizer = get_optimizer(config.optimizer, **config.optimizer_hyperparams())
    return Model(layers, optimizer=optimizer, l2=config.l2, l1=config.l1,
                 random_state=config.seed, input_dim=n_features)


def _scheduler(config: TrainConfig) -> Callback | None:
    schedule = config.schedule()  # the registry's one schedule_from
    return None if schedule is None else LearningRateScheduler(schedule)


def evaluate_splits(model: Model, prepared: PreparedRun) -> dict[str, dict[str, float]]:
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
    config: TrainConfig | None,
    *,
    data_dir: str | os.PathLike | None = None,
    verbose: int | str = 1,
    callbacks: Sequence[Callback] = (),
    checkpoint: str | os.PathLike | None = None,
    checkpoint_every: int = 1,
    resume: str | os.PathLike | None = None,
    resume_changes: Mapping[str, Any] | None = None,
) -> RunResult:
    """Train ``config`` and measure it (``config`` None with ``resume``).

    ``checkpoint`` names a checkpoint file written every ``checkpoint_every`` epochs;
    ``resume`` a checkpoint to continue from (the settings are taken from it, and the result is
    bit for bit that of a run that was never interrupted). ``resume_changes`` are settings
    given again on resuming: ``epochs`` sets a new total (not below the epochs done); any other
    must equal the checkpoint's, since changing it would change what the run means
    (a ``ConfigError`` names it).

    When Ctrl-C (``KeyboardInterrupt``) stops a run that writes a checkpoint, the exception
    carries ``checkpoint_epoch``: the epochs the checkpoint file holds (None: none written yet).
    """
    history = History()
    start_epoch, es_info, initial_loss = 0, None, None
    if resume is not None:
        model, info = load_checkpoint(resume)
        saved = info["extra"].get("config")
        if not isinstance(saved, dict):
            raise ValueError(f"{resume}: this checkpoint holds no training settings")
        config = TrainConfig.from_dict(saved, where=str(resume))
        start_epoch = info["epoch"]
        stopped_early = (info["early_stopping"] or {}).get("stopped_epoch") is not None
        config = _resumed_config(config, resume_changes or {}, resume, start_epoch,
                                 stopped_early)
        prepared = prepare_data(config, data_dir)
        if model.history is not None:
            history.extend(model.history)
        es_info = (info["early_stopping"], info["arrays"])
    else:
        assert config is not None  # only a resumed run takes the checkpoint's settings
        prepared = prepare_data(config, data_dir)
        model = build_model(config, prepared.X_train.shape[1], prepared.task,
                            len(prepared.classes))
        with np.errstate(over="ignore", invalid="ignore"):  # a forward pass: draws nothing
            initial_loss = model.evaluate(prepared.X_train, prepared.y_train)["loss"]
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
    writer = None
    if checkpoint is not None:
        writer = _TrackedCheckpoint(checkpoint, every=checkpoint_every, extra=extra,
                                    earlier=history, others=[stopper] if stopper else [])
        cbs.append(writer)
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
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            _fit(model, prepared, config, validation, cbs, verbose, start_epoch, end_epoch)
    except KeyboardInterrupt as exc:
        if writer is not None:
            assert checkpoint is not None  # there is a writer only with a checkpoint
            held = exc.checkpoint_epoch = writer.holds()  # type: ignore[attr-defined]
            if held is None and resume is not None and \
                    Path(resume).resolve() == Path(checkpoint).resolve():
                exc.checkpoint_epoch = start_epoch  # type: ignore[attr-defined]
        raise
    assert model.history is not None  # set by fit
    history.extend(model.history)
    model.history = history
    stopped = stopper is not None and stopper.stopped_epoch is not None
    return RunResult(config, model, history, evaluate_splits(model, prepared), prepared.classes,
                     prepared.task, len(history), stopped, extra, initial_loss)


class _TrackedCheckpoint(ModelCheckpoint):
    """A ``ModelCheckpoint`` that knows which epoch its file holds after a Ctrl-C."""

    written: int | None = None  # the last completed write
    writing: int | None = None  # a write under way

    def _save(self, next_epoch: int) -> None:
        self.writing = next_epoch
        super()._save(next_epoch)
        self.written, self.writing = next_epoch, None

    def holds(self) -> int | None:
        """The epoch count the file holds: the last write, or the one a Ctrl-C cut short if it
        had already replaced the file (then the file says so)."""
        if self.writing is None:
            return self.written
        try:
            from ..files.format import load_arrays

            epoch = int(load_arrays(self.path)[1]["epoch"])
        except Exception:  # unreadable: the write did not get that far
            return self.written
        return epoch if epoch in (self.written, self.writing) else self.written


def _resumed_config(config: TrainConfig, changes: Mapping[str, Any], where: Any, done: int,
                    stopped_early: bool) -> TrainConfig:
    """The checkpoint's settings with ``changes`` applied: a new total of epochs, or settings
    that equal the checkpoint's; anything else is refused."""
    if not changes:
        return config
    merged = config.to_dict()
    merged.update({k: v for k, v in changes.items() if v is not None})
    new = TrainConfig.from_dict(merged, where=str(where))

    def same(key: str) -> bool:
        if key == "activation":
            return new.hidden_activations() == config.hidden_activations()
        if key == "keep_prob":
            return new.keep_probs() == config.keep_probs()
        if key == "batch_norm":
            return new.batch_norms() == config.batch_norms()
        return getattr(new, key) == getattr(config, key)

    changed = [k for k in changes if changes[k] is not None and k != "epochs" and not same(k)]
    if changed:
        k = changed[0]
        raise ConfigError(
            f"{where}: resuming keeps the run's settings, and {k}={getattr(new, k)!r} would "
            f"change {k}={getattr(config, k)!r}; start a new run to change it"
        )
    if new.epochs != config.epochs:
        if new.epochs < done:
            raise ConfigError(
                f"{where}: epochs={new.epochs} is fewer than the {done} the checkpoint has "
                f"already done; give a total of at least {done}"
            )
        if stopped_early and new.epochs > done:
            raise ConfigError(
                f"{where}: the run stopped early at epoch {done} (early_stopping="
                f"{config.early_stopping}); more epochs cannot continue it"
            )
    return new


def _fit(model: Model, prepared: PreparedRun, config: TrainConfig, validation, callbacks,
         verbose: int | str, start_epoch: int, end_epoch: int) -> None:
    model.fit(prepared.X_train, prepared.y_train, epochs=end_epoch,
              batch_size=config.batch_size, validation_data=validation, callbacks=callbacks,
              verbose=verbose, initial_epoch=start_epoch)


def model_path(path: str | os.PathLike) -> Path:
    """A model's file: ``path`` itself for a ``.npz`` (or a ``.safetensors`` file that
    ``nnlab export`` wrote), else ``path/model.npz`` (a folder)."""
    path = Path(path)
    return path if path.suffix in (".npz", ".safetensors") else path / MODEL_FILE


def save_run(result: RunResult, path: str | os.PathLike) -> Path:
    """Write the trained model (and, for a folder, its settings as ``config.toml``).

    A folder's two files are written as one pair: both are written to temporary files first,
    then renamed, and both carry the same pair id, so a reader can tell a mismatched pair.
    """
    file = model_path(path)
    companion = None
    if file.name == MODEL_FILE and file.parent == Path(path):
        companion = (Path(path) / CONFIG_FILE, result.config.to_toml())
    save_model(result.model, file, extra=result.extra, companion=companion)
    return file


def load_run_model(path: str | os.PathLike) -> Model:
    """Read a model written by ``save_run`` (a folder or an ``.npz``), or its
    ``nnlab export --format safetensors`` file."""
    file = model_path(path)
    if file.suffix != ".safetensors":
        return load_model(file)
    model = load(file)
    if not isinstance(model, Model):
        raise ModelFileError(f"{file}: holds an exported estimator, not a model; read it with "
                             "nnlab.load")
    return model
