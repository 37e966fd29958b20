"""The Poisson loss (issue 18): the ``exp`` output activation, half the Poisson deviance with its
canonical link (dZ[L] = A[L] - Y), the fast path's routing, and ``MLPRegressor(loss="poisson")``
against scikit-learn's (≥ 1.7)."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings

import numpy as np
import pytest
import sklearn
import sklearn.neural_network
from scipy.special import xlogy
from sklearn.exceptions import ConvergenceWarning

from cli_checks import one_line_error
from nnlab import Model
from nnlab.activations import ACTIVATIONS, HIDDEN_ACTIVATIONS, exp, exp_backward
from nnlab.engine import explain_path, train
from nnlab.estimators import MLPRegressor
from nnlab.files.models import load_model
from nnlab.gradcheck import gradient_check
from nnlab.initializers import initialize_parameters
from nnlab.losses import get_loss, poisson_deviance, poisson_gradient
from nnlab.model import Dense
from nnlab.network import model_backward, model_forward

SKLEARN_HAS_POISSON = tuple(int(p) for p in sklearn.__version__.split(".")[:2]) >= (1, 7)


def _counts(m: int = 300, n_x: int = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(m, n_x) features and Poisson counts with a log-linear mean."""
    rng = np.random.RandomState(seed)
    X = rng.randn(m, n_x)
    y = rng.poisson(np.exp(0.4 * X[:, 0] - 0.3 * X[:, 1] + 0.5)).astype(np.float64)
    return X, y


# -------------------------------------------------------------------------- the activation
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_exp_is_exact_below_its_ceiling_and_never_overflows(dtype):
    Z = np.array([[-1000.0, -3.0, 0.0, 2.5, 80.0, 1e4, np.inf]], dtype=dtype)
    with np.errstate(over="raise"):  # no overflow anywhere, not even a warning
        A = exp(Z)
        dZ = exp_backward(np.ones_like(Z), Z)
    assert A.dtype == dtype and dZ.dtype == dtype
    np.testing.assert_array_equal(A[0, :5], np.exp(Z[0, :5]))
    assert np.all(np.isfinite(A)) and np.all(A >= 0)
    assert A[0, -1] == A[0, -2] > np.finfo(dtype).max / 3  # clipped: the largest finite exp
    np.testing.assert_array_equal(dZ, A)  # exp is its own derivative


def test_exp_is_an_output_activation_not_a_hidden_one():
    assert "exp" in ACTIVATIONS and "exp" not in HIDDEN_ACTIVATIONS
    assert get_loss("poisson").link == "exp"
    assert Model([Dense(3, "tanh"), Dense(1, "exp")]).loss == "poisson"  # its natural loss


# -------------------------------------------------------------------------------- the loss
def test_the_cost_is_half_the_poisson_deviance():
    rng = np.random.RandomState(1)
    AL = rng.uniform(0.1, 5.0, (2, 40))
    Y = rng.poisson(2.0, (2, 40)).astype(np.float64)  # zeros included: y log y = 0 there
    assert (Y == 0).any()
    expected = np.sum(xlogy(Y, Y / AL) - Y + AL) / 40
    assert float(poisson_deviance(AL, Y)) == pytest.approx(expected, rel=1e-13)
    assert float(poisson_deviance(Y + 0.0, Y)) == pytest.approx(0.0, abs=1e-15)  # a perfect fit
    # the negative log-likelihood up to a constant in a: the same gradient
    nll = np.sum(AL - Y * np.log(AL)) / 40
    constant = np.sum(xlogy(Y, Y) - Y) / 40
    assert float(poisson_deviance(AL, Y)) == pytest.approx(nll + constant, rel=1e-13)


def test_the_loss_gradient_is_its_finite_difference():
    rng = np.random.RandomState(2)
    AL = rng.uniform(0.2, 3.0, (1, 12))
    Y = rng.poisson(1.5, (1, 12)).astype(np.float64)
    eps, m = 1e-6, AL.shape[1]
    numeric = np.zeros_like(AL)
    for j in range(m):
        plus, minus = AL.copy(), AL.copy()
        plus[0, j] += eps
        minus[0, j] -= eps
        numeric[0, j] = (poisson_deviance(plus, Y) - poisson_deviance(minus, Y)) / (2 * eps)
    np.testing.assert_allclose(poisson_gradient(AL, Y) / m, numeric, rtol=1e-6)


def test_gradient_check_of_a_poisson_network():
    X, y = _counts(m=25, n_x=3)
    params = initialize_parameters([3, 5, 4, 1], "xavier", random_state=0)
    result = gradient_check(params, X.T, y[None, :], ["tanh", "sigmoid", "exp"], lambd=0.1)
    assert result.verdict == "passed", result.report()


def test_fused_output_error_equals_the_general_path():
    """dZ[L] = A - Y (the canonical link) equals dA[L] * exp'(Z[L]) = (1 - y/a) a."""
    X, y = _counts(m=50, n_x=3)
    params = initialize_parameters([3, 4, 1], "xavier", random_state=1)
    AL, caches = model_forward(X.T, params, ["tanh", "exp"])
    fused = model_backward(AL, y[None, :], caches, loss="poisson", fused=True)
    general = model_backward(AL, y[None, :], caches, loss="poisson", fused=False)
    for k in fused:
        np.testing.assert_allclose(fused[k], general[k], rtol=1e-12, atol=1e-14)


def test_the_fast_path_sends_poisson_to_the_textbook_and_says_why():
    kw = dict(optimizer="adam", dtype=np.float64, dims=[3, 4, 1])
    path = explain_path(activations=["tanh", "exp"], **kw)
    assert path.name == "textbook" and "'exp'" in path.reason
    path = explain_path(activations=["tanh", "identity"], loss="poisson", **kw)
    assert path.name == "textbook" and "'poisson'" in path.reason
    X, y = _counts(m=200, n_x=3)
    result = train(X.T, y[None, :], [3, 6, 1], ["tanh", "exp"], optimizer="adam",
                   learning_rate=0.01, num_epochs=200, random_state=0)
    assert result.path == "textbook"
    assert result.costs[-1] < 0.8 * result.costs[0]


# --------------------------------------------------------------------------- negative targets
def test_negative_targets_are_refused_everywhere():
    X, y = _counts(m=30, n_x=2)
    y[3] = -1.0
    message = r"loss='poisson' requires non-negative y"
    with pytest.raises(ValueError, match=message):
        train(X.T, y[None, :], [2, 3, 1], ["tanh", "exp"], num_epochs=1)
    with pytest.raises(ValueError, match=message):
        Model([Dense(3, "tanh"), Dense(1, "exp")]).fit(X, y, epochs=1, verbose=0)
    with pytest.raises(ValueError, match=message):
        MLPRegressor(loss="poisson", max_iter=2).fit(X, y)
    # zero counts are fine
    y[3] = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        MLPRegressor(loss="poisson", hidden_layer_sizes=(3,), max_iter=2, solver="lbfgs").fit(
            X, y)


# ------------------------------------------------------------------------ against scikit-learn
def _fit_both(X, y, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        theirs = sklearn.neural_network.MLPRegressor(loss="poisson", **kw).fit(X, y)
        ours = MLPRegressor(loss="poisson", **kw).fit(X, y)
    return theirs, ours


def _max_diff(a, b) -> float:
    return max(float(np.max(np.abs(p - q)))
               for p, q in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_, strict=True))


@pytest.mark.skipif(not SKLEARN_HAS_POISSON, reason="scikit-learn < 1.7 has no loss='poisson'")
def test_sgd_trains_scikit_learns_numbers():
    """Same init, exp output, half deviance (+ alpha's L2), gradient, update and stopping rule:
    the same weights, losses and n_iter_ up to rounding."""
    X, y = _counts()
    theirs, ours = _fit_both(X, y, hidden_layer_sizes=(6,), activation="tanh", solver="sgd",
                             alpha=0.01, batch_size=300, shuffle=False, max_iter=60,
                             random_state=0, learning_rate_init=0.01, momentum=0.9)
    assert ours.out_activation_ == theirs.out_activation_ == "exp"
    assert ours.n_iter_ == theirs.n_iter_ and ours.t_ == theirs.t_
    assert _max_diff(theirs, ours) < 1e-12
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-12)
    np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-10)
    assert ours.score(X, y) == pytest.approx(theirs.score(X, y), rel=1e-10)
    assert np.all(ours.predict(X) > 0)


@pytest.mark.skipif(not SKLEARN_HAS_POISSON, reason="scikit-learn < 1.7 has no loss='poisson'")
def test_lbfgs_reaches_scikit_learns_weights():
    X, y = _counts()
    theirs, ours = _fit_both(X, y, hidden_layer_sizes=(6,), activation="tanh", solver="lbfgs",
                             alpha=0.01, max_iter=60, random_state=0)
    assert ours.n_iter_ == theirs.n_iter_
    assert _max_diff(theirs, ours) < 1e-7
    assert ours.loss_ == pytest.approx(theirs.loss_, rel=1e-9)
    assert np.all(ours.predict(X) > 0)


@pytest.mark.skipif(not SKLEARN_HAS_POISSON, reason="scikit-learn < 1.7 has no loss='poisson'")
def test_adam_scores_within_noise_of_scikit_learn():
    """Adam differs in where ε sits (see nnlab.estimators): close, not equal."""
    X, y = _counts()
    theirs, ours = _fit_both(X, y, hidden_layer_sizes=(8,), solver="adam", max_iter=80,
                             random_state=0, learning_rate_init=0.01)
    assert ours.score(X, y) == pytest.approx(theirs.score(X, y), abs=0.02)
    assert np.all(ours.predict(X) > 0)


# ----------------------------------------------------------------------------- the command line
def test_cli_trains_a_poisson_regression_and_refuses_negative_rates(tmp_path):
    rng = np.random.RandomState(0)
    X = rng.randn(200, 2)
    rates = rng.gamma(2.0, np.exp(0.5 * X[:, 0]))  # real-valued y >= 0: a regression
    header = "a,b,rate"
    np.savetxt(tmp_path / "rates.csv", np.c_[X, rates], delimiter=",", header=header,
               comments="")
    np.savetxt(tmp_path / "neg.csv", np.c_[X, rates - 2], delimiter=",", header=header,
               comments="")

    def nnlab(*args):
        return subprocess.run([sys.executable, "-m", "nnlab", "train", *args], cwd=tmp_path,
                              capture_output=True, text=True, timeout=180)

    out = nnlab("rates.csv", "--output", "exp", "--epochs", "30", "--json", "--save", "m")
    assert out.returncode == 0, out.stderr
    run = json.loads(out.stdout)
    assert run["config"]["output"] == "exp"
    assert run["loss_curve"][-1] < run["loss_curve"][0]
    model = load_model(tmp_path / "m" / "model.npz")
    assert model.loss == "poisson" and model.activations[-1] == "exp"
    line = one_line_error(nnlab("neg.csv", "--output", "exp", "--epochs", "2"))
    assert "loss='poisson' requires non-negative y" in line
