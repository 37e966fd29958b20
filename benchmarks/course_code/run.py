"""``nnlab reproduce`` against the course's own kind of NumPy code, experiment by experiment.

    .venv/bin/python benchmarks/course_code/run.py                  # a-k, writes RESULTS.md
    .venv/bin/python benchmarks/course_code/run.py --only a,b       # a subset (printed only)
    .venv/bin/python benchmarks/course_code/run.py --quick --only b # smoke test: ~1 % iterations

For each selected experiment, two fresh subprocesses, one after the other:

- **course code**: ``experiments.run_<letter>`` (the course-style code of this folder), timed in
  the process after its data are loaded, with one BLAS thread like nnlab's runs
  (``--course-threads 0``: OpenBLAS's default, one per core);
- **nnlab**: ``nnlab reproduce --only <letter> --jobs 1 --json`` (``nnlab.cli.main`` in a fresh
  interpreter, as the ``nnlab`` command runs it), which pins BLAS to one thread; its training
  runs (``scheduler._run_task``, data loading inside the runs included) and its figures
  (``scheduler._draw``) are timed apart, and the whole subprocess's wall time is measured from
  outside (interpreter start-up, imports, figures and report files included).

With every experiment selected (and not ``--quick``), ``python -m nnlab reproduce --jobs 1`` and
``python -m nnlab reproduce`` (default jobs) are then timed whole, ``--repeats`` times each (the
median is reported). The numbers both sides computed
(accuracy counts, final costs, the numbers behind g-k's claims) are printed side by side, with
every difference. ``--out PATH`` writes the Markdown (default: RESULTS.md next to this file when
all experiments run without ``--quick``; otherwise only printed). ``--nnlab-src DIR`` measures the
nnlab under DIR instead of the installed one (e.g. ``git archive HEAD src | tar -x -C /tmp/h``,
then ``--nnlab-src /tmp/h/src``: the committed code, whatever the working tree holds).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

LETTERS = "abcdefghijk"
TIMEOUT = 3600


# ---------------------------------------------------------------------------------------------
# In the subprocesses


def course_worker(letter: str, quick: bool, data_dir: str | None, threads: int) -> dict:
    import numpy as np
    from threadpoolctl import threadpool_limits

    import experiments

    np.seterr(all="ignore")  # the course's code lets log(0) and exp overflow warn; not timed
    data = experiments.load(letter, data_dir)
    with threadpool_limits(limits=threads or None, user_api="blas"):
        blas = _blas()
        start, cpu = time.perf_counter(), time.process_time()
        results = experiments.RUNS[letter](data, quick)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {"seconds": seconds, "cpu": cpu, "results": results, "blas": blas}


def nnlab_worker(letter: str, out_dir: str, data_dir: str | None) -> dict:
    start = time.perf_counter()
    from nnlab import cli
    from nnlab.experiments import scheduler

    seconds = {"runs": 0.0, "runs_cpu": 0.0, "figures": 0.0, "figures_cpu": 0.0}
    run_task, draw = scheduler._run_task, scheduler._draw

    def timed(name, fn):
        def call(*args, **kwargs):
            t, cpu = time.perf_counter(), time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                seconds[name] += time.perf_counter() - t
                seconds[f"{name}_cpu"] += time.process_time() - cpu
        return call

    scheduler._run_task = timed("runs", run_task)
    scheduler._draw = timed("figures", draw)
    argv = ["reproduce", "--only", letter, "--jobs", "1", "--json", "--out", out_dir]
    if data_dir:
        argv += ["--data-dir", data_dir]
    imported = time.perf_counter()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = cli.main(argv)
    done = time.perf_counter()
    import nnlab

    return {"rc": rc, **seconds,
            "nnlab": f"nnlab {nnlab.__version__} from {Path(nnlab.__file__).parent.parent}",
            "main": done - imported, "imports": imported - start,
            "report": json.loads(out.getvalue())}


def _blas() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:  # pragma: no cover
        return "unknown"
    return ", ".join(f"{i.get('internal_api')} {i.get('version')} ({i.get('num_threads')} "
                     "threads)" for i in threadpool_info() if i["user_api"] == "blas")


# ---------------------------------------------------------------------------------------------
# The driver


def _subprocess(args: list[str], env: dict[str, str], timeout: float = TIMEOUT) -> dict:
    """Run this script with ``args``; its last JSON line, plus the wall time seen from here."""
    cmd = [sys.executable, str(Path(__file__).resolve()), *args]
    start = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    wall = time.perf_counter() - start
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"failed (exit {proc.returncode}): {tail[:300]}"}
    return {**json.loads(lines[-1]), "wall": wall}


def time_whole_median(jobs: int | None, data_dir: str | None, env: dict[str, str],
                      repeats: int) -> dict:
    """``time_whole`` ``repeats`` times: the run of median wall time, with every wall time."""
    runs = [time_whole(jobs, data_dir, env) for _ in range(max(1, repeats))]
    good = sorted((r for r in runs if "error" not in r), key=lambda r: r["wall"])
    if not good:
        return runs[0]
    return {**good[(len(good) - 1) // 2], "walls": [r["wall"] for r in runs]}


def time_whole(jobs: int | None, data_dir: str | None, env: dict[str, str]) -> dict:
    """Wall seconds of ``python -m nnlab reproduce`` (all experiments) with ``jobs``."""
    with tempfile.TemporaryDirectory(prefix="nnlab-course-bench-") as tmp:
        cmd = [sys.executable, "-m", "nnlab", "reproduce", "--json", "--out", tmp]
        if jobs is not None:
            cmd += ["--jobs", str(jobs)]
        if data_dir:
            cmd += ["--data-dir", data_dir]
        start, cpu = time.perf_counter(), _children_cpu()
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, env=env)
        wall, cpu = time.perf_counter() - start, _children_cpu() - cpu
    if proc.returncode != 0:
        return {"error": f"exit {proc.returncode}", "wall": wall}
    return {"wall": wall, "cpu": cpu, "summary": json.loads(proc.stdout)["summary"]}


def _children_cpu() -> float:
    """User + system seconds of this process's finished children (and theirs)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def nnlab_values(letter: str, experiment: dict) -> dict[str, dict]:
    """nnlab's numbers from ``reproduce --json``, in the shape ``experiments.run_<letter>``
    returns them."""
    out = {}
    for r in experiment.get("runs", []):
        values: dict = {split: f"{a['correct']}/{a['total']}"
                        for split, a in r.get("accuracy", {}).items()}
        e = r.get("extra", {})
        if letter in "abcdef" and r.get("costs"):
            values["final cost"] = r["costs"][-1][1]
        if letter == "g":
            diagnosis = e["diagnosis"]
            values.update({
                "1-D difference": e["1d"]["difference"],
                "planted bugs: difference": e["buggy"]["difference"],
                "correct backprop: difference": e["nnlab"]["difference"],
                "correct backprop: arrays over 2e-7 (ε 1e-7)": sorted(e["nnlab"]["failing"]),
                "planted bugs: arrays over 2e-7 (ε 1e-5)":
                    sorted(e["per_array"]["buggy"]["failing"]),
                "correct backprop: arrays over 2e-7 (ε 1e-5)":
                    sorted(e["per_array"]["nnlab"]["failing"]),
                "ε with the smallest error":
                    min(diagnosis["sweep"], key=lambda p: p["max_abs_error"])["epsilon"],
                "J from logits: largest error (ε 1e-7)": diagnosis["logits"]["max_abs_error"],
            })
        elif letter == "h":
            values.update({
                "updates per epoch": e["updates_per_epoch"], "final cost": e["final_cost"],
                "epochs to J ≤ 0.68": e["epochs_to"]["0.68"],
                "epochs to J ≤ 0.6": e["epochs_to"]["0.6"], "roughness": e["roughness"],
            })
        elif letter == "i":
            values.update({
                "variance of J, last 250": e["path_cost_variance"],
                "variance of the batch's J, last 250": e["batch_cost_variance"],
                "final cost": e["final_cost"],
            })
        elif letter == "j":
            values.update({
                "best epoch": e["best_epoch"], "stopped epoch": e["stopped_epoch"],
                "best validation cost": e["best_val_cost"],
                "best validation error": e["best_val_error"],
            })
        elif letter == "k":
            values.update({
                "iterations to J ≤ 0.5": e["iterations_to_target"], "diverged": e["diverged"],
                "largest J": e["max_cost"], "final cost": e["final_cost"],
            })
        values["setting"] = r.get("setting", {})
        out[r["key"]] = values
    return out


def fmt(value) -> str:
    """A value as the tables show it (floats to 4 significant digits)."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "none"
    return str(value)


def compare(letter: str, course: dict, nnlab: dict) -> list[dict]:
    """One row per number of each run: both sides' values, shown-equal and bit-equal."""
    rows = []
    for key in dict.fromkeys([*course, *nnlab]):
        mine, theirs = course.get(key, {}), nnlab.get(key, {})
        for field in dict.fromkeys([*mine, *theirs]):
            if field == "setting":
                continue
            a, b = mine.get(field, "missing"), theirs.get(field, "missing")
            rows.append({"letter": letter, "run": key, "field": field, "course": fmt(a),
                         "nnlab": fmt(b), "same": fmt(a) == fmt(b), "exact": a == b})
        for name, value in mine.get("setting", {}).items():
            other = theirs.get("setting", {}).get(name)
            if other is not None and other != value:
                rows.append({"letter": letter, "run": key, "field": f"setting {name}",
                             "course": fmt(value), "nnlab": fmt(other), "same": False,
                             "exact": False})
    return rows


def _git_state() -> str:
    """This checkout's commit, and whether src/ has uncommitted changes."""
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", "-C", str(HERE), *args], capture_output=True,
                                  text=True, timeout=30).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--", str(HERE.parents[1] / "src"))
    return f"{commit}" + (" (src/ has uncommitted changes)" if dirty else "")


def _time_row(name: str, t: dict) -> str:
    return (f"| {name} | {_s(t['seconds'])} | {_s(t['cpu'])} | {_s(t['runs'])} | "
            f"{_s(t['runs_cpu'])} | {_ratio(t['seconds'], t['runs'])} | "
            f"{_ratio(t['cpu'], t['runs_cpu'])} | {_s(t['figures'])} | {_s(t['wall'])} | "
            f"{_ratio(t['seconds'], t['wall'])} |")


def _s(x: float | None) -> str:
    return "—" if x is None else f"{x:.2f}" if x < 10 else f"{x:.1f}"


def _ratio(a: float | None, b: float | None) -> str:
    if not a or not b:
        return "—"
    return f"{a / b:.1f}×" if a >= b else f"{a / b:.2f}×"


def render(letters, timings, rows, whole, meta) -> str:
    from experiments import NAMES

    out = [
        "# nnlab reproduce vs the course's own code",
        "",
        f"`{meta['command']}`, {meta['date']}",
        "",
        f"- machine: {meta['machine']}; NumPy {meta['numpy']}",
        f"- BLAS for the course code: {meta['blas']}; `nnlab reproduce` pins BLAS to one thread "
        "in every process",
        f"- load average before / after: {meta['load_before']} / {meta['load_after']}",
        f"- nnlab measured: {meta['nnlab']}; this checkout: {meta['git']}",
    ]
    if meta["quick"]:
        out.append("- **--quick**: the course code ran ~1 % of the iterations; nnlab ran its full "
                   "experiments; times and numbers are not comparable")
    out += [
        "",
        "## Time per experiment (seconds, one process each)",
        "",
        "course code: the experiment's training runs and predictions, data already loaded. "
        "nnlab runs: the same inside `nnlab reproduce --only X --jobs 1` (its runs load their "
        "own data). nnlab command: that whole subprocess, start-up, imports, figures and report "
        "included. cpu: the process's user + system seconds over the same stretch (less "
        "sensitive than wall time to other work on the machine).",
        "",
        "| experiment | course code | cpu | nnlab runs | cpu | ratio | ratio, cpu "
        "| nnlab figures | nnlab command | ratio |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    keys = ("seconds", "cpu", "runs", "runs_cpu", "figures", "wall")
    total = dict.fromkeys(keys, 0.0)
    for letter in letters:
        c, n = timings[letter]["course"], timings[letter]["nnlab"]
        name = f"{letter} {NAMES[letter]}"
        if "error" in c or "error" in n:
            why = c.get("error") or n.get("error")
            out.append(f"| {name} | {_s(c.get('seconds'))} | | | | | | | | — ({why}) |")
            continue
        t = {**{k: c[k] for k in ("seconds", "cpu")}, **{k: n[k] for k in keys[2:]}}
        for k in keys:
            total[k] += t[k]
        out.append(_time_row(name, t))
    out.append(_time_row("**total**", total))
    if whole:
        out += ["", "## `nnlab reproduce` as a whole (all of a-k, figures and report included)",
                "", "Each command timed several times; the run of median wall time is shown, "
                "with all the wall times.", "",
                "| command | wall s (median) | all runs | cpu s | course code total ÷ it "
                "| cpu ÷ cpu |",
                "|---|---:|---|---:|---:|---:|"]
        for label, w in whole.items():
            if "error" in w:
                out.append(f"| `{label}` | — | — | — | — ({w['error']}) | — |")
            else:
                walls = ", ".join(_s(x) for x in w.get("walls", [w["wall"]]))
                out.append(f"| `{label}` | {_s(w['wall'])} | {walls} | {_s(w['cpu'])} | "
                           f"{_ratio(total['seconds'], w['wall'])} | "
                           f"{_ratio(total['cpu'], w['cpu'])} |")
    same = sum(r["same"] for r in rows)
    exact = sum(r["exact"] for r in rows)
    out += [
        "", "## Same numbers?", "",
        f"{same} of {len(rows)} numbers agree as shown (counts exactly, floats to 4 significant "
        f"digits); {exact} of {len(rows)} are equal to the last bit.",
        "",
        "| experiment | run | number | course code | nnlab | same |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        mark = ("yes" if r["exact"] else "shown equal") if r["same"] else "**differs**"
        out.append(f"| {r['letter']} {NAMES[r['letter']]} | {r['run']} | {r['field']} | "
                   f"{r['course']} | {r['nnlab']} | {mark} |")
    differ = [r for r in rows if not r["same"]]
    if differ:
        out += ["", "Differences:", ""]
        out += [f"- {r['letter']} {r['run']}, {r['field']}: course code {r['course']}, "
                f"nnlab {r['nnlab']}" for r in differ]
    return "\n".join(out) + "\n"


def parse_only(text: str | None) -> list[str]:
    from experiments import NAMES

    if not text:
        return list(LETTERS)
    by_name = {name: letter for letter, name in NAMES.items()}
    chosen = set()
    for item in text.split(","):
        key = item.strip().lower()
        if key in NAMES:
            chosen.add(key)
        elif key in by_name:
            chosen.add(by_name[key])
        elif key:
            raise SystemExit(f"--only: unknown experiment {item!r}: expected letters a-k or "
                             f"names ({', '.join(NAMES.values())})")
    return [x for x in LETTERS if x in chosen]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="experiments by letter or name, comma separated")
    parser.add_argument("--repeats", type=int, default=3,
                        help="timed runs of the whole nnlab reproduce (the median is reported)")
    parser.add_argument("--quick", action="store_true",
                        help="~1 %% of the iterations on the course side (a smoke test)")
    parser.add_argument("--out", type=Path, help="where to write the Markdown")
    parser.add_argument("--data-dir", default=os.environ.get("NNLAB_DATA"),
                        help="data.mat and the cat .h5 files (default: $NNLAB_DATA)")
    parser.add_argument("--course-threads", type=int, default=1,
                        help="BLAS threads for the course code: 1 (default, as nnlab reproduce "
                             "--jobs 1 runs) or 0 for the library's own default")
    parser.add_argument("--nnlab-src", type=Path,
                        help="measure the nnlab under this src/ folder (first on every "
                             "subprocess's PYTHONPATH), e.g. an export of a commit")
    parser.add_argument("--course-worker", help=argparse.SUPPRESS)
    parser.add_argument("--nnlab-worker", help=argparse.SUPPRESS)
    parser.add_argument("--report-dir", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.course_worker:
        print(json.dumps(course_worker(args.course_worker, args.quick, args.data_dir,
                                       args.course_threads)))
        return 0
    if args.nnlab_worker:
        print(json.dumps(nnlab_worker(args.nnlab_worker, args.report_dir, args.data_dir)))
        return 0

    import numpy as np

    letters = parse_only(args.only)
    everything = letters == list(LETTERS) and not args.quick
    out_path = args.out or (HERE / "RESULTS.md" if everything else None)
    data = ["--data-dir", args.data_dir] if args.data_dir else []
    quick = ["--quick"] if args.quick else []
    env = dict(os.environ)
    if args.nnlab_src:
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(args.nnlab_src.resolve()), env.get("PYTHONPATH")) if p)
    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    timings, rows, blas, measured = {}, [], "unknown", "unknown"
    for letter in letters:
        course = _subprocess(["--course-worker", letter, "--course-threads",
                              str(args.course_threads), *quick, *data], env)
        print(f"{letter}: course code {_s(course.get('seconds'))} s", end="", flush=True)
        with tempfile.TemporaryDirectory(prefix="nnlab-course-bench-") as tmp:
            nnlab = _subprocess(["--nnlab-worker", letter, "--report-dir", tmp, *data], env)
        print(f", nnlab runs {_s(nnlab.get('runs'))} s (command {_s(nnlab.get('wall'))} s)",
              flush=True)
        for side in (course, nnlab):
            if "error" in side:
                print(f"  {letter}: {side['error']}", file=sys.stderr)
        timings[letter] = {"course": course, "nnlab": nnlab}
        blas = course.get("blas", blas)
        measured = nnlab.get("nnlab", measured)
        if "error" not in course and "error" not in nnlab:
            experiment = nnlab["report"]["experiments"][0]
            if experiment["status"] != "ok":
                nnlab["error"] = f"nnlab: {experiment['status']}"
                continue
            rows += compare(letter, course["results"], nnlab_values(letter, experiment))
    whole = {}
    if everything:
        for label, jobs in (("nnlab reproduce --jobs 1", 1),
                            (f"nnlab reproduce (default: --jobs {os.cpu_count()})", None)):
            whole[label] = time_whole_median(jobs, args.data_dir, env, args.repeats)
            print(f"{label}: {_s(whole[label].get('wall'))} s", flush=True)
    meta = {
        "command": " ".join(["benchmarks/course_code/run.py", *(argv or sys.argv[1:])]),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python "
                   f"{platform.python_version()}",
        "numpy": np.__version__, "blas": blas, "quick": args.quick,
        "nnlab": measured, "git": _git_state(),
        "load_before": load_before,
        "load_after": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }
    text = render(letters, timings, rows, whole, meta)
    print()
    print(text)
    if out_path is not None:
        out_path.write_text(text)
        print(f"written: {out_path}")
    failed = [x for x in letters if any("error" in s for s in timings[x].values())]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
