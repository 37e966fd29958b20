import numpy as np
import pytest

from nnlab import initialize_parameters


def _course_draws(seed, dims, factor):
    """What the course's code draws: np.random.seed(seed), then one randn per layer, W1 first."""
    state = np.random.get_state()
    try:
        np.random.seed(seed)
        return [np.random.randn(dims[l], dims[l - 1]) * factor(dims[l - 1])
                for l in range(1, len(dims))]
    finally:
        np.random.set_state(state)


@pytest.mark.parametrize(
    "init, factor",
    [
        ("random", lambda n: 0.01),
        ("he", lambda n: np.sqrt(2.0 / n)),
        ("xavier", lambda n: np.sqrt(1.0 / n)),
    ],
)
def test_random_state_gives_the_course_weights_exactly(init, factor):
    dims = [5, 4, 3, 1]
    params = initialize_parameters(dims, init=init, random_state=3)
    expected = _course_draws(3, dims, factor)
    for l in range(1, len(dims)):
        assert np.array_equal(params[f"W{l}"], expected[l - 1])
        assert params[f"W{l}"].shape == (dims[l], dims[l - 1])
        assert np.array_equal(params[f"b{l}"], np.zeros((dims[l], 1)))


def test_zeros_and_scaled_random():
    p = initialize_parameters([3, 2, 1], init="zeros")
    assert all(not v.any() for v in p.values())
    big = initialize_parameters([3, 2, 1], init="random", scale=10, random_state=3)
    assert np.array_equal(big["W1"], _course_draws(3, [3, 2, 1], lambda n: 10)[0])


def test_same_seed_same_weights_and_generator_accepted():
    a = initialize_parameters([4, 3, 2], random_state=7)
    b = initialize_parameters([4, 3, 2], random_state=np.random.RandomState(7))
    assert all(np.array_equal(a[k], b[k]) for k in a)
    g1 = initialize_parameters([4, 3, 2], random_state=np.random.default_rng(7))
    g2 = initialize_parameters([4, 3, 2], random_state=np.random.default_rng(7))
    assert all(np.array_equal(g1[k], g2[k]) for k in g1)


def test_dtype_float32():
    p = initialize_parameters([3, 2, 1], random_state=0, dtype=np.float32)
    assert {v.dtype for v in p.values()} == {np.dtype(np.float32)}


def test_custom_initializer():
    p = initialize_parameters([3, 2], init=lambda n_l, n_prev, rng: np.ones((n_l, n_prev)))
    assert p["W1"].tolist() == [[1, 1, 1], [1, 1, 1]]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"layer_dims": [3]}, "at least two"),
        ({"layer_dims": [3, 0, 1]}, r"layer_dims\[1\]=0"),
        ({"layer_dims": [3, 2.5, 1]}, r"layer_dims\[1\]=2.5"),
        ({"layer_dims": [3, 1], "init": "glorot"}, "unknown init 'glorot'"),
        ({"layer_dims": [3, 1], "init": "he", "scale": 2.0}, "only applies to init='random'"),
        ({"layer_dims": [3, 1], "dtype": np.int64}, "not a float dtype"),
        ({"layer_dims": [3, 1], "random_state": "seed"}, "not usable as a seed"),
        ({"layer_dims": [3, 1], "random_state": -1}, "out of range"),
    ],
)
def test_bad_arguments_are_clear_errors(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        initialize_parameters(**kwargs)
