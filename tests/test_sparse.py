"""A SciPy sparse X (CSR / CSC, other formats converted) through the engine, ``Model`` and the
estimators: the first layer multiplies it as it is (``W[1] X`` and ``dZ[1] X^T``), everything
after is dense, and the results are the dense X's to rounding."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from nnlab import (
    Dense,
    MLPClassifier,
    MLPRegressor,
    Model,
    compute_cost,
    initialize_parameters,
    model_backward,
    model_forward,
)
from numdiff import numerical_gradient, rel_diff


def _data(n=120, d=15, seed=0):
    rng = np.random.RandomState(seed)
    Xd = rng.rand(n, d) * (rng.rand(n, d) < 0.25)
    y = (Xd[:, 0] + Xd[:, 1] > 0.15).astype(int)
    return Xd, y


def test_backward_through_a_sparse_input_is_the_finite_difference_gradient():
    Xd, y = _data(20, 6)
    X = sp.csc_matrix(Xd.T)  # (n_x, m) columns
    Y = y.reshape(1, -1).astype(float)
    params = initialize_parameters([6, 4, 1], random_state=0)
    acts = ["tanh", "sigmoid"]
    AL, caches = model_forward(X, params, acts)
    grads = model_backward(AL, Y, caches, lambd=0.1)
    dense_AL, dense_caches = model_forward(Xd.T, params, acts)
    np.testing.assert_allclose(AL, dense_AL, rtol=1e-13)
    dense = model_backward(dense_AL, Y, dense_caches, lambd=0.1)

    def J() -> float:
        A, _ = model_forward(X, params, acts)
        return float(compute_cost(A, Y, params, 0.1))

    for k in params:
        assert isinstance(grads["d" + k], np.ndarray)
        np.testing.assert_allclose(grads["d" + k], dense["d" + k], rtol=1e-12, atol=1e-15)
        assert rel_diff(grads["d" + k], numerical_gradient(J, params[k])) < 1e-7


@pytest.mark.parametrize("fmt", ["csr", "csc", "coo"])
@pytest.mark.parametrize("batch_size", [None, 16])
def test_model_fit_on_sparse_rows_is_the_dense_fit(fmt, batch_size):
    Xd, y = _data()
    X = sp.csr_matrix(Xd).asformat(fmt)

    def model():
        return Model([Dense(6, "relu"), Dense(1, "sigmoid")], optimizer="adam",
                     learning_rate=0.05, random_state=0, fast=False)

    a, b = model(), model()
    ha = a.fit(X, y, epochs=15, batch_size=batch_size, verbose=0, validation_data=(X, y))
    hb = b.fit(Xd, y, epochs=15, batch_size=batch_size, verbose=0, validation_data=(Xd, y))
    np.testing.assert_allclose(ha.history["loss"], hb.history["loss"], rtol=1e-12)
    np.testing.assert_allclose(ha.history["val_accuracy"], hb.history["val_accuracy"])
    for k in a.params:
        np.testing.assert_allclose(a.params[k], b.params[k], rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(Xd), rtol=1e-12)


def test_a_sparse_fit_takes_the_textbook_steps_and_says_why():
    Xd, y = _data()
    model = Model([Dense(6, "relu"), Dense(1, "sigmoid")], random_state=0)
    model.fit(sp.csr_matrix(Xd), y, epochs=2, verbose=0)
    path = model.explain_path(sp.csr_matrix(Xd))
    assert path.name == "textbook" and "sparse" in path.reason
    assert model.explain_path(Xd).name != "textbook"  # dense X: the fast path as before


def test_sparse_input_errors_are_clear():
    Xd, y = _data()
    X = sp.csr_matrix(Xd)
    X.data[0] = np.nan
    model = Model([Dense(3, "relu"), Dense(1, "sigmoid")], random_state=0)
    with pytest.raises(ValueError, match="NaN or infinity"):
        model.fit(X, y, verbose=0)
    model.fit(sp.csr_matrix(Xd), y, verbose=0)
    with pytest.raises(ValueError, match="features"):
        model.predict(sp.csr_matrix(Xd[:, :5]))


@pytest.mark.parametrize("solver", ["adam", "lbfgs", "sgd"])
@pytest.mark.parametrize("fmt", ["csr", "csc", "coo"])
def test_mlp_classifier_on_sparse_x_equals_dense(solver, fmt):
    Xd, y = _data(300, 20)
    X = sp.csr_matrix(Xd).asformat(fmt)
    kw = dict(hidden_layer_sizes=(8,), solver=solver, max_iter=30, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = MLPClassifier(**kw).fit(X, y)
        b = MLPClassifier(**kw).fit(Xd, y)
    assert a.n_iter_ == b.n_iter_
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(Xd), atol=1e-12)


def test_mlp_regressor_on_sparse_x_with_weights_and_early_stopping():
    Xd, _ = _data(200, 12, seed=1)
    y = Xd @ np.arange(12.0) / 10
    w = np.random.RandomState(2).rand(200) + 0.5
    kw = dict(hidden_layer_sizes=(6,), max_iter=40, random_state=0, early_stopping=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = MLPRegressor(**kw).fit(sp.csc_matrix(Xd), y, sample_weight=w)
        b = MLPRegressor(**kw).fit(Xd, y, sample_weight=w)
    assert a.n_iter_ == b.n_iter_
    np.testing.assert_allclose(a.validation_scores_, b.validation_scores_, rtol=1e-10)
    np.testing.assert_allclose(a.predict(sp.csr_matrix(Xd)), b.predict(Xd), rtol=1e-10)


def test_mlp_classifier_on_sparse_x_as_scikit_learn():
    from sklearn.neural_network import MLPClassifier as SkMLP

    Xd, y = _data(300, 20)
    X = sp.csr_matrix(Xd)
    kw = dict(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=30, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours, theirs = MLPClassifier(**kw).fit(X, y), SkMLP(**kw).fit(X, y)
    assert ours.n_iter_ == theirs.n_iter_
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-8)
