"""Each SQL check on parsed trees (querylint.sql.checks): SQL string in, problems out. IDs carry the code."""
import pytest

from querylint.sql import checks as C
from querylint.sql.parse import normalise, parse


def tree(sql, dialect=None):
    res = parse(normalise(sql, qmark=dialect != "postgres").sql, dialect)
    assert res.ok, res.error
    return res.statements[0]


# QL301 select-star
@pytest.mark.parametrize("sql, tables", [
    ("SELECT * FROM users WHERE id = %s", [("users",)]),
    ("SELECT u.*, o.id FROM users u JOIN orders o ON o.user_id = u.id", [("users",)]),
    ("SELECT * FROM a UNION ALL SELECT * FROM b", [("a",), ("b",)]),
    ("SELECT COUNT(*) FROM users", []),
    ("SELECT EXISTS (SELECT * FROM t WHERE a = 1)", []),
    ("SELECT id FROM t WHERE EXISTS (SELECT * FROM u WHERE u.t_id = t.id)", []),
    ("WITH r AS (SELECT * FROM t) SELECT id FROM r", []),
    ("WITH r AS (SELECT id FROM t) SELECT * FROM r", []),
    ("WITH r AS (SELECT * FROM t WHERE a) SELECT * FROM r", [("t",)]),
    ("SELECT * FROM (SELECT id FROM t) s", []),
    ("INSERT INTO b SELECT * FROM a", []),
    ("SELECT * FROM qlhole0", [("qlhole0",)]),
])
def test_QL301_returned_stars(sql, tables):
    assert [u.tables for u in C.returned_stars(tree(sql))] == tables


@pytest.mark.parametrize("sql, joined", [
    ("SELECT * FROM app_book WHERE id = %s", False),
    ("SELECT * FROM app_book b JOIN app_author a ON a.id = b.author_id", True),
    ("SELECT b.* FROM app_book b JOIN app_author a ON a.id = b.author_id", False),
])
def test_QL301_raw_star_over_join(sql, joined):
    assert bool(C.star_over_join(tree(sql))) is joined


# QL302 update-delete-without-where
@pytest.mark.parametrize("sql, found", [
    ("DELETE FROM sessions", ("DELETE", "sessions")),
    ("UPDATE users SET active = false", ("UPDATE", "users")),
    ("UPDATE users SET active = false WHERE id = %s", None),
    ("DELETE FROM sessions WHERE expires_at < now()", None),
    ("SELECT id FROM t", None),
    ("TRUNCATE TABLE t", None),
])
def test_QL302_missing_where(sql, found):
    assert C.missing_where(tree(sql)) == found


def test_QL302_mysql_limit_counts_as_bounded():
    assert C.missing_where(tree("UPDATE jobs SET owner = 1 LIMIT 1", "mysql")) is None


# QL304 leading-wildcard-like
@pytest.mark.parametrize("sql, leading", [
    ("SELECT id FROM t WHERE a LIKE '%x'", True),
    ("SELECT id FROM t WHERE a ILIKE '%x%'", True),
    ("SELECT id FROM t WHERE a LIKE 'x%'", False),
    ("SELECT id FROM t WHERE a LIKE '%'", False),
    ("SELECT id FROM t WHERE a NOT LIKE '%x'", False),
    ("SELECT id FROM t WHERE a LIKE '%' || ?", True),
    ("SELECT id FROM t WHERE a LIKE '%x' ESCAPE '!'", True),
])
def test_QL304_leading_wildcard_literal(sql, leading):
    uses = C.likes(tree(sql))
    assert any(C.leading_wildcard(u.pattern, u.concatenated) for u in uses) is leading


def test_QL304_bound_pattern_is_left_to_the_caller():
    (use,) = C.likes(tree("SELECT id FROM t WHERE a LIKE %s"))
    assert use.placeholder == "qlp0" and use.pattern is None


# QL305 unbounded-select-in-request
@pytest.mark.parametrize("sql, unbounded", [
    ("SELECT id, name FROM products ORDER BY name", True),
    ("SELECT a.id, b.id FROM a JOIN b ON a.id = b.a_id", True),
    ("SELECT id FROM products LIMIT 10", False),
    ("SELECT id FROM products WHERE active", False),
    ("SELECT count(*) FROM products", False),
    ("SELECT status, count(*) FROM orders GROUP BY status", False),
    ("SELECT DISTINCT country FROM addresses", False),
    ("SELECT now()", False),
    ("SELECT 1", False),
    ("WITH x AS (SELECT id FROM t WHERE a) SELECT id FROM x", False),
    ("SELECT id FROM products ORDER BY id OFFSET 10 ROWS FETCH NEXT 5 ROWS ONLY", False),
])
def test_QL305_unbounded_select(sql, unbounded):
    assert bool(C.unbounded_select(tree(sql))) is unbounded


def test_QL305_tsql_top_is_bounded():
    assert not C.unbounded_select(tree("SELECT TOP 10 id FROM t", "tsql"))


# QL306 function-on-indexed-column
@pytest.mark.parametrize("sql, dialect, found", [
    ("SELECT id FROM users WHERE lower(email) = lower(%s)", None, ["LOWER(email)"]),
    ("SELECT id FROM orders WHERE date(created_at) = ?", None, ["DATE(created_at)"]),
    ("SELECT id FROM orders WHERE created_at::date = %s", "postgres", ["CAST(created_at AS DATE)"]),
    ("SELECT id FROM orders WHERE %s = upper(code)", None, ["UPPER(code)"]),
    ("SELECT a.id FROM a JOIN b ON lower(a.email) = b.email", None, ["LOWER(a.email)"]),
    ("SELECT id FROM users WHERE email = %s", None, []),
    ("SELECT lower(email) FROM users WHERE id = 1", None, []),
    ("SELECT id FROM orders WHERE created_at >= date(%s)", None, []),
    ("SELECT id FROM users WHERE lower(email) = lower(backup_email)", None, []),
    ("SELECT id FROM t WHERE count_a = 1 GROUP BY id HAVING count(*) > 1", None, []),
])
def test_QL306_wrapped_columns(sql, dialect, found):
    assert [w.function for w in C.wrapped_columns(tree(sql, dialect))] == found


# QL307 order-by-random
@pytest.mark.parametrize("sql, dialect, found", [
    ("SELECT id FROM q ORDER BY random() LIMIT 1", None, True),
    ("SELECT id FROM q ORDER BY RAND() LIMIT 1", "mysql", True),
    ("SELECT TOP 1 id FROM q ORDER BY NEWID()", "tsql", True),
    ("SELECT id FROM q ORDER BY id", None, False),
])
def test_QL307_random_order(sql, dialect, found):
    assert C.random_order(tree(sql, dialect)) is found


# QL308 variable-offset-pagination
@pytest.mark.parametrize("sql, found", [
    ("SELECT id FROM t ORDER BY id LIMIT 20 OFFSET %s", True),
    ("SELECT id FROM t ORDER BY id LIMIT 20 OFFSET qlhole0", True),
    ("SELECT id FROM t ORDER BY id LIMIT 20 OFFSET 40", False),
    ("SELECT id FROM t ORDER BY id LIMIT 20", False),
])
def test_QL308_variable_offset(sql, found):
    assert bool(C.variable_offsets(tree(sql))) is found


# QL309 not-in-subquery
@pytest.mark.parametrize("sql, found", [
    ("SELECT id FROM c WHERE id NOT IN (SELECT c_id FROM o)", ["id"]),
    ("SELECT id FROM c WHERE NOT id IN (SELECT c_id FROM o)", ["id"]),
    ("SELECT id FROM c WHERE id NOT IN (1, 2)", []),
    ("SELECT id FROM c WHERE id IN (SELECT c_id FROM o)", []),
    ("SELECT id FROM c WHERE NOT EXISTS (SELECT 1 FROM o WHERE o.c_id = c.id)", []),
])
def test_QL309_not_in_subquery(sql, found):
    assert C.not_in_subqueries(tree(sql)) == found


def test_QL306_inequality_is_not_reported():
    """`<>` cannot use a B-tree index anyway: a function there defeats nothing."""
    assert C.wrapped_columns(tree("SELECT id FROM t WHERE trim(name) <> ''")) == []
