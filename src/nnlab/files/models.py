"""Saving and loading ``Model``s and training checkpoints, in nnlab's safe file format.

Files are written with ``nnlab.files.format`` (one ``.npz`` of numbers plus a JSON config; no
pickle; atomic writes) and checked strictly on load. A file's ``kind`` says what it holds:

- ``"model"``: the layer specs, loss, optimizer and L2 (JSON) and the weights ``W1, b1, ...``;
- ``"checkpoint"``: a model plus everything needed to continue training exactly where it
  stopped — the optimizer's state (Adam's v, s and t; momentum's v), the random generator's
  state, the next epoch, the learning rate, the history, and the state of an ``EarlyStopping``;
- ``"params"``: a bare parameter dict (``nnlab.files.format.save_params``).

``nnlab.load(path)`` reads any of them (and the estimators' files) back.

>>> import numpy as np, os, tempfile
>>> from nnlab import Dense, Model
>>> model = Model([Dense(3, "tanh"), Dense(1, "sigmoid")], random_state=0, input_dim=2)
>>> path = os.path.join(tempfile.mkdtemp(), "model.npz")
>>> save_model(model, path)
>>> again = load_model(path)
>>> bool(np.array_equal(again.params["W1"], model.params["W1"]))
True
"""

from __future__ import annotations

import math
import os
import re
import secrets
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..callbacks import Callback, EarlyStopping, _monitored, _Plateau
from ..model import Dense, GlorotUniform, History, Model, make_optimizer
from .format import (
    BATCH_NORM_ARRAYS,
    ModelFileError,
    atomic_write_files,
    check_params_shapes,
    encode_arrays,
    load_arrays,
    optimizer_state_from_arrays,
    optimizer_state_to_arrays,
    rng_from_json,
    rng_state_to_json,
    save_arrays,
)

# ---------------------------------------------------------------------------------------------
# Model <-> JSON


def _layer_to_json(layer: Dense) -> dict[str, Any]:
    if isinstance(layer.init, GlorotUniform):
        init: Any = {"name": "glorot_uniform", "factor": layer.init.factor}
    elif isinstance(layer.init, str):
        init = layer.init
    else:
        raise ValueError(
            f"cannot save a layer whose init is the callable {layer.init_name!r}: only named "
            "initializers can be written to a model file"
        )
    doc = {"units": int(layer.units), "activation": layer.activation, "init": init,
           "keep_prob": float(layer.keep_prob), "init_scale": layer.init_scale}
    if layer.batch_norm:  # (only then: a file without batch norm is written as before)
        doc["batch_norm"] = True
    return doc


def _layer_from_json(doc: Mapping[str, Any]) -> Dense:
    init = doc["init"]
    if isinstance(init, dict):
        if init.get("name") != "glorot_uniform":
            raise ValueError(f"unknown initializer {init!r}")
        init = GlorotUniform(float(init["factor"]))
    batch_norm = doc.get("batch_norm", False)  # files written before batch norm have none
    if not isinstance(batch_norm, bool):
        raise ValueError(f"batch_norm={batch_norm!r:.40} is not true or false")
    return Dense(int(doc["units"]), doc["activation"], init=init,
                 keep_prob=float(doc["keep_prob"]), init_scale=doc.get("init_scale"),
                 batch_norm=batch_norm)


def model_to_json(model: Model) -> dict[str, Any]:
    """The model's structure and settings as JSON-able data (not its weights)."""
    hp = {k: float(v) for k, v in model.optimizer.hyperparams.items()}
    return {
        "layers": [_layer_to_json(layer) for layer in model.layers],
        "loss": model.loss,
        "optimizer": {"name": model.optimizer.name, "hyperparams": hp},
        "learning_rate": model.learning_rate,
        "l2": float(model.l2),
        **({} if getattr(model, "bn_momentum", 0.9) == 0.9 else  # (written only when set)
           {"bn_momentum": float(model.bn_momentum)}),
        **({"l1": float(model.l1)} if getattr(model, "l1", 0.0) else {}),  # (only when set)
        "fused": bool(model.fused),
    }


def _number(value: Any, name: str) -> float:
    """A finite number from a file's JSON (a ValueError naming it otherwise)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name}={value!r:.40} is not a number")
    return float(value)


def model_from_json(doc: Mapping[str, Any], where: str = "model file") -> Model:
    """Rebuild an (unbuilt) ``Model`` from ``model_to_json``'s data; a ``ModelFileError`` names
    what is wrong."""
    if not isinstance(doc, Mapping):
        raise ModelFileError(f"{where}: model must be an object, not {type(doc).__name__}")
    if not isinstance(doc.get("layers"), list) or not all(
            isinstance(d, Mapping) for d in doc["layers"]):
        raise ModelFileError(f"{where}: model.layers must be a list of layer objects")
    try:
        layers = [_layer_from_json(d) for d in doc["layers"]]
        opt = doc["optimizer"]
        hp = dict(opt["hyperparams"])
        optimizer = make_optimizer(opt["name"], **hp)
        model = Model(layers, loss=doc["loss"], optimizer=optimizer, l2=float(doc["l2"]),
                      l1=float(doc.get("l1", 0.0)),
                      fused=bool(doc.get("fused", True)), random_state=0,
                      bn_momentum=_number(doc.get("bn_momentum", 0.9), "bn_momentum"))
        lr = doc.get("learning_rate")
        if lr is not None:
            if not (isinstance(lr, int | float) and math.isfinite(lr) and lr > 0):
                raise ValueError(f"learning_rate={lr!r}")
            model.learning_rate = float(lr)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ModelFileError(f"{where}: malformed model description ({exc})") from None
    return model


#: The names of a model's arrays: W{l}, b{l}, and a batch-normalized layer's (``format``).
_PARAM_NAME = re.compile("(W|b|{})[0-9]+".format("|".join(BATCH_NORM_ARRAYS)))


def _set_params(model: Model, arrays: Mapping[str, np.ndarray], where: str) -> None:
    params = {k: v for k, v in arrays.items() if _PARAM_NAME.fullmatch(k)}
    dims = check_params_shapes(params, where)
    expected = [layer.units for layer in model.layers]
    if dims[1:] != expected:
        raise ModelFileError(
            f"{where}: the weights' layer sizes {dims[1:]} do not match the layers {expected}"
        )
    for l, layer in enumerate(model.layers, start=1):
        if (f"gamma{l}" in params) != bool(layer.batch_norm):
            raise ModelFileError(
                f"{where}: layer {l} is {'' if layer.batch_norm else 'not '}batch-normalized "
                f"but the file holds {'no ' if layer.batch_norm else ''}gamma{l}, beta{l} and "
                "running statistics for it")
    if not all(np.all(np.isfinite(v)) for v in params.values()):
        raise ModelFileError(f"{where}: holds NaN or infinite weights")
    if any(np.any(v < 0) for k, v in params.items() if k.startswith("running_var")):
        raise ModelFileError(f"{where}: a running variance (running_var) is negative")
    model.params = {k: np.array(v) for k, v in params.items()}
    model.opt_state = model.optimizer.init(model.params)


# ---------------------------------------------------------------------------------------------
# Models


class PairWarning(UserWarning):
    """A model file's companion (``config.toml`` beside ``model.npz``) is not the one written
    with it: a save was interrupted between its two renames, or one file was replaced by hand."""


PAIR_MARK = "# nnlab pair "


def save_model(model: Model, path: str | os.PathLike, extra: Mapping[str, Any] | None = None,
               kind: str = "model",
               companion: tuple[str | os.PathLike, str] | None = None) -> None:
    """Write the model's structure and weights (no optimizer state) to ``path`` atomically.
    ``extra`` is JSON-able data kept beside it (e.g. class labels, the training settings).

    ``companion``, a ``(path, text)`` pair such as ``("runs/m/config.toml", settings)``, is
    written in the same step: both files are written and fsynced to temporary files before
    either is moved into place, the model first. Both carry one random id (the text gets a first
    line ``# nnlab pair <id>``, the model file a ``pair`` entry), so a crash between the two
    renames — which leaves the new model beside the old text — is detected on load, which warns
    with a ``PairWarning`` (the model file itself is complete and is what is loaded).
    """
    if model.params is None:
        raise ValueError("the model has no weights yet: fit (or build) it before saving")
    config = {"kind": kind, "model": model_to_json(model), "extra": dict(extra or {})}
    if model.history is not None:
        config["history"] = {"epoch": model.history.epoch, "history": model.history.history}
    files: list[tuple[str | os.PathLike, bytes]] = []
    if companion is not None:
        other, text = companion
        pair_id = secrets.token_hex(8)
        config["pair"] = {"file": Path(other).name, "id": pair_id}
        files.append((other, f"{PAIR_MARK}{pair_id} (written with {Path(path).name})\n{text}"
                      .encode()))
    files.insert(0, (path, encode_arrays(dict(model.params), config)))
    atomic_write_files(files)


def check_pair(path: str | os.PathLike, config: Mapping[str, Any]) -> str | None:
    """Why the companion file recorded in a model file's ``pair`` entry is not the one written
    with it (None when it is, or when there is none)."""
    pair = config.get("pair")
    if pair is None:
        return None
    if not isinstance(pair, dict) or not isinstance(pair.get("file"), str) or not isinstance(
            pair.get("id"), str) or "/" in pair["file"] or "\\" in pair["file"]:
        raise ModelFileError(f"{path}: malformed pair entry")
    other = Path(path).parent / pair["file"]
    try:
        with open(other, "rb") as f:
            first = f.readline(200).decode("utf-8", "replace")
    except OSError:
        return None  # removed or unreadable: nothing there to contradict the model
    if first.startswith(PAIR_MARK + pair["id"]):
        return None
    return (f"{other} was not written with {path} (an interrupted save, or edited by hand): "
            "the model file holds its own settings; save again to rewrite both")


#: The most epochs a stored history may list.
MAX_HISTORY = 10_000_000


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _history_from(doc: Any, where: str = "model file") -> History | None:
    """The stored history, checked: ``{"epoch": [ints], "history": {name: [numbers]}}`` with
    one number (finite, or NaN) per epoch; None when absent."""
    if doc is None:
        return None
    if not isinstance(doc, dict) or set(doc) - {"epoch", "history"}:
        raise ModelFileError(f"{where}: history must be an object with 'epoch' and 'history'")
    epoch, values = doc.get("epoch", []), doc.get("history", {})
    if not isinstance(epoch, list) or len(epoch) > MAX_HISTORY or not all(
            isinstance(e, int) and not isinstance(e, bool) and 0 <= e <= 10**9 for e in epoch):
        raise ModelFileError(f"{where}: history.epoch must be a list of epoch numbers "
                             f"(at most {MAX_HISTORY})")
    if not isinstance(values, dict):
        raise ModelFileError(f"{where}: history.history must map names to lists of numbers")
    for k, v in values.items():
        if not isinstance(v, list) or len(v) != len(epoch) or not all(
                _is_number(x) and (math.isfinite(x) or x != x) for x in v):
            raise ModelFileError(
                f"{where}: history.history[{k!r}] must be {len(epoch)} finite numbers (one per "
                "epoch)")
    history = History()
    history.epoch = epoch
    history.history = {k: [float(x) for x in v] for k, v in values.items()}
    return history


def _check_classes(classes: Any, model: Model, where: str) -> None:
    """``extra["classes"]``: the training labels in the order of the encoded indices — a list
    of str, int or float (one type, unique, finite), two for one sigmoid unit, n_y for softmax
    (and for several sigmoid units), none for any other output."""
    out = model.layers[-1]
    if out.activation == "sigmoid" and out.units == 1:
        expected = 2
    elif out.activation in ("softmax", "sigmoid"):  # classes, or labels of a multilabel net
        expected = out.units
    else:
        expected = 0
    if classes is None or (classes == [] and expected == 0):
        return
    if not isinstance(classes, list):
        raise ModelFileError(f"{where}: extra.classes={classes!r:.60} must be a list of labels")
    kinds = {type(c) for c in classes}
    if not classes or len(kinds) != 1 or not kinds <= {str, int, float}:
        raise ModelFileError(f"{where}: extra.classes must be labels of one type (all text, "
                             "all whole numbers or all numbers)")
    if float in kinds and not all(math.isfinite(c) for c in classes):
        raise ModelFileError(f"{where}: extra.classes holds a label that is not finite")
    if len(set(classes)) != len(classes):
        raise ModelFileError(f"{where}: extra.classes repeats a label")
    if len(classes) != expected:
        shape = f"{out.units} {out.activation} unit" + ("s" if out.units != 1 else "")
        raise ModelFileError(
            f"{where}: extra.classes has {len(classes)} labels but the output layer ({shape}) "
            f"{'takes ' + str(expected) if expected else 'predicts no classes'}")


def _check_extra(extra: Any, model: Model, where: str) -> dict[str, Any]:
    """The ``extra`` data kept with a model, checked where nnlab reads it back: ``config`` (the
    same validation as a new run's settings), ``classes``, ``task``, ``features`` and
    ``feature_names`` (against the input layer)."""
    if extra is None:
        return {}
    if not isinstance(extra, dict):
        raise ModelFileError(f"{where}: extra must be an object, not {type(extra).__name__}")
    if "config" in extra:
        from ..runs.config import ConfigError, TrainConfig

        cfg = extra["config"]
        if not isinstance(cfg, dict):
            raise ModelFileError(f"{where}: extra.config (the training settings) must be an "
                                 f"object, not {type(cfg).__name__}")
        try:
            TrainConfig.from_dict(cfg, where="settings")
        except ConfigError as exc:
            raise ModelFileError(f"{where}: extra.config: {exc}") from None
        except (TypeError, ValueError, RecursionError) as exc:
            raise ModelFileError(f"{where}: extra.config is malformed ({exc})") from None
    _check_classes(extra.get("classes"), model, where)
    task = extra.get("task")
    if task is not None and task not in ("binary", "multiclass", "regression"):
        raise ModelFileError(f"{where}: extra.task={task!r:.40} is not binary, multiclass or "
                             "regression")
    features = extra.get("features")
    n_in = model.input_dim
    if features is not None:
        from ..datasets.features import check_feature_names

        try:
            check_feature_names(features)
        except ValueError as exc:
            raise ModelFileError(f"{where}: extra.{exc}") from None
        if len(features) != n_in:
            raise ModelFileError(f"{where}: extra.features names {len(features)} inputs but W1 "
                                 f"takes {n_in}")
    names = extra.get("feature_names")
    if names is not None:
        raw = 2 if features else n_in
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names) or (
                len(names) != raw):
            raise ModelFileError(f"{where}: extra.feature_names must be {raw} column names")
    return dict(extra)


def load_model(path: str | os.PathLike) -> Model:
    """Read a file written by ``save_model`` (or a checkpoint) as a ready-to-use ``Model``."""
    arrays, config = load_arrays(path)
    return _model_from(path, arrays, config)


def _model_from(path: str | os.PathLike, arrays: dict[str, np.ndarray],
                config: dict[str, Any]) -> Model:
    if config.get("kind") not in ("model", "checkpoint"):
        raise ModelFileError(f"{path}: holds a {config.get('kind')!r}, expected a model")
    model = model_from_json(config.get("model", {}), str(path))
    _set_params(model, arrays, str(path))
    model.history = _history_from(config.get("history"), str(path))
    # Model declares no ``extra`` attribute: the loaded model gets it here
    model.extra = _check_extra(config.get("extra"), model, str(path))  # type: ignore[attr-defined]
    problem = check_pair(path, config)
    if problem is not None:
        warnings.warn(problem, PairWarning, stacklevel=2)
    return model


# ---------------------------------------------------------------------------------------------
# Checkpoints: exact resume


def _early_stopping_state(cb: EarlyStopping) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    p = cb._plateau
    state = {"best": p.best if math.isfinite(p.best) else str(p.best), "wait": p.wait,
             "best_epoch": cb.best_epoch, "stopped_epoch": cb.stopped_epoch}
    arrays = {f"es.{k}": v for k, v in (cb.best_params or {}).items()}
    return state, arrays


def restore_early_stopping(cb: EarlyStopping, state: Mapping[str, Any],
                           arrays: Mapping[str, np.ndarray]) -> None:
    """Put an ``EarlyStopping`` back in the state a checkpoint recorded (call it after
    ``on_train_begin`` has reset it, e.g. from a callback placed before it)."""
    best = state["best"]
    cb._plateau.best = float(best)
    cb._plateau.wait = int(state["wait"])
    cb.best = cb._plateau.best
    cb.best_epoch = state.get("best_epoch")
    cb.stopped_epoch = state.get("stopped_epoch")
    best_params = {k[3:]: np.array(v) for k, v in arrays.items() if k.startswith("es.")}
    cb.best_params = best_params or None


def save_checkpoint(
    model: Model,
    path: str | os.PathLike,
    epoch: int,
    extra: Mapping[str, Any] | None = None,
    callbacks: Sequence[Callback] = (),
    history: History | None = None,
) -> None:
    """Write everything needed to continue training exactly: weights, optimizer state, random
    generator state, ``epoch`` (the next epoch to run), learning rate, history, early stopping."""
    if model.params is None:
        raise ValueError("the model has no weights yet: nothing to checkpoint")
    opt_arrays, opt_meta = optimizer_state_to_arrays(model.opt_state)
    arrays: dict[str, np.ndarray] = {**model.params, **opt_arrays}
    stoppers = [cb for cb in callbacks if isinstance(cb, EarlyStopping)]
    es_state = None
    if stoppers:
        es_state, es_arrays = _early_stopping_state(stoppers[0])
        arrays.update(es_arrays)
    history = history if history is not None else model.history
    config = {
        "kind": "checkpoint",
        "model": model_to_json(model),
        "optimizer_state": opt_meta,
        "rng": rng_state_to_json(model.rng),
        "epoch": int(epoch),
        "learning_rate": model.learning_rate,
        "history": None if history is None else {"epoch": history.epoch,
                                                 "history": history.history},
        "early_stopping": es_state,
        "extra": dict(extra or {}),
    }
    save_arrays(path, arrays, config)


def load_checkpoint(path: str | os.PathLike) -> tuple[Model, dict[str, Any]]:
    """Read a checkpoint: the ``Model`` in its saved state (weights, optimizer state, generator,
    learning rate, history) and ``info`` with ``epoch``, ``extra``, ``early_stopping`` and the
    arrays needed by ``restore_early_stopping``."""
    arrays, config = load_arrays(path, kind="checkpoint")
    where = str(path)
    model = model_from_json(config.get("model", {}), where)
    _set_params(model, arrays, where)
    try:
        opt_arrays = {k: v for k, v in arrays.items() if k.startswith("opt.")}
        state = optimizer_state_from_arrays(opt_arrays, config["optimizer_state"])
        assert model.params is not None  # set by _set_params
        fresh = model.opt_state  # the optimizer's state for these params, from _set_params
        for field in state._fields:
            value = getattr(state, field)
            # the arrays the optimizer keeps (its state for the trained parameters)
            keys = getattr(fresh, field) if isinstance(getattr(fresh, field, None), dict) \
                else model.params
            if isinstance(value, dict) and (
                set(value) != set(keys)
                or any(value[k].shape != model.params[k].shape for k in value)
            ):
                raise ModelFileError(f"optimizer state {field} does not match the weights")
        model.opt_state = state
        model.rng = rng_from_json(config["rng"])
        epoch = config["epoch"]
        if not isinstance(epoch, int) or isinstance(epoch, bool) or not 0 <= epoch <= 10**9:
            raise ModelFileError(f"epoch={epoch!r:.40} is not a count")
        lr = config.get("learning_rate")
        if lr is not None:
            if not (_is_number(lr) and math.isfinite(lr) and lr > 0):
                raise ModelFileError(f"learning_rate={lr!r:.40} is not a positive number")
            model.learning_rate = float(lr)
        _check_early_stopping(config.get("early_stopping"), arrays, model)
    except ModelFileError as exc:
        raise ModelFileError(f"{where}: {exc}") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"{where}: malformed checkpoint ({exc})") from None
    model.history = _history_from(config.get("history"), where)
    extra = _check_extra(config.get("extra"), model, where)
    model.extra = extra  # type: ignore[attr-defined]  # as in _model_from
    info = {"epoch": epoch, "extra": extra, "early_stopping": config.get("early_stopping"),
            "arrays": {k: v for k, v in arrays.items() if k.startswith("es.")}}
    return model, info


def _check_early_stopping(state: Any, arrays: Mapping[str, np.ndarray], model: Model) -> None:
    """A checkpoint's early-stopping state: None, or what ``_early_stopping_state`` writes."""
    es_arrays = {k[3:]: v for k, v in arrays.items() if k.startswith("es.")}
    if state is None:
        if es_arrays:
            raise ModelFileError("early-stopping weights without an early_stopping state")
        return
    if not isinstance(state, dict):
        raise ModelFileError("early_stopping must be an object")
    best = state.get("best")
    if not (_is_number(best) or best in ("inf", "-inf", "nan")):
        raise ModelFileError(f"early_stopping.best={best!r:.40} is not a number")

    def count(name: str, optional: bool) -> None:
        v = state.get(name)
        if v is None and optional:
            return
        if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= 10**9:
            raise ModelFileError(f"early_stopping.{name}={v!r:.40} is not a count")

    count("wait", False)
    count("best_epoch", True)
    count("stopped_epoch", True)
    params = model.params or {}
    if es_arrays and (set(es_arrays) != set(params) or any(
            v.shape != params[k].shape for k, v in es_arrays.items())):
        raise ModelFileError("early-stopping weights do not match the model's weights")


class ModelCheckpoint(Callback):
    """Write a checkpoint every ``every`` epochs (and at the end of training), atomically, so
    that training can be resumed exactly with ``load_checkpoint`` (``nnlab train --resume``);
    or, with ``save_best_only``, only when the monitored value improves (Keras's
    ``ModelCheckpoint``).

    Args:
        path: the checkpoint file (``.npz``); each write replaces the previous one. A path with
            ``{epoch}`` (the number of epochs done: 1 after the first) or a log's name in braces
            (``"ck-{epoch:03d}-{val_loss:.3f}.npz"``) names one file per write instead.
        monitor: with ``save_best_only``, the epoch log to watch: "val_loss" (the default),
            "loss", "val_accuracy", "accuracy", ...
        mode: "min", "max" or "auto" (maximize names with "acc" or "score", minimize others),
            as ``EarlyStopping``'s.
        save_best_only: write only at the epochs whose monitored value beats the best so far
            (kept across ``fit`` calls, as Keras keeps it), and not at the end of training:
            the file then holds the best epoch's weights.
        every: epochs between checkpoints (with ``save_best_only``: between looks at the
            monitored value).
        extra: JSON-able data stored with it (the CLI keeps the training settings there).
        earlier: the ``History`` of the runs before a resume; the checkpoint stores it followed
            by the current fit's epochs.
        others: callbacks whose state is saved too (an ``EarlyStopping``).

    Attributes:
        best, best_epoch: the best monitored value and its epoch (``save_best_only``).

    >>> import numpy as np, os, tempfile
    >>> from nnlab import Dense, Model
    >>> X = np.random.RandomState(0).randn(40, 2); y = (X[:, 0] > 0).astype(int)
    >>> model = Model([Dense(3, "tanh"), Dense(1, "sigmoid")], random_state=0)
    >>> best = ModelCheckpoint(os.path.join(tempfile.mkdtemp(), "best.npz"), monitor="loss",
    ...                        save_best_only=True)
    >>> history = model.fit(X, y, epochs=5, callbacks=[best], verbose=0)
    >>> best.best == min(history.loss), best.best_epoch == int(np.argmin(history.loss))
    (True, True)
    """

    def __init__(self, path: str | os.PathLike, monitor: str | None = None, mode: str = "auto",
                 save_best_only: bool = False, every: int = 1, *,
                 extra: Mapping[str, Any] | None = None, earlier: History | None = None,
                 others: Sequence[Callback] = ()):
        super().__init__()
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"every={every!r} must be an int >= 1")
        if monitor is not None and not isinstance(monitor, str):
            raise ValueError(f"monitor={monitor!r} must be the name of an epoch log, such as "
                             "'val_loss'")
        if monitor is not None and not save_best_only:
            raise ValueError(f"monitor={monitor!r} is only used with save_best_only=True")
        self.path, self.every, self.extra = path, every, extra
        self.earlier, self.others = earlier, others
        self.save_best_only = bool(save_best_only)
        self.monitor = (monitor or "val_loss") if self.save_best_only else None
        self._plateau = _Plateau(self.monitor or "val_loss", mode, 0.0)
        self.mode = self._plateau.mode
        self.best: float = self._plateau.best
        self.best_epoch: int | None = None
        self._next_epoch: int | None = None  # the next epoch to run, once an epoch has ended

    def free_epochs(self) -> int:
        """The epochs until its next write (or look at the monitored value): ``every`` minus
        the epochs since the last one; 1 until it has seen an epoch number."""
        if self._next_epoch is None:
            return 1
        return self.every - self._next_epoch % self.every

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        assert self.model is not None  # set by Model.fit
        self._next_epoch = epoch + 1
        scheduled = (epoch + 1) % self.every == 0
        if not self.save_best_only:
            if scheduled or self.model.stop_training:
                self._save(epoch + 1)
            return
        if not scheduled:
            return
        assert self.monitor is not None
        value = _monitored(logs, self.monitor, "ModelCheckpoint")
        if self._plateau.improved(value):
            self._plateau.best = self.best = value
            self.best_epoch = epoch
            self._save(epoch + 1)

    def _trained(self) -> Model:
        assert isinstance(self.model, Model)  # set by Model.fit
        return self.model

    def on_train_end(self, logs: dict[str, float] | None = None) -> None:
        self._next_epoch = None  # the next fit may start anywhere (initial_epoch)
        if self.save_best_only:
            return
        model = self._trained()
        assert model.history is not None  # set by Model.fit
        last = model.history.epoch[-1] + 1 if model.history.epoch else None
        if last is not None:
            self._save(last)

    def _file(self, next_epoch: int, history: History) -> str | os.PathLike:
        """The path of this write: ``path`` with ``{epoch}`` and the logs' names filled in."""
        path = os.fspath(self.path)
        if "{" not in str(path):
            return self.path
        logs = {k: v[-1] for k, v in history.history.items() if v}
        try:
            return str(path).format(epoch=next_epoch, **logs)
        except (KeyError, IndexError, ValueError) as error:
            raise ValueError(f"ModelCheckpoint path {str(path)!r}: cannot fill it in ({error!r}); "
                             f"it may name {{epoch}} and {', '.join(sorted(logs))}") from None

    def _save(self, next_epoch: int) -> None:
        model = self._trained()
        history = History()
        if self.earlier is not None:
            history.extend(self.earlier)
        if model.history is not None:
            history.extend(model.history)
        save_checkpoint(model, self._file(next_epoch, history), next_epoch, extra=self.extra,
                        callbacks=self.others, history=history)


# ---------------------------------------------------------------------------------------------
# Estimators (nnlab.MLPClassifier, MLPRegressor, LogisticRegression)

_ESTIMATORS = ("MLPClassifier", "MLPRegressor", "LogisticRegression")


def _json_value(name: str, value: Any) -> Any:
    """A JSON-able form of a parameter or fitted attribute, or a ValueError naming it."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        v = float(value)
        return v if math.isfinite(v) else {"float": str(v)}
    if isinstance(value, tuple | list):
        return {"seq": [_json_value(name, v) for v in value], "tuple": isinstance(value, tuple)}
    if isinstance(value, np.ndarray) and value.dtype.kind in "biufUS" and value.ndim <= 2:
        return {"array": value.tolist(), "dtype": str(value.dtype)}
    raise ValueError(
        f"{name}={value!r} cannot be written to a model file (only numbers, strings and their "
        "lists are)"
    )


def _from_json_value(doc: Any) -> Any:
    if isinstance(doc, dict):
        if "float" in doc:
            return float(doc["float"])
        if "seq" in doc:
            seq = [_from_json_value(v) for v in doc["seq"]]
            return tuple(seq) if doc.get("tuple") else seq
        if "array" in doc:
            if np.dtype(doc["dtype"]).kind not in "biufUS":
                raise ValueError(f"dtype {doc['dtype']!r} not allowed")
            return np.array(doc["array"], dtype=doc["dtype"])
        raise ValueError(f"unknown value {doc!r}")
    return doc


def estimator_config(est: Any) -> dict[str, Any]:
    """What an estimator file's config holds (``save_estimator``): its kind, class, parameters,
    fitted attributes and network (JSON-able); a ``ValueError`` for anything else."""
    name = type(est).__name__
    if name not in _ESTIMATORS or not hasattr(est, "model_"):
        raise ValueError(f"expected a fitted nnlab estimator ({', '.join(_ESTIMATORS)})")
    params = {k: _json_value(k, v) for k, v in est.get_params(deep=False).items()}
    fitted = {k: _json_value(k, v) for k, v in vars(est).items()
              if k.endswith("_") and not k.startswith("_") and k not in ("model_", "history_")}
    config = {"kind": "estimator", "estimator": name, "params": params, "fitted": fitted,
              "model": model_to_json(est.model_)}
    if getattr(est, "_label_binarizer", None) is not None:
        config["label_type"] = est._label_binarizer.y_type_
    return config


def save_estimator(est: Any, path: str | os.PathLike) -> None:
    """Write a fitted nnlab estimator: its parameters, fitted attributes and network."""
    config = estimator_config(est)
    save_arrays(path, dict(est.model_.params), config)


def load_estimator(path: str | os.PathLike) -> Any:
    """Read a file written by ``save_estimator``: the estimator, ready to predict."""
    arrays, config = load_arrays(path, kind="estimator")
    return _estimator_from(path, arrays, config)


def _estimator_from(path: str | os.PathLike, arrays: dict[str, np.ndarray],
                    config: dict[str, Any]) -> Any:
    from sklearn.preprocessing import LabelBinarizer

    from .. import estimators

    where = str(path)
    name = config.get("estimator")
    if name not in _ESTIMATORS:
        raise ModelFileError(f"{where}: unknown estimator {name!r}")
    label_type = config.get("label_type")
    try:
        params = {k: _from_json_value(v) for k, v in config["params"].items()}
        est = getattr(estimators, name)(**params)
        for k, v in config["fitted"].items():
            if not (k.endswith("_") and k.isidentifier()) or k.startswith("_"):
                raise ValueError(f"attribute {k!r}")
            setattr(est, k, _from_json_value(v))
        if label_type is not None:
            if label_type not in ("binary", "multiclass", "multilabel-indicator"):
                raise ValueError(f"label_type={label_type!r:.40}")
            lb = LabelBinarizer()
            classes = np.asarray(est.classes_)
            lb.fit(np.eye(len(classes), dtype=int) if label_type == "multilabel-indicator"
                   else classes)
            est._label_binarizer = lb
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ModelFileError(f"{where}: malformed estimator description ({exc})") from None
    model = model_from_json(config.get("model", {}), where)
    _set_params(model, arrays, where)
    _check_estimator(est, model, label_type, where)
    est.model_ = model
    est.history_ = History()
    return est


def _check_estimator(est: Any, model: Model, label_type: Any, where: str) -> None:
    """The estimator's parameters (the checks ``fit`` makes) and fitted attributes, against
    each other and against the network's weights; a ``ModelFileError`` names the attribute."""
    try:
        settings = est._settings()
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ModelFileError(f"{where}: estimator parameters: {first}") from None
    dims = model.layer_dims
    if list(settings.hidden) != list(dims[1:-1]):
        raise ModelFileError(f"{where}: hidden_layer_sizes {list(settings.hidden)} does not "
                             f"match the weights' hidden layers {list(dims[1:-1])}")

    def count(name: str, expected: int) -> None:
        value = getattr(est, name, None)
        if value is None:
            return
        if isinstance(value, np.ndarray) and value.shape == (1,):
            value = value[0]
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or (
                value != expected):
            raise ModelFileError(f"{where}: {name}={value!r:.40} does not match the network "
                                 f"(expected {expected})")

    count("n_features_in_", dims[0])
    count("n_outputs_", dims[-1])
    count("n_layers_", len(dims))
    names = getattr(est, "feature_names_in_", None)
    if names is not None and (not isinstance(names, np.ndarray) or names.ndim != 1
                              or len(names) != dims[0]):
        raise ModelFileError(f"{where}: feature_names_in_ must hold {dims[0]} names")
    from sklearn.base import is_classifier

    if not is_classifier(est):
        if label_type is not None:
            raise ModelFileError(f"{where}: label_type given for a regressor")
        return
    if label_type not in ("binary", "multiclass", "multilabel-indicator"):
        raise ModelFileError(f"{where}: label_type={label_type!r:.40} is unknown")
    classes = getattr(est, "classes_", None)
    if not isinstance(classes, np.ndarray) or classes.ndim != 1 or (
            len(np.unique(classes)) != len(classes)):
        raise ModelFileError(f"{where}: classes_ must be a list of distinct labels")
    n = len(classes)
    fits = {"binary": n == 2 and dims[-1] == 1, "multiclass": n > 2 and dims[-1] == n,
            "multilabel-indicator": n >= 1 and dims[-1] == n}[label_type]
    if not fits:
        raise ModelFileError(
            f"{where}: classes_ has {n} labels ({label_type}) but the output layer has "
            f"{dims[-1]} units")


def save(obj: Any, path: str | os.PathLike) -> None:
    """Save a ``Model`` or a fitted nnlab estimator to ``path`` (an ``.npz`` file)."""
    if isinstance(obj, Model):
        save_model(obj, path)
    else:
        save_estimator(obj, path)


def load(path: str | os.PathLike) -> Any:
    """Load any nnlab file: a ``Model`` (model or checkpoint files), an estimator, or for a
    ``params`` file the ``(params, config)`` pair. A folder means its ``model.npz``; a
    ``.safetensors`` file is one that ``nnlab export`` wrote (``nnlab.files.tensorfile``)."""
    path = Path(path)
    if path.is_dir():
        path = path / "model.npz"
    if path.suffix.lower() == ".safetensors":
        from .tensorfile import load_safetensors

        arrays, config = load_safetensors(path)
    else:
        arrays, config = load_arrays(path)  # read once, then built by kind
    kind = config.get("kind")
    if kind in ("model", "checkpoint"):
        return _model_from(path, arrays, config)
    if kind == "estimator":
        return _estimator_from(path, arrays, config)
    if kind == "params":
        from .format import load_params

        return load_params(path)
    raise ModelFileError(f"{path}: unknown kind of nnlab file {kind!r}")
