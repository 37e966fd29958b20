"""benchmarks/run.py runs end to end and writes its table (no timing is asserted)."""

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

RUN = Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"


def test_quick_benchmark_writes_a_table(tmp_path):
    out = tmp_path / "RESULTS.md"
    proc = subprocess.run(
        [sys.executable, str(RUN), "--quick", "--configs", "TINY", "--repeats", "1",
         "--contestants", "nnlab,nnlab-textbook,numpy,sklearn", "--out", str(out)],
        capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    text = out.read_text()
    assert "## TINY" in text and "## Goals" in text
    for label in ("nnlab.train", "nnlab textbook", "careful NumPy", "scikit-learn adam"):
        assert f"| {label}" in text, label
    assert "samples/s" in proc.stdout


def test_a_config_may_have_its_own_number_of_runs(tmp_path):
    """``--config-repeats TINY=2`` times TINY's entries twice (the other configs ``--repeats``
    times), says so in the report, and a malformed or unknown entry is one usage error."""
    out = tmp_path / "RESULTS.md"
    proc = subprocess.run(
        [sys.executable, str(RUN), "--quick", "--configs", "TINY", "--repeats", "1",
         "--config-repeats", "tiny=2", "--interleave", "--contestants", "numpy", "--out",
         str(out)],
        capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    assert "2 timed runs per entry" in out.read_text()
    spec = importlib.util.spec_from_file_location("bench_run", RUN)
    run = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run)
    assert run._runs({"TINY": 9, "SMALL": 3, "LARGE": 3}) == "3 (TINY: 9)"
    assert run._runs(3) == "3"
    for bad in ("HUGE=2", "TINY=0", "TINY", "TINY=x"):
        proc = subprocess.run(
            [sys.executable, str(RUN), "--quick", "--configs", "TINY", "--config-repeats", bad,
             "--out", str(out)], capture_output=True, text=True, timeout=60,
        )
        assert proc.returncode == 2 and "--config-repeats" in proc.stderr, (bad, proc.stderr)


def test_before_times_another_checkout_in_the_same_run(tmp_path):
    # a second checkout: a copy of this nnlab, so the "(before)" twins must import it from there
    src = Path(__file__).resolve().parents[1] / "src" / "nnlab"
    shutil.copytree(src, tmp_path / "old" / "src" / "nnlab",
                    ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path / "RESULTS.md"
    proc = subprocess.run(
        [sys.executable, str(RUN), "--quick", "--configs", "TINY", "--repeats", "1",
         "--contestants", "nnlab-textbook,sklearn", "--before", str(tmp_path / "old"),
         "--out", str(out)],
        capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    text = out.read_text()
    assert "| nnlab textbook (fast=False) (before) |" in text
    assert "skipped" not in text.split("## Before → after")[1]
    row = next(ln for ln in text.split("## Before → after")[1].splitlines()
               if ln.startswith("| TINY | nnlab textbook"))
    assert "(scikit-learn adam)" in row and "one run each" in row, row


def test_before_worker_refuses_an_nnlab_from_elsewhere(tmp_path):
    # the twin's worker checks where nnlab came from: here not from the checkout it was told
    env = dict(os.environ, NNLAB_BENCH_BEFORE=str(tmp_path))
    proc = subprocess.run([sys.executable, str(RUN), "--worker", "TINY", "nnlab-textbook@before",
                           "1", "1"], capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode != 0
    assert "nnlab was imported from" in proc.stderr


def test_before_without_an_nnlab_checkout_is_one_line_and_exit_2(tmp_path):
    proc = subprocess.run([sys.executable, str(RUN), "--quick", "--before", str(tmp_path)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].endswith(
        f"no nnlab package in {tmp_path}/src or {tmp_path}")


def _load_run():
    spec = importlib.util.spec_from_file_location("benchmarks_run", RUN)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_before_after_calls_slower_only_when_the_ranges_do_not_overlap():
    run = _load_run()

    def entry(*rates):
        rates = sorted(rates)  # samples/s of each timed run (100 samples each)
        return {"times": [100 / r for r in rates], "median": rates[len(rates) // 2],
                "min": rates[0], "max": rates[-1]}

    results = {"TINY": {
        "nnlab": entry(80, 85, 90), "nnlab@before": entry(100, 110, 120),  # slower
        "nnlab-model": entry(95, 105, 115), "nnlab-model@before": entry(90, 100, 110),  # overlap
        "nnlab-mlp": entry(130, 140, 150), "nnlab-mlp@before": entry(100, 110, 120),  # faster
        "torch": entry(40, 50, 60), "sklearn": entry(10, 20, 30),
    }}
    meta = {"before": "OLD", "before_commit": "abc1234", "after_commit": "abc1234 + changes"}
    rows = {ln.split(" | ")[1]: ln for ln in run._before_after(results, meta)
            if ln.startswith("| TINY")}
    assert rows["nnlab.train"].endswith("| **slower, beyond noise** |")
    assert "| 110 (100–120) | 85 (80–90) | 0.77× | 2.20× → 1.70× (PyTorch eager) |" in \
        rows["nnlab.train"]
    assert rows["nnlab Model.fit"].endswith("| within noise |")
    assert rows["nnlab MLPClassifier"].endswith("| faster, beyond noise |")


STARTUP = RUN.parent / "startup.py"


def test_startup_prints_every_row_with_its_goal_and_the_first_calls(tmp_path):
    # NNLAB_NUMBA=0: nothing compiles, so the first-call rows run in seconds (0 kernels each)
    env = dict(os.environ, NNLAB_NUMBA="0")
    proc = subprocess.run([sys.executable, str(STARTUP), "--repeats", "1", "--cold", "1"],
                          capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    for row in ("import nnlab (inside)", "nnlab --help", "nnlab datasets", "nnlab train moons",
                "nnlab evaluate", "nnlab plot", "train moons, cold", "train moons, warm"):
        assert any(ln.startswith(row) for ln in lines), row
    help_row = next(ln for ln in lines if ln.startswith("nnlab --help"))
    assert "0.15" in help_row and "met" in help_row  # the goal, and whether the median meets it
    warm = next(ln for ln in lines if ln.startswith("train moons, warm"))
    assert warm.split()[-1] == "0"  # kernels compiled by the first call after warm_up()
    assert list(tmp_path.iterdir()) == []  # the model and the plot went to a temporary folder
    # the timed processes found nnlab's bytecode written (as run.sh writes it at install), even
    # where PYTHONDONTWRITEBYTECODE keeps Python from writing it
    import nnlab

    package = Path(nnlab.__file__).parent
    stale = [py for py in package.rglob("*.py")
             if not Path(importlib.util.cache_from_source(str(py))).exists()]
    assert stale == []


def test_sparse_benchmark_runs_and_prints_its_three_contestants():
    script = Path(__file__).resolve().parents[1] / "benchmarks" / "sparse_input.py"
    proc = subprocess.run([sys.executable, str(script), "--quick"], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    for name in ("nnlab, sparse X", "nnlab, dense X", "scikit-learn, sparse X"):
        assert name in proc.stdout
