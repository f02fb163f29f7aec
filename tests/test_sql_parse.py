"""Placeholder normalisation and strict, memoised parsing (querylint.sql.parse), one fact per line."""
import pytest

from querylint.sql.parse import (
    candidate_dialects, first_word, looks_like_sql, normalise, parse, parse_any, unbatchable, wrap_fragment,
)

PARAMSTYLES = [
    ("qmark", "SELECT id FROM t WHERE a = ? AND b = ?", [0, 1]),
    ("numeric", "SELECT id FROM t WHERE a = :1 AND b = :2", [0, 1]),
    ("named", "SELECT id FROM t WHERE a = :a AND b = :b", ["a", "b"]),
    ("format", "SELECT id FROM t WHERE a = %s AND b = %s", [0, 1]),
    ("pyformat", "SELECT id FROM t WHERE a = %(a)s AND b = %(b)s", ["a", "b"]),
    ("asyncpg", "SELECT id FROM t WHERE a = $1 AND b = $2", [0, 1]),
]
DIALECTS = [None, "postgres", "mysql", "sqlite", "tsql", "oracle", "duckdb"]


@pytest.mark.parametrize("style, sql, keys", PARAMSTYLES, ids=[p[0] for p in PARAMSTYLES])
@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_paramstyle_parses_in_every_dialect(style, sql, keys, dialect):
    norm = normalise(sql)
    assert [p.key for p in norm.placeholders] == keys
    assert parse(norm.sql, dialect).ok, parse(norm.sql, dialect).error


def test_raw_format_placeholder_fails_without_normalising():
    assert not parse("SELECT id FROM t WHERE a = %s", "mysql").ok


def test_placeholders_inside_quotes_and_comments_are_left_alone():
    norm = normalise("SELECT '?', '%s', \"a?\" FROM t -- where x = ?\n WHERE b = ? /* :c */")
    assert [p.key for p in norm.placeholders] == [0]
    assert "'?', '%s'" in norm.sql


def test_postgres_casts_are_not_named_placeholders():
    norm = normalise("SELECT a::text, b FROM t WHERE c = :name")
    assert [p.key for p in norm.placeholders] == ["name"]
    assert "a::text" in norm.sql


def test_qmark_off_keeps_the_jsonb_operator():
    norm = normalise("SELECT id FROM docs WHERE data ? %s", qmark=False)
    assert norm.sql == "SELECT id FROM docs WHERE data ? :qlp0"


def test_double_percent_becomes_percent():
    assert normalise("SELECT id FROM t WHERE a LIKE '%%x' AND b = %s").sql == "SELECT id FROM t WHERE a LIKE '%x' AND b = :qlp0"


def test_dollar_quoted_bodies_are_left_alone():
    norm = normalise("SELECT $$ ? $1 $$, $tag$ :x $tag$ FROM t WHERE a = $1")
    assert [p.style for p in norm.placeholders] == ["$1"]


def test_unparseable_sql_reports_sqlglot_description():
    res = parse("SELECT id FROM WHERE", None)
    assert not res.ok and res.statements == ()
    assert res.error.description and "\x1b[" not in res.error.description


def test_parse_is_memoised():
    assert parse("SELECT 1 FROM t", None) is parse("SELECT 1 FROM t", None)


def test_parse_any_falls_back_to_another_dialect():
    res = parse_any("SELECT TOP 3 a FROM t", candidate_dialects(None, None))
    assert res.ok and res.dialect == "tsql"


def test_configured_dialect_is_the_only_candidate():
    assert candidate_dialects("mysql", "postgres") == ("mysql",)
    assert candidate_dialects(None, "sqlite")[:2] == ("sqlite", None)


@pytest.mark.parametrize("text, word", [
    ("  select 1", "SELECT"), ("-- c\nUPDATE t SET a = 1", "UPDATE"), ("/* x */ (SELECT 1)", "SELECT"), ("", None),
])
def test_first_word(text, word):
    assert first_word(text) == word


@pytest.mark.parametrize("text, sql", [
    ("SELECT id FROM users", True), ("DELETE FROM t", True), ("UPDATE t SET a = 1", True),
    ("Update your profile", False), ("select an option", True), ("Hello", False), ("INSERT INTO t VALUES (1)", True),
    ("WITH x AS (SELECT 1) SELECT * FROM x", True), ("with love", False),
])
def test_looks_like_sql(text, sql):
    assert looks_like_sql(text) is sql


def test_wrap_fragments():
    assert parse(wrap_fragment("lower(name) = :qlp0", "condition")).ok
    assert parse(wrap_fragment("price * 2", "expression")).ok


@pytest.mark.parametrize(
    "sql, expected",
    [
        ("CREATE EXTENSION IF NOT EXISTS pg_trgm", True),
        ("  drop table if exists t", True),
        ("ALTER TABLE t ADD COLUMN c int", True),
        ("/* tenant */ CREATE SCHEMA s", True),
        ("SET search_path TO s", True),
        ("VACUUM ANALYZE t", True),
        ("INSTALL httpfs", True),
        ("LOAD httpfs", True),
        ("SELECT setval('t_id_seq', 1, false)", True),
        ("select pg_catalog.setval(pg_get_serial_sequence('t', 'id'), 1)", True),
        ("GRANT SELECT ON t TO r", True),
        ("SELECT name FROM users WHERE id = %s", False),
        ("INSERT INTO t VALUES (1)", False),
        ("UPDATE t SET a = 1 WHERE id = 2", False),
        ("DELETE FROM t WHERE id = 2", False),
        ("COMMIT", False),  # a commit per item can be one commit: not exempt
        ("WITH x AS (SELECT 1) SELECT * FROM x", False),
        ("", False),
    ],
)
def test_unbatchable_statements(sql, expected):
    assert unbatchable(sql) is expected
