"""The playground's extra 2-D sets (nnlab.datasets.toy) and its input feature maps
(nnlab.datasets.features)."""

import numpy as np
import pytest

from nnlab.datasets.features import FEATURES, check_feature_names, expand_features
from nnlab.datasets.toy import (
    DEFAULT_NOISE,
    TOY_SETS,
    make_gaussian_blobs,
    make_spiral,
    make_toy,
    make_xor,
)


@pytest.mark.parametrize("name", sorted(TOY_SETS))
def test_toy_sets_shapes_labels_and_balance(name):
    X, Y = make_toy(name, 101, random_state=4)
    assert X.shape == (2, 101) and Y.shape == (1, 101)
    assert X.dtype == np.float64 and Y.dtype == np.float64
    assert set(np.unique(Y)) == {0.0, 1.0}
    assert int((Y == 0).sum()) == 50  # class 0 first: m // 2 points
    assert np.all(Y[0, :50] == 0) and np.all(Y[0, 50:] == 1)
    assert np.all(np.isfinite(X))


@pytest.mark.parametrize("name", sorted(TOY_SETS))
def test_toy_sets_are_reproducible_from_the_seed_only(name):
    state = np.random.get_state()
    np.random.seed(123)
    a = make_toy(name, 60, random_state=7)
    np.random.seed(999)  # NumPy's global state must not matter
    b = make_toy(name, 60, random_state=7)
    c = make_toy(name, 60, random_state=8)
    np.random.set_state(state)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


def test_toy_sets_follow_their_formulas_without_noise():
    X, Y = make_xor(400, noise=0.0, random_state=0)
    assert np.all((X[0] * X[1] > 0) == (Y[0] == 1))
    assert np.all(np.abs(X) >= 0.1) and np.all(np.abs(X) <= 1.0)
    X, Y = make_gaussian_blobs(10, noise=0.0)
    assert np.all(X[:, :5] == -1.0) and np.all(X[:, 5:] == 1.0)
    X, Y = make_spiral(200, noise=0.0)
    r = np.hypot(X[0], X[1])
    assert np.allclose(r[:100], np.arange(100) / 100) and np.allclose(r[100:], r[:100])
    # the two arms are the same curve turned by π
    assert np.allclose(X[:, 100:], -X[:, :100])


def test_toy_noise_moves_points_and_samples_orientation():
    clean, _ = make_gaussian_blobs(50, noise=0.0, random_state=1)
    noisy, _ = make_gaussian_blobs(50, noise=DEFAULT_NOISE["blobs"], random_state=1)
    assert 0.2 < np.std(noisy - clean) < 0.6
    Xs, ys = make_spiral(30, random_state=2, as_samples=True)
    assert Xs.shape == (30, 2) and ys.shape == (30,) and ys.dtype == np.int64


@pytest.mark.parametrize(
    "kwargs, message",
    [({"n_points": 1}, "n_points=1 is out of range"), ({"n_points": 2.5}, "n_points=2.5"),
     ({"noise": -0.1}, "noise=-0.1 is out of range"), ({"noise": float("inf")}, "noise=inf")],
)
def test_toy_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_xor(**kwargs)
    with pytest.raises(ValueError, match="unknown toy set 'ring'"):
        make_toy("ring", 10)


def test_features_values_and_order():
    X = np.array([[0.5, -2.0, 3.0], [1.5, 4.0, -1.0]])
    out = expand_features(X, list(FEATURES))
    x1, x2 = X
    expected = [x1, x2, x1**2, x2**2, x1 * x2, np.sin(x1), np.sin(x2)]
    assert out.shape == (7, 3)
    assert np.allclose(out, np.vstack(expected))
    assert np.array_equal(expand_features(X, ["x2", "x1"]), X[::-1])


@pytest.mark.parametrize(
    "names, message",
    [([], "features is empty"), ("x1", "must be a list"), (["x1", "y"], "'y' is unknown"),
     (["x2", "x2"], "x2 is given more than once"), ([1], "1 is unknown")],
)
def test_bad_feature_names(names, message):
    with pytest.raises(ValueError, match=message):
        check_feature_names(names)


def test_expand_features_needs_2d_points():
    with pytest.raises(ValueError, match=r"expected \(2, m\)"):
        expand_features(np.zeros((3, 4)), ["x1"])
