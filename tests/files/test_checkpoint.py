"""ModelCheckpoint (issue 18): the weights each write holds, save_best_only with monitor / mode,
``{epoch}`` paths, and ``free_epochs`` (how many epochs may share one stepper call)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from nnlab import Dense, Model
from nnlab.callbacks import Callback
from nnlab.files.models import ModelCheckpoint, load_checkpoint


def _data(m=120, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(m, 2)
    return X, (X[:, 0] * X[:, 1] > 0).astype(int)


def _model(learning_rate=0.05):
    return Model([Dense(6, "tanh"), Dense(1, "sigmoid")], optimizer="adam",
                 learning_rate=learning_rate, random_state=2)


def _weights_after(epochs, X, y, **fit):
    """The weights of a fresh fit of ``epochs`` epochs (the same settings and seed)."""
    model = _model(**{k: fit.pop(k) for k in ["learning_rate"] if k in fit})
    model.fit(X, y, epochs=epochs, verbose=0, **fit)
    return model.params


class _Calls(Callback):
    """Records each stepper call's epochs as (first, how many); never limits them."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def free_epochs(self):
        return sys.maxsize

    def on_epochs_end(self, first, logs):
        self.calls.append((first, len(logs["loss"])))


def _written(tmp_path):
    return sorted(int(p.stem.split("-")[1]) for p in tmp_path.glob("ck-*.npz"))


def test_every_writes_the_weights_of_its_epochs(tmp_path):
    """every=3 over 7 full-batch epochs: files after 3, 6 and (the end) 7 epochs, each holding
    the weights of a fit of that many epochs, although the epochs between writes share
    stepper calls."""
    X, y = _data()
    calls = _Calls()
    checkpoint = ModelCheckpoint(tmp_path / "ck-{epoch}.npz", every=3)
    _model().fit(X, y, epochs=7, verbose=0, callbacks=[checkpoint, calls])
    assert _written(tmp_path) == [3, 6, 7]
    for done in (3, 6, 7):
        model, info = load_checkpoint(tmp_path / f"ck-{done}.npz")
        assert info["epoch"] == done and len(model.history) == done
        expected = _weights_after(done, X, y)
        for k in expected:
            np.testing.assert_allclose(model.params[k], expected[k], rtol=1e-13, atol=1e-15)
    # the first call runs one epoch (the epoch number is not known yet), then up to each write
    assert calls.calls == [(0, 1), (1, 2), (3, 3), (6, 1)]


def test_free_epochs_counts_down_to_the_next_write(tmp_path):
    checkpoint = ModelCheckpoint(tmp_path / "ck.npz", every=4)
    assert checkpoint.free_epochs() == 1  # before any epoch: it may have to write at once
    checkpoint._next_epoch = 5  # epochs 0..4 done, written after epoch 3: 4 - (5 % 4)
    assert checkpoint.free_epochs() == 3
    checkpoint._next_epoch = 8
    assert checkpoint.free_epochs() == 4
    best = ModelCheckpoint(tmp_path / "b.npz", monitor="loss", save_best_only=True)
    best._next_epoch = 7
    assert best.free_epochs() == 1  # every=1: it may write at any epoch


def test_save_best_only_holds_the_best_epochs_weights(tmp_path):
    """A learning rate high enough for the validation loss to rise again: a file per new best
    (and only then), the last of them holding the weights of the best epoch."""
    X, y = _data(m=160)
    X_val, y_val = _data(m=80, seed=1)
    model = _model(learning_rate=0.3)
    best = ModelCheckpoint(tmp_path / "ck-{epoch}.npz", monitor="val_loss", save_best_only=True)
    history = model.fit(X, y, epochs=25, batch_size=16, verbose=0, callbacks=[best],
                        validation_data=(X_val, y_val))
    val = np.array(history.val_loss)
    improved = [e + 1 for e in range(len(val)) if val[e] < val[:e].min(initial=np.inf)]
    assert _written(tmp_path) == improved
    best_epoch = int(np.argmin(val))
    assert best_epoch < len(val) - 1  # not simply the last epoch: the test can tell them apart
    assert best.best_epoch == best_epoch and best.best == val.min()
    saved, info = load_checkpoint(tmp_path / f"ck-{best_epoch + 1}.npz")
    assert info["epoch"] == best_epoch + 1
    expected = _weights_after(best_epoch + 1, X, y, learning_rate=0.3, batch_size=16,
                              validation_data=(X_val, y_val))
    for k in expected:
        np.testing.assert_allclose(saved.params[k], expected[k], rtol=1e-13, atol=1e-15)


def test_save_best_only_one_file_and_mode(tmp_path):
    """One path: each improvement replaces the file; mode="max" on the loss keeps the worst
    epoch; "val_accuracy" is maximized by mode="auto"."""
    X, y = _data()
    worst = ModelCheckpoint(tmp_path / "worst.npz", monitor="loss", mode="max",
                            save_best_only=True)
    history = _model().fit(X, y, epochs=6, verbose=0, callbacks=[worst])
    assert worst.mode == "max" and worst.best == max(history.loss)
    _, info = load_checkpoint(tmp_path / "worst.npz")
    assert info["epoch"] == int(np.argmax(history.loss)) + 1
    assert ModelCheckpoint(tmp_path / "a.npz", monitor="val_accuracy",
                           save_best_only=True).mode == "max"
    assert ModelCheckpoint(tmp_path / "a.npz", save_best_only=True).monitor == "val_loss"


def test_save_best_only_looks_every_few_epochs(tmp_path):
    X, y = _data()
    best = ModelCheckpoint(tmp_path / "ck-{epoch}.npz", monitor="loss", save_best_only=True,
                           every=2)
    history = _model().fit(X, y, epochs=7, verbose=0, callbacks=[best])
    assert np.all(np.diff(history.loss) < 0)  # a falling loss: every look improves
    assert _written(tmp_path) == [2, 4, 6]  # and no write at the end


def test_path_with_a_log_name(tmp_path):
    X, y = _data()
    ck = ModelCheckpoint(tmp_path / "m-{epoch:02d}-{loss:.4f}.npz", every=2)
    history = _model().fit(X, y, epochs=2, verbose=0, callbacks=[ck])
    assert (tmp_path / f"m-02-{history.loss[-1]:.4f}.npz").exists()


@pytest.mark.parametrize("kwargs, message", [
    ({"monitor": "val_loss"}, "only used with save_best_only"),
    ({"monitor": 3, "save_best_only": True}, "must be the name of an epoch log"),
    ({"every": 0}, "every=0"),
    ({"mode": "up", "save_best_only": True}, "mode='up'"),
])
def test_bad_settings_are_clear_errors(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        ModelCheckpoint(tmp_path / "ck.npz", **kwargs)


def test_monitoring_a_log_the_fit_lacks_is_a_clear_error(tmp_path):
    X, y = _data()
    ck = ModelCheckpoint(tmp_path / "ck.npz", save_best_only=True)  # val_loss, no val data
    with pytest.raises(ValueError, match=r"monitors 'val_loss'.*validation_data"):
        _model().fit(X, y, epochs=2, verbose=0, callbacks=[ck])
    bad = ModelCheckpoint(tmp_path / "ck-{val_loss}.npz")
    with pytest.raises(ValueError, match="cannot fill it in"):
        _model().fit(X, y, epochs=1, verbose=0, callbacks=[bad])


def test_a_checkpoint_keeps_a_robust_loss(tmp_path):
    """A model trained with ``huber(δ)`` (or the absolute error) is written and read back with
    that loss: the resumed fit goes on with the same cost."""
    from nnlab.losses import huber

    rng = np.random.RandomState(0)
    X = rng.randn(50, 2)
    t = X[:, 0] - 2 * X[:, 1]
    for loss in (huber(0.5), "mean_absolute_error"):
        model = Model([Dense(4, "tanh"), Dense(1, "identity")], loss=loss, random_state=0)
        model.fit(X, t, epochs=3, verbose=0,
                  callbacks=[ModelCheckpoint(tmp_path / "ck.npz")])
        resumed, info = load_checkpoint(tmp_path / "ck.npz")
        assert resumed.loss == loss and info["epoch"] == 3
        assert resumed.evaluate(X, t)["loss"] == model.evaluate(X, t)["loss"]
