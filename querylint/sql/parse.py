"""SQL text → sqlglot trees: placeholder normalisation, dialect choice, memoised strict parsing.

Pure functions (no libcst, no context): :func:`normalise` rewrites every DB-API paramstyle
(``?``, ``:1``, ``:name``, ``%s``, ``%(name)s``, asyncpg ``$1``) into sqlglot-friendly named
placeholders ``:qlpN`` and records which parameter each one binds; :func:`parse` parses with
errors raised (never ``ErrorLevel.IGNORE``: broken SQL would come back as a plausible tree) and
is memoised per ``(sql, dialect)``. SQL that does not parse yields a :class:`ParseResult` with
sqlglot's error description and no statements, so no rule ever judges a broken tree.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import List, Optional, Sequence, Tuple, Union, cast

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel

log = logging.getLogger(__name__)
_SQLGLOT_LOG = logging.getLogger("sqlglot")

# Tokens the extraction inserts for Python-side holes (f-string / % / .format values).
HOLE_PREFIX = "qlhole"
PLACEHOLDER_PREFIX = "qlp"
HOLE_RE = re.compile(r"qlhole(\d+)")

SQL_VERBS = {
    "SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "REPLACE", "MERGE", "UPSERT", "CREATE", "ALTER",
    "DROP", "TRUNCATE", "EXPLAIN", "VALUES", "COPY", "CALL", "GRANT", "REVOKE", "SHOW", "PRAGMA",
    "VACUUM", "ANALYZE", "REFRESH", "LOCK", "COMMENT", "DECLARE", "EXEC",
}
DML_VERBS = {"SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "REPLACE", "MERGE", "UPSERT"}

Key = Union[int, str]


@dataclass(frozen=True)
class Placeholder:
    """One bound parameter in the statement: ``key`` is its position (0-based) or its name."""

    token: str  # the name used in the normalised SQL (``qlp0``)
    key: Key
    style: str  # "?", "%s", "%(name)s", ":name", ":1", "$1"


@dataclass(frozen=True)
class Normalised:
    sql: str
    placeholders: Tuple[Placeholder, ...]

    def placeholder(self, token: str) -> Optional[Placeholder]:
        for p in self.placeholders:
            if p.token == token:
                return p
        return None


_TOKEN_RE = re.compile(
    r"""
    (?P<squote>'(?:[^']|'')*'?)          # 'string' ('' escapes)
  | (?P<dquote>"(?:[^"]|"")*"?)          # "identifier"
  | (?P<btick>`[^`]*`?)                  # `identifier`
  | (?P<line>--[^\n]*)                   # -- comment
  | (?P<block>/\*.*?(?:\*/|$))           # /* comment */
  | (?P<dollar>\$\$.*?(?:\$\$|$)|\$(?P<tag>[A-Za-z_]\w*)\$.*?(?:\$(?P=tag)\$|$))   # $$ dollar quoted $$ / $tag$...$tag$
  | (?P<pyformat>%\((?P<pyname>[^)]*)\)[sdfr])   # %(name)s
  | (?P<format>%[sdfr])                  # %s
  | (?P<percent>%%)                      # %% (literal percent in format/pyformat styles)
  | (?P<numeric>(?<![:\w]):(?P<num>\d+)(?!\w))   # :1
  | (?P<named>(?<![:\w]):(?P<name>[A-Za-z_]\w*))  # :name (not the :: cast)
  | (?P<dollarnum>(?<![\w$])\$(?P<dnum>\d+)(?![\w$]))   # $1
  | (?P<qmark>\?)                        # ?
    """,
    re.VERBOSE | re.DOTALL,
)


def normalise(text: str, qmark: bool = True) -> Normalised:
    """Replace DB-API placeholders outside quotes and comments with ``:qlpN`` named placeholders.

    ``%%`` becomes ``%`` everywhere (the format/pyformat escape). ``qmark=False`` leaves ``?``
    alone (PostgreSQL drivers never use it, and it is a jsonb operator there).
    """
    out = []
    placeholders: List[Placeholder] = []
    pos = 0
    position = 0

    def add(key: Key, style: str) -> str:
        token = f"{PLACEHOLDER_PREFIX}{len(placeholders)}"
        placeholders.append(Placeholder(token, key, style))
        return ":" + token

    for m in _TOKEN_RE.finditer(text):
        out.append(text[pos:m.start()])
        pos = m.end()
        chunk = m.group(0)
        if m.group("squote") is not None:
            out.append(chunk.replace("%%", "%"))
        elif m.group("dquote") is not None or m.group("btick") is not None or m.group("line") is not None or m.group("block") is not None or m.group("dollar") is not None:
            out.append(chunk)
        elif m.group("pyformat") is not None:
            out.append(add(m.group("pyname"), "%(name)s"))
        elif m.group("format") is not None:
            out.append(add(position, "%s"))
            position += 1
        elif m.group("percent") is not None:
            out.append("%")
        elif m.group("numeric") is not None:
            out.append(add(int(m.group("num")) - 1, ":1"))
        elif m.group("named") is not None:
            name = m.group("name")
            if name.startswith((PLACEHOLDER_PREFIX, "qlh")):
                out.append(chunk)  # already ours
            else:
                out.append(add(name, ":name"))
        elif m.group("dollarnum") is not None:
            out.append(add(int(m.group("dnum")) - 1, "$1"))
        elif m.group("qmark") is not None:
            if qmark:
                out.append(add(position, "?"))
                position += 1
            else:
                out.append(chunk)
        else:  # pragma: no cover
            out.append(chunk)
    out.append(text[pos:])
    return Normalised("".join(out), tuple(placeholders))


def first_word(text: str) -> Optional[str]:
    """The statement's first keyword (upper case), skipping whitespace, comments and parentheses."""
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace() or c == "(":
            i += 1
        elif text.startswith("--", i):
            j = text.find("\n", i)
            i = n if j < 0 else j + 1
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = n if j < 0 else j + 2
        else:
            break
    m = re.match(r"[A-Za-z_]+", text[i:])
    return m.group(0).upper() if m else None


# Statements that define or administer the database rather than read or write rows: run once per
# item (a schema per tenant, an extension per database, a setting per connection) they cannot be
# batched into "one set-based query", so they are not N+1s.
UNBATCHABLE_VERBS = frozenset({
    "CREATE", "DROP", "ALTER", "TRUNCATE", "RENAME", "GRANT", "REVOKE", "COMMENT", "VACUUM", "ANALYZE",
    "REINDEX", "CLUSTER", "REFRESH", "SET", "RESET", "SHOW", "INSTALL", "LOAD", "ATTACH", "DETACH", "PRAGMA",
    "USE", "CHECKPOINT", "DISCARD", "DEALLOCATE", "LISTEN", "UNLISTEN", "NOTIFY", "SAVEPOINT", "RELEASE",
    "LOCK", "EXPLAIN", "OPTIMIZE", "FLUSH", "KILL",
})
# ``SELECT setval('seq', ...)`` / ``pg_catalog.setval``: a sequence reset, one per table.
_SEQUENCE_RESET = re.compile(r"^\s*SELECT\s+(?:pg_catalog\.)?setval\s*\(", re.I)


def unbatchable(text: str) -> bool:
    """Whether a statement is DDL or administration (``CREATE``/``DROP``/``ALTER``, ``CREATE
    EXTENSION``, DuckDB ``INSTALL``/``LOAD``, ``SET``, ``VACUUM``, a sequence reset ...), which no
    set-based query can replace."""
    word = first_word(text)
    if word is None:
        return False
    if word in UNBATCHABLE_VERBS:
        return True
    return word == "SELECT" and _SEQUENCE_RESET.match(text) is not None


def looks_like_sql(text: str, verbs=SQL_VERBS) -> bool:
    """Starts with a SQL statement keyword and has a second word (``SELECT 1``, ``DELETE FROM t``)."""
    word = first_word(text)
    if word not in verbs:
        return False
    rest = text.strip().split(None, 1)
    if len(rest) < 2:
        return False
    if word == "SELECT":
        return True
    if word == "UPDATE":
        return bool(re.search(r"\bSET\b", text, re.I))
    if word == "DELETE":
        return bool(re.search(r"\b(FROM|WHERE)\b", text, re.I))  # not "Delete Payout Account"
    if word == "INSERT":
        return bool(re.search(r"\bINTO\b", text, re.I))
    if word == "WITH":
        return bool(re.search(r"\bAS\s*\(", text, re.I))
    return True


@dataclass(frozen=True)
class ParseError:
    description: str
    line: Optional[int] = None
    col: Optional[int] = None


@dataclass(frozen=True)
class ParseResult:
    statements: Tuple[exp.Expression, ...]
    dialect: Optional[str]
    error: Optional[ParseError] = None

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.statements)


@lru_cache(maxsize=4096)
def parse(sql: str, dialect: Optional[str] = None) -> ParseResult:
    """Strict parse, memoised per ``(sql, dialect)``. Never raises."""
    level = _SQLGLOT_LOG.level
    _SQLGLOT_LOG.setLevel(logging.ERROR)  # "falling back to parsing as a Command" is not the user's business
    try:
        trees = sqlglot.parse(sql, read=dialect, error_level=ErrorLevel.RAISE)
    except sqlglot.errors.ParseError as err:
        first = err.errors[0] if err.errors else {}
        desc = first.get("description") or "cannot parse"
        log.debug("sql does not parse (%s): %s", dialect, desc)
        return ParseResult((), dialect, ParseError(desc, first.get("line"), first.get("col")))
    except sqlglot.errors.TokenError as err:
        return ParseResult((), dialect, ParseError(_plain(str(err))))
    except (sqlglot.errors.SqlglotError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError) as err:
        return ParseResult((), dialect, ParseError(f"{type(err).__name__}: {_plain(str(err))}"))
    finally:
        _SQLGLOT_LOG.setLevel(level)
    statements = tuple(t for t in trees if t is not None and not isinstance(t, exp.Command))
    if not statements:
        return ParseResult((), dialect, ParseError("empty statement"))
    return ParseResult(cast(Tuple[exp.Expression, ...], statements), dialect)  # statements are Expression nodes


def _plain(text: str) -> str:
    """Drop ANSI escapes and keep the first line of an error text."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    return text.strip().splitlines()[0] if text.strip() else text


def parse_any(sql: str, dialects: Sequence[Optional[str]]) -> ParseResult:
    """The first successful parse among ``dialects``; else the first dialect's failure."""
    first: Optional[ParseResult] = None
    for d in dialects:
        res = parse(sql, d)
        if res.ok:
            return res
        if first is None:
            first = res
    return first if first is not None else ParseResult((), None, ParseError("no dialect"))


def candidate_dialects(configured: Optional[str], guessed: Optional[str]) -> Tuple[Optional[str], ...]:
    """``sql-dialect`` alone when configured; else the driver's dialect, then permissive fallbacks."""
    if configured:
        return (configured,)
    out = []
    for d in (guessed, None, "postgres", "mysql", "tsql", "oracle"):
        if d not in out:
            out.append(d)
    return tuple(out)


def wrap_fragment(text: str, kind: str) -> str:
    """Make a parseable statement of a SQL fragment (``.extra(where=...)``, ``RawSQL``)."""
    if kind == "condition":
        return f"SELECT 1 FROM qlfragment WHERE ({text})"
    if kind == "expression":
        return f"SELECT ({text}) FROM qlfragment"
    if kind == "order":
        return f"SELECT 1 FROM qlfragment ORDER BY {text}"
    return text
