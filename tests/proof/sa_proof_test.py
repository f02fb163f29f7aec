"""Proof against a real database: the SQLAlchemy fixtures' code, run on in-memory SQLite.

Every fixture package under ``fixtures/sqlalchemy/<case>/`` is real code. This test imports it,
creates its tables, seeds 1 and then 5 items, and runs each positive code path (the function
holding a line querylint flags) and each negative one (a trap it must not flag), counting the
statements SQLAlchemy sends (a ``before_cursor_execute`` listener). Positives must send more
statements with more items; negatives must send the same number.
"""
from __future__ import annotations

import sys
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import pytest

sa = pytest.importorskip("sqlalchemy")
from sqlalchemy import create_engine, event  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "fixtures" / "sqlalchemy"
for _case in ("orm2_lazy", "session_queries", "orm1_legacy", "overfetch", "through_calls"):
    _p = str(CASES / _case)
    if _p not in sys.path:
        sys.path.insert(0, _p)


@contextmanager
def counting(engine):
    seen = []

    def before(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)


def run(base, seed, func, n, args=lambda session, ids: ()):
    """Statements ``func`` sends with ``n`` seeded items (a fresh session: nothing cached)."""
    engine = create_engine("sqlite://")
    base.metadata.create_all(engine)
    with Session(engine) as session:
        ids = seed(session, n)
        session.commit()
    with Session(engine) as session:
        call_args = args(session, ids)
        with counting(engine) as seen:
            func(session, *call_args)
    engine.dispose()
    return len(seen)


def check(base, seed, func, expect, args=lambda session, ids: ()):
    one, five = run(base, seed, func, 1, args), run(base, seed, func, 5, args)
    if expect == "grows":
        assert five > one, f"{func.__module__}.{func.__name__}: {one} statements for 1 item, {five} for 5 (expected growth)"
    else:
        assert five == one, f"{func.__module__}.{func.__name__}: {one} statements for 1 item, {five} for 5 (expected flat)"


# --------------------------------------------------------------------------------- orm2_lazy

from sa_shop import models as shop_models, reports as shop_reports, reports_ok as shop_ok, strict as shop_strict  # noqa: E402


def seed_shop(session, n):
    m = shop_models
    customers = []
    for i in range(n):
        c = m.Customer(name=f"customer {i}")
        s = m.Shipment(carrier=f"carrier {i}")
        o = m.Order(status="paid", customer=c, shipment=s)
        for j in range(2):
            p = m.Product(name=f"product {i}-{j}", price=Decimal("1.50"))
            o.lines.append(m.Line(product=p, quantity=j + 1))
        session.add(o)
        customers.append(c)
    session.flush()
    for c in customers:
        for o in c.orders:
            session.add(m.Note(order_id=o.id, text=f"note {o.id}"))
    # one customer with every order, for orders_of_customer
    big = m.Customer(name="big")
    for i in range(n):
        big.orders.append(m.Order(status="paid", lines=[m.Line(product=m.Product(name=f"b{i}", price=Decimal(1)))]))
    session.add(big)
    session.flush()
    return {"order": customers[0].orders[0].id, "big": big.id}


SHOP = [
    (shop_reports.customer_names, "grows", None),
    (shop_reports.line_counts, "grows", None),
    (shop_reports.lines_with_customer, "grows", None),
    (shop_reports.order_sizes, "grows", None),
    (shop_reports.order_owners, "grows", None),
    (shop_reports.legacy_customer_names, "grows", None),
    (shop_reports.note_texts, "grows", None),
    (shop_reports.orders_of_customer, "grows", lambda s, ids: (ids["big"],)),
    (shop_ok.customer_names, "flat", None),
    (shop_ok.line_products, "flat", None),
    (shop_ok.legacy_customer_names, "flat", None),
    (shop_ok.shared_loaders, "flat", None),
    (shop_ok.explicit_join, "flat", None),
    (shop_ok.load_object, "flat", None),
    (shop_ok.shipments, "flat", None),
    (shop_ok.products_of_order, "flat", lambda s, ids: (ids["order"],)),
    (shop_ok.column_rows, "flat", None),
    (shop_ok.foreign_key_values, "flat", None),
    (shop_ok.hoisted, "flat", None),
    (shop_ok.order_sizes, "flat", None),
    (shop_ok.labels, "flat", None),
    (shop_ok.one_order, "flat", lambda s, ids: (ids["order"],)),
    (shop_ok.forced_lazy_first_only, "flat", None),
    (shop_strict.strict_but_covered, "flat", None),
]


@pytest.mark.parametrize("func, expect, args", SHOP, ids=[f"{f.__module__.split('.')[-1]}.{f.__name__}" for f, _, _ in SHOP])
def test_sa_shop(func, expect, args):
    check(shop_models.Base, seed_shop, func, expect, args or (lambda s, ids: ()))


def test_sa_shop_raiseload_raises():
    """QL123: the access the rule reports raises instead of loading."""
    from sqlalchemy.exc import InvalidRequestError

    with pytest.raises(InvalidRequestError):
        run(shop_models.Base, seed_shop, shop_strict.strict_names, 1)
