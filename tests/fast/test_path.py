"""``explain_path``: the one decision of which stepper trains, and its reasons."""

import numpy as np
import pytest

from nnlab.fast import kernels
from nnlab.fast.path import COMPILED, DUAL, IN_PLACE, TEXTBOOK, explain_path
from nnlab.optimizers import Optimizer, adam

SMALL = dict(dtype=np.float64, dims=[2, 8, 1], activations=["relu", "sigmoid"])
WIDE = dict(dtype=np.float64, dims=[20000, 8, 1], activations=["relu", "sigmoid"])


def test_the_switch_and_its_environment_overrides(monkeypatch):
    monkeypatch.delenv("NNLAB_EXACT", raising=False)
    assert explain_path(optimizer="adam", fast=False, **SMALL).name == TEXTBOOK
    assert explain_path(optimizer="adam", fast="exact", **SMALL).name == IN_PLACE
    expected = COMPILED if kernels.enabled() else IN_PLACE
    assert explain_path(optimizer="adam", **SMALL).name == expected
    monkeypatch.setenv("NNLAB_EXACT", "1")  # every fast=True acts as "exact"
    assert explain_path(optimizer="adam", **SMALL).name == IN_PLACE
    monkeypatch.delenv("NNLAB_EXACT")
    monkeypatch.setenv("NNLAB_NUMBA", "0")  # NumPy alone: no whole epochs compiled
    path = explain_path(optimizer="adam", **SMALL)
    assert path.name == IN_PLACE and "NumPy alone" in path.reason
    for bad in ("yes", 1, None):
        with pytest.raises(ValueError, match="fast must be True, False or 'exact'"):
            explain_path(optimizer="adam", fast=bad, **SMALL)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"optimizer": "sgd"}, "the optimizer 'sgd' has no update on the fast path"),
        ({"dtype": np.float16}, "runs float32 or float64, not float16"),
        ({"activations": ["swish", "sigmoid"]}, "no activation 'swish'"),
        ({"loss": "hinge"}, "no loss 'hinge'"),
        ({"params": {"W1": 0, "b1": 0, "W2": 0, "b2": 0, "U1": 0}}, "more than W1"),
        ({"params": {"W1": 0, "gamma1": 0, "beta1": 0, "W2": 0, "b2": 0}}, "more than W1"),
    ],
)
def test_the_textbook_and_why(change, reason):
    kwargs = {"optimizer": "adam", **SMALL, **change}
    path = explain_path(**kwargs)
    assert path.name == TEXTBOOK and reason in path.reason and not path.fast


def test_a_hand_made_optimizer_named_like_a_fast_one_runs_the_textbook():
    custom = Optimizer(adam().init, lambda g, s, learning_rate=None: ({}, s), "adam", {})
    assert explain_path(optimizer=custom, **SMALL).name == TEXTBOOK
    assert explain_path(optimizer=adam(0.1), **SMALL).fast


def test_the_span_form_needs_plain_full_batch_descent_that_nobody_watches(monkeypatch):
    monkeypatch.delenv("NNLAB_EXACT", raising=False)
    assert explain_path(optimizer="gd", m=100, watched=False, **WIDE).name == DUAL
    assert explain_path(optimizer="gd", m=100, watched=True, **WIDE).name == IN_PLACE
    assert explain_path(optimizer="adam", m=100, watched=False, **WIDE).name == IN_PLACE
    assert explain_path(optimizer="gd", m=100, batch_size=10, watched=False,
                        **WIDE).name == IN_PLACE
    assert explain_path(optimizer="gd", m=100, lambd=0.1, watched=False,
                        **WIDE).name == IN_PLACE
    assert explain_path(optimizer="gd", m=100, watched=False, fast="exact",
                        **WIDE).name == IN_PLACE
