"""Run the experiments: every training run is a task, tasks run in parallel worker processes.

Each task seeds its own generators, and every process (the workers, and this one when
``jobs=1``) limits BLAS to one thread, so a run's numbers do not depend on how many jobs ran or in
which order they finished. The longest tasks start first. When all the runs of an experiment are
in, its figures are drawn in the pool too, while the other runs go on.
"""

from __future__ import annotations

import concurrent.futures as cf
import inspect
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._extras import MissingExtraError
from .._threads import one_blas_thread
from ..datasets import DataFileError
from ._core import ExperimentRun, Figure, Row, Task
from ._registry import EXPERIMENTS, resolve

#: ``progress(done, total, message)``: called as runs finish and figures are drawn.
Progress = Callable[[int, int, str], None]


@dataclass
class ExperimentResult:
    """One experiment's outcome.

    ``status`` is "ok", "skipped" (its data could not be read: ``reason`` says why) or "failed"
    (a run raised: ``reason`` holds the error).
    """

    name: str
    letter: str
    title: str
    status: str = "ok"
    reason: str = ""
    runs: dict[str, ExperimentRun] = field(default_factory=dict)
    rows: list[Row] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    #: Seconds its runs took, added up (not in the JSON: it varies from one run to the next).
    seconds: float = 0.0

    @property
    def protocol(self) -> str:
        """The experiment's protocol: its module docstring without the title line."""
        doc = inspect.getdoc(EXPERIMENTS[self.name]) or ""
        return doc.partition("\n")[2].strip()

    def notebook(self) -> str:
        if self.status != "ok":
            return ""
        return EXPERIMENTS[self.name].notebook(self.runs, self.figures)

    def to_json(self) -> dict[str, Any]:
        listed = [k for k in _report_order(self.name) if k in self.runs]
        keys = listed + sorted(k for k in self.runs if k not in listed)
        return {
            "name": self.name,
            "letter": self.letter,
            "title": self.title,
            "status": self.status,
            **({"reason": self.reason} if self.reason else {}),
            "rows": [r.to_json() for r in self.rows],
            "runs": [self.runs[k].to_json() for k in keys],
            "figures": [f.filename for f in self.figures],
        }


def _report_order(name: str) -> list[str]:
    """Run keys in the order the experiment lists its settings (else task order)."""
    module = EXPERIMENTS[name]
    for attr in ("SETTINGS", "COURSE"):
        if hasattr(module, attr):
            return list(getattr(module, attr))
    return [t.key for t in module.tasks(None)]


@dataclass
class Report:
    """Everything ``nnlab reproduce`` found: the experiments in report order."""

    experiments: list[ExperimentResult]
    wall_seconds: float = 0.0
    jobs: int = 1

    @property
    def rows(self) -> list[Row]:
        return [r for e in self.experiments for r in e.rows]

    @property
    def compared(self) -> int:
        """Rows with a course number to compare with (claims are counted apart)."""
        return sum(1 for r in self.rows if r.match is not None and not r.claim)

    @property
    def matched(self) -> int:
        return sum(1 for r in self.rows if r.match and not r.claim)

    @property
    def claims(self) -> int:
        """Rows that test a claim of the course (see ``Row``)."""
        return sum(1 for r in self.rows if r.claim)

    @property
    def claims_shown(self) -> int:
        return sum(1 for r in self.rows if r.claim and r.match)

    @property
    def skipped(self) -> list[ExperimentResult]:
        return [e for e in self.experiments if e.status == "skipped"]

    @property
    def failed(self) -> list[ExperimentResult]:
        return [e for e in self.experiments if e.status == "failed"]

    def to_json(self) -> dict[str, Any]:
        """The results, settings and cost histories; no timings, so that the same inputs give
        the same JSON however many jobs ran."""
        import numpy
        import sklearn

        from .._version import __version__

        return {
            "nnlab": __version__,
            "numpy": numpy.__version__,
            "scikit-learn": sklearn.__version__,
            "summary": {
                "compared": self.compared,
                "matched": self.matched,
                "differ": self.compared - self.matched,
                **({"claims": self.claims, "claims_shown": self.claims_shown}
                   if self.claims else {}),
                "skipped": [e.name for e in self.skipped],
                "failed": [e.name for e in self.failed],
            },
            "experiments": [e.to_json() for e in self.experiments],
        }


def _init_worker() -> None:
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        return
    threadpool_limits(limits=1)


def _run_task(task: Task) -> tuple[ExperimentRun, float]:
    started = time.perf_counter()
    run = task()
    return run, time.perf_counter() - started


def _draw(name: str, runs: dict[str, ExperimentRun], data_dir: str | None,
          out_dir: str) -> list[Figure]:
    return EXPERIMENTS[name].figures(runs, data_dir, Path(out_dir))


def _uses_sklearn(name: str) -> bool:
    """Whether an experiment's data (its runs and figures) come from scikit-learn."""
    return bool(getattr(EXPERIMENTS[name], "SKLEARN", False))


@dataclass
class _Job:
    """A training run (``kind`` "task") or an experiment's figures, for ``_Scheduler``."""

    kind: str
    name: str
    task: Task | None
    sklearn: bool
    args: tuple = ()

    def submit(self, pool: cf.ProcessPoolExecutor) -> cf.Future:
        if self.kind == "task":
            assert self.task is not None  # a "task" job carries its task
            return pool.submit(_run_task, self.task)
        return pool.submit(_draw, *self.args)


class _Scheduler:
    """Worker processes (one executor each) fed from one queue, longest runs first, each kept
    two jobs ahead so that it never waits for this process.

    A worker forked before this process imported scikit-learn takes the jobs that import it only
    when no other job is left (it pays the import, about a second, rather than wait); the others
    take those jobs first. So the first worker trains while this process imports scikit-learn to
    load the remaining experiments' data, and a selection whose data need no scikit-learn but one
    of whose runs does (the flower's logistic-regression baseline, ``--only planar``) still runs
    every job: the mark is a preference, never a refusal.
    """

    AHEAD = 2

    def __init__(self, tasks: list[Task]):
        self.queue: list[_Job] = []
        self.queued: set[int] = set()
        self.pools: list[tuple[cf.ProcessPoolExecutor, bool]] = []
        self.load: list[int] = []
        self.running: dict[cf.Future, tuple[_Job, int]] = {}
        self.queue_tasks(tasks)

    @property
    def workers(self) -> int:
        return len(self.pools)

    def queue_tasks(self, tasks: list[Task]) -> None:
        """Queue the tasks not queued yet, the queue kept longest first."""
        new = [t for t in tasks if id(t) not in self.queued]
        self.queued.update(id(t) for t in new)
        jobs = [_Job("task", t.experiment, t, t.sklearn or _uses_sklearn(t.experiment))
                for t in new]
        self.queue = sorted(self.queue + jobs, key=lambda j: -j.task.weight if j.task else 0)

    def add(self, job: _Job) -> None:
        self.queue.append(job)
        self._fill()

    def start_worker(self) -> None:
        without_sklearn = "sklearn" not in sys.modules
        pool = cf.ProcessPoolExecutor(max_workers=1, initializer=_init_worker)
        self.pools.append((pool, without_sklearn))
        self.load.append(0)
        self._fill()

    def _next(self, without_sklearn: bool) -> _Job | None:
        if without_sklearn:  # its own jobs first, then any: a worker never idles on a mark
            eligible = [j for j in self.queue if not j.sklearn] or self.queue
        else:  # scikit-learn's jobs first: the other worker takes them only when idle
            eligible = [j for j in self.queue if j.sklearn] or self.queue
        if not eligible:
            return None
        job = eligible[0]
        del self.queue[next(i for i, j in enumerate(self.queue) if j is job)]
        return job

    def _fill(self) -> None:
        for w, (pool, without_sklearn) in enumerate(self.pools):
            while self.load[w] < self.AHEAD:
                job = self._next(without_sklearn)
                if job is None:
                    break
                self.running[job.submit(pool)] = (job, w)
                self.load[w] += 1

    def finished(self):
        """Yield ``(job, future)`` as jobs finish, refilling the workers, until none is left."""
        while self.running:
            done, _ = cf.wait(self.running, return_when=cf.FIRST_COMPLETED)
            for future in done:
                job, w = self.running.pop(future)
                self.load[w] -= 1
                yield job, future
            self._fill()
            if not self.running and self.queue:  # only jobs no started worker may take
                self.start_worker()

    def shutdown(self) -> None:
        for pool, _ in self.pools:
            pool.shutdown(wait=True, cancel_futures=True)


def _load_fetching(module: Any, data: str | None, fetch: Callable[[str], bool] | None) -> None:
    """``module.load(data)``, fetching each missing course file on first need and trying
    again; the last ``DataFileError`` (or the fetch's) goes to the caller."""
    fetched: set[str] = set()
    while True:
        try:
            module.load(data)
            return
        except DataFileError as exc:
            name = exc.data_file
            if (fetch is None or not exc.missing or name is None or name in fetched
                    or not fetch(name)):
                raise
            fetched.add(name)


def run_experiments(
    names: list[str] | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    jobs: int | None = None,
    out_dir: str | os.PathLike[str] | None = None,
    progress: Progress | None = None,
    fetch: Callable[[str], bool] | None = None,
) -> Report:
    """Run the selected experiments (all by default) and, with ``out_dir``, draw their figures
    there (``write_report`` then writes report.md and results.json).

    Args:
        names: experiment names or letters (see ``nnlab.experiments.EXPERIMENTS``).
        data_dir: the folder with the cat and football files (else ``$NNLAB_DATA``, then the
            cache: see ``nnlab.datasets.fetch``). An experiment whose data cannot be read is
            skipped, with the reason, and the others run.
        jobs: worker processes (default: the number of CPUs); 1 runs everything in this process.
        out_dir: where the PNG figures go (created if needed); None draws nothing.
        progress: ``progress(done, total, message)``, called as work finishes.
        fetch: ``fetch(file_name)`` gets a missing course file on first need (e.g.
            ``nnlab.datasets.fetch.Fetcher``): it returns False for a file it cannot download and
            raises ``DataFileError`` when the download fails; None downloads nothing.
    """
    started = time.perf_counter()
    selected = resolve(names)
    jobs = (os.cpu_count() or 1) if jobs is None else int(jobs)
    if jobs < 1:
        raise ValueError(f"jobs={jobs} is out of range: expected >= 1")
    data = None if data_dir is None else str(data_dir)
    out = None if out_dir is None else Path(out_dir)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)

    results = {n: ExperimentResult(n, EXPERIMENTS[n].LETTER, EXPERIMENTS[n].TITLE)
               for n in selected}
    pending: dict[str, set[str]] = {}
    tasks: list[Task] = []

    def load(names: list[str]) -> None:
        for name in names:
            module = EXPERIMENTS[name]
            try:
                _load_fetching(module, data, fetch)
            except (DataFileError, MissingExtraError) as exc:
                results[name].status, results[name].reason = "skipped", str(exc)
                continue
            mine = module.tasks(data)
            pending[name] = {t.key for t in mine}
            tasks.extend(mine)

    # The experiments whose data need no scikit-learn first: with several jobs, one worker starts
    # on their runs while this process imports scikit-learn (~1 s) to load the others.
    own_data = [n for n in selected if not _uses_sklearn(n)]
    load(own_data)
    tasks.sort(key=lambda t: -t.weight)
    scheduler = None
    if jobs > 1 and tasks and len(own_data) < len(selected):
        scheduler = _Scheduler(tasks)
        scheduler.start_worker()
    load([n for n in selected if _uses_sklearn(n)])
    tasks.sort(key=lambda t: -t.weight)
    total = len(tasks) + (len(pending) if out is not None else 0)
    done = 0

    def note(message: str) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total, message)

    def finished(
        task: Task, outcome: tuple[ExperimentRun, float] | None, error: BaseException | None
    ) -> str | None:
        """Record a finished run; return the experiment's name when all its runs are in."""
        result = results[task.experiment]
        run = None
        if outcome is not None:
            run, seconds = outcome
            result.seconds += seconds
        if error is not None and result.status == "ok":
            result.status = "failed"
            result.reason = f"{task.key}: {type(error).__name__}: {error}"
        if run is not None:
            result.runs[task.key] = run
        pending[task.experiment].discard(task.key)
        note(f"{result.letter} {result.name}: {task.key}")
        if pending[task.experiment]:
            return None
        if result.status == "ok":
            result.rows = EXPERIMENTS[task.experiment].rows(result.runs)
            return task.experiment
        return None

    if progress is not None:
        progress(0, total, "starting")
    if scheduler is None and (jobs == 1 or len(tasks) <= 1):
        with one_blas_thread():
            for task in tasks:
                outcome, error = None, None
                try:
                    outcome = _run_task(task)
                except Exception as exc:  # reported in the table, the others go on
                    error = exc
                complete = finished(task, outcome, error)
                if complete and out is not None:
                    try:
                        results[complete].figures = _draw(complete, results[complete].runs,
                                                          data, str(out))
                    except Exception as exc:  # the numbers stand without their pictures
                        results[complete].reason = f"figures: {type(exc).__name__}: {exc}"
                    note(f"{results[complete].letter} {complete}: figures")
    else:
        scheduler = scheduler or _Scheduler(tasks)
        scheduler.queue_tasks(tasks)
        try:
            while scheduler.workers < min(jobs, len(tasks)):
                scheduler.start_worker()
            for job, future in scheduler.finished():
                error = future.exception()
                if job.kind == "figures":
                    if error is not None:
                        results[job.name].reason = f"figures: {type(error).__name__}: {error}"
                    else:
                        results[job.name].figures = future.result()
                    note(f"{results[job.name].letter} {job.name}: figures")
                    continue
                complete = finished(job.task, None if error else future.result(), error)
                if complete and out is not None:
                    scheduler.add(_Job("figures", complete, None, _uses_sklearn(complete),
                                       (complete, results[complete].runs, data, str(out))))
        finally:
            scheduler.shutdown()
    for result in results.values():
        if result.status == "ok" and pending.get(result.name):
            result.status, result.reason = "failed", "some runs did not finish"
    return Report([results[n] for n in selected], time.perf_counter() - started, jobs)
