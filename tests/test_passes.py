"""What each pass reads: the files no linted code can call are left out of the query pass, and
their trees are freed after the facts pass, with the same findings as a run that keeps all."""
from pathlib import Path

import querylint.api as api
import querylint.run.passes as passes
import querylint.run.parallel as parallel
from querylint.run.config import Config

from conftest import record_parses

MODELS = """\
from django.db import models


class Author(models.Model):
    name = models.CharField(max_length=50)


class Book(models.Model):
    author = models.ForeignKey(Author, on_delete=models.CASCADE)
"""

VIEWS = """\
from shop.models import Book
from shop.tests.factories import author_name


def titles(request):
    return [author_name(book) for book in Book.objects.all()]
"""

FACTORIES = """\
from shop.models import Author


def author_name(book):
    return Author.objects.get(pk=book.author_id).name
"""

TEST_VIEWS = """\
from shop.models import Book


def test_titles():
    for book in Book.objects.all():
        assert book.author.name
"""


def _project(root: Path) -> None:
    (root / "pyproject.toml").write_text("")
    for rel, text in {
        "shop/__init__.py": "",
        "shop/models.py": MODELS,
        "shop/views.py": VIEWS,
        "shop/tests/__init__.py": "",
        "shop/tests/factories.py": FACTORIES,  # a test helper production code imports
        "shop/tests/test_views.py": TEST_VIEWS,  # called by nothing
    }.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


def _run(root: Path, monkeypatch, keep_all: bool):
    parsed = record_parses(monkeypatch)
    if keep_all:
        monkeypatch.setattr(passes, "_never_called", lambda *a: set())
        monkeypatch.setattr(parallel.Shard, "forget", lambda self, keys: {})
    result = api.lint_paths([root], Config(select=("ALL",), min_confidence="low"), root, cwd=root, jobs=1)
    monkeypatch.undo()
    return [(f.path, f.line, f.rule, f.message) for f in result.findings], parsed


def test_uncalled_test_code_is_not_queried_and_the_findings_stay(tmp_path, monkeypatch):
    _project(tmp_path)
    lean, parsed = _run(tmp_path, monkeypatch, keep_all=False)
    full, _ = _run(tmp_path, monkeypatch, keep_all=True)
    assert lean == full
    # the helper production code imports is still followed into (the query is behind it)
    assert any(path == "shop/views.py" and "author_name" in message for path, _line, _rule, message in lean)
    # test files give their facts from Python's ``ast`` (tests/test_fast_facts.py): the imported
    # test helper is parsed with libcst for the query pass only; the uncalled test file never is
    assert parsed.count("shop/tests/factories.py") == 1
    assert parsed.count("shop/tests/test_views.py") == 0


def test_never_called_follows_imports_and_dotted_calls(tmp_path):
    _project(tmp_path)
    (tmp_path / "shop" / "tests" / "helpers.py").write_text("def make():\n    return 1\n")
    (tmp_path / "shop" / "jobs.py").write_text("import shop.tests.helpers\n\n\ndef run():\n    return shop.tests.helpers.make()\n")
    seen = {}
    real = passes._never_called

    def spy(*args):
        seen["left out"] = sorted(Path(k).relative_to(tmp_path).as_posix() for k in real(*args))
        return set()

    import pytest

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(passes, "_never_called", spy)
        api.lint_paths([tmp_path], Config(), tmp_path, jobs=1)
    assert seen["left out"] == ["shop/tests/test_views.py"]
