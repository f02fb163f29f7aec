"""``# querylint: ignore[QL101] -- reason`` and ``# noqa: QL101`` comments → suppression directives.

Pure: :func:`parse_suppressions` takes source text and returns directives per line.
"""
from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

_QL_RE = re.compile(
    r"querylint\s*:\s*(?P<kind>ignore-file|skip-file|ignore)(?:\[(?P<codes>[^\]]*)\])?(?:\s*--\s*(?P<reason>.*))?",
    re.IGNORECASE,
)
_NOQA_RE = re.compile(r"\bnoqa(?::\s*(?P<codes>[A-Z]+\d+(?:[\s,]+[A-Z]+\d+)*))?(?:\s*--\s*(?P<reason>.*))?", re.IGNORECASE)


@dataclass
class Directive:
    line: int
    column: int
    codes: Optional[Tuple[str, ...]]  # None = every rule
    reason: Optional[str]
    style: str  # "querylint" or "noqa"
    used: set = field(default_factory=set)

    def covers(self, codes: Tuple[str, ...]) -> bool:
        """Whether this directive silences a finding that answers to ``codes`` (its rule's code and aliases)."""
        return self.codes is None or any(code.startswith(c) for c in self.codes for code in codes)


@dataclass
class Suppressions:
    by_line: Dict[int, List[Directive]]
    file_codes: Optional[Tuple[str, ...]] = None  # ignore-file: None = nothing, () = everything
    file_wide: bool = False

    def match(self, codes: Tuple[str, ...], lines) -> Optional[Directive]:
        """The directive on one of ``lines`` that silences a finding answering to ``codes``."""
        for ln in lines:
            for d in self.by_line.get(ln, ()):
                if d.covers(codes):
                    d.used.update(codes)
                    return d
        return None

    def file_ignores(self, codes: Tuple[str, ...]) -> bool:
        if not self.file_wide:
            return False
        return not self.file_codes or any(code.startswith(c) for c in self.file_codes for code in codes)

    def directives(self) -> List[Directive]:
        return [d for ds in self.by_line.values() for d in ds]


def _split_codes(text: Optional[str]) -> Optional[Tuple[str, ...]]:
    if text is None:
        return None
    codes = tuple(c.strip().upper() for c in re.split(r"[\s,]+", text) if c.strip())
    return codes or None


def _comments(source: str) -> List[Tuple[int, int, str]]:
    try:
        return [
            (tok.start[0], tok.start[1] + 1, tok.string)
            for tok in tokenize.generate_tokens(io.StringIO(source).readline)
            if tok.type == tokenize.COMMENT
        ]
    except (tokenize.TokenError, SyntaxError, IndentationError):
        out = []
        for i, line in enumerate(source.splitlines(), 1):
            idx = line.find("#")
            if idx >= 0:
                out.append((i, idx + 1, line[idx:]))
        return out


def parse_suppressions(source: str, comments: Optional[List[Tuple[int, int, str]]] = None) -> Suppressions:
    """The directives of a Python file's comments (or of ``comments`` given as (line, column,
    text): a template's ``{# querylint: ignore[QL112] #}``)."""
    by_line: Dict[int, List[Directive]] = {}
    file_wide = False
    file_codes: Optional[Tuple[str, ...]] = None
    if "querylint" not in source and "noqa" not in source.lower():
        return Suppressions({})
    for line, col, comment in _comments(source) if comments is None else comments:
        body = comment.lstrip("#").strip()
        m = _QL_RE.search(body)
        if m:
            kind = m.group("kind").lower()
            codes = _split_codes(m.group("codes"))
            reason = (m.group("reason") or "").strip() or None
            if kind in ("ignore-file", "skip-file"):
                file_wide = True
                file_codes = tuple(codes or ())
            else:
                by_line.setdefault(line, []).append(Directive(line, col, codes, reason, "querylint"))
            continue
        m = _NOQA_RE.search(body)
        if m and (body.lower().startswith("noqa") or "# noqa" in comment.lower() or " noqa" in body.lower()):
            codes = _split_codes(m.group("codes"))
            reason = (m.group("reason") or "").strip() or None
            by_line.setdefault(line, []).append(Directive(line, col, codes, reason, "noqa"))
    return Suppressions(by_line, file_codes, file_wide)
