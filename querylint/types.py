"""Plain data that crosses module boundaries: findings, errors, severities."""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Optional, Tuple


class Severity(str, enum.Enum):
    """How bad a finding is. Ordered: INFO < WARNING < ERROR."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return {"info": 0, "warning": 1, "error": 2}[self.value]

    def raised(self) -> "Severity":
        """One step higher (used for findings on a per-request path)."""
        return Severity.ERROR if self is not Severity.INFO else Severity.WARNING


@dataclass(frozen=True, order=True)
class Span:
    """1-based line and column of the first character, and of the character after the end."""

    line: int
    column: int
    end_line: int
    end_column: int


@dataclass(frozen=True)
class Edit:
    """Replace the text from (line, column) up to (end_line, end_column), 1-based, with ``text``
    (an insertion when both ends are the same place)."""

    line: int
    column: int
    end_line: int
    end_column: int
    text: str
    # the file to edit, as reports show paths, when it is not the finding's own (a template's
    # finding is fixed in the view that renders it)
    path: Optional[str] = None


@dataclass(frozen=True)
class Finding:
    path: str
    span: Span
    rule: str
    name: str
    severity: Severity
    message: str
    # Suppression reason (``-- reason``), when a finding was suppressed; kept for the JSON report.
    suppressed_reason: Optional[str] = None
    # Extra notes (call path, help line) shown by reporters.
    notes: Tuple[str, ...] = field(default=())
    # Old codes this finding also answers to (the per-ORM code its rule replaced): honoured by
    # select/ignore, per-file-ignores, suppression comments and baselines.
    aliases: Tuple[str, ...] = field(default=())
    # The concrete remedy, on its own (``add .select_related("author") to the queryset on line 12``).
    fix: Optional[str] = None
    # How sure querylint is that this is worth acting on (high / medium / low) and where the code
    # runs (request, task, command, script, test, unknown): see querylint/project/contexts.py.
    confidence: str = "high"
    context: str = "unknown"
    # The function it sits in (qualified name) and the line of the per-item loop it multiplies
    # with, and how many per-item loops enclose it: what the query-cost report adds up.
    function: Optional[str] = None
    loop_line: Optional[int] = None
    loop_depth: int = 0
    # The fix as edits of the file (``--fix``), when querylint is certain of it, and whether it
    # changes nothing but the number of queries ("safe") or may change behaviour ("unsafe").
    edits: Tuple[Edit, ...] = ()
    fix_safety: str = "safe"

    @property
    def codes(self) -> Tuple[str, ...]:
        return (self.rule,) + self.aliases

    @property
    def variant(self) -> str:
        """The most specific code this finding answers to: its variant's alias (the per-ORM code
        its rule replaced), else its rule's code."""
        return self.aliases[-1] if self.aliases else self.rule

    @property
    def line(self) -> int:
        return self.span.line

    @property
    def column(self) -> int:
        return self.span.column

    def sort_key(self):
        return (self.path, self.span.line, self.span.column, self.rule, self.message)


@dataclass(frozen=True)
class FileError:
    """A file that could not be linted, or a rule that crashed on it.

    kind: "read" (unreadable), "decode", "syntax", "internal" (a rule or querylint crashed),
    "plugin" (a plugin failed to load).
    """

    path: str
    line: Optional[int]
    message: str
    kind: str

    def sort_key(self):
        return (self.path, self.line or 0, self.kind, self.message)
