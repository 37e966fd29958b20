"""What the command-line tests check of a user's mistake: one clear line on stderr, no
traceback, exit code 2."""

from __future__ import annotations

import subprocess


def one_line_error(out: subprocess.CompletedProcess, rc: int = 2) -> str:
    """The one line ``nnlab`` printed on stderr (asserting the exit code and no traceback)."""
    assert out.returncode == rc, (out.stdout, out.stderr)
    assert "Traceback" not in out.stderr
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, out.stderr
    return lines[0]


def kill_then_resume(run: list[str], tmp_path, delays: list[float]) -> list[int]:
    """Train ``nnlab *run`` to the end (the reference), then for each delay start it again with
    a checkpoint every epoch, SIGKILL it ``delay`` s after its first checkpoint, resume from the
    checkpoint and check the resumed model equals the reference bit for bit (every array).
    Returns the epoch of each checkpoint the kills left."""
    import signal
    import sys
    import time

    import numpy as np

    from nnlab.files.format import load_arrays

    def nnlab(*args: str) -> None:
        out = subprocess.run([sys.executable, "-m", "nnlab", *args], cwd=tmp_path,
                             capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, (out.stdout, out.stderr)

    nnlab(*run, "--save", "ref")
    ref, _ = load_arrays(tmp_path / "ref" / "model.npz")
    interrupted_at = []
    for i, delay in enumerate(delays):
        ck = tmp_path / f"ck{i}.npz"
        proc = subprocess.Popen([sys.executable, "-m", "nnlab", *run, "--checkpoint", ck.name,
                                 "--checkpoint-every", "1"], cwd=tmp_path,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while not ck.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert ck.exists(), "the run ended before its first checkpoint"
        interrupted_at.append(load_arrays(ck)[1]["epoch"])
        nnlab("train", "--resume", ck.name, "--save", f"resumed{i}", "--quiet")
        got, _ = load_arrays(tmp_path / f"resumed{i}" / "model.npz")
        assert set(got) == set(ref)
        for k in ref:
            assert np.array_equal(got[k], ref[k]), (delay, k)
    return interrupted_at
