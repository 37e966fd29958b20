"""The progress display of ``nnlab reproduce``.

On a terminal, one line redrawn in place: a bar, the count of finished runs, the elapsed time and
the last thing that finished. Elsewhere (a log, a pipe), one plain line per finished item.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressLine:
    """``progress(done, total, message)`` for ``run_experiments``; call ``close()`` at the end."""

    def __init__(self, stream: TextIO | None = None, width: int = 24):
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.width = width
        self.started = time.perf_counter()
        self._shown = 0

    def __call__(self, done: int, total: int, message: str) -> None:
        elapsed = time.perf_counter() - self.started
        if self.tty:
            filled = self.width * done // max(total, 1)
            bar = "#" * filled + "." * (self.width - filled)
            line = f"[{bar}] {done}/{total}  {elapsed:5.1f} s  {message}"
            self.stream.write("\r" + line[:100].ljust(self._shown))
            self._shown = min(len(line), 100)
        elif done:
            self.stream.write(f"  {done}/{total}  {elapsed:5.1f} s  {message}\n")
        self.stream.flush()

    def close(self) -> None:
        """Clear the line (on a terminal)."""
        if self.tty and self._shown:
            self.stream.write("\r" + " " * self._shown + "\r")
            self.stream.flush()
            self._shown = 0
