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
