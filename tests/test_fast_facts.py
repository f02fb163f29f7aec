"""The fast facts pass: Python's ``ast`` gives exactly the facts libcst's tree gives, so files
the lint leaves out (tests, migrations) are never parsed with libcst, and the findings do not
change."""
from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest

import querylint.engine as engine
import querylint.run.parallel as parallel
from querylint.api import lint_paths
from querylint.engine import parse_file
from querylint.project.ast_facts import collect_facts_ast
from querylint.run.config import Config

ROOT = Path(__file__).resolve().parent.parent


def _python_files(folder: Path):
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d != "__pycache__")
        for name in sorted(filenames):
            if name.endswith(".py"):
                yield Path(dirpath) / name


def _unequal(root: Path, folder: Path):
    """The files under ``folder`` whose ``ast`` facts differ from libcst's."""
    bad, seen = [], 0
    for path in _python_files(folder):
        rel = path.relative_to(root).as_posix()
        pf = parse_file(path, rel, rel)
        if pf.facts is None:
            continue
        seen += 1
        text = pf.source or ""
        if collect_facts_ast(ast.parse(text), text, rel) != pf.facts:
            bad.append(rel)
    return seen, bad


@pytest.mark.parametrize("folder", ["fixtures", "querylint", "rules", "tests"])
def test_ast_facts_equal_libcst_facts_on_our_own_trees(folder):
    seen, bad = _unequal(ROOT, ROOT / folder)
    assert seen >= 10
    assert not bad, f"{len(bad)} of {seen} files differ, e.g. {bad[:5]}"


@pytest.mark.slow
@pytest.mark.parametrize("package", ["django", "sqlalchemy"])
def test_ast_facts_equal_libcst_facts_on_a_large_real_tree(package):
    module = pytest.importorskip(package)
    folder = Path(module.__file__).parent
    seen, bad = _unequal(folder.parent, folder)
    assert seen > 200
    assert not bad, f"{len(bad)} of {seen} files differ, e.g. {bad[:5]}"


def _project(tmp_path: Path) -> Path:
    """A shop whose views loop over orders through a helper, and whose tests call the views."""
    (tmp_path / "pyproject.toml").write_text("")
    shop = tmp_path / "shop"
    (shop / "tests").mkdir(parents=True)
    (shop / "__init__.py").write_text("")
    (shop / "tests" / "__init__.py").write_text("")
    (shop / "models.py").write_text(
        "from django.db import models\n\n\n"
        "class Customer(models.Model):\n    name = models.CharField(max_length=50)\n\n\n"
        "class Order(models.Model):\n    customer = models.ForeignKey(Customer, on_delete=models.CASCADE)\n"
    )
    (shop / "views.py").write_text(
        "from shop.models import Order\nfrom shop.tests.helpers import label\n\n\n"
        "def order_names(request):\n    return [label(o) for o in Order.objects.all()]\n\n\n"
        "def names(request):\n    return [o.customer.name for o in Order.objects.all()]\n"
    )
    (shop / "tests" / "helpers.py").write_text("def label(order):\n    return order.customer.name\n")
    (shop / "tests" / "test_views.py").write_text(
        "from shop.models import Order\nfrom shop.views import names\n\n\n"
        "def test_names(rf):\n    for o in Order.objects.all():\n        assert o.customer.name in names(rf)\n"
    )
    return tmp_path


def _lint(root: Path, monkeypatch, fast: bool, jobs: int = 1):
    monkeypatch.setattr(parallel, "FAST_FACTS", fast)
    result = lint_paths([root], Config(), root, jobs=jobs)
    return sorted((f.path, str(f.span), f.rule, f.message, f.notes) for f in result.findings), sorted((e.path, e.message) for e in result.errors)


def test_left_out_files_are_not_parsed_with_libcst_unless_linted_code_calls_them(tmp_path, monkeypatch):
    root = _project(tmp_path)
    parsed = []
    real = engine.parse_module_and_ast
    monkeypatch.setattr(engine, "parse_module_and_ast", lambda text: parsed.append(text) or real(text))
    fast = _lint(root, monkeypatch, True)
    fast_parsed = [t for t in parsed]
    parsed.clear()
    slow = _lint(root, monkeypatch, False)
    assert fast == slow
    assert any(f[0].endswith("views.py") for f in fast[0])
    # the test module is read from ``ast`` alone; the helper the view calls is parsed for its queries
    assert not any("def test_names" in t for t in fast_parsed)
    assert any("def label" in t for t in fast_parsed)
    assert any("def test_names" in t for t in parsed)


@pytest.mark.parametrize("case", sorted(p.relative_to(ROOT / "fixtures").as_posix() for p in (ROOT / "fixtures").glob("*/*") if p.is_dir()))
def test_fixture_findings_do_not_depend_on_the_fast_pass(case, monkeypatch):
    folder = ROOT / "fixtures" / case
    assert _lint(folder, monkeypatch, True) == _lint(folder, monkeypatch, False)


def test_a_left_out_file_python_rejects_is_reported_as_before(tmp_path, monkeypatch):
    root = _project(tmp_path)
    (root / "shop" / "tests" / "test_broken.py").write_text("def test_x(:\n    pass\n")
    (root / "shop" / "tests" / "test_deep.py").write_text("x = " + "(" * 300 + "1" + ")" * 300 + "\n")
    assert _lint(root, monkeypatch, True) == _lint(root, monkeypatch, False)
