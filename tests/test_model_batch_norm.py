"""``Dense(..., batch_norm=True)``: the parameters a batch-normalized layer gets, its place in
``summary()`` and the repr, and a fitted model that predicts with the running statistics."""

import numpy as np
import pytest

from nnlab import Dense, Model
from nnlab.model import GlorotUniform


def _data(seed=0, m=120):
    rng = np.random.RandomState(seed)
    X = rng.randn(m, 2)
    return X, (X[:, 0] * X[:, 1] > 0).astype(int)


@pytest.mark.parametrize("init", ["he", "xavier", "random", "glorot_uniform"])
def test_batch_norm_layer_has_gamma_beta_running_stats_and_no_b(init):
    plain = Model([Dense(5, "relu", init=init), Dense(4, "tanh", init=init),
                   Dense(1, "sigmoid", init=init)], random_state=3, input_dim=2)
    norm = Model([Dense(5, "relu", init=init, batch_norm=True), Dense(4, "tanh", init=init),
                  Dense(1, "sigmoid", init=init)], random_state=3, input_dim=2)
    p, q = plain.params, norm.params
    assert set(q) == {"W1", "gamma1", "beta1", "running_mean1", "running_var1",
                      "W2", "b2", "W3", "b3"}
    np.testing.assert_array_equal(q["gamma1"], np.ones((5, 1)))
    np.testing.assert_array_equal(q["beta1"], np.zeros((5, 1)))
    np.testing.assert_array_equal(q["running_mean1"], np.zeros((5, 1)))
    np.testing.assert_array_equal(q["running_var1"], np.ones((5, 1)))
    # the same draws: every W (and the later layers' b) equals the plain network's, so the
    # generator went through the same numbers (a b that glorot_uniform draws is dropped)
    for k in ("W1", "W2", "b2", "W3", "b3"):
        np.testing.assert_array_equal(q[k], p[k], err_msg=k)
    assert norm.rng.randn() == plain.rng.randn()


def test_batch_norm_parameters_keep_the_models_dtype():
    model = Model([Dense(3, batch_norm=True), Dense(1, "sigmoid")], random_state=0)
    model.build(2, np.float32)
    assert {v.dtype for v in model.params.values()} == {np.dtype(np.float32)}


def test_output_layer_cannot_be_batch_normalized():
    with pytest.raises(ValueError, match="output layer cannot use batch norm"):
        Model([Dense(3), Dense(1, "sigmoid", batch_norm=True)])


@pytest.mark.parametrize("bad", [1, "yes", None])
def test_batch_norm_must_be_a_bool(bad):
    with pytest.raises(ValueError, match=r"batch_norm=.* must be True or False"):
        Dense(3, batch_norm=bad)


def test_summary_shows_batch_norm_gamma_beta_and_no_b():
    model = Model([Dense(4, batch_norm=True), Dense(3, "tanh", batch_norm=True),
                   Dense(2, "relu"), Dense(1, "sigmoid")], input_dim=2)
    text = model.summary()
    lines = text.splitlines()
    assert "batch norm" in lines[0]
    row1, row2, row3 = lines[2], lines[3], lines[4]
    assert "γ, β (4, 1)" in row1 and "none" in row1 and "(4, 1)" not in row1.split("none")[1]
    assert row1.rstrip().endswith(" 16")  # 4 · (2 + 2): W and γ, β
    assert "γ, β (3, 1)" in row2 and row2.rstrip().endswith(" 18")  # 3 · (4 + 2)
    assert "none" not in row3 and "(2, 1)" in row3 and row3.rstrip().endswith(" 8")  # 2 · (3 + 1)
    assert "total params: 45" in text  # 16 + 18 + 8 + 3
    assert model.count_params() == 45 == sum(
        v.size for k, v in model.params.items() if not k.startswith("running"))
    assert "14 running statistics" in text and "have no b" in text
    assert repr(model) == ("Model(4x3x2x1, batch_norm=[1, 2], loss='binary_crossentropy', "
                           "optimizer='adam')")


def test_summary_and_repr_without_batch_norm_are_unchanged():
    model = Model([Dense(4), Dense(1, "sigmoid")], input_dim=2)
    assert "batch norm" not in model.summary() and "none" not in model.summary()
    assert model.summary().splitlines()[0].split() == [
        "layer", "units", "activation", "init", "keep_prob", "W", "b", "Z,", "A", "params"]
    assert repr(model) == "Model(4x1, loss='binary_crossentropy', optimizer='adam')"
    assert model.batch_norm == [False]


def test_glorot_layer_spec_with_batch_norm_keeps_its_init():
    layer = Dense(3, "tanh", init=GlorotUniform(6.0), batch_norm=True)
    assert layer.parameter_names(2) == ["W2", "gamma2", "beta2"]
    assert layer.count_params(5) == 3 * 7


def test_fit_trains_gamma_beta_and_the_running_statistics():
    X, y = _data()
    model = Model([Dense(8, "relu", batch_norm=True), Dense(1, "sigmoid")],
                  optimizer="adam", learning_rate=0.05, random_state=0)
    start = Model([Dense(8, "relu", batch_norm=True), Dense(1, "sigmoid")], random_state=0,
                  input_dim=2).params
    history = model.fit(X, y, epochs=20, batch_size=32, verbose=0)
    assert history.loss[-1] < history.loss[0]
    p = model.params
    assert "b1" not in p
    for k in ("gamma1", "beta1", "running_mean1", "running_var1"):
        assert not np.array_equal(p[k], start[k]), k  # trained, or averaged over the batches
    assert np.all(p["running_var1"] > 0)


def test_predictions_of_one_example_equal_those_in_a_batch():
    """Prediction normalizes with the running μ, σ²: an example's output does not depend on
    the others (with the batch's own statistics, one example alone would give z_norm = 0)."""
    X, y = _data()
    model = Model([Dense(8, "relu", batch_norm=True), Dense(4, "tanh", batch_norm=True),
                   Dense(1, "sigmoid")], optimizer="adam", learning_rate=0.05, random_state=0)
    model.fit(X, y, epochs=10, batch_size=16, verbose=0)
    batch = model.predict_proba(X)
    alone = np.vstack([model.predict_proba(X[i:i + 1]) for i in range(len(X))])
    np.testing.assert_allclose(alone, batch, rtol=1e-12, atol=1e-15)
    assert np.ptp(alone) > 0.5  # the outputs differ from example to example
    assert model.evaluate(X, y)["accuracy"] > 0.8


@pytest.mark.parametrize("bn_momentum", [0.9, 0.5])
def test_running_statistics_follow_the_formula_with_the_models_bn_momentum(bn_momentum):
    """One full-batch update from μ_run = 0, σ²_run = 1: μ_run = (1 - β_bn) μ and
    σ²_run = β_bn + (1 - β_bn) σ², with μ, σ² those of Z1 = W1 X under the initial W1."""
    X, y = _data(m=50)
    model = Model([Dense(4, "relu", batch_norm=True), Dense(1, "sigmoid")], optimizer="gd",
                  learning_rate=0.1, random_state=0, input_dim=2, bn_momentum=bn_momentum)
    Z1 = model.params["W1"] @ X.T
    model.fit(X, y, epochs=1, verbose=0)
    mu, var = Z1.mean(axis=1, keepdims=True), Z1.var(axis=1, keepdims=True)
    np.testing.assert_allclose(model.params["running_mean1"], (1 - bn_momentum) * mu,
                               rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(model.params["running_var1"],
                               bn_momentum + (1 - bn_momentum) * var, rtol=1e-12)


def test_bn_momentum_is_checked_and_kept_in_model_files(tmp_path):
    from nnlab.files.models import load_model, model_to_json, save_model

    with pytest.raises(ValueError, match=r"bn_momentum=1\.0 is out of range"):
        Model([Dense(3, batch_norm=True), Dense(1, "sigmoid")], bn_momentum=1.0)
    model = Model([Dense(3, batch_norm=True), Dense(1, "sigmoid")], input_dim=2,
                  bn_momentum=0.7)
    save_model(model, tmp_path / "m.npz")
    assert load_model(tmp_path / "m.npz").bn_momentum == 0.7
    default = Model([Dense(3, batch_norm=True), Dense(1, "sigmoid")], input_dim=2)
    assert "bn_momentum" not in model_to_json(default)
