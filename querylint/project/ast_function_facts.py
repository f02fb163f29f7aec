"""The function-level analyses of :mod:`querylint.project.facts`, over Python's ``ast``.

Each function mirrors its namesake in ``facts.py`` (and ``scope.py`` for the memo guard and
failure handlers) and gives exactly the same answer for the same source. The arguments are the
``ast`` nodes that stand for libcst's (see :mod:`querylint.project.ast_facts`). Where the trees
differ these answer as libcst's tree would: ``True``/``False``/``None`` are names; a starred
element stands for its expression (libcst's ``element.value``); an f-string written next to other
literals is libcst's ``ConcatenatedString``; a block's simple statements are grouped by line
(libcst's ``SimpleStatementLine``, see :func:`_lines`).
"""
from __future__ import annotations

import ast
import io
import tokenize
from typing import Any, Dict, FrozenSet, Iterator, List, Optional, Sequence, Set, Tuple, cast

from querylint.project import ast_nodes as A
from querylint.project.facts import (
    ALWAYS_RUN,
    BUILTIN_NAMES,
    DOUBLED,
    EVALUATORS,
    KEEPING_CALLS,
    LISTEN_METHODS,
    MANAGER_READS,
    MAX_PARAM_READS,
    MEMO_DECORATOR_WORDS,
    PLACEHOLDER_ELT,
    PUNCTUATION,
    RETRY_NAME,
    SAFE_ATTR_SUFFIXES,
    SQL_LIBRARIES,
    SQL_SINK_NAMES,
    Resolver,
    is_record_key,
)
from querylint.scope import FILLS, FRESH_CONTAINERS, KEY_HELPERS, MISS_EXCEPTIONS

Bound = Dict[str, List[Tuple[str, Optional[ast.expr]]]]
Targets = Dict[int, Tuple[ast.Call, str]]

_FOR = frozenset({ast.For, ast.AsyncFor})
_SEQUENCES = frozenset({ast.Tuple, ast.List, ast.Set})
_COMPOUND = frozenset({
    ast.If, ast.For, ast.AsyncFor, ast.While, ast.Try, ast.With, ast.AsyncWith, ast.FunctionDef,
    ast.AsyncFunctionDef, ast.ClassDef,
} | {getattr(ast, n) for n in ("TryStar", "Match") if hasattr(ast, n)})
_RETURNED_CALLS_NODES = frozenset({
    ast.Assign, ast.AnnAssign, ast.AugAssign, ast.For, ast.AsyncFor, ast.NamedExpr, ast.withitem,
    ast.Global, ast.Nonlocal, ast.Return,
})
_CONSTANT_LOOP_NODES = frozenset({
    ast.Assign, ast.AnnAssign, ast.AugAssign, ast.For, ast.AsyncFor, ast.NamedExpr, ast.withitem, ast.comprehension,
})
_OWN_STOP = frozenset({ast.For, ast.AsyncFor, ast.While, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda})
_FSTRING_START = getattr(tokenize, "FSTRING_START", -1)
_FSTRING_END = getattr(tokenize, "FSTRING_END", -1)


# ------------------------------------------------------------------------------ tree helpers


def _element(node: ast.expr) -> ast.expr:
    """libcst's ``element.value``: a starred element's own expression."""
    return node.value if type(node) is ast.Starred else node  # type: ignore[attr-defined]


def _concatenated(node: Optional[ast.AST]) -> bool:
    """An f-string written next to other string literals (``"a" f"{b}"``): libcst's
    ``ConcatenatedString`` where ``ast`` has one ``JoinedStr``."""
    if type(node) is not ast.JoinedStr:
        return False
    count = depth = 0
    try:
        for tok in tokenize.generate_tokens(io.StringIO(A.code(node)).readline):
            if tok.type == _FSTRING_END:
                depth -= 1
            elif (tok.type == tokenize.STRING or tok.type == _FSTRING_START) and depth == 0:
                count += 1
            if tok.type == _FSTRING_START:
                depth += 1
    except (tokenize.TokenError, SyntaxError):  # pragma: no cover - the source parsed
        return False
    return count > 1


def _lines(stmts: Sequence[ast.stmt]) -> List[Any]:
    """A block's statements as libcst holds them: a compound statement alone, the simple
    statements of one line (``a = 1; b = 2``) together in a list (a ``SimpleStatementLine``)."""
    out: List[Any] = []
    prev: Optional[ast.stmt] = None
    for s in stmts:
        if type(s) in _COMPOUND:
            out.append(s)
            prev = None
            continue
        if prev is not None and prev.end_lineno == s.lineno:
            out[-1].append(s)
        else:
            out.append([s])
        prev = s
    return out


def _indented_lines(stmts: Sequence[ast.stmt]) -> List[Any]:
    """:func:`_lines` of a block written on its own lines (libcst's ``IndentedBlock``); empty for a
    suite after the colon (``def f(): return 1``)."""
    return _lines(stmts) if stmts and A.begins_line(stmts[0]) else []


def _bound_names(node: ast.AST) -> List[str]:
    """The names a binding node (assignment, ``for``, ``with`` item, walrus) binds."""
    t = type(node)
    if t is ast.Assign:
        targets: List[Any] = list(node.targets)  # type: ignore[attr-defined]
    elif t is ast.withitem:
        targets = [node.optional_vars] if node.optional_vars is not None else []  # type: ignore[attr-defined]
    else:
        targets = [getattr(node, "target", None)]
    return [name for tt in targets if tt is not None for name in A.target_names(tt)]


# ---------------------------------------------------------------------------- what is returned


def _is_slice(node: Optional[ast.AST]) -> bool:
    if type(node) is not ast.Subscript:
        return False
    s = node.slice  # type: ignore[attr-defined]
    return type(s) is ast.Slice or (type(s) is ast.Tuple and any(type(e) is ast.Slice for e in s.elts))


def hands_out_slices(fn) -> bool:
    """Every ``yield`` gives a slice of a sequence, or every ``return`` a comprehension of slices
    (a chunking helper such as ``split_ids(ids)``)."""
    outs: List[Optional[ast.AST]] = []
    kinds = set()
    for node in A.body_walk(fn):
        t = type(node)
        if t is ast.Yield or t is ast.YieldFrom or t is ast.Return:
            kinds.add(ast.Return if t is ast.Return else ast.Yield)
            outs.append(None if t is ast.YieldFrom else node.value)  # type: ignore[attr-defined]
    if not outs or len(kinds) != 1:
        return False
    if kinds == {ast.Yield}:
        return all(_is_slice(v) for v in outs)
    return all(isinstance(v, (ast.ListComp, ast.GeneratorExp)) and _is_slice(v.elt) for v in outs)


def _returns_and_binds(fn) -> Tuple[List[ast.Return], Bound, Set[str]]:
    """The returns of ``fn``, what each local name (or ``self.x``) is bound to, the shared names."""
    returns: List[ast.Return] = []
    bound: Bound = {}
    shared: Set[str] = set()
    for node in A.body_walk(fn):
        t = type(node)
        if t not in _RETURNED_CALLS_NODES:
            continue
        if t is ast.Global or t is ast.Nonlocal:
            shared.update(node.names)  # type: ignore[attr-defined]
        elif t is ast.Return:
            returns.append(cast(ast.Return, node))
        elif t is ast.Assign and len(node.targets) == 1 and type(node.targets[0]) is ast.Name:  # type: ignore[attr-defined]
            bound.setdefault(node.targets[0].id, []).append(("value", node.value))  # type: ignore[attr-defined]
        elif t is ast.Assign and len(node.targets) == 1 and _self_attr(node.targets[0]):  # type: ignore[attr-defined]
            bound.setdefault(A.code(node.targets[0]), []).append(("value", node.value))  # type: ignore[attr-defined]
        elif t is ast.withitem and type(node.optional_vars) is ast.Name:  # type: ignore[attr-defined]
            bound.setdefault(node.optional_vars.id, []).append(("with", node.context_expr))  # type: ignore[attr-defined]
        else:
            for name in _bound_names(node):
                bound.setdefault(name, []).append(("value", None))
    return returns, bound, shared


def returned_calls(fn, resolver: Resolver) -> Tuple[Tuple[str, str], ...]:
    """(callee, shape) of what every ``return`` of ``fn`` gives (see ``facts.returned_calls``)."""
    if any(w in d.lower() for d in A.decorator_names(fn) for w in MEMO_DECORATOR_WORDS):
        return ()
    returns, bound, shared = _returns_and_binds(fn)
    out: List[Tuple[str, str]] = []
    for ret in returns:
        value: Any = ret.value
        if value is None or A.is_name(value, "None"):
            continue  # ``if not dsn: return None``
        shape = "value"
        if type(value) is ast.Tuple and value.elts:
            value, shape = _element(value.elts[0]), "first"
        if A.is_name(value):
            name = A.name_of(value)
            # ``conn = None`` before a retry loop or a ``try`` is a placeholder, not what is handed out
            binds = [b for b in bound.get(name, []) if not A.is_name(b[1], "None")]
            if len(binds) > 1 and _same_opener(binds):
                binds = binds[:1]
            if name in shared or len(binds) != 1 or binds[0][1] is None:
                return ()
            how, value = binds[0][0], binds[0][1]
            if how == "with":
                if shape == "first":
                    return ()
                shape = "with"
        if type(value) is ast.Await:
            value = value.value
        if type(value) is ast.Call and A.call_name(value) == "cast" and len(value.args) + len(value.keywords) == 2:
            value = A.call_args(value)[1][2]  # ``typing.cast(Session, make())`` is ``make()``
        if type(value) is not ast.Call:
            return ()
        value = _wrapped_call(value, bound) if shape == "value" else value
        factory = _called_factory(value.func, bound)
        if factory is not None and shape == "value":
            value, shape = factory, "self-product" if _self_attr(value.func) else "product"
        func = value.func
        if type(func) is ast.Attribute and type(func.value) is ast.Call and (A.is_name(func.value.func) or type(func.value.func) is ast.Attribute):
            made = A.dotted(func.value.func)  # ``return SessionManager().make_session(engine)``
            if made and made.split(".")[-1][:1].isupper() and shape == "value":
                out.append((f"{resolver.qualify(made) or made}.{func.attr}", "fresh"))
                continue
        got = _returned_target(value, shape, resolver)
        if got is None:
            return ()
        out.append(got)
    return tuple(dict.fromkeys(out))


def _returned_target(value: ast.Call, shape: str, resolver: Resolver) -> Optional[Tuple[str, str]]:
    """(callee, shape) of a returned call, or None when it cannot be what the caller owns."""
    if not (A.is_name(value.func) or type(value.func) is ast.Attribute):
        return None
    target = A.dotted(value.func)
    if target and target.startswith("self.") and target.count(".") == 2 and target.endswith((".getconn", ".acquire")):
        return target, "self-checkout"  # ``return self.pool.getconn()``
    if not target or target.split(".")[0] in ("self", "cls"):
        return None
    first = A.string_value(A.arg(value, 0))
    if first is not None and (":memory:" in first or first.rstrip("/") in ("sqlite:", "sqlite+pysqlite:", "sqlite+aiosqlite:")):
        return None  # an in-memory database holds no server connection
    return resolver.qualify(target) or target, shape


def _wrapped_call(value: ast.Call, bound: Bound) -> ast.Call:
    """``return ConnectionPlus(sqlite3_conn)`` with ``sqlite3_conn = sqlite3.connect(...)``: the
    inner call is what the function returns. Anything else is ``value`` itself."""
    positional = [a for a in value.args if type(a) is not ast.Starred]
    last = (A.dotted(value.func) or "").rsplit(".", 1)[-1]
    if len(positional) != 1 or not last[:1].isupper():
        return value
    inner: Any = positional[0]
    if A.is_name(inner):
        binds = bound.get(A.name_of(inner), [])
        inner = binds[0][1] if len(binds) == 1 and binds[0][0] == "value" and binds[0][1] is not None else inner
    if type(inner) is ast.Await:
        inner = inner.value
    return inner if type(inner) is ast.Call and (A.is_name(inner.func) or type(inner.func) is ast.Attribute) else value


def _same_opener(binds: List[Tuple[str, Optional[ast.expr]]]) -> bool:
    """Every binding of the returned name calls the same function, as a plain value."""
    funcs = {A.dotted(v.func) if type(v) is ast.Call and how == "value" else None for how, v in binds}  # type: ignore[union-attr]
    return len(funcs) == 1 and None not in funcs


def _self_attr(node: ast.AST) -> bool:
    return type(node) is ast.Attribute and type(node.value) is ast.Name and node.value.id == "self"  # type: ignore[attr-defined]


def _called_factory(func: ast.expr, bound: Bound) -> Optional[ast.Call]:
    """The call that built the callable ``func``: ``sessionmaker(...)`` in ``sessionmaker(...)()``
    or in ``maker()`` after ``maker = sessionmaker(...)`` (bound once; ``self.x`` too)."""
    if type(func) is ast.Call:
        return cast(ast.Call, func)
    if A.is_name(func) or _self_attr(func):
        binds = bound.get(A.code(func), [])
        if len(binds) == 1 and binds[0][0] == "value" and type(binds[0][1]) is ast.Call:
            return cast(ast.Call, binds[0][1])
    return None


# ------------------------------------------------------------------------------ calls and loops


def followed(targets: Targets, imports) -> Targets:
    """The calls ``loop_calls``/``param_calls`` keep: a method of the class, an imported name or a
    bare name that is not a builtin; not a method of a local value (``rows.append``)."""
    out = {}
    for key, (call, target) in targets.items():
        written = cast(str, A.call_target(call.func))
        head = written.split(".")[0]
        if head in ("self", "cls") or head in imports or ("." not in written and written not in BUILTIN_NAMES):
            out[key] = (call, target)
    return out


def calls_given_params(targets: Targets, params) -> Tuple[Tuple[str, Tuple[str, ...]], ...]:
    """See ``FunctionFacts.param_calls``."""
    out: Dict[str, Tuple[str, ...]] = {}
    for call, target in targets.values():
        given = tuple(
            v.id for _k, _s, v in A.call_args(call)  # type: ignore[attr-defined]
            if type(v) is ast.Name and v.id in params and v.id not in ("self", "cls")  # type: ignore[attr-defined]
        )
        if given:
            out[target] = tuple(dict.fromkeys(out.get(target, ()) + given))
    return tuple(out.items())


def retry_only_calls(loops, targets: Targets) -> Tuple[str, ...]:
    """See ``FunctionFacts.retry_only_calls``."""
    inside: Set[int] = set()
    for loop in loops:
        t = type(loop)
        if t is ast.While:
            names = list(A.cst_names(loop.test))
        elif t in _FOR and type(loop.iter) is ast.Call and A.call_name(loop.iter) == "range":
            names = A.target_names(loop.target)
        else:
            continue
        if any(RETRY_NAME.match(n) for n in names):
            inside.update(id(n) for n in A.walk_list(loop.body) if type(n) is ast.Call)
    return _only_inside(inside, targets)


def _only_inside(inside: Set[int], targets: Targets) -> Tuple[str, ...]:
    """The call targets made only by the calls in ``inside`` (ids), never elsewhere."""
    if not inside:
        return ()
    there = {t for k, (_, t) in targets.items() if k in inside}
    elsewhere = {t for k, (_, t) in targets.items() if k not in inside}
    return tuple(sorted(there - elsewhere))


def failure_handler(handler: ast.ExceptHandler) -> bool:
    """``scope.failure_handler``: an ``except`` for a failure of outside work (a bare ``except:``
    too), not for a missing key or row, which is ordinary control flow."""
    if handler.type is None:
        return True
    kinds = handler.type.elts if type(handler.type) is ast.Tuple else [handler.type]  # type: ignore[attr-defined]
    names = [A.dotted(k) or "" for k in kinds]
    return all(n and not MISS_EXCEPTIONS.search(n) for n in names)


def failure_only_calls(fn, targets: Targets) -> Tuple[str, ...]:
    """See ``FunctionFacts.failure_calls``."""
    inside: Set[int] = set()
    for node in A.body_walk(fn):
        if type(node) is ast.Try:
            for handler in node.handlers:  # type: ignore[attr-defined]
                if failure_handler(handler):
                    inside.update(id(n) for n in A.walk_list(handler.body) if type(n) is ast.Call)
    return _only_inside(inside, targets)


def _flag_test(test: ast.AST, params: FrozenSet[str], negated: bool) -> Optional[str]:
    """``facts._flag_test``."""
    if negated:
        if not (type(test) is ast.UnaryOp and type(test.op) is ast.Not):  # type: ignore[attr-defined]
            return None
        test = test.operand  # type: ignore[attr-defined]
    return test.id if type(test) is ast.Name and test.id in params else None  # type: ignore[attr-defined]


def flag_only_calls(fn, targets: Targets, flag_ifs, params: FrozenSet[str]) -> Tuple[Tuple[str, str, bool], ...]:
    """See ``FunctionFacts.flag_calls``."""
    if not targets or not params:
        return ()
    regions: List[Tuple[str, List[ast.AST]]] = [(node.test.id, list(node.body)) for node in flag_ifs]
    stmts = list(fn.body)
    for i, stmt in enumerate(stmts):
        flag = _flag_test(stmt.test, params, True) if type(stmt) is ast.If and not stmt.orelse else None  # type: ignore[attr-defined]
        if flag is not None and all(type(s) is ast.Return for s in stmt.body):  # type: ignore[attr-defined]
            regions.append((flag, stmts[i + 1:]))
            break
    for node in A.body_walk(fn):
        if type(node) is ast.IfExp:
            flag = _flag_test(node.test, params, False)  # type: ignore[attr-defined]
            if flag is not None:
                regions.append((flag, [node.body]))  # type: ignore[attr-defined]
    if not regions:
        return ()
    guards: Dict[int, str] = {}
    for flag, nodes in regions:
        for n in A.walk_list(nodes):
            if type(n) is ast.Call:
                guards.setdefault(id(n), flag)
    flags: Dict[str, Optional[str]] = {}
    for k, (_, t) in targets.items():
        f = guards.get(k)
        flags[t] = f if flags.get(t, f) == f else None
    return tuple(sorted((t, f, _falsy_default(fn, f)) for t, f in flags.items() if f is not None))


def _per_item_nodes(loop: Any) -> Optional[Tuple[str, Set[str], List[ast.AST]]]:
    """(kind, names bound per item, nodes run per item) of a per-item loop, None for another."""
    t = type(loop)
    if t in _FOR:
        if _fixed_iterable(loop.iter):
            return None
        return "for", set(A.target_names(loop.target)), list(A.walk_list(loop.body))
    if t is ast.While:
        if any(type(n) is ast.Break or _listens_in(n) for n in _own_statements(loop.body)):
            return None  # a retry or a search; a reconnect loop whose pass listens until it fails
        return "while", set(), list(A.walk_list(loop.body))
    comp = loop.generators[0]
    if _fixed_iterable(comp.iter):
        return None
    parts = [loop.key, loop.value] if t is ast.DictComp else [loop.elt]
    parts += list(comp.ifs) + list(loop.generators[1:])  # libcst's ``inner_for_in``: the next clauses
    return "for", set(A.target_names(comp.target)), [n for part in parts for n in A.walk_node_list(part)]


def per_item_calls(loops, targets: Targets):
    """The calls each per-item loop makes on every pass (see ``FunctionFacts.loop_calls``)."""
    out: Dict[Tuple[str, str], Tuple[Set[int], Set[str]]] = {}
    for loop in loops:
        got = _per_item_nodes(loop)
        if got is None:
            continue
        kind, names, nodes = got
        for n in nodes:  # names rebound per pass change per item too
            t = type(n)
            if t is ast.Assign:
                for tt in n.targets:  # type: ignore[attr-defined]
                    names.update(A.target_names(tt))
            elif t is ast.AugAssign or t is ast.AnnAssign or t in _FOR or t is ast.comprehension:
                names.update(A.target_names(n.target))  # type: ignore[attr-defined]
        for n in nodes:
            found = targets.get(id(n)) if type(n) is ast.Call else None
            if found is None:
                continue
            positions, keywords = out.setdefault((found[1], kind), (set(), set()))
            for i, (kw, _star, value) in enumerate(A.call_args(cast(ast.Call, n))):
                if any(x in names for x in A.cst_names(value)):
                    if kw is not None:
                        keywords.add(kw)
                    else:
                        positions.add(i)
    return tuple((t, k, tuple(sorted(p)), tuple(sorted(kw))) for (t, k), (p, kw) in out.items())


def _literal_iterable(node: Optional[ast.AST]) -> bool:
    """libcst's ``List``/``Tuple``/``Set``/``Dict``/``SimpleString``/``ConcatenatedString``."""
    return type(node) in (ast.List, ast.Tuple, ast.Set, ast.Dict) or A.is_string(node) or _concatenated(node)


def _fixed_iterable(node: ast.AST) -> bool:
    """A literal collection or string, ``range(...)``, or ``enumerate``/``sorted`` of a literal."""
    if _literal_iterable(node):
        return True
    if type(node) is not ast.Call:
        return False
    call = cast(ast.Call, node)
    name = A.call_name(call)
    return name == "range" or (name in ("enumerate", "sorted", "reversed") and bool(call.args or call.keywords) and _literal_iterable(A.call_args(call)[0][2]))


def _listens_in(node: ast.AST) -> bool:
    """``for message in pubsub.listen():`` or a nested ``while True:``: the pass does not end."""
    if type(node) in _FOR:
        return type(node.iter) is ast.Call and A.call_name(node.iter) in LISTEN_METHODS  # type: ignore[attr-defined,operator]
    return type(node) is ast.While and A.code(node.test).strip() in ("True", "1")  # type: ignore[attr-defined]


def _own_statements(body: List[ast.stmt]) -> Iterator[ast.AST]:
    """The nodes of a loop body outside nested loops and functions (a ``break`` there ends this loop)."""
    stack: List[ast.AST] = list(body)
    while stack:
        n = stack.pop()
        yield n
        if type(n) not in _OWN_STOP:
            stack.extend(A.children(n))


def sql_argument(call: ast.Call, params, imports: Dict[str, str], resolver: Resolver):
    """``facts._sql_argument``: ([the parameter]) passed on to a sink as its SQL unchanged, or
    ([(the imported name, the callee)]) for ``cur.execute(queries.ALL)``; empty lists otherwise."""
    sql_arg = A.arg(call, 0)
    named = A.is_name(sql_arg)
    if not (named or type(sql_arg) is ast.Attribute):
        return [], []
    if named and A.name_of(cast(ast.expr, sql_arg)) in params and A.call_name(call) in SQL_SINK_NAMES:
        func = call.func
        if A.is_name(func) and A.name_of(func) in imports and imports[A.name_of(func)].split(".")[0] not in SQL_LIBRARIES | {resolver.module.split(".")[0]}:
            return [], []  # ``from tagflow import text``: a heading's text, not a statement
        return [A.name_of(cast(ast.expr, sql_arg))], []
    dotted = A.dotted(sql_arg)
    callee = A.dotted(call.func)
    if not (dotted and callee and dotted.split(".")[0] in imports):
        return [], []
    if callee.split(".")[0] not in ("self", "cls"):
        callee = resolver.qualify(callee) or callee
    return [], [(resolver.qualify(dotted) or dotted, callee)]


# ------------------------------------------------------------------------- kept and returned


def _held(expr: Optional[ast.AST], into: Set[str], names: Set[str]) -> None:
    """The names an expression's value is (or contains), not what it is computed from."""
    if expr is None:
        return
    t = type(expr)
    if t is ast.Name:
        if expr.id in names:  # type: ignore[attr-defined]
            into.add(expr.id)  # type: ignore[attr-defined]
    elif t in _SEQUENCES:
        for el in expr.elts:  # type: ignore[attr-defined]
            _held(_element(el), into, names)
    elif t is ast.Dict:
        for v in expr.values:  # type: ignore[attr-defined]
            _held(v, into, names)
    elif t is ast.IfExp:
        _held(expr.body, into, names)  # type: ignore[attr-defined]
        _held(expr.orelse, into, names)  # type: ignore[attr-defined]
    elif t is ast.BoolOp:
        for v in expr.values:  # type: ignore[attr-defined]
            _held(v, into, names)
    elif t is ast.Await or t is ast.NamedExpr:
        _held(expr.value, into, names)  # type: ignore[attr-defined]
    elif t is ast.Call and keeps_args(cast(ast.Call, expr)):
        for _k, _s, v in A.call_args(cast(ast.Call, expr)):
            _held(v, into, names)


def kept_params(nodes, params) -> Tuple[str, ...]:
    """The parameters a function keeps beyond the call or hands back (see ``facts.kept_params``)."""
    wanted = set(params) - {"self", "cls"}
    if not wanted:
        return ()
    aliases: Dict[str, Set[str]] = {}  # local name -> the parameters (or aliases) it was bound to
    kept: Set[str] = set()
    local_binds: Dict[int, Tuple[List[str], Optional[ast.expr]]] = {}  # id(node) -> (local names, value)
    for node in nodes:
        t = type(node)
        if t is ast.Assign or t is ast.AnnAssign:
            bound = node.targets if t is ast.Assign else [node.target]
            if all(type(b) is ast.Name for b in bound):
                local_binds[id(node)] = ([b.id for b in bound], node.value)
    for _ in range(3):  # aliases of aliases, a few steps
        names = wanted | set(aliases)
        for local_names, value in local_binds.values():
            got: Set[str] = set()
            _held(value, got, names)
            for local in local_names:
                if got - aliases.get(local, set()) - {local}:
                    aliases.setdefault(local, set()).update(got - {local})
    names = wanted | set(aliases)
    for node in nodes:
        t = type(node)
        if t is ast.Assign or t is ast.AnnAssign or t is ast.AugAssign or t is ast.Return:
            if id(node) not in local_binds:  # an attribute or an item keeps it; a local, only if kept
                _held(node.value, kept, names)
        elif t is ast.Yield:
            _held(node.value, kept, names)
        elif t is ast.Call and keeps_args(node):
            for _k, _s, v in A.call_args(node):
                _held(v, kept, names)
    pending = list(kept)
    while pending:  # a kept alias keeps what it was bound to
        for source in aliases.get(pending.pop(), ()):
            if source not in kept:
                kept.add(source)
                pending.append(source)
    return tuple(p for p in params if p in kept)


def keeps_args(call: ast.Call) -> bool:
    """A call that keeps what it is given: a container's add, a registration."""
    return (A.call_name(call) or "") in KEEPING_CALLS


def doubles_quotes(call: ast.Call) -> bool:
    """``s.replace("'", "''")``: the quote character doubled, as SQL string literals escape it."""
    if A.call_name(call) != "replace" or len(call.args) + len(call.keywords) != 2:
        return False
    args = A.call_args(call)
    old, new = A.string_value(args[0][2]), A.string_value(args[1][2])
    return old in DOUBLED and new == DOUBLED[old]  # type: ignore[operator]


def class_chain_returns(flow) -> Tuple[str, ...]:
    """See ``FunctionFacts.class_chain_returns``."""
    names: List[str] = []
    seen = False
    for node in flow:
        if type(node) is not ast.Return:
            continue
        seen = True
        got = _chain_on(node.value)
        if got is None or got[0] != "cls" or not got[1]:
            return ()
        for name in got[1]:
            if name not in names:
                names.append(name)
    return tuple(names) if seen else ()


def _chain_on(expr: Optional[ast.AST]) -> Optional[Tuple[str, List[str]]]:
    """``q.filter(a).order_by(b)``: (``q``, [``filter``, ``order_by``]); None for anything else."""
    chain: List[str] = []
    while expr is not None:
        t = type(expr)
        if t is ast.Call:
            expr = expr.func  # type: ignore[attr-defined]
        elif t is ast.Attribute:
            chain.append(expr.attr)  # type: ignore[attr-defined]
            expr = expr.value  # type: ignore[attr-defined]
        elif A.is_name(expr):
            return A.name_of(expr), chain[::-1]
        else:
            return None
    return None


def refined_param(flow, params) -> Tuple[str, ...]:
    """See ``FunctionFacts.refined_param``."""
    returns, assigned = _returns_and_bindings(flow)
    if not returns:
        return ()
    names: List[str] = []
    param: Optional[str] = None
    for value in returns:
        got = _chain_on(value)
        if got is None or got[0] not in params or param not in (None, got[0]):
            return ()
        param = got[0]
    if param is None:
        return ()
    for value in assigned.get(param, ()):
        got = _chain_on(value)
        if got is None or got[0] != param:
            return ()
        names.extend(m for m in got[1] if m not in names)
    for value in returns:
        names.extend(m for m in cast(Tuple[str, List[str]], _chain_on(value))[1] if m not in names)
    return (param, *names)


# ---------------------------------------------------------------------------- parameter reads


def param_read(node: ast.Attribute, params: FrozenSet[str], reads: Dict[Tuple[str, Tuple[str, ...]], int]) -> None:
    """``facts._param_read``: count the chain ``node`` reads off a parameter."""
    chain: List[str] = []
    expr: ast.expr = node
    while type(expr) is ast.Attribute and len(chain) < 5:
        chain.append(expr.attr)  # type: ignore[attr-defined]
        expr = expr.value  # type: ignore[attr-defined]
    key = (expr.id, tuple(reversed(chain))) if type(expr) is ast.Name and expr.id in params and len(chain) <= 4 else None  # type: ignore[attr-defined]
    if key is not None and (key in reads or len(reads) < MAX_PARAM_READS * 4):
        reads[key] = reads.get(key, 0) + 1


def _longest_reads(keys) -> List[Tuple[str, Tuple[str, ...]]]:
    """Chains that are not the start of a longer one, longest first."""
    out: List[Tuple[str, Tuple[str, ...]]] = []
    for param, chain in sorted(keys, key=lambda k: -len(k[1])):
        if not any(p == param and c[: len(chain)] == chain for p, c in out):
            out.append((param, chain))
    return out[:MAX_PARAM_READS]


def _falsy_default(fn, name: str) -> bool:
    """The parameter ``name`` (not positional-only) defaults to ``False``/``None``/``0``."""
    args = fn.args
    positional = list(args.posonlyargs) + list(args.args)
    defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    pairs = list(zip(positional, defaults))[len(args.posonlyargs):] + list(zip(args.kwonlyargs, args.kw_defaults))
    for p, default in pairs:
        if p.arg == name:
            return A.falsy_literal(default)
    return False


def reads_facts(fn, reads: Dict[Tuple[str, Tuple[str, ...]], int], flag_ifs, params: FrozenSet[str]) -> Dict[str, Any]:
    """``facts._reads_facts``: ``param_reads``, ``flagged_reads`` (every occurrence under ``if
    <flag parameter>:``) and ``evaluated_reads``."""
    guarded: Dict[Tuple[str, Tuple[str, ...]], Tuple[str, int]] = {}
    for node in flag_ifs:
        flag = node.test.id
        inside: Dict[Tuple[str, Tuple[str, ...]], int] = {}
        for n in A.walk_list(node.body):
            if type(n) is ast.Attribute:
                param_read(cast(ast.Attribute, n), params, inside)
            elif type(n) is ast.Import or type(n) is ast.ImportFrom:
                for attr in A.import_attributes(n):  # libcst's dotted names are attributes
                    param_read(attr, params, inside)
        for key, count in inside.items():
            guarded[key] = (flag, guarded.get(key, (flag, 0))[1] + count)
    flagged = [k for k, count in reads.items() if k in guarded and guarded[k][1] >= count]  # (in walk order)
    plain = _longest_reads(k for k in reads if k not in flagged)
    marked = [(p, c, guarded[(p, c)][0], _falsy_default(fn, guarded[(p, c)][0])) for p, c in _longest_reads(flagged)]
    evaluated = _evaluated_reads(fn, params) if any(len(c) >= 2 and c[1] in MANAGER_READS for _p, c in reads) else ()
    return {"param_reads": tuple(plain), "flagged_reads": tuple(marked), "evaluated_reads": evaluated}


def _manager_call(expr: Optional[ast.AST], params: FrozenSet[str]) -> Optional[Tuple[str, Tuple[str, str]]]:
    """``param.rel.method(...)`` (later chained methods keep it one query: ``.all().order_by()``)."""
    while type(expr) is ast.Call and type(expr.func) is ast.Attribute:  # type: ignore[attr-defined]
        inner = expr.func.value  # type: ignore[attr-defined]
        if type(inner) is ast.Attribute and type(inner.value) is ast.Name and inner.value.id in params:
            return inner.value.id, (inner.attr, expr.func.attr)  # type: ignore[attr-defined]
        expr = inner
    return None


def _evaluated_reads(fn, params: FrozenSet[str]) -> Tuple[Tuple[str, Tuple[str, str]], ...]:
    """See ``FunctionFacts.evaluated_reads``."""
    out: Dict[Tuple[str, Tuple[str, str]], None] = {}
    for node in A.body_walk(fn):
        got = None
        t = type(node)
        if t in _FOR or t is ast.comprehension:
            got = _manager_call(node.iter, params)  # type: ignore[attr-defined]
        elif t is ast.Call:
            call = cast(ast.Call, node)
            name = A.call_name(call)
            if A.is_name(call.func) and name in EVALUATORS and (call.args or call.keywords):
                got = _manager_call(A.call_args(call)[0][2], params)
            elif name in ALWAYS_RUN:
                got = _manager_call(call, params)
        if got is not None:
            out[got] = None
    return tuple(out)[:8]


def spread_params(spread: List[str], loops, params) -> Tuple[str, ...]:
    """See ``FunctionFacts.spread_params``."""
    if not spread:
        return ()
    names = set(spread)
    heads: List[Any] = []
    for loop in loops:
        gens = getattr(loop, "generators", None)  # a comprehension: each of its ``for`` clauses
        if gens is None:
            heads.append(loop)
        else:
            heads.extend(gens)
    for head in heads:
        it, target = getattr(head, "iter", None), getattr(head, "target", None)
        if A.is_name(it) and A.is_name(target) and A.name_of(cast(ast.expr, target)) in names:
            names.add(A.name_of(cast(ast.expr, it)))
    return tuple(p for p in params if p in names)


# ----------------------------------------------------------------------- returned values


def _built_query(value: Optional[ast.AST]) -> Optional[Tuple[ast.expr, List[str]]]:
    """``<x>.query(Entity).filter(...).order_by(...)``: (``Entity``, [``filter``, ``order_by``]);
    ``Entity.select(...).where(...)`` (peewee): (``Entity``, [``select``, ``where``])."""
    chain: List[str] = []
    expr = value
    while type(expr) is ast.Call and type(expr.func) is ast.Attribute:  # type: ignore[attr-defined]
        name = expr.func.attr  # type: ignore[attr-defined]
        if name == "query":
            args = [a for a in expr.args if type(a) is not ast.Starred]  # type: ignore[attr-defined]
            if len(args) == 1 and (A.is_name(args[0]) or type(args[0]) is ast.Attribute):
                return args[0], chain[::-1]
            return None
        recv = expr.func.value  # type: ignore[attr-defined]
        if name == "select" and (A.is_name(recv) or type(recv) is ast.Attribute):
            return recv, ["select", *chain[::-1]]
        chain.append(name)
        expr = expr.func.value  # type: ignore[attr-defined]
    return None


def returned_query(flow, resolver: Resolver) -> Tuple[str, ...]:
    """See ``FunctionFacts.returned_query``."""
    returns, assigned = _returns_and_bindings(flow)
    if not returns:
        return ()
    entity: Optional[str] = None
    names: List[str] = []

    def built(value) -> bool:
        nonlocal entity
        got = _built_query(value)
        if got is None:
            return False
        ent = resolver.qualify(A.dotted(got[0]))
        if ent is None or entity not in (None, ent):
            return False
        entity = ent
        names.extend(m for m in got[1] if m not in names)
        return True

    for value in returns:
        if built(value):
            continue
        got = _chain_on(value)
        if got is None or got[0] in ("self", "cls"):
            return ()
        values = assigned.get(got[0], ())
        if not values:
            return ()
        names.extend(m for m in got[1] if m not in names)  # ``return q.dicts()``
        for v in values:
            inner = _chain_on(v)
            if inner is not None and inner[0] == got[0]:
                names.extend(m for m in inner[1] if m not in names)
            elif not built(v):
                return ()
    return (entity, *names) if entity is not None else ()


def _returns_and_bindings(flow) -> Tuple[List[Optional[ast.expr]], Dict[str, List[Optional[ast.expr]]]]:
    """The values a function returns, and every value bound to each local name (None: unknown)."""
    returns: List[Optional[ast.expr]] = []
    assigned: Dict[str, List[Optional[ast.expr]]] = {}
    for node in flow:
        t = type(node)
        if t is ast.Return:
            returns.append(node.value)
            continue
        target = node.targets[0] if t is ast.Assign and len(node.targets) == 1 else None
        if type(target) is ast.Name:
            assigned.setdefault(target.id, []).append(node.value)  # type: ignore[union-attr]
        elif (type(target) in (ast.Tuple, ast.List) and type(node.value) in (ast.Tuple, ast.List)
              and len(node.value.elts) == len(target.elts)):  # type: ignore[union-attr]
            for t_el, v_el in zip(target.elts, node.value.elts):  # type: ignore[union-attr]  # ``a, b = "x", "y"``
                tv = _element(t_el)
                if type(tv) is ast.Name and type(v_el) is not ast.Starred:
                    assigned.setdefault(tv.id, []).append(v_el)  # type: ignore[attr-defined]
                else:
                    for name in A.target_names(tv):
                        assigned.setdefault(name, []).append(None)
        else:
            for name in _bound_names(node):
                assigned.setdefault(name, []).append(None)
    return returns, assigned


def returned_names(flow, resolver: Resolver) -> Tuple[str, ...]:
    """``facts._returned_names``: the capitalised names the ``return``s give as they are, resolved."""
    out: List[str] = []
    for node in flow:
        if type(node) is ast.Return and (A.is_name(node.value) or type(node.value) is ast.Attribute):
            name = A.dotted(node.value)
            if name and name.rsplit(".", 1)[-1][:1].isupper() and name.split(".")[0] not in ("self", "cls"):
                out.append(resolver.qualify(name) or name)
    return tuple(dict.fromkeys(out))


def list_returned_names(fn, resolver: Resolver) -> Tuple[str, ...]:
    """``facts._list_returned_names``: what ``get_serializer_class`` returns under ``if
    self.action == "list"`` (or ``in (...)`` holding ``"list"``)."""
    if fn.name != "get_serializer_class":
        return ()
    out: List[str] = []
    for node in A.body_walk(fn):
        if type(node) is ast.If and _tests_list_action(node.test) and A.begins_line(node.body[0]):  # type: ignore[attr-defined]
            for small in node.body:  # type: ignore[attr-defined]
                if type(small) is ast.Return and (A.is_name(small.value) or type(small.value) is ast.Attribute):
                    name = A.dotted(small.value)
                    if name and name.split(".")[0] not in ("self", "cls"):
                        out.append(resolver.qualify(name) or name)
    return tuple(dict.fromkeys(out))


def _tests_list_action(test: ast.expr) -> bool:
    if not (type(test) is ast.Compare and len(test.ops) == 1 and A.dotted(test.left) == "self.action"):  # type: ignore[attr-defined]
        return False
    op, right = test.ops[0], test.comparators[0]  # type: ignore[attr-defined]
    if type(op) is ast.Eq:
        return A.string_value(right) == "list"
    if type(op) is ast.In and type(right) in _SEQUENCES:
        return any(A.string_value(_element(e)) == "list" for e in right.elts)  # type: ignore[attr-defined]
    return False


def constant_returns(flow) -> int:
    """1 when every ``return`` gives a constant, n when each gives a tuple of n constants, else 0
    (see ``facts.constant_returns``)."""
    returns, assigned = _returns_and_bindings(flow)
    if not returns:
        return 0

    def const(e: Optional[ast.AST], depth: int = 0) -> bool:
        if e is None or depth > 3:
            return False
        t = type(e)
        if t is ast.Constant:
            return type(e.value) in (str, bytes, int, float)  # type: ignore[attr-defined]
        if t is ast.JoinedStr:  # an f-string, alone or with other literals: its expressions
            return all(type(p) is ast.Constant or const(p.value, depth + 1) for p in e.values)  # type: ignore[attr-defined]
        if t is ast.Attribute:
            return (A.dotted(e) or "").endswith(SAFE_ATTR_SUFFIXES)
        if t is ast.Name:
            values = assigned.get(e.id)  # type: ignore[attr-defined]
            return bool(values) and all(const(v, depth + 1) for v in cast(List[Optional[ast.expr]], values))
        return False

    arity = set()
    for r in returns:
        if type(r) is ast.Tuple and r.elts and not any(type(el) is ast.Starred for el in r.elts):  # type: ignore[union-attr]
            if not all(const(el) for el in r.elts):  # type: ignore[union-attr]
                return 0
            arity.add(len(r.elts))  # type: ignore[union-attr]
        elif const(r):
            arity.add(1)
        else:
            return 0
    return arity.pop() if len(arity) == 1 else 0


def _punctuation_text(part: ast.Constant, fstring: ast.JoinedStr) -> bool:
    """A text part of an f-string that is punctuation as libcst reads it: its source text, so an
    escape (``\\n``) is no whitespace."""
    value: Any = part.value
    if PUNCTUATION.fullmatch(value) is None:
        return False
    return not (set(value) - set(" (),")) or "\\" not in A.code(fstring)


def placeholder_returns(flow) -> Tuple[int, ...]:
    """Positions of the returned tuple that every ``return`` fills with generated placeholder
    text (see ``facts.placeholder_returns``)."""
    returns, assigned = _returns_and_bindings(flow)
    if not returns:
        return ()

    def text(e: Optional[ast.AST], depth: int = 0) -> bool:
        if e is None or depth > 3:
            return False
        if type(e) is ast.Name:
            values = assigned.get(e.id) or []  # type: ignore[attr-defined]
            return bool(values) and all(text(v, depth + 1) for v in values)
        if type(e) is ast.JoinedStr and not _concatenated(e):
            parts = e.values  # type: ignore[attr-defined]
            return all(
                _punctuation_text(p, cast(ast.JoinedStr, e)) if type(p) is ast.Constant
                else type(p) is ast.FormattedValue and _placeholder_join(p.value, depth)
                for p in parts
            ) and any(type(p) is ast.FormattedValue for p in parts)
        return _placeholder_join(e, depth)

    positions: Optional[Set[int]] = None
    for r in returns:
        values = [_element(el) for el in r.elts] if type(r) is ast.Tuple else [r]  # type: ignore[union-attr]
        found = {i for i, v in enumerate(values) if text(v)}
        positions = found if positions is None else positions & found
    return tuple(sorted(positions or ()))


def _placeholder_join(e: ast.AST, depth: int) -> bool:
    """``",".join(f":{n}" for n in names)`` / ``", ".join(["%s"] * len(ids))``: bind parameters
    only, one per item (the names are the comprehension's own)."""
    if not (type(e) is ast.Call and A.call_name(e) == "join" and len(e.args) + len(e.keywords) == 1):  # type: ignore[attr-defined]
        return False
    call = cast(ast.Call, e)
    rec = A.receiver(call)
    sep = A.string_value(rec) if rec is not None else None
    if sep is None or not PUNCTUATION.fullmatch(sep):
        return False
    seq: Any = A.call_args(call)[0][2]
    if type(seq) is ast.BinOp and type(seq.op) is ast.Mult and type(seq.left) is ast.List:
        return all(PLACEHOLDER_ELT.fullmatch(A.string_value(_element(el)) or "") for el in seq.left.elts)
    if type(seq) is ast.GeneratorExp or type(seq) is ast.ListComp:
        elt = seq.elt
        if type(elt) is ast.JoinedStr and not _concatenated(elt):
            targets = set(A.target_names(seq.generators[0].target))
            parts = elt.values
            return (
                len(parts) == 2 and type(parts[0]) is ast.Constant and parts[0].value in (":", "@")
                and type(parts[1]) is ast.FormattedValue and type(parts[1].value) is ast.Name
                and parts[1].value.id in targets
            )
        return bool(PLACEHOLDER_ELT.fullmatch(A.string_value(elt) or ""))
    return False


# ------------------------------------------------------------------------- call constants


def _constant_value(v: ast.AST) -> bool:
    t = type(v)
    if t is ast.Constant:
        return v.value is None or type(v.value) in (bool, str, bytes, int, float)  # type: ignore[attr-defined]  # ``many=True``
    if t is ast.JoinedStr:
        return _concatenated(v)
    if t is ast.Attribute:
        root = v.value  # type: ignore[attr-defined]
        while type(root) is ast.Attribute:
            root = root.value  # type: ignore[attr-defined]
        return type(root) is ast.Name and is_record_key(v.attr, root.id)  # type: ignore[attr-defined]  # ``target.project_id``
    return t is ast.Call and type(v.func) is ast.Name and v.func.id in ("int", "len")  # type: ignore[attr-defined]


def call_consts(pending: List[Tuple[str, ast.Call]], fn, params):
    """``facts._call_consts``: ``FunctionFacts.call_consts`` for the calls the walk kept; a name
    bound only as the target of a loop over constants or to literals is a constant too."""
    if not pending:
        return ()
    named = any(A.is_name(v) for _, c in pending for _k, _s, v in A.call_args(c))
    names = _constant_loop_names(fn, params) if named else frozenset()
    return tuple((target,) + _constant_args(call, names) for target, call in pending)


def _constant_loop_names(fn, params) -> FrozenSet[str]:
    looped: Set[str] = set()
    other: Set[str] = set(params)
    for node in A.body_walk(fn):
        t = type(node)
        if t not in _CONSTANT_LOOP_NODES:
            continue
        if t in _FOR or t is ast.comprehension:
            it: Any = node.iter  # type: ignore[attr-defined]
            constant = (A.is_name(it) and A.name_of(it).strip("_").isupper()) or (type(it) is ast.Attribute and it.attr.strip("_").isupper()) or (
                type(it) in _SEQUENCES and all(_constant_value(e) for e in it.elts if type(e) is not ast.Starred))
            (looped if constant else other).update(A.target_names(node.target))  # type: ignore[attr-defined]
            continue
        if t is ast.Assign and len(node.targets) == 1 and type(node.targets[0]) is ast.Name and _constant_value(node.value):  # type: ignore[attr-defined]
            looped.add(node.targets[0].id)  # type: ignore[attr-defined]  # ``table = "osf_comment"``
            continue
        other.update(_bound_names(node))
    return frozenset(looped - other)


def _constant_args(call: ast.Call, loop_constants: FrozenSet[str] = frozenset()) -> Tuple[Tuple[int, ...], Tuple[str, ...], Tuple[str, ...]]:
    """Positions and keywords of ``call`` given a constant or a literal collection of them; then
    the positions (as text) and keywords given a short literal collection of anything."""
    pos: List[int] = []
    kws: List[str] = []
    short: List[str] = []
    for i, (kw, star, v) in enumerate(A.call_args(call)):
        if star:
            break
        if type(v) is ast.Name and v.id in loop_constants:  # type: ignore[attr-defined]
            if kw is not None:
                kws.append(kw)
            else:
                pos.append(i)
            continue
        seq = type(v) in _SEQUENCES
        if seq and 0 < len(v.elts) <= 3 and not any(type(e) is ast.Starred for e in v.elts):  # type: ignore[attr-defined]
            short.append(kw if kw is not None else str(i))
        ok = _constant_value(v) or (
            seq and all(type(e) is not ast.Starred and _constant_value(e) for e in v.elts)  # type: ignore[attr-defined]
        )
        if not ok:
            continue
        if kw is not None:
            kws.append(kw)
        else:
            pos.append(i)
    return tuple(pos), tuple(kws), tuple(short)


# ------------------------------------------------------------------------------- memo guards


def _fills(body: Any, target: str) -> bool:
    """``scope.fills``: ``body`` (a statement, a line of them or a block) stores into ``target``."""
    nodes = A.walk_list(body) if isinstance(body, list) else A.walk_node_list(body)
    for node in nodes:
        t = type(node)
        if t is ast.Assign or t is ast.AugAssign or t is ast.AnnAssign:
            for tt in node.targets if t is ast.Assign else [node.target]:  # type: ignore[attr-defined]
                base = tt.value if type(tt) is ast.Subscript else tt
                if A.dotted(base) == target:
                    return True
        elif t is ast.Call and type(node.func) is ast.Attribute and node.func.attr in FILLS:  # type: ignore[attr-defined]
            if A.dotted(node.func.value) == target:  # type: ignore[attr-defined]
                return True
    return False


def _memo_target(test: ast.expr) -> Optional[str]:
    """``scope.memo_target``: the cache a guard tests for emptiness, else None."""
    if type(test) is ast.UnaryOp and type(test.op) is ast.Not:  # type: ignore[attr-defined]
        inner: Any = test.operand  # type: ignore[attr-defined]
        if type(inner) is ast.Call and A.call_name(inner) == "get" and type(inner.func) is ast.Attribute:
            inner = inner.func.value
        return A.dotted(inner)
    if type(test) is ast.Compare and len(test.ops) == 1:  # type: ignore[attr-defined]
        op, comparator = test.ops[0], test.comparators[0]  # type: ignore[attr-defined]
        if type(op) in (ast.Is, ast.Eq) and A.is_name(comparator, "None"):
            return A.dotted(test.left)  # type: ignore[attr-defined]
        if type(op) is ast.NotIn:
            return A.dotted(comparator)
    return None


def memo_guard(stmt: Any, params: Sequence[str] = ()) -> Optional[str]:
    """``scope.memo_guard``: the cache ``stmt`` fills once, when it is ``if <cache is empty>: <fill
    the cache>`` over a global or attribute (not a parameter)."""
    if type(stmt) is not ast.If:
        return None
    target = _memo_target(stmt.test)
    root = target.split(".")[0] if target else None
    if target is None or (root in params and root not in ("self", "cls")):
        return None
    return target if _fills(stmt.body, target) else None


def first_statement_memo_guard(fn) -> bool:
    """``scope.first_statement_memo_guard``: the function starts (after its docstring) with a memo
    guard: it queries once, then serves the cache."""
    body = _indented_lines(fn.body)
    if body and type(body[0]) is list and type(body[0][0]) is ast.Expr and (A.is_string(body[0][0].value) or _concatenated(body[0][0].value)):
        body = body[1:]
    declared: List[str] = []
    while body and type(body[0]) is list and all(type(s) is ast.Global for s in body[0]):
        declared += [n for g in body[0] for n in g.names]
        body = body[1:]
    if body and _global_hit_first(body, declared):
        return True
    for _ in range(3):  # ``try: if ENGINE is None: ENGINE = create_engine(...)``: the guard opens the try
        if not (body and type(body[0]) is ast.Try and A.begins_line(body[0].body[0])):
            break
        body = _lines(body[0].body)
    params = A.param_names(fn.args)
    if body and (memo_guard(body[0], params) is not None or _early_return_memo(body, params)):
        return True
    for skip in (1, 2):  # the key computed first
        if len(body) > skip + 2 and all(_key_computation(s) for s in body[:skip]) and _early_return_memo(body[skip:], params):
            return True
    fetched = _fetched_cache(body[0]) if len(body) > 2 else None  # the cache fetched first, then checked
    return fetched is not None and fetched not in params and _early_return_memo(body[1:], params, fetched)


def _global_hit_first(body: List[Any], declared: Sequence[str]) -> bool:
    """``global _CURRENT`` then ``if _CURRENT: ... return <it>`` calling nothing, and the rest of
    the function stores ``_CURRENT``: a process-wide memo."""
    first = body[0]
    if type(first) is not ast.If:
        return False
    test = first.test
    if type(test) is ast.Compare and len(test.ops) == 1 and type(test.ops[0]) is ast.IsNot:
        test = test.left  # ``if _CURRENT is not None:``
    if not A.is_name(test) or A.name_of(test) not in declared:
        return False
    inner = list(A.walk_list(first.body))
    if not any(type(n) is ast.Return and n.value is not None for n in inner):  # type: ignore[attr-defined]
        return False
    if any(type(n) is ast.Call for n in inner):
        return False  # the hit does work of its own: no plain memo
    return any(_fills(stmt, A.name_of(test)) for stmt in body[1:])


def _single_assign(stmt: Any) -> Optional[ast.Assign]:
    """The assignment a line holds alone, else None."""
    if type(stmt) is list and len(stmt) == 1 and type(stmt[0]) is ast.Assign:
        return stmt[0]
    return None


def _key_computation(stmt: Any) -> bool:
    """``used = (code or get_language()).split("-")[0]``: one plain assignment to a name, with no
    call that could be a query (only string and number helpers)."""
    assign = _single_assign(stmt)
    if assign is None or len(assign.targets) != 1 or type(assign.targets[0]) is not ast.Name:
        return False
    calls = [A.call_name(c) or "" for c in A.walk(assign.value) if type(c) is ast.Call]  # type: ignore[arg-type]
    return all(c in KEY_HELPERS for c in calls)


def _fetched_cache(stmt: Any) -> Optional[str]:
    """The name ``stmt`` binds to a container it fetches, not one it makes."""
    assign = _single_assign(stmt)
    if assign is None or len(assign.targets) != 1 or type(assign.targets[0]) is not ast.Name:
        return None
    value = assign.value
    if type(value) is ast.Call and A.call_name(value) not in FRESH_CONTAINERS or type(value) in (ast.Attribute, ast.Subscript):
        return assign.targets[0].id  # type: ignore[attr-defined]
    return None


def _early_return_memo(body: List[Any], params: Sequence[str], fetched: Optional[str] = None) -> bool:
    """``if key in CACHE: return CACHE[key]`` (or ``hit = CACHE.get(key)`` then ``if hit: return
    hit``) first, and the rest of the function stores into ``CACHE``."""
    first = body[0]
    target: Optional[str] = None
    rest = list(body[1:])
    assign = _single_assign(first)
    if type(first) is ast.If and type(first.test) is ast.Compare and len(first.test.ops) == 1:
        if type(first.test.ops[0]) is ast.In and _only_returns(first.body):
            target = A.dotted(first.test.comparators[0])
    elif assign is not None and len(body) > 1:
        value: Any = assign.value
        hit = assign.targets[0]
        nxt = body[1]
        if (
            type(value) is ast.Call and A.call_name(value) == "get" and type(value.func) is ast.Attribute
            and type(hit) is ast.Name and type(nxt) is ast.If and _only_returns(nxt.body)
            and hit.id in set(A.cst_names(nxt.test))
        ):
            target = A.dotted(value.func.value)
            rest = list(body[2:])
    if target is None:
        return False
    root = target.split(".")[0]
    if root in params and root not in ("self", "cls"):
        return False  # a cache passed in per call
    if fetched is not None and root != fetched:
        return False
    return any(_fills(stmt, target) for stmt in rest)


def _only_returns(block: List[ast.stmt]) -> bool:
    lines = _indented_lines(block)
    return len(lines) == 1 and type(lines[0]) is list and all(type(s) is ast.Return for s in lines[0])
