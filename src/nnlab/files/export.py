"""Export a trained network for other tools: an ONNX graph or a safetensors file
(``nnlab export MODEL --format onnx|safetensors``, ``nnlab.export``). scikit-learn's own MLP
with the network's weights is ``Model.to_sklearn`` and the estimators' ``to_sklearn``
(``nnlab.to_sklearn``).

- ``to_onnx``: an ONNX graph built with the ``onnx`` package (``pip install "nnlab[export]"``),
  opset 17, in the course's order: per layer ``Z[l] = Gemm(A[l-1], W[l], b[l], transB=1)`` (that
  is ``A[l-1] W[l]^T + b[l]``, the rows form of ``W[l] A[l-1] + b[l]``), a
  ``BatchNormalization`` with the running statistics for a batch-normalized layer, then ``g[l]``;
  the initializers are named ``W1``, ``b1``, ... (``b[l]`` as a vector ``(n[l],)``). The input
  ``X`` is ``(N, n_x)`` of the model's dtype (or the one asked for), and a model trained on 2-D
  feature maps (``--features``) takes the raw points: the maps are part of the graph. Outputs:
  ``probabilities`` ``(N, n_classes)`` (``[1 - σ, σ]`` for one sigmoid unit, as
  ``predict_proba``) and ``label`` (the predicted class's label; for several sigmoid units a 0/1
  per unit) for a classifier, ``predictions`` ``(N, n_L)`` for a regression (identity or exp).
- ``to_safetensors``: the weights by their course names with the architecture in the metadata
  (``nnlab.files.tensorfile``); ``nnlab.load`` reads it back.

>>> import numpy as np, os, tempfile
>>> from nnlab import Dense, Model, load
>>> X = np.random.RandomState(0).randn(40, 3); y = (X[:, 0] > 0).astype(int)
>>> model = Model([Dense(4, "tanh"), Dense(1, "sigmoid")], random_state=0)
>>> _ = model.fit(X, y, epochs=5, verbose=0)
>>> path = export(model, os.path.join(tempfile.mkdtemp(), "model.safetensors"))
>>> again = load(path)
>>> bool(np.array_equal(again.predict_proba(X), model.predict_proba(X)))
True
>>> graph = to_onnx(model)
>>> [o.name for o in graph.graph.output], [i.name for i in graph.graph.initializer][:4]
(['probabilities', 'label'], ['W1', 'b1', 'W2', 'b2'])
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from .._version import __version__
from ..model import Model
from .format import FORMAT, FORMAT_VERSION, atomic_write_bytes, check_output_path
from .models import estimator_config, model_to_json
from .tensorfile import CONFIG_KEY, encode_safetensors

#: The formats ``export`` writes, with their usual file suffix.
FORMATS = {"onnx": ".onnx", "safetensors": ".safetensors"}
#: The ONNX operator set the graphs use (ONNX 1.12+, onnxruntime 1.12+ run it).
OPSET = 17
#: The ONNX IR version that goes with ``OPSET``.
IR_VERSION = 8


# ------------------------------------------------------------------------------ what is exported
def _network(obj: Any) -> tuple[Model, list[Any] | None, list[str] | None]:
    """The ``Model`` behind a Model or a fitted nnlab estimator, the labels of its output units
    (None: a regression, or a Model without label names: 0, 1, ...) and its 2-D feature maps."""
    if isinstance(obj, Model):
        if obj.params is None:
            raise ValueError("the model has no weights yet: fit (or build) it before exporting")
        extra = getattr(obj, "extra", None) or {}
        return obj, extra.get("classes") or None, extra.get("features") or None
    model = getattr(obj, "model_", None)
    if not isinstance(model, Model) or model.params is None:
        raise ValueError(f"expected an nnlab Model or a fitted nnlab estimator, not "
                         f"{type(obj).__name__}")
    classes = getattr(obj, "classes_", None)
    return model, None if classes is None else np.asarray(classes).tolist(), None


def _task(model: Model) -> str:
    out, units = model.activations[-1], model.layers[-1].units
    if out == "sigmoid":
        return "binary" if units == 1 else "multilabel"
    return "multiclass" if out == "softmax" else "regression"


# ------------------------------------------------------------------------------ ONNX
#: A 2-D feature map as an ONNX operator on the columns x1 (0) and x2 (1).
_FEATURE_OPS = {"x1": ("Identity", (0,)), "x2": ("Identity", (1,)), "x1_sq": ("Mul", (0, 0)),
                "x2_sq": ("Mul", (1, 1)), "x1_x2": ("Mul", (0, 1)), "sin_x1": ("Sin", (0,)),
                "sin_x2": ("Sin", (1,))}

#: The activations as ONNX operators (leaky relu is built as ``Max(Z, slope Z)``).
_ACTIVATION_OPS = {"relu": "Relu", "tanh": "Tanh", "sigmoid": "Sigmoid", "softmax": "Softmax",
                   "leaky_relu": "LeakyRelu", "identity": "Identity", "exp": "Exp"}


def _dtype_of(model: Model, dtype: Any) -> np.dtype:
    assert model.params is not None
    out = np.dtype(model.params["W1"].dtype if dtype is None else dtype)
    if out not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"dtype={dtype!r}: the exported numbers are float32 or float64")
    return out


def _labels_tensor(onnx: Any, labels: list[Any]) -> Any:
    """The labels as a 1-D ONNX tensor named ``classes`` (text, booleans, int64 or double)."""
    from onnx import TensorProto, helper

    values = np.asarray(labels)
    if values.dtype.kind in "UO":
        text: Any = [str(v).encode("utf-8") for v in labels]  # (typed as numbers by onnx)
        return helper.make_tensor("classes", TensorProto.STRING, [len(labels)], text)
    if values.dtype.kind == "b":
        return onnx.numpy_helper.from_array(values, "classes")
    if values.dtype.kind in "iu":
        return onnx.numpy_helper.from_array(values.astype(np.int64), "classes")
    return onnx.numpy_helper.from_array(values.astype(np.float64), "classes")


def to_onnx(obj: Any, dtype: Any = None) -> Any:
    """An ``onnx.ModelProto`` computing the network of a ``Model`` or fitted nnlab estimator
    (see the module's docstring for the graph), checked with ``onnx.checker``.

    Args:
        dtype: the input's and weights' type, ``"float32"`` or ``"float64"`` (default: the
            model's).
    """
    from .._extras import require

    onnx = require("onnx", "export", "exporting to ONNX")
    require("onnx.numpy_helper", "export", "exporting to ONNX")
    from onnx import TensorProto, helper

    from ..activations import LEAKY_RELU_SLOPE

    model, labels, features = _network(obj)
    dtype = _dtype_of(model, dtype)
    elem = TensorProto.DOUBLE if dtype == np.float64 else TensorProto.FLOAT
    params = model.params
    assert params is not None
    dims, task = model.layer_dims, _task(model)
    nodes, inits = [], []

    def constant(name: str, value: np.ndarray) -> str:
        inits.append(onnx.numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    n_in = dims[0]
    A = "X"
    if features:  # the 2-D feature maps, from the raw points
        n_in = 2
        for j in (0, 1):
            nodes.append(helper.make_node("Gather", ["X", constant(f"x{j + 1}_index",
                                                                   np.array([j], np.int64))],
                                          [f"x{j + 1}"], axis=1))
        for name in features:
            if name not in _FEATURE_OPS:
                raise ValueError(f"the feature map {name!r} has no ONNX form here")
            op, cols = _FEATURE_OPS[name]
            nodes.append(helper.make_node(op, [f"x{c + 1}" for c in cols], [f"feature_{name}"]))
        nodes.append(helper.make_node("Concat", [f"feature_{n}" for n in features], ["A0"],
                                      axis=1))
        A = "A0"
    for l, g in enumerate(model.activations, start=1):
        W = constant(f"W{l}", params[f"W{l}"].astype(dtype))
        if f"gamma{l}" in params:  # Z = W A, then γ (Z - μ) / sqrt(σ² + ε) + β
            from ..layers import BN_EPSILON

            nodes.append(helper.make_node("Gemm", [A, W], [f"WA{l}"], transB=1))
            stats = [constant(f"{k}{l}", params[f"{k}{l}"].reshape(-1).astype(dtype))
                     for k in ("gamma", "beta", "running_mean", "running_var")]
            nodes.append(helper.make_node("BatchNormalization", [f"WA{l}", *stats], [f"Z{l}"],
                                          epsilon=float(BN_EPSILON)))
        else:
            b = constant(f"b{l}", params[f"b{l}"].reshape(-1).astype(dtype))
            nodes.append(helper.make_node("Gemm", [A, W, b], [f"Z{l}"], transB=1))
        if g not in _ACTIVATION_OPS:
            raise ValueError(f"layer {l}'s activation {g!r} has no ONNX form here")
        op = _ACTIVATION_OPS[g]
        if op == "LeakyRelu":  # max(Z, slope Z): ONNX's LeakyRelu takes its slope as float32
            slope = constant(f"slope{l}", np.array(LEAKY_RELU_SLOPE, dtype))
            nodes.append(helper.make_node("Mul", [f"Z{l}", slope], [f"slope_Z{l}"]))
            nodes.append(helper.make_node("Max", [f"Z{l}", f"slope_Z{l}"], [f"A{l}"]))
        elif op == "Softmax":
            nodes.append(helper.make_node(op, [f"Z{l}"], [f"A{l}"], axis=1))
        else:
            nodes.append(helper.make_node(op, [f"Z{l}"], [f"A{l}"]))
        A = f"A{l}"
    n_out = dims[-1]
    outputs = []
    if task == "regression":
        nodes.append(helper.make_node("Identity", [A], ["predictions"]))
        outputs.append(helper.make_tensor_value_info("predictions", elem, ["N", n_out]))
    elif task == "multilabel":
        nodes.append(helper.make_node("Identity", [A], ["probabilities"]))
        half = constant("half", np.array(0.5, dtype))
        nodes.append(helper.make_node("Greater", [A, half], ["above"]))
        nodes.append(helper.make_node("Cast", ["above"], ["label"], to=TensorProto.INT64))
        outputs += [helper.make_tensor_value_info("probabilities", elem, ["N", n_out]),
                    helper.make_tensor_value_info("label", TensorProto.INT64, ["N", n_out])]
    else:
        n_classes = 2 if task == "binary" else n_out
        if task == "binary":  # [1 - σ, σ], as predict_proba
            one = constant("one", np.array(1.0, dtype))
            nodes.append(helper.make_node("Sub", [one, A], ["one_minus"]))
            nodes.append(helper.make_node("Concat", ["one_minus", A], ["probabilities"], axis=1))
        else:
            nodes.append(helper.make_node("Identity", [A], ["probabilities"]))
        labels = list(range(n_classes)) if labels is None else labels
        if task == "binary" and len(labels) == 1:  # fitted on one class: always that one
            labels = labels * 2
        if len(labels) != n_classes:
            raise ValueError(f"{len(labels)} class labels for {n_classes} classes")
        nodes.append(helper.make_node("ArgMax", ["probabilities"], ["index"], axis=1,
                                      keepdims=0))
        table = _labels_tensor(onnx, labels)
        inits.append(table)
        nodes.append(helper.make_node("Gather", ["classes", "index"], ["label"], axis=0))
        outputs += [helper.make_tensor_value_info("probabilities", elem, ["N", n_classes]),
                    helper.make_tensor_value_info("label", table.data_type, ["N"])]
    graph = helper.make_graph(nodes, "nnlab", [helper.make_tensor_value_info("X", elem,
                                                                             ["N", n_in])],
                              outputs, inits)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="nnlab", producer_version=__version__,
                              doc_string=f"nnlab network {dims} ({', '.join(model.activations)})")
    proto.ir_version = IR_VERSION
    helper.set_model_props(proto, _architecture(model, labels, features))
    onnx.checker.check_model(proto, full_check=True)
    return proto


# ------------------------------------------------------------------------------ safetensors
def _architecture(model: Model, labels: list[Any] | None,
                  features: list[str] | None) -> dict[str, str]:
    """The network described in strings, for a file's metadata."""
    assert model.params is not None
    meta = {"nnlab_version": __version__, "layer_dims": json.dumps(model.layer_dims),
            "activations": json.dumps(model.activations), "loss": str(model.loss),
            "task": _task(model)}
    if labels is not None:
        meta["classes"] = json.dumps(labels)
    if features:
        meta["features"] = json.dumps(features)
    if any(k.startswith("gamma") for k in model.params):
        from ..layers import BN_EPSILON

        meta["batch_norm_epsilon"] = repr(float(BN_EPSILON))
    return meta


def to_safetensors(obj: Any, dtype: Any = None) -> bytes:
    """The bytes of a safetensors file holding the weights of a ``Model`` or fitted nnlab
    estimator by their course names, with the architecture and nnlab's config in the metadata
    (``nnlab.files.tensorfile``). ``dtype``: ``"float32"`` or ``"float64"`` (default: the
    model's)."""
    model, labels, features = _network(obj)
    dtype = _dtype_of(model, dtype)
    assert model.params is not None
    arrays = {k: np.ascontiguousarray(v, dtype=dtype) for k, v in model.params.items()}
    if isinstance(obj, Model):
        config: dict[str, Any] = {"kind": "model", "model": model_to_json(model),
                                  "extra": dict(getattr(obj, "extra", None) or {})}
    else:
        config = estimator_config(obj)
    config.update(format=FORMAT, format_version=FORMAT_VERSION,
                  arrays={k: {"dtype": str(v.dtype), "shape": list(v.shape)}
                          for k, v in arrays.items()})
    metadata = {CONFIG_KEY: json.dumps(config, allow_nan=False), "kind": config["kind"],
                **_architecture(model, labels, features)}
    return encode_safetensors(arrays, metadata)


# ------------------------------------------------------------------------------ export
def export_format(path: str | os.PathLike, format: str | None = None) -> str:
    """The format to write: ``format`` itself, else the one ``path``'s suffix names."""
    if format is None:
        suffix = Path(path).suffix.lower()
        found = [name for name, s in FORMATS.items() if s == suffix]
        if not found:
            raise ValueError(f"{path}: say which format to write ({', '.join(FORMATS)}): the "
                             f"suffix {suffix or '(none)'!r} names none")
        return found[0]
    if format not in FORMATS:
        raise ValueError(f"unknown export format {format!r}: expected one of "
                         f"{', '.join(FORMATS)}")
    return format


def export(obj: Any, path: str | os.PathLike, format: str | None = None, *,
           dtype: Any = None) -> Path:
    """Write a ``Model`` or fitted nnlab estimator to ``path`` as ONNX (``to_onnx``) or
    safetensors (``to_safetensors``), atomically; returns the path.

    Args:
        format: "onnx" or "safetensors" (default: from the suffix, ``.onnx`` or
            ``.safetensors``).
        dtype: "float32" or "float64" (default: the model's).

    >>> import numpy as np, os, tempfile
    >>> from nnlab import MLPRegressor
    >>> X = np.random.RandomState(0).randn(30, 2); y = X.sum(axis=1)
    >>> reg = MLPRegressor((3,), solver="lbfgs", random_state=0).fit(X, y)
    >>> export(reg, os.path.join(tempfile.mkdtemp(), "reg.onnx")).suffix
    '.onnx'
    """
    fmt = export_format(path, format)
    check_output_path(path)  # before the work: a folder or unwritable place is one line
    data = to_onnx(obj, dtype).SerializeToString() if fmt == "onnx" else to_safetensors(obj,
                                                                                        dtype)
    atomic_write_bytes(path, data)
    return Path(path)
