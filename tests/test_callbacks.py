"""Callbacks: hook order, EarlyStopping, schedules, ReduceLROnPlateau, TerminateOnNaN, CSV, bar."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from nnlab import Dense, DivergenceError, Model
from nnlab.callbacks import (
    Callback,
    CSVLogger,
    EarlyStopping,
    History,
    LambdaCallback,
    LearningRateScheduler,
    ProgressBar,
    ReduceLROnPlateau,
    TerminateOnNaN,
)


@pytest.fixture(autouse=True)
def _one_blas_thread():
    """One BLAS thread per test process: the suite runs with ``-n 2`` on shared cores, where
    OpenBLAS's threads on these small matrices spin against each other (measured 7x slower)."""
    with threadpool_limits(1):
        yield


def _data(m=200, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(m, 3)
    return X, (X[:, 0] - X[:, 1] > 0).astype(int)


def _model(**kwargs):
    kwargs.setdefault("learning_rate", 0.01)
    return Model([Dense(5, "tanh"), Dense(1, "sigmoid")], random_state=0, **kwargs)


class _FakeModel:
    """Just what the callbacks touch: params, learning_rate, stop_training."""

    def __init__(self):
        self.params = {"W1": np.zeros((1, 1))}
        self.learning_rate = 1.0
        self.stop_training = False


def _drive(callback, values, monitor="val_loss"):
    """Feed ``values`` of ``monitor`` epoch by epoch; return the epochs run and the model."""
    model = _FakeModel()
    callback.set_model(model)
    callback.on_train_begin({})
    ran = 0
    for epoch, value in enumerate(values):
        model.params = {"W1": np.full((1, 1), float(epoch))}
        callback.on_epoch_end(epoch, {monitor: value})
        ran += 1
        if model.stop_training:
            break
    callback.on_train_end({})
    return ran, model


def test_hooks_are_called_in_order_with_params():
    calls = []

    class Recorder(Callback):
        def on_train_begin(self, logs=None):
            calls.append(("train_begin", dict(self.params)))

        def on_epoch_begin(self, epoch, logs=None):
            calls.append(("epoch_begin", epoch))

        def on_batch_end(self, batch, logs=None):
            calls.append(("batch_end", batch, logs["size"]))

        def on_epoch_end(self, epoch, logs=None):
            calls.append(("epoch_end", epoch, sorted(logs)))

        def on_train_end(self, logs=None):
            calls.append(("train_end",))

    X, y = _data(m=50)
    model = _model()
    rec = Recorder()
    model.fit(X, y, epochs=2, batch_size=20, callbacks=[rec], verbose=0)
    assert rec.model is model
    keys = ["accuracy", "learning_rate", "loss"]
    assert calls == [
        ("train_begin", {"epochs": 2, "steps": 3, "samples": 50, "batch_size": 20,
                         "initial_epoch": 0}),
        ("epoch_begin", 0), ("batch_end", 0, 20.0), ("batch_end", 1, 20.0),
        ("batch_end", 2, 10.0), ("epoch_end", 0, keys),
        ("epoch_begin", 1), ("batch_end", 0, 20.0), ("batch_end", 1, 20.0),
        ("batch_end", 2, 10.0), ("epoch_end", 1, keys),
        ("train_end",),
    ]


def test_stop_training_from_a_batch_hook_stops_after_that_batch():
    class StopAtSecondBatch(Callback):
        def on_batch_end(self, batch, logs=None):
            if batch == 1:
                self.model.stop_training = True

    X, y = _data(m=100)
    h = _model().fit(X, y, epochs=5, batch_size=10, callbacks=[StopAtSecondBatch()], verbose=0)
    assert len(h) == 1


def test_early_stopping_patience_and_min_delta():
    values = [1.0, 0.9, 0.95, 0.96, 0.97, 0.5]
    ran, _ = _drive(EarlyStopping(patience=2), values)
    assert ran == 4  # epochs 2 and 3 did not improve on 0.9: stop after epoch 3
    ran, _ = _drive(EarlyStopping(patience=0), values)
    assert ran == 3
    ran, _ = _drive(EarlyStopping(patience=10), values)
    assert ran == 6
    # with min_delta=0.2 nothing after the first epoch counts as an improvement
    es = EarlyStopping(patience=1, min_delta=0.2)
    ran, _ = _drive(es, values)
    assert ran == 2 and es.best == 1.0 and es.best_epoch == 0 and es.stopped_epoch == 1


def test_early_stopping_maximizes_accuracies_and_restores_best_weights():
    es = EarlyStopping(monitor="val_accuracy", patience=1, restore_best_weights=True)
    assert es.mode == "max"
    ran, model = _drive(es, [0.5, 0.8, 0.7, 0.6, 0.9], monitor="val_accuracy")
    assert ran == 3 and es.best == 0.8 and es.best_epoch == 1
    assert model.params["W1"][0, 0] == 1.0  # the weights of epoch 1, put back


def test_early_stopping_baseline():
    ran, _ = _drive(EarlyStopping(patience=2, baseline=0.5), [0.9, 0.8, 0.7, 0.4])
    assert ran == 2


def test_early_stopping_on_a_real_fit_restores_the_best_validation_loss():
    X, y = _data(m=300)
    model = _model(learning_rate=0.5, optimizer="gd")
    rng = np.random.RandomState(1)
    y_noisy = np.where(rng.rand(300) < 0.3, 1 - y, y)  # label noise: the validation loss turns
    es = EarlyStopping(patience=5, restore_best_weights=True)
    h = model.fit(X[:, :2] ** 3, y_noisy, epochs=400, validation_split=0.3,
                  callbacks=[es], verbose=0)
    assert es.stopped_epoch is not None and len(h) == es.stopped_epoch + 1 < 400
    best = min(h.val_loss)
    assert es.best == best
    val = model.evaluate(X[-90:, :2] ** 3, y_noisy[-90:])["loss"]
    assert val == pytest.approx(best, rel=1e-12)


def test_monitoring_something_not_recorded_is_a_clear_error():
    X, y = _data(m=40)
    with pytest.raises(ValueError, match=r"'val_loss'.*validation_data.*available: accuracy"):
        _model().fit(X, y, epochs=2, callbacks=[EarlyStopping()], verbose=0)
    with pytest.raises(ValueError, match="mode="):
        EarlyStopping(mode="up")


def test_learning_rate_scheduler_sets_the_rate_each_epoch():
    X, y = _data(m=40)
    h = _model().fit(X, y, epochs=4, verbose=0,
                     callbacks=[LearningRateScheduler(lambda e: 0.1 / (e + 1))])
    assert h.learning_rate == [0.1, 0.05, 0.1 / 3, 0.025]
    with pytest.raises(ValueError, match=r"learning rate -1\.0 at epoch 0"):
        _model().fit(X, y, epochs=1, verbose=0, callbacks=[LearningRateScheduler(lambda e: -1.0)])


def test_reduce_lr_on_plateau():
    cb = ReduceLROnPlateau(factor=0.5, patience=2, min_delta=0.0)
    model = _FakeModel()
    cb.set_model(model)
    cb.on_train_begin({})
    lrs = []
    for epoch, v in enumerate([1.0, 0.9, 0.9, 0.9, 0.9, 0.9, 0.8]):
        cb.on_epoch_end(epoch, {"val_loss": v})
        lrs.append(model.learning_rate)
    assert lrs == [1.0, 1.0, 1.0, 0.5, 0.5, 0.25, 0.25]
    # cooldown (Keras's count: the epoch that ends the cooldown counts again) and min_lr
    for min_lr, expected in [(1e-3, [1.0, 0.1, 0.1, 0.01, 0.01, 0.001, 0.001]),
                             (0.05, [1.0, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05])]:
        cb = ReduceLROnPlateau(factor=0.1, patience=1, cooldown=2, min_lr=min_lr, min_delta=0.0)
        model = _FakeModel()
        cb.set_model(model)
        cb.on_train_begin({})
        lrs = []
        for epoch in range(7):
            cb.on_epoch_end(epoch, {"val_loss": 1.0})
            lrs.append(model.learning_rate)
        assert lrs == pytest.approx(expected, rel=1e-12)
    with pytest.raises(ValueError, match="factor"):
        ReduceLROnPlateau(factor=1.5)


def test_reduce_lr_on_plateau_in_a_fit_is_recorded_in_the_history():
    X, y = _data(m=60)
    h = _model(optimizer="gd", learning_rate=1e-9).fit(
        X, y, epochs=6, verbose=0,
        callbacks=[ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1, min_delta=1.0)])
    # epoch 0 improves on +inf; from epoch 1 on, no epoch improves by 1.0: halve after each
    assert h.learning_rate == [1e-9, 1e-9, 5e-10, 2.5e-10, 1.25e-10, 6.25e-11]


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning", "ignore:invalid:RuntimeWarning")
def test_terminate_on_nan_stops_instead_of_raising():
    X, y = _data(m=64)
    X = X * 1e3

    def model():
        return Model([Dense(32, "relu"), Dense(1, "identity")], optimizer="gd",
                     learning_rate=50.0, random_state=0)

    with pytest.raises(DivergenceError):
        model().fit(X, y, epochs=100, batch_size=16, verbose=0)
    m, term = model(), TerminateOnNaN()
    with pytest.warns(RuntimeWarning, match="TerminateOnNaN"):
        h = m.fit(X, y, epochs=100, batch_size=16, callbacks=[term], verbose=0)
    assert term.terminated_batch is not None and len(h) < 100
    assert all(np.isfinite(v) for v in h.loss)
    assert all(np.all(np.isfinite(p)) for p in m.params.values())


def test_csv_logger_writes_one_row_per_epoch(tmp_path):
    path = tmp_path / "log.csv"
    X, y = _data(m=40)
    model = _model()
    h = model.fit(X, y, epochs=3, validation_data=(X[:10], y[:10]), verbose=0,
                  callbacks=[CSVLogger(str(path))])
    rows = list(csv.DictReader(path.open()))
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2]
    assert sorted(rows[0]) == sorted(["epoch", "loss", "accuracy", "val_loss", "val_accuracy",
                                      "learning_rate"])
    assert [float(r["loss"]) for r in rows] == pytest.approx(h.loss, rel=1e-12)
    model.fit(X, y, epochs=5, initial_epoch=3, validation_data=(X[:10], y[:10]), verbose=0,
              callbacks=[CSVLogger(str(path), append=True)])
    rows = list(csv.DictReader(path.open()))
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2, 3, 4]  # one header, appended rows


def test_progress_bar_one_line_per_epoch_when_not_a_terminal():
    out = io.StringIO()
    X, y = _data(m=40)
    _model().fit(X, y, epochs=3, batch_size=10, callbacks=[ProgressBar(out)], verbose=0)
    lines = out.getvalue().splitlines()
    assert len(lines) == 3 and "\r" not in out.getvalue()
    assert lines[0].startswith("Epoch 1/3 - loss: ") and "accuracy: " in lines[0]


def test_progress_bar_on_a_terminal_draws_a_bar():
    class Tty(io.StringIO):
        def isatty(self):
            return True

    out = Tty()
    X, y = _data(m=40)
    _model().fit(X, y, epochs=2, batch_size=10, callbacks=[ProgressBar(out)], verbose=0)
    text = out.getvalue()
    assert "\r" in text and "[" + "=" * 30 + "] 40/40" in text
    assert text.count("\n") == 2
    out = Tty()
    _model().fit(X, y, epochs=2, batch_size=10, verbose=0,
                 callbacks=[ProgressBar(out, per_epoch_lines=True)])
    assert "\r" not in out.getvalue() and out.getvalue().count("\n") == 2


def test_verbose_fit_prints_one_line_per_epoch(capsys):
    X, y = _data(m=40)
    _model().fit(X, y, epochs=4, verbose=1)
    assert len(capsys.readouterr().out.splitlines()) == 4
    _model().fit(X, y, epochs=4, verbose=0)
    assert capsys.readouterr().out == ""


# --- LambdaCallback and History.plot (issue 18) -----------------------------------------------


def test_lambda_callback_calls_each_function_as_its_hook():
    calls = []
    cb = LambdaCallback(
        on_train_begin=lambda logs: calls.append(("train_begin", logs)),
        on_epoch_begin=lambda epoch, logs: calls.append(("epoch_begin", epoch)),
        on_batch_end=lambda batch, logs: calls.append(("batch_end", batch, logs["size"])),
        on_epoch_end=lambda epoch, logs: calls.append(("epoch_end", epoch, sorted(logs))),
        on_train_end=lambda logs: calls.append(("train_end", logs)),
    )
    assert isinstance(cb, LambdaCallback)
    X, y = _data(m=50)
    model = _model()
    model.fit(X, y, epochs=2, batch_size=20, callbacks=[cb], verbose=0)
    assert cb.model is model
    keys = ["accuracy", "learning_rate", "loss"]
    assert calls == [
        ("train_begin", {}),
        ("epoch_begin", 0), ("batch_end", 0, 20.0), ("batch_end", 1, 20.0),
        ("batch_end", 2, 10.0), ("epoch_end", 0, keys),
        ("epoch_begin", 1), ("batch_end", 0, 20.0), ("batch_end", 1, 20.0),
        ("batch_end", 2, 10.0), ("epoch_end", 1, keys),
        ("train_end", {}),
    ]


def test_lambda_callback_with_some_hooks_and_positional_arguments():
    ends, begins = [], []
    cb = LambdaCallback(lambda epoch, logs: begins.append(epoch),
                        lambda epoch, logs: ends.append(logs["loss"]))
    X, y = _data(m=40)
    history = _model().fit(X, y, epochs=5, callbacks=[cb], verbose=0)
    assert begins == [0, 1, 2, 3, 4] and ends == history.loss
    # a batch function given by position is called after every batch too
    batches = []
    by_position = LambdaCallback(None, None, lambda batch, logs: batches.append(batch))
    _model().fit(X, y, epochs=2, batch_size=20, callbacks=[by_position], verbose=0)
    assert batches == [0, 1, 0, 1]


def test_lambda_callback_stops_training_through_its_model():
    holder = {}

    def stop_at_two(epoch, logs):
        if epoch == 2:
            holder["cb"].model.stop_training = True

    holder["cb"] = cb = LambdaCallback(on_epoch_end=stop_at_two)
    X, y = _data(m=40)
    assert len(_model().fit(X, y, epochs=10, callbacks=[cb], verbose=0)) == 3


def test_lambda_callback_refuses_what_is_not_a_function():
    with pytest.raises(ValueError, match="on_epoch_end=3"):
        LambdaCallback(on_epoch_end=3)


def _history():
    h = History()
    rows = [(0.9, 0.6, 1.0, 0.5), (0.6, 0.7, 0.8, 0.6), (0.4, 0.8, 0.75, 0.7)]
    for e, (loss, acc, val_loss, val_acc) in enumerate(rows, start=3):
        h.append(e, {"loss": loss, "accuracy": acc, "val_loss": val_loss,
                     "val_accuracy": val_acc, "learning_rate": 0.01})
    return h


def _lines(ax):
    return {line.get_label(): (line.get_xdata().tolist(), line.get_ydata().tolist())
            for line in ax.get_lines()}


def test_history_plot_draws_each_metric_with_its_validation_twin():
    fig = _history().plot()
    assert len(fig.axes) == 2  # loss and accuracy; the learning rate only when asked
    loss_ax, acc_ax = fig.axes
    assert _lines(loss_ax) == {"loss": ([3, 4, 5], [0.9, 0.6, 0.4]),
                               "val_loss": ([3, 4, 5], [1.0, 0.8, 0.75])}
    assert _lines(acc_ax) == {"accuracy": ([3, 4, 5], [0.6, 0.7, 0.8]),
                              "val_accuracy": ([3, 4, 5], [0.5, 0.6, 0.7])}
    assert loss_ax.get_xlabel() == "epoch" and acc_ax.get_ylabel() == "accuracy"
    assert [t.get_text() for t in loss_ax.get_legend().get_texts()] == ["loss", "val_loss"]


def test_history_plot_keys_and_given_axes():
    from matplotlib.figure import Figure

    h = _history()
    fig = h.plot(keys=["val_accuracy", "learning_rate"])
    assert [ax.get_ylabel() for ax in fig.axes] == ["accuracy", "learning_rate"]
    assert _lines(fig.axes[1]) == {"learning_rate": ([3, 4, 5], [0.01] * 3)}
    own = Figure()
    ax = own.add_subplot()
    assert h.plot("loss", ax=ax) is own and set(_lines(ax)) == {"loss", "val_loss"}
    two = Figure().subplots(1, 2)
    assert h.plot(["loss", "accuracy"], ax=two) is two[0].figure
    with pytest.raises(ValueError, match="1 axes given for 2 metrics"):
        h.plot(ax=Figure().add_subplot())
    with pytest.raises(ValueError, match="'val_auc' was not recorded"):
        h.plot(keys=["val_auc"])
    with pytest.raises(ValueError, match="holds no epochs"):
        History().plot()


def test_history_plot_of_a_fit():
    X, y = _data(m=60)
    history = _model().fit(X, y, epochs=4, validation_split=0.25, verbose=0)
    fig = history.plot()
    got = _lines(fig.axes[0])
    assert got["loss"] == ([0, 1, 2, 3], history.loss)
    assert got["val_loss"] == ([0, 1, 2, 3], history.val_loss)


def test_history_plot_without_matplotlib_names_the_extra(monkeypatch):
    import sys

    from nnlab._extras import MissingExtraError

    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(MissingExtraError, match=r'History.plot needs matplotlib.*nnlab\[plot\]'):
        _history().plot()


def test_progress_lines_do_not_cost_a_call_per_batch(monkeypatch):
    """``fit(verbose=1)`` away from a terminal prints one line per epoch from the logs: the
    epochs share compiled calls, and the lines and weights are those of a fit that watches
    every batch; on a terminal the bar fills batch by batch (a call per epoch, batch by batch)."""
    from nnlab.fast import FastTrainer

    calls = []
    run = FastTrainer.run
    monkeypatch.setattr(FastTrainer, "run",
                        lambda self, plan: calls.append(len(plan.orders)) or run(self, plan))

    class Tty(io.StringIO):
        def isatty(self):
            return True

    X, y = _data(m=40)
    X = X.astype(np.float32)
    lines = io.StringIO()
    model = _model()
    model.fit(X, y, epochs=12, batch_size=10, callbacks=[ProgressBar(lines)], verbose=0)
    assert sum(calls) == 12 and len(calls) < 12
    calls.clear()
    watched = _model()
    watched.fit(X, y, epochs=12, batch_size=10, callbacks=[ProgressBar(Tty())], verbose=0)
    assert calls == [1] * 12  # a call per epoch, made batch by batch for the bar
    text = lines.getvalue().splitlines()
    assert len(text) == 12 and text[-1].startswith("Epoch 12/12 - loss: ")
    np.testing.assert_array_equal(model.params["W1"], watched.params["W1"])
    assert model.history.history == watched.history.history


# --- AutoProgress: fit(verbose="auto") (issue 18) --------------------------------------------
class _Tty(io.StringIO):
    def isatty(self):
        return True


def _no_tqdm(monkeypatch):
    import sys

    for name in ("tqdm", "tqdm.auto"):
        monkeypatch.setitem(sys.modules, name, None)  # import tqdm.auto now raises ImportError


def test_auto_progress_in_a_log_prints_a_line_per_5_percent(monkeypatch):
    from nnlab.callbacks import AutoProgress

    X, y = _data(m=40)
    log = io.StringIO()
    _model().fit(X, y, epochs=1000, callbacks=[AutoProgress(log)], verbose=0)
    lines = log.getvalue().splitlines()
    assert len(lines) == 21 and "\r" not in log.getvalue()
    assert [int(line.split()[1].split("/")[0]) for line in lines] == [1, *range(50, 1001, 50)]
    assert " - loss: " in lines[-1] and " - accuracy: " in lines[-1]
    # Stopped early: the lines so far and the epoch it stopped at.
    log = io.StringIO()
    stop = EarlyStopping(monitor="loss", patience=0, min_delta=10.0)
    _model().fit(X, y, epochs=1000, callbacks=[stop, AutoProgress(log)], verbose=0,
                 initial_epoch=100)
    assert [line.split(" - ")[0] for line in log.getvalue().splitlines()] == [
        "Epoch 101/1000", "Epoch 102/1000"]


def test_auto_progress_in_a_log_keeps_the_shared_calls(monkeypatch):
    """The log lines read only the logs: as many stepper calls as a silent fit."""
    from nnlab.callbacks import AutoProgress
    from nnlab.fast import FastTrainer

    calls = []
    run = FastTrainer.run
    monkeypatch.setattr(FastTrainer, "run",
                        lambda self, plan: calls.append(len(plan.orders)) or run(self, plan))
    X, y = _data(m=40)
    X = X.astype(np.float32)
    _model().fit(X, y, epochs=200, batch_size=10, verbose=0)
    silent, calls[:] = list(calls), []
    _model().fit(X, y, epochs=200, batch_size=10, callbacks=[AutoProgress(io.StringIO())],
                 verbose=0)
    assert calls == silent and sum(calls) == 200


@pytest.mark.parametrize("with_tqdm", [True, False])
@pytest.mark.parametrize("epochs,batch_size", [(300, None), (300, 10), (4, 10)])
def test_the_live_bar_does_not_change_the_weights(monkeypatch, with_tqdm, epochs, batch_size):
    """A live bar (tqdm's or the plain one; over epochs, or batch by batch for a few epochs)
    trains the very numbers of a silent fit and records the same history."""
    from nnlab.callbacks import AutoProgress

    if with_tqdm:
        pytest.importorskip("tqdm")
    else:
        _no_tqdm(monkeypatch)
    X, y = _data(m=40)
    silent = _model()
    silent.fit(X, y, epochs=epochs, batch_size=batch_size, verbose=0)
    out = _Tty()
    shown = _model()
    shown.fit(X, y, epochs=epochs, batch_size=batch_size, callbacks=[AutoProgress(out)],
              verbose=0)
    for k in silent.params:
        np.testing.assert_array_equal(shown.params[k], silent.params[k])
    assert shown.history.history == silent.history.history
    text = out.getvalue()
    assert "\r" in text and text.endswith("\n")
    total = epochs if epochs > 10 or batch_size is None else epochs * 4
    if with_tqdm:
        assert f"{total}/{total}" in text
    else:
        assert text.count("\n") == 1 and "[" + "=" * 30 + "] 100%" in text
        assert f"Epoch {epochs}/{epochs}" in text.rsplit("\r", 1)[-1]


def test_the_plain_bar_without_tqdm_over_the_epochs(monkeypatch):
    from nnlab.callbacks import AutoProgress

    _no_tqdm(monkeypatch)
    X, y = _data(m=40)
    out = _Tty()
    _model().fit(X, y, epochs=50, callbacks=[AutoProgress(out)], verbose=0)
    last = out.getvalue().rsplit("\r", 1)[-1]
    assert last.startswith("Epoch 50/50 [" + "=" * 30 + "] 100% - loss: ")
    assert last.endswith("\n") and out.getvalue().count("\n") == 1


def test_jupyter_is_told_from_a_terminal_ipython(monkeypatch):
    import sys
    import types

    from nnlab.callbacks import AutoProgress, in_jupyter

    class ZMQInteractiveShell:  # what a Jupyter kernel runs
        pass

    class TerminalInteractiveShell:
        pass

    shell = None
    fake = types.ModuleType("IPython")
    fake.get_ipython = lambda: shell
    monkeypatch.setitem(sys.modules, "IPython", fake)
    assert not in_jupyter()
    shell = TerminalInteractiveShell()
    assert not in_jupyter()
    shell = ZMQInteractiveShell()
    assert in_jupyter()
    _no_tqdm(monkeypatch)
    out = io.StringIO()  # a kernel's stream is no terminal, but the bar is live there
    X, y = _data(m=40)
    _model().fit(X, y, epochs=30, callbacks=[AutoProgress(out)], verbose=0)
    assert "\r" in out.getvalue() and out.getvalue().count("\n") == 1
    monkeypatch.delitem(sys.modules, "IPython")
    assert not in_jupyter()


def test_auto_progress_checks_every():
    from nnlab.callbacks import AutoProgress

    with pytest.raises(ValueError, match="every=0 is out of range"):
        AutoProgress(every=0)
