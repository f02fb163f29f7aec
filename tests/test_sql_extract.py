"""Finding the SQL that reaches a sink (querylint.sql.extract): data flow, holes, placeholders."""
import pytest

from querylint.run.config import Config
from querylint.sql.extract import Spec, split_percent

from sql_helpers import extract_all, kinds, one


def test_literal_passed_to_cursor_execute():
    item = one('def f(cur, uid):\n    cur.execute("SELECT id FROM users WHERE id = %s", (uid,))\n')
    assert item.text == "SELECT id FROM users WHERE id = %s"
    assert item.holes == [] and item.sink.kind == "execute"


def test_implicit_and_plus_concatenation_of_constants():
    item = one('def f(cur):\n    sql = "SELECT id " "FROM users " + "WHERE active"\n    cur.execute(sql)\n')
    assert item.text == "SELECT id FROM users WHERE active"


def test_triple_quoted_module_constant():
    item = one('Q = """\n    SELECT id\n    FROM users\n"""\ndef f(cur):\n    cur.execute(Q)\n')
    assert " ".join(item.text.split()) == "SELECT id FROM users"
    assert item.origin is not None and item.origin is not item.sink.call


def test_local_assigned_twice_is_not_followed():
    item = one('def f(cur, a):\n    sql = "SELECT id FROM t"\n    if a:\n        sql = "SELECT id FROM u"\n    cur.execute(sql)\n')
    assert item.text is None


def test_imported_module_constant_through_the_index():
    item = one('from app.constants import TABLE\ndef f(cur):\n    cur.execute(f"SELECT id FROM {TABLE}")\n', others={"app/constants.py": 'TABLE = "users"\n'})
    assert item.text == "SELECT id FROM users"
    assert kinds(item) == ["const"] and "imported" in item.holes[0].how


def test_fstring_value_in_quotes_becomes_a_token_inside_the_string():
    item = one('def f(cur, email):\n    cur.execute(f"SELECT id FROM users WHERE email = \'{email}\'")\n')
    assert item.text == "SELECT id FROM users WHERE email = 'qlhole0'"
    assert kinds(item) == ["value"]


def test_percent_formatting_tuple_and_dict():
    item = one('def f(cur, a, b):\n    cur.execute("SELECT id FROM t WHERE a = \'%(a)s\' AND b = %(b)s" % {"a": a, "b": b})\n')
    assert kinds(item) == ["value", "value"]
    item = one('def f(cur, a, n):\n    cur.execute("SELECT id FROM t WHERE a = \'%s\' LIMIT %d" % (a, int(n)))\n')
    assert kinds(item) == ["value", "safe"] and item.holes[1].how == "`int(n)` is a number"  # a number: not injectable


def test_format_method_positional_and_keyword():
    item = one('def f(cur, a):\n    cur.execute("SELECT id FROM t WHERE a = \'{}\' AND b = {n}".format(a, n=3))\n')
    assert item.text == "SELECT id FROM t WHERE a = 'qlhole0' AND b = 3"


def test_augmented_appends_are_collected_when_the_text_is_unknown():
    item = one(
        'def f(cur, name):\n    q = "SELECT id FROM t WHERE 1 = 1"\n    if name:\n        q += f" AND name = \'{name}\'"\n    cur.execute(q)\n'
    )
    assert item.text is None
    assert [h.source for h in item.value_holes] == ["name"]


@pytest.mark.parametrize("expr", [
    '",".join(["%s"] * len(ids))',
    '", ".join("?" for _ in ids)',
    '",".join("?" * len(ids))',
    '", ".join(f"${i + 1}" for i in range(len(ids)))',
    '", ".join(["?"] * len(ids))',
    '("?," * len(ids)).rstrip(",")',
    '"%s, " * (len(ids) - 1) + "%s"',
    '", ".join(f":id{i}" for i in range(len(ids)))',
    '", ".join(f"%(id_{i})s" for i in range(len(ids)))',
    '", ".join("$" + str(i + 1) for i in range(len(ids)))',
])
def test_generated_placeholder_lists(expr):
    item = one(f'def f(cur, ids):\n    marks = {expr}\n    cur.execute(f"SELECT id FROM t WHERE id IN ({{marks}})", ids)\n')
    assert kinds(item) == ["placeholders"]
    assert item.parsed()[1].ok


@pytest.mark.parametrize("setup, how", [
    ('    col = SORTS[key]\n', "allow-list"),
    ('    col = SORTS.get(key, "name")\n', "allow-list"),
    ('    if key not in ALLOWED:\n        raise ValueError(key)\n    col = key\n', "allow-list"),
    ('    col = "name" if key == "n" else "created_at"\n', "constants"),
])
def test_allow_listed_identifiers_are_safe(setup, how):
    src = 'SORTS = {"n": "name"}\nALLOWED = ("name",)\ndef f(cur, key):\n' + setup + '    cur.execute(f"SELECT id FROM t ORDER BY {col}")\n'
    item = one(src)
    assert kinds(item) in (["safe"], ["const"])
    assert how in item.holes[0].how or item.holes[0].kind == "const"


def test_loop_over_constants_is_safe():
    item = one('def f(cur):\n    for t in ("a", "b"):\n        cur.execute(f"ANALYZE {t}")\n')
    assert kinds(item) == ["safe"]


def test_list_of_constant_fragments_is_safe():
    src = (
        'def f(cur, a):\n    where = []\n    if a:\n        where.append("a = %s")\n'
        '    cur.execute("SELECT id FROM t WHERE " + " AND ".join(where), (a,))\n'
    )
    assert kinds(one(src)) == ["safe"]


def test_list_with_a_formatted_fragment_is_not_safe():
    src = (
        'def f(cur, a):\n    where = []\n    if a:\n        where.append(f"a = \'{a}\'")\n'
        '    cur.execute("SELECT id FROM t WHERE " + " AND ".join(where))\n'
    )
    assert kinds(one(src)) == ["value"]


def test_psycopg_sql_composition_is_not_a_string():
    src = 'from psycopg2 import sql\ndef f(cur, t):\n    cur.execute(sql.SQL("SELECT id FROM {}").format(sql.Identifier(t)))\n'
    assert all(i.text is None and i.value_holes == [] for i in extract_all(src))


@pytest.mark.parametrize("src, kind", [
    ('from sqlalchemy import text\ndef f(s):\n    return s.execute(text("SELECT id FROM t"))\n', "text"),
    ('def f(conn):\n    return conn.exec_driver_sql("SELECT id FROM t")\n', "driver-sql"),
    ('import pandas as pd\ndef f(e):\n    return pd.read_sql_query("SELECT id FROM t", e)\n', "read_sql"),
    ('def f():\n    return Book.objects.raw("SELECT id FROM app_book")\n', "raw"),
    ('def f(qs):\n    return qs.extra(where=["a = %s"], params=[1])\n', "extra"),
    ('from django.db.models.expressions import RawSQL\ndef f(qs):\n    return qs.annotate(n=RawSQL("SELECT 1", ()))\n', "rawsql"),
    ('async def f(conn):\n    return await conn.fetchval("SELECT count(*) FROM t")\n', "fetch"),
])
def test_sink_kinds(src, kind):
    assert [i.sink.kind for i in extract_all(src)] == [kind]


def test_configured_sql_function():
    src = 'from app.db import run_sql\ndef f():\n    run_sql("SELECT id FROM t")\n'
    assert extract_all(src) == []
    items = extract_all(src, config=Config(sql_functions=("app.db.run_sql",)))
    assert [i.sink.kind for i in items] == ["configured"]


def test_unknown_receiver_needs_sql_looking_text():
    assert extract_all('def f(x):\n    x.execute("do the thing")\n') == []
    assert len(extract_all('def f(x):\n    x.execute("SELECT id FROM t")\n')) == 1


def test_text_parameters_are_found_at_the_execute_call():
    src = 'from sqlalchemy import text\ndef f(s, q):\n    stmt = text("SELECT id FROM t WHERE a LIKE :q")\n    return s.execute(stmt, {"q": q})\n'
    item = one(src)
    assert item.param_value("q") is not None


def test_asyncpg_positional_parameters():
    item = one('async def f(conn, a, b):\n    return await conn.fetch("SELECT id FROM t WHERE a = $1 AND b = $2", a, b)\n')
    assert [item.param_value(k).value for k in (0, 1)] == ["a", "b"]


@pytest.mark.parametrize("fmt, parts", [
    ("a %s b", ["a ", Spec(), " b"]),
    ("%(k)s and %%", [Spec("k"), " and %"]),
    ("%-5d|%.2f", [Spec(None, "d"), "|", Spec(None, "f")]),
    ("bad %", None),
])
def test_split_percent(fmt, parts):
    assert split_percent(fmt) == parts


def test_long_concatenation_chain_is_linear():
    """Regression: a 300-part ``+`` chain of names once took minutes (re-evaluated on every path)."""
    import time

    parts = " + ".join(f"x{i}" for i in range(300))
    start = time.perf_counter()
    item = one(f'def f(cur):\n    cur.execute("SELECT id FROM t WHERE " + {parts})\n')
    assert time.perf_counter() - start < 5
    assert len(item.value_holes) == 300


def test_project_helper_taking_sql_is_a_sink():
    helper = "from django.db import connection\ndef run_query(sql, params=()):\n    with connection.cursor() as c:\n        c.execute(sql, params)\n        return c.fetchall()\n"
    src = "from app.db import run_query\ndef view(request, name):\n    return run_query(f\"SELECT id FROM t WHERE name = '{name}'\")\n"
    (item,) = extract_all(src, others={"app/db.py": helper})
    assert item.sink.kind == "helper" and [h.source for h in item.value_holes] == ["name"]


def test_helper_sql_parameter_in_second_position():
    helper = "def read(connection, query):\n    cur = connection.cursor()\n    cur.execute(query)\n    return cur.fetchall()\n"
    src = 'from app.db import read\ndef f(conn):\n    return read(conn, "SELECT id FROM t")\n'
    (item,) = extract_all(src, others={"app/db.py": helper})
    assert item.text == "SELECT id FROM t"


def test_module_constant_run_from_another_module_is_judged_where_it_is_written():
    queries = 'ALL = "SELECT * FROM t"\nUNUSED = "SELECT * FROM u"\n'
    user = "from app.queries import ALL\ndef f(cur):\n    cur.execute(ALL)\n"
    from querylint.testing import lint_files

    res = lint_files({"app/queries.py": queries, "app/user.py": user}, select=["QL301"], settings={"min-confidence": "medium"})
    assert [(f.path, f.span.line) for f in res.findings] == [("app/queries.py", 1)]


def test_enum_members_and_constant_fragments_joined_or_a_default_are_safe():
    src = (
        "from app.models import Side\n"
        "def f(cur, private, owner):\n"
        "    clauses = []\n"
        "    if private is not None:\n"
        "        clauses.append('q.private = :private')\n"
        "    if owner is not None:\n"
        "        clauses.append('q.owner = :owner')\n"
        "    cur.execute('SELECT id FROM q WHERE {}'.format(' AND '.join(clauses) or '1 = 1'))\n"
    )
    item = one(src)
    assert kinds(item) and "value" not in kinds(item)
    enum = one("from app.models import Side\ndef f(cur):\n    cur.execute('SELECT id FROM q WHERE side = %d' % Side.AFF.value)\n")
    assert kinds(enum) == ["safe"]
    unsafe = one("def f(cur, row):\n    cur.execute('SELECT id FROM q WHERE side = %s' % row.side.value)\n")
    assert kinds(unsafe) == ["value"]
    fallback = one("def f(cur, name):\n    cur.execute('SELECT id FROM q WHERE name = {}'.format(name or 'x'))\n")
    assert kinds(fallback) == ["value"]
