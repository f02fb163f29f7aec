"""Generated programs through the engine and every registered rule (``ALL``).

Two sources of programs: hypothesmith (programs from Python's grammar, and from libcst nodes)
and our own generator of database-flavoured code (loops, comprehensions, ORM-looking calls,
SQL strings, nested defs, decorators, async, classes that look like models) spread over a small
multi-file project, so the cross-file index and every family's inference run on odd shapes.
Corrupted variants (truncated, unbalanced, mis-indented) check that invalid files become file
errors while a healthy file next to them keeps its finding.

Invariants: no exception escapes, no internal error (a rule crash is reported with the rule's
code: hypothesis shrinks the program for the rule's owner), every file is accounted for, every
finding points inside its file.
"""
from __future__ import annotations

import ast
import tempfile
from pathlib import Path
from typing import Dict, List

import libcst as cst
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from querylint.api import LintResult, lint_paths
from querylint.run.config import Config
from querylint.testing import registry

try:
    import hypothesmith
except ImportError:  # pragma: no cover - optional test dependency
    hypothesmith = None

CANARY = '''import sqlite3


def report(ids):
    with sqlite3.connect("app.db") as conn:
        cur = conn.cursor()
        for i in ids:
            cur.execute("SELECT name FROM users WHERE id = ?", (i,))
'''
CANARY_LINE = 8

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])


def lint_project(files: Dict[str, str]) -> LintResult:
    """Lint {relative path: source} with every rule; check the invariants that hold for any input."""
    with tempfile.TemporaryDirectory(prefix="querylint-gen-") as tmp:
        root = Path(tmp)
        (root / "pyproject.toml").write_text("", encoding="utf-8")
        for rel, text in files.items():
            p = root / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(text.encode("utf-8", "surrogatepass"))
        config = Config(select=("ALL",), respect_gitignore=False, report_unused_suppressions=True)
        result = lint_paths([root], config, root, registry(), cwd=root)
    internal = [e for e in result.errors if e.kind not in ("syntax", "decode", "read")]
    assert not internal, "\n".join(f"{e.path}:{e.line}: {e.message}" for e in internal)
    assert result.files == len(files), (result.files, sorted(files))
    lines = {rel: text.count("\n") + 1 for rel, text in files.items()}
    for f in result.findings + result.suppressed:
        assert f.path in files, f
        assert 1 <= f.span.line <= lines[f.path] and f.span.column >= 1, f
        assert (f.span.line, f.span.column) <= (f.span.end_line, f.span.end_column), f
        assert f.message and not f.message.endswith("."), f
    for e in result.errors:
        assert e.path in files and e.message, e
    return result


def libcst_parses(text: str) -> bool:
    try:
        cst.parse_module(text)
        return True
    except Exception:
        return False


# --------------------------------------------------------------------------- our generator

NAMES = ["cur", "conn", "session", "db", "qs", "rows", "items", "ids", "user", "book", "self", "request", "obj", "x", "i", "pool", "engine"]
MODELS = ["Book", "Author", "User", "Order", "Item"]
FIELDS = ["author", "name", "id", "books", "items", "owner", "price", "user_set", "tags"]
SQL = [
    "SELECT * FROM books", "SELECT name FROM users WHERE id = %s", "UPDATE t SET a = 1",
    "DELETE FROM logs", "SELECT id FROM t WHERE name LIKE '%x'", "INSERT INTO t VALUES (?, ?)",
    "select count(*) from orders where user_id = :uid", "SELEC broken sql (", "", "WITH x AS (SELECT 1) SELECT * FROM x",
]

name = st.sampled_from(NAMES)
model = st.sampled_from(MODELS)
field = st.sampled_from(FIELDS)
sql = st.sampled_from(SQL).map(repr)


@st.composite
def sql_text(draw):
    """A SQL string literal, or one built by formatting (the injection-shaped ones)."""
    base = draw(sql)
    kind = draw(st.integers(0, 4))
    if kind == 0:
        return base
    if kind == 1:
        return f"{base} % ({draw(name)},)"
    if kind == 2:
        return 'f"SELECT * FROM t WHERE id = {' + draw(name) + '}"'
    if kind == 3:
        return f"{base} + str({draw(name)})"
    return f"{base}.format({draw(name)})"


@st.composite
def expr(draw, depth=0):
    """An expression that looks like database code (or plain code)."""
    choices = [
        lambda: draw(name),
        lambda: f"{draw(name)}.{draw(field)}",
        lambda: f"{draw(name)}.{draw(field)}.{draw(field)}",
        lambda: draw(model) + ".objects." + draw(st.sampled_from([
            "all()", "filter(" + draw(field) + "=" + draw(name) + ")", "get(id=" + draw(name) + ")", "count()",
            "select_related(" + repr(draw(field)) + ")", "prefetch_related(" + repr(draw(field)) + ").all()",
            'values_list("id", flat=True)', "exists()", "first()", "only('id').filter(pk__in=" + draw(name) + ")",
        ])),
        lambda: f"{draw(name)}.execute({draw(sql_text())}{draw(st.sampled_from(['', ', (1,)', ', params', ', [' + draw(name) + ']']))})",
        lambda: f"{draw(name)}.{draw(st.sampled_from(['fetchone()', 'fetchall()', 'cursor()', 'commit()', 'close()', 'add(' + draw(name) + ')', 'flush()']))}",
        lambda: f"{draw(name)}.query({draw(model)}).{draw(st.sampled_from(['get(' + draw(name) + ')', 'filter_by(id=' + draw(name) + ').first()', 'all()', 'count()']))}",
        lambda: f"{draw(name)}.scalars(select({draw(model)}).where({draw(model)}.id == {draw(name)})).all()",
        lambda: f"{draw(st.sampled_from(['sqlite3', 'psycopg2', 'pymysql', 'asyncpg', 'psycopg']))}.connect({draw(st.sampled_from(['', repr('db'), 'dsn', 'host=h']))})",
        lambda: f"create_engine({draw(st.sampled_from([repr('sqlite://'), 'URL', '']))})",
        lambda: f"sessionmaker(bind={draw(name)})()",
        lambda: f"{draw(st.sampled_from(['len', 'list', 'bool', 'sum', 'sorted', 'print', 'str']))}({draw(expr(depth + 1)) if depth < 2 else draw(name)})",
        lambda: f"{draw(name)}[{draw(st.sampled_from(['0', '-1', '1:3', 'i', repr('k')]))}]",
        lambda: f"{draw(model)}.{draw(st.sampled_from(['get_by_id(' + draw(name) + ')', 'select().where(' + draw(model) + '.id == 1)', 'query.get(' + draw(name) + ')', 'create(name=' + draw(name) + ')']))}",
        lambda: f"await {draw(name)}.{draw(st.sampled_from(['fetch', 'fetchrow', 'execute', 'get']))}({draw(sql_text())})",
        lambda: f"[{draw(expr(depth + 1)) if depth < 2 else draw(name)} for {draw(name)} in {draw(name)}]",
        lambda: f"{{{draw(name)}.id: {draw(name)}.{draw(field)} for {draw(name)} in ({draw(expr(depth + 1)) if depth < 2 else draw(name)}) if {draw(name)}}}",
        lambda: f"({draw(name)} for {draw(name)} in {draw(name)} for {draw(name)} in {draw(name)}.{draw(field)}.all())",
        lambda: f"lambda {draw(name)}: {draw(expr(depth + 1)) if depth < 2 else draw(name)}",
        lambda: f"({draw(name)} := {draw(expr(depth + 1)) if depth < 2 else draw(name)})",
        lambda: f"{draw(name)} if {draw(name)} else {draw(name)}",
        lambda: f"getattr({draw(name)}, {repr(draw(field))})",
        lambda: f"{draw(name)}.{draw(field)}_set.all()",
        lambda: f"Prefetch({repr(draw(field))}, queryset={draw(model)}.objects.all())",
        lambda: repr(draw(st.sampled_from(["", "x", "SELECT 1", "é", "\\x00", "\\n"]))),
        lambda: str(draw(st.integers(-3, 1000))),
    ]
    return draw(st.sampled_from(choices))()


def _indent(lines: List[str], n: int = 1) -> List[str]:
    return ["    " * n + line if line else line for line in lines]


@st.composite
def block(draw, depth=0, in_function=False, in_async=False, in_class=False):
    """A list of source lines (a suite), never empty."""
    out: List[str] = []
    for _ in range(draw(st.integers(1, 4))):
        kinds = ["assign", "expr", "for", "if", "with", "try"]
        if depth < 3:
            kinds += ["def", "class"] if not in_class else ["def", "def"]
        if in_function:
            kinds += ["return", "while", "yield", "nested"]
        if in_async:
            kinds += ["async_for", "async_with"]
        kind = draw(st.sampled_from(kinds))
        sub = lambda **kw: draw(block(depth + 1, in_function=kw.get("f", in_function), in_async=kw.get("a", in_async), in_class=kw.get("c", False))) if depth < 3 else ["pass"]
        if kind == "assign":
            target = draw(st.sampled_from([draw(name), f"{draw(name)}.{draw(field)}", f"{draw(name)}, {draw(name)}", f"{draw(name)}: int"]))
            out.append(f"{target} = {draw(expr())}")
        elif kind == "expr":
            out.append(draw(expr()) if in_async else draw(expr()).replace("await ", ""))
        elif kind == "for":
            out.append(f"for {draw(name)} in {draw(expr()).replace('await ', '')}:")
            out += _indent(sub())
            if draw(st.booleans()):
                out += ["else:"] + _indent(sub())
        elif kind == "while":
            out.append(f"while {draw(st.sampled_from(['True', draw(name), 'not ' + draw(name)]))}:")
            out += _indent(sub() + [draw(st.sampled_from(["break", "continue", "pass"]))])
        elif kind == "if":
            out.append(f"if {draw(expr()).replace('await ', '')}:")
            out += _indent(sub())
            if draw(st.booleans()):
                out += ["elif x:"] + _indent(sub())
        elif kind == "with":
            out.append(f"with {draw(expr()).replace('await ', '')} as {draw(name)}, transaction.atomic():")
            out += _indent(sub())
        elif kind == "try":
            out += ["try:"] + _indent(sub()) + [f"except ({draw(model)}.DoesNotExist, Exception) as exc:"] + _indent(sub())
            if draw(st.booleans()):
                out += ["finally:"] + _indent([f"{draw(name)}.close()"])
        elif kind == "return":
            out.append(f"return {draw(expr()) if in_async else draw(expr()).replace('await ', '')}")
        elif kind == "yield" and not in_async:
            out.append(f"yield {draw(expr()).replace('await ', '')}")
        elif kind == "nested":
            out.append(f"def inner_{depth}({draw(name)}):")
            out += _indent(sub(f=True, a=False))
        elif kind == "async_for":
            out.append(f"async for {draw(name)} in {draw(name)}.{draw(st.sampled_from(['cursor()', 'stream(q)', 'iterate()']))}:")
            out += _indent(sub())
        elif kind == "async_with":
            out.append(f"async with {draw(name)}.{draw(st.sampled_from(['acquire()', 'transaction()', 'begin()']))} as {draw(name)}:")
            out += _indent(sub())
        elif kind == "def":
            is_async = draw(st.booleans())
            decorators = draw(st.lists(st.sampled_from([
                "@app.route('/items/<int:i>')", "@api_view(['GET'])", "@shared_task", "@property", "@staticmethod",
                "@classmethod", "@login_required", "@router.get('/x')", "@transaction.atomic", "@functools.lru_cache()",
                "@cached_property", "@action(detail=True)",
            ]), max_size=2))
            params = draw(st.sampled_from(["", "self", "self, request", "request, pk", "cur, ids", "session, *args, **kwargs", "db=None, /, *, x=1", "self, queryset=Book.objects.all()"]))
            out += decorators
            out.append(f"{'async ' if is_async else ''}def {draw(st.sampled_from(['get', 'list', 'view', 'handler', 'load', 'get_queryset', 'perform_create', '__str__', 'save', 'helper']))}_{depth}({params}):")
            out += _indent(draw(block(depth + 1, in_function=True, in_async=is_async)) if depth < 3 else ["pass"])
        elif kind == "class":
            base = draw(st.sampled_from(["models.Model", "Base", "db.Model", "APIView", "viewsets.ModelViewSet", "serializers.ModelSerializer", "object", "View", "Model", ""]))
            out.append(f"class {draw(model)}{depth}({base}):")
            body = [
                f"{draw(field)} = models.ForeignKey({draw(model)}, on_delete=models.CASCADE, related_name={repr(draw(field))})",
                f"{draw(field)} = models.ManyToManyField({repr(draw(model))})",
                f"{draw(field)} = relationship({repr(draw(model))}, back_populates={repr(draw(field))}, lazy={repr(draw(st.sampled_from(['select', 'joined', 'dynamic', 'raise'])))})",
                f"{draw(field)}: Mapped[list[{repr(draw(model))}]] = relationship()",
                f"{draw(field)} = ForeignKeyField({draw(model)}, backref={repr(draw(field))})",
                f"queryset = {draw(model)}.objects.all()",
                f"__tablename__ = {repr(draw(field))}",
                "class Meta: model = Book; fields = '__all__'",
                "objects = BookManager()",
                f"def __str__(self): return self.{draw(field)}.name",
            ]
            out += _indent(draw(st.lists(st.sampled_from(body), min_size=1, max_size=3)))
            if draw(st.booleans()):
                out += _indent(draw(block(depth + 1, in_class=True)) if depth < 3 else ["pass"])
    return out or ["pass"]


IMPORTS = [
    "import sqlite3", "import psycopg2", "import asyncpg", "from django.db import models, transaction",
    "from django.db.models import Prefetch", "from sqlalchemy import select, create_engine",
    "from sqlalchemy.orm import Session, relationship, sessionmaker, Mapped", "from peewee import *",
    "from rest_framework import viewsets, serializers", "from rest_framework.views import APIView",
    "from flask import Flask", "from app.models import Book, Author", "from .helpers import load_0, helper_0",
    "from . import models", "import app.helpers as h",
]


COMMENTS = [
    "# querylint: ignore[QL101] -- batch of 3", "# noqa: QL101", "# noqa", "# querylint: ignore",
    "# querylint: ignore[QL1, QL3]", "# querylint: ignore[", "# querylint: ignore[] --", "# noqa:E501,QL2",
    "# querylint: ignore-file[QL4]", "# querylint: skip-file", "# type: ignore", "# want: QL101", "# é ☃ \u2028",
]


@st.composite
def module(draw):
    head = draw(st.lists(st.sampled_from(IMPORTS), max_size=5, unique=True))
    body = draw(block())
    if draw(st.booleans()):  # suppression comments, well-formed or not, on random lines
        for i in draw(st.lists(st.integers(0, len(body) - 1), max_size=3)):
            body[i] = body[i] + "  " + draw(st.sampled_from(COMMENTS))
    return "\n".join(head + [""] + body) + "\n"


@st.composite
def project_files(draw):
    names = draw(st.lists(st.sampled_from(["app/models.py", "app/views.py", "app/helpers.py", "app/tasks.py", "app/__init__.py", "main.py"]), min_size=1, max_size=4, unique=True))
    return {n: draw(module()) for n in names}


@settings(max_examples=60, **SETTINGS)
@given(project_files())
def test_generated_database_code(files):
    for text in files.values():
        assume(libcst_parses(text))
    result = lint_project(files)
    assert not result.errors, result.errors


# --------------------------------------------------------------------------- invalid programs


@st.composite
def corrupted(draw):
    """A generated module made invalid on purpose (and still invalid to libcst)."""
    text = draw(module())
    how = draw(st.sampled_from(["truncate", "insert", "dedent", "delete"]))
    if how == "truncate":
        cut = draw(st.integers(1, max(1, len(text) - 1)))
        bad = text[:cut] + draw(st.sampled_from(["(", "[", "{", "'''", '"', "\\", ":", "def f(", "lambda"]))
    elif how == "insert":
        at = draw(st.integers(0, len(text)))
        bad = text[:at] + draw(st.sampled_from([")", "]", "}", " = = ", "\n  x\n", "\tdef", "@\n", "else:\n", "import\n", "\x00", "\ufeff", "$", "?"])) + text[at:]
    elif how == "dedent":
        lines = text.split("\n")
        i = draw(st.integers(0, len(lines) - 1))
        lines.insert(i, "     misplaced = 1")
        bad = "\n".join(lines)
    else:
        at = draw(st.integers(0, max(0, len(text) - 2)))
        bad = text[:at] + text[at + draw(st.integers(1, 5)):]
    assume(not libcst_parses(bad))
    return bad


@settings(max_examples=60, **SETTINGS)
@given(corrupted())
def test_invalid_programs_become_file_errors(bad):
    result = lint_project({"broken.py": bad, "good.py": CANARY})
    assert [e.path for e in result.errors] == ["broken.py"]
    assert result.errors[0].kind == "syntax"
    assert ("good.py", CANARY_LINE) in [(f.path, f.line) for f in result.findings if f.rule == "QL101"]
    assert result.exit_code == 1


@settings(max_examples=40, **SETTINGS)
@given(st.binary(max_size=300))
def test_arbitrary_bytes(data):
    """Random bytes: decoded and linted, or one decode/syntax error; never a crash."""
    result = lint_project_bytes({"noise.py": data, "good.py": CANARY.encode()})
    assert all(e.path == "noise.py" and e.kind in ("decode", "syntax") for e in result.errors), result.errors
    assert ("good.py", CANARY_LINE) in [(f.path, f.line) for f in result.findings if f.rule == "QL101"]


SOUP = list("()[]{}:=.,'\"\\#@\n\t ;+-*/%~<>!") + [
    "\r\n", "\r", "\x0c", "é", "\u2028", "x", "cur", "0", "1.5", "if ", "for ", " in ", "def ", "class ", "async ",
    "await ", "with ", "lambda ", "return ", "yield ", "    ", "\n    ", "'''", '\"\"\"', "f'", "{x}", ".execute(", "SELECT *",
]


@settings(max_examples=60, **SETTINGS)
@given(st.lists(st.sampled_from(SOUP), max_size=80).map("".join))
def test_token_soup(text):
    """Text made of Python's punctuation and keywords: mostly invalid, sometimes valid."""
    result = lint_project({"soup.py": text, "good.py": CANARY})
    assert all(e.path == "soup.py" and e.kind in ("syntax", "decode") for e in result.errors), result.errors
    if not libcst_parses(text):
        assert [e.path for e in result.errors] == ["soup.py"]


def lint_project_bytes(files: Dict[str, bytes]) -> LintResult:
    with tempfile.TemporaryDirectory(prefix="querylint-gen-") as tmp:
        root = Path(tmp)
        (root / "pyproject.toml").write_text("", encoding="utf-8")
        for rel, data in files.items():
            (root / rel).write_bytes(data)
        result = lint_paths([root], Config(select=("ALL",), respect_gitignore=False), root, registry(), cwd=root)
    assert not [e for e in result.errors if e.kind not in ("syntax", "decode", "read")], result.errors
    assert result.files == len(files)
    return result


# --------------------------------------------------------------------------- hypothesmith

needs_hypothesmith = pytest.mark.skipif(hypothesmith is None, reason="hypothesmith is not installed")
# hypothesmith compiles its candidates: their SyntaxWarnings ("is not" with a literal) are noise here
pytestmark = pytest.mark.filterwarnings("ignore::SyntaxWarning")


@needs_hypothesmith
@settings(max_examples=40, **SETTINGS)
@given(st.builds(lambda: None) if hypothesmith is None else hypothesmith.from_grammar())
@example("async def f(db):\n    async for r in db:\n        await db.fetch(r)\n")
def test_programs_from_the_grammar(source):
    """Programs from Python's grammar (not all of them compile): linted or one syntax error."""
    result = lint_project({"gram.py": source, "good.py": CANARY})
    assert all(e.path == "gram.py" and e.kind in ("syntax", "decode") for e in result.errors), result.errors
    assert ("good.py", CANARY_LINE) in [(f.path, f.line) for f in result.findings if f.rule == "QL101"]
    if libcst_parses(source):
        assert not result.errors


@needs_hypothesmith
@settings(max_examples=30, **SETTINGS)
@given(st.builds(lambda: None) if hypothesmith is None else hypothesmith.from_node())
@example("try:\n pass\n\\\r\nfinally:\n pass\n")  # CPython parses it, libcst's parser does not
def test_programs_from_libcst_nodes(source):
    """Valid programs built from libcst nodes: linted without an error, or (the few libcst's own
    parser refuses although CPython accepts them) reported as one syntax error of that file."""
    try:
        ast.parse(source)
    except (SyntaxError, ValueError):
        assume(False)
    result = lint_project({"node.py": source})
    if libcst_parses(source):
        assert not result.errors, result.errors
    else:
        assert [(e.path, e.kind) for e in result.errors] == [("node.py", "syntax")], result.errors


@settings(max_examples=200, **SETTINGS)
@given(st.text(max_size=300))
def test_suppression_parser_takes_any_text(text):
    from querylint.suppressions import parse_suppressions

    sup = parse_suppressions(text)
    for d in sup.directives():
        assert d.line >= 1 and d.style in ("querylint", "noqa")
