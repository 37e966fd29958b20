"""Start-up time of ``import nnlab`` and of a few ``nnlab`` commands: medians of N runs.

Each row is a fresh process, timed from outside (wall clock, spawn included); the first row also
reports what ``python -X importtime -c "import nnlab"`` says ``import nnlab`` took inside the
process (its cumulative microseconds, the same median). A warm-up run of every row comes first,
so the file cache and Numba's on-disk cache are filled.

    python benchmarks/startup.py                  # the nnlab that `python` imports
    python benchmarks/startup.py --repeats 5
    python benchmarks/startup.py --compare ../old-clone/src   # and another copy, interleaved

With ``--compare SRC`` each run of the nnlab that ``python`` imports is followed by one of the
nnlab in the folder SRC (put first on PYTHONPATH), so that both see the same machine load: on a
busy machine two tables timed one after the other are not comparable.

The commands run as ``python -m nnlab ...`` so that PYTHONPATH picks which source is timed (the
``nnlab`` script does the same imports). No assertion: this prints numbers, the goals are in
benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time

ROWS: list[tuple[str, list[str]]] = [
    ("import nnlab", ["-c", "import nnlab"]),
    # names load on first use: this row pays for the engine (NumPy) as well
    ("import nnlab; .train", ["-c", "import nnlab; nnlab.train"]),
    ("nnlab --help", ["-m", "nnlab", "--help"]),
    ("nnlab --version", ["-m", "nnlab", "--version"]),
    ("nnlab datasets", ["-m", "nnlab", "datasets"]),
    ("nnlab train moons", ["-m", "nnlab", "train", "moons"]),
]


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10, help="runs per row (default: 10)")
    parser.add_argument("--python", default=sys.executable,
                        help="the interpreter to time (default: this one)")
    parser.add_argument("--compare", metavar="SRC",
                        help="also time the nnlab in the folder SRC (e.g. an older clone's src/)")
    args = parser.parse_args(argv)
    envs = environments(args.compare)

    probe = [args.python, "-c", "import nnlab; print(nnlab.__file__, nnlab.__version__)"]
    for label, env in envs.items():
        for _, cmd in ROWS:  # warm-up: file cache, Numba's cache, __pycache__
            wall_time(args.python, cmd, env)
        where = subprocess.run(probe, capture_output=True, text=True, env=env,
                               check=True).stdout.strip()
        print(f"{label}: nnlab {where}")
    print(f"python: {args.python}  ({args.repeats} runs per row; median, min, max in seconds)")
    rows: list[tuple[str, dict[str, list[float]]]] = [
        ("import nnlab (inside)", {label: [] for label in envs})]
    for _ in range(args.repeats):
        for label, env in envs.items():
            rows[0][1][label].append(import_time(args.python, env))
    for name, cmd in ROWS:
        times: dict[str, list[float]] = {label: [] for label in envs}
        for _ in range(args.repeats):
            for label, env in envs.items():
                times[label].append(wall_time(args.python, cmd, env))
        rows.append((name, times))

    header = "".join(f"{label + ' median':>16}{'min':>8}{'max':>8}" for label in envs)
    print(f"{'row':<22}{header}")
    for name, times in rows:
        cells = "".join(f"{statistics.median(t):>16.3f}{min(t):>8.3f}{max(t):>8.3f}"
                        for t in times.values())
        print(f"{name:<22}{cells}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
