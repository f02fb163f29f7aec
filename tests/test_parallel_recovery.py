"""A worker process that dies mid-run loses nothing: its files are done again in the main process."""
import json
import os

from click.testing import CliRunner

from querylint.run import parallel
from querylint.cli import main

BAD = '''import sqlite3


def totals(path, ids):
    conn = sqlite3.connect(path)
    try:
        return [conn.execute("SELECT total FROM orders WHERE id = ?", (i,)).fetchone() for i in ids]
    finally:
        conn.close()
'''


def _project(tmp_path, n=60):
    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")
    for i in range(n):
        (tmp_path / f"mod_{i:03}.py").write_text(BAD, encoding="utf-8")
    return tmp_path


def _run(tmp_path, jobs, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["--no-cache", "--jobs", str(jobs), "--format", "json", "."])
    return result.exit_code, json.loads(result.output)


def test_a_worker_dying_during_lint_loses_no_finding(tmp_path, monkeypatch):
    _project(tmp_path)
    code1, doc1 = _run(tmp_path, 1, monkeypatch)
    assert code1 == 1 and len(doc1["findings"]) == 60

    parent = os.getpid()
    real_lint = parallel.Shard.lint

    def dying_lint(self, keys):
        if os.getpid() != parent:  # in a forked worker: die without a word
            os._exit(3)
        return real_lint(self, keys)

    monkeypatch.setattr(parallel.Shard, "lint", dying_lint)
    code2, doc2 = _run(tmp_path, 2, monkeypatch)
    assert code2 == 1
    assert doc2["findings"] == doc1["findings"]
    assert doc2["errors"] == []
