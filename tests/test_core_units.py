"""Pure parts of the core: config validation, suppression comments, facts, the index."""
import libcst as cst
import pytest

from querylint.run.config import Config, ConfigError, config_from_dict, path_matches
from querylint.project.facts import collect_facts, module_name
from querylint.project.index import ProjectIndex
from querylint.plugins import load_registry, select_rules
from querylint.rule import dedent
from querylint.suppressions import parse_suppressions


# ---------------------------------------------------------------- config

def test_config_defaults_and_values():
    c = config_from_dict({"select": ["ql1"], "ignore": ["QL102"], "sql-dialect": "Postgres", "per-file-ignores": {"scripts/*.py": ["QL1"]}})
    assert c.select == ("QL1",)
    assert c.ignore == ("QL102",)
    assert c.sql_dialect == "postgres"
    assert c.ignores_for("scripts/run.py") == ("QL1",)
    assert c.ignores_for("app/run.py") == ()


def test_unknown_key_names_file_key_and_suggestion():
    with pytest.raises(ConfigError) as exc:
        config_from_dict({"selct": ["QL1"]}, source="pyproject.toml")
    msg = str(exc.value)
    assert "pyproject.toml" in msg and "selct" in msg and "'select'" in msg


def test_wrong_type_names_expected_form_and_value():
    with pytest.raises(ConfigError) as exc:
        config_from_dict({"select": "QL101"}, source="pyproject.toml")
    msg = str(exc.value)
    assert "select" in msg and "list of rule codes" in msg and "'QL101'" in msg


@pytest.mark.parametrize(
    "table, key",
    [
        ({"select": ["XX1"]}, "select"),
        ({"preview": "yes"}, "preview"),
        ({"sql-dialect": "cobol"}, "sql-dialect"),
        ({"exclude": ["a[b"]}, "exclude"),
        ({"per-file-ignores": {"x.py": "QL1"}}, "per-file-ignores"),
        ({"request-decorators": ["not a name"]}, "request-decorators"),
    ],
)
def test_bad_values_are_config_errors(table, key):
    with pytest.raises(ConfigError) as exc:
        config_from_dict(table, source="f.toml")
    assert key in str(exc.value) and "f.toml" in str(exc.value)


def test_path_globs():
    assert path_matches("app/migrations/0001_initial.py", "*/migrations/*.py")
    assert path_matches("migrations/0001.py", "*/migrations/*.py")
    assert path_matches("a/node_modules/x.py", "node_modules")
    assert not path_matches("app/views.py", "*/migrations/*.py")
    c = Config()
    assert c.is_migration("alembic/versions/abc_add.py")
    assert c.is_test("app/tests/test_views.py") and c.is_test("test_x.py") and not c.is_test("app/views.py")


# ---------------------------------------------------------------- suppressions

def test_suppression_forms():
    s = parse_suppressions(
        dedent(
            """
            a()  # querylint: ignore[QL101, QL2] -- three shards at most
            b()  # noqa: QL102
            c()  # noqa
            d()  # querylint: ignore
            e = "# querylint: ignore"
            """
        )
    )
    [d1] = s.by_line[1]
    assert d1.codes == ("QL101", "QL2") and d1.reason == "three shards at most"
    assert d1.covers(("QL201",)) and not d1.covers(("QL102",))
    assert d1.covers(("QL105", "QL201")), "a finding's alias codes are matched too"
    assert s.by_line[2][0].codes == ("QL102",)
    assert s.by_line[3][0].codes is None
    assert s.by_line[4][0].codes is None
    assert 5 not in s.by_line  # inside a string, not a comment


def test_ignore_file_directive():
    s = parse_suppressions("# querylint: ignore-file[QL3]\nx = 1\n")
    assert s.file_ignores(("QL301",)) and not s.file_ignores(("QL101",))
    assert s.file_ignores(("QL105", "QL301")), "a finding's alias codes are matched too"


# ---------------------------------------------------------------- facts and index

def test_module_names():
    assert module_name("shop/models.py") == "shop.models"
    assert module_name("shop/__init__.py") == "shop"
    assert module_name("manage.py") == "manage"


def _facts(path, source):
    return collect_facts(cst.parse_module(dedent(source)), path)


def test_facts_and_index_resolve_classes_methods_and_calls():
    models = _facts(
        "shop/models.py",
        """
        from django.db import models

        class Base(models.Model):
            class Meta:
                abstract = True

        class Book(Base):
            author = models.ForeignKey("shop.Author", related_name="books", on_delete=models.CASCADE)
            title = models.CharField(max_length=10)

            def total(self):
                return self.helper()

            def helper(self):
                return 1
        """,
    )
    views = _facts(
        "shop/views.py",
        """
        from .models import Book
        from . import models as m

        def view(request):
            return Book.total(None), m.Book
        """,
    )
    index = ProjectIndex([models, views])
    book = index.classes["shop.models.Book"]
    assert book.bases == ("shop.models.Base",)
    assert index.ancestors(book) == ["shop.models.Base", "django.db.models.Model"]
    fk = book.attr("author").call
    assert fk.func == "django.db.models.ForeignKey"
    assert fk.args[0] == ("str", "shop.Author") and fk.kwarg("related_name") == ("str", "books")
    assert index.classes["shop.models.Base"].meta_value("abstract") == ("lit", True)
    assert index.resolve_class("Book") is book and index.resolve_class("shop.Book") is book
    assert index.callees("shop.models.Book.total") == ("shop.models.Book.helper",)
    assert index.callees("shop.views.view") == ("shop.models.Book.total",)


def test_name_fallbacks_are_memoised_and_forgotten_when_the_index_grows():
    """``resolve_class`` / ``resolve_function`` remember their by-name fallbacks (a monorepo has a
    ``User`` per service); a file added later must still count."""
    a = _facts("svc_a/models.py", "class User:\n    pass\n\ndef load():\n    pass\n")
    index = ProjectIndex([a])
    assert index.resolve_class("User").qualname == "svc_a.models.User"
    assert index.resolve_function("models.load").qualname == "svc_a.models.load"
    index.add(_facts("svc_b/models.py", "class User:\n    pass\n\ndef load():\n    pass\n"))
    assert index.resolve_class("User") is None  # two now: no guess
    assert index.resolve_class("svc_b.models.User").qualname == "svc_b.models.User"
    assert index.resolve_function("models.load") is None
    assert index.resolve_function("svc_b.models.load").qualname == "svc_b.models.load"


def test_query_paths_follow_the_call_graph():
    f = _facts(
        "app.py",
        """
        def a(): return b()
        def b(): return c()
        def c(): return 1
        def d(): return 2
        """,
    )
    index = ProjectIndex([f])
    index.set_direct_queries({"app.c": ["cur.execute(...)"]})
    assert index.query_path("app.a") == ("app.a", "app.b", "app.c", "cur.execute(...)")
    assert index.query_path("app.d") is None


def test_selection_prefixes_longest_wins():
    reg = load_registry()
    codes = lambda sel, ext=(), ign=(): [r.code for r in select_rules(reg, sel, ext, ign)]
    assert "QL101" in codes(None)
    assert codes(("QL101",)) == ["QL101"]
    assert "QL101" not in codes(("QL1",), (), ("QL101",))
    assert "QL101" in codes(("QL101",), (), ("QL1",))  # the more specific select wins


# ---------------------------------------------------------------- codes and aliases

class _Merged:
    """A rule that replaced three per-ORM codes (the shape of the one-rule-per-pattern rules)."""

    code, aliases, default_enabled, preview = "QL105", ("QL112", "QL122", "QL132"), True, False


def test_selection_honours_a_findings_variant_alias():
    from querylint.codes import Selection

    django, sqla = ("QL105", "QL112"), ("QL105", "QL122")
    sel = Selection(select=("QL1",), ignore=("QL122",))
    assert sel.enabled(_Merged, django) and not sel.enabled(_Merged, sqla)
    assert sel.runs(_Merged)
    only_sqla = Selection(select=("QL12",))
    assert only_sqla.enabled(_Merged, sqla) and not only_sqla.enabled(_Merged, django)
    assert only_sqla.runs(_Merged)
    assert not Selection(select=("QL3",)).runs(_Merged)
    assert not Selection(ignore=("QL105",)).runs(_Merged), "ignoring the new code ignores every variant"
    assert Selection(select=("QL3",), extend_select=("QL132",)).enabled(_Merged, ("QL105", "QL132"))


def test_finding_codes_of_a_renamed_and_of_a_merged_rule():
    from querylint.codes import finding_codes

    class Renamed:
        code, aliases = "QL406", ("QL402",)

    assert finding_codes(Renamed, None) == ("QL406", "QL402")
    assert finding_codes(_Merged, "QL122") == ("QL105", "QL122")
    assert finding_codes(_Merged, None) == ("QL105",)
    with pytest.raises(ValueError):
        finding_codes(_Merged, "QL999")


def test_registry_rejects_an_alias_that_is_another_rules_code():
    import types as _types

    from querylint.plugins import Registry, RuleConflict
    from querylint.rule import Rule

    doc = "## What it does\nx\n## Why is this bad?\nx\n## Example\nx\n## Use instead\nx\n"

    class A(Rule):
        __doc__ = doc
        code, name = "QL190", "a-rule"

    class B(Rule):
        __doc__ = doc
        code, name, aliases = "QL191", "b-rule", ("QL190",)

    reg = Registry()
    reg.add_module(_types.SimpleNamespace(RULES=(B,)), "b")
    with pytest.raises(RuleConflict, match="QL190"):
        reg.add_module(_types.SimpleNamespace(RULES=(A,)), "a")
    assert reg.find("QL190") is B and reg.find("b-rule") is B and reg.find("ql191") is B


# --------------------------------------------------------------------------- per-request escalation

ESCALATION_PLUGIN = '''
import libcst as cst
from querylint.rule import Rule

_DOC = """
## What it does
Flags `touch()`.

## Why is this bad?
Test rule.

## Example
```python
touch()
```

## Use instead
```python
pass
```
"""


class _Touch(Rule):
    def visit_Call(self, node):
        if isinstance(node.func, cst.Name) and node.func.value == "touch":
            self.report(node, "touch")


class PlainN1Code(_Touch):
    __doc__ = _DOC
    code = "QL190"
    name = "plain-n1-code"


class EscalatingOtherCode(_Touch):
    __doc__ = _DOC
    code = "QL990"
    name = "escalating-other-code"
    per_request_escalation = True


RULES = (PlainN1Code, EscalatingOtherCode)
'''


def test_per_request_escalation_is_declared_by_the_rule_not_read_from_its_code(tmp_path, monkeypatch):
    from querylint.api import lint_paths
    from querylint.run.config import config_from_dict
    from querylint.plugins import load_registry

    (tmp_path / "plug").mkdir()
    (tmp_path / "plug" / "ql_escalation_plugin.py").write_text(ESCALATION_PLUGIN, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path / "plug"))
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "pyproject.toml").write_text("", encoding="utf-8")
    (proj / "views.py").write_text(
        "from flask import Flask\napp = Flask(__name__)\n@app.route('/x')\ndef x():\n    touch()\n", encoding="utf-8"
    )
    registry = load_registry(["ql_escalation_plugin"])
    config = config_from_dict({"select": ["QL190", "QL990"]}, source="test", root=str(proj), rule_option_keys=registry.option_keys())
    result = lint_paths([proj], config, proj, registry, cwd=proj)
    by_code = {f.rule: f for f in result.findings}
    assert set(by_code) == {"QL190", "QL990"}
    assert by_code["QL190"].message == "touch" and by_code["QL190"].severity.name == "WARNING"
    assert by_code["QL990"].message.startswith("touch (per request:")
    assert by_code["QL990"].severity.name == "ERROR"


@pytest.mark.parametrize(
    "decorators, expected",
    [
        (("functools.lru_cache",), True),
        (("functools.cache",), True),
        (("app.extensions.cache.memoize",), True),
        (("cache.cached",), True),
        (("cachetools.cached",), True),
        (("async_lru.alru_cache",), True),
        (("functools.cached_property",), False),  # per instance: one per item of a loop
        (("django.utils.functional.cached_property",), False),
        (("property",), False),
        (("app.route",), False),
        ((), False),
    ],
)
def test_memoising_decorators(decorators, expected):
    from querylint.project.index import memoised

    assert memoised(decorators) is expected


def test_canonical_follows_reexports_through_package_inits():
    from querylint.project.facts import FileFacts
    from querylint.project.index import ProjectIndex

    def facts(path, module, imports):
        return FileFacts(path, module, tuple(imports.items()), (), (), ())

    index = ProjectIndex([
        facts("app/core/db/__init__.py", "app.core.db", {"db": "app.core.db.core.db"}),
        facts("app/core/db/core.py", "app.core.db.core", {}),
        facts("app/models.py", "app.models", {"db": "app.core.db.db"}),
    ])
    assert index.canonical("app.core.db.db") == "app.core.db.core.db"
    assert index.canonical("app.core.db.db.Model") == "app.core.db.core.db.Model"
    assert index.canonical("app.core.db.core.db") == "app.core.db.core.db"
    assert index.canonical("flask_sqlalchemy.SQLAlchemy") == "flask_sqlalchemy.SQLAlchemy"
    cyclic = ProjectIndex([facts("a.py", "a", {"x": "b.x"}), facts("b.py", "b", {"x": "a.x"})])
    assert cyclic.canonical("a.x") in ("a.x", "b.x")  # bounded, no endless loop


@pytest.mark.parametrize(
    "src, expected",
    [
        ("def f(conn):\n    if not _cache:\n        _cache.update(load(conn))\n    return _cache\n", True),
        ("def f():\n    '''doc'''\n    global _c\n    if _c is None:\n        _c = make()\n    return _c\n", True),
        ("def f(k):\n    if k not in CACHE:\n        CACHE[k] = load(k)\n    return CACHE[k]\n", True),
        ("def f(self):\n    if self._client is None:\n        self._client = make()\n    return self._client\n", True),
        ("def f(cache):\n    if not cache:\n        cache.update(load())\n", False),  # a parameter: filled per call
        ("def f():\n    if not _cache:\n        log('empty')\n    return load()\n", False),  # tests but never fills
        ("def f():\n    x = load()\n    if not _cache:\n        _cache.update(x)\n", False),  # queries before the guard
        # an early return on a hit, then the query and the store (quay _get_location_row)
        ("def f(name):\n    if name in MAP:\n        return MAP[name]\n    row = load(name)\n    MAP[name] = row\n    return row\n", True),
        ("def f(self, k):\n    hit = self._rows.get(k)\n    if hit is not None:\n        return hit\n    self._rows[k] = v = load(k)\n    return v\n", True),
        ("def f(name):\n    if name in MAP:\n        return MAP[name]\n    return load(name)\n", False),  # never stores
        ("def f(name, seen):\n    if name in seen:\n        return seen[name]\n    seen[name] = load(name)\n", False),  # a cache per call
        ("def f(name):\n    if name in MAP:\n        log(name)\n    MAP[name] = load(name)\n", False),  # no early return
    ],
)
def test_memo_guards(src, expected):
    import libcst as cst

    from querylint.scope import first_statement_memo_guard

    fn = cst.parse_module(src).body[0]
    assert first_statement_memo_guard(fn) is expected
