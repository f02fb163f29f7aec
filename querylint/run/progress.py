"""Progress of a long run on stderr: files done of the pass's total and the time so far.

Shown only where a person watches: stderr is a terminal, no ``CI`` variable is set, the output
is the text format (or ``--progress`` asks), and the first pass has at least
:data:`MIN_FILES` files to parse (a warm or small run finishes before a line would help). The
line is redrawn in place at most ten times a second and erased when the run ends, so nothing
of it stays in the output.
"""
from __future__ import annotations

import os
import sys
import time
from typing import Callable, Dict, Optional, TextIO

MIN_FILES = 200
_INTERVAL = 0.1

# the passes' names as the line shows them
PHASES = {"facts": "indexing", "queries": "finding queries", "lint": "linting"}


def wanted(asked: Optional[bool], output_format: str, stream: TextIO = sys.stderr) -> bool:
    """``--progress`` / ``--no-progress`` decide; otherwise a person at a terminal reading text."""
    if asked is not None:
        return asked
    if os.environ.get("CI") or output_format != "text":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class Progress:
    """Counts the files done in each pass and redraws one status line."""

    def __init__(self, stream: TextIO = sys.stderr, min_files: int = MIN_FILES, clock: Callable[[], float] = time.monotonic):
        self.stream = stream
        self.min_files = min_files
        self.clock = clock
        self.start = clock()
        self.active: Optional[bool] = None  # decided by the first pass's size
        self.phase = ""
        self.total = 0
        self.done: Dict[object, int] = {}  # per shard (a worker reports its own count)
        self._drawn = 0.0
        self._width = 0

    def begin(self, op: str, total: int) -> None:
        """A pass starts over ``total`` files."""
        if self.active is None:
            self.active = total >= self.min_files
        self.phase = PHASES.get(op, op)
        self.total = total
        self.done = {}
        self._draw(force=True)

    def advance(self, shard: object, done: int) -> None:
        """``shard`` has finished ``done`` of its files in this pass."""
        self.done[shard] = done
        self._draw()

    def _draw(self, force: bool = False) -> None:
        if not self.active or self.total == 0:
            return
        now = self.clock()
        if not force and now - self._drawn < _INTERVAL:
            return
        self._drawn = now
        done = min(sum(self.done.values()), self.total)
        line = f"querylint: {self.phase} {done}/{self.total} files, {now - self.start:.1f} s"
        pad = " " * max(0, self._width - len(line))
        self._width = len(line)
        self.stream.write("\r" + line + pad)
        self.stream.flush()

    def close(self) -> None:
        """Erase the line (the report follows on a clean terminal)."""
        if self.active and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
        self._width = 0
