"""Resource lifetime: what a call opens, where the result goes, and what becomes of it in its function.

The dataflow the connection rules (QL2xx) judge by, with no verdict of its own:

* :func:`opened_by`: what a call opens (:class:`Opened`): a connection, engine, pool, client,
  session, or a checkout from a pool/engine (``pool.getconn()``, ``engine.connect()``);
* :func:`holder_of`: where the result goes (:class:`Holder`): a local name, ``with ... as``,
  stored on an attribute, returned, yielded, passed on;
* :func:`flow_of`: one function body in source order with its parents, name uses and exits
  (:class:`Flow`, nested functions not entered);
* :func:`fate_of`: what becomes of a local name after it is bound (:class:`Fate`): closed
  (and whether in a ``finally``), used in a ``with``, escaping, returned, yielded;
  :func:`early_exit`: a ``return``/``raise`` that leaves before the close runs.

A module of its own rather than part of :mod:`querylint.frameworks.connections`: that module is
the project-wide connection model, pure functions over the index facts computed once per run;
this one walks one function's libcst tree through its :class:`~querylint.context.Context`
(bindings, parents, per-file memos) and builds on that model (:func:`resource_of`,
:func:`module_resource`) and on :func:`querylint.frameworks.dbapi.infer`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Dict, List, Optional, Set, Tuple, cast

import libcst as cst

from querylint import nodes as N
from querylint.frameworks.connections import Resource, module_resource, resource_of
from querylint.frameworks.dbapi import infer
from querylint.project.callees import resolve_callee
from querylint.scope import memo_target
if TYPE_CHECKING:  # pragma: no cover
    from querylint.context import Context

# --------------------------------------------------------------------------- what a call opens

CLOSE_METHODS = {"close", "dispose", "aclose", "release", "terminate", "disconnect", "remove"}
RETURN_METHODS = {"putconn", "release", "put", "return_connection", "release_connection"}
# builtins that neither keep a connection nor raise on the way to its close
CANNOT_FAIL_CALLS = {"print", "len", "repr", "str", "isinstance", "id", "type", "bool", "hasattr", "getattr"}
NON_OWNING_CALLS = CANNOT_FAIL_CALLS | {
    "logging", "log", "debug", "info", "warning",
    # library calls that run on a connection and keep nothing: SQLAlchemy's inspection and dialect
    # checks, pandas' readers and writers
    "has_table", "has_schema", "has_sequence", "has_index", "inspect", "get_table_names", "read_sql", "read_sql_query", "read_sql_table", "to_sql",
    "reflect", "create_all", "drop_all",  # ``MetaData().reflect(engine)``: runs on it, keeps nothing
}
MEMORY_URLS = ("sqlite://", "sqlite:///:memory:", "sqlite+pysqlite://", "sqlite+pysqlite:///:memory:", "sqlite+aiosqlite://", "sqlite+aiosqlite:///:memory:")
ENGINE_NAME_HINTS = ("engine",)


@dataclass(frozen=True)
class Opened:
    res: Resource
    what: str  # ``psycopg2.connect(...)`` for messages
    checkout: Optional[str] = None  # getconn / acquire / raw_connection / connect (SQLAlchemy engine)
    pool_text: Optional[str] = None  # the pool/engine expression for checkouts
    via: Optional[str] = None  # a project helper that returns it: ``create_session() returns SessionLocal()``
    first: bool = False  # the helper returns it first in a tuple (``conn, cur = get_dbconnc()``)
    factory: bool = False  # a project factory hands out an engine, pool or client (``make_pool()``)
    # an in-memory database (``sqlite3.connect(":memory:")``): no server connection to spend per
    # request or per item, but still a connection its opener must close
    memory: bool = False
    # the thread's session of a ``scoped_session`` registry nothing removes: one per thread, so a
    # leak that matters on a request or job path
    thread_session: bool = False


def _call_text(call: cst.Call) -> str:
    return f"{N.short(call.func, 50)}(...)" if call.args else f"{N.short(call.func, 50)}()"


def _is_memory_db(call: cst.Call, res: Resource) -> bool:
    if res.kind == "connection" and res.driver in ("sqlite3", "aiosqlite", "duckdb"):
        first = N.arg(call, 0, "database")
        if first is None:
            return res.driver == "duckdb"
        text = N.string_value(first)
        return text is not None and (text in (":memory:", "") or text.startswith("file::memory:") or "mode=memory" in text)
    if res.kind == "engine":
        text = N.string_value(N.arg(call, 0, "url"))
        return text is not None and (text in MEMORY_URLS or text.endswith(":memory:"))
    return False


def _local_resource(name: cst.Name, ctx: Context) -> Optional[Resource]:
    """The resource a name's latest binding was made by (``engine = create_engine(...)``)."""
    b = ctx.binding(name.value, at=name)
    if b is not None and b.kind in ("assign", "annassign", "with") and b.is_simple and isinstance(b.value, (cst.Call, cst.Await)):
        value = b.value.expression if isinstance(b.value, cst.Await) else b.value
        if isinstance(value, cst.Call):
            return resource_of(ctx.qualify(value.func))
    return None


def expr_resource(expr, ctx: Context) -> Optional[Resource]:
    """What a receiver holds: a local/module engine, pool or session factory."""
    if expr is None:
        return None
    if isinstance(expr, cst.Name):
        res = _local_resource(expr, ctx)
        if res is not None:
            return res
    res = module_resource(ctx.index, ctx.qualify(expr))
    if res is not None:
        return res
    obj = infer(expr, ctx)
    if obj is not None:
        if obj.kind == "engine":
            return Resource("engine", "engine", "sqlalchemy")
        if obj.kind == "pool":
            return Resource("pool", "connection pool", obj.driver)
    return None


_SINGLE_CONNECTION_POOLS = {"StaticPool", "SingletonThreadPool", "AssertionPool"}


def _single_connection_engine(recv: cst.BaseExpression, ctx: Context) -> bool:
    """A local engine made with a pool of one shared connection (``create_engine("sqlite://",
    poolclass=StaticPool)``): a connection left unreturned exhausts nothing."""
    if not isinstance(recv, cst.Name):
        return False
    b = ctx.binding(recv.value, at=recv)
    if b is None or b.kind not in ("assign", "annassign") or not isinstance(b.value, cst.Call):
        return False
    pool = N.arg(b.value, keyword="poolclass")
    return pool is not None and (N.dotted(pool) or "").rsplit(".", 1)[-1] in _SINGLE_CONNECTION_POOLS


def mock_named(text: str) -> bool:
    """Named as a stand-in (``create_mock_engine``, ``fake_pool``): no real connection behind it."""
    text = text.lower()
    return any(word in text for word in ("mock", "fake", "dummy", "stub"))


def _looks_engine(expr) -> bool:
    """Named as an engine: ``engine``, ``db.read_engine``, or a call of ``get_engine(...)`` /
    ``db._get_engine(...)`` (a project helper that hands out a cached or new engine)."""
    if isinstance(expr, cst.Call):
        expr = expr.func
    text = (N.dotted(expr) or "").lower()
    last = text.rsplit(".", 1)[-1]
    if mock_named(last):
        return False  # ``create_mock_engine(url, executor)``: prints SQL, holds no pool
    return bool(last) and (last.lstrip("_") in ENGINE_NAME_HINTS or last.endswith("_engine"))


def _engine_checkout_text(callee: str) -> bool:
    """``engine.connect`` / ``self._engine.raw_connection`` / ``db.read_engine.connect`` (a call
    target as text): a checkout of an engine named as one."""
    parts = callee.split(".")
    if len(parts) < 2 or parts[-1] not in ("connect", "raw_connection"):
        return False
    last = parts[-2].lower()
    return last.lstrip("_") in ENGINE_NAME_HINTS or last.endswith("_engine")


def _django_connection(expr: cst.BaseExpression, ctx: Context) -> bool:
    """``django.db.connection`` or ``django.db.connections[alias]`` (the thread's shared connection)."""
    if isinstance(expr, cst.Subscript):
        return ctx.qualify(expr.value) == "django.db.connections"
    return ctx.qualify(expr) == "django.db.connection"


def borrows_connection(bind: Optional[cst.BaseExpression]) -> bool:
    """A session bound to a connection someone else holds (``bind=session.connection()``,
    ``bind=connection`` in an event listener or a test fixture), not to an engine."""
    if isinstance(bind, cst.Call):
        return N.call_name(bind) == "connection"
    last = (N.dotted(bind) or "").rsplit(".", 1)[-1].lower() if bind is not None else ""
    return last in ("conn", "connection", "connectable") or last.endswith(("_conn", "_connection"))


def registry_cleaned(registry: cst.BaseExpression, ctx: Context) -> bool:
    """The project ends the thread's session of a ``scoped_session`` registry somewhere: a
    ``Session.remove()`` (or ``.close()``) at teardown, in a task hook or a ``finally``. A registry
    nobody removes keeps each thread's session, and the connection its transaction checked out,
    after the request that used it."""
    name = (N.dotted(registry) or "").rsplit(".", 1)[-1]
    if not name:
        return True
    cleaned = ctx.index.derived("scoped-registries-cleaned", _registries_cleaned)
    return name in cleaned


def _registries_cleaned(index) -> Set[str]:
    out: Set[str] = set()
    for fn in index.functions.values():
        for target in fn.calls:
            parts = target.split(".")
            if len(parts) >= 2 and parts[-1] in ("remove", "close", "close_all"):
                out.add(parts[-2])
    for ff in index.modules.values():
        for _name, call in ff.module_calls:
            parts = call.func.split(".")
            if len(parts) >= 2 and parts[-1] in ("remove", "close", "close_all"):
                out.add(parts[-2])
    return out


def opened_by(call: cst.Call, ctx: Context) -> Optional[Opened]:
    """What ``call`` opens, when it is a known constructor or a pool/engine checkout."""
    return ctx.memo(("ql2-opened", id(call)), lambda: _opened_by(call, ctx))


def _opened_by(call: cst.Call, ctx: Context) -> Optional[Opened]:
    func = call.func
    if isinstance(func, cst.Call):
        # ``sessionmaker(bind=engine)()``
        inner = resource_of(ctx.qualify(func.func))
        if inner is not None and inner.kind == "sessionmaker":
            return Opened(Resource("session", "session", "sqlalchemy"), _call_text(call))
        return None
    q = ctx.qualify(func)
    res = resource_of(q) or _subclass_resource(q, ctx)
    if res is not None:
        if _is_memory_db(call, res):
            return Opened(res, _call_text(call), memory=True) if res.kind == "connection" else None
        if res.kind == "client" and N.arg(call, keyword="connection_pool") is not None:
            return None  # a client over a shared pool opens nothing new
        if res.kind == "session" and borrows_connection(N.arg(call, keyword="bind")):
            return None  # ``Session(bind=session.connection())``: the connection's owner releases it
        return Opened(res, _call_text(call))
    # calling a session factory: ``SessionLocal()`` (a module-level or local sessionmaker)
    if isinstance(func, (cst.Name, cst.Attribute)):
        factory = module_resource(ctx.index, q)
        module_level = factory is not None
        if factory is None and isinstance(func, cst.Name):
            factory = _local_resource(func, ctx)
        if factory is None and isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == "self":
            factory = _instance_factory(func.attr.value, ctx)
        if factory is not None and factory.kind == "sessionmaker":
            return Opened(Resource("session", "session", "sqlalchemy"), _call_text(call))
        if factory is not None and factory.kind == "scoped" and module_level and not registry_cleaned(func, ctx):
            # the thread's session of a registry nobody ``remove()``s: left open, it keeps the
            # connection its transaction checked out after the request that used it
            return Opened(Resource("session", "session", "sqlalchemy"), _call_text(call), thread_session=True)
        if factory is None and _session_factory_name(func, q, ctx):
            return Opened(Resource("session", "session", "sqlalchemy"), _call_text(call))
        helper = _helper_opened(call, q, ctx)
        if helper is not None:
            return helper
    name = N.call_name(call)
    recv = N.receiver(call)
    if name == "cursor" and recv is not None and _django_connection(recv, ctx):
        # Django's connection lives for the thread: closing the function closes nothing, so a
        # cursor taken from it stays open until it is closed (``with connection.cursor() as c``)
        return Opened(Resource("cursor", "cursor", "django"), f"{N.short(recv, 40)}.cursor()")
    if name == "cursor" and recv is not None and not call.args and _long_lived_connection(recv, ctx):
        # likewise a cursor of a DB-API connection that outlives the function (an attribute of
        # ``self``, a parameter): only closing the cursor releases it
        return Opened(Resource("cursor", "cursor", None), f"{N.short(recv, 40)}.cursor()")
    if recv is None or name not in ("getconn", "acquire", "raw_connection", "connect"):
        return None
    owner = expr_resource(recv, ctx)
    text = N.short(recv, 40)
    if name == "getconn" and (owner is not None and owner.kind == "pool" or by_pool_name(recv)):
        return Opened(Resource("checkout", "pooled connection", owner.driver if owner else None), f"{text}.getconn()", "getconn", text)
    if name == "acquire" and (owner is not None and owner.kind == "pool" or by_pool_name(recv)):
        return Opened(Resource("checkout", "pooled connection", owner.driver if owner else None), f"{text}.acquire()", "acquire", text)
    if name in ("raw_connection", "connect") and (owner is not None and owner.kind == "engine" or (owner is None and _looks_engine(recv))):
        if _single_connection_engine(recv, ctx):
            return None  # ``poolclass=StaticPool``: every checkout is the one shared connection
        return Opened(Resource("checkout", "pooled connection", "sqlalchemy"), f"{text}.{name}()", name, text)
    return None


def _instance_factory(attr: str, ctx: Context) -> Optional[Resource]:
    """The session factory a method of the current class stores as ``self.<attr>``
    (``self._session_factory = sessionmaker(bind=self._engine)`` in ``__init__``), in this file."""
    fn = ctx.function
    own = fn.facts if fn is not None else None
    if own is None or own.cls is None:
        return None

    def compute() -> Dict[str, Resource]:
        found: Dict[str, Resource] = {}
        class_name = cast(str, own.cls).rsplit(".", 1)[-1]
        for node in _classes_named(class_name, ctx):
            for n in N.walk(node):
                if isinstance(n, cst.Assign) and isinstance(n.value, cst.Call) and len(n.targets) == 1:
                    t = n.targets[0].target
                    res = resource_of(ctx.qualify(n.value.func))
                    if res is not None and res.kind == "sessionmaker" and isinstance(t, cst.Attribute) and N.dotted(t.value) == "self":
                        found[t.attr.value] = res
        return found

    return ctx.memo(("instance-session-factories", own.cls), compute).get(attr)


def _classes_named(name: str, ctx: Context) -> List[cst.ClassDef]:
    """The file's classes called ``name``, at any depth (found once per file, from its statements)."""

    def compute() -> Dict[str, List[cst.ClassDef]]:
        found: Dict[str, List[cst.ClassDef]] = {}
        for node in N.statements(ctx.module_node):
            if type(node) is cst.ClassDef:
                found.setdefault(cast(cst.ClassDef, node).name.value, []).append(cast(cst.ClassDef, node))
        return found

    return ctx.memo(("classes-by-name",), compute).get(name, [])


def _long_lived_connection(recv: cst.BaseExpression, ctx: Context) -> bool:
    """``self.conn`` holding a DB-API connection (by its name or its type): the object keeps it
    open after this function returns. (A parameter ``conn`` is often the caller's connection,
    closed as soon as the caller is done: not judged.)"""
    if not (isinstance(recv, cst.Attribute) and isinstance(recv.value, cst.Name) and recv.value.value in ("self", "cls")):
        return False
    obj = infer(recv, ctx)
    return obj is not None and obj.kind == "connection" and obj.driver != "django"


# drivers whose ``with connect() as conn`` ends the transaction but leaves the connection open
WITH_KEEPS_OPEN = {"psycopg2", "pyodbc", "sqlite3"}
_HANDED_OUT = ("connection", "session", "scoped")  # what a caller must release
# what a factory builds for its caller to keep: making one is fine, calling the factory per
# request or per item is the problem (judged at that call)
FACTORY_KINDS = ("engine", "pool", "client")


def _subclass_resource(q: Optional[str], ctx: Context) -> Optional[Resource]:
    """``DatabaseSession(logger, engine=...)`` where the project class derives from SQLAlchemy's
    ``Session`` (or a driver's connection class): it opens what its base opens."""
    if not q or "." not in q and ctx.binding(q) is None:
        return None
    cls = ctx.index.resolve_class(q, ctx.module)
    if cls is None:
        return None
    for base in ctx.index.ancestors(cls):
        res = resource_of(ctx.index.library_name(base))
        if res is not None and res.kind in ("session", "connection"):
            return res
    return None


def _helper_opened(call: cst.Call, q: Optional[str], ctx: Context) -> Optional[Opened]:
    """``create_session()``, ``get_dbconn(name)``: a project function whose every ``return`` hands
    out what a known constructor opens (one or two helpers deep), so its caller owns it."""
    caller = ctx.function.facts if ctx.function is not None else None
    fn = ctx.index.resolve_function(q, caller) if q else None
    if fn is None or not fn.returned_calls:
        return None
    found = _returned_resource(fn, ctx, 0)
    if found is None:
        return None
    res, inner, first = found
    if res.kind == "checkout":
        # ``self._get_connection()`` returning ``self.pool.getconn()``: a method of this object
        # checks its pool out for the caller, who must give it back
        pool_text, verb = inner.rsplit(".", 1)
        return Opened(res, _call_text(call), verb.rstrip("()"), pool_text, via=f"`{fn.name}()` returns `{inner}`")
    return Opened(res, _call_text(call), via=f"`{fn.name}()` returns `{inner}`", first=first, factory=res.kind in FACTORY_KINDS)


def database_params(fn, ctx: Context) -> Set[str]:
    """The parameters of project function ``fn`` that choose the database it opens: passed as
    they are to a connect call (``sqlite3.connect(path)``) or to a project helper that returns a
    connection (``open_db(path)``). A query it runs there is one per database, not one per row."""
    out: Set[str] = set()
    for target, params in fn.param_calls:
        res = resource_of(ctx.index.library_name(target))
        if res is None:
            helper = ctx.index.resolve_function(target, fn)
            found = _returned_resource(helper, ctx, 0) if helper is not None and helper.returned_calls else None
            res = found[0] if found is not None else None
        if res is not None and res.kind in ("connection", "engine", "pool"):
            out.update(params)
    return out


def _returned_resource(fn, ctx: Context, depth: int, fresh: bool = False) -> Optional[Tuple[Resource, str, bool]]:
    """(what every return of ``fn`` opens, the opener's text, handed out first in a tuple).
    ``fresh``: ``fn`` is a method of an object made for this call (``Manager().make_session()``),
    so what it builds on ``self`` is new on every call too."""
    seen: List[Tuple[Resource, str, bool]] = []
    for callee, shape in fn.returned_calls:
        callee = ctx.index.library_name(callee)  # ``from .sqlite import sqlite3`` in the helper's module
        res = resource_of(callee)
        text = f"{callee}(...)" if res is not None else f"{callee.rsplit('.', 1)[-1]}()"
        if shape == "self-product" and not fresh:
            return None  # a registry kept on a long-lived object hands out the thread's session
        if shape == "self-checkout":
            # ``return self.pool.getconn()``: only a method of the caller's own object hands out
            # a checkout the caller can give back to that pool (``self.pool.putconn(conn)``)
            if depth > 0 or not _caller_is_same_object(fn, ctx):
                return None
            seen.append((Resource("checkout", "pooled connection", None), f"{callee}()", False))
            continue
        if shape in ("product", "self-product"):
            # ``sessionmaker(bind=engine)()`` / a ``scoped_session`` registry's call: the factory's
            # session; any other product is unknown
            res = Resource("session", "session", "sqlalchemy") if res is not None and res.kind in ("sessionmaker", "scoped") else None
            if res is None:
                return None
            text, shape = f"{callee.rsplit('.', 1)[-1]}(...)()", "value"
        if res is None:
            # a name of the helper's own module (``SessionLocal``) or an imported one
            factory = module_resource(ctx.index, callee if "." in callee else f"{fn.module}.{callee}")
            if factory is not None and factory.kind == "sessionmaker":
                res = Resource("session", "session", "sqlalchemy")
            elif factory is None and callee.rsplit(".", 1)[-1] in SESSION_FACTORY_NAMES and ctx.index.resolve_function(callee, fn) is None \
                    and callee not in ctx.index.classes:
                # ``SessionLocal, engine = init_db(url)`` at module level: the conventional factory name
                res = Resource("session", "session", "sqlalchemy")
        if res is None and _engine_checkout_text(callee):
            # ``return dc.index._db._engine.connect()``: a connection checked out of an engine
            # (named as one) for the caller to close
            res, text = Resource("connection", "database connection", "sqlalchemy"), f"{callee.rsplit('.', 2)[-2]}.{callee.rsplit('.', 1)[-1]}()"
        if res is None and depth < 4:  # wrappers of wrappers (mathesar: four project hops to create_engine)
            inner_fn = ctx.index.resolve_function(callee, fn)
            deeper = _returned_resource(inner_fn, ctx, depth + 1, shape == "fresh") if inner_fn is not None and inner_fn.returned_calls else None
            if deeper is not None and not deeper[2]:
                res, text = deeper[0], deeper[1]
        if shape == "fresh":
            shape = "value"
        if res is None or res.kind not in _HANDED_OUT + FACTORY_KINDS:
            return None
        if shape == "with" and not (res.kind == "connection" and res.driver in WITH_KEEPS_OPEN):
            return None  # ``with Session() as s: return s`` hands out a closed session
        seen.append((res, text, shape == "first"))
    if not seen or any((r.kind, f) != (seen[0][0].kind, seen[0][2]) for r, _, f in seen):
        return None
    return seen[0]


def _caller_is_same_object(fn, ctx: Context) -> bool:
    """``fn`` is a method of the class the current function belongs to (or one of its bases)."""
    here = ctx.function.facts if ctx.function is not None else None
    if fn.cls is None or here is None or here.cls is None:
        return False
    if fn.cls == here.cls:
        return True
    cls = ctx.index.classes.get(here.cls)
    return cls is not None and fn.cls in ctx.index.ancestors(cls)


SESSION_FACTORY_NAMES = {"SessionLocal", "AsyncSessionLocal", "async_session_maker", "async_session_factory", "session_factory", "SessionFactory", "AsyncSessionFactory"}


def _session_factory_name(func, q: Optional[str], ctx: Context) -> bool:
    """``SessionLocal()`` imported from a module outside the linted files: the conventional name."""
    last = (N.dotted(func) or "").rsplit(".", 1)[-1]
    if last not in SESSION_FACTORY_NAMES or not q or q == last:
        return False  # only imported names (a local or unknown name is not evidence)
    if q in ctx.index.functions or q in ctx.index.classes or module_resource(ctx.index, q) is not None:
        return False
    return ctx.index.resolve_function(q) is None


def by_pool_name(recv) -> bool:
    last = (N.dotted(recv) or "").rsplit(".", 1)[-1].lstrip("_").lower()
    return last in ("pool", "db_pool", "pg_pool", "connection_pool", "conn_pool") or last.endswith("_pool")


# --------------------------------------------------------------------------- where the result goes


@dataclass
class Holder:
    kind: str  # local, with, stored, returned, yielded, passed, chained, discarded, other
    name: Optional[str] = None  # the local name (local / with ... as name)
    node: Optional[cst.CSTNode] = None  # the Assign/WithItem/...
    target: Optional[cst.CSTNode] = None  # stored: the attribute/subscript target


def holder_of_expr(expr: cst.BaseExpression, ctx: Context) -> Holder:
    """Where the value of ``expr`` is kept, when it is assigned to an attribute or item."""
    parent = ctx.parent_of(expr)
    if isinstance(parent, (cst.Assign, cst.AnnAssign)) and parent.value is expr:
        targets = [t.target for t in parent.targets] if isinstance(parent, cst.Assign) else [parent.target]
        stored = [t for t in targets if isinstance(t, (cst.Attribute, cst.Subscript))]
        if stored:
            return Holder("stored", None, parent, stored[0])
    return Holder("other", None, parent)


def holder_of(call: cst.Call, ctx: Context) -> Holder:
    node: cst.CSTNode = call
    parent = ctx.parent_of(node)
    while isinstance(parent, (cst.Await,)):
        node, parent = parent, ctx.parent_of(parent)
    if isinstance(parent, cst.IfExp) and node is not parent.test:
        # ``self.conn = conn if conn is not None else connect_db()``: kept on the object when
        # none was given (a local bound this way may hold the caller's: not judged)
        kept = holder_of_expr(parent, ctx)
        return kept if kept.kind == "stored" else Holder("other", None, parent)
    if isinstance(parent, cst.WithItem) and parent.item is node:
        name = None
        if parent.asname is not None and isinstance(parent.asname.name, cst.Name):
            name = parent.asname.name.value
        return Holder("with", name, parent)
    if isinstance(parent, cst.Arg):
        outer = ctx.parent_of(parent)
        if isinstance(outer, cst.Call) and N.call_name(outer) in ("closing", "aclosing") and isinstance(ctx.parent_of(outer), cst.WithItem):
            return Holder("with-closing", None, outer)
        return Holder("passed", None, outer)
    if isinstance(parent, (cst.Assign, cst.AnnAssign)) and parent.value is node:
        targets = [t.target for t in parent.targets] if isinstance(parent, cst.Assign) else [parent.target]
        stored = [t for t in targets if isinstance(t, (cst.Attribute, cst.Subscript))]
        if stored:
            return Holder("stored", None, parent, stored[0])
        if len(targets) == 1 and isinstance(targets[0], cst.Name):
            return Holder("local", targets[0].value, parent)
        return Holder("other", None, parent)
    if isinstance(parent, cst.NamedExpr) and isinstance(parent.target, cst.Name):
        return Holder("local", parent.target.value, parent)
    if isinstance(parent, cst.Return):
        return Holder("returned", None, parent)
    if isinstance(parent, cst.Yield):
        return Holder("yielded", None, parent)
    if isinstance(parent, cst.Attribute) and parent.value is node:
        return Holder("chained", None, parent)
    if isinstance(parent, cst.Expr):
        return Holder("discarded", None, parent)  # ``pymysql.connect(...)`` as a statement
    if isinstance(parent, cst.Lambda) and parent.body is node:
        # ``self.throttle_request(lambda: pymysql.connect(...))``: the lambda's result comes back
        # from a project function that returns what the callable gives, and is thrown away
        arg = ctx.parent_of(parent)
        outer = ctx.parent_of(arg) if isinstance(arg, cst.Arg) else None
        if isinstance(outer, cst.Call) and isinstance(ctx.parent_of(outer), cst.Expr) and _returns_callables_result(outer, ctx):
            return Holder("discarded", None, outer)
    return Holder("other", None, parent)


def _returns_callables_result(call: cst.Call, ctx: Context) -> bool:
    """The project function ``call`` reaches returns what a callable parameter gives (``return
    f()``), directly or through one or two such functions."""
    q = resolve_callee(call, ctx)
    fn = ctx.index.functions.get(q) if q else None
    for _ in range(3):
        if fn is None or not fn.returned_calls:
            return False
        if any(shape == "value" and target in fn.params for target, shape in fn.returned_calls):
            return True
        if len(fn.returned_calls) != 1:
            return False
        fn = ctx.index.resolve_function(fn.returned_calls[0][0], fn)
    return False


# --------------------------------------------------------------------------- one function's flow


class Flow:
    """Source order, parents and name uses of one function body (nested defs not entered)."""

    _calls: List[cst.Call]  # set by calls() on first use

    def __init__(self, fn: cst.FunctionDef):
        self.fn = fn
        self.order: Dict[int, int] = {}
        self.parent: Dict[int, Optional[cst.CSTNode]] = {}
        self.uses: Dict[str, List[cst.Name]] = {}
        self.closure: Set[str] = set()
        self.exits: List[cst.CSTNode] = []
        self.globals: Set[str] = set()
        counter = 0
        stack: List[Tuple[cst.CSTNode, Optional[cst.CSTNode]]] = [(fn.body, fn)]
        while stack:
            node, parent = stack.pop()
            self.order[id(node)] = counter
            counter += 1
            self.parent[id(node)] = parent
            if isinstance(node, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
                for inner in N.walk(node):
                    if isinstance(inner, cst.Name):
                        self.closure.add(inner.value)
                continue
            if isinstance(node, cst.Name):
                if not (isinstance(parent, cst.Attribute) and parent.attr is node) and not (isinstance(parent, cst.Arg) and parent.keyword is node):
                    self.uses.setdefault(node.value, []).append(node)
            elif isinstance(node, (cst.Return, cst.Raise)):
                self.exits.append(node)
            elif isinstance(node, (cst.Global, cst.Nonlocal)):
                self.globals.update(n.name.value for n in node.names)
            kids = list(N.children(node))
            for kid in reversed(kids):
                stack.append((kid, node))

    def ancestors(self, node: cst.CSTNode):
        current = self.parent.get(id(node))
        while current is not None:
            yield current
            current = self.parent.get(id(current))

    def in_finally(self, node: cst.CSTNode) -> bool:
        return any(isinstance(a, cst.Finally) for a in self.ancestors(node))

    def after(self, node: cst.CSTNode, anchor: cst.CSTNode) -> bool:
        return self.order.get(id(node), -1) > self.order.get(id(anchor), -1)

    def calls(self) -> List[cst.Call]:
        """The calls in the body (nested defs not entered), computed on first use."""
        if not hasattr(self, "_calls"):
            self._calls = [n for n in N.walk(self.fn.body, into_functions=False) if isinstance(n, cst.Call) and id(n) in self.order]
        return self._calls


def flow_of(ctx: Context) -> Optional[Flow]:
    frame = ctx.function
    node = frame.node if frame is not None else None
    if not isinstance(node, cst.FunctionDef):
        return None
    return ctx.memo(("ql2-flow", id(node)), lambda: Flow(node))


@dataclass
class Fate:
    closes: List[cst.CSTNode]  # close/putconn/release calls (or callback registrations)
    closes_in_finally: bool
    with_uses: List[cst.WithItem]  # ``with name:``
    escapes: bool  # stored, passed on, captured by a closure
    returned: bool
    yielded: bool


def fate_of(name: str, start: cst.CSTNode, flow: Flow, ctx: Optional[Context]=None, bound_in_with: bool = False) -> Fate:
    """What becomes of ``name`` after ``start``. ``bound_in_with``: handed to a call a ``with``
    statement opens (``with Session(engine) as s:``, ``with manager.session_context(engine):``)
    it stays the caller's: what the block opens on it ends with the block, it does not."""
    fate = Fate([], False, [], False, False, False)
    if name in flow.closure or name in flow.globals:
        fate.escapes = True
    for use in flow.uses.get(name, ()):
        if not flow.after(use, start):
            continue
        parent = flow.parent.get(id(use))
        if isinstance(parent, cst.Attribute) and parent.value is use:
            grand = flow.parent.get(id(parent))
            if parent.attr.value in CLOSE_METHODS:
                if isinstance(grand, cst.Call) and grand.func is parent or isinstance(grand, cst.Arg):
                    fate.closes.append(parent)  # ``conn.close()`` or ``atexit.register(conn.close)``
                    fate.closes_in_finally = fate.closes_in_finally or flow.in_finally(parent)
            continue
        if isinstance(parent, cst.Arg):
            call = flow.parent.get(id(parent))
            cname = N.call_name(call) if isinstance(call, cst.Call) else None
            if cname in RETURN_METHODS or cname in ("closing", "aclosing"):
                fate.closes.append(cast(cst.Call, call))  # a call name: ``call`` is a Call
                fate.closes_in_finally = fate.closes_in_finally or flow.in_finally(cast(cst.Call, call)) or cname in ("closing", "aclosing")
            elif cname in NON_OWNING_CALLS or (isinstance(call, cst.Call) and (N.dotted(call.func) or "").split(".")[0] in ("pd", "pandas", "logger", "log", "logging")):
                pass
            else:
                helper = _helper_use(call, parent, ctx) if ctx is not None and isinstance(call, cst.Call) else None
                if helper == "close":
                    fate.closes.append(cast(cst.Call, call))  # a helper was found: ``call`` is a Call
                    fate.closes_in_finally = fate.closes_in_finally or flow.in_finally(cast(cst.Call, call))
                elif helper != "use" and not (bound_in_with and helper is None and isinstance(flow.parent.get(id(call)), cst.WithItem)):
                    fate.escapes = True
            continue
        if isinstance(parent, cst.WithItem) and parent.item is use:
            fate.with_uses.append(parent)
            continue
        if isinstance(parent, (cst.Assign, cst.AnnAssign, cst.AugAssign)):
            if getattr(parent, "value", None) is use:
                fate.escapes = True  # aliased or stored
            continue
        if isinstance(parent, cst.Call) and parent.func is use:
            # a registry or factory called: ``session = Session()`` kept in a global or returned
            # hands the registry's product (and so the registry) over to its keeper
            grand = flow.parent.get(id(parent))
            if isinstance(grand, cst.Return):
                fate.returned = True
            elif isinstance(grand, cst.Assign) and grand.value is parent:
                for t in grand.targets:
                    if isinstance(t.target, cst.Attribute) or (isinstance(t.target, cst.Name) and t.target.value in flow.globals):
                        fate.escapes = True
            continue
        # inside a return/yield (``return conn``, ``return {"conn": conn}``) or a container
        for anc in flow.ancestors(use):
            if isinstance(anc, cst.Return):
                fate.returned = True
                break
            if isinstance(anc, cst.Yield):
                fate.yielded = True
                break
            if isinstance(anc, (cst.List, cst.Tuple, cst.Dict, cst.Set)):
                fate.escapes = True
                break
            if isinstance(anc, (cst.BaseSmallStatement, cst.BaseCompoundStatement, cst.Call, cst.Attribute, cst.Comparison, cst.BooleanOperation, cst.UnaryOperation, cst.IfExp)):
                break
    return fate


def _helper_use(call: cst.Call, arg: cst.Arg, ctx: Context) -> Optional[str]:
    """How a project function treats a connection passed to it: "close" when it closes that
    parameter, "use" when it only uses it; None when unknown (a class, a library function)."""
    name = N.dotted(call.func)
    if not name or arg.keyword is not None and arg.star:
        return None
    if name.split(".")[0] in ("self", "cls"):
        # a method of this class (``self._prepare_connection(conn)``)
        q = resolve_callee(call, ctx) if name.count(".") == 1 else None
        fn = ctx.index.functions.get(q) if q else None
    else:
        b = ctx.binding(name.split(".")[0], at=call)
        if b is not None and b.kind not in ("import", "def"):
            return None
        fn = ctx.index.resolve_function(ctx.qualify(call.func) or name, ctx.function_facts())
    if fn is None or fn.name == "__init__":
        return None
    params = list(fn.params[1:] if fn.cls is not None and fn.params[:1] in (("self",), ("cls",)) else fn.params)
    if arg.keyword is not None:
        param = arg.keyword.value
    else:
        positional = [a for a in call.args if a.keyword is None]
        index = positional.index(arg) if arg in positional else -1
        if arg.star or index < 0 or index >= len(params):
            return None
        param = params[index]
    if any(c == f"{param}.{m}" for c in fn.calls for m in CLOSE_METHODS) or any(c.rsplit(".", 1)[-1] in RETURN_METHODS for c in fn.calls):
        return "close"
    if fn.returns_yield or param in fn.kept_params:
        return None
    return "use"


def early_exit(name: str, start: cst.CSTNode, fate: Fate, flow: Flow) -> Optional[cst.CSTNode]:
    """A ``return``/``raise`` after ``start`` that leaves without closing ``name`` (closes exist)."""
    if not fate.closes:
        return None
    last_close = max(flow.order.get(id(c), -1) for c in fate.closes)
    close_ids = {id(c) for c in fate.closes}
    for ex in flow.exits:
        pos = flow.order.get(id(ex), -1)
        if pos <= flow.order.get(id(start), -1) or pos > last_close:
            continue
        if isinstance(ex, cst.Return) and ex.value is not None and any(isinstance(n, cst.Name) and n.value == name for n in N.walk(ex.value)):
            continue
        if _covered(ex, start, close_ids, flow) or _when_absent(ex, name, flow) or _open_failed(ex, start, flow):
            continue
        return ex
    return None


def _open_failed(ex: cst.CSTNode, start: cst.CSTNode, flow: Flow) -> bool:
    """``ex`` is in an ``except`` of the ``try`` whose last statement opened the resource
    (``try: con = connect(f) except Exception: raise ...``): that handler runs when the open
    itself failed, so there is nothing to close."""
    for anc in flow.ancestors(ex):
        if isinstance(anc, cst.ExceptHandler):
            t = flow.parent.get(id(anc))
            if isinstance(t, cst.Try) and isinstance(t.body, cst.IndentedBlock) and t.body.body:
                last = t.body.body[-1]
                return any(n is start for n in N.walk(last))
            return False
    return False


def _when_absent(ex: cst.CSTNode, name: str, flow: Flow) -> bool:
    """``ex`` runs only when ``name`` holds no connection: ``if not db: return`` (a helper that
    gives None when it cannot open), ``if db is None: ...``, the ``else`` of ``if db:``."""
    child = ex
    for anc in flow.ancestors(ex):
        if isinstance(anc, cst.If):
            absent = _tests_absent(anc.test, name)
            if absent is True and child is anc.body or absent is False and child is anc.orelse:
                return True
        if anc is flow.fn:
            break
        child = anc
    return False


def _tests_absent(test: cst.BaseExpression, name: str) -> Optional[bool]:
    """True when ``test`` holds for an empty ``name`` (``not name``, ``name is None``: the guards
    :func:`~querylint.scope.memo_target` reads), False for ``name`` / ``name is not None``."""
    if memo_target(test) == name:
        return True
    if N.dotted(test) == name:
        return False
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1 and N.dotted(test.left) == name:
        comp = test.comparisons[0]
        if isinstance(comp.operator, (cst.IsNot, cst.NotEqual)) and N.dotted(comp.comparator) == "None":
            return False
    return None


def _covered(ex: cst.CSTNode, start: cst.CSTNode, close_ids: Set[int], flow: Flow) -> bool:
    """A close runs before ``ex`` leaves: in an enclosing try's ``finally``, an enclosing
    ``with closing(...)``, or an earlier statement of an enclosing block."""
    child = ex
    for anc in flow.ancestors(ex):
        if isinstance(anc, cst.Try) and anc.finalbody is not None and child is not anc.finalbody:
            if any(id(n) in close_ids for n in N.walk(anc.finalbody)):
                return True
        if isinstance(anc, (cst.IndentedBlock, cst.SimpleStatementSuite)) or isinstance(anc, cst.Module):
            for stmt in anc.body:
                if stmt is child:
                    break
                if not flow.after(stmt, start) and not any(n is start for n in N.walk(stmt)):
                    continue
                if isinstance(stmt, cst.SimpleStatementLine) and any(id(n) in close_ids for n in N.walk(stmt)):
                    return True
        if anc is flow.fn:
            break
        child = anc
    return False
