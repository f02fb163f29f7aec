"""QL201-QL205 on small projects: one test per pattern, positives and the traps (issue 5).

Expected findings are marked in the sources with ``# want: QL2xx``; every other line must stay
silent. Fixture projects under ``fixtures/connections/`` cover the frameworks end to end.
"""
import textwrap

import pytest

from querylint.testing import lint_files, snippet_wants

DB = {
    "db.py": textwrap.dedent(
        """
        from psycopg2.pool import ThreadedConnectionPool
        from sqlalchemy import create_engine
        from sqlalchemy.orm import scoped_session, sessionmaker

        engine = create_engine("postgresql://app@db/app")
        SessionLocal = sessionmaker(bind=engine)
        ScopedSession = scoped_session(sessionmaker(bind=engine))
        pool = ThreadedConnectionPool(1, 5, "dbname=app")
        """
    )
}

CASES = {
    "a_session_from_a_method_of_a_fresh_manager_is_the_callers": {
        # keylime: ``get_session()`` returns ``SessionManager().make_session(engine)``, whose
        # ``self._scoped_session`` registry is new with each manager: a new session per request
        # that the handler never closes; a long-lived manager's registry hands out the thread's
        # session (the usual scoped_session pattern), and a handler that closes it is clean
        "app/__init__.py": "",
        "app/db.py": """
            from typing import cast
            from sqlalchemy import create_engine
            from sqlalchemy.orm import Session, scoped_session, sessionmaker

            class SessionManager:
                def __init__(self):
                    self._scoped_session = None

                def make_session(self, engine):
                    if self._scoped_session is None:
                        self._scoped_session = scoped_session(sessionmaker())
                    self._scoped_session.configure(bind=engine)
                    return cast(Session, self._scoped_session())

            engine = create_engine("postgresql://app@db/app")
            MANAGER = SessionManager()

            def get_session():
                return SessionManager().make_session(engine)

            def thread_session():
                return MANAGER.make_session(engine)
            """,
        "app/views.py": """
            from flask import Flask
            from app.db import get_session, thread_session
            app = Flask(__name__)

            @app.route("/agents/<name>")
            def agent(name):
                session = get_session()  # want: QL203
                return session.execute("SELECT 1").scalar()

            @app.route("/closed/<name>")
            def closed(name):
                session = get_session()
                try:
                    return session.execute("SELECT 1").scalar()
                finally:
                    session.close()

            @app.route("/thread/<name>")
            def thread(name):
                session = thread_session()
                return session.execute("SELECT 1").scalar()
            """,
    },
    "a_retry_backoff_is_not_slow_work_under_a_session": {
        # augur: a session held across a helper whose time.sleep() only runs between retries
        # of a failed query (a backoff), not on every call
        "app/util.py": """
            import time
            from sqlalchemy.exc import OperationalError
            def with_retries(func):
                attempts = 0
                while attempts < 4:
                    if attempts > 0:
                        time.sleep(30)
                    try:
                        return func()
                    except OperationalError:
                        attempts += 1
                raise RuntimeError("gave up")
            def poll_upstream():
                time.sleep(5)
        """,
        "app/tasks.py": """
            from sqlalchemy import text
            from sqlalchemy.orm import Session
            from app.util import poll_upstream, with_retries
            from app.db import engine
            def count_rows():
                with Session(engine) as session:
                    first = session.execute(text("SELECT 1")).scalar()
                    return first + with_retries(lambda: session.execute(text("SELECT count(*) FROM t")).scalar())
            def wait_then_count():
                with Session(engine) as session:  # want: QL205
                    first = session.execute(text("SELECT 1")).scalar()
                    poll_upstream()
                    return first + session.execute(text("SELECT count(*) FROM t")).scalar()
        """,
    },
    "a_project_subclass_of_session_opens_a_session": {
        # augur's DatabaseSession(Session) made per request and never closed
        "app/db.py": """
            from sqlalchemy.orm import Session
            class DatabaseSession(Session):
                def __init__(self, logger, engine=None):
                    self.logger = logger
                    super().__init__(engine)
            class Helper:
                def __init__(self, logger):
                    self.logger = logger
        """,
        "app/routes.py": """
            from flask import Flask, jsonify
            from app.db import DatabaseSession, Helper
            from app.models import engine
            app = Flask(__name__)
            @app.route("/report")
            def report():
                session = DatabaseSession(None, engine=engine)  # want: QL203
                return jsonify(session.execute("SELECT 1").all())
            @app.route("/report2")
            def report_closed():
                with DatabaseSession(None, engine=engine) as session:
                    return jsonify(session.execute("SELECT 1").all())
            @app.route("/helper")
            def helper():
                h = Helper(None)
                return jsonify(h.logger)
        """,
    },
    "an_engine_made_for_one_call_and_never_disposed": {
        # xraydb's isxrayDB(): an engine per call, reflected on and dropped (its pool keeps the
        # sqlite connection: "ResourceWarning: unclosed database"); mathesar's import per request
        # through four project wrappers of create_engine
        "lib/engines.py": """
            import sqlalchemy
            def _raw(url):
                return sqlalchemy.create_engine(url)
            def make_engine(url):
                engine = _raw(url)
                return engine
            def app_engine(name):
                return make_engine(f"postgresql:///{name}")
        """,
        "lib/check.py": """
            import sqlalchemy
            from lib.engines import app_engine, make_engine
            def is_valid(path):
                engine = make_engine(f"sqlite:///{path}")  # want: QL203
                meta = sqlalchemy.MetaData()
                meta.reflect(engine)
                return "elements" in meta.tables
            def count(name):
                engine = app_engine(name)  # want: QL203
                with engine.connect() as conn:
                    return conn.execute(sqlalchemy.text("SELECT count(*) FROM t")).scalar()
            def count_disposed(name):
                engine = app_engine(name)
                try:
                    with engine.connect() as conn:
                        return conn.execute(sqlalchemy.text("SELECT count(*) FROM t")).scalar()
                finally:
                    engine.dispose()
            def dialect_only(path):
                engine = make_engine(f"sqlite:///{path}")
                return engine.dialect.name
            def handed_out(path):
                engine = make_engine(f"sqlite:///{path}")
                engine.connect().close()
                return engine
            class Store:
                def __init__(self, path):
                    if not is_valid(path):
                        raise ValueError(path)
                    self.n = count(path)
        """,
        "lib/setup_db.py": """
            import sqlalchemy
            from lib.models import Base
            def create_db(url):
                # set-up code, run once from the command line: not worth a default finding
                engine = sqlalchemy.create_engine(url)
                Base.metadata.create_all(engine)
            def main():
                engine = sqlalchemy.create_engine("sqlite:///app.db")
                with engine.connect() as conn:
                    conn.execute(sqlalchemy.text("SELECT 1"))
            if __name__ == "__main__":
                create_db("sqlite:///app.db")
                main()
        """,
    },
    "a_session_on_a_borrowed_connection_owns_nothing": """
        from sqlalchemy import event, orm
        @event.listens_for(orm.Session, "after_flush")
        def touch(session, _ctx):
            local = orm.Session(bind=session.connection())
            local.execute(orm.text("UPDATE lists SET updated_at = now()"))
        def in_tests(connection):
            s = orm.Session(bind=connection)
            s.execute(orm.text("SELECT 1"))
        def leaks(engine):
            s = orm.Session(bind=engine)  # want: QL203
            s.execute(orm.text("SELECT 1"))
    """,
    "a_session_factory_per_request_opens_nothing_its_engine_does": """
        from flask import Flask
        from sqlalchemy import create_engine
        from sqlalchemy.orm import sessionmaker
        app = Flask(__name__)
        class Exporter:
            def __init__(self, url):
                self.engine = create_engine(url)  # want: QL201
                self.session_maker = sessionmaker(bind=self.engine)
        @app.route("/backup")
        def backup():
            exporter = Exporter("sqlite:///app.db")
            return str(exporter.session_maker)
    """,
    "fastapi_dependency_connects_per_request": """
        import psycopg2
        from fastapi import Depends, FastAPI
        app = FastAPI()
        def get_conn():
            conn = psycopg2.connect("dbname=x")  # want: QL201
            try:
                yield conn
            finally:
                conn.close()
        @app.get("/x")
        def x(conn=Depends(get_conn)):
            return conn.server_version
    """,
    "aiohttp_handler": """
        import asyncpg
        from aiohttp import web
        async def handle(request):
            conn = await asyncpg.connect("postgresql://x")  # want: QL201
            try:
                return web.json_response(await conn.fetchval("SELECT 1"))
            finally:
                await conn.close()
    """,
    "starlette_endpoint": """
        import redis
        from starlette.endpoints import HTTPEndpoint
        class Home(HTTPEndpoint):
            async def get(self, request):
                r = redis.Redis()  # want: QL201
                return r.get("x")
    """,
    "rq_job": """
        import psycopg2
        from rq import job
        @job("default")
        def work(x):
            conn = psycopg2.connect("dbname=x")  # want: QL201
            conn.close()
    """,
    "stored_on_the_request_vs_shared": """
        import psycopg2
        from psycopg2.pool import SimpleConnectionPool
        POOLS = {}
        class DbMiddleware:
            def __init__(self, get_response):
                self.get_response = get_response
            def __call__(self, request):
                request.db = psycopg2.connect("dbname=x")  # want: QL201
                try:
                    return self.get_response(request)
                finally:
                    request.db.close()
        def pool_for(request, name):
            if name not in POOLS:
                POOLS[name] = SimpleConnectionPool(1, 5, "dbname=x")
            return POOLS[name]
    """,
    "pool_created_in_endpoint": """
        import asyncpg
        from fastapi import FastAPI
        app = FastAPI()
        @app.get("/")
        async def root():
            pool = await asyncpg.create_pool("postgresql://x")  # want: QL201
            async with pool.acquire() as conn:
                return await conn.fetchval("SELECT 1")
    """,
    "flask_connection_on_g_is_left_alone": """
        import psycopg2
        from flask import Flask, g
        app = Flask(__name__)
        @app.before_request
        def open_db():
            g.db = psycopg2.connect("dbname=x")
        @app.teardown_request
        def close_db(exc):
            db = g.pop("db", None)
            if db is not None:
                db.close()
    """,
    "class_instantiated_per_request": {
        "repo.py": """
            import psycopg2
            class Repo:
                def __init__(self):
                    self.conn = psycopg2.connect("dbname=x")  # want: QL201
        """,
        "views.py": """
            from repo import Repo
            def detail(request, pk):
                return Repo().conn
        """,
    },
    "cached_factory_vs_plain_factory": """
        import functools
        import redis
        from flask import Flask
        app = Flask(__name__)
        @functools.lru_cache
        def get_redis():
            return redis.Redis(host="c")
        def get_redis2():
            return redis.Redis(host="c")  # want: QL201
        @app.get("/")
        def idx():
            return str(get_redis().get("a")) + str(get_redis2().get("b"))
        @app.before_first_request
        def start():
            app.config["REDIS"] = get_redis2()
    """,
    "a_pool_factory_called_per_request_is_reported_at_the_call": {
        "database.py": """
            from os import getenv
            import psycopg2.pool

            def make_pool():
                pool = None
                try:
                    pool = psycopg2.pool.SimpleConnectionPool(1, 2000, host=getenv("PGHOST"))  # want: QL201
                except Exception as error:
                    print("Failed to connect to the database:", error)
                return pool
        """,
        "server.py": """
            from flask import Flask, g
            import database
            app = Flask(__name__)
            POOL = database.make_pool()  # once, at import

            @app.before_request
            def do_init_stuff():
                app.config["DATABASE_POOL"] = database.make_pool()  # want: QL201

            @app.before_request
            def lazily():
                if "DATABASE_POOL" not in app.config:
                    app.config["DATABASE_POOL"] = database.make_pool()

            @app.route("/")
            def index():
                if getattr(g, "pool", None) is None:
                    g.pool = database.make_pool()
                return "ok"
        """,
    },
    "imported_engine_checkout_leak": {
        "views.py": """
            from db import engine
            def orders(request):
                conn = engine.connect()  # want: QL204
                return conn.exec_driver_sql("SELECT id FROM orders WHERE id = 1").all()
        """,
    },
    "scoped_session_removed_at_teardown_is_not_a_leak": {
        "jobs.py": """
            from db import ScopedSession
            def work():
                session = ScopedSession()
                session.execute("SELECT 1")
        """,
        "hooks.py": """
            from db import ScopedSession
            def on_task_done(**kwargs):
                ScopedSession.remove()
        """,
    },
    "scoped_session_nobody_removes_is_left_open": {
        # amp's metrics service: the thread's session keeps the connection its transaction
        # checked out after the job that used it, when nothing in the project removes it
        "jobs.py": """
            from celery import shared_task
            from db import ScopedSession
            @shared_task
            def work():
                session = ScopedSession()  # want: QL203
                session.execute("SELECT 1")
        """,
    },
    "script_leak_and_straight_line_close": """
        import psycopg2
        def leak():
            conn = psycopg2.connect("dbname=x")  # want: QL203
            cur = conn.cursor()
            cur.execute("SELECT count(*) FROM t")
            print(cur.fetchone())
        def straight():
            conn = psycopg2.connect("dbname=x")
            cur = conn.cursor()
            cur.execute("SELECT count(*) FROM t")
            n = cur.fetchone()[0]
            conn.close()
            return n
        def early_exit_closed_first(flag):
            conn = psycopg2.connect("dbname=x")
            if flag:
                conn.close()
                return None
            conn.close()
            return 1
        def early_exit_skips_the_close(flag):
            conn = psycopg2.connect("dbname=x")  # want: QL203
            if flag:
                return None
            conn.close()
            return 1
        def nothing_to_close_when_it_could_not_open(path):
            conn = open_or_none(path)
            if not conn:
                return None
            try:
                return conn.execute("SELECT 1").fetchone()
            finally:
                conn.close()
        def nothing_to_close_when_none(path):
            conn = open_or_none(path)
            if conn is not None:
                n = conn.execute("SELECT 1").fetchone()
            else:
                return 0
            conn.close()
            return n
        def open_or_none(path):
            try:
                return psycopg2.connect(path)
            except psycopg2.Error:
                return None
        def handed_over(register):
            conn = psycopg2.connect("dbname=x")
            register(conn)
        def callback(stack):
            conn = psycopg2.connect("dbname=x")
            stack.callback(conn.close)
    """,
    "sqlite_memory_and_with": """
        import contextlib
        import sqlite3
        from flask import Flask
        app = Flask(__name__)
        def mem():
            # an in-memory database is no server connection, but it is still its opener's to close
            # (datasette's version probe; Python 3.13 warns of an unclosed sqlite3 connection)
            db = sqlite3.connect(":memory:")  # want: QL203
            return db.execute("SELECT 1").fetchone()
        def detect_json1(conn=None):
            if conn is None:
                conn = sqlite3.connect(":memory:")  # want: QL203
            try:
                conn.execute("SELECT json('{}')")
                return True
            except Exception:
                return False
        def detect_json1_fixed(conn=None):
            close_conn = False
            if conn is None:
                conn = sqlite3.connect(":memory:")
                close_conn = True
            try:
                conn.execute("SELECT json('{}')")
                return True
            except Exception:
                return False
            finally:
                if close_conn:
                    conn.close()
        @app.route("/versions")
        def versions():
            # per request and closed on the normal path: in memory, nothing to pool or hoist
            db = sqlite3.connect(":memory:")
            version = db.execute("select sqlite_version()").fetchone()[0]
            db.close()
            return version
        def per_item(rows):
            for row in rows:
                db = sqlite3.connect(":memory:")
                db.execute("SELECT ?", (row,))
                db.close()
        def handed_out():
            db = sqlite3.connect(":memory:")
            db.execute("CREATE TABLE t (x int)")
            return db
        def with_form(path):
            # sqlite3's ``with`` ends the transaction, not the connection: it stays open until a
            # garbage collection (a refresh helper leaking files until "Too many open files")
            with sqlite3.connect(path) as conn:  # want: QL203
                return conn.execute("SELECT 1").fetchone()
        def with_closing(path):
            with contextlib.closing(sqlite3.connect(path)) as conn:
                with conn:
                    return conn.execute("SELECT 1").fetchone()
        def with_then_close(path):
            with sqlite3.connect(path) as conn:
                rows = conn.execute("SELECT 1").fetchall()
            conn.close()
            return rows
        def with_handed_out(path):
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
                return db
    """,
    "a_connection_lent_to_a_method_that_only_uses_it_is_still_the_openers": """
        import sqlite3
        import psycopg2

        class Datasette:
            def _prepare_connection(self, conn, name):
                conn.row_factory = sqlite3.Row
                conn.execute("PRAGMA recursive_triggers=on")

            def _keep(self, conn):
                self.conn = conn

            def _register(self, conn):
                self.pool.append(conn)

            def _same(self, conn):
                return conn

            def _repositories(self, conn):
                return Repositories(conn)  # a wrapper for the caller to use: closes nothing

            def _finish(self, conn):
                conn.commit()
                conn.close()

            def versions(self):
                conn = psycopg2.connect("dbname=x")  # want: QL203
                self._prepare_connection(conn, "_memory")
                return conn.execute("select version()").fetchone()[0]

            def kept(self):
                conn = psycopg2.connect("dbname=x")
                self._keep(conn)

            def registered(self):
                conn = psycopg2.connect("dbname=x")
                self._register(conn)

            def handed_back(self):
                conn = psycopg2.connect("dbname=x")
                return self._same(conn).cursor()

            def wrapped(self):
                conn = psycopg2.connect("dbname=x")  # want: QL203
                return self._repositories(conn).users.all()

            def finished(self):
                conn = psycopg2.connect("dbname=x")
                self._finish(conn)

            def unknown(self):
                conn = psycopg2.connect("dbname=x")
                self.hooks.run(conn)

        CONNECTIONS = {}

        def stash(conn, name):
            CONNECTIONS[name] = conn

        def stashed():
            conn = psycopg2.connect("dbname=x")
            stash(conn, "main")
    """,
    "a_driver_imported_through_a_project_module_is_that_driver": {
        "app/__init__.py": "",
        "app/utils/__init__.py": """
            from .sqlite import sqlite3
            from app.utils import sqlite as compat

            def detect_json1(conn=None):
                if conn is None:
                    conn = sqlite3.connect(":memory:")  # want: QL203
                conn.execute("SELECT json('{}')")

            def open_ro(path):
                return compat.sqlite3.connect(f"file:{path}?mode=ro", uri=True)

            def probe(path):
                db = open_ro(path)  # want: QL203
                return db.execute("SELECT 1").fetchone()
        """,
        "app/utils/sqlite.py": """
            try:
                import pysqlite3 as sqlite3
            except ImportError:
                import sqlite3
        """,
        "app/views.py": """
            from app.utils import detect_json1  # a project function, not a library's

            def versions():
                return detect_json1()
        """,
    },
    "a_helper_reached_through_an_alias_or_a_package_re_export_is_that_helper": {
        "src/iem/__init__.py": """
            from .database import get_dbconn as connect_db
        """,
        "src/iem/database.py": """
            import psycopg

            def get_dbconn(database):
                conn = None
                try:
                    conn = psycopg.connect(dbname=database)
                except psycopg.OperationalError:
                    raise
                return conn
        """,
        "src/iem/util.py": """
            from iem import database
            from iem import connect_db

            get_dbconn = database.get_dbconn

            def get_properties(cursor=None):
                if cursor is None:
                    pgconn = get_dbconn("mesosite")  # want: QL203
                    cursor = pgconn.cursor()
                cursor.execute("SELECT propname, propvalue FROM properties")
                return dict(cursor.fetchall())

            def stations():
                pgconn = connect_db("mesosite")  # want: QL203
                return pgconn.execute("SELECT id FROM stations").fetchall()

            def stations_closed():
                pgconn = connect_db("mesosite")
                try:
                    return pgconn.execute("SELECT id FROM stations").fetchall()
                finally:
                    pgconn.close()
        """,
    },
    "a_connection_thrown_away_is_never_closed": {
        "utils.py": """
            import time

            def throttle_request(f, per_second=1.0):
                start = time.time()
                try:
                    return f()
                finally:
                    time.sleep(max(0.0, 1 / per_second - (time.time() - start)))

            def later(f):
                QUEUE.append(f)
        """,
        "bruter.py": """
            import psycopg2
            import pymysql
            from utils import later, throttle_request

            CREDENTIALS = [("root", ""), ("admin", "admin")]

            class Bruter:
                def throttle_request(self, f):
                    return throttle_request(f, per_second=self.rate)

                def run(self, host):
                    found = []
                    for user, password in CREDENTIALS:
                        try:
                            self.throttle_request(lambda: pymysql.connect(host=host, user=user, password=password))  # want: QL203
                            found.append(user)
                        except pymysql.err.OperationalError:
                            pass
                    return found

                def run_fixed(self, host):
                    found = []
                    for user, password in CREDENTIALS:
                        conn = None
                        try:
                            conn = self.throttle_request(lambda: pymysql.connect(host=host, user=user, password=password))
                            found.append(user)
                        except pymysql.err.OperationalError:
                            pass
                        finally:
                            if conn is not None:
                                conn.close()
                    return found

                def deferred(self, dsn):
                    later(lambda: psycopg2.connect(dsn))  # a factory kept for later: not opened here

            def can_connect(dsn):
                # a probe: nothing keeps the connection, so it is freed (and closed) at once
                try:
                    psycopg2.connect(dsn)
                    return True
                except psycopg2.OperationalError:
                    return False

            def open_and_forget(dsn):
                psycopg2.connect(dsn)  # want: QL203
        """,
    },
    "an_engine_built_in_init_of_a_class_whose_new_returns_a_cached_instance": """
        from sqlmodel import create_engine

        class DBManager:
            _instances = {}

            def __new__(cls, url):
                if url not in cls._instances:
                    cls._instances[url] = super().__new__(cls)
                return cls._instances[url]

            def __init__(self, url):
                self._engine = create_engine(url, pool_size=10)  # want: QL201

        class FixedManager:
            _instances = {}

            def __new__(cls, url):
                if url not in cls._instances:
                    cls._instances[url] = super().__new__(cls)
                return cls._instances[url]

            def __init__(self, url):
                if hasattr(self, "_initialized"):
                    return
                self._initialized = True
                self._engine = create_engine(url, pool_size=10)

        class Plain:
            def __new__(cls, url):
                return super().__new__(cls)

            def __init__(self, url):
                self._engine = create_engine(url)
    """,
    "a_reconnect_loop_that_listens_is_not_a_client_per_pass": """
        import time
        import redis

        def _get_redis():
            return redis.Redis(host="cache")

        def listener(broadcast):
            while True:
                try:
                    r = redis.Redis(host="cache")
                    pubsub = r.pubsub()
                    pubsub.subscribe("events")
                    for message in pubsub.listen():
                        broadcast(message)
                except redis.ConnectionError:
                    time.sleep(1)

        def poller(handle):
            while True:
                r = redis.Redis(host="cache")  # want: QL202
                handle(r.lpop("jobs"))
                time.sleep(5)
    """,
    "getconn_paths": {
        "work.py": """
            from contextlib import contextmanager
            from db import pool
            @contextmanager
            def borrowed():
                conn = pool.getconn()
                try:
                    yield conn
                finally:
                    pool.putconn(conn)
            def never_returned():
                conn = pool.getconn()  # want: QL204
                return conn.server_version
            def returned_to_caller():
                conn = pool.getconn()
                conn.autocommit = True
                return conn
        """,
    },
    "loops": """
        import psycopg2
        import redis
        from sqlalchemy import create_engine
        from sqlalchemy.orm import Session
        DSN = "dbname=x"
        def per_key(keys):
            for k in keys:
                r = redis.Redis(host="c")  # want: QL202
                r.delete(k)
        def per_tenant(tenants):
            for t in tenants:
                dsn = t.dsn
                conn = psycopg2.connect(dsn)
                conn.close()
        def sessions(engine, batches):
            for b in batches:
                with Session(engine) as s:
                    s.add_all(b)
                    s.commit()
        def comprehension(ids):
            return [psycopg2.connect(DSN) for i in ids]  # want: QL202
        def lazily(batches):
            engine = None
            for b in batches:
                if engine is None:
                    engine = create_engine(DSN)
                engine.dispose()
        def warm(n):
            return [psycopg2.connect(DSN) for _ in range(n)]
        def polling():
            while True:
                conn = psycopg2.connect(DSN)
                conn.close()
    """,
    "held_across_slow_calls": {
        "svc.py": """
            import asyncio
            import socket
            import time
            import httpx
            from sqlalchemy.orm import Session
            from db import SessionLocal, engine
            async def job():
                async with engine.begin() as conn:  # want: QL205
                    await conn.execute("UPDATE t SET x = 1 WHERE id = 2")
                    await asyncio.sleep(5)
            def sync(order_id, Order):
                with Session(engine) as session:  # want: QL205
                    order = session.get(Order, order_id)
                    httpx.post("https://x", json={"id": order_id})
                    session.commit()
            def sync_first(order_id, Order):
                with Session(engine) as session:
                    resp = httpx.post("https://x", json={"id": order_id})
                    session.add(Order(status=resp.json()["status"]))
                    session.commit()
            def after_commit(order_id, Order):
                session = SessionLocal()
                try:
                    session.add(Order(id=order_id))
                    session.commit()
                    httpx.post("https://after", timeout=5)
                finally:
                    session.close()
            def one_finding_per_hold(pool):
                conn = pool.getconn()  # want: QL205
                try:
                    with conn:
                        conn.cursor().execute("UPDATE t SET x = 1 WHERE id = 1")
                        time.sleep(3)
                finally:
                    pool.putconn(conn)
            def closing_form(dsn):
                import contextlib
                import psycopg2
                with contextlib.closing(psycopg2.connect(dsn)) as conn:  # want: QL205
                    conn.cursor().execute("UPDATE t SET x = 1 WHERE id = 1")
                    time.sleep(3)
            def socket_conn(sock):
                conn, addr = sock.accept()
                with conn:
                    time.sleep(1)
        """,
    },
    "django_atomic_and_sdk_clients": """
        import boto3
        from django.db import transaction
        s3 = boto3.client("s3")
        def upload(doc):
            with transaction.atomic():  # want: QL205
                s3.upload_file(doc.path, "bucket", doc.key)
                doc.save()
        def queued(doc, task):
            with transaction.atomic():
                doc.save()
                task.delay(doc.pk)
                transaction.on_commit(lambda: s3.upload_file(doc.path, "bucket", doc.key))
    """,
    "connections_passed_to_project_helpers": {
        "etl.py": """
            import psycopg2
            def load(conn, day):
                with conn.cursor() as cur:
                    cur.execute("SELECT id FROM orders WHERE day = %s", (day,))
                    return cur.fetchall()
            def shutdown(conn):
                conn.close()
            def leaky(day):
                conn = psycopg2.connect("dbname=x")  # want: QL203
                return load(conn, day)
            def closed_by_helper(day):
                conn = psycopg2.connect("dbname=x")
                rows = load(conn, day)
                shutdown(conn)
                return rows
            def handed_to_unknown(day, worker):
                conn = psycopg2.connect("dbname=x")
                worker.adopt(conn)
        """,
    },
    "session_factory_imported_from_outside_the_project": {
        "svc.py": """
            import requests
            from app.database import SessionLocal
            def push(user_id):
                db = SessionLocal()  # want: QL205
                try:
                    db.execute("SELECT 1 FROM t WHERE id = 1").fetchone()
                    requests.get("https://erp.example/api", timeout=5)
                    db.commit()
                finally:
                    db.close()
            def leak():
                db = SessionLocal()  # want: QL203
                return db.execute("SELECT 1 FROM t WHERE id = 1").fetchall()
            def local_factory(SessionLocal):
                db = SessionLocal()
                return db.execute("SELECT 1 FROM t WHERE id = 1").fetchall()
        """,
    },
    "management_command_and_appconfig_are_startup": {
        "shop/apps.py": """
            import redis
            from django.apps import AppConfig
            class Shop(AppConfig):
                name = "shop"
                def ready(self):
                    self.r = redis.Redis(host="c")
        """,
        "shop/management/commands/sync.py": """
            import psycopg2
            from django.core.management.base import BaseCommand
            class Command(BaseCommand):
                def handle(self, *args, **options):
                    conn = psycopg2.connect("dbname=x")
                    try:
                        conn.cursor().execute("SELECT 1")
                    finally:
                        conn.close()
        """,
    },
    "a_helper_that_returns_what_a_session_factory_makes_hands_the_session_to_its_caller": {
        # dispatch's ``return sessionmaker(bind=schema_engine)()`` and banzai's
        # ``maker = sessionmaker(bind=engine); session = maker(); return session``
        "helpers.py": """
            from typing import cast
            from sqlalchemy import create_engine
            from sqlalchemy.orm import Session, sessionmaker
            from db import engine

            def scoped_session_for(slug):
                schema_engine = engine.execution_options(schema_translate_map={None: slug})
                return sessionmaker(bind=schema_engine)()

            def get_session(url):
                maker = sessionmaker(bind=engine, autoflush=False)
                session = maker()
                return session

            def session_factory():
                return sessionmaker(bind=engine)  # the factory: its caller makes sessions

            def typed_session():
                return cast(Session, sessionmaker(bind=engine)())  # typing.cast hands out the same session
        """,
        "views.py": """
            from helpers import scoped_session_for, get_session, session_factory, typed_session

            def typed():
                session = typed_session()  # want: QL203
                return session.query(Plugin).count()

            def verify(slug):
                session = scoped_session_for(slug)  # want: QL203
                return session.query(Plugin).all()

            def mark(name, url):
                db = get_session(url)  # want: QL203
                image = db.query(Image).filter(Image.name == name).first()
                if image is None:
                    return
                image.bad = True
                db.commit()
                db.close()

            def closes(url):
                db = get_session(url)
                try:
                    return db.query(Image).count()
                finally:
                    db.close()

            def with_block(slug):
                with scoped_session_for(slug) as session:
                    return session.query(Plugin).count()

            def factory():
                Session = session_factory()
                with Session() as session:
                    return session.query(Plugin).count()
        """,
    },
    "a_function_a_loop_calls_once_per_item_opens_a_connection_per_item": {
        # seodp: ``for url in urls: ... self._add_url_to_excluded_list(url, ...)`` where the helper
        # opens ``with sqlite3.connect(self.db_file)``; keylime/pagure: an engine per poll
        "manager.py": """
            import sqlite3
            import psycopg2
            from sqlalchemy import create_engine

            class DataManager:
                def __init__(self, config):
                    self.db_file = config.db_file

                def exclude_low_traffic(self, urls):
                    for url in urls:
                        self._exclude(url, "low traffic")

                def _exclude(self, url, reason):
                    with sqlite3.connect(self.db_file) as conn:  # want: QL202
                        conn.execute("INSERT INTO excluded (url, reason) VALUES (?, ?)", (url, reason))
                    conn.close()

            def store(row):
                conn = psycopg2.connect(DSN)  # want: QL202
                try:
                    conn.cursor().execute("INSERT INTO t VALUES (%s)", (row,))
                    conn.commit()
                finally:
                    conn.close()

            def store_one(row):
                store(row)

            def sync(rows):
                for row in rows:
                    store_one(row)  # through one plain call

            def save(dsn, row):
                conn = psycopg2.connect(dsn)  # want: QL202
                try:
                    conn.cursor().execute("INSERT INTO t VALUES (%s)", (row,))
                finally:
                    conn.close()

            def save_all(dsn, rows):
                for row in rows:
                    save(dsn, row)  # the same database for every row

            def make_engine():
                return create_engine("postgresql://db/app")  # want: QL202

            def worker(queue):
                while True:
                    engine = make_engine()
                    process(engine, queue.get())
                    engine.dispose()
        """,
        "ok.py": """
            import sqlite3
            import time
            import psycopg2
            import redis
            from sqlalchemy.orm import scoped_session, sessionmaker

            def records(path):
                db = sqlite3.connect(path)
                try:
                    return db.execute("SELECT * FROM r").fetchall()
                finally:
                    db.close()

            def all_records(files):
                return [records(f) for f in files]  # a database file per item

            def count(dsn):
                conn = psycopg2.connect(dsn)
                try:
                    return conn.cursor().execute("SELECT 1")
                finally:
                    conn.close()

            def per_tenant(tenants):
                for tenant in tenants:
                    count(tenant.dsn)  # a database per item

            def fixed(dsn):
                for name in ("orders", "lines"):
                    count(dsn)  # a fixed number of passes

            def retry(dsn):
                for _ in range(3):
                    count(dsn)

            def poll(dsn, stop):
                while True:
                    count(dsn)  # reconnecting on each poll is fine
                    if stop():
                        break

            def get_conn():
                return psycopg2.connect("dbname=app")

            def use():
                conn = get_conn()
                try:
                    return conn.cursor().execute("SELECT 1")
                finally:
                    conn.close()

            def loop_use(items):
                for item in items:
                    use()  # the factory's caller is the one called per item: not followed through a hand-out

            def get_redis():
                return redis.Redis(host="cache")

            def listener():
                while True:  # a reconnect loop: each pass listens until the connection fails
                    try:
                        pubsub = get_redis().pubsub()
                        for message in pubsub.listen():
                            handle(message)
                    except ConnectionError:
                        time.sleep(1)

            def commit_rows(rows, parent_session=None):
                if parent_session is None:
                    Session = scoped_session(sessionmaker())  # want: QL203 (never removed; not per item: only when the caller has none)
                    session = Session(bind=ENGINE)
                else:
                    session = parent_session
                session.add_all(rows)

            def service(batches, session):
                for batch in batches:
                    commit_rows(batch, parent_session=session)
        """,
        "tests/test_manager.py": """
            from ok import count

            def test_counts():
                for dsn in DSNS:
                    count(dsn)
        """,
    },
    "a_class_whose_close_never_closes_the_connection_it_keeps": {
        # flow.record: ``SqliteReader.__init__`` keeps ``self.con = sqlite3.connect(path)`` and
        # inherits a no-op ``close()``; ``with reader:`` closes nothing
        "readers/__init__.py": """
            class AbstractReader:
                def close(self):
                    pass

                def __enter__(self):
                    return self

                def __exit__(self, *args):
                    self.close()
        """,
        "readers/sqlite.py": """
            import sqlite3
            import psycopg2
            from readers import AbstractReader

            class SqliteReader(AbstractReader):
                def __init__(self, path):
                    self.con = sqlite3.connect(path)  # want: QL203

                def rows(self):
                    return self.con.execute("SELECT * FROM records").fetchall()

            class SqliteWriter:
                def __init__(self, path):
                    self.con = sqlite3.connect(path)

                def close(self):
                    if self.con:
                        self.con.commit()
                        self.con.close()
                    self.con = None

            class Pooled:
                def __init__(self, dsn):
                    self._conn = psycopg2.connect(dsn)

                def close(self):
                    release_all(self._conn)  # handed to a helper: its business

            class ForTheProcess:
                def __init__(self, dsn):
                    self.conn = psycopg2.connect(dsn)  # no release method: one for the life of the process

            class BaseStore(AbstractReader):
                def __init__(self, path):
                    self.db = sqlite3.connect(path)

            class Store(BaseStore):  # the subclass closes what the base opened
                def close(self):
                    self.db.close()
        """,
    },
    "a_decorator_whose_wrapper_builds_a_pool_builds_one_per_call": {
        # VariantValidator's ``@handleCursor``: a MySQL pool of ten connections on every call
        "db.py": """
            import functools
            import mysql.connector.pooling
            import redis

            def handle_cursor(func):
                @functools.wraps(func)
                def wrapper(self, *args, **kwargs):
                    self.db.pool = mysql.connector.pooling.MySQLConnectionPool(pool_size=10, **self.db.config)  # want: QL201
                    self.db.conn = self.db.pool.get_connection()
                    try:
                        return func(self, *args, **kwargs)
                    finally:
                        self.db.conn.close()
                return wrapper

            def lazily(func):
                @functools.wraps(func)
                def wrapper(self, *args, **kwargs):
                    if self.db.pool is None:
                        self.db.pool = mysql.connector.pooling.MySQLConnectionPool(pool_size=10, **self.db.config)
                    return func(self, *args, **kwargs)
                return wrapper

            def configure(settings):
                def setup():
                    return redis.Redis(host=settings.host)  # a factory called once, not a wrapper
                return setup()
        """,
    },
    "a_helper_that_returns_a_connection_hands_it_to_its_caller": {
        "helpers.py": """
            import sqlite3
            from functools import lru_cache
            import psycopg2
            from flask import g
            from db import SessionLocal
            from sqlalchemy.orm import Session
            _shared = None

            def create_session():
                return SessionLocal()

            def get_dbconn(name):
                if not name:
                    return None
                conn = psycopg2.connect(dbname=name)
                conn.autocommit = True
                return conn

            def get_dbconnc(name):
                conn = get_dbconn(name)
                return conn, conn.cursor()

            def get_dbconn_retrying(dsn):
                conn = None
                attempt = 0
                while attempt < 3:
                    attempt += 1
                    try:
                        conn = psycopg2.connect(dsn)
                        break
                    except psycopg2.OperationalError:
                        if attempt == 3:
                            raise
                return conn

            def open_readonly(path):
                with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
                    return db

            def closed_session():
                with Session() as s:
                    return s

            def shared_conn():
                global _shared
                if _shared is None:
                    _shared = psycopg2.connect(dbname="app")
                return _shared

            @lru_cache()
            def cached_conn():
                return psycopg2.connect(dbname="app")

            def request_conn():
                if "db" not in g:
                    g.db = sqlite3.connect("app.db")
                return g.db

            def close_request_conn(e=None):
                db = g.pop("db", None)
                if db is not None:
                    db.close()

            def init_app(app):
                app.teardown_appcontext(close_request_conn)

            def memory_conn():
                return sqlite3.connect(":memory:")

            def given_or_new(conn=None):
                if conn is not None:
                    return conn
                return psycopg2.connect(dbname="app")
        """,
        "jobs.py": """
            from contextlib import closing
            from helpers import (cached_conn, closed_session, create_session, get_dbconn, get_dbconn_retrying, get_dbconnc,
                                 given_or_new, memory_conn, open_readonly, request_conn, shared_conn)

            def post_webhooks():
                session = create_session()  # want: QL203
                return [h for h in session.execute("SELECT url FROM hooks")]

            def properties():
                conn = get_dbconn("mesosite")  # want: QL203
                cur = conn.cursor()
                cur.execute("SELECT 1")
                return cur.fetchall()

            def get_properties(cursor=None):
                if cursor is None:
                    pgconn = get_dbconn_retrying("mesosite")  # want: QL203
                    cursor = pgconn.cursor()
                cursor.execute("SELECT propname, propvalue FROM properties")
                return dict(cursor.fetchall())

            def get_properties_closed(cursor=None):
                if cursor is None:
                    pgconn = get_dbconn_retrying("mesosite")
                    cursor = pgconn.cursor()
                cursor.execute("SELECT propname, propvalue FROM properties")
                res = dict(cursor.fetchall())
                if cursor is None:
                    pgconn.close()
                return res

            def telemetry(row):
                pgconn, cursor = get_dbconnc("mesosite")  # want: QL203
                cursor.execute("INSERT INTO t VALUES (%s)", (row,))
                pgconn.commit()

            def probe(path):
                db = open_readonly(path)  # want: QL203
                return db.execute("SELECT name FROM sqlite_master").fetchall()

            def closed_here():
                session = create_session()
                try:
                    return session.execute("SELECT 1").all()
                finally:
                    session.close()

            def closed_by_with():
                with closing(get_dbconn("x")) as conn:
                    return conn.cursor().execute("SELECT 1")

            def closed_pair(row):
                pgconn, cursor = get_dbconnc("mesosite")
                try:
                    cursor.execute("INSERT INTO t VALUES (%s)", (row,))
                finally:
                    pgconn.close()

            def handed_on():
                conn = get_dbconn("x")
                return conn

            def not_opened_here():
                s = closed_session()
                a = shared_conn()
                b = cached_conn()
                c = request_conn()
                d = memory_conn()
                e = given_or_new()
                return s, a.cursor(), b.cursor(), c.cursor(), d.cursor(), e.cursor()
        """,
    },
    "a_helpers_connection_opened_per_request_is_reported_once_where_it_is_opened": {
        "helpers.py": """
            import psycopg2

            def get_dbconn():
                return psycopg2.connect(dbname="app")  # want: QL201
        """,
        "views.py": """
            from flask import Flask
            from helpers import get_dbconn
            app = Flask(__name__)

            @app.route("/n")
            def count():
                conn = get_dbconn()
                try:
                    return str(conn.cursor().execute("SELECT 1"))
                finally:
                    conn.close()
        """,
    },
    "a_scoped_registry_a_helper_hands_out_is_the_callers_to_remove": {
        "lib.py": """
            import sqlalchemy
            from sqlalchemy.orm import scoped_session, sessionmaker
            SESSIONMAKER = None

            def create_session(db_url):
                global SESSIONMAKER
                if SESSIONMAKER is None:
                    SESSIONMAKER = sessionmaker(bind=sqlalchemy.create_engine(db_url))
                registry = scoped_session(SESSIONMAKER)
                return registry
        """,
        "tasks.py": """
            import lib

            def refresh(db_url, name):
                session = lib.create_session(db_url)  # medium: an exception skips the remove()
                project = session.execute("SELECT id FROM projects WHERE name = :n", {"n": name}).first()
                session.execute("UPDATE projects SET refreshed = 1 WHERE id = :i", {"i": project.id})
                session.commit()
                session.remove()

            def refresh_safely(db_url, name):
                session = lib.create_session(db_url)
                try:
                    session.execute("UPDATE projects SET refreshed = 1 WHERE name = :n", {"n": name})
                    session.commit()
                finally:
                    session.remove()
        """,
    },
    "a_connection_from_an_engine_a_helper_hands_out_must_be_closed": {
        "db.py": """
            import sqlalchemy
            _engines = {}

            def _get_engine(url):
                engine = _engines.get(url)
                if not engine:
                    engine = sqlalchemy.create_engine(url)
                    _engines[url] = engine
                return engine
        """,
        "plugin.py": """
            import db

            def is_read_only(urls):
                for url in urls:
                    connection = db._get_engine(url).connect()  # want: QL204
                    if connection.execute("SELECT has_schema_privilege('public', 'CREATE')").first()[0]:
                        return False
                return True

            def is_read_only_closed(urls):
                for url in urls:
                    with db._get_engine(url).connect() as connection:
                        if connection.execute("SELECT has_schema_privilege('public', 'CREATE')").first()[0]:
                            return False
                return True
        """,
    },
    "a_retry_loop_that_keeps_going_after_it_connects_opens_one_per_pass": """
        import time
        import psycopg2

        def get_dbconn(dsn):
            attempt = 0
            conn = None
            while attempt < 3:
                attempt += 1
                try:
                    conn = psycopg2.connect(dsn)  # want: QL202
                except psycopg2.OperationalError:
                    if attempt == 3:
                        raise
                    time.sleep(1)
            return conn

        def with_break(dsn):
            attempt = 0
            conn = None
            while attempt < 3:
                attempt += 1
                try:
                    conn = psycopg2.connect(dsn)
                    break
                except psycopg2.OperationalError:
                    time.sleep(1)
            return conn

        def with_else_return(dsn):
            for _ in range(3):
                try:
                    conn = psycopg2.connect(dsn)
                except psycopg2.OperationalError:
                    time.sleep(1)
                else:
                    return conn
            raise RuntimeError(dsn)

        def until_connected(dsn):
            conn = None
            while conn is None:
                try:
                    conn = psycopg2.connect(dsn)
                except psycopg2.OperationalError:
                    time.sleep(1)
            return conn

        def hand_made_pool(dsn, pool):
            for _ in range(3):
                conn = psycopg2.connect(dsn)
                pool.append(conn)
    """,
    "a_registry_per_request_removed_in_finally_holds_no_connection": """
        from fastapi import FastAPI, Request
        from sqlalchemy import create_engine
        from sqlalchemy.orm import scoped_session, sessionmaker
        app = FastAPI()
        engine = create_engine("postgresql://app@db/app")

        @app.middleware("http")
        async def db_session_middleware(request: Request, call_next):
            schema_engine = engine.execution_options(schema_translate_map={None: request.headers["x-org"]})
            session = scoped_session(sessionmaker(bind=schema_engine))
            try:
                request.state.db = session()
                return await call_next(request)
            finally:
                session.remove()

        @app.get("/users")
        def users(request: Request):
            registry = scoped_session(sessionmaker(bind=engine))  # want: QL203
            return registry.execute("SELECT 1").all()
    """,
    "a_close_that_an_exception_skips_leaves_the_connection_open": """
        import psycopg2
        from db import SessionLocal

        def purge(limit):
            session = SessionLocal()  # medium: an exception skips the close(), in code that runs now and then
            for row in session.execute("SELECT id, path FROM exports WHERE expires < :l", {"l": limit}):
                session.delete(row)
            session.commit()
            session.close()

        def in_finally(limit):
            session = SessionLocal()
            try:
                session.execute("DELETE FROM exports WHERE expires < :l", {"l": limit})
                session.commit()
            finally:
                session.close()

        def checked_out(engine):
            conn = engine.raw_connection()  # medium: an exception skips the close()
            conn.cursor().execute("SELECT 1")
            conn.close()

        def plain_connection(dsn):
            conn = psycopg2.connect(dsn)  # a plain connection closed on the normal path, now and then: left alone
            conn.cursor().execute("SELECT 1")
            conn.close()

        def writer(queue, dsn):
            while True:
                row = queue.get()
                conn = psycopg2.connect(dsn)  # want: QL203
                conn.cursor().execute("INSERT INTO log VALUES (%s)", (row,))
                conn.commit()
                conn.close()

        def closed_before_each_exit(slug):
            session = SessionLocal()  # medium: closed by hand before each exit, an exception skips them
            found = session.execute("SELECT 1 FROM orgs WHERE slug = :s", {"s": slug}).first()
            if not found:
                session.close()
                raise ValueError(slug)
            session.close()
            return found

        def drop_db():
            session = SessionLocal()  # medium: set-up code that runs once
            session.execute("DROP TABLE IF EXISTS exports")
            session.close()

        def close_and_reraise():
            session = SessionLocal()
            try:
                session.execute("SELECT 1")
            except Exception:
                session.close()
                raise
            session.close()

        def errors_swallowed():
            session = SessionLocal()
            try:
                session.execute("SELECT 1")
            except Exception:
                pass
            session.close()

        def nothing_between():
            session = SessionLocal()
            session.close()
    """,
    "a_connection_a_library_call_only_reads_stays_the_callers": """
        import pandas
        from db import engine

        def pre_alembic():
            con = engine.connect()  # want: QL204
            return engine.dialect.has_table(con, "project")

        def frame(sql):
            con = engine.connect()  # want: QL204
            return pandas.read_sql(sql, con)

        def handed_to_a_worker(queue):
            con = engine.connect()
            queue.put_connection(con)
    """,
    "a_pool_made_per_request_by_a_helper_is_never_closed_unless_made_once": {
        # e-comet: a FastAPI dependency awaits ``create_connection_pool()`` on every request and
        # never closes it; the fix keeps one, made under ``if connection_pool is None:``
        "app/db.py": """
            import asyncpg

            connection_pool = None


            async def create_connection_pool():
                return await asyncpg.create_pool(host="db")  # want: QL201


            async def get_db_async_connection():
                pool = await create_connection_pool()  # want: QL203
                async with pool.acquire() as connection:
                    yield connection


            async def get_shared_connection():
                global connection_pool
                if connection_pool is None:
                    connection_pool = await create_connection_pool()
                async with connection_pool.acquire() as connection:
                    yield connection
        """,
        "app/main.py": """
            from fastapi import Depends, FastAPI
            from app.db import get_db_async_connection, get_shared_connection

            app = FastAPI()


            @app.get("/a")
            async def a(conn=Depends(get_db_async_connection)):
                return await conn.fetch("SELECT 1")


            @app.get("/b")
            async def b(conn=Depends(get_shared_connection)):
                return await conn.fetch("SELECT 1")
        """,
    },
    "an_engine_a_with_block_binds_sessions_to_is_still_never_disposed": {
        # keylime: a timeout callback the event loop runs per agent builds an engine and opens a
        # session on it in a ``with`` block; the block ends the session, never the engine. Kept
        # for the process, disposed, or handed to a project context manager that disposes it: clean
        "app/__init__.py": "",
        "app/db.py": """
            from contextlib import contextmanager
            from sqlalchemy import create_engine
            from sqlalchemy.orm import Session


            def make_engine(name):
                return create_engine(f"postgresql://{name}")  # want: QL201


            @contextmanager
            def engine_session(engine):
                try:
                    with Session(engine) as session:
                        yield session
                finally:
                    engine.dispose()
        """,
        "app/monitor.py": """
            import tornado.ioloop
            from sqlalchemy import text
            from sqlalchemy.orm import Session
            from app.db import engine_session, make_engine

            _engine = None


            def on_timeout(agent_id):
                engine = make_engine("verifier")  # want: QL203
                with Session(engine) as session:
                    session.execute(text("UPDATE agents SET failed = true WHERE id = :id"), {"id": agent_id})


            def on_timeout_disposed(agent_id):
                engine = make_engine("verifier")
                try:
                    with Session(engine) as session:
                        session.execute(text("SELECT 1"))
                finally:
                    engine.dispose()


            def on_timeout_shared(agent_id):
                global _engine
                if _engine is None:
                    _engine = make_engine("verifier")
                with Session(_engine) as session:
                    session.execute(text("SELECT 1"))


            def on_timeout_scoped(agent_id):
                engine = make_engine("verifier")
                with engine_session(engine) as session:
                    session.execute(text("SELECT 1"))


            def arm(agent_id):
                loop = tornado.ioloop.IOLoop.current()
                loop.call_later(30, on_timeout, agent_id)
                loop.call_later(30, on_timeout_disposed, agent_id)
                loop.call_later(30, on_timeout_shared, agent_id)
                loop.call_later(30, on_timeout_scoped, agent_id)
        """,
    },
    "a_client_kept_in_a_store_the_function_fetches_first_is_built_once": {
        # privacyidea's ``get_redis()``: the app-local store is fetched, its cached client returned
        # when there is one, and a new client built and stored otherwise: once per process. A
        # dict made in the function caches nothing across calls
        "app.py": """
            import os
            import threading
            import redis
            from flask import Flask, current_app

            app = Flask(__name__)
            _lock = threading.Lock()


            def get_store():
                return current_app.extensions.setdefault("local", {})


            def _build_shared(url):
                client = redis.Redis.from_url(url)
                client.ping()
                return client


            def _build_fresh(url):
                client = redis.Redis.from_url(url)  # want: QL201
                client.ping()
                return client


            def get_redis():
                store = get_store()
                cached = store.get("client")
                if cached is not None and cached[0] == os.getpid():
                    return cached[1]
                with _lock:
                    client = _build_shared("redis://cache")
                    store["client"] = (os.getpid(), client)
                    return client


            def get_redis_uncached():
                store = dict()
                cached = store.get("client")
                if cached is not None:
                    return cached
                client = _build_fresh("redis://cache")
                store["client"] = client
                return client


            @app.get("/a")
            def a():
                return {"v": get_redis().get("a")}


            @app.get("/b")
            def b():
                return {"v": get_redis_uncached().get("b")}
        """,
    },
    "a_connection_kept_on_flask_g_is_closed_at_teardown": {
        # solarforecastarbiter: ``g.mysql_connection = pymysql.connect(...)`` once per request,
        # and no teardown closes it: every request leaves a connection open
        "web/db.py": """
            import pymysql
            from flask import g


            def mysql_connection():
                if "mysql_connection" not in g:
                    connection = pymysql.connect(host="db")  # want: QL203
                    g.mysql_connection = connection
                return g.mysql_connection


            def direct():
                if "conn" not in g:
                    g.conn = pymysql.connect(host="db")  # want: QL203
                return g.conn
        """,
    },
    "the_flask_tutorial_connection_on_g_is_closed_at_teardown": {
        "web/db.py": """
            import sqlite3
            from flask import g


            def get_db():
                if "db" not in g:
                    g.db = sqlite3.connect("app.db")
                return g.db


            def close_db(e=None):
                db = g.pop("db", None)
                if db is not None:
                    db.close()


            def init_app(app):
                app.teardown_appcontext(close_db)
        """,
    },
    "a_cursor_of_a_connection_that_outlives_the_function_is_closed_or_kept_whole": """
        # pg_activity: ``cur = self.pg_conn.cursor()`` on every refresh, never closed; a result
        # read in part stays on the connection. One drained is hygiene (shown with
        # --min-confidence low); one of a connection the function opens closes with it.
        import contextlib
        import sqlite3

        from psycopg2.extensions import connection


        class Data:
            pg_conn: connection

            def db_info(self):
                cur = self.pg_conn.cursor()  # want: QL203
                cur.execute("SELECT 1")
                return cur.fetchone()

            def activities(self):
                cur = self.pg_conn.cursor()
                cur.execute("SELECT * FROM pg_stat_activity")
                return cur.fetchall()

            def closed(self):
                with contextlib.closing(self.pg_conn.cursor()) as cur:
                    cur.execute("SELECT 1")
                    return cur.fetchone()

            def closed_in_finally(self):
                cur = self.pg_conn.cursor()
                try:
                    cur.execute("SELECT 1")
                    return cur.fetchone()
                finally:
                    cur.close()

            def handed_out(self):
                return self.pg_conn.cursor()


        def newest(conn, table):
            cur = conn.cursor()  # the caller's connection: closed when the caller is done
            cur.execute("SELECT id FROM events ORDER BY id DESC")
            return cur.fetchone()[0]


        def own_connection(path):
            conn = sqlite3.connect(path)
            try:
                cur = conn.cursor()
                cur.execute("SELECT 1")
                return cur.fetchone()
            finally:
                conn.close()


        def unknown(thing):
            cur = thing.cursor()
            cur.execute("SELECT 1")
            return cur.fetchone()
    """,
    # a lazily made engine whose guard opens a ``try`` (the retry in the handler runs on failure
    # only): made once, not per request
    "memo_guard_inside_try": """
        import sqlalchemy
        from flask import Flask

        app = Flask(__name__)
        ENGINE = None


        def create_new_engine():
            return sqlalchemy.create_engine("postgresql://db/app")


        def get_engine():
            global ENGINE
            try:
                if ENGINE is None:
                    ENGINE = create_new_engine()
                return ENGINE
            except Exception:
                ENGINE = create_new_engine()
                return ENGINE


        @app.route("/tables")
        def tables():
            with get_engine().connect() as conn:
                return str(conn.execute(sqlalchemy.text("SELECT 1")).scalar())
    """,
    # a helper hands out a checkout of an engine it reaches by name (a library object's engine):
    # the caller owns the connection
    "engine_checkout_from_a_helper": """
        def get_sqlconn(dc):
            return dc.index._db._engine.connect()


        def count(dc, product_id):
            conn = get_sqlconn(dc)  # want: QL203
            rows = conn.execute("SELECT count(*) FROM dataset WHERE product = %s", product_id)
            return list(rows)[0][0]


        def count_closed(dc, product_id):
            conn = get_sqlconn(dc)
            try:
                return list(conn.execute("SELECT count(*) FROM dataset WHERE product = %s", product_id))[0][0]
            finally:
                conn.close()


        def count_with(dc, product_id):
            with get_sqlconn(dc) as conn:
                return list(conn.execute("SELECT count(*) FROM dataset WHERE product = %s", product_id))[0][0]
    """,
}


def _files(case):
    files = CASES[case] if isinstance(CASES[case], dict) else {"app.py": CASES[case]}
    out = dict(DB)
    out.update({k: textwrap.dedent(v) for k, v in files.items()})
    return out


@pytest.mark.parametrize("case", sorted(CASES))
def test_QL2_case(case):
    files = _files(case)
    result = lint_files(files, select=["QL2"])
    assert result.errors == []
    got = {(f.path, f.span.line, f.rule) for f in result.findings}
    want = snippet_wants(files)
    assert got == want, [f"{f.path}:{f.span.line} {f.rule} {f.message}" for f in result.findings]


def test_one_call_is_reported_once_under_the_most_specific_code():
    files = {"app.py": textwrap.dedent(
        """
        import psycopg2
        from flask import Flask
        app = Flask(__name__)
        @app.get("/r")
        def r():
            with psycopg2.connect("dbname=x") as conn:
                with conn.cursor() as cur:
                    cur.execute("SELECT 1")
                    return str(cur.fetchone())
        """
    )}
    result = lint_files(files, select=["QL2"])
    assert [(f.span.line, f.rule) for f in result.findings] == [(7, "QL203")]
    assert "per request" in result.findings[0].message
    assert result.findings[0].severity.value == "error"


# --------------------------------------------------------------------------- each code decides for itself

LOOP_LEAK = textwrap.dedent(
    """
    import psycopg2
    from flask import Flask, request
    app = Flask(__name__)
    @app.route("/report")
    def report():
        for user_id in request.args.getlist("id"):
            conn = psycopg2.connect("dbname=app")
            conn.cursor().execute("SELECT name FROM users WHERE id = %s", (user_id,))
    """
)


def _codes_at(result):
    return sorted((f.span.line, f.rule) for f in result.findings)


@pytest.mark.parametrize(
    "select, want",
    [
        (["QL2"], [(8, "QL202")]),  # one problem, one finding: the loop (the most specific) wins
        (["QL202"], [(8, "QL202")]),
        (["QL203"], [(8, "QL203")]),  # never closed: reported without QL202 being on
        (["QL201"], [(8, "QL201")]),  # opened per request: reported without QL202/QL203 being on
        (["QL201", "QL203"], [(8, "QL203")]),
    ],
)
def test_each_connection_code_decides_for_itself(select, want):
    result = lint_files({"app.py": LOOP_LEAK}, select=select)
    assert result.errors == []
    assert _codes_at(result) == want


def test_a_leak_found_alone_keeps_its_per_request_wording():
    result = lint_files({"app.py": LOOP_LEAK}, select=["QL203"])
    (finding,) = result.findings
    assert "not closed" in finding.message or "never closed" in finding.message
    assert "per request" in finding.message


def test_a_close_that_only_an_exception_skips_is_reported_where_the_open_runs_on_every_pass_of_a_loop():
    """A close an exception skips leaks on every failing pass of a loop (pyiem's telemetry writer
    in a ``while True``): reported. Elsewhere closing on the normal path is how many projects fix
    a leak (dispatch's signature check closes before its return and before its 403, CAS's ingest
    jobs close at the end): a session or a checkout is shown with ``--min-confidence medium``, a
    plain connection is left alone."""
    for case, path, lines in (
        ("a_close_that_an_exception_skips_leaves_the_connection_open", "app.py", [(6, "medium"), (21, "medium"), (33, "high"), (39, "medium"), (48, "medium")]),
        ("a_scoped_registry_a_helper_hands_out_is_the_callers_to_remove", "tasks.py", [(5, "medium")]),
    ):
        files = _files(case)
        got = [f for f in lint_files(files, select=["QL2"], settings={"min-confidence": "medium"}).findings if f.path == path]
        assert [(f.line, f.confidence) for f in got] == lines, [(f.line, f.message) for f in got]
        assert all("closed only when nothing fails" in f.message for f in got)
