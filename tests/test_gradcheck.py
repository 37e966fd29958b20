import numpy as np
import pytest

from nnlab import (
    gradient_check,
    initialize_parameters,
    model_backward,
    model_forward,
    params_to_vector,
    vector_to_params,
)

ACTS = ["relu", "relu", "sigmoid"]


def _setup(seed=1):
    rng = np.random.RandomState(seed)
    X, Y = rng.randn(4, 3), np.array([[1, 0, 1]])
    params = initialize_parameters([4, 5, 3, 1], init="xavier", random_state=rng)
    params = {k: v + (rng.randn(*v.shape) * 0.1 if k.startswith("b") else 0)
              for k, v in params.items()}
    return params, X, Y


def test_vector_round_trip_and_order():
    params = {"W1": np.arange(6.0).reshape(2, 3), "b1": np.array([[10.0], [11.0]]),
              "W2": np.array([[20.0, 21.0]]), "b2": np.array([[30.0]])}
    theta = params_to_vector(params)
    # each array in C order; the weights of every layer, then the biases (nnlab's one layout)
    assert theta.tolist() == [0, 1, 2, 3, 4, 5, 20, 21, 10, 11, 30]
    back = vector_to_params(theta, params)
    assert list(back) == ["W1", "W2", "b1", "b2"]
    assert all(np.array_equal(back[k], params[k]) for k in params)
    with pytest.raises(ValueError, match="theta has shape"):
        vector_to_params(theta[:-1], params)


@pytest.mark.parametrize("lambd", [0.0, 0.7])
def test_correct_backprop_passes(lambd):
    params, X, Y = _setup()
    result = gradient_check(params, X, Y, ACTS, lambd=lambd)
    assert result.passed and result.difference < 1e-7
    assert float(result) == result.difference
    assert result.failing == []
    assert "passed" in result.report()


def test_planted_bugs_are_found_and_named():
    """The course's planted mistakes: dW2 doubled and db1 multiplied by 4."""
    params, X, Y = _setup()

    def broken(p, X, Y):
        AL, caches = model_forward(X, p, ACTS)
        grads = model_backward(AL, Y, caches)
        grads["dW2"] = grads["dW2"] * 2
        grads["db1"] = grads["db1"] * 4
        return grads

    result = gradient_check(params, X, Y, ACTS, grad_fn=broken)
    assert not result.passed and result.difference > 1e-2
    assert result.failing == ["b1", "W2"]
    assert "WRONG" in result.report()


def test_refused_with_dropout():
    params, X, Y = _setup()
    with pytest.raises(ValueError, match="refused with dropout"):
        gradient_check(params, X, Y, ACTS, keep_probs=0.8)


def test_independent_of_input_dtype():
    params, X, Y = _setup()
    p32 = {k: v.astype(np.float32) for k, v in params.items()}
    result = gradient_check(p32, X.astype(np.float32), Y, ACTS)
    assert result.passed  # computed in float64 whatever comes in
