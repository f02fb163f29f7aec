"""querylint: find slow database code (N+1 queries, connection misuse, risky SQL) before it ships."""

__version__ = "0.1.0"

from querylint.types import Finding, FileError, Severity  # noqa: E402

__all__ = ["__version__", "Finding", "FileError", "Severity"]
