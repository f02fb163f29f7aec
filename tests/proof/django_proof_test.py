"""Proof against a real database: the Django fixtures' code, run under Django on in-memory SQLite.

Every fixture app under ``fixtures/django/<case>/`` is real code: this test installs them as
Django apps, creates their tables, and runs each positive code path (a line querylint flags)
and each negative one (a trap it must not flag) with 1 and with 5 items, counting queries with
``CaptureQueriesContext``. Positives must run more queries with more items; negatives must run
the same number. The over-fetch cases are checked by what they fetch (every row, no LIMIT /
COUNT / EXISTS).
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

django = pytest.importorskip("django")
pytest.importorskip("rest_framework")

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "fixtures" / "django"
APPS = {
    "fk_lazy": "dj_library",
    "related_managers": "dj_blog",
    "queries_in_loop": "dj_vouchers",
    "writes_in_loop": "dj_stock",
    "onetoone_deferred": "dj_crm",
    "model_members": "dj_orders",
    "drf_serializers": "dj_api",
    "overfetch": "dj_catalog",
    "report_shop": "dj_shop",
    "templates": "dj_pages",
    "helper_reads": "dj_workflow",
    "dict_lookups": "dj_lookups",
}


def _setup_django():
    from django.conf import settings

    for case in APPS:
        path = str(CASES / case)
        if path not in sys.path:
            sys.path.insert(0, path)
    if not settings.configured:
        settings.configure(
            DEBUG=False,
            SECRET_KEY="proof",
            DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
            INSTALLED_APPS=[
                "django.contrib.contenttypes", "django.contrib.auth", "django.contrib.admin", "django.contrib.messages",
                "django.contrib.sessions", "rest_framework", *APPS.values(),
            ],
            DEFAULT_AUTO_FIELD="django.db.models.AutoField",
            USE_TZ=True,
            TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}],
        )
    django.setup()
    from django.apps import apps

    missing = [a for a in APPS.values() if not apps.is_installed(a)]
    if missing:  # another test configured Django first, without the fixture apps
        pytest.skip(f"Django was configured elsewhere without the fixture apps {missing}", allow_module_level=True)
    from django.core.management import call_command

    call_command("migrate", run_syncdb=True, verbosity=0)


_setup_django()

from asgiref.sync import async_to_sync  # noqa: E402
from django.contrib.auth.models import Group, User  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402


def _call(fn, *args):
    import inspect

    if inspect.iscoroutinefunction(fn):
        return async_to_sync(fn)(*args)
    return fn(*args)


def measure(setup, run, n):
    """Queries ``run(setup(n))`` issues, inside a transaction rolled back afterwards."""
    with transaction.atomic():
        data = setup(n)
        with CaptureQueriesContext(connection) as captured:
            run(data)
        transaction.set_rollback(True)
    return captured.captured_queries


def check(setup, run, grows):
    one = len(measure(setup, run, 1))
    five = len(measure(setup, run, 5))
    if grows:
        assert five > one, f"expected more queries with more items, got {one} for 1 and {five} for 5"
    else:
        assert five == one, f"expected the same number of queries, got {one} for 1 and {five} for 5"


# ----------------------------------------------------------------------------- fk_lazy

def library(n):
    from dj_library.models import Agency, Author, Book, Editor, Publisher

    books = []
    for i in range(n):
        agency = Agency.objects.create(name=f"ag{i}")
        author = Author.objects.create(name=f"au{i}", agency=agency)
        pub = Publisher.objects.create(name=f"p{i}")
        ed = Editor.objects.create(name=f"e{i}")
        books.append(Book.objects.create(title="a", author=author, publisher=pub, editor=ed))
    return books


LIBRARY = [
    ("author_names", (), True), ("agency_names", (), True), ("agency_names_half_loaded", (), True),
    ("editor_names", (), True), ("publisher_names_via_helper", (), True), ("first_access_only", (), True),
    ("nested_loops", (), True), ("select_all_skips_nullable", (), True), ("title_rows", (), True), ("title_rows_joined", (), False),
    ("covered_by_select_related", (), False), ("covered_chain", (), False), ("covered_in_earlier_statements", ("a",), False),
    ("covered_by_helper", (), False), ("covered_by_prefetch", (), False), ("ids_and_fields_only", (), False),
    ("values_rows", (), False), ("values_list_rows", (), False), ("select_all", (), False),
    ("sorted_by_author", (), True), ("sorted_in_place_by_author", (), True),
    ("sorted_by_author_joined", (), False), ("sorted_by_author_id", (), False),
]


def one_author(n):
    """One author with ``n`` books in print, each from its own publisher."""
    from dj_library.models import Author, Book, Publisher

    author = Author.objects.create(name="au")
    for i in range(n):
        Book.objects.create(title=f"b{i}", author=author, publisher=Publisher.objects.create(name=f"p{i}"))
    return author


@pytest.mark.parametrize(
    "name,by_id,grows",
    [
        ("publishers_of_author", True, True), ("publishers_of", False, True), ("publishers_of_joined", False, False),
        ("publisher_names_of", False, True),
    ],
)
def test_proof_model_method_returning_a_queryset(name, by_id, grows):
    from dj_library import services

    check(one_author, lambda author: getattr(services, name)(author.pk if by_id else author), grows)


def test_proof_a_caller_that_prefetched_for_a_helper():
    from dj_library import services

    check(one_author, lambda author: services.publisher_names_prefetched(), False)


@pytest.mark.parametrize("name,args,grows", LIBRARY, ids=[c[0] for c in LIBRARY])
def test_proof_fk_lazy(name, args, grows):
    from dj_library import services

    check(library, lambda books: _call(getattr(services, name), *args), grows)


def test_proof_fk_lazy_named_parameter():
    from dj_library import services
    from dj_library.models import Book

    check(library, lambda books: services.export_books(Book.objects.all()), True)
    check(library, lambda books: services.export_books(Book.objects.select_related("publisher")), False)


def _changelist(site, model):
    """What the admin changelist does: build the ChangeList (its queryset, list_select_related) and
    read every row's ``list_display`` values the way ``items_for_result`` does."""
    from django.contrib.admin.utils import lookup_field
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = User(is_superuser=True, is_staff=True, is_active=True)
    model_admin = site._registry[model]
    cl = model_admin.get_changelist_instance(request)
    return [[lookup_field(name, obj, model_admin)[2] for name in cl.list_display] for obj in cl.result_list]


ADMIN = [("site", True), ("second_site", False), ("third_site", False), ("fourth_site", False)]


@pytest.mark.parametrize("site,grows", ADMIN, ids=[a[0] for a in ADMIN])
def test_proof_admin_list_display(site, grows):
    from django.contrib import admin as django_admin

    from dj_library import admin
    from dj_library.models import Book

    target = django_admin.site if site == "site" else getattr(admin, site)
    check(library, lambda _b: _changelist(target, Book), grows)


def test_proof_admin_author_counts():
    from django.contrib import admin as django_admin

    from dj_library import admin  # noqa: F401  (registers the admins)
    from dj_library.models import Author

    check(library, lambda _b: _changelist(django_admin.site, Author), True)


def _list_view(view_cls):
    """What ListView.get() does before rendering: object_list, then the context."""
    from django.test import RequestFactory

    view = view_cls()
    view.setup(RequestFactory().get("/"))
    view.object_list = view.get_queryset()
    return view.get_context_data()


LIST_VIEWS = [("BookListView", True), ("JoinedBookListView", False), ("FilteredBookListView", False)]


@pytest.mark.parametrize("name,grows", LIST_VIEWS, ids=[v[0] for v in LIST_VIEWS])
def test_proof_list_views(name, grows):
    from dj_library import views

    check(library, lambda _b: _list_view(getattr(views, name)), grows)


def test_proof_fk_lazy_one_object():
    from dj_library import services

    check(library, lambda books: services.one_book(books[0].pk), False)


# ----------------------------------------------------------------------------- related_managers

def blog(n):
    from dj_blog.models import Comment, Like, Post, Tag, Writer

    writers = []
    for i in range(n):
        w = Writer.objects.create(name=f"w{i}")
        p = Post.objects.create(writer=w, title=f"t{i}", published=True)
        p.tags.add(Tag.objects.create(label=f"l{i}"))
        Comment.objects.create(post=p, body="b", approved=True)
        Like.objects.create(post=p, weight=2)
        writers.append(w)
    return writers


BLOG = [
    ("post_counts", True), ("titles_by_writer", True), ("comment_bodies", True), ("tag_labels", True),
    ("like_weights", True), ("approved_comments", True), ("latest_titles", True),
    ("prefetched_titles", False), ("prefetched_counts", False), ("prefetched_nested", False),
    ("prefetch_object_to_attr", False), ("prefetch_object_plain", False), ("annotated_counts", False),
]


@pytest.mark.parametrize("name,grows", BLOG, ids=[c[0] for c in BLOG])
def test_proof_related_managers(name, grows):
    from dj_blog import reports

    check(blog, lambda writers: getattr(reports, name)(), grows)


def test_proof_related_managers_one_writer():
    from dj_blog import reports

    check(blog, lambda writers: reports.one_writer(writers[0].pk), False)


# ----------------------------------------------------------------------------- queries_in_loop

def vouchers(n):
    from dj_vouchers.models import Category, Region, Voucher

    eu = Region.objects.create(code="EU", rate=5)
    root = Category.objects.create(name="root")
    cat_ids = []
    for i in range(n):
        cat_ids.append(Category.objects.create(name=f"c{i}", parent=root).pk)
        Category.objects.create(name=f"leaf{i}", parent_id=cat_ids[-1])
        Voucher.objects.create(code=f"C{i}", region=eu)
    codes = [f"C{i}" for i in range(n)]
    users = [User.objects.create(username=f"v{i}").pk for i in range(n)]
    region_ids = [Region.objects.create(code=f"R{i}").pk for i in range(n)]
    return {
        "cat_ids": cat_ids, "user_ids": users, "codes": codes, "root": root.pk, "rows": [{"region_id": eu.pk} for _ in range(n)],
        "ids": list(Voucher.objects.values_list("id", flat=True)), "region_ids": region_ids,
    }


VOUCHERS = [
    ("valid_codes", "codes", True), ("descendant_ids", "root", True), ("region_rates", "rows", True),
    ("totals", "codes", True), ("nested_query_iteration", "codes", True), ("async_lookup", "codes", True),
    ("invariant", "codes", True), ("invariant_count", "codes", True),
    ("hoisted", "codes", False), ("looked_up_once", "codes", False), ("filtered_once", "codes", False),
    ("cached_queryset", "codes", False), ("constants", None, False), ("by_chunks", "ids", False),
    ("by_pages", None, False), ("via_sync_to_async", "codes", False),
    ("owner_emails", "user_ids", True), ("children_names", "cat_ids", True), ("active_flags", "user_ids", True),
    ("redeemed_per_region", "region_ids", True), ("same_queryset_each_time", "region_ids", False),
]


@pytest.mark.parametrize("name,arg,grows", VOUCHERS, ids=[c[0] for c in VOUCHERS])
def test_proof_queries_in_loop(name, arg, grows):
    from dj_vouchers import services

    fn = getattr(services, name)
    check(vouchers, lambda d: _call(fn, *((d[arg],) if arg else ())), grows)


@pytest.mark.parametrize("name,grows", [("codes_by_region", True), ("codes_by_region_once", False)])
def test_proof_untyped_queryset_filtered_per_item(name, grows):
    from dj_vouchers import services
    from dj_vouchers.models import Voucher

    fn = getattr(services, name)
    check(vouchers, lambda d: fn(Voucher.objects.all(), d["region_ids"]), grows)


def test_proof_queries_in_loop_retries():
    from dj_vouchers import services

    check(vouchers, lambda d: services.with_retries(d["codes"][-1]), False)


# ----------------------------------------------------------------------------- writes_in_loop

def stock(n):
    from dj_stock.models import Product

    products = [Product.objects.create(sku=f"S{i}", price=100, stock=0) for i in range(n)]
    return {
        "ids": [p.pk for p in products],
        "skus": [p.sku for p in products],
        "new_rows": [{"sku": f"N{i}", "price": 1} for i in range(n)],
        "counts": {p.sku: 3 for p in products},
        "moves": {p.pk: 2 for p in products},
        "pk": products[0].pk,
        "stock_rows": [{"quantity": 1} for _ in range(n)],
    }


STOCK = [
    ("apply_discount", (10,), True), ("purge_empty", (), True), ("record_moves", ("moves",), True),
    ("ensure_products", ("skus",), True), ("restock", ("skus",), True), ("build_and_save", ("new_rows",), True),
    ("async_writes", ("new_rows",), True), ("add_moves", ("ids",), True), ("reset_each", ("skus",), True),
    ("in_stock_skus", (), False), ("reset_all", ("skus",), False),
    ("bulk_import", ("new_rows",), False), ("bulk_restock", ("counts",), False), ("set_based", (10,), False),
    ("batched_updates", ("ids",), False), ("save_once", ("pk", "stock_rows"), False),
]


@pytest.mark.parametrize("name,args,grows", STOCK, ids=[c[0] for c in STOCK])
def test_proof_writes_in_loop(name, args, grows):
    from dj_stock import jobs

    fn = getattr(jobs, name)
    check(stock, lambda d: _call(fn, *[d[a] if isinstance(a, str) else a for a in args]), grows)


# ----------------------------------------------------------------------------- onetoone_deferred

def crm(n):
    from dj_crm.models import Customer, LoyaltyCard, ShippingProfile

    for i in range(n):
        user = User.objects.create(username=f"u{i}", email=f"u{i}@x.test")
        user.groups.add(Group.objects.create(name=f"g{i}"))
        c = Customer.objects.create(user=user, company=f"co{i}", notes="n", vip=True)
        LoyaltyCard.objects.create(customer=c, number=f"N{i}", points=i)
        ShippingProfile.objects.create(customer=c, city=f"city{i}")


CRM = [
    ("vip_emails", True), ("points_statement", True), ("regions", True), ("card_companies", True),
    ("notes_of_slim_customers", True), ("notes_without_notes", True),
    ("covered_reverse", False), ("covered_forward", False), ("slim_fields_read", False),
    ("deferred_not_read", False), ("user_ids", False), ("user_companies", True), ("user_companies_joined", False),
    ("group_names", True), ("group_names_prefetched", False),
]


@pytest.mark.parametrize("name,grows", CRM, ids=[c[0] for c in CRM])
def test_proof_onetoone_deferred(name, grows):
    from dj_crm import services

    check(crm, lambda _d: getattr(services, name)(), grows)


# ----------------------------------------------------------------------------- model_members

def orders(n):
    from dj_orders.models import Customer, Order, OrderLine

    out = []
    for i in range(n):
        c = Customer.objects.create(name=f"c{i}")
        o = Order.objects.create(customer=c, number=f"O{i}")
        OrderLine.objects.create(order=o, price=10)
        out.append(o)
    return out


ORDERS = [
    ("order_totals", True), ("line_counts", True), ("customer_names", True), ("latest_lines", True),
    ("descriptions", True), ("labels", False), ("customer_names_joined", False), ("counts_prefetched", False),
    ("line_titles", True), ("line_titles_formatted", True), ("line_titles_joined", False), ("line_prices", False),
    ("line_titles_after_order", True),
]


@pytest.mark.parametrize("name,grows", ORDERS, ids=[c[0] for c in ORDERS])
def test_proof_model_members(name, grows):
    from dj_orders import views

    check(orders, lambda _d: getattr(views, name)(None), grows)


def test_proof_model_members_fixed_instance():
    from dj_orders import views

    one, five = (len(measure(orders, lambda d, n=n: views.repeated_latest(_get(n), d[0].pk), 1)) for n in (1, 5))
    assert five > one
    one, five = (len(measure(orders, lambda d, n=n: views.total_once(_get(n), d[0].pk), 1)) for n in (1, 5))
    assert five == one


def _get(n):
    from django.test import RequestFactory

    return RequestFactory().get("/", {"n": [str(i) for i in range(n)]})


def test_proof_model_members_one_order():
    from dj_orders import views

    check(orders, lambda d: views.one_total(None, d[0].pk), False)


# ----------------------------------------------------------------------------- drf_serializers

def novels(n):
    from dj_api.models import Genre, Novel, Novelist, Review

    for i in range(n):
        a = Novelist.objects.create(name=f"a{i}")
        b = Novel.objects.create(title=f"t{i}", novelist=a)
        b.genres.add(Genre.objects.create(name=f"g{i}"))
        Review.objects.create(novel=b, stars=4)


def _list(view_cls):
    """What a DRF list action does: serialize ``get_queryset()`` with ``many=True``."""
    view = view_cls()
    view.request = None
    view.format_kwarg = None
    view.kwargs = {}
    data = view.get_serializer_class()(view.get_queryset(), many=True).data
    return [dict(row) for row in data]


DRF = [
    ("NovelViewSet", True), ("HalfLoadedNovelViewSet", True), ("NovelStatsList", True), ("NovelTitleList", True),
    ("NovelistStatsList", False), ("NovelistNameList", False), ("LoadedNovelViewSet", False),
    ("NovelGenreIdsList", True), ("NovelGenreIdsPrefetchedList", False), ("NovelDeepList", True), ("NovelReviewCountList", True),
]


@pytest.mark.parametrize("name,grows", DRF, ids=[c[0] for c in DRF])
def test_proof_drf(name, grows):
    from dj_api import views

    check(novels, lambda _d: _list(getattr(views, name)), grows)


FUNCTION_VIEWS = [("novel_list", True), ("loaded_novel_list", False)]


@pytest.mark.parametrize("name,grows", FUNCTION_VIEWS, ids=[v[0] for v in FUNCTION_VIEWS])
def test_proof_drf_function_views(name, grows):
    from django.test import RequestFactory

    from dj_api import views

    check(novels, lambda _d: getattr(views, name)(RequestFactory().get("/")).data, grows)


# ----------------------------------------------------------------------------- overfetch

def catalog(n):
    from dj_catalog.models import Brand, Item

    for i in range(n):
        b = Brand.objects.create(name=f"b{i}")
        Item.objects.create(brand=b, name=f"i{i}", active=i % 2 == 0)


OVERFETCH = ["inactive_ids", "active_count_of_list", "first_by_iteration", "active_count", "inline_count", "has_active", "has_inactive", "newest", "newest_comprehension", "active_ids"]
CHEAP = ["indexed", "real_count"]


def _fetches_every_row(sql: str) -> bool:
    s = sql.upper()
    return s.startswith("SELECT") and "COUNT(" not in s and " LIMIT " not in s and "EXISTS" not in s


@pytest.mark.parametrize("name", OVERFETCH)
def test_proof_overfetch(name):
    from dj_catalog import views

    queries = measure(catalog, lambda _d: getattr(views, name)(None), 5)
    assert queries and all(_fetches_every_row(q["sql"]) for q in queries), [q["sql"] for q in queries]


@pytest.mark.parametrize("name", CHEAP)
def test_proof_overfetch_negatives(name):
    from dj_catalog import views

    queries = measure(catalog, lambda _d: getattr(views, name)(None), 5)
    assert queries and not any(_fetches_every_row(q["sql"]) for q in queries), [q["sql"] for q in queries]


def test_proof_overfetch_cache_reused():
    """len()/bool() then iterating the same queryset: one query, the result cache is reused."""
    from dj_catalog import views

    for name in ("count_then_iterate", "test_then_iterate"):
        assert len(measure(catalog, lambda _d: getattr(views, name)(None), 5)) == 1
    check(catalog, lambda _d: views.prefetched_lengths(None), False)


# ----------------------------------------------------------------------------- the report's shop


def shop_order(n):
    """An order of ``n`` lines, each of its own product."""
    from dj_shop.models import Line, Order, Product

    order = Order.objects.create(customer="c")
    for i in range(n):
        Line.objects.create(order=order, product=Product.objects.create(name=f"p{i}", price=i + 1), quantity=2)
    return order


def _checkout(module, monkeypatch, n):
    """(queries, connections opened) of one checkout of an order of ``n`` lines."""
    import sqlite3

    from django.test import RequestFactory

    opened = []
    real = sqlite3.connect

    def counting(*args, **kwargs):
        opened.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(module.sqlite3 if hasattr(module, "sqlite3") else sqlite3, "connect", counting)
    request = RequestFactory().post("/")
    queries = measure(shop_order, lambda order: module.complete_checkout(request, order.pk), n)
    return len(queries), len(opened)


def test_proof_the_reports_checkout_costs(monkeypatch):
    """What ``querylint --report`` says of the two checkouts: O(1) and no connection before the
    change; O(N) queries and a connection per line after it."""
    from dj_shop import checkout, checkout_before

    assert _checkout(checkout_before, monkeypatch, 1) == _checkout(checkout_before, monkeypatch, 5) == (2, 0)
    (q1, c1), (q5, c5) = _checkout(checkout, monkeypatch, 1), _checkout(checkout, monkeypatch, 5)
    assert (q5 - q1, c1, c5) == (4, 1, 5)  # one product query and one connection per line


def test_proof_fix_makes_the_checkouts_queries_flat(tmp_path, monkeypatch):
    """``querylint --fix`` on a copy of the shop adds ``select_related("product")``: the fixed
    checkout runs the same number of queries for 1 and 5 lines (N+1 -> 2)."""
    import importlib.util
    import shutil

    from click.testing import CliRunner

    from querylint.cli import main

    project = tmp_path / "shop"
    shutil.copytree(CASES / "report_shop", project)
    (project / "pyproject.toml").write_text("", encoding="utf-8")
    monkeypatch.chdir(project)
    CliRunner().invoke(main, ["--no-cache", "--fix", "dj_shop"])
    spec = importlib.util.spec_from_file_location("dj_shop_fixed_checkout", project / "dj_shop" / "checkout.py")
    fixed = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fixed)
    from dj_shop import checkout

    (q1, _c1), (q5, _c5) = _checkout(checkout, monkeypatch, 1), _checkout(checkout, monkeypatch, 5)
    (f1, _), (f5, _) = _checkout(fixed, monkeypatch, 1), _checkout(fixed, monkeypatch, 5)
    assert q5 > q1 and f1 == f5 == 2  # the order, then its lines with their products


def test_proof_fix_makes_counts_and_tests_ask_the_database(tmp_path, monkeypatch):
    """``querylint --fix`` on a copy of the catalog turns ``len(qs)`` into ``qs.count()`` and
    ``if qs:`` into ``if qs.exists():``: each fixed view then asks with COUNT or EXISTS instead
    of fetching every row."""
    import importlib.util
    import shutil

    from click.testing import CliRunner

    from querylint.cli import main

    project = tmp_path / "catalog"
    shutil.copytree(CASES / "overfetch", project)
    (project / "pyproject.toml").write_text("", encoding="utf-8")
    monkeypatch.chdir(project)
    CliRunner().invoke(main, ["--no-cache", "--fix", "--select", "QL405,QL406", "."])
    spec = importlib.util.spec_from_file_location("dj_catalog.views_fixed", project / "dj_catalog" / "views.py")
    fixed = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fixed)
    import inspect

    changed = [n for n in OVERFETCH if ".count()" in inspect.getsource(getattr(fixed, n)) or ".exists()" in inspect.getsource(getattr(fixed, n))]
    assert len(changed) >= 3, changed
    for name in changed:
        queries = measure(catalog, lambda _d: getattr(fixed, name)(None), 5)
        assert queries and not any(_fetches_every_row(q["sql"]) for q in queries), (name, [q["sql"] for q in queries])


# ----------------------------------------------------------------------------- templates

def pages(n):
    from dj_pages.models import Customer, Item, Order, Product

    orders = []
    for i in range(n):
        order = Order.objects.create(customer=Customer.objects.create(name=f"c{i}"), note=f"n{i}")
        for j in range(2):
            Item.objects.create(order=order, product=Product.objects.create(name=f"p{i}{j}"), quantity=j + 1)
        orders.append(order)
    return orders


def _page(name, orders):
    """Render view ``name`` of dj_pages (a function or a class-based view) to HTML."""
    from django.test import RequestFactory

    from dj_pages import views

    request = RequestFactory().get("/")
    view = getattr(views, name)
    if isinstance(view, type):
        response = view.as_view()(request, pk=orders[0].pk)
    else:
        response = view(request)
    if hasattr(response, "render"):
        response.render()
    assert response.status_code == 200
    return response.content


TEMPLATE_VIEWS = [
    ("order_list", True), ("order_rows", True), ("order_report", True), ("customers_by_order", True),
    ("OrderListView", True), ("order_suppressed", True),
    ("order_list_fast", False), ("order_values", False),
]


@pytest.mark.parametrize("name,grows", TEMPLATE_VIEWS)
def test_proof_templates(name, grows):
    """Each view renders its template for 1 and for 5 orders: the pages querylint flags (a
    relation, a related manager or a querying method read per row in the template) run more
    queries with more orders; the prefetched page and the values() page run the same number."""
    check(pages, lambda orders: _page(name, orders), grows)


@pytest.mark.parametrize("name,grows", [("OrderDetailView", True), ("FastOrderDetailView", False)])
def test_proof_template_detail_views(name, grows):
    """A detail page loops over one order's items: reading ``item.product`` costs one query per
    item unless the view's queryset prefetches ``items__product``."""
    from dj_pages.models import Item, Order, Product

    def setup(n):
        order = pages(1)[0]
        for j in range(n):
            Item.objects.create(order=order, product=Product.objects.create(name=f"x{j}"))
        return [Order.objects.get(pk=order.pk)]

    check(setup, lambda orders: _page(name, orders), grows)


def test_proof_fix_flattens_the_template_pages(tmp_path, monkeypatch):
    """``querylint --fix`` on a copy of the pages adds what each template reads to its view's
    queryset (the fix goes in views.py, the finding is in the template): the fixed views render
    with the same number of queries for 1 and 5 orders."""
    import importlib.util
    import shutil

    from click.testing import CliRunner

    from querylint.cli import main

    project = tmp_path / "pages"
    shutil.copytree(CASES / "templates", project)
    (project / "pyproject.toml").write_text("", encoding="utf-8")
    monkeypatch.chdir(project)
    CliRunner().invoke(main, ["--no-cache", "--fix", "."])
    spec = importlib.util.spec_from_file_location("dj_pages.views_fixed", project / "dj_pages" / "views.py")
    fixed = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fixed)
    from dj_pages import views

    changed = [n for n in ("order_list", "order_rows", "customers_by_order") if getattr(fixed, n).__code__.co_consts != getattr(views, n).__code__.co_consts]
    assert changed == ["order_list", "order_rows", "customers_by_order"]
    for name in changed:
        check(pages, lambda orders: _page(name, orders), True)
        monkeypatch.setattr(views, name, getattr(fixed, name))
        check(pages, lambda orders: _page(name, orders), False)


# ----------------------------------------------------------------------------- helper_reads

def transitions(n):
    from dj_workflow.models import ContentType, Transition, TransitionModel

    for i in range(n):
        model = TransitionModel.objects.create(content_type=ContentType.objects.create(app_label=f"app{i}"))
        Transition.objects.create(name=f"t{i}", model=model)


class _Anyone:
    def has_perm(self, perm):
        return True


class _Request:
    GET = {"q": "t"}
    user = _Anyone()


@pytest.mark.parametrize(
    "name,grows",
    [("available", True), ("available_by_info", True), ("available_loaded", False), ("labels", False)],
)
def test_proof_helper_reads(name, grows):
    from dj_workflow import views

    check(transitions, lambda _: getattr(views, name)(_Request()), grows)


# ----------------------------------------------------------------------------- dict_lookups

def variants(n):
    from dj_lookups.models import Sequence, Variant

    return [Variant.objects.create(alt=Sequence.objects.create(seq=f"A{i}")).pk for i in range(n)]


@pytest.mark.parametrize(
    "name,grows",
    [("labels", True), ("sequences", True), ("sequences_or_none", True), ("labels_loaded", False),
     ("sequences_loaded", False), ("sequence_ids", False), ("first_sequence", False)],
)
def test_proof_dict_lookups(name, grows):
    from dj_lookups import views

    def run(ids):
        arg = {pk: 1 for pk in ids} if name.startswith("labels") else ids
        return getattr(views, name)(arg)

    check(variants, run, grows)
