"""``nnlab reproduce --only LETTER --jobs 2`` for every experiment alone, as a user runs it.

Run alone, an experiment may leave the scheduler with a job no worker was willing to take: with
``--only planar`` no experiment's data need scikit-learn, so every worker started before this
process imported it, and the flower's logistic-regression baseline (a scikit-learn run) used to
stay queued ("failed b planar: some runs did not finish"; ``--jobs 1`` worked).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from nnlab.experiments import EXPERIMENTS

CAT = ("train_catvnoncat.h5", "test_catvnoncat.h5")
FOOTBALL = ("data.mat",)
#: The course's data files each experiment reads (the others generate their data).
NEEDS = {"logistic": CAT, "deep": CAT, "normalization": CAT, "regularization": FOOTBALL,
         "stopping": FOOTBALL}


def data_or_skip(names: list[str], request: pytest.FixtureRequest) -> Path | None:
    """The folder of the course's data files (the suite's one ``data_dir`` fixture, which skips
    saying how to get them) when the experiments need any, else None."""
    if not any(NEEDS.get(n) for n in names):
        return None
    return request.getfixturevalue("data_dir")


@pytest.mark.slow
@pytest.mark.parametrize("only", [
    *(f"{m.LETTER}" for m in EXPERIMENTS.values()),
    "planar,gradcheck",  # the README's example
])
def test_every_experiment_alone_at_two_jobs(only, tmp_path, request):
    by_letter = {m.LETTER: name for name, m in EXPERIMENTS.items()}
    names = [by_letter.get(item, item) for item in only.split(",")]
    data = data_or_skip(names, request)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if data is not None:
        env["NNLAB_DATA"] = str(data)
    out = subprocess.run(
        [sys.executable, "-m", "nnlab", "reproduce", "--only", only, "--jobs", "2",
         "--out", str(tmp_path / "report")],
        capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "Traceback" not in out.stderr and "did not finish" not in out.stdout + out.stderr
    results = json.loads((tmp_path / "report" / "results.json").read_text())
    assert results["summary"]["failed"] == [] and results["summary"]["skipped"] == []
    assert [e["name"] for e in results["experiments"]] == names
    assert all(e["status"] == "ok" for e in results["experiments"])
