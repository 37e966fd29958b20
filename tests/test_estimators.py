"""The scikit-learn estimators: scikit-learn's numbers, its errors, its tools, and nnlab's extras.

Run as a script (``python tests/test_estimators.py``) it prints the README's comparison table
with scikit-learn (5 seeds; the test below uses 3).
"""

from __future__ import annotations

import math
import pickle
import warnings

import numpy as np
import pytest
import sklearn.linear_model
import sklearn.neural_network
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import (
    load_breast_cancer,
    load_diabetes,
    load_digits,
    load_iris,
    load_wine,
)
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

import nnlab
from nnlab import LogisticRegression, MLPClassifier, MLPRegressor
from nnlab.callbacks import Callback, EarlyStopping
from nnlab.optimizers import apply_updates, gd, sgd
from numdiff import numerical_gradient, rel_diff


@pytest.fixture(autouse=True)
def _one_blas_thread():
    """One BLAS thread per test process: the suite runs with ``-n 2`` on shared cores, where
    OpenBLAS's threads on these small matrices spin against each other (measured 7x slower)."""
    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def diabetes():
    X, y = load_diabetes(return_X_y=True)
    return StandardScaler().fit_transform(X), (y - y.mean()) / y.std()


def _max_diff(a, b):
    return max(np.abs(p - q).max()
               for p, q in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_, strict=True))


# --------------------------------------------------------------------------------- the sgd rule
def test_sgd_optimizer_follows_scikit_learns_momentum_by_hand():
    params = {"W1": np.array([[1.0, -2.0]]), "b1": np.array([[0.5]])}
    grads = [{"dW1": np.array([[0.2, 0.4]]), "db1": np.array([[-1.0]])},
             {"dW1": np.array([[0.1, -0.3]]), "db1": np.array([[0.5]])}]
    for nesterov in (False, True):
        opt = sgd(learning_rate=0.1, momentum=0.9, nesterov=nesterov)
        state, p = opt.init(params), params
        v = {k: np.zeros_like(x) for k, x in params.items()}
        expected = {k: x.copy() for k, x in params.items()}
        for g in grads:
            updates, state = opt.update(g, state)
            p = apply_updates(p, updates)
            for k in v:
                v[k] = 0.9 * v[k] - 0.1 * g["d" + k]
                expected[k] = expected[k] + (0.9 * v[k] - 0.1 * g["d" + k] if nesterov else v[k])
        for k in p:
            np.testing.assert_allclose(p[k], expected[k], rtol=1e-15)
        assert state.t == 2
    # momentum 0 is plain gradient descent
    u0, _ = sgd(0.1, momentum=0.0).update(grads[0], sgd(0.1, momentum=0.0).init(params))
    u1, _ = gd(0.1).update(grads[0], gd(0.1).init(params))
    for k in u0:
        np.testing.assert_array_equal(u0[k], u1[k])
    with pytest.raises(ValueError, match="momentum"):
        sgd(0.1, momentum=1.5)


# ---------------------------------------------------------------- scikit-learn's very numbers
def test_initial_weights_are_scikit_learns(iris):
    """A learning rate of 1e-300 leaves the weights where they started, in both libraries."""
    X, y = iris
    kw = dict(hidden_layer_sizes=(7, 3), solver="sgd", momentum=0.0, learning_rate_init=1e-300,
              max_iter=1, random_state=42)
    for act in ("relu", "logistic"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            a = sklearn.neural_network.MLPClassifier(activation=act, **kw).fit(X, y)
            b = MLPClassifier(activation=act, **kw).fit(X, y)
        for p, q in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_, strict=True):
            np.testing.assert_array_equal(p, q)


SKLEARN_CASES = [
    # target, activation, solver settings
    ("multiclass", "relu", dict(momentum=0.9, nesterovs_momentum=True)),
    ("multiclass", "logistic", dict(momentum=0.5, nesterovs_momentum=False)),
    ("binary", "tanh", dict(momentum=0.9, nesterovs_momentum=True)),
    ("multilabel", "relu", dict(momentum=0.9, nesterovs_momentum=True)),
]


@pytest.mark.parametrize(("target", "activation", "solver_kw"), SKLEARN_CASES)
def test_sgd_trains_scikit_learns_numbers(iris, target, activation, solver_kw):
    """Same init, gradient (with alpha), update and stopping rule: the same weights after 40
    epochs up to rounding."""
    X, y = iris
    if target == "binary":
        y = (y == 1).astype(int)
    elif target == "multilabel":
        y = np.c_[y == 1, y == 2, X[:, 0] > 0].astype(int)
    kw = dict(hidden_layer_sizes=(6, 4), activation=activation, solver="sgd", alpha=0.01,
              batch_size=150, shuffle=False, max_iter=40, random_state=0, tol=1e-4,
              learning_rate_init=0.05, **solver_kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = sklearn.neural_network.MLPClassifier(**kw).fit(X, y)
        b = MLPClassifier(**kw).fit(X, y)
    assert _max_diff(a, b) < 1e-12
    np.testing.assert_allclose(b.loss_curve_, a.loss_curve_, rtol=1e-12)
    assert b.n_iter_ == a.n_iter_ and b.t_ == a.t_ and b.best_loss_ == pytest.approx(a.best_loss_)
    assert b.out_activation_ == a.out_activation_
    np.testing.assert_allclose(b.predict_proba(X), a.predict_proba(X), rtol=1e-10, atol=1e-12)


def test_regressor_with_learning_rate_schedules_trains_scikit_learns_numbers(diabetes):
    X, y = diabetes
    for lr in ("invscaling", "adaptive", "constant"):
        kw = dict(hidden_layer_sizes=(8,), solver="sgd", alpha=0.1, batch_size=442,
                  shuffle=False, max_iter=60, random_state=1, learning_rate=lr,
                  learning_rate_init=0.05, n_iter_no_change=2, tol=1e-3, power_t=0.25)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            a = sklearn.neural_network.MLPRegressor(**kw).fit(X, y)
            b = MLPRegressor(**kw).fit(X, y)
        assert b.n_iter_ == a.n_iter_, lr
        assert _max_diff(a, b) < 1e-12, lr
        np.testing.assert_allclose(b.loss_curve_, a.loss_curve_, rtol=1e-12)


def test_adam_is_close_to_scikit_learns(iris):
    """Adam differs only in where ε sits (see the module docstring): close, not equal."""
    X, y = iris
    kw = dict(hidden_layer_sizes=(6,), activation="tanh", batch_size=150, shuffle=False,
              max_iter=20, random_state=0, learning_rate_init=0.01)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = sklearn.neural_network.MLPClassifier(**kw).fit(X, y)
        b = MLPClassifier(**kw).fit(X, y)
    assert 0 < _max_diff(a, b) < 1e-4


def test_early_stopping_matches_scikit_learn(iris):
    X, y = iris
    kw = dict(hidden_layer_sizes=(5,), solver="sgd", batch_size=40, shuffle=False,
              max_iter=300, random_state=3, early_stopping=True, validation_fraction=0.2,
              learning_rate_init=0.05, n_iter_no_change=5)
    a = sklearn.neural_network.MLPClassifier(**kw).fit(X, y)
    b = MLPClassifier(**kw).fit(X, y)
    assert b.n_iter_ == a.n_iter_ < 300
    assert b.validation_scores_ == pytest.approx(a.validation_scores_)
    assert b.best_validation_score_ == a.best_validation_score_ and b.best_loss_ is None
    assert _max_diff(a, b) < 1e-12  # both restored the best weights


@pytest.mark.parametrize("C", [1.0, 0.05])
@pytest.mark.parametrize("binary", [True, False])
def test_logistic_regression_reaches_scikit_learns_coefficients(iris, C, binary):
    X, y = iris
    if binary:
        y = (y == 2).astype(int)
    a = sklearn.linear_model.LogisticRegression(C=C, tol=1e-10, max_iter=5000).fit(X, y)
    b = LogisticRegression(C=C, tol=1e-10, max_iter=5000).fit(X, y)
    assert b.coef_.shape == a.coef_.shape and b.intercept_.shape == a.intercept_.shape
    np.testing.assert_allclose(b.coef_, a.coef_, atol=1e-4)
    np.testing.assert_allclose(b.intercept_, a.intercept_, atol=1e-4)
    np.testing.assert_allclose(b.predict_proba(X), a.predict_proba(X), atol=1e-5)
    np.testing.assert_allclose(b.decision_function(X), a.decision_function(X), atol=1e-4)
    assert b.n_iter_.shape == (1,)


def test_logistic_regression_the_course_way(monkeypatch):
    """Gradient descent from zeros, full batch, no penalty: the course's logistic regression."""
    monkeypatch.setenv("NNLAB_EXACT", "1")  # bit for bit: no whole-epoch kernel
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    with pytest.warns(ConvergenceWarning):  # tol=0: it runs all 300 epochs
        clf = LogisticRegression(solver="gd", learning_rate_init=0.005, max_iter=300, C=np.inf,
                                 tol=0.0).fit(X, y)
    assert clf.n_iter_[0] == 300 and clf.score(X, y) > 0.95
    r = nnlab.train(X.T, y[None].astype(float), [30, 1], ["sigmoid"], init="zeros",
                    optimizer="gd", learning_rate=0.005, num_epochs=300, fast=False)
    np.testing.assert_array_equal(clf.coef_, r.params["W1"])
    np.testing.assert_allclose(clf.loss_curve_, r.costs, rtol=1e-12)


# ------------------------------------------------------------------------ finite differences
@pytest.mark.parametrize(
    ("est", "target"),
    [
        (MLPClassifier((5, 4), activation="tanh", alpha=0.3), "binary"),
        (MLPClassifier((5,), activation="logistic", alpha=0.3), "multiclass"),
        (MLPClassifier((4,), activation="relu", alpha=0.3), "multilabel"),
        (MLPRegressor((5,), activation="leaky_relu", alpha=0.3), "two outputs"),
        (LogisticRegression(C=0.5), "multiclass"),
    ],
)
def test_every_gradient_the_estimators_follow_is_checked(est, target):
    """The cost an estimator minimizes (its loss, output and alpha as λ) against finite
    differences, at the fitted weights; and the L-BFGS objective, flattening included."""
    rng = np.random.RandomState(0)
    X = rng.randn(30, 3)
    y = {"binary": (X[:, 0] > 0).astype(int), "multiclass": np.arange(30) % 3,
         "multilabel": (X[:, :2] > 0).astype(int),
         "two outputs": X[:, :2] ** 2}[target]
    est.set_params(max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    model = est.model_
    Y = est._label_binarizer.transform(y).T if hasattr(est, "classes_") else y.T
    Y = np.asarray(Y, dtype=float)
    # near a minimum the gradient is tiny and the relative difference measures rounding: move away
    params = {k: v + 0.3 * rng.randn(*v.shape) for k, v in model.params.items()}
    result = nnlab.gradient_check(params, X.T, Y, model.activations, lambd=model.l2,
                                  loss=model.loss)
    assert model.l2 == pytest.approx(est.alpha if hasattr(est, "alpha") else 1 / est.C)
    assert result.difference < 1e-7, result.report()
    objective = est._lbfgs_objective(X, Y.T, model.l2)
    theta = nnlab.params_to_vector(params)
    _, grad = objective(theta)
    approx = numerical_gradient(lambda: objective(theta)[0], theta)
    assert rel_diff(grad, approx) < 1e-7


# ------------------------------------------------------------------ targets and attributes
def test_binary_multiclass_multilabel_outputs(iris):
    X, y = iris
    kw = dict(hidden_layer_sizes=(8,), max_iter=50, random_state=0, learning_rate_init=0.01)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        labels = np.array(["setosa", "versicolor", "virginica"])[y]
        multi = MLPClassifier(**kw).fit(X, labels)
        binary = MLPClassifier(**kw).fit(X, labels == "virginica")
        Y = np.c_[y == 0, y == 2, X[:, 1] > 0].astype(int)
        multilabel = MLPClassifier(**kw).fit(X, Y)
    assert list(multi.classes_) == ["setosa", "versicolor", "virginica"]
    assert multi.out_activation_ == "softmax" and multi.n_outputs_ == 3
    assert set(multi.predict(X)) <= set(multi.classes_)
    np.testing.assert_allclose(multi.predict_proba(X).sum(axis=1), 1.0)
    assert binary.out_activation_ == "logistic" and binary.n_outputs_ == 1
    assert binary.predict_proba(X).shape == (150, 2) and binary.predict(X).dtype == bool
    assert multilabel.out_activation_ == "logistic" and multilabel.predict(X).shape == (150, 3)
    assert multilabel.predict_proba(X).shape == (150, 3)
    # attributes in scikit-learn's orientation
    assert [c.shape for c in multi.coefs_] == [(4, 8), (8, 3)]
    assert [b.shape for b in multi.intercepts_] == [(8,), (3,)]
    assert multi.n_layers_ == 3 and multi.n_iter_ == 50 and len(multi.loss_curve_) == 50
    assert multi.t_ == 50 * 150 and multi.validation_scores_ is None
    assert multi.best_loss_ == min(multi.loss_curve_)
    assert multi.history_.loss == multi.loss_curve_ and len(multi.history_.accuracy) == 50
    np.testing.assert_array_equal(multi.coefs_[1], multi.model_.params["W2"].T)
    assert "(8, 4)" in multi.summary()


def test_coefs_can_be_set_like_scikit_learns(iris):
    X, y = iris
    clf = MLPClassifier((4,), max_iter=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    clf.coefs_ = [np.zeros_like(c) for c in clf.coefs_]
    clf.intercepts_ = [np.array([0.0, 0, 0, 0]), np.array([0.0, 5.0, 0.0])]
    assert (clf.predict(X) == 1).all()


def test_float32_stays_float32(iris):
    X, y = iris
    clf = MLPClassifier((5,), max_iter=5, random_state=0)
    reg = MLPRegressor((5,), max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X.astype(np.float32), y)
        reg.fit(X.astype(np.float32), X[:, 0])
    assert all(c.dtype == np.float32 for c in clf.coefs_ + clf.intercepts_)
    assert clf.predict_proba(X.astype(np.float32)).dtype == np.float32
    assert reg.predict(X.astype(np.float32)).dtype == np.float32


def test_pickle_keeps_predictions_and_partial_fit_state(iris):
    X, y = iris
    clf = MLPClassifier((5,), solver="sgd", random_state=0)
    clf.partial_fit(X, y, classes=[0, 1, 2])
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))
    clf.partial_fit(X, y)
    again.partial_fit(X, y)
    assert _max_diff(again, clf) == 0.0


# ------------------------------------------------------------------------------ errors
@pytest.mark.parametrize("Est", [MLPClassifier, MLPRegressor, LogisticRegression])
def test_bad_input_gets_scikit_learns_messages(Est):
    X = np.random.RandomState(0).randn(20, 3)
    y = np.arange(20) % 2
    est = Est(max_iter=2)
    with pytest.raises(ValueError, match="Input X contains NaN"):
        est.fit(np.where(X > 1, np.nan, X), y)
    with pytest.raises(ValueError, match="Input X contains infinity"):
        est.fit(np.where(X > 1, np.inf, X), y)
    with pytest.raises(ValueError, match="Found array with 0 sample"):
        est.fit(X[:0], y[:0])
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        est.fit(X, y[:-1])
    with pytest.raises(ValueError, match="Expected 2D array, got 1D array"):
        est.fit(X[:, 0], y)
    with pytest.raises(ValueError, match="could not convert string to float"):
        est.fit(np.array([["a", "b", "c"]] * 20), y)
    with pytest.raises(NotFittedError):
        est.predict(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    with pytest.raises(ValueError, match=r"X has 2 features, but .* is expecting 3 features"):
        est.predict(X[:, :2])


def test_classifier_errors():
    X = np.random.RandomState(0).randn(20, 3)
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        MLPClassifier().fit(X, X[:, 0])
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        MLPClassifier().partial_fit(X, np.arange(20) % 2)
    clf = MLPClassifier(max_iter=2).partial_fit(X, np.arange(20) % 2, classes=[0, 1])
    with pytest.raises(ValueError, match=r"`y` has classes not in `self\.classes_`"):
        clf.partial_fit(X, np.arange(20) % 3)
    with pytest.raises(ValueError, match="partial_fit does not support early_stopping"):
        MLPClassifier(early_stopping=True).partial_fit(X, np.arange(20) % 2, classes=[0, 1])
    with pytest.raises(ValueError, match="The validation set is too small"):
        MLPRegressor(early_stopping=True, validation_fraction=0.01).fit(X, X[:, 0])
    assert not hasattr(MLPClassifier(solver="lbfgs"), "partial_fit")
    assert not hasattr(LogisticRegression(), "partial_fit")


@pytest.mark.parametrize(
    ("params", "match"),
    [
        (dict(hidden_layer_sizes=(5, 0)), r"hidden_layer_sizes must be > 0, got \[5, 0\]"),
        (dict(activation="swish"), "'activation' parameter must be one of"),
        (dict(activation=["relu", "tanh"]), "activation has 2 entries but there are 1 hidden"),
        (dict(solver="newton"), "'solver' parameter must be one of"),
        (dict(alpha=-1.0), r"'alpha' parameter must be in the range \[0.0, inf\]"),
        (dict(learning_rate_init=0.0), "'learning_rate_init' parameter must be in the range"),
        (dict(max_iter=0), "'max_iter' parameter must be in the range"),
        (dict(batch_size=0), "'batch_size' parameter must be in the range"),
        (dict(keep_prob=0.0), "'keep_prob' parameter must be in the range"),
        (dict(keep_prob=0.5, solver="lbfgs"), "needs a stochastic solver"),
        (dict(init="orthogonal"), "'init' parameter must be one of"),
        (dict(callbacks=[print]), "callbacks must be nnlab Callback objects"),
        (dict(learning_rate="cosine"), "'learning_rate' parameter must be one of"),
    ],
)
def test_bad_parameters_are_refused_at_fit(params, match):
    X = np.random.RandomState(0).randn(20, 3)
    est = MLPClassifier(**params)  # __init__ only stores
    with pytest.raises(ValueError, match=match):
        est.fit(X, np.arange(20) % 2)


def test_regressor_loss_other_than_squared_error_or_poisson_is_refused(diabetes):
    X, y = diabetes
    with pytest.raises(ValueError,
                       match="'loss' parameter must be one of 'squared_error', 'poisson'"):
        MLPRegressor(loss="gamma").fit(X, y)


@pytest.mark.parametrize(
    "solver, hyperparams",
    [
        ("sgd", {"learning_rate": 0.02, "momentum": 0.6, "nesterov": 0.0}),
        ("adam", {"learning_rate": 0.02, "beta1": 0.7, "beta2": 0.95, "epsilon": 1e-6}),
        ("momentum", {"learning_rate": 0.02, "beta": 0.6}),
        ("rmsprop", {"learning_rate": 0.02, "beta2": 0.95, "epsilon": 1e-6}),
        ("gd", {"learning_rate": 0.02}),
    ],
)
def test_every_stochastic_solver_is_an_optimizer_of_the_registry(solver, hyperparams):
    from nnlab.estimators import SOLVERS, STOCHASTIC_SOLVERS
    from nnlab.optimizers import OPTIMIZERS, registered_spec

    assert set(STOCHASTIC_SOLVERS) == set(OPTIMIZERS)
    assert set(SOLVERS) == {*OPTIMIZERS, "lbfgs"}
    est = MLPClassifier(solver=solver, learning_rate_init=0.02, momentum=0.6, beta_1=0.7,
                        beta_2=0.95, epsilon=1e-6, nesterovs_momentum=False)
    opt = est._make_optimizer(est._settings())
    assert registered_spec(opt) is OPTIMIZERS[solver]
    assert opt.hyperparams == hyperparams


def test_inverse_time_decay_without_a_rate_keeps_the_learning_rate():
    X = np.random.RandomState(0).randn(30, 3)
    clf = MLPClassifier((4,), learning_rate="inverse_time", decay_rate=0.0, decay_interval=2,
                        learning_rate_init=0.05, max_iter=4, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, np.arange(30) % 2)
    assert clf.history_.learning_rate == [0.05] * 4


# ------------------------------------------------------------------------ scikit-learn's tools
def test_pipeline_gridsearch_and_cross_val_score(iris):
    X, y = iris
    pipe = make_pipeline(StandardScaler(), MLPClassifier((8,), max_iter=80, random_state=0,
                                                         learning_rate_init=0.01))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        scores = cross_val_score(pipe, X, y, cv=3)
        search = GridSearchCV(pipe, {"mlpclassifier__alpha": [1e-4, 1.0],
                                     "mlpclassifier__keep_prob": [1.0, 0.8]}, cv=3).fit(X, y)
    assert scores.mean() > 0.85
    assert search.best_score_ > 0.85 and len(search.cv_results_["params"]) == 4


def test_pandas_dataframes_keep_feature_names():
    pd = pytest.importorskip("pandas")
    X, y = load_wine(return_X_y=True, as_frame=True)
    X = (X - X.mean()) / X.std()
    clf = MLPClassifier((10,), max_iter=30, random_state=0, learning_rate_init=0.01)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    assert list(clf.feature_names_in_) == list(X.columns) and clf.n_features_in_ == 13
    assert clf.score(X, y) > 0.9
    renamed = X.rename(columns={X.columns[0]: "something else"})
    with pytest.raises(ValueError, match="feature names should match"):
        clf.predict(renamed)
    assert isinstance(pd.Series(clf.predict(X)), pd.Series)


# --------------------------------------------------------------------------- nnlab's extras
def test_validation_set_passed_to_fit(iris):
    X, y = iris
    Xtr, Xval, ytr, yval = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
    kw = dict(hidden_layer_sizes=(8,), max_iter=40, random_state=0, learning_rate_init=0.02)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = MLPClassifier(**kw).fit(Xtr, ytr, X_val=Xval, y_val=yval)
    assert len(clf.validation_scores_) == clf.n_iter_ == 40
    assert clf.validation_scores_[-1] == clf.score(Xval, yval)
    assert len(clf.history_.val_loss) == 40 and len(clf.history_.val_accuracy) == 40
    assert clf.history_.val_accuracy[-1] == clf.validation_scores_[-1]
    # with early_stopping the given set replaces the split, and the best weights come back
    es = MLPClassifier(**{**kw, "max_iter": 300}, early_stopping=True, n_iter_no_change=5)
    es.fit(Xtr, ytr, X_val=Xval, y_val=yval)
    assert es.n_iter_ < 300 and es.score(Xval, yval) == es.best_validation_score_
    with pytest.raises(ValueError, match="pass both X_val and y_val"):
        MLPClassifier().fit(Xtr, ytr, X_val=Xval)


@pytest.mark.parametrize("solver", ["gd", "momentum", "rmsprop", "adam", "sgd", "lbfgs"])
def test_every_solver_learns(iris, solver):
    X, y = iris
    lr = {"gd": 0.5, "momentum": 0.5, "sgd": 0.1}.get(solver, 0.01)
    clf = MLPClassifier((8,), solver=solver, learning_rate_init=lr, max_iter=150,
                        random_state=0, batch_size=50)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    assert clf.score(X, y) > 0.9, solver
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]


def test_dropout_per_layer_activations_and_inits(iris):
    X, y = iris
    kw = dict(hidden_layer_sizes=(16, 8), activation=["relu", "tanh"], init="he",
              max_iter=60, random_state=0, learning_rate_init=0.01, batch_size=32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        plain = MLPClassifier(**kw).fit(X, y)
        dropped = MLPClassifier(**kw, keep_prob=[0.8, 0.9]).fit(X, y)
        again = MLPClassifier(**kw, keep_prob=[0.8, 0.9]).fit(X, y)
    assert plain.model_.activations == ["relu", "tanh", "softmax"]
    assert dropped.model_.keep_probs == [0.8, 0.9]
    assert [layer.init for layer in dropped.model_.layers] == ["he"] * 3
    assert _max_diff(dropped, again) == 0.0  # reproducible with a seed
    assert _max_diff(dropped, plain) > 0.0
    assert dropped.score(X, y) > 0.9


def test_learning_rate_decay_and_callbacks(iris):
    X, y = iris
    kw = dict(hidden_layer_sizes=(8,), solver="gd", learning_rate_init=0.2, max_iter=10,
              batch_size=None, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        inv = MLPClassifier(**kw, learning_rate="inverse_time", decay_rate=0.5,
                            decay_interval=2).fit(X, y)
        fn = MLPClassifier(**kw, learning_rate=lambda epoch: 0.1 * 0.9**epoch).fit(X, y)
    assert inv.history_.learning_rate == pytest.approx(
        [0.2 / (1 + 0.5 * (e // 2)) for e in range(10)])
    assert fn.history_.learning_rate == pytest.approx([0.1 * 0.9**e for e in range(10)])
    # adam ignores invscaling, as scikit-learn's does; other solvers follow it
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        adam = MLPClassifier(**{**kw, "solver": "adam"}, learning_rate="invscaling").fit(X, y)
        gd = MLPClassifier(**kw, learning_rate="invscaling").fit(X, y)
    assert set(adam.history_.learning_rate) == {0.2}
    assert gd.history_.learning_rate[1] == pytest.approx(0.2 / 151**0.5)

    class Count(Callback):
        epochs = 0

        def on_epoch_end(self, epoch, logs=None):
            Count.epochs += 1

    stopper = EarlyStopping(monitor="loss", patience=0, min_delta=10.0)
    clf = MLPClassifier(**{**kw, "max_iter": 50}, callbacks=[Count(), stopper]).fit(X, y)
    assert Count.epochs == clf.n_iter_ == 2 and stopper.stopped_epoch == 1


def test_partial_fit_and_warm_start(iris):
    X, y = iris
    clf = MLPClassifier((8,), random_state=0, learning_rate_init=0.01)
    for _ in range(5):
        clf.partial_fit(X, y, classes=np.unique(y))
    assert clf.n_iter_ == 1 and clf.t_ == 5 * 150 and len(clf.loss_curve_) == 5
    assert clf.loss_curve_[-1] < clf.loss_curve_[0] and len(clf.history_) == 5
    reg = MLPRegressor((8,), random_state=0, max_iter=5, warm_start=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(X, X[:, 0])
        first = [c.copy() for c in reg.coefs_]
        reg.fit(X, X[:, 0])
    assert len(reg.loss_curve_) == 10 and reg.loss_curve_[5] < reg.loss_curve_[0]
    assert not np.array_equal(first[0], reg.coefs_[0])
    with pytest.raises(ValueError, match="warm_start / partial_fit continue the network"):
        reg.set_params(hidden_layer_sizes=(3,)).fit(X, X[:, 0])


def test_convergence_warning_and_verbose(iris, capsys):
    X, y = iris
    with pytest.warns(ConvergenceWarning, match=r"Maximum iterations \(3\) reached"):
        MLPClassifier((4,), max_iter=3, random_state=0, verbose=True).fit(X, y)
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("Iteration 1, loss = ")
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        MLPClassifier((4,), max_iter=500, tol=0.5, random_state=0).fit(X, y)  # stops early


def test_no_global_random_state_is_touched(iris):
    X, y = iris
    np.random.seed(0)
    before = np.random.get_state()[1].copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        MLPClassifier((4,), max_iter=3, keep_prob=0.5, early_stopping=True).fit(X, y)
    np.testing.assert_array_equal(np.random.get_state()[1], before)


# ---------------------------------------------------------- accuracy next to scikit-learn's
#: data set → (loader, is regression, estimator settings shared by both libraries)
COMPARISON = {
    "digits": (load_digits, False, {}),
    "breast_cancer": (load_breast_cancer, False, {}),
    "wine": (load_wine, False, {}),
    "diabetes": (load_diabetes, True, {"early_stopping": True, "max_iter": 500}),
}


def compare_with_scikit_learn(name: str, seeds: range) -> dict[str, list[float]]:
    """Test accuracy (R² for diabetes) of both libraries' MLPs at the same settings: the
    defaults (hidden_layer_sizes=(100,), adam, alpha=1e-4, ...) behind a StandardScaler, a
    stratified 75/25 split per seed, ``random_state=seed`` (diabetes: target standardized too,
    early stopping)."""
    load, regression, settings = COMPARISON[name]
    X, y = load(return_X_y=True)
    scores: dict[str, list[float]] = {"scikit-learn": [], "nnlab": []}
    for seed in seeds:
        Xtr, Xte, ytr, yte = train_test_split(
            X, y, test_size=0.25, random_state=seed, stratify=None if regression else y)
        for lib, module in (("scikit-learn", sklearn.neural_network), ("nnlab", nnlab)):
            Est = module.MLPRegressor if regression else module.MLPClassifier
            model = make_pipeline(StandardScaler(), Est(random_state=seed, **settings))
            if regression:
                model = TransformedTargetRegressor(model, transformer=StandardScaler())
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                model.fit(Xtr, ytr)
            scores[lib].append(float(model.score(Xte, yte)))
    return scores


@pytest.mark.parametrize("name", list(COMPARISON))
def test_accuracy_within_noise_of_scikit_learn(name):
    scores = compare_with_scikit_learn(name, range(3))
    ours, theirs = np.array(scores["nnlab"]), np.array(scores["scikit-learn"])
    # within noise: the mean gap is below 0.02 accuracy (0.05 R²) and below the seeds' spread
    margin = 0.05 if COMPARISON[name][1] else 0.02
    gap = abs(ours.mean() - theirs.mean())
    assert gap <= max(margin, 2 * theirs.std()), (name, scores)
    assert ours.min() > (0.3 if COMPARISON[name][1] else 0.9)


if __name__ == "__main__":
    seeds = range(5)
    print(f"| data set | metric | scikit-learn MLP (mean ± sd, {len(seeds)} seeds) | nnlab |")
    print("| --- | --- | --- | --- |")
    for name in COMPARISON:
        with threadpool_limits(1):
            s = compare_with_scikit_learn(name, seeds)
        metric = "R²" if COMPARISON[name][1] else "accuracy"
        cells = [f"{np.mean(s[k]):.4f} ± {np.std(s[k]):.4f}" for k in ("scikit-learn", "nnlab")]
        print(f"| {name} | {metric} | {cells[0]} | {cells[1]} |")


class _EveryEpoch(Callback):
    """Reads the weights after every epoch: the estimator then makes one stepper call per
    epoch, as before many epochs could share a call."""

    def on_epoch_end(self, epoch, logs=None):
        assert self.model.params is not None


@pytest.mark.parametrize(("Est", "kw"), [
    (MLPClassifier, dict(solver="adam", n_iter_no_change=4, tol=3e-3, learning_rate_init=0.01)),
    (MLPClassifier, dict(solver="adam", n_iter_no_change=np.inf, max_iter=30)),
    (MLPClassifier, dict(solver="sgd", learning_rate="adaptive", n_iter_no_change=3,
                         tol=1e-2, learning_rate_init=0.1)),
    (MLPClassifier, dict(solver="sgd", learning_rate="invscaling", max_iter=25)),
    (MLPRegressor, dict(solver="adam", n_iter_no_change=5, tol=1e-4, batch_size=40)),
])
def test_the_stopping_rule_over_many_epochs_per_call_stops_where_it_would_per_epoch(
        iris, Est, kw):
    """scikit-learn's stopping rule lets the compiled stepper run ``n_iter_no_change + 1 -
    count`` epochs per call (it cannot fire sooner): the same epochs, losses, learning rates
    and weights, bit for bit, as one call per epoch."""
    X, y = iris
    target = y if Est is MLPClassifier else X[:, 0]
    fits = []
    for callbacks in (None, [_EveryEpoch()]):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est = Est(hidden_layer_sizes=(6,), random_state=0, callbacks=callbacks,
                      **{"max_iter": 200, **kw})
            fits.append(est.fit(X, target))
    chunked, per_epoch = fits
    assert chunked.n_iter_ == per_epoch.n_iter_
    assert chunked.loss_curve_ == per_epoch.loss_curve_
    assert chunked.history_.history == per_epoch.history_.history
    assert chunked.best_loss_ == per_epoch.best_loss_
    for a, b in zip(chunked.coefs_ + chunked.intercepts_,
                    per_epoch.coefs_ + per_epoch.intercepts_, strict=True):
        np.testing.assert_array_equal(a, b)


def test_the_stopping_rule_needs_few_stepper_calls(iris, monkeypatch):
    """Without validation scores the estimator's epochs share stepper calls: 60 epochs with
    ``n_iter_no_change=10`` take at most 60 / 11 + 1 calls (one per epoch before)."""
    from nnlab.fast import FastTrainer

    calls = []
    run = FastTrainer.run
    monkeypatch.setattr(FastTrainer, "run", lambda self, plan: calls.append(
        len(plan.orders)) or run(self, plan))
    X, y = iris
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = MLPClassifier(hidden_layer_sizes=(6,), max_iter=60, tol=0.0, random_state=0,
                            learning_rate_init=1e-3).fit(X.astype(np.float32), y)
    assert est.n_iter_ == 60 and sum(calls) == 60
    assert len(calls) <= 60 // 11 + 1


@pytest.mark.parametrize("y", [
    np.array([0, 1, 1, 0, 1]), np.array([True, False, True, True, False]),
    np.array([3, 1, 2, 3, 2], np.int8), np.array([7, 5, 5, 9, 7], np.uint16),
    np.array([2, 0, 1, 1, 0], np.int32),
])
def test_integer_labels_are_binarized_as_label_binarizer_does(y):
    """The lean label encoding of integer and boolean ``y`` equals ``LabelBinarizer``'s:
    ``classes_`` (values and dtype), ``y_type_`` and the encoded targets."""
    from sklearn.preprocessing import LabelBinarizer

    X = np.arange(10.0).reshape(5, 2)
    est = MLPClassifier()
    _, Y = est._validate_input(X, y, incremental=False, reset=True)
    reference = LabelBinarizer().fit(y)
    np.testing.assert_array_equal(est.classes_, reference.classes_)
    assert est.classes_.dtype == reference.classes_.dtype
    assert est._label_binarizer.y_type_ == reference.y_type_
    np.testing.assert_array_equal(Y, reference.transform(y).astype(float))
    np.testing.assert_array_equal(est._label_binarizer.inverse_transform(Y), y)


def test_a_single_class_fits_as_scikit_learns_mlp_does():
    """scikit-learn's MLPClassifier fits a ``y`` of one class and predicts it; so does nnlab's
    (its LogisticRegression, like scikit-learn's, refuses)."""
    X = np.random.RandomState(0).randn(30, 3)
    for y in (np.array(["a"] * 30), np.full(30, 7), np.ones(30, bool)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            ours = MLPClassifier(max_iter=30, random_state=0).fit(X, y)
            theirs = sklearn.neural_network.MLPClassifier(max_iter=30, random_state=0).fit(X, y)
        np.testing.assert_array_equal(ours.classes_, theirs.classes_)
        np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))
        assert ours.predict_proba(X).shape == theirs.predict_proba(X).shape == (30, 2)
    with pytest.raises(ValueError, match="only one class"):
        LogisticRegression().fit(X, np.ones(30))


def test_divergence_with_early_stopping_warns_and_keeps_the_best_weights():
    """As scikit-learn: with ``early_stopping=True`` a loss that diverges stops training with a
    warning, and the weights of the best validation score are kept; without it, an error."""
    X = np.random.RandomState(0).randn(40, 3) * 1e3
    y = np.array([True] * 20 + [False] * 20)
    kw = dict(max_iter=300, solver="sgd", learning_rate_init=10.0, momentum=0.9,
              n_iter_no_change=200, random_state=0)
    with pytest.warns(ConvergenceWarning, match="diverged at epoch"):
        est = MLPClassifier(early_stopping=True, **kw).fit(X, y)
    assert 1 <= est.n_iter_ < 300 and np.all(np.isfinite(est.loss_curve_))
    assert est.validation_scores_[int(np.argmax(est.validation_scores_))] == \
        est.best_validation_score_
    assert all(np.all(np.isfinite(c)) for c in est.coefs_)
    with pytest.raises(ValueError, match="non-finite"):
        MLPClassifier(early_stopping=False, **kw).fit(X, y)


def test_the_stratified_split_names_the_users_labels():
    """The early-stopping split stratifies on the user's labels (scikit-learn's message names
    ``False``, not ``0.0``), and splits exactly as stratifying on the encoded ones would."""
    X = np.random.RandomState(0).randn(40, 3)
    y = np.array([True] * 39 + [False])
    with pytest.raises(ValueError, match=r"too few members are: \[False\]"):
        MLPClassifier(early_stopping=True, random_state=0).fit(X, y)
    labels = np.where(np.arange(40) % 3 == 0, "spam", "ham")
    split_on = {}
    for name, stratify in (("labels", labels), ("encoded", (labels == "spam").astype(float))):
        split_on[name] = train_test_split(np.arange(40), random_state=np.random.RandomState(0),
                                          test_size=0.1, stratify=stratify)
    for a, b in zip(split_on["labels"], split_on["encoded"], strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("Est", [MLPClassifier, MLPRegressor])
def test_the_lean_validation_of_plain_arrays_is_scikit_learns(Est):
    """For plain float arrays of finite values the estimators skip scikit-learn's input checks
    (they cost more than a small network's training): the arrays and the recorded attributes
    are what ``validate_data`` gives; anything else still gets its checks and messages."""
    from sklearn.utils.validation import validate_data

    from nnlab.estimators import _validate_fit_data

    rng = np.random.RandomState(0)
    for dtype in (np.float64, np.float32):
        X = rng.randn(12, 3).astype(dtype)
        for y in (rng.randint(0, 3, 12), rng.randn(12), (rng.rand(12) > 0.5)):
            ours, theirs = Est(), Est()
            theirs.feature_names_in_ = ours.feature_names_in_ = np.array(["a", "b", "c"])
            got = _validate_fit_data(ours, X, y, True, "biuf")
            want = validate_data(theirs, X, y, multi_output=True, reset=True,
                                 dtype=(np.float64, np.float32))
            for a, b in zip(got, want, strict=True):
                assert a.dtype == b.dtype
                np.testing.assert_array_equal(a, b)
            assert ours.n_features_in_ == theirs.n_features_in_ == 3
            assert not hasattr(ours, "feature_names_in_") and not hasattr(
                theirs, "feature_names_in_")
    X = rng.randn(12, 3)
    X[2, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        Est().fit(X, rng.randint(0, 2, 12))


def test_the_validation_accuracy_is_accuracy_score(iris):
    """The early-stopping score of labels and predictions of one dtype skips
    ``accuracy_score``'s checks; it is the same number, for any kind of label."""
    from sklearn.metrics import accuracy_score

    X, y = iris
    for labels in (y, np.array(["setosa", "versicolor", "virginica"])[y], y == 1):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est = MLPClassifier(hidden_layer_sizes=(4,), max_iter=5, random_state=0).fit(
                X, labels)
        assert est._score_arrays(X, labels) == accuracy_score(labels, est.predict(X))
        assert est._score_arrays(X, list(labels)) == accuracy_score(labels, est.predict(X))


@pytest.mark.parametrize("y", [
    np.random.RandomState(0).randint(0, 2, 300),
    np.random.RandomState(1).randint(-5, 5, 77),
    np.array([7], np.int8),
    np.random.RandomState(2).rand(50) > 0.5,
    np.array([2**62, -2**62, 0]),
    np.random.RandomState(3).randint(0, 2**31, 40).astype(np.uint32),
    np.array([3, 3, 3], np.uint64),
    np.random.RandomState(4).randint(0, 3, 1000).astype(np.int16),
    np.array([2**40, -2**40, 2**40, 2**40]),
    np.ones(9, bool),
    np.array([-3, 4, 4, -3, -3], np.int8),
    np.array([0, 5, 5, 0, 3]),
], ids=["binary", "negative", "one-int8", "bool", "wide-range", "uint32", "uint64", "int16",
        "two-wide", "bool-one", "two-int8", "three-with-extremes"])
def test_labels_are_encoded_as_np_unique_encodes_them(y):
    """The estimators count small-range integer labels instead of sorting them: the classes
    (values and dtype) and each label's index are np.unique(y, return_inverse=True)'s."""
    from nnlab.estimators import _unique_labels

    classes, codes = _unique_labels(y)
    want_classes, want_codes = np.unique(y, return_inverse=True)
    assert classes.dtype == want_classes.dtype and np.array_equal(classes, want_classes)
    assert codes.dtype == want_codes.dtype and np.array_equal(codes, want_codes)


def test_the_no_improvement_count_of_many_epochs_is_scikit_learns_loop():
    """Many epochs' losses at once give scikit-learn's per-epoch count and best loss."""
    from nnlab.estimators import _count_no_improvement

    def per_epoch(losses, best, count, tol):  # scikit-learn's _update_no_improvement_count
        for loss in losses:
            count = count + 1 if loss > best - tol else 0
            best = min(best, loss)
        return best, count

    rng = np.random.RandomState(0)
    for trial in range(600):
        n = rng.randint(0, 120)
        if trial % 4 == 3:  # decreasing: no reset after the first
            losses = np.sort(rng.rand(n))[::-1].tolist()
        else:  # rounded to one digit: ties with the best so far
            losses = np.round(rng.rand(n) * 3, 1 if trial % 4 == 0 else 8).tolist()
        if trial % 5 == 4 and losses:  # a NaN: never worse than the best, never the best
            losses[rng.randint(len(losses))] = float("nan")
        best, tol = [np.inf, 0.5, 2.0][trial % 3], [0.0, 1e-4, 0.1][trial % 3]
        count = rng.randint(0, 5)
        got = _count_no_improvement(losses, best, count, tol)
        assert got == per_epoch(losses, best, count, tol)


@pytest.mark.parametrize("value, message", [
    (float("nan"), "in the range"), (-1e-3, "in the range"), (True, "must be a float"),
    ("0.1", "must be a float"), (np.array(0.1), "must be a float"), (np.array([0.1]), "a float"),
])
def test_a_setting_is_refused_every_time_it_is_given(value, message):
    """A refused value is refused on every fit, whatever the fits before it accepted, and an
    unhashable one gets the same message as any other that is not a number."""
    for _ in range(3):
        with pytest.raises(ValueError, match=message):
            MLPClassifier(alpha=value).fit([[0.0], [1.0]], [0, 1])


def test_settings_equal_as_numbers_but_of_other_types_are_checked_by_type():
    """1, 1.0 and True compare equal, but only an int is an int setting: accepting 3 first
    does not let 3.0 or True through, and the value given is the value returned (-0.0)."""
    from nnlab.estimators import _bounds, _check_number

    whole = _bounds(1, integer=True)
    assert _check_number("max_iter", 3, whole) == 3
    for bad in (3.0, True):
        with pytest.raises(ValueError, match="must be an int"):
            _check_number("max_iter", bad, whole)
    assert _check_number("max_iter", np.int32(3), whole) == 3
    value = -0.0
    assert _check_number("alpha", 0.0, _bounds(0.0)) == 0.0
    assert math.copysign(1.0, _check_number("alpha", value, _bounds(0.0))) == -1.0


@pytest.mark.parametrize("closed", ["both", "left", "right", "neither"])
@pytest.mark.parametrize("kind", [float, int])
def test_a_number_is_checked_against_its_interval_as_the_interval_says(closed, kind):
    """The inline check of plain numbers (bounds moved one float outwards at closed ends) lets
    through exactly what ``Interval.contains`` does: the ends, the floats next to them, ints
    and floats beyond, infinities and NaN."""
    from nnlab.estimators import _bounds, _check_number
    from nnlab.runs.config import Interval

    low, high = (0, 1) if kind is int else (0.25, 0.75)
    rule = _bounds(low, high, integer=kind is int, low_open=closed in ("right", "neither"),
                   high_open=closed in ("left", "neither"))
    interval = Interval(kind, low, high, closed, finite=False)
    assert rule[0] == interval
    near = [math.nextafter(low, -math.inf), math.nextafter(low, math.inf),
            math.nextafter(high, -math.inf), math.nextafter(high, math.inf)]
    values = [low, high, -5, 5, 0, 1, *near, math.inf, -math.inf, math.nan]
    for value in values:
        if kind is int and type(value) is float:
            continue  # (refused for their type)
        try:
            _check_number("x", value, rule)
            accepted = True
        except ValueError:
            accepted = False
        assert accepted == interval.contains(value), (closed, value)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_targets_beyond_float32_are_refused_for_float32_inputs():
    """y is cast to X's dtype: a float32 X with a y beyond float32's range would train on
    infinity, so fit refuses it (Model.fit's own check of y is not repeated by the estimator)."""
    X = np.linspace(0, 1, 8, dtype=np.float32).reshape(-1, 1)
    y = np.full(8, 1e300)
    with pytest.raises(ValueError, match="too large for X's dtype float32"):
        MLPRegressor(max_iter=2).fit(X, y)
    MLPRegressor(max_iter=2).fit(X.astype(np.float64), y / 1e290)  # (float64: no cast)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_a_validation_set_whose_targets_do_not_fit_the_network_is_refused():
    X = np.random.RandomState(0).rand(20, 2)
    with pytest.raises(ValueError, match="y_val has shape"):
        MLPRegressor(max_iter=2).fit(X, X, X_val=X, y_val=np.hstack([X, X]))
    with pytest.raises(ValueError, match="y_val contains NaN or infinity"):
        MLPRegressor(max_iter=2).fit(X, X[:, 0], X_val=X, y_val=np.full(20, np.inf))
