"""Small pure helpers over libcst nodes: child iteration, dotted names, literal values."""
from __future__ import annotations

import dataclasses
from typing import Dict, Iterator, List, Optional, Tuple

import libcst as cst

_SKIP_PREFIXES = (
    "whitespace", "lpar", "rpar", "comma", "semicolon", "colon", "equal", "dot", "header",
    "footer", "leading_lines", "lines_after", "empty_lines", "newline", "indent", "trailing",
    "lbracket", "rbracket", "lbrace", "rbrace", "star", "asynchronous", "operator",
)
_FIELDS: Dict[type, Tuple[str, ...]] = {}


def child_fields(cls: type) -> Tuple[str, ...]:
    names = _FIELDS.get(cls)
    if names is None:
        names = tuple(f.name for f in dataclasses.fields(cls) if not f.name.startswith(_SKIP_PREFIXES))
        _FIELDS[cls] = names
    return names


_IS_NODE: Dict[type, bool] = {}


def _is_node_type(t: type) -> bool:
    # ``isinstance(x, cst.CSTNode)`` goes through ABCMeta on every call: cache per type (hot path)
    r = _IS_NODE.get(t)
    if r is None:
        r = _IS_NODE[t] = issubclass(t, cst.CSTNode)
    return r


def children(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Semantic children in source order (whitespace and punctuation skipped). Fast: no visitor."""
    known = _IS_NODE.get
    for name in child_fields(type(node)):
        value = getattr(node, name)
        t = type(value)
        if t is tuple or t is list:
            for item in value:
                r = known(type(item))
                if r or (r is None and _is_node_type(type(item))):
                    yield item
        else:
            r = known(t)
            if r or (r is None and _is_node_type(t)):
                yield value


_SCOPE_TYPES = frozenset((cst.FunctionDef, cst.Lambda, cst.ClassDef))


def walk(node: cst.CSTNode, into_functions: bool = True) -> Iterator[cst.CSTNode]:
    """Pre-order walk. With ``into_functions=False`` nested defs/lambdas/classes are yielded, not entered."""
    stack = [node]
    first = True
    while stack:
        current = stack.pop()
        yield current
        if not into_functions and not first and type(current) in _SCOPE_TYPES:
            continue
        first = False
        kids = list(children(current))
        kids.reverse()
        stack.extend(kids)


_STATEMENT_CONTAINERS = frozenset((
    cst.Module, cst.IndentedBlock, cst.SimpleStatementSuite, cst.SimpleStatementLine, cst.If, cst.Else,
    cst.For, cst.While, cst.Try, cst.TryStar, cst.ExceptHandler, cst.ExceptStarHandler, cst.Finally,
    cst.With, cst.FunctionDef, cst.ClassDef, cst.Match, cst.MatchCase,
))


def statements(root: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Pre-order walk of statements only (an import, an assignment, a def; the expressions, most
    of a tree, are not entered). Same order as :func:`walk`."""
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        if type(node) in _STATEMENT_CONTAINERS:
            kids = list(children(node))
            kids.reverse()
            stack.extend(kids)


def dotted(node: Optional[cst.CSTNode]) -> Optional[str]:
    """``a.b.c`` for a Name/Attribute chain, else None."""
    parts: List[str] = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if isinstance(node, cst.Name):
        parts.append(node.value)
        return ".".join(reversed(parts))
    return None


def call_target(func: cst.BaseExpression) -> Optional[str]:
    """What a call names: ``a.b.c`` (:func:`dotted`), or ``History.tasks`` for a method of an
    object made on the spot (``History().tasks(...)``, a capitalised callee: a class)."""
    name = dotted(func)
    if name is None and isinstance(func, cst.Attribute) and isinstance(func.value, cst.Call):
        made = dotted(func.value.func)
        if made and made.rsplit(".", 1)[-1][:1].isupper():
            return f"{made}.{func.attr.value}"
    return name


def root_name(node: Optional[cst.CSTNode]) -> Optional[str]:
    """The leftmost Name of an attribute/call/subscript chain (``a`` in ``a.b(c).d[0]``)."""
    while True:
        if isinstance(node, cst.Name):
            return node.value
        if isinstance(node, cst.Attribute):
            node = node.value
        elif isinstance(node, cst.Call):
            node = node.func
        elif isinstance(node, cst.Subscript):
            node = node.value
        elif isinstance(node, cst.Await):
            node = node.expression
        else:
            return None


def call_name(call: cst.Call) -> Optional[str]:
    """Last name of the callee (``filter`` in ``qs.filter(x)``, ``connect`` in ``connect()``)."""
    func = call.func
    if isinstance(func, cst.Attribute):
        return func.attr.value
    if isinstance(func, cst.Name):
        return func.value
    return None


def receiver(call: cst.Call) -> Optional[cst.BaseExpression]:
    """The object a method is called on (``qs`` in ``qs.filter()``), else None."""
    return call.func.value if isinstance(call.func, cst.Attribute) else None


def string_value(node: Optional[cst.CSTNode]) -> Optional[str]:
    """Value of a plain or implicitly concatenated string literal (no f-strings), else None."""
    if isinstance(node, cst.SimpleString):
        try:
            value = node.evaluated_value
        except Exception:  # pragma: no cover - libcst refuses odd literals
            return None
        return value if isinstance(value, str) else value.decode("latin-1")
    if isinstance(node, cst.ConcatenatedString):
        left, right = string_value(node.left), string_value(node.right)
        if left is None or right is None:
            return None
        return left + right
    return None


def literal(node: Optional[cst.CSTNode]):
    """Python value of a simple literal (str, int, float, True/False/None), else a sentinel."""
    s = string_value(node)
    if s is not None:
        return s
    if isinstance(node, cst.Integer):
        try:
            return int(node.value.replace("_", ""), 0)
        except ValueError:
            return NOT_LITERAL
    if isinstance(node, cst.Float):
        try:
            return float(node.value.replace("_", ""))
        except ValueError:
            return NOT_LITERAL
    if isinstance(node, cst.Name) and node.value in ("True", "False", "None"):
        return {"True": True, "False": False, "None": None}[node.value]
    return NOT_LITERAL


class _NotLiteral:
    def __repr__(self):
        return "NOT_LITERAL"

    def __bool__(self):
        return False


NOT_LITERAL = _NotLiteral()


def arg(call: cst.Call, position: Optional[int] = None, keyword: Optional[str] = None) -> Optional[cst.BaseExpression]:
    """An argument by position (ignoring keywords/stars) or keyword."""
    if keyword is not None:
        for a in call.args:
            if a.keyword is not None and a.keyword.value == keyword:
                return a.value
    if position is not None:
        positional = [a for a in call.args if a.keyword is None and not a.star]
        if position < len(positional):
            return positional[position].value
    return None


def target_names(target: cst.CSTNode) -> List[str]:
    """Names bound by an assignment/for target (tuples and starred flattened)."""
    if isinstance(target, cst.Name):
        return [target.value]
    if isinstance(target, (cst.Tuple, cst.List)):
        out: List[str] = []
        for el in target.elements:
            out.extend(target_names(el.value))
        return out
    if isinstance(target, cst.StarredElement):
        return target_names(target.value)
    return []


def decorator_names(node) -> List[str]:
    """Dotted text of each decorator, without call arguments (``app.get`` for ``@app.get("/")``)."""
    out = []
    for dec in getattr(node, "decorators", ()):
        expr = dec.decorator
        if isinstance(expr, cst.Call):
            expr = expr.func
        name = dotted(expr)
        if name:
            out.append(name)
    return out


def param_names(params: cst.Parameters) -> List[str]:
    out = [p.name.value for p in params.posonly_params]
    out += [p.name.value for p in params.params]
    if isinstance(params.star_arg, cst.Param):
        out.append(params.star_arg.name.value)
    out += [p.name.value for p in params.kwonly_params]
    if params.star_kwarg is not None:
        out.append(params.star_kwarg.name.value)
    return out


_MODULE = cst.Module(body=[])


def code(node: cst.CSTNode) -> str:
    """Source text of a node (whitespace normalised as libcst renders it)."""
    try:
        return _MODULE.code_for_node(node)
    except Exception:  # pragma: no cover
        return "<expr>"


def short(node: cst.CSTNode, limit: int = 60) -> str:
    """One-line source of a node, shortened for messages."""
    text = " ".join(code(node).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def falsy_literal(node) -> bool:
    """``False``, ``None`` or ``0`` written as a literal."""
    return (isinstance(node, cst.Name) and node.value in ("False", "None")) or (isinstance(node, cst.Integer) and node.value == "0")
