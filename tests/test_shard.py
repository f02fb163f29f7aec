"""``--shard I/N``: a CI job matrix lints N parts of a project; together they are one full run."""
import json

from click.testing import CliRunner

from querylint.cli import main

HELPER = '''import sqlite3


def total_of(conn, order_id):
    return conn.execute("SELECT total FROM orders WHERE id = ?", (order_id,)).fetchone()
'''

CALLER = '''from shop.helpers import total_of


def totals_{n}(conn, ids):
    return [total_of(conn, i) for i in ids]
'''

DIRECT = '''def names_{n}(conn, ids):
    out = []
    for i in ids:
        out.append(conn.execute("SELECT name FROM users WHERE id = ?", (i,)).fetchone())
    return out
'''


def _project(tmp_path):
    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")
    pkg = tmp_path / "shop"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("", encoding="utf-8")
    (pkg / "helpers.py").write_text(HELPER, encoding="utf-8")
    for n in range(7):
        (pkg / f"orders_{n}.py").write_text(CALLER.format(n=n), encoding="utf-8")
        (pkg / f"users_{n}.py").write_text(DIRECT.format(n=n), encoding="utf-8")
    (pkg / "broken.py").write_text("def broken(:\n", encoding="utf-8")
    return tmp_path


def _run(args):
    result = CliRunner().invoke(main, ["--no-cache", "--format", "json", *args, "."])
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def _keys(doc):
    return sorted((f["path"], f["line"], f["rule"], f["message"]) for f in doc["findings"])


def test_the_parts_together_are_one_full_run(tmp_path, monkeypatch):
    monkeypatch.chdir(_project(tmp_path))
    full = _run([])
    parts = [_run(["--shard", f"{i}/3"]) for i in (1, 2, 3)]

    assert len(full["findings"]) == 14  # 7 through the helper in another file, 7 direct
    assert sorted(k for doc in parts for k in _keys(doc)) == _keys(full)
    assert sum(doc["summary"]["files"] for doc in parts) == full["summary"]["files"]
    # the file that does not parse is reported once, by the part it belongs to
    assert sum(len(doc["errors"]) for doc in parts) == len(full["errors"]) == 1
    # every part lints about a third of the files, and the same third every time
    assert all(5 <= doc["summary"]["files"] <= 6 for doc in parts)
    assert _run(["--shard", "2/3"]) == parts[1]


def test_a_bad_shard_is_a_usage_error(tmp_path, monkeypatch):
    monkeypatch.chdir(_project(tmp_path))
    for bad in ("0/3", "4/3", "2", "a/b"):
        result = CliRunner().invoke(main, ["--shard", bad, "."])
        assert result.exit_code == 2
        assert "--shard" in result.output
