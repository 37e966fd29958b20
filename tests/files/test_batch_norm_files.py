"""Model files with batch-normalized layers: γ, β and the running statistics are written and
read back, checkpoints resume exactly, malformed files are refused, and files written before
batch norm (no ``batch_norm`` in a layer's description) still load."""

import numpy as np
import pytest

import nnlab
from nnlab import Dense, Model
from nnlab.files.format import ModelFileError, load_arrays, load_params, save_arrays, save_params
from nnlab.files.models import (
    ModelCheckpoint,
    load_checkpoint,
    load_model,
    model_to_json,
    save_model,
)


def _data(seed=0, m=160):
    rng = np.random.RandomState(seed)
    X = rng.randn(m, 2)
    return X, (X[:, 0] * X[:, 1] > 0).astype(int)


def _model(optimizer="adam", **kw):
    return Model([Dense(8, "relu", batch_norm=True, keep_prob=0.9), Dense(4, "tanh"),
                  Dense(3, "relu", batch_norm=True), Dense(1, "sigmoid")],
                 optimizer=optimizer, learning_rate=0.02, random_state=5, **kw)


def test_model_round_trip_keeps_gamma_beta_and_running_statistics(tmp_path):
    X, y = _data()
    model = _model()
    model.fit(X, y, epochs=4, batch_size=32, verbose=0)
    save_model(model, tmp_path / "m.npz")
    arrays, config = load_arrays(tmp_path / "m.npz")
    assert {"gamma1", "beta1", "running_mean1", "running_var1", "gamma3", "running_var3",
            "b2", "b4"} <= set(arrays) and "b1" not in arrays and "b3" not in arrays
    assert [d.get("batch_norm", False) for d in config["model"]["layers"]] == [
        True, False, True, False]
    again = nnlab.load(tmp_path / "m.npz")
    assert [layer.batch_norm for layer in again.layers] == [True, False, True, False]
    assert set(again.params) == set(model.params)
    for k, v in model.params.items():
        assert np.array_equal(again.params[k], v), k
    assert np.array_equal(again.predict_proba(X), model.predict_proba(X))
    assert again.summary() == model.summary()


@pytest.mark.parametrize("optimizer", ["gd", "momentum", "rmsprop", "adam", "sgd"])
def test_checkpoint_resume_is_exact_with_batch_norm(tmp_path, optimizer):
    X, y = _data()
    full = _model(optimizer)
    full.fit(X, y, epochs=8, batch_size=32, verbose=0)
    part = _model(optimizer)
    part.fit(X, y, epochs=3, batch_size=32, verbose=0,
             callbacks=[ModelCheckpoint(tmp_path / "ck.npz", every=1)])
    resumed, info = load_checkpoint(tmp_path / "ck.npz")
    assert info["epoch"] == 3
    resumed.fit(X, y, epochs=8, batch_size=32, verbose=0, initial_epoch=info["epoch"])
    assert set(resumed.params) == set(full.params)
    for k in full.params:  # the running statistics too
        assert np.array_equal(resumed.params[k], full.params[k]), k
    assert resumed.history.loss == full.history.loss[3:]


def _old_layer(units, activation):
    """A layer as nnlab wrote it before batch norm existed."""
    return {"units": units, "activation": activation, "init": "he", "keep_prob": 1.0,
            "init_scale": None}


def test_files_written_before_batch_norm_still_load(tmp_path):
    rng = np.random.RandomState(0)
    params = {"W1": rng.randn(3, 2), "b1": rng.randn(3, 1), "W2": rng.randn(1, 3),
              "b2": rng.randn(1, 1)}
    doc = {"layers": [_old_layer(3, "tanh"), _old_layer(1, "sigmoid")],
           "loss": "binary_crossentropy",
           "optimizer": {"name": "adam", "hyperparams": {"learning_rate": 0.001, "beta1": 0.9,
                                                         "beta2": 0.999, "epsilon": 1e-8}},
           "learning_rate": 0.001, "l2": 0.0, "fused": True}
    save_arrays(tmp_path / "old.npz", params, {"kind": "model", "model": doc, "extra": {}})
    model = load_model(tmp_path / "old.npz")
    assert [layer.batch_norm for layer in model.layers] == [False, False]
    X = rng.randn(5, 2)
    expected = 1 / (1 + np.exp(-(params["W2"] @ np.tanh(params["W1"] @ X.T + params["b1"])
                                 + params["b2"])))
    np.testing.assert_allclose(model.predict_proba(X), expected.T, rtol=1e-12)


def test_a_model_without_batch_norm_is_written_as_before(tmp_path):
    model = Model([Dense(3, "tanh"), Dense(1, "sigmoid")], input_dim=2, random_state=0)
    layers = model_to_json(model)["layers"]
    assert [sorted(d) for d in layers] == [sorted(_old_layer(3, "tanh"))] * 2


def _saved(tmp_path, model=None):
    model = model or Model([Dense(3, batch_norm=True), Dense(1, "sigmoid")], input_dim=2,
                           random_state=0)
    save_model(model, tmp_path / "m.npz")
    return load_arrays(tmp_path / "m.npz")


@pytest.mark.parametrize("change, message", [
    (lambda a, c: a.pop("running_var1"), "expected parameters"),
    (lambda a, c: a.update(running_var1=-np.ones((3, 1))), "running variance .* is negative"),
    (lambda a, c: a.update(gamma1=np.ones((2, 1))), r"gamma1 \(2, 1\).* do not fit"),
    (lambda a, c: a.update(beta1=np.zeros((3, 1), np.float32)), "must share one float dtype"),
    (lambda a, c: c["model"]["layers"][0].pop("batch_norm"), "layer 1 is not batch-normalized"),
    (lambda a, c: c["model"]["layers"][0].update(batch_norm="yes"), "not true or false"),
])
def test_malformed_batch_norm_files_are_refused(tmp_path, change, message):
    arrays, config = _saved(tmp_path)
    change(arrays, config)
    for k in ("format", "format_version", "arrays"):
        config.pop(k)
    save_arrays(tmp_path / "bad.npz", arrays, config)
    with pytest.raises(ModelFileError, match=message):
        load_model(tmp_path / "bad.npz")


def test_a_file_whose_layer_asks_for_batch_norm_but_holds_b_is_refused(tmp_path):
    arrays, config = _saved(tmp_path, Model([Dense(3), Dense(1, "sigmoid")], input_dim=2,
                                            random_state=0))
    config["model"]["layers"][0]["batch_norm"] = True
    for k in ("format", "format_version", "arrays"):
        config.pop(k)
    save_arrays(tmp_path / "bad.npz", arrays, config)
    with pytest.raises(ModelFileError, match="layer 1 is batch-normalized but the file holds no"):
        load_model(tmp_path / "bad.npz")


def test_params_files_hold_batch_norm_parameters(tmp_path):
    params = nnlab.initialize_parameters([2, 4, 3, 1], random_state=0, batch_norm=[True, False])
    save_params(tmp_path / "p.npz", params, activations=["relu", "relu", "sigmoid"])
    back, config = load_params(tmp_path / "p.npz")
    assert set(back) == set(params)
    assert config["activations"] == ["relu", "relu", "sigmoid"]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_estimator_with_batch_norm_saves_and_loads(tmp_path):
    X, y = _data()
    clf = nnlab.MLPClassifier(hidden_layer_sizes=(6, 4), batch_norm=True, max_iter=15,
                              learning_rate_init=0.02, random_state=0).fit(X, y)
    nnlab.save(clf, tmp_path / "clf.npz")
    back = nnlab.load(tmp_path / "clf.npz")
    assert back.batch_norm is True and back.model_.batch_norm == [True, True]
    assert np.array_equal(back.predict_proba(X), clf.predict_proba(X))
