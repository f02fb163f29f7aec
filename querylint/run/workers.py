"""What the command line knows of worker processes before any is started (light: importing the
pool itself loads the parser)."""
from __future__ import annotations

import os


class WorkerError(RuntimeError):
    """A worker process failed (its traceback is the message)."""


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)
