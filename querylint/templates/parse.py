"""Read Django and Jinja2 templates without running them: the tags and variable references
the N+1 analysis needs, with their positions.

One tolerant reader serves both languages (they share ``{% %}``, ``{{ }}`` and ``{# #}``).
It never fails on a tag it does not know: a tag with a matching ``end<tag>`` is a block, any
other is a statement whose arguments are not read. What it reads:

- blocks: ``for`` (with ``empty``/``else``), ``if``/``elif``/``else``, ``with``, ``block``,
  ``macro``, ``call``, ``filter``, ``set`` (Jinja's block form), ``cache`` ... and any tag
  closed by its ``end`` tag;
- statements: ``include``, ``extends``, ``set``, ``regroup``, ``url``, ``firstof``, ``cycle``;
- references in expressions: ``order.customer.name``, ``o.items.all|length``, ``o.items.count()``,
  ``|default:o.owner`` (Django filter arguments), with the filters applied after them.

``{% comment %}``, ``{% raw %}`` and ``{% verbatim %}`` hide what they enclose. Positions are
1-based lines and 0-based columns in the template file.

Bounded: the reader is linear in the file's length (one regex scan, then one pass over the
tags) and its nesting depth is capped; deeper blocks are read as flat statements.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple

MAX_DEPTH = 64

_TOKEN = re.compile(r"\{%-?\+?(?P<tag>.*?)[-+]?%\}|\{\{-?(?P<var>.*?)-?\}\}|\{#(?P<comment>.*?)#\}", re.DOTALL)

# tags that open a block, when the template closes them; and the tags that split one
_BRANCHES = {"else", "elif", "empty", "elseif", "plural", "pluralize"}
_HIDING = {"comment": "endcomment", "raw": "endraw", "verbatim": "endverbatim"}
# words of the expression languages that are not variables
_WORDS = {
    "and", "or", "not", "in", "is", "if", "else", "True", "False", "None", "true", "false", "none",
    "as", "with", "only", "by", "recursive", "ignore", "missing", "context", "without", "import", "from",
}


@dataclass(frozen=True)
class Ref:
    """A variable reference: ``parts`` (``("order", "customer", "name")``), where it starts, whether
    it is called (``x.count()``), and the filters applied to it (``("length",)``)."""

    parts: Tuple[str, ...]
    line: int
    column: int
    called: bool = False
    filters: Tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return ".".join(self.parts)


@dataclass
class Tag:
    """A ``{% name args %}`` tag; blocks hold their ``body`` (and ``branches``: ``else``/``empty``/
    ``elif`` with their own bodies)."""

    name: str
    args: str
    line: int
    column: int  # where ``args`` starts
    body: Optional[List["Item"]] = None
    branches: List["Tag"] = field(default_factory=list)
    end_line: int = 0


@dataclass
class Var:
    """A ``{{ expression }}`` output."""

    expr: str
    line: int
    column: int


Item = object  # Tag | Var


@dataclass
class Template:
    items: List[Item]
    comments: List[Tuple[int, int, str]]  # (line, column, text) of every {# #} comment


def _line_starts(text: str) -> List[int]:
    starts = [0]
    for m in re.finditer("\n", text):
        starts.append(m.end())
    return starts


def _position(starts: List[int], offset: int) -> Tuple[int, int]:
    lo, hi = 0, len(starts) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if starts[mid] <= offset:
            lo = mid
        else:
            hi = mid - 1
    return lo + 1, offset - starts[lo]


def parse_template(text: str) -> Template:
    """Read ``text`` (a Django or Jinja2 template) into its tags and outputs."""
    starts = _line_starts(text)
    flat: List[Item] = []
    comments: List[Tuple[int, int, str]] = []
    hiding: Optional[str] = None
    for m in _TOKEN.finditer(text):
        if m.group("comment") is not None:
            if hiding is None:
                line, col = _position(starts, m.start())
                comments.append((line, col, m.group("comment")))
            continue
        if m.group("tag") is not None:
            raw = m.group("tag")
            stripped = raw.strip()
            name, _, args = stripped.partition(" ")
            if hiding is not None:
                if name == hiding:
                    hiding = None
                continue
            if name in _HIDING:
                hiding = _HIDING[name]
                continue
            lead = len(raw) - len(raw.lstrip())
            line, col = _position(starts, m.start("tag") + lead + len(name) + 1)
            flat.append(Tag(name, args.strip(), line, col))
        elif hiding is None:
            raw = m.group("var")
            lead = len(raw) - len(raw.lstrip())
            line, col = _position(starts, m.start("var") + lead)
            flat.append(Var(raw.strip(), line, col))
    return Template(_nest(flat), comments)


def _nest(flat: List[Item]) -> List[Item]:
    """Group the flat tags into blocks: a tag opens a block when its ``end`` tag follows."""
    names = {t.name for t in flat if isinstance(t, Tag)}
    openers = {n for n in names if "end" + n in names}
    root: List[Item] = []
    stack: List[Tuple[Tag, List[Item]]] = []  # (block tag, the body items go to now)
    for it in flat:
        target = stack[-1][1] if stack else root
        if not isinstance(it, Tag):
            target.append(it)
            continue
        n = it.name
        if n.startswith("end") and stack and stack[-1][0].name == n[3:]:
            stack[-1][0].end_line = it.line
            stack.pop()
            continue
        if n.startswith("end") and any(t.name == n[3:] for t, _ in stack):
            # close the blocks left open inside (a stray or unknown tag among them)
            while stack and stack[-1][0].name != n[3:]:
                stack.pop()
            stack[-1][0].end_line = it.line
            stack.pop()
            continue
        if n in _BRANCHES and stack:
            branch_body: List[Item] = []
            stack[-1][0].branches.append(Tag(n, it.args, it.line, it.column, body=branch_body))
            stack[-1] = (stack[-1][0], branch_body)
            continue
        target.append(it)
        if n in openers and not (n == "set" and "=" in it.args) and len(stack) < MAX_DEPTH:
            it.body = []
            stack.append((it, it.body))
    return root


# ------------------------------------------------------------------------------- expressions

_EXPR_TOKEN = re.compile(
    r"""(?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')"""
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\s*\.\s*[A-Za-z_0-9][A-Za-z0-9_]*)*)"
    r"|(?P<num>\d[\d.]*)"
    r"|(?P<op>\|\s*[A-Za-z_][A-Za-z0-9_]*|[()\[\]:,=.]|[^\s\w])",
)


def refs(expr: str, line: int, column: int) -> List[Ref]:
    """The variable references in an expression (a Django or Jinja2 one) at (line, column)."""
    out: List[Ref] = []
    tokens = list(_EXPR_TOKEN.finditer(expr))
    prev: Optional[str] = None  # the previous significant token's text
    i = 0
    while i < len(tokens):
        m = tokens[i]
        kind = m.lastgroup
        text = m.group()
        if kind == "name" and prev not in (".", "is") and not (prev or "").startswith("|"):
            parts = tuple(p.strip() for p in text.split("."))
            if parts[0] not in _WORDS and not parts[0][0].isdigit() and not (i + 1 < len(tokens) and tokens[i + 1].group() == "="
                                                                             and (i + 2 >= len(tokens) or tokens[i + 2].group() != "=")):
                called = i + 1 < len(tokens) and tokens[i + 1].group() == "("
                filters = _filters_after(tokens, i + 1)
                ln, col = _offset(expr, m.start(), line, column)
                out.append(Ref(parts, ln, col, called, filters))
        prev = text if kind != "str" else '""'
        i += 1
    return out


def _filters_after(tokens: Sequence[re.Match], j: int) -> Tuple[str, ...]:
    out = []
    depth = 0
    while j < len(tokens):
        t = tokens[j].group()
        if t == "(":
            depth += 1
        elif t == ")":
            if depth == 0:
                break
            depth -= 1
        elif depth == 0 and t.startswith("|"):
            out.append(t[1:].strip())
        elif depth == 0 and tokens[j].lastgroup == "name" and t in ("and", "or", "if", "else", "in", "not", "is"):
            break
        elif depth == 0 and t == ",":
            break
        j += 1
    return tuple(out)


def _offset(expr: str, pos: int, line: int, column: int) -> Tuple[int, int]:
    before = expr[:pos]
    nl = before.count("\n")
    if nl:
        return line + nl, pos - before.rfind("\n") - 1
    return line, column + pos


def split_top(text: str, sep: str) -> Optional[Tuple[str, str, int]]:
    """``text`` split at the first ``sep`` word outside strings and brackets: (left, right, offset of right)."""
    depth = 0
    quote = ""
    i = 0
    pat = re.compile(r"\s" + re.escape(sep) + r"\s")
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = ""
        elif c in "\"'":
            quote = c
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif depth == 0:
            m = pat.match(text, i)
            if m:
                return text[:i], text[m.end():], m.end()
        i += 1
    return None


def names_of(text: str) -> Tuple[str, ...]:
    """Loop targets: ``a`` / ``a, b`` / ``(a, b)``."""
    return tuple(n for n in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text))


def string_literals(text: str) -> List[str]:
    return [m.group()[1:-1] for m in re.finditer(r""""(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'""", text)]


_ASSIGN = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*=(?!=)\s*")


def assignments(text: str) -> List[Tuple[str, str, int]]:
    """``a=b c=d`` (Django) or ``a=b, c=d`` (Jinja): (name, expression, offset of the expression)."""
    out = []
    found = list(_ASSIGN.finditer(text))
    for k, m in enumerate(found):
        end = found[k + 1].start() if k + 1 < len(found) else len(text)
        value = text[m.end():end].rstrip().rstrip(",").rstrip()
        if value:
            out.append((m.group(1), value, m.end()))
    return out

