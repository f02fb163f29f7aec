"""Stable finding fingerprints, and baselines built from them.

A fingerprint survives lines moving: it is made of the rule, the path, the normalised source
of the flagged line, the name of the enclosing function (or class, or module) and the
occurrence index among findings sharing all of those. Editing code above a finding, or
re-indenting it, keeps its fingerprint; editing the flagged line itself makes it new.

Pure parts (:func:`normalise`, :func:`enclosing_name`, :func:`fingerprints`) take source text;
:func:`attach_fingerprints` reads the files of a result.
"""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Set, Tuple

from querylint.run.source import SourceError, read_source
from querylint.types import Finding

BASELINE_VERSION = 1
_DEF_RE = re.compile(r"^(?P<indent>[ \t]*)(?:async[ \t]+)?(?P<kind>def|class)[ \t]+(?P<name>[A-Za-z_]\w*)")


class BaselineError(Exception):
    """A baseline file that cannot be read (exit 2)."""


def normalise(line: str) -> str:
    """The flagged line without indentation, trailing comments' spacing or repeated blanks."""
    return " ".join(line.split())


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def enclosing_name(lines: Sequence[str], lineno: int) -> str:
    """Dotted name of the innermost ``def``/``class`` whose body holds line ``lineno`` (1-based)."""
    if not 1 <= lineno <= len(lines):
        return ""
    target = lines[lineno - 1]
    limit = _indent(target) if target.strip() else 10**9
    names: List[str] = []
    for i in range(lineno - 2, -1, -1):
        text = lines[i]
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        ind = _indent(text)
        if ind >= limit:
            continue
        m = _DEF_RE.match(text)
        if m:
            names.append(m.group("name"))
        limit = ind
        if ind == 0:
            break
    return ".".join(reversed(names))


def fingerprints(
    findings: Iterable[Finding],
    source_of: Callable[[str], Optional[str]],
    key_path: Callable[[str], str] = lambda p: p,
) -> Dict[Finding, str]:
    """finding -> fingerprint. ``source_of(path)`` returns a file's text (None when unreadable);
    ``key_path(path)`` is the path as fingerprinted (relative to the project root)."""
    return {f: prints[0] for f, prints in code_fingerprints(findings, source_of, key_path).items()}


def code_fingerprints(
    findings: Iterable[Finding],
    source_of: Callable[[str], Optional[str]],
    key_path: Callable[[str], str] = lambda p: p,
) -> Dict[Finding, Tuple[str, ...]]:
    """finding -> its fingerprint under each code it answers to (its rule's code first, then its
    aliases): a baseline written when the finding's rule had another code still matches it."""
    texts: Dict[str, List[str]] = {}
    counts: Dict[tuple, int] = {}
    out: Dict[Finding, Tuple[str, ...]] = {}
    for f in sorted(findings, key=Finding.sort_key):
        if f.path not in texts:
            src = source_of(f.path)
            texts[f.path] = src.splitlines() if src is not None else []
        lines = texts[f.path]
        line = normalise(lines[f.span.line - 1]) if 1 <= f.span.line <= len(lines) else f"line {f.span.line}"
        where = (key_path(f.path), line, enclosing_name(lines, f.span.line))
        prints = []
        for code in f.codes:
            base = (code,) + where
            n = counts.get(base, 0)
            counts[base] = n + 1
            prints.append(hashlib.sha256(json.dumps(list(base) + [n]).encode("utf-8")).hexdigest()[:32])
        out[f] = tuple(prints)
    return out


def _reader(cwd: Path) -> Callable[[str], Optional[str]]:
    def read(path: str) -> Optional[str]:
        p = Path(path)
        if not p.is_absolute():
            p = cwd / p
        try:
            return read_source(p)[1]
        except SourceError:
            return None

    return read


def attach_fingerprints(result, cwd: Optional[Path] = None, root: Optional[Path] = None) -> None:
    """Fill ``result.fingerprints`` for every finding (paths taken relative to ``root``, so the
    fingerprints do not depend on the folder querylint runs from)."""
    cwd = cwd or Path.cwd()

    def key_path(path: str) -> str:
        if root is None:
            return path
        p = Path(path)
        try:
            return (p if p.is_absolute() else cwd / p).resolve().relative_to(Path(root).resolve()).as_posix()
        except ValueError:
            return path

    for f, prints in code_fingerprints(list(result.findings), _reader(cwd), key_path).items():
        result.fingerprints[f] = prints[0]
        result.alias_fingerprints[f] = prints[1:]


def write_baseline(result, path: Path) -> int:
    """Record today's findings; returns how many."""
    entries = sorted(
        ({"fingerprint": result.fingerprints[f], "rule": f.rule, "path": f.path, "line": f.span.line, "message": f.message}
         for f in result.findings),
        key=lambda d: (d["path"], d["line"], d["rule"], d["fingerprint"]),
    )
    doc = {"querylint-baseline": BASELINE_VERSION, "findings": entries}
    Path(path).write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return len(entries)


def read_baseline(path: Path) -> Set[str]:
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise BaselineError(f"{path}: cannot read the baseline: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise BaselineError(f"{path}: the baseline is not valid JSON: {exc}") from None
    if not isinstance(doc, dict) or doc.get("querylint-baseline") != BASELINE_VERSION or not isinstance(doc.get("findings"), list):
        raise BaselineError(f'{path}: not a querylint baseline (expected {{"querylint-baseline": {BASELINE_VERSION}, "findings": [...]}}); write one with --write-baseline')
    return {e["fingerprint"] for e in doc["findings"] if isinstance(e, dict) and isinstance(e.get("fingerprint"), str)}


def apply_baseline(result, known: Set[str]) -> int:
    """Drop findings whose fingerprint is in the baseline; returns how many were dropped."""
    keep = [
        f for f in result.findings
        if result.fingerprints.get(f) not in known and not any(p in known for p in result.alias_fingerprints.get(f, ()))
    ]
    dropped = len(result.findings) - len(keep)
    result.findings = keep
    result.baselined = getattr(result, "baselined", 0) + dropped
    return dropped
