"""``--fix``: apply the edits of the findings querylint is certain of, and never write code that
does not parse."""
from __future__ import annotations

import difflib
from pathlib import Path
from typing import Dict, Iterable, List, Sequence, Tuple

from querylint.types import Edit, Finding


def apply_edits(text: str, edits: Sequence[Edit]) -> Tuple[str, int]:
    """``text`` with ``edits`` applied, the last in the file first so earlier positions hold;
    an edit overlapping one already applied is left out. Returns (new text, edits applied)."""
    starts = [0]
    for line in text.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))

    def offset(line: int, column: int) -> int:
        return starts[min(line, len(starts)) - 1] + column - 1

    items = sorted({(offset(e.line, e.column), offset(e.end_line, e.end_column), e.text) for e in edits}, reverse=True)
    applied = 0
    floor = len(text) + 1
    for start, end, new in items:
        if end > floor or start > end:
            continue  # overlaps an edit already made
        text = text[:start] + new + text[end:]
        applied += 1
        floor = start
    return text, applied


def fixable(findings: Iterable[Finding], unsafe: bool) -> Dict[str, List[Tuple[Finding, List[Edit]]]]:
    """{path: (finding, its edits of that file)} for the findings with edits (``unsafe``: also
    the fixes that may change behaviour). An edit names its file when it is not the finding's."""
    out: Dict[str, List[Tuple[Finding, List[Edit]]]] = {}
    for f in findings:
        if f.edits and (unsafe or f.fix_safety == "safe"):
            by_path: Dict[str, List[Edit]] = {}
            for e in f.edits:
                by_path.setdefault(e.path or f.path, []).append(e)
            for path, edits in by_path.items():
                out.setdefault(path, []).append((f, edits))
    return out


def plan(findings: Iterable[Finding], cwd: Path, unsafe: bool) -> List[Tuple[Path, str, str, int, str]]:
    """(file, old text, new text, findings fixed, problem) per file with fixes; ``problem`` says
    why a file is left as it was (its fixed text would not parse, or it cannot be read)."""
    import libcst as cst

    out = []
    for display, found in sorted(fixable(findings, unsafe).items()):
        path = cwd / display
        try:
            old = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            out.append((path, "", "", 0, f"cannot read it: {exc}"))
            continue
        new, _n = apply_edits(old, [e for _f, edits in found for e in edits])
        try:
            cst.parse_module(new)
        except Exception as exc:  # libcst's ParserSyntaxError and friends: never write broken code
            out.append((path, old, old, 0, f"the fixed code would not parse ({type(exc).__name__}); left as it was"))
            continue
        out.append((path, old, new, len(found), ""))
    return out


def unified_diff(path: str, old: str, new: str) -> str:
    return "".join(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True), f"a/{path}", f"b/{path}"))
