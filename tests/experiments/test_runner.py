"""The runner: skipping what has no data, reporting failures, the same results for any --jobs."""

from __future__ import annotations

import json

import pytest

from nnlab.experiments import gradient_checking, planar, run_experiments
from nnlab.experiments.report import format_table, markdown, summary_line, write_report


def test_missing_data_skips_those_experiments_and_runs_the_rest(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    report = run_experiments(["logistic", "regularization", "deep", "gradcheck"],
                             data_dir=empty, jobs=2, out_dir=tmp_path / "out")
    status = {e.name: e.status for e in report.experiments}
    assert status == {"logistic": "skipped", "regularization": "skipped", "deep": "skipped",
                      "gradcheck": "ok"}
    reasons = {e.name: e.reason for e in report.skipped}
    assert "train_catvnoncat.h5 not found in" in reasons["logistic"]
    assert str(empty) in reasons["logistic"] and "data.mat" in reasons["regularization"]
    assert report.matched == report.compared == 3
    text = summary_line(report)
    assert "skipped a logistic" in text and "skipped d regularization" in text
    table = format_table(report)
    assert "skipped" in table and "g gradcheck" in table
    md, js = write_report(report, tmp_path / "out")
    assert "skipped: a. Logistic regression" in md.read_text()
    data = json.loads(js.read_text())
    assert data["summary"]["skipped"] == ["logistic", "regularization", "deep"]
    assert (tmp_path / "out" / "g_gradcheck.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_failing_run_is_reported_and_the_others_go_on(monkeypatch, tmp_path):
    def broken() -> None:
        raise RuntimeError("deliberately broken")

    monkeypatch.setattr(gradient_checking, "run", broken)
    # keep only the planar baseline (a second, quick experiment that must still run)
    baseline = [t for t in planar.tasks(None) if t.key == "baseline"]
    monkeypatch.setattr(planar, "tasks", lambda data_dir: baseline)
    monkeypatch.setattr(planar, "COURSE_NUMBERS", {"baseline": planar.COURSE_NUMBERS["baseline"]})
    report = run_experiments(["gradcheck", "planar"], jobs=1, out_dir=None)
    failed = report.failed
    assert [e.name for e in failed] == ["gradcheck"]
    assert "RuntimeError: deliberately broken" in failed[0].reason
    status = {e.name: e.status for e in report.experiments}
    assert status == {"planar": "ok", "gradcheck": "failed"} and report.matched == 1
    assert "failed g gradcheck" in summary_line(report)


def test_jobs_out_of_range():
    with pytest.raises(ValueError, match="jobs=0"):
        run_experiments(["gradcheck"], jobs=0)


@pytest.mark.slow
def test_results_do_not_depend_on_the_number_of_jobs(tmp_path):
    names = ["initialization", "gradcheck"]
    one = run_experiments(names, jobs=1, out_dir=tmp_path / "one")
    two = run_experiments(names, jobs=2, out_dir=tmp_path / "two")
    assert one.to_json() == two.to_json()
    assert json.dumps(one.to_json())  # JSON-able, params left out
    runs = one.to_json()["experiments"][0]["runs"]
    assert [r["key"] for r in runs] == ["zeros", "large", "he"]
    assert runs[2]["costs"][:2][1][0] == 100 and len(runs[2]["costs"]) == 151
    assert runs[2]["setting"]["learning_rate"] == 0.01
    md = markdown(two)
    assert "![" in md and "c_initialization.png" in md and "**Protocol**" in md
    assert sorted(p.name for p in (tmp_path / "two").iterdir()) == [
        "c_initialization.png", "g_gradcheck.png"]
