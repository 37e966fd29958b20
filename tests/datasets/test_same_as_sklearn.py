"""nnlab's own make_moons, make_circles and train_test_split give scikit-learn's arrays bit for
bit (so that ``nnlab train`` need not import scikit-learn, and every number stays the same)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from sklearn import datasets as skd
from sklearn import model_selection

from nnlab.datasets.split import train_test_split
from nnlab.datasets.synthetic import make_circles, make_moons
from nnlab.runs.config import TrainConfig
from nnlab.runs.run import prepare_data


def same_bits(mine: tuple[np.ndarray, ...], theirs: tuple[np.ndarray, ...]) -> bool:
    """Equal shapes, dtypes and bytes, array by array."""
    return len(mine) == len(theirs) and all(
        a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()
        for a, b in zip(mine, theirs, strict=True))


@pytest.mark.parametrize("name", ["moons", "circles"])
def test_the_generators_equal_scikit_learns(name):
    mine, theirs = {"moons": (make_moons, skd.make_moons),
                    "circles": (make_circles, skd.make_circles)}[name]
    cases = itertools.product([1, 2, 7, 100, 300, 301], [None, 0.0, 0.05, 0.2, 1.5],
                              [0, 1, 3, 2**32 - 1], [True, False])
    for n, noise, seed, shuffle in cases:
        for as_state in (False, True):  # an int seed, and a RandomState that both advance
            rng_a = np.random.RandomState(seed) if as_state else seed
            rng_b = np.random.RandomState(seed) if as_state else seed
            a = mine(n, noise=noise, shuffle=shuffle, random_state=rng_a)
            b = theirs(n, noise=noise, shuffle=shuffle, random_state=rng_b)
            assert same_bits(a, b), (name, n, noise, seed, shuffle)
            if as_state:  # the same draws: both generators are left in the same state
                assert rng_a.randint(2**31) == rng_b.randint(2**31)
    assert same_bits(make_circles(50, noise=0.1, random_state=5, factor=0.3),
                     skd.make_circles(50, noise=0.1, random_state=5, factor=0.3))


def _labels(kind: str, m: int, k: int, seed: int) -> np.ndarray:
    rng = np.random.RandomState(seed)
    if kind == "uniform":
        return rng.randint(0, k, size=m)
    if kind == "skewed":  # class i about (i + 1) times as common as class 0
        return rng.choice(k, size=m, p=np.arange(1, k + 1) / (k * (k + 1) / 2))
    return np.repeat(np.arange(k), m // k + 1)[:m]  # "equal": ties in every share


@pytest.mark.parametrize("stratified", [False, True])
def test_the_split_equals_scikit_learns(stratified):
    compared = 0
    cases = itertools.product([6, 11, 60, 301], [2, 3, 7], ["uniform", "skewed", "equal"],
                              [0.05, 0.2, 0.25, 1 / 3, 0.5, 0.9], [0, 3, 1234])
    for m, k, kind, test_size, seed in cases:
        y = _labels(kind, m, k, seed)
        X = np.random.RandomState(seed + 1).normal(size=(m, 3))
        stratify = y if stratified else None
        try:
            theirs = model_selection.train_test_split(X, y, test_size=test_size,
                                                      random_state=seed, stratify=stratify)
        except ValueError:  # too few of a class, or of the held-out part: both refuse
            with pytest.raises(ValueError):
                train_test_split(X, y, test_size=test_size, random_state=seed,
                                 stratify=stratify)
            continue
        mine = train_test_split(X, y, test_size=test_size, random_state=seed, stratify=stratify)
        assert same_bits(tuple(mine), tuple(theirs)), (m, k, kind, test_size, seed)
        compared += 1
    assert compared > 300  # most cases are splits, not errors


@pytest.mark.parametrize("test_size", [0.0, 1.0, -0.1])
def test_a_split_that_leaves_nothing_is_refused(test_size):
    X, y = np.zeros((10, 2)), np.arange(10) % 2
    with pytest.raises(ValueError, match="test_size"):
        train_test_split(X, y, test_size=test_size, random_state=0)
    with pytest.raises(ValueError, match="leaves none"):
        train_test_split(X[:1], y[:1], test_size=0.5, random_state=0)


@pytest.mark.parametrize("dataset,seed", [("moons", 0), ("iris", 4), ("diabetes", 2),
                                          ("circles", 1)])
def test_a_runs_validation_split_is_scikit_learns(dataset, seed):
    config = TrainConfig(dataset=dataset, val_split=0.2, seed=seed)
    prepared = prepare_data(config)
    full = prepare_data(TrainConfig(dataset=dataset, seed=seed))
    stratify = None if full.task == "regression" else full.y_train
    X, X_val, y, y_val = model_selection.train_test_split(
        full.X_train, full.y_train, test_size=0.2, random_state=seed, stratify=stratify)
    assert same_bits((prepared.X_train, prepared.X_val, prepared.y_train, prepared.y_val),
                     (X, X_val, y, y_val))
