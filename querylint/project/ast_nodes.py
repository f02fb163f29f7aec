"""The helpers of :mod:`querylint.nodes`, over Python's ``ast`` (the fast facts pass).

Each mirrors its libcst namesake so that :mod:`querylint.project.ast_facts` gives exactly the
facts :mod:`querylint.project.facts` gives from libcst's tree of the same file. Where the two
trees differ, these helpers answer as libcst's tree would:

- :func:`children` and :func:`walk` go in the order libcst's fields do (a class's body before its
  bases, an ``except`` body before its type, a dict's keys and values pairwise, call arguments in
  source order, ``*args``/``**kwargs`` parameters not entered);
- ``True``/``False``/``None`` are names to libcst: :func:`dotted` and :func:`cst_names` say so;
- :func:`cst_names` gives every name libcst's walk meets as a ``Name`` node: attribute names,
  keyword names of calls, parameter and definition names too;
- :func:`code` is the node's source as libcst prints it: with the parentheses around it.
"""
from __future__ import annotations

import ast
import bisect
import keyword
import re
from typing import Any, Dict, Iterator, List, Optional, Sequence, Set, Tuple, cast

_NOT_NODES = (ast.expr_context, ast.operator, ast.boolop, ast.unaryop, ast.cmpop)
SCOPE_TYPES = frozenset((ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef))
FUNCTION_TYPES = (ast.FunctionDef, ast.AsyncFunctionDef)
CONSTANT_NAMES = {True: "True", False: "False", None: "None"}


def _pos(node: ast.AST) -> Tuple[int, int]:
    return (getattr(node, "lineno", 0), getattr(node, "col_offset", 0))


def call_args(call: ast.Call) -> List[Tuple[Optional[str], str, ast.expr]]:
    """(keyword, star, value) of each argument in source order, as libcst's ``Call.args``: star
    is ``""``, ``"*"`` or ``"**"``."""
    out: List[Tuple[Tuple[int, int], Optional[str], str, ast.expr]] = []
    for a in call.args:
        if isinstance(a, ast.Starred):
            out.append((_pos(a), None, "*", a.value))
        else:
            out.append((_pos(a), None, "", a))
    for k in call.keywords:
        out.append((_pos(k), k.arg, "" if k.arg is not None else "**", k.value))
    if call.keywords and call.args and any(isinstance(a, ast.Starred) for a in call.args):
        out.sort(key=lambda t: t[0])  # ``f(k=1, *rest)``: only a star may follow a keyword
    return [(kw, star, value) for _p, kw, star, value in out]


def _arguments_children(args: ast.arguments) -> Iterator[ast.AST]:
    # libcst: params, kwonly_params, posonly_params; each param's annotation then default; the
    # star parameters are not entered
    positional = list(args.posonlyargs) + list(args.args)
    defaults: List[Optional[ast.expr]] = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    paired = list(zip(positional, defaults))
    for a, d in paired[len(args.posonlyargs):]:
        yield a
        if d is not None:
            yield d
    for a, d in zip(args.kwonlyargs, args.kw_defaults):
        yield a
        if d is not None:
            yield d
    for a, d in paired[: len(args.posonlyargs)]:
        yield a
        if d is not None:
            yield d


def children(node: ast.AST) -> Iterator[ast.AST]:
    """Semantic children in libcst's field order (see the module's docstring)."""
    t = type(node)
    if t is ast.Call:
        yield node.func  # type: ignore[attr-defined]
        for _kw, _star, arg_value in call_args(node):  # type: ignore[arg-type]
            yield arg_value
        return
    if t is ast.Dict:
        for k, v in zip(node.keys, node.values):  # type: ignore[attr-defined]
            if k is not None:
                yield k
            yield v
        return
    if t is ast.ClassDef:
        yield from node.body  # type: ignore[attr-defined]
        yield from node.bases  # type: ignore[attr-defined]
        for k in node.keywords:  # type: ignore[attr-defined]
            yield k.value
        yield from node.decorator_list  # type: ignore[attr-defined]
        return
    if t is ast.ExceptHandler:
        yield from node.body  # type: ignore[attr-defined]
        if node.type is not None:  # type: ignore[attr-defined]
            yield node.type  # type: ignore[attr-defined]
        return
    if t is ast.arguments:
        yield from _arguments_children(node)  # type: ignore[arg-type]
        return
    if t is ast.arg:
        if node.annotation is not None:  # type: ignore[attr-defined]
            yield node.annotation  # type: ignore[attr-defined]
        return
    if t is ast.MatchCase if hasattr(ast, "MatchCase") else False:  # pragma: no cover - trivial
        pass
    for name in node._fields:
        value = getattr(node, name, None)
        if isinstance(value, list):
            for item in value:
                if isinstance(item, ast.AST) and not isinstance(item, _NOT_NODES):
                    yield item
        elif isinstance(value, ast.AST) and not isinstance(value, _NOT_NODES):
            yield value


def walk(node: ast.AST, into_functions: bool = True) -> Iterator[ast.AST]:
    """Pre-order walk. With ``into_functions=False`` nested defs/lambdas/classes are yielded, not entered."""
    stack = [node]
    first = True
    while stack:
        current = stack.pop()
        yield current
        if not into_functions and not first and type(current) in SCOPE_TYPES:
            continue
        first = False
        kids = list(children(current))
        kids.reverse()
        stack.extend(kids)


def walk_all(nodes, into_functions: bool = True) -> Iterator[ast.AST]:
    """:func:`walk` of a statement list as one block (libcst's ``IndentedBlock``): with
    ``into_functions=False`` a def in the list is yielded, not entered."""
    if not into_functions:
        yield from walk_list(nodes)
        return
    stack = list(nodes)
    stack.reverse()
    while stack:
        current = stack.pop()
        yield current
        kids = list(children(current))
        kids.reverse()
        stack.extend(kids)


# fields that hold no child node (``ctx``, operators) or no node at all: skipped by :func:`_walk_all`
_SKIP_FIELDS = frozenset({"ctx", "op", "ops", "type_comment", "is_async", "kind", "conversion", "level", "simple"})
_FIELDS: Dict[type, Tuple[str, ...]] = {}
_OWN_ORDER = frozenset({ast.Call, ast.Dict, ast.ExceptHandler, ast.ClassDef, ast.arguments, ast.arg})


def walk_list(stmts: Sequence[ast.AST]) -> List[ast.AST]:
    """``list(walk_all(stmts, False))``, faster: the same nodes in the same order (the nodes
    whose order libcst's fields set apart go through :func:`A.children`)."""
    out: List[ast.AST] = []
    append = out.append
    stack = list(stmts)
    stack.reverse()
    pop, extend, scopes, node_type = stack.pop, stack.extend, SCOPE_TYPES, ast.AST
    while stack:
        node = pop()
        append(node)
        t = type(node)
        if t in scopes:
            continue
        if t is ast.Call:  # the callee, then the arguments in source order (``A.call_args``)
            args, keywords = node.args, node.keywords  # type: ignore[attr-defined]
            if keywords and any(type(a) is ast.Starred for a in args):
                kids = [node.func] + [v for _k, _s, v in call_args(cast(ast.Call, node))]  # type: ignore[attr-defined]
            else:
                kids = [node.func] + [a.value if type(a) is ast.Starred else a for a in args] + [k.value for k in keywords]  # type: ignore[attr-defined]
        elif t in _OWN_ORDER:
            kids = list(children(node))
        else:
            fields = _FIELDS.get(t)
            if fields is None:
                fields = _FIELDS[t] = tuple(f for f in t._fields if f not in _SKIP_FIELDS)
            kids = []
            for f in fields:
                v = getattr(node, f, None)
                if type(v) is list:
                    kids.extend(x for x in v if isinstance(x, node_type))
                elif isinstance(v, node_type):
                    kids.append(v)
        kids.reverse()
        extend(kids)
    return out


def walk_node_list(node: ast.AST) -> List[ast.AST]:
    """``list(walk(node, False))``: ``node`` is entered even when it is a def or a lambda."""
    return [node] + walk_list(list(children(node)))


_WALKED: List[Any] = [None]  # (the function last asked about, its walk)


def body_walk(fn) -> List[ast.AST]:
    """The walk of ``fn``'s body (nested defs not entered) as a list, kept for the function last
    asked about (several analyses walk the same body one after the other)."""
    cached = _WALKED[0]
    if cached is None or cached[0] is not fn:
        cached = _WALKED[0] = (fn, walk_list(fn.body))
    return cached[1]


def cst_names(node: ast.AST, into_functions: bool = True) -> Iterator[str]:
    """The names libcst's walk of ``node`` meets as ``Name`` nodes, in its order: names, attribute
    names, keyword names of calls, ``True``/``False``/``None``, parameter and definition names."""
    for n in walk(node, into_functions):
        t = type(n)
        if t is ast.Name:
            yield n.id  # type: ignore[attr-defined]
        elif t is ast.Attribute:
            pass  # the attribute's name comes after its value: see below
        elif t is ast.Constant and n.value in CONSTANT_NAMES and (n.value is None or type(n.value) is bool):  # type: ignore[attr-defined]
            yield CONSTANT_NAMES[n.value]  # type: ignore[attr-defined]
        elif t is ast.arg:
            yield n.arg  # type: ignore[attr-defined]
        elif t in FUNCTION_TYPES or t is ast.ClassDef:
            yield n.name  # type: ignore[attr-defined]
        if t is ast.Call:
            yield from (k.arg for k in n.keywords if k.arg is not None)  # type: ignore[attr-defined]
        if t is ast.Attribute:
            yield n.attr  # type: ignore[attr-defined]


def dotted(node: Optional[ast.AST]) -> Optional[str]:
    """``a.b.c`` for a Name/Attribute chain, else None (``True``/``False``/``None`` are names)."""
    parts: List[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    if isinstance(node, ast.Constant) and (node.value is None or type(node.value) is bool):
        parts.append(CONSTANT_NAMES[node.value])
        return ".".join(reversed(parts))
    return None


def call_target(func: ast.AST) -> Optional[str]:
    """:func:`querylint.nodes.call_target`: ``a.b.c``, or ``History.tasks`` for ``History().tasks(...)``."""
    name = dotted(func)
    if name is None and isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call):
        made = dotted(func.value.func)
        if made and made.rsplit(".", 1)[-1][:1].isupper():
            return f"{made}.{func.attr}"
    return name


def is_name(node: Optional[ast.AST], name: Optional[str] = None) -> bool:
    """A libcst ``Name`` (``True``/``False``/``None`` included), with that name when given."""
    if isinstance(node, ast.Name):
        return name is None or node.id == name
    if isinstance(node, ast.Constant) and (node.value is None or type(node.value) is bool):
        return name is None or CONSTANT_NAMES[node.value] == name
    return False


def name_of(node: ast.AST) -> str:
    """The text of a node :func:`is_name` accepts."""
    return node.id if isinstance(node, ast.Name) else CONSTANT_NAMES[node.value]  # type: ignore[attr-defined]


def root_name(node: Optional[ast.AST]) -> Optional[str]:
    """The leftmost Name of an attribute/call/subscript chain (``a`` in ``a.b(c).d[0]``)."""
    while True:
        if is_name(node):
            return name_of(node)  # type: ignore[arg-type]
        if isinstance(node, ast.Attribute):
            node = node.value
        elif isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Subscript):
            node = node.value
        elif isinstance(node, ast.Await):
            node = node.value
        else:
            return None


def call_name(call: ast.Call) -> Optional[str]:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if is_name(func):
        return name_of(func)
    return None


def receiver(call: ast.Call) -> Optional[ast.expr]:
    return call.func.value if isinstance(call.func, ast.Attribute) else None


def is_string(node: Optional[ast.AST]) -> bool:
    """A plain string or bytes literal (libcst's ``SimpleString`` or ``ConcatenatedString``)."""
    return isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes))


def string_value(node: Optional[ast.AST]) -> Optional[str]:
    """Value of a plain or implicitly concatenated string literal (no f-strings), else None."""
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, str):
            return value
        if isinstance(value, bytes):
            return value.decode("latin-1")
    return None


class _NotLiteral:
    def __repr__(self):
        return "NOT_LITERAL"

    def __bool__(self):
        return False


NOT_LITERAL = _NotLiteral()


def literal(node: Optional[ast.AST]):
    """Python value of a simple literal (str, int, float, True/False/None), else a sentinel."""
    text = string_value(node)
    if text is not None:
        return text
    if isinstance(node, ast.Constant) and (node.value is None or type(node.value) in (bool, int, float)):
        return node.value
    return NOT_LITERAL


def arg(call: ast.Call, position: Optional[int] = None, keyword: Optional[str] = None) -> Optional[ast.expr]:
    """An argument by position (ignoring keywords/stars) or keyword."""
    if keyword is not None:
        for k in call.keywords:
            if k.arg == keyword:
                return k.value
    if position is not None:
        positional = [a for a in call.args if not isinstance(a, ast.Starred)]
        if position < len(positional):
            return positional[position]
    return None


def target_names(target: Optional[ast.AST]) -> List[str]:
    """Names bound by an assignment/for target (tuples and starred flattened)."""
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        out: List[str] = []
        for el in target.elts:
            out.extend(target_names(el))
        return out
    if isinstance(target, ast.Starred):
        return target_names(target.value)
    return []


def decorator_names(node) -> List[str]:
    """Dotted text of each decorator, without call arguments (``app.get`` for ``@app.get("/")``)."""
    out = []
    for expr in getattr(node, "decorator_list", ()):
        if isinstance(expr, ast.Call):
            expr = expr.func
        name = dotted(expr)
        if name:
            out.append(name)
    return out


def param_names(args: ast.arguments) -> List[str]:
    out = [a.arg for a in args.posonlyargs]
    out += [a.arg for a in args.args]
    if args.vararg is not None:
        out.append(args.vararg.arg)
    out += [a.arg for a in args.kwonlyargs]
    if args.kwarg is not None:
        out.append(args.kwarg.arg)
    return out


def falsy_literal(node) -> bool:
    """``False``, ``None`` or ``0`` written as a literal."""
    return isinstance(node, ast.Constant) and (node.value is None or node.value is False or (type(node.value) is int and node.value == 0))


def statement_body(node: ast.AST) -> List[ast.stmt]:
    return list(getattr(node, "body", ()) or ())


# ------------------------------------------------------------------------------- source text


class Source:
    """The text of the file being read, to print nodes as libcst does (:func:`code`)."""

    def __init__(self, text: str):
        self.text = text
        self.lines = _split_lines(text)
        self._starts: List[int] = []
        pos = 0
        for line in self.lines:
            self._starts.append(pos)
            pos += len(line)
        self._ascii = text.isascii()

    def offset(self, lineno: int, col: int) -> int:
        """Character offset of a (1-based line, UTF-8 byte column) position."""
        if lineno < 1 or lineno > len(self.lines):
            return len(self.text)
        line = self.lines[lineno - 1]
        if not self._ascii:
            col = len(line.encode("utf-8")[:col].decode("utf-8", "replace"))
        return self._starts[lineno - 1] + col

    def segment(self, node: ast.AST) -> Tuple[int, int]:
        start = self.offset(node.lineno, node.col_offset)  # type: ignore[attr-defined]
        end = self.offset(node.end_lineno, node.end_col_offset)  # type: ignore[attr-defined]
        return start, end


_OTHER_LINE_BREAKS = re.compile("[\v\f\x1c\x1d\x1e\x85\u2028\u2029]")


def _split_lines(text: str) -> List[str]:
    """Lines as ``ast`` counts them (``\\r\\n``, ``\\n`` and ``\\r`` end a line; a form feed does not)."""
    if not _OTHER_LINE_BREAKS.search(text):
        return text.splitlines(True)  # (the same lines, fast, when no other character ends one)
    out: List[str] = []
    start = 0
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "\n" or c == "\r":
            if c == "\r" and i + 1 < n and text[i + 1] == "\n":
                i += 1
            out.append(text[start : i + 1])
            start = i + 1
        i += 1
    if start < n:
        out.append(text[start:])
    return out


_CURRENT: List[Source] = []


def set_source(text: Optional[str]) -> None:
    """The file :func:`code` prints from (None when done)."""
    _CURRENT[:] = [Source(text)] if text is not None else []


_OPENERS_OF_CALLS = set("])}\"'")


def _owned_paren(text: str, before: int) -> bool:
    """Whether the ``(`` at ``before`` groups an expression (``return (x)``, ``= (a + b)``) rather
    than opening a call's arguments (``f(x)``)."""
    j = before - 1
    while j >= 0 and text[j] in " \t\\\r\n\f":
        j -= 1
    if j < 0:
        return True
    c = text[j]
    if c in _OPENERS_OF_CALLS:
        return False
    if c.isalnum() or c == "_" or not c.isascii():
        k = j
        while k >= 0 and (text[k].isalnum() or text[k] == "_" or not text[k].isascii()):
            k -= 1
        return keyword.iskeyword(text[k + 1 : j + 1])
    return True


def _comment_start(text: str, a: int, b: int) -> Optional[int]:
    """Where a comment starts in ``text[a:b]`` (one line), outside string literals; None if none."""
    quote = ""
    j = a
    while j < b:
        c = text[j]
        if quote:
            if c == "\\":
                j += 1
            elif text.startswith(quote, j):
                j += len(quote) - 1
                quote = ""
        elif c == "'" or c == '"':
            quote = c * 3 if text.startswith(c * 3, j) else c
            j += len(quote) - 1
        elif c == "#":
            return j
        j += 1
    return None


def _skip_back(text: str, i: int) -> int:
    """The last index at or before ``i`` that is not whitespace, a line continuation or a comment."""
    while i >= 0:
        c = text[i]
        if c in " \t\f\\":
            i -= 1
        elif c == "\n" or c == "\r":
            i -= 1  # the line before may end with a comment
            line_start = max(text.rfind("\n", 0, i + 1), text.rfind("\r", 0, i + 1)) + 1
            at = _comment_start(text, line_start, i + 1) if "#" in text[line_start : i + 1] else None
            if at is not None:
                i = at - 1
        else:
            return i
    return i


def _skip_forward(text: str, k: int) -> int:
    """The first index at or after ``k`` that is not whitespace, a line continuation or a comment."""
    n = len(text)
    while k < n:
        c = text[k]
        if c in " \t\r\n\f\\":
            k += 1
        elif c == "#":
            while k < n and text[k] not in "\r\n":
                k += 1
        else:
            return k
    return k


def code(node: ast.AST) -> str:
    """Source text of a node with its own parentheses, as libcst prints it."""
    if not _CURRENT or not hasattr(node, "lineno"):
        return "<expr>"
    start, end = _code_span(node)
    return _CURRENT[0].text[start:end]


def _code_span(node: ast.AST) -> Tuple[int, int]:
    src = _CURRENT[0]
    text = src.text
    start, end = src.segment(node)
    if type(node) is ast.GeneratorExp and text[start:start + 1] == "(" and not _owned_paren(text, start):
        start, end = start + 1, end - 1  # ``f(x for x in y)``: the call's parentheses
        while start < end and text[start] in " \t\r\n\f\\":
            start += 1
        while end > start and text[end - 1] in " \t\r\n\f\\":
            end -= 1
        return start, end
    while True:
        i = _skip_back(text, start - 1)
        k = _skip_forward(text, end)
        if i >= 0 and k < len(text) and text[i] == "(" and text[k] == ")" and _owned_paren(text, i):
            start, end = i, k + 1
        else:
            break
    return start, end


def code_in(node: ast.AST, stmt: ast.AST) -> str:
    """:func:`code` of a node of the statement ``stmt``, as libcst prints it on its own: the lines
    it continues inside brackets lose the indentation of the statement's block."""
    if not _CURRENT or not hasattr(node, "lineno"):
        return "<expr>"
    src = _CURRENT[0]
    start, end = _code_span(node)
    text = src.text[start:end]
    if "\n" not in text and "\r" not in text:
        return text
    head = src.lines[stmt.lineno - 1]  # type: ignore[attr-defined]
    indent = head[: len(head) - len(head.lstrip(" \t\f"))]
    if not indent:
        return text
    in_string: Set[int] = set()  # lines that begin inside a triple-quoted string
    for n in walk(node):
        if type(n) in (ast.Constant, ast.JoinedStr) and n.end_lineno > n.lineno and ('"""' in code(n) or "'''" in code(n)):  # type: ignore[attr-defined]
            in_string.update(range(n.lineno + 1, n.end_lineno + 1))  # type: ignore[attr-defined]
    first = bisect.bisect_right(src._starts, start)  # 1-based line of ``start``
    out: List[str] = []
    for i, line in enumerate(_split_lines(text)):
        if i and first + i not in in_string and line.startswith(indent) and not out[-1].rstrip("\r\n").endswith("\\"):
            line = line[len(indent):]
        out.append(line)
    return "".join(out)


def short(node: ast.AST, limit: int = 60) -> str:
    """One-line source of a node, shortened for messages."""
    text = " ".join(code(node).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def begins_line(node: ast.AST) -> bool:
    """Whether only whitespace comes before ``node`` on its logical line. The first statement of a
    block that begins its line is in libcst's ``IndentedBlock``; one after the colon
    (``class A: pass``, ``if x: y = 1``) is in a ``SimpleStatementSuite``."""
    if not _CURRENT or not hasattr(node, "lineno"):
        return True
    src = _CURRENT[0]
    text = src.text
    i = src.offset(node.lineno, node.col_offset) - 1  # type: ignore[attr-defined]
    while i >= 0:
        c = text[i]
        if c in " \t\f":
            i -= 1
            continue
        if c != "\n" and c != "\r":
            return False
        j = i - 1
        if c == "\n" and j >= 0 and text[j] == "\r":
            j -= 1
        if j >= 0 and text[j] == "\\":  # a backslash continues the line (not one in a comment)
            line_start = max(text.rfind("\n", 0, j), text.rfind("\r", 0, j)) + 1
            if "#" not in text[line_start:j] or _comment_start(text, line_start, j) is None:
                i = j - 1
                continue
        return True
    return True


def starts_with(node: ast.AST, prefix: str) -> bool:
    """Whether the source of ``node`` starts with ``prefix`` (``elif`` for an ``ast.If``)."""
    if not _CURRENT or not hasattr(node, "lineno"):
        return False
    src = _CURRENT[0]
    start = src.offset(node.lineno, node.col_offset)  # type: ignore[attr-defined]
    return src.text.startswith(prefix, start)


def import_attributes(node: ast.AST) -> List[ast.Attribute]:
    """The ``Attribute`` nodes libcst's walk meets in an ``import``/``from ... import`` (its
    dotted names are attribute chains there; ``ast`` keeps them as strings), in walk order:
    ``a.b.c`` gives ``a.b.c`` then ``a.b``. Made up (no positions): for names, not for source."""
    if type(node) is ast.Import:
        dotted_names = [a.name for a in node.names]  # type: ignore[attr-defined]
    elif type(node) is ast.ImportFrom:
        dotted_names = [node.module or ""]  # type: ignore[attr-defined]
    else:
        return []
    out: List[ast.Attribute] = []
    for name in dotted_names:
        parts = name.split(".")
        if len(parts) < 2:
            continue
        expr: ast.expr = ast.Name(id=parts[0], ctx=ast.Load())
        chain: List[ast.Attribute] = []
        for part in parts[1:]:
            expr = ast.Attribute(value=expr, attr=part, ctx=ast.Load())
            chain.append(expr)
        out.extend(reversed(chain))
    return out
