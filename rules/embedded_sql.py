"""QL3xx: risky embedded SQL, judged on the statement itself (parsed with sqlglot).

The SQL reaching a sink is found by :mod:`querylint.sql.extract` (constants, concatenation,
f-strings, ``%`` and ``.format`` with holes replaced) and parsed by :mod:`querylint.sql.parse`
(placeholders normalised, dialect from the config or the driver, strict parse, memoised). The
tree checks are pure functions in :mod:`querylint.sql.checks`. SQL that does not parse yields no
finding here except the opt-in QL310.
"""
from __future__ import annotations

import logging
import re
from typing import Any, Dict, Set, List, Optional, Tuple

import libcst as cst

from querylint.frameworks.dbapi import PARAMSTYLE_OF_DRIVER, infer
from querylint.rule import Rule, Severity, dedent, nodes as N, request_context, resolve_callee
from querylint.sql import checks as C
from querylint.sql.extract import EmbeddedSql, Evaluator, Hole, extract, extract_constant, from_outside, guarded, value_holes_of_name
from querylint.sql.parse import DML_VERBS, HOLE_PREFIX, SQL_VERBS, first_word
from querylint.rule import Context

log = logging.getLogger(__name__)
ONE_ROW_METHODS = {"fetchrow", "fetchval", "fetch_one", "fetch_val"}
ONE_ROW_CHAIN = {"first", "scalar", "one", "one_or_none", "scalar_one", "scalar_one_or_none", "fetchone", "fetchval"}
_QUOTED_IDENT_BEFORE = re.compile(r"(ORDER\s+BY|GROUP\s+BY|FROM|JOIN|INTO|UPDATE|TABLE|SEQUENCE|INDEX|VIEW|SCHEMA|EXISTS|\.)\s*$", re.I)
_IDENT_BEFORE = re.compile(r"(ORDER\s+BY|GROUP\s+BY|FROM|JOIN|INTO|UPDATE|TABLE|EXISTS|SELECT|DISTINCT|SET|,|\.|INTO\s+[\w.\"`]+\s*\()\s*$", re.I)
# after a sort expression of an ORDER BY, before any later clause: a direction (``ASC``/``DESC``)
_DIRECTION_BEFORE = re.compile(r"ORDER\s+BY\b(?:(?!\b(?:WHERE|LIMIT|OFFSET|FROM|HAVING|UNION|SELECT|FETCH)\b).)*\S\s+$", re.I | re.S)


# --------------------------------------------------------------------------- shared helpers


def paramstyle(item: EmbeddedSql) -> str:
    """The bound-parameter style to suggest for this sink."""
    if item.sink.kind in ("text",):
        return ":name"
    if item.sink.kind in ("raw", "extra", "rawsql"):
        return "%s"
    style = PARAMSTYLE_OF_DRIVER.get(item.driver or "")
    if style:
        return style
    parsed = item.parsed(item._ctx.config.sql_dialect if item._ctx is not None else None)
    if parsed is not None and parsed[0].placeholders:
        return parsed[0].placeholders[0].style.replace("%(name)s", "%(name)s")
    return "%s"


def _driver_label(item: EmbeddedSql) -> str:
    d = item.driver
    if item.sink.kind == "text":
        return "SQLAlchemy `text()`"
    if item.sink.kind in ("raw", "extra", "rawsql") or d == "django":
        return "Django"
    return d or "the driver"


class _SqlRule(Rule):
    """Shared plumbing: every sink call's SQL, parsed once per file, reported once per node."""

    needs_tree = True

    # Performance rules skip statements that read only system catalogues (information_schema,
    # pg_catalog, sqlite_master): there is no index to lose and no table to scan that grows.
    judges_catalogs = False

    def __init__(self, ctx: Context):
        super().__init__(ctx)
        self._reported: Set[Any] = set()

    def visit_Call(self, node: cst.Call) -> None:
        if not node.args or N.call_name(node) is None:
            return
        self._process(extract(node, self.ctx))

    def visit_Assign(self, node: cst.Assign) -> None:
        # a module-level SQL constant that another module runs: judged here, at its literal
        if len(self.ctx.frames) == 1:
            self._process(self.ctx.memo(("sql-constant", id(node)), lambda: guarded(extract_constant, node, self.ctx)))

    def _process(self, items) -> None:
        for item in items:
            if self.needs_tree:
                stmts = self.statements(item)
                if stmts is None:
                    continue
                if not self.judges_catalogs:
                    stmts = [st for st in stmts if not C.reads_system_catalog_only(st)]
                try:
                    self.check_tree(item, stmts)
                except RecursionError:
                    log.debug("%s: SQL tree too deep to judge: %.80s", self.code, item.text)
            else:
                self.check(item)

    def statements(self, item: EmbeddedSql):
        if item.text is None or not item.is_sql:
            return None
        parsed = item.parsed(self.ctx.config.sql_dialect)
        if parsed is None or not parsed[1].ok:
            return None
        return parsed[1].statements

    def check_tree(self, item: EmbeddedSql, stmts) -> None:  # pragma: no cover - overridden
        pass

    def check(self, item: EmbeddedSql) -> None:  # pragma: no cover - overridden
        pass

    def emit(self, node: Optional[cst.CSTNode], message: str, **kw) -> None:
        if node is None:
            return
        key = (id(node), message)
        if key in self._reported or id(node) in self._reported:
            return
        self._reported.add(id(node))
        self.report(node, message, **kw)


def callee_facts(call: cst.Call, ctx: Context):
    """The index facts of the project function ``call`` reaches (``self.m()``, ``helper()``,
    ``Model.static_m()``), or None."""
    qual = resolve_callee(call, ctx)
    if qual is not None:
        return ctx.index.functions.get(qual)
    q = ctx.qualify(call.func)
    return ctx.index.resolve_function(q, ctx.function_facts()) if q else None


def _text_excerpt(text: Optional[str], limit: int = 60) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _sql_excerpt(stmt, limit: int = 60) -> str:
    try:
        text = stmt.sql()
    except Exception:  # pragma: no cover - sqlglot generation failure
        return "the statement"
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r":qlp\d+", "?", text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --------------------------------------------------------------------------- QL301


def _table_name(item: EmbeddedSql, name: str) -> str:
    """A table name for messages: a spliced table shows its Python source (``{self.table}``)."""
    hole = item.hole(name)
    return "{" + hole.source + "}" if hole is not None else name


_WHOLE_ROW_TABLES = frozenset({"alembic_version", "django_migrations", "schema_migrations"})


class SelectStar(_SqlRule):
    """
    ## What it does
    Flags `SELECT *` and `t.*` in the projection a query returns to the application, in SQL
    passed to `cursor.execute`, `text()`, `read_sql` and the other SQL sinks.

    ## Why is this bad?
    The query fetches, transfers and decodes every column, including wide ones the code never
    reads (text blobs, JSON), and cannot be answered from a covering index. A column added to
    the table later silently makes every such query heavier, and positional row access
    (`row[2]`) breaks when the column order changes.

    ## Example
    ```python
    cur.execute("SELECT * FROM users WHERE id = %s", (user_id,))
    ```

    ## Use instead
    ```python
    cur.execute("SELECT id, email, name FROM users WHERE id = %s", (user_id,))
    ```

    ## Known problems
    `*` inside `EXISTS (...)`, `COUNT(*)`, a CTE or a derived table is not reported, nor a
    star over CTEs and subqueries (their columns are already chosen). For
    `Model.objects.raw()`, `SELECT *` over a single table is Django's documented idiom and
    is only reported over a join. A function that reads the columns back from
    `cursor.description` (or a result's `keys()`) wants whatever columns the table has and is
    not reported. `SELECT *` over a single table (the everyday idiom, seldom worth a change) is
    shown with `--min-confidence medium`; over a join it is reported by default, unless the
    rows are unpacked whole (`Dto(**row)`, here or in the project function they are passed to):
    every column is then used, and the finding is medium too.
    """

    code = "QL301"
    name = "select-star"
    VALID = [
        'def f(cur, uid):\n    cur.execute("SELECT id, email FROM users WHERE id = %s", (uid,))\n',
        'def row(cur):\n    cur.execute("SELECT * FROM settings LIMIT 1")\n    return dict(zip([d[0] for d in cur.description], cur.fetchone()))\n',
        'def f(cur):\n    cur.execute("SELECT count(*) FROM users WHERE EXISTS (SELECT * FROM orders WHERE orders.user_id = users.id)")\n',
        'def f():\n    return Book.objects.raw("SELECT * FROM shop_book WHERE price > %s", [10])\n',
    ]
    INVALID = [
        'def f(cur, uid):\n    cur.execute("SELECT * FROM users u JOIN orders o ON o.user_id = u.id WHERE u.id = %s", (uid,))  # want: QL301\n',
        dedent(
            """
            from sqlalchemy import text
            def f(session, uid):
                stmt = text("SELECT o.*, u.email FROM orders o JOIN users u ON u.id = o.user_id WHERE u.id = :uid")  # want: QL301
                return session.execute(stmt, {"uid": uid}).all()
            """
        ),
        'def f():\n    return Book.objects.raw("SELECT * FROM shop_book b JOIN shop_author a ON a.id = b.author_id")  # want: QL301\n',
    ]

    def check_tree(self, item, stmts):
        if item.fragment != "statement":
            return
        for stmt in stmts:
            if item.sink.kind == "raw":
                tables = C.star_over_join(stmt)
                if tables:
                    self.emit(
                        item.origin,
                        f"`SELECT *` over a join ({', '.join(tables)}) in `{item.sink.label}()` returns the columns of every joined table",
                        fix="select the model's table with `t.*` or list the columns used",
                    )
                continue
            if self._every_column_wanted(item):
                continue
            for use in C.returned_stars(stmt):
                if any(item.hole(t) is not None or t.lower() in _WHOLE_ROW_TABLES for t in use.tables):
                    continue  # a table chosen at run time (its columns are not known here), or a bookkeeping table
                table = ", ".join(_table_name(item, t) for t in use.tables)
                if use.qualifier:
                    msg = f"`{use.qualifier}.*` returns every column of `{table}`"
                else:
                    msg = f"`SELECT *` returns every column of `{table}`"
                # over one table it is the everyday idiom: worth a look, seldom worth a change
                # (the columns are the table's, the rows are what the WHERE says); over a join
                # it repeats the join keys and drags every joined table's columns along
                # the rows unpacked whole (``Dto(**row)``, here or in a helper): every column is used
                sure = use.joined and not self._rows_handed_on(item)
                self.emit(item.origin, msg, fix="list the columns the code uses", confidence="high" if sure else "medium")
                break

    def _rows_handed_on(self, item) -> bool:
        """The rows a fetch call returns (``rows = await db.fetch_all(SQL)``) are unpacked whole
        (``Dto(**row)``), here or in the project function they are passed to: every column is
        used. Rows handed to a function that reads some keys stay a finding."""
        call, fn = item.sink.call, self.ctx.function
        if call is None or fn is None or item.sink.kind == "text":
            return False  # ``text(SQL)`` is a statement, not rows
        parent = self.ctx.parent_of(call)
        if isinstance(parent, cst.Await):
            parent = self.ctx.parent_of(parent)
        if not (isinstance(parent, cst.Assign) and len(parent.targets) == 1 and isinstance(parent.targets[0].target, cst.Name)):
            return False
        rows = parent.targets[0].target.value
        names = {rows}
        for node in N.walk(fn.node, into_functions=False):
            if isinstance(node, (cst.For, cst.CompFor)) and isinstance(node.iter, cst.Name) and node.iter.value == rows and isinstance(node.target, cst.Name):
                names.add(node.target.value)
        for node in N.walk(fn.node, into_functions=False):
            if not isinstance(node, cst.Call):
                continue
            if any(a.star == "**" and isinstance(a.value, cst.Name) and a.value.value in names for a in node.args):
                return True
            positions = [i for i, a in enumerate(node.args) if not a.star and a.keyword is None and isinstance(a.value, cst.Name) and a.value.value == rows]
            if positions and self._spreads(node, positions):
                return True
        return False

    def _spreads(self, call: cst.Call, positions: List[int]) -> bool:
        """The project function ``call`` reaches unpacks the parameter at one of ``positions``."""
        facts = callee_facts(call, self.ctx)
        if facts is None or not facts.spread_params:
            return False
        params = [p for p in facts.params if p not in ("self", "cls")] if N.receiver(call) is not None else list(facts.params)
        return any(i < len(params) and params[i] in facts.spread_params for i in positions)

    def _every_column_wanted(self, item) -> bool:
        """The rows are consumed whole: the SQL feeds an ORM ``from_statement(...)`` (the mapper
        needs every column) or pandas ``read_sql`` (a DataFrame of the table), or the function
        reads the columns back from ``cursor.description`` / ``result.keys()`` (it wants
        whatever columns the table has)."""
        if item.sink.kind == "read_sql" or self._reads_columns_back():
            return True
        call = item.sink.call
        if call is None or item.sink.kind != "text":
            return False
        parent = self.ctx.parent_of(call)
        if isinstance(parent, cst.Arg):
            parent = self.ctx.parent_of(parent)
        if isinstance(parent, cst.Call) and N.call_name(parent) == "from_statement":
            return True
        # ``stmt = text(SQL)`` then ``query(Group).from_statement(stmt)`` in the same function
        target = None
        if isinstance(parent, cst.Assign) and len(parent.targets) == 1:
            target = parent.targets[0].target
        elif isinstance(parent, cst.AnnAssign):
            target = parent.target
        fn = self.ctx.function
        if not isinstance(target, cst.Name) or fn is None:
            return False
        name = target.value
        return any(
            isinstance(n, cst.Call) and N.call_name(n) == "from_statement" and any(isinstance(a.value, cst.Name) and a.value.value == name for a in n.args)
            for n in N.walk(fn.node, into_functions=False)
        )


    def _reads_columns_back(self) -> bool:
        fn = self.ctx.function
        if fn is None:
            return False
        return self.ctx.memo(("reads-description", id(fn.node)), lambda: any(
            (isinstance(n, cst.Attribute) and n.attr.value == "description")
            or (isinstance(n, cst.Call) and N.call_name(n) == "keys" and not n.args and isinstance(n.func, cst.Attribute)
                and isinstance(n.func.value, (cst.Name, cst.Call)) and "result" in N.code(n.func.value).lower())
            for n in N.walk(fn.node, into_functions=False)
        ))


# --------------------------------------------------------------------------- QL302


class UpdateDeleteWithoutWhere(_SqlRule):
    """
    ## What it does
    Flags an `UPDATE` or `DELETE` statement with no `WHERE` clause in application code
    (migrations are never linted).

    ## Why is this bad?
    It rewrites or deletes every row of the table, takes locks on all of them and writes the
    whole table to the WAL/binlog. In application code this is almost always a missing
    condition (the function's `id` parameter is not used).

    ## Example
    ```python
    def deactivate(conn, user_id):
        conn.execute("UPDATE users SET active = 0")
    ```

    ## Use instead
    ```python
    def deactivate(conn, user_id):
        conn.execute("UPDATE users SET active = 0 WHERE id = ?", (user_id,))
    ```

    ## Known problems
    SQL with spliced non-constant fragments (`f"... {where}"`) is not judged, since the
    fragment may hold the condition. A function whose name says the whole table is meant
    (`delete_all`, `clear_index`, `reset_counters`, `drop_table`) and that takes nothing but
    `self` and the database handle is not reported; another deliberate whole-table reset is
    reported at medium confidence (shown with `--min-confidence medium`), and at high confidence
    only when the function takes an `id` parameter (`user_id`, `pk`) it never uses: the forgotten
    condition. Suppress a deliberate reset with a reason (`# querylint: ignore[QL302] -- nightly
    reset`) or use `TRUNCATE`.
    """

    code = "QL302"
    judges_catalogs = True
    name = "update-delete-without-where"
    severity = Severity.ERROR
    VALID = [
        'def f(cur, uid):\n    cur.execute("DELETE FROM sessions WHERE user_id = %s", (uid,))\n',
        'def f(cur, where):\n    cur.execute("DELETE FROM sessions " + where)\n',
        'def delete_all(cur):\n    cur.execute("DELETE FROM sessions")\n',
    ]
    INVALID = [
        'def f(cur, uid):\n    cur.execute("DELETE FROM sessions")  # want: QL302\n',
        'def clear_sessions(cur, user_id):\n    cur.execute("DELETE FROM sessions")  # want: QL302\n',
        'import sqlite3\ndef f(conn: sqlite3.Connection, uid):\n    conn.execute("UPDATE users SET active = 0")  # want: QL302\n',
    ]

    def check_tree(self, item, stmts):
        if item.fragment != "statement" or item.has_unknown_holes or self.ctx.is_test:
            return
        for stmt in stmts:
            got = C.missing_where(stmt)
            if got:
                verb, table = got
                what = "changes" if verb == "UPDATE" else "deletes"
                unused = self._unused_id_params()
                if self._meant_for_every_row():
                    return
                hint = f" (`{unused[0]}` is never used)" if unused else ""
                # an id parameter the function never uses is the forgotten condition; without it
                # a constant whole-table statement is as likely meant (a reset beside other work)
                self.emit(
                    item.origin, f"`{verb}` of `{table}` has no WHERE clause: it {what} every row of the table{hint}",
                    fix="add the missing condition", confidence="high" if unused else "medium",
                )
                break

    _WHOLE_TABLE_WORDS = frozenset({"clear", "reset", "truncate", "wipe", "purge", "drop", "empty", "flush", "reinit", "recreate", "rebuild", "all"})

    _HANDLE_PARAMS = frozenset({"self", "cls", "conn", "connection", "con", "cnx", "cur", "cursor", "db", "session", "db_session", "engine", "tx", "txn", "transaction", "c"})

    def _meant_for_every_row(self) -> bool:
        """The enclosing function's name says the whole table is meant (``delete_all``,
        ``clear_index``, ``reset_counters``, ``drop_table``) and it takes nothing that could pick
        rows: only ``self`` and the database handle."""
        fn = self.ctx.function
        if fn is None or not isinstance(fn.node, cst.FunctionDef):
            return False
        if any(p not in self._HANDLE_PARAMS for p in N.param_names(fn.node.params)):
            return False
        return bool(set(fn.node.name.value.lower().strip("_").split("_")) & self._WHOLE_TABLE_WORDS)

    def _unused_id_params(self) -> List[str]:
        fn = self.ctx.function
        if fn is None or not isinstance(fn.node, cst.FunctionDef):
            return []
        params = [p for p in N.param_names(fn.node.params) if p in ("id", "ids", "uid", "pk", "uuid") or p.endswith(("_id", "_ids", "_pk", "_uuid"))]
        if not params:
            return []
        used = {n.value for n in N.walk(fn.node.body, into_functions=True) if isinstance(n, cst.Name)}
        return [p for p in params if p not in used]


# --------------------------------------------------------------------------- QL303


def _builder_kind(builder: cst.CSTNode) -> str:
    if isinstance(builder, cst.FormattedString):
        return "an f-string"
    if isinstance(builder, cst.BinaryOperation):
        return "`%` formatting" if isinstance(builder.operator, cst.Modulo) else "`+` concatenation"
    if isinstance(builder, cst.Call):
        return "`.format()`"
    return "string formatting"


_TABLE_BEFORE = re.compile(r"(FROM|JOIN|INTO|UPDATE|TABLE)\s*$|\.\s*$", re.I)


def _builder_text_before(hole: Hole) -> Optional[str]:
    """The literal text before ``hole`` in its own builder (``sql += f" ORDER BY {col} DESC"``),
    when the whole statement's text is not known."""
    builder = hole.builder
    if isinstance(builder, cst.FormattedString):
        parts: List[str] = []
        for part in builder.parts:
            if isinstance(part, cst.FormattedStringExpression) and part.expression is hole.expr:
                return "".join(parts)
            parts.append(part.value if isinstance(part, cst.FormattedStringText) else "?")
    if isinstance(builder, cst.BinaryOperation) and isinstance(builder.operator, cst.Add) and builder.right is hole.expr:
        return N.string_value(builder.left) if isinstance(builder.left, cst.SimpleString) else None
    return None


def _text_before(item: EmbeddedSql, hole: Hole) -> Optional[str]:
    """The SQL text before ``hole``: in the whole statement, or else in the hole's own builder."""
    if item.text is None or hole.index < 0 or f"{HOLE_PREFIX}{hole.index}" not in item.text:
        return _builder_text_before(hole)
    return item.text[: item.text.find(f"{HOLE_PREFIX}{hole.index}")]


# a quoted or bracketed name opened right after a table keyword: ``FROM [{t}]``, ``JOIN "{t}"``,
# SQLite's ``FROM '{t}'`` (it takes a quoted string there as a table name)
_NAME_OPEN_BEFORE = re.compile(r"\b(FROM|JOIN|INTO|UPDATE|TABLE)\s*[\['\"`]$", re.I)


_SORT_BEFORE = re.compile(r"\b(ORDER|GROUP)\s+BY\b[^()]*$", re.I | re.S)


def _sort_hole(item: EmbeddedSql, hole: Hole) -> bool:
    """The value sits in a sort clause (``ORDER BY {col} {direction}``)."""
    if item.fragment == "order":
        return True
    before = _text_before(item, hole)
    return before is not None and bool(_SORT_BEFORE.search(before))


def _text_after(item: EmbeddedSql, hole: Hole) -> Optional[str]:
    """The SQL text after ``hole`` in the whole statement, when that is known."""
    if item.text is None or hole.index < 0:
        return None
    m = re.search(rf"{HOLE_PREFIX}{hole.index}(?!\d)", item.text)
    return item.text[m.end():] if m else None


def _is_table_hole(item: EmbeddedSql, hole: Hole) -> bool:
    """The value names a table (or its schema): ``FROM {t}``, ``JOIN [{t}]``, ``FROM '{t}'``,
    ``{schema}.{t}``, ``{t}.*``, ``{t}.col``."""
    if _is_identifier_hole(item, hole, _TABLE_BEFORE):
        return True
    before = _text_before(item, hole)
    if before is not None and _NAME_OPEN_BEFORE.search(before):
        return True
    after = _text_after(item, hole)
    return after is not None and bool(re.match(r"\.(\*|[A-Za-z_])", after))


# functions whose string argument is the name of a sequence or a table
_OBJECT_NAME_STRING = re.compile(
    r"\b(nextval|currval|setval|to_regclass|pg_get_serial_sequence|pg_total_relation_size|pg_relation_size|pg_table_size)\s*\(\s*'[\w.]*$",
    re.I,
)
_VALUE_QUOTE_BEFORE = re.compile(r"(=|<|>|\bLIKE|\bIN\s*\(|\bVALUES\s*\()$", re.I)


def _quoted(item: EmbeddedSql, hole: Hole) -> bool:
    """The value is spliced inside a string literal (``WHERE name = '{name}'``, or MySQL's and
    SQLite's ``version = "{v}"`` / ``VALUES ("{p}", ...)``): text, not a number."""
    before = _text_before(item, hole)
    if before is None:
        return False
    if before.count("'") % 2 == 1:
        return True
    if before.count('"') % 2 == 1:
        head = before[: before.rfind('"')].rstrip()
        return bool(_VALUE_QUOTE_BEFORE.search(head)) or (head.endswith(",") and _in_value_list(head))
    return False


def _is_identifier_hole(item: EmbeddedSql, hole: Hole, pattern=_IDENT_BEFORE) -> bool:
    if item.fragment == "order" and (item.text is None or "'" not in item.text):
        return True  # a sort clause: column names and directions, nothing to bind
    before = _text_before(item, hole)
    if before is None:
        return False
    if before.count("'") % 2 == 1:
        # a string that names an object: ``nextval('{col}_seq')``, ``'{seq}'::regclass``
        after = _text_after(item, hole)
        return bool(_OBJECT_NAME_STRING.search(before)) or (after is not None and bool(re.match(r"[\w.]*'::regclass", after)))
    if before.count("`") % 2 == 1:
        return True  # inside a MySQL quoted identifier: ``INSERT INTO `%s```
    if before.count('"') % 2 == 1:
        # ``INSERT INTO "%s"``, ``ALTER SEQUENCE "%s_id_seq"``, ``jsonb_path_query("{field}", ...)``;
        # not MySQL's and SQLite's ``name = "%s"`` / ``VALUES ("%s", ...)`` strings
        head = before[: before.rfind('"')].rstrip()
        if _QUOTED_IDENT_BEFORE.search(head):
            return True
        return pattern is _IDENT_BEFORE and not _VALUE_QUOTE_BEFORE.search(head) and not (head.endswith(",") and _in_value_list(head))
    m = pattern.search(before)
    if m is not None and m.group(1) == "," and _in_value_list(before):
        return False  # ``VALUES (1, {x})``, ``setval('seq', {n})``: a value, not a column
    return bool(m) or (pattern is _IDENT_BEFORE and bool(_DIRECTION_BEFORE.search(before)))


_NOT_FUNCTIONS = frozenset(
    "FROM JOIN WHERE AND OR NOT ON SELECT WHEN THEN ELSE AS OVER BY HAVING SET EXISTS USING RETURNING TABLE INTO DISTINCT".split()
)
_CALL_OPEN = re.compile(r"(?:\b(\w+)\s+)?(\w+)\s*$")


def _in_value_list(before: str) -> bool:
    """The innermost open parenthesis of ``before`` starts a ``VALUES`` tuple or the arguments of a
    function (``setval(``, ``COALESCE(``), not a column list (``INSERT INTO t (``)."""
    depth = 0
    for i in range(len(before) - 1, -1, -1):
        ch = before[i]
        if ch == ")":
            depth += 1
        elif ch == "(":
            if depth == 0:
                m = _CALL_OPEN.search(before[:i])
                if m is None:
                    return False
                word, prev = m.group(2).upper(), (m.group(1) or "").upper()
                if re.match(r"\s*(SELECT|WITH)\b", before[i + 1:], re.I):
                    return False  # a subquery's column list
                if word in ("VALUES", "IN"):
                    return True
                return prev not in ("INTO", "TABLE", "INDEX", "ON", "EXISTS", "KEY", "USING") and word not in _NOT_FUNCTIONS
            depth -= 1
    return False


def _leading_text(node: Optional[cst.CSTNode]) -> Optional[str]:
    """The constant text a formatting expression starts with (``f"SELECT {x}"`` → ``"SELECT "``)."""
    for _ in range(6):
        if node is None:
            return None
        if isinstance(node, (cst.Assign, cst.AnnAssign, cst.AugAssign)):
            node = node.value
        elif isinstance(node, cst.BinaryOperation):
            node = node.left
        elif isinstance(node, cst.ConcatenatedString):
            node = node.left
        elif isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
            node = node.func.value
        elif isinstance(node, cst.FormattedString):
            first = node.parts[0] if node.parts else None
            return first.value if isinstance(first, cst.FormattedStringText) else None
        else:
            return N.string_value(node)
    return None


class FormattedSql(_SqlRule):
    """
    ## What it does
    Flags SQL assembled with an f-string, `%` formatting, `.format()` or `+` concatenation
    from values that are not constants (numbers included: `LIMIT {int(n)}` is safe from
    injection but still a new statement per value), when the text reaches a SQL sink (`execute`,
    `text()`, `raw()`, `RawSQL`, `read_sql`, ..., or a project function or method that hands its
    argument on to one). A clause built apart (`where += "AND user_id = %s " % user_id`) is
    reported where the value goes into it; `text()` handed to `order_by()`/`group_by()` is a sort
    clause whose spliced names need an allow-list.

    ## Why is this bad?
    A value spliced into the text is a SQL injection risk, and since the statement text
    changes with every value the database cannot reuse a prepared statement or cached plan.
    Bound parameters fix both.

    ## Example
    ```python
    cur.execute(f"SELECT id, name FROM users WHERE email = '{email}'")
    ```

    ## Use instead
    ```python
    cur.execute("SELECT id, name FROM users WHERE email = %s", (email,))
    ```
    Identifiers (a sort column, a table) and keywords (a sort direction) cannot be bound: check
    them against an allow-list
    of known names first, or compose with `psycopg.sql.Identifier`.

    ## Known problems
    Only statements that read or change data are judged (`SELECT`, `INSERT`, `UPDATE`,
    `DELETE`, `WITH`, `REPLACE`, `MERGE`): DDL and admin statements (`CREATE DATABASE {name}`,
    `PRAGMA`, `SET`) take identifiers that cannot be bound. Not reported: values that resolve
    to module-level (or imported) string constants, names checked against an allow-list
    (`if sort not in SORTS: ...`, `SORTS[key]`, also through `.lower()`/`.upper()`), names (and
    collections whose every item) a failed check stops (`if not valid_sql_name(table): raise`,
    `assert col.isidentifier()`), `@property`s whose every return is a constant, a name
    rebuilt in a loop from itself and constants, numbers (`int(...)`, `len(...)`, `limit + 1`, loop counters
    of `range`/`enumerate`), generated placeholder lists (`",".join(["%s"] * len(ids))`, also
    returned by a project helper: `query_str, params = array2sql(ids)`), lists of constant
    fragments joined together (also with a constant default: `" AND ".join(clauses) or "1 = 1"`),
    quoted identifiers (`identifier(name)`, also through `.format(**params)` of a `dict(...)` built
    in the function), enum members (`Side.AFF.value`), Django `Model._meta.db_table`, upper-case configuration
    constants (`settings.DB_SCHEMA`, `os.environ[...]`), identifiers configured on the object
    (`FROM {self.table}`), parameters and attributes named as SQL fragments (`where_sql`,
    `query.where`, unless inside quotes), values a library type parsed and prints in a fixed form
    (`IP(query)`, `uuid.UUID(x)`, `Decimal(x)`) or fixed-format text (`ts.isoformat()`,
    `strftime(...)`), parameters annotated `int`/`float`/`bool` or with a number as default
    (`window=1800`), a value checked by a validator of a quote-free format (`if not
    is_valid_cidr(v): raise`), a parameter every call site passes a constant for, also through
    callers that hand on their own parameter of the same name (a function called only in a class
    body or at module level gets import-time values), and `psycopg2.sql`/`psycopg.sql`
    composition. A value outside quotes
    that no parameter of the function, request data or command-line input can reach (a column of
    a row just fetched, an attribute of the object, the result of a query or a project call) is
    reported at medium confidence (shown with `--min-confidence medium`): it is usually an id or a
    name the code chose, though its statement still cannot be prepared. In a management command
    or CLI the finding keeps its confidence: an injection risk is not smaller there (a one-off
    script or migration is one step less sure). A table or column name (`FROM {table}`, `FROM
    [{table}]`, `UPDATE t SET {col} = ?`) is picked by code far more often than by a user: it is
    reported at high confidence only when request data, the command line or `input()` reaches it
    (or it is a parameter of the request handler itself); from a helper's parameter or a class
    attribute (`model_cls._table`) it is medium. A sort column keeps the parameter rule: it is
    usually the request's `?sort=`.
    """

    code = "QL303"
    judges_catalogs = True
    one_off_too = True  # an injection risk in a management command is one still
    name = "formatted-sql"
    severity = Severity.ERROR
    needs_tree = False
    VALID = [
        'def f(cur, email):\n    cur.execute("SELECT id FROM users WHERE email = %s", (email,))\n',
        'TABLE = "users"\ndef f(cur, uid):\n    cur.execute(f"SELECT id FROM {TABLE} WHERE id = %s", (uid,))\n',
        'def f(cur, ids):\n    marks = ", ".join(["%s"] * len(ids))\n    cur.execute(f"SELECT id FROM users WHERE id IN ({marks})", ids)\n',
        dedent(
            """
            from psycopg2 import sql
            def f(cur, table):
                cur.execute(sql.SQL("SELECT id FROM {}").format(sql.Identifier(table)))
            """
        ),
    ]
    INVALID = [
        'def f(cur, email):\n    cur.execute(f"SELECT id FROM users WHERE email = \'{email}\'")  # want: QL303\n',
        'def f(cur, name):\n    sql = "SELECT id FROM users WHERE name = \'%s\'" % name  # want: QL303\n    cur.execute(sql)\n',
    ]

    @staticmethod
    def _reads_or_writes_data(item: EmbeddedSql, hole: Hole) -> bool:
        """The statement is DML (DDL/admin statements take identifiers that cannot be bound)."""
        if item.fragment != "statement":
            return True
        if item.text is not None:
            return first_word(item.text) in DML_VERBS
        for node in (hole.anchor, hole.builder):
            text = _leading_text(node)
            word = first_word(text) if text else None
            if word in SQL_VERBS:
                return word in DML_VERBS
            if text and text.strip() and isinstance(hole.anchor, cst.AugAssign):
                return True  # ``sql += f" AND x = {v}"``: an appended clause of a statement
        return False

    def check(self, item):
        if item.text is not None and not item.is_sql:
            return
        groups: Dict[int, Tuple[cst.CSTNode, List[Hole]]] = {}
        for h in item.value_holes:
            if not self._reads_or_writes_data(item, h):
                continue
            if _is_identifier_hole(item, h, _TABLE_BEFORE) and (N.dotted(h.expr) or "").split(".")[0] in ("self", "cls") and (N.dotted(h.expr) or "").count(".") == 1:
                continue  # a table/column name configured on the object (``FROM {self.table}``)
            if _builder_fragment(item, h):
                continue  # ``WHERE {query.where}`` run with ``query.vars``: a built clause with its own placeholders
            inner = value_holes_of_name(h.expr, self.ctx)
            if inner:
                # ``where_id`` spliced in, itself built with ``"... = %s " % section_id``: reported
                # where the value goes into the text, naming it
                for ih in inner:
                    node = ih.anchor or ih.builder
                    groups.setdefault(id(node), (node, []))[1].append(ih)
                continue
            node = (h.anchor or h.builder) if h.via_name or item.sink.call is None else item.sink.call
            groups.setdefault(id(node), (node, []))[1].append(h)
        if not groups:
            return
        resolved = [h for h in item.holes if h.kind != "value" and h.how]
        notes = tuple(f"`{h.source}` is not a risk: {h.how}" for h in resolved[:3])
        style = paramstyle(item)
        for node, holes in groups.values():
            names = ", ".join(f"`{h.source}`" for h in holes[:3])
            kind = _builder_kind(holes[0].builder)
            idents = [h for h in holes if _is_identifier_hole(item, h) or _is_table_hole(item, h)]
            values = [h for h in holes if h not in idents]
            fixes = []
            if values:
                fixes.append(f"pass {', '.join(f'`{h.source}`' for h in values[:3])} as a bound parameter (`{style}` with {_driver_label(item)})")
            if idents:
                fixes.append(f"check {', '.join(f'`{h.source}`' for h in idents[:3])} against an allow-list of column/table names (identifiers cannot be bound)")
            msg = (
                f"SQL built with {kind} from {names}, not a constant: an injection risk, and the statement text "
                f"changes with each value so it cannot be prepared or cached"
            )
            # a value inside quotes is text; otherwise only a value that can come from a parameter,
            # the request or the command line is a likely injection (a column of a row just fetched
            # or an attribute of the object is usually a number or a name the code chose)
            sure = any(self._sure(item, h) for h in holes)
            self.emit(node, msg, fix=" and ".join(fixes), notes=notes, confidence="high" if sure else "medium")


    def _sure(self, item: EmbeddedSql, hole: Hole) -> bool:
        if not _sort_hole(item, hole) and (_is_table_hole(item, hole) or _is_identifier_hole(item, hole)):
            # a table or column name is picked by code (a class attribute, a mapping, a helper
            # whose callers name the table): only request data, the command line or ``input()``
            # reaching it, or a parameter of the request handler itself, is a sign of input (a
            # sort column is the exception: it is usually the request's ``?sort=``)
            if from_outside(hole.expr, self.ctx, params=False):
                return True
            fn = self.ctx.function
            hit = request_context(self.ctx.index, self.ctx.config, fn.qualname) if fn is not None else None
            return hit is not None and len(hit[1]) <= 1 and from_outside(hole.expr, self.ctx)
        return _quoted(item, hole) or from_outside(hole.expr, self.ctx)


class _GlobalsAssigned(cst.CSTVisitor):
    def __init__(self) -> None:
        self.declared: Set[str] = set()
        self.assigned: Set[str] = set()

    def visit_Global(self, node: cst.Global) -> None:
        self.declared.update(n.name.value for n in node.names)

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        if isinstance(node.target, cst.Name):
            self.assigned.add(node.target.value)

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False


def _fills_module_cache(fn: cst.CSTNode) -> bool:
    """The function declares a module global and assigns it (``global cache; cache = rows``): what
    it reads is kept for the process, a cache its callers fill once."""
    if not isinstance(fn, cst.FunctionDef):
        return False
    v = _GlobalsAssigned()
    fn.body.visit(v)
    return bool(v.declared & v.assigned)


def _builder_fragment(item: EmbeddedSql, hole: Hole) -> bool:
    """``f"... WHERE {query.where}"`` executed with ``query.vars`` as the parameters: the clause
    and its values come from one query-builder object, the clause with placeholders for the
    values (alerta's ``Query(where=..., vars=...)``). Not a value from outside."""
    name = N.dotted(hole.expr) if hole.expr is not None else None
    call = item.sink.call
    if not name or name.count(".") != 1 or name.split(".")[0] in ("self", "cls") or call is None:
        return False
    if item.text is not None and hole.index >= 0:
        at = item.text.find(f"{HOLE_PREFIX}{hole.index}")
        if at < 0 or item.text[:at].count("'") % 2 == 1:
            return False  # inside a quoted string literal: a value, not a clause
    root = name.split(".")[0]
    for arg in call.args[1:]:  # ``query.vars``, or merged: ``{**query.vars, "_tags": tags}``
        for node in N.walk(arg.value):
            other = N.dotted(node) if isinstance(node, cst.Attribute) else None
            if other and other != name and other.count(".") == 1 and other.split(".")[0] == root:
                return True
    return False


# --------------------------------------------------------------------------- QL304


def _starts_with_wildcard(ev: Evaluator, expr: Optional[cst.BaseExpression]) -> bool:
    if expr is None:
        return False
    pieces = ev.pieces(expr)
    if not pieces:
        return False
    first = pieces[0]
    if isinstance(first, Hole) and first.kind == "const" and first.text:
        first = first.text
    return isinstance(first, str) and first.startswith("%") and len(pieces) > 1 or (
        isinstance(first, str) and first.startswith("%") and len(first.strip("%")) > 0
    )


class LeadingWildcardLike(_SqlRule):
    """
    ## What it does
    Flags `LIKE` / `ILIKE` with a pattern that starts with a wildcard: a literal `'%term'`,
    `'%' || ?`, or a bound value built as `f"%{term}%"` / `"%" + term`.

    ## Why is this bad?
    A B-tree index can only serve a pattern with a fixed prefix. A leading `%` makes the
    database read every row (or the whole index) and test each one, on every call.

    ## Example
    ```python
    cur.execute("SELECT id FROM users WHERE email LIKE %s", (f"%{domain}",))
    ```

    ## Use instead
    Search a prefix (`LIKE 'term%'`), store the searched part in its own indexed column
    (`email_domain = %s`), or use a trigram index (PostgreSQL `pg_trgm`) or full-text search.

    ## Known problems
    A bound value is only followed when it is visible at the call (a literal tuple/dict of
    parameters, or a local assigned once).
    """

    code = "QL304"
    name = "leading-wildcard-like"
    VALID = [
        'def f(cur):\n    cur.execute("SELECT id FROM invoices WHERE number LIKE \'INV-2024-%\'")\n',
        'def f(cur, term):\n    cur.execute("SELECT id FROM users WHERE name LIKE %s", (f"{term}%",))\n',
    ]
    INVALID = [
        'def f(cur):\n    cur.execute("SELECT id FROM users WHERE email LIKE \'%@example.org\'")  # want: QL304\n',
        'def f(cur, term):\n    cur.execute("SELECT id FROM users WHERE name ILIKE %s", (f"%{term}%",))  # want: QL304\n',
    ]

    def check_tree(self, item, stmts):
        norm = item.parsed(self.ctx.config.sql_dialect)[0]
        ev = Evaluator(self.ctx)
        for stmt in stmts:
            for use in C.likes(stmt):
                how = None
                if use.pattern is not None:
                    if C.leading_wildcard(use.pattern, use.concatenated):
                        shown = re.sub(HOLE_PREFIX + r"\d+", "...", use.pattern)
                        how = f"the pattern '{shown}'"
                elif use.placeholder is not None:
                    ph = norm.placeholder(use.placeholder)
                    value = item.param_value(ph.key) if ph is not None else None
                    if value is not None and _starts_with_wildcard(ev, value):
                        how = f"the bound pattern `{N.short(value, 30)}`"
                if how:
                    self.emit(
                        item.origin,
                        f"`{use.column} {use.op}` with {how} starts with a wildcard, so no B-tree index on "
                        f"`{use.column}` can be used and every row is scanned",
                        fix="search a prefix, or use a trigram/full-text index",
                    )
                    return


# --------------------------------------------------------------------------- QL305


class UnboundedSelectInRequest(_SqlRule):
    """
    ## What it does
    Flags a `SELECT` with no `WHERE`, no `LIMIT`/`FETCH`/`TOP` and no aggregate, run on a
    per-request path (a view, route handler or task, or a function they call).

    ## Why is this bad?
    The response grows with the table: what is fast with a hundred rows times out with a
    million, and the whole result is loaded into memory on every request.

    ## Example
    ```python
    @app.get("/products")
    def list_products():
        cur.execute("SELECT id, name, price FROM products ORDER BY name")
        return jsonify(cur.fetchall())
    ```

    ## Use instead
    ```python
    @app.get("/products")
    def list_products():
        cur.execute("SELECT id, name, price FROM products ORDER BY name LIMIT %s OFFSET %s", (size, offset))
        return jsonify(cur.fetchall())
    ```

    ## Known problems
    Aggregates (`SELECT count(*) FROM t`), `GROUP BY`/`DISTINCT`, table-less selects, one-row
    fetches (`fetchrow`, `.first()`, `.scalar()`, `fetchone()`), offline scripts,
    management commands and background tasks are not reported, nor a loader that keeps the rows
    in a module global (`global cache; cache = {...}`: read once per process), nor a statement
    whose `WHERE` is spliced in only when there is a filter (`"... {where}".format(where="" if
    not clauses else " WHERE " + ...)`). Whether a path is per request comes from the
    request entry points querylint knows (Django, DRF, Flask, FastAPI, tasks).
    """

    code = "QL305"
    name = "unbounded-select-in-request"
    VALID = [
        'def all_users(request):\n    cursor.execute("SELECT count(*) FROM auth_user")\n',
        'def export(cur):\n    cur.execute("SELECT id, email FROM contacts ORDER BY id")\n',
    ]
    INVALID = [
        dedent(
            """
            from django.db import connection
            def all_users(request):
                with connection.cursor() as cursor:
                    cursor.execute("SELECT id, username FROM auth_user")  # want: QL305
                    return cursor.fetchall()
            """
        ),
    ]

    def check_tree(self, item, stmts):
        if item.fragment != "statement" or item.has_unknown_holes or len(stmts) != 1:
            return
        fn = self.ctx.function
        if fn is None:
            return
        tables = C.unbounded_select(stmts[0])
        if not tables:
            return
        if self._one_row(item):
            return
        if self.ctx.memo(("fills-module-cache", id(fn.node)), lambda: _fills_module_cache(fn.node)):
            return  # ``global network_dict; network_dict = {...rows}``: loaded once for the process
        hit = request_context(self.ctx.index, self.ctx.config, fn.qualname)
        if hit is None:
            return
        entry, path = hit
        if entry.startswith("task "):
            return  # a background job is offline work, like an export command
        via = ""
        if len(path) > 1:
            via = " via " + " -> ".join(p.rsplit(".", 1)[-1] + "()" for p in path)
        names = ", ".join(dict.fromkeys(tables))
        self.emit(
            item.origin,
            f"`{_text_excerpt(item.text)}` has no WHERE and no LIMIT and runs per request ({entry}{via}): it reads every row of `{names}`",
            fix="add a LIMIT (paginate) or a WHERE",
        )

    def _one_row(self, item: EmbeddedSql) -> bool:
        sink = item.sink
        if sink.method in ONE_ROW_METHODS or sink.call is None:
            return True
        if sink.kind == "helper" and re.search(r"(one|first|scalar|single|row|value|val|get|exists|count)$", sink.method, re.I):
            return True
        # session.execute(text(...)).first() / cur.execute(...).fetchone()
        node: Optional[cst.CSTNode]
        node = sink.call
        for _ in range(3):
            parent = self.ctx.parent_of(node) if self.ctx.parent_of(node) is not None else None
            if parent is None:
                break
            if isinstance(parent, cst.Arg):
                node = self.ctx.parent_of(parent)
                if node is None:
                    break
                continue
            if isinstance(parent, cst.Attribute) and parent.attr.value in ONE_ROW_CHAIN:
                return True
            break
        # cur.execute(...) then cur.fetchone() (and never fetchall/iteration)
        recv = N.receiver(sink.call)
        fn = self.ctx.function
        if recv is None or fn is None:
            return False
        name = N.dotted(recv)
        if name is None:
            return False
        uses = self.ctx.memo(("sql-fetch-uses", id(fn.node)), lambda: _fetch_uses(fn.node))
        after = False
        for node, who, what in uses:
            if node is sink.call:
                after = True
                continue
            if after and who == name:
                if what in ("fetchone", "fetchmany"):
                    return True
                break
        obj = infer(recv, self.ctx)
        if obj is not None and obj.kind == "cursor" and _named_cursor(recv, self.ctx):
            return True
        return False


FETCH_USES = {"fetchone", "fetchall", "fetchmany", "execute", "executemany", "scalar", "first"}


def _fetch_uses(fn_node) -> List[Tuple[cst.CSTNode, str, str]]:
    """(node, receiver, method) of statement/fetch calls and iterations, in source order."""
    out: List[Tuple[cst.CSTNode, str, str]] = []
    for node in N.walk(fn_node, into_functions=False):
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value in FETCH_USES:
            name = N.dotted(node.func.value)
            if name:
                out.append((node, name, node.func.attr.value))
        elif isinstance(node, (cst.For, cst.CompFor)):
            name = N.dotted(node.iter)
            if name:
                out.append((node, name, "iter"))
    return out


def _named_cursor(recv, ctx: Context) -> bool:
    """``conn.cursor(name=...)``: a server-side cursor that streams rows."""
    if isinstance(recv, cst.Name):
        b = ctx.binding(recv.value, at=recv)
        value = b.value if b is not None else None
        if isinstance(value, cst.Call) and N.call_name(value) == "cursor" and N.arg(value, keyword="name") is not None:
            return True
    return False


# --------------------------------------------------------------------------- QL306


class FunctionOnIndexedColumn(_SqlRule):
    """
    ## What it does
    Flags a function wrapped around a column that is compared in `WHERE` or `JOIN ... ON`:
    `lower(email) = ...`, `date(created_at) = ...`, `created_at::date = ...`, `YEAR(d) = ...`.

    ## Why is this bad?
    A plain index on the column stores the column's values, not the function's results, so
    the database must compute the function for every row: a full scan instead of an index
    lookup.

    ## Example
    ```python
    cur.execute("SELECT id FROM orders WHERE date(created_at) = %s", (day,))
    ```

    ## Use instead
    ```python
    cur.execute("SELECT id FROM orders WHERE created_at >= %s AND created_at < %s", (day, day + one_day))
    ```
    For case-insensitive matching, store the normalised value (or use `citext`), or create an
    expression index (`CREATE INDEX ON users (lower(email))`).

    ## Known problems
    An expression index matching the function makes the query fine. querylint knows the ones
    the project's Python files declare (`CREATE INDEX ... (lower(email))` in SQL strings and
    migrations, Django's `models.Index(Lower("email"))`, SQLAlchemy's
    `Index("ix", func.lower(User.email))`), matched by function and column; an index made
    elsewhere (a `.sql` file, by hand) is not seen: suppress with a reason in that case.
    Without an index on the column there is nothing to lose: the finding has full confidence
    only when the project declares one on a column of that name (`CREATE INDEX`, a `PRIMARY
    KEY` or `UNIQUE` column, Django's `db_index=True`/`unique=True` and foreign keys,
    `models.Index(fields=[...])`, SQLAlchemy's `index=True`/`unique=True`, `Index("ix", "col")`,
    Alembic's `create_index`) or the column is `id`; otherwise `medium`.
    """

    code = "QL306"
    name = "function-on-indexed-column"
    VALID = [
        'def f(cur, email):\n    cur.execute("SELECT id FROM users WHERE email = %s", (email,))\n',
        'def f(cur):\n    cur.execute("SELECT lower(email) FROM users WHERE id = 1")\n',
    ]
    INVALID = [
        'def f(cur, email):\n    cur.execute("SELECT id FROM users WHERE lower(email) = lower(%s)", (email,))  # want: QL306\n',
    ]

    def check_tree(self, item, stmts):
        indexed = self.ctx.index.derived("expression-indexes", _expression_indexes)
        for stmt in stmts:
            for w in C.wrapped_columns(stmt):
                func = w.function.split("(", 1)[0].strip().lower()
                column = w.column.rsplit(".", 1)[-1].strip('"').lower()
                if (func, column) in indexed:
                    continue  # the project declares an index on that expression
                plain = self.ctx.index.derived("indexed-columns", _indexed_columns)
                self.emit(
                    item.origin,
                    f"`{w.function}` in {w.clause} wraps the column `{w.column}` in a function, so a plain index on `{w.column}` cannot be used",
                    fix="compare the bare column (a range for dates) or add an expression index",
                    confidence="high" if column in plain or column == "id" else "medium",
                )
                return


def _expression_indexes(index) -> frozenset:
    return frozenset(e for facts in index.modules.values() for e in facts.expression_indexes)


def _indexed_columns(index) -> frozenset:
    return frozenset(c for facts in index.modules.values() for c in facts.indexed_columns)


# --------------------------------------------------------------------------- QL307


class OrderByRandom(_SqlRule):
    """
    ## What it does
    Flags `ORDER BY random()` (`RAND()`, `NEWID()`).

    ## Why is this bad?
    The database generates a random number for every row, sorts the whole table and then
    throws almost everything away, even with `LIMIT 1`.

    ## Example
    ```python
    cur.execute("SELECT id, text FROM quotes ORDER BY random() LIMIT 1")
    ```

    ## Use instead
    Pick a random key in Python and fetch it
    (`SELECT ... WHERE id >= %s ORDER BY id LIMIT 1`), or use `TABLESAMPLE` (PostgreSQL).
    """

    code = "QL307"
    name = "order-by-random"
    VALID = ['def f(cur):\n    cur.execute("SELECT id FROM quotes ORDER BY id LIMIT 1")\n']
    INVALID = ['def f(cur):\n    cur.execute("SELECT id, body FROM quotes ORDER BY random() LIMIT 1")  # want: QL307\n']

    def check_tree(self, item, stmts):
        if any(C.random_order(s) for s in stmts):
            self.emit(item.origin, "`ORDER BY random()` sorts every row of the table to pick a few", fix="pick random keys in Python (or use TABLESAMPLE) instead")


# --------------------------------------------------------------------------- QL308


class VariableOffset(_SqlRule):
    """
    ## What it does
    Flags `OFFSET` with a variable value (a bound parameter or a spliced value): page-number
    pagination.

    ## Why is this bad?
    The database still reads and discards every skipped row, so page 1000 costs a thousand
    pages of work, and rows shift between pages when data changes.

    ## Example
    ```python
    cur.execute("SELECT id, title FROM posts ORDER BY id LIMIT 20 OFFSET %s", (page * 20,))
    ```

    ## Use instead
    Keyset pagination: remember the last key seen.
    ```python
    cur.execute("SELECT id, title FROM posts WHERE id > %s ORDER BY id LIMIT 20", (last_id,))
    ```

    ## Known problems
    Off by default (opt-in): OFFSET pagination over small tables is fine. Enable with
    `extend-select = ["QL308"]`.
    """

    code = "QL308"
    name = "variable-offset-pagination"
    default_enabled = False
    preview = True
    VALID = ['def f(cur, last):\n    cur.execute("SELECT id FROM posts WHERE id > %s ORDER BY id LIMIT 20", (last,))\n']
    INVALID = ['def f(cur, off):\n    cur.execute("SELECT id FROM posts ORDER BY id LIMIT 20 OFFSET %s", (off,))  # want: QL308\n']

    def check_tree(self, item, stmts):
        for s in stmts:
            if C.variable_offsets(s):
                self.emit(item.origin, "`OFFSET` with a variable value reads and discards every skipped row on each page", fix="use keyset pagination (`WHERE id > last_seen_id ORDER BY id LIMIT n`)")
                return


# --------------------------------------------------------------------------- QL309


class NotInSubquery(_SqlRule):
    """
    ## What it does
    Flags `x NOT IN (SELECT ...)`.

    ## Why is this bad?
    If the subquery returns a single NULL the condition is never true, so the query silently
    returns nothing; and because of that NULL semantics many planners cannot turn it into an
    efficient anti-join.

    ## Example
    ```python
    cur.execute("SELECT id FROM users WHERE id NOT IN (SELECT user_id FROM orders)")
    ```

    ## Use instead
    ```python
    cur.execute("SELECT id FROM users u WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.user_id = u.id)")
    ```

    ## Known problems
    Reported at medium confidence (shown with `--min-confidence medium`): the NULL trap needs a
    nullable column, and the subquery's column is most often a key or a `NOT NULL` foreign key
    that querylint cannot see declared (PostgreSQL then hashes the subquery when it fits in
    memory).
    """

    code = "QL309"
    judges_catalogs = True
    name = "not-in-subquery"
    VALID = ['def f(cur):\n    cur.execute("SELECT id FROM users u WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.user_id = u.id)")\n']
    INVALID = ['def f(cur):\n    cur.execute("SELECT id FROM users WHERE id NOT IN (SELECT user_id FROM orders)")  # want: QL309\n']

    def check_tree(self, item, stmts):
        for s in stmts:
            found = C.not_in_subqueries(s)
            if found:
                self.emit(item.origin, f"`{found[0]} NOT IN (SELECT ...)` matches nothing if the subquery yields a NULL and often cannot use an anti-join", fix="use `NOT EXISTS (...)`", confidence="medium")
                return


# --------------------------------------------------------------------------- QL310


class UnparseableSql(_SqlRule):
    """
    ## What it does
    Reports SQL passed to a sink that sqlglot cannot parse, with sqlglot's message. It is
    informational and opt-in (`extend-select = ["QL310"]`): the other QL3xx rules simply
    skip such SQL.

    ## Why is this bad?
    It may be a typo that only fails at run time, or a dialect querylint did not guess (set
    `sql-dialect` in the configuration).

    ## Example
    ```python
    cur.execute("SELEC id FROM users")
    ```

    ## Use instead
    ```python
    cur.execute("SELECT id FROM users")
    ```

    ## Options
    `sql-dialect` (`[tool.querylint]`): the dialect to parse with.
    """

    code = "QL310"
    judges_catalogs = True
    name = "unparseable-sql"
    severity = Severity.INFO
    default_enabled = False
    preview = True
    needs_tree = False
    VALID = ['def f(cur):\n    cur.execute("SELECT id FROM users WHERE id = %s", (1,))\n']
    INVALID = ['def f(cur):\n    cur.execute("SELECT id FROM users WHERE")  # want: QL310\n']

    def check(self, item):
        if item.text is None or not item.is_sql or item.holes:
            return
        parsed = item.parsed(self.ctx.config.sql_dialect)
        if parsed is None or parsed[1].ok:
            return
        err = parsed[1].error
        where = f" (line {err.line}, column {err.col} of the SQL)" if err and err.line else ""
        dialect = parsed[1].dialect or "the permissive default"
        self.emit(item.origin, f"SQL does not parse as {dialect}: {err.description if err else 'unknown error'}{where}")


RULES = (
    SelectStar, UpdateDeleteWithoutWhere, FormattedSql, LeadingWildcardLike, UnboundedSelectInRequest,
    FunctionOnIndexedColumn, OrderByRandom, VariableOffset, NotInSubquery, UnparseableSql,
)
