"""nnlab.metrics: each named metric equals its namesake in sklearn.metrics on the same
predictions; the registry's names, aliases and checks."""

from __future__ import annotations

import numpy as np
import pytest
import sklearn.metrics as skm
from hypothesis import given, settings
from hypothesis import strategies as st

from nnlab import metrics
from nnlab.metrics import METRICS, Metric, get_metric, get_metrics, metric_logs

LABEL_METRICS = {
    "accuracy": skm.accuracy_score,
    "precision": lambda t, p: skm.precision_score(t, p, zero_division=0),
    "recall": lambda t, p: skm.recall_score(t, p, zero_division=0),
    "f1": lambda t, p: skm.f1_score(t, p, zero_division=0),
}
VALUE_METRICS = {
    "mae": skm.mean_absolute_error,
    "rmse": skm.root_mean_squared_error,
    "r2": skm.r2_score,
}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 1), st.integers(0, 1)), min_size=1, max_size=40))
def test_the_label_metrics_equal_sklearns(pairs):
    """Every TP/FP/FN mix, the empty ones included (no positive predicted or present: 0, as
    sklearn's zero_division=0)."""
    y_true, y_pred = (np.array(v) for v in zip(*pairs, strict=True))
    for name, reference in LABEL_METRICS.items():
        assert METRICS[name](y_true, y_pred) == pytest.approx(reference(y_true, y_pred),
                                                              abs=1e-15), name


@pytest.mark.parametrize("columns", [None, 1, 3])
def test_the_value_metrics_equal_sklearns(columns):
    rng = np.random.RandomState(columns or 0)
    shape = (50,) if columns is None else (50, columns)
    y_true = rng.randn(*shape)
    y_pred = y_true + 0.3 * rng.randn(*shape)
    for name, reference in VALUE_METRICS.items():
        assert METRICS[name](y_true, y_pred) == pytest.approx(reference(y_true, y_pred),
                                                              rel=1e-12), name


def test_r2_of_a_constant_target_is_sklearns():
    y = np.full(5, 2.0)
    assert metrics.r2(y, y) == skm.r2_score(y, y) == 1.0
    assert metrics.r2(y, y + 0.1) == skm.r2_score(y, y + 0.1) == 0.0


def test_multiclass_accuracy_equals_sklearns():
    rng = np.random.RandomState(3)
    y_true, y_pred = rng.randint(0, 4, 60), rng.randint(0, 4, 60)
    assert metrics.accuracy(y_true, y_pred) == skm.accuracy_score(y_true, y_pred)


def test_names_aliases_and_functions():
    assert get_metric("mean_absolute_error") is METRICS["mae"]
    assert get_metric("f1_score") is METRICS["f1"]

    def balanced(y_true, y_pred):
        return skm.balanced_accuracy_score(y_true, y_pred)

    m = get_metric(balanced)
    assert (m.name, m.on) == ("balanced", "predictions")
    assert get_metric(Metric(balanced, name="bal")).name == "bal"
    with pytest.raises(ValueError, match="unknown metric 'auc'"):
        get_metric("auc")
    with pytest.raises(ValueError, match="expected 'predictions' or 'outputs'"):
        Metric(balanced, on="probabilities")
    with pytest.raises(ValueError, match="cannot be named 'val_f1'"):
        Metric(balanced, name="val_f1")
    with pytest.raises(ValueError, match="names or functions"):
        get_metric(3)


def test_get_metrics_checks_the_output_layer():
    assert [m.name for m in get_metrics(["f1", "mae"], "sigmoid", 1)] == ["f1", "mae"]
    assert [m.name for m in get_metrics("recall", "softmax", 2)] == ["recall"]
    with pytest.raises(ValueError, match=r"'f1' is binary.*softmax of 3 units"):
        get_metrics(["f1"], "softmax", 3)
    with pytest.raises(ValueError, match=r"'precision' needs a classifier.*identity of 1 unit"):
        get_metrics(["precision"], "identity", 1)
    with pytest.raises(ValueError, match="'accuracy' needs a classifier"):
        get_metrics(["accuracy"], "identity", 2)
    with pytest.raises(ValueError, match="two metrics are named 'mae'"):
        get_metrics(["mae", "mean_absolute_error"], "identity", 1)


def test_a_metric_must_return_one_number():
    m = Metric(lambda t, p: np.array([1.0, 2.0]), name="pair")
    with pytest.raises(ValueError, match="'pair' returned"):
        m(np.zeros(2), np.zeros(2))


def test_metric_logs_read_labels_or_outputs():
    """For a softmax output: labels are the argmax of A[L] against the argmax of the one-hot
    targets; outputs are A[L] against the one-hot targets."""
    AL = np.array([[0.7, 0.1, 0.2], [0.2, 0.3, 0.5], [0.1, 0.6, 0.3]])  # (n_L, m): 3 examples
    Y = np.eye(3)[[0, 1, 1]]  # (m, n_L)
    seen = {}

    def spy(y_true, y_pred):
        seen["labels"] = (y_true.tolist(), y_pred.tolist())
        return 0.0

    logs = metric_logs([Metric(spy), METRICS["mae"]], AL, Y, "softmax", "val_")
    assert seen["labels"] == ([0, 1, 1], [0, 2, 1])
    assert logs["val_mae"] == pytest.approx(skm.mean_absolute_error(Y, AL.T))
    assert list(logs) == ["val_spy", "val_mae"]
