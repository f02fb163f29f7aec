"""``--fix``: the fixes querylint is certain of, applied with the formatting and comments kept,
never leaving code that does not parse; ``--fix-diff`` shows them without writing."""
import json
import sys
import shutil
from pathlib import Path

import libcst as cst
import pytest
from click.testing import CliRunner

from querylint.cli import main
from querylint.run.fixes import apply_edits
from querylint.types import Edit

ROOT = Path(__file__).resolve().parent.parent
SHOP = ROOT / "fixtures" / "django" / "report_shop"
LIBRARY = ROOT / "fixtures" / "django" / "fk_lazy"


def _invoke(args, cwd, monkeypatch):
    monkeypatch.chdir(cwd)
    result = CliRunner().invoke(main, ["--no-cache", *args])
    return result.exit_code, result.stdout, result.stderr


def _copy(src, tmp_path):
    dest = tmp_path / "project"
    shutil.copytree(src, dest)
    (dest / "pyproject.toml").write_text("", encoding="utf-8")
    return dest


def _one_module(tmp_path, name, text):
    """A project of one module; the module's path."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text("", encoding="utf-8")
    module = project / name
    module.write_text(text, encoding="utf-8")
    return module


def test_edits_apply_from_the_end_and_skip_overlaps():
    text = "a = b.c\nd = e\n"
    edits = [Edit(1, 6, 1, 6, ".x()"), Edit(1, 6, 1, 6, ".y()"), Edit(2, 5, 2, 6, "f"), Edit(2, 1, 2, 6, "zzz")]
    new, applied = apply_edits(text, edits)
    assert applied == 3  # the replacement of all of line 2 overlaps the one of ``e``
    assert new in ("a = b.x().y().c\nd = f\n", "a = b.y().x().c\nd = f\n")


def test_fix_adds_the_missing_load_and_reports_what_remains(tmp_path, monkeypatch):
    project = _copy(SHOP, tmp_path)
    checkout = project / "dj_shop" / "checkout.py"
    before = checkout.read_text(encoding="utf-8")
    code, out, err = _invoke(["--format", "json", "--fix", "dj_shop"], project, monkeypatch)
    after = checkout.read_text(encoding="utf-8")
    assert after == before.replace("order.lines.all()", 'order.lines.select_related("product").all()')
    assert "querylint: fixed 1 problem" in err
    assert sorted(f["rule"] for f in json.loads(out)["findings"]) == ["QL102", "QL202"]  # no fix for those: they remain
    assert code == 1
    # nothing left to fix: a second run changes nothing
    _invoke(["--fix", "dj_shop"], project, monkeypatch)
    assert checkout.read_text(encoding="utf-8") == after


def test_fix_diff_shows_the_fixes_without_writing(tmp_path, monkeypatch):
    project = _copy(SHOP, tmp_path)
    checkout = project / "dj_shop" / "checkout.py"
    before = checkout.read_text(encoding="utf-8")
    code, out, _err = _invoke(["--fix-diff", "dj_shop"], project, monkeypatch)
    assert checkout.read_text(encoding="utf-8") == before
    assert "--- a/dj_shop/checkout.py\n+++ b/dj_shop/checkout.py\n" in out
    assert '+    for line in order.lines.select_related("product").all():' in out
    assert code == 1


def test_every_fixed_file_parses_and_keeps_its_comments(tmp_path, monkeypatch):
    project = _copy(LIBRARY, tmp_path)
    files = sorted(project.rglob("*.py"))
    before = {p: p.read_text(encoding="utf-8") for p in files}
    _invoke(["--fix", "."], project, monkeypatch)
    changed = [p for p in files if p.read_text(encoding="utf-8") != before[p]]
    assert changed
    for p in changed:
        text = p.read_text(encoding="utf-8")
        cst.parse_module(text)
        assert [line.split("#", 1)[1] for line in text.splitlines() if "#" in line] == [line.split("#", 1)[1] for line in before[p].splitlines() if "#" in line]
    services = (project / "dj_library" / "services.py").read_text(encoding="utf-8")
    # ``select_related()`` with no names would drop a named relation added before it: no fix there
    assert 'Book.objects.select_related()' in services and 'select_related("publisher").select_related()' not in services


def test_a_path_of_two_relations_is_loaded_on_the_queryset_of_the_loop(tmp_path, monkeypatch):
    # ``b.author.agency``: ``select_related("author__agency")`` goes on ``Book``'s queryset, and the
    # next run finds nothing left on that line
    project = _copy(LIBRARY, tmp_path)
    services = project / "dj_library" / "services.py"
    _invoke(["--fix", "."], project, monkeypatch)
    text = services.read_text(encoding="utf-8")
    assert 'return [b.author.agency.name for b in Book.objects.select_related("author__agency").all()]' in text
    assert 'books = Book.objects.select_related("author__agency").select_related("author")' in text
    _code, out, _err = _invoke(["--format", "json", "--select", "QL105", "dj_library/services.py"], project, monkeypatch)
    lines = {f["line"] for f in json.loads(out)["findings"]}
    assert not lines & {13, 18}


def test_the_json_report_carries_the_edits(tmp_path, monkeypatch):
    project = _copy(SHOP, tmp_path)
    _code, out, _err = _invoke(["--format", "json", "dj_shop"], project, monkeypatch)
    [f] = [f for f in json.loads(out)["findings"] if f["rule"] == "QL105"]
    assert f["edits"] == {"applicability": "safe", "changes": [{"line": 25, "column": 28, "end_line": 25, "end_column": 28, "content": '.select_related("product")'}]}


FLASK_SHOP = ROOT / "fixtures" / "sqlalchemy" / "report_shop"
ORM2 = ROOT / "fixtures" / "sqlalchemy" / "orm2_lazy"


def test_fix_adds_the_loader_option_and_its_import(tmp_path, monkeypatch):
    project = _copy(FLASK_SHOP, tmp_path)
    checkout = project / "fsa_shop" / "checkout.py"
    before = checkout.read_text(encoding="utf-8")
    _invoke(["--fix", "fsa_shop"], project, monkeypatch)
    after = checkout.read_text(encoding="utf-8")
    assert after == before.replace(
        "from fsa_shop.models import Line, db\n", "from fsa_shop.models import Line, db\nfrom sqlalchemy.orm import joinedload\n"
    ).replace("db.session.query(Line).filter(", "db.session.query(Line).options(joinedload(Line.product)).filter(")


def test_sqlalchemy_fixes_parse_and_clear_their_findings(tmp_path, monkeypatch):
    project = _copy(ORM2, tmp_path)
    code, out, _err = _invoke(["--format", "json", "--select", "QL105", "."], project, monkeypatch)
    found = json.loads(out)["findings"]
    fixable = [f for f in found if "edits" in f]
    assert fixable
    _invoke(["--fix", "--select", "QL105", "."], project, monkeypatch)
    for p in project.rglob("*.py"):
        cst.parse_module(p.read_text(encoding="utf-8"))
    _code, out, _err = _invoke(["--format", "json", "--select", "QL105", "."], project, monkeypatch)
    assert len(json.loads(out)["findings"]) == len(found) - len(fixable)  # every fixed one is gone, the rest stay


LOADER = '''import sqlite3


def load(path, rows):
    conn = sqlite3.connect(path)
    try:
        for row in rows:
            conn.execute("INSERT INTO items (name, qty) VALUES (?, ?)", (row["name"], row["qty"]))  # one per row
        conn.commit()
    finally:
        conn.close()


def load_and_count(path, rows):
    conn = sqlite3.connect(path)
    n = 0
    try:
        for row in rows:
            n += 1
            conn.execute("INSERT INTO items (name, qty) VALUES (?, ?)", (row["name"], row["qty"]))
        conn.commit()
    finally:
        conn.close()
    return n
'''


def test_a_per_row_insert_becomes_one_executemany_with_the_same_rows(tmp_path, monkeypatch):
    import importlib.util
    import sqlite3

    project = tmp_path / "project"
    (project / "app").mkdir(parents=True)
    (project / "pyproject.toml").write_text("", encoding="utf-8")
    (project / "app" / "__init__.py").write_text("", encoding="utf-8")
    (project / "app" / "load.py").write_text(LOADER, encoding="utf-8")
    _invoke(["--fix", "app"], project, monkeypatch)
    fixed = (project / "app" / "load.py").read_text(encoding="utf-8")
    assert '        conn.executemany("INSERT INTO items (name, qty) VALUES (?, ?)", [(row["name"], row["qty"]) for row in rows])  # one per row\n' in fixed
    assert fixed.count("for row in rows:") == 1  # the loop that does more than the insert stays
    spec = importlib.util.spec_from_file_location("fixed_load", project / "app" / "load.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    db = tmp_path / "items.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE items (name TEXT, qty INTEGER)")
    rows = [{"name": f"n{i}", "qty": i} for i in range(5)]
    module.load(str(db), rows)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT name, qty FROM items ORDER BY qty").fetchall() == [(r["name"], r["qty"]) for r in rows]


CATALOG = ROOT / "fixtures" / "django" / "overfetch"


def test_counting_and_testing_a_queryset_ask_the_database(tmp_path, monkeypatch):
    project = _copy(CATALOG, tmp_path)
    files = sorted(project.rglob("*.py"))
    before = {p: p.read_text(encoding="utf-8") for p in files}
    _invoke(["--fix", "--select", "QL405,QL406", "."], project, monkeypatch)
    new = "".join(p.read_text(encoding="utf-8") for p in files)
    assert 'len(Item.objects.filter(active=True))' not in new and 'Item.objects.filter(active=True).count()' in new
    assert "if Item.objects.filter(active=True).exists():" in new
    assert ").count()" in new and "list(Item.objects.filter(active=True)).count()" not in new  # len(list(qs)) -> qs.count()
    assert 'JsonResponse({"any": inactive.exists()})' in new  # bool(qs) -> qs.exists()
    for p in files:
        cst.parse_module(p.read_text(encoding="utf-8"))
    code, out, _err = _invoke(["--format", "json", "--select", "QL405,QL406", "."], project, monkeypatch)
    assert [f for f in json.loads(out)["findings"] if "edits" in f] == []
    assert any(p.read_text(encoding="utf-8") != before[p] for p in files)


COUNTERS = '''"""Counters."""
import sqlite3


def read_counter(path, name):
    conn = sqlite3.connect(path)
    cur = conn.cursor()
    # the one row
    cur.execute("SELECT value FROM counters WHERE name = ?", (name,))
    row = cur.fetchone()
    if row is None:
        raise KeyError(name)
    return row[0]
'''


def test_an_unclosed_connection_is_closed_by_an_unsafe_fix_only(tmp_path, monkeypatch):
    import importlib.util
    import sqlite3

    project = tmp_path / "project"
    (project / "app").mkdir(parents=True)
    (project / "pyproject.toml").write_text("", encoding="utf-8")
    (project / "app" / "__init__.py").write_text("", encoding="utf-8")
    path = project / "app" / "db.py"
    path.write_text(COUNTERS, encoding="utf-8")
    _code, out, _err = _invoke(["--format", "json", "app"], project, monkeypatch)
    [f] = json.loads(out)["findings"]
    assert (f["rule"], f["edits"]["applicability"]) == ("QL203", "unsafe")
    _invoke(["--fix", "app"], project, monkeypatch)
    assert path.read_text(encoding="utf-8") == COUNTERS  # not without --unsafe-fixes
    code, out, _err = _invoke(["--fix", "--unsafe-fixes", "app"], project, monkeypatch)
    fixed = path.read_text(encoding="utf-8")
    assert "import contextlib\n" in fixed and "    with contextlib.closing(sqlite3.connect(path)) as conn:\n        cur = conn.cursor()\n        # the one row\n" in fixed
    assert "QL203" not in out  # fixed: nothing left to report
    # the fixed function closes its connection on both paths, the original on neither
    db = tmp_path / "c.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE counters (name TEXT, value INTEGER)")
        conn.execute("INSERT INTO counters VALUES ('a', 7)")
    opened = []
    real = sqlite3.connect

    class Tracked:
        def __init__(self, *args):
            self.conn, self.closed = real(*args), False
            opened.append(self)

        def cursor(self):
            return self.conn.cursor()

        def close(self):
            self.closed = True
            self.conn.close()

    monkeypatch.setattr(sqlite3, "connect", Tracked)
    for source, closes in ((COUNTERS, False), (fixed, True)):
        module = type(sys)("counters_under_test")
        exec(compile(source, "db.py", "exec"), module.__dict__)
        assert module.read_counter(str(db), "a") == 7
        with pytest.raises(KeyError):
            module.read_counter(str(db), "b")
        assert [c.closed for c in opened[-2:]] == [closes, closes]


SA_COUNTS = """\
from sqlalchemy import Column, ForeignKey, Integer, String, select
from sqlalchemy.orm import Session, declarative_base, relationship

Base = declarative_base()


class Team(Base):
    __tablename__ = "team"
    id = Column(Integer, primary_key=True)


class Member(Base):
    __tablename__ = "member"
    id = Column(Integer, primary_key=True)
    name = Column(String)
    team_id = Column(ForeignKey("team.id"))
    team = relationship(Team)


def count(session: Session) -> int:
    return len(session.query(Member).filter(Member.name != "x").all())


def any_named(session: Session, name: str) -> bool:
    if not session.query(Member).filter_by(name=name).all():
        return False
    return True


def count_joined(session: Session) -> int:
    return len(session.query(Member).join(Member.team).all())


def count_named(session: Session, name: str) -> int:
    return len(session.scalars(select(Member).where(Member.name == name)).all())
"""


def test_sqlalchemy_queries_count_and_test_in_the_database_and_give_the_same_answers(tmp_path, monkeypatch):
    import importlib.util
    from sqlalchemy import create_engine

    module = _one_module(tmp_path, "members.py", SA_COUNTS)
    _invoke(["--fix", "members.py"], module.parent, monkeypatch)
    text = module.read_text(encoding="utf-8")
    assert 'return session.query(Member).filter(Member.name != "x").count()' in text
    assert "if session.query(Member).filter_by(name=name).first() is None:" in text
    # a join makes ``len(q.all())`` count unique members and ``q.count()`` joined rows: no fix
    assert "return len(session.query(Member).join(Member.team).all())" in text
    assert "return session.scalar(select(func.count()).select_from(Member).where(Member.name == name))" in text
    assert "from sqlalchemy import func\n" in text
    spec = importlib.util.spec_from_file_location("members_fixed", module)
    fixed = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fixed)
    engine = create_engine("sqlite://")
    fixed.Base.metadata.create_all(engine)
    with fixed.Session(engine) as session:
        assert fixed.count(session) == 0 and fixed.any_named(session, "a") is False
        session.add_all([fixed.Member(name="a"), fixed.Member(name="b"), fixed.Member(name="x")])
        session.flush()
        assert fixed.count(session) == 2 and fixed.any_named(session, "a") is True
        assert fixed.count_named(session, "a") == 1 and fixed.count_named(session, "z") == 0


RESOURCES = """\
import sqlite3

from django.db import connection
from sqlalchemy.orm import Session


def total(path):
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT sum(value) FROM counters").fetchone()[0]


def newest_name():
    cur = connection.cursor()
    cur.execute("SELECT name FROM counters ORDER BY id DESC")
    return cur.fetchone()[0]


def get_session(engine):
    session = Session(engine)
    yield session


def handed_out(path):
    conn = sqlite3.connect(path)
    return conn
"""


def test_cursors_sessions_and_with_connections_are_closed_by_unsafe_fixes(tmp_path, monkeypatch):
    import sqlite3
    from sqlalchemy import create_engine, text

    path = _one_module(tmp_path, "resources.py", RESOURCES)
    _invoke(["--fix", "--unsafe-fixes", "resources.py"], path.parent, monkeypatch)
    fixed = path.read_text(encoding="utf-8")
    assert "with contextlib.closing(sqlite3.connect(path)) as conn, conn:" in fixed
    assert "    with contextlib.closing(connection.cursor()) as cur:\n        cur.execute(" in fixed
    assert "    with contextlib.closing(Session(engine)) as session:\n        yield session\n" in fixed
    assert "    conn = sqlite3.connect(path)\n    return conn\n" in fixed  # closing what is returned would break it
    db = tmp_path / "c.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE counters (name TEXT, value INTEGER)")
        conn.execute("INSERT INTO counters VALUES ('a', 7), ('b', 5)")
    conn.close()
    module = type(sys)("resources_fixed")
    exec(compile(fixed, "resources.py", "exec"), module.__dict__)
    assert module.total(str(db)) == 12
    engine = create_engine(f"sqlite:///{db}")
    dependency = module.get_session(engine)
    session = next(dependency)
    assert session.execute(text("SELECT count(*) FROM counters")).scalar() == 2
    assert engine.pool.checkedout() == 1
    with pytest.raises(StopIteration):
        next(dependency)  # the request ends
    assert engine.pool.checkedout() == 0


@pytest.mark.slow
def test_every_fixture_fixed_parses_keeps_its_comments_and_leaves_no_fixable_finding(tmp_path, monkeypatch):
    # ``--fix --unsafe-fixes`` over every fixture: what had a fix is gone after one pass (what
    # remains has none querylint is certain of), and every changed file parses with its comments
    project = tmp_path / "fixtures"
    shutil.copytree(ROOT / "fixtures", project)
    files = sorted(project.rglob("*.py"))
    before = {p: p.read_text(encoding="utf-8") for p in files}
    _code, out, _err = _invoke(["--format", "json", "."], project, monkeypatch)
    fixable = [f for f in json.loads(out)["findings"] if "edits" in f]
    assert len(fixable) > 40
    _invoke(["--fix", "--unsafe-fixes", "."], project, monkeypatch)
    changed = [p for p in files if p.read_text(encoding="utf-8") != before[p]]
    assert len(changed) > 20
    for p in changed:
        text = p.read_text(encoding="utf-8")
        cst.parse_module(text)
        comments = [line.split("#", 1)[1] for line in text.splitlines() if "#" in line]
        assert comments == [line.split("#", 1)[1] for line in before[p].splitlines() if "#" in line], p
    _code, out, _err = _invoke(["--format", "json", "."], project, monkeypatch)
    left = [(f["path"], f["line"], f["rule"]) for f in json.loads(out)["findings"] if "edits" in f]
    assert left == []
