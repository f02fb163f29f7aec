"""Rule-level behaviour of QL3xx that fixtures cannot show: opt-in rules, messages, report lines."""
from querylint.testing import lint_files, registry


def findings(src, select=("QL3",), settings=None):
    res = lint_files(src, select=list(select), settings=settings)
    assert res.errors == []
    return [(f.span.line, f.rule, f.message) for f in res.findings]


def test_QL308_and_QL310_are_opt_in():
    rules = registry().rules
    for code in ("QL308", "QL310"):
        assert not rules[code].default_enabled
    src = 'def f(cur, off):\n    cur.execute("SELECT id FROM t ORDER BY id LIMIT 5 OFFSET %s", (off,))\n    cur.execute("SELECT id FROM WHERE")\n'
    assert findings(src, select=("QL3",)) == []
    assert [f[1] for f in findings(src, select=("QL308", "QL310"))] == ["QL308", "QL310"]


def test_QL310_message_is_sqlglots_description_without_ansi():
    (f,) = findings('def f(cur):\n    cur.execute("SELECT id FROM WHERE")\n', select=("QL310",))
    assert "\x1b[" not in f[2] and "Expected table name" in f[2]


def test_QL310_silent_on_sql_with_spliced_values():
    assert findings('def f(cur, cols):\n    cur.execute(f"SELECT {cols} FROM t")\n', select=("QL310",)) == []


def test_unparseable_sql_yields_no_rule_findings():
    assert findings('def f(cur):\n    cur.execute("SELECT * FROM users WHERE WHERE")\n') == []


def test_QL303_message_names_the_value_and_the_drivers_paramstyle():
    src = 'import sqlite3\ndef f(name):\n    conn = sqlite3.connect("a.db")\n    conn.execute(f"SELECT id FROM t WHERE name = \'{name}\'")\n    conn.close()\n'
    (f,) = lint_files(src, select=["QL3"]).findings
    assert f.rule == "QL303" and "`name`" in f.message and "`name`" in f.fix and "`?` with sqlite3" in f.fix


def test_QL303_identifier_hole_suggests_an_allow_list():
    (f,) = lint_files('def f(cur, sort):\n    cur.execute(f"SELECT id FROM t WHERE a ORDER BY {sort} LIMIT 5")\n', select=["QL3"]).findings
    assert "allow-list" in f.fix and "bound parameter" not in f.fix  # an identifier cannot be bound


def test_QL303_notes_how_constant_holes_were_resolved():
    src = 'TABLE = "users"\ndef f(cur, name):\n    cur.execute(f"SELECT id FROM {TABLE} WHERE name = \'{name}\'")\n'
    res = lint_files(src, select=["QL303"])
    (f,) = res.findings
    assert any("module-level constant `TABLE`" in n for n in f.notes)


def test_sql_apart_from_execute_is_reported_at_the_literal():
    src = 'from sqlalchemy import text\ndef f(s):\n    stmt = text("SELECT * FROM users WHERE id = 1")\n\n    return s.execute(stmt).all()\n'
    assert [f[:2] for f in findings(src, settings={"min-confidence": "medium"})] == [(3, "QL301")]


def test_percent_formatting_apart_is_reported_at_the_formatting_line():
    src = 'def f(cur, n):\n    sql = "SELECT id FROM t WHERE n = \'%s\'" % n\n    cur.execute(sql)\n'
    assert [f[:2] for f in findings(src)] == [(2, "QL303")]


def test_module_constant_used_twice_is_reported_once():
    src = 'Q = "SELECT * FROM t WHERE id = %s"\ndef f(cur):\n    cur.execute(Q, (1,))\ndef g(cur):\n    cur.execute(Q, (2,))\n'
    assert [f[:2] for f in findings(src, settings={"min-confidence": "medium"})] == [(1, "QL301")]


def test_select_star_over_one_table_is_medium_over_a_join_high():
    one = 'def f(cur, uid):\n    cur.execute("SELECT * FROM users WHERE id = %s", (uid,))\n'
    join = 'def f(cur, uid):\n    cur.execute("SELECT * FROM users u JOIN orders o ON o.user_id = u.id WHERE u.id = %s", (uid,))\n'
    assert findings(one) == []
    assert [f[1] for f in findings(one, settings={"min-confidence": "medium"})] == ["QL301"]
    assert [f[1] for f in findings(join)] == ["QL301"]


def test_configured_dialect_is_used():
    src = 'def f(cur):\n    cur.execute("SELECT TOP 5 * FROM t")\n'
    assert [f[1] for f in findings(src, settings={"sql-dialect": "tsql", "min-confidence": "medium"})] == ["QL301"]


def test_tests_are_not_judged_for_update_without_where():
    src = {"tests/test_x.py": 'def test_reset(cur):\n    cur.execute("DELETE FROM t")\n'}
    assert findings(src) == []


def test_QL303_not_for_ddl_or_admin_statements():
    src = 'def f(cur, name, level):\n    cur.execute(f"DROP DATABASE {name}")\n    cur.execute(f"PRAGMA journal_mode = {level}")\n'
    assert findings(src) == []


def test_QL303_appended_clause_is_judged():
    src = 'def f(cur, name):\n    sql = "SELECT id FROM t WHERE a"\n    if name:\n        sql += " AND name = \'%s\'" % name\n    cur.execute(sql)\n'
    assert [f[:2] for f in findings(src)] == [(4, "QL303")]


def test_a_clause_run_with_its_own_builders_parameters_is_not_injection():
    # alerta: ``WHERE {query.where}`` executed with ``query.vars``: the clause carries the
    # placeholders, the values go as parameters. A ``where`` attribute is a composed clause by
    # its name, as a ``where`` variable is, whatever parameters run it (alerta's reassigned
    # ``select`` paired a clause with another call's ``{}``); a value inside quotes stays reported
    src = (
        "class Backend:\n"
        "    def _fetchall(self, query, vars):\n"
        "        cursor = self.conn.cursor()\n"
        "        cursor.execute(query, vars)\n"
        "        return cursor.fetchall()\n"
        "    def counts(self, query):\n"
        "        select = f'SELECT severity, COUNT(*) FROM alerts WHERE {query.where} GROUP BY severity'\n"
        "        return self._fetchall(select, query.vars)\n"
        "    def counts_other(self, query, other):\n"
        "        select = f'SELECT severity FROM alerts WHERE {query.where}'\n"
        "        return self._fetchall(select, other.vars)\n"
        "    def by_name(self, cur, form):\n"
        "        cur.execute(f\"SELECT id FROM alerts WHERE name = '{form.name}'\", form.vars)\n"
    )
    assert [f[:2] for f in findings(src, select=("QL303",))] == [(13, "QL303")]
