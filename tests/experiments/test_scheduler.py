"""The scheduler: skipping what has no data, reporting failures, the same results for any --jobs."""

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


def _task(experiment, key, weight, sklearn=False):
    from nnlab.experiments._core import Task

    return Task(experiment, key, len, {"obj": ()}, weight=weight, sklearn=sklearn)


def test_the_scheduler_keeps_scikit_learn_jobs_off_the_worker_started_before_the_import():
    from nnlab.experiments.scheduler import _Scheduler

    tasks = [_task("regularization", "a", 5.0), _task("planar", "baseline", 4.0, sklearn=True),
             _task("optimization", "adam", 3.0), _task("deep", "b", 1.0)]  # optimization: SKLEARN
    scheduler = _Scheduler(tasks)
    assert [j.task.key for j in scheduler.queue] == ["a", "baseline", "adam", "b"]  # longest first
    first = scheduler._next(without_sklearn=True)
    second = scheduler._next(without_sklearn=True)
    assert (first.task.key, second.task.key) == ("a", "b")  # skips the two that need sklearn
    assert scheduler._next(without_sklearn=False).task.key == "baseline"
    scheduler.queue_tasks(tasks)  # already queued once: nothing is added twice
    assert [j.task.key for j in scheduler.queue] == ["adam"]
    assert scheduler._next(without_sklearn=False).task.key == "adam" and not scheduler.queue
    # no scikit-learn job left: the other workers take the rest in order, each once
    scheduler.queue_tasks([_task("deep", "x", 2.0), _task("deep", "y", 1.0)])
    assert scheduler._next(without_sklearn=False).task.key == "x"
    assert [j.task.key for j in scheduler.queue] == ["y"]


def test_a_worker_started_before_the_import_takes_scikit_learn_jobs_when_nothing_else_is_left():
    """``--only planar`` at two jobs: no experiment's data needs scikit-learn, so every worker
    starts before this process imports it; the flower's logistic-regression baseline must still
    get a worker (it used to stay queued: "some runs did not finish")."""
    from nnlab.experiments.scheduler import _Scheduler

    tasks = [_task("planar", "h4", 5.0), _task("planar", "baseline", 4.0, sklearn=True),
             _task("planar", "h1", 1.0)]
    scheduler = _Scheduler(tasks)
    taken = [scheduler._next(without_sklearn=True) for _ in range(3)]
    assert [j.task.key for j in taken if j is not None] == ["h4", "h1", "baseline"]
    assert not scheduler.queue and scheduler._next(without_sklearn=True) is None


@pytest.mark.slow
def test_planar_alone_at_two_jobs_without_scikit_learn_in_this_process(monkeypatch, tmp_path):
    """The real scheduler with worker processes, this process looking as if it had not imported
    scikit-learn (as ``nnlab reproduce --only planar`` starts): every run finishes."""
    import types

    import nnlab.experiments.scheduler as scheduler

    monkeypatch.setattr(scheduler, "sys", types.SimpleNamespace(modules={}))  # what workers see
    report = run_experiments(["planar"], jobs=2)
    (planar_result,) = report.experiments
    assert planar_result.status == "ok", planar_result.reason
    assert sorted(planar_result.runs) == sorted(t.key for t in planar.tasks(None))


def test_a_report_with_several_jobs_runs_every_task_once(tmp_path):
    import nnlab.experiments.scheduler as scheduler

    calls = []
    report = run_experiments(["initialization", "gradcheck", "descent"], jobs=2,
                             out_dir=tmp_path, progress=lambda *args: calls.append(args))
    messages = [message for _, _, message in calls[1:]]
    assert len(messages) == len(set(messages)) == calls[-1][1] == 3 + 1 + 3 + 3  # runs, figures
    assert calls[-1][0] == calls[-1][1]
    for experiment in report.experiments:
        assert experiment.status == "ok", experiment.reason
        assert experiment.figures
    runs = {e.name: sorted(e.runs) for e in report.experiments}
    assert runs["initialization"] == ["he", "large", "zeros"]
    assert runs["descent"] == ["batch", "minibatch", "stochastic"]
    assert scheduler._uses_sklearn("initialization") and not scheduler._uses_sklearn("gradcheck")
