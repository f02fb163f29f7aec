"""Evidence for issue 5: what QL201/QL203 report really grows with the traffic.

The fixture apps in ``fixtures/connections/evidence_apps/`` are linted by the fixture test
(``flask_engine_per_request.py`` carries ``# want: QL201``, ``fastapi_sqlite_leak.py``
``# want: QL203``) and run here: 50 requests through the framework's test client against a
SQLite file database in ``tmp_path``. The flagged versions open one engine/connection per
request (and leave them open); the fixed versions keep to one pool.
"""
import importlib.util
import sqlite3
import sys
import uuid

import pytest

from conftest import FIXTURES
from querylint.testing import lint_folder

flask = pytest.importorskip("flask")
fastapi = pytest.importorskip("fastapi")
pytest.importorskip("httpx")
sqlalchemy = pytest.importorskip("sqlalchemy")
from sqlalchemy import event  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402
from sqlalchemy.pool import Pool  # noqa: E402

APPS = FIXTURES / "connections" / "evidence_apps"
REQUESTS = 50


def _notes_db(tmp_path):
    path = tmp_path / "notes.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE notes (id integer PRIMARY KEY, body text)")
        db.executemany("INSERT INTO notes (id, body) VALUES (?, ?)", [(i, f"note {i}") for i in range(1, 11)])
    db.close()
    return path


def _load(filename):
    name = f"_evidence_{filename[:-3]}_{uuid.uuid4().hex}"
    spec = importlib.util.spec_from_file_location(name, APPS / filename)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


class SqlAlchemyCounter:
    """Counts engines used and DBAPI connections opened, through SQLAlchemy events."""

    def __init__(self):
        self.engines = {}
        self.dbapi_connects = 0

    def _engine_connect(self, conn, *args):
        self.engines[id(conn.engine)] = conn.engine  # keep a reference: ids stay unique

    def _pool_connect(self, dbapi_connection, record):
        self.dbapi_connects += 1

    def __enter__(self):
        event.listen(Engine, "engine_connect", self._engine_connect)
        event.listen(Pool, "connect", self._pool_connect)
        return self

    def __exit__(self, *exc):
        event.remove(Engine, "engine_connect", self._engine_connect)
        event.remove(Pool, "connect", self._pool_connect)
        for engine in self.engines.values():
            engine.dispose()


class SqliteTracker:
    """Wraps ``sqlite3.connect``: counts connections opened and those the code closed."""

    def __init__(self, monkeypatch):
        tracker = self
        self.opened = 0
        self.closed = 0
        real_connect = sqlite3.connect

        class Tracked(sqlite3.Connection):
            def close(self):
                tracker.closed += 1
                super().close()

        def connect(*args, **kwargs):
            kwargs.setdefault("factory", Tracked)
            tracker.opened += 1
            return real_connect(*args, **kwargs)

        monkeypatch.setattr(sqlite3, "connect", connect)
        monkeypatch.setattr(sqlite3.dbapi2, "connect", connect)

    @property
    def left_open(self):
        return self.opened - self.closed


def _flask_run(filename, db_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{db_path}")
    module = _load(filename)
    with SqlAlchemyCounter() as counter:
        client = module.app.test_client()
        for i in range(REQUESTS):
            resp = client.get(f"/notes/{i % 10 + 1}")
            assert resp.status_code == 200
            assert resp.get_json()["body"] == f"note {i % 10 + 1}"
        return len(counter.engines), counter.dbapi_connects


def _fastapi_run(filename, db_path, monkeypatch):
    from fastapi.testclient import TestClient

    monkeypatch.setenv("NOTES_DB", str(db_path))
    tracker = SqliteTracker(monkeypatch)
    module = _load(filename)
    with TestClient(module.app) as client:
        for i in range(REQUESTS):
            resp = client.get(f"/notes/{i % 10 + 1}")
            assert resp.status_code == 200
            assert resp.json()["body"] == f"note {i % 10 + 1}"
    engine = getattr(module, "engine", None)
    counts = tracker.opened, tracker.left_open
    if engine is not None:
        engine.dispose()
    return counts


def test_evidence_apps_are_flagged_as_expected_QL201_QL203():
    result = lint_folder(APPS, select=("QL2",))
    got = {(f.path, f.rule) for f in result.findings}
    assert got == {
        ("flask_engine_per_request.py", "QL201"), ("fastapi_sqlite_leak.py", "QL203"), ("fastapi_sqlite_with.py", "QL203"),
    }  # fastapi_sqlite_closing.py: a database file opened and closed per request holds no server connection


def test_engine_per_request_opens_one_engine_and_connection_per_request_QL201(tmp_path, monkeypatch):
    db = _notes_db(tmp_path)
    engines, connects = _flask_run("flask_engine_per_request.py", db, monkeypatch)
    assert engines == REQUESTS
    assert connects == REQUESTS


def test_module_level_engine_keeps_one_pool_QL201(tmp_path, monkeypatch):
    db = _notes_db(tmp_path)
    engines, connects = _flask_run("flask_engine_shared.py", db, monkeypatch)
    assert engines == 1
    assert connects == 1


def test_leaked_connection_per_request_stays_open_QL203(tmp_path, monkeypatch):
    db = _notes_db(tmp_path)
    opened, left_open = _fastapi_run("fastapi_sqlite_leak.py", db, monkeypatch)
    assert opened == REQUESTS
    assert left_open == REQUESTS  # the code never closes one of them


def test_pooled_session_dependency_keeps_one_connection_QL203(tmp_path, monkeypatch):
    db = _notes_db(tmp_path)
    opened, left_open = _fastapi_run("fastapi_sqlite_pooled.py", db, monkeypatch)
    assert opened == 1
    assert left_open == 1  # the pool's one connection, open until the engine is disposed


def test_sqlite_with_block_leaves_every_connection_open_QL203(tmp_path, monkeypatch):
    db = _notes_db(tmp_path)
    opened, left_open = _fastapi_run("fastapi_sqlite_with.py", db, monkeypatch)
    assert opened == REQUESTS
    assert left_open == REQUESTS  # ``with`` ended each transaction and closed no connection


def test_sqlite_closing_closes_every_connection_QL203(tmp_path, monkeypatch):
    db = _notes_db(tmp_path)
    opened, left_open = _fastapi_run("fastapi_sqlite_closing.py", db, monkeypatch)
    assert opened == REQUESTS
    assert left_open == 0
