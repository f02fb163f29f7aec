"""The rule API: a rule is a small class with identity, words, examples and visit methods.

Rules import only from :mod:`querylint.rule` (this module re-exports what they need).
"""
from __future__ import annotations

import inspect
import re
import textwrap
from typing import Any, ClassVar, Dict, List, Mapping, Optional, Sequence, Tuple, Type, Union

import libcst as cst

from querylint import nodes  # noqa: F401  (re-exported for rules)
from querylint.project.callees import annotation_class, callee_params, flagged_off, query_writes, read_chains, resolve_callee, unique_model_method, writes_through  # noqa: F401  (re-exported for rules)
from querylint.context import Binding, Context, Loop  # noqa: F401
from querylint.project.requests import describe as describe_entry, request_context  # noqa: F401  (re-exported for rules)
from querylint.scope import under_memo_guard  # noqa: F401  (re-exported for rules)
from querylint.types import Edit, Severity
from querylint.usage import constant_subscript, is_store_target, truth_context  # noqa: F401  (re-exported for rules)

Example = Union[str, Mapping[str, str]]
CODE_RE = re.compile(r"^QL\d{3}$")
NAME_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
DOC_SECTIONS = ("What it does", "Why is this bad?", "Example", "Use instead")


class Rule:
    """Base class. Subclasses set the class attributes and define ``visit_<Node>`` methods."""

    code: ClassVar[str] = ""
    name: ClassVar[str] = ""
    severity: ClassVar[Severity] = Severity.WARNING
    default_enabled: ClassVar[bool] = True
    preview: ClassVar[bool] = False  # off unless selected explicitly or ``preview = true``
    aliases: ClassVar[Tuple[str, ...]] = ()
    # A finding in code that runs per request or per job (a view, a task, what they call) is
    # raised one severity and says so: for rules whose cost multiplies with the traffic (N+1s).
    per_request_escalation: ClassVar[bool] = False
    # The finding's cost grows with the loop it is in: over a small bounded collection (a dict's
    # items, keyword arguments, a model's fields) it is one step less sure (loops.small_collection).
    loop_scaled: ClassVar[bool] = False
    # The fix is a loader option on the query (``select_related``, ``joinedload``): it costs a
    # word whatever else the loop does, so slow external work per item does not make it less sure.
    cheap_fix: ClassVar[bool] = False
    # a leak the end of the process repairs: in a one-off command or script it is left out by default
    released_at_exit: ClassVar[bool] = False
    # the problem is not one of cost (an injection risk): a management command or CLI is not less
    # sure of it (a one-off script or migration and test code still are)
    one_off_too: ClassVar[bool] = False
    # Codes of rules whose finding on the same node this rule's finding replaces (one problem,
    # one finding: the more specific rule wins; e.g. a connection opened in a loop and never
    # closed is a QL202, not also a QL203). Applied only among selected rules, so selecting the
    # subsumed code alone still reports it.
    subsumes: ClassVar[Tuple[str, ...]] = ()
    # ``{"option-key": (type, default, "expected description")}`` accepted in [tool.querylint]
    options: ClassVar[Mapping[str, Tuple[type, Any, str]]] = {}
    # Examples: a source string (one file, ``example.py``) or {relative path: source} for a project.
    VALID: ClassVar[Sequence[Example]] = ()
    INVALID: ClassVar[Sequence[Example]] = ()

    def __init__(self, ctx: Context):
        self.ctx = ctx

    @classmethod
    def summary(cls) -> str:
        doc = inspect.getdoc(cls) or ""
        for line in doc.splitlines():
            if line.strip() and not line.startswith("#"):
                pass
        sec = sections(doc).get("What it does", "")
        first = sec.strip().split("\n\n")[0]
        return " ".join(first.split())

    @classmethod
    def documentation(cls) -> str:
        return inspect.getdoc(cls) or ""

    def option(self, key: str) -> Any:
        typ, default, _ = self.options[key]
        return self.ctx.config.option(key, default)

    def report(
        self,
        node: cst.CSTNode,
        message: str,
        *,
        fix: Optional[str] = None,
        severity: Optional[Severity] = None,
        notes: Sequence[str] = (),
        variant: Optional[str] = None,
        confidence: str = "high",
        edits: Sequence[Edit] = (),
        fix_safety: str = "safe",
    ) -> None:
        """Record a finding at ``node``. Filtering (suppressions, selection) happens later, in one place.

        ``message`` says what and where, short; ``fix`` is the concrete remedy, shown on its own
        (a ``help:`` line in text, ``fix`` in JSON).
        ``variant``: the alias code of the variant that found it (a merged rule's per-ORM code,
        e.g. ``"QL120"`` for SQLAlchemy's query in a loop); the finding then also answers to it.
        ``confidence``: ``"high"``, or ``"medium"`` / ``"low"`` when the evidence is weak (the
        default output shows high only; test and seed code is capped at low)."""
        if self.loop_scaled and not self.cheap_fix and confidence != "low" and self.ctx.loop is not None:
            confidence = self._beside_external_work(confidence)
        self.ctx.report(self, node, message, severity, notes, variant, fix, confidence, edits, fix_safety)

    def _beside_external_work(self, confidence: str) -> str:
        """One step less sure when the loop also does slow external work per item (an HTTP call,
        a subprocess, a queued job): the query is not what makes that loop slow."""
        from querylint.frameworks.connection_problems import external_work_per_item  # frameworks import this module
        from querylint.loops import reported_loop
        from querylint.project.contexts import lower

        loop = reported_loop(self.ctx.loops, self.ctx)
        if loop is not None and external_work_per_item(loop, self.ctx) is not None:
            return lower(confidence)
        return confidence

    # convenience for rules
    def line(self, node: cst.CSTNode) -> int:
        return self.ctx.line(node)

    def visitors(self) -> Sequence[object]:
        """What the walker drives for this rule: the rule itself, or (a pattern rule) one detector
        per ORM variant, whose findings the rule reports under its own code."""
        return (self,)


def line_after_imports(ctx: Context) -> int:
    """The line after a module's leading docstring and imports: where a fix adds an import."""
    line = 1
    for stmt in ctx.module_node.body:
        small = stmt.body[0] if isinstance(stmt, cst.SimpleStatementLine) and stmt.body else None
        if isinstance(small, (cst.Import, cst.ImportFrom)) or (line == 1 and isinstance(small, cst.Expr) and isinstance(small.value, (cst.SimpleString, cst.ConcatenatedString))):
            line = ctx.span(stmt).end_line + 1
            continue
        break
    return line


def article(word: str) -> str:
    """``word`` with its indefinite article, by sound for SQL verbs and names: "an INSERT",
    "a SELECT", "an UPDATE", "a DELETE"."""
    return f"{'an' if word[:1].upper() in 'AEIOU' else 'a'} {word}"


def sections(doc: str) -> Dict[str, str]:
    """``## Heading`` sections of a rule docstring."""
    out: Dict[str, str] = {}
    current = None
    buf: List[str] = []
    for line in doc.splitlines():
        m = re.match(r"^#+\s+(.*?)\s*$", line)
        if m:
            if current is not None:
                out[current] = "\n".join(buf).strip()
            current, buf = m.group(1), []
        else:
            buf.append(line)
    if current is not None:
        out[current] = "\n".join(buf).strip()
    return out


def validate_rule(rule: Type[Rule]) -> Sequence[str]:
    """Problems with a rule class's declaration (empty when it is well formed)."""
    problems = []
    if not CODE_RE.match(rule.code or ""):
        problems.append(f"{rule.__name__}: code {rule.code!r} is not QL + 3 digits")
    if not NAME_RE.match(rule.name or ""):
        problems.append(f"{rule.__name__}: name {rule.name!r} is not kebab-case")
    secs = sections(rule.documentation())
    for heading in DOC_SECTIONS:
        if heading not in secs:
            problems.append(f"{rule.code}: docstring lacks the '## {heading}' section")
    return problems


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")
