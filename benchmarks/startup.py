"""Start-up time of ``import nnlab`` and of the ``nnlab`` commands: medians of N runs.

Each row is a fresh process, timed from outside (wall clock, spawn included); the first row also
reports what ``python -X importtime -c "import nnlab"`` says ``import nnlab`` took inside the
process (its cumulative microseconds, the same median). The package's bytecode is written first
where it is missing or stale (``compileall``, as ``run.sh`` does after installing: where
``PYTHONDONTWRITEBYTECODE`` is set nothing else writes it, and every process would compile
nnlab's source again, ~0.1 s), then a warm-up run of every row fills the file cache and Numba's
on-disk cache. ``nnlab evaluate`` and ``nnlab plot``
use a model that ``nnlab train moons --save`` writes into a temporary folder first.

Then the first call after an install, twice (``--cold N`` runs each, default 3; 0 skips them):
``nnlab train moons`` with ``NUMBA_CACHE_DIR`` pointing at an empty folder (cold: every kernel it
uses compiles), and with a fresh copy of a folder that only ``nnlab.fast.warm_up()`` filled (what
``run.sh`` does once after installing: warm). Each row says how many compiled kernels the command
added to the cache: after ``warm_up`` it should add none (no user command compiles).

    python benchmarks/startup.py                  # the nnlab that `python` imports
    python benchmarks/startup.py --repeats 5 --cold 0
    python benchmarks/startup.py --rows train,help --cold 0   # only the rows named so
    python benchmarks/startup.py --compare ../old-clone/src   # and another copy, interleaved

With ``--compare SRC`` each run of the nnlab that ``python`` imports is followed by one of the
nnlab in the folder SRC (put first on PYTHONPATH), so that both see the same machine load: on a
busy machine two tables timed one after the other are not comparable.

The commands run as ``python -m nnlab ...`` so that PYTHONPATH picks which source is timed (the
``nnlab`` script does the same imports). No assertion: this prints numbers, and each goal of
issue 17 next to its row (benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: name, the arguments of ``python`` ({model} and {out}: a saved model, a scratch folder), and
#: the goal in seconds (issue 17), if any.
ROWS: list[tuple[str, list[str], float | None]] = [
    ("import nnlab", ["-c", "import nnlab"], 0.2),
    # names load on first use: this row pays for the engine (NumPy) as well
    ("import nnlab; .train", ["-c", "import nnlab; nnlab.train"], None),
    ("nnlab --help", ["-m", "nnlab", "--help"], 0.15),
    ("nnlab --version", ["-m", "nnlab", "--version"], None),
    ("nnlab datasets", ["-m", "nnlab", "datasets"], 0.3),
    ("nnlab train moons", ["-m", "nnlab", "train", "moons"], 1.0),
    ("nnlab evaluate", ["-m", "nnlab", "evaluate", "{model}", "moons"], None),
    ("nnlab plot", ["-m", "nnlab", "plot", "{model}", "moons", "--out", "{out}/plot.png"], None),
]
TRAIN = ["-m", "nnlab", "train", "moons"]
WARM_UP = ["-c", "from nnlab.fast import warm_up; warm_up()"]


def wall_time(python: str, args: list[str], env: dict[str, str]) -> float:
    """Seconds one ``python ARGS`` process takes, from spawn to exit."""
    start = time.perf_counter()
    proc = subprocess.run([python, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          env=env, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"startup.py: {' '.join(args)} failed:\n{proc.stderr.decode()[-2000:]}")
    return elapsed


def import_time(python: str, env: dict[str, str]) -> float:
    """Seconds ``import nnlab`` takes inside the process, as ``-X importtime`` reports it."""
    proc = subprocess.run([python, "-X", "importtime", "-c", "import nnlab"],
                          capture_output=True, text=True, env=env, check=True)
    for line in proc.stderr.splitlines():
        match = re.match(r"import time:\s+\d+\s+\|\s+(\d+)\s+\|\s*nnlab\s*$", line)
        if match:
            return int(match.group(1)) / 1e6
    raise SystemExit("startup.py: -X importtime printed no line for nnlab")


def environments(compare: str | None) -> dict[str, dict[str, str]]:
    """label -> the environment of the processes timed for it."""
    envs = {"this": os.environ.copy()}
    if compare:
        other = os.environ.copy()
        path = [os.path.abspath(compare), *filter(None, [other.get("PYTHONPATH")])]
        other["PYTHONPATH"] = os.pathsep.join(path)
        envs["compare"] = other
    return envs


def compile_package(python: str, package: Path, env: dict[str, str]) -> None:
    """Write the bytecode of the package folder's modules where it is missing or stale
    (``compileall``, as ``run.sh`` does after installing)."""
    subprocess.run([python, "-m", "compileall", "-q", str(package)], env=env, check=True,
                   stdout=subprocess.DEVNULL)


def kernels_in(folder: Path) -> int:
    """How many compiled kernels (Numba's ``.nbc`` files) a cache folder holds."""
    return sum(1 for _ in folder.rglob("*.nbc"))


def first_call(python: str, env: dict[str, str], cache: Path) -> tuple[float, int]:
    """Seconds of ``nnlab train moons`` with Numba's cache in ``cache``, and how many kernels
    it compiled (added to that cache)."""
    before = kernels_in(cache)
    seconds = wall_time(python, TRAIN, {**env, "NUMBA_CACHE_DIR": str(cache)})
    return seconds, kernels_in(cache) - before


def cold_and_warm(python: str, envs: dict[str, dict[str, str]], repeats: int,
                  scratch: Path) -> list[tuple[str, dict[str, list[float]], dict[str, set[int]]]]:
    """The two first-call rows: (name, label -> seconds, label -> kernels compiled)."""
    installed = {}
    for label, env in envs.items():  # the install step: warm_up() into an empty cache
        installed[label] = scratch / f"installed-{label}"
        installed[label].mkdir()
        seconds = wall_time(python, WARM_UP, {**env, "NUMBA_CACHE_DIR": str(installed[label])})
        print(f"{label}: warm_up() compiled {kernels_in(installed[label])} kernels "
              f"in {seconds:.1f} s (once, at install)")
    rows = []
    for name, warm in (("train moons, cold", False), ("train moons, warm", True)):
        times: dict[str, list[float]] = {label: [] for label in envs}
        compiled: dict[str, set[int]] = {label: set() for label in envs}
        for i in range(repeats):
            for label, env in envs.items():
                cache = scratch / f"{'warm' if warm else 'cold'}-{label}-{i}"
                if warm:
                    shutil.copytree(installed[label], cache)
                else:
                    cache.mkdir()
                seconds, n = first_call(python, env, cache)
                times[label].append(seconds)
                compiled[label].add(n)
                shutil.rmtree(cache)
        rows.append((name, times, compiled))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10, help="runs per row (default: 10)")
    parser.add_argument("--cold", type=int, default=3, metavar="N",
                        help="runs of each first-call row, cold and warm (default: 3; 0: none)")
    parser.add_argument("--python", default=sys.executable,
                        help="the interpreter to time (default: this one)")
    parser.add_argument("--compare", metavar="SRC",
                        help="also time the nnlab in the folder SRC (e.g. an older clone's src/)")
    parser.add_argument("--rows", metavar="NAME,...",
                        help="only the rows whose names contain one of these (e.g. 'train,help')")
    args = parser.parse_args(argv)
    envs = environments(args.compare)
    wanted = [w.strip() for w in args.rows.split(",")] if args.rows else [""]
    if not any(w in name for w, (name, _, _) in itertools.product(wanted, ROWS)):
        parser.error(f"--rows {args.rows}: no row matches; rows: {', '.join(n for n, *_ in ROWS)}")

    with tempfile.TemporaryDirectory(prefix="nnlab-startup-") as tmp:
        scratch = Path(tmp)
        model = scratch / "model"
        wall_time(args.python, [*TRAIN, "--quiet", "--save", str(model)], envs["this"])
        rows_cmd = [(name, [a.format(model=model, out=scratch) for a in cmd], goal)
                    for name, cmd, goal in ROWS if any(w in name for w in wanted)]

        probe = [args.python, "-c", "import nnlab; print(nnlab.__file__, nnlab.__version__)"]
        for label, env in envs.items():
            where = subprocess.run(probe, capture_output=True, text=True, env=env,
                                   check=True).stdout.strip()
            # the bytecode, as run.sh writes it at install (with PYTHONDONTWRITEBYTECODE set,
            # Python would otherwise compile the package's source in every timed process)
            compile_package(args.python, Path(where.split()[0]).parent, env)
            for _, cmd, _ in rows_cmd:  # warm-up: file cache, Numba's cache
                wall_time(args.python, cmd, env)
            print(f"{label}: nnlab {where}")
        print(f"python: {args.python}  ({args.repeats} runs per row; median, min, max in "
              "seconds; goal: issue 17's, for the median)")
        rows: list[tuple[str, dict[str, list[float]], float | None]] = []
        if any(w in "import nnlab (inside)" for w in wanted):
            rows.append(("import nnlab (inside)", {label: [] for label in envs}, None))
            for _ in range(args.repeats):
                for label, env in envs.items():
                    rows[0][1][label].append(import_time(args.python, env))
        for name, cmd, goal in rows_cmd:
            times: dict[str, list[float]] = {label: [] for label in envs}
            for _ in range(args.repeats):
                for label, env in envs.items():
                    times[label].append(wall_time(args.python, cmd, env))
            rows.append((name, times, goal))
        first = cold_and_warm(args.python, envs, args.cold, scratch) if args.cold > 0 else []

    header = "".join(f"{label + ' median':>16}{'min':>8}{'max':>8}" for label in envs)
    print(f"{'row':<22}{header}{'goal':>8}")
    for name, times, goal in rows:
        cells = "".join(f"{statistics.median(t):>16.3f}{min(t):>8.3f}{max(t):>8.3f}"
                        for t in times.values())
        verdict = ""
        if goal is not None:
            met = statistics.median(times["this"]) <= goal
            verdict = f"{goal:>8.2f} {'met' if met else 'NOT met'}"
        print(f"{name:<22}{cells}{verdict}")
    if first:
        print(f"\nfirst call after an install ({args.cold} runs each; kernels: how many it "
              "compiled)")
        print(f"{'row':<22}{header}" + "".join(f"{label + ' kernels':>16}" for label in envs))
        for name, times, compiled in first:
            cells = "".join(f"{statistics.median(t):>16.3f}{min(t):>8.3f}{max(t):>8.3f}"
                            for t in times.values())
            counts = "".join(f"{'/'.join(map(str, sorted(c))):>16}" for c in compiled.values())
            print(f"{name:<22}{cells}{counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
