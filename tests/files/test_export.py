"""Export (``nnlab.files.export``, ``nnlab.files.tensorfile``): scikit-learn's own MLP from a
``Model`` or an estimator, ONNX graphs run by onnxruntime, safetensors files read back by
``nnlab.load`` and by the ``safetensors`` package, and the files nnlab refuses."""

from __future__ import annotations

import json
import struct
import sys
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

import nnlab
from nnlab import Dense, MLPClassifier, MLPRegressor, Model
from nnlab._extras import MissingExtraError
from nnlab.files.export import export, export_format, to_onnx, to_safetensors
from nnlab.files.format import FileWriteError, ModelFileError
from nnlab.files.tensorfile import decode_safetensors, encode_safetensors, load_safetensors
from nnlab.to_sklearn import to_sklearn

RNG = np.random.RandomState(0)
X = RNG.randn(120, 3)
Y_BINARY = (X[:, 0] + X[:, 1] ** 2 > 0.5).astype(int)
Y_MULTI = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.3).astype(int)
Y_REG = np.c_[X[:, 0] - X[:, 1], np.sin(X[:, 2])]
Y_LABELS = np.array(["cat", "dog", "eel"])[Y_MULTI]
Y_COUNTS = np.random.RandomState(1).poisson(np.exp(0.5 * X[:, 0]))


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def fitted_model(layers, y, epochs=15, **kw):
    model = Model(layers, random_state=1, **kw)
    model.fit(X, y, epochs=epochs, batch_size=32, verbose=0)
    return model


MODELS = {
    "binary": lambda: fitted_model([Dense(6, "relu"), Dense(4, "relu"), Dense(1, "sigmoid")],
                                   Y_BINARY),
    "multiclass": lambda: fitted_model([Dense(5, "tanh", keep_prob=0.8), Dense(3, "softmax")],
                                       Y_MULTI),
    "regression": lambda: fitted_model([Dense(7, "sigmoid"), Dense(2, "identity")], Y_REG),
    "multilabel": lambda: fitted_model([Dense(4, "identity"), Dense(2, "sigmoid")],
                                       np.c_[Y_BINARY, 1 - Y_BINARY]),
    "poisson": lambda: fitted_model([Dense(4, "tanh"), Dense(1, "exp")], Y_COUNTS,
                                    loss="poisson"),
}


def as_proba(model, X):
    """nnlab's probabilities as scikit-learn gives them: ``[1 - σ, σ]`` for one sigmoid unit."""
    p = model.predict_proba(X)
    return np.hstack([1 - p, p]) if p.shape[1] == 1 else p


# --------------------------------------------------------------------------- to_sklearn
@pytest.mark.parametrize("task", list(MODELS))
def test_model_to_sklearn_predicts_what_the_model_does(task):
    from sklearn.neural_network import MLPClassifier as SkClassifier
    from sklearn.neural_network import MLPRegressor as SkRegressor

    model = MODELS[task]()
    sk = model.to_sklearn()
    assert isinstance(sk, SkRegressor if task in ("regression", "poisson") else SkClassifier)
    assert sk.loss == ("poisson" if task == "poisson" else "squared_error" if task ==
                       "regression" else "log_loss")
    X_new = np.random.RandomState(5).randn(50, 3)
    if task in ("regression", "poisson"):
        np.testing.assert_allclose(sk.predict(X_new), model.predict(X_new), rtol=0, atol=1e-12)
    else:
        np.testing.assert_allclose(sk.predict_proba(X_new), as_proba(model, X_new), rtol=0,
                                   atol=1e-12)
        np.testing.assert_array_equal(sk.predict(X_new), model.predict(X_new))
    assert sk.n_layers_ == len(model.layers) + 1 and sk.n_features_in_ == 3
    assert sk.hidden_layer_sizes == tuple(model.layer_dims[1:-1])
    for l, (coef, intercept) in enumerate(zip(sk.coefs_, sk.intercepts_, strict=True), start=1):
        np.testing.assert_array_equal(coef, model.params[f"W{l}"].T)
        np.testing.assert_array_equal(intercept, model.params[f"b{l}"].ravel())
    assert sk.loss_curve_ == model.history.loss and sk.n_iter_ == 15
    sk.coefs_[0][0, 0] += 1.0  # copies: the nnlab model is not changed through them
    assert model.params["W1"][0, 0] != sk.coefs_[0][0, 0]


def test_model_to_sklearn_keeps_label_names():
    model = MODELS["multiclass"]()
    sk = model.to_sklearn(classes=["cat", "dog", "eel"])
    assert sk.classes_.tolist() == ["cat", "dog", "eel"]
    idx = model.predict(X)
    np.testing.assert_array_equal(sk.predict(X), np.array(["cat", "dog", "eel"])[idx])
    model.extra = {"classes": ["yes", "no", "maybe"]}  # as a loaded model carries them
    assert model.to_sklearn().classes_.tolist() == ["yes", "no", "maybe"]
    with pytest.raises(ValueError, match="expected 3 distinct labels"):
        model.to_sklearn(classes=["a", "b"])


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
@pytest.mark.parametrize("hidden, activation", [((5,), "relu"), ((4, 3), "tanh"),
                                                ((6,), "logistic"), ((), "identity")])
def test_estimator_to_sklearn_equals_the_estimator(kind, hidden, activation):
    if kind == "classifier":
        est = MLPClassifier(hidden, activation=activation, max_iter=30, alpha=0.01,
                            solver="sgd", random_state=0).fit(X, Y_LABELS)
    else:
        est = MLPRegressor(hidden, activation=activation, max_iter=30, random_state=0,
                           batch_size=16).fit(X, Y_REG)
    sk = est.to_sklearn()
    assert type(sk).__name__ == type(est).__name__
    assert sk.activation == activation and sk.hidden_layer_sizes == hidden
    X_new = np.random.RandomState(7).randn(40, 3)
    if kind == "classifier":
        np.testing.assert_allclose(sk.predict_proba(X_new), est.predict_proba(X_new), rtol=0,
                                   atol=1e-12)
        np.testing.assert_array_equal(sk.predict(X_new), est.predict(X_new))
        assert sk.classes_.tolist() == ["cat", "dog", "eel"]
        assert sk.solver == "sgd" and sk.alpha == 0.01
        assert sk.score(X, Y_LABELS) == est.score(X, Y_LABELS)
    else:
        np.testing.assert_allclose(sk.predict(X_new), est.predict(X_new), rtol=0, atol=1e-12)
        assert sk.batch_size == 16
        assert sk.score(X, Y_REG) == pytest.approx(est.score(X, Y_REG), abs=1e-12)
    assert sk.loss_curve_ == est.loss_curve_ and sk.n_iter_ == est.n_iter_


def test_estimator_to_sklearn_binary_labels_feature_names_and_nnlab_only_settings():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    y = np.where(Y_BINARY == 1, "spam", "ham")
    est = MLPClassifier((4,), solver="rmsprop", keep_prob=0.9, batch_size=None, max_iter=20,
                        random_state=0).fit(frame, y)
    sk = est.to_sklearn()
    assert sk.feature_names_in_.tolist() == ["a", "b", "c"]
    assert sk.solver == "adam" and sk.batch_size == "auto"  # nnlab's own: sklearn's defaults
    np.testing.assert_allclose(sk.predict_proba(frame), est.predict_proba(frame), rtol=0,
                               atol=1e-12)
    assert sk.predict(frame).tolist() == est.predict(frame).tolist()
    assert set(sk.predict(frame)) <= {"spam", "ham"}
    assert to_sklearn(est).classes_.tolist() == ["ham", "spam"]  # the module's function too


@pytest.mark.parametrize("layers, message", [
    ([Dense(4, "tanh"), Dense(3, "relu"), Dense(1, "sigmoid")], "one activation for every"),
    ([Dense(4, "leaky_relu"), Dense(1, "sigmoid")], "not 'leaky_relu'"),
    ([Dense(4, "tanh", batch_norm=True), Dense(1, "sigmoid")], "no batch norm"),
    ([Dense(4, "tanh"), Dense(2, "tanh")], "not 2 tanh unit"),
    ([Dense(4, "tanh"), Dense(1, "softmax")], "not 1 softmax unit"),
])
def test_to_sklearn_says_why_scikit_learn_cannot_hold_a_network(layers, message):
    model = Model(layers, input_dim=3, random_state=0)
    with pytest.raises(ValueError, match=message):
        model.to_sklearn()


def test_to_sklearn_of_an_unfitted_model_or_estimator_is_refused():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(ValueError, match="no weights yet"):
        Model([Dense(1, "sigmoid")]).to_sklearn()
    with pytest.raises(NotFittedError):
        MLPClassifier().to_sklearn()


# --------------------------------------------------------------------------- ONNX
def run_onnx(proto, X):
    ort = pytest.importorskip("onnxruntime")
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(None, {"X": X}), strict=True))


@pytest.mark.parametrize("task", list(MODELS))
@pytest.mark.parametrize("dtype, tol", [("float32", 1e-6), ("float64", 1e-12)])
def test_onnx_graph_computes_the_models_outputs(task, dtype, tol):
    pytest.importorskip("onnx")
    model = MODELS[task]()
    proto = to_onnx(model, dtype=dtype)
    assert proto.opset_import[0].version == 17
    assert [i.name for i in proto.graph.initializer][:4] == ["W1", "b1", "W2", "b2"]
    X_new = np.random.RandomState(3).randn(64, 3)
    out = run_onnx(proto, X_new.astype(dtype))
    if task in ("regression", "poisson"):
        assert out["predictions"].dtype == np.dtype(dtype)
        np.testing.assert_allclose(out["predictions"], model.predict_proba(X_new), rtol=0,
                                   atol=tol)
        return
    assert out["probabilities"].dtype == np.dtype(dtype)
    np.testing.assert_allclose(out["probabilities"], as_proba(model, X_new), rtol=0, atol=tol)
    np.testing.assert_array_equal(out["label"], model.predict(X_new))


def test_onnx_of_an_estimator_names_its_labels_and_takes_its_dtype():
    pytest.importorskip("onnx")
    est = MLPClassifier((6,), activation="tanh", max_iter=40, random_state=0).fit(X, Y_LABELS)
    out = run_onnx(to_onnx(est), X)  # the estimator's network is float64
    np.testing.assert_allclose(out["probabilities"], est.predict_proba(X), rtol=0, atol=1e-12)
    assert out["label"].tolist() == est.predict(X).tolist()
    X32 = X.astype(np.float32)
    est32 = MLPClassifier((6,), max_iter=40, random_state=0).fit(X32, Y_BINARY == 1)
    proto = to_onnx(est32)  # fitted on float32: a float32 graph, boolean labels
    out = run_onnx(proto, X32)
    assert out["probabilities"].dtype == np.float32
    np.testing.assert_allclose(out["probabilities"], est32.predict_proba(X32), rtol=0, atol=1e-6)
    np.testing.assert_array_equal(out["label"], est32.predict(X32))
    props = {p.key: p.value for p in proto.metadata_props}
    assert json.loads(props["classes"]) == [False, True] and props["task"] == "binary"
    one = MLPClassifier((3,), max_iter=5, random_state=0).fit(X, np.full(len(X), "only"))
    out = run_onnx(to_onnx(one), X)  # one class (as scikit-learn fits it): always that label
    assert set(out["label"]) == {"only"} and one.to_sklearn().predict(X[:3]).tolist() == [
        "only"] * 3
    np.testing.assert_allclose(out["probabilities"], one.predict_proba(X), rtol=0, atol=1e-12)


def test_onnx_with_batch_norm_leaky_relu_and_feature_maps():
    pytest.importorskip("onnx")
    from nnlab.runs.run import apply_features

    raw = X[:, :2]
    features = ["x1", "x2_sq", "x1_x2", "sin_x1"]
    inputs = apply_features(raw, features)
    model = Model([Dense(6, "leaky_relu", batch_norm=True), Dense(5, "tanh", batch_norm=True),
                   Dense(3, "softmax")], random_state=2)
    model.fit(inputs, Y_MULTI, epochs=10, batch_size=16, verbose=0)
    assert np.any(model.params["running_var1"] != 1)  # statistics that matter
    model.extra = {"features": features, "classes": ["a", "b", "c"]}
    for dtype, tol in (("float64", 1e-12), ("float32", 1e-6)):
        out = run_onnx(to_onnx(model, dtype=dtype), raw.astype(dtype))  # the raw 2-D points
        np.testing.assert_allclose(out["probabilities"], model.predict_proba(inputs), rtol=0,
                                   atol=tol)
        assert out["label"].tolist() == np.array(["a", "b", "c"])[model.predict(inputs)].tolist()


def test_onnx_without_the_extra_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx now raises ImportError
    with pytest.raises(MissingExtraError, match=r'pip install "nnlab\[export\]"'):
        to_onnx(MODELS["binary"]())


# --------------------------------------------------------------------------- safetensors
def test_safetensors_round_trip_of_a_model_and_what_other_tools_see(tmp_path):
    st = pytest.importorskip("safetensors")
    model = MODELS["multiclass"]()
    model.extra = {"classes": ["cat", "dog", "eel"]}
    path = nnlab.export(model, tmp_path / "m.safetensors")
    again = nnlab.load(path)
    assert isinstance(again, Model) and again.activations == model.activations
    assert again.keep_probs == model.keep_probs and again.loss == model.loss
    np.testing.assert_array_equal(again.predict_proba(X), model.predict_proba(X))
    assert again.extra["classes"] == ["cat", "dog", "eel"]
    with st.safe_open(str(path), framework="numpy") as f:  # the official reader
        assert sorted(f.keys()) == ["W1", "W2", "b1", "b2"]
        meta = f.metadata()
        np.testing.assert_array_equal(f.get_tensor("W2"), model.params["W2"])
    assert json.loads(meta["layer_dims"]) == [3, 5, 3]
    assert json.loads(meta["activations"]) == ["tanh", "softmax"]
    assert meta["loss"] == "categorical_crossentropy" and meta["nnlab_version"] == nnlab.__version__
    assert json.loads(meta["classes"]) == ["cat", "dog", "eel"] and meta["kind"] == "model"


def test_safetensors_round_trip_of_estimators_batch_norm_and_float32(tmp_path):
    pytest.importorskip("safetensors")
    est = MLPClassifier((5,), max_iter=20, random_state=0).fit(X, Y_LABELS)
    again = nnlab.load(export(est, tmp_path / "est.safetensors"))
    assert type(again) is MLPClassifier and again.classes_.tolist() == ["cat", "dog", "eel"]
    assert again.predict(X).tolist() == est.predict(X).tolist()
    np.testing.assert_array_equal(again.predict_proba(X), est.predict_proba(X))

    model = Model([Dense(4, "relu", batch_norm=True), Dense(1, "sigmoid")], random_state=0)
    model.fit(X, Y_BINARY, epochs=5, batch_size=16, verbose=0)
    path = export(model, tmp_path / "bn.st", format="safetensors", dtype="float32")
    arrays, config = load_safetensors(path)  # any suffix, read directly
    assert sorted(arrays) == ["W1", "W2", "b2", "beta1", "gamma1", "running_mean1",
                              "running_var1"]
    assert all(a.dtype == np.float32 for a in arrays.values()) and config["kind"] == "model"
    path = export(model, tmp_path / "bn.safetensors")
    np.testing.assert_array_equal(nnlab.load(path).predict_proba(X), model.predict_proba(X))


def test_safetensors_writer_without_the_extra_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    with pytest.raises(MissingExtraError, match=r'pip install "nnlab\[export\]"'):
        to_safetensors(MODELS["binary"]())


def test_the_reader_needs_no_extra_and_reads_the_official_writers_files(monkeypatch):
    st = pytest.importorskip("safetensors.numpy")
    tensors = {"W1": np.arange(6.0).reshape(2, 3), "mask": np.array([True, False]),
               "n": np.array([[1, 2]], np.int32), "h": np.ones(3, np.float16)}
    data = st.save(tensors, metadata={"a": "b"})
    monkeypatch.setitem(sys.modules, "safetensors", None)
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    arrays, meta = decode_safetensors(data)
    assert meta == {"a": "b"} and sorted(arrays) == sorted(tensors)
    for k, v in tensors.items():
        assert arrays[k].dtype == v.dtype
        np.testing.assert_array_equal(arrays[k], v)


def _exported(tmp_path, **change):
    """A model's safetensors file, its arrays and nnlab config changed as asked."""
    model = MODELS["binary"]()
    data = to_safetensors(model)
    arrays, meta = decode_safetensors(data)
    config = json.loads(meta["nnlab"])
    if "arrays" in change:
        arrays = change.pop("arrays")(arrays)
    if change.pop("manifest", True):
        config["arrays"] = {k: {"dtype": str(v.dtype), "shape": list(v.shape)}
                            for k, v in arrays.items()}
    config.update(change)
    meta["nnlab"] = json.dumps(config)
    path = tmp_path / "crafted.safetensors"
    path.write_bytes(encode_safetensors(arrays, meta))
    return path


@pytest.mark.parametrize("change, message", [
    ({"arrays": lambda a: {**a, "W2": np.zeros((1, 5))}}, r"W2 \(1, 5\) and b2 \(4, 1\) do not "
                                                           "fit layer 1's size 6"),
    ({"arrays": lambda a: {k: v for k, v in a.items() if k != "b2"}},
     r"expected parameters \['W1', 'W2', 'W3', 'b1', 'b2', 'b3'\]"),
    ({"arrays": lambda a: {k: v for k, v in a.items() if k != "b2"}, "manifest": False},
     r"do not match nnlab's manifest \(missing: \['b2'\]"),
    ({"arrays": lambda a: {**a, "W1": a["W1"].astype(np.float32)}, "manifest": False},
     "tensor 'W1' is float32"),
    ({"kind": "params"}, "holds a 'params'"),
    ({"format_version": 99}, "format version 99 is not supported"),
    ({"model": {"layers": "no"}}, "model.layers must be a list"),
])
def test_crafted_safetensors_files_are_one_clear_error(tmp_path, change, message):
    pytest.importorskip("safetensors")
    path = _exported(tmp_path, **change)
    with pytest.raises(ModelFileError, match=message):
        nnlab.load(path)


def _raw(header: dict, body: bytes = b"", n: int | None = None) -> bytes:
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text) if n is None else n) + text + body


@pytest.mark.parametrize("data, message", [
    (b"hello", "shorter than its 8-byte header"),
    (b"PK\x03\x04" + b"\0" * 60, "a header of"),
    (_raw({}, n=10**12), r"a header of 1000000000000 bytes"),
    (struct.pack("<Q", 4) + b"nope", "its header is not JSON"),
    (_raw([1, 2]), "header is not an object"),
    (_raw({"W1": {"dtype": "BF16", "shape": [1], "data_offsets": [0, 2]}}, b"\0\0"),
     "dtype 'BF16', not one nnlab reads"),
    (_raw({"W1": {"dtype": "F64", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 8),
     "takes 8 bytes, but F64 \\[2\\] needs 16"),
    (_raw({"W1": {"dtype": "F64", "shape": [1], "data_offsets": [0, 8]}}, b"\0" * 4),
     "the tensors take 8 bytes but the file holds 4 after its header"),
    (_raw({"a": {"dtype": "U8", "shape": [2], "data_offsets": [0, 2]},
           "b": {"dtype": "U8", "shape": [2], "data_offsets": [1, 3]}}, b"\0" * 3),
     "overlap or leave a gap"),
    (_raw({"a": {"dtype": "U8", "shape": [-1], "data_offsets": [0, 0]}}), "expected a list"),
    (_raw({"__metadata__": {"x": 1}}), "must map strings to strings"),
    (_raw({"W1": {"dtype": "F64", "shape": [1], "data_offsets": [0, 8]}}, b"\0" * 8),
     "without nnlab's metadata"),
])
def test_files_that_are_not_nnlab_safetensors_are_one_clear_error(tmp_path, data, message):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(data)
    with pytest.raises(ModelFileError, match=message):
        nnlab.load(path)


def test_a_folder_or_a_missing_file_is_refused(tmp_path):
    (tmp_path / "d.safetensors").mkdir()
    with pytest.raises(ModelFileError, match="is a folder"):
        load_safetensors(tmp_path / "d.safetensors")
    with pytest.raises(ModelFileError, match="no such model file"):
        nnlab.load(tmp_path / "none.safetensors")


# --------------------------------------------------------------------------- export()
def test_export_picks_the_format_from_the_suffix_or_says_it_cannot(tmp_path):
    pytest.importorskip("onnx")
    model = MODELS["regression"]()
    assert export(model, tmp_path / "r.onnx").read_bytes()[:2] != b"PK"
    assert export_format("m.SAFETENSORS") == "safetensors"
    with pytest.raises(ValueError, match="say which format to write"):
        export(model, tmp_path / "r.bin")
    with pytest.raises(ValueError, match="unknown export format 'xml'"):
        export(model, tmp_path / "r.onnx", format="xml")
    with pytest.raises(ValueError, match="float32 or float64"):
        export(model, tmp_path / "r.onnx", dtype="int8")
    with pytest.raises(FileWriteError, match="is a folder"):
        export(model, tmp_path, format="onnx")
    with pytest.raises(ValueError, match="expected an nnlab Model or a fitted nnlab"):
        export(object(), tmp_path / "x.onnx")


def test_a_batch_normalized_estimator_exports_to_onnx_and_safetensors_not_sklearn(tmp_path):
    pytest.importorskip("onnx")
    if "batch_norm" not in MLPClassifier().get_params():
        pytest.skip("the estimators have no batch_norm parameter")
    est = MLPClassifier((5,), batch_norm=True, max_iter=20, random_state=0).fit(X, Y_LABELS)
    with pytest.raises(ValueError, match=r"no batch norm .* \['beta1', 'gamma1', "):
        est.to_sklearn()
    out = run_onnx(to_onnx(est), X)
    np.testing.assert_allclose(out["probabilities"], est.predict_proba(X), rtol=0, atol=1e-12)
    assert out["label"].tolist() == est.predict(X).tolist()
    again = nnlab.load(export(est, tmp_path / "bn.safetensors"))
    np.testing.assert_array_equal(again.predict_proba(X), est.predict_proba(X))


def test_damaged_safetensors_files_load_or_are_a_model_file_error(tmp_path):
    """Random byte changes and truncations of exported files (seeded): each loads (a changed
    weight) or is a ``ModelFileError``, never another exception."""
    pytest.importorskip("safetensors")
    est = MLPClassifier((3,), max_iter=3, random_state=0).fit(X, Y_LABELS)
    rng = np.random.RandomState(0)
    path = tmp_path / "damaged.safetensors"
    outcomes = {"loaded": 0, "refused": 0}
    for base in (to_safetensors(MODELS["binary"]()), to_safetensors(est)):
        for _ in range(150):
            data = bytearray(base)
            for _ in range(rng.randint(1, 4)):
                data[rng.randint(len(data))] = rng.randint(256)
            if rng.rand() < 0.2:
                data = data[:rng.randint(len(data))]
            path.write_bytes(bytes(data))
            try:
                nnlab.load(path)
                outcomes["loaded"] += 1
            except ModelFileError:
                outcomes["refused"] += 1
    assert outcomes["refused"] > 100
