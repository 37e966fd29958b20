"""benchmarks/run.py runs end to end and writes its table (no timing is asserted)."""

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
