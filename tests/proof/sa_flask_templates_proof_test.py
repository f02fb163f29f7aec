"""Proof against a real database: the Flask-SQLAlchemy pages whose Jinja2 templates querylint
reads, through Flask's test client on in-memory SQLite, counting statements for 1 and 5 orders
(two items each). The pages flagged in their templates must grow; the page whose view loads
what its template reads must stay flat."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

pytest.importorskip("flask_sqlalchemy")
from sqlalchemy import event  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.LegacyAPIWarning")

ROOT = Path(__file__).resolve().parents[2]
# (a fixed copy of the pages is measured by running this module in a fresh interpreter with
# QUERYLINT_PROOF_PAGES naming the copy)
CASE = Path(os.environ.get("QUERYLINT_PROOF_PAGES") or ROOT / "fixtures" / "sqlalchemy" / "flask_templates")
if str(CASE) not in sys.path:
    sys.path.insert(0, str(CASE))

from fsa_storefront import create_app  # noqa: E402
from fsa_storefront.models import Customer, Event, Item, Order, Tag, db  # noqa: E402


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


def test_proof_fix_flattens_the_jinja_pages(tmp_path, monkeypatch):
    """``querylint --fix`` on a copy of the pages adds the loader options each template needs to
    its view's query; the fixed routes, run in a fresh interpreter, render with the same number
    of statements for 1 and 5 orders (the dynamic relationship has no certain fix and still grows)."""
    import json
    import shutil
    import subprocess

    from click.testing import CliRunner

    from querylint.cli import main

    project = tmp_path / "pages"
    shutil.copytree(CASE, project)
    (project / "pyproject.toml").write_text("", encoding="utf-8")
    monkeypatch.chdir(project)
    CliRunner().invoke(main, ["--no-cache", "--fix", "."])
    assert "joinedload(Order.customer)" in (project / "fsa_storefront" / "views.py").read_text(encoding="utf-8")
    script = (
        f"import json, sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); import sa_flask_templates_proof_test as t; "
        "print(json.dumps({u: [t.statements(u, 1), t.statements(u, 5)] for u in ('/orders', '/macro', '/events')}))"
    )
    env = dict(os.environ, QUERYLINT_PROOF_PAGES=str(project))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=project, env=env)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    counts = json.loads(out.strip().splitlines()[-1])
    assert counts["/orders"][0] == counts["/orders"][1] and counts["/macro"][0] == counts["/macro"][1], counts
    assert counts["/events"][1] > counts["/events"][0], counts
