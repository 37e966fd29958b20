"""Running a sweep's trials: in this process, in local worker processes, or on a Dask cluster.

Whatever runs them, a trial is ``run_trial(payload) -> record``: it trains ``payload["config"]``
with ``nnlab.runs.run.run_config`` (BLAS limited to one thread, so its numbers do not depend on the
machine's load or on how many trials run beside it) and returns a JSON-ready record. The trial's
own errors are part of the record (``status`` "diverged" or "failed", with ``error``); they never
stop the sweep.

This process writes each record atomically to ``trials/<id>.json`` as soon as it arrives, so a
sweep that is stopped keeps every finished trial, and the next run of the same sweep skips them.
A worker that dies (a killed process, a lost Dask worker) loses no trial: its trials run again
elsewhere. A trial whose worker dies twice (locally) or three times (Dask's ``allowed-failures``)
is recorded as failed, since it is likely the trial that kills them.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import json
import math
import multiprocessing
import os
import re
import socket
import time
import uuid
import warnings
from collections import deque
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, cast

from .._threads import one_blas_thread
from ..files.format import atomic_write_bytes
from .result import SweepResult
from .spec import SweepError, SweepSpec, Trial, expand, format_value

#: Points of a learning curve kept in a trial's record (evenly spaced, the last epoch included).
CURVE_POINTS = 200
#: Names of the curves kept (``History`` keys).
CURVE_KEYS = ("loss", "accuracy", "val_loss", "val_accuracy")
#: How many times a local trial's worker process may die before the trial is recorded as failed.
LOCAL_ATTEMPTS = 2

#: ``progress(done, total, message)``, called as trials finish.
Progress = Callable[[int, int, str], None]


class SweepWarning(UserWarning):
    """A saved trial record that cannot be used (the trial runs again): the file and why."""




def _finite(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _finite(v) for k, v in x.items()}
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def _curve(history: Any, n_points: int) -> dict[str, list]:
    n = len(history)
    if n == 0:
        return {"epoch": []}
    if n <= n_points:
        idx = list(range(n))
    else:
        idx = sorted({round(i * (n - 1) / (n_points - 1)) for i in range(n_points)})
    curve: dict[str, list] = {"epoch": [int(history.epoch[i]) + 1 for i in idx]}
    for key in CURVE_KEYS:
        if key in history:
            values = history[key]
            curve[key] = [_finite(float(values[i])) for i in idx]
    return curve


def run_trial(payload: dict[str, Any]) -> dict[str, Any]:
    """Train one trial and return its record; a trial's error is recorded, never raised.

    ``payload``: ``id``, ``config`` (a ``TrainConfig`` as a dict), ``data_dir`` (or None) and
    ``curve_points``. The record holds ``id``, ``config``, ``status`` ("ok", "diverged" or
    "failed"), and either ``metrics`` (split → loss / accuracy), ``epochs_run``,
    ``stopped_early`` and ``curve`` (the learning curves, at most ``curve_points`` epochs), or
    ``error`` (one line) and, for a diverged run, ``epoch``.

    >>> rec = run_trial({"id": "x", "config": {"dataset": "moons", "layers": [4], "epochs": 3}})
    >>> rec["status"], sorted(rec["metrics"]), rec["curve"]["epoch"]
    ('ok', ['train'], [1, 2, 3])
    >>> rec = run_trial({"id": "y", "config": {"dataset": "diabetes", "layers": [8], "lr": 5.0,
    ...                                        "optimizer": "gd", "epochs": 50}})
    >>> rec["status"], rec["error"][:25]
    ('diverged', 'training diverged at epoc')
    """
    from ..runs.config import TrainConfig
    from ..runs.run import run_config
    from ..training import DivergenceError

    record: dict[str, Any] = {"id": payload["id"], "config": payload["config"]}
    try:
        with one_blas_thread():
            config = TrainConfig.from_dict(payload["config"], where=f"trial {payload['id']}")
            result = run_config(config, data_dir=payload.get("data_dir"), verbose=0)
    except DivergenceError as exc:
        return {**record, "status": "diverged", "error": str(exc).splitlines()[0],
                "epoch": int(exc.epoch)}
    except Exception as exc:  # recorded with the trial; the sweep goes on
        message = str(exc).splitlines()[0] if str(exc) else ""
        return {**record, "status": "failed", "error": f"{type(exc).__name__}: {message}"}
    return {
        **record,
        "status": "ok",
        "metrics": _finite({s: {k: float(v) for k, v in m.items()}
                            for s, m in result.metrics.items()}),
        "epochs_run": int(result.epochs_run),
        "stopped_early": bool(result.stopped_early),
        "curve": _curve(result.history, int(payload.get("curve_points") or CURVE_POINTS)),
    }


# -------------------------------------------------------------------------------- the store


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _is_metric(x: Any) -> bool:  # a finite number, or None (JSON's stand-in for nan and inf)
    return x is None or (_is_number(x) and math.isfinite(x))


def record_problem(record: Any, trial: Trial) -> str | None:
    """What is wrong with a saved trial record (edited by hand, or by another program), or None
    when it is a whole record of ``trial`` that the report can use as it is.

    >>> from nnlab.sweep.spec import parse_spec, expand
    >>> trial = expand(parse_spec("[base]\\ndataset = 'moons'\\nepochs = 2"))[0]
    >>> record_problem({"id": trial.id, "config": trial.config, "status": "failed",
    ...                 "error": "ValueError: x"}, trial) is None
    True
    >>> record_problem({"id": trial.id, "config": trial.config, "status": "ok",
    ...                 "metrics": {"train": {"accuracy": "high"}}, "epochs_run": 2,
    ...                 "stopped_early": False, "curve": {"epoch": [1, 2]}}, trial)
    "metrics.train.accuracy = 'high' is not a number"
    """
    if not isinstance(record, dict):
        return f"expected a JSON object, found {type(record).__name__}"
    if record.get("id") != trial.id:
        return f"id = {record.get('id')!r} is not the trial's id {trial.id}"
    if record.get("config") != trial.config:
        return "config holds other settings than the trial's (its file name is their digest)"
    status = record.get("status")
    if status not in ("ok", "diverged", "failed"):
        return f"status = {status!r} is not one of ok, diverged, failed"
    if status != "ok":
        if not isinstance(record.get("error"), str):
            return f"error = {record.get('error')!r} is not a message"
        epoch = record.get("epoch")
        if epoch is not None and (not isinstance(epoch, int) or isinstance(epoch, bool)):
            return f"epoch = {epoch!r} is not a whole number"
        return None
    metrics = record.get("metrics")
    if not isinstance(metrics, dict) or not metrics:
        return f"metrics = {metrics!r} is not a table of splits"
    for split, values in metrics.items():
        if not isinstance(values, dict):
            return f"metrics.{split} = {values!r} is not a table of quantities"
        for key, value in values.items():
            if not _is_metric(value):
                return f"metrics.{split}.{key} = {value!r} is not a number"
    epochs = record.get("epochs_run")
    if not isinstance(epochs, int) or isinstance(epochs, bool) or epochs < 0:
        return f"epochs_run = {epochs!r} is not a whole number >= 0"
    if not isinstance(record.get("stopped_early"), bool):
        return f"stopped_early = {record.get('stopped_early')!r} is not true or false"
    curve = record.get("curve")
    if not isinstance(curve, dict):
        return f"curve = {_short(curve)} is not a table of lists"
    epoch = curve.get("epoch")
    if not isinstance(epoch, list) or not all(
        isinstance(e, int) and not isinstance(e, bool) for e in epoch
    ):
        return f"curve.epoch = {_short(epoch)} is not a list of whole numbers"
    for key, values in curve.items():
        if key == "epoch":
            continue
        if not isinstance(values, list) or len(values) != len(epoch) or not all(
            _is_metric(v) for v in values
        ):
            return f"curve.{key} = {_short(values)} is not a list of {len(epoch)} numbers"
    return None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


class TrialStore:
    """The folder of trial records: ``<out>/trials/<id>.json``, one file per trial, each written
    atomically (a file is there whole or not at all).

    A file that is there but not a whole record of its trial (edited by hand, cut short by a full
    disk, written by another program) is not used: ``load`` answers None, so the trial runs
    again, and ``problems`` gets a line naming the file and what is wrong with it."""

    def __init__(self, out_dir: str | os.PathLike[str]):
        self.dir = Path(out_dir) / "trials"
        #: One line per record file found unusable by ``load``: the path and the reason.
        self.problems: list[str] = []

    def path(self, trial_id: str) -> Path:
        return self.dir / f"{trial_id}.json"

    def load(self, trial: Trial) -> dict[str, Any] | None:
        """The saved record of ``trial``, or None (none yet, or unusable: see ``problems``)."""
        path = self.path(trial.id)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            return self._unusable(path, f"cannot be read ({getattr(exc, 'strerror', None) or exc})")
        try:
            record = json.loads(text)
        except (ValueError, RecursionError) as exc:
            return self._unusable(path, f"is not JSON ({str(exc).splitlines()[0]})")
        problem = record_problem(record, trial)
        if problem is not None:
            return self._unusable(path, f"is not a record of this trial: {problem}")
        return record

    def _unusable(self, path: Path, why: str) -> dict[str, Any] | None:
        self.problems.append(f"{path}: {why}; running that trial again")
        return None

    def save(self, record: dict[str, Any]) -> dict[str, Any]:
        """Write ``record``; return it as ``load`` will read it back (keys sorted), so that a
        sweep's results do not depend on which of its trials were run now."""
        text = json.dumps(record, indent=1, sort_keys=True, allow_nan=False) + "\n"
        atomic_write_bytes(self.path(record["id"]), text.encode("utf-8"))
        return json.loads(text)


# --------------------------------------------------------------------------------- executors


OnResult = Callable[[dict[str, Any], dict[str, Any]], None]


def _lost(payload: dict[str, Any], why: str) -> dict[str, Any]:
    return {"id": payload["id"], "config": payload["config"], "status": "failed", "error": why}


def run_sequential(payloads: Iterable[dict[str, Any]], on_result: OnResult) -> None:
    """Run the trials one after the other in this process."""
    for payload in payloads:
        on_result(payload, run_trial(payload))


def run_local(payloads: list[dict[str, Any]], jobs: int, on_result: OnResult) -> None:
    """Run the trials in ``jobs`` worker processes (``spawn``: a fresh interpreter each).

    At most ``jobs`` trials are in flight, so when a worker dies the trials it may have been
    running are known: they go back in the queue (a trial caught in ``LOCAL_ATTEMPTS`` deaths is
    recorded as failed) and a new pool takes over.
    """
    from concurrent.futures.process import BrokenProcessPool

    queue = deque(payloads)
    deaths: dict[str, int] = {}
    context = multiprocessing.get_context("spawn")
    while queue:
        workers = max(1, min(jobs, len(queue)))
        pool = cf.ProcessPoolExecutor(max_workers=workers, mp_context=context)
        running: dict[cf.Future, dict[str, Any]] = {}
        broken: str | None = None
        try:
            while (queue or running) and broken is None:
                while queue and len(running) < workers:
                    payload = queue.popleft()
                    running[pool.submit(run_trial, payload)] = payload
                done, _ = cf.wait(running, return_when=cf.FIRST_COMPLETED)
                for future in done:
                    try:
                        record = future.result()
                    except BrokenProcessPool as exc:
                        broken = str(exc) or "a worker process died"
                        continue
                    on_result(running.pop(future), record)
        finally:
            pool.shutdown(wait=broken is None, cancel_futures=True)
        if broken is not None:
            for payload in reversed(list(running.values())):
                deaths[payload["id"]] = deaths.get(payload["id"], 0) + 1
                if deaths[payload["id"]] >= LOCAL_ATTEMPTS:
                    on_result(payload, _lost(payload, f"WorkerDied: the worker process running "
                                             f"it died {deaths[payload['id']]} times ({broken})"))
                else:
                    queue.appendleft(payload)


#: A scheduler's address: ``tcp://HOST:PORT`` (or tls, ws, wss), or ``HOST:PORT`` (tcp); HOST a
#: name, an IPv4 address or an IPv6 address in brackets.
_ADDRESS = re.compile(
    r"^(?:(?P<scheme>tcp|tls|ws|wss)://)?"
    r"(?P<host>[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])"
    r":(?P<port>[0-9]{1,5})$"
)


def scheduler_address(scheduler: str) -> tuple[str, str, int]:
    """Check the form of a Dask scheduler's address before anything connects: ``(scheme, host,
    port)``, or a ``SweepError`` saying what an address looks like.

    >>> scheduler_address("tcp://10.0.0.5:8786"), scheduler_address("[::1]:8786")
    (('tcp', '10.0.0.5', 8786), ('tcp', '::1', 8786))
    >>> scheduler_address("not a url")
    Traceback (most recent call last):
    ...
    nnlab.sweep.spec.SweepError: --scheduler 'not a url' is not a scheduler address: expected \
tcp://HOST:PORT, e.g. tcp://10.0.0.5:8786
    """
    match = _ADDRESS.match(scheduler) if isinstance(scheduler, str) else None
    port = int(match["port"]) if match else 0
    if match is None or not 1 <= port <= 65535:
        raise SweepError(f"--scheduler {scheduler!r} is not a scheduler address: expected "
                         "tcp://HOST:PORT, e.g. tcp://10.0.0.5:8786")
    return match["scheme"] or "tcp", match["host"].strip("[]"), port


def connect(scheduler: str, timeout: float = 20.0) -> Any:
    """A ``distributed.Client`` of the Dask scheduler at ``scheduler`` (a clear error when dask
    is missing, the address is not one, or the scheduler cannot be reached in ``timeout``
    seconds: its port is tried first, so that an unreachable one fails fast, with one line)."""
    _, host, port = scheduler_address(scheduler)
    try:
        from distributed import Client
    except ImportError:
        raise SweepError("--scheduler needs Dask's distributed scheduler: "
                         "pip install 'nnlab[dask]'") from None
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except TimeoutError:
        raise SweepError(f"cannot reach the Dask scheduler at {scheduler}: no answer in "
                         f"{timeout:g} s") from None
    except OSError as exc:
        raise SweepError(f"cannot reach the Dask scheduler at {scheduler}: "
                         f"{exc.strerror or exc}") from None

    class _Client(Client):
        """A client that, when it fails to start, is left closed: otherwise its finalizer tries to
        close it at exit, waits twice ``timeout`` and prints a ``TimeoutError`` traceback."""

        def __init__(self, *args: Any, **kwargs: Any):
            try:
                super().__init__(*args, **kwargs)
            except BaseException:
                self.status = "closed"  # close() and __del__ have nothing to do
                with contextlib.suppress(Exception):
                    self._loop_runner.stop()
                raise

    try:
        return _Client(scheduler, timeout=timeout, set_as_default=False)
    except Exception as exc:  # not a Dask scheduler at that port, or one too slow to answer
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if isinstance(exc, MemoryError):  # it sent a frame length that is not Dask's
            message = "it does not answer as a Dask scheduler does"
        raise SweepError(f"cannot reach the Dask scheduler at {scheduler}: {message}") from None


def run_dask(payloads: list[dict[str, Any]], client: Any, on_result: OnResult) -> None:
    """Run the trials on a Dask cluster through ``client`` (a ``distributed.Client``).

    Every trial is one task. When a worker dies, the scheduler runs its tasks again on the
    others; a task that was running on ``allowed-failures`` + 1 dying workers comes back as
    ``KilledWorker`` and is recorded as failed. Any other error of the cluster (say, a worker
    that cannot import nnlab) is raised after the other trials are in, unrecorded, so that the
    next run tries them again.
    """
    from distributed import KilledWorker, as_completed

    run = uuid.uuid4().hex[:8]  # keys of this run only: never another client's cached result
    futures = {client.submit(run_trial, p, key=f"nnlab-trial-{p['id']}-{run}", pure=False): p
               for p in payloads}
    problems: list[str] = []
    try:
        for future in as_completed(list(futures), loop=client.loop):
            payload = futures.pop(future)
            if future.status == "error":
                exc = future.exception()
                if isinstance(exc, KilledWorker):
                    on_result(payload, _lost(payload, f"KilledWorker: the workers running it "
                                             f"died ({exc})"))
                else:
                    problems.append(f"{type(exc).__name__}: {exc}")
            elif future.status == "cancelled":
                problems.append("the cluster cancelled it")
            else:
                on_result(payload, future.result())
            future.release()
    finally:
        if futures:
            client.cancel(list(futures))
    if problems:
        raise SweepError(f"{len(problems)} trial(s) could not run on the cluster (the finished "
                         f"ones are saved; run again to retry): {problems[0]}")


# ------------------------------------------------------------------------------- the sweep


def run_sweep(
    spec: SweepSpec,
    out_dir: str | os.PathLike[str],
    *,
    jobs: int | None = None,
    scheduler: str | None = None,
    client: Any = None,
    data_dir: str | os.PathLike[str] | None = None,
    retry_failed: bool = False,
    progress: Progress | None = None,
    curve_points: int = CURVE_POINTS,
    plots: bool = True,
    warn: Callable[[str], None] | None = None,
) -> SweepResult:
    """Run every trial of ``spec`` not already finished in ``out_dir``, then write the results.

    Args:
        spec: the sweep (``load_spec`` / ``parse_spec``).
        out_dir: the sweep's folder: ``trials/`` (one record per trial), then ``results.json``,
            ``results.csv``, ``best.toml`` and the plots (see ``nnlab.sweep.report``).
        jobs: local worker processes (default: the number of CPUs); 1 runs in this process.
        scheduler: the address of a Dask scheduler (``tcp://host:8786``) to run the trials on;
            or give ``client``, a connected ``distributed.Client``.
        data_dir: the folder of the course's data files, as the workers see it (default: their
            ``$NNLAB_DATA``).
        retry_failed: run again the trials recorded as failed or diverged.
        progress: ``progress(done, total, message)`` as trials finish.
        curve_points: epochs of each learning curve kept in the records.
        plots: draw the PNG plots.
        warn: called with one line for each trial record found in ``out_dir`` but unusable
            (naming the file and why; that trial runs again); default: ``warnings.warn`` with a
            ``SweepWarning``.

    >>> import tempfile
    >>> from nnlab.sweep import parse_spec
    >>> spec = parse_spec('''
    ... [sweep]
    ... seeds = 2
    ... metric = "train.accuracy"
    ... [base]
    ... dataset = "moons"
    ... layers = [4]
    ... epochs = 20
    ... lr = 0.05
    ... [grid]
    ... optimizer = ["gd", "adam"]
    ... ''')
    >>> with tempfile.TemporaryDirectory() as out:
    ...     first = run_sweep(spec, out, jobs=1, plots=False)
    ...     again = run_sweep(spec, out, jobs=1, plots=False)
    >>> first.ran, again.ran, again.reused
    (4, 0, 4)
    """
    from .report import write_outputs

    started = time.perf_counter()
    if jobs is not None and jobs < 1:
        raise SweepError(f"jobs={jobs}: expected a number of processes >= 1")
    if scheduler is not None and client is not None:
        raise SweepError("give a scheduler address or a client, not both")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise SweepError(f"{out}: it exists and is not a folder")
    trials = expand(spec)
    store = TrialStore(out)
    records: dict[str, dict[str, Any]] = {}
    todo: list[Trial] = []
    queued: set[str] = set()
    for trial in trials:
        if trial.id in records or trial.id in queued:
            continue
        record = store.load(trial)
        if record is not None and not (retry_failed and record["status"] != "ok"):
            records[trial.id] = record
        else:
            todo.append(trial)
            queued.add(trial.id)
    for line in store.problems:
        if warn is not None:
            warn(line)
        else:
            warnings.warn(line, SweepWarning, stacklevel=2)
    reused = len(records)
    total = len(records) + len(todo)
    try:
        store.dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SweepError(f"{out}: cannot create the sweep's folder ({exc.strerror})") from None

    data = None if data_dir is None else str(data_dir)
    payloads = [{"id": t.id, "config": t.config, "data_dir": data, "curve_points": curve_points,
                 "label": t.point.label, "seed_index": t.seed_index} for t in todo]
    ran = 0

    def on_result(payload: dict[str, Any], record: dict[str, Any]) -> None:
        nonlocal ran
        records[payload["id"]] = store.save(record)
        ran += 1
        if progress is not None:
            progress(len(records), total, _describe(payload, record, spec))

    if progress is not None:
        progress(len(records), total, f"{reused} finished before, {len(todo)} to run"
                 if reused else f"{len(todo)} trials")
    where = "here"
    if payloads:
        if client is not None or scheduler is not None:
            own = client is None
            dask_client = connect(cast(str, scheduler)) if own else client
            where = f"Dask {getattr(dask_client.scheduler, 'address', scheduler)}"
            try:
                run_dask(payloads, dask_client, on_result)
            finally:
                if own:
                    dask_client.close()
        else:
            n = (os.cpu_count() or 1) if jobs is None else jobs
            if n == 1 or len(payloads) == 1:
                run_sequential(payloads, on_result)
                where = "this process"
            else:
                run_local(payloads, n, on_result)
                where = f"{min(n, len(payloads))} local processes"
    result = SweepResult(spec, trials, records, ran, reused, 0.0, where)
    result.files = write_outputs(result, out, plots=plots)
    result.wall_seconds = time.perf_counter() - started
    return result


def _describe(payload: dict[str, Any], record: dict[str, Any], spec: SweepSpec) -> str:
    head = f"{payload['label']} seed {payload['seed_index']}"
    if record["status"] != "ok":
        return f"{head}: {record['status']}"
    v = record.get("metrics", {}).get(spec.split, {}).get(spec.quantity)
    return f"{head}: {spec.metric} {format_value(v) if v is not None else '-'}"
