import numpy as np
import pytest

from nnlab.activations import sigmoid, softmax
from nnlab.losses import (
    LOSSES,
    binary_crossentropy,
    binary_crossentropy_from_logits,
    get_loss,
    huber,
    huber_cost,
    huber_gradient,
    l2_gradient,
    l2_penalty,
)
from numdiff import numerical_gradient, rel_diff


def _targets(name: str, rng, n: int, m: int) -> np.ndarray:
    if name == "categorical_crossentropy":
        return np.eye(n)[:, rng.randint(0, n, m)]
    if name == "binary_crossentropy":
        return rng.randint(0, 2, (n, m)).astype(float)
    return rng.randn(n, m)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_gradient_matches_finite_differences(name):
    rng = np.random.RandomState(3)
    n, m = 3, 5
    Y = _targets(name, rng, n, m)
    if name == "categorical_crossentropy":
        AL = softmax(rng.randn(n, m))
    else:
        AL = sigmoid(rng.randn(n, m))  # in (0, 1): valid for all three
    loss = LOSSES[name]
    # the loss gives the per-example derivative: m * ∂J/∂AL
    numeric = numerical_gradient(lambda: float(loss.cost(AL, Y)) * m, AL)
    assert rel_diff(loss.gradient(AL, Y), numeric) < 1e-7


def test_binary_crossentropy_equals_the_formula():
    rng = np.random.RandomState(0)
    AL = rng.uniform(0.01, 0.99, (1, 10))
    Y = rng.randint(0, 2, (1, 10))
    expected = -np.mean(Y * np.log(AL) + (1 - Y) * np.log(1 - AL))
    assert binary_crossentropy(AL, Y) == pytest.approx(expected, rel=1e-15)


def test_binary_crossentropy_finite_at_exact_zero_and_one():
    AL = np.array([[0.0, 1.0, 0.0, 1.0]])
    Y = np.array([[0, 1, 1, 0]])
    cost = binary_crossentropy(AL, Y)
    assert np.isfinite(cost) and cost > 300  # the two wrong answers cost about 708 each
    assert np.all(np.isfinite(LOSSES["binary_crossentropy"].gradient(AL, Y)))
    # where the formula is finite the value is exact: both right answers cost 0
    assert binary_crossentropy(AL[:, :2], Y[:, :2]) == 0.0


@pytest.mark.parametrize("z", [-1000.0, -30.0, -1.0, 0.0, 2.5, 40.0, 1000.0])
@pytest.mark.parametrize("y", [0.0, 1.0])
def test_cost_from_logits_is_exact_and_finite(z, y):
    Z, Y = np.array([[z]]), np.array([[y]])
    from_logits = binary_crossentropy_from_logits(Z, Y)
    assert np.isfinite(from_logits)
    a = sigmoid(Z)
    if 0 < a[0, 0] < 1:
        assert binary_crossentropy(a, Y) == pytest.approx(from_logits, rel=1e-9, abs=1e-15)
    else:  # saturated: the exact cost is |z| for a wrong answer, 0 for a right one
        assert from_logits == pytest.approx(abs(z) if (z > 0) != (y == 1) else 0.0, abs=1e-12)


def test_l2_penalty_and_gradient():
    params = {"W1": np.ones((2, 3)), "b1": np.ones((2, 1)) * 5, "W2": np.full((1, 2), 2.0),
              "b2": np.zeros((1, 1))}
    # (λ/2m)(||W1||² + ||W2||²) = (0.7 / 20)(6 + 8); biases are not penalized
    assert l2_penalty(params, 0.7, 10) == pytest.approx(0.7 / 20 * 14)
    W = params["W2"]
    numeric = numerical_gradient(lambda: l2_penalty(params, 0.7, 10), W)
    assert rel_diff(l2_gradient(W, 0.7, 10), numeric) < 1e-8


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_float32_is_kept(name):
    AL = np.full((2, 3), 0.3, dtype=np.float32)
    Y = np.array([[1, 0, 1], [0, 1, 0]], dtype=np.float32)
    assert get_loss(name).cost(AL, Y).dtype == np.float32
    assert get_loss(name).gradient(AL, Y).dtype == np.float32


def test_unknown_loss_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown loss 'hinge'"):
        get_loss("hinge")


# --- mean absolute error and Huber (issue 18) ------------------------------------------------


def test_mean_absolute_error_equals_the_formula_and_its_subgradient():
    AL = np.array([[0.5, -1.0, 2.0], [3.0, 0.0, 1.0]])
    Y = np.array([[0.0, 1.0, 2.0], [1.0, 0.5, 1.0]])
    # (0.5 + 2 + 0 + 2 + 0.5 + 0) / 3 examples
    assert get_loss("mean_absolute_error").cost(AL, Y) == pytest.approx(5.0 / 3, rel=1e-15)
    grad = get_loss("mean_absolute_error").gradient(AL, Y)
    assert np.array_equal(grad, [[1.0, -1.0, 0.0], [1.0, -1.0, 0.0]])  # 0 where a = y


def test_huber_equals_the_formula_on_both_pieces():
    delta = 0.5
    R = np.array([[0.2, -0.4, 0.5, 1.5, -3.0]])  # |r| ≤ δ three times, > δ twice
    Y = np.zeros_like(R)
    expected = (0.5 * (0.2**2 + 0.4**2 + 0.5**2)
                + delta * (1.5 - delta / 2) + delta * (3.0 - delta / 2))
    loss = get_loss(huber(delta))
    assert loss.cost(R, Y) == pytest.approx(expected / 5, rel=1e-15)
    assert np.array_equal(loss.gradient(R, Y), [[0.2, -0.4, 0.5, 0.5, -0.5]])


def test_huber_joins_its_pieces_and_spans_squared_and_absolute_error():
    rng = np.random.RandomState(1)
    AL, Y = rng.randn(2, 7), rng.randn(2, 7)
    r_max = np.abs(AL - Y).max()
    # δ above every residual: the squared error; δ far below: δ (|r| - δ/2), the scaled MAE
    assert get_loss(huber(r_max + 1)).cost(AL, Y) == pytest.approx(
        get_loss("mean_squared_error").cost(AL, Y), rel=1e-14)
    small = 1e-3
    mae = get_loss("mean_absolute_error").cost(AL, Y)
    assert get_loss(huber(small)).cost(AL, Y) == pytest.approx(
        small * (mae - small / 2 * AL.size / Y.shape[1]), rel=1e-12)
    # continuous value and slope at |r| = δ
    below, above = np.array([[1.0 - 1e-9]]), np.array([[1.0 + 1e-9]])
    zero = np.zeros((1, 1))
    assert huber_cost(below, zero) == pytest.approx(huber_cost(above, zero), abs=1e-8)
    assert huber_gradient(below, zero) == pytest.approx(huber_gradient(above, zero), abs=1e-8)


@pytest.mark.parametrize("name", ["mean_absolute_error", "huber", "huber(delta=0.3)"])
def test_robust_loss_gradients_match_finite_differences(name):
    rng = np.random.RandomState(7)
    n, m = 3, 6
    Y = rng.randn(n, m)
    sizes = rng.permutation(np.linspace(0.07, 2.1, n * m)).reshape(n, m)  # |a - y|
    AL = Y + sizes * rng.choice([-1.0, 1.0], (n, m))
    R = np.abs(AL - Y)
    if name.startswith("huber"):  # away from the joint too, and on both of its sides
        delta = 1.0 if name == "huber" else 0.3
        assert np.abs(R - delta).min() > 1e-3
        assert (R < delta).any() and (R > delta).any()
    loss = get_loss(name)
    numeric = numerical_gradient(lambda: float(loss.cost(AL, Y)) * m, AL)
    assert rel_diff(loss.gradient(AL, Y), numeric) < 1e-7


def test_huber_names():
    assert huber() == "huber" and huber(1) == "huber"
    assert huber(0.25) == "huber(delta=0.25)"
    assert get_loss("huber(delta=0.25)").cost(np.array([[1.0]]), np.array([[0.0]])) == \
        pytest.approx(0.25 * (1 - 0.125))
    assert get_loss("huber").link == get_loss(huber(2)).link == "none"
    assert get_loss("mean_absolute_error").link == "none"


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), float("inf"), True, "1"])
def test_huber_refuses_a_bad_delta(bad):
    with pytest.raises(ValueError, match="delta"):
        huber(bad)


@pytest.mark.parametrize("name", ["huber(delta=0)", "huber(delta=-2)", "huber(delta=x)",
                                  "huber(delta=nan)"])
def test_huber_name_with_a_bad_delta_is_a_clear_error(name):
    with pytest.raises(ValueError, match="delta"):
        get_loss(name)


@pytest.mark.parametrize("loss", ["mean_absolute_error", "huber", "huber(delta=0.5)"])
def test_robust_losses_train_on_the_textbook_path(loss):
    """``train`` and ``Model`` take them; the fast path, which has no cost for them, hands the
    run to the textbook stepper and says why; training lowers the cost."""
    import nnlab
    from nnlab import Dense, Model, compute_cost

    rng = np.random.RandomState(0)
    X = rng.randn(2, 60)
    Y = np.sin(X[:1]) + 0.5 * X[1:]
    result = nnlab.train(X, Y, [2, 6, 1], ["tanh", "identity"], loss=loss, optimizer="adam",
                         learning_rate=0.02, num_epochs=60, random_state=0)
    assert result.path == "textbook"
    assert result.costs[-1] < result.costs[0]
    path = nnlab.explain_path(optimizer="adam", dtype=np.float64,
                              activations=["tanh", "identity"], dims=[2, 6, 1], loss=loss)
    assert (path.name, path.reason) == ("textbook", f"the fast path has no loss {loss!r}")
    model = Model([Dense(6, "tanh"), Dense(1, "identity")], loss=loss, learning_rate=0.02,
                  random_state=0)
    history = model.fit(X.T, Y.T, epochs=60, verbose=0)
    assert model.loss == loss and model.explain_path().name == "textbook"
    assert history.loss[-1] < history.loss[0]
    assert model.evaluate(X.T, Y.T)["loss"] == pytest.approx(
        float(compute_cost(model.forward(X.T).T, Y, loss=loss)))
    # the same run as train's, epoch for epoch (one loop, one textbook stepper)
    np.testing.assert_allclose(history.loss, result.costs, rtol=1e-12)
