"""The template pass: after the rules, the templates views render, walked with their context.

Findings answer to the N+1 rules' codes (QL105 a lazy relation, QL106 a member that queries,
with the ORM's variant: QL112 / QL122, QL117 / QL125), so ``select``, ``ignore``,
``per-file-ignores``, baselines and ``--diff`` treat them as any other. A template silences one
with ``{# querylint: ignore[QL112] #}`` on the line of the read or on a line of its own just above;
``{# querylint: ignore-file #}`` silences the file.
"""
from __future__ import annotations

import traceback
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from querylint.codes import Selection, matches_any
from querylint.frameworks.base import LAZY_RELATION, MEMBER_QUERY
from querylint.frameworks.registry import adapters
from querylint.run.config import Config
from querylint.run.source import SourceError, read_source
from querylint.suppressions import parse_suppressions
from querylint.templates.analyze import Library, Problem, TemplateFile, WalkTooLong, analyze
from querylint.templates.model import Render
from querylint.templates.parse import parse_template
from querylint.types import Edit, FileError, Finding, Span

_PATTERN = {"lazy-relation": LAZY_RELATION, "member-query": MEMBER_QUERY}


def read_templates(files: Sequence[Tuple[str, Path, str]]) -> Tuple[Dict[str, TemplateFile], Dict[str, str], Dict[str, FileError]]:
    """Read and parse (relpath, path, display) templates: (parsed by relpath, text by relpath, errors by relpath)."""
    parsed: Dict[str, TemplateFile] = {}
    texts: Dict[str, str] = {}
    errors: Dict[str, FileError] = {}
    for relpath, path, display in files:
        try:
            _raw, text = read_source(path)
        except SourceError as exc:
            errors[relpath] = FileError(display, exc.line, exc.message, exc.kind)
            continue
        texts[relpath] = text
        parsed[relpath] = TemplateFile(relpath, parse_template(text))
    return parsed, texts, errors


def template_findings(
    parsed: Dict[str, TemplateFile], renders: Sequence[Render], index, config: Config, rules: Sequence[type], show: Callable[[str], str] = str,
    errors: Optional[Dict[str, List[FileError]]] = None,
) -> Dict[str, List[Tuple[Problem, type, Tuple[str, ...]]]]:
    """The problems each template holds (by relpath), with the rule and codes they answer to;
    only those the selection keeps. A walk that crashes adds an internal error to ``errors``
    (by template relpath) and the rest goes on."""
    by_pattern = {getattr(r, "pattern", None): r for r in rules}
    if not any(p in by_pattern for p in _PATTERN.values()) or not renders:
        return {}
    library = Library(list(parsed.values()), config.template_folders)
    by_orm = {a.name: a for a in adapters()}
    selection = Selection.of(config)
    out: Dict[str, List[Tuple[Problem, type, Tuple[str, ...]]]] = {}
    def crashed(relpath: str, render: Render, exc: BaseException) -> None:
        if isinstance(exc, WalkTooLong):  # a bound, not a bug: what was found so far is kept
            if errors is not None:
                errors.setdefault(relpath, []).append(FileError(show(relpath), None, str(exc), "limit"))
            return
        tb = traceback.extract_tb(exc.__traceback__)
        where = f" ({Path(tb[-1].filename).name}:{tb[-1].lineno})" if tb else ""
        message = f"internal error while reading the template as {render.view} renders it: {type(exc).__name__}: {exc}{where}"
        if errors is not None:
            errors.setdefault(relpath, []).append(FileError(show(relpath), None, message, "internal"))

    for p in analyze(renders, library, index, by_orm, show, crashed):
        pattern = _PATTERN[p.pattern]
        rule = by_pattern.get(pattern)
        if rule is None:
            continue
        variant = by_orm[p.orm].codes.get(pattern)
        code: str = getattr(rule, "code")
        codes = (code, variant) if variant else (code,)
        if selection.enabled(rule, codes):
            p.view_path = show(p.view_path)  # as reports show paths: the file ``--fix`` edits
            out.setdefault(p.path, []).append((p, rule, codes))
    return out


def lint_template(
    relpath: str, display: str, text: Optional[str], parsed: Optional[TemplateFile], problems, config: Config, errors: Sequence[FileError] = (),
):
    """One template's result (``text`` and ``parsed``: the template as read): its problems as
    findings, filtered by its suppression comments (``errors``: why it could not be read, or an
    internal error of its walk)."""
    from querylint.result import FileResult

    result = FileResult()
    result.errors.extend(errors)
    if text is None or parsed is None or not problems:
        return result
    found = parsed.template.comments
    sup = parse_suppressions(text, [(line, col + 1, "#" + body) for line, col, body in found])
    alone = {line for line, _c, _b in found if _only_comment_on(text, line)}
    file_ignores = config.ignores_for(relpath)
    for p, rule, codes, others in _one_per_place(problems):
        span = Span(p.line, p.column + 1, p.line, p.column + 1 + p.length)
        also = tuple(dict.fromkeys(f"also {o.notes[0]}" for o in others if o.notes and o.view != p.view))
        f = Finding(
            display, span, rule.code, rule.name, rule.severity.raised() if rule.per_request_escalation else rule.severity,
            p.message,
            None, p.notes + also[:3], codes[1:], p.fix, "high", "request", p.view, None, 1,
            tuple(Edit(line, col, line, col, text, path=p.view_path) for line, col, text in p.edits),
        )
        if matches_any(codes, file_ignores) or sup.file_ignores(codes):
            result.suppressed.append(f)
            continue
        lines = [p.line] + ([p.line - 1] if p.line - 1 in alone else [])
        d = sup.match(codes, lines)
        if d is not None:
            result.suppressed.append(_with_reason(f, d.reason or ""))
            continue
        result.findings.append(f)
    return result


def _one_per_place(problems):
    """One finding per place in the template: the shortest read there (``execution.run`` before
    ``execution.run.plan``, which the same fix may settle), with the other views that render it
    the same way as notes."""
    by_place: Dict[Tuple[int, int], list] = {}
    for item in sorted(problems, key=lambda x: (x[0].line, x[0].column, x[0].length, x[0].message, x[0].view)):
        by_place.setdefault((item[0].line, item[0].column), []).append(item)
    for items in by_place.values():
        p, rule, codes = items[0]
        yield p, rule, codes, [o[0] for o in items[1:]]


def _with_reason(f: Finding, reason: str) -> Finding:
    from dataclasses import replace

    return replace(f, suppressed_reason=reason)


def _only_comment_on(text: str, line: int) -> bool:
    lines = text.splitlines()
    if not 0 < line <= len(lines):
        return False
    s = lines[line - 1].strip()
    return s.startswith("{#") and s.endswith("#}")
