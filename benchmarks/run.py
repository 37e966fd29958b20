"""nnlab against scikit-learn, PyTorch, JAX and a careful NumPy MLP, side by side in one run.

    .venv/bin/python benchmarks/run.py            # all configs and contestants (~10 minutes)
    .venv/bin/python benchmarks/run.py --quick    # a few epochs each: checks that it all runs

Options: ``--configs TINY,LARGE``, ``--contestants nnlab,sklearn,torch``, ``--repeats 3``,
``--config-repeats TINY=9`` (more runs where a call lasts a few ms and one process's hiccup moves a
median of three), ``--out PATH`` (default ``benchmarks/RESULTS.md``). Every (config, contestant)
pair runs in its own subprocess: imports and data first, one warm-up call (JAX compiles there),
then ``repeats`` timed whole training calls; it reports samples/s (examples × epochs / seconds:
median, min, max) and the process's peak resident memory. The float32 / float64 matrix-product peak
is measured in the same run (NumPy's BLAS, and PyTorch's when installed); % of peak = useful FLOPs
per second (see ``Config.flops_per_sample``) over the best float32 peak measured. Contestants that
cannot run (not installed, not yet in nnlab) are listed with the reason and skipped.

``--before SRC`` also times the nnlab contestants of another checkout (SRC, or SRC/src, holds its
``nnlab`` package) in the same run: each selected nnlab contestant gets a twin "… (before)"
whose subprocesses import nnlab from SRC (the worker checks ``nnlab.__file__``), run right after
it in the same order, and the report gets a section "Before → after".
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import resource
import signal
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from peers import CONFIGS, CONTESTANTS, available, make_data  # noqa: E402

DEFAULT_CONTESTANTS = [
    "nnlab", "nnlab-model", "nnlab-mlp", "nnlab-mlpreg", "jax-scan", "jax-step", "jax-all",
    "torch", "sklearn", "numpy",
    "nnlab-textbook", "nnlab-numpy", "nnlab-exact", "nnlab-model-textbook", "nnlab-mlp-textbook",
]
GOAL_FASTEST, GOAL_SKLEARN, GOAL_TORCH, GOAL_PEAK = 1.0, 2.0, 1.5, 0.70
BEFORE = "@before"  # a contestant's twin on the --before checkout: "nnlab@before"
BEFORE_ENV = "NNLAB_BENCH_BEFORE"  # set in the twins' subprocesses: where nnlab must come from


def base_name(name: str) -> str:
    """The peers.py contestant behind ``name`` (``nnlab@before`` -> ``nnlab``)."""
    return name.removesuffix(BEFORE)


def is_before(name: str) -> bool:
    return name.endswith(BEFORE)


def label(name: str) -> str:
    return CONTESTANTS[base_name(name)].label + (" (before)" if is_before(name) else "")


def before_src(path: str) -> Path | None:
    """The folder that holds the ``nnlab`` package of the checkout at ``path`` (its ``src/`` or
    itself), or None when there is none."""
    root = Path(path).expanduser().resolve()
    for candidate in (root / "src", root):
        if (candidate / "nnlab" / "__init__.py").is_file():
            return candidate
    return None


def _rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _maxrss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


# ---------------------------------------------------------------------------------------------
# In the subprocesses


def worker(config: str, contestant: str, epochs: int, repeats: int) -> dict:
    why = available(base_name(contestant))
    if why:
        return {"skipped": why}
    if is_before(contestant):
        import nnlab

        where, expected = Path(nnlab.__file__).resolve(), os.environ.get(BEFORE_ENV, "")
        if not expected or not where.is_relative_to(Path(expected).resolve()):
            raise SystemExit(f"nnlab was imported from {where.parent}, not from {expected!r}")
    cfg = CONFIGS[config]
    data = make_data(cfg)
    run = CONTESTANTS[base_name(contestant)].run
    rss_before = _rss_mib()
    run(cfg, data, 1)  # warm-up: one epoch (one step for the full batch)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run(cfg, data, epochs)
        times.append(time.perf_counter() - start)
    return {"times": times, "samples": cfg.m * epochs, "rss_before_mib": rss_before,
            "peak_rss_mib": _maxrss_mib()}


def measure_peak(quick: bool) -> dict:
    """Best GFLOP/s of an n x n x n matrix product, float32 and float64 (NumPy), float32 torch."""
    import numpy as np

    n, reps = (1024, 3) if quick else (4096, 5)
    out = {}
    rng = np.random.default_rng(0)
    for dtype in (np.float32, np.float64):
        a = rng.standard_normal((n, n)).astype(dtype)
        a @ a
        best = min(_timed(lambda a=a: a @ a) for _ in range(reps))
        out[f"numpy {np.dtype(dtype).name}"] = 2 * n**3 / best / 1e9
    if available("torch") is None:
        import torch

        t = torch.from_numpy(rng.standard_normal((n, n)).astype(np.float32))
        t @ t
        out["torch float32"] = 2 * n**3 / min(_timed(lambda: t @ t) for _ in range(reps)) / 1e9
    return out


def _timed(f) -> float:
    start = time.perf_counter()
    f()
    return time.perf_counter() - start


# ---------------------------------------------------------------------------------------------
# The driver


def thread_env(threads: int | None) -> dict[str, str]:
    """The environment of the subprocesses: every library limited to ``threads`` threads
    (OpenMP for PyTorch, OpenBLAS / MKL for NumPy and scikit-learn, XLA's pools for JAX), or the
    libraries' own defaults when None."""
    env = dict(os.environ)
    if threads:
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = str(threads)
        if threads == 1:
            env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false"
                                " intra_op_parallelism_threads=1").strip()
    return env


def _subprocess(args: list[str], timeout: float, env: dict[str, str] | None = None) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), *args]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"skipped": f"timed out after {timeout:.0f} s"}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {"skipped": f"failed (exit {proc.returncode}): {tail[:200]}"}
    return json.loads(lines[-1])


def _fmt_rate(x: float) -> str:
    if x >= 1e6:
        return f"{x / 1e6:.2f} M"
    if x >= 1e3:
        return f"{x / 1e3:.1f} k"
    return f"{x:.0f}"


def _checkout(src: Path) -> str:
    """``src``'s git commit (short), "+ uncommitted changes" when its tree differs from it."""
    def git(*args: str) -> str:
        try:
            proc = subprocess.run(["git", "-C", str(src), *args], capture_output=True, text=True,
                                  timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            return ""
        return proc.stdout.strip() if proc.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD")
    if not commit:
        return "not a git checkout"
    dirty = git("status", "--porcelain", "--untracked-files=no", "--", ".",
                ":!benchmarks/RESULTS.md")  # the report a run rewrites is not the code it times
    return commit + (" + uncommitted changes" if dirty else "")


@functools.cache  # once per run: importing the peers below loads more BLAS libraries
def _machine() -> tuple[str, ...]:
    import numpy as np

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    lines = [f"- machine: {cpu}, {os.cpu_count()} logical CPUs; Python {platform.python_version()}"]
    versions = [f"numpy {np.__version__}"]
    try:
        from threadpoolctl import threadpool_info

        blas = [f"{i['internal_api']} {i['version']} ({i['num_threads']} threads)"
                for i in threadpool_info() if i["user_api"] == "blas"]
        versions.append("BLAS " + ", ".join(blas))
    except ImportError:
        pass
    for mod in ("sklearn", "torch", "jax"):
        try:
            versions.append(f"{mod} {__import__(mod).__version__}")
        except ImportError:
            versions.append(f"{mod} not installed")
    import nnlab

    versions.append(f"nnlab {nnlab.__version__}")
    lines.append("- versions: " + "; ".join(versions))
    return tuple(lines)


def _runs(repeats: int | dict[str, int]) -> str:
    """The timed runs per entry: ``3``, or ``3 (TINY: 9)`` where configs had their own count."""
    if isinstance(repeats, int):  # (a report of an older run)
        return str(repeats)
    counts = sorted(repeats.values())
    most = max(set(counts), key=counts.count)
    own = [f"{c}: {n}" for c, n in repeats.items() if n != most]
    return f"{most}" + (f" ({', '.join(own)})" if own else "")


def report(results: dict, peaks: dict, meta: dict) -> str:
    peak32 = max([v for k, v in peaks.items() if "float32" in k] or [float("nan")])
    out = ["# Benchmark results", ""]
    out.append(f"Written by `{meta['command']}` on {meta['date']} "
               f"({'quick: a few epochs, not a measurement' if meta['quick'] else 'full run'}).")
    if meta.get("unfinished"):
        out.append(f"**Unfinished**: written after {', '.join(results)}; still to run: "
                   f"{', '.join(meta['unfinished'])}.")
    out.append("")
    out += _machine()
    out.append(f"- load average before / after: {meta['load_before']} / {meta['load_after']}; "
               f"{_runs(meta['repeats'])} timed runs per entry after one warm-up epoch"
               f"{' (round robin, one per subprocess)' if meta['interleave'] else ''}; wall time "
               f"{meta['seconds']:.0f} s")
    out.append("- every entry: float32, Adam (α = 0.001), no L2, no dropout, the same network, "
               "data and epochs; each timed as a whole training call")
    out.append("- threads: " + ("each library's default" if not meta["threads"] else
                                f"{meta['threads']} per library (OMP / OpenBLAS / MKL / XLA)"))
    out += ["", f"## Matrix-product peak (n = {meta['peak_n']}, best of several)", ""]
    out += ["| product | GFLOP/s |", "|---|---:|"]
    out += [f"| {k} | {v:.0f} |" for k, v in peaks.items() if k != "skipped"]
    out += ["", f"% of peak below is against the best float32 figure, {peak32:.0f} GFLOP/s.", ""]

    skipped: dict[str, str] = {}
    for cname, per in results.items():
        cfg = CONFIGS[cname]
        out += [f"## {cname}: {cfg.description}, {meta['epochs'][cname]} epochs", ""]
        out += ["| contestant | samples/s (median) | min | max | nnlab.train ÷ this | % of peak "
                "| peak RSS MiB | Δ RSS MiB |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
        base = per.get("nnlab", {}).get("median")
        for name, r in per.items():
            if "skipped" in r:
                skipped.setdefault(f"{label(name)}: {r['skipped']}", cname)
                continue
            ratio = f"{base / r['median']:.2f}×" if base else "–"
            pct = 100 * r["median"] * cfg.flops_per_sample() / (peak32 * 1e9)
            out.append(f"| {label(name)} | {_fmt_rate(r['median'])} | "
                       f"{_fmt_rate(r['min'])} | {_fmt_rate(r['max'])} | {ratio} | {pct:.1f} % | "
                       f"{r['peak_rss_mib']:.0f} | {r['peak_rss_mib'] - r['rss_before_mib']:.0f} |")
        out.append("")
    out += _goals(results, peak32)
    out += _ways_in(results, peak32)
    if meta.get("before"):
        out += _before_after(results, meta)
    if skipped:
        out += ["## Skipped", ""] + [f"- {s}" for s in skipped] + [""]
    return "\n".join(out)


def _goals(results: dict, peak32: float) -> list[str]:
    out = ["## Goals (issue 6): ratios of medians from this run", ""]
    out += ["| config | nnlab entry | ÷ fastest peer (≥ 1.0) | ÷ scikit-learn (≥ 2) | "
            "÷ PyTorch (≥ 1.5) | ÷ careful NumPy | % of peak (LARGE ≥ 70) |",
            "|---|---|---|---|---|---|---|"]
    for cname, per in results.items():
        ok = {k: r for k, r in per.items() if "median" in r}
        peers = {k: r["median"] for k, r in ok.items()
                 if not is_before(k) and CONTESTANTS[k].kind == "peer"}
        fastest = max(peers, key=lambda k: peers[k]) if peers else None
        for entry in ("nnlab", "nnlab-model", "nnlab-mlp", "nnlab-mlpreg"):
            if entry not in ok:
                continue
            mine = ok[entry]["median"]

            def cell(peer, goal, mine=mine, ok=ok):
                if peer is None or peer not in ok:
                    return "–"
                ratio = mine / ok[peer]["median"]
                mark = "" if goal is None else (" ✓" if ratio >= goal else " ✗")
                return f"{ratio:.2f}×{mark}"

            fast_cell = cell(fastest, GOAL_FASTEST)
            if fastest:
                fast_cell += f" ({CONTESTANTS[fastest].label})"
            pct = 100 * mine * CONFIGS[cname].flops_per_sample() / (peak32 * 1e9)
            pct_cell = f"{pct:.1f} %" + (
                (" ✓" if pct >= 100 * GOAL_PEAK else " ✗") if cname == "LARGE" else "")
            out.append(f"| {cname} | {CONTESTANTS[entry].label} | {fast_cell} | "
                       f"{cell('sklearn', GOAL_SKLEARN)} | {cell('torch', GOAL_TORCH)} | "
                       f"{cell('numpy', None)} | {pct_cell} |")
    out.append("")
    return out


WAYS_IN = ("nnlab-model", "nnlab-mlp", "nnlab-mlpreg")
GOAL_WAY_IN = 0.90  # every way in within 10 % of nnlab.train


def _ways_in(results: dict, peak32: float) -> list[str]:
    """Issue 17's goals: each way in ÷ ``nnlab.train`` (≥ 0.90: within 10 %), MLPClassifier ÷
    the fastest peer (≥ 1) and ÷ scikit-learn (≥ 2), and MLPClassifier's % of the float32
    matrix-product peak on LARGE (≥ 70 %)."""
    out = ["## Goals (issue 17): every way in as fast as the engine", "",
           "samples/s medians of this run; a way in ÷ nnlab.train ≥ 0.90 is within 10 %.", "",
           "| config | Model.fit ÷ train | MLPClassifier ÷ train | MLPRegressor ÷ train | "
           "MLPClassifier ÷ fastest peer | MLPClassifier ÷ scikit-learn | MLPClassifier % of "
           "peak |", "|---|---|---|---|---|---|---|"]
    for cname, per in results.items():
        ok = {k: r["median"] for k, r in per.items() if "median" in r and not is_before(k)}
        if "nnlab" not in ok:
            continue

        def ratio(a: str, b: str | None, goal: float | None, ok: dict = ok) -> str:
            if b is None or a not in ok or b not in ok:
                return "–"
            r = ok[a] / ok[b]
            return f"{r:.3f}×" + ("" if goal is None else (" ✓" if r >= goal else " ✗"))

        cells = [ratio(w, "nnlab", GOAL_WAY_IN) for w in WAYS_IN]
        fastest, _ = _fastest_peer(per)
        fast_cell = ratio("nnlab-mlp", fastest, GOAL_FASTEST)
        if fastest and fast_cell != "–":
            fast_cell += f" ({CONTESTANTS[fastest].label})"
        pct = "–"
        if "nnlab-mlp" in ok:
            value = 100 * ok["nnlab-mlp"] * CONFIGS[cname].flops_per_sample() / (peak32 * 1e9)
            pct = f"{value:.1f} %" + (
                (" ✓" if value >= 100 * GOAL_PEAK else " ✗") if cname == "LARGE" else "")
        out.append(f"| {cname} | {' | '.join(cells)} | {fast_cell} | "
                   f"{ratio('nnlab-mlp', 'sklearn', GOAL_SKLEARN)} | {pct} |")
    out.append("")
    return out


def _fastest_peer(per: dict) -> tuple[str | None, float]:
    peers = {k: r["median"] for k, r in per.items()
             if "median" in r and not is_before(k) and CONTESTANTS[k].kind == "peer"}
    if not peers:
        return None, float("nan")
    best = max(peers, key=lambda k: peers[k])
    return best, peers[best]


def _before_after(results: dict, meta: dict) -> list[str]:
    """Per config and nnlab contestant: samples/s before and after, after ÷ before, nnlab ÷ the
    fastest peer of this run before → after, and whether the change is beyond the noise: the
    after runs' range lies wholly below (slower) or above (faster) the before runs' range."""
    out = ["## Before → after", "",
           f"before: `{meta['before']}` ({meta['before_commit']}); after: this checkout "
           f"({meta['after_commit']}). Both timed in this run, interleaved; samples/s median "
           "(min–max). \"beyond noise\": the after runs' range lies wholly below (slower) or "
           "above (faster) the before runs'; otherwise \"within noise\".", "",
           "| config | nnlab entry | before | after | after ÷ before | ÷ fastest peer before → "
           "after | change |", "|---|---|---:|---:|---:|---|---|"]
    for cname, per in results.items():
        fastest, peer_rate = _fastest_peer(per)
        for name in per:
            if is_before(name) or name + BEFORE not in per:
                continue
            new, old = per[name], per[name + BEFORE]
            if "median" not in new or "median" not in old:
                out.append(f"| {cname} | {label(name)} | "
                           f"{_rate_range(old)} | {_rate_range(new)} | – | – | not compared |")
                continue
            if min(len(new["times"]), len(old["times"])) < 2:
                change = "one run each: no spread to compare"
            elif new["max"] < old["min"]:
                change = "**slower, beyond noise**"
            elif new["min"] > old["max"]:
                change = "faster, beyond noise"
            else:
                change = "within noise"
            peer_cell = "–"
            if fastest is not None:
                peer_cell = (f"{old['median'] / peer_rate:.2f}× → {new['median'] / peer_rate:.2f}×"
                             f" ({CONTESTANTS[fastest].label})")
            out.append(f"| {cname} | {label(name)} | {_rate_range(old)} | {_rate_range(new)} | "
                       f"{new['median'] / old['median']:.2f}× | {peer_cell} | {change} |")
    out.append("")
    return out


def _rate_range(r: dict) -> str:
    if "median" not in r:
        return "skipped"
    return f"{_fmt_rate(r['median'])} ({_fmt_rate(r['min'])}–{_fmt_rate(r['max'])})"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="a few epochs per config")
    p.add_argument("--configs", default=",".join(CONFIGS))
    p.add_argument("--contestants", default=",".join(DEFAULT_CONTESTANTS))
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--config-repeats", default="", metavar="CONFIG=N,...",
                   help="timed runs for these configs instead of --repeats (e.g. TINY=9: its "
                        "few-ms calls vary most from process to process)")
    p.add_argument("--out", default=str(HERE / "RESULTS.md"))
    p.add_argument("--timeout", type=float, default=600.0, help="seconds per subprocess")
    p.add_argument("--interleave", action="store_true",
                   help="one timed call per subprocess, contestants in round robin")
    p.add_argument("--threads", type=int, default=None,
                   help="limit every library to this many threads (default: their own)")
    p.add_argument("--before", metavar="SRC", default=None,
                   help="also time the selected nnlab contestants of the checkout at SRC "
                        "(its nnlab package under SRC/src or SRC), interleaved: before -> after")
    p.add_argument("--worker", nargs=4, metavar=("CONFIG", "CONTESTANT", "EPOCHS", "REPEATS"),
                   help=argparse.SUPPRESS)
    p.add_argument("--peak", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.worker:
        config, contestant, epochs, repeats = a.worker
        print(json.dumps(worker(config, contestant, int(epochs), int(repeats))))
        return 0
    if a.peak:
        print(json.dumps(measure_peak(a.quick)))
        return 0

    configs = [c.strip().upper() for c in a.configs.split(",") if c.strip()]
    contestants = [c.strip() for c in a.contestants.split(",") if c.strip()]
    if not configs or not contestants:
        p.error("--configs and --contestants need at least one name each")
    for c in configs:
        if c not in CONFIGS:
            p.error(f"unknown config {c!r}: expected some of {', '.join(CONFIGS)}")
    repeats = {c: a.repeats for c in configs}
    for item in filter(None, (x.strip() for x in a.config_repeats.split(","))):
        name, _, n = item.partition("=")
        if name.strip().upper() not in repeats or not n.strip().isdigit() or int(n) < 1:
            p.error(f"--config-repeats {item!r}: expected CONFIG=N with one of the configs "
                    f"run ({', '.join(configs)}) and N >= 1")
        repeats[name.strip().upper()] = int(n)
    for c in contestants:
        if c not in CONTESTANTS:
            p.error(f"unknown contestant {c!r}: expected some of {', '.join(CONTESTANTS)}")
    envs = {}
    env = thread_env(a.threads)
    old_src = None
    if a.before:
        old_src = before_src(a.before)
        if old_src is None:
            p.error(f"--before {a.before}: no nnlab package in {a.before}/src or {a.before}")
        before_env = dict(env, PYTHONPATH=os.pathsep.join(
            [str(old_src)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])))
        before_env[BEFORE_ENV] = str(old_src)
        twinned = []
        for c in contestants:  # each twin right after its contestant, in the same round
            twinned.append(c)
            if c.startswith("nnlab"):
                twinned.append(c + BEFORE)
                envs[c + BEFORE] = before_env
        contestants = twinned
    # a driver stopped by SIGTERM (kill PID) takes its running worker with it: subprocess.run
    # kills its child on any exception, SystemExit included
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    started = time.perf_counter()
    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    peaks = _subprocess(["--peak"] + (["--quick"] if a.quick else []), a.timeout, env)
    if "skipped" in peaks:
        print("peak not measured:", peaks.pop("skipped"), flush=True)
    print("peak GFLOP/s:", ", ".join(f"{k} {v:.0f}" for k, v in peaks.items()), flush=True)
    results: dict[str, dict] = {}
    epochs = {}
    for cname in configs:
        cfg = CONFIGS[cname]
        epochs[cname] = cfg.quick_epochs if a.quick else cfg.epochs
        results[cname] = {}
        if a.interleave:
            # round robin: each subprocess times one call, and every contestant's runs are
            # spread over the same stretch of time (fairer when the machine's load drifts)
            for _ in range(repeats[cname]):
                for name in contestants:
                    prev = results[cname].get(name)
                    if prev is not None and "skipped" in prev:
                        continue
                    r = _subprocess(["--worker", cname, name, str(epochs[cname]), "1"],
                                    a.timeout, envs.get(name, env))
                    if prev is None or "skipped" in r:
                        results[cname][name] = r
                    else:
                        prev["times"] += r["times"]
                        prev["peak_rss_mib"] = max(prev["peak_rss_mib"], r["peak_rss_mib"])
        else:
            for name in contestants:
                results[cname][name] = _subprocess(
                    ["--worker", cname, name, str(epochs[cname]), str(repeats[cname])], a.timeout,
                    envs.get(name, env))
        for name in contestants:
            r = results[cname][name]
            if "times" in r:
                rates = sorted(r["samples"] / t for t in r["times"])
                r.update(median=statistics.median(rates), min=rates[0], max=rates[-1])
                print(f"{cname:9s} {label(name):30s} {_fmt_rate(r['median']):>9s}"
                      f" samples/s  (min {_fmt_rate(r['min'])}, max {_fmt_rate(r['max'])})",
                      flush=True)
            else:
                print(f"{cname:9s} {label(name):30s} skipped: {r['skipped']}",
                      flush=True)
        # the report so far after every config: a run stopped early still leaves its tables
        meta = {
            "command": "python benchmarks/run.py " + " ".join(argv if argv is not None
                                                              else sys.argv[1:]),
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "quick": a.quick, "repeats": repeats, "epochs": epochs,
            "load_before": load_before,
            "load_after": " ".join(f"{x:.2f}" for x in os.getloadavg()),
            "seconds": time.perf_counter() - started, "peak_n": 1024 if a.quick else 4096,
            "threads": a.threads, "interleave": a.interleave,
            "before": a.before,
            "before_commit": _checkout(old_src) if old_src else "",
            "after_commit": _checkout(HERE.parent),
            "unfinished": configs[len(results):],
        }
        text = report(results, peaks, meta)
        Path(a.out).write_text(text + "\n")
    print()
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
