"""Model in a notebook (issue 18): fit(metrics=...) recorded per epoch and in evaluate, each
equal to sklearn.metrics on the same predictions; verbose="auto" as fit's default; the HTML
reprs of Model and the estimators, rendered through IPython's display formatter."""

from __future__ import annotations

import numpy as np
import pytest
import sklearn.metrics as skm
from threadpoolctl import threadpool_limits

from nnlab import Dense, Model
from nnlab.callbacks import EarlyStopping, LambdaCallback
from nnlab.metrics import Metric


@pytest.fixture(autouse=True)
def _one_blas_thread():
    with threadpool_limits(1):
        yield


def _binary(m=240, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(m, 3)
    return X, (X[:, 0] - X[:, 1] + 0.5 * rng.randn(m) > 0.2).astype(int)


def _watch(model, X, X_val):
    """A callback keeping each epoch's predictions and outputs on X and X_val."""
    seen = []

    def keep(epoch, logs):
        seen.append((model.predict(X), model.forward(X), model.predict(X_val),
                     model.forward(X_val)))

    return seen, LambdaCallback(on_epoch_end=keep)


def balanced(y_true, y_pred):
    return skm.balanced_accuracy_score(y_true, y_pred)


def test_classifier_metrics_each_epoch_equal_sklearns():
    X, y = _binary()
    X_tr, y_tr, X_val, y_val = X[:180], y[:180], X[180:], y[180:]
    model = Model([Dense(6, "tanh"), Dense(1, "sigmoid")], learning_rate=0.02, random_state=0)
    seen, watch = _watch(model, X_tr, X_val)
    history = model.fit(X_tr, y_tr, epochs=6, batch_size=32, verbose=0, callbacks=[watch],
                        validation_data=(X_val, y_val),
                        metrics=["accuracy", "precision", "recall", "f1", "mae", balanced])
    assert list(history.history) == [
        "loss", "accuracy", "precision", "recall", "f1", "mae", "balanced", "val_loss",
        "val_accuracy", "val_precision", "val_recall", "val_f1", "val_mae", "val_balanced",
        "learning_rate"]
    reference = {"precision": skm.precision_score, "recall": skm.recall_score,
                 "f1": skm.f1_score, "balanced": skm.balanced_accuracy_score}
    for e, (pred, out, pred_val, out_val) in enumerate(seen):
        for name, fn in reference.items():
            assert history[name][e] == pytest.approx(fn(y_tr, pred), abs=1e-15), (name, e)
            assert history["val_" + name][e] == pytest.approx(fn(y_val, pred_val), abs=1e-15)
        assert history["mae"][e] == pytest.approx(skm.mean_absolute_error(y_tr, out[:, 0]))
        assert history["val_mae"][e] == pytest.approx(
            skm.mean_absolute_error(y_val, out_val[:, 0]))
        assert history["val_accuracy"][e] == pytest.approx(skm.accuracy_score(y_val, pred_val))
    assert len({round(v, 12) for v in history["f1"]}) > 1  # it moved: not one value six times
    scores = model.evaluate(X_val, y_val)  # the last fit's metrics
    assert scores["f1"] == pytest.approx(skm.f1_score(y_val, model.predict(X_val)))
    assert scores["balanced"] == history["val_balanced"][-1]
    assert set(model.evaluate(X_val, y_val, metrics=["recall"])) == {"loss", "accuracy",
                                                                     "recall"}


def test_regression_metrics_each_epoch_equal_sklearns():
    rng = np.random.RandomState(1)
    X = rng.randn(200, 4)
    Y = np.c_[X[:, 0] - 2 * X[:, 1], X[:, 2] * X[:, 3]] + 0.1 * rng.randn(200, 2)
    model = Model([Dense(8, "tanh"), Dense(2, "identity")], learning_rate=0.02, random_state=1)
    seen, watch = _watch(model, X[:150], X[150:])
    history = model.fit(X[:150], Y[:150], epochs=5, batch_size=50, verbose=0, callbacks=[watch],
                        validation_data=(X[150:], Y[150:]), metrics=["mae", "rmse", "r2"])
    reference = {"mae": skm.mean_absolute_error, "rmse": skm.root_mean_squared_error,
                 "r2": skm.r2_score}
    for e, (pred, _, pred_val, _) in enumerate(seen):
        for name, fn in reference.items():
            assert history[name][e] == pytest.approx(fn(Y[:150], pred), rel=1e-12)
            assert history["val_" + name][e] == pytest.approx(fn(Y[150:], pred_val), rel=1e-12)
    with pytest.raises(ValueError, match="'f1' needs a classifier"):
        model.fit(X, Y, verbose=0, metrics=["f1"])


def test_softmax_labels_reach_a_function_metric():
    rng = np.random.RandomState(2)
    X = rng.randn(150, 2)
    y = np.digitize(X[:, 0], [-0.5, 0.5])  # 3 classes
    model = Model([Dense(6, "tanh"), Dense(3, "softmax")], learning_rate=0.05, random_state=2)
    macro = Metric(lambda t, p: skm.f1_score(t, p, average="macro"), name="macro_f1")
    history = model.fit(X, y, epochs=3, verbose=0, metrics=[macro])
    assert history["macro_f1"][-1] == pytest.approx(
        skm.f1_score(y, model.predict(X), average="macro"))
    with pytest.raises(ValueError, match=r"'f1' is binary.*softmax of 3 units"):
        model.fit(X, y, verbose=0, metrics=["f1"])
    with pytest.raises(ValueError, match="records its own 'accuracy'"):
        model.fit(X, y, verbose=0, metrics=[Metric(skm.accuracy_score, name="accuracy")])


def test_without_metrics_or_with_accuracy_alone_the_epochs_share_calls(monkeypatch):
    """Metrics need each epoch's weights (a call per epoch); fit without them, or asking only
    for the accuracy a classifier records anyway, runs its epochs in shared calls and records
    the same history."""
    from nnlab.fast import FastTrainer

    calls = []
    run = FastTrainer.run
    monkeypatch.setattr(FastTrainer, "run",
                        lambda self, plan: calls.append(len(plan.orders)) or run(self, plan))
    X, y = _binary()
    X = X.astype(np.float32)
    histories = {}
    for metrics in (None, ["accuracy"], ["f1"]):
        calls.clear()
        model = Model([Dense(5, "tanh"), Dense(1, "sigmoid")], random_state=0)
        histories[str(metrics)] = model.fit(X, y, epochs=12, verbose=0, metrics=metrics).history
        if not calls:
            pytest.skip("the fast stepper does not run this network")
        assert sum(calls) == 12
        assert (len(calls) == 12) == (metrics == ["f1"]), (metrics, calls)
    assert histories["None"] == histories["['accuracy']"]
    with_f1 = dict(histories["['f1']"])
    assert with_f1.pop("f1") and with_f1 == histories["None"]


def test_history_plot_and_early_stopping_know_the_metrics():
    X, y = _binary()
    model = Model([Dense(5, "tanh"), Dense(1, "sigmoid")], learning_rate=0.05, random_state=0)
    stop = EarlyStopping(monitor="val_f1", patience=2)
    assert stop.mode == "max"
    assert EarlyStopping(monitor="val_rmse").mode == "min"
    history = model.fit(X, y, epochs=4, verbose=0, validation_split=0.25, metrics=["f1"],
                        callbacks=[stop])
    fig = history.plot()
    labels = [[line.get_label() for line in ax.get_lines()] for ax in fig.axes]
    assert ["f1", "val_f1"] in labels and ["loss", "val_loss"] == labels[0]


def test_verbose_auto_is_the_default_and_prints_a_few_lines_in_a_log(capsys):
    X, y = _binary(m=40)
    Model([Dense(3, "tanh"), Dense(1, "sigmoid")], random_state=0).fit(X, y, epochs=1000)
    lines = capsys.readouterr().out.splitlines()  # (pytest's capture is not a terminal)
    assert len(lines) == 21
    assert lines[0].startswith("Epoch 1/1000 - ") and lines[-1].startswith("Epoch 1000/1000 - ")
    with pytest.raises(ValueError, match=r"verbose='loud': expected 'auto', 0, 1 or 2"):
        Model([Dense(1, "sigmoid")]).fit(X, y, verbose="loud")


# --- HTML, as Jupyter renders it -------------------------------------------------------------
def _html(obj):
    from IPython.core.formatters import DisplayFormatter

    data, _ = DisplayFormatter().format(obj)
    return data


def test_model_html_is_the_summary_table_escaped():
    def spiky(n_l, n_prev, rng):
        return rng.randn(n_l, n_prev)

    spiky.__name__ = "<b>spiky</b>"
    model = Model([Dense(4, "tanh", init=spiky), Dense(1, "sigmoid")], input_dim=3)
    data = _html(model)
    assert data["text/plain"] == repr(model)
    html = data["text/html"]
    assert html.count("<table") == 1 and html.count("<tr>") == 3  # header + 2 layers
    assert "<th>activation</th>" in html and "<td>tanh</td>" in html and "<td>(4, 3)</td>" in html
    assert "&lt;b&gt;spiky&lt;/b&gt;" in html and "<b>" not in html
    assert "<p>total params: 21</p>" in html
    assert "total params: ?" in _html(Model([Dense(1, "sigmoid")]))["text/html"]


def test_estimator_html_adds_the_fitted_network_to_sklearns():
    from sklearn import config_context

    from nnlab import MLPRegressor

    rng = np.random.RandomState(0)
    X, y = rng.randn(60, 3), rng.randn(60)
    est = MLPRegressor(hidden_layer_sizes=(7, 5), max_iter=5, random_state=0)
    before = _html(est)["text/html"]
    assert "sk-top-container" in before and "nnlab-architecture" not in before
    with pytest.warns(Warning):  # (5 iterations do not converge)
        est.fit(X, y)
    html = _html(est)["text/html"]
    assert "sk-top-container" in html  # scikit-learn's diagram, still there
    assert "fitted network: 3 → 7 → 5 → 1" in html
    assert "<td>(5, 7)</td>" in html and "<td>identity</td>" in html
    assert est._repr_html_().endswith("</details>")
    with config_context(display="text"):  # scikit-learn's switch still turns HTML off
        assert "text/html" not in _html(est)
