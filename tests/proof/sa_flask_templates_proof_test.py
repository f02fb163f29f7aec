"""Proof against a real database: the Flask-SQLAlchemy pages whose Jinja2 templates querylint
reads, through Flask's test client on in-memory SQLite, counting statements for 1 and 5 orders
(two items each). The pages flagged in their templates must grow; the page whose view loads
what its template reads must stay flat."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytest.importorskip("flask_sqlalchemy")
from sqlalchemy import event  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.LegacyAPIWarning")

ROOT = Path(__file__).resolve().parents[2]
CASE = ROOT / "fixtures" / "sqlalchemy" / "flask_templates"
if str(CASE) not in sys.path:
    sys.path.insert(0, str(CASE))

from fsa_pages import create_app  # noqa: E402
from fsa_pages.models import Customer, Event, Item, Order, Tag, db  # noqa: E402


def statements(url: str, n: int) -> int:
    app = create_app()
    with app.app_context():
        db.create_all()
        for i in range(n):
            c = Customer(name=f"c{i}")
            o = Order(note=f"n{i}", customer=c)
            db.session.add_all([c, o, Item(order=o, quantity=1), Item(order=o, quantity=2)])
            db.session.flush()
            db.session.add_all([Tag(order_id=o.id, label="t"), Event(order_id=o.id)])
        db.session.commit()
        db.session.remove()
        seen = []

        def before(conn, cursor, statement, parameters, context, executemany):
            seen.append(statement)

        event.listen(db.engine, "before_cursor_execute", before)
        try:
            resp = app.test_client().get(url)
            assert resp.status_code == 200, resp.data
        finally:
            event.remove(db.engine, "before_cursor_execute", before)
            db.drop_all()
    return len(seen)


@pytest.mark.parametrize("url,grows", [("/orders", True), ("/events", True), ("/macro", True), ("/orders-fast", False)])
def test_proof_jinja_templates(url, grows):
    one, five = statements(url, 1), statements(url, 5)
    if grows:
        assert five > one, (url, one, five)
    else:
        assert five == one, (url, one, five)
