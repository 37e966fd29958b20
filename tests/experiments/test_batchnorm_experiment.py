"""Experiment l (batch normalization): its three claims over 20 seeds, asserted on the numbers
of one ``run_experiments`` run, and its single-example check on a small network."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nnlab import initialize_parameters
from nnlab.experiments import EXPERIMENTS, run_experiments
from nnlab.experiments import batchnorm as bn_module


def test_registered_as_letter_l_last():
    assert EXPERIMENTS["batchnorm"] is bn_module and bn_module.LETTER == "l"
    assert list(EXPERIMENTS)[-1] == "batchnorm"
    assert len({m.LETTER for m in EXPERIMENTS.values()}) == len(EXPERIMENTS)


def test_the_plain_and_batch_normalized_runs_start_from_the_same_w():
    plain = initialize_parameters(bn_module.LAYERS, "he", 7, batch_norm=False)
    norm = initialize_parameters(bn_module.LAYERS, "he", 7, batch_norm=True)
    for l in range(1, len(bn_module.LAYERS)):
        np.testing.assert_array_equal(plain[f"W{l}"], norm[f"W{l}"])


def test_single_vs_batch_tells_running_from_batch_statistics():
    rng = np.random.RandomState(0)
    X = rng.randn(2, 40)
    params = initialize_parameters(bn_module.LAYERS, "he", 1, batch_norm=True)
    # running statistics that differ from any one batch's, as after training
    for l in range(1, bn_module.HIDDEN + 1):
        params[f"running_mean{l}"] = rng.randn(10, 1)
        params[f"running_var{l}"] = rng.rand(10, 1) + 0.5
    out = bn_module.single_vs_batch(X, params)
    assert out["running_max_diff"] <= 1e-12
    assert out["batch_stats_alone_spread"] == 0.0  # alone: σ² = 0, z_norm = 0, one output
    assert out["batch_stats_max_diff"] > 1e-3


@pytest.mark.slow
def test_l_batch_norm_is_faster_tolerates_a_large_alpha_and_predicts_alone(tmp_path):
    report = run_experiments(["batchnorm"], jobs=1, out_dir=tmp_path)
    (result,) = report.experiments
    assert result.status == "ok", result.reason
    claims = [r for r in result.rows if r.claim]
    assert len(claims) == 3 and all(r.match for r in claims), claims
    assert (tmp_path / "l_batchnorm.png").read_bytes()[:4] == b"\x89PNG"
    data = json.loads(json.dumps(report.to_json()))
    assert data["summary"]["claims"] == 3
    c = bn_module._counts(result.runs)
    n = len(bn_module.SEEDS)
    assert n == 20
    # (a) α = 0.1: faster to J ≤ 0.2 on every seed
    assert c["faster"] == n and all(i is not None for i in c["slow_bn_iterations"])
    # (b) α = 3: the plain net stalls on most seeds (19 of 20 here: in part), batch norm trains
    assert c["fast_plain_stalled"] >= 15 and c["fast_bn_trained"] == n
    assert c["fast_bn_lower"] == n
    # (c) one example alone = in the batch with the running statistics, not with the batch's
    assert c["single_equal"] == c["bn_runs"] == 2 * n
    assert c["running_max_diff"] <= 1e-12 and c["batch_stats_max_diff"] > 0.1
    assert c["batch_stats_alone_spread"] == 0.0
    assert all(len(curve) == bn_module.ITERATIONS
               for run in result.runs.values() for curve in run.extra["curves"])
