import numpy as np
import pytest

from nnlab.optimizers import (
    AdamState,
    adam,
    apply_updates,
    constant,
    exponential_decay,
    gd,
    get_optimizer,
    inverse_time_decay,
    momentum,
    rmsprop,
    scheduled_inverse_time_decay,
)

W = np.array([[1.0, -2.0]])
b = np.array([[0.5]])
G_W = np.array([[0.2, -0.4]])
G_b = np.array([[1.0]])


def _params():
    return {"W1": W.copy(), "b1": b.copy()}


def _grads(scale=1.0):
    return {"dW1": G_W * scale, "db1": G_b * scale}


def test_gd_one_step_by_hand():
    opt = gd(0.1)
    updates, state = opt.update(_grads(), opt.init(_params()))
    new = apply_updates(_params(), updates)
    np.testing.assert_allclose(new["W1"], [[1.0 - 0.02, -2.0 + 0.04]], rtol=0, atol=1e-15)
    np.testing.assert_allclose(new["b1"], [[0.5 - 0.1]], rtol=0, atol=1e-15)
    assert state.t == 1


def test_momentum_two_steps_by_hand():
    opt = momentum(0.1, beta=0.9)
    state = opt.init(_params())
    _, state = opt.update(_grads(), state)
    # v1 = 0.9*0 + 0.1*g = 0.1 g
    np.testing.assert_allclose(state.v["W1"], [[0.02, -0.04]], atol=1e-15)
    updates, state = opt.update(_grads(2.0), state)
    # v2 = 0.9 * 0.1 g + 0.1 * 2g = 0.29 g; update = -0.1 * v2
    np.testing.assert_allclose(state.v["b1"], [[0.29]], atol=1e-15)
    np.testing.assert_allclose(updates["b1"], [[-0.029]], atol=1e-15)


def test_rmsprop_one_step_by_hand():
    opt = rmsprop(0.01, beta2=0.9, epsilon=1e-8)
    updates, state = opt.update(_grads(), opt.init(_params()))
    # s = 0.1 g²; step = -α g / (sqrt(0.1 g²) + ε) = -α sign(g) / sqrt(0.1) (up to ε)
    np.testing.assert_allclose(state.s["W1"], 0.1 * G_W**2, atol=1e-16)
    np.testing.assert_allclose(updates["W1"], -0.01 * G_W / (np.sqrt(0.1) * np.abs(G_W) + 1e-8))


def test_adam_bias_correction_at_t1_and_t2():
    beta1, beta2, eps, alpha = 0.9, 0.999, 1e-8, 0.01
    opt = adam(alpha, beta1, beta2, eps)
    state = opt.init(_params())
    assert isinstance(state, AdamState) and state.t == 0
    u1, state = opt.update(_grads(), state)
    # t = 1: v̂ = g, ŝ = g², step = -α g / (|g| + ε)
    assert state.t == 1
    np.testing.assert_allclose(u1["W1"], -alpha * G_W / (np.abs(G_W) + eps), rtol=1e-12)
    u2, state = opt.update(_grads(3.0), state)
    # t = 2, by hand
    g1, g2 = G_b[0, 0], 3 * G_b[0, 0]
    v = beta1 * (1 - beta1) * g1 + (1 - beta1) * g2
    s = beta2 * (1 - beta2) * g1**2 + (1 - beta2) * g2**2
    v_hat, s_hat = v / (1 - beta1**2), s / (1 - beta2**2)
    assert state.t == 2
    assert u2["b1"][0, 0] == pytest.approx(-alpha * v_hat / (np.sqrt(s_hat) + eps), rel=1e-12)
    # using β1^t under s (a misprint in some notes) gives a visibly different step
    wrong = -alpha * v_hat / (np.sqrt(s / (1 - beta1**2)) + eps)
    assert abs(u2["b1"][0, 0] - wrong) > 1e-3


def test_learning_rate_override_and_inputs_unchanged():
    opt = adam(0.01)
    params, grads = _params(), _grads()
    state0 = opt.init(params)
    u_default, _ = opt.update(grads, state0)
    u_half, _ = opt.update(grads, state0, learning_rate=0.005)
    np.testing.assert_allclose(u_half["W1"], u_default["W1"] / 2)
    assert state0.t == 0 and not state0.v["W1"].any()
    np.testing.assert_array_equal(params["W1"], W)


@pytest.mark.parametrize("name", ["gd", "momentum", "rmsprop", "adam"])
def test_float32_is_kept(name):
    opt = get_optimizer(name, learning_rate=0.1)
    p = {k: v.astype(np.float32) for k, v in _params().items()}
    g = {k: v.astype(np.float32) for k, v in _grads().items()}
    updates, _ = opt.update(g, opt.init(p))
    assert {u.dtype for u in updates.values()} == {np.dtype(np.float32)}
    assert {v.dtype for v in apply_updates(p, updates).values()} == {np.dtype(np.float32)}


def test_schedules_at_a_few_epochs():
    assert inverse_time_decay(0.5, 1.0)(0) == 0.5
    assert inverse_time_decay(0.5, 1.0)(3) == pytest.approx(0.125)
    s = scheduled_inverse_time_decay(0.1, 0.3, time_interval=1000)
    assert s(999) == pytest.approx(0.1)
    assert s(1000) == pytest.approx(0.1 / 1.3)
    assert s(2500) == pytest.approx(0.1 / 1.6)
    assert exponential_decay(0.2)(2) == pytest.approx(0.95**2 * 0.2)
    assert constant(0.3)(100) == 0.3


@pytest.mark.parametrize(
    "factory, kwargs, message",
    [
        (gd, {"learning_rate": 0}, "learning_rate=0.0 is out of range"),
        (gd, {"learning_rate": -1}, "learning_rate=-1.0"),
        (momentum, {"beta": 1.0}, "beta=1.0 is out of range"),
        (adam, {"beta2": -0.1}, "beta2=-0.1"),
        (adam, {"epsilon": 0}, "epsilon=0.0"),
        (inverse_time_decay, {"learning_rate": 0.1, "decay_rate": -1}, "negative"),
    ],
)
def test_bad_hyperparameters(factory, kwargs, message):
    with pytest.raises(ValueError, match=message):
        factory(**kwargs)


def test_unknown_optimizer():
    with pytest.raises(ValueError, match="unknown optimizer 'sgdx'"):
        get_optimizer("sgdx")
