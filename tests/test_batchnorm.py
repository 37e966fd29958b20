"""Batch normalization in the engine (issue 19): the layer functions against a per-element loop
and finite differences, the network's parameters, forward, backward, running statistics and
training."""

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nnlab import (
    compute_cost,
    gradient_check,
    initialize_parameters,
    model_backward,
    model_forward,
    optimizers,
    params_to_vector,
    predict,
    train,
    vector_to_params,
)
from nnlab.datasets.synthetic import load_moons
from nnlab.fast import kernels
from nnlab.fast.path import IN_PLACE, explain_path
from nnlab.fast.stepper import FastTrainer
from nnlab.layers import batchnorm_backward, batchnorm_forward
from nnlab.network import (
    batch_norm_layers,
    parameter_keys,
    predict_forward,
    running_keys,
    update_running_stats,
)
from nnlab.training import DivergenceError, EpochLoop, TextbookStepper, train_step
from numdiff import numerical_gradient, rel_diff

EPS = 1e-8
SIZES = [1, 2, 7, 64]


# ----------------------------------------------------------------- per-element references


def _loop_forward(Z, gamma, beta, eps):
    """μ, σ², z_norm and z̃ one unit and one example at a time, in Python floats."""
    n, m = Z.shape
    Zt = np.zeros((n, m))
    Zn = np.zeros((n, m))
    for j in range(n):
        mu = 0.0
        for i in range(m):
            mu += float(Z[j, i])
        mu /= m
        var = 0.0
        for i in range(m):
            var += (float(Z[j, i]) - mu) ** 2
        var /= m
        for i in range(m):
            Zn[j, i] = (float(Z[j, i]) - mu) / math.sqrt(var + eps)
            Zt[j, i] = float(gamma[j, 0]) * Zn[j, i] + float(beta[j, 0])
    return Zt, Zn


def _loop_backward(dZt, Z, gamma, eps):
    """dz(k) = Σ_i dz̃(i) ∂z̃(i)/∂z(k) from the Jacobian of one unit, written element by
    element: ∂z̃(i)/∂z(k) = γ [(δ_ik - 1/m) / s - (z(i) - μ)(z(k) - μ) / (m s³)], s = √(σ² + ε);
    dγ = Σ_i dz̃(i) z_norm(i), dβ = Σ_i dz̃(i)."""
    n, m = Z.shape
    dZ = np.zeros((n, m))
    dgamma = np.zeros((n, 1))
    dbeta = np.zeros((n, 1))
    for j in range(n):
        z = [float(Z[j, i]) for i in range(m)]
        mu = sum(z) / m
        var = sum((x - mu) ** 2 for x in z) / m
        s = math.sqrt(var + eps)
        g = float(gamma[j, 0])
        for k in range(m):
            total = 0.0
            for i in range(m):
                delta = 1.0 if i == k else 0.0
                jac = g * ((delta - 1.0 / m) / s - (z[i] - mu) * (z[k] - mu) / (m * s**3))
                total += float(dZt[j, i]) * jac
            dZ[j, k] = total
        for i in range(m):
            dbeta[j, 0] += float(dZt[j, i])
            dgamma[j, 0] += float(dZt[j, i]) * (z[i] - mu) / s
    return dZ, dgamma, dbeta


def _layer_inputs(m, dtype=np.float64, seed=0):
    rng = np.random.RandomState(seed + m)
    Z = (rng.randn(3, m) * 2.0 + 0.5).astype(dtype)
    gamma = (1.0 + 0.5 * rng.randn(3, 1)).astype(dtype)
    beta = rng.randn(3, 1).astype(dtype)
    dZt = rng.randn(3, m).astype(dtype)
    return Z, gamma, beta, dZt


@pytest.mark.parametrize("m", SIZES)
@pytest.mark.parametrize("eps", [EPS, 0.3])
def test_forward_equals_a_per_element_loop(m, eps):
    Z, gamma, beta, _ = _layer_inputs(m)
    Zt, cache = batchnorm_forward(Z, gamma, beta, eps)
    ref, ref_norm = _loop_forward(Z, gamma, beta, eps)
    np.testing.assert_allclose(Zt, ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(cache.Z_norm, ref_norm, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(cache.mu[:, 0], Z.mean(axis=1), rtol=1e-12)
    np.testing.assert_allclose(cache.var[:, 0], Z.var(axis=1), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("m", SIZES)
@pytest.mark.parametrize("eps", [EPS, 0.3])
def test_backward_equals_a_per_element_loop(m, eps):
    Z, gamma, beta, dZt = _layer_inputs(m)
    _, cache = batchnorm_forward(Z, gamma, beta, eps)
    dZ, dgamma, dbeta = batchnorm_backward(dZt, cache)
    ref_dZ, ref_dgamma, ref_dbeta = _loop_backward(dZt, Z, gamma, eps)
    scale = np.abs(dZt).max() * np.abs(gamma).max() / math.sqrt(eps)
    np.testing.assert_allclose(dZ, ref_dZ, rtol=1e-9, atol=1e-12 * scale)
    np.testing.assert_allclose(dgamma, ref_dgamma, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dbeta, ref_dbeta, rtol=1e-12, atol=1e-12)


def _fd_layer(Z, gamma, beta, R, eps):
    """Central differences of J = Σ R ⊙ z̃ (so that ∂J/∂z̃ = R) for Z, γ and β, in float64."""
    Z, gamma, beta = (np.array(a, dtype=np.float64) for a in (Z, gamma, beta))

    def J():
        return float(np.sum(R * batchnorm_forward(Z, gamma, beta, eps)[0]))

    return (numerical_gradient(J, Z, eps=1e-4), numerical_gradient(J, gamma, eps=1e-4),
            numerical_gradient(J, beta, eps=1e-4))


@pytest.mark.parametrize("m", SIZES)
@pytest.mark.parametrize("eps", [EPS, 0.3])
def test_layer_gradients_match_finite_differences(m, eps):
    """dZ through μ and σ², dγ and dβ at several batch sizes. At m = 1, σ² = 0: ε keeps
    1/√(σ² + ε) finite, z_norm = 0, z̃ = β whatever z is, so dZ = 0 and dγ = 0 exactly. At m = 2
    with a tiny ε, z_norm = ±1 whatever z is: dZ is of the order of ε (checked absolutely)."""
    Z, gamma, beta, R = _layer_inputs(m)
    Zt, cache = batchnorm_forward(Z, gamma, beta, eps)
    assert np.all(np.isfinite(Zt)) and np.all(np.isfinite(cache.inv_std))
    dZ, dgamma, dbeta = batchnorm_backward(R, cache)
    fd_Z, fd_gamma, fd_beta = _fd_layer(Z, gamma, beta, R, eps)
    assert rel_diff(dgamma, fd_gamma) < 1e-8
    assert rel_diff(dbeta, fd_beta) < 1e-8
    if m == 1:
        np.testing.assert_array_equal(Zt, beta)
        assert np.all(dZ == 0) and np.all(dgamma == 0)
        assert np.abs(fd_Z).max() < 1e-11  # J does not depend on z (up to the formula's rounding)
    elif m == 2 and eps == EPS:
        np.testing.assert_allclose(dZ, fd_Z, atol=1e-7)
    else:
        assert rel_diff(dZ, fd_Z) < 1e-7


@pytest.mark.parametrize("m", [2, 7, 64])
def test_layer_gradients_in_float32(m):
    """In float32 the forward and backward stay float32 and agree with float64 finite
    differences to float32's precision."""
    Z, gamma, beta, R = _layer_inputs(m, np.float32)
    Zt, cache = batchnorm_forward(Z, gamma, beta, 0.3)
    dZ, dgamma, dbeta = batchnorm_backward(R, cache)
    assert Zt.dtype == dZ.dtype == dgamma.dtype == dbeta.dtype == np.float32
    fd_Z, fd_gamma, fd_beta = _fd_layer(Z, gamma, beta, R.astype(np.float64), 0.3)
    assert rel_diff(dZ, fd_Z) < 1e-4
    assert rel_diff(dgamma, fd_gamma) < 1e-5
    assert rel_diff(dbeta, fd_beta) < 1e-5


# ------------------------------------------------------------------------------ parameters


def test_initialize_parameters_with_batch_norm():
    plain = initialize_parameters([4, 5, 3, 2], "he", random_state=7)
    bn = initialize_parameters([4, 5, 3, 2], "he", random_state=7, batch_norm=True)
    for l in (1, 2, 3):  # the same W draws
        np.testing.assert_array_equal(bn[f"W{l}"], plain[f"W{l}"])
    for l, n in ((1, 5), (2, 3)):
        assert f"b{l}" not in bn
        np.testing.assert_array_equal(bn[f"gamma{l}"], np.ones((n, 1)))
        np.testing.assert_array_equal(bn[f"beta{l}"], np.zeros((n, 1)))
        np.testing.assert_array_equal(bn[f"running_mean{l}"], np.zeros((n, 1)))
        np.testing.assert_array_equal(bn[f"running_var{l}"], np.ones((n, 1)))
    assert "b3" in bn and "gamma3" not in bn  # the output layer never
    some = initialize_parameters([4, 5, 3, 2], random_state=7, batch_norm=[False, True],
                                 dtype=np.float32)
    assert batch_norm_layers(some) == [2] and "b1" in some
    assert some["gamma2"].dtype == some["running_var2"].dtype == np.float32
    assert initialize_parameters([4, 5, 2], random_state=7, batch_norm=False).keys() == {
        "W1", "b1", "W2", "b2"}
    with pytest.raises(ValueError, match="one per hidden layer"):
        initialize_parameters([4, 5, 3, 2], batch_norm=[True])
    with pytest.raises(ValueError, match="bool"):
        initialize_parameters([4, 5, 3, 2], batch_norm="yes")


def test_keys_and_the_theta_layout():
    params = initialize_parameters([3, 4, 4, 2], random_state=0, batch_norm=[True, False])
    assert parameter_keys(params) == ["W1", "W2", "W3", "b2", "b3", "gamma1", "beta1"]
    assert running_keys(params) == ["running_mean1", "running_var1"]
    params["running_mean1"] = params["running_mean1"] + 0.5
    theta = params_to_vector(params)
    assert theta.size == sum(params[k].size for k in parameter_keys(params))
    back = vector_to_params(theta, params)
    assert list(back)[:7] == parameter_keys(params)
    for k in params:  # the running statistics come along as copies
        np.testing.assert_array_equal(back[k], params[k])
    assert back["running_mean1"] is not params["running_mean1"]


def test_mismatched_flags_are_refused():
    X = np.ones((3, 4))
    bn = initialize_parameters([3, 4, 1], random_state=0, batch_norm=True)
    plain = initialize_parameters([3, 4, 1], random_state=0)
    with pytest.raises(ValueError, match="no gamma1"):
        model_forward(X, plain, ["relu", "sigmoid"], batch_norm=True)
    with pytest.raises(ValueError, match="params hold gamma1"):
        model_forward(X, bn, ["relu", "sigmoid"], batch_norm=False)
    broken = {k: v for k, v in bn.items() if k != "running_var1"}
    with pytest.raises(ValueError, match="running_var1"):
        model_forward(X, broken, ["relu", "sigmoid"])


# --------------------------------------------------------------------- forward and backward


def _net(m, seed=0, dims=(3, 5, 4, 2), dtype=np.float64):
    rng = np.random.RandomState(seed)
    X = rng.randn(dims[0], m).astype(dtype)
    Y = np.eye(dims[-1])[:, rng.randint(0, dims[-1], m)].astype(dtype)
    params = initialize_parameters(list(dims), "xavier", random_state=seed, batch_norm=True,
                                   dtype=dtype)
    for k in parameter_keys(params):  # move γ, β and b away from their initial values
        if not k.startswith("W"):
            params[k] = params[k] + (0.3 * rng.randn(*params[k].shape)).astype(dtype)
    params["running_mean1"] = (0.2 * rng.randn(dims[1], 1)).astype(dtype)
    params["running_var1"] = (0.5 + rng.rand(dims[1], 1)).astype(dtype)
    return X, Y, params


ACTS = ["tanh", "tanh", "softmax"]


def test_forward_computes_each_layer_by_the_formulas():
    X, _, params = _net(6)
    AL, caches = model_forward(X, params, ACTS)
    Z1 = params["W1"] @ X
    Zt1 = (params["gamma1"] * (Z1 - Z1.mean(1, keepdims=True))
           / np.sqrt(Z1.var(1, keepdims=True) + EPS) + params["beta1"])
    np.testing.assert_allclose(caches[0].Z, Zt1, rtol=1e-12, atol=1e-12)
    assert caches[0].linear.b is None and caches[2].bn is None
    # eval mode: the running statistics
    AL_eval, caches_eval = model_forward(X, params, ACTS, training=False)
    Zt1_eval = (params["gamma1"] * (Z1 - params["running_mean1"])
                / np.sqrt(params["running_var1"] + EPS) + params["beta1"])
    np.testing.assert_allclose(caches_eval[0].Z, Zt1_eval, rtol=1e-12, atol=1e-12)
    assert not np.allclose(AL, AL_eval)
    np.testing.assert_array_equal(predict_forward(X, params, ACTS), AL_eval)


def test_train_mode_depends_on_the_batch_and_eval_mode_does_not():
    X, _, params = _net(8)
    AL, _ = model_forward(X, params, ACTS)
    AL_half, _ = model_forward(X[:, :4], params, ACTS)
    assert not np.allclose(AL[:, :4], AL_half)  # batch statistics of other examples
    EL, _ = model_forward(X, params, ACTS, training=False)
    EL_half, _ = model_forward(X[:, :4], params, ACTS, training=False)
    np.testing.assert_allclose(EL[:, :4], EL_half, rtol=1e-13, atol=1e-15)


def test_one_example_alone_is_predicted_as_inside_a_batch():
    X, _, params = _net(32, seed=3)
    batch = predict_forward(X, params, ACTS)
    alone = np.hstack([predict_forward(X[:, i : i + 1], params, ACTS) for i in range(32)])
    np.testing.assert_allclose(alone, batch, rtol=1e-12, atol=1e-15)
    labels = np.hstack([predict(X[:, i : i + 1], params, ACTS) for i in range(32)])
    np.testing.assert_array_equal(labels, predict(X, params, ACTS))


@pytest.mark.parametrize("m", [1, 2, 7, 64])
def test_backward_matches_finite_differences_of_the_network(m):
    """Every gradient of a network with two batch-normalized layers (γ, β, W through the
    statistics, the output's b), against central differences of J, with L2 on."""
    X, Y, params = _net(m, seed=m)
    lambd = 0.3

    def J():
        AL, _ = model_forward(X, params, ACTS)
        return float(compute_cost(AL, Y, params, lambd, output_activation="softmax"))

    AL, caches = model_forward(X, params, ACTS)
    grads = model_backward(AL, Y, caches, lambd=lambd)
    assert list(grads) == ["dW1", "dgamma1", "dbeta1", "dW2", "dgamma2", "dbeta2", "dW3", "db3"]
    for k in parameter_keys(params):
        fd = numerical_gradient(J, params[k])
        g = grads["d" + k]
        assert g.shape == params[k].shape
        if m == 2 and k in ("W1", "gamma1", "beta1", "W2"):
            # z_norm[2] = ±1 whatever layer 1 does: those gradients are of the order of ε
            np.testing.assert_allclose(g, fd, atol=1e-7)
        else:
            assert rel_diff(g, fd) < 1e-7, (k, rel_diff(g, fd))


def test_l2_penalizes_the_weights_only():
    X, Y, params = _net(7)
    AL, caches = model_forward(X, params, ACTS)
    plain = float(compute_cost(AL, Y, params, 0.0, output_activation="softmax"))
    with_l2 = float(compute_cost(AL, Y, params, 0.5, output_activation="softmax"))
    weights = sum(float(np.sum(params[f"W{l}"] ** 2)) for l in (1, 2, 3))
    assert with_l2 - plain == pytest.approx(0.5 / (2 * 7) * weights, rel=1e-12)
    g0 = model_backward(AL, Y, caches, lambd=0.0)
    g1 = model_backward(AL, Y, caches, lambd=0.5)
    for k in ("dgamma1", "dbeta1", "dgamma2", "dbeta2", "db3"):
        np.testing.assert_array_equal(g0[k], g1[k])
    np.testing.assert_allclose(g1["dW1"] - g0["dW1"], 0.5 / 7 * params["W1"], rtol=1e-10)


def test_dropout_after_a_batch_normalized_layer():
    """The same mask at every evaluation (a generator seeded alike) makes J one function, so
    its finite differences check the backward pass through dropout and batch norm."""
    X, Y, params = _net(9, seed=4)
    kp = [0.7, 0.8]

    def J():
        AL, _ = model_forward(X, params, ACTS, kp, np.random.RandomState(5))
        return float(compute_cost(AL, Y, params, output_activation="softmax"))

    AL, caches = model_forward(X, params, ACTS, kp, np.random.RandomState(5))
    assert caches[0].D is not None and caches[0].bn is not None
    grads = model_backward(AL, Y, caches)
    for k in parameter_keys(params):
        assert rel_diff(grads["d" + k], numerical_gradient(J, params[k])) < 1e-7, k


@pytest.mark.parametrize("m", [1, 7, 64])
def test_gradient_check_covers_gamma_and_beta(m):
    X, Y, params = _net(m, seed=m)
    result = gradient_check(params, X, Y, ACTS)
    assert result.passed, result.report()
    assert list(result.per_parameter) == ["W1", "gamma1", "beta1", "W2", "gamma2", "beta2",
                                          "W3", "b3"]
    report = result.report()
    assert "gamma1" in report and "beta2" in report


def test_gradient_check_finds_a_wrong_dgamma():
    X, Y, params = _net(7, seed=2)

    def broken(p, X, Y):
        AL, caches = model_forward(X, p, ACTS)
        grads = model_backward(AL, Y, caches)
        grads["dgamma2"] = grads["dgamma2"] * 1.5
        return grads

    result = gradient_check(params, X, Y, ACTS, grad_fn=broken)
    assert result.failing == ["gamma2"]


def test_float32_network_gradients():
    """The whole backward pass in float32 against float64 central differences."""
    X, Y, params = _net(16, seed=6, dtype=np.float32)
    AL, caches = model_forward(X, params, ACTS)
    grads = model_backward(AL, Y, caches)
    p64 = {k: v.astype(np.float64) for k, v in params.items()}
    X64, Y64 = X.astype(np.float64), Y.astype(np.float64)

    def J():
        AL, _ = model_forward(X64, p64, ACTS)
        return float(compute_cost(AL, Y64, p64, output_activation="softmax"))

    for k in parameter_keys(params):
        assert grads["d" + k].dtype == np.float32
        assert rel_diff(grads["d" + k], numerical_gradient(J, p64[k])) < 1e-4, k


# --------------------------------------------------------------------- running statistics


def test_update_running_stats_is_the_exponential_average():
    X, _, params = _net(10)
    _, caches = model_forward(X, params, ACTS)
    new = update_running_stats(params, caches, momentum=0.8)
    Z1 = params["W1"] @ X
    np.testing.assert_allclose(new["running_mean1"],
                               0.8 * params["running_mean1"] + 0.2 * Z1.mean(1, keepdims=True),
                               rtol=1e-12)
    np.testing.assert_allclose(new["running_var1"],
                               0.8 * params["running_var1"] + 0.2 * Z1.var(1, keepdims=True),
                               rtol=1e-12)
    assert new["running_mean1"] is not params["running_mean1"]  # params is not changed
    assert new["W1"] is params["W1"]
    _, eval_caches = model_forward(X, params, ACTS, training=False)
    same = update_running_stats(params, eval_caches)  # eval batches do not count
    np.testing.assert_array_equal(same["running_mean1"], params["running_mean1"])


@pytest.mark.parametrize("fast", [False, True])
@pytest.mark.parametrize("optimizer", ["gd", "adam"])
def test_running_statistics_after_n_steps_equal_the_formula(optimizer, fast):
    """Full-batch training for N epochs: after each update μ_run = β μ_run + (1 - β) μ with μ
    of Z[1] = W[1] X under the weights before that update (recorded by the callback)."""
    X, Y = load_moons()
    p0 = initialize_parameters([2, 6, 1], "he", random_state=2, batch_norm=True)
    history = []
    n, beta = 12, 0.8
    result = train(X, Y, params=p0, activations=["relu", "sigmoid"], optimizer=optimizer,
                   learning_rate=0.05, num_epochs=n, bn_momentum=beta,
                   callback=lambda e, p, c: history.append(p), fast=fast)
    assert result.path == ("textbook" if fast is False else IN_PLACE) and len(history) == n
    mean, var = np.zeros((6, 1)), np.ones((6, 1))
    for W1 in [p0["W1"]] + [p["W1"] for p in history[:-1]]:
        Z1 = W1 @ X
        mean = beta * mean + (1 - beta) * Z1.mean(1, keepdims=True)
        var = beta * var + (1 - beta) * Z1.var(1, keepdims=True)
    np.testing.assert_allclose(result.params["running_mean1"], mean, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(result.params["running_var1"], var, rtol=1e-10)
    assert "running_mean1" not in getattr(result.optimizer_state, "v", {})
    assert not np.array_equal(result.params["gamma1"], p0["gamma1"])  # trained


def test_train_step_updates_running_statistics_of_mini_batches():
    X, Y = load_moons()
    params = initialize_parameters([2, 5, 5, 1], random_state=1, batch_norm=True)
    opt = optimizers.momentum(0.1)
    state = opt.init(params)
    assert set(state.v) == set(parameter_keys(params))
    mean2 = params["running_mean2"]
    for k in range(0, 300, 100):
        Xb, Yb = X[:, k : k + 100], Y[:, k : k + 100]
        _, caches = model_forward(Xb, params, ["relu", "relu", "sigmoid"])
        mean2 = 0.9 * mean2 + 0.1 * caches[1].bn.mu
        params, state, _ = train_step(params, opt, state, Xb, Yb, ["relu", "relu", "sigmoid"])
    np.testing.assert_allclose(params["running_mean2"], mean2, rtol=1e-12)
    with pytest.raises(ValueError, match="bn_momentum"):
        train_step(params, opt, state, X, Y, ["relu", "relu", "sigmoid"], bn_momentum=1.0)


def test_resume_from_state_is_bit_exact():
    """Stopping after 3 epochs and going on from ``state()`` with a new stepper gives the
    parameters, running statistics included, of 6 epochs in one go."""
    X, Y = load_moons()
    acts = ["relu", "relu", "sigmoid"]
    p0 = initialize_parameters([2, 5, 4, 1], random_state=4, batch_norm=True)
    once = TextbookStepper(p0, acts, optimizers.adam(0.02))
    EpochLoop(once, X, Y, batch_size=64, rng=np.random.RandomState(0)).run(6)
    first = TextbookStepper(p0, acts, optimizers.adam(0.02))
    rng = np.random.RandomState(0)
    EpochLoop(first, X, Y, batch_size=64, rng=rng).run(3)
    params, opt_state = first.state()
    saved = {k: v.copy() for k, v in params.items()}
    second = TextbookStepper(saved, acts, optimizers.adam(0.02), opt_state)
    EpochLoop(second, X, Y, batch_size=64, rng=rng).run(3)
    assert set(second.params) == set(once.params)
    for k in once.params:
        np.testing.assert_array_equal(second.params[k], once.params[k])
    assert not np.array_equal(once.params["running_var2"], p0["running_var2"])


# ------------------------------------------------------------------------------- training


@pytest.mark.parametrize("fast", [False, True])
def test_train_with_batch_norm_reduces_the_cost_on_moons(fast):
    X, Y = load_moons()
    result = train(X, Y, [2, 10, 10, 1], ["relu", "relu", "sigmoid"], optimizer="adam",
                   learning_rate=0.01, num_epochs=40, batch_size=32, random_state=0,
                   batch_norm=True, fast=fast)
    assert batch_norm_layers(result.params) == [1, 2]
    assert result.costs[-1] < 0.6 * result.costs[0]
    accuracy = float(np.mean(predict(X, result.params, ["relu", "relu", "sigmoid"]) == Y))
    assert accuracy > 0.9


def test_batch_norm_false_trains_as_before():
    X, Y = load_moons()
    kwargs = dict(optimizer="adam", learning_rate=0.01, num_epochs=5, batch_size=64,
                  random_state=0, fast=False)
    a = train(X, Y, [2, 6, 1], **kwargs)
    b = train(X, Y, [2, 6, 1], batch_norm=False, **kwargs)
    for k in a.params:
        np.testing.assert_array_equal(a.params[k], b.params[k])
    with pytest.raises(ValueError, match="params hold gamma1"):
        train(X, Y, params=initialize_parameters([2, 6, 1], batch_norm=True),
              batch_norm=False, num_epochs=1)


# --------------------------------------------------------------- the fast stepper (in place)


def test_explain_path_puts_batch_norm_on_the_in_place_steps_and_says_why():
    params = initialize_parameters([2, 4, 4, 1], batch_norm=[False, True])
    kwargs = dict(optimizer="adam", dtype=np.float64, activations=["relu"] * 2 + ["sigmoid"],
                  dims=[2, 4, 4, 1], params=params)
    path = explain_path(**kwargs)  # a small network: compiled whole epochs without batch norm
    assert path.name == IN_PLACE and "batch-normalized layers (2)" in path.reason
    assert "compiled whole-epoch kernel has no batch norm" in path.reason
    assert explain_path(fast="exact", **kwargs).name == IN_PLACE
    assert explain_path(fast=False, **kwargs).name == "textbook"
    plain = {k: v for k, v in initialize_parameters([2, 4, 4, 1]).items()}
    assert explain_path(**{**kwargs, "params": plain}).name != IN_PLACE or not kernels.enabled()
    assert not FastTrainer(params, kwargs["activations"], compiled=True).compiled


def _steppers(p0, acts, optimizer, **network):
    opt = optimizers.get_optimizer(optimizer, learning_rate=0.05)
    return (TextbookStepper(p0, acts, opt, **network),
            FastTrainer(p0, acts, optimizer=opt, compiled=False, **network))


@pytest.mark.parametrize("optimizer", ["gd", "momentum", "rmsprop", "adam"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("batch_size", [64, None])
def test_fast_stepper_gives_the_textbook_bits(optimizer, dtype, batch_size):
    """The in-place steps (``fast="exact"``: flat buffers, no compiled rounding) make the
    textbook's operations in its order: the same costs and parameters, running statistics
    included, bit for bit, with L2, dropout after a batch-normalized layer and a layer without
    batch norm between them."""
    X, Y = (a.astype(dtype) for a in load_moons())
    acts = ["relu", "tanh", "relu", "sigmoid"]
    p0 = initialize_parameters([2, 7, 6, 5, 1], random_state=3, dtype=dtype,
                               batch_norm=[True, False, True])
    network = dict(lambd=0.1, keep_probs=[0.9, 1.0, 0.8], bn_momentum=0.7)
    textbook, fast = _steppers(p0, acts, optimizer, **network)
    loops = [EpochLoop(s, X, Y, batch_size=batch_size, rng=np.random.RandomState(0))
             for s in (textbook, fast)]
    for loop in loops:
        loop.run(4)
    assert loops[0].costs == loops[1].costs
    a, b = textbook.state()[0], fast.state()[0]
    assert set(a) == set(b) and "running_var3" in b
    for k in a:
        assert b[k].dtype == dtype
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    assert not np.array_equal(b["running_mean1"], p0["running_mean1"])


def test_fast_train_equals_the_textbook_to_rounding():
    X, Y = load_moons()
    kwargs = dict(optimizer="adam", learning_rate=0.01, num_epochs=10, batch_size=32,
                  random_state=0, batch_norm=True)
    textbook = train(X, Y, [2, 8, 8, 1], ["relu", "relu", "sigmoid"], fast=False, **kwargs)
    fast = train(X, Y, [2, 8, 8, 1], ["relu", "relu", "sigmoid"], fast=True, **kwargs)
    assert textbook.path == "textbook" and fast.path == IN_PLACE
    np.testing.assert_allclose(fast.costs, textbook.costs, rtol=1e-10)
    for k in textbook.params:
        np.testing.assert_allclose(fast.params[k], textbook.params[k], rtol=1e-8, atol=1e-10)


def test_fast_stepper_with_sample_weights_gives_the_textbook_bits():
    X, Y = load_moons()
    weights = np.random.RandomState(1).rand(X.shape[1]) * 2
    kwargs = dict(optimizer="adam", learning_rate=0.01, num_epochs=3, batch_size=32,
                  random_state=0, batch_norm=True, sample_weight=weights)
    a = train(X, Y, [2, 8, 8, 1], ["relu", "relu", "sigmoid"], fast=False, **kwargs)
    b = train(X, Y, [2, 8, 8, 1], ["relu", "relu", "sigmoid"], fast="exact", **kwargs)
    assert b.path == IN_PLACE and a.costs == b.costs
    for k in a.params:
        np.testing.assert_array_equal(b.params[k], a.params[k], err_msg=k)


def test_fast_stepper_state_resumes_with_the_running_statistics():
    X, Y = load_moons()
    acts = ["relu", "relu", "sigmoid"]
    p0 = initialize_parameters([2, 5, 4, 1], random_state=4, batch_norm=True)
    once = FastTrainer(p0, acts, optimizer=optimizers.adam(0.02), compiled=False)
    EpochLoop(once, X, Y, batch_size=64, rng=np.random.RandomState(0)).run(6)
    first = FastTrainer(p0, acts, optimizer=optimizers.adam(0.02), compiled=False)
    rng = np.random.RandomState(0)
    EpochLoop(first, X, Y, batch_size=64, rng=rng).run(3)
    params, opt_state = first.state()
    assert set(opt_state.v) == set(parameter_keys(p0))  # no moving averages of running_*
    second = FastTrainer(initialize_parameters([2, 5, 4, 1], batch_norm=True), acts,
                         optimizer=optimizers.adam(0.02), compiled=False)
    second.load_state(params, opt_state)
    EpochLoop(second, X, Y, batch_size=64, rng=rng).run(3)
    for k in once.params:
        np.testing.assert_array_equal(second.params[k], once.params[k], err_msg=k)


def test_fast_stepper_goes_back_before_a_diverging_epoch_as_the_textbook():
    X, Y = load_moons()
    kwargs = dict(loss="mean_squared_error", optimizer="gd", learning_rate=1e3, num_epochs=50,
                  batch_size=100, random_state=0, batch_norm=True)
    errors = []
    for fast in (False, "exact"):
        with pytest.raises(DivergenceError) as info:
            train(X * 1e3, Y, [2, 8, 8, 1], ["relu", "relu", "identity"], fast=fast, **kwargs)
        errors.append(info.value)
    assert errors[0].epoch == errors[1].epoch
    for k in errors[0].params:
        np.testing.assert_array_equal(errors[1].params[k], errors[0].params[k], err_msg=k)


def test_the_benchmark_runs_and_reports_the_four_ways():
    script = Path(__file__).resolve().parents[1] / "benchmarks" / "batchnorm.py"
    proc = subprocess.run([sys.executable, str(script), "--quick"], capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "yes         fast      numpy in place" in out
    assert "batch norm costs x" in out and "fast vs textbook with batch norm" in out
    bad = subprocess.run([sys.executable, str(script), "--repeats", "0"], capture_output=True,
                         text=True, timeout=600)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "--repeats" in bad.stderr
