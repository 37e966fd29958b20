"""The progress display of ``nnlab reproduce``.

On a terminal, one line redrawn in place: a bar, the count of finished runs, the elapsed time and
the last thing that finished. Elsewhere (a log, a pipe), one plain line per finished item. Either
way a line is cut to fit 100 columns (or a narrower terminal), leaving the last column free so
that a terminal never wraps it.
"""

from __future__ import annotations

import shutil
import sys
import time
from typing import TextIO

#: The widest line shown, in columns.
MAX_COLUMNS = 100


class ProgressLine:
    """``progress(done, total, message)`` for ``run_experiments``; call ``close()`` at the end."""

    def __init__(self, stream: TextIO | None = None, width: int = 24):
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.width = width
        self.started = time.perf_counter()
        self._shown = 0
        columns = shutil.get_terminal_size((MAX_COLUMNS, 24)).columns if self.tty else 0
        #: characters per line: one less than the columns, so the cursor never wraps
        self.limit = min(columns or MAX_COLUMNS, MAX_COLUMNS) - 1

    def __call__(self, done: int, total: int, message: str) -> None:
        elapsed = time.perf_counter() - self.started
        if self.tty:
            filled = self.width * done // max(total, 1)
            bar = "#" * filled + "." * (self.width - filled)
            line = f"[{bar}] {done}/{total}  {elapsed:5.1f} s  {message}"[:self.limit]
            self.stream.write("\r" + line.ljust(self._shown))
            self._shown = len(line)
        elif done:
            line = f"  {done}/{total}  {elapsed:5.1f} s  {message}"
            self.stream.write(line[:self.limit] + "\n")
        self.stream.flush()

    def close(self) -> None:
        """Clear the line (on a terminal)."""
        if self.tty and self._shown:
            self.stream.write("\r" + " " * self._shown + "\r")
            self.stream.flush()
            self._shown = 0
