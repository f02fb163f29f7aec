"""Findings → output text. Pure functions: a result in, a string out. Never imports rules."""
from __future__ import annotations

import json
from typing import Callable, Dict, List

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
        if f.fix:
            lines.append(f"    {_c('help:', 'info', colour)} {f.fix}")
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
    if getattr(result, "baselined", 0):
        parts.append(f"{result.baselined} in the baseline")
    if getattr(result, "outside_diff", 0):
        parts.append(f"{result.outside_diff} outside the diff")
    if getattr(result, "hidden", 0):
        parts.append(f"{result.hidden} below min-confidence (--min-confidence low shows them)")
    return ", ".join(parts) + ".\n"


def finding_dict(f: Finding) -> Dict[str, object]:
    d: Dict[str, object] = {
        "rule": f.rule,
        "name": f.name,
        "severity": f.severity.value,
        "path": f.path,
        "line": f.span.line,
        "column": f.span.column,
        "end_line": f.span.end_line,
        "end_column": f.span.end_column,
        "message": f.message,
        "confidence": f.confidence,
        "context": f.context,
    }
    if f.fix:
        d["fix"] = f.fix
    if f.edits:  # what ``--fix`` applies (``applicability``: "safe", or "unsafe" for ``--unsafe-fixes``)
        d["edits"] = {
            "applicability": f.fix_safety,
            "changes": [
                {"line": e.line, "column": e.column, "end_line": e.end_line, "end_column": e.end_column, "content": e.text, **({"path": e.path} if e.path else {})}
                for e in f.edits
            ],
        }
    if f.aliases:
        d["aliases"] = list(f.aliases)
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


# ------------------------------------------------------------------ GitHub workflow commands


def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_prop(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


_GH_LEVEL = {"error": "error", "warning": "warning", "info": "notice"}


def format_github(result) -> str:
    """``::warning file=...,line=...,col=...,title=QL101::message`` annotations (errors as ``::error``)."""
    out = []
    for f in result.findings:
        props = [
            f"file={_gh_prop(f.path)}",
            f"line={f.span.line}",
            f"col={f.span.column}",
            f"endLine={f.span.end_line}",
        ]
        if f.span.end_line == f.span.line:
            props.append(f"endColumn={f.span.end_column}")
        props.append(f"title={_gh_prop(f.rule)}")
        text = f.rule + " " + f.message + (f"\nhelp: {f.fix}" if f.fix else "") + f"\nconfidence: {f.confidence}, context: {f.context}"
        out.append(f"::{_GH_LEVEL[f.severity.value]} {','.join(props)}::{_gh_data(text)}")
    for e in result.errors:
        props = [f"file={_gh_prop(e.path)}"] + ([f"line={e.line}"] if e.line else []) + ["title=querylint"]
        out.append(f"::error {','.join(props)}::{_gh_data(e.message)}")
    return "\n".join(out) + ("\n" if out else "")


# ------------------------------------------------------------------ GitLab Code Quality

_GITLAB_SEVERITY = {"error": "major", "warning": "minor", "info": "info"}


def format_gitlab(result) -> str:
    """GitLab Code Quality report: a JSON list of issues with stable fingerprints."""
    issues = []
    for f in result.findings:
        issues.append(
            {
                "description": f"{f.rule} {f.message}" + (f" (fix: {f.fix})" if f.fix else ""),
                "check_name": f"{f.rule} {f.name}",
                "fingerprint": result.fingerprints.get(f) or _fallback_fingerprint(f),
                "severity": _GITLAB_SEVERITY[f.severity.value],
                "location": {"path": f.path, "lines": {"begin": f.span.line, "end": f.span.end_line}},
                "content": {"body": (f"**Fix:** {f.fix}\n\n" if f.fix else "") + f"confidence: {f.confidence}, context: {f.context}"},
            }
        )
    return json.dumps(issues, indent=2, ensure_ascii=False) + "\n"


def _fallback_fingerprint(f: Finding) -> str:
    import hashlib

    return hashlib.sha256(json.dumps([f.rule, f.path, f.span.line, f.message]).encode("utf-8")).hexdigest()[:32]


# ------------------------------------------------------------------ SARIF 2.1.0

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/querylint/querylint"
_SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def _sarif_rule(info) -> Dict[str, object]:
    return {
        "id": info.code,
        "name": info.name,
        "shortDescription": {"text": info.summary or info.name},
        "fullDescription": {"text": info.summary or info.name},
        "help": {"text": info.documentation or info.summary, "markdown": info.documentation or info.summary},
        "helpUri": f"{INFORMATION_URI}#rules",
        "defaultConfiguration": {"level": _SARIF_LEVEL[info.severity.value]},
        "properties": {"tags": ["performance", "database"]},
    }


def _artifact(path: str) -> Dict[str, str]:
    """A SARIF artifactLocation: relative to the source root, or an absolute file URI."""
    from urllib.parse import quote

    path = path.replace("\\", "/")
    if path.startswith("/"):
        return {"uri": "file://" + quote(path, safe="/:")}
    return {"uri": quote(path, safe="/:"), "uriBaseId": "%SRCROOT%"}


def format_sarif(result) -> str:
    """SARIF 2.1.0: one run, the rules that ran (with their documentation as help), one result per finding."""
    infos = dict(getattr(result, "rule_info", {}) or {})
    codes = sorted(set(result.rules) | {f.rule for f in result.findings})
    rules: List[Dict[str, object]] = []
    index: Dict[str, int] = {}
    for code in codes:
        info = infos.get(code)
        if info is None:
            continue
        index[code] = len(rules)
        rules.append(_sarif_rule(info))
    results = []
    for f in result.findings:
        res: Dict[str, object] = {
            "ruleId": f.rule,
            "level": _SARIF_LEVEL[f.severity.value],
            "message": {"text": f.message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": _artifact(f.path),
                        "region": {
                            "startLine": f.span.line,
                            "startColumn": f.span.column,
                            "endLine": f.span.end_line,
                            "endColumn": f.span.end_column,
                        },
                    }
                }
            ],
        }
        props: Dict[str, object] = {"confidence": f.confidence, "context": f.context}
        if f.fix:
            # SARIF's own ``fixes`` need concrete edits; the remedy in words goes in the message's
            # markdown form and in the property bag, where viewers show it
            res["message"] = {"text": f.message, "markdown": f"{f.message}\n\n**Fix:** {f.fix}"}
            props["fix"] = f.fix
        res["properties"] = props
        if f.rule in index:
            res["ruleIndex"] = index[f.rule]
        fp = result.fingerprints.get(f)
        if fp:
            res["partialFingerprints"] = {"querylintFingerprint/v1": fp}
        results.append(res)
    notifications = []
    for e in result.errors:
        note: Dict[str, object] = {"level": "error", "message": {"text": e.message}, "descriptor": {"id": f"querylint/{e.kind}"}}
        loc: Dict[str, object] = {"artifactLocation": _artifact(e.path)}
        if e.line:
            loc["region"] = {"startLine": e.line}
        note["locations"] = [{"physicalLocation": loc}]
        notifications.append(note)
    doc = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "querylint",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": rules,
                    }
                },
                "invocations": [
                    {
                        "executionSuccessful": not any(e.kind in ("internal", "plugin") for e in result.errors),
                        "toolExecutionNotifications": notifications,
                    }
                ],
                "results": results,
            }
        ],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


FORMATTERS: Dict[str, Callable] = {
    "text": format_text,
    "json": format_json,
    "github": format_github,
    "gitlab": format_gitlab,
    "sarif": format_sarif,
}
