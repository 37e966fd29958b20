import numpy as np
import pytest

from nnlab.activations import sigmoid, softmax
from nnlab.losses import (
    LOSSES,
    binary_crossentropy,
    binary_crossentropy_from_logits,
    get_loss,
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
