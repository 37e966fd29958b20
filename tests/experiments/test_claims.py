"""The claims the course makes with figures (experiments h-k and g's per-array check), asserted on
nnlab's numbers, not on the pictures. Each experiment runs once, through ``run_experiments``, so
its rows, figures and JSON are checked on the same run."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nnlab.datasets import load_football
from nnlab.experiments import ExperimentRun, Row, run_experiments
from nnlab.experiments import early_stopping as stopping_module
from nnlab.experiments import gradient_checking as gc_module
from nnlab.experiments.normalization import ALPHAS, standardize
from nnlab.experiments.report import _markdown_table, format_table, summary_line
from nnlab.experiments.scheduler import ExperimentResult, Report
from nnlab.gradcheck import THRESHOLD


def _run(name: str, tmp_path) -> ExperimentResult:
    report = run_experiments([name], jobs=1, out_dir=tmp_path)
    (result,) = report.experiments
    assert result.status == "ok", result.reason
    claims = [r for r in result.rows if r.claim]
    assert claims and all(r.match for r in claims), [r for r in claims if not r.match]
    for figure in result.figures:
        assert (tmp_path / figure.filename).read_bytes()[:4] == b"\x89PNG"
    data = json.loads(json.dumps(report.to_json()))
    assert data["summary"]["claims"] == data["summary"]["claims_shown"] == len(claims)
    assert all("timings" not in run for run in data["experiments"][0]["runs"])
    return result


@pytest.mark.slow
def test_h_sgd_is_noisy_minibatch_between_and_both_beat_the_full_batch_per_epoch(tmp_path):
    runs = _run("descent", tmp_path).runs
    b, mb, s = (runs[k].extra for k in ("batch", "minibatch", "stochastic"))
    assert [b["updates_per_epoch"], mb["updates_per_epoch"], s["updates_per_epoch"]] == [1, 5, 300]
    assert len(s["iteration_costs"]) == 300 * 30
    # noise: an order of magnitude between each
    assert s["roughness"] > 10 * mb["roughness"] > 100 * b["roughness"]
    # progress per epoch
    assert s["epochs_to"]["0.68"] <= mb["epochs_to"]["0.68"] < b["epochs_to"]["0.68"]
    assert b["epochs_to"]["0.6"] is None and mb["epochs_to"]["0.6"] is not None
    assert s["final_cost"] < mb["final_cost"] < b["final_cost"]
    # the full batch's per-iteration cost is its whole-set cost before each update
    epoch_costs = [c for _, c in runs["batch"].costs]
    np.testing.assert_allclose(b["iteration_costs"], epoch_costs[:-1], rtol=1e-12)
    assert runs["stochastic"].timings["updates"] > 0


@pytest.mark.parametrize("batch_size", [None, 64, 1])
def test_h_compiled_epochs_make_train_steps_updates(batch_size):
    """descend's compiled epochs (the default) against its loop of ``train_step``: the same
    batches and updates, so every recorded cost and the weights agree to float rounding."""
    from nnlab import optimizers
    from nnlab.experiments import descent

    X, Y = descent.load()
    fast = descent.descend(X, Y, optimizers.gd(descent.ALPHA), batch_size, 5)
    steps = descent.descend(X, Y, optimizers.gd(descent.ALPHA), batch_size, 5, fast=False)
    assert len(fast["iteration_costs"]) == len(steps["iteration_costs"]) == 5 * (
        1 if batch_size is None else -(-300 // batch_size))
    np.testing.assert_allclose(fast["iteration_costs"], steps["iteration_costs"], rtol=1e-10)
    np.testing.assert_allclose(fast["epoch_costs"], steps["epoch_costs"], rtol=1e-12)
    for k, v in steps["params"].items():
        np.testing.assert_allclose(fast["params"][k], v, rtol=1e-10, atol=1e-13)


@pytest.mark.slow
def test_i_momentum_smooths_the_path(tmp_path):
    runs = _run("momentum", tmp_path).runs
    gd, mom = runs["gd"].extra, runs["momentum"].extra
    assert len(gd["path_costs"]) == len(mom["path_costs"]) == 1000
    assert mom["path_cost_variance"] < gd["path_cost_variance"] / 5
    assert mom["path_roughness"] < gd["path_roughness"] / 5
    assert mom["batch_cost_variance"] < gd["batch_cost_variance"]
    assert runs["momentum"].setting["beta"] == 0.9


@pytest.mark.slow
@pytest.mark.usefixtures("data_dir")
def test_j_stops_when_the_validation_cost_stops_falling_and_keeps_the_best(tmp_path):
    result = _run("stopping", tmp_path)
    run = result.runs["sgd"]
    e = run.extra
    best, stopped = e["best_epoch"], e["stopped_epoch"]
    assert e["stopped_early"] and stopped == best + stopping_module.PATIENCE
    assert stopped < stopping_module.MAX_EPOCHS and e["updates"] == 211 * stopped
    assert len(e["val_cost"]) == len(e["train_cost"]) == stopped + 1
    assert e["best_val_cost"] == min(e["val_cost"]) == e["val_cost"][best]
    assert min(e["val_cost"][best + 1:]) >= e["best_val_cost"]
    assert e["best_val_cost"] < 0.5 * e["val_cost"][0]
    data = load_football()
    cost, error = stopping_module.cost_and_error(data.X_test, data.Y_test, run.params)
    assert cost == e["best_val_cost"] and error == e["best_val_error"]
    assert run.accuracy["validation"].correct == round(200 * (1 - error))


@pytest.mark.usefixtures("data_dir")
def test_validation_stopping_obeys_patience_and_the_epoch_cap():
    data = load_football()
    out = stopping_module.train_with_validation_stopping(data, patience=1, max_epochs=3)
    h = out["history"]
    assert len(h["val_cost"]) == out["stopped_epoch"] + 1 <= 4
    if out["stopped_early"]:
        assert out["stopped_epoch"] == out["best_epoch"] + 1
    else:
        assert out["stopped_epoch"] == 3
    assert h["val_cost"][out["best_epoch"]] == min(h["val_cost"])


@pytest.mark.slow
@pytest.mark.usefixtures("data_dir")
def test_k_standardized_inputs_reach_the_cost_sooner_and_raw_pixels_diverge(tmp_path):
    runs = _run("normalization", tmp_path).runs

    def needed(kind: str, alpha: float) -> float:
        n = runs[f"{kind}:alpha={alpha:g}"].extra["iterations_to_target"]
        return np.inf if n is None else n

    for alpha in ALPHAS:
        assert needed("standardized", alpha) < needed("scaled", alpha), alpha
        assert np.isfinite(needed("standardized", alpha))
        raw = runs[f"raw:alpha={alpha:g}"].extra
        assert raw["diverged"] and raw["iterations_to_target"] is None
        assert raw["lowest_after_first_step"] > 10 * np.log(2)
    # the course's own setting (pixels / 255, α = 0.005) does get there, only later
    assert np.isfinite(needed("scaled", 0.005))


def test_standardize_gives_each_feature_mean_0_and_variance_1():
    rng = np.random.RandomState(0)
    X = np.vstack([rng.randint(0, 256, size=(4, 50)), np.full((1, 50), 7)]).astype(float)
    Z = standardize(X)
    np.testing.assert_allclose(Z[:4].mean(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(Z[:4].std(axis=1), 1, rtol=1e-12)
    np.testing.assert_array_equal(Z[4], 0)  # a constant feature is only centred


def test_g_per_array_check_names_exactly_the_planted_bugs(tmp_path):
    result = _run("gradcheck", tmp_path)
    e = result.runs["checks"].extra
    fine = e["per_array"]
    assert fine["epsilon"] == 1e-5
    assert gc_module.gradient_names(fine["buggy"]["failing"]) == ["db1", "dW2"]
    assert fine["buggy"]["difference"] > 1e5 * THRESHOLD
    # a gradient multiplied by k has the ratio (k - 1) / (k + 1)
    assert fine["buggy"]["per_parameter"]["W2"] == pytest.approx(1 / 3, rel=1e-6)
    assert fine["buggy"]["per_parameter"]["b1"] == pytest.approx(3 / 5, rel=1e-6)
    assert fine["nnlab"]["failing"] == [] and fine["nnlab"]["passed"]
    assert max(fine["nnlab"]["per_parameter"].values()) < THRESHOLD / 10
    # At the course's ε = 1e-7 a correct array is flagged too: b3 reads the same with or without
    # the bugs (which do not touch it), so the flag is the estimate's error, not backprop's ...
    assert "b3" in e["nnlab"]["failing"] and "b3" in e["buggy"]["failing"]
    assert e["buggy"]["per_parameter"]["b3"] == e["nnlab"]["per_parameter"]["b3"]
    # ... from evaluating J through log(1 - a): from the logits, the same ε is accurate
    diag = e["diagnosis"]
    assert max(diag["logits"]["per_parameter"].values()) < THRESHOLD / 50
    # and the error against ε is V-shaped: truncation above the minimum, rounding below it
    errors = {p["epsilon"]: p["max_abs_error"] for p in diag["sweep"]}
    smallest = min(errors, key=errors.get)
    assert 1e-6 <= smallest <= 1e-4
    assert errors[1e-2] > 100 * errors[smallest] and errors[1e-10] > 100 * errors[smallest]
    assert errors[1e-7] > 10 * errors[1e-5]


def _result(name: str, rows: list[Row]) -> ExperimentResult:
    return ExperimentResult(name, "x", name, rows=rows)


def test_claims_are_counted_apart_from_the_course_numbers():
    rows = [
        Row("a", "s", "99 %", "99 % (99/100)", True),
        Row("a", "s2", "—", "50 %", None),
        Row("h", "noise", "SGD noisiest", "0.8 / 0.04", True, claim=True),
        Row("h", "speed", "faster", "3 / 1", False, claim=True),
    ]
    report = Report([_result("logistic", rows)], jobs=1)
    assert (report.compared, report.matched, report.claims, report.claims_shown) == (1, 1, 2, 1)
    text = summary_line(report)
    assert "1 of 1 course numbers matched exactly" in text
    assert "show 1 of the 2 claims" in text
    table = format_table(report)
    assert "not shown" in table and " shown" in table
    assert "**not shown**" in _markdown_table(report.rows)
    assert rows[2].to_json()["claim"] is True and "claim" not in rows[0].to_json()


def test_timings_stay_out_of_the_json():
    run = ExperimentRun("k", "label", {}, timings={"updates": 1.5})
    assert "timings" not in run.to_json()
