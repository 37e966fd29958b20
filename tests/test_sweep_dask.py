"""nnlab sweep on a Dask cluster, and the estimators in GridSearchCV under joblib's Dask backend.

A ``LocalCluster`` of two worker processes (loopback only, no dashboard) stands in for a cluster.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import warnings

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")

from nnlab.sweep import SweepError, parse_spec, run_sweep  # noqa: E402
from nnlab.sweep.execute import connect  # noqa: E402

#: 3 points x 3 seeds = 9 trials of a fraction of a second each.
SPEC = """
[sweep]
name = "dask"
seed = 5
seeds = 3
metric = "val.accuracy"
expect = ["adam > gd"]

[base]
dataset = "moons"
layers = [5, 2]
epochs = 40
lr = 0.01
val_split = 0.2

[cases]
gd = { optimizer = "gd" }
momentum = { optimizer = "momentum" }
adam = { optimizer = "adam" }
"""


@pytest.fixture(scope="module")
def cluster():
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as client:
        yield cluster, client


def result_files(folder):
    out = {name: (folder / name).read_bytes()
           for name in ("results.json", "results.csv", "best.toml")}
    for f in sorted((folder / "trials").glob("*.json")):
        out[f.name] = f.read_bytes()
    return out


@pytest.fixture(scope="module")
def sequential(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sequential")
    run_sweep(parse_spec(SPEC), folder, jobs=1, plots=False)
    return folder


def test_dask_gives_the_results_of_a_sequential_run(cluster, sequential, tmp_path):
    _, client = cluster
    result = run_sweep(parse_spec(SPEC), tmp_path, client=client, plots=False)
    assert result.ran == 9 and result.where.startswith("Dask tcp://127.0.0.1:")
    assert result_files(tmp_path) == result_files(sequential)


@pytest.mark.slow
def test_cli_scheduler_address_gives_the_same_results(cluster, sequential, tmp_path):
    local, _ = cluster
    (tmp_path / "s.toml").write_text(SPEC)
    out = subprocess.run(
        [sys.executable, "-m", "nnlab", "sweep", "s.toml", "--scheduler",
         local.scheduler_address, "--out", "run", "--no-plots", "--json", "--quiet"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["run"]["where"] == f"Dask {local.scheduler_address}"
    assert result_files(tmp_path / "run") == result_files(sequential)


def test_an_unreachable_scheduler_is_a_clear_error():
    with pytest.raises(SweepError) as info:
        connect("tcp://127.0.0.1:9", timeout=1)
    assert str(info.value).startswith("cannot reach the Dask scheduler at tcp://127.0.0.1:9: ")
    assert "\n" not in str(info.value)


@pytest.mark.slow
def test_estimators_in_grid_search_under_joblibs_dask_backend(cluster):
    """The README's example: GridSearchCV fits nnlab's MLPClassifier on the cluster's workers,
    with the results of a local search."""
    import joblib
    from sklearn.datasets import make_moons
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import GridSearchCV

    from nnlab import MLPClassifier

    X, y = make_moons(n_samples=200, noise=0.2, random_state=0)
    grid = {"hidden_layer_sizes": [(5,), (10, 5)], "learning_rate_init": [0.003, 0.03]}

    def search():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            gs = GridSearchCV(MLPClassifier(max_iter=60, random_state=0), grid, cv=3)
            return gs.fit(X, y)

    local = search()
    with joblib.parallel_backend("dask"):
        on_dask = search()
    assert on_dask.best_params_ == local.best_params_
    np.testing.assert_array_equal(on_dask.cv_results_["mean_test_score"],
                                  local.cv_results_["mean_test_score"])
    assert on_dask.best_score_ > 0.8


@pytest.mark.slow
def test_a_worker_killed_mid_sweep_loses_no_trial(cluster, sequential, tmp_path):
    """SIGKILL a worker while it runs a trial: the scheduler runs its trials on the other worker
    (the nanny starts a new one), and every trial is recorded exactly once."""
    _, client = cluster
    messages: list[str] = []
    killed: list[str] = []

    def progress(done, total, message):
        messages.append(message)
        if done >= 1 and not killed:
            busy = {w: keys for w, keys in client.processing().items() if keys}
            if busy:
                victim = sorted(busy)[0]
                pid = client.run(os.getpid, workers=[victim])[victim]
                os.kill(pid, signal.SIGKILL)
                killed.append(victim)

    result = run_sweep(parse_spec(SPEC), tmp_path, client=client, plots=False,
                       progress=progress)
    assert killed, "no worker was busy to kill"
    trial_messages = messages[1:]  # the first is the "9 trials" announcement
    assert len(trial_messages) == len(set(trial_messages)) == 9  # each trial recorded once
    assert result.ran == 9 and {r["status"] for r in result.records.values()} == {"ok"}
    assert len(list((tmp_path / "trials").glob("*.json"))) == 9
    assert result_files(tmp_path) == result_files(sequential)
