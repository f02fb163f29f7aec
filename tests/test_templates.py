"""Templates: the reader, the walk and the run (the fixtures' findings are in tests/test_fixtures.py
and their query counts in tests/proof)."""
from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from querylint.cli import main
from querylint.templates.analyze import template_names
from querylint.templates.files import is_template
from querylint.templates.parse import Tag, Var, parse_template, refs
from querylint.testing import lint_files

from conftest import FIXTURES

MODELS = """
from django.db import models


class Customer(models.Model):
    name = models.CharField(max_length=50)


class Order(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE)
    note = models.CharField(max_length=50)


class Item(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
"""


def _shop(view: str, **templates: str) -> dict:
    files = {"shop/__init__.py": "", "shop/models.py": MODELS, "shop/views.py": view}
    files.update({f"shop/templates/shop/{name.replace('__', '.')}": text for name, text in templates.items()})
    return files


def _lines(result):
    return sorted((f.path, f.span.line, f.variant) for f in result.findings)


# ------------------------------------------------------------------------------------ the reader


def test_reader_nests_blocks_and_branches():
    t = parse_template("{% for o in orders %}{{ o.a }}{% empty %}none{% endfor %}{% widget x %}{% custom %}{{ y }}{% endcustom %}")
    loop, widget, custom = t.items
    assert isinstance(loop, Tag) and loop.name == "for" and [type(i) for i in loop.body] == [Var]
    assert [b.name for b in loop.branches] == ["empty"]
    assert widget.body is None  # no end tag: a statement
    assert custom.body is not None and custom.body[0].expr == "y"  # closed by its end tag: a block


def test_reader_hides_comments_raw_and_verbatim():
    t = parse_template("{% comment %}{{ a.b }}{% endcomment %}{% raw %}{{ c.d }}{% endraw %}{% verbatim %}{% for x in y %}{% endverbatim %}{{ e }}")
    assert [i.expr for i in t.items] == ["e"]


def test_reader_survives_unbalanced_tags():
    t = parse_template("{% for x in xs %}{{ x.a }}{% endif %}{% endfor %}{% endfor %}{% if %}")
    assert t.items[0].name == "for"


def test_reader_positions():
    t = parse_template("<p>\n  {{ order.customer.name }}</p>")
    (var,) = t.items
    (ref,) = refs(var.expr, var.line, var.column)
    assert (ref.line, ref.column, ref.parts) == (2, 5, ("order", "customer", "name"))


def test_expression_references():
    got = [(r.parts, r.called, r.filters) for r in refs('o.items.count() if o.customer is defined else x|default:o.owner|length', 1, 0)]
    assert got == [
        (("o", "items", "count"), True, ()),
        (("o", "customer"), False, ()),
        (("x",), False, ("default", "length")),
        (("o", "owner"), False, ("length",)),
    ]
    assert refs('"o.customer" ~ url_for("x", id=o.id)', 1, 0)[0].parts == ("url_for",)
    assert [r.parts for r in refs('url_for("x", id=o.id)', 1, 0)] == [("url_for",), ("o", "id")]


def test_deep_and_large_templates_are_bounded():
    deep = "{% if a %}" * 5000 + "{{ a.b }}" + "{% endif %}" * 5000
    parse_template(deep)  # no recursion: nesting past the cap reads as statements
    big = "{% for o in orders %}{{ o.customer.name }}{% endfor %}\n" * 20000
    assert len(parse_template(big).items) == 20000


def test_template_files_and_names():
    assert is_template("shop/templates/shop/orders.html") and is_template("app/jinja2/x.j2")
    assert not is_template("docs/index.html") and not is_template("shop/templates/shop/views.py")
    assert template_names("shop/templates/shop/orders.html", ("templates",)) == ["shop/orders.html"]


# ------------------------------------------------------------------------------------ the walk

VIEW = '''
from django.shortcuts import render
from shop.models import Order


def orders(request):
    return render(request, "shop/orders.html", {"orders": Order.objects.all()})
'''


def test_a_relation_read_per_row_is_reported_at_the_template_line():
    r = lint_files(_shop(VIEW, orders__html="{% for o in orders %}\n{{ o.customer.name }}\n{% endfor %}\n"))
    assert _lines(r) == [("shop/templates/shop/orders.html", 2, "QL112")]
    (f,) = r.findings
    assert f.fix == 'add .select_related("customer") to the queryset in shop/views.py:7'
    assert "rendered by orders (shop/views.py:7)" in f.notes[0]


def test_silent_when_loaded_or_not_a_relation():
    fast = VIEW.replace("Order.objects.all()", 'Order.objects.select_related("customer").prefetch_related("items")')
    page = "{% for o in orders %}{{ o.customer.name }}{{ o.items.count }}{% for i in o.items.all %}{{ i.pk }}{% endfor %}{% endfor %}"
    assert lint_files(_shop(fast, orders__html=page)).findings == []
    plain = "{% for o in orders %}{{ o.customer_id }} {{ o.note|upper }} {{ o.pk }}{% endfor %}{{ orders.0.customer.name }}"
    assert lint_files(_shop(VIEW, orders__html=plain)).findings == []


def test_silent_when_the_template_or_the_context_is_unknown():
    dynamic = VIEW.replace('"shop/orders.html"', 'f"shop/{request.GET[\'page\']}.html"')
    page = "{% for o in orders %}{{ o.customer.name }}{% endfor %}"
    assert lint_files(_shop(dynamic, orders__html=page)).findings == []
    other = VIEW.replace('"shop/orders.html"', '"shop/missing.html"')
    assert lint_files(_shop(other, orders__html=page)).findings == []
    untyped = VIEW.replace("Order.objects.all()", "request.user.orders()")
    assert lint_files(_shop(untyped, orders__html=page)).findings == []


def test_cached_fragment_and_suppression():
    page = "{% load cache %}{% cache 300 orders %}{% for o in orders %}{{ o.customer.name }}{% endfor %}{% endcache %}"
    assert lint_files(_shop(VIEW, orders__html=page)).findings == []
    page = "{% for o in orders %}\n{# querylint: ignore[QL112] -- ten rows at most #}\n{{ o.customer.name }}\n{% endfor %}"
    r = lint_files(_shop(VIEW, orders__html=page))
    assert r.findings == [] and r.suppressed[0].suppressed_reason == "ten rows at most"
    page = "{% for o in orders %}{{ o.customer.name }}{# noqa: QL105 #}{% endfor %}"
    assert lint_files(_shop(VIEW, orders__html=page)).findings == []


def test_include_only_and_with():
    page = '{% for o in orders %}{% include "shop/row.html" with order=o only %}{% include "shop/row.html" only %}{% endfor %}'
    r = lint_files(_shop(VIEW, orders__html=page, row__html="{{ order.customer.name }}"))
    assert _lines(r) == [("shop/templates/shop/row.html", 1, "QL112")]
    assert "shop/templates/shop/orders.html:1" in r.findings[0].message


def test_one_finding_per_relation_per_loop():
    page = "{% for o in orders %}{% if o.customer %}{{ o.customer.name }}{% endif %}{{ o.customer.id }}{% endfor %}"
    assert len(lint_files(_shop(VIEW, orders__html=page)).findings) == 1


def test_selection_and_config_apply():
    page = "{% for o in orders %}{{ o.customer.name }}{% endfor %}"
    assert lint_files(_shop(VIEW, orders__html=page), select=["QL106"]).findings == []
    assert len(lint_files(_shop(VIEW, orders__html=page), select=["QL112"]).findings) == 1
    assert lint_files(_shop(VIEW, orders__html=page), settings={"per-file-ignores": {"*.html": ["QL105"]}}).findings == []


# ------------------------------------------------------------------------------------ the run


def _project(tmp_path: Path) -> Path:
    project = tmp_path / "pages"
    shutil.copytree(FIXTURES / "django" / "templates", project)
    (project / "pyproject.toml").write_text("", encoding="utf-8")
    return project


def test_linting_one_template_uses_the_whole_project(tmp_path, monkeypatch):
    """The pre-commit case: only the changed template is named; its view is found in the index."""
    project = _project(tmp_path)
    monkeypatch.chdir(project)
    out = CliRunner().invoke(main, ["--no-cache", "dj_pages/templates/dj_pages/orders.html"])
    assert out.exit_code == 1, out.output
    assert "dj_pages/templates/dj_pages/orders.html:3:" in out.output and "Found 1 problem in 1 file" in out.output


def test_a_template_edit_is_seen_by_a_warm_run(tmp_path, monkeypatch):
    project = _project(tmp_path)
    monkeypatch.chdir(project)
    first = CliRunner().invoke(main, ["--format", "json", "."])
    again = CliRunner().invoke(main, ["--format", "json", "."])
    assert first.output == again.output
    page = project / "dj_pages/templates/dj_pages/orders.html"
    page.write_text(page.read_text().replace("{{ order.customer.name }}", "{{ order.customer_id }}"), encoding="utf-8")
    edited = CliRunner().invoke(main, ["--format", "json", "."])
    assert '"dj_pages/templates/dj_pages/orders.html"' in first.output and '"dj_pages/templates/dj_pages/orders.html"' not in edited.output
    # the row template's finding comes from the page that includes it: editing only that page re-lints the row
    including = project / "dj_pages/templates/dj_pages/orders_included.html"
    text = including.read_text()
    including.write_text(text.replace('{% include "dj_pages/_row.html" %}', ""), encoding="utf-8")
    assert "_row.html" not in CliRunner().invoke(main, ["--format", "json", "."]).output
    including.write_text(text, encoding="utf-8")
    (project / "dj_pages/views.py").write_text((project / "dj_pages/views.py").read_text().replace(
        'Order.objects.order_by("id")', 'Order.objects.select_related("customer").order_by("id")'), encoding="utf-8")
    fixed = CliRunner().invoke(main, ["--format", "json", "."])
    assert "_row.html" in edited.output and "_row.html" not in fixed.output


def test_html_outside_template_folders_is_not_read(tmp_path, monkeypatch):
    import json

    project = _project(tmp_path)
    monkeypatch.chdir(project)
    before = json.loads(CliRunner().invoke(main, ["--no-cache", "--format", "json", "."]).output)["summary"]["files"]
    (project / "docs").mkdir()
    (project / "docs" / "index.html").write_text("{% for x in %}", encoding="utf-8")
    (project / "dj_pages" / "templates" / "dj_pages" / "new.html").write_text("{{ x }}", encoding="utf-8")
    after = json.loads(CliRunner().invoke(main, ["--no-cache", "--format", "json", "."]).output)["summary"]["files"]
    assert after == before + 1  # the new template, not the docs page


def test_a_walk_that_crashes_is_reported_and_the_run_goes_on(monkeypatch):
    from querylint.templates import analyze

    real = analyze._for

    def broken(w, t, relpath, scope, blocks):
        if relpath.endswith("broken.html"):
            raise ValueError("boom")
        return real(w, t, relpath, scope, blocks)

    monkeypatch.setattr(analyze, "_for", broken)
    view = VIEW + '''

def broken(request):
    return render(request, "shop/broken.html", {"orders": Order.objects.all()})
'''
    page = "{% for o in orders %}{{ o.customer.name }}{% endfor %}"
    r = lint_files(_shop(view, orders__html=page, broken__html=page))
    assert _lines(r) == [("shop/templates/shop/orders.html", 1, "QL112")]
    (err,) = r.errors
    assert err.kind == "internal" and err.path == "shop/templates/shop/broken.html" and "ValueError: boom" in err.message
    assert r.exit_code == 2


def test_blocktrans_bindings():
    page = "{% for o in orders %}{% blocktrans with name=o.customer.name %}{{ name }}{% endblocktrans %}{% endfor %}"
    assert _lines(lint_files(_shop(VIEW, orders__html=page))) == [("shop/templates/shop/orders.html", 1, "QL112")]
    page = "{% for o in orders %}{% blocktranslate count n=o.items.count %}one{% plural %}{{ n }}{% endblocktranslate %}{% endfor %}"
    assert _lines(lint_files(_shop(VIEW, orders__html=page))) == [("shop/templates/shop/orders.html", 1, "QL112")]


def test_a_row_of_a_relation_reads_its_owner_without_a_query():
    """Django sets ``item.order`` on the rows of ``order.items.all`` (SQLAlchemy: the identity
    map): reading it back, or a member that only reads it, runs no query."""
    models = MODELS + '''

    def label(self):
        return self.order.note
'''
    files = _shop(VIEW.replace('"shop/orders.html"', '"shop/order.html"').replace("Order.objects.all()", "Order.objects.first()").replace('"orders"', '"order"'),
                  order__html="{% for item in order.items.all %}{{ item.order.note }}{{ item.label }}{{ item.order.customer.name }}{% endfor %}")
    files["shop/models.py"] = models
    assert lint_files(files).findings == []


def test_one_finding_per_reference():
    page = "{% for o in orders %}{{ o.customer.item_set.count }}{% endfor %}"
    models = MODELS.replace("class Item(models.Model):", "class Item(models.Model):\n    owner = models.ForeignKey(Customer, on_delete=models.CASCADE)")
    files = _shop(VIEW, orders__html=page)
    files["shop/models.py"] = models
    r = lint_files(files)
    assert [f.message.split(" ")[0] for f in r.findings] == ["`o.customer`"]


def test_the_language_server_lints_a_template_buffer(tmp_path, monkeypatch):
    """An editor's unsaved template (the buffer overlays the file) is linted with the project's views."""
    from querylint.lsp import _State
    from querylint.run.source import OVERLAY

    project = _project(tmp_path)
    monkeypatch.chdir(project)
    page = (project / "dj_pages/templates/dj_pages/orders_fast.html").resolve()
    state = _State()
    assert state.lint(page.as_uri(), page) == []
    monkeypatch.setitem(OVERLAY, str(page), page.read_text().replace("{{ item.quantity }}", "{{ item.quantity }}{{ item.product.item_set.count }}"))
    [f] = state.lint(page.as_uri(), page)
    assert (f.span.line, f.rule, f.variant) == (4, "QL105", "QL112")


FASTAPI = {
 "app/__init__.py": "",
 "app/models.py": '''
from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Customer(Base):
    __tablename__ = "customer"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]


class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    customer: Mapped["Customer"] = relationship()
''',
 "app/main.py": '''
from fastapi import Depends, FastAPI, Request
from fastapi.templating import Jinja2Templates
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.models import Order

app = FastAPI()
templates = Jinja2Templates(directory="app/templates")


async def get_session():
    yield None


@app.get("/orders")
async def orders(request: Request, session: AsyncSession = Depends(get_session)):
    rows = (await session.execute(select(Order))).scalars().all()
    return templates.TemplateResponse(request, "orders.html", {"orders": rows})


@app.get("/orders-fast")
async def orders_fast(request: Request, session: AsyncSession = Depends(get_session)):
    rows = (await session.scalars(select(Order).options(selectinload(Order.customer)))).all()
    return templates.TemplateResponse("orders_fast.html", {"request": request, "orders": rows})
''',
 "app/templates/orders.html": "{% for o in orders %}{{ o.customer.name }}{% endfor %}",
 "app/templates/orders_fast.html": "{% for o in orders %}{{ o.customer.name }}{% endfor %}",
}


def test_starlette_template_response_with_sqlalchemy_2():
    """FastAPI's ``TemplateResponse`` (both signatures) with rows of an async 2.x session."""
    r = lint_files(FASTAPI)
    assert _lines(r) == [("app/templates/orders.html", 1, "QL122")]
    assert r.findings[0].fix == "add .options(joinedload(Order.customer)) to the query in app/main.py:20"


def test_diff_and_baseline_cover_template_findings(tmp_path, monkeypatch):
    import subprocess

    project = _project(tmp_path)
    monkeypatch.chdir(project)
    baseline = tmp_path / "baseline.json"
    out = CliRunner().invoke(main, ["--no-cache", "--write-baseline", str(baseline), "."])
    assert out.exit_code == 0, out.output
    assert CliRunner().invoke(main, ["--no-cache", "--baseline", str(baseline), "."]).exit_code == 0

    def git(*args):
        subprocess.run(["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args], cwd=project, check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    git("add", ".")
    git("commit", "-q", "-m", "pages")
    assert CliRunner().invoke(main, ["--no-cache", "--diff", "main", "."]).exit_code == 0  # nothing changed
    page = project / "dj_pages/templates/dj_pages/orders_fast.html"
    page.write_text(page.read_text().replace("{{ item.quantity }}", "{{ item.quantity }}{{ item.product.item_set.count }}"), encoding="utf-8")
    out = CliRunner().invoke(main, ["--no-cache", "--diff", "main", "."])
    assert out.exit_code == 1 and "orders_fast.html:4:" in out.output and "Found 1 problem" in out.output, out.output


def test_jinja_macros_imported_from_another_template():
    files = dict(FASTAPI)
    files["app/templates/macros.html"] = "{% macro row(o, label='') %}<td>{{ o.customer.name }}</td>{% endmacro %}"
    files["app/templates/orders.html"] = (
        '{% import "macros.html" as m %}{% from "macros.html" import row as line %}\n'
        "{% for o in orders %}{{ m.row(o) }}{% endfor %}\n"
        "{% for o in orders %}{{ line(o, label='x') }}{% endfor %}\n"
        "{% for o in orders %}{% call m.row(o) %}x{% endcall %}{% endfor %}\n"
    )
    r = lint_files(files)
    assert _lines(r) == [("app/templates/macros.html", 1, "QL122")]
    files["app/templates/orders.html"] = '{% import "macros.html" as m %}{% for o in orders %}{{ o.id }}{% endfor %}'
    assert lint_files(files).findings == []  # imported, never called per row


def test_one_finding_per_place_when_several_views_render_the_template():
    view = VIEW + '''

def recent(request):
    return render(request, "shop/orders.html", {"orders": Order.objects.order_by("-id")[:5]})
'''
    r = lint_files(_shop(view, orders__html="{% for o in orders %}{{ o.customer.name }}{% endfor %}"))
    [f] = r.findings
    assert f.notes[0].startswith("rendered by orders") and f.notes[1].startswith("also rendered by recent")


def test_the_fix_of_a_template_finding_edits_the_view(tmp_path, monkeypatch):
    import json

    r = lint_files(_shop(VIEW, orders__html="{% for o in orders %}{{ o.customer.name }}{% endfor %}"))
    [f] = r.findings
    [edit] = f.edits
    assert (edit.path, edit.line, edit.text) == ("shop/views.py", 7, '.select_related("customer")')
    project = _project(tmp_path)
    monkeypatch.chdir(project)
    doc = json.loads(CliRunner().invoke(main, ["--no-cache", "--format", "json", "dj_pages/templates/dj_pages/orders.html"]).output)
    [change] = doc["findings"][0]["edits"]["changes"]
    assert change["path"] == "dj_pages/views.py"
    fixed = CliRunner().invoke(main, ["--no-cache", "--fix", "dj_pages/templates/dj_pages/orders.html"])
    assert fixed.exit_code == 0, fixed.output
    assert 'Order.objects.select_related("customer").all()' in (project / "dj_pages/views.py").read_text()


def test_includes_that_fan_out_stop_at_a_bound():
    """Ten levels of templates each including the next ten times would be 10^10 walks: the walk
    stops at its bound, says so, and keeps what it found."""
    pages = {f"level{i}__html": ('{% include "shop/level' + str(i + 1) + '.html" %}') * 10 for i in range(10)}
    pages["level10__html"] = "{{ x }}"
    view = VIEW.replace('"shop/orders.html"', '"shop/level0.html"')
    files = _shop(view, orders__html="", **pages)
    r = lint_files(files)
    [err] = r.errors
    assert err.kind == "limit" and err.path == "shop/templates/shop/level0.html" and "stopped after" in err.message


def test_extend_template_folders(tmp_path, monkeypatch):
    project = _project(tmp_path)
    (project / "dj_pages" / "templates").rename(project / "dj_pages" / "tpl")
    monkeypatch.chdir(project)
    assert "orders.html" not in CliRunner().invoke(main, ["--no-cache", "."]).output
    (project / "pyproject.toml").write_text('[tool.querylint]\nextend-template-folders = ["tpl"]\n', encoding="utf-8")
    out = CliRunner().invoke(main, ["--no-cache", "."]).output
    assert "dj_pages/tpl/dj_pages/orders.html:3:28: QL105" in out
    (project / "pyproject.toml").write_text('[tool.querylint]\nextend-template-folders = ["a/b"]\n', encoding="utf-8")
    bad = CliRunner().invoke(main, ["--no-cache", "."])
    assert bad.exit_code == 2 and "extend-template-folders" in bad.output


def test_a_many_to_one_whose_rows_the_view_loaded_is_an_identity_map_hit():
    """``customers=...all()`` beside ``orders``: SQLAlchemy answers ``o.customer`` from the
    session (no SQL); Django has no identity map and loads it anyway."""
    files = dict(FASTAPI)
    files["app/main.py"] = files["app/main.py"].replace(
        '{"orders": rows})', '{"orders": rows, "customers": (await session.scalars(select(Customer))).all()})').replace(
        "from app.models import Order", "from app.models import Customer, Order")
    assert lint_files(files).findings == []
    view = VIEW.replace('{"orders": Order.objects.all()}', '{"orders": Order.objects.all(), "customers": Customer.objects.all()}').replace(
        "from shop.models import Order", "from shop.models import Customer, Order")
    assert len(lint_files(_shop(view, orders__html="{% for o in orders %}{{ o.customer.name }}{% endfor %}")).findings) == 1


def test_the_fix_of_a_sqlalchemy_view_adds_the_option_and_its_import():
    [f] = lint_files(FASTAPI).findings
    assert [(e.path, e.line, e.text) for e in f.edits] == [
        ("app/main.py", 20, ".options(joinedload(Order.customer))"),
        ("app/main.py", 9, "from sqlalchemy.orm import joinedload\n"),
    ]


def test_counting_each_rows_children_in_a_template_is_advised_an_annotation_first():
    # wger's trophies page: ``{{ trophy.user_trophies.count }}`` per trophy; an aggregate counts
    # them in one query, a prefetch loads every child to count it
    counted = "{% for o in orders %}\n{{ o.items.count }}\n{% endfor %}\n"
    (f,) = lint_files(_shop(VIEW, orders__html=counted)).findings
    assert f.fix == 'annotate it on the queryset in shop/views.py:7 (`.annotate(n=Count("items"))`, then `{{ o.n }}`), or prefetch it there (`.prefetch_related("items")`)'
    listed = "{% for o in orders %}\n{% for i in o.items.all %}{{ i.pk }}{% endfor %}\n{% endfor %}\n"
    (f,) = lint_files(_shop(VIEW, orders__html=listed)).findings
    assert f.fix == 'add .prefetch_related("items") to the queryset in shop/views.py:7'
