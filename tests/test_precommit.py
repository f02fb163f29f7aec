"""The real pre-commit tool runs querylint's hook from this checkout (issue 7).

``pre-commit try-repo`` clones this checkout (with its uncommitted changes), builds a
virtualenv, pip-installs querylint into it (dependencies from PyPI) and runs the hook: it must
fail on a file with a query in a loop and pass once the file is fixed.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

BAD = '''\
import sqlite3


def report(ids):
    cur = sqlite3.connect("app.db").cursor()
    for i in ids:
        cur.execute("SELECT name FROM users WHERE id = ?", (i,))
'''
GOOD = '''\
import sqlite3


def report(ids):
    cur = sqlite3.connect("app.db").cursor()
    cur.execute("SELECT name FROM users WHERE id IN (SELECT value FROM json_each(?))", (ids,))
    return cur.fetchall()
'''


def _pre_commit() -> str:
    exe = Path(sys.executable).with_name("pre-commit")
    found = str(exe) if exe.exists() else shutil.which("pre-commit")
    if not found:
        pytest.skip("pre-commit is not installed (it is in the test extra)")
    return found


def _env(tmp_path):
    """pre-commit's environment for a run in a fresh repository: its own home, a git identity."""
    env = dict(os.environ)
    env.update({
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
        "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
        "NO_COLOR": "1",
    })
    env.pop("VIRTUAL_ENV", None)
    return env


def _repository(tmp_path):
    """A fresh git repository, and a runner of commands in it (a failing git step raises)."""
    env = _env(tmp_path)
    repo = tmp_path / "project"
    repo.mkdir()

    def run(*args, check=True):
        return subprocess.run(args, cwd=repo, env=env, capture_output=True, text=True, check=check, timeout=900)

    run("git", "init", "-q")
    return repo, run


@pytest.mark.slow
def test_pre_commit_try_repo_fails_on_a_bad_file_and_passes_on_a_good_one(tmp_path):
    pre_commit = _pre_commit()
    repo, run = _repository(tmp_path)
    (repo / "shop").mkdir()
    (repo / "shop" / "reports.py").write_text(BAD, encoding="utf-8")
    (repo / "shop" / "ok.py").write_text(GOOD, encoding="utf-8")
    run("git", "add", ".")

    bad = run(pre_commit, "try-repo", str(ROOT), "querylint", "--all-files", "--color", "never", check=False)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "querylint" in bad.stdout and "Failed" in bad.stdout
    assert "shop/reports.py:7:9: QL101" in bad.stdout

    (repo / "shop" / "reports.py").write_text(GOOD, encoding="utf-8")
    run("git", "add", ".")
    good = run(pre_commit, "try-repo", str(ROOT), "querylint", "--all-files", "--color", "never", check=False)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "Passed" in good.stdout


FIXABLE = '''\
import sqlite3

DB = sqlite3.connect("app.db")


def save(rows):
    cur = DB.cursor()
    for name, price in rows:
        cur.execute("INSERT INTO items (name, price) VALUES (?, ?)", (name, price))
    DB.commit()
'''


@pytest.mark.slow
def test_the_fix_hook_rewrites_the_file_fails_once_and_then_passes(tmp_path):
    pre_commit = _pre_commit()
    repo, run = _repository(tmp_path)
    target = repo / "save.py"
    target.write_text(FIXABLE, encoding="utf-8")
    run("git", "add", ".")
    first = run(pre_commit, "try-repo", str(ROOT), "querylint-fix", "--all-files", "--color", "never", check=False)
    assert first.returncode == 1, first.stdout + first.stderr
    assert "files were modified by this hook" in first.stdout
    fixed = target.read_text(encoding="utf-8")
    assert 'cur.executemany("INSERT INTO items (name, price) VALUES (?, ?)", [(name, price) for name, price in rows])' in fixed
    run("git", "add", ".")
    second = run(pre_commit, "try-repo", str(ROOT), "querylint-fix", "--all-files", "--color", "never", check=False)
    assert second.returncode == 0, second.stdout + second.stderr


@pytest.mark.slow
def test_the_hook_lints_a_changed_template_with_its_view(tmp_path):
    """pre-commit hands the hook a changed template among other text files: the template's N+1
    is reported from the view that renders it, and the other files cause no error."""
    pre_commit = _pre_commit()
    repo, run = _repository(tmp_path)
    shutil.copytree(ROOT / "fixtures" / "django" / "templates" / "dj_pages", repo / "dj_pages")
    (repo / "README.md").write_text("# shop\n", encoding="utf-8")
    (repo / "requirements.txt").write_text("django\n", encoding="utf-8")
    run("git", "add", ".")
    files = ["dj_pages/templates/dj_pages/orders.html", "README.md", "requirements.txt"]
    out = run(pre_commit, "try-repo", str(ROOT), "querylint", "--color", "never", "--files", *files, check=False)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "dj_pages/templates/dj_pages/orders.html:3:28: QL105" in out.stdout
    assert "README.md" not in out.stdout and "error" not in out.stdout.lower()
