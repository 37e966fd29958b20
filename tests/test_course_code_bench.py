"""benchmarks/course_code/run.py runs end to end and prints its tables (no timing is asserted)."""

import subprocess
import sys
from pathlib import Path

RUN = Path(__file__).resolve().parents[1] / "benchmarks" / "course_code" / "run.py"


def test_quick_course_code_benchmark_prints_its_tables(tmp_path):
    out = tmp_path / "RESULTS.md"
    proc = subprocess.run(
        [sys.executable, str(RUN), "--quick", "--only", "b", "--out", str(out)],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    for text in (proc.stdout, out.read_text()):
        assert "| experiment | course code | cpu | nnlab runs | cpu | ratio |" in text
        assert "| b planar |" in text
        assert "| b planar | baseline | train |" in text  # the numbers, side by side
        assert "--quick" in text
