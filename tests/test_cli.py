"""The command line end to end: through click's CliRunner and through the installed console script.

Exit codes 0/1/2, the JSON shape, configuration errors, file errors, selection prefixes,
--list-rules/--explain, colour, suppressions, per-file-ignores and third-party plugins.
"""
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from querylint.cli import main

SCRIPT = Path(sys.executable).with_name("querylint")

LOOP = '''\
import sqlite3


def report(ids):
    cur = sqlite3.connect("app.db").cursor()
    for i in ids:
        cur.execute("SELECT name FROM users WHERE id = ?", (i,))
'''
CLEAN = '''\
import sqlite3


def report(ids):
    cur = sqlite3.connect("app.db").cursor()
    cur.execute("SELECT name FROM users WHERE id IN (SELECT value FROM json_each(?))", (ids,))
    return cur.fetchall()
'''


def write(root: Path, files) -> Path:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


@pytest.fixture
def project(tmp_path):
    return write(tmp_path, {"pyproject.toml": "", "app/report.py": LOOP, "app/clean.py": CLEAN})


def cli(args, cwd, monkeypatch, env=None):
    monkeypatch.chdir(cwd)
    for k in ("NO_COLOR", "FORCE_COLOR"):
        monkeypatch.delenv(k, raising=False)
    return CliRunner().invoke(main, ["--no-cache", *map(str, args)], env=env, catch_exceptions=False)


def script(args, cwd, env=None):
    e = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    e.update(env or {})
    return subprocess.run([str(SCRIPT), "--no-cache", *map(str, args)], cwd=cwd, capture_output=True, text=True, env=e)


# --------------------------------------------------------------------------- exit codes and shapes


def test_exit_codes(project, monkeypatch):
    assert cli(["app/clean.py"], project, monkeypatch).exit_code == 0
    assert cli(["app/report.py"], project, monkeypatch).exit_code == 1
    assert cli(["--exit-zero", "app/report.py"], project, monkeypatch).exit_code == 0
    res = cli(["missing.py"], project, monkeypatch)
    assert res.exit_code == 2 and "missing.py: no such file or folder" in res.stderr
    assert cli(["--select", "XY1"], project, monkeypatch).exit_code == 2


def test_console_script_exit_codes_and_streams(project):
    assert SCRIPT.exists()
    ok = script(["app/clean.py"], project)
    assert (ok.returncode, ok.stdout) == (0, "")
    assert "Found 0 problems in 1 file." in ok.stderr
    bad = script(["app/report.py"], project)
    assert bad.returncode == 1
    assert bad.stdout.startswith("app/report.py:7:9: QL101 `cur.execute(...)`")
    assert script(["--format", "nope"], project).returncode == 2
    assert script(["--version"], project).stdout.startswith("querylint ")


def test_json_shape(project, monkeypatch):
    res = cli(["--format", "json"], project, monkeypatch)
    doc = json.loads(res.stdout)
    assert set(doc) == {"version", "findings", "errors", "suppressed", "summary"}
    (f,) = doc["findings"]
    assert set(f) >= {"rule", "name", "severity", "path", "line", "column", "end_line", "end_column", "message"}
    assert (f["rule"], f["path"], f["line"], f["column"]) == ("QL101", "app/report.py", 7, 9)
    assert doc["summary"] == {"files": 2, "skipped": 0, "findings": 1, "errors": 0, "suppressed": 0, "hidden": 0, "by_rule": {"QL101": 1}}
    assert res.stderr == ""  # machine formats own stdout, nothing else is printed


def test_syntax_error_file_is_reported_and_others_still_lint(project, monkeypatch):
    write(project, {"app/broken.py": "def f(:\n    pass\n", "app/latin.py": b"x = '\xe9'\n".decode("latin-1")})
    (project / "app" / "latin.py").write_bytes(b"x = '\xe9'\n")
    res = cli(["--format", "json"], project, monkeypatch)
    assert res.exit_code == 1
    doc = json.loads(res.stdout)
    assert [f["path"] for f in doc["findings"]] == ["app/report.py"]
    kinds = {e["path"]: e["kind"] for e in doc["errors"]}
    assert kinds == {"app/broken.py": "syntax", "app/latin.py": "decode"}
    text = cli([], project, monkeypatch)
    assert "app/broken.py:" in text.stderr and ": error: syntax error" in text.stderr
    assert "Found 1 problem in 4 files, 2 file errors." in text.stderr


# --------------------------------------------------------------------------- configuration errors


@pytest.mark.parametrize("toml, message", [
    ("[tool.querylint\nselect = 1", "invalid TOML"),
    ("[tool.querylint]\nselectt = [\"QL1\"]", "unknown key; did you mean 'select'?"),
    ("[tool.querylint]\nselect = \"QL101\"", "select: expected a list of rule codes or prefixes like \"QL101\" or \"QL1\", got the string 'QL101'"),
    ("[tool.querylint]\npreview = \"yes\"", "preview: expected true or false, got the string 'yes'"),
    ("[tool.querylint]\nselect = [\"QL999\"]", "unknown rule code or prefix 'QL999'"),
])
def test_config_errors_exit_2_naming_file_and_key(project, monkeypatch, toml, message):
    (project / "pyproject.toml").write_text(toml, encoding="utf-8")
    res = cli([], project, monkeypatch)
    assert res.exit_code == 2
    assert "pyproject.toml" in res.stderr
    assert message in res.stderr
    assert res.stdout == ""


def test_explicit_config_file(project, monkeypatch):
    (project / "ql.toml").write_text("[tool.querylint]\nignore = [\"QL1\"]\n", encoding="utf-8")
    assert cli(["--config", "ql.toml"], project, monkeypatch).exit_code == 0
    assert cli(["--config", "nope.toml"], project, monkeypatch).exit_code == 2


# --------------------------------------------------------------------------- selection


def codes(res):
    return sorted({f["rule"] for f in json.loads(res.stdout)["findings"]})


SELECTION_SRC = {
    "pyproject.toml": "",
    "sel.py": '''\
        import sqlite3


        def f(ids):
            cur = sqlite3.connect("x.db").cursor()
            cur.execute("SELECT * FROM users u JOIN orders o ON o.user_id = u.id")
            for i in ids:
                cur.execute("SELECT name FROM users WHERE id = ?", (i,))
        ''',
}


@pytest.mark.parametrize("args, want", [
    ([], ["QL101", "QL301"]),
    (["--select", "QL1"], ["QL101"]),
    (["--select", "QL3"], ["QL301"]),
    (["--select", "QL"], ["QL101", "QL301"]),
    (["--select", "ALL", "--ignore", "QL30"], ["QL101"]),
    (["--select", "QL1", "--extend-select", "QL301"], ["QL101", "QL301"]),
    (["--select", "QL1,QL3", "--ignore", "QL101"], ["QL301"]),
    (["--ignore", "QL1", "--select", "QL101"], ["QL101"]),  # the longer prefix wins
])
def test_selection_prefixes(tmp_path, monkeypatch, args, want):
    write(tmp_path, SELECTION_SRC)
    assert codes(cli(["--format", "json", *args], tmp_path, monkeypatch)) == want


def test_list_rules_and_explain(project, monkeypatch):
    res = cli(["--list-rules"], project, monkeypatch)
    lines = res.stdout.splitlines()
    assert lines[0].split() == ["code", "name", "default", "aliases", "summary"]
    assert any(l.startswith("QL101   query-in-loop") for l in lines)
    res = cli(["--explain", "QL101"], project, monkeypatch)
    assert res.stdout.startswith("QL101 (query-in-loop) [on by default, severity warning]")
    assert "## Why is this bad?" in res.stdout
    assert cli(["--explain", "query-in-loop"], project, monkeypatch).stdout.startswith("QL101 ")
    bad = cli(["--explain", "QL999"], project, monkeypatch)
    assert bad.exit_code == 2 and "unknown rule 'QL999'" in bad.stderr


def test_folder_named_rules_still_lints(tmp_path, monkeypatch):
    write(tmp_path, {"pyproject.toml": "", "rules/report.py": LOOP})
    res = cli(["rules"], tmp_path, monkeypatch)
    assert res.exit_code == 1
    assert res.stdout.startswith("rules/report.py:7:9: QL101")
    assert script(["rules"], tmp_path).returncode == 1


# --------------------------------------------------------------------------- colour


def test_colour_follows_tty_no_color_and_force_color(project):
    plain = script(["app/report.py"], project)
    assert "\x1b[" not in plain.stdout  # a pipe is not a terminal
    forced = script(["app/report.py"], project, env={"FORCE_COLOR": "1"})
    assert "\x1b[1mapp/report.py\x1b[0m" in forced.stdout
    assert "\x1b[" not in script(["app/report.py"], project, env={"FORCE_COLOR": "1", "NO_COLOR": "1"}).stdout
    assert "\x1b[" not in script(["--format", "json", "app/report.py"], project, env={"FORCE_COLOR": "1"}).stdout


def test_colour_on_a_terminal(project):
    pty = pytest.importorskip("pty")
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    out = []

    def read(fd):
        data = os.read(fd, 65536)
        out.append(data)
        return data

    cwd = os.getcwd()
    os.chdir(project)
    try:
        os.environ.pop("NO_COLOR", None)
        pty.spawn([str(SCRIPT), "--no-cache", "app/report.py"], read)
    finally:
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(env)
    text = b"".join(out).decode()
    assert "\x1b[1mapp/report.py\x1b[0m" in text


# --------------------------------------------------------------------------- suppressions


SUPPRESSED = '''\
import sqlite3


def report(ids):
    cur = sqlite3.connect("app.db").cursor()
    for i in ids:
        cur.execute("SELECT a FROM t WHERE id = ?", (i,))  # querylint: ignore[QL101] -- at most 3 shards
        cur.execute("SELECT b FROM t WHERE id = ?", (i,))  # noqa: QL101
        cur.execute("SELECT c FROM t WHERE id = ?", (i,))  # noqa
        cur.execute("SELECT d FROM t WHERE id = ?", (i,))  # querylint: ignore
        cur.execute("SELECT e FROM t WHERE id = ?", (i,))  # noqa: E501
        cur.execute("SELECT f FROM t WHERE id = ?", (i,))
    x = 1  # querylint: ignore[QL101] -- stale
'''


def test_suppressions(tmp_path, monkeypatch):
    write(tmp_path, {"pyproject.toml": "", "s.py": SUPPRESSED})
    doc = json.loads(cli(["--format", "json"], tmp_path, monkeypatch).stdout)
    assert [f["line"] for f in doc["findings"]] == [11, 12]
    assert [(f["line"], f.get("suppression_reason")) for f in doc["suppressed"]] == [(7, "at most 3 shards"), (8, ""), (9, ""), (10, "")]
    doc = json.loads(cli(["--format", "json", "--report-unused-suppressions"], tmp_path, monkeypatch).stdout)
    unused = [(f["line"], f["message"]) for f in doc["findings"] if f["rule"] == "QL001"]
    assert unused == [(13, "suppression of QL101 silences nothing here")]


def test_per_file_ignores(tmp_path, monkeypatch):
    write(tmp_path, {
        "pyproject.toml": '[tool.querylint]\nper-file-ignores = { "scripts/*.py" = ["QL1"] }\n',
        "scripts/one_off.py": LOOP,
        "app/report.py": LOOP,
    })
    doc = json.loads(cli(["--format", "json"], tmp_path, monkeypatch).stdout)
    assert [f["path"] for f in doc["findings"]] == ["app/report.py"]
    assert [f["path"] for f in doc["suppressed"]] == ["scripts/one_off.py"]


# --------------------------------------------------------------------------- plugins

PLUGIN = '''\
import libcst as cst

from querylint.rule import Rule


class PrintCall(Rule):
    """Flags print().

    ## What it does

    Flags calls to `print()`.

    ## Why is this bad?

    Logs belong in the logger.

    ## Example

    ```python
    print(x)
    ```

    ## Use instead

    ```python
    log.info(x)
    ```
    """

    code = "QL901"
    name = "print-call"
    VALID = ["log(x)"]
    INVALID = ["print(x)  # want: QL901"]

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name) and node.func.value == "print":
            self.report(node, "`print()` call")


RULES = (PrintCall,)
'''


def make_plugin_site(site: Path) -> None:
    """A tiny installed distribution (a dist-info with an entry point) and a broken one."""
    site.mkdir()
    (site / "ql_print_plugin.py").write_text(PLUGIN, encoding="utf-8")
    for name, module in (("ql-print-plugin", "ql_print_plugin"), ("ql-broken-plugin", "ql_broken_plugin")):
        info = site / f"{name.replace('-', '_')}-1.2.3.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.2.3\n", encoding="utf-8")
        (info / "entry_points.txt").write_text(f"[querylint.plugins]\n{name} = {module}\n", encoding="utf-8")
    (site / "ql_broken_plugin.py").write_text("raise ImportError('missing dependency frobnicate')\n", encoding="utf-8")


def test_third_party_plugin_runs_and_broken_plugin_is_reported(tmp_path):
    make_plugin_site(tmp_path / "site")
    write(tmp_path, {"pyproject.toml": "", "app.py": "print('hi')\n"})
    env = {"PYTHONPATH": str(tmp_path / "site")}
    rules = script(["--list-rules"], tmp_path, env)
    assert "QL901   print-call" in rules.stdout
    res = script(["--format", "json", "--select", "QL9", "app.py"], tmp_path, env)
    doc = json.loads(res.stdout)
    assert [(f["rule"], f["line"]) for f in doc["findings"]] == [("QL901", 1)]
    (err,) = doc["errors"]
    assert err["kind"] == "plugin"
    assert err["path"].startswith("ql-broken-plugin (ql_broken_plugin 1.2.3)")
    assert "missing dependency frobnicate" in err["message"]
    assert res.returncode == 2  # a plugin that cannot load is an internal error, the run still finishes
    text = script(["app.py", "--select", "QL901"], tmp_path, env)
    assert "ql-broken-plugin" in text.stderr and "plugin failed to load and was skipped" in text.stderr
    assert text.stdout.startswith("app.py:1:1: QL901 `print()` call")
