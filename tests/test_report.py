"""The query-cost report (``--report``) and its pull-request delta (``--report --diff REF``), on
the shop fixtures whose checkout is O(1) before a change and O(N) with a connection per line
after it (``tests/proof`` runs both against SQLite and counts)."""
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from querylint.cli import main

ROOT = Path(__file__).resolve().parent.parent
SHOPS = {
    "django": (ROOT / "fixtures" / "django" / "report_shop", "dj_shop", "checkout/<int:order_id>/complete/"),
    "flask": (ROOT / "fixtures" / "sqlalchemy" / "report_shop", "fsa_shop", "POST /checkout/<int:order_id>/complete"),
}


def _invoke(args, cwd, monkeypatch):
    monkeypatch.chdir(cwd)
    result = CliRunner().invoke(main, args)
    return result.exit_code, result.stdout


def _project(tmp_path, shop):
    folder, package, _route = SHOPS[shop]
    dest = tmp_path / "shop"
    shutil.copytree(folder, dest)
    (dest / "pyproject.toml").write_text("", encoding="utf-8")
    return dest, package


@pytest.mark.parametrize("shop", sorted(SHOPS))
def test_the_report_adds_up_each_endpoints_sites(tmp_path, monkeypatch, shop):
    project, package = _project(tmp_path, shop)
    code, out = _invoke(["--report", "--format", "json", "."], project, monkeypatch)
    assert code == 0
    doc = json.loads(out)
    assert doc["summary"]["endpoints"] == 2
    after, before = doc["endpoints"]  # worst first
    assert (after["path"], after["name"], after["cost"], after["route"]) == (f"{package}/checkout.py", "complete_checkout", "O(N)", SHOPS[shop][2])
    assert sorted(s["rule"] for s in after["queries"]["per_item"]) == ["QL102", "QL105"]
    assert all(s["loop_line"] is not None and s["via"] == ["complete_checkout"] for s in after["queries"]["per_item"])
    [conn] = after["connections"]["per_item"]
    assert (conn["rule"], conn["via"]) == ("QL202", ["complete_checkout", "reserve_stock"])
    assert (before["path"], before["cost"], before["connections"]) == (f"{package}/checkout_before.py", "O(1)", {})
    assert before["queries"]["fixed"] >= 1 and before["queries"]["per_item"] == []


def _git(cwd, *args):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def _history(tmp_path, shop):
    """A repository whose first commit has the O(1) checkout and whose working tree has the O(N) one."""
    project, package = _project(tmp_path, shop)
    checkout = project / package / "checkout.py"
    after = checkout.read_text(encoding="utf-8")
    (project / package / "checkout_before.py").replace(checkout)
    _git(project, "init", "-q", "-b", "main")
    _git(project, "-c", "user.email=t@example.com", "-c", "user.name=t", "add", ".")
    _git(project, "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-q", "-m", "checkout in one query")
    checkout.write_text(after, encoding="utf-8")
    return project, package


@pytest.mark.parametrize("shop", sorted(SHOPS))
def test_the_delta_shows_what_the_change_did_to_the_endpoint(tmp_path, monkeypatch, shop):
    project, package = _history(tmp_path, shop)
    status = subprocess.run(["git", "status", "--porcelain"], cwd=project, capture_output=True, text=True).stdout

    code, out = _invoke(["--report", "--diff", "main", "--format", "json", "."], project, monkeypatch)
    assert code == 0
    doc = json.loads(out)
    [change] = doc["changes"]
    assert (change["endpoint"], change["route"], change["regression"]) == ("complete_checkout", SHOPS[shop][2], True)
    assert (change["before"]["cost"], change["after"]["cost"]) == ("O(1)", "O(N)")
    assert (change["before"]["connections_per_item"], change["after"]["connections_per_item"]) == (0, 1)
    assert sorted(s["rule"] for s in change["why"]) == ["QL102", "QL105", "QL202"]
    # the base was read from git objects: the working tree is as it was
    assert subprocess.run(["git", "status", "--porcelain"], cwd=project, capture_output=True, text=True).stdout == status
    assert "reserve_stock" in (project / package / "checkout.py").read_text(encoding="utf-8")

    code, md = _invoke(["--report", "--diff", "main", "--format", "markdown", "."], project, monkeypatch)
    lines = md.splitlines()
    assert lines[2] == "### 1 regression"
    assert lines[4].startswith(f"- `{SHOPS[shop][2]}  complete_checkout`: O(1) -> O(N) queries (+2 per item, via `complete_checkout`")
    assert "connections per item 0 -> 1 (`QL202` at" in lines[4]

    code, _ = _invoke(["--report", "--diff", "main", "--fail-on-regression", "."], project, monkeypatch)
    assert code == 1
    _git(project, "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-q", "-am", "reserve stock per line")
    code, out = _invoke(["--report", "--diff", "HEAD", "--fail-on-regression", "."], project, monkeypatch)
    assert (code, out.startswith("No endpoint's query cost or connections changed")) == (0, True)


def test_the_text_report_lists_the_worst_first_with_its_sites(tmp_path, monkeypatch):
    project, package = _project(tmp_path, "django")
    code, out = _invoke(["--report", "."], project, monkeypatch)
    lines = out.splitlines()
    assert lines[0].split() == ["cost", "fixed", "connections", "kind", "endpoint", "where"]
    assert lines[1].startswith("O(N)") and "1 per item" in lines[1] and lines[1].endswith(f"{package}/checkout.py:22")
    assert any(line.strip().startswith(f"conn    {package}/checkout.py:13 QL202") for line in lines)
    assert lines[-1] == "2 endpoints: 1 O(1), 1 O(N); 1 open a connection per item."


def test_a_folder_named_report_still_lints_and_markdown_is_for_the_report(tmp_path, monkeypatch):
    (tmp_path / "report").mkdir()
    (tmp_path / "report" / "x.py").write_text("def f(cur, ids):\n    for i in ids:\n        cur.execute('SELECT 1 FROM t WHERE id = %s', (i,))\n", encoding="utf-8")
    code, out = _invoke(["--no-cache", "report"], tmp_path, monkeypatch)
    assert code == 1 and "QL101" in out
    code, _ = _invoke(["--format", "markdown", "report"], tmp_path, monkeypatch)
    assert code == 2


def test_a_route_over_its_budget_fails_the_run(tmp_path, monkeypatch):
    project, _package = _project(tmp_path, "flask")
    (project / "pyproject.toml").write_text(
        '[tool.querylint.report]\nbudgets = { "POST /checkout/<int:order_id>/complete" = "O(1)", "nothing" = "O(N)" }\n', encoding="utf-8"
    )
    code, out = _invoke(["--report", "--format", "json", "."], project, monkeypatch)
    doc = json.loads(out)
    over = [(e["path"], e["cost"], e["budget"]) for e in doc["endpoints"] if e["over_budget"]]
    assert (code, over, doc["summary"]["over_budget"]) == (1, [("fsa_shop/checkout.py", "O(N)", "O(1)")], 1)
    (project / "pyproject.toml").write_text('[tool.querylint.report]\nbudgets = { "POST /checkout/<int:order_id>/complete" = "O(N)" }\n', encoding="utf-8")
    code, out = _invoke(["--report", "."], project, monkeypatch)
    assert code == 0 and "over budget" not in out
    (project / "pyproject.toml").write_text('[tool.querylint.report]\nbudgets = { "x" = "fast" }\n', encoding="utf-8")
    code, _ = _invoke(["--report", "."], project, monkeypatch)
    assert code == 2


def test_every_concrete_class_based_view_appears_routed_or_not(tmp_path, monkeypatch):
    project, _package = _project(tmp_path, "django")
    (project / "dj_shop" / "lists.py").write_text(
        "from django.views.generic import ListView\n"
        "from rest_framework import viewsets\n"
        "from dj_shop.models import Line, Order\n\n\n"
        "class BaseList(ListView):\n    paginate_by = 20\n\n\n"
        "class OrderList(BaseList):  # wired by a registry, not urls.py\n    model = Order\n\n\n"
        "class LineViewSet(viewsets.ModelViewSet):\n    queryset = Line.objects.all()\n\n\n"
        "class OwnHandlers(ListView):\n    def get(self, request):\n        return None\n",
        encoding="utf-8",
    )
    (project / "dj_shop" / "api_urls.py").write_text(
        "from rest_framework.routers import DefaultRouter\nfrom dj_shop.lists import LineViewSet\n\n"
        "router = DefaultRouter()\nrouter.register('lines', LineViewSet)\nurlpatterns = router.urls\n",
        encoding="utf-8",
    )
    code, out = _invoke(["--report", "--format", "json", "."], project, monkeypatch)
    names = {(e["name"], e["route"]) for e in json.loads(out)["endpoints"]}
    assert {("OrderList", None), ("LineViewSet", "lines"), ("OwnHandlers.get", None)} <= names
    assert not any(n in ("BaseList", "OwnHandlers") for n, _r in names)


def test_django_routes_carry_the_prefix_of_the_include_that_mounts_them(tmp_path, monkeypatch):
    project, _package = _project(tmp_path, "django")
    (project / "site_urls.py").write_text(
        'from django.urls import include, path\n\nurlpatterns = [path("shop/", include("dj_shop.urls"))]\n', encoding="utf-8"
    )
    code, out = _invoke(["--report", "--format", "json", "."], project, monkeypatch)
    routes = {e["path"]: e["route"] for e in json.loads(out)["endpoints"]}
    assert routes["dj_shop/checkout.py"] == "shop/checkout/<int:order_id>/complete/"


def test_starlette_routes_name_their_endpoints(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")
    (tmp_path / "app.py").write_text(
        "import sqlite3\nfrom starlette.applications import Starlette\nfrom starlette.routing import Route\n\n\n"
        "async def list_users(req):\n    conn = sqlite3.connect('app.db')\n    return [conn.execute('SELECT 1 FROM t WHERE id = ?', (i,)) for i in req.query_params]\n\n\n"
        "app = Starlette(routes=[Route('/users', list_users, methods=['GET'])])\n",
        encoding="utf-8",
    )
    code, out = _invoke(["--report", "--format", "json", "."], tmp_path, monkeypatch)
    [ep] = json.loads(out)["endpoints"]
    assert (ep["name"], ep["route"], ep["cost"]) == ("list_users", "GET /users", "O(N)")


def test_a_graphql_mutation_whose_base_resolves_it_is_an_endpoint(tmp_path, monkeypatch):
    project, _package = _project(tmp_path, "django")
    (project / "dj_shop" / "mutations.py").write_text(
        "import graphene\nfrom dj_shop.models import Order\n\n\n"
        "class BaseMutation(graphene.Mutation):\n    @classmethod\n    def mutate(cls, root, info, **data):\n        return cls.perform_mutation(root, info, **data)\n\n\n"
        "class CompleteCheckout(BaseMutation):\n    @classmethod\n    def perform_mutation(cls, root, info, order_id):\n"
        "        order = Order.objects.get(pk=order_id)\n        return [line.product.name for line in order.lines.all()]\n",
        encoding="utf-8",
    )
    code, out = _invoke(["--report", "--format", "json", "."], project, monkeypatch)
    [ep] = [e for e in json.loads(out)["endpoints"] if e["name"] == "CompleteCheckout"]
    assert (ep["kind"], ep["cost"], [s["rule"] for s in ep["queries"]["per_item"]]) == ("graphql", "O(N)", ["QL105"])


def test_template_queries_count_for_the_view_and_an_unchanged_template_is_no_regression(tmp_path, monkeypatch):
    project = tmp_path / "pages"
    shutil.copytree(ROOT / "fixtures" / "django" / "templates", project)
    (project / "pyproject.toml").write_text("", encoding="utf-8")
    code, out = _invoke(["--report", "--format", "json", "."], project, monkeypatch)
    endpoints = {e["name"]: e for e in json.loads(out)["endpoints"]}
    [site] = endpoints["order_list"]["queries"]["per_item"]
    assert (site["path"], site["line"], site["cost"]) == ("dj_pages/templates/dj_pages/orders.html", 3, "O(N)")
    assert endpoints["order_list_fast"]["cost"] == "O(1)"

    _git(project, "init", "-q", "-b", "main")
    _git(project, "-c", "user.email=t@example.com", "-c", "user.name=t", "add", ".")
    _git(project, "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-q", "-m", "pages")
    code, out = _invoke(["--report", "--diff", "main", "--fail-on-regression", "."], project, monkeypatch)
    assert (code, out.startswith("No endpoint's query cost or connections changed")) == (0, True), out
    fast = project / "dj_pages" / "templates" / "dj_pages" / "orders_fast.html"
    fast.write_text(fast.read_text().replace("{{ item.quantity }}", "{{ item.quantity }} {{ item.product.item_set.count }}"), encoding="utf-8")
    code, out = _invoke(["--report", "--diff", "main", "--format", "json", "."], project, monkeypatch)
    [change] = json.loads(out)["changes"]
    assert (change["endpoint"], change["regression"], change["before"]["cost"], change["after"]["cost"]) == ("order_list_fast", True, "O(1)", "O(N)")
