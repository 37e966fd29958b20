import ast
import pathlib

import numpy as np
import pytest

from nnlab import train
from nnlab._random import check_random_state

SRC = pathlib.Path(__file__).resolve().parents[1] / "src" / "nnlab"
# constructors of explicit generators are fine; any other np.random.<fn> call uses global state
ALLOWED = {"RandomState", "Generator", "default_rng", "SeedSequence", "PCG64", "MT19937"}


def _random_attributes(tree: ast.AST):
    """Every ``np.random.X`` / ``numpy.random.X`` in the code (not in strings or comments)."""
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute)
                and node.value.attr == "random" and isinstance(node.value.value, ast.Name)
                and node.value.value.id in ("np", "numpy")):
            yield node.lineno, node.attr


def test_no_global_numpy_random_calls_in_the_package():
    offenders = [
        f"{path.name}:{lineno}: np.random.{name}"
        for path in SRC.rglob("*.py")
        for lineno, name in _random_attributes(ast.parse(path.read_text()))
        if name not in ALLOWED
    ]
    assert offenders == []
    # the check itself can fail
    assert list(_random_attributes(ast.parse("np.random.seed(0)"))) == [(1, "seed")]


def test_training_leaves_the_global_state_alone():
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    rng = np.random.RandomState(0)
    X = rng.randn(2, 50)
    Y = (X[0:1] > 0).astype(float)
    train(X, Y, [2, 4, 1], num_epochs=3, batch_size=10, keep_probs=0.5, random_state=None)
    train(X, Y, [2, 4, 1], num_epochs=3, batch_size=10, keep_probs=0.5, random_state=7)
    assert np.array_equal(np.random.get_state()[1], before)


def test_check_random_state():
    assert check_random_state(3).randn() == np.random.RandomState(3).randn()
    g = np.random.default_rng(0)
    assert check_random_state(g) is g
    assert isinstance(check_random_state(None), np.random.RandomState)
    with pytest.raises(TypeError, match="not usable as a seed"):
        check_random_state(1.5)
    with pytest.raises(TypeError):
        check_random_state(True)


@pytest.mark.parametrize("seed", [0, 1, 3, 42, 2**31, 2**32 - 1, np.int64(7), np.uint32(9)])
def test_seeded_generators_are_randomstate_seed_bit_for_bit(seed):
    """check_random_state(int) builds its RandomState without the OS entropy (seeded): the whole
    state, the Gaussian cache and every later draw equal np.random.RandomState(seed)'s."""
    fast, plain = check_random_state(seed), np.random.RandomState(seed)
    assert type(fast) is np.random.RandomState
    a, b = fast.get_state(), plain.get_state()
    assert a[0] == b[0] and np.array_equal(a[1], b[1]) and a[2:] == b[2:]
    assert np.array_equal(fast.randn(1001), plain.randn(1001))  # odd count: a cached Gaussian
    assert np.array_equal(fast.permutation(300), plain.permutation(300))
    assert fast.get_state()[2:] == plain.get_state()[2:]


def test_seeded_generators_are_independent_objects():
    first, second = check_random_state(5), check_random_state(5)
    assert first is not second
    first.rand(10)
    assert np.array_equal(second.rand(3), np.random.RandomState(5).rand(3))
