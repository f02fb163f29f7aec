"""CI and pre-commit integration through the command line: --jobs, --diff, baselines, --output."""
import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

import querylint.run.parallel as parallel
from querylint.cli import main
from querylint.run.gitdiff import parse_unified_diff

LOOP = '''\
import sqlite3


def report_{n}(ids):
    conn = sqlite3.connect("app.db")
    cur = conn.cursor()
    for i in ids:
        cur.execute("SELECT name FROM users WHERE id = ?", (i,))
    conn.close()
'''
HELPER = '''\
def lookup_{n}(cur, i):
    cur.execute("SELECT price FROM prices WHERE id = %s", (i,))
    return cur.fetchone()
'''
CALLER = '''\
from pkg.helpers_{n} import lookup_{n}


def totals_{n}(cur, rows):
    return [lookup_{n}(cur, r) for r in rows]
'''


def cli(args, cwd, monkeypatch):
    monkeypatch.chdir(cwd)
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def make_big_project(root: Path, n: int = 30) -> None:
    (root / "pyproject.toml").write_text("", encoding="utf-8")
    pkg = root / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("", encoding="utf-8")
    for i in range(n):
        (pkg / f"loop_{i}.py").write_text(LOOP.format(n=i), encoding="utf-8")
        (pkg / f"helpers_{i}.py").write_text(HELPER.format(n=i), encoding="utf-8")
        (pkg / f"callers_{i}.py").write_text(CALLER.format(n=i), encoding="utf-8")
    (pkg / "broken.py").write_text("def f(:\n", encoding="utf-8")
    # a quoting helper in one file, its callers in others (in other workers' shards with --jobs):
    # the spliced values are quoted whichever process reads the helper
    (pkg / "quoting.py").write_text("def wrap(s):\n    return \"'\" + s.replace(\"'\", \"''\") + \"'\"\n", encoding="utf-8")
    for i in range(n):
        (pkg / f"lookup_{i}.py").write_text(
            "from pkg.quoting import wrap\n\n\n"
            f"def find_{i}(cur, name):\n"
            "    cur.execute(\"SELECT id FROM users WHERE name = \" + wrap(name))\n"
            "    return cur.fetchone()\n",
            encoding="utf-8",
        )


# --------------------------------------------------------------------------- --jobs


@pytest.mark.parametrize("cache", [False, True], ids=["no-cache", "cache"])
def test_jobs_output_is_identical_to_one_job(tmp_path, monkeypatch, cache):
    make_big_project(tmp_path)
    started = []
    real = parallel.Runner._start_workers

    def spy(self):
        started.append(self.jobs)
        return real(self)

    monkeypatch.setattr(parallel.Runner, "_start_workers", spy)
    outs = {}
    for jobs in (1, 3):
        args = ["--format", "json", "--jobs", jobs, "--select", "ALL"]
        args += ["--cache-dir", tmp_path / f"cache{jobs}"] if cache else ["--no-cache"]
        res = cli(args, tmp_path, monkeypatch)
        assert res.exit_code == 1, res.output
        outs[jobs] = res.stdout
    assert started == [3]  # the 3-job run really used workers
    assert outs[1] == outs[3]
    doc = json.loads(outs[1])
    assert doc["summary"]["by_rule"] == {"QL101": 30, "QL102": 30}
    assert [e["path"] for e in doc["errors"]] == ["pkg/broken.py"]


def test_small_runs_stay_in_process(tmp_path, monkeypatch):
    (tmp_path / "a.py").write_text(LOOP.format(n=1), encoding="utf-8")
    monkeypatch.setattr(parallel.Runner, "_start_workers", lambda self: pytest.fail("started workers for one file"))
    res = cli(["--jobs", "4", "--no-cache", "a.py"], tmp_path, monkeypatch)
    assert res.exit_code == 1


def test_worker_crash_is_an_internal_error(tmp_path, monkeypatch):
    make_big_project(tmp_path, 20)

    def boom(self, keys):
        raise RuntimeError("boom in a worker")

    monkeypatch.setattr(parallel.Shard, "facts", boom)
    monkeypatch.setattr(parallel, "PARALLEL_THRESHOLD", 1)
    res = cli(["--jobs", "2", "--no-cache"], tmp_path, monkeypatch)
    assert res.exit_code == 2
    assert "boom in a worker" in res.stderr


# --------------------------------------------------------------------------- --output / --statistics


def test_output_file_and_statistics(tmp_path, monkeypatch):
    make_big_project(tmp_path, 2)
    res = cli(["--no-cache", "--format", "sarif", "--output", "out.sarif"], tmp_path, monkeypatch)
    assert res.exit_code == 1
    assert res.stdout == ""
    doc = json.loads((tmp_path / "out.sarif").read_text(encoding="utf-8"))
    assert len(doc["runs"][0]["results"]) == 4
    assert "pkg/broken.py" in res.stderr  # file errors still go to stderr
    res = cli(["--no-cache", "--statistics"], tmp_path, monkeypatch)
    assert res.stdout.splitlines() == ["2  QL101  query-in-loop", "2  QL102  query-via-call-in-loop"]


# --------------------------------------------------------------------------- --diff


def git(cwd, *args):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
                        "GIT_COMMITTER_EMAIL": "t@example.com", "HOME": str(cwd), "PATH": "/usr/bin:/bin:/usr/local/bin"})


OLD = '''\
def old(cur, ids):
    for i in ids:
        cur.execute("SELECT 1 FROM t WHERE id = %s", (i,))
'''
NEW_FUNC = '''

def new(cur, ids):
    for i in ids:
        cur.execute("SELECT 2 FROM t WHERE id = %s", (i,))
'''


@pytest.fixture
def repo(tmp_path):
    r = tmp_path / "repo"
    r.mkdir()
    git(r, "init", "-q", "-b", "main")
    (r / "pyproject.toml").write_text("", encoding="utf-8")
    (r / "app.py").write_text(OLD, encoding="utf-8")
    git(r, "add", ".")
    git(r, "commit", "-q", "-m", "base")
    git(r, "checkout", "-q", "-b", "feature")
    (r / "app.py").write_text(OLD + NEW_FUNC, encoding="utf-8")
    git(r, "commit", "-q", "-am", "feature")
    return r


def lines(res):
    return [(f["path"], f["line"]) for f in json.loads(res.stdout)["findings"]]


def test_diff_reports_only_added_lines(repo, monkeypatch):
    res = cli(["--no-cache", "--format", "json"], repo, monkeypatch)
    assert lines(res) == [("app.py", 3), ("app.py", 8)]
    res = cli(["--no-cache", "--format", "json", "--diff", "main"], repo, monkeypatch)
    assert lines(res) == [("app.py", 8)]
    assert res.exit_code == 1
    # uncommitted edits and untracked files count as changes too
    (repo / "app.py").write_text(OLD.replace("SELECT 1", "SELECT 3") + NEW_FUNC, encoding="utf-8")
    (repo / "extra.py").write_text(OLD, encoding="utf-8")
    res = cli(["--no-cache", "--format", "json", "--diff", "main"], repo, monkeypatch)
    assert lines(res) == [("app.py", 3), ("app.py", 8), ("extra.py", 3)]


def test_diff_with_no_new_findings_exits_0(repo, monkeypatch):
    res = cli(["--no-cache", "--diff", "feature"], repo, monkeypatch)
    assert res.exit_code == 0, res.output
    assert "2 outside the diff" in res.stderr


def test_diff_unknown_ref_exits_2(repo, monkeypatch):
    res = cli(["--no-cache", "--diff", "origin/nope"], repo, monkeypatch)
    assert res.exit_code == 2
    assert "no commit named 'origin/nope'" in res.stderr


def test_diff_outside_a_repository_exits_2(tmp_path, monkeypatch):
    (tmp_path / "a.py").write_text(OLD, encoding="utf-8")
    res = cli(["--no-cache", "--diff", "main", "a.py"], tmp_path, monkeypatch)
    assert res.exit_code == 2
    assert "not inside a git repository" in res.stderr


def test_diff_on_a_shallow_clone(repo, tmp_path, monkeypatch):
    # a CI-style checkout: depth 1 of the feature branch, then REF fetched at depth 1
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "1", "--branch", "feature", f"file://{repo}", str(clone))
    res = cli(["--no-cache", "--diff", "origin/main"], clone, monkeypatch)
    assert res.exit_code == 2
    assert "shallow clone" in res.stderr and "git fetch" in res.stderr
    git(clone, "fetch", "-q", "--depth", "1", "origin", "main:refs/remotes/origin/main")
    res = cli(["--no-cache", "--format", "json", "--diff", "origin/main"], clone, monkeypatch)
    assert res.exit_code == 1, res.stderr
    assert lines(res) == [("app.py", 8)]
    assert "shallow history" in res.stderr


def test_parse_unified_diff():
    text = (
        "diff --git a/x.py b/x.py\n--- a/x.py\n+++ b/x.py\n@@ -1,0 +2,3 @@\n+a\n+b\n+c\n@@ -9 +12 @@\n-x\n+y\n"
        "diff --git a/gone.py b/gone.py\n--- a/gone.py\n+++ /dev/null\n@@ -1,2 +0,0 @@\n-a\n-b\n"
        "diff --git a/d.py b/d.py\n--- a/d.py\n+++ b/d.py\n@@ -3,2 +2,0 @@\n-a\n-b\n"
        '--- a/"sp ace.py"\n+++ "b/sp ace.py"\n@@ -0,0 +1 @@\n+z\n'
    )
    assert parse_unified_diff(text) == {"x.py": {2, 3, 4, 12}, "d.py": set(), "sp ace.py": {1}}


# --------------------------------------------------------------------------- baseline


BASE_SRC = '''\
import sqlite3


def sync(ids):
    cur = sqlite3.connect("x.db").cursor()
    for i in ids:
        cur.execute("SELECT 1 FROM t WHERE id = ?", (i,))
    for i in ids:
        cur.execute("SELECT 1 FROM t WHERE id = ?", (i,))
'''


def test_baseline_survives_code_moving(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")
    (tmp_path / "app.py").write_text(BASE_SRC, encoding="utf-8")
    res = cli(["--no-cache", "--write-baseline", "baseline.json"], tmp_path, monkeypatch)
    assert res.exit_code == 0
    assert "wrote 2 findings" in res.stderr
    doc = json.loads((tmp_path / "baseline.json").read_text(encoding="utf-8"))
    assert len({e["fingerprint"] for e in doc["findings"]}) == 2  # occurrence index tells twins apart
    assert cli(["--no-cache", "--baseline", "baseline.json"], tmp_path, monkeypatch).exit_code == 0

    # code added above the findings and the loop re-indented: still known
    moved = BASE_SRC.replace("import sqlite3\n", "import sqlite3\nimport os\n\nLIMIT = 3\n\n\ndef helper():\n    return os.getcwd()\n")
    moved = moved.replace("    for i in ids:\n        cur.execute", "    if ids:\n      for i in ids:\n        cur.execute", 1)
    (tmp_path / "app.py").write_text(moved, encoding="utf-8")
    res = cli(["--no-cache", "--baseline", "baseline.json"], tmp_path, monkeypatch)
    assert res.exit_code == 0, res.output
    assert "2 in the baseline" in res.stderr

    # a third copy of the same statement in the same function is new
    (tmp_path / "app.py").write_text(moved + "    for i in ids:\n        cur.execute(\"SELECT 1 FROM t WHERE id = ?\", (i,))\n", encoding="utf-8")
    res = cli(["--no-cache", "--format", "json", "--baseline", "baseline.json"], tmp_path, monkeypatch)
    assert res.exit_code == 1
    assert len(json.loads(res.stdout)["findings"]) == 1

    # the same line moved to another function is new too
    renamed = moved.replace("def sync(", "def sync_all(")
    (tmp_path / "app.py").write_text(renamed, encoding="utf-8")
    res = cli(["--no-cache", "--format", "json", "--baseline", "baseline.json"], tmp_path, monkeypatch)
    assert len(json.loads(res.stdout)["findings"]) == 2


def test_baseline_does_not_depend_on_the_working_folder(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "app.py").write_text(BASE_SRC, encoding="utf-8")
    assert cli(["--no-cache", "--write-baseline", "b.json"], tmp_path, monkeypatch).exit_code == 0
    res = cli(["--no-cache", "--baseline", tmp_path / "b.json", "."], tmp_path / "sub", monkeypatch)
    assert res.exit_code == 0, res.output


@pytest.mark.parametrize("content, message", [
    (None, "cannot read the baseline"),
    ("{nope", "not valid JSON"),
    ('{"findings": 3}', "not a querylint baseline"),
])
def test_bad_baseline_exits_2(tmp_path, monkeypatch, content, message):
    (tmp_path / "app.py").write_text(BASE_SRC, encoding="utf-8")
    if content is not None:
        (tmp_path / "b.json").write_text(content, encoding="utf-8")
    res = cli(["--no-cache", "--baseline", "b.json", "app.py"], tmp_path, monkeypatch)
    assert res.exit_code == 2
    assert message in res.stderr


def test_enclosing_name_and_normalise():
    from querylint.run.baseline import enclosing_name, normalise

    lines = [
        "import os",
        "class Shop:",
        "    def sync(self):",
        "        if x:",
        "            # a comment",
        "            run(  a,   b )",
        "    async def other(self):",
        "        pass",
        "top = 1",
    ]
    assert enclosing_name(lines, 6) == "Shop.sync"
    assert enclosing_name(lines, 8) == "Shop.other"
    assert enclosing_name(lines, 9) == ""
    assert enclosing_name(lines, 1) == ""
    assert normalise("            run(  a,   b )") == "run( a, b )"


def test_paths_under_no_project_index_only_themselves(tmp_path, monkeypatch):
    """Folders that share no project marker: the index covers the given paths, never their
    common ancestor (``/`` for a stdlib package and a temporary folder)."""
    import querylint.api as api
    import querylint.run.files as files
    from querylint.run.config import Config

    for name in ("a", "b", "c"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "m.py").write_text("def f(cur, ids):\n    for i in ids:\n        cur.execute('SELECT 1 WHERE 1 = %s', (i,))\n")
        (tmp_path / name / "deep" / "er").mkdir(parents=True)
        (tmp_path / name / "deep" / "er" / "big.py").write_text("x = (\n")  # never read: not beside m.py
    walked = []
    real_discover = api.discover

    def spy(paths, *args, **kwargs):
        walked.append([str(p) for p in paths])
        return real_discover(paths, *args, **kwargs)

    monkeypatch.setattr(api, "discover", spy)  # the targets
    monkeypatch.setattr(files, "discover", spy)  # the rest of the project the index covers
    given = [tmp_path / "a" / "m.py", tmp_path / "b" / "m.py"]
    result = api.lint_paths(given, Config(), tmp_path)
    assert [str(tmp_path)] not in walked
    # the files beside each given file, never the folders below (``/tmp`` may hold anything)
    assert walked[-1] == [str(tmp_path / "a" / "m.py"), str(tmp_path / "b" / "m.py")]
    assert sorted(Path(f.path).parent.name for f in result.findings) == ["a", "b"]
    assert result.errors == []  # the broken file below was never read
    (tmp_path / "pyproject.toml").write_text("")
    walked.clear()
    api.lint_paths(given, Config(), tmp_path)
    assert [str(tmp_path)] in walked  # a real project: its other files join the index


def test_a_folder_whose_every_file_is_left_out_says_what_left_them_out(tmp_path, monkeypatch):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".gitignore").write_text("generated/\n", encoding="utf-8")
    (tmp_path / "generated").mkdir()
    (tmp_path / "generated" / "a.py").write_text("x = 1\n", encoding="utf-8")
    (tmp_path / "vendored").mkdir()
    (tmp_path / "vendored" / "b.py").write_text("y = 1\n", encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text('[tool.querylint]\nextend-exclude = ["vendored/*"]\n', encoding="utf-8")
    (tmp_path / "app.py").write_text("z = 1\n", encoding="utf-8")
    got = cli(["--no-cache", "generated"], tmp_path, monkeypatch)
    assert got.exit_code == 0
    assert "ignored by git (.gitignore:1: `generated/`)" in got.stderr
    got = cli(["--no-cache", "vendored"], tmp_path, monkeypatch)
    assert "excluded by the exclude pattern `vendored/*`" in got.stderr
    got = cli(["--no-cache", "."], tmp_path, monkeypatch)
    assert "note:" not in got.stderr  # app.py is linted: nothing to explain


def test_an_application_root_without_packaging_is_found_by_its_requirements(tmp_path):
    """A Flask app with only ``requirements.txt`` at its root: the route in ``server/`` reaches the
    helper in ``scripts/`` (imported as ``from scripts import flow``), so the whole app is indexed."""
    import querylint.api as api
    from querylint.run.config import Config, find_project_root

    (tmp_path / "requirements.txt").write_text("flask\n")
    for pkg in ("src/server", "src/scripts"):
        (tmp_path / pkg).mkdir(parents=True)
        (tmp_path / pkg / "__init__.py").write_text("")
    (tmp_path / "src/server/api.py").write_text(
        "from flask import Blueprint\nfrom scripts import flow\napi = Blueprint('api', __name__)\n"
        "@api.route('/run')\ndef run():\n    flow.start()\n    return 'ok'\n"
    )
    helper = tmp_path / "src/scripts/flow.py"
    helper.write_text("import psycopg2\ndef start():\n    conn = psycopg2.connect('dbname=x')\n    conn.cursor().execute('SELECT 1')\n")
    root = find_project_root([helper])
    assert root == tmp_path
    (f,) = api.lint_paths([helper], Config(), root).findings
    assert f.rule == "QL203" and "opened per request" in f.message


def _unrelated_project(folder: Path, author_field: str, settings: str = "") -> None:
    """A small Django project whose modules and models share names with the other one
    (``models.Book``, ``views``): merged into one index, the two ``Book`` models collide."""
    folder.mkdir()
    (folder / "pyproject.toml").write_text(settings)
    (folder / "models.py").write_text(
        "from django.db import models\n\n\n"
        "class Author(models.Model):\n    name = models.CharField(max_length=50)\n\n\n"
        f"class Book(models.Model):\n    author = {author_field}\n"
    )
    (folder / "views.py").write_text(
        "from models import Book\n\n\n"
        "def titles(request):\n    return [book.author.title() for book in Book.objects.all()]\n"
    )


def test_paths_from_unrelated_projects_are_linted_as_each_alone(tmp_path, monkeypatch):
    """Two folders that share no project (no marker above both): each is its own project, with its
    own index, and the joint run reports exactly what the runs of each alone report."""
    _unrelated_project(tmp_path / "shop", "models.ForeignKey(Author, on_delete=models.CASCADE)")
    _unrelated_project(tmp_path / "blog", "models.CharField(max_length=50)")  # a column: no query
    _unrelated_project(tmp_path / "wiki", "models.ForeignKey(Author, on_delete=models.CASCADE)", '[tool.querylint]\nignore = ["QL1"]\n')
    alone = []
    for name in ("shop", "blog", "wiki"):
        res = cli(["--no-cache", "--format", "json", tmp_path / name], tmp_path, monkeypatch)
        alone += json.loads(res.output)["findings"]
    both = cli(["--no-cache", "--format", "json", *(tmp_path / n for n in ("shop", "blog", "wiki"))], tmp_path, monkeypatch)
    joint = json.loads(both.output)
    key = lambda f: (f["path"], f["line"], f["rule"], f["message"])  # noqa: E731
    assert sorted(map(key, joint["findings"])) == sorted(map(key, alone))
    assert {f["path"] for f in joint["findings"]} == {"shop/views.py"}  # wiki's own config ignores QL1
    assert joint["summary"]["files"] == 6


def test_a_file_linted_from_the_folder_of_a_project_without_packaging_sees_that_folder(tmp_path, monkeypatch):
    """An exported tree with no pyproject.toml, setup.py, requirements or ``.git``: ``querylint
    ingest/sync.py`` run in that folder indexes the folder, so ``Session`` from the top-level
    ``db.py`` is known to be a sessionmaker. Run from elsewhere, the same file indexes only its own
    package, so the name stays unknown (and nothing above it is walked)."""
    tree = tmp_path / "tree"
    (tree / "ingest").mkdir(parents=True)
    (tree / "db.py").write_text("from sqlalchemy.orm import sessionmaker\nSession = sessionmaker()\n")
    (tree / "ingest" / "__init__.py").write_text("")
    (tree / "ingest" / "sync.py").write_text(
        "from db import Session\n\ndef sync(rows):\n    s = Session()\n    for r in rows:\n        s.merge(r)\n    s.commit()\n"
    )
    here = cli(["--no-cache", "--select", "QL203", "ingest/sync.py"], tree, monkeypatch)
    assert "ingest/sync.py:4:" in here.output and "QL203" in here.output
    elsewhere = cli(["--no-cache", "--select", "QL203", tree / "ingest" / "sync.py"], tmp_path, monkeypatch)
    assert "QL203" not in elsewhere.output


def test_folders_of_two_repositories_each_left_out_say_so_each(tmp_path, monkeypatch):
    """Paths of two projects are linted apart: each says what left its files out (in its own
    repository), not only the last project's."""
    for name, ignored in (("one", "build/"), ("two", "gen/")):
        repo = tmp_path / name
        subprocess.run(["git", "init", "-q", str(repo)], check=True)
        (repo / ".gitignore").write_text(f"{ignored}\n", encoding="utf-8")
        (repo / ignored).mkdir()
        (repo / ignored / "a.py").write_text("x = 1\n", encoding="utf-8")
    got = cli(["--no-cache", str(tmp_path / "one" / "build"), str(tmp_path / "two" / "gen")], tmp_path, monkeypatch)
    assert got.exit_code == 0
    assert "ignored by git (.gitignore:1: `build/`)" in got.stderr
    assert "ignored by git (.gitignore:1: `gen/`)" in got.stderr
