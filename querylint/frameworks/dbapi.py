"""What a receiver is, for DB-API drivers and friends: connection, cursor, pool, engine.

Shared by the families (queries in loops, connections, embedded SQL). Inference follows simple
data flow only: a name's latest binding before the use (assignment, ``with ... as``, ``for``),
parameters by conventional name, ``self.<attr>`` by conventional name. No guessing beyond that.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import libcst as cst

from querylint import nodes as N
from querylint.context import Context
from querylint.sql.parse import DML_VERBS, looks_like_sql

# qualified connect functions → driver
CONNECT_FUNCS = {
    "psycopg2.connect": "psycopg2",
    "psycopg.connect": "psycopg",
    "psycopg.Connection.connect": "psycopg",
    "psycopg.AsyncConnection.connect": "psycopg",
    "sqlite3.connect": "sqlite3",
    "sqlite3.dbapi2.connect": "sqlite3",
    # drop-in builds of sqlite3 (``try: import pysqlite3 as sqlite3 except ImportError: import sqlite3``)
    "pysqlite3.connect": "sqlite3",
    "pysqlite3.dbapi2.connect": "sqlite3",
    "sqlean.connect": "sqlite3",
    "pymysql.connect": "pymysql",
    "pymysql.connections.Connection": "pymysql",
    "MySQLdb.connect": "mysqldb",
    "MySQLdb.Connect": "mysqldb",
    "mysql.connector.connect": "mysql-connector",
    "asyncpg.connect": "asyncpg",
    "aiosqlite.connect": "aiosqlite",
    "aiomysql.connect": "aiomysql",
    "aiopg.connect": "aiopg",
    "cx_Oracle.connect": "oracle",
    "oracledb.connect": "oracle",
    "pyodbc.connect": "pyodbc",
    "pymssql.connect": "pymssql",
    "duckdb.connect": "duckdb",
    "databases.Database": "databases",
}
POOL_FUNCS = {
    "psycopg2.pool.SimpleConnectionPool": "psycopg2",
    "psycopg2.pool.ThreadedConnectionPool": "psycopg2",
    "psycopg2.pool.PersistentConnectionPool": "psycopg2",
    "psycopg_pool.ConnectionPool": "psycopg",
    "psycopg_pool.AsyncConnectionPool": "psycopg",
    "asyncpg.create_pool": "asyncpg",
    "aiomysql.create_pool": "aiomysql",
    "aiopg.create_pool": "aiopg",
}
ENGINE_FUNCS = {
    "sqlalchemy.create_engine": "sqlalchemy",
    "sqlalchemy.engine.create_engine": "sqlalchemy",
    "sqlalchemy.ext.asyncio.create_async_engine": "sqlalchemy",
    "sqlmodel.create_engine": "sqlalchemy",  # SQLModel re-exports SQLAlchemy's
}
DIALECT_OF_DRIVER = {
    "psycopg2": "postgres", "psycopg": "postgres", "asyncpg": "postgres", "aiopg": "postgres",
    "sqlite3": "sqlite", "aiosqlite": "sqlite", "pymysql": "mysql", "mysqldb": "mysql",
    "mysql-connector": "mysql", "aiomysql": "mysql", "oracle": "oracle", "pymssql": "tsql",
    "duckdb": "duckdb", "django": None, "sqlalchemy": None,
}
PARAMSTYLE_OF_DRIVER = {
    "psycopg2": "%s", "psycopg": "%s", "pymysql": "%s", "mysqldb": "%s", "mysql-connector": "%s",
    "aiomysql": "%s", "aiopg": "%s", "django": "%s", "sqlite3": "?", "aiosqlite": "?", "duckdb": "?",
    "pyodbc": "?", "asyncpg": "$1", "oracle": ":name", "sqlalchemy": ":name", "databases": ":name",
}

CURSOR_NAMES = {"cursor", "cur", "curs", "c_", "dict_cursor", "db_cursor", "csr"}
CONNECTION_NAMES = {"conn", "connection", "con", "db_conn", "dbconn", "db_connection", "raw_conn", "pg_conn", "cnx", "cnxn"}
POOL_NAMES = {"pool", "db_pool", "pg_pool", "connection_pool", "conn_pool"}

EXECUTE_METHODS = {"execute", "executemany", "executescript", "exec_driver_sql", "execute_many", "execute_fetchall", "execute_insert"}  # execute_many: databases; execute_fetchall/execute_insert: aiosqlite
ASYNC_FETCH_METHODS = {"fetch", "fetchrow", "fetchval", "fetch_all", "fetch_one", "fetch_val", "copy_records_to_table", "copy_from_query"}


@dataclass(frozen=True)
class DbObject:
    kind: str  # "connection", "cursor", "pool", "engine", "session"
    driver: Optional[str]  # "psycopg2", "sqlite3", "django", "sqlalchemy", ... or None when unknown
    evidence: str  # "call" (a known constructor), "name" (conventional name only)
    memory: bool = False  # sqlite3 ":memory:"


def _norm_name(name: str) -> str:
    return name.lstrip("_").lower()


def infer(expr: Optional[cst.CSTNode], ctx: Context, depth: int = 0) -> Optional[DbObject]:
    """What ``expr`` is, as far as simple data flow shows."""
    if expr is None or depth > 6:
        return None
    if isinstance(expr, cst.Await):
        return infer(expr.expression, ctx, depth + 1)
    if isinstance(expr, cst.Call):
        return _infer_call(expr, ctx, depth)
    if isinstance(expr, cst.Name):
        q = ctx.qualify(expr)
        if q in ("django.db.connection", "django.db.connections"):
            return DbObject("connection", "django", "call")
        b = ctx.binding(expr.value, at=expr)
        if b is not None and b.value is not None and b.kind in ("assign", "annassign", "with", "walrus") and b.is_simple:
            got = infer(b.value, ctx, depth + 1)
            if got is not None:
                return got
        if b is not None and b.kind == "with" and isinstance(b.value, cst.Call):
            got = _infer_call(b.value, ctx, depth + 1)
            if got is not None:
                return got
        n = _norm_name(expr.value)
        if b is None or b.kind == "param":
            return _by_name(n)
        return None
    if isinstance(expr, cst.Attribute):
        q = ctx.qualify(expr)
        if q in ("django.db.connection",):
            return DbObject("connection", "django", "call")
        # self.conn / self.cursor / g.db / request.app.state.pool
        n = _norm_name(expr.attr.value)
        return _by_name(n)
    if isinstance(expr, cst.Subscript):
        q = ctx.qualify(expr.value)
        if q == "django.db.connections":
            return DbObject("connection", "django", "call")
    return None


def _by_name(n: str) -> Optional[DbObject]:
    if n in CURSOR_NAMES or n.endswith("_cursor") or n.endswith("_cur"):
        return DbObject("cursor", None, "name")
    if n in CONNECTION_NAMES or n.endswith("_conn") or n.endswith("_connection"):
        return DbObject("connection", None, "name")
    if n in POOL_NAMES or n.endswith("_pool"):
        return DbObject("pool", None, "name")
    return None


def _infer_call(call: cst.Call, ctx: Context, depth: int) -> Optional[DbObject]:
    q = ctx.qualify(call.func) or ""
    if q in CONNECT_FUNCS:
        driver = CONNECT_FUNCS[q]
        first = N.arg(call, 0) or N.arg(call, keyword="database")
        return DbObject("connection", driver, "call", memory=N.string_value(first) == ":memory:")
    if q in POOL_FUNCS:
        return DbObject("pool", POOL_FUNCS[q], "call")
    if q in ENGINE_FUNCS:
        return DbObject("engine", "sqlalchemy", "call")
    name = N.call_name(call)
    recv = N.receiver(call)
    if recv is None:
        return None
    if name == "cursor":
        owner = infer(recv, ctx, depth + 1)
        if owner is not None and owner.kind in ("connection",):
            return DbObject("cursor", owner.driver, owner.evidence)
        if owner is None and N.dotted(recv):
            return DbObject("cursor", None, "name")
        return None
    if name in ("getconn", "acquire", "get_connection", "connection") and recv is not None:
        owner = infer(recv, ctx, depth + 1)
        if owner is not None and owner.kind == "pool":
            return DbObject("connection", owner.driver, owner.evidence)
        if name in ("getconn", "acquire") and _norm_name((N.dotted(recv) or "").split(".")[-1]) in POOL_NAMES | {"state", "app"}:
            return DbObject("connection", None, "name")
    if name in ("connect", "begin", "raw_connection"):
        owner = infer(recv, ctx, depth + 1)
        if owner is not None and owner.kind == "engine":
            return DbObject("connection", "sqlalchemy", owner.evidence)
        if name == "connect" and owner is None:
            text = (N.dotted(recv) or "").lower()
            if "engine" in text:
                return DbObject("connection", "sqlalchemy", "name")
    return None


def driver_of(expr, ctx: Context) -> Optional[str]:
    obj = infer(expr, ctx)
    return obj.driver if obj else None


def guess_driver_from_imports(ctx: Context) -> Optional[str]:
    """The driver this file imports, when exactly one is imported."""
    found = set()
    for local, full in ctx.facts.imports:
        head = full.split(".")[0]
        for q, drv in list(CONNECT_FUNCS.items()) + list(POOL_FUNCS.items()):
            if q.split(".")[0] == head:
                found.add(drv)
        if head == "django":
            found.add("django")
    found.discard(None)
    drivers = {d for d in found if d != "django"} or found
    return next(iter(drivers)) if len(drivers) == 1 else None


def _by_sql_text(call: cst.Call, recv: cst.BaseExpression, name: str) -> Optional[DbObject]:
    """An object of unknown type whose ``execute``/``executemany`` gets a literal row statement
    (``self.db.execute("INSERT OR REPLACE INTO entries ...")``): the SQL text is the evidence.
    Sessions are left to the ORM families (``session.execute("SELECT ...")`` in SQLAlchemy 1.x)."""
    if name not in ("execute", "executemany"):
        return None
    text = N.string_value(N.arg(call, 0))
    if text is None or not looks_like_sql(text, DML_VERBS):
        return None
    if "session" in (N.dotted(recv) or "").lower():
        return None
    return DbObject("cursor", None, "sql-text")


def statement_call(call: cst.Call, ctx: Context) -> Optional[DbObject]:
    """The DB object a call runs a statement on (``cur.execute``, ``await conn.fetch``), else None.

    SQLAlchemy ``Session`` objects are not covered here (the SQLAlchemy family owns them);
    SQLAlchemy ``Connection`` objects (from ``engine.connect()``/``begin()``) are.
    """
    name = N.call_name(call)
    recv = N.receiver(call)
    if recv is None or name is None:
        return None
    if name not in EXECUTE_METHODS and name not in ASYNC_FETCH_METHODS:
        return None
    obj = infer(recv, ctx)
    if obj is None:
        return _by_sql_text(call, recv, name)
    if obj.kind == "cursor":
        return obj
    if obj.kind == "connection":
        # sqlite3/psycopg3/asyncpg/SQLAlchemy connections execute directly
        return obj
    if obj.kind == "pool" and name in ASYNC_FETCH_METHODS | {"execute"}:
        return obj
    return None
