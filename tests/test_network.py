import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from nnlab import compute_cost, initialize_parameters, model_backward, model_forward, predict
from nnlab.activations import ACTIVATIONS
from nnlab.layers import linear_backward, linear_forward
from numdiff import numerical_gradient, rel_diff

# exp is an output activation (the Poisson loss's link): a hidden exp compounds exponentials
HIDDEN = sorted(a for a in ACTIVATIONS if a != "exp")
# (output activation, loss) pairs for which the loss is defined on the output's range
OUTPUTS = [
    ("sigmoid", "binary_crossentropy"),
    ("softmax", "binary_crossentropy"),
    ("sigmoid", "categorical_crossentropy"),
    ("softmax", "categorical_crossentropy"),
    *[(a, "mean_squared_error") for a in sorted(ACTIVATIONS)],
    ("exp", "poisson"),
]


def _targets(loss, rng, n_y, m):
    if loss == "categorical_crossentropy":
        return np.eye(n_y)[:, rng.randint(0, n_y, m)]
    if loss == "binary_crossentropy":
        return rng.randint(0, 2, (n_y, m)).astype(float)
    if loss == "poisson":
        return rng.poisson(2.0, (n_y, m)).astype(float)
    return rng.randn(n_y, m)


def _fd_grads(params, X, Y, activations, lambd, loss):
    def J():
        AL, _ = model_forward(X, params, activations)
        return float(compute_cost(AL, Y, params, lambd, loss=loss))

    return {"d" + k: numerical_gradient(J, v) for k, v in params.items()}


def _check_against_fd(params, X, Y, activations, lambd, loss, fused=True, tol=1e-7):
    AL, caches = model_forward(X, params, activations)
    grads = model_backward(AL, Y, caches, lambd=lambd, loss=loss, fused=fused)
    numeric = _fd_grads(params, X, Y, activations, lambd, loss)
    assert sorted(grads) == sorted(numeric)
    for k in grads:
        assert grads[k].shape == numeric[k].shape
        assert rel_diff(grads[k], numeric[k]) < tol, (k, rel_diff(grads[k], numeric[k]))


def _network(seed, hidden_act, out_act, loss, n_x=3, n_h=4, n_y=2, m=5):
    rng = np.random.RandomState(seed)
    if loss == "binary_crossentropy" and out_act == "softmax":
        n_y = max(n_y, 2)
    params = initialize_parameters([n_x, n_h, n_h - 1, n_y], init="xavier", random_state=rng)
    for k in params:
        if k.startswith("b"):
            params[k] = rng.randn(*params[k].shape) * 0.1
    X = rng.randn(n_x, m)
    Y = _targets(loss, rng, n_y, m)
    return params, X, Y


@pytest.mark.parametrize("lambd", [0.0, 0.7])
@pytest.mark.parametrize("out_act, loss", OUTPUTS)
@pytest.mark.parametrize("hidden_act", HIDDEN)
def test_every_activation_position_loss_and_lambda(hidden_act, out_act, loss, lambd):
    """The hidden activation sits at both hidden positions, the output one at the last."""
    for seed in range(3):
        params, X, Y = _network(seed, hidden_act, out_act, loss)
        activations = [hidden_act, hidden_act, out_act]
        _, caches = model_forward(X, params, activations)
        if min(np.abs(c.Z).min() for c in caches) < 1e-3:
            continue  # too close to a relu kink for a finite difference
        _check_against_fd(params, X, Y, activations, lambd, loss)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    dims=st.lists(st.integers(1, 5), min_size=2, max_size=4),
    m=st.integers(1, 7),
    acts=st.data(),
    lambd=st.sampled_from([0.0, 0.7]),
)
def test_random_shapes_and_activations(seed, dims, m, acts, lambd):
    L = len(dims) - 1
    hidden = [acts.draw(st.sampled_from(["sigmoid", "tanh", "identity", "leaky_relu"]))
              for _ in range(L - 1)]
    out_act, loss = acts.draw(st.sampled_from(OUTPUTS))
    if out_act == "softmax" and dims[-1] == 1:
        dims = [*dims[:-1], 2]
    rng = np.random.RandomState(seed)
    params = initialize_parameters(dims, init="xavier", random_state=rng)
    X = rng.randn(dims[0], m)
    Y = _targets(loss, rng, dims[-1], m)
    _, caches = model_forward(X, params, [*hidden, out_act])
    assume(min(np.abs(c.Z).min() for c in caches) > 1e-3)  # away from leaky_relu's kink
    _check_against_fd(params, X, Y, [*hidden, out_act], lambd, loss)


@pytest.mark.parametrize(
    "out_act, loss",
    [("sigmoid", "binary_crossentropy"), ("softmax", "categorical_crossentropy"),
     ("identity", "mean_squared_error")],
)
def test_fused_and_general_output_gradients_agree(out_act, loss):
    params, X, Y = _network(5, "tanh", out_act, loss, n_y=3)
    activations = ["tanh", "tanh", out_act]
    AL, caches = model_forward(X, params, activations)
    fused = model_backward(AL, Y, caches, lambd=0.3, loss=loss, fused=True)
    general = model_backward(AL, Y, caches, lambd=0.3, loss=loss, fused=False)
    for k in fused:
        np.testing.assert_allclose(fused[k], general[k], rtol=1e-10, atol=1e-14)


def test_default_loss_follows_output_activation():
    params, X, Y = _network(1, "relu", "softmax", "categorical_crossentropy", n_y=3)
    AL, caches = model_forward(X, params, ["relu", "relu", "softmax"])
    default = model_backward(AL, Y, caches)
    named = model_backward(AL, Y, caches, loss="categorical_crossentropy")
    assert all(np.array_equal(default[k], named[k]) for k in default)


def test_linear_backward_against_fd_and_dA_prev_skipped():
    rng = np.random.RandomState(2)
    A_prev, W, b = rng.randn(3, 4), rng.randn(2, 3), rng.randn(2, 1)
    dZ = rng.randn(2, 4)

    def f():
        Z, _ = linear_forward(A_prev, W, b)
        return float(np.sum(dZ * Z)) / 4  # so that ∂f/∂W = (1/m) dZ A_prev^T

    _, cache = linear_forward(A_prev, W, b)
    dA_prev, dW, db = linear_backward(dZ, cache)
    assert rel_diff(dW, numerical_gradient(f, W)) < 1e-8
    assert rel_diff(db, numerical_gradient(f, b)) < 1e-8
    assert rel_diff(dA_prev, numerical_gradient(f, A_prev) * 4) < 1e-8
    assert linear_backward(dZ, cache, need_dA_prev=False)[0] is None


# --- dropout -------------------------------------------------------------------------------

def test_dropout_masks_are_reused_by_backward():
    """With the same masks every time (a fixed seed), J is a function of θ and backprop's
    gradient must equal its finite differences; a fresh mask in backward would not."""
    rng = np.random.RandomState(0)
    params = initialize_parameters([3, 6, 5, 1], init="xavier", random_state=rng)
    X, Y = rng.randn(3, 8), rng.randint(0, 2, (1, 8)).astype(float)
    acts, kp = ["tanh", "tanh", "sigmoid"], [0.6, 0.7]

    def J():
        AL, _ = model_forward(X, params, acts, kp, np.random.RandomState(42))
        return float(compute_cost(AL, Y, params, 0.1))

    AL, caches = model_forward(X, params, acts, kp, np.random.RandomState(42))
    assert caches[0].D is not None and caches[1].D is not None and caches[2].D is None
    assert 0 < caches[0].D.mean() < 1
    grads = model_backward(AL, Y, caches, lambd=0.1)
    for k, v in params.items():
        assert rel_diff(grads["d" + k], numerical_gradient(J, v)) < 1e-7, k
    # dropped units get no gradient through their outgoing weights' inputs
    dropped = caches[0].D == 0
    assert np.all(grads["dW2"][:, dropped.all(axis=1)] == 0)


def test_dropout_keeps_the_expected_activation():
    X = np.ones((1, 200_000))
    params = {"W1": np.ones((1, 1)), "b1": np.zeros((1, 1)),
              "W2": np.ones((1, 1)), "b2": np.zeros((1, 1))}
    AL, caches = model_forward(X, params, ["identity", "identity"], 0.8,
                               np.random.RandomState(1))
    D = caches[0].D
    assert set(np.unique(D)) == {0.0, 1.0}
    assert abs(D.mean() - 0.8) < 0.005
    assert abs(AL.mean() - 1.0) < 0.01  # E[A * D / keep_prob] = A
    assert set(np.unique(AL).round(12)) == {0.0, 1.25}


def test_no_dropout_at_prediction():
    rng = np.random.RandomState(3)
    params = initialize_parameters([2, 5, 1], random_state=rng)
    X = rng.randn(2, 50)
    p1 = predict(X, params, ["relu", "sigmoid"])
    p2 = predict(X, params, ["relu", "sigmoid"])
    AL, _ = model_forward(X, params, ["relu", "sigmoid"])
    assert np.array_equal(p1, p2) and np.array_equal(p1, (AL > 0.5).astype(int))


# --- numerical safety -----------------------------------------------------------------------

@pytest.mark.parametrize("big", [1000.0, -1000.0])
def test_finite_for_huge_logits(big):
    params = {"W1": np.array([[big]]), "b1": np.zeros((1, 1))}
    X, Y = np.array([[1.0, 1.0]]), np.array([[0.0, 1.0]])
    AL, caches = model_forward(X, params, ["sigmoid"])
    assert np.isfinite(compute_cost(AL, Y))
    for fused in (True, False):
        grads = model_backward(AL, Y, caches, fused=fused)
        assert all(np.all(np.isfinite(g)) for g in grads.values())
    params2 = {"W1": np.array([[big], [-big], [0.0]]), "b1": np.zeros((3, 1))}
    AL, caches = model_forward(X, params2, ["softmax"])
    Y2 = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
    assert np.isfinite(compute_cost(AL, Y2, loss="categorical_crossentropy"))
    assert all(np.all(np.isfinite(g)) for g in model_backward(AL, Y2, caches).values())


# --- dtype, predict, errors -----------------------------------------------------------------

def test_float32_in_float32_out():
    rng = np.random.RandomState(0)
    params = initialize_parameters([3, 4, 2], random_state=rng, dtype=np.float32)
    X = rng.randn(3, 6).astype(np.float32)
    Y = np.eye(2, dtype=np.float32)[:, rng.randint(0, 2, 6)]
    AL, caches = model_forward(X, params, ["relu", "softmax"], 0.9, rng)
    assert AL.dtype == np.float32
    assert compute_cost(AL, Y, params, 0.5, loss="categorical_crossentropy").dtype == np.float32
    grads = model_backward(AL, Y, caches, lambd=0.5)
    assert {g.dtype for g in grads.values()} == {np.dtype(np.float32)}


def test_predict_softmax_argmax_and_sigmoid_threshold():
    params = {"W1": np.array([[1.0], [-1.0], [0.0]]), "b1": np.zeros((3, 1))}
    X = np.array([[2.0, -2.0, 0.0]])
    assert predict(X, params, ["softmax"]).tolist() == [[0, 1, 0]]
    p = {"W1": np.array([[1.0]]), "b1": np.zeros((1, 1))}
    assert predict(X, p, ["sigmoid"]).tolist() == [[1, 0, 0]]  # 0.5 is not > 0.5


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda p, X: model_forward(X[:2], p, ["relu", "sigmoid"]), r"X has shape \(2, 4\)"),
        (lambda p, X: model_forward(X, p, ["relu"]), "1 entries but the network has 2"),
        (lambda p, X: model_forward(X, p, "relu"), "one name per layer"),
        (lambda p, X: model_forward(X, p, ["relu", "gelu"]), "unknown activation 'gelu'"),
        (lambda p, X: model_forward(X, p, ["relu", "sigmoid"], 1.5), "keep_prob=1.5"),
        (lambda p, X: model_forward(X, p, ["relu", "sigmoid"], [0.5, 0.5]), "one per hidden"),
        (lambda p, X: compute_cost(np.ones((1, 4)) / 2, np.ones((1, 3))), "must match"),
        (lambda p, X: compute_cost(np.ones((1, 4)) / 2, np.ones((1, 4)), p, -1), "negative"),
    ],
)
def test_bad_input_is_a_clear_error(call, message):
    params = initialize_parameters([3, 2, 1], random_state=0)
    X = np.ones((3, 4))
    with pytest.raises(ValueError, match=message):
        call(params, X)


def test_compute_cost_chooses_the_loss_as_backprop_does():
    """No silent binary cross-entropy for a softmax output: the loss comes from ``loss``, else
    from ``output_activation`` (as ``model_backward`` takes it from the output layer); with
    neither, only a single-row output in [0, 1] (the course's sigmoid case) gets a default."""
    from nnlab.losses import get_loss

    rng = np.random.RandomState(0)
    Z = rng.randn(3, 5)
    AL = np.exp(Z) / np.exp(Z).sum(axis=0)
    Y = np.eye(3)[:, rng.randint(0, 3, 5)]
    with pytest.raises(ValueError, match=r"cannot tell the loss.*output_activation"):
        compute_cost(AL, Y)
    expected = get_loss("categorical_crossentropy").cost(AL, Y)
    assert compute_cost(AL, Y, output_activation="softmax") == expected
    assert compute_cost(AL, Y, loss="categorical_crossentropy") == expected
    sigmoid_out, y = AL[:1], Y[:1]
    assert compute_cost(sigmoid_out, y) == get_loss("binary_crossentropy").cost(sigmoid_out, y)
    assert compute_cost(Z[:1], y, output_activation="identity") == \
        get_loss("mean_squared_error").cost(Z[:1], y)
    with pytest.raises(ValueError, match="cannot tell the loss"):
        compute_cost(Z[:1], y)  # an identity output's values outside [0, 1]


@pytest.mark.parametrize("lambd", [0.0, 0.7])
@pytest.mark.parametrize("out_act", ["identity", "tanh", "sigmoid"])
@pytest.mark.parametrize("loss", ["mean_absolute_error", "huber", "huber(delta=0.3)"])
def test_robust_losses_through_the_whole_network(loss, out_act, lambd):
    """Backprop with the losses that have no canonical link (issue 18): ``model_backward``
    takes the general path (fused or not, the same), and both the independent finite
    difference and nnlab's own ``gradient_check`` agree with it."""
    from nnlab.gradcheck import gradient_check

    delta = {"huber": 1.0, "huber(delta=0.3)": 0.3}.get(loss)
    checked = 0
    for seed in range(4):
        params, X, Y = _network(seed, "tanh", out_act, "mean_squared_error", m=6)
        activations = ["tanh", "tanh", out_act]
        AL, caches = model_forward(X, params, activations)
        R = np.abs(AL - Y)
        if R.min() < 1e-3 or (delta is not None and np.abs(R - delta).min() < 1e-3):
            continue  # too close to |r|'s kink (or Huber's joint) for a finite difference
        fused = model_backward(AL, Y, caches, lambd=lambd, loss=loss, fused=True)
        general = model_backward(AL, Y, caches, lambd=lambd, loss=loss, fused=False)
        assert all(np.array_equal(fused[k], general[k]) for k in fused)
        _check_against_fd(params, X, Y, activations, lambd, loss)
        result = gradient_check(params, X, Y, activations, lambd=lambd, loss=loss)
        assert result.verdict == "passed", float(result)
        checked += 1
    assert checked >= 2


def test_a_wrong_robust_loss_gradient_is_caught():
    """The check can fail: backprop with squared error's a - y in place of Huber's clipped
    residual is found wrong where residuals exceed δ."""
    from nnlab.gradcheck import gradient_check

    params, X, Y = _network(0, "tanh", "identity", "mean_squared_error", m=6)
    Y = Y * 5  # residuals beyond δ = 0.3

    def mse_backprop(p, X_, Y_):
        AL, caches = model_forward(X_, p, ["tanh", "tanh", "identity"])
        return model_backward(AL, Y_, caches, loss="mean_squared_error")

    result = gradient_check(params, X, Y, ["tanh", "tanh", "identity"], loss="huber(delta=0.3)",
                            grad_fn=mse_backprop)
    assert result.verdict == "wrong"


def test_compute_cost_takes_the_robust_losses():
    from nnlab.losses import get_loss

    rng = np.random.RandomState(2)
    AL, Y = rng.randn(2, 5), rng.randn(2, 5)
    params = {"W1": rng.randn(2, 3)}
    for loss in ("mean_absolute_error", "huber", "huber(delta=0.25)"):
        assert compute_cost(AL, Y, loss=loss) == get_loss(loss).cost(AL, Y)
        with_l2 = compute_cost(AL, Y, params, lambd=0.5, loss=loss)
        assert with_l2 == pytest.approx(get_loss(loss).cost(AL, Y)
                                        + 0.5 / 10 * np.sum(params["W1"] ** 2), rel=1e-14)
