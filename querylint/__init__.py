"""querylint: find slow database code (N+1 queries, connection misuse, risky SQL) before it ships."""

import os as _os
import sys as _sys


def _forget_working_folder() -> None:
    """``python -m querylint`` puts the working folder first on ``sys.path`` (unless ``-P``): the
    code being linted (a ``typing.py``, a ``click.py``) must never shadow querylint's imports."""
    argv = list(getattr(_sys, "orig_argv", ()))
    if "-m" not in argv or getattr(_sys.flags, "safe_path", False) or not _sys.path:
        return
    i = argv.index("-m")
    if argv[i + 1: i + 2] not in (["querylint"], ["querylint.__main__"]):
        return
    try:
        if _sys.path[0] in ("", ".") or _os.path.samefile(_sys.path[0], _os.getcwd()):
            _sys.path.pop(0)
    except OSError:
        pass


_forget_working_folder()

__version__ = "0.1.0"

from querylint.types import Finding, FileError, Severity  # noqa: E402

__all__ = ["__version__", "Finding", "FileError", "Severity"]
