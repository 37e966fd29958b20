import numpy as np
import pytest

from nnlab import random_mini_batches


def test_partition_sizes_and_remainder():
    X, Y = np.arange(600.0).reshape(2, 300), np.arange(300.0).reshape(1, 300)
    batches = random_mini_batches(X, Y, 64, random_state=0)
    assert [b[0].shape[1] for b in batches] == [64, 64, 64, 64, 44]
    assert [b[1].shape for b in batches][-1] == (1, 44)


def test_shuffle_is_the_course_permutation_and_keeps_pairs():
    X = np.arange(20.0).reshape(2, 10)
    Y = np.arange(10.0).reshape(1, 10)
    batches = random_mini_batches(X, Y, 4, random_state=11)
    order = np.random.RandomState(11).permutation(10)
    got_X = np.concatenate([b[0] for b in batches], axis=1)
    got_Y = np.concatenate([b[1] for b in batches], axis=1)
    np.testing.assert_array_equal(got_X, X[:, order])
    np.testing.assert_array_equal(got_Y, Y[:, order])
    np.testing.assert_array_equal(got_X[1] - 10, got_Y[0])  # columns stay with their labels


def test_full_batch_and_batch_of_one():
    X, Y = np.ones((3, 5)), np.zeros((1, 5))
    assert len(random_mini_batches(X, Y, None, random_state=0)) == 1
    assert len(random_mini_batches(X, Y, 1, random_state=0)) == 5


@pytest.mark.parametrize(
    "X, Y, batch, message",
    [
        (np.ones((2, 5)), np.ones((1, 4)), 2, "same m"),
        (np.ones(5), np.ones((1, 5)), 2, "same m"),
        (np.ones((2, 5)), np.ones((1, 5)), 0, "batch_size=0"),
        (np.ones((2, 5)), np.ones((1, 5)), 2.5, "batch_size=2.5"),
    ],
)
def test_bad_input(X, Y, batch, message):
    with pytest.raises(ValueError, match=message):
        random_mini_batches(X, Y, batch, random_state=0)
