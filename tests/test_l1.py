"""L1 regularization: the term (λ1/m) Σ_l ||W[l]||₁ and its subgradient (λ1/m) sign(W), through
the engine (textbook and fast steppers, both fast backends) and every way in (Model, TrainConfig,
``nnlab train --l1``, the sweeps)."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest

from cli_checks import one_line_error
from nnlab import Model
from nnlab.engine import train
from nnlab.fast.path import DUAL, explain_path
from nnlab.files.models import load_model, save_model
from nnlab.gradcheck import gradient_check
from nnlab.initializers import initialize_parameters
from nnlab.layers import LinearCache, linear_backward
from nnlab.losses import l1_gradient, l1_penalty
from nnlab.model import Dense
from nnlab.network import compute_cost, model_backward, model_forward
from nnlab.runs.config import ConfigError, TrainConfig
from nnlab.sweep.spec import expand, parse_spec


def _data(n_x: int = 3, m: int = 120, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.RandomState(seed)
    X = rng.randn(n_x, m)
    Y = (X[0:1] * X[1:2] > 0).astype(np.float64)
    return X, Y


def _nonzero_params(dims: list[int], seed: int = 1) -> dict[str, np.ndarray]:
    """Parameters whose weights are all at least 0.1 away from 0 (|w| is smooth there)."""
    params = initialize_parameters(dims, "xavier", random_state=seed)
    for k in params:
        if k.startswith("W"):
            W = params[k]
            params[k] = np.where(W >= 0, W + 0.1, W - 0.1)
    return params


# ------------------------------------------------------------------------------- the formulas
def test_penalty_and_gradient_formulas():
    W = np.array([[1.5, -2.0, 0.0], [0.25, -0.0, -1.0]])
    params = {"W1": W, "b1": np.full((2, 1), 100.0)}  # biases are not penalized
    assert l1_penalty(params, 0.6, 4) == pytest.approx(0.6 / 4 * 4.75)
    assert l1_penalty(params, 0.0, 4) == 0.0
    np.testing.assert_array_equal(
        l1_gradient(W, 0.6, 4), [[0.15, -0.15, 0.0], [0.15, 0.0, -0.15]])


def test_cost_adds_the_l1_term_to_the_loss_and_the_l2_term():
    X, Y = _data()
    params = _nonzero_params([3, 4, 1])
    AL, _ = model_forward(X, params, ["tanh", "sigmoid"])
    base = compute_cost(AL, Y, params, 0.3)
    with_l1 = compute_cost(AL, Y, params, 0.3, l1=0.2)
    total = sum(np.abs(params[k]).sum() for k in ("W1", "W2"))
    assert float(with_l1 - base) == pytest.approx(0.2 / X.shape[1] * total, rel=1e-12)
    with pytest.raises(ValueError, match="needs params for the L1 term"):
        compute_cost(AL, Y, None, l1=0.2)


def test_l1_gradient_is_the_finite_difference_of_the_cost_away_from_zero():
    """The term's gradient alone: ∂/∂W of (λ1/m) Σ|W| by central differences, every weight."""
    X, Y = _data(m=40)
    params = _nonzero_params([3, 5, 4, 1])
    acts = ["tanh", "tanh", "sigmoid"]
    l1, eps = 0.7, 1e-6
    AL, caches = model_forward(X, params, acts)
    dW_l1 = model_backward(AL, Y, caches, l1=l1)
    dW_0 = model_backward(AL, Y, caches)
    m = X.shape[1]
    for k in ("W1", "W2", "W3"):
        W = params[k]
        numeric = np.zeros_like(W)
        for idx in np.ndindex(*W.shape):
            plus, minus = dict(params), dict(params)
            plus[k], minus[k] = W.copy(), W.copy()
            plus[k][idx] += eps
            minus[k][idx] -= eps
            numeric[idx] = (l1_penalty(plus, l1, m) - l1_penalty(minus, l1, m)) / (2 * eps)
        np.testing.assert_allclose(dW_l1[f"d{k}"] - dW_0[f"d{k}"], numeric, rtol=1e-6, atol=1e-9)
    for k in ("db1", "db2", "db3"):  # biases are not penalized
        np.testing.assert_array_equal(dW_l1[k], dW_0[k])


def test_gradient_check_of_the_whole_cost_with_l1_and_l2():
    X, Y = _data(m=30)
    params = _nonzero_params([3, 5, 1])
    result = gradient_check(params, X, Y, ["tanh", "sigmoid"], lambd=0.2, l1=0.5)
    assert result.verdict == "passed", result.report()
    # a broken L1 gradient (the sign flipped) is caught: the check can fail

    def flipped(p, X_, Y_):
        AL, caches = model_forward(X_, p, ["tanh", "sigmoid"])
        grads = model_backward(AL, Y_, caches)
        for k in ("W1", "W2"):
            grads[f"d{k}"] = grads[f"d{k}"] - l1_gradient(p[k], 0.5, X_.shape[1])
        return grads

    broken = gradient_check(params, X, Y, ["tanh", "sigmoid"], l1=0.5, grad_fn=flipped)
    assert broken.verdict == "wrong"


def test_the_subgradient_is_zero_at_zero():
    """A weight that is exactly 0 gets no L1 push (sign(0) = 0, also for -0.0), the others
    ±λ1/m."""
    rng = np.random.RandomState(2)
    A_prev, dZ = rng.randn(3, 8), rng.randn(2, 8)
    W = np.array([[0.0, 0.4, -0.0], [-0.3, 0.0, 1.2]])
    cache = LinearCache(A_prev, W, np.zeros((2, 1)))
    _, dW0, db0 = linear_backward(dZ, cache)
    _, dW1, db1 = linear_backward(dZ, cache, l1=0.8)
    np.testing.assert_array_equal(dW1[W == 0], dW0[W == 0])  # exactly: no push at 0
    np.testing.assert_allclose(dW1 - dW0, [[0.0, 0.1, 0.0], [-0.1, 0.0, 0.1]], rtol=1e-12)
    np.testing.assert_array_equal(db1, db0)


# -------------------------------------------------------------------- textbook == fast path
def _assert_same(a, b, exact: bool, dtype) -> None:
    assert a.epochs == b.epochs
    if exact:
        assert a.costs == b.costs
        for k in a.params:
            np.testing.assert_array_equal(a.params[k], b.params[k], err_msg=k)
    else:
        tol = dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-9, atol=1e-11)
        np.testing.assert_allclose(b.costs, a.costs, **tol)
        for k in a.params:
            np.testing.assert_allclose(b.params[k], a.params[k], **tol, err_msg=k)


@pytest.mark.usefixtures("backend")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("optimizer", ["gd", "momentum", "rmsprop", "adam"])
@pytest.mark.parametrize("regularization", [{"l1": 0.05}, {"l1": 0.03, "lambd": 0.2},
                                            {"l1": 0.02, "keep_probs": 0.8}],
                         ids=["l1", "l1+l2", "l1+dropout"])
@pytest.mark.parametrize("batch_size", [None, 32], ids=["full", "mini"])
def test_fast_paths_equal_the_textbook_with_l1(dtype, optimizer, regularization, batch_size):
    """``fast="exact"`` gives the textbook's numbers bit for bit; ``fast=True`` (whole epochs
    compiled on this small network with Numba) to rounding."""
    X, Y = _data()
    kw = dict(optimizer=optimizer, learning_rate=0.01, num_epochs=12, batch_size=batch_size,
              random_state=3, **regularization)
    args = (X.astype(dtype), Y, [3, 6, 4, 1], ["relu", "tanh", "sigmoid"])
    textbook = train(*args, fast=False, **kw)
    exact = train(*args, fast="exact", **kw)
    fast = train(*args, fast=True, **kw)
    assert exact.path != "textbook" and fast.path != "textbook"
    _assert_same(textbook, exact, True, dtype)
    _assert_same(textbook, fast, False, dtype)
    # and the L1 term did something
    without = train(*args, fast=False, **{**kw, "l1": 0.0})
    assert not np.array_equal(without.params["W1"], textbook.params["W1"])


@pytest.mark.parametrize("optimizer", ["gd", "momentum", "rmsprop", "adam"])
def test_compiled_updates_give_numpys_l1_term_bit_for_bit(optimizer):
    """The compiled update's L1 term is NumPy's ``(λ1 * np.sign(W)) / m`` bit for bit, signed
    zeros and NaN included (NumPy's sign(-0.0) is +0.0, Numba's np.sign keeps -0.0)."""
    from nnlab.fast import kernels

    if not kernels.available():
        pytest.skip("numba is not installed")
    theta0 = np.array([-0.0, 0.0, 0.5, -2.0, np.nan, -0.0, 3.0, 1e-300])
    g0 = np.array([-0.0, -0.0, 1.0, -0.0, 0.2, 0.0, -4.0, 0.0])
    n = theta0.size
    hp = np.zeros(kernels.HP_SIZE)
    m, l1, lr = 4.0, 0.3, 0.1
    hp[kernels.INV_M], hp[kernels.M], hp[kernels.ALPHA] = 1 / m, m, lr
    hp[kernels.BETA1], hp[kernels.ONE_MINUS_BETA1] = 0.9, 0.1
    hp[kernels.BETA2], hp[kernels.ONE_MINUS_BETA2] = 0.99, 0.01
    hp[kernels.C1], hp[kernels.C2], hp[kernels.EPS], hp[kernels.LAMBD1] = 0.1, 0.01, 1e-8, l1
    theta, g = theta0.copy(), g0.copy()
    v, s = np.full(n, 0.25), np.full(n, 0.5)
    with np.errstate(invalid="ignore"):
        kernels.update(optimizer, theta, g, v, s, hp, n, False, True)
        expected = g0 * (1 / m) + (l1 * np.sign(theta0)) / m
    np.testing.assert_array_equal(g, expected)
    np.testing.assert_array_equal(np.signbit(g), np.signbit(expected))


def test_l1_drives_more_weights_to_zero_than_l2():
    """Two of ten inputs matter: L1 sets most first-layer weights of the other eight to
    (near) zero; L2, even at a strength that costs more on the data, only shrinks them."""
    rng = np.random.RandomState(0)
    X = rng.randn(10, 200)
    Y = (X[0:1] + X[1:2] > 0).astype(np.float64)
    kw = dict(optimizer="gd", learning_rate=0.1, num_epochs=3000, random_state=0,
              init="xavier")
    r1 = train(X, Y, [10, 4, 1], ["tanh", "sigmoid"], l1=0.5, **kw)
    r2 = train(X, Y, [10, 4, 1], ["tanh", "sigmoid"], lambd=1.0, **kw)
    near_zero_l1 = int(np.sum(np.abs(r1.params["W1"]) < 1e-2))
    near_zero_l2 = int(np.sum(np.abs(r2.params["W1"]) < 1e-2))
    assert near_zero_l1 >= 15 and near_zero_l1 > 3 * near_zero_l2, (near_zero_l1, near_zero_l2)


def test_the_dual_first_layer_is_not_used_with_l1():
    """Carrying W[1] in the span of the data is exact for plain descent only: not with L1."""
    kw = dict(optimizer="gd", dtype=np.float64, activations=["relu", "sigmoid"],
              dims=[5000, 4, 1], m=10, watched=False, fast=True)
    assert explain_path(**kw).name == DUAL
    assert explain_path(**kw, l1=0.1).name != DUAL


# ------------------------------------------------------------------------------- bad values
@pytest.mark.parametrize("bad", [-0.1, math.nan, math.inf, "0.1", True])
def test_a_bad_l1_is_one_clear_error(bad):
    X, Y = _data(m=20)
    with pytest.raises(ValueError, match=r"^l1=.* must be (a number|finite and) >= 0$"):
        train(X, Y, [3, 2, 1], num_epochs=1, l1=bad)
    with pytest.raises(ValueError, match=r"^l1="):
        Model([Dense(2, "tanh"), Dense(1, "sigmoid")], l1=bad)
    with pytest.raises(ConfigError, match="l1"):
        TrainConfig(l1=bad)


# ----------------------------------------------------------------------------- the ways in
def test_model_l1_trains_shows_in_the_summary_and_survives_save_and_load(tmp_path):
    X, Y = _data()
    model = Model([Dense(4, "tanh"), Dense(1, "sigmoid")], l1=0.05, optimizer="gd",
                  learning_rate=0.1, random_state=0)
    model.fit(X.T, Y.ravel(), epochs=5, verbose=0)
    assert "L1 λ1 = 0.05" in model.summary()
    same = Model([Dense(4, "tanh"), Dense(1, "sigmoid")], optimizer="gd", learning_rate=0.1,
                 random_state=0)
    same.fit(X.T, Y.ravel(), epochs=5, verbose=0)
    assert "L1" not in same.summary()
    assert not np.array_equal(model.params["W1"], same.params["W1"])
    # Model.fit is train's stepper: the same numbers as the engine's train
    ref = train(X, Y, params=Model([Dense(4, "tanh"), Dense(1, "sigmoid")], random_state=0,
                                   input_dim=3).params,
                activations=["tanh", "sigmoid"], optimizer="gd", learning_rate=0.1,
                num_epochs=5, l1=0.05)
    np.testing.assert_allclose(model.params["W1"], ref.params["W1"], rtol=1e-9, atol=1e-12)
    save_model(model, tmp_path / "m.nnlab")
    loaded = load_model(tmp_path / "m.nnlab")
    assert loaded.l1 == 0.05


def test_train_config_has_l1_and_leaves_it_out_at_its_default():
    assert TrainConfig(l1=0.01).to_dict()["l1"] == 0.01
    assert "l1" not in TrainConfig().to_dict()  # runs and sweep ids from before L1 unchanged
    assert "l1" not in TrainConfig(l1=0).to_dict()


def test_sweep_axis_l1():
    spec = parse_spec("""
[sweep]
seeds = 1
metric = "train.accuracy"
[base]
dataset = "moons"
epochs = 2
[grid]
l1 = [0.0, 0.01]
""")
    trials = expand(spec)
    assert [t.point.label for t in trials] == ["l1=0", "l1=0.01"]
    assert [t.config.get("l1", 0.0) for t in trials] == [0.0, 0.01]


def _nnlab(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nnlab", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=180)


def test_cli_train_l1(tmp_path):
    common = ["train", "moons", "--epochs", "5", "--layers", "6", "--json"]
    with_l1 = _nnlab(*common, "--l1", "0.05", cwd=tmp_path)
    assert with_l1.returncode == 0, with_l1.stderr
    without = _nnlab(*common, cwd=tmp_path)
    a, b = json.loads(with_l1.stdout), json.loads(without.stdout)
    assert a["config"]["l1"] == 0.05 and "l1" not in b["config"]
    assert a["loss_curve"] != b["loss_curve"]
    for bad in ("-1", "nan"):
        line = one_line_error(_nnlab("train", "moons", "--l1", bad, cwd=tmp_path))
        assert "l1=" in line and "0 <= l1" in line, line


def test_cli_gradcheck_takes_l1(tmp_path):
    out = _nnlab("gradcheck", "moons", "--layers", "3", "--activation", "tanh", "--l1", "0.5",
                 "--json", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["verdict"] == "passed"
