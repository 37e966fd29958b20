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
                  keep_prob=0.9, init="he", max_iter=100),
]


@parametrize_with_checks(ESTIMATORS)
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)
