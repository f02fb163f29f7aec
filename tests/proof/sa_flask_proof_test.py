"""Proof against a real database: the Flask-SQLAlchemy fixture's routes, through Flask's test
client on in-memory SQLite, counting statements with a ``before_cursor_execute`` listener for 1
and 5 items. Flagged routes must grow, trap routes must stay flat."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytest.importorskip("flask_sqlalchemy")
from sqlalchemy import event  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.LegacyAPIWarning")  # Model.query.get() is the code under test

ROOT = Path(__file__).resolve().parents[2]
CASE = ROOT / "fixtures" / "sqlalchemy" / "flask_sqlalchemy"
if str(CASE) not in sys.path:
    sys.path.insert(0, str(CASE))

from fsa_blog import create_app  # noqa: E402
from fsa_blog.models import Author, Post, Profile, db  # noqa: E402


def statements(method: str, url: str, n: int) -> int:
    app = create_app()
    with app.app_context():
        db.create_all()
        for i in range(n):
            a = Author(name=f"author {i}")
            db.session.add(a)
            db.session.flush()
            db.session.add_all([Profile(bio=f"bio {i}", author_id=a.id), Post(title=f"post {i}", author_id=a.id)])
        db.session.commit()
        ids = [p.id for p in Post.query.all()]
        db.session.remove()
        seen = []

        def before(conn, cursor, statement, parameters, context, executemany):
            seen.append(statement)

        event.listen(db.engine, "before_cursor_execute", before)
        try:
            client = app.test_client()
            resp = client.post(url, json={"ids": ids}) if method == "POST" else client.get(url)
            assert resp.status_code == 200, resp.data
        finally:
            event.remove(db.engine, "before_cursor_execute", before)
            db.drop_all()
    return len(seen)


ROUTES = [
    ("GET", "/feed", "grows"),
    ("GET", "/feed-page-lazy", "grows"),
    ("GET", "/authors", "grows"),
    ("POST", "/publish", "grows"),
    ("GET", "/feed-joined", "flat"),
    ("GET", "/feed-page", "flat"),
    ("GET", "/profiles", "flat"),
    ("POST", "/publish-all", "flat"),
]


@pytest.mark.parametrize("method, url, expect", ROUTES, ids=[r[1] for r in ROUTES])
def test_flask_sqlalchemy_routes(method, url, expect):
    one, five = statements(method, url, 1), statements(method, url, 5)
    if expect == "grows":
        assert five > one, f"{url}: {one} statements for 1 item, {five} for 5"
    else:
        assert five == one, f"{url}: {one} statements for 1 item, {five} for 5"
