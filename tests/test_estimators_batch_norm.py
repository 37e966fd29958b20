"""``MLPClassifier`` / ``MLPRegressor(batch_norm=True)``: scikit-learn's estimator checks, and
what batch norm changes (γ, β instead of b, no ``intercepts_``, stochastic solvers only)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks
from threadpoolctl import threadpool_limits

from nnlab import MLPClassifier, MLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(autouse=True)
def _one_blas_thread():
    with threadpool_limits(1):
        yield


ESTIMATORS = [
    MLPClassifier(hidden_layer_sizes=(20, 10), batch_norm=True, max_iter=100),
    MLPRegressor(hidden_layer_sizes=(20,), batch_norm=True, max_iter=100),
]


def _expected_failures(estimator) -> dict[str, str]:
    """The checks that cannot hold for batch norm, by design, and why."""
    why = ("a batch's μ and σ² are means over its rows: a row repeated k times counts k times "
           "in them, a row of weight k once, so the normalized Z and the fits differ")
    return {"check_sample_weight_equivalence_on_dense_data": why,
            "check_sample_weight_equivalence_on_sparse_data": why}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failures)
def test_scikit_learn_estimator_checks_with_batch_norm(estimator, check):
    check(estimator)


def _data(m=200, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(m, 3)
    return X, (X[:, 0] * X[:, 1] > 0).astype(int)


def test_batch_norm_is_a_parameter_that_clone_keeps():
    clf = MLPClassifier(batch_norm=[True, False], hidden_layer_sizes=(4, 3))
    assert clf.get_params()["batch_norm"] == [True, False]
    assert clone(clf).batch_norm == [True, False]
    assert MLPClassifier().batch_norm is False and MLPRegressor().batch_norm is False


def test_batch_normalized_classifier_trains_and_predicts_alone_as_in_a_batch():
    X, y = _data()
    clf = MLPClassifier(hidden_layer_sizes=(16, 8), batch_norm=True, learning_rate_init=0.02,
                        max_iter=60, random_state=0).fit(X, y)
    p = clf.model_.params
    assert {"gamma1", "beta1", "running_mean1", "gamma2"} <= set(p) and "b1" not in p
    assert clf.score(X, y) > 0.9
    alone = np.vstack([clf.predict_proba(X[i:i + 1]) for i in range(20)])
    np.testing.assert_allclose(alone, clf.predict_proba(X[:20]), rtol=1e-12, atol=1e-15)
    assert len(clf.coefs_) == 3
    with pytest.raises(AttributeError, match="batch-normalized layers have no b"):
        clf.intercepts_  # noqa: B018
    assert "batch norm" in clf.summary()


def test_batch_norm_per_hidden_layer():
    X, y = _data()
    clf = MLPClassifier(hidden_layer_sizes=(5, 4), batch_norm=[False, True], max_iter=5,
                        random_state=0).fit(X, y)
    assert clf.model_.batch_norm == [False, True]
    assert "b1" in clf.model_.params and "gamma2" in clf.model_.params


def test_partial_fit_with_batch_norm_moves_the_running_statistics():
    X, y = _data()
    reg = MLPRegressor(hidden_layer_sizes=(6,), batch_norm=True, random_state=0,
                       batch_size=50)
    reg.partial_fit(X, y.astype(float))
    first = reg.model_.params["running_mean1"].copy()
    reg.partial_fit(X, y.astype(float))
    assert not np.array_equal(reg.model_.params["running_mean1"], first)


@pytest.mark.parametrize("kwargs, message", [
    ({"batch_norm": "yes"}, "'batch_norm' parameter must be True or False"),
    ({"batch_norm": [True]}, "batch_norm has 1 entries but there are 2 hidden layers"),
    ({"batch_norm": True, "solver": "lbfgs"}, "batch_norm needs a stochastic solver"),
])
def test_bad_batch_norm_settings_are_refused(kwargs, message):
    X, y = _data(40)
    with pytest.raises(ValueError, match=message):
        MLPClassifier(hidden_layer_sizes=(3, 3), max_iter=2, **kwargs).fit(X, y)


def test_warm_start_refuses_to_switch_batch_norm():
    X, y = _data(40)
    clf = MLPClassifier(hidden_layer_sizes=(3,), max_iter=2, warm_start=True,
                        random_state=0).fit(X, y)
    clf.set_params(batch_norm=True)
    with pytest.raises(ValueError, match=r"continue a network with batch_norm=\[False\]"):
        clf.fit(X, y)
