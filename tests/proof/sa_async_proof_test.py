"""Proof against a real database: the AsyncSession fixture, on in-memory SQLite through aiosqlite.

Statements are counted with a ``before_cursor_execute`` listener on the async engine's
``sync_engine`` (commits with a ``commit`` listener) for 1 and 5 items: positives grow,
negatives stay flat.
"""
from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

pytest.importorskip("aiosqlite")
pytest.importorskip("greenlet")
from sqlalchemy import event  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine  # noqa: E402
from sqlalchemy.pool import StaticPool  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
CASE = ROOT / "fixtures" / "async" / "sa_asyncsession"
if str(CASE) not in sys.path:
    sys.path.insert(0, str(CASE))

from sa_async_shop import api, api_ok, models  # noqa: E402


async def _run(func, n, args, metric):
    engine = create_async_engine("sqlite+aiosqlite://", poolclass=StaticPool)
    async with engine.begin() as conn:
        await conn.run_sync(models.Base.metadata.create_all)
    async with AsyncSession(engine) as session:
        for i in range(n):
            session.add(models.Product(name=f"p{i}", stock=i, category=models.Category(name=f"c{i}")))
            session.add(models.Tag(name=f"t{i}"))
        await session.commit()
    data = {"ids": list(range(1, n + 1)), "names": [f"t{i}" for i in range(n)], "pnames": [f"p{i}" for i in range(n)]}
    seen = {"statements": 0, "commits": 0}

    def before(conn, cursor, statement, parameters, context, executemany):
        seen["statements"] += 1

    def commit(conn):
        seen["commits"] += 1

    event.listen(engine.sync_engine, "before_cursor_execute", before)
    event.listen(engine.sync_engine, "commit", commit)
    try:
        async with AsyncSession(engine, expire_on_commit=False) as session:
            await func(session, *args(data))
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", before)
        event.remove(engine.sync_engine, "commit", commit)
        await engine.dispose()
    return seen[metric]


def run(func, n, args, metric="statements"):
    return asyncio.run(_run(func, n, args, metric))


IDS = lambda d: (d["ids"],)  # noqa: E731
NAMES = lambda d: (d["names"],)  # noqa: E731
NONE = lambda d: ()  # noqa: E731

CASES = [
    (api.stock_levels, "grows", IDS),
    (api.resolve_tags, "grows", NAMES),
    (api.products_named, "grows", lambda d: (d["pnames"],)),
    (api.restock, "commits-grow", IDS),
    (api.category_names, "grows", NONE),
    (api.stream_names, "grows", NAMES),
    (api_ok.stock_levels, "flat", IDS),
    (api_ok.add_tags, "commits-flat", lambda d: ([f"new{i}" for i in d["ids"]],)),
    (api_ok.restock, "commits-flat", IDS),
    (api_ok.category_names, "flat", NONE),
]


@pytest.mark.parametrize("func, expect, args", CASES, ids=[f"{f.__module__.split('.')[-1]}.{f.__name__}" for f, _, _ in CASES])
def test_async_session(func, expect, args):
    metric = "commits" if expect.startswith("commits") else "statements"
    one, five = run(func, 1, args, metric), run(func, 5, args, metric)
    if expect.endswith(("grows", "grow")):
        assert five > one, f"{func.__name__}: {one} {metric} for 1 item, {five} for 5 (expected growth)"
    else:
        assert five == one, f"{func.__name__}: {one} {metric} for 1 item, {five} for 5 (expected flat)"
