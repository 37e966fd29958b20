import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnlab.activations import ACTIVATIONS, get_activation, sigmoid, softmax
from numdiff import numerical_gradient, rel_diff

NAMES = sorted(ACTIVATIONS)


def _away_from_kinks(Z: np.ndarray) -> np.ndarray:
    """relu / leaky_relu have a kink at 0: keep test points at least 1e-3 from it."""
    return np.where(np.abs(Z) < 1e-3, 0.5, Z)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(1, 5), m=st.integers(1, 6))
def test_backward_matches_finite_differences(name, seed, n, m):
    rng = np.random.RandomState(seed)
    Z = _away_from_kinks(rng.randn(n, m) * 2)
    dA = rng.randn(n, m)
    act = ACTIVATIONS[name]

    def f() -> float:  # a scalar whose gradient wrt Z is dA * g'(Z)
        return float(np.sum(dA * act.forward(Z)))

    assert rel_diff(act.backward(dA, Z), numerical_gradient(f, Z)) < 1e-7


@pytest.mark.parametrize(
    "name, expected",
    [
        ("sigmoid", lambda z: 1 / (1 + np.exp(-z))),
        ("tanh", np.tanh),
        ("relu", lambda z: np.maximum(0, z)),
        ("leaky_relu", lambda z: np.where(z > 0, z, 0.01 * z)),
        ("identity", lambda z: z),
    ],
)
def test_forward_values(name, expected):
    Z = np.linspace(-5, 5, 21).reshape(3, 7)
    np.testing.assert_allclose(ACTIVATIONS[name].forward(Z), expected(Z), rtol=1e-15)


def test_softmax_columns_sum_to_one_and_match_definition():
    Z = np.random.RandomState(0).randn(4, 6) * 3
    A = softmax(Z)
    np.testing.assert_allclose(A.sum(axis=0), 1.0, rtol=1e-15)
    np.testing.assert_allclose(A, np.exp(Z) / np.exp(Z).sum(axis=0), rtol=1e-13)


def test_softmax_is_stable_for_huge_logits():
    Z = np.array([[1000.0, -1000.0], [999.0, -1001.0], [-1000.0, 1000.0]])
    A = softmax(Z)
    assert np.all(np.isfinite(A))
    np.testing.assert_allclose(A.sum(axis=0), 1.0)
    np.testing.assert_allclose(A[:, 0], [1 / (1 + np.exp(-1)), np.exp(-1) / (1 + np.exp(-1)), 0])


def test_sigmoid_saturates_without_nan_or_warning():
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        s = sigmoid(np.array([-1000.0, 1000.0, 0.0]))
    assert s.tolist() == [0.0, 1.0, 0.5]
    Z = np.array([-1e3, 0, 1e3])
    assert np.all(np.isfinite(ACTIVATIONS["sigmoid"].backward(np.ones(3), Z)))


@pytest.mark.parametrize("name", NAMES)
def test_float32_is_kept(name):
    Z = np.random.RandomState(1).randn(3, 4).astype(np.float32)
    act = ACTIVATIONS[name]
    assert act.forward(Z).dtype == np.float32
    assert act.backward(np.ones_like(Z), Z).dtype == np.float32


def test_unknown_activation_is_a_clear_error():
    with pytest.raises(ValueError, match=r"unknown activation 'swish'.*relu"):
        get_activation("swish")
