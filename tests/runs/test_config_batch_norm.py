"""``TrainConfig.batch_norm``: validated, written only when on, one per hidden layer; the run
builds batch-normalized layers from it and resumes it exactly (running statistics included);
a sweep can vary it."""


import numpy as np
import pytest
from test_run import _every_checkpoint  # (tests/runs/test_run.py: every checkpoint of a run)

from nnlab.runs.config import ConfigError, TrainConfig
from nnlab.runs.run import build_model, run_config
from nnlab.sweep.spec import config_id, expand, parse_spec


def test_batch_norm_is_off_by_default_and_left_out_of_the_settings():
    config = TrainConfig(layers=[5, 2])
    assert config.batch_norm is False and config.batch_norms() == [False, False]
    assert "batch_norm" not in config.to_dict() and "batch_norm" not in config.to_toml()


@pytest.mark.parametrize("value, norms", [(True, [True, True]), ([False, True], [False, True])])
def test_batch_norm_round_trips_through_toml(value, norms):
    config = TrainConfig(layers=[5, 2], batch_norm=value)
    assert config.batch_norms() == norms
    assert config.to_dict()["batch_norm"] == value
    assert TrainConfig.from_toml(config.to_toml()) == config


@pytest.mark.parametrize("value, message", [
    (1, "batch_norm=1 must be true or false"),
    ("true", "batch_norm='true' must be true or false"),
    ([True], "batch_norm has 1 values for 2 hidden layers"),
    ([True, 0], "batch_norm=0 must be true or false"),
])
def test_bad_batch_norm_is_refused_naming_it(value, message):
    with pytest.raises(ConfigError, match=message):
        TrainConfig(layers=[5, 2], batch_norm=value)


def test_build_model_batch_normalizes_the_hidden_layers_only():
    model = build_model(TrainConfig(layers=[5, 3], batch_norm=[True, False]), 2, "binary", 2)
    assert [layer.batch_norm for layer in model.layers] == [True, False, False]
    assert {"gamma1", "beta1", "running_mean1", "running_var1", "b2", "b3"} <= set(model.params)
    assert "b1" not in model.params and "gamma2" not in model.params


def test_trial_ids_of_sweeps_without_batch_norm_are_unchanged():
    """The id is a digest of the settings: leaving batch_norm out at its default keeps the ids
    (and so the results) of sweeps run before the setting existed."""
    config = TrainConfig(dataset="moons", layers=[5], seed=3).to_dict()
    assert config_id(config) == config_id({k: v for k, v in config.items()
                                           if k != "batch_norm"})
    on = TrainConfig(dataset="moons", layers=[5], seed=3, batch_norm=True).to_dict()
    assert config_id(on) != config_id(config)


def test_a_sweep_varies_batch_norm():
    spec = parse_spec("""
[sweep]
seeds = 2
metric = "train.loss"
expect = ["batch_norm=true > batch_norm=false"]
[base]
dataset = "moons"
layers = [5, 5]
epochs = 3
[grid]
batch_norm = [false, true]
""")
    trials = expand(spec)
    assert [t.point.label for t in trials] == ["batch_norm=false"] * 2 + ["batch_norm=true"] * 2
    assert "batch_norm" not in trials[0].config and trials[2].config["batch_norm"] is True
    assert trials[0].seed == trials[2].seed  # common random numbers


def test_a_sweep_refuses_a_bad_batch_norm_value():
    from nnlab.sweep.spec import SweepError

    with pytest.raises(SweepError, match="batch_norm='yes' must be true or false"):
        expand(parse_spec("""
[sweep]
metric = "train.loss"
[base]
dataset = "moons"
[grid]
batch_norm = ["yes"]
"""))


def test_run_trains_and_measures_a_batch_normalized_network():
    result = run_config(TrainConfig(dataset="moons", layers=[8, 8], batch_norm=True, lr=0.05,
                                    epochs=20, batch_size=32), verbose=0)
    p = result.model.params
    assert result.metrics["train"]["accuracy"] > 0.8
    assert not np.array_equal(p["running_mean1"], np.zeros((8, 1)))


@pytest.mark.parametrize("optimizer", ["gd", "adam"])
def test_resume_from_every_checkpoint_is_bit_exact_with_the_running_statistics(
        tmp_path, monkeypatch, optimizer):
    """As if killed right after each checkpoint write: the resumed run ends with the very
    weights, γ, β and running μ, σ² of the run that was never interrupted."""
    config = TrainConfig(dataset="moons", layers=[8, 4], batch_norm=[True, True],
                         keep_prob=[0.9, 1.0], optimizer=optimizer, lr=0.05, batch_size=16,
                         epochs=6, val_split=0.2)
    ref = run_config(config, verbose=0)
    checkpoints = _every_checkpoint(config, tmp_path, monkeypatch)
    assert len(checkpoints) == 7
    keys = set(ref.model.params)
    assert {"running_mean1", "running_var1", "running_mean2", "running_var2"} <= keys
    for ck in checkpoints:
        res = run_config(None, verbose=0, resume=ck)
        assert set(res.model.params) == keys
        for k in keys:
            assert np.array_equal(res.model.params[k], ref.model.params[k]), (ck.name, k)
        assert res.history.loss == ref.history.loss


def test_resume_refuses_to_change_batch_norm(tmp_path):
    config = TrainConfig(dataset="moons", layers=[4], batch_norm=True, epochs=2)
    run_config(config, verbose=0, checkpoint=tmp_path / "ck.npz")
    run_config(None, verbose=0, resume=tmp_path / "ck.npz",
               resume_changes={"batch_norm": True, "epochs": 3})  # the same: fine
    with pytest.raises(ConfigError, match="batch_norm=False would change batch_norm=True"):
        run_config(None, verbose=0, resume=tmp_path / "ck.npz",
                   resume_changes={"batch_norm": False})
