"""The building blocks: course numbers, accuracies, cost sampling, reseeded generators."""

from __future__ import annotations

import numpy as np
import pytest

from nnlab.experiments import resolve
from nnlab.experiments._core import (
    Accuracy,
    Reseeded,
    accuracy_row,
    course,
    course_truncated,
    divide_by_sqrt_fan_in,
    format_percent,
    sample_costs,
)


def test_format_percent_keeps_digits_that_rounding_would_hide():
    assert format_percent(100 * 207 / 209) == "99.04 %"
    assert format_percent(70.0) == "70 %"
    assert format_percent(67.5) == "67.5 %"
    assert format_percent(100 * 186 / 209) == "89.00 %"  # 88.995...: not exactly 89


def test_course_number_matches_by_count_only():
    expected = course(207, 209)
    assert expected.text == "99.04 %"
    assert expected.matches(Accuracy(207, 209))
    assert not expected.matches(Accuracy(206, 209))
    assert not expected.matches(Accuracy(207, 210))


def test_truncated_course_number_stands_for_every_count_that_prints_the_same():
    expected = course_truncated(47, 400)
    assert expected.counts == (188, 189, 190, 191)
    assert expected.matches(Accuracy(190, 400)) and not expected.matches(Accuracy(192, 400))


def test_rows_say_match_differs_or_nothing():
    assert accuracy_row("x", "s", course(3, 4), Accuracy(3, 4)).match is True
    assert accuracy_row("x", "s", course(3, 4), Accuracy(2, 4)).match is False
    row = accuracy_row("x", "s", None, Accuracy(2, 4))
    assert row.match is None and row.course == "—" and row.nnlab == "50 % (2/4)"


def test_sample_costs_every_100_and_the_last():
    costs = [float(i) for i in range(250)]
    assert sample_costs(costs) == [(0, 0.0), (100, 100.0), (200, 200.0), (249, 249.0)]
    assert sample_costs(costs[:201]) == [(0, 0.0), (100, 100.0), (200, 200.0)]


def test_reseeded_draws_what_a_fresh_random_state_draws():
    shuffles = Reseeded(11)
    for epoch in (0, 1, 57):
        expected = np.random.RandomState(11 + epoch).permutation(300)
        np.testing.assert_array_equal(shuffles(epoch).permutation(300), expected)
    masks = Reseeded(1, constant=True)
    first = masks(0).rand(3, 4)
    np.testing.assert_array_equal(masks(999).rand(3, 4), first)
    np.testing.assert_array_equal(first, np.random.RandomState(1).rand(3, 4))


def test_divide_by_sqrt_fan_in_is_the_course_formula():
    W = divide_by_sqrt_fan_in(20, 2, np.random.RandomState(3))
    np.testing.assert_array_equal(W, np.random.RandomState(3).randn(20, 2) / np.sqrt(2))


def test_resolve_names_letters_and_order():
    assert resolve(None)[0] == "logistic" and len(resolve(None)) == 12
    assert resolve(None)[-1] == "batchnorm" and resolve(["l"]) == ["batchnorm"]
    assert resolve(["G", "planar", "b"]) == ["planar", "gradcheck"]
    with pytest.raises(ValueError, match=r"unknown experiment .zzz.*a/logistic"):
        resolve(["zzz"])
