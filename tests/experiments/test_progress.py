"""The progress display: redrawn in place on a terminal, plain lines in a log."""

from __future__ import annotations

import io

from nnlab.experiments.progress import ProgressLine


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_terminal_line_is_redrawn_and_cleared():
    term = FakeTerminal()
    progress = ProgressLine(term, width=10)
    progress(0, 4, "starting")
    progress(2, 4, "b planar: n_h=4")
    text = term.getvalue()
    assert text.count("\r") == 2 and "\n" not in text
    assert "[#####.....] 2/4" in text and "b planar: n_h=4" in text
    progress.close()
    assert term.getvalue().endswith("\r")


def test_log_gets_one_line_per_finished_item():
    log = io.StringIO()
    progress = ProgressLine(log)
    progress(0, 2, "starting")
    progress(1, 2, "g gradcheck: checks")
    progress(2, 2, "g gradcheck: figures")
    progress.close()
    lines = log.getvalue().splitlines()
    assert len(lines) == 2 and lines[0].strip().startswith("1/2")
    assert "\r" not in log.getvalue()


def test_lines_fit_100_columns_even_with_a_long_message():
    long = "k normalization: " + "x" * 150
    term = FakeTerminal()
    progress = ProgressLine(term)
    progress(3, 52, long)
    progress(4, 52, "short")
    shown = [part for part in term.getvalue().split("\r") if part]
    assert shown and max(len(part) for part in shown) <= 99
    log = io.StringIO()
    ProgressLine(log)(3, 52, long)
    assert max(len(line) for line in log.getvalue().splitlines()) <= 99
