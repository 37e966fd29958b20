"""run_config: a training config end to end, and its exact resume from any checkpoint."""

import os

import numpy as np
import pytest

import nnlab.saving
from nnlab.config import TrainConfig
from nnlab.runner import run_config


def _every_checkpoint(config, folder, monkeypatch):
    """Run ``config`` once, keeping a copy of every checkpoint it writes (as if the process had
    been killed right after each write)."""
    saved = []
    write = nnlab.saving.save_checkpoint

    def keep(model, path, epoch, **kw):
        write(model, path, epoch, **kw)
        copy = folder / f"ck{len(saved)}.npz"
        os.replace(path, copy)
        saved.append(copy)

    monkeypatch.setattr(nnlab.saving, "save_checkpoint", keep)
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
