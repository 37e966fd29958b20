"""scikit-learn's own estimator checks, on every nnlab estimator, with no expected failures.

``max_iter=100`` for the MLPs is what scikit-learn's test suite sets for its own MLPs.
"""

from __future__ import annotations

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks
from threadpoolctl import threadpool_limits

from nnlab import LogisticRegression, MLPClassifier, MLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

@pytest.fixture(autouse=True)
def _one_blas_thread():
    """One BLAS thread per test process: the suite runs with ``-n 2`` on shared cores, where
    OpenBLAS's threads on these small matrices spin against each other (measured 7x slower)."""
    with threadpool_limits(1):
        yield


ESTIMATORS = [
    MLPClassifier(max_iter=100),
    MLPRegressor(max_iter=100),
    LogisticRegression(),
    # nnlab's own solvers and options go through the same checks
    MLPClassifier(hidden_layer_sizes=(20, 10), activation=["tanh", "relu"], solver="rmsprop",
                  init="he", max_iter=100),
    MLPClassifier(hidden_layer_sizes=(20,), keep_prob=0.9, max_iter=100),
]


def _expected_failures(estimator) -> dict[str, str]:
    """The one check (on dense and on sparse X) that cannot hold for dropout, by design, and
    why; none for the other estimators."""
    if getattr(estimator, "keep_prob", 1.0) < 1.0:
        why = ("dropout draws a mask per row: a row repeated k times gets k different masks, "
               "a row of weight k one, so the two fits differ (without dropout they agree)")
        return {f"check_sample_weight_equivalence_on_{kind}_data": why
                for kind in ("dense", "sparse")}
    return {}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failures)
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)
