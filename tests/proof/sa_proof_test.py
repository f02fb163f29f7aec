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
for _case in ("orm2_lazy", "session_queries", "orm1_legacy", "overfetch", "through_calls", "marshmallow_dump"):
    _p = str(CASES / _case)
    if _p not in sys.path:
        sys.path.insert(0, _p)


@contextmanager
def counting(engine):
    seen = {"statements": 0, "commits": 0}

    def before(conn, cursor, statement, parameters, context, executemany):
        seen["statements"] += 1

    def commit(conn):
        seen["commits"] += 1

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "commit", commit)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "commit", commit)


def run(base, seed, func, n, args=lambda session, ids: (), metric="statements", scoped=None):
    """Statements (or commits) ``func`` sends with ``n`` seeded items (a fresh session: nothing cached).

    ``scoped``: the fixture's ``scoped_session`` (behind ``Model.query``), bound to this engine.
    """
    engine = create_engine("sqlite://")
    base.metadata.create_all(engine)
    with Session(engine) as session:
        ids = seed(session, n)
        session.commit()
    if scoped is not None:
        scoped.remove()
        scoped.configure(bind=engine)
    try:
        if scoped is not None:
            session = scoped()
            call_args = args(session, ids)
            with counting(engine) as seen:
                func(session, *call_args)
        else:
            with Session(engine) as session:
                call_args = args(session, ids)
                with counting(engine) as seen:
                    func(session, *call_args)
    finally:
        if scoped is not None:
            scoped.remove()
        engine.dispose()
    return seen[metric]


def check(base, seed, func, expect, args=lambda session, ids: (), scoped=None):
    """``expect``: "grows" / "flat" (statements), or "commits-grow" / "commits-flat" for session writes.

    The ORM's final flush of N added rows is N INSERTs on SQLite (no batched RETURNING there), so
    for writes the per-item cost that the rules judge is the commit (one transaction per item).
    """
    metric = "commits" if expect.startswith("commits") else "statements"
    one, five = run(base, seed, func, 1, args, metric, scoped), run(base, seed, func, 5, args, metric, scoped)
    if expect.endswith("grows") or expect.endswith("grow"):
        assert five > one, f"{func.__module__}.{func.__name__}: {one} {metric} for 1 item, {five} for 5 (expected growth)"
    else:
        assert five == one, f"{func.__module__}.{func.__name__}: {one} {metric} for 1 item, {five} for 5 (expected flat)"


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
    (shop_reports.export_rows, "grows", None),
    (shop_ok.export_rows, "flat", None),
    (shop_ok.owner_names_of_customer, "flat", lambda s, ids: (ids["big"],)),
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


# --------------------------------------------------------------------------- session_queries

from sa_ops import models as ops_models, stock as ops_stock, stock_ok as ops_ok  # noqa: E402


def seed_ops(session, n):
    products = [ops_models.Product(sku=f"SKU-{i}", stock=i) for i in range(n)]
    session.add_all(products)
    session.flush()
    for p in products:
        session.add(ops_models.Movement(product_id=p.id, delta=1))
    session.flush()
    return [p.id for p in products]


def _ids(session, ids):
    return (ids,)


def _skus(session, ids):
    return ([f"SKU-{i}" for i in range(len(ids))],)


def _products(session, ids):
    return (session.scalars(sa.select(ops_models.Product)).all(),)


OPS = [
    (ops_stock.stock_levels, "grows", _ids),
    (ops_stock.by_sku, "grows", _skus),
    (ops_stock.by_sku_execute, "grows", _skus),
    (ops_stock.by_sku_legacy, "grows", _skus),
    (ops_stock.movement_counts, "grows", _ids),
    (ops_stock.movement_totals, "grows", _ids),
    (ops_stock.receive, "grows", _ids),
    (ops_stock.receive, "commits-grow", _ids),
    (ops_stock.restock, "grows", _ids),
    (ops_stock.touch_all, "grows", _products),
    (ops_stock.movement_sum, "grows", _ids),
    (ops_stock.sync_products, "grows", lambda s, ids: ([{"id": i, "sku": f"SKU-{k}", "stock": 7} for k, i in enumerate(ids)],)),
    (ops_ok.sync_products, "flat", lambda s, ids: ([{"id": i, "sku": f"SKU-{k}", "stock": 7} for k, i in enumerate(ids)],)),
    (ops_ok.stock_levels, "flat", _ids),
    (ops_ok.receive, "commits-flat", _ids),
    (ops_ok.receive_bulk, "flat", _ids),
    (ops_ok.receive_values, "flat", _ids),
    (ops_ok.receive_objects, "flat", _ids),
    (ops_ok.restock, "flat", _ids),
    (ops_ok.restock_in_chunks, "flat", _ids),
    (ops_ok.periodic_commit, "commits-flat", _ids),
    (ops_ok.warehouse_skus, "flat", _ids),
    (ops_ok.with_retries, "flat", _ids),
]


@pytest.mark.parametrize("func, expect, args", OPS, ids=[f"{f.__module__.split('.')[-1]}.{f.__name__}" for f, _, _ in OPS])
def test_sa_ops(func, expect, args):
    check(ops_models.Base, seed_ops, func, expect, args)


# ------------------------------------------------------------------------------ orm1_legacy

from sa_forum import models as forum_models, pages as forum_pages, pages_ok as forum_ok  # noqa: E402


def seed_forum(session, n):
    m = forum_models
    for i in range(n):
        u = m.User(name=f"user {i}")
        u.addresses.append(m.Address(city=f"city {i}"))
        u.badges.append(m.Badge(title=f"badge {i}"))
        post = m.Post(title=f"post {i}", body="...", author=u)
        post.tags.append(m.Tag(name=f"tag {i}"))
        post.comments.append(m.Comment(text=f"comment {i}"))
        session.add_all([u, post])
    session.flush()
    return None


def _no_session(func):
    """``comment_counts()`` takes no session: it reads ``Post.query`` (the scoped session)."""
    def call(session):
        return func()

    call.__name__ = func.__name__
    call.__module__ = func.__module__
    return call


FORUM = [
    (forum_pages.address_book, "grows"),
    (forum_pages.address_owners, "grows"),
    (forum_pages.post_counts, "grows"),
    (forum_pages.latest_titles, "grows"),
    (forum_pages.tag_names, "grows"),
    (_no_session(forum_pages.comment_counts), "grows"),
    (forum_pages.user_posts, "grows"),
    (forum_ok.address_book, "flat"),
    (forum_ok.address_book_joined, "flat"),
    (forum_ok.badges, "flat"),
    (forum_ok.post_authors, "flat"),
    (forum_ok.tag_names, "flat"),
    (forum_ok.post_counts, "flat"),
    (forum_ok.user_names, "flat"),
    (forum_ok.first_post_comments, "flat"),
    (forum_ok.comment_posts, "flat"),
]


@pytest.mark.parametrize("func, expect", FORUM, ids=[f"{f.__module__.split('.')[-1]}.{f.__name__}" for f, _ in FORUM])
def test_sa_forum(func, expect):
    check(forum_models.Base, seed_forum, func, expect, scoped=forum_models.db_session)


# -------------------------------------------------------------------------------- overfetch

from sa_stats import models as stats_models, stats as stats_bad, stats_ok  # noqa: E402


def seed_stats(session, n):
    session.add_all(stats_models.Member(email=f"m{i}@example.com") for i in range(n))
    session.flush()
    return None


def loaded(func, n, *args):
    """(statements, objects built from rows) for ``func`` with ``n`` members."""
    built = []

    def on_load(target, context):
        built.append(target)

    event.listen(stats_models.Member, "load", on_load)
    try:
        statements = run(stats_models.Base, seed_stats, func, n, args=lambda s, ids: args)
    finally:
        event.remove(stats_models.Member, "load", on_load)
    return statements, len(built)


STATS_BAD = [
    stats_bad.newest, stats_bad.member_count, stats_bad.active_count, stats_bad.active_count_named, stats_bad.first_three,
    stats_bad.any_active, stats_bad.member_ids,
]
STATS_OK = [stats_ok.newest, stats_ok.newest_active, stats_ok.member_count, stats_ok.legacy_count, stats_ok.any_active, stats_ok.member_ids]


@pytest.mark.parametrize("func", STATS_BAD, ids=[f.__name__ for f in STATS_BAD])
def test_sa_overfetch_positive_loads_every_row(func):
    (s1, one), (s5, five) = loaded(func, 1), loaded(func, 5)
    assert s1 == s5 == 1  # one query either way...
    assert (one, five) == (1, 5)  # ...that builds an object per row


@pytest.mark.parametrize("func", STATS_OK, ids=[f.__name__ for f in STATS_OK])
def test_sa_overfetch_negative_loads_at_most_one(func):
    (_, one), (_, five) = loaded(func, 1), loaded(func, 5)
    assert one == five <= 1


@pytest.mark.parametrize("func", [stats_ok.by_email, stats_ok.email_taken], ids=["by_email", "email_taken"])
def test_sa_overfetch_negative_lookup(func):
    (_, one), (_, five) = loaded(func, 1, "m0@example.com"), loaded(func, 5, "m0@example.com")
    assert one == five <= 1


# ---------------------------------------------------------------------------- through_calls

from sa_billing import models as billing_models, statements as billing  # noqa: E402


def seed_billing(session, n):
    for i in range(n):
        a = billing_models.Account(name=f"account {i}")
        session.add(a)
        session.flush()
        session.add(billing_models.Entry(account_id=a.id, amount=Decimal("2.00")))
    session.flush()
    return None


BILLING = [
    (billing.statement_lines, "grows"),
    (billing.balances, "grows"),
    (billing.statement_lines_batched, "flat"),
    (billing.names, "flat"),
    (billing.entry_counts, "grows"),
    (billing.entry_counts_loaded, "flat"),
]


@pytest.mark.parametrize("func, expect", BILLING, ids=[f.__name__ for f, _ in BILLING])
def test_sa_billing(func, expect):
    check(billing_models.Base, seed_billing, func, expect)


# ------------------------------------------------------------------------- marshmallow_dump

try:
    from sa_mm import models as mm_models, stats as mm_stats, views as mm_views  # noqa: E402
except ImportError:  # pragma: no cover - marshmallow is a test dependency
    mm_models = None


def seed_mm(session, n):
    for i in range(n):
        a = mm_models.Article(title=f"article {i}", author=mm_models.Author(name=f"author {i}"))
        a.tags.append(mm_models.Tag(label=f"tag {i}"))
        session.add(a)
    session.flush()
    return None


MM = [
    ("list_articles", "grows"), ("list_with_tags", "grows"), ("list_loaded", "flat"), ("list_titles", "flat"),
    ("one_by_one", "grows"), ("one_by_one_loaded", "flat"),
]


@pytest.mark.skipif(mm_models is None, reason="marshmallow is not installed")
@pytest.mark.parametrize("name, expect", MM, ids=[n for n, _ in MM])
def test_sa_marshmallow_dump(name, expect):
    check(mm_models.Base, seed_mm, getattr(mm_views, name), expect)


# QL118: a ``fields.Method`` method that calls a helper running a query, once per dumped object;
# the fix counts once before the dump
MM_METHODS = [("list_stats", "grows"), ("list_counts", "flat")]


@pytest.mark.skipif(mm_models is None, reason="marshmallow is not installed")
@pytest.mark.parametrize("name, expect", MM_METHODS, ids=[n for n, _ in MM_METHODS])
def test_sa_marshmallow_method_field(name, expect):
    check(mm_models.Base, seed_mm, getattr(mm_views, name), expect, scoped=mm_stats.db_session)


# ----------------------------------------------------------------------------- query_builders

if str(CASES / "query_builders") not in sys.path:
    sys.path.insert(0, str(CASES / "query_builders"))
from votes import models as vote_models, sync as vote_sync, views as vote_views  # noqa: E402


def seed_votes(session, n):
    m = vote_models
    for i in range(n):
        session.add(m.Vote(bfs_number=i, title=f"vote {i}", canton=m.Canton(name=f"canton {i}")))
        session.add(m.Member(name=f"member {i}", memberships=[m.Membership(role="president" if i % 2 else "member")]))
    session.flush()
    return list(range(n))


class _Request:
    def __init__(self, session):
        self.dbsession = session


def _slides(session, numbers):
    return vote_views.slides(_Request(session), numbers)


def _slides_fixed(session, numbers):
    return vote_views.slides_fixed(_Request(session), numbers)


def _per_request(view):
    def run_view(session):
        return view(_Request(session))

    run_view.__name__ = view.__name__
    return run_view


@pytest.mark.parametrize(
    "func,expect,args",
    [
        (_slides, "grows", lambda s, ids: (ids,)),
        (_slides_fixed, "flat", lambda s, ids: (ids,)),
        (_per_request(vote_views.cantons), "grows", lambda s, ids: ()),
        (_per_request(vote_views.cantons_loaded), "flat", lambda s, ids: ()),
        (_per_request(vote_sync.presidents), "grows", lambda s, ids: ()),
        (_per_request(vote_sync.presidents_loaded), "flat", lambda s, ids: ()),
        (_per_request(vote_sync.labels), "flat", lambda s, ids: ()),
        (_per_request(vote_sync.described), "flat", lambda s, ids: ()),
        (_per_request(vote_sync.described_with_roles), "grows", lambda s, ids: ()),
        (_per_request(vote_sync.president_names), "grows", lambda s, ids: ()),
    ],
    ids=["slides", "slides_fixed", "cantons", "cantons_loaded", "presidents", "presidents_loaded", "labels", "described", "with_roles", "alias"],
)
def test_proof_query_builders(func, expect, args):
    check(vote_models.Base, seed_votes, func, expect, args)
