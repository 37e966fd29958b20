"""Saved nnlab models loaded into the playground: the files ``nnlab train --save`` writes (a
``model``, or a ``checkpoint``) and those the page's "Export model" writes (``params``).

A file is read with nnlab's own checked reader (``nnlab.files``: numbers and JSON only, bounded;
a crafted or broken file is refused with its message), then checked against what the page can
train: hidden activations the page offers, a sigmoid output of one unit (two classes), a softmax
of 2 to 5 units (that many classes) or one identity unit (regression), inputs that are features
of (x1, x2), and the server's limits on layers and units. ``read_model`` answers a
``LoadedModel``: its weights, and the settings that describe its network (``settings``: layers,
activations, features, problem type, classes; the data set and learning settings too when the
file names them and they suit the page).

>>> import os, tempfile
>>> from nnlab import Dense, Model, save
>>> model = Model([Dense(3, "tanh"), Dense(1, "sigmoid")], random_state=0, input_dim=2)
>>> path = os.path.join(tempfile.mkdtemp(), "model.npz")
>>> save(model, path)
>>> loaded = read_model(open(path, "rb").read(), "model.npz")
>>> loaded.settings["layers"], loaded.settings["activations"], loaded.settings["problem"]
([3], ['tanh'], 'classification')
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..datasets.features import FEATURES
from .settings import (
    DATASETS,
    HIDDEN_ACTIVATIONS,
    MAX_CLASSES,
    REGRESSION_SETS,
    Limits,
    SettingsError,
)

#: Learning settings taken from a file's training settings when it has them (``TrainConfig``'s
#: names, which are the page's).
_LEARNING = ("optimizer", "lr", "beta", "beta1", "beta2", "epsilon", "decay", "l2", "l1",
             "keep_prob", "init", "seed")


@dataclass(frozen=True)
class LoadedModel:
    """A checked model file: its id (to configure a run from it), name, weights and settings."""

    id: str
    name: str
    params: dict[str, np.ndarray]
    settings: dict[str, Any]
    layer_dims: list[int]
    activations: list[str]
    epoch: int | None = None
    notes: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "settings": self.settings,
                "layer_dims": self.layer_dims, "activations": self.activations,
                "epoch": self.epoch, "notes": self.notes}


def _fail(name: str, message: str) -> SettingsError:
    return SettingsError("model", f"{name}: {message}")


def _read(data: bytes, name: str) -> tuple[dict[str, np.ndarray], list[str], dict[str, Any]]:
    """The weights, activations and what the file says of its training, read by nnlab."""
    from ..files.format import ModelFileError
    from ..files.models import load

    with tempfile.TemporaryDirectory(prefix="nnlab-playground-") as folder:
        path = os.path.join(folder, "model.npz")
        with open(path, "wb") as f:
            f.write(data)
        try:
            obj = load(path)
        except (ModelFileError, ValueError, OSError) as exc:
            text = str(exc).replace(path, name).replace(folder, "")
            if text.startswith(f"{name}: "):
                text = text[len(name) + 2:]
            raise _fail(name, text) from None
    if isinstance(obj, tuple):  # a "params" file (the page's own export)
        params, config = obj
        acts = config.get("activations")
        L = sum(1 for k in params if k.startswith("W"))
        if not isinstance(acts, list) or len(acts) != L or not all(
                isinstance(a, str) for a in acts):
            raise _fail(name, f"a parameter file needs its activations (one per layer, {L}) in "
                              "its config: this one has none")
        info: dict[str, Any] = {"features": config.get("features"), "epoch": config.get("epoch")}
        train = config.get("train_config") or {}
        page = config.get("playground_settings") or {}
        info["training"] = page or train
        return dict(params), list(acts), info
    from ..model import Model

    if not isinstance(obj, Model):
        raise _fail(name, "holds a fitted estimator: load a model file (nnlab train --save "
                          "writes one) or the page's own Export model")
    extra = getattr(obj, "extra", {}) or {}
    history = obj.history
    info = {"features": extra.get("features"), "training": extra.get("config") or {},
            "epoch": len(history.loss) if history is not None else None}
    assert obj.params is not None
    return dict(obj.params), obj.activations, info


def _problem(name: str, activations: list[str], dims: list[int]) -> tuple[str, int]:
    out, units = activations[-1], dims[-1]
    if out == "sigmoid" and units == 1:
        return "classification", 2
    if out == "softmax" and 2 <= units <= MAX_CLASSES:
        return "classification", units
    if out == "identity" and units == 1:
        return "regression", 2
    raise _fail(name, f"its output is {units} {out} unit{'s' if units != 1 else ''}: the "
                      "playground trains one sigmoid unit (two classes), a softmax of 2 to "
                      f"{MAX_CLASSES} units (that many classes) or one identity unit "
                      "(regression)")


def read_model(data: bytes, name: str = "model.npz", limits: Limits | None = None
               ) -> LoadedModel:
    """Check a model file's bytes (see the module's docstring); ``SettingsError`` (field
    ``model``) names the file and what is wrong."""
    limits = limits or Limits()
    name = (name or "model.npz")[:100]
    if len(data) > limits.max_upload_bytes:
        raise _fail(name, f"the file is larger than {limits.max_upload_bytes} bytes (raise "
                          "the limit with --max-upload-bytes)")
    params, acts, info = _read(data, name)
    L = len(acts)
    dims = [int(params["W1"].shape[1])] + [int(params[f"W{l}"].shape[0]) for l in range(1, L + 1)]
    problem, classes = _problem(name, acts, dims)
    hidden = acts[:-1]
    bad = sorted({a for a in hidden if a not in HIDDEN_ACTIVATIONS})
    if bad:
        raise _fail(name, f"hidden activation {', '.join(bad)}: the playground offers "
                          f"{', '.join(HIDDEN_ACTIVATIONS)}")
    if len(hidden) > limits.max_layers:
        raise _fail(name, f"{len(hidden)} hidden layers: this server allows at most "
                          f"{limits.max_layers} (raise the limit with --max-layers)")
    if hidden and max(dims[1:-1]) > limits.max_units:
        raise _fail(name, f"a hidden layer of {max(dims[1:-1])} units: this server allows at "
                          f"most {limits.max_units} (raise the limit with --max-units)")
    features = info.get("features")
    if features is None:
        if dims[0] != 2:
            raise _fail(name, f"it takes {dims[0]} inputs: the playground's inputs are x1, x2 "
                              "or features of them (the file names none)")
        features = ["x1", "x2"]
    if not isinstance(features, list) or not all(f in FEATURES for f in features) or len(
            features) != dims[0]:
        raise _fail(name, f"its inputs {features!r:.80} are not the playground's features of "
                          "(x1, x2)")
    settings: dict[str, Any] = {"problem": problem, "classes": classes,
                                "layers": dims[1:-1], "activations": hidden,
                                "batch_norm": [f"gamma{l}" in params for l in range(1, L)],
                                "features": list(features)}
    notes: list[str] = []
    training = info.get("training")
    if isinstance(training, Mapping):
        settings.update(_learning(training, problem, classes, notes))
    digest = hashlib.sha256(data).hexdigest()[:16]
    arrays = {k: np.array(v, dtype=np.float64) for k, v in params.items()}
    epoch = info.get("epoch")
    return LoadedModel(digest, name, arrays, settings, dims, list(acts),
                       epoch if isinstance(epoch, int) else None, notes)


def _learning(training: Mapping[str, Any], problem: str, classes: int, notes: list[str]
              ) -> dict[str, Any]:
    """What the file's training settings give the page: the data set (when the page has it and
    it suits the problem type), its noise, points and seed, and the learning settings."""
    out: dict[str, Any] = {}
    dataset = training.get("dataset")
    regression = problem == "regression"
    if isinstance(dataset, str) and dataset in DATASETS and dataset != "csv" and (
            (dataset in REGRESSION_SETS) == regression):
        out["dataset"] = dataset
        for key, page_key in (("noise", "noise"), ("n_samples", "n_points"),
                              ("n_points", "n_points")):
            if isinstance(training.get(key), int | float) and not isinstance(
                    training.get(key), bool):
                out[page_key] = training[key]
    elif isinstance(dataset, str):
        notes.append(f"trained on {dataset[:60]}, which the page does not have: the page's data "
                     "set is used")
    for key in _LEARNING:
        value = training.get(key)
        if isinstance(value, int | float | str) and not isinstance(value, bool):
            out[key] = value
    batch = training.get("batch_size", "missing")
    if batch is None or batch == "full":
        out["batch_size"] = "full"
    elif isinstance(batch, int) and not isinstance(batch, bool):
        out["batch_size"] = batch
    return out


class ModelStore:
    """Loaded model files, kept in memory while the server runs: the newest ``max_items``."""

    def __init__(self, max_items: int):
        self.max_items = max_items
        self._items: OrderedDict[str, LoadedModel] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, model: LoadedModel) -> None:
        with self._lock:
            self._items[model.id] = model
            self._items.move_to_end(model.id)
            while len(self._items) > self.max_items:
                self._items.popitem(last=False)

    def get(self, model_id: Any) -> LoadedModel:
        with self._lock:
            if not isinstance(model_id, str) or model_id not in self._items:
                raise SettingsError("model", f"the loaded model {str(model_id)[:40]!r} is not on "
                                    "this server (models are kept in memory while it runs): "
                                    "load the file again")
            self._items.move_to_end(model_id)
            return self._items[model_id]

    def __len__(self) -> int:
        return len(self._items)


def check_fits(model: LoadedModel, layer_dims: list[int], activations: list[str],
               batch_norm: list[bool]) -> None:
    """A run configured from ``model`` must have its network: else ``SettingsError``."""
    flags = model.settings["batch_norm"]
    if layer_dims != model.layer_dims or activations != model.activations or batch_norm != flags:
        def network(dims: list[int], acts: list[str], bn: list[bool]) -> str:
            norm = [l + 1 for l, on in enumerate(bn) if on]
            return (f"layers {dims} with {', '.join(acts)}"
                    + (f", batch norm in layer {', '.join(map(str, norm))}" if norm else ""))

        raise SettingsError(
            "model", f"{model.name}: the loaded model is "
            f"{network(model.layer_dims, model.activations, flags)}; these settings give "
            f"{network(layer_dims, activations, batch_norm)}: change the network and its weights "
            "start afresh")


__all__ = ["LoadedModel", "ModelStore", "check_fits", "read_model"]
