"""Saving and loading ``Model``s and training checkpoints, in nnlab's safe file format.

Files are written with ``nnlab.io`` (one ``.npz`` of numbers plus a JSON config; no pickle;
atomic writes) and checked strictly on load. A file's ``kind`` says what it holds:

- ``"model"``: the layer specs, loss, optimizer and L2 (JSON) and the weights ``W1, b1, ...``;
- ``"checkpoint"``: a model plus everything needed to continue training exactly where it
  stopped — the optimizer's state (Adam's v, s and t; momentum's v), the random generator's
  state, the next epoch, the learning rate, the history, and the state of an ``EarlyStopping``;
- ``"params"``: a bare parameter dict (``nnlab.io.save_params``).

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
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .callbacks import Callback, EarlyStopping
from .io import (
    ModelFileError,
    check_params_shapes,
    load_arrays,
    optimizer_state_from_arrays,
    optimizer_state_to_arrays,
    rng_from_json,
    rng_state_to_json,
    save_arrays,
)
from .model import Dense, GlorotUniform, History, Model, make_optimizer

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
    return {"units": int(layer.units), "activation": layer.activation, "init": init,
            "keep_prob": float(layer.keep_prob), "init_scale": layer.init_scale}


def _layer_from_json(doc: Mapping[str, Any]) -> Dense:
    init = doc["init"]
    if isinstance(init, dict):
        if init.get("name") != "glorot_uniform":
            raise ValueError(f"unknown initializer {init!r}")
        init = GlorotUniform(float(init["factor"]))
    return Dense(int(doc["units"]), doc["activation"], init=init,
                 keep_prob=float(doc["keep_prob"]), init_scale=doc.get("init_scale"))


def model_to_json(model: Model) -> dict[str, Any]:
    """The model's structure and settings as JSON-able data (not its weights)."""
    hp = {k: float(v) for k, v in model.optimizer.hyperparams.items()}
    return {
        "layers": [_layer_to_json(layer) for layer in model.layers],
        "loss": model.loss,
        "optimizer": {"name": model.optimizer.name, "hyperparams": hp},
        "learning_rate": model.learning_rate,
        "l2": float(model.l2),
        "fused": bool(model.fused),
    }


def model_from_json(doc: Mapping[str, Any], where: str = "model file") -> Model:
    """Rebuild an (unbuilt) ``Model`` from ``model_to_json``'s data; a ``ModelFileError`` names
    what is wrong."""
    try:
        layers = [_layer_from_json(d) for d in doc["layers"]]
        opt = doc["optimizer"]
        hp = dict(opt["hyperparams"])
        optimizer = make_optimizer(opt["name"], **hp)
        model = Model(layers, loss=doc["loss"], optimizer=optimizer, l2=float(doc["l2"]),
                      fused=bool(doc.get("fused", True)), random_state=0)
        lr = doc.get("learning_rate")
        if lr is not None:
            if not (isinstance(lr, int | float) and math.isfinite(lr) and lr > 0):
                raise ValueError(f"learning_rate={lr!r}")
            model.learning_rate = float(lr)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ModelFileError(f"{where}: malformed model description ({exc})") from None
    return model


def _set_params(model: Model, arrays: Mapping[str, np.ndarray], where: str) -> None:
    params = {k: v for k, v in arrays.items() if k[:1] in "Wb" and k[1:].isdigit()}
    dims = check_params_shapes(params, where)
    expected = [layer.units for layer in model.layers]
    if dims[1:] != expected:
        raise ModelFileError(
            f"{where}: the weights' layer sizes {dims[1:]} do not match the layers {expected}"
        )
    if not all(np.all(np.isfinite(v)) for v in params.values()):
        raise ModelFileError(f"{where}: holds NaN or infinite weights")
    model.params = {k: np.array(v) for k, v in params.items()}
    model.opt_state = model.optimizer.init(model.params)


# ---------------------------------------------------------------------------------------------
# Models


def save_model(model: Model, path: str | os.PathLike, extra: Mapping[str, Any] | None = None,
               kind: str = "model") -> None:
    """Write the model's structure and weights (no optimizer state) to ``path`` atomically.
    ``extra`` is JSON-able data kept beside it (e.g. class labels, the training settings)."""
    if model.params is None:
        raise ValueError("the model has no weights yet: fit (or build) it before saving")
    config = {"kind": kind, "model": model_to_json(model), "extra": dict(extra or {})}
    if model.history is not None:
        config["history"] = {"epoch": model.history.epoch, "history": model.history.history}
    save_arrays(path, dict(model.params), config)


def _history_from(doc: Any) -> History | None:
    if not isinstance(doc, dict):
        return None
    history = History()
    history.epoch = [int(e) for e in doc.get("epoch", [])]
    history.history = {str(k): [float(x) for x in v] for k, v in doc.get("history", {}).items()}
    return history


def load_model(path: str | os.PathLike) -> Model:
    """Read a file written by ``save_model`` (or a checkpoint) as a ready-to-use ``Model``."""
    arrays, config = load_arrays(path)
    if config.get("kind") not in ("model", "checkpoint"):
        raise ModelFileError(f"{path}: holds a {config.get('kind')!r}, expected a model")
    model = model_from_json(config.get("model", {}), str(path))
    _set_params(model, arrays, str(path))
    model.history = _history_from(config.get("history"))
    model.extra = dict(config.get("extra", {}))
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
        for field in state._fields:
            value = getattr(state, field)
            if isinstance(value, dict) and (
                set(value) != set(model.params)
                or any(value[k].shape != model.params[k].shape for k in value)
            ):
                raise ModelFileError(f"optimizer state {field} does not match the weights")
        model.opt_state = state
        model.rng = rng_from_json(config["rng"])
        epoch = config["epoch"]
        if not isinstance(epoch, int) or epoch < 0:
            raise ModelFileError(f"epoch={epoch!r} is not a count")
        lr = config.get("learning_rate")
        if lr is not None:
            model.learning_rate = float(lr)
    except ModelFileError as exc:
        raise ModelFileError(f"{where}: {exc}") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"{where}: malformed checkpoint ({exc})") from None
    model.history = _history_from(config.get("history"))
    model.extra = dict(config.get("extra", {}))
    info = {"epoch": epoch, "extra": model.extra, "early_stopping": config.get("early_stopping"),
            "arrays": {k: v for k, v in arrays.items() if k.startswith("es.")}}
    return model, info


class ModelCheckpoint(Callback):
    """Write a checkpoint every ``every`` epochs (and at the end of training), atomically, so
    that training can be resumed exactly with ``load_checkpoint`` (``nnlab train --resume``).

    Args:
        path: the checkpoint file (``.npz``); each write replaces the previous one.
        every: epochs between checkpoints.
        extra: JSON-able data stored with it (the CLI keeps the training settings there).
        earlier: the ``History`` of the runs before a resume; the checkpoint stores it followed
            by the current fit's epochs.
        others: callbacks whose state is saved too (an ``EarlyStopping``).
    """

    def __init__(self, path: str | os.PathLike, every: int = 1,
                 extra: Mapping[str, Any] | None = None, earlier: History | None = None,
                 others: Sequence[Callback] = ()):
        super().__init__()
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"every={every!r} must be an int >= 1")
        self.path, self.every, self.extra = path, every, extra
        self.earlier, self.others = earlier, others

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        if (epoch + 1) % self.every == 0 or self.model.stop_training:
            self._save(epoch + 1)

    def on_train_end(self, logs: dict[str, float] | None = None) -> None:
        last = self.model.history.epoch[-1] + 1 if self.model.history.epoch else None
        if last is not None:
            self._save(last)

    def _save(self, next_epoch: int) -> None:
        history = History()
        if self.earlier is not None:
            history.extend(self.earlier)
        if self.model.history is not None:
            history.extend(self.model.history)
        save_checkpoint(self.model, self.path, next_epoch, extra=self.extra,
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


def save_estimator(est: Any, path: str | os.PathLike) -> None:
    """Write a fitted nnlab estimator: its parameters, fitted attributes and network."""
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
    save_arrays(path, dict(est.model_.params), config)


def load_estimator(path: str | os.PathLike) -> Any:
    """Read a file written by ``save_estimator``: the estimator, ready to predict."""
    from sklearn.preprocessing import LabelBinarizer

    from . import estimators

    arrays, config = load_arrays(path, kind="estimator")
    where = str(path)
    name = config.get("estimator")
    if name not in _ESTIMATORS:
        raise ModelFileError(f"{where}: unknown estimator {name!r}")
    try:
        params = {k: _from_json_value(v) for k, v in config["params"].items()}
        est = getattr(estimators, name)(**params)
        for k, v in config["fitted"].items():
            if not (k.endswith("_") and k.isidentifier()) or k.startswith("_"):
                raise ValueError(f"attribute {k!r}")
            setattr(est, k, _from_json_value(v))
        label_type = config.get("label_type")
        if label_type is not None:
            lb = LabelBinarizer()
            classes = np.asarray(est.classes_)
            lb.fit(np.eye(len(classes), dtype=int) if label_type == "multilabel-indicator"
                   else classes)
            est._label_binarizer = lb
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ModelFileError(f"{where}: malformed estimator description ({exc})") from None
    model = model_from_json(config.get("model", {}), where)
    _set_params(model, arrays, where)
    est.model_ = model
    est.history_ = History()
    return est


def save(obj: Any, path: str | os.PathLike) -> None:
    """Save a ``Model`` or a fitted nnlab estimator to ``path`` (an ``.npz`` file)."""
    if isinstance(obj, Model):
        save_model(obj, path)
    else:
        save_estimator(obj, path)


def load(path: str | os.PathLike) -> Any:
    """Load any nnlab file: a ``Model`` (model or checkpoint files), an estimator, or for a
    ``params`` file the ``(params, config)`` pair. A folder means its ``model.npz``."""
    from pathlib import Path

    path = Path(path)
    if path.is_dir():
        path = path / "model.npz"
    _, config = load_arrays(path)
    kind = config.get("kind")
    if kind in ("model", "checkpoint"):
        return load_model(path)
    if kind == "estimator":
        return load_estimator(path)
    if kind == "params":
        from .io import load_params

        return load_params(path)
    raise ModelFileError(f"{path}: unknown kind of nnlab file {kind!r}")
