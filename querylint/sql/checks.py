"""Pure checks over parsed sqlglot statements: sqlglot tree → SQL problems.

Each function takes one statement (as returned by :func:`querylint.sql.parse.parse`) and returns
plain data, so it can be tested with a SQL string and no Python code around it. Hole tokens
(``qlholeN`` identifiers, ``:qlhN`` placeholder lists) and normalised placeholders (``:qlpN``)
are left for the caller to interpret.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Dict, List, Optional, Set, Tuple, Type

from sqlglot import exp

HOLE_RE = re.compile(r"qlhole\d+")
_MEMO: Dict[Tuple[str, int], Tuple[exp.Expression, object]] = {}


def memoised(fn):
    """Memoise a pure check per statement object (parsed trees are shared by the parse cache)."""
    name = fn.__name__

    def wrapper(stmt, *args):
        if args:
            return fn(stmt, *args)
        key = (name, id(stmt))
        hit = _MEMO.get(key)
        if hit is not None and hit[0] is stmt:
            return hit[1]
        result = fn(stmt)
        if len(_MEMO) > 20000:
            _MEMO.clear()
        _MEMO[key] = (stmt, result)
        return result

    wrapper.__name__ = name
    wrapper.__doc__ = fn.__doc__
    wrapper.__wrapped__ = fn
    return wrapper

WRAPPING_FUNCS: Tuple[type, ...] = (
    exp.Lower, exp.Upper, exp.Date, exp.Year, exp.Month, exp.Day, exp.Trim, exp.Substring,
    exp.DateTrunc, exp.TimestampTrunc, exp.Extract, exp.TimeToStr, exp.TsOrDsToDate, exp.Left,
)
WRAPPING_NAMES = {
    "date", "lower", "upper", "year", "month", "day", "to_char", "strftime", "date_format", "substr",
    "substring", "trim", "date_trunc", "to_date", "unaccent", "extract", "datepart", "convert",
}
COMPARISONS: Tuple[Type[exp.Expression], ...] = (exp.EQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.In, exp.Between, exp.Like, exp.ILike)
RANDOM_NAMES = {"random", "rand", "newid", "dbms_random.value", "uuid", "gen_random_uuid"}


def _sql(node: Optional[exp.Expression]) -> str:
    """SQL text of a node for messages; never raises (generation can fail on odd trees)."""
    if node is None:
        return "?"
    try:
        return node.sql()
    except Exception:  # pragma: no cover - sqlglot generator limits
        return type(node).__name__


def _from(select: exp.Expression) -> Optional[exp.Expression]:
    return select.args.get("from_") or select.args.get("from")


def cte_names(stmt: exp.Expression) -> Set[str]:
    names = set()
    for cte in stmt.find_all(exp.CTE):
        if cte.alias:
            names.add(cte.alias.lower())
    return names


def sources(select: exp.Expression) -> List[exp.Expression]:
    """FROM and JOIN sources of one SELECT (tables, subqueries, ...)."""
    out = []
    frm = _from(select)
    if frm is not None:
        out.append(frm.this)
        out.extend(frm.expressions or [])
    for j in select.args.get("joins") or []:
        out.append(j.this)
    return [s for s in out if s is not None]


def real_tables(select: exp.Expression, ctes: Set[str], holes_ok: bool = False) -> List[exp.Table]:
    """Sources that are stored tables (not CTEs, subqueries, functions; hole tokens only with ``holes_ok``)."""
    out = []
    for s in sources(select):
        if isinstance(s, exp.Table) and s.name and s.name.lower() not in ctes and (holes_ok or not HOLE_RE.fullmatch(s.name)):
            out.append(s)
    return out


def _top_selects(stmt: exp.Expression) -> List[exp.Select]:
    """The SELECTs whose rows the statement returns (each branch of a UNION)."""
    node = stmt
    while isinstance(node, exp.Subquery):
        node = node.this
    if isinstance(node, exp.Select):
        return [node]
    if isinstance(node, exp.SetOperation):
        return _top_selects(node.this) + _top_selects(node.expression)
    return []


@dataclass(frozen=True)
class StarUse:
    qualifier: Optional[str]  # "t" for ``t.*``, None for ``*``
    tables: Tuple[str, ...]  # the stored tables the star expands over
    joined: bool = False  # the SELECT reads more than one source (a join)


@memoised
def returned_stars(stmt: exp.Expression) -> List[StarUse]:
    """``*`` / ``t.*`` in a returned projection over stored tables (not EXISTS, COUNT(*), CTE bodies)."""
    ctes = cte_names(stmt)
    star_ctes = _star_ctes(stmt)
    out = []
    for sel in _top_selects(stmt):
        tables = real_tables(sel, ctes, holes_ok=True)
        aliases = {(t.alias_or_name or "").lower(): t.name for t in tables}
        srcs = sources(sel)
        # ``FROM alerts a, UNNEST(history) h``: a table function over the row's own array is no
        # second table, ``a.*`` still returns one table's columns
        joined = len([s for s in srcs if not isinstance(s, (exp.Unnest, exp.Lateral, exp.Func))]) > 1
        # a CTE that is itself ``SELECT * FROM table`` passes every column through
        through = [star_ctes[s.name.lower()] for s in srcs if isinstance(s, exp.Table) and s.name.lower() in star_ctes]
        for proj in sel.expressions:
            if isinstance(proj, exp.Star):
                if tables and len(tables) == len(srcs):
                    out.append(StarUse(None, tuple(t.name for t in tables), len(srcs) > 1))
                elif through and len(through) + len(tables) == len(srcs):
                    out.append(StarUse(None, tuple(t.name for t in tables) + tuple(n for names in through for n in names), len(srcs) > 1))
            elif isinstance(proj, exp.Column) and isinstance(proj.this, exp.Star):
                q = (proj.table or "").lower()
                if q in aliases:
                    out.append(StarUse(proj.table, (aliases[q],), joined))
    return out


def _star_ctes(stmt: exp.Expression) -> dict:
    """{cte name: tables} for CTEs whose body is ``SELECT * FROM <stored tables>``."""
    out = {}
    ctes = cte_names(stmt)
    for cte in stmt.find_all(exp.CTE):
        body = cte.this
        for sel in _top_selects(body) if body is not None else []:
            tables = real_tables(sel, ctes)
            if tables and len(tables) == len(sources(sel)) and any(isinstance(p, exp.Star) for p in sel.expressions):
                out[(cte.alias or "").lower()] = tuple(t.name for t in tables)
    return out


@memoised
def star_over_join(stmt: exp.Expression) -> Optional[Tuple[str, ...]]:
    """Tables of a returned bare ``*`` selected over a join (for ``Model.objects.raw``), else None."""
    for sel in _top_selects(stmt):
        if any(isinstance(p, exp.Star) for p in sel.expressions) and len(sources(sel)) > 1:
            ctes = cte_names(stmt)
            return tuple(t.name for t in real_tables(sel, ctes)) or ("the joined tables",)
    return None


@memoised
def missing_where(stmt: exp.Expression) -> Optional[Tuple[str, str]]:
    """(verb, table) of an UPDATE/DELETE with no WHERE (and no LIMIT), else None."""
    if isinstance(stmt, (exp.Update, exp.Delete)):
        if stmt.args.get("where") is not None or stmt.args.get("limit") is not None:
            return None
        target = stmt.this
        name = target.name if isinstance(target, exp.Table) else _sql(target)
        if HOLE_RE.fullmatch(name or ""):
            name = "the table"
        return ("UPDATE" if isinstance(stmt, exp.Update) else "DELETE", name)
    return None


@dataclass(frozen=True)
class LikeUse:
    op: str  # "LIKE" / "ILIKE"
    column: str
    pattern: Optional[str]  # the literal pattern, when literal
    placeholder: Optional[str]  # the placeholder token (``qlp0``) when bound
    hole: Optional[str]  # the hole token when the pattern is a Python-side hole
    concatenated: bool = False  # the pattern is ``'%' || ...``: a literal '%' alone still leads


@memoised
def likes(stmt: exp.Expression) -> List[LikeUse]:
    """Every (non-negated) LIKE/ILIKE with what its pattern is: a literal, a placeholder or a hole."""
    out = []
    for node in stmt.find_all(exp.Like, exp.ILike):
        parent = node.parent
        if isinstance(parent, exp.Escape):
            parent = parent.parent
        if isinstance(parent, exp.Not) or node.args.get("negate"):
            continue
        op = "ILIKE" if isinstance(node, exp.ILike) else "LIKE"
        column = _sql(node.this)
        pat = node.expression
        concatenated = False
        # '%' || :q || '%'  →  the leftmost operand decides
        while isinstance(pat, (exp.DPipe, exp.Concat)) or (isinstance(pat, exp.Paren)):
            concatenated = concatenated or not isinstance(pat, exp.Paren)
            if isinstance(pat, exp.Concat):
                pat = pat.expressions[0] if pat.expressions else None
            else:
                pat = pat.this
        if isinstance(pat, exp.Literal) and pat.is_string:
            out.append(LikeUse(op, column, pat.this, None, None, concatenated))
        elif isinstance(pat, exp.Placeholder) and pat.name:
            out.append(LikeUse(op, column, None, pat.name, None))
        elif isinstance(pat, exp.Column) and HOLE_RE.fullmatch(pat.name or ""):
            out.append(LikeUse(op, column, None, None, pat.name))
    return out


def leading_wildcard(pattern: Optional[str], concatenated: bool = False) -> bool:
    """``'%term'`` / ``'%term%'`` / ``'%' || :q`` (not ``'term%'``, not a bare ``'%'``)."""
    if not pattern or not pattern.startswith("%"):
        return False
    return concatenated or len(pattern.strip("%")) > 0


def has_aggregate(select: exp.Select) -> bool:
    for proj in select.expressions:
        if proj.find(exp.AggFunc) is not None:
            return True
    return False


@memoised
def unbounded_select(stmt: exp.Expression) -> Optional[Tuple[str, ...]]:
    """Tables of a SELECT with no WHERE, no LIMIT/FETCH/TOP and no aggregate, over stored tables."""
    node = stmt
    while isinstance(node, exp.Subquery):
        node = node.this
    if not isinstance(node, exp.Select):
        return None
    sel = node
    for key in ("where", "limit", "fetch", "group", "having", "distinct", "qualify", "top"):
        if sel.args.get(key):
            return None
    if has_aggregate(sel):
        return None
    ctes = cte_names(stmt)
    srcs = sources(sel)
    tables = real_tables(sel, ctes)
    if not srcs or len(tables) != len(srcs):
        return None
    if any(isinstance(p, exp.Column) and HOLE_RE.fullmatch(p.name or "") for p in sel.expressions):
        return None
    return tuple(t.name for t in tables)


def _is_wrapping(node: exp.Expression) -> bool:
    if isinstance(node, WRAPPING_FUNCS):
        return True
    if isinstance(node, (exp.Cast, exp.TryCast)):
        return True
    if isinstance(node, exp.Anonymous) and (node.name or "").lower() in WRAPPING_NAMES:
        return True
    return False


def _wrapped_column(side: Optional[exp.Expression]) -> Optional[exp.Column]:
    if side is None or not _is_wrapping(side):
        return None
    if side.find(exp.Select) is not None:
        return None
    cols = [c for c in side.find_all(exp.Column) if not HOLE_RE.fullmatch(c.name or "")]
    if len(cols) != 1:
        return None
    if isinstance(side, (exp.Cast, exp.TryCast)) and side.this is not cols[0]:
        return None
    return cols[0]


def _has_column(node: Optional[exp.Expression]) -> bool:
    if node is None:
        return False
    return any(not HOLE_RE.fullmatch(c.name or "") for c in node.find_all(exp.Column))


def _conjuncts(cond: exp.Expression) -> List[exp.Expression]:
    while isinstance(cond, exp.Paren):
        cond = cond.this
    if isinstance(cond, exp.And):
        return _conjuncts(cond.this) + _conjuncts(cond.expression)
    return [cond]


def _key_column(node: Optional[exp.Expression]) -> bool:
    if not isinstance(node, exp.Column):
        return False
    name = (node.name or "").lower()
    return name in ("id", "pk", "uuid") or name.endswith(("_id", "_pk", "_uuid"))


def _narrowed_by_key(cond: exp.Expression) -> bool:
    """The WHERE requires a key to equal a value (``id = ANY(:ids)``, ``user_id = :uid``,
    ``id IN (...)``): the key's index picks the rows, and a function on another column only
    filters those few."""
    for c in _conjuncts(cond):
        if isinstance(c, exp.EQ):
            for key, value in ((c.this, c.expression), (c.expression, c.this)):
                if _key_column(key) and not _has_column(value):
                    return True
        elif isinstance(c, exp.In) and _key_column(c.this) and c.args.get("query") is None:
            return True
    return False


@dataclass(frozen=True)
class WrappedColumn:
    function: str  # ``lower(email)``
    column: str
    clause: str  # "WHERE" / "JOIN ... ON"


@memoised
def wrapped_columns(stmt: exp.Expression) -> List[WrappedColumn]:
    """Functions around a column compared with a value in WHERE, or with another column in JOIN ON."""
    out: List[WrappedColumn] = []
    seen = set()
    conditions: List[Tuple[exp.Expression, str]] = []
    for where in stmt.find_all(exp.Where):
        if not _narrowed_by_key(where.this):
            conditions.append((where.this, "WHERE"))
    for join in stmt.find_all(exp.Join):
        on = join.args.get("on")
        if on is not None:
            conditions.append((on, "JOIN ... ON"))
    for cond, clause in conditions:
        for cmp in cond.find_all(*COMPARISONS):
            if cmp.find_ancestor(exp.Select) is not cond.find_ancestor(exp.Select):
                continue
            left = cmp.this
            rights = [cmp.args.get("expression")] if not isinstance(cmp, (exp.In, exp.Between)) else [
                cmp.args.get("low"), cmp.args.get("high")] + list(cmp.expressions or [])
            col = _wrapped_column(left)
            if col is None:
                # value = lower(col) (reversed comparison)
                if len(rights) == 1 and not _has_column(left):
                    col = _wrapped_column(rights[0])
                    left, rights = rights[0], [left]
                if col is None:
                    continue
            if clause == "WHERE" and any(_has_column(r) for r in rights if r is not None):
                continue
            if isinstance(cmp, exp.In) and cmp.args.get("query") is not None:
                continue
            key = (_sql(left), clause)
            if key in seen:
                continue
            seen.add(key)
            out.append(WrappedColumn(_sql(left), _sql(col), clause))
    return out


@memoised
def random_order(stmt: exp.Expression) -> bool:
    for order in stmt.find_all(exp.Order):
        for o in order.expressions:
            e = o.this if isinstance(o, exp.Ordered) else o
            if isinstance(e, (exp.Rand, exp.Uuid)):
                return True
            if isinstance(e, exp.Anonymous) and (e.name or "").lower() in RANDOM_NAMES:
                return True
    return False


@memoised
def variable_offsets(stmt: exp.Expression) -> List[str]:
    """The SQL of every OFFSET whose value is not a literal number."""
    out = []
    for off in stmt.find_all(exp.Offset):
        e = off.args.get("expression")
        if e is None or isinstance(e, exp.Literal):
            continue
        if e.find(exp.Placeholder, exp.Parameter, exp.Column) is not None:
            out.append(_sql(e))
    return out


@memoised
def not_in_subqueries(stmt: exp.Expression) -> List[str]:
    """``x NOT IN (SELECT ...)``: the left-hand side of each."""
    out = []
    for node in stmt.find_all(exp.Not):
        inner = node.this
        while isinstance(inner, exp.Paren):
            inner = inner.this
        if isinstance(inner, exp.In) and inner.args.get("query") is not None and not _keys_of_one_owner(inner.args["query"]):
            out.append(_sql(inner.this))
    return out


def _keys_of_one_owner(query: exp.Expression) -> bool:
    """``SELECT badge_id FROM user_badge WHERE user_id = :uid``: the keys one owner links to. The
    list is short (no anti-join needed) and a link table's keys are not NULL."""
    select = query.this if isinstance(query, exp.Subquery) else query
    if not isinstance(select, exp.Select) or len(select.expressions) != 1 or not _key_column(select.expressions[0]):
        return False
    where = select.args.get("where")
    return where is not None and _narrowed_by_key(where.this)


def statement_verb(stmt: exp.Expression) -> str:
    node = stmt
    while isinstance(node, exp.Subquery):
        node = node.this
    if isinstance(node, (exp.Select, exp.SetOperation)):
        return "SELECT"
    return type(node).__name__.upper()


SYSTEM_SCHEMAS = frozenset({"information_schema", "pg_catalog", "performance_schema", "mysql", "sys"})
SYSTEM_TABLE_PREFIXES = ("pg_", "sqlite_")
# bookkeeping tables of migration tools: a row per applied head or migration, never a growing
# data table worth an index or a LIMIT
MIGRATION_TABLES = frozenset({"alembic_version", "django_migrations", "schema_migrations", "flyway_schema_history", "yoyo_migration", "migratehistory"})


@memoised
def reads_system_catalog_only(stmt: exp.Expression) -> bool:
    """Every table the statement names is a system catalogue (``information_schema.columns``,
    ``pg_catalog.pg_class``, ``pg_tables``, ``sqlite_master``) or a migration tool's bookkeeping
    (``alembic_version``), and it names at least one."""
    tables = list(stmt.find_all(exp.Table))
    if not tables:
        return False
    for t in tables:
        schema = (t.db or "").lower()
        name = (t.name or "").lower()
        if schema in SYSTEM_SCHEMAS or name.startswith(SYSTEM_TABLE_PREFIXES) or name in MIGRATION_TABLES:
            continue
        return False
    return True
