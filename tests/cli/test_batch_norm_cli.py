"""``nnlab train --batch-norm`` as a user runs it: the flag, a config file's per-layer values,
the saved model and its summary, resuming (after kill -9 too), and one-line mistakes."""

import json
import subprocess
import sys

import numpy as np
import pytest

from cli_checks import kill_then_resume, one_line_error
from nnlab.files.format import load_arrays


def nnlab(*args, cwd, timeout=180, check=None):
    out = subprocess.run([sys.executable, "-m", "nnlab", *map(str, args)], cwd=cwd,
                         capture_output=True, text=True, timeout=timeout)
    if check is not None:
        assert out.returncode == check, (out.stdout, out.stderr)
    return out


def test_train_batch_norm_saves_gamma_beta_running_statistics_and_settings(tmp_path):
    out = nnlab("train", "moons", "--layers", "6,3", "--batch-norm", "--epochs", "20",
                "--lr", "0.05", "--save", "run", "--json", cwd=tmp_path, check=0)
    res = json.loads(out.stdout)
    assert res["config"]["batch_norm"] is True and res["metrics"]["train"]["accuracy"] > 0.8
    arrays, _ = load_arrays(tmp_path / "run" / "model.npz")
    assert {"gamma1", "beta1", "running_mean1", "running_var1", "gamma2", "b3"} <= set(arrays)
    assert "b1" not in arrays and "b2" not in arrays
    assert not np.array_equal(arrays["running_var1"], np.ones((6, 1)))
    assert "batch_norm = true" in (tmp_path / "run" / "config.toml").read_text()
    summary = nnlab("summary", "run", cwd=tmp_path, check=0).stdout
    assert "batch norm" in summary and "γ, β (6, 1)" in summary


def test_without_the_flag_nothing_changes(tmp_path):
    out = nnlab("train", "moons", "--layers", "4", "--epochs", "2", "--json", "--save", "run",
                cwd=tmp_path, check=0)
    assert "batch_norm" not in json.loads(out.stdout)["config"]
    assert "batch_norm" not in (tmp_path / "run" / "config.toml").read_text()
    assert "b1" in load_arrays(tmp_path / "run" / "model.npz")[0]


def test_a_config_file_gives_one_value_per_layer_and_the_flags_override_it(tmp_path):
    (tmp_path / "c.toml").write_text('dataset = "moons"\nlayers = [5, 4]\nepochs = 2\n'
                                     "batch_norm = [true, false]\n")
    out = nnlab("train", "--config", "c.toml", "--json", "--save", "a.npz", cwd=tmp_path,
                check=0)
    assert json.loads(out.stdout)["config"]["batch_norm"] == [True, False]
    arrays = load_arrays(tmp_path / "a.npz")[0]
    assert "gamma1" in arrays and "b2" in arrays
    out = nnlab("train", "--config", "c.toml", "--batch-norm", "--json", cwd=tmp_path, check=0)
    assert json.loads(out.stdout)["config"]["batch_norm"] is True
    out = nnlab("train", "--config", "c.toml", "--no-batch-norm", "--json", cwd=tmp_path,
                check=0)
    assert "batch_norm" not in json.loads(out.stdout)["config"]


@pytest.mark.parametrize("text, message", [
    ('batch_norm = "yes"\n', "batch_norm='yes' must be true or false"),
    ("layers = [5, 4]\nbatch_norm = [true]\n", "batch_norm has 1 values for 2 hidden layers"),
])
def test_bad_batch_norm_settings_are_one_line(tmp_path, text, message):
    (tmp_path / "c.toml").write_text(text)
    assert message in one_line_error(nnlab("train", "--config", "c.toml", cwd=tmp_path))


def test_resume_keeps_batch_norm(tmp_path):
    nnlab("train", "moons", "--layers", "4", "--batch-norm", "--epochs", "3", "--quiet",
          "--checkpoint", "ck.npz", cwd=tmp_path, check=0)
    nnlab("train", "--resume", "ck.npz", "--batch-norm", "--epochs", "4", "--quiet",
          cwd=tmp_path, check=0)
    error = one_line_error(nnlab("train", "--resume", "ck.npz", "--no-batch-norm",
                                 cwd=tmp_path))
    assert "resuming keeps the run's settings" in error and "batch_norm" in error


def test_gradcheck_covers_gamma_and_beta(tmp_path):
    out = nnlab("gradcheck", "moons", "--layers", "4,3", "--batch-norm", "--examples", "10",
                "--json", cwd=tmp_path, check=0)
    res = json.loads(out.stdout)
    assert res["passed"] and {"gamma1", "beta1", "gamma2", "beta2"} <= set(res["per_parameter"])


RUN = ["train", "moons", "--layers", "16,8", "--batch-norm", "--optimizer", "adam", "--lr",
       "0.01", "--batch-size", "16", "--epochs", "40", "--val-split", "0.2", "--quiet"]


@pytest.mark.slow
def test_sigkill_then_resume_is_bit_identical_with_the_running_statistics(tmp_path):
    interrupted_at = kill_then_resume(RUN, tmp_path, [0.0, 0.3])
    ref, _ = load_arrays(tmp_path / "ref" / "model.npz")
    assert "running_mean2" in ref
    assert min(interrupted_at) < 40, interrupted_at
