"""Proof against a real database: the FastAPI response-model fixture (QL126), served by FastAPI's
test client over in-memory SQLite. Serialising a lazily loaded nested field costs one SELECT per
row (statements grow from 1 to 5 posts); eager-loaded or absent nested fields do not."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")
from fastapi import FastAPI  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import create_engine, event  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402
from sqlalchemy.pool import StaticPool  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
CASE = ROOT / "fixtures" / "sqlalchemy" / "fastapi_response_model"
if str(CASE) not in sys.path:
    sys.path.insert(0, str(CASE))

from sa_api import api, models  # noqa: E402


def statements(url: str, n: int) -> int:
    engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    models.Base.metadata.create_all(engine)
    with Session(engine) as s:
        for i in range(n):
            post = models.Post(title=f"post {i}", author=models.Author(name=f"author {i}"))
            post.comments.append(models.Comment(text=f"comment {i}"))
            s.add(post)
        s.commit()
    app = FastAPI()
    app.include_router(api.router)

    def session():
        with Session(engine) as s:
            yield s

    app.dependency_overrides[api.get_session] = session
    seen = []

    def before(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        resp = TestClient(app).get(url)
        assert resp.status_code == 200, resp.text
        assert len(resp.json()) == n
    finally:
        event.remove(engine, "before_cursor_execute", before)
        engine.dispose()
    return len(seen)


@pytest.mark.parametrize(
    "url, expect",
    [
        ("/posts", "grows"), ("/posts/detailed", "grows"), ("/posts/joined", "flat"), ("/posts/titles", "flat"),
        ("/posts/manual", "grows"), ("/posts/manual-joined", "flat"),
    ],
)
def test_response_model_serialisation(url, expect):
    one, five = statements(url, 1), statements(url, 5)
    if expect == "grows":
        assert five > one, f"{url}: {one} statements for 1 post, {five} for 5"
    else:
        assert five == one, f"{url}: {one} statements for 1 post, {five} for 5"
