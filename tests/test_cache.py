"""The on-disk cache: reused when nothing changed, refreshed across files, never trusted blindly."""
import pickle
from pathlib import Path

import pytest

from querylint.api import lint_paths
from querylint.run.cache import Cache
from querylint.run.config import Config
from querylint.testing import registry

from conftest import record_parses

HELPER_QUERY = '''\
def fetch_price(cur, item_id):
    cur.execute("SELECT price FROM prices WHERE id = %s", (item_id,))
    return cur.fetchone()
'''
HELPER_PURE = '''\
def fetch_price(cur, item_id):
    return PRICES[item_id]
'''
SERVICE = '''\
from shop.helpers import fetch_price


def total(cur, items):
    out = 0
    for item in items:
        out += fetch_price(cur, item.id)
    return out
'''


@pytest.fixture
def project(tmp_path):
    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "shop" / "helpers.py").write_text(HELPER_QUERY, encoding="utf-8")
    (tmp_path / "shop" / "services.py").write_text(SERVICE, encoding="utf-8")
    return tmp_path


@pytest.fixture
def parses(monkeypatch):
    """Relative paths parsed by the engine during a run."""
    return record_parses(monkeypatch)


def run(root: Path, paths=None, cache=True, config=None):
    cache_dir = root / ".querylint_cache" if cache else None
    targets = [root / p for p in paths] if paths else [root]
    return lint_paths(targets, config or Config(select=("ALL",)), root, registry(), cwd=root, cache_dir=cache_dir, jobs=1)


def found(result):
    return sorted((f.path, f.span.line, f.rule) for f in result.findings)


def test_warm_run_parses_nothing_and_reports_the_same(project, parses):
    cold = run(project)
    assert found(cold) == [("shop/services.py", 7, "QL102")]
    assert sorted(parses) == ["shop/__init__.py", "shop/helpers.py", "shop/services.py"]
    assert (project / ".querylint_cache" / "CACHEDIR.TAG").is_file()
    parses.clear()
    warm = run(project)
    assert parses == []
    assert found(warm) == found(cold)
    assert [f.message for f in warm.findings] == [f.message for f in cold.findings]
    assert warm.files == cold.files


def test_a_finding_with_a_fix_is_cached_with_its_edits(project, parses):
    # a finding that carries ``--fix`` edits must survive the cache's safe unpickler: otherwise
    # every warm run of a project with one is a full cold run
    (project / "shop" / "save.py").write_text(
        "def save(cur, rows):\n    for name in rows:\n        cur.execute(\"INSERT INTO t (name) VALUES (%s)\", (name,))\n",
        encoding="utf-8",
    )
    cold = run(project)
    assert [f.edits for f in cold.findings if f.path == "shop/save.py"] != [()]
    parses.clear()
    warm = run(project)
    assert parses == [] and warm.cache_note is None
    assert [(f.path, f.edits) for f in warm.findings] == [(f.path, f.edits) for f in cold.findings]


def test_a_cache_restored_into_another_clone_is_warm_there(project, tmp_path_factory, parses):
    """CI: a job restores ``.querylint_cache/`` into a fresh checkout in another folder, whose
    files have new times; paths relative to the root and content hashes key everything."""
    import shutil

    cold = run(project)
    clone = tmp_path_factory.mktemp("elsewhere") / "clone"
    shutil.copytree(project, clone, copy_function=shutil.copy)  # new file times, like a fresh checkout
    parses.clear()
    warm = run(clone)
    assert parses == []
    assert found(warm) == found(cold)
    (clone / "shop" / "helpers.py").write_text(HELPER_PURE, encoding="utf-8")
    assert found(run(clone)) == []  # and still follows the clone's own edits


def test_editing_a_helper_changes_the_finding_in_another_file(project, parses):
    """A change in one file changes findings in another on the next cached run (issue 7)."""
    assert found(run(project)) == [("shop/services.py", 7, "QL102")]
    (project / "shop" / "helpers.py").write_text(HELPER_PURE, encoding="utf-8")
    parses.clear()
    assert found(run(project)) == []
    assert "shop/helpers.py" in parses
    (project / "shop" / "helpers.py").write_text(HELPER_QUERY, encoding="utf-8")
    assert found(run(project)) == [("shop/services.py", 7, "QL102")]
    # the same holds when only the other file is linted (the pre-commit case)
    (project / "shop" / "helpers.py").write_text(HELPER_PURE, encoding="utf-8")
    assert found(run(project, ["shop/services.py"])) == []


def test_single_file_run_reuses_the_project_index(project, parses):
    run(project)
    parses.clear()
    (project / "shop" / "services.py").write_text(SERVICE + "\n# edited\n", encoding="utf-8")
    res = run(project, ["shop/services.py"])
    assert found(res) == [("shop/services.py", 7, "QL102")]
    assert parses == ["shop/services.py"]  # the helper's facts came from the cache


def test_comment_only_edit_elsewhere_keeps_other_results(project, parses):
    run(project)
    (project / "shop" / "__init__.py").write_text("# a comment\n", encoding="utf-8")
    parses.clear()
    res = run(project)
    assert found(res) == [("shop/services.py", 7, "QL102")]
    assert parses == ["shop/__init__.py"]  # same facts: the other files' results still hold


def test_config_change_is_a_different_cache(project, parses):
    run(project)
    parses.clear()
    res = run(project, config=Config(select=("QL101",)))
    assert found(res) == []
    assert sorted(parses) == ["shop/__init__.py", "shop/helpers.py", "shop/services.py"]


GARBAGE = [b"", b"not a pickle", pickle.dumps({"magic": "other"}), pickle.dumps(["x"]), b"\x80\x04\x95" + b"\xff" * 40]


def cache_files(project):
    files = sorted((project / ".querylint_cache").glob("*.pickle"))
    assert len(files) == 2  # the manifest and the index tables
    index = [f for f in files if f.name.endswith(".index.pickle")][0]
    manifest = [f for f in files if f is not index][0]
    return manifest, index


@pytest.mark.parametrize("garbage", GARBAGE)
def test_corrupt_or_foreign_manifest_is_ignored_and_rebuilt(project, parses, garbage):
    cold = run(project)
    manifest, _ = cache_files(project)
    manifest.write_bytes(garbage)
    parses.clear()
    res = run(project)
    assert found(res) == found(cold)
    assert res.cache_note and "ignored" in res.cache_note
    parses.clear()
    again = run(project)  # rebuilt: trusted again
    assert parses == [] and again.cache_note is None


@pytest.mark.parametrize("garbage", GARBAGE)
def test_corrupt_or_foreign_index_is_ignored_and_rebuilt(project, parses, garbage):
    cold = run(project)
    _, index = cache_files(project)
    index.write_bytes(garbage)
    (project / "shop" / "__init__.py").write_text("# touched: the index is needed\n", encoding="utf-8")
    parses.clear()
    res = run(project)
    assert found(res) == found(cold)
    assert res.cache_note and "ignored" in res.cache_note
    assert sorted(parses) == ["shop/__init__.py", "shop/helpers.py", "shop/services.py"]
    parses.clear()
    again = run(project)
    assert parses == [] and again.cache_note is None


def test_cache_refuses_arbitrary_pickled_objects(project, tmp_path):
    run(project)
    cache_file, _ = cache_files(project)
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            import os

            return (os.system, (f"touch {marker}",))

    cache_file.write_bytes(pickle.dumps({"magic": "querylint-cache", "evil": Evil()}))
    res = run(project)
    assert not marker.exists()
    assert "not allowed" in res.cache_note


def test_stale_entries_of_a_forged_settings_digest_are_not_used(project):
    run(project)
    cache_file, _ = cache_files(project)
    settings = cache_file.stem
    cache = Cache.load(project / ".querylint_cache", settings)
    assert cache.problem is None and cache.facts and cache.results
    other = Cache.load(project / ".querylint_cache", "0" * 32)
    assert other.facts == {} and other.results == {} and other.problem is None  # no file for these settings


def test_no_cache_writes_nothing(project):
    run(project, cache=False)
    assert not (project / ".querylint_cache").exists()


def test_unwritable_cache_folder_does_not_fail(project):
    (project / "blocked").write_text("a file where the folder should be", encoding="utf-8")
    res = lint_paths([project], Config(select=("ALL",)), project, registry(), cwd=project, cache_dir=project / "blocked" / "c")
    assert found(res) == [("shop/services.py", 7, "QL102")]


def test_unchanged_project_reads_only_the_manifest(project, monkeypatch):
    run(project)
    monkeypatch.setattr(Cache, "_load_index", lambda self: pytest.fail("index tables read although nothing changed"))
    assert found(run(project)) == [("shop/services.py", 7, "QL102")]
    assert found(run(project, ["shop/services.py"])) == [("shop/services.py", 7, "QL102")]


def test_broken_file_is_reported_on_every_cached_run(project):
    (project / "shop" / "broken.py").write_text("def f(:\n", encoding="utf-8")
    for _ in range(2):
        res = run(project)
        assert [e.path for e in res.errors] == ["shop/broken.py"]
        assert found(res) == [("shop/services.py", 7, "QL102")]


DJ_MODELS_FK = '''\
from django.db import models


class Author(models.Model):
    name = models.CharField(max_length=120)


class Book(models.Model):
    title = models.CharField(max_length=200)
    author = models.ForeignKey(Author, on_delete=models.CASCADE)
'''
DJ_SERVICES = '''\
from shop.models import Book


def titles_with_authors():
    rows = []
    for book in Book.objects.all():
        rows.append((book.title, book.author))
    return rows
'''


def test_editing_a_model_relation_changes_findings_in_another_file(tmp_path, parses):
    """A Django ForeignKey turned into a plain field in models.py: the per-item relation read in
    services.py is no longer a lazy load, and the next cached run says so (issue 7)."""
    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "shop" / "models.py").write_text(DJ_MODELS_FK, encoding="utf-8")
    (tmp_path / "shop" / "services.py").write_text(DJ_SERVICES, encoding="utf-8")
    first = run(tmp_path)
    assert [(p, line) for p, line, _ in found(first)] == [("shop/services.py", 7)]
    rule = found(first)[0][2]
    assert rule == "QL105"  # lazy-relation-in-loop (Django: alias QL112)

    plain = DJ_MODELS_FK.replace("models.ForeignKey(Author, on_delete=models.CASCADE)", "models.CharField(max_length=120)")
    (tmp_path / "shop" / "models.py").write_text(plain, encoding="utf-8")
    parses.clear()
    assert found(run(tmp_path, ["shop/services.py"])) == []  # only services.py linted, as pre-commit does
    assert "shop/models.py" in parses

    (tmp_path / "shop" / "models.py").write_text(DJ_MODELS_FK, encoding="utf-8")
    assert found(run(tmp_path, ["shop/services.py"])) == found(first)
