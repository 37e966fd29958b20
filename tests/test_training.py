import numpy as np
import pytest

from nnlab import DivergenceError, initialize_parameters, predict, train
from nnlab.datasets import load_flower
from nnlab.optimizers import adam, inverse_time_decay


def _xor_data(seed=0, m=200):
    rng = np.random.RandomState(seed)
    X = rng.randn(2, m)
    Y = (X[0:1] * X[1:2] > 0).astype(float)
    return X, Y


def test_flower_matches_the_course():
    """The course's planar run: 2-4-1 tanh, randn*0.01 from seed 2, α = 1.2 (bit for bit the
    textbook's arithmetic: at α = 1.2 the path is sensitive enough that the whole-epoch kernel's
    rounding moves the cost at iteration 9000 in the fifth digit). The BLAS's summation order
    over the 400 examples moves it too: OpenBLAS's SkylakeX kernels give the course's 0.218550,
    its Haswell kernels (AVX2 machines) 0.218571 and its Sandybridge kernels 0.218556; so the
    cost is compared to the course's to 5e-5, and the count of correct examples exactly."""
    X, Y = load_flower()
    result = train(X, Y, [2, 4, 1], ["tanh", "sigmoid"], init="random", random_state=2,
                   learning_rate=1.2, num_epochs=10000, fast="exact")
    assert round(result.costs[0], 6) == 0.693048
    assert result.costs[9000] == pytest.approx(0.218550, abs=5e-5)
    correct = int((predict(X, result.params, ["tanh", "sigmoid"]) == Y).sum())
    assert correct == 363  # 90.75 % of 400


@pytest.mark.parametrize("optimizer", ["gd", "momentum", "rmsprop", "adam"])
@pytest.mark.parametrize("batch_size", [None, 32])
def test_training_reduces_cost_and_is_deterministic(optimizer, batch_size):
    X, Y = _xor_data()
    kwargs = dict(init="xavier", optimizer=optimizer, num_epochs=60, batch_size=batch_size,
                  learning_rate=0.05 if optimizer in ("gd", "momentum") else 0.01,
                  keep_probs=0.9, lambd=0.1, random_state=4)
    a = train(X, Y, [2, 8, 4, 1], ["tanh", "tanh", "sigmoid"], **kwargs)
    b = train(X, Y, [2, 8, 4, 1], ["tanh", "tanh", "sigmoid"], **kwargs)
    assert a.costs[-1] < a.costs[0]
    assert all(np.array_equal(a.params[k], b.params[k]) for k in a.params)  # bit for bit
    assert a.costs == b.costs
    c = train(X, Y, [2, 8, 4, 1], ["tanh", "tanh", "sigmoid"], **{**kwargs, "random_state": 5})
    assert not np.array_equal(a.params["W1"], c.params["W1"])


def test_adam_step_count_is_the_number_of_updates():
    X, Y = _xor_data(m=100)
    r = train(X, Y, [2, 3, 1], optimizer=adam(0.01), num_epochs=3, batch_size=30, random_state=0)
    assert r.optimizer_state.t == 3 * 4  # 100 examples in batches of 30: 4 per epoch


def test_float32_in_float32_out():
    X, Y = _xor_data()
    r = train(X.astype(np.float32), Y, [2, 4, 1], optimizer="adam", learning_rate=0.01,
              num_epochs=5, batch_size=50, random_state=0)
    assert {p.dtype for p in r.params.values()} == {np.dtype(np.float32)}


def test_params_given_and_callback_stops():
    X, Y = _xor_data()
    start = initialize_parameters([2, 4, 1], random_state=1)
    seen = []
    r = train(X, Y, params=start, num_epochs=100,
              callback=lambda epoch, params, cost: seen.append(epoch) or epoch == 9)
    assert r.epochs == 10 and seen == list(range(10)) and len(r.costs) == 10
    assert start["W1"] is not r.params["W1"]


def test_decay_schedule_applied_per_epoch():
    X, Y = _xor_data()
    r = train(X, Y, [2, 4, 1], num_epochs=4, learning_rate=0.1,
              decay=inverse_time_decay(0.1, 1.0), random_state=0)
    assert r.learning_rates == pytest.approx([0.1, 0.05, 0.1 / 3, 0.025])


def test_course_reseeding_protocols():
    """shuffle_rng / dropout_rng reproduce reseed-every-epoch and reseed-every-pass protocols."""
    X, Y = _xor_data()
    kw = dict(num_epochs=3, batch_size=64, random_state=3, keep_probs=0.8,
              shuffle_rng=lambda e: np.random.RandomState(11 + e),
              dropout_rng=lambda t: np.random.RandomState(1))
    a = train(X, Y, [2, 5, 1], **kw)
    b = train(X, Y, [2, 5, 1], **kw)
    assert all(np.array_equal(a.params[k], b.params[k]) for k in a.params)


def test_divergence_stops_with_last_finite_weights():
    X, Y = _xor_data()
    X = X * 1e3
    with pytest.raises(DivergenceError, match=r"diverged at epoch \d+.*smaller learning rate") as e:
        train(X, Y, [2, 4, 1], ["identity", "identity"], loss="mean_squared_error",
              learning_rate=10.0, num_epochs=1000, random_state=0)
    assert all(np.all(np.isfinite(v)) for v in e.value.params.values())


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"layer_dims": None}, "needs layer_dims"),
        ({"layer_dims": [3, 1]}, r"X has shape \(2, 200\)"),
        ({"lambd": -0.1}, "lambd=-0.1 is negative"),
        ({"learning_rate": 0.0}, "learning_rate=0.0"),
        ({"num_epochs": -1}, "num_epochs=-1"),
        ({"optimizer": "lbfgs"}, "unknown optimizer"),
        ({"keep_probs": 0.0}, "keep_prob=0.0"),
        ({"init": "orthogonal"}, "unknown init"),
    ],
)
def test_bad_arguments(kwargs, message):
    X, Y = _xor_data()
    args = {"layer_dims": [2, 3, 1], "num_epochs": 2, **kwargs}
    with pytest.raises(ValueError, match=message):
        train(X, Y, **args)


def test_non_finite_data_refused():
    X, Y = _xor_data()
    X[0, 3] = np.nan
    with pytest.raises(ValueError, match="NaN or infinity"):
        train(X, Y, [2, 3, 1], num_epochs=1)
