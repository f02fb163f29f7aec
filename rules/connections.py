"""QL2xx: connections, engines, pools and clients opened per request, per iteration, or never released.

The analysis is in :mod:`querylint.frameworks.connection_problems`: for every call that opens
something it lists each problem, most specific first, and each rule here reports its own:

1. QL202 ``connection-in-loop``: opened on every iteration of a loop;
2. QL204 ``pool-checkout-not-returned`` / QL203 ``connection-not-closed``: not released on
   every path;
3. QL201 ``connection-per-request``: opened on every request or job;
4. QL205 ``connection-held-across-slow-call``: kept (in a variable) across slow external work
   before it is released.

QL205 also looks at ``with`` blocks (and ``@transaction.atomic`` functions) that hold a
transaction or a pooled connection while doing slow external work; the outermost hold reports.
"""
from __future__ import annotations

from typing import Optional, Set, Tuple

import libcst as cst

from querylint.frameworks.connection_problems import SESSION_END_METHODS, SESSION_QUERY_METHODS, hold_of, slow_call, verdict, verdicts
from querylint.rule import Context, Edit, Rule, dedent, line_after_imports, nodes as N

# --------------------------------------------------------------------------- the rules


class _OpenRule(Rule):
    def visit_Call(self, node: cst.Call) -> None:
        if self.ctx.is_test:
            return
        for v in verdicts(node, self.ctx):
            if v.code == self.code:
                edits = closing_edit(node, self.ctx) if self.code == "QL203" and v.closable else ()
                self.report(node, v.message, fix=v.fix, severity=v.severity, confidence=v.confidence, edits=edits, fix_safety="unsafe")


def closing_edit(call: cst.Call, ctx: Context) -> Tuple[Edit, ...]:
    """The ``--unsafe-fixes`` fix for a connection, session or cursor not closed on every path:
    ``conn = sqlite3.connect(...)`` and the rest of the function body become
    ``with contextlib.closing(sqlite3.connect(...)) as conn:`` around that rest (a generator
    dependency's ``yield conn`` included: it closes after the request). Unsafe: the resource now
    closes when the function ends, which breaks code that hands out something still reading from
    it. Only for a plain assignment at the top level of the function body, never when the rest
    returns it, and with no multi-line string below it (re-indenting would change the string).
    ``with sqlite3.connect(...) as conn:``, which ends the transaction but not the connection,
    becomes ``with contextlib.closing(sqlite3.connect(...)) as conn, conn:``."""
    assign = ctx.parent_of(call)
    if isinstance(assign, cst.WithItem):
        return _closing_with_item(assign, ctx)
    line = ctx.parent_of(assign) if assign is not None else None
    body = ctx.parent_of(line) if line is not None else None
    fn = ctx.parent_of(body) if body is not None else None
    if not (isinstance(assign, cst.Assign) and len(assign.targets) == 1 and isinstance(assign.targets[0].target, cst.Name)
            and isinstance(line, cst.SimpleStatementLine) and len(line.body) == 1
            and isinstance(body, cst.IndentedBlock) and isinstance(fn, cst.FunctionDef)):
        return ()
    stmts = list(body.body)
    at = next(i for i, st in enumerate(stmts) if st is line)
    rest = stmts[at + 1:]
    name = assign.targets[0].target.value
    if not rest or any(
        (isinstance(n, (cst.SimpleString, cst.FormattedString)) and "\n" in N.code(n))
        or (isinstance(n, cst.Return) and n.value is not None and _hands_out(name, n.value, ctx))
        for st in rest for n in N.walk(st)
    ):
        return ()
    first, last = ctx.span(line), ctx.span(rest[-1])
    lines = ctx.source.splitlines(keepends=True)
    comment = line.trailing_whitespace.comment
    head = f"with contextlib.closing({N.code(call)}) as {name}:" + (f"  {comment.value}" if comment is not None else "")
    tail = "".join(("    " + ln if ln.strip() else ln) for ln in lines[first.line: last.end_line])
    text = head + "\n" + tail.rstrip("\n")
    end_column = len(lines[last.end_line - 1].rstrip("\r\n")) + 1
    return _with_contextlib(Edit(first.line, first.column, last.end_line, end_column, text), ctx)


# methods whose result is data read from the resource, not something still reading from it
_READS = frozenset({
    "fetchone", "fetchall", "fetchmany", "fetchval", "fetchrow", "all", "first", "one", "one_or_none",
    "scalar", "scalar_one", "scalar_one_or_none", "count",
})


def _hands_out(name: str, value: cst.BaseExpression, ctx: Context) -> bool:
    """``return conn`` or ``return conn.execute(...)``: the returned value still reads from
    ``name`` (``return cur.fetchone()[0]`` does not)."""
    for m in N.walk(value):
        if not (isinstance(m, cst.Name) and m.value == name):
            continue
        top: cst.CSTNode = m
        parent = ctx.parent_of(top)
        while isinstance(parent, (cst.Attribute, cst.Call, cst.Subscript)) and getattr(parent, "value", getattr(parent, "func", None)) is top:
            top, parent = parent, ctx.parent_of(parent)
        read = top
        while isinstance(read, cst.Subscript):
            read = read.value
        if not (isinstance(read, cst.Call) and N.call_name(read) in _READS):
            return True
    return False


def _closing_with_item(item: cst.WithItem, ctx: Context) -> Tuple[Edit, ...]:
    if item.asname is None or not isinstance(item.asname.name, cst.Name):
        return ()
    name = item.asname.name.value
    span = ctx.span(item)
    text = f"contextlib.closing({N.code(item.item)}) as {name}, {name}"
    return _with_contextlib(Edit(span.line, span.column, span.end_line, span.end_column, text), ctx)


def _with_contextlib(edit: Edit, ctx: Context) -> Tuple[Edit, ...]:
    """``edit``, and ``import contextlib`` after the imports when the module lacks it."""
    if ctx.facts.import_map().get("contextlib") == "contextlib":
        return (edit,)
    top = line_after_imports(ctx)
    return (edit, Edit(top, 1, top, 1, "import contextlib\n"))



class ConnectionPerRequest(_OpenRule):
    """
    ## What it does
    Flags a database connection, engine, connection pool, session factory or client (Redis,
    MongoDB) created inside code that runs once per request or per job.

    Per-request code: a view, route, endpoint, middleware, serializer method, FastAPI
    dependency or task, a function handed to a scheduler (`loop.call_later`, Tornado's
    `PeriodicCallback`, APScheduler's `add_job`, `schedule.every(...).do`, `threading.Timer`),
    and every project function they call.

    ## Why is this bad?
    A new connection costs a TCP and TLS handshake and authentication on every request, and
    a new engine, pool or client starts a whole new pool each time. Under load the database
    runs out of connection slots, checkouts time out and requests fail - the pool-exhaustion
    outage. Closing it properly does not help: the cost and the connection churn remain.

    ## Example
    ```python
    @app.get("/counters/<name>")
    def read_counter(name):
        r = redis.Redis(host="cache")
        return {"value": r.get(name)}
    ```

    ## Use instead
    ```python
    cache = redis.Redis(host="cache")  # once, at module level

    @app.get("/counters/<name>")
    def read_counter(name):
        return {"value": cache.get(name)}
    ```
    For SQL databases: one module-level engine or pool (`create_engine`, `ThreadedConnectionPool`,
    an asyncpg pool made in the lifespan handler) or Django's managed `connection`.

    ## Known problems
    Per-request code is found from route decorators, view/serializer/task base classes, URL
    confs, `Depends(...)` and the project call graph; handlers registered in other ways are
    configured with `request-decorators` / `request-base-classes` / `task-decorators`.
    Lazily initialised globals, `functools.lru_cache`d factories, objects stored on Flask's `g`
    and clients built over a shared pool (`redis.Redis(connection_pool=POOL)`) are not reported,
    nor a `scoped_session` registry made for the request over a shared engine and `remove()`d in
    a `finally` (a cheap object; the request's session goes back when it ends). Start-up code
    (lifespan, `AppConfig.ready`, `before_first_request`, management commands) is never per
    request. An engine, pool or client a project factory builds is reported in the factory, with
    the call path; per-request code that stores the factory's product on a shared object on every
    request (`app.config["POOL"] = make_pool()`, no check on that object first) replaces the last
    one each time and is reported there too. Also reported: an engine, pool or client built in
    `__init__` of a class whose `__new__` hands back a cached instance (Python still runs
    `__init__` on every call). A connection to an in-process database file (sqlite3, aiosqlite,
    DuckDB) opened per request is not reported: it takes none of a server's connection slots (one
    that is never closed is `QL203`).
    """

    code = "QL201"
    subsumes = ("QL205",)
    name = "connection-per-request"
    VALID = [
        dedent(
            """
            import redis
            from flask import Flask
            app = Flask(__name__)
            cache = redis.Redis(host="cache")

            @app.get("/counters/<name>")
            def read_counter(name):
                return {"value": cache.get(name)}
            """
        ),
        dedent(
            """
            import redis
            from flask import Flask
            app = Flask(__name__)
            POOL = redis.ConnectionPool(host="cache")

            @app.get("/counters/<name>")
            def read_counter(name):
                r = redis.Redis(connection_pool=POOL)
                return {"value": r.get(name)}
            """
        ),
    ]
    INVALID = [
        dedent(
            """
            import redis
            from flask import Flask
            app = Flask(__name__)

            @app.get("/counters/<name>")
            def read_counter(name):
                r = redis.Redis(host="cache")  # want: QL201
                return {"value": r.get(name)}
            """
        ),
        {
            "legacy/views.py": dedent(
                """
                import pymysql
                from rest_framework.views import APIView
                from rest_framework.response import Response

                class CustomerView(APIView):
                    def get(self, request, pk):
                        conn = pymysql.connect(host="erp", database="erp")  # want: QL201
                        try:
                            with conn.cursor() as cur:
                                cur.execute("SELECT name FROM customers WHERE id = %s", (pk,))
                                return Response({"name": cur.fetchone()[0]})
                        finally:
                            conn.close()
                """
            )
        },
    ]


class ConnectionInLoop(_OpenRule):
    """
    ## What it does
    Flags a database connection, engine, pool or client created inside a loop, once per
    iteration (per item or per batch).

    ## Why is this bad?
    Each iteration pays for a new connection (handshake, authentication) or a whole new
    connection pool, and the old ones linger until they are garbage collected or disposed.
    A long loop can exhaust the database's connection slots.

    ## Example
    ```python
    for batch in batches:
        engine = create_engine(WAREHOUSE_URL)
        with engine.begin() as conn:
            conn.execute(insert(daily_totals), batch)
    ```

    ## Use instead
    ```python
    engine = create_engine(WAREHOUSE_URL)
    for batch in batches:
        with engine.begin() as conn:
            conn.execute(insert(daily_totals), batch)
    ```

    ## Known problems
    Loops whose connect arguments change per iteration (one connection per shard, tenant or
    DSN), retry loops, `range(n)` loops (n connections on purpose) and loops over constants are
    not reported. In a `while` loop, only an engine, pool or client made on every pass of a
    worker's poll loop (`while True:`) is reported: reconnecting per poll is fine; not in a
    reconnect loop whose pass then listens until the connection fails (`for m in pubsub.listen():`). A function
    that opens one on every call is reported at the open when a project function calls it once
    per item of a loop, directly or through one plain call, with the call path; not when the
    loop passes the database per item (`for f in files: read(f)` where `read` connects to `f`),
    when the open sits under an `if` on a parameter (`if session is None:`), or when the
    function hands the connection out (its caller is the one to judge). A retry loop is reported when
    nothing leaves it once the connection succeeds (no `break`, `return` or `raise` outside its
    `except` blocks, no loop test on the name, no close, the connection not handed on): every
    pass then opens another and drops the last.
    """

    code = "QL202"
    subsumes = ("QL201", "QL203", "QL204", "QL205")
    name = "connection-in-loop"
    VALID = [
        dedent(
            """
            from sqlalchemy import create_engine
            def copy(urls, rows):
                for url in urls:
                    engine = create_engine(url)
                    with engine.begin() as conn:
                        conn.execute(rows)
            """
        ),
        dedent(
            """
            import psycopg2
            def connect_with_retry(dsn):
                for attempt in range(5):
                    try:
                        return psycopg2.connect(dsn)
                    except psycopg2.OperationalError:
                        continue
            """
        ),
    ]
    INVALID = [
        dedent(
            """
            from sqlalchemy import create_engine, text
            URL = "postgresql://etl@dw/dw"
            def write(batches):
                for batch in batches:
                    engine = create_engine(URL)  # want: QL202
                    with engine.begin() as conn:
                        conn.execute(text("INSERT INTO t (v) VALUES (:v)"), batch)
                    engine.dispose()
            """
        )
    ]


class ConnectionNotClosed(_OpenRule):
    """
    ## What it does
    Flags a database connection or SQLAlchemy session opened in a function and not closed on
    every path.

    That is: no `with`, never closed (a session made for one statement and dropped,
    `Session().execute(...)`, included), or closed only after an early `return`/`raise` can
    skip it, or closed at the end of work that can fail (an exception skips the close) where
    the open runs on every pass of a loop (a worker's `while True`), and for a plain connection
    also per request. Elsewhere a session or checkout closed that way is shown with
    `--min-confidence medium` (closing on the normal path is how many projects fix a leak), as
    is one closed by hand before each of several exits or under an `if`, or in set-up code.
    Also flags psycopg2's and sqlite3's `with connect() as conn`, which commits but does
    not close the connection, a FastAPI dependency that yields a session without closing it, and
    an engine a function creates (itself or through project wrappers of `create_engine`), uses
    and drops without `dispose()`: its pool keeps the connection it opened, one more pool per
    call. Set-up code that runs once (`main`, `create_db`, `run_migrations_online`, or a function
    only such code calls) is shown with `--min-confidence medium`.
    A connection pool made the same way (`pool = await asyncpg.create_pool(...)`) and never
    closed is reported likewise. A cursor from Django's `connection.cursor()`, or from a
    DB-API connection the object keeps (`self.conn.cursor()`), that is never closed is
    reported when its result is read only in part (`fetchone()`/`fetchmany()`); one whose
    result is drained (`fetchall()`, a loop over it) is shown with `--min-confidence medium`.
    A connection kept on Flask's `g` for the request (`g.db = connect(...)`) is reported when
    the project registers no teardown hook (`@app.teardown_appcontext`,
    `app.teardown_request(...)`) that could close it.

    ## Why is this bad?
    An unclosed connection keeps a database backend (and, for sessions, a pooled connection
    and often an open transaction) busy until the garbage collector gets to it. Under load
    the leaked connections pile up and new checkouts fail.

    ## Example
    ```python
    def report(dsn):
        conn = psycopg2.connect(dsn)
        cur = conn.cursor()
        cur.execute("SELECT count(*) FROM orders")
        return cur.fetchone()[0]
    ```

    ## Use instead
    ```python
    def report(dsn):
        with contextlib.closing(psycopg2.connect(dsn)) as conn, conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM orders")
            return cur.fetchone()[0]
    ```

    ## Known problems
    A connection passed to another function, stored on an object or returned is assumed to be
    closed by its new owner; but one kept on `self` by a class whose `close()` (or `__exit__`,
    `__del__`, own or inherited) never closes it, and that no other code closes, is reported
    (a class with no such method keeps its connection for the life of the process; a
    `__exit__`/`close()` that only commits or reads it does not close it). So is a session or
    connection a working method stores on `self` anew on every call (`self._session =
    self._factory()` as a statement of `_process_batch()`, which others call) when nothing ever
    closes that attribute: each call leaves the last one open; methods that open for the
    object's life (`__init__`, `connect()`, `open()`, `get_session()`) and guarded opens are
    left alone. A connection opened as a statement of its own inside `try` (`try:
    psycopg2.connect(**kw)` / `except Exception: return DOWN`) is a probe: nothing keeps it, so
    it is freed and closed at once. An engine a library's public function creates and never
    disposes is reported with full confidence when only the library's tests call it (its users
    call it as often as they like); an engine named as a mock (`create_mock_engine`) holds no
    pool and is not reported. The session a
    module-level `scoped_session` registry hands out is reported like any session when nothing in
    the project calls the registry's `remove()` (or `close()`): each thread's session then keeps the
    connection its transaction checked out after the request (off a request or job path, with
    `medium` confidence). A close
    that is skipped only when an exception is raised (no `try`/`finally`) is reported with
    `medium` confidence for a session, a `scoped_session` registry (its `remove()`) or a
    connection checked out of an engine (an exception leaves it holding a pool slot until the
    collector gets to it), not for a plain DB-API connection. A connection, session or registry a project helper returns
    (`create_session()`, `get_dbconn()`) is judged at the call. sqlite3's `with connect() as conn`
    ends the transaction, not the connection, as psycopg2's does: it is reported like a connection
    never closed (sqlite3 connections sit in reference cycles and stay open until a garbage
    collection). An in-memory database (`sqlite3.connect(":memory:")`) is reported only when
    it is never closed or closed only after an early exit; opening one per request or per item
    is not a problem.
    """

    code = "QL203"
    released_at_exit = True
    subsumes = ("QL201", "QL205")
    name = "connection-not-closed"
    VALID = [
        dedent(
            """
            import psycopg2
            def count(dsn):
                conn = psycopg2.connect(dsn)
                try:
                    with conn.cursor() as cur:
                        cur.execute("SELECT count(*) FROM orders")
                        return cur.fetchone()[0]
                finally:
                    conn.close()
            """
        ),
        dedent(
            """
            from sqlalchemy import create_engine
            from sqlalchemy.orm import sessionmaker
            engine = create_engine("postgresql://app@db/app")
            SessionLocal = sessionmaker(bind=engine)

            def get_db():
                db = SessionLocal()
                try:
                    yield db
                finally:
                    db.close()
            """
        ),
    ]
    INVALID = [
        dedent(
            """
            import psycopg2
            def count(dsn):
                conn = psycopg2.connect(dsn)  # want: QL203
                cur = conn.cursor()
                cur.execute("SELECT count(*) FROM orders")
                return cur.fetchone()[0]
            """
        ),
        dedent(
            """
            import psycopg2
            def count(dsn):
                with psycopg2.connect(dsn) as conn:  # want: QL203
                    with conn.cursor() as cur:
                        cur.execute("SELECT count(*) FROM orders")
                        return cur.fetchone()[0]
            """
        ),
    ]


class PoolCheckoutNotReturned(_OpenRule):
    """
    ## What it does
    Flags a connection checked out of a pool and not given back on every path.

    That is: `pool.getconn()` without `pool.putconn(conn)` in a `finally` block, `await pool.acquire()`
    outside `async with` without `release` in a `finally`, and SQLAlchemy
    `engine.raw_connection()` / `engine.connect()` outside `with` and never closed.

    ## Why is this bad?
    A pool has a fixed number of connections. Each checkout that is not returned (on an
    exception, an early return or at all) removes one for good, until the pool is empty and
    every request blocks or fails.

    ## Example
    ```python
    def list_products():
        conn = pool.getconn()
        with conn.cursor() as cur:
            cur.execute("SELECT id, name FROM products WHERE active LIMIT 50")
            rows = cur.fetchall()
        pool.putconn(conn)
        return rows
    ```

    ## Use instead
    ```python
    def list_products():
        conn = pool.getconn()
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT id, name FROM products WHERE active LIMIT 50")
                return cur.fetchall()
        finally:
            pool.putconn(conn)
    ```

    ## Known problems
    A checkout stored on an object (`request.state.conn`) or passed to another function is
    assumed to be returned elsewhere. A method of the same object that returns
    `self.pool.getconn()` (`conn = self._get_connection()`) hands out a checkout like the pool
    itself.
    """

    code = "QL204"
    released_at_exit = True
    subsumes = ("QL201", "QL205")
    name = "pool-checkout-not-returned"
    VALID = [
        dedent(
            """
            from psycopg2.pool import ThreadedConnectionPool
            pool = ThreadedConnectionPool(1, 10, "dbname=shop")
            def names():
                conn = pool.getconn()
                try:
                    with conn.cursor() as cur:
                        cur.execute("SELECT name FROM products WHERE active LIMIT 10")
                        return cur.fetchall()
                finally:
                    pool.putconn(conn)
            """
        ),
        dedent(
            """
            async def total(pool, order_id):
                async with pool.acquire() as conn:
                    return await conn.fetchval("SELECT total FROM orders WHERE id = $1", order_id)
            """
        ),
    ]
    INVALID = [
        dedent(
            """
            from psycopg2.pool import ThreadedConnectionPool
            pool = ThreadedConnectionPool(1, 10, "dbname=shop")
            def names():
                conn = pool.getconn()  # want: QL204
                with conn.cursor() as cur:
                    cur.execute("SELECT name FROM products WHERE active LIMIT 10")
                    rows = cur.fetchall()
                pool.putconn(conn)
                return rows
            """
        ),
        dedent(
            """
            async def total(pool, order_id):
                conn = await pool.acquire()  # want: QL204
                return await conn.fetchval("SELECT total FROM orders WHERE id = $1", order_id)
            """
        ),
    ]


# --------------------------------------------------------------------------- QL205

class ConnectionHeldAcrossSlowCall(Rule):
    """
    ## What it does
    Flags a database transaction or pooled connection held while the code waits on slow
    external work.

    The holds: `with transaction.atomic()`, `engine.begin()`, `session.begin()`, `with conn:`,
    `async with pool.acquire()`. The slow work: an HTTP call (`requests`,
    `httpx`, `urllib`, `aiohttp`), an SDK call (`boto3`, `stripe`), `time.sleep`, a subprocess
    or sending mail - directly or through a project function. Also a function decorated with
    `@transaction.atomic` that does so, and a connection, pool checkout or session kept in a
    variable (`conn = pool.getconn()`, `session = SessionLocal()`) that does slow work before it
    is released (for sessions: after a query and before the commit).

    ## Why is this bad?
    The connection (and the transaction's row locks) stays checked out for as long as the
    external service takes to answer. When that service slows down, every request holds its
    connection longer, the pool runs dry and unrelated requests fail: a slow dependency becomes
    a database outage.

    ## Example
    ```python
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=pk)
        charge = requests.post(PAYMENTS_URL, json={"amount": order.total}, timeout=10)
        order.charge_id = charge.json()["id"]
        order.save()
    ```

    ## Use instead
    ```python
    order = Order.objects.get(pk=pk)
    charge = requests.post(PAYMENTS_URL, json={"amount": order.total}, timeout=10)
    with transaction.atomic():
        Order.objects.filter(pk=pk).update(charge_id=charge.json()["id"])
    ```
    or run the call after commit (`transaction.on_commit`) or in a background task.

    ## Known problems
    HTTP and SDK clients are recognised by their module (`requests.post`) or by how the
    variable was made (`client = httpx.Client()`); clients passed in as parameters are not. A
    project function that only makes a client and hands it out (`return requests.session()`)
    waits on nothing itself; its callers use the client, and count as slow work. Work behind a
    process-wide memo (`@lru_cache`, `global _X; if _X: return _X`) runs once, not per call.
    For a SQLAlchemy session used as a `with` block, the call is reported only after a query
    in the same block (the session holds a connection from its first query to its commit).
    """

    code = "QL205"
    name = "connection-held-across-slow-call"
    VALID = [
        dedent(
            """
            import requests
            from django.db import transaction

            def pay(order_id, amount):
                charge = requests.post("https://pay.example/charges", json={"amount": amount}, timeout=10)
                with transaction.atomic():
                    transaction.on_commit(lambda: requests.post("https://hooks.example", timeout=5))
                    return charge.json()["id"]
            """
        )
    ]
    INVALID = [
        dedent(
            """
            import time
            from psycopg2.pool import ThreadedConnectionPool
            pool = ThreadedConnectionPool(1, 10, "dbname=shop")

            def reserve(sku):
                conn = pool.getconn()  # want: QL205
                try:
                    with conn.cursor() as cur:
                        cur.execute("UPDATE stock SET held = held + 1 WHERE sku = %s", (sku,))
                    time.sleep(1)
                    conn.commit()
                finally:
                    pool.putconn(conn)
            """
        ),
        dedent(
            """
            import requests
            from django.db import transaction

            def pay(order, amount):
                with transaction.atomic():  # want: QL205
                    charge = requests.post("https://pay.example/charges", json={"amount": amount}, timeout=10)
                    order.charge_id = charge.json()["id"]
                    order.save()
            """
        )
    ]

    def __init__(self, ctx: Context):
        super().__init__(ctx)
        self._reported: Set[int] = set()

    def visit_Call(self, node: cst.Call) -> None:
        # a connection/checkout/session kept in a variable until its release (see the verdict)
        if self.ctx.is_test:
            return
        for v in verdicts(node, self.ctx):
            if v.code == self.code:
                self.report(node, v.message, fix=v.fix, severity=v.severity, confidence=v.confidence)

    def leave_With(self, node: cst.With) -> None:
        # on leave: the block's nodes have been visited, so the item's verdict sees its parents
        if self.ctx.is_test:
            return
        if self._inside_hold(node):
            return  # the outermost hold reports (it is where the connection was taken)
        for item in node.items:
            hold = hold_of(item, self.ctx)
            if hold is None:
                continue
            kind, desc = hold
            if self._opening_reported(item.item):
                return  # the opening call is already reported (per request, leak, loop, held)
            name = None
            if item.asname is not None and isinstance(item.asname.name, cst.Name):
                name = item.asname.name.value
            found = self._find_slow(node.body, kind, name)
            if found is not None:
                call, what = found
                self.report(
                    node,
                    f"`{'async with' if node.asynchronous is not None else 'with'} {N.short(item.item, 50)}` holds {desc} while {N.short(call.func, 40)}(...) at line "
                    f"{self.ctx.line(call)} waits on {what}",
                    fix="do the slow work before the block or after it commits (`on_commit`, a background task)",
                )
                return

    def _opening_reported(self, expr) -> bool:
        if isinstance(expr, cst.Await):
            expr = expr.expression
        if isinstance(expr, cst.Call) and N.call_name(expr) in ("closing", "aclosing") and N.arg(expr, 0) is not None:
            expr = N.arg(expr, 0)
        if isinstance(expr, cst.Call) and verdict(expr, self.ctx) is not None:
            return True
        root = N.root_name(expr)
        if root is None or root in ("self", "cls"):
            return False
        b = self.ctx.binding(root, at=expr)
        value = b.value if b is not None and b.is_simple else None
        if isinstance(value, cst.Await):
            value = value.expression
        return isinstance(value, cst.Call) and self.ctx.parent_of(value) is not None and verdict(value, self.ctx) is not None

    def _inside_hold(self, node: cst.With) -> bool:
        for anc in self.ctx.ancestors(node):
            if isinstance(anc, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
                return False
            if isinstance(anc, cst.With) and any(hold_of(i, self.ctx) is not None for i in anc.items):
                return True
        return False

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if self.ctx.is_test:
            return
        for dec in node.decorators:
            expr = dec.decorator.func if isinstance(dec.decorator, cst.Call) else dec.decorator
            q = self.ctx.qualify(expr) or ""
            if q not in ("django.db.transaction.atomic",):
                continue
            found = self._find_slow(node.body, "transaction", None)
            if found is not None:
                call, what = found
                self.report(
                    dec,
                    f"`@{N.short(expr, 40)}` holds a database transaction for the whole of `{node.name.value}()` while "
                    f"{N.short(call.func, 40)}(...) at line {self.ctx.line(call)} waits on {what}",
                    fix="do the slow work outside the transaction (`transaction.on_commit`, a background task)",
                )
            return

    def _find_slow(self, body: cst.CSTNode, kind: str, name: Optional[str]):
        session_open = kind != "session"
        for n in N.walk(body, into_functions=False):
            if isinstance(n, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
                continue
            if not isinstance(n, cst.Call):
                continue
            if kind == "session" and name is not None:
                recv = N.receiver(n)
                if isinstance(recv, cst.Name) and recv.value == name:
                    method = N.call_name(n)
                    if method in SESSION_QUERY_METHODS:
                        session_open = True
                    elif method in SESSION_END_METHODS:
                        session_open = False
                    continue
            if not session_open or id(n) in self._reported:
                continue
            if N.call_name(n) == "on_commit":
                continue
            what = slow_call(n, self.ctx)
            if what is not None:
                self._reported.add(id(n))
                return n, what
        return None


RULES = (ConnectionPerRequest, ConnectionInLoop, ConnectionNotClosed, PoolCheckoutNotReturned, ConnectionHeldAcrossSlowCall)
