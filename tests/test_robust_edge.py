"""Hostile and unusual files: querylint reads what Python developers write, and says plainly
what it could not read. Every run here enables every registered rule (``ALL``), so the rule
families added later are exercised too.

Invariants checked throughout: no exception escapes, no internal error, a file that cannot be
read or parsed becomes one file error with a reason, and a finding in a healthy file next to a
broken one is never lost.
"""
from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple
from urllib.parse import quote

import pytest

from querylint.api import LintResult, lint_paths
from querylint.run.config import Config
from querylint.run.discovery import PathError
from querylint.report.reporters import FORMATTERS
from querylint.testing import registry

# A query per loop item (QL101 on line 8): the canary that must survive next to broken files.
CANARY = '''import sqlite3


def report(ids):
    with sqlite3.connect("app.db") as conn:
        cur = conn.cursor()
        for i in ids:
            cur.execute("SELECT name FROM users WHERE id = ?", (i,))
'''
CANARY_LINE = 8


def lint_dir(root: Path, paths: Optional[Sequence[Path]] = None, **settings) -> LintResult:
    """Lint with every rule enabled, in this process, no cache."""
    config = Config(select=("ALL",), respect_gitignore=False, **settings)
    result = lint_paths(list(paths) if paths else [root], config, root, registry(), cwd=root)
    assert not result.internal_errors, result.internal_errors
    return result


def ql101(result: LintResult) -> List[Tuple[str, int]]:
    return [(f.path, f.line) for f in result.findings if f.rule == "QL101"]


def write(path: Path, data) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_bytes(data.encode("utf-8"))
    return path


def project(tmp_path: Path, files: Dict[str, object]) -> Path:
    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")
    for rel, data in files.items():
        write(tmp_path / rel, data)
    return tmp_path


def run_cli(args: Iterable, cwd: Path, timeout: float = 300) -> Tuple[int, str, str]:
    """querylint in a real subprocess (a segfault or a hang must fail the test, not kill pytest)."""
    proc = subprocess.run(
        [sys.executable, "-m", "querylint", "--no-cache", *[str(a) for a in args]],
        cwd=cwd, capture_output=True, timeout=timeout,
        env={**os.environ, "NO_COLOR": "1", "PYTHONUTF8": "1"},
    )
    out = proc.stdout.decode("utf-8")  # output is always valid UTF-8
    err = proc.stderr.decode("utf-8")
    assert proc.returncode in (0, 1, 2), f"killed by signal {-proc.returncode}: {err[-2000:]}"
    assert "Traceback" not in err, err
    return proc.returncode, out, err


def json_run(args: Iterable, cwd: Path, timeout: float = 300) -> Tuple[int, dict]:
    code, out, _err = run_cli(["--format", "json", "--select", "ALL", *args], cwd, timeout)
    doc = json.loads(out)
    assert not [e for e in doc["errors"] if e["kind"] in ("internal", "plugin")], doc["errors"]
    return code, doc


# --------------------------------------------------------------------------- trivial files


def test_empty_and_comment_only_files_lint_cleanly(tmp_path):
    root = project(tmp_path, {
        "empty.py": "",
        "blank.py": "\n\n\n",
        "comments.py": "# nothing here\n# at all\n",
        "shebang.py": "#!/usr/bin/env python3\n# -*- coding: utf-8 -*-\n",
        "docstring.py": '"""Only a docstring."""\n',
        "no_newline.py": "x = 1",
        "form_feed.py": "\x0cx = 1\n\x0c\ndef f():\n    \x0c\n    return 1\n",
        "pkg/__init__.py": "",
    })
    result = lint_dir(root)
    assert result.files == 8
    assert result.errors == [] and result.findings == []


# --------------------------------------------------------------------------- encodings

LATIN1_CANARY = b"# -*- coding: latin-1 -*-\n# caf\xe9 cr\xe8me br\xfbl\xe9e\n" + CANARY.encode("ascii")
ENCODED = {
    "utf8-bom": (b"\xef\xbb\xbf" + CANARY.encode("utf-8"), 0),
    "utf8-bom-and-cookie": (b"\xef\xbb\xbf# coding: utf-8\n" + CANARY.encode("utf-8"), 1),
    "latin-1-cookie": (LATIN1_CANARY, 2),
    "cp1252-cookie-vim-style": (b"# vim: set fileencoding=cp1252 :\n# \x93quoted\x94 \x80\n" + CANARY.encode("ascii"), 2),
    "utf8-non-ascii": (("# données, 数据, δεδομένα\nNAME = 'é'\n" + CANARY).encode("utf-8"), 2),
}


@pytest.mark.parametrize("name", sorted(ENCODED))
def test_declared_and_bom_encodings_keep_their_findings(tmp_path, name):
    data, shift = ENCODED[name]
    root = project(tmp_path, {"enc.py": data})
    result = lint_dir(root)
    assert result.errors == []
    assert ql101(result) == [("enc.py", CANARY_LINE + shift)]


def test_latin1_file_reports_the_right_column(tmp_path):
    """Columns count characters of the decoded text, not bytes."""
    root = project(tmp_path, {"a.py": LATIN1_CANARY, "b.py": CANARY})
    result = lint_dir(root)
    cols = {f.path: f.column for f in result.findings if f.rule == "QL101"}
    assert cols["a.py"] == cols["b.py"]


UNDECODABLE = {
    # (bytes, expected words in the message, expected line or None)
    "invalid-utf8": (CANARY.encode() + b"NAME = '\xff\xfe'\n", ("utf-8",), CANARY_LINE + 1),
    "invalid-declared-utf8": (b"# coding: utf-8\nx = 1\ny = '\xe9'\n", ("utf-8",), 3),
    "unknown-cookie": (b"# -*- coding: klingon -*-\nx = 1\n", ("klingon",), None),
    "bom-with-latin1-cookie": (b"\xef\xbb\xbf# coding: latin-1\nx = 1\n", ("encoding",), None),
    "utf16-without-bom": ("x = 1\n".encode("utf-16-le"), (), None),
}


@pytest.mark.parametrize("name", sorted(UNDECODABLE))
def test_undecodable_file_is_one_file_error_and_the_canary_survives(tmp_path, name):
    data, words, line = UNDECODABLE[name]
    root = project(tmp_path, {"bad.py": data, "good.py": CANARY})
    result = lint_dir(root)
    assert ql101(result) == [("good.py", CANARY_LINE)]
    errors = [e for e in result.errors if e.path == "bad.py"]
    assert len(errors) == 1, result.errors
    assert errors[0].kind in ("decode", "syntax")
    for w in words:
        assert w in errors[0].message.lower()
    if line is not None:
        assert errors[0].line == line
    assert result.exit_code == 1


def test_null_byte_is_a_syntax_error(tmp_path):
    root = project(tmp_path, {"nul.py": b"x = 1\x00\n", "good.py": CANARY})
    result = lint_dir(root)
    assert [e.kind for e in result.errors] == ["syntax"]
    assert ql101(result) == [("good.py", CANARY_LINE)]


# --------------------------------------------------------------------------- line endings, tabs, long lines


@pytest.mark.parametrize("newline", ["\r\n", "\r"], ids=["crlf", "cr-only"])
def test_line_endings_do_not_move_findings(tmp_path, newline):
    root = project(tmp_path, {"lf.py": CANARY, "other.py": CANARY.replace("\n", newline)})
    result = lint_dir(root)
    assert result.errors == []
    spans = {f.path: (f.span.line, f.span.column) for f in result.findings if f.rule == "QL101"}
    assert spans["other.py"] == spans["lf.py"] == (CANARY_LINE, spans["lf.py"][1])


def test_mixed_line_endings(tmp_path):
    lines = CANARY.split("\n")
    mixed = "".join(line + ("\r\n" if i % 2 else "\n") for i, line in enumerate(lines[:-1]))
    root = project(tmp_path, {"mixed.py": mixed})
    assert ql101(lint_dir(root)) == [("mixed.py", CANARY_LINE)]


def test_tab_indentation(tmp_path):
    tabbed = "\n".join(line.replace("    ", "\t") for line in CANARY.split("\n"))
    root = project(tmp_path, {"tabs.py": tabbed})
    result = lint_dir(root)
    assert result.errors == []
    assert ql101(result) == [("tabs.py", CANARY_LINE)]


def test_inconsistent_tabs_are_a_syntax_error(tmp_path):
    root = project(tmp_path, {"bad.py": "if True:\n\tx = 1\n        y = 2\n", "good.py": CANARY})
    result = lint_dir(root)
    assert [(e.path, e.kind) for e in result.errors] == [("bad.py", "syntax")]
    assert ql101(result) == [("good.py", CANARY_LINE)]


def test_very_long_lines(tmp_path):
    long_string = 'BLOB = "' + "x" * 1_000_000 + '"\n'
    long_list = "NUMBERS = [" + ", ".join(str(i) for i in range(100_000)) + "]\n"
    long_call = "def g(cur, ids):\n    for i in ids:\n        cur.execute(" + '"SELECT 1" ' * 2000 + ")\n"
    root = project(tmp_path, {"long.py": long_string + long_list + CANARY, "call.py": long_call})
    result = lint_dir(root)
    assert result.errors == []
    assert ("long.py", CANARY_LINE + 2) in ql101(result)


@pytest.mark.slow
def test_file_of_50000_lines(tmp_path):
    """Linear enough: a 50,000-line module lints in bounded time and keeps its last finding."""
    chunk = "def helper_{n}(rows):\n    return [r for r in rows if r]\n\n\n"
    n_lines = CANARY.count("\n")
    body = "".join(chunk.format(n=i) for i in range((50_000 - n_lines) // 4))
    source = body + CANARY
    assert source.count("\n") == 50_000
    root = project(tmp_path, {"huge.py": source})
    start = time.process_time()
    result = lint_dir(root)
    spent = time.process_time() - start
    assert result.errors == []
    assert ql101(result) == [("huge.py", 50_000)]
    assert spent < 180, f"50,000 lines took {spent:.0f}s of CPU"


# --------------------------------------------------------------------------- deep nesting

DEEP = {
    # CPython itself refuses these (too many nested parentheses / recursion in its parser)
    "parens_5000.py": "x = " + "(" * 5000 + "1" + ")" * 5000 + "\n",
    "lists_3000.py": "x = " + "[" * 3000 + "]" * 3000 + "\n",
    "fstrings_500.py": "x = " + "f'{" * 500 + "1" + "}'" * 500 + "\n",
    "calls_5000.py": "x = a" + ".b()" * 5000 + "\n",
    "lambdas_5000.py": "x = " + "lambda: " * 5000 + "a\n",
    "unary_20000.py": "x = " + "-" * 20000 + "a\n",
    "indent_120.py": "".join(" " * i + "if x:\n" for i in range(120)) + " " * 120 + "pass\n",
    # CPython accepts these: querylint must lint them (deep trees, recursive walks)
    "sum_1000.py": "def f(a):\n    return " + " + ".join(["a"] * 1000) + "\n",
    "attrs_1000.py": "x = a" + ".b" * 1000 + "\n",
    "boolops_2000.py": "def f(a):\n    if " + " and ".join(["a"] * 2000) + ":\n        pass\n",
    "concat_3000.py": "TOPICS = {\n    'a': (\n" + "".join(f"        'line {i}\\n'\n" for i in range(3000)) + "    ),\n}\n",
    "defs_90.py": "".join("    " * i + f"def f{i}():\n" for i in range(90)) + "    " * 90 + "pass\n",
}
SHOULD_LINT = {"sum_1000.py", "attrs_1000.py", "boolops_2000.py", "concat_3000.py", "defs_90.py"}


@pytest.mark.slow
def test_deeply_nested_files_are_file_errors_not_crashes(tmp_path):
    """libcst's native parser overflows the C stack (a segfault) on deep nesting, and tree walks
    overflow Python's recursion limit: each such file is linted or reported, and the run goes on."""
    root = project(tmp_path, {**DEEP, "good.py": CANARY})
    code, doc = json_run(["."], root, timeout=600)
    assert code == 1
    assert [(f["path"], f["line"]) for f in doc["findings"] if f["rule"] == "QL101"] == [("good.py", CANARY_LINE)]
    errors = {e["path"]: e for e in doc["errors"]}
    assert set(errors) == set(DEEP) - SHOULD_LINT, errors
    for path, e in errors.items():
        assert e["kind"] == "syntax", e
        assert "nested" in e["message"] or "indentation" in e["message"] or "too" in e["message"], e
    assert doc["summary"]["files"] == len(DEEP) + 1


def test_deep_but_valid_tree_is_linted_with_findings(tmp_path, monkeypatch):
    """A tree deeper than the recursion limit allows (1,500 concatenated strings, like the
    standard library's pydoc_data/topics.py) is walked on a big stack, and a finding in it is
    still reported."""
    import querylint.engine as engine

    deep_calls = []
    real = engine.call_deep

    def spy(fn, *args, recursion=False):
        deep_calls.append(recursion)
        return real(fn, *args, recursion=recursion)

    monkeypatch.setattr(engine, "call_deep", spy)
    sql = "".join(f"        'part {i} '\n" for i in range(1500))
    source = CANARY + "\n\ndef dump(cur, ids):\n    for i in ids:\n        cur.execute(\n" + sql + "        'SELECT 1', (i,))\n"
    root = project(tmp_path, {"deep.py": source})
    result = lint_dir(root)
    assert result.errors == []
    assert True in deep_calls  # the retry with a raised recursion limit did happen
    assert ("deep.py", CANARY_LINE) in ql101(result)
    assert any(line > CANARY_LINE for _p, line in ql101(result))


# --------------------------------------------------------------------------- newer syntax

NEW_SYNTAX = {
    "type_statement": "type Rows = list[int]\ntype Pair[T] = tuple[T, T]\n",
    "pep695_function": "def first[T](xs: list[T]) -> T:\n    return xs[0]\n",
    "pep695_class": "class Box[T: (int, str), *Ts, **P]:\n    def get(self) -> T: ...\n",
    "pep696_default": "def f[T = int](x: T) -> T:\n    return x\n",
    "pep701_fstrings": 'songs = ["a"]\nx = f"{", ".join(songs)}"\ny = f"{f"{f"{1}"}"}"\nz = f"{\n  1 + 2  # comment\n}"\n',
    "except_star": "try:\n    pass\nexcept* ValueError:\n    pass\n",
    "match": "match x:\n    case {'a': 1, **rest}:\n        pass\n    case [1, *_] | Point(x=0):\n        pass\n",
    "pep758_except": "try:\n    pass\nexcept ValueError, TypeError:\n    pass\n",
    "pep750_tstring": 'name = 1\nx = t"hi {name}"\n',
}


@pytest.mark.parametrize("name", sorted(NEW_SYNTAX))
def test_newer_syntax_is_parsed_or_reported_cleanly(tmp_path, name):
    root = project(tmp_path, {"new.py": NEW_SYNTAX[name], "good.py": CANARY})
    result = lint_dir(root)
    assert all(e.kind == "syntax" for e in result.errors), result.errors
    assert ql101(result) == [("good.py", CANARY_LINE)]


def test_findings_inside_pep695_generic_code(tmp_path):
    source = (
        "import sqlite3\n\ntype Ids = list[int]\n\n\n"
        "def report[T](ids: list[T]) -> None:\n"
        '    with sqlite3.connect("app.db") as conn:\n'
        "        cur = conn.cursor()\n"
        "        for i in ids:\n"
        '            cur.execute("SELECT name FROM users WHERE id = ?", (i,))\n'
    )
    root = project(tmp_path, {"gen.py": source})
    result = lint_dir(root)
    if result.errors:  # an older libcst: must at least be a clean syntax error
        assert [e.kind for e in result.errors] == ["syntax"]
    else:
        assert ql101(result) == [("gen.py", 10)]


# --------------------------------------------------------------------------- file system oddities


def test_symlinked_file_is_linted_once(tmp_path):
    root = project(tmp_path, {"real.py": CANARY})
    (root / "alias.py").symlink_to("real.py")
    result = lint_dir(root)
    assert result.files == 1
    assert len(ql101(result)) == 1


def test_symlink_loops_and_dangling_links_are_reported(tmp_path):
    root = project(tmp_path, {"good.py": CANARY, "sub/inner.py": "x = 1\n"})
    (root / "loop_a.py").symlink_to("loop_b.py")
    (root / "loop_b.py").symlink_to("loop_a.py")
    (root / "dangling.py").symlink_to("missing.py")
    (root / "sub" / "up").symlink_to("..")  # a folder loop: never followed
    (root / "self").symlink_to("self")
    result = lint_dir(root)
    assert ql101(result) == [("good.py", CANARY_LINE)]
    reported = {e.path: e for e in result.errors}
    assert set(reported) == {"loop_a.py", "loop_b.py", "dangling.py"}
    assert all(e.kind == "read" and "symbolic link" in e.message for e in reported.values())
    assert result.files == 2


def test_symlink_loop_named_on_the_command_line(tmp_path):
    root = project(tmp_path, {"good.py": CANARY})
    (root / "loop_a.py").symlink_to("loop_b.py")
    (root / "loop_b.py").symlink_to("loop_a.py")
    code, out, err = run_cli(["loop_a.py", "good.py"], root)
    assert code == 1
    assert "loop_a.py" in err and "symbolic link" in err
    assert "good.py:8:" in out


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this platform")
def test_named_pipe_is_not_read(tmp_path):
    """Reading a FIFO blocks forever: it is reported, never opened."""
    root = project(tmp_path, {"good.py": CANARY})
    os.mkfifo(root / "pipe.py")
    code, out, err = run_cli(["."], root, timeout=120)
    assert code == 1
    assert "pipe.py" in err and "not a regular file" in err
    code, out, err = run_cli(["pipe.py"], root, timeout=120)
    assert "pipe.py" in err


def _chmod_blocks_reading(path: Path) -> bool:
    try:
        with open(path, "rb"):
            return False
    except PermissionError:
        return True


def test_unreadable_file_chmod(tmp_path):
    root = project(tmp_path, {"secret.py": CANARY, "good.py": CANARY})
    secret = root / "secret.py"
    secret.chmod(0)
    try:
        if not _chmod_blocks_reading(secret):
            pytest.skip("running with privileges that ignore file permissions (root)")
        result = lint_dir(root)
        assert [(e.path, e.kind) for e in result.errors] == [("secret.py", "read")]
        assert "permission" in result.errors[0].message.lower()
        assert ql101(result) == [("good.py", CANARY_LINE)]
    finally:
        secret.chmod(0o644)


def test_unreadable_folder_chmod(tmp_path):
    root = project(tmp_path, {"locked/inner.py": CANARY, "good.py": CANARY})
    locked = root / "locked"
    locked.chmod(0)
    try:
        if not _chmod_blocks_reading(locked / "inner.py"):
            pytest.skip("running with privileges that ignore file permissions (root)")
        result = lint_dir(root)
        assert ql101(result) == [("good.py", CANARY_LINE)]
        assert [e.path for e in result.errors] == ["locked"]
    finally:
        locked.chmod(0o755)


def test_read_failure_is_a_file_error(tmp_path, monkeypatch):
    """The same path as chmod 000, independent of privileges: the read itself fails."""
    root = project(tmp_path, {"secret.py": CANARY, "good.py": CANARY})
    real = pathlib.Path.read_bytes

    def read_bytes(self):
        if self.name == "secret.py":
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(pathlib.Path, "read_bytes", read_bytes)
    result = lint_dir(root)
    assert [(e.path, e.kind) for e in result.errors] == [("secret.py", "read")]
    assert "Permission denied" in result.errors[0].message
    assert ql101(result) == [("good.py", CANARY_LINE)]


def test_file_vanishing_between_discovery_and_reading(tmp_path, monkeypatch):
    root = project(tmp_path, {"gone.py": CANARY, "good.py": CANARY})
    real = pathlib.Path.read_bytes

    def read_bytes(self):
        if self.name == "gone.py":
            raise FileNotFoundError(2, "No such file or directory", str(self))
        return real(self)

    monkeypatch.setattr(pathlib.Path, "read_bytes", read_bytes)
    result = lint_dir(root)
    assert [(e.path, e.kind) for e in result.errors] == [("gone.py", "read")]
    assert ql101(result) == [("good.py", CANARY_LINE)]


def test_paths_with_spaces_and_non_ascii_names(tmp_path):
    rel = "my project/sous dossier/données été 数据.py"
    root = project(tmp_path, {rel: CANARY})
    result = lint_dir(root)
    assert ql101(result) == [(rel, CANARY_LINE)]
    code, doc = json_run(["my project"], root)
    assert code == 1
    assert [(f["path"], f["line"]) for f in doc["findings"] if f["rule"] == "QL101"] == [(rel, CANARY_LINE)]
    code, out, _err = run_cli(["--select", "QL101", rel], root)
    assert out.startswith(f"{rel}:{CANARY_LINE}:")


@pytest.mark.skipif(sys.platform in ("darwin", "win32"), reason="the file system refuses undecodable names")
@pytest.mark.parametrize("fmt", sorted(FORMATTERS))
def test_undecodable_file_name_in_every_format(tmp_path, fmt):
    """A file name that is not UTF-8 (raw bytes on Linux) is shown with U+FFFD, never crashes."""
    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")
    name = os.fsdecode(b"bad\xffname.py")
    (tmp_path / name).write_bytes(CANARY.encode())
    shown = ("bad\ufffdname.py", quote("bad\ufffdname.py"))  # SARIF holds URIs
    code, out, err = run_cli(["--format", fmt, "--select", "ALL", "."], tmp_path)
    assert code == 1
    assert any(s in out for s in shown)
    code2, _out, err2 = run_cli(["--format", fmt, "--select", "ALL", "--output", "report.out", "."], tmp_path)
    assert code2 == 1
    assert any(s in (tmp_path / "report.out").read_text(encoding="utf-8") for s in shown)


def test_missing_path_exits_2_with_a_message(tmp_path):
    root = project(tmp_path, {"good.py": CANARY})
    code, out, err = run_cli(["does-not-exist.py"], root)
    assert code == 2
    assert "does-not-exist.py" in err and "no such file" in err
    assert out == ""
    code, out, err = run_cli(["good.py", "missing dir/"], root)
    assert code == 2 and "missing dir" in err
    with pytest.raises(PathError):
        lint_paths([root / "nope.py"], Config(), root, registry(), cwd=root)


def test_folder_named_like_a_python_file(tmp_path):
    root = project(tmp_path, {"weird.py/inner.py": CANARY})
    result = lint_dir(root)
    assert ql101(result) == [("weird.py/inner.py", CANARY_LINE)]


@pytest.mark.parametrize("flag", ["--output", "--write-baseline"])
def test_unwritable_report_destination_exits_2(tmp_path, flag):
    root = project(tmp_path, {"good.py": CANARY})
    target = tmp_path / "no such folder" / "report.json"
    code, out, err = run_cli([flag, target, "."], root)
    assert code == 2
    assert str(target) in err and "cannot write" in err


def test_depth_check_does_not_depend_on_the_callers_stack():
    """CPython's depth guard counts from the current stack depth: querylint runs it on a fresh
    thread, so a borderline file gets the same answer from a shallow or a deep caller (and so
    from --jobs 1 and from a worker process)."""
    import ast

    from querylint.deep import TooDeepSource, parse_module

    def accepted(text):
        try:
            parse_module(text)
            return True
        except TooDeepSource:
            return False

    def at_depth(k, fn, *args):
        return at_depth(k - 1, fn, *args) if k else fn(*args)

    def cpython_ok(n):
        try:
            ast.parse("x = " + " + ".join(["a"] * n))
            return True
        except RecursionError:
            return False

    lo, hi = 100, 20000  # the largest chain CPython accepts from a shallow stack
    while lo < hi:
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if cpython_ok(mid) else (lo, mid - 1)
    borderline = "x = " + " + ".join(["a"] * (lo - 50)) + "\n"
    # (on CPython 3.11 the raw check flips with stack depth: at_depth(600, cpython_ok, lo - 50) is False)
    assert accepted(borderline) == at_depth(600, accepted, borderline) == at_depth(50, accepted, borderline)


def test_stderr_carries_only_querylint_messages(tmp_path):
    """Warnings raised while reading the linted code (invalid escapes: a SyntaxWarning on Python
    3.12+) and the SQL parser's log lines never reach the user's terminal."""
    source = (
        "import re\n\n"
        'PATTERN = re.compile("\\d+")\n'
        "y = 1(2)\n\n\n"
        "def f(cur, name):\n"
        '    cur.execute(f"SELECT \\d FROM t WHERE n = {name}")\n'
        '    cur.execute("CREATE EXTENSION IF NOT EXISTS postgis")\n'
        '    cur.execute("ALTER SESSION SET NLS_DATE_FORMAT = \'YYYY\'")\n'
        '    cur.execute("DECLARE i INTEGER; BEGIN SELECT 1 INTO i FROM dual; END")\n'
    )
    root = project(tmp_path, {"w.py": source})
    for jobs in ("1", "2"):
        code, out, err = run_cli(["--select", "ALL", "--jobs", jobs, "."], root)
        lines = [line for line in err.splitlines() if line]
        assert len(lines) == 1 and lines[0].startswith("Found "), err


def test_same_file_named_several_ways_is_linted_once(tmp_path):
    root = project(tmp_path, {"a.py": CANARY})
    (root / "self").symlink_to(".")
    code, doc = json_run([".", ".", "a.py", "./a.py", root / "a.py", "self/a.py"], root)
    assert code == 1
    assert doc["summary"]["files"] == 1
    assert len([f for f in doc["findings"] if f["rule"] == "QL101"]) == 1


def test_deep_calls_restore_the_recursion_limit_even_when_concurrent():
    import sys
    import threading

    from querylint.deep import call_deep

    before = sys.getrecursionlimit()

    def work():
        # calls from several threads share one big-stack worker and run one at a time
        return sys.getrecursionlimit()

    seen = []
    threads = [threading.Thread(target=lambda: seen.append(call_deep(work, recursion=True))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 4 and all(limit > before for limit in seen)
    assert sys.getrecursionlimit() == before
    with pytest.raises(ZeroDivisionError):  # an exception on the deep thread reaches the caller
        call_deep(lambda: 1 / 0)
