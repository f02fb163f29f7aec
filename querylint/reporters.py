"""Findings → output text. Pure functions: a result in, a string out. Never imports rules."""
from __future__ import annotations

import json
from typing import Callable, Dict

from querylint import __version__
from querylint.types import Finding

_COLOURS = {"path": "\x1b[1m", "code": "\x1b[1;31m", "dim": "\x1b[2m", "reset": "\x1b[0m", "warn": "\x1b[1;33m", "info": "\x1b[1;36m"}


def _c(text: str, style: str, colour: bool) -> str:
    return f"{_COLOURS[style]}{text}{_COLOURS['reset']}" if colour else text


def format_text(result, colour: bool = False, show_notes: bool = True) -> str:
    lines = []
    for f in result.findings:
        style = {"error": "code", "warning": "warn", "info": "info"}[f.severity.value]
        lines.append(
            f"{_c(f.path, 'path', colour)}:{f.span.line}:{f.span.column}: {_c(f.rule, style, colour)} {f.message}"
        )
        if show_notes:
            for note in f.notes:
                lines.append(f"    {_c(note, 'dim', colour)}")
    return "\n".join(lines) + ("\n" if lines else "")


def format_errors_text(result) -> str:
    out = []
    for e in result.errors:
        where = f"{e.path}:{e.line}" if e.line else e.path
        out.append(f"{where}: error: {e.message}")
    return "\n".join(out) + ("\n" if out else "")


def format_summary_text(result) -> str:
    s = result.summary()
    n = s["findings"]
    parts = [f"Found {n} problem{'s' if n != 1 else ''} in {s['files']} file{'s' if s['files'] != 1 else ''}"]
    if s["errors"]:
        parts.append(f"{s['errors']} file error{'s' if s['errors'] != 1 else ''}")
    if s["suppressed"]:
        parts.append(f"{s['suppressed']} suppressed")
    return ", ".join(parts) + ".\n"


def finding_dict(f: Finding) -> Dict[str, object]:
    d = {
        "rule": f.rule,
        "name": f.name,
        "severity": f.severity.value,
        "path": f.path,
        "line": f.span.line,
        "column": f.span.column,
        "end_line": f.span.end_line,
        "end_column": f.span.end_column,
        "message": f.message,
    }
    if f.notes:
        d["notes"] = list(f.notes)
    if f.suppressed_reason is not None:
        d["suppression_reason"] = f.suppressed_reason
    return d


def format_json(result) -> str:
    doc = {
        "version": __version__,
        "findings": [finding_dict(f) for f in result.findings],
        "errors": [{"path": e.path, "line": e.line, "message": e.message, "kind": e.kind} for e in result.errors],
        "suppressed": [finding_dict(f) for f in result.suppressed],
        "summary": result.summary(),
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def format_statistics(result) -> str:
    counts: Dict[tuple, int] = {}
    for f in result.findings:
        counts[(f.rule, f.name)] = counts.get((f.rule, f.name), 0) + 1
    width = max((len(str(c)) for c in counts.values()), default=1)
    return "".join(f"{n:>{width}}  {code}  {name}\n" for (code, name), n in sorted(counts.items()))


FORMATTERS: Dict[str, Callable] = {"text": format_text, "json": format_json}
