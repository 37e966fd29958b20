"""run_config: a training config end to end, and its exact resume from any checkpoint."""

import os
import re

import numpy as np
import pytest

import nnlab.files.models
from nnlab.callbacks import Callback
from nnlab.files.format import load_arrays
from nnlab.runs.config import ConfigError, TrainConfig
from nnlab.runs.run import run_config


def _every_checkpoint(config, folder, monkeypatch):
    """Run ``config`` once, keeping a copy of every checkpoint it writes (as if the process had
    been killed right after each write)."""
    saved = []
    write = nnlab.files.models.save_checkpoint

    def keep(model, path, epoch, **kw):
        write(model, path, epoch, **kw)
        copy = folder / f"ck{len(saved)}.npz"
        os.replace(path, copy)
        saved.append(copy)

    monkeypatch.setattr(nnlab.files.models, "save_checkpoint", keep)
    run_config(config, verbose=0, checkpoint=folder / "ck.npz")
    monkeypatch.undo()
    return saved


@pytest.mark.parametrize("patience, epochs", [(1000, 12), (2, 40)])
def test_resume_from_every_checkpoint_is_exact(tmp_path, monkeypatch, patience, epochs):
    """Including the one written after the last epoch (the early stopper has not yet put back
    its best weights) and the one of an epoch where it stopped training."""
    config = TrainConfig(dataset="moons", layers=[16, 8], keep_prob=0.9, optimizer="adam",
                         lr=0.05, batch_size=16, epochs=epochs, val_split=0.2,
                         early_stopping=patience)
    ref = run_config(config, verbose=0)
    checkpoints = _every_checkpoint(config, tmp_path, monkeypatch)
    assert len(checkpoints) == len(ref.history) + 1  # every epoch, and the end of training
    if patience == 2:
        assert ref.stopped_early and len(ref.history) < epochs
    for ck in checkpoints:
        res = run_config(None, verbose=0, resume=ck)
        for k in ref.model.params:
            assert np.array_equal(res.model.params[k], ref.model.params[k]), (ck.name, k)
        assert res.history.loss == ref.history.loss and res.stopped_early == ref.stopped_early


def test_metrics_on_every_split():
    res = run_config(TrainConfig(dataset="circles", layers=[5], epochs=5, val_split=0.25),
                     verbose=0)
    assert set(res.metrics) == {"train", "val", "test"}
    assert res.classes == [0, 1] and res.task == "binary"


def test_resume_to_a_new_total_is_the_longer_run(tmp_path):
    """``resume_changes={"epochs": n}`` goes on to n epochs: bit for bit the run of n epochs."""
    config = TrainConfig(dataset="moons", layers=[6], lr=0.05, batch_size=32, epochs=8,
                         decay=0.1)
    run_config(config, verbose=0, checkpoint=tmp_path / "ck.npz")
    longer = run_config(config.replace(epochs=14), verbose=0)
    res = run_config(None, verbose=0, resume=tmp_path / "ck.npz",
                     resume_changes={"epochs": 14})
    assert res.config.epochs == 14 and len(res.history) == 14
    assert res.history.loss == longer.history.loss
    for k in longer.model.params:
        assert np.array_equal(res.model.params[k], longer.model.params[k]), k


@pytest.mark.parametrize("changes, message", [
    ({"epochs": 5}, "fewer than the 8"),
    ({"lr": 0.5}, "lr=0.5 would change lr=0.05"),
    ({"layers": [7]}, "layers=[7] would change layers=[6]"),
    ({"optimizer": "gd"}, "optimizer='gd' would change"),
])
def test_resume_refuses_changes_that_alter_the_run(tmp_path, changes, message):
    config = TrainConfig(dataset="moons", layers=[6], lr=0.05, epochs=8)
    run_config(config, verbose=0, checkpoint=tmp_path / "ck.npz")
    with pytest.raises(ConfigError, match=re.escape(message)):
        run_config(None, verbose=0, resume=tmp_path / "ck.npz", resume_changes=changes)
    same = run_config(None, verbose=0, resume=tmp_path / "ck.npz",
                      resume_changes={"lr": 0.05, "layers": [6], "activation": ["relu"]})
    assert len(same.history) == 8


class _CtrlC(Callback):
    def __init__(self, at):
        super().__init__()
        self.at = at

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == self.at:
            raise KeyboardInterrupt


def test_ctrl_c_tells_which_epoch_the_checkpoint_holds(tmp_path):
    config = TrainConfig(dataset="moons", layers=[4], epochs=50)
    with pytest.raises(KeyboardInterrupt) as info:
        # stopped in epoch 11: the last checkpoint (every 5 epochs) holds 10
        run_config(config, verbose=0, checkpoint=tmp_path / "ck.npz", checkpoint_every=5,
                   callbacks=[_CtrlC(11)])
    assert info.value.checkpoint_epoch == 10
    assert load_arrays(tmp_path / "ck.npz")[1]["epoch"] == 10
    with pytest.raises(KeyboardInterrupt) as info:
        run_config(config, verbose=0, checkpoint=tmp_path / "new.npz", checkpoint_every=5,
                   callbacks=[_CtrlC(3)])
    assert info.value.checkpoint_epoch is None


def test_initial_loss_is_the_untrained_networks():
    res = run_config(TrainConfig(dataset="moons", layers=[4], epochs=3), verbose=0)
    assert 0.3 < res.initial_loss < 2.0


def test_more_epochs_cannot_continue_a_run_that_stopped_early(tmp_path):
    config = TrainConfig(dataset="moons", layers=[16, 8], keep_prob=0.9, lr=0.05, batch_size=16,
                         epochs=40, val_split=0.2, early_stopping=2)
    ref = run_config(config, verbose=0, checkpoint=tmp_path / "ck.npz")
    assert ref.stopped_early
    with pytest.raises(ConfigError, match="stopped early"):
        run_config(None, verbose=0, resume=tmp_path / "ck.npz", resume_changes={"epochs": 100})
