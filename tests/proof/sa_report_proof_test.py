"""Proof for the query-cost report's Flask-SQLAlchemy shop: its checkout before and after the
change, through Flask's test client on in-memory SQLite, counting statements (a
``before_cursor_execute`` listener) and connections opened (``sqlite3.connect``) for 1 and 5
lines. The report says O(1) with no connection before, O(N) with one connection per line after."""
from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import pytest

pytest.importorskip("flask_sqlalchemy")
from sqlalchemy import event  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
CASE = ROOT / "fixtures" / "sqlalchemy" / "report_shop"
if str(CASE) not in sys.path:
    sys.path.insert(0, str(CASE))

from fsa_shop import create_app  # noqa: E402
from fsa_shop.models import Line, Order, Product, db  # noqa: E402


def checkout(module: str, n: int, monkeypatch):
    """(statements, connections opened by the handler) for one checkout of ``n`` lines."""
    app = create_app(module)
    with app.app_context():
        db.create_all()
        order = Order(customer="c")
        db.session.add(order)
        db.session.flush()
        for i in range(n):
            product = Product(name=f"p{i}", price=i + 1)
            db.session.add(product)
            db.session.flush()
            db.session.add(Line(order_id=order.id, product_id=product.id, quantity=2))
        db.session.commit()
        order_id = order.id
        db.session.remove()
        seen = []
        opened = []
        real = sqlite3.connect

        def counting(*args, **kwargs):
            opened.append(args)
            return real(*args, **kwargs)

        def before(conn, cursor, statement, parameters, context, executemany):
            seen.append(statement)

        event.listen(db.engine, "before_cursor_execute", before)
        monkeypatch.setattr(sqlite3, "connect", counting)
        try:
            resp = app.test_client().post(f"/checkout/{order_id}/complete")
            assert resp.status_code == 200, resp.data
            assert resp.get_json()["total"] == sum(2 * (i + 1) for i in range(n))
        finally:
            monkeypatch.setattr(sqlite3, "connect", real)
            event.remove(db.engine, "before_cursor_execute", before)
            db.drop_all()
    return len(seen), len(opened)


def test_proof_the_reports_checkout_costs(monkeypatch):
    assert checkout("fsa_shop.checkout_before", 1, monkeypatch) == checkout("fsa_shop.checkout_before", 5, monkeypatch) == (1, 0)
    (q1, c1), (q5, c5) = checkout("fsa_shop.checkout", 1, monkeypatch), checkout("fsa_shop.checkout", 5, monkeypatch)
    assert (q5 - q1, c1, c5) == (4, 1, 5)  # one product query and one connection per line


def test_proof_fix_makes_the_checkouts_statements_flat(tmp_path, monkeypatch):
    """``querylint --fix`` adds ``.options(joinedload(Line.product))``: the fixed checkout runs
    one statement for 1 and for 5 lines."""
    import importlib.util
    import shutil

    from click.testing import CliRunner

    from querylint.cli import main

    project = tmp_path / "shop"
    shutil.copytree(CASE, project)
    (project / "pyproject.toml").write_text("", encoding="utf-8")
    monkeypatch.chdir(project)
    CliRunner().invoke(main, ["--no-cache", "--fix", "fsa_shop"])
    fixed = project / "fsa_shop" / "checkout.py"
    assert "options(joinedload(Line.product))" in fixed.read_text(encoding="utf-8")
    name = "fsa_shop.checkout_fixed"  # the fixed copy, importing the fixture's models
    spec = importlib.util.spec_from_file_location(name, fixed)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
        one, five = checkout(name, 1, monkeypatch), checkout(name, 5, monkeypatch)
    finally:
        del sys.modules[name]
    assert one[0] == five[0] == 1
