"""Sample weights (``nnlab.weights``) through the engine, both steppers, ``Model.fit`` and the
estimators: integer weights train as repeated rows, zero weights as dropped rows, the weighted
gradient is the finite-difference gradient of the weighted cost, and scikit-learn's own MLP
(1.7+, which takes ``sample_weight``) agrees."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import sklearn
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from nnlab import (
    Dense,
    LogisticRegression,
    MLPClassifier,
    MLPRegressor,
    Model,
    compute_cost,
    initialize_parameters,
    model_backward,
    model_forward,
    train,
)
from nnlab.losses import huber
from nnlab.weights import check_sample_weight, class_weights, weighted_cost
from numdiff import numerical_gradient, rel_diff

SKLEARN_HAS_WEIGHTS = tuple(int(p) for p in sklearn.__version__.split(".")[:2]) >= (1, 7)
needs_sklearn_17 = pytest.mark.skipif(not SKLEARN_HAS_WEIGHTS,
                                      reason="scikit-learn's MLP takes sample_weight from 1.7")


def _data(m=30, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(3, m)
    Y = (X[0:1] * X[1:2] > 0).astype(float)
    w = rng.randint(0, 4, m).astype(float)
    w[0] = 2.0  # at least one row repeated
    return X, Y, w


def _repeat(X, Y, w):
    idx = np.repeat(np.arange(X.shape[1]), w.astype(int))
    return X[:, idx], Y[:, idx]


# --------------------------------------------------------------------------- the engine


LOSS_CASES = [
    ("sigmoid", "binary_crossentropy", 1),
    ("softmax", "categorical_crossentropy", 3),
    ("identity", "mean_squared_error", 2),
    ("identity", "mean_absolute_error", 2),
    ("identity", huber(0.3), 2),
]


def _targets(out, n_y, m, rng):
    if out == "softmax":
        return np.eye(n_y)[:, rng.randint(0, n_y, m)]
    if out == "sigmoid":
        return (rng.rand(n_y, m) > 0.5).astype(float)
    return rng.randn(n_y, m)


@pytest.mark.parametrize(("out", "loss", "n_y"), LOSS_CASES)
def test_weighted_cost_and_gradient_equal_repeated_rows(out, loss, n_y):
    rng = np.random.RandomState(1)
    X, _, w = _data(12)
    Y = _targets(out, n_y, 12, rng)
    params = initialize_parameters([3, 4, n_y], random_state=2)
    acts = ["tanh", out]
    Xr, Yr = _repeat(X, Y, w)
    for lambd, l1 in [(0.0, 0.0), (0.4, 0.0), (0.2, 0.3)]:
        AL, caches = model_forward(X, params, acts)
        J = compute_cost(AL, Y, params, lambd, loss=loss, l1=l1, sample_weight=w)
        grads = model_backward(AL, Y, caches, lambd=lambd, loss=loss, l1=l1, sample_weight=w)
        ALr, cr = model_forward(Xr, params, acts)
        Jr = compute_cost(ALr, Yr, params, lambd, loss=loss, l1=l1)
        gr = model_backward(ALr, Yr, cr, lambd=lambd, loss=loss, l1=l1)
        assert J == pytest.approx(Jr, rel=1e-12)
        for k in grads:
            np.testing.assert_allclose(grads[k], gr[k], rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize(("out", "loss", "n_y"), LOSS_CASES)
def test_weighted_gradient_matches_finite_differences(out, loss, n_y):
    rng = np.random.RandomState(3)
    X = rng.randn(3, 9)
    Y = _targets(out, n_y, 9, rng)
    w = rng.rand(9) * 3  # real-valued weights
    params = initialize_parameters([3, 5, n_y], random_state=4)
    acts = ["tanh", out]
    lambd = 0.3

    def J() -> float:
        AL, _ = model_forward(X, params, acts)
        return float(compute_cost(AL, Y, params, lambd, loss=loss, sample_weight=w))

    AL, caches = model_forward(X, params, acts)
    grads = model_backward(AL, Y, caches, lambd=lambd, loss=loss, sample_weight=w)
    for k in params:
        assert rel_diff(grads["d" + k], numerical_gradient(J, params[k])) < 1e-7, k


def test_weighted_cost_needs_per_example_terms():
    from nnlab.losses import Loss

    bare = Loss(lambda a, y: 0.0, lambda a, y: a - y, "identity")
    with pytest.raises(ValueError, match="per-example"):
        weighted_cost(bare, np.zeros((1, 2)), np.zeros((1, 2)), np.ones(2))


@pytest.mark.parametrize("bad, match", [
    (np.ones(5), r"shape \(5,\); expected \(4,\)"),
    (np.array([1.0, -1.0, 1.0, 1.0]), "negative"),
    (np.array([1.0, np.nan, 1.0, 1.0]), "NaN"),
    (np.zeros(4), "every weight is zero"),
    (np.array(["a", "b", "c", "d"]), "numbers"),
])
def test_check_sample_weight_refuses_bad_weights(bad, match):
    with pytest.raises(ValueError, match=match):
        check_sample_weight(bad, 4)


def test_check_sample_weight_takes_a_scalar_and_a_column():
    assert check_sample_weight(2, 3).tolist() == [2.0, 2.0, 2.0]
    assert check_sample_weight(np.ones((3, 1)), 3, np.float32).dtype == np.float32


def test_class_weights_balanced_and_dict():
    labels = np.array([0, 0, 0, 1, 2, 2])
    got = class_weights("balanced", labels, np.arange(3))
    counts = np.bincount(labels)
    np.testing.assert_allclose(got, 6 / (3 * counts[labels]))
    assert class_weights({1: 5.0}, labels, np.arange(3)).tolist() == [1, 1, 1, 5, 1, 1]
    with pytest.raises(ValueError, match="not among the classes"):
        class_weights({7: 1.0}, labels, np.arange(3))
    with pytest.raises(ValueError, match="dict or 'balanced'"):
        class_weights("uniform", labels, np.arange(3))


# --------------------------------------------------------------------------- train, both steppers


@pytest.mark.usefixtures("backend")
@pytest.mark.parametrize("fast", [False, "exact", True])
@pytest.mark.parametrize("optimizer", ["gd", "momentum", "adam"])
def test_train_integer_weights_equal_repeated_rows(fast, optimizer):
    X, Y, w = _data(40)
    kw = dict(layer_dims=[3, 5, 1], activations=["tanh", "sigmoid"], optimizer=optimizer,
              learning_rate=0.05, num_epochs=40, random_state=1, fast=fast, lambd=0.1)
    weighted = train(X, Y, sample_weight=w, **kw)
    repeated = train(*_repeat(X, Y, w), **kw)
    assert weighted.path in ("textbook", "numpy in place")  # never the compiled epochs
    np.testing.assert_allclose(weighted.costs, repeated.costs, rtol=1e-12)
    for k in weighted.params:
        np.testing.assert_allclose(weighted.params[k], repeated.params[k], rtol=1e-9, atol=1e-12)


@pytest.mark.usefixtures("backend")
def test_train_zero_weights_equal_dropped_rows_and_steppers_agree_bit_for_bit():
    X, Y, w = _data(40)
    w01 = (w > 0).astype(float)
    kw = dict(layer_dims=[3, 5, 1], activations=["relu", "sigmoid"], optimizer="adam",
              learning_rate=0.02, num_epochs=30, random_state=5, batch_size=8)
    textbook = train(X, Y, sample_weight=w, fast=False, **kw)
    in_place = train(X, Y, sample_weight=w, fast="exact", **kw)
    assert textbook.costs == in_place.costs  # mini-batches, shuffled: the same bits
    for k in textbook.params:
        np.testing.assert_array_equal(textbook.params[k], in_place.params[k])
    full = dict(kw, batch_size=None)
    dropped = train(X[:, w01 > 0], Y[:, w01 > 0], **full)
    zeroed = train(X, Y, sample_weight=w01, **full)
    for k in zeroed.params:
        np.testing.assert_allclose(zeroed.params[k], dropped.params[k], rtol=1e-10, atol=1e-13)


def test_train_weights_change_the_fit():
    X, Y, w = _data(40)
    kw = dict(layer_dims=[3, 5, 1], activations=["tanh", "sigmoid"], num_epochs=20,
              random_state=1, learning_rate=0.1)
    assert not np.allclose(train(X, Y, sample_weight=w, **kw).params["W1"],
                           train(X, Y, **kw).params["W1"])


def test_train_float32_weights_keep_float32():
    X, Y, w = _data(20)
    r = train(X.astype(np.float32), Y.astype(np.float32), [3, 4, 1], ["tanh", "sigmoid"],
              num_epochs=5, sample_weight=w, random_state=0, optimizer="adam")
    assert r.params["W1"].dtype == np.float32


# --------------------------------------------------------------------------- Model.fit


def _model():
    return Model([Dense(6, "tanh"), Dense(1, "sigmoid")], optimizer="adam", learning_rate=0.05,
                 random_state=3)


def test_model_fit_sample_weight_equals_repeated_rows_with_weighted_validation():
    rng = np.random.RandomState(0)
    X = rng.randn(60, 3)
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    w = rng.randint(0, 4, 60).astype(float)
    idx = np.repeat(np.arange(60), w.astype(int))
    a, b = _model(), _model()
    ha = a.fit(X, y, epochs=25, verbose=0, sample_weight=w, validation_data=(X, y, w))
    hb = b.fit(X[idx], y[idx], epochs=25, verbose=0, validation_data=(X[idx], y[idx]))
    for key in ("loss", "val_loss", "val_accuracy"):
        np.testing.assert_allclose(ha.history[key], hb.history[key], rtol=1e-10)
    for k in a.params:
        np.testing.assert_allclose(a.params[k], b.params[k], rtol=1e-9, atol=1e-12)


def test_model_fit_class_weight_is_a_weight_per_class():
    rng = np.random.RandomState(1)
    X = rng.randn(50, 3)
    y = (X[:, 0] > 0.7).astype(int)  # imbalanced
    a, b, c = _model(), _model(), _model()
    a.fit(X, y, epochs=10, verbose=0, class_weight={0: 1.0, 1: 4.0})
    b.fit(X, y, epochs=10, verbose=0, sample_weight=np.where(y == 1, 4.0, 1.0))
    c.fit(X, y, epochs=10, verbose=0)
    np.testing.assert_array_equal(a.params["W1"], b.params["W1"])
    assert not np.allclose(a.params["W1"], c.params["W1"])
    # balanced moves the outputs towards the rare class
    d = _model()
    d.fit(X, y, epochs=10, verbose=0, class_weight="balanced")
    assert d.predict_proba(X).mean() > c.predict_proba(X).mean()


def test_model_fit_class_weight_needs_a_classifier():
    m = Model([Dense(3, "tanh"), Dense(1, "identity")], random_state=0)
    with pytest.raises(ValueError, match="class_weight needs a classifier"):
        m.fit(np.ones((4, 2)), np.ones(4), verbose=0, class_weight="balanced")


# --------------------------------------------------------------------------- the estimators


def _cls_data():
    X, y = make_classification(200, 5, random_state=0)
    w = np.random.RandomState(0).randint(0, 4, 200).astype(float)
    return X, y, w


@pytest.mark.parametrize("solver", ["lbfgs", "gd", "adam", "sgd"])
def test_mlp_integer_weights_equal_repeated_rows(solver):
    X, y, w = _cls_data()
    idx = np.repeat(np.arange(200), w.astype(int))
    kw = dict(hidden_layer_sizes=(8,), solver=solver, max_iter=40, random_state=0,
              shuffle=False, batch_size=10**6 if solver != "lbfgs" else "auto")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = MLPClassifier(**kw).fit(X, y, sample_weight=w)
        b = MLPClassifier(**kw).fit(X[idx], y[idx])
    assert a.n_iter_ == b.n_iter_
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), atol=1e-7)


@needs_sklearn_17
@pytest.mark.parametrize("solver", ["lbfgs", "sgd", "adam"])
def test_mlp_classifier_weights_as_scikit_learn(solver):
    from sklearn.neural_network import MLPClassifier as SkMLP

    X, y, w = _cls_data()
    kw = dict(hidden_layer_sizes=(8,), solver=solver, max_iter=50, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = MLPClassifier(**kw).fit(X, y, sample_weight=w)
        theirs = SkMLP(**kw).fit(X, y, sample_weight=w)
    assert ours.n_iter_ == theirs.n_iter_
    assert ours.loss_ == pytest.approx(theirs.loss_, rel=1e-5)
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-5)


@needs_sklearn_17
def test_mlp_regressor_weights_as_scikit_learn():
    from sklearn.neural_network import MLPRegressor as SkMLP

    X, y = make_regression(150, 4, noise=5.0, random_state=1)
    y = y / 50
    w = np.random.RandomState(2).rand(150) * 2
    kw = dict(hidden_layer_sizes=(10,), solver="sgd", max_iter=40, random_state=0,
              learning_rate_init=0.01)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = MLPRegressor(**kw).fit(X, y, sample_weight=w)
        theirs = SkMLP(**kw).fit(X, y, sample_weight=w)
    assert ours.n_iter_ == theirs.n_iter_
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-7)
    assert ours.score(X, y, sample_weight=w) == pytest.approx(
        theirs.score(X, y, sample_weight=w), rel=1e-7)


@needs_sklearn_17
def test_weighted_early_stopping_as_scikit_learn():
    from sklearn.neural_network import MLPClassifier as SkMLP

    X, y, w = _cls_data()
    kw = dict(hidden_layer_sizes=(8,), early_stopping=True, random_state=0, max_iter=80)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = MLPClassifier(**kw).fit(X, y, sample_weight=w)
        theirs = SkMLP(**kw).fit(X, y, sample_weight=w)
    assert ours.n_iter_ == theirs.n_iter_
    np.testing.assert_allclose(ours.validation_scores_, theirs.validation_scores_, atol=1e-12)
    # the validation score is weighted: it differs from the unweighted one on the same split
    unweighted = MLPClassifier(**kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        unweighted.fit(X, y)
    assert ours.validation_scores_ != unweighted.validation_scores_


def test_partial_fit_and_logistic_regression_take_weights():
    X, y, w = _cls_data()
    a = MLPClassifier(hidden_layer_sizes=(5,), random_state=0, batch_size=50)
    b = MLPClassifier(hidden_layer_sizes=(5,), random_state=0, batch_size=50)
    a.partial_fit(X, y, classes=[0, 1], sample_weight=w)
    b.partial_fit(X, y, classes=[0, 1])
    assert not np.allclose(a.coefs_[0], b.coefs_[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        lr = LogisticRegression(max_iter=50).fit(X, y, sample_weight=w)
    assert 0.5 < lr.score(X, y, sample_weight=w) <= 1.0
    with pytest.raises(ValueError, match="negative"):
        MLPClassifier().fit(X, y, sample_weight=-w)


def test_metadata_routing_in_a_pipeline_and_cross_validate():
    X, y, w = _cls_data()
    with sklearn.config_context(enable_metadata_routing=True), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = (MLPClassifier(hidden_layer_sizes=(8,), max_iter=20, random_state=0)
               .set_fit_request(sample_weight=True).set_score_request(sample_weight=True))
        pipe = make_pipeline(StandardScaler().set_fit_request(sample_weight=False), clf)
        routed = pipe.fit(X, y, sample_weight=w)[-1]
        direct = MLPClassifier(hidden_layer_sizes=(8,), max_iter=20, random_state=0).fit(
            StandardScaler().fit_transform(X), y, sample_weight=w)
        np.testing.assert_array_equal(routed.coefs_[0], direct.coefs_[0])
        scores = cross_validate(pipe, X, y, params={"sample_weight": w}, cv=3)["test_score"]
    assert scores.shape == (3,) and np.all((scores >= 0) & (scores <= 1))


@pytest.mark.parametrize("kind", ["multiclass", "binary", "names"])
@pytest.mark.parametrize("balanced", [True, False])
def test_logistic_regression_class_weight_reaches_scikit_learns_coefficients(kind, balanced):
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression as SkLR

    X, y = load_iris(return_X_y=True)
    X, y = X[:120], y[:120]  # imbalanced: 50 / 50 / 20
    if kind == "binary":
        y = (y == 1).astype(int)
    elif kind == "names":
        y = np.array(["setosa", "versicolor", "virginica"])[y]
    cw = "balanced" if balanced else {y[-1]: 3.0}
    w = np.random.RandomState(0).rand(y.size) + 0.5
    kw = dict(C=0.5, tol=1e-10, max_iter=5000, class_weight=cw)
    ours = LogisticRegression(**kw).fit(X, y, sample_weight=w)
    theirs = SkLR(**kw).fit(X, y, sample_weight=w)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=1e-5)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, atol=1e-4)
    plain = LogisticRegression(C=0.5, tol=1e-10, max_iter=5000).fit(X, y, sample_weight=w)
    assert not np.allclose(ours.coef_, plain.coef_, atol=1e-3)


def test_logistic_regression_class_weight_in_partial_fit():
    X, y, _ = _cls_data()
    est = LogisticRegression(solver="sgd", class_weight={1: 5.0}, random_state=0)
    ref = LogisticRegression(solver="sgd", random_state=0)
    est.partial_fit(X, y, classes=[0, 1])
    ref.partial_fit(X, y, classes=[0, 1], sample_weight=np.where(y == 1, 5.0, 1.0))
    np.testing.assert_array_equal(est.coef_, ref.coef_)
    with pytest.raises(ValueError, match=r"balanced.*partial_fit"):
        LogisticRegression(solver="sgd", class_weight="balanced").partial_fit(X, y, classes=[0, 1])


def test_class_weight_refuses_multilabel_y():
    X = np.random.RandomState(0).randn(20, 3)
    Y = (X[:, :2] > 0).astype(int)
    with pytest.raises(ValueError, match="multilabel"):
        LogisticRegression(class_weight="balanced").fit(X, Y)


def test_balanced_class_weights_count_the_sample_weights():
    labels = np.array([0, 0, 1])
    w = np.array([1.0, 1.0, 4.0])
    # weighted counts 2 and 4, total 6: class 0 weighs 6 / (2 · 2), class 1 6 / (2 · 4)
    assert class_weights("balanced", labels, np.arange(2), w).tolist() == [1.5, 1.5, 0.75]
