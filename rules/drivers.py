"""QL101: a DB-API / driver statement run once per item of a loop."""
from __future__ import annotations

from typing import Optional, Tuple, cast

import libcst as cst

from querylint.frameworks.dbapi import PARAMSTYLE_OF_DRIVER, statement_call
from querylint.loops import per_item_loop
from querylint.sql.extract import literal_verb, runs_only_unbatchable, statement_start, statement_varies_per_item
from querylint.rule import Edit, Rule, article, dedent, nodes as N
from querylint.rule import Context


_CONSTRUCT_VERBS = {"insert": "INSERT", "update": "UPDATE", "delete": "DELETE"}


def _construct_verb(expr: Optional[cst.BaseExpression], ctx: Context) -> Optional[str]:
    """The verb of a SQLAlchemy Core construct: ``table.insert()``, ``insert(table).values(...)``,
    or a name bound once to one (``ins = tbl.insert()``)."""
    if isinstance(expr, cst.Name):
        b = ctx.binding(expr.value, at=expr)
        expr = b.value if b is not None and b.is_simple and b.kind == "assign" else None
    while isinstance(expr, cst.Call):
        name = N.call_name(expr) or ""
        if name in _CONSTRUCT_VERBS:
            return _CONSTRUCT_VERBS[name]
        func = expr.func
        expr = func.value if isinstance(func, cst.Attribute) else None
    return None


def _sql_verb(call: cst.Call, ctx: Optional[Context] = None) -> Optional[str]:
    first = N.arg(call, 0)
    if ctx is not None and not isinstance(first, (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)):
        got = _construct_verb(first, ctx)
        if got is not None:
            return got
    text = N.string_value(first)
    if text is None and isinstance(first, cst.FormattedString):
        text = "".join(p.value for p in first.parts if isinstance(p, cst.FormattedStringText))
    if text is None and ctx is not None:
        text = statement_start(first, ctx)  # ``sql = """INSERT ..."""`` then ``cursor.execute(sql, row)``
    if text is None:
        return None
    words = text.strip().split(None, 1)
    return words[0].upper() if words else None


class QueryInLoop(Rule):
    """
    ## What it does
    Flags a database statement run through a driver (`cursor.execute`, `executemany`,
    sqlite3 `connection.execute`, asyncpg `await conn.fetch*()` / `execute`, a SQLAlchemy
    `Connection.execute`) inside a `for` / `async for` / `while` loop, a comprehension or a
    generator expression.

    ## Why is this bad?
    Each iteration is a round trip to the database: N items cost N queries, and the time
    grows with the data. With a connection pool, a slow loop also holds its connection for
    the whole time.

    ## Example
    ```python
    for user_id in user_ids:
        cur.execute("SELECT name FROM users WHERE id = %s", (user_id,))
        names.append(cur.fetchone()[0])
    ```

    ## Use instead
    ```python
    cur.execute("SELECT id, name FROM users WHERE id = ANY(%s)", (list(user_ids),))
    names = dict(cur.fetchall())
    ```
    For writes, one `cur.executemany(...)`, a multi-row `VALUES`, or `COPY`.

    ## Known problems
    Receivers are recognised by how they were made (`psycopg2.connect()`, `conn.cursor()`,
    `pool.acquire()`, `with conn.cursor() as cur`) or, for parameters and attributes, by
    conventional names (`cur`, `cursor`, `conn`, `connection`). Loops over constants, batches
    (`for chunk in chunked(ids, 500)`, `range(0, n, step)`), retries and `while True` polling
    loops are not reported. An `INSERT` per item whose new key the loop reads back
    (`r.inserted_primary_key`, `cur.lastrowid`) is often one row at a time on purpose: it is
    reported at medium confidence, advising one multi-row `INSERT ... RETURNING`.

    ## References
    - PEP 249 `executemany`: https://peps.python.org/pep-0249/#executemany
    """

    code = "QL101"
    per_request_escalation = True
    loop_scaled = True
    name = "query-in-loop"
    VALID = [
        dedent(
            """
            import sqlite3
            conn = sqlite3.connect("app.db")
            cur = conn.cursor()
            cur.execute("SELECT id, name FROM users WHERE id IN (?, ?)", (1, 2))
            rows = cur.fetchall()
            for row in rows:
                print(row)
            """
        ),
        dedent(
            """
            import sqlite3
            def create(conn):
                for stmt in ("CREATE TABLE a (id int)", "CREATE TABLE b (id int)"):
                    conn.execute(stmt)
            """
        ),
        dedent(
            """
            def load(conn, ids):
                cur = conn.cursor()
                for chunk in chunked(ids, 500):
                    cur.executemany("INSERT INTO t (id) VALUES (%s)", [(i,) for i in chunk])
            """
        ),
    ]
    INVALID = [
        dedent(
            """
            import psycopg2
            def names(user_ids):
                conn = psycopg2.connect("dbname=app")
                cur = conn.cursor()
                for user_id in user_ids:
                    cur.execute("SELECT name FROM users WHERE id = %s", (user_id,))  # want: QL101
            """
        ),
        dedent(
            """
            async def totals(pool, order_ids):
                async with pool.acquire() as conn:
                    return [await conn.fetchval("SELECT total FROM orders WHERE id = $1", i) for i in order_ids]  # want: QL101
            """
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        if self.ctx.loop is None:
            return
        obj = statement_call(node, self.ctx)
        if obj is None:
            return
        loop = per_item_loop(self.ctx)
        if loop is None or runs_only_unbatchable(node, self.ctx):
            return  # DDL / administration per item (a schema per tenant) cannot be one set-based query
        if statement_varies_per_item(node, loop, self.ctx) or self._database_per_item(node, loop):
            return  # a different statement, table or database per item: nothing to merge
        method = N.call_name(node)
        verb = _sql_verb(node, self.ctx)
        target = N.short(node.func)
        where = self.ctx.loop_label(loop)
        confidence = "high"
        if method == "executemany":
            # each pass already sends a batch of rows: usually a chunk of a larger list (sydent's
            # 500-row slices), sometimes one batch per item worth merging
            fix = "build the rows first and call `executemany` once, outside the loop"
            confidence = "medium"
        elif verb == "INSERT" and _reads_new_key(node, loop, self.ctx):
            # one row at a time to get each new id back (buildbot's build requests): deliberate
            # where the driver cannot return the keys of a multi-row insert
            fix = "insert every row in one statement with `RETURNING id` (SQLAlchemy 2: `insert().returning(...)` given the list of rows) and map the keys back"
            confidence = "medium"
        elif verb in ("INSERT", "UPDATE", "DELETE", "REPLACE", "UPSERT", "MERGE"):
            style = PARAMSTYLE_OF_DRIVER.get(obj.driver or "", "%s")
            fix = (
                f"collect the rows and run one `executemany(...)` (paramstyle `{style}`), a multi-row "
                "`VALUES`, `COPY`, or `UPDATE ... FROM (VALUES ...)` after the loop"
            )
        else:
            fix = "fetch every row in one set-based query (`WHERE id IN (...)` / `= ANY(...)`) or a join before the loop"
        edits = _executemany_edit(node, loop, self.ctx) if method == "execute" and verb in ("INSERT", "UPDATE", "DELETE", "REPLACE") else ()
        self.report(node, f"`{target}(...)` runs {article(verb) if verb else 'a database'} statement on every iteration of {where}", fix=fix, edits=edits, confidence=confidence)

    def _database_per_item(self, node: cst.Call, loop) -> bool:
        """``for db in databases: db.execute(...)``: the connection (or cursor) is the loop's item
        or comes from it, so each iteration talks to another database (an attached file, a
        shard): one query cannot cover them."""
        recv = N.receiver(node)
        root = N.root_name(recv) if recv is not None else None
        if root is None:
            return False
        if loop.binds(root):
            return True
        b = self.ctx.binding(root, at=node)
        if b is None or b.value is None or not any(a is loop.node for a in self.ctx.ancestors(b.node)):
            return False
        return any(isinstance(n, cst.Name) and loop.binds(n.value) for n in N.walk(b.value))


_NEW_KEY_ATTRS = frozenset(("inserted_primary_key", "lastrowid", "inserted_primary_key_rows"))


def _reads_new_key(call: cst.Call, loop, ctx: Context) -> bool:
    """The loop reads the new row's key from the statement's result (``r.inserted_primary_key``,
    ``cur.lastrowid``) after running it."""
    body = getattr(loop.node, "body", None)
    if body is None:
        return False
    recv = N.receiver(call)
    names = {N.code(recv)} if recv is not None else set()
    parent = ctx.parent_of(call)
    if isinstance(parent, cst.Assign) and len(parent.targets) == 1 and isinstance(parent.targets[0].target, cst.Name):
        names.add(parent.targets[0].target.value)
    return any(
        isinstance(n, cst.Attribute) and n.attr.value in _NEW_KEY_ATTRS and N.code(n.value) in names
        for n in N.walk(body, into_functions=False)
    )


def _executemany_edit(node: cst.Call, loop, ctx: Context) -> Tuple[Edit, ...]:
    """The ``--fix`` for ``for row in rows: cur.execute("INSERT ...", params)`` when that call is
    the loop's only statement, with a literal statement and one parameter argument: one
    ``cur.executemany("INSERT ...", [params for row in rows])`` in its place."""
    for_node = loop.node
    if not isinstance(for_node, cst.For) or for_node.asynchronous is not None or for_node.orelse is not None:
        return ()
    body = for_node.body
    if not isinstance(body, cst.IndentedBlock) or len(body.body) != 1 or body.header.comment is not None:
        return ()
    stmt = body.body[0]
    if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1 or any(line.comment for line in stmt.leading_lines):
        return ()
    small = stmt.body[0]
    if not (isinstance(small, cst.Expr) and small.value is node) or len(node.args) != 2 or any(a.keyword or a.star for a in node.args):
        return ()
    sql, params = node.args[0].value, node.args[1].value
    if N.string_value(sql) is None:
        return ()
    receiver = cast(cst.Attribute, node.func).value
    text = (
        f"{N.code(receiver)}.executemany({N.code(sql)}, "
        f"[{N.code(params)} for {N.code(for_node.target)} in {N.code(for_node.iter)}])"
    )
    start, end = ctx.span(for_node), ctx.span(node)
    return (Edit(start.line, start.column, end.end_line, end.end_column, text),)


def detect_driver_query(node, ctx: Context) -> Optional[str]:
    """Query detector for the project index: a driver statement anywhere in a function."""
    if isinstance(node, cst.Call) and statement_call(node, ctx) is not None and not runs_only_unbatchable(node, ctx):
        return N.short(node.func) + f"({literal_verb(node)}...)"
    return None


RULES = (QueryInLoop,)
QUERY_DETECTORS = (detect_driver_query,)
