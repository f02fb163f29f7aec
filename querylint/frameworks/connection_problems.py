"""What is wrong with a connection, session, pool checkout or client a call opens: the QL2xx
analysis behind the connection rules.

For every call that opens something (``psycopg2.connect(...)``, ``create_engine(...)``,
``redis.Redis(...)``, ``SessionLocal()``, ``pool.getconn()``) :func:`verdicts` lists each problem,
most specific first: opened per loop iteration (QL202), not released on every path (QL203/QL204),
opened per request or job (QL201), held across slow external work (QL205). Each rule reports its
own verdict. :func:`hold_of` and :func:`slow_call` answer QL205's questions about ``with`` blocks.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator, List, Optional, Set, Tuple, cast

import libcst as cst

from querylint import nodes as N
from querylint.context import Context
from querylint.frameworks.connections import ENQUEUE_METHODS, SLOW_CLIENTS, Resource, article, queued_paths, slow_paths, slow_target
from querylint.frameworks.dbapi import DbObject, infer
from querylint.frameworks.lifetime import (
    CANNOT_FAIL_CALLS,
    FACTORY_KINDS,
    RETURN_METHODS,
    Fate,
    Flow,
    Holder,
    borrows_connection,
    Opened,
    by_pool_name,
    early_exit,
    expr_resource,
    fate_of,
    flow_of,
    holder_of,
    mock_named,
    opened_by,
    registry_cleaned,
)
from querylint.loops import classify_loop, repeats_per_iteration, varies_per_item
from querylint.project.contexts import path_context
from querylint.project.facts import LISTEN_METHODS, TEARDOWN_HOOKS
from querylint.project.requests import STARTUP_FUNCTION_NAMES, describe, has_entry_points, request_context
from querylint.scope import under_memo_guard
from querylint.types import Severity

# --------------------------------------------------------------------------- the verdict
# (what a call opens, where it goes and what becomes of it: querylint.frameworks.lifetime)

CACHE_DECORATORS = {"lru_cache", "cache", "cached", "cached_property", "memoize", "memoized", "ttl_cache", "once", "singleton", "run_once"}
# ``with connect() as conn`` ends the transaction only. sqlite3 too: its connections sit in
# reference cycles, so leaving the function does not close them either; they stay open until a
# garbage collection (dozens of open files in a loop; ResourceWarning from Python 3.13)
WITH_DOES_NOT_CLOSE = {"psycopg2", "pyodbc", "sqlite3"}
# in-process databases: a connection is a file handle, not one of a server's connection slots
EMBEDDED_DRIVERS = ("sqlite3", "aiosqlite", "duckdb")


@dataclass(frozen=True)
class Verdict:
    code: str
    message: str
    fix: Optional[str] = None
    severity: Optional[Severity] = None
    confidence: str = "high"
    # a local connection, session or cursor that ``with contextlib.closing(...)`` around the
    # rest of the function would release on every path (QL203's unsafe fix)
    closable: bool = False


def _decorated_cache(ctx: Context) -> bool:
    frame = ctx.function
    if frame is None or not isinstance(frame.node, cst.FunctionDef):
        return False
    return any(name.rsplit(".", 1)[-1] in CACHE_DECORATORS for name in N.decorator_names(frame.node))


def _lazy_or_shared(call: cst.Call, holder: Holder, ctx: Context) -> bool:
    """Kept for later calls: a lazily initialised global/attribute, a cache, or Flask's ``g``."""
    if _decorated_cache(ctx) or under_memo_guard(call, ctx):
        return True  # ``if _mgr is None: _mgr = Manager(redis=Redis(...))``: once per process
    flow = flow_of(ctx)
    if holder.kind == "local" and flow is not None and holder.name in flow.globals:
        # ``global engine`` then ``engine = create_engine(...)``: kept for later calls when built
        # under a test (``if engine is None:``); rebound unconditionally, each call replaces it
        return _under_if(call, ctx) or not _rebuilt_per_wrapped_call(ctx)
    if holder.kind == "stored" and holder.target is not None:
        root = N.root_name(holder.target)
        q = ctx.qualify(cst.Name(root)) if root else None
        if root in ("g",) or (q or "").startswith(("flask.g", "quart.g")):
            return True  # the Flask-tutorial connection on ``g`` (closed at teardown)
        if root in ("request", "req", "scope", "websocket"):
            return False  # stored on the request: still one per request
        # ``self._engine = ...`` under ``if self._engine is None``, ``_engines[url] = ...`` under
        # ``if url not in _engines``: lazy initialisation, kept for later calls. Stored on a
        # module object on every call (``app.config["POOL"] = make_pool()`` in a before-request
        # hook), it replaces the last one each time.
        text = N.code(holder.target)
        shared = root not in ("self", "cls") or isinstance(holder.target, cst.Subscript)
        for anc in ctx.ancestors(call):
            if isinstance(anc, cst.If) and (text in N.code(anc.test) or shared and root and any(
                    isinstance(n, cst.Name) and n.value == root for n in N.walk(anc.test))):
                return True
            if isinstance(anc, (cst.FunctionDef,)):
                break
    if holder.kind == "local":
        for anc in ctx.ancestors(call):
            if isinstance(anc, cst.If) and any(isinstance(n, cst.Name) and n.value == holder.name for n in N.walk(anc.test)):
                return True
            if isinstance(anc, cst.FunctionDef):
                break
    return False


def _is_flask_g(expr: cst.BaseExpression, ctx: Context) -> bool:
    root = N.root_name(expr)
    q = ctx.qualify(cst.Name(root)) if root else None
    return root == "g" and (q is None or q.startswith(("flask.", "quart."))) or (q or "").startswith(("flask.g", "quart.g"))


def _stored_on_g(holder: Holder, flow: Flow, ctx: Context) -> Optional[str]:
    """``g.db`` when what is opened is stored on Flask's ``g`` (directly, or through the
    local it was bound to: ``conn = connect(); g.db = conn``)."""
    if holder.kind == "stored" and holder.target is not None and isinstance(holder.target, cst.Attribute):
        return N.code(holder.target) if _is_flask_g(holder.target, ctx) else None
    if holder.kind != "local" or holder.name is None:
        return None
    for n in N.walk(flow.fn.body, into_functions=False):
        if isinstance(n, cst.Assign) and isinstance(n.value, cst.Name) and n.value.value == holder.name:
            for t in n.targets:
                if isinstance(t.target, cst.Attribute) and _is_flask_g(t.target, ctx):
                    return N.code(t.target)
    return None


def _kept_on_g_verdict(opened: Opened, holder: Holder, flow: Flow, hit, ctx: Context) -> Optional[Verdict]:
    on_g = _stored_on_g(holder, flow, ctx)
    if on_g is None or _project_tears_down(ctx):
        return None
    per = f" (opened per {_per(hit)}: {describe(hit)})" if hit else ""
    return Verdict(
        "QL203",
        f"`{opened.what}` is kept on `{on_g}` for the request, but nothing closes it at teardown: "
        f"every request leaves a connection open{per}",
        f"close it in an `@app.teardown_appcontext` handler (`conn = g.pop(\"{on_g.rsplit('.', 1)[-1]}\", None)`, "
        "then `conn.close()`)",
        Severity.ERROR if hit else None,
    )


def _project_tears_down(ctx: Context) -> bool:
    """The project registers a Flask teardown hook (``@app.teardown_appcontext``,
    ``app.teardown_request(close_db)``): what is kept on ``g`` is taken to be closed there."""

    def compute(index) -> bool:
        for f in index.files.values():
            if f.teardowns:
                return True
        for fn in index.functions.values():
            if any(t.rsplit(".", 1)[-1] in TEARDOWN_HOOKS for t in fn.decorators + fn.calls):
                return True
        return False

    return ctx.index.derived("flask-teardowns", compute)


def _memo_on_path(hit, ctx: Context) -> bool:
    """A caller on the request's path to here fills a cache first (``if pool is None: pool =
    await create_pool()``): what it calls under the guard runs once, not per request."""
    path = hit[1]
    return any(
        fn is not None and fn.memo_guarded for fn in (ctx.index.functions.get(q) for q in path[:-1])
    )


def _request_verdict(opened: Opened, hit) -> Verdict:
    """QL201: a connection, engine, pool or client opened on every request or job."""
    res = opened.res
    fix = "create one client at module level and reuse it" if res.kind == "client" else (
        "create one engine/pool at module level (or use the framework's managed connection) and borrow from it"
    )
    if res.kind in ("sessionmaker", "scoped"):
        fix = "build the session factory once at module level and call it per request"
    via = f"; {opened.via}" if opened.factory else ""
    return Verdict("QL201", f"`{opened.what}` opens a new {res.label} on every {_per(hit)} ({describe(hit)}{via})", fix)


def _singleton_verdict(call: cst.Call, opened: Opened, ctx: Context) -> Optional[Verdict]:
    cls_name = _reinitialised_singleton(call, ctx)
    if cls_name is None:
        return None
    return Verdict(
        "QL201",
        f"`{opened.what}` in `{cls_name}.__init__` builds a new {opened.res.label} on every `{cls_name}(...)` call: "
        f"`__new__` returns the cached instance, but Python still runs `__init__` on it",
        "return early from `__init__` when the instance is already set up (`if hasattr(self, \"_engine\"): return`)",
    )


def _reinitialised_singleton(call: cst.Call, ctx: Context) -> Optional[str]:
    """The class name when ``call`` runs in ``__init__`` (not behind a guard or an early return)
    of a class whose ``__new__`` returns a stored instance (``return cls._instances[key]``)."""
    fn, cls = ctx.function, ctx.class_frame
    if fn is None or cls is None or not isinstance(fn.node, cst.FunctionDef) or fn.node.name.value != "__init__":
        return None
    members = cls.node.body.body if isinstance(cls.node, cst.ClassDef) and isinstance(cls.node.body, cst.IndentedBlock) else ()
    new = next((s for s in members if isinstance(s, cst.FunctionDef) and s.name.value == "__new__"), None)
    if new is None or not any(
        isinstance(n, cst.Return) and isinstance(n.value, (cst.Subscript, cst.Attribute)) for n in N.walk(new.body, into_functions=False)
    ):
        return None
    for anc in ctx.ancestors(call):
        if isinstance(anc, cst.If):
            return None
        if anc is fn.node:
            break
    body = fn.node.body.body if isinstance(fn.node.body, cst.IndentedBlock) else ()
    for stmt in body:  # ``if hasattr(self, "_initialized"): return`` before it
        if any(n is call for n in N.walk(stmt)):
            break
        if isinstance(stmt, cst.If) and any(isinstance(n, cst.Return) for n in N.walk(stmt.body)):
            return None
    return cls.node.name.value if isinstance(cls.node, cst.ClassDef) else None


def _registry_on_borrowed(call: cst.Call, res, holder, ctx: Context) -> bool:
    """A scoped registry bound to a connection someone else holds (``registry.configure(bind=
    connection)`` inside ``with engine.begin() as connection:``, or ``sessionmaker(bind=conn)``):
    the connection's owner releases it; the registry opens nothing of its own."""
    if res.kind != "scoped":
        return False
    binds = [N.arg(inner, keyword="bind") for inner in N.walk(call) if isinstance(inner, cst.Call) and inner is not call]
    fn = ctx.function
    if holder.kind == "local" and holder.name and fn is not None:
        for node in N.walk(fn.node, into_functions=False):
            if (
                isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "configure"
                and isinstance(node.func.value, cst.Name) and node.func.value.value == holder.name
            ):
                binds.append(N.arg(node, keyword="bind"))
    for bind in binds:
        if bind is None:
            continue
        if isinstance(bind, cst.Name):
            b = ctx.binding(bind.value, at=bind)
            if b is not None and b.kind == "with":
                return True  # ``with engine.begin() as connection``: released when the block ends
        if borrows_connection(bind):
            return True
    return False


def _loop_for(call: cst.Call, ctx: Context, pool: bool = False):
    """The loop a connect call runs once per iteration of (not constants, retries, shards; not
    polls either, unless ``pool``: an engine, pool or client made on every pass of a worker's
    ``while True`` loop is a new pool each time, where reconnecting per poll is fine)."""
    for loop in reversed(ctx.loops):
        if loop.kind == "while":
            if pool and classify_loop(loop, ctx) == "poll" and repeats_per_iteration(call, loop, ctx) and not _listens(loop):
                return loop
            return None
        kind = classify_loop(loop, ctx)
        if kind == "constant":
            continue
        if kind in ("retry", "poll"):
            return None
        if isinstance(loop.iter, cst.Call) and N.call_name(loop.iter) == "range" and not (N.dotted(loop.iter.func) or "").count("."):
            return None  # ``for _ in range(n)``: n connections on purpose (a hand-made pool)
        if _depends_on(call, loop, ctx):
            return None  # a different database per iteration (shards, tenants, DSNs)
        return loop
    return None




def _listens(loop) -> bool:
    """A reconnect loop: each pass subscribes and then listens (``for message in
    pubsub.listen():``) until the connection fails, so a new client per pass is one per failure."""
    for n in N.walk(loop.node.body, into_functions=False):
        if isinstance(n, cst.For) and isinstance(n.iter, cst.Call) and N.call_name(n.iter) in LISTEN_METHODS:
            return True
        if isinstance(n, cst.While) and isinstance(n.test, (cst.Name, cst.Integer)) and N.code(n.test).strip() in ("True", "1"):
            return True  # a nested endless loop: the pass never ends while it works
    return False


def _registry_removed(res: Resource, holder: Holder, flow: Optional[Flow]) -> bool:
    """A ``scoped_session`` registry made for the request and ``remove()``d in a ``finally``: a
    cheap Python object over a shared engine; the request's session goes back when it ends."""
    if res.kind != "scoped" or holder.kind != "local" or holder.name is None or flow is None:
        return False
    fate = fate_of(holder.name, cast(cst.CSTNode, holder.node), flow)
    return any(flow.in_finally(c) for c in fate.closes)


def _loop_verdicts(call: cst.Call, res: Resource, opened: Opened, holder: Holder, ctx: Context) -> Iterator[Verdict]:
    """QL202: a resource opened on every iteration of a per-item loop, or on every pass of a retry
    loop that does not stop once it connects."""
    loop = _loop_for(call, ctx, pool=res.kind in ("pool", "engine", "client"))
    if loop is not None:
        yield Verdict(
            "QL202",
            f"`{opened.what}` creates a new {res.label} on every iteration of {ctx.loop_label(loop)}",
            "create it once before the loop and reuse it",
        )
    elif holder.kind == "local":
        retry = _retry_that_keeps_going(holder, ctx)
        if retry is not None:
            yield Verdict(
                "QL202",
                f"`{opened.what}` opens a new {res.label} on every pass of the retry loop at line "
                f"{ctx.line(retry)}: nothing leaves the loop once it succeeds, so each pass drops the last one open",
                "`break` out of the loop (or return) as soon as it connects",
            )


def _looping_caller(call: cst.Call, res: Resource, holder: Holder, ctx: Context) -> Iterator[Verdict]:
    """QL202 for a function that opens a connection (engine, pool, client) on every call when a
    project function calls it once per item of a loop, directly or through one plain call (not
    for a helper that hands its connection out: the caller between may keep it). Not when what
    it opens depends on the function's parameters and the loop passes them per item (a database
    file per item, a shard per tenant), nor from tests."""
    own = ctx.function.facts if ctx.function is not None else None
    if own is None or holder.kind not in ("local", "with", "with-closing", "returned", "discarded") or _lazy_or_shared(call, holder, ctx):
        return
    if _opened_on_a_parameter_test(call, set(own.params) - {"self", "cls"}, ctx):
        return  # ``if parent_session is None: Session = ...``: the loop may pass one
    used = {n.value for arg in call.args for n in N.walk(arg.value) if isinstance(n, cst.Name)}
    depth_limit = 1 if holder.kind == "returned" else 2
    seen = {own.qualname}
    frontier: List[Tuple[str, Tuple[str, ...], Set[str]]] = [(own.qualname, (own.qualname,), used & set(own.params) - {"self", "cls"})]
    for depth in range(depth_limit):
        nxt: List[Tuple[str, Tuple[str, ...], Set[str]]] = []
        for q, path, params in frontier:
            fn = ctx.index.functions.get(q)
            for caller, kind, positions, keywords in ctx.index.loop_callers(q):
                caller_fn = ctx.index.functions.get(caller)
                if caller_fn is None or path_context(caller_fn.path, ctx.config) == "test":
                    continue
                if kind == "while" and res.kind not in FACTORY_KINDS:
                    continue  # reconnecting on each pass of a worker's poll loop is fine
                if fn is not None and _per_item_params(fn, params, positions, keywords):
                    continue
                chain = " -> ".join(p.rsplit(".", 1)[-1] + "()" for p in (caller,) + path)
                where = f"`{_short_qual(caller)}()` calls `{own.name}()`" if depth == 0 else f"`{_short_qual(caller)}()` reaches it"
                each = "on every pass of a `while` loop" if kind == "while" else "once per item of a loop"
                yield Verdict(
                    "QL202",
                    f"`{N.short(call.func, 40)}(...)` creates a new {res.label} on every call, and {where} {each} ({chain})",
                    f"open it once in `{_short_qual(caller)}()` (or keep one for the process) and pass it in",
                )
                return
            if depth + 1 < depth_limit and not params:
                nxt.extend((c, (c,) + path, set()) for c in ctx.index.callers_of(q) if c not in seen)
        seen.update(q for q, _, _ in nxt)
        frontier = nxt


def _in_decorator_wrapper(opened: Opened, ctx: Context) -> Iterator[Verdict]:
    decorator = _decorator_of_wrapper(ctx)
    via = ""
    if decorator is None:
        got = _wrapper_caller(ctx)
        if got is not None:
            decorator, helper = got
            via = f" through `{helper}()`"
    if decorator is not None:
        yield Verdict(
            "QL201",
            f"`{opened.what}` creates a new {opened.res.label} on every call of a function decorated with `@{decorator}` "
            f"(its wrapper runs on each call{via})",
            "create it once (at module level, or lazily under `if ... is None`) and borrow from it in the wrapper",
        )


def _under_if(call: cst.Call, ctx: Context) -> bool:
    for anc in ctx.ancestors(call):
        if isinstance(anc, (cst.If, cst.IfExp, cst.ExceptHandler)):
            return True
        if isinstance(anc, (cst.FunctionDef, cst.Lambda)):
            return False
    return False


def _rebuilt_per_wrapped_call(ctx: Context) -> bool:
    return _decorator_of_wrapper(ctx) is not None or _wrapper_caller(ctx) is not None


def _wrapper_caller(ctx: Context) -> Optional[Tuple[str, str]]:
    """(decorator, this function) when a decorator's wrapper in this file calls the current
    function first thing, outside any ``if``/``except`` (``def error_handler(func): async def
    wrapper(...): reconnect_session(); await func(...)``): it runs on every decorated call."""
    frame = ctx.function
    if frame is None or frame.facts is None or frame.facts.cls is not None:
        return None
    name = frame.facts.name

    def compute():
        for node in N.walk(ctx.module_node):
            if not isinstance(node, cst.FunctionDef) or not isinstance(node.body, cst.IndentedBlock):
                continue
            inner = [n for n in N.walk(node.body, into_functions=False) if isinstance(n, cst.FunctionDef)]
            returned = {r.value.value for r in N.walk(node.body, into_functions=False) if isinstance(r, cst.Return) and isinstance(r.value, cst.Name)}
            params = set(N.param_names(node.params))
            for w in inner:
                if w.name.value not in returned or not isinstance(w.body, cst.IndentedBlock):
                    continue
                if not any(isinstance(n, cst.Call) and isinstance(n.func, cst.Name) and n.func.value in params for n in N.walk(w.body)):
                    continue
                for stmt in _straight_line(w.body.body):
                    for call in N.walk(stmt):
                        if isinstance(call, cst.Call) and isinstance(call.func, cst.Name) and call.func.value == name:
                            return node.name.value
        return None

    decorator = ctx.memo(("ql2-wrapper-caller", id(ctx.module_node), name), compute)
    return (decorator, name) if decorator is not None else None


def _straight_line(stmts) -> List[cst.CSTNode]:
    """The statements that run on every call: the body, and the body of a ``try`` in it (not its
    handlers, not under an ``if``)."""
    out: List[cst.CSTNode] = []
    for stmt in stmts:
        if isinstance(stmt, cst.Try) and isinstance(stmt.body, cst.IndentedBlock):
            out.extend(_straight_line(stmt.body.body))
        elif isinstance(stmt, cst.SimpleStatementLine):
            out.append(stmt)
    return out


def _decorator_of_wrapper(ctx: Context) -> Optional[str]:
    """The name of the decorator whose wrapper the current function is: a function nested in
    another that returns it and calls one of its parameters, the function it wraps (``def
    handle(func): @wraps(func) def wrapper(...): ...; func(...); return wrapper``). Not a factory
    that returns a lifespan or a context manager it builds (``def make_lifespan(*, database):``)."""
    frame = ctx.function
    if frame is None or not isinstance(frame.node, cst.FunctionDef):
        return None
    name = frame.node.name.value
    for anc in ctx.ancestors(frame.node):
        if isinstance(anc, cst.ClassDef):
            return None
        if isinstance(anc, cst.FunctionDef):
            returns = [n for n in N.walk(anc.body, into_functions=False) if isinstance(n, cst.Return)]
            if not any(isinstance(r.value, cst.Name) and r.value.value == name for r in returns):
                return None
            wrapped = set(N.param_names(anc.params))
            calls_wrapped = any(isinstance(n, cst.Call) and isinstance(n.func, cst.Name) and n.func.value in wrapped for n in N.walk(frame.node.body))
            return anc.name.value if calls_wrapped else None
    return None


def _opened_on_a_parameter_test(call: cst.Call, params: Set[str], ctx: Context) -> bool:
    """``call`` runs only under an ``if`` (or a conditional expression) that tests a parameter."""
    for anc in ctx.ancestors(call):
        if isinstance(anc, (cst.FunctionDef, cst.Lambda)):
            return False
        if isinstance(anc, (cst.If, cst.IfExp)) and any(isinstance(n, cst.Name) and n.value in params for n in N.walk(anc.test)):
            return True
    return False


def _per_item_params(fn, params: Set[str], positions: Tuple[int, ...], keywords: Tuple[str, ...]) -> bool:
    """One of ``params`` of ``fn`` gets an argument that changes per item at the loop's call."""
    offset = 1 if fn.cls is not None and fn.params[:1] in (("self",), ("cls",)) else 0
    return any(fn.params.index(p) - offset in positions or p in keywords for p in params)


def _short_qual(qualname: str) -> str:
    """``pkg.mod.Class.meth`` -> ``Class.meth`` (a method), ``pkg.mod.func`` -> ``func``."""
    parts = qualname.split(".")
    return ".".join(parts[-2:]) if len(parts) > 1 and parts[-2][:1].isupper() else parts[-1]


def _retry_that_keeps_going(holder: Holder, ctx: Context) -> Optional[cst.CSTNode]:
    """The innermost loop, a retry loop (``while attempt < 3:``, ``for _ in range(3):``), when
    the connection it opens into a local name is not followed on its success path by anything
    that leaves the loop (``break``, ``return``, ``raise``, a loop test on the name) or closes it:
    every pass opens another and drops the last (pyiem ``get_dbconn``)."""
    if not ctx.loops or holder.name is None or holder.node is None:
        return None
    loop = ctx.loops[-1]
    node = loop.node
    if isinstance(node, cst.While):
        if holder.name in {n.value for n in N.walk(node.test) if isinstance(n, cst.Name)}:
            return None  # ``while conn is None:``
        if _listens(loop):
            return None  # once it connects, the pass listens until the connection fails
    elif not (isinstance(node, cst.For) and isinstance(loop.iter, cst.Call) and N.call_name(loop.iter) == "range"):
        return None
    stack: List[Tuple[cst.CSTNode, Optional[cst.CSTNode]]] = [(node.body, None)]
    while stack:  # the loop's own statements: not nested loops or functions, not ``except`` blocks
        n, parent = stack.pop()
        if isinstance(n, (cst.Break, cst.Return, cst.Raise)):
            return None  # (an ``except`` is the failure path: ``raise`` after the last attempt)
        if isinstance(n, cst.Call) and N.call_name(n) in ("close", "dispose") and N.root_name(n) == holder.name:
            return None
        if isinstance(n, cst.Name) and n.value == holder.name and not isinstance(parent, (cst.Attribute, cst.AssignTarget)):
            return None  # handed on (``pool.append(conn)``, ``self.conn = conn``): not dropped
        if isinstance(n, (cst.For, cst.While, cst.FunctionDef, cst.ClassDef, cst.Lambda, cst.ExceptHandler)):
            continue
        stack.extend((kid, n) for kid in N.children(n))
    return node


def _depends_on(call: cst.Call, loop, ctx: Context) -> bool:
    return any(varies_per_item(arg.value, loop, ctx) for arg in call.args)


def _per(hit) -> str:
    entry = hit[0]
    if entry.startswith(("task", "scheduled")):
        return "job"
    if entry.startswith("serializer"):
        return "serialized object"
    return "request"


def verdicts(call: cst.Call, ctx: Context) -> Tuple[Verdict, ...]:
    """Every problem of the resource ``call`` opens, one verdict per code, most specific first
    (in a loop; not released; per request; held across a slow call). Each rule reports its own
    verdict, so selecting one code never depends on another being on; when several are
    selected, the engine keeps the most specific (``Rule.subsumes``)."""
    return ctx.memo(("ql2-verdicts", id(call)), lambda: tuple(_verdicts(call, ctx)))


def verdict(call: cst.Call, ctx: Context) -> Optional[Verdict]:
    """The most specific problem of the resource ``call`` opens, if any."""
    found = verdicts(call, ctx)
    return found[0] if found else None


def _memory_verdicts(call: cst.Call, opened: Opened, ctx: Context) -> Iterator[Verdict]:
    """An in-memory database costs no server connection: only whether its opener closes it."""
    flow = flow_of(ctx)
    problem = _release_problem(call, opened, holder_of(call, ctx), flow, ctx) if flow is not None else None
    if problem is not None:
        yield Verdict("QL203", problem[0], problem[1])


RELEASE_METHODS = ("close", "aclose", "__exit__", "__aexit__", "__del__", "disconnect", "shutdown", "teardown", "cleanup", "dispose")
_RELEASE_CALLS = ("close", "aclose", "dispose", "disconnect", "release", "remove", "terminate", "shutdown")


def _kept_but_never_released(call: cst.Call, opened: Opened, holder: Holder, ctx: Context) -> Optional[Verdict]:
    """QL203: ``self.con = sqlite3.connect(path)`` in a class whose ``close()`` (or ``__exit__``,
    its own or inherited) exists but never closes ``self.con``, and nothing in the project
    closes ``<anything>.con``: every instance leaks its connection when it is closed (flow.record's
    ``SqliteReader`` under an inherited no-op ``close()``). A class with no release method at
    all is left alone (a connection for the life of the process)."""
    target = holder.target
    own = ctx.function.facts if ctx.function is not None else None
    if not (isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name) and target.value.value == "self") or own is None or own.cls is None:
        return None
    attr = target.attr.value
    release = next((m for m in (ctx.index.find_method(own.cls, name) for name in RELEASE_METHODS) if m is not None), None)
    if release is None or _released_elsewhere(own.cls, attr, ctx) or _names_attribute(release, attr, ctx):
        return None
    where = release.qualname.rsplit(".", 2)
    return Verdict(
        "QL203",
        f"`self.{attr}` from `{opened.what}` is never closed: `{where[-2]}.{where[-1]}()` does not close it, so every "
        f"instance leaves its {opened.res.label} open",
        f"close `self.{attr}` in `{release.name}()`",
    )


_OPENING_METHOD = re.compile(r"_*(__init__|__enter__|__aenter__|__post_init__|set_?up\w*|setUp\w*|connect\w*|reconnect\w*|open\w*|start\w*|init\w*|initiali[sz]e\w*|_?get_\w+|\w*session\w*|\w*connection\w*|\w*conn)", re.I)


def _replaced_every_call(opened: Opened, holder: Holder, ctx: Context) -> Optional[Verdict]:
    """QL203: ``self._data_session = self._session_factory()`` as a statement of a working method
    (pykmip's ``_process_batch()``, run per request), where nothing in the project ever closes
    ``self._data_session``: each call replaces the last session without closing it, and every
    request leaves one (with its pooled connection) behind. Methods that open for the object's
    life (``__init__``, ``connect()``, ``open()``, ``get_session()``, ``setUp()``) and guarded
    assignments (``if self.conn is None:``) are left alone."""
    target = holder.target
    fn = ctx.function
    if fn is None or fn.facts is None or fn.facts.cls is None:
        return None
    own = fn.facts
    if not (isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name) and target.value.value == "self"):
        return None
    if _OPENING_METHOD.fullmatch(own.name) or own.name in RELEASE_METHODS:
        return None
    line = ctx.parent_of(cast(cst.CSTNode, holder.node))  # Assign -> SimpleStatementLine -> the body
    if line is None or ctx.parent_of(line) is not cast(cst.FunctionDef, fn.node).body:
        return None  # under a condition or a loop: not simply on every call
    attr = target.attr.value
    if _released_elsewhere(cast(str, own.cls), attr, ctx) or not ctx.index.callers_of(own.qualname):
        return None
    noun = opened.res.label
    return Verdict(
        "QL203",
        f"`self.{attr}` from `{opened.what}` is replaced on every call of `{own.name}()` and never closed: "
        f"each call leaves the last {noun} open",
        f"close `self.{attr}` when `{own.name}()` is done (`try`/`finally`), or use a local `with {opened.what} as {attr.lstrip('_')}:`",
    )


def _released_elsewhere(cls: str, attr: str, ctx: Context) -> bool:
    """Some project code releases the attribute: ``self.<attr>.close()`` in a method of the class,
    an ancestor or a subclass, or ``<anything>.<attr>.close()`` outside methods' ``self``."""

    def compute(ix) -> Tuple[set, set]:
        on_self, anywhere = set(), set()
        for fn in ix.functions.values():
            for target in fn.calls:
                parts = target.split(".")
                if len(parts) >= 2 and parts[-1] in _RELEASE_CALLS:
                    if parts[0] == "self" and len(parts) == 3 and fn.cls:
                        on_self.add((fn.cls, parts[1]))
                    elif parts[0] not in ("self", "cls") and len(parts) >= 3:
                        anywhere.add(parts[-2])  # ``reader.con.close()`` (not ``con.close()``: a local)
        return on_self, anywhere

    on_self, anywhere = ctx.index.derived("released-attributes", compute)
    if attr in anywhere:
        return True
    index = ctx.index
    family = {c.qualname for c in index.mro_classes(index.classes[cls])} if cls in index.classes else {cls}
    family |= {q for q, c in index.classes.items() if cls in index.ancestors(c)}  # subclasses
    return any((c, attr) in on_self for c in family)


def _names_attribute(release, attr: str, ctx: Context) -> bool:
    """The release method, when it is in this file, mentions ``self.<attr>`` (hands it to a helper,
    clears it): what it does with it is its own business."""
    if release.path != ctx.relpath:
        return False
    for node in N.walk(ctx.module_node):
        if isinstance(node, cst.FunctionDef) and node.name.value == release.name:
            per_use = release.name in ("__exit__", "__aexit__", "close", "aclose")  # not a process's ``cleanup()``
            for n in N.walk(node):
                if isinstance(n, cst.Attribute) and n.attr.value == attr and isinstance(n.value, cst.Name) and n.value.value == "self":
                    if not (per_use and _only_used(n, ctx)):
                        return True
    return False


def _only_used(node: cst.Attribute, ctx: Context) -> bool:
    """``self.conn.commit()``, ``self.conn.notices``: the release method works with the resource
    (a commit, a read) without handing it anywhere or clearing it."""
    parent = ctx.parent_of(node)
    if not (isinstance(parent, cst.Attribute) and parent.value is node):
        return False
    outer = ctx.parent_of(parent)
    if isinstance(outer, cst.Call) and outer.func is parent:
        return parent.attr.value not in _RELEASE_CALLS
    return not isinstance(outer, (cst.Assign, cst.AugAssign, cst.Del))


def _in_except_branch(call: cst.Call, ctx: Context) -> bool:
    for anc in ctx.ancestors(call):
        if isinstance(anc, cst.ExceptHandler):
            return True
        if isinstance(anc, (cst.FunctionDef, cst.Lambda)):
            return False
    return False


def _serves_forever_after(call: cst.Call, ctx: Context) -> bool:
    """After ``call``, its function enters a ``while True:`` loop that nothing but an exception
    leaves (no ``break`` of it, no ``return``): a daemon's main loop (awx's websocket relay
    ``run()``), which holds the connection for as long as the process lives."""
    frame = ctx.function
    if frame is None or not isinstance(frame.node, cst.FunctionDef) or not isinstance(frame.node.body, cst.IndentedBlock):
        return False
    stmts = list(frame.node.body.body)
    top = next((s for s in stmts if any(n is call for n in N.walk(s, into_functions=False))), None)
    if top is None:
        return False
    for later in stmts[stmts.index(top) + 1:]:
        if isinstance(later, cst.While) and N.literal(later.test) is True and not _leaves(later.body, 0):
            return True
    return False


def _leaves(node: cst.CSTNode, depth: int) -> bool:
    """A ``return`` anywhere, or a ``break`` of the loop ``node`` is the body of (``depth`` 0)."""
    for child in node.children:
        if isinstance(child, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            continue
        if isinstance(child, cst.Return) or isinstance(child, cst.Break) and depth == 0:
            return True
        inner = depth + 1 if isinstance(child, (cst.For, cst.While)) else depth
        if _leaves(child, inner):
            return True
    return False


def _unreleased(call: cst.Call, opened: Opened, holder: Holder, flow: Flow, hit, ctx: Context) -> Optional[Verdict]:
    """QL203/QL204: what ``call`` opens is not released on every path."""
    problem = _release_problem(call, opened, holder, flow, ctx)
    if problem is None or _serves_forever_after(call, ctx):
        return None
    res = opened.res
    code = "QL204" if res.kind == "checkout" else "QL203"
    # a cursor from Django's shared connection, left to the garbage collector, is closed when the
    # function returns (CPython refcounting): with its result drained it is hygiene, one step less
    # sure (projects do fix these: kitsune's admin and AJAX views); one whose result is read only
    # in part (``fetchone``/``fetchmany``) is reported: the rest stays pending on the shared
    # connection until the collector gets to the cursor
    confidence = problem[2] if len(problem) > 2 else "high"
    message = problem[0]
    if opened.thread_session:
        # one session per thread, reused by every call site: worth acting on where a request or a
        # job leaves it open; elsewhere one step less sure (a script's thread ends with it)
        registry = (N.dotted(call.func) or "").rsplit(".", 1)[-1]
        message += f", and nothing in the project calls `{registry}.remove()`"
        confidence = confidence if hit else "medium"
    if res.kind == "cursor":
        partial = _partly_read(cast(str, holder.name), cast(cst.CSTNode, holder.node), flow) if holder.kind == "local" else None
        confidence = "high" if partial else "medium"
        if partial:
            message += f"; its result is read only in part (`{partial}`), so the rest stays pending on the shared connection"
    if opened.via:
        message += f" ({opened.via})"
    per_request = f" (opened per {_per(hit)}: {describe(hit)})" if hit else ""
    closable = (holder.kind == "local" and res.kind in ("connection", "session", "cursor")) or (holder.kind == "with" and res.kind == "connection")
    return Verdict(code, message + per_request, problem[1], Severity.ERROR if hit else None, confidence, closable)


def _verdicts(call: cst.Call, ctx: Context) -> Iterator[Verdict]:
    opened = opened_by(call, ctx)
    if opened is None:
        return
    if opened.memory:
        yield from _memory_verdicts(call, opened, ctx)
        return
    res = opened.res
    holder = holder_of(call, ctx)
    if opened.first:
        first = _first_of_tuple(call, holder, ctx)
        if first is None:
            return
        holder = first
    hit = request_context(ctx.index, ctx.config, ctx.function.qualname) if ctx.function is not None else None
    # a ``sessionmaker`` is a factory: making one opens nothing (its engine is what costs, and is
    # judged where it is created); a ``scoped_session`` registry keeps a session per thread
    long_lived = res.kind in ("connection", "pool", "engine", "client", "scoped")
    if opened.via is not None and not (opened.factory and holder.kind == "stored"):
        # a helper's connection opened per request or per item is reported where the helper opens
        # it (with the call path); what is new here is only whether this caller releases it. But a
        # factory's engine, pool or client stored on a shared object on every request
        # (``app.config["POOL"] = make_pool()``) replaces the last one each time: that store is
        # a problem of its own
        long_lived = False

    # 1. per loop iteration
    if long_lived and ctx.loop is not None and holder.kind not in ("stored",) and not _lazy_or_shared(call, holder, ctx):
        yield from _loop_verdicts(call, res, opened, holder, ctx)

    # 1b. per item of a loop in a caller: ``for url in urls: self._add(url)`` where ``_add`` opens
    if ctx.loop is None and long_lived:
        yield from _looping_caller(call, res, holder, ctx)

    # 2. not released
    flow = flow_of(ctx)
    if flow is not None and res.kind in ("connection", "session", "checkout", "cursor", "scoped") and not _registry_on_borrowed(call, res, holder, ctx):
        unreleased = _unreleased(call, opened, holder, flow, hit, ctx)
        if unreleased is not None:
            yield unreleased

    yield from _kept_verdicts(opened, holder, flow, hit, call, ctx)

    # 2d. a connection kept on Flask's ``g`` for the request that no teardown closes
    on_g = _kept_on_g_verdict(opened, holder, flow, hit, ctx) if res.kind == "connection" and opened.via is None and flow else None
    if on_g is not None:
        yield on_g

    # 2b. an engine, pool or client built in ``__init__`` of a class whose ``__new__`` hands back
    # a cached instance: Python still runs ``__init__`` on every call, so each call builds another
    if res.kind in FACTORY_KINDS and holder.kind == "stored":
        singleton = _singleton_verdict(call, opened, ctx)
        if singleton is not None:
            yield singleton
            return
    # 3. per request / per job (a factory's engine, pool or client: where the factory is called),
    # or on every call of whatever a decorator wraps
    if long_lived and hit is not None and not _lazy_or_shared(call, holder, ctx) and not _registry_removed(res, holder, flow) and not _memo_on_path(hit, ctx):
        if not (res.kind == "connection" and res.driver in EMBEDDED_DRIVERS) and not _in_except_branch(call, ctx):
            # (a database file opened per request holds no server's connection; one opened where
            # the ``try`` failed, ``except OperationalError: <create the database>``, runs on failure)
            yield _request_verdict(opened, hit)
    elif long_lived and res.kind in FACTORY_KINDS and not _lazy_or_shared(call, holder, ctx):
        yield from _in_decorator_wrapper(opened, ctx)

    # 4. a local connection/checkout/session held across slow external work until it is released
    # (not for one a helper opened: what the helper made it for, a transaction, is judged where it begins)
    if flow is not None and holder.kind == "local" and res.kind in ("connection", "session", "checkout") and opened.via is None:
        # a local holder has its name and assignment
        found = _held_slow(cast(str, holder.name), cast(cst.CSTNode, holder.node), res.kind == "session", flow, ctx)
        if found is not None:
            slow, what = found
            held = "keeps its pooled connection and open transaction" if res.kind == "session" else "stays checked out"
            noun = "session" if res.kind == "session" else "connection"
            yield Verdict(
                "QL205",
                f"the {noun} `{holder.name}` from `{opened.what}` {held} while {N.short(slow.func, 40)}(...) "
                f"at line {ctx.line(slow)} waits on {what}",
                "release it before the slow call or do the call first",
            )


def _kept_verdicts(opened: Opened, holder: Holder, flow: Optional[Flow], hit, call: cst.Call, ctx: Context) -> Iterator[Verdict]:
    res = opened.res
    # 2a. kept on the instance by a class that has a release method which never releases it
    if holder.kind == "stored" and res.kind in ("connection", "session"):
        kept = _kept_but_never_released(call, opened, holder, ctx) or _replaced_every_call(opened, holder, ctx)
        if kept is not None:
            yield kept
    # 2c. an engine made in a function for its own use and never disposed: its pool keeps the
    # connection it opened, one more pool on every call (per request without a helper: QL201's)
    if res.kind in ("engine", "pool") and holder.kind == "local" and flow is not None and not (hit and opened.via is None):
        undisposed = _engine_never_disposed(opened, holder, flow, hit, ctx)
        if undisposed is not None:
            yield undisposed


def _engine_never_disposed(opened: Opened, holder: Holder, flow: Flow, hit, ctx: Context) -> Optional[Verdict]:
    """``engine = create_engine(url)`` (or a project helper's engine) used and dropped: nothing
    disposes it, so its pool keeps the connection it checked out (a ``ResourceWarning: unclosed
    database`` for SQLite) and every call adds another pool. Likewise a connection pool
    (``pool = await asyncpg.create_pool(...)``) that nothing closes. Start-up functions
    (``main``) run once and are left alone."""
    fn = ctx.function
    if fn is None or holder.name is None:
        return None
    name = fn.qualname.rsplit(".", 1)[-1]
    if name in STARTUP_FUNCTION_NAMES or _decorated_cache(ctx):
        return None
    if mock_named(opened.what):
        return None  # ``create_mock_engine(bind, stream)``: an engine that prints its SQL, no pool
    fate = fate_of(holder.name, cast(cst.CSTNode, holder.node), flow, ctx, bound_in_with=True)
    if fate.closes or fate.escapes or fate.returned or fate.yielded or fate.with_uses:
        return None
    uses = [u for u in flow.uses.get(holder.name, ()) if flow.after(u, cast(cst.CSTNode, holder.node))]
    if not any(_connects(u, flow) for u in uses):
        return None  # only its ``url`` or ``dialect`` read: nothing connected
    if any(_kept_checkout(u, flow) for u in uses):
        return None  # ``conn = engine.connect()`` never closed: that leak is the finding
    if any(isinstance(n, cst.While) and N.literal(n.test) in (True, 1) for n in N.walk(flow.fn.body, into_functions=False)):
        return None  # a worker's ``while True``: one engine for the life of the process
    via = f" ({opened.via})" if opened.via else ""
    # set-up code runs once (``create_db()`` from a command, a check only ``main()`` calls): one
    # step less sure unless some caller is neither set-up code nor a command, script or test
    runtime = not _setup_caller(fn.qualname, ctx) and any(not _setup_caller(c, ctx) for c in ctx.index.callers_of(fn.qualname))
    runtime = runtime or _library_api(fn.qualname, ctx)
    per = f" (opened per {_per(hit)}: {describe(hit)})" if hit else ""
    confidence = "high" if runtime or hit else "medium"
    if opened.res.kind == "pool":
        close = "await pool.close()" if opened.res.driver == "asyncpg" else "pool.close()"
        return Verdict(
            "QL203",
            f"the connection pool `{holder.name}` from `{opened.what}` is never closed: its connections stay open, "
            f"and every call of `{name}()` leaves another pool behind{via}{per}",
            f"create one pool at start-up and reuse it, or `{close.replace('pool', holder.name)}` in a `finally` block",
            Severity.ERROR if hit else None,
            confidence=confidence,
        )
    return Verdict(
        "QL203",
        f"the engine `{holder.name}` from `{opened.what}` is never disposed: its pool keeps the connection it opened, "
        f"and every call of `{name}()` leaves another pool behind{via}{per}",
        f"call `{holder.name}.dispose()` in a `finally` block, or create one engine at module level and reuse it",
        Severity.ERROR if hit else None,
        confidence=confidence,
    )


_CONNECTING = {
    "connect", "begin", "execute", "raw_connection", "scalar", "scalars",
    "acquire", "getconn", "connection", "fetch", "fetchrow", "fetchval",  # a pool's
}
_SETUP_NAME = re.compile(
    r"_?(run_migrations\w*|migrate\w*|upgrade\w*|downgrade\w*|bootstrap\w*|install\w*|setup\w*|init|initiali[sz]e\w*|destroy\w*|teardown\w*"
    r"|init_\w+|(create|drop|reset|init|check)_(db|dbs|database|databases|all|tables|schema|schemas)(_\w+)?)"
)


def _connects(use: cst.CSTNode, flow: Flow) -> bool:
    """``engine.connect()``/``engine.begin()``... or the engine handed to a call (``meta.reflect(engine)``)."""
    parent = flow.parent.get(id(use))
    if isinstance(parent, cst.Attribute) and parent.value is use:
        return parent.attr.value in _CONNECTING
    return isinstance(parent, cst.Arg)


def _kept_checkout(use: cst.CSTNode, flow: Flow) -> bool:
    """``conn = engine.connect()`` (not ``with engine.connect() as conn``)."""
    parent = flow.parent.get(id(use))
    if not (isinstance(parent, cst.Attribute) and parent.value is use and parent.attr.value in ("connect", "raw_connection", "begin", "acquire", "getconn")):
        return False
    call = flow.parent.get(id(parent))
    # kept in a name; ``engine.raw_connection().set_isolation_level(...)`` is used and dropped
    return isinstance(call, cst.Call) and isinstance(flow.parent.get(id(call)), (cst.Assign, cst.AnnAssign, cst.AssignTarget))


def _library_api(qualname: str, ctx: Context) -> bool:
    """A public function of a library (the project has no request, task or command entry points)
    that nothing but its tests calls: its callers are the library's users, as often as they like
    (sqlalchemy-utils' ``create_database()`` in every test of a suite)."""
    fn = ctx.index.functions.get(qualname)
    if fn is None or fn.cls is not None or fn.nested_in or fn.name.startswith("_"):
        return False
    index = ctx.index
    if any(path_context(index.functions[c].path, ctx.config) != "test" for c in index.callers_of(qualname) if c in index.functions):
        return False  # the library's own code calls it: judged by those callers
    if any(part.startswith("_") and part != "__init__" for part in fn.module.split(".")):
        return False
    if path_context(fn.path, ctx.config) in ("command", "script", "test"):
        return False
    return not has_entry_points(ctx.index, ctx.config)


def _setup_caller(qualname: str, ctx: Context) -> bool:
    fn = ctx.index.functions.get(qualname)
    if fn is None:
        return False
    if fn.name in STARTUP_FUNCTION_NAMES or _SETUP_NAME.fullmatch(fn.name):
        return True
    return path_context(fn.path, ctx.config) in ("command", "script", "test")


def _held_slow(name: str, start: cst.CSTNode, is_session: bool, flow: Flow, ctx: Context):
    """The first slow call between opening ``name`` and its release (close/putconn/release)."""
    fate = fate_of(name, start, flow, ctx)
    if fate.escapes or not fate.closes:
        return None
    begin = flow.order.get(id(start), -1)
    end = max(flow.order.get(id(c), -1) for c in fate.closes)
    calls = [n for n in flow.calls() if begin < flow.order.get(id(n), -1) < end]
    calls.sort(key=lambda n: flow.order[id(n)])
    in_use = not is_session
    for n in calls:
        recv = N.receiver(n)
        if isinstance(recv, cst.Name) and recv.value == name:
            method = N.call_name(n)
            if is_session and method in SESSION_QUERY_METHODS:
                in_use = True
            elif is_session and method in SESSION_END_METHODS:
                in_use = False
            continue
        if not in_use or N.call_name(n) == "on_commit":
            continue
        what = slow_call(n, ctx)
        if what is not None:
            return n, what
    return None



def _is_dependency(ctx: Context) -> bool:
    """The current function is used as a FastAPI ``Depends(...)`` dependency itself."""
    frame = ctx.function
    if frame is None:
        return False
    hit = request_context(ctx.index, ctx.config, frame.qualname)
    return hit is not None and hit[0].startswith("dependency") and hit[1] == (frame.qualname,)


def _first_of_tuple(call: cst.Call, holder: Holder, ctx: Context) -> Optional[Holder]:
    """``conn, cur = get_dbconnc()``: the connection a helper hands out first in a tuple is held
    by the first name; kept whole (``pair = get_dbconnc()``) or passed on, it is not followed."""
    node = holder.node
    if holder.kind == "other" and isinstance(node, cst.Assign) and len(node.targets) == 1:
        target = node.targets[0].target
        if isinstance(target, (cst.Tuple, cst.List)) and target.elements and isinstance(target.elements[0].value, cst.Name):
            first = target.elements[0].value
            return Holder("local", first.value, first)  # uses after the name (the rest of the tuple is not one)
    return holder if holder.kind in ("with", "with-closing", "passed", "returned", "yielded", "stored") else None


def _partly_read(name: str, start: cst.CSTNode, flow: Flow) -> Optional[str]:
    """``name.fetchone()``/``name.fetchmany()`` after ``start``, with no ``fetchall()`` and no loop
    over ``name`` that would drain the result: the call that leaves rows unread."""
    partial = None
    for use in flow.uses.get(name, ()):
        if not flow.after(use, start):
            continue
        parent = flow.parent.get(id(use))
        if isinstance(parent, cst.Attribute) and parent.value is use:
            if parent.attr.value == "fetchall":
                return None
            if parent.attr.value in ("fetchone", "fetchmany") and partial is None:
                partial = f"{name}.{parent.attr.value}()"
        elif isinstance(parent, (cst.For, cst.CompFor)) and parent.iter is use:
            return None
        elif isinstance(parent, cst.Arg):
            return None  # handed to something that may drain it (``list(cur)``, a helper)
    return partial


def _close_fix(kind: str, name: str, what: str, driver: Optional[str] = None) -> str:
    if kind == "cursor" and driver == "django":
        return f"use `with {what} as {name}:` (the shared connection stays open; the cursor must not)"
    if kind == "cursor":
        # (sqlite3's cursor is no context manager)
        return f"use `with contextlib.closing({what}) as {name}:` (the connection stays open; the cursor must not)"
    if kind == "scoped":
        return f"create the registry once at module level and call `{name}.remove()` when the unit of work ends"
    return "use `with` or close it in a `finally` block"


def _with_problem(opened: Opened, holder: Holder, flow: Flow, ctx: Context) -> Optional[Tuple[str, ...]]:
    """``with psycopg2.connect() as conn`` (ends the transaction, keeps the connection open) and
    ``with pool.getconn() as conn`` (does not give it back)."""
    res, what = opened.res, opened.what
    if res.kind == "connection" and res.driver in WITH_DOES_NOT_CLOSE:
        if holder.name is not None:
            fate = fate_of(holder.name, cast(cst.CSTNode, holder.node), flow, ctx)  # the WithItem
            if fate.closes or fate.escapes or fate.returned:
                return None
        return (
            f"`with {what}` commits or rolls back the transaction on exit but does not close the connection",
            f"use `with contextlib.closing({what}) as conn` or close it in a `finally` block",
        )
    if opened.checkout == "getconn":
        return (
            f"`with {what}` does not return the connection to `{opened.pool_text}`",
            f"call `{opened.pool_text}.putconn(conn)` in a `finally` block",
        )
    return None


def _release_problem(call: cst.Call, opened: Opened, holder: Holder, flow: Flow, ctx: Context) -> Optional[Tuple[str, ...]]:
    """(what is wrong, the fix[, a lower confidence]) when the resource ``call`` opens is not
    released on every path."""
    res = opened.res
    what = opened.what
    if res.kind == "session" and res.driver == "sqlalchemy":
        # calling a scoped_session registry returns the thread's session (removed at teardown)
        factory = expr_resource(call.func, ctx) if isinstance(call.func, (cst.Name, cst.Attribute)) else None
        if factory is not None and factory.kind == "scoped" and registry_cleaned(call.func, ctx):
            return None
    if holder.kind == "with":
        return _with_problem(opened, holder, flow, ctx)
    if holder.kind == "discarded" and res.kind in ("connection", "session", "checkout"):
        return _thrown_away(call, opened, holder, ctx)
    if holder.kind == "chained" and res.kind == "session" and res.driver == "sqlalchemy":
        factory = expr_resource(call.func, ctx) if isinstance(call.func, (cst.Name, cst.Attribute)) else None
        return None if factory is not None and factory.kind == "scoped" else _used_once(call, opened, holder)
    if holder.kind != "local" or holder.name is None:
        return None
    if opened.checkout == "acquire" and not isinstance(ctx.parent_of(call), cst.Await):
        return None  # ``pool.acquire()`` not awaited: a context manager used elsewhere
    name = holder.name
    fate = fate_of(name, cast(cst.CSTNode, holder.node), flow, ctx)  # a local holder has its assignment
    if fate.escapes:
        return None
    closing_with = [w for w in fate.with_uses if not (res.kind == "connection" and res.driver in WITH_DOES_NOT_CLOSE)]
    if closing_with:
        return None
    if opened.checkout in ("getconn", "acquire"):
        return _pool_return_problem(name, opened, fate, flow, cast(cst.CSTNode, holder.node), ctx)
    # plain connections, sessions, raw/engine connections
    if fate.returned and not fate.yielded:
        if _is_dependency(ctx) and not fate.closes:
            return (
                f"the dependency returns `{name}` from `{what}`, and FastAPI never closes what a dependency returns",
                f"`yield {name}` and close it in a `finally` block",
            )
        return None
    if fate.yielded and fate.closes:
        return None
    noun = {"session": "session", "checkout": "connection", "cursor": "cursor", "scoped": "scoped session registry"}.get(res.kind, "connection")
    if not fate.closes:
        if fate.yielded:
            return (
                f"the dependency yields `{name}` from `{what}` but never closes it",
                "close it after the `yield` in a `finally` block",
            )
        return f"the {noun} `{name}` from `{what}` is never closed", _close_fix(res.kind, name, what, res.driver)
    if res.kind == "cursor":
        return None  # closed on the normal path: enough for a cursor
    ex = early_exit(name, cast(cst.CSTNode, holder.node), fate, flow)
    if ex is not None:
        word = "returns" if isinstance(ex, cst.Return) else "raises"
        return (
            f"the {noun} `{name}` from `{what}` is not closed when the function {word} at line {ctx.line(ex)}",
            "use `with` or close it in a `finally` block",
        )
    # a session, a checked-out or a plain connection that an exception leaves open holds a pool
    # slot or a server backend until the collector gets to it. Opened on every pass of a loop (a
    # worker's ``while True`` writing each queued row: pyiem's telemetry writer), the failures
    # pile up within one run: reported. Elsewhere a close on the normal path is how many projects
    # fix a leak (dispatch, CAS's ingest jobs): a session or checkout is shown with
    # ``--min-confidence medium``, a plain DB-API connection is left alone
    risky = _fails_before_close(cast(cst.CSTNode, holder.node), fate, flow) if res.kind in ("session", "checkout", "scoped", "connection") else None
    if risky is None:
        return None
    repeated = _opened_per_pass(ctx)
    if res.kind == "connection":
        # a plain connection: per pass of a loop, or per request (a server's backend, not a pool slot)
        repeated = repeated or _per_request(ctx)
        if res.driver in EMBEDDED_DRIVERS or opened.memory or not repeated:
            return None
    by_hand = len(fate.closes) > 1 or _conditional(fate.closes[0], flow)  # closes before several exits, or under an ``if``
    return (
        f"the {noun} `{name}` from `{what}` is closed only when nothing fails: an exception from "
        f"`{N.short(risky.func, 40)}(...)` at line {ctx.line(risky)} skips the close at line {ctx.line(fate.closes[0])}",
        f"call `{name}.remove()` in a `finally` block" if res.kind == "scoped" else "use `with` or close it in a `finally` block",
        "high" if repeated and res.kind != "scoped" and not by_hand and not _runs_once(ctx) else "medium",
    )


def _opened_per_pass(ctx: Context) -> bool:
    """The open runs on every pass of a loop: in its body, or in a function defined there."""
    if ctx.loop is not None:
        return True
    fn = ctx.function
    return fn is not None and any(isinstance(a, (cst.For, cst.While)) for a in ctx.ancestors(fn.node))


def _per_request(ctx: Context) -> bool:
    fn = ctx.function
    return fn is not None and request_context(ctx.index, ctx.config, fn.qualname) is not None


def _conditional(node: cst.CSTNode, flow: Flow) -> bool:
    return any(isinstance(a, (cst.If, cst.IfExp)) for a in flow.ancestors(node))


def _runs_once(ctx: Context) -> bool:
    """The current function is set-up code, or only set-up code, commands and scripts call it."""
    fn = ctx.function
    if fn is None:
        return True
    callers = ctx.index.callers_of(fn.qualname)
    return _setup_caller(fn.qualname, ctx) or (bool(callers) and all(_setup_caller(c, ctx) for c in callers))


def _thrown_away(call: cst.Call, opened: Opened, holder: Holder, ctx: Context) -> Optional[Tuple[str, str]]:
    """A connection or session nothing keeps: a statement of its own, or a lambda's result that a
    project function hands back to a caller who drops it."""
    if opened.checkout == "acquire" and not isinstance(ctx.parent_of(call), cst.Await):
        return None
    if not isinstance(holder.node, cst.Call) and opened.res.kind == "connection" and not opened.checkout and _probe(call, ctx):
        return None
    what = opened.what
    noun = "session" if opened.res.kind == "session" else "connection"
    if isinstance(holder.node, cst.Call):
        via = N.short(holder.node.func, 40)
        return (
            f"the {noun} `{what}` made by the lambda comes back from `{via}(...)` and is thrown away: nothing closes it",
            f"keep it (`conn = {via}(...)`) and close it in a `finally` block",
        )
    return f"`{what}` opens a {noun} that is thrown away: nothing closes it", f"keep it and close it (`with contextlib.closing({what}) as conn:`)"


def _used_once(call: cst.Call, opened: Opened, holder: Holder) -> Optional[Tuple[str, str]]:
    """``db.Session().execute(sql).scalar()``: a session made for one statement and dropped. Its
    transaction keeps the pooled connection it checked out, and a session sits in reference
    cycles, so the connection stays taken until a garbage collection. (A ``scoped_session``
    registry's thread session is judged with the registry, before this.)"""
    method = cast(cst.Attribute, holder.node).attr.value
    if method not in SESSION_QUERY_METHODS:
        return None
    what = opened.what
    return (
        f"`{what}` opens a session for one `.{method}(...)` and drops it: nothing closes it, so its "
        f"connection stays checked out until a garbage collection",
        f"`with {what} as session:` and run the statement on `session`",
    )


def _probe(call: cst.Call, ctx: Context) -> bool:
    """``try: psycopg2.connect(**kwargs)`` / ``except Exception: return DOWN``: a statement of its
    own that only tests whether the database answers. Nothing keeps the connection, so the
    interpreter frees (and closes) it at once; a pool's checkout would stay taken."""
    expr = ctx.parent_of(call)
    stmt = ctx.parent_of(expr) if expr is not None else None  # Call -> Expr -> SimpleStatementLine
    block = ctx.parent_of(stmt) if stmt is not None else None
    return isinstance(block, cst.IndentedBlock) and isinstance(ctx.parent_of(block), cst.Try) and bool(cast(cst.Try, ctx.parent_of(block)).handlers)


def _pool_return_problem(name: str, opened: Opened, fate: Fate, flow: Flow, start: cst.CSTNode, ctx: Context) -> Optional[Tuple[str, str]]:
    """A connection from ``pool.getconn()`` / ``await pool.acquire()`` not given back on every path."""
    what = opened.what
    verb = "putconn" if opened.checkout == "getconn" else "release"
    if fate.returned and not fate.yielded:
        return None
    returns = [c for c in fate.closes if isinstance(c, cst.Call) and N.call_name(c) in RETURN_METHODS]
    if any(flow.in_finally(c) for c in returns) or any(flow.in_finally(c) for c in fate.closes):
        return None
    if opened.checkout == "acquire":
        how = f"use `async with {opened.pool_text}.acquire() as {name}:` or `await {opened.pool_text}.release({name})` in a `finally` block"
    else:
        how = f"call `{opened.pool_text}.putconn({name})` in a `finally` block"
    if returns or fate.closes:
        ex = early_exit(name, start, fate, flow)
        if ex is not None:
            word = "returns" if isinstance(ex, cst.Return) else "raises"
            return f"`{name}` checked out with `{what}` is not returned to the pool when the function {word} at line {ctx.line(ex)}", how
        return f"`{name}` checked out with `{what}` is returned to the pool only when no exception is raised", how
    if fate.yielded:
        return f"the dependency yields `{name}` checked out with `{what}` but never returns it to the pool", how
    return f"`{name}` checked out with `{what}` is never returned to the pool ({verb})", how


def _fails_before_close(start: cst.CSTNode, fate: Fate, flow: Flow) -> Optional[cst.Call]:
    """The first call between the open and the first close, when the close is on the normal path
    only: no ``try`` anywhere from the open to the close (a ``finally`` or a handler that closes and
    re-raises, or one that swallows the error and lets the close run, is the author's choice), no
    close registered as a callback. The exception path then leaks the resource."""
    closes = [c for c in fate.closes if isinstance(c, cst.Attribute) and isinstance(flow.parent.get(id(c)), cst.Call)]
    if not closes or len(closes) != len(fate.closes) or fate.closes_in_finally:
        return None
    begin = flow.order.get(id(start), -1)
    first_close = min(closes, key=lambda c: flow.order.get(id(c), -1))
    end = flow.order.get(id(flow.parent.get(id(first_close))), -1)  # the ``close()`` call itself
    if begin < 0 or end <= begin:
        return None
    for node in (start, first_close):
        if any(isinstance(a, (cst.Try, cst.TryStar, cst.With)) for a in flow.ancestors(node)):
            return None  # inside a ``try`` (or a ``with`` that may handle it): not judged
    for anc in N.walk(flow.fn.body, into_functions=False):
        if isinstance(anc, (cst.Try, cst.TryStar)) and begin < flow.order.get(id(anc), -1) < end:
            return None
    start_id = id(start)
    for call in sorted(flow.calls(), key=lambda c: flow.order.get(id(c), -1)):
        o = flow.order.get(id(call), -1)
        if begin < o < end and not any(a is start or id(a) == start_id for a in flow.ancestors(call)):
            if N.call_name(call) in CANNOT_FAIL_CALLS:
                continue
            while isinstance(call.func, cst.Attribute) and isinstance(call.func.value, cst.Call):
                call = call.func.value  # ``session.query(M).filter(...)``: the first to run
            return call
    return None



TRANSACTION_METHODS = {"begin", "begin_nested", "transaction", "atomic"}
SESSION_QUERY_METHODS = {"execute", "scalars", "scalar", "get", "query", "add", "add_all", "flush", "merge", "delete", "refresh", "get_one"}
SESSION_END_METHODS = {"commit", "rollback", "close"}


def hold_of(item: cst.WithItem, ctx: Context) -> Optional[Tuple[str, str]]:
    """(kind, description) when a ``with`` item holds a transaction or a pooled connection."""
    expr = item.item
    if isinstance(expr, cst.Await):
        expr = expr.expression
    if isinstance(expr, cst.Call) and N.call_name(expr) in ("closing", "aclosing") and N.arg(expr, 0) is not None:
        expr = cast(cst.BaseExpression, N.arg(expr, 0))  # ``with closing(psycopg2.connect(...)) as conn``
    if isinstance(expr, cst.Call):
        q = ctx.qualify(expr.func) or ""
        name = N.call_name(expr)
        recv = N.receiver(expr)
        if q in ("django.db.transaction.atomic", "django.db.transaction.Atomic") or (name == "atomic" and q.startswith("django.")):
            return "transaction", "a database transaction (`transaction.atomic()`)"
        opened = opened_by(expr, ctx)
        if opened is not None and opened.memory:
            return None
        if opened is not None:
            if opened.res.kind == "session":
                return "session", f"a session (`{opened.what}`)"
            if opened.res.kind in ("connection", "checkout"):
                return "connection", f"a database connection (`{opened.what}`)"
            return None
        if recv is not None and name in TRANSACTION_METHODS:
            if (N.dotted(recv) or "").split(".")[0] in ("requests", "httpx", "redis", "r", "pipe", "pipeline"):
                return None
            owner = expr_resource(recv, ctx)
            if owner is not None and owner.kind in ("client",):
                return None
            return "transaction", f"a database transaction (`{N.short(expr, 40)}`)"
        if recv is not None and name in ("acquire", "connection") and (by_pool_name(recv) or (expr_resource(recv, ctx) or Resource("", "")).kind == "pool"):
            return "connection", f"a pooled connection (`{N.short(expr, 40)}`)"
        if recv is not None and name in ("get_connection",):
            return None
        return None
    if isinstance(expr, (cst.Name, cst.Attribute)):
        obj = infer(expr, ctx)
        if obj is None and isinstance(expr, cst.Name) and _conn_name(expr.value):
            # ``conn = open_connection()`` (a project factory): judged by the conventional name
            b = ctx.binding(expr.value, at=expr)
            if b is not None and b.is_simple and isinstance(b.value, cst.Call) and _project_function(b.value, ctx):
                obj = DbObject("connection", None, "name")
        if obj is not None and obj.kind == "connection" and obj.driver != "django" and obj.driver not in ("sqlalchemy",):
            return "transaction", f"a transaction on `{N.short(expr, 30)}`"
    return None


def _project_function(call: cst.Call, ctx: Context) -> bool:
    name = N.dotted(call.func)
    if not name or name.split(".")[0] in ("self", "cls"):
        return False
    return ctx.index.resolve_function(ctx.qualify(call.func) or name, ctx.function_facts()) is not None


def _conn_name(name: str) -> bool:
    n = name.lstrip("_").lower()
    return n in ("conn", "connection", "con", "db_conn", "dbconn", "pg_conn", "cnx", "raw_conn") or n.endswith("_conn")


def slow_call(call: cst.Call, ctx: Context, queued: bool = False) -> Optional[str]:
    """What slow external work ``call`` does (an HTTP/SDK call, a subprocess, mail), directly or
    through project functions; with ``queued``, a job a project function hands to a queue too."""
    q = ctx.qualify(call.func)
    desc = slow_target(q)
    if desc is not None:
        if q == "asyncio.sleep" and N.literal(N.arg(call, 0)) == 0:
            return None
        return desc
    name = N.call_name(call)
    recv = N.receiver(call)
    if recv is not None and name not in ("close", "aclose", "__enter__", "__exit__"):
        client = _client_kind(recv, ctx)
        if client is not None:
            return f"{article(client)} {client} call (`{N.short(call.func, 40)}`)"
    # a project function doing slow work
    func_name = N.dotted(call.func)
    if func_name is None:
        return None
    index = ctx.index
    target = None
    head = func_name.split(".")[0]
    if head in ("self", "cls") and func_name.count(".") == 1:
        cls = ctx.class_frame
        if cls is not None:
            target = index.find_method(cls.qualname, func_name.split(".")[1])
    elif head not in ("self", "cls"):
        b = ctx.binding(head, at=call)
        if b is None or b.kind in ("import", "def", "class"):
            target = index.resolve_function(q or func_name, ctx.function_facts())
            if target is None and "." not in func_name:
                target = index.functions.get(f"{ctx.module}.{func_name}")
    if target is None:
        return None
    path = slow_paths(index).get(target.qualname) or (queued_paths(index).get(target.qualname) if queued else None)
    if path is None:
        return None
    chain = " -> ".join(p.rsplit(".", 1)[-1] + "()" for p in path[:-1])
    return f"{path[-1]} via {chain}"


def _client_kind(recv, ctx: Context) -> Optional[str]:
    if isinstance(recv, cst.Call):
        q = ctx.qualify(recv.func)
        return SLOW_CLIENTS.get(q or "")
    if isinstance(recv, cst.Attribute):
        # ``s3.meta.client`` / ``client.chat.completions``: judge by the root
        root: cst.BaseExpression = recv
        while isinstance(root, cst.Attribute):
            root = root.value
        if isinstance(root, cst.Name) and root.value not in ("self", "cls"):
            return _client_kind(root, ctx)
        return None
    if isinstance(recv, cst.Name):
        for b in reversed(ctx.bindings(recv.value, at=recv)):
            value = b.value
            if isinstance(value, cst.Await):
                value = value.expression
            if b.kind in ("assign", "annassign", "with") and b.is_simple and isinstance(value, cst.Call):
                q = ctx.qualify(value.func) or ""
                if q in SLOW_CLIENTS:
                    return SLOW_CLIENTS[q]
                if N.call_name(value) in ("client", "resource") and isinstance(value.func, cst.Attribute):
                    inner = value.func.value
                    inner_q = ctx.qualify(inner.func) if isinstance(inner, cst.Call) else None
                    if inner_q in SLOW_CLIENTS:
                        return SLOW_CLIENTS[inner_q]
            return None
    return None


# --------------------------------------------------------------------------- per-item external work

_NESTED_LOOPS = (cst.For, cst.While, cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)


def _outside_nested_loops(body: cst.CSTNode):
    """The nodes of ``body`` (pre-order) outside nested functions and nested loops; a nested
    loop's iterable is still visited (it is evaluated once per item)."""
    stack = [body]
    while stack:
        node = stack.pop()
        yield node
        if node is not body and isinstance(node, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
            continue
        if node is not body and isinstance(node, _NESTED_LOOPS):
            head = node.iter if isinstance(node, cst.For) else (node.test if isinstance(node, cst.While) else node.for_in.iter)
            stack.append(head)
            continue
        kids = list(N.children(node))
        kids.reverse()
        stack.extend(kids)


def external_work_per_item(loop, ctx: Context) -> Optional[str]:
    """What slow external work the body of ``loop`` does on each item besides the database (an
    HTTP or SDK call, a subprocess, mail, a job handed to a queue, directly or through project
    functions), or None. Beside such work a query per item is not what makes the loop slow.
    Work inside a nested loop does not count: it runs once per item of that inner collection
    (``for webhook in Webhook.objects.filter(...): queue.enqueue(...)``, none when it is empty),
    while the outer loop's query runs for every item whatever it holds."""

    def compute() -> Optional[str]:
        body = getattr(loop.node, "body", None) if loop.kind != "comprehension" else loop.node
        if body is None:
            return None
        for n in _outside_nested_loops(body):
            if not isinstance(n, cst.Call):
                continue
            if N.call_name(n) in ENQUEUE_METHODS and isinstance(n.func, cst.Attribute):
                return f"a job queued per item (`{N.short(n.func, 40)}`)"
            what = slow_call(n, ctx, queued=True)
            if what is not None:
                return what
        return None

    return ctx.memo(("external-work", id(loop.node)), compute)
