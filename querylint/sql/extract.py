"""Find the SQL that reaches a sink, following the string through simple data flow.

Sinks: ``cursor.execute``/``executemany``/``executescript`` (DB-API drivers and Django's
``connection.cursor()``), sqlite3 ``connection.execute``, asyncpg ``fetch*``/``execute``,
``Model.objects.raw``, ``.extra(where=[...])``, ``RawSQL``, SQLAlchemy ``text()`` and
``exec_driver_sql``, pandas ``read_sql``/``read_sql_query``, geopandas ``read_postgis``, and the
``sql-functions`` of the config. A sink whose receiver is not recognised only counts when its text looks like SQL.

Data flow: string constants, implicit and ``+`` concatenation, triple-quoted strings, module-level
names (also imported ones, through the index), a local assigned once before the call, and
``dedent``/``strip``/``" ".join([...])`` wrappers. f-strings, ``%`` and ``.format()`` become text
with each hole replaced: constants are substituted, generated placeholder lists
(``",".join(["%s"] * len(ids))``) become a placeholder, anything else becomes an identifier token
``qlholeN`` (inside quotes: the same token inside the string) and is classified as ``value``
(non-constant), ``safe`` (an int, an allow-listed identifier, a quoted name) or ``const``.
"""
from __future__ import annotations

import ast
import dataclasses
import re
import string
from dataclasses import dataclass, field, replace
from typing import Dict, List, Optional, Sequence, Set, Tuple, Union, cast

import libcst as cst

from querylint import nodes as N
from querylint.context import Context, Scope
from querylint.project.callees import resolve_callee
from querylint.project.facts import is_record_key
from querylint.project.requests import constant_in_application
from querylint.frameworks.dbapi import DIALECT_OF_DRIVER, infer, guess_driver_from_imports
from querylint.sql.parse import (
    HOLE_PREFIX, Normalised, ParseResult, candidate_dialects, looks_like_sql, normalise, parse_any,
    first_word, unbatchable, wrap_fragment,
)

EXECUTE_METHODS = {"execute", "executemany", "executescript", "mogrify", "execute_many"}
FETCH_METHODS = {"fetch", "fetchrow", "fetchval", "fetch_all", "fetch_one", "fetch_val", "iterate"}
QUERY_METHODS = {"query", "run_query", "execute_sql", "run_sql", "raw_query", "exec_sql", "execute_query", "fetch_all_sql"}
TEXT_FUNCS = {"sqlalchemy.text", "sqlalchemy.sql.text", "sqlalchemy.sql.expression.text", "sqlalchemy.sql.expression.TextClause"}
RAWSQL_FUNCS = {"django.db.models.expressions.RawSQL", "django.db.models.RawSQL"}
PANDAS_FUNCS = {
    "pandas.read_sql", "pandas.read_sql_query", "pandas.io.sql.read_sql", "pandas.io.sql.read_sql_query", "polars.read_database",
    "geopandas.read_postgis", "geopandas.io.sql.read_postgis", "geopandas.GeoDataFrame.from_postgis",
}
EXTRAS_FUNCS = {"psycopg2.extras.execute_values", "psycopg2.extras.execute_batch", "psycopg2.extras.execute_mogrify"}
PARAM_KEYWORDS = ("params", "parameters", "args", "vars", "values", "parameters_")
SQL_KEYWORDS = ("sql", "query", "operation", "statement", "stmt")
SAFE_CALLS = {"int", "float", "len", "bool", "round", "abs", "min", "max", "math.ceil", "math.floor", "uuid.uuid4", "decimal.Decimal"}
# library types that parse a value and print it in a fixed form with no quote in it (an address,
# a network, a UUID, a date): ``inet '{}'`` formatted with ``IP(query)`` holds an address or raises
PARSED_TYPES = frozenset((
    "IPy.IP", "netaddr.IPAddress", "netaddr.IPNetwork", "ipaddress.ip_address", "ipaddress.ip_network",
    "ipaddress.ip_interface", "ipaddress.IPv4Address", "ipaddress.IPv6Address", "ipaddress.IPv4Network",
    "ipaddress.IPv6Network", "uuid.UUID", "decimal.Decimal", "datetime.date", "datetime.datetime",
    "datetime.date.fromisoformat", "datetime.datetime.fromisoformat", "dateutil.parser.parse",
))
# methods whose result is text in a fixed format (a timestamp, hex digits): no quote can be in it
FIXED_FORMAT_METHODS = frozenset(("isoformat", "strftime", "hexdigest", "hex", "timestamp"))
# how many steps (a name to its value, a format to its arguments) a spliced value is followed
MAX_DEPTH = 10
QUOTE_CALLS = {"quote_name", "quote_ident", "escape_string", "escape", "literal", "quote", "escape_identifier", "quote_identifier", "escape_like"}
SAFE_ATTRS = ("_meta.db_table", "_meta.model_name", "_meta.app_label", "__tablename__", "__table__.name", "__table__.fullname", "_meta.pk.column", "_meta.table_name")
# ``model._meta.get_field(name).column``, ``opts.pk.attname``: names the model defines (a lookup of an
# unknown name raises FieldDoesNotExist before any SQL is built)
_MODEL_COLUMN_RE = re.compile(r"_meta\.(get_field\(.*\)|pk)\.(column|attname|db_column|name)$", re.S)
# ``db.timestamp_placeholder("now")``: a dialect's placeholder text for a bound parameter
_PLACEHOLDER_NAME = re.compile(r"placeholder", re.I)
FRAGMENT_NAME_RE = re.compile(r"(^|_)(sql|clause|clauses|where|fragment|conditions|predicate|filters_sql)$", re.I)
PLACEHOLDER_TEXT_RE = re.compile(r"^\s*(\?|%s|\$|:[A-Za-z_]\w*|:|%\(\w*\)s|@\w*|%\(|\)s)\s*,?\s*$")


# --------------------------------------------------------------------------- data


@dataclass
class Hole:
    """A Python expression spliced into the SQL text by formatting or concatenation."""

    expr: cst.BaseExpression
    builder: cst.CSTNode  # the f-string / ``%`` / ``.format`` / ``+`` expression holding it
    kind: str = "value"  # "value" (non-constant), "const", "placeholders", "safe"
    how: str = ""  # how a non-value hole was resolved ("module-level constant `TABLE`")
    text: Optional[str] = None  # text substituted into the SQL for const/placeholders
    via_name: bool = False  # reached through a name (the builder sits apart from the sink)
    index: int = -1  # the N of its ``qlholeN`` token (value/safe holes only)
    anchor: Optional[cst.CSTNode] = None  # the assigned value the hole was reached through (reported there)

    @property
    def source(self) -> str:
        return N.short(self.expr, 40)


Piece = Union[str, Hole]


@dataclass(frozen=True)
class Sink:
    call: Optional[cst.Call]  # None for a module-level constant used as SQL elsewhere
    kind: str  # "execute", "fetch", "query", "text", "raw", "extra", "rawsql", "read_sql", "driver-sql", "configured"
    label: str  # ``cur.execute`` / ``text`` for messages
    sql: Tuple[Tuple[cst.BaseExpression, str], ...]  # (expression, fragment kind)
    params: Optional[cst.BaseExpression] = None
    positional: Tuple[cst.BaseExpression, ...] = ()  # asyncpg-style parameters after the SQL
    driver: Optional[str] = None
    confident: bool = True  # the callee is known to take SQL (else the text must look like SQL)
    method: str = ""


@dataclass
class EmbeddedSql:
    """One SQL text reaching a sink."""

    sink: Sink
    arg: cst.BaseExpression
    fragment: str  # "statement", "condition", "expression"
    pieces: Optional[List[Piece]]  # None when the text is unknown
    origin: Optional[cst.CSTNode]  # where text findings are reported (None: not in this file)
    holes: List[Hole] = field(default_factory=list)  # every hole (value/safe/const/placeholders)
    extra_builders: List[Hole] = field(default_factory=list)  # holes of ``+=`` appends etc. (text unknown)
    text: Optional[str] = None  # SQL text with hole tokens, before placeholder normalisation
    driver: Optional[str] = None
    _ctx: Optional[Context] = field(default=None, repr=False)
    _parsed: Optional[Tuple[Normalised, ParseResult]] = field(default=None, repr=False)
    _is_sql: Optional[bool] = field(default=None, repr=False)

    @property
    def value_holes(self) -> List[Hole]:
        return [h for h in self.holes + self.extra_builders if h.kind == "value"]

    @property
    def is_sql(self) -> bool:
        """The text looks like SQL (or the sink is known to take SQL and the text is known)."""
        if self.text is None:
            return False
        if self.fragment not in ("statement", "subquery"):
            return True
        if self._is_sql is None:
            self._is_sql = looks_like_sql(self.text)
        return self._is_sql

    @property
    def has_unknown_holes(self) -> bool:
        return any(h.kind in ("value", "safe") and h.text is None for h in self.holes)

    def statement_text(self) -> Optional[str]:
        if self.text is None:
            return None
        if self.fragment in ("statement", "subquery"):
            return self.text
        return wrap_fragment(self.text, self.fragment)

    def parsed(self, configured: Optional[str] = None) -> Optional[Tuple[Normalised, ParseResult]]:
        """(normalised text, parse result), memoised; None when the text is unknown."""
        if self._parsed is None:
            text = self.statement_text()
            if text is None:
                return None
            dialect = DIALECT_OF_DRIVER.get(self.driver or "")
            norm = normalise(text, qmark=dialect != "postgres")
            result = parse_any(norm.sql, candidate_dialects(configured, dialect))
            self._parsed = (norm, result)
        return self._parsed

    def hole(self, token: str) -> Optional[Hole]:
        m = re.fullmatch(HOLE_PREFIX + r"(\d+)", token)
        if not m:
            return None
        i = int(m.group(1))
        for h in self.holes:
            if h.index == i:
                return h
        return None

    def param_value(self, key) -> Optional[cst.BaseExpression]:
        """The Python expression bound to a placeholder (by position or name), when visible."""
        sink = self.sink
        if sink.positional and isinstance(key, int):
            return sink.positional[key] if 0 <= key < len(sink.positional) else None
        params = sink.params
        if params is None:
            return None
        if isinstance(params, cst.Name) and self._ctx is not None:
            params = _resolve_value(self._ctx, params) or params
        if isinstance(params, (cst.Tuple, cst.List)) and isinstance(key, int):
            els = [e for e in params.elements if not isinstance(e, cst.StarredElement)]
            return els[key].value if 0 <= key < len(els) else None
        if isinstance(params, cst.Dict) and isinstance(key, str):
            for el in params.elements:
                if isinstance(el, cst.DictElement) and N.string_value(el.key) == key:
                    return el.value
        if isinstance(params, cst.Call) and N.call_name(params) == "dict" and isinstance(key, str):
            return N.arg(params, keyword=key)
        return None


# --------------------------------------------------------------------------- sinks


def _matches_configured(q: Optional[str], names: Sequence[str]) -> bool:
    if not q:
        return False
    return any(q == f or q.endswith("." + f) or f.endswith("." + q) and q.count(".") >= 1 for f in names)


def find_sink(call: cst.Call, ctx: Context) -> Optional[Sink]:
    """The sink this call is, with its SQL argument(s), else None. Cheap checks first."""
    func = call.func
    name = N.call_name(call)
    if name is None or not call.args:
        return None
    if isinstance(func, cst.Attribute):
        if name in EXECUTE_METHODS or name in FETCH_METHODS or name == "exec_driver_sql":
            return _method_sink(call, name, ctx)
        if name == "raw":
            recv = N.dotted(func.value) or ""
            sql = _sql_arg(call)
            if sql is None:
                return None
            confident = recv.endswith("objects") or recv.endswith("_manager")
            return Sink(call, "raw", N.short(func, 40), ((sql, "statement"),), _params_arg(call), (), "django", confident, name)
        if name == "extra":
            frags: List[Tuple[cst.BaseExpression, str]] = []
            where = N.arg(call, keyword="where")
            if isinstance(where, (cst.List, cst.Tuple)):
                frags += [(e.value, "condition") for e in where.elements if not isinstance(e, cst.StarredElement)]
            select = N.arg(call, keyword="select")
            if isinstance(select, cst.Dict):
                frags += [(e.value, "expression") for e in select.elements if isinstance(e, cst.DictElement)]
            if not frags:
                return None
            return Sink(call, "extra", ".extra", tuple(frags), N.arg(call, keyword="params"), (), "django", True, name)
        if name in QUERY_METHODS:
            sql = _sql_arg(call)
            if sql is None:
                return None
            return Sink(call, "query", N.short(func, 40), ((sql, "statement"),), _params_arg(call), (), None, False, name)
    helpers = ctx.index.derived("sql_param_functions", _sql_param_functions)
    if name in helpers:
        sink = _helper_sink(call, name, ctx)
        if sink is not None:
            return sink
    if name not in ("text", "RawSQL", "read_sql", "read_sql_query", "read_database", "read_postgis", "from_postgis", "TextClause", "execute_values", "execute_batch") and not ctx.config.sql_functions:
        return None
    q = ctx.qualify(func)
    if q in TEXT_FUNCS:
        sql = _sql_arg(call, ("text",))
        return Sink(call, "text", "text", ((sql, _text_fragment(call, ctx)),), None, (), "sqlalchemy", True, name) if sql is not None else None
    if q in RAWSQL_FUNCS:
        sql = _sql_arg(call)
        if sql is None:
            return None
        return Sink(call, "rawsql", "RawSQL", ((sql, "rawsql"),), _params_arg(call), (), "django", True, name)
    if q in EXTRAS_FUNCS:
        sql = N.arg(call, 1) or N.arg(call, keyword="sql")
        if sql is None:
            return None
        return Sink(call, "execute", N.short(func, 40), ((sql, "statement"),), None, (), "psycopg2", True, name)
    if q in PANDAS_FUNCS:
        sql = _sql_arg(call)
        if sql is None:
            return None
        con = N.arg(call, 1) or N.arg(call, keyword="con")
        obj = infer(con, ctx) if con is not None else None
        return Sink(call, "read_sql", N.short(func, 40), ((sql, "statement"),), N.arg(call, keyword="params"), (), obj.driver if obj else None, False, name)
    if ctx.config.sql_functions and _matches_configured(q, ctx.config.sql_functions):
        sql = _sql_arg(call)
        if sql is None:
            return None
        return Sink(call, "configured", N.short(func, 40), ((sql, "statement"),), _params_arg(call), (), None, True, name)
    return None


def _sql_param_functions(index) -> Dict[str, list]:
    """{function name: [FunctionFacts]} of project functions that pass a parameter on as SQL."""
    out: Dict[str, list] = {}
    closure = index.derived("sql-params-closure", _sql_params_closure)
    for fn in index.functions.values():
        if closure.get(fn.qualname):
            out.setdefault(fn.name, []).append(fn)
    return out


def _sql_params_closure(index) -> Dict[str, Tuple[str, ...]]:
    """Each project function's parameters that reach a SQL sink, directly or through other
    project functions it hands them to (``select(self, query)`` -> ``self.action(query)`` ->
    ``c.execute(query)``): a parameter passed on counts when it has the name of the callee's
    SQL parameter, or is the only one passed."""
    found: Dict[str, Tuple[str, ...]] = {q: tuple(fn.sql_params) for q, fn in index.functions.items() if fn.sql_params}
    for _ in range(4):
        grown = False
        for q, fn in index.functions.items():
            for target, passed in fn.param_calls:
                callee = index.resolve_function(target, fn)
                wanted = found.get(callee.qualname) if callee is not None else None
                if not wanted:
                    continue
                hit = [p for p in passed if p in wanted] or (list(passed) if len(passed) == 1 else [])
                new = tuple(dict.fromkeys(found.get(q, ()) + tuple(hit)))
                if new != found.get(q, ()):
                    found[q] = new
                    grown = True
        if not grown:
            break
    return found


def _helper_sink(call: cst.Call, name: str, ctx: Context) -> Optional[Sink]:
    """A call to a project function whose parameter reaches a SQL sink (``run_query(sql)``)."""
    caller = ctx.function_facts()
    target = N.dotted(call.func)
    if target is None:
        return None
    head = target.split(".")[0]
    q = target if head in ("self", "cls") else (ctx.qualify(call.func) or target)
    fn = ctx.index.resolve_function(q, caller) or _method_of_constructed(call, ctx)
    sql_params = ctx.index.derived("sql-params-closure", _sql_params_closure).get(fn.qualname) if fn is not None else None
    if fn is None or not sql_params:
        return None
    params = list(fn.params)
    if fn.cls is not None and params and params[0] in ("self", "cls") and not (head[:1].isupper() and "." in target and head not in ("self", "cls")):
        params = params[1:]
    param = sql_params[0]
    expr = N.arg(call, keyword=param)
    if expr is None and param in params:
        expr = N.arg(call, params.index(param))
    if expr is None:
        return None
    return Sink(call, "helper", N.short(call.func, 40), ((expr, "statement"),), None, (), None, False, name)


def _method_of_constructed(call: cst.Call, ctx: Context):
    """``monitor_db.select(query)`` where ``monitor_db = database.MonitorDatabase()`` in the
    function: the method of the project class the local was built from."""
    func = call.func
    if not (isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name)):
        return None
    b = ctx.binding(func.value.value, at=call)
    if b is None or b.kind != "assign" or not b.is_simple or not isinstance(b.value, cst.Call):
        return None
    made = ctx.qualify(b.value.func) or N.dotted(b.value.func)
    cls = ctx.index.constructed_class(made) if made else None
    return ctx.index.find_method(cls.qualname, func.attr.value) if cls is not None else None


def _sql_arg(call: cst.Call, keywords: Sequence[str] = SQL_KEYWORDS) -> Optional[cst.BaseExpression]:
    first = N.arg(call, 0)
    if first is not None:
        return first
    for k in keywords:
        v = N.arg(call, keyword=k)
        if v is not None:
            return v
    return None


def _params_arg(call: cst.Call) -> Optional[cst.BaseExpression]:
    second = N.arg(call, 1)
    if second is not None:
        return second
    for k in PARAM_KEYWORDS:
        v = N.arg(call, keyword=k)
        if v is not None:
            return v
    return None


def _method_sink(call: cst.Call, name: str, ctx: Context) -> Optional[Sink]:
    sql = _sql_arg(call)
    if sql is None:
        return None
    recv = N.receiver(call)
    obj = ctx.memo(("sql-recv", id(recv)), lambda: infer(recv, ctx))
    driver = obj.driver if obj else None
    if name == "exec_driver_sql":
        return Sink(call, "driver-sql", N.short(call.func, 40), ((sql, "statement"),), _params_arg(call), (), "sqlalchemy", True, name)
    confident = obj is not None and obj.kind in ("cursor", "connection", "pool") and obj.evidence == "call"
    if obj is not None and obj.kind == "engine":
        confident = False
    positional: Tuple[cst.BaseExpression, ...] = ()
    params = _params_arg(call)
    kind = "execute" if name in EXECUTE_METHODS else "fetch"
    if driver in ("asyncpg",) or (name in FETCH_METHODS and driver is None and name in ("fetch", "fetchrow", "fetchval")):
        if name != "executemany":
            positional = tuple(a.value for a in call.args[1:] if a.keyword is None and not a.star)
            params = None
    if name in ("fetch_all", "fetch_one", "fetch_val", "iterate"):
        params = N.arg(call, 1) or N.arg(call, keyword="values")
    return Sink(call, kind, N.short(call.func, 40), ((sql, "statement"),), params, positional, driver, confident, name)


# --------------------------------------------------------------------------- data flow


def _scope_bindings(ctx: Context, name: str, at: cst.CSTNode, module_only: bool):
    if module_only:
        return ctx.module_scope().bindings.get(name, [])
    return ctx.bindings(name, at=at)


# what a Django model field names: its column in the database
_FIELD_NAME_ATTRS = frozenset(("column", "db_column", "attname"))
_META_FIELDS_RE = re.compile(r"_meta\.(fields|local_fields|concrete_fields|many_to_many|private_fields|get_fields\(.*\))$", re.S)


def _model_field(ctx: Context, node: cst.CSTNode, module_only: bool, depth: int = 0) -> bool:
    """``node`` is a field of a Django model: ``Licence.baseobject_ptr.field`` (a relation's
    field), ``opts.get_field("quantity")``, or a name bound to one of those or looping over
    ``model._meta.fields`` (also through a comprehension of them): its column is the model's."""
    if depth > 3:
        return False
    if isinstance(node, cst.Attribute) and node.attr.value == "field":
        return True
    if isinstance(node, cst.Call) and re.search(r"_meta\.get_field$", N.code(node.func)):
        return True
    if not isinstance(node, cst.Name):
        return False
    found = [b for b in _scope_bindings(ctx, node.value, node, module_only) if b.kind != "param"]
    if not found or len(found) != len(_scope_bindings(ctx, node.value, node, module_only)):
        return False
    for b in found:
        if b.kind in ("for", "comprehension") and b.is_simple and b.value is not None and _model_fields(ctx, b.value, module_only, depth + 1):
            continue
        if b.kind == "assign" and b.is_simple and b.value is not None and _model_field(ctx, b.value, module_only, depth + 1):
            continue
        return False
    return True


def _model_fields(ctx: Context, node: cst.CSTNode, module_only: bool, depth: int) -> bool:
    """``node`` is a collection of a model's fields: ``model._meta.fields``, ``_meta.get_fields()``,
    a comprehension over one, or a name bound once to one of those."""
    if depth > 3:
        return False
    if _META_FIELDS_RE.search(N.code(node)):
        return True
    if isinstance(node, (cst.SetComp, cst.ListComp, cst.GeneratorExp)):
        comp = node.for_in
        return comp.inner_for_in is None and isinstance(comp.target, cst.Name) and isinstance(node.elt, cst.Name) \
            and node.elt.value == comp.target.value and _model_fields(ctx, comp.iter, module_only, depth + 1)
    if isinstance(node, cst.Name):
        got = _single_assignment(ctx, node, module_only)
        return got is not None and _model_fields(ctx, got[0], module_only, depth + 1)
    return False


def _single_assignment(ctx: Context, node: cst.Name, module_only: bool = False):
    """(value, is_module_level) of a name assigned exactly once (in its scope) before ``node``."""
    found = _scope_bindings(ctx, node.value, node, module_only)
    if not found:
        return None
    b = found[-1]
    scope: Scope = b.scope
    every = [x for x in scope.bindings.get(node.value, []) if x.kind != "param"] if scope is not None else [b]
    if len(every) != 1 or b.kind not in ("assign", "annassign") or not b.is_simple or b.value is None:
        return None
    if scope is not None and node.value in scope.globals:
        return None
    return b.value, scope is ctx.module_scope()


def _resolve_value(ctx: Context, node: cst.Name) -> Optional[cst.BaseExpression]:
    got = _single_assignment(ctx, node)
    return got[0] if got else None


def _imported_string(ctx: Context, node: cst.CSTNode) -> Optional[Tuple[str, str]]:
    """(value, qualified name) of a module-level string constant imported from a project module."""
    q = ctx.qualify(node)
    if not q or "." not in q:
        return None
    mod, _, attr = q.rpartition(".")
    if mod == ctx.module:
        return None
    facts = ctx.index.modules.get(mod)
    if facts is None:
        return None
    values = [v for k, v in facts.module_strings if k == attr]
    if len(values) != 1:
        return None
    return values[0], q


def _decode_fstring_text(text: str, prefix: str) -> str:
    p = "".join(c for c in prefix.lower() if c in "rbu")
    if "\\" not in text:
        return text.replace("{{", "{").replace("}}", "}")
    try:
        value = ast.literal_eval(p + '"""' + text.replace('"', '\\"') + '"""') if "r" not in p else text
    except (SyntaxError, ValueError):  # a bad escape (``\N{...}``, ``\x4``), a null byte
        value = text
    return value.replace("{{", "{").replace("}}", "}")


class Evaluator:
    """Evaluates Python string expressions into text pieces and holes, for one context."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self._assumed: Set[str] = set()  # names assumed constant while their own bindings are judged

    # -- pieces -----------------------------------------------------------

    def pieces(self, expr: cst.CSTNode, depth: int = 0, via = False, module_only: bool = False) -> Optional[List[Piece]]:
        """Text pieces and holes of a string expression, or None when it is not a known string.

        Memoised per expression (a long ``+`` chain is evaluated once per node, not once per path).
        """
        if depth > MAX_DEPTH or expr is None:
            return None
        key = (id(expr), id(via) if via else 0, module_only, tuple(sorted(self._assumed)))
        memo = self.__dict__.setdefault("_memo", {})
        if key in memo:
            got = memo[key]
            return None if got is None else [dataclasses.replace(p) if isinstance(p, Hole) else p for p in got]
        memo[key] = None  # a cycle evaluates to "unknown"
        got = self._pieces(expr, depth, via, module_only)
        memo[key] = got
        return None if got is None else list(got)

    def _pieces(self, expr: cst.CSTNode, depth: int, via, module_only: bool) -> Optional[List[Piece]]:
        if isinstance(expr, cst.SimpleString):
            s = N.string_value(expr)
            return [s] if s is not None else None
        if isinstance(expr, cst.ConcatenatedString):
            left = self.pieces(expr.left, depth, via, module_only)
            right = self.pieces(expr.right, depth, via, module_only)
            if left is None or right is None:
                return None
            return left + right
        if isinstance(expr, cst.FormattedString):
            out: List[Piece] = []
            quote_prefix = expr.start.rstrip("'\"")
            for part in expr.parts:
                if isinstance(part, cst.FormattedStringText):
                    out.append(_decode_fstring_text(part.value, quote_prefix.replace("f", "").replace("F", "")))
                elif isinstance(part, cst.FormattedStringExpression):
                    out.extend(self.hole(part.expression, expr, depth, via, module_only))
            return out
        if isinstance(expr, cst.BinaryOperation):
            if isinstance(expr.operator, cst.Add):
                left = self.pieces(expr.left, depth, via, module_only)
                right = self.pieces(expr.right, depth, via, module_only)
                if left is None and right is None:
                    return None
                if left is None:
                    left = self.hole(expr.left, expr, depth, via, module_only)
                if right is None:
                    right = self.hole(expr.right, expr, depth, via, module_only)
                return left + right
            if isinstance(expr.operator, cst.Modulo):
                return self._percent(expr, depth, via, module_only)
            return None
        if isinstance(expr, cst.Call):
            return self._call(expr, depth, via, module_only)
        if isinstance(expr, cst.Name):
            got = _single_assignment(self.ctx, expr, module_only)
            if got is not None:
                value, is_module = got
                anchor = _assignment_statement(self.ctx, expr, module_only) or value
                return self.pieces(value, depth + 1, anchor, module_only or is_module)
            imported = _imported_string(self.ctx, expr)
            if imported is not None:
                return [imported[0]]
            return None
        if isinstance(expr, cst.Attribute):
            s = self._class_attr_string(expr)
            if s is not None:
                return [s]
            imported = _imported_string(self.ctx, expr)
            if imported is not None:
                return [imported[0]]
        return None

    def _class_attr_string(self, expr: cst.Attribute) -> Optional[str]:
        node = self.class_attr_node(expr)
        return N.string_value(node) if node is not None else None

    def class_attr_node(self, expr: cst.Attribute) -> Optional[cst.BaseExpression]:
        """The value of ``self.NAME`` / ``cls.NAME`` assigned once in the enclosing class body."""
        base = N.dotted(expr.value)
        if base in ("self", "cls"):
            frame = self.ctx.class_frame
            if frame is None:
                return None
            cls_node = cast(cst.ClassDef, frame.node)  # a class frame's node
            for stmt in getattr(cls_node.body, "body", ()):
                if isinstance(stmt, cst.SimpleStatementLine):
                    for small in stmt.body:
                        if isinstance(small, (cst.Assign, cst.AnnAssign)):
                            targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else [small.target]
                            if any(isinstance(t, cst.Name) and t.value == expr.attr.value for t in targets):
                                return small.value
        return None

    def _call(self, call: cst.Call, depth: int, via, module_only: bool) -> Optional[List[Piece]]:
        name = N.call_name(call)
        recv = N.receiver(call)
        if name == "format" and recv is not None:
            fmt = self.pieces(recv, depth + 1, via, module_only)
            if fmt is None or not all(isinstance(p, str) for p in fmt):
                return None
            return self._format(call, "".join(cast(List[str], fmt)), depth, via, module_only)
        if name in ("strip", "lstrip", "rstrip") and recv is not None and not call.args:
            return self.pieces(recv, depth + 1, via, module_only)
        if name in ("dedent", "cleandoc") and len(call.args) == 1:
            return self.pieces(call.args[0].value, depth + 1, via, module_only)
        if name == "join" and recv is not None and len(call.args) == 1:
            sep = self.pieces(recv, depth + 1, via, module_only)
            if sep is None or not all(isinstance(p, str) for p in sep):
                return None
            seq = call.args[0].value
            if isinstance(seq, cst.Name):
                got = _single_assignment(self.ctx, seq, module_only)
                if got is None or (not got[1] and self._appended(seq.value)):
                    return None
                seq = got[0]
            if isinstance(seq, (cst.List, cst.Tuple)):
                out: List[Piece] = []
                for i, el in enumerate(seq.elements):
                    if isinstance(el, cst.StarredElement):
                        return None
                    p = self.pieces(el.value, depth + 1, via, module_only)
                    if p is None:
                        return None
                    if i:
                        out.append("".join(cast(List[str], sep)))
                    out.extend(p)
                return out
        return None

    def _percent(self, expr: cst.BinaryOperation, depth: int, via, module_only: bool) -> Optional[List[Piece]]:
        fmt = self.pieces(expr.left, depth + 1, via, module_only)
        if fmt is None or not all(isinstance(p, str) for p in fmt):
            return None
        specs = split_percent("".join(cast(List[str], fmt)))
        if specs is None:
            return None
        right = expr.right
        values: Optional[List[cst.BaseExpression]] = None
        named: Dict[str, cst.BaseExpression] = {}
        if isinstance(right, cst.Tuple):
            values = [e.value for e in right.elements if not isinstance(e, cst.StarredElement)]
        elif isinstance(right, cst.Dict):
            for el in right.elements:
                if isinstance(el, cst.DictElement):
                    k = N.string_value(el.key)
                    if k is not None:
                        named[k] = el.value
        elif isinstance(right, cst.Call) and N.call_name(right) == "dict":
            named = {a.keyword.value: a.value for a in right.args if a.keyword is not None}
        out: List[Piece] = []
        pos = 0
        for item in specs:
            if isinstance(item, str):
                out.append(item)
                continue
            key = item.key
            if key is None:  # positional %s
                if values is not None:
                    value = values[pos] if pos < len(values) else right
                else:
                    value = right
                pos += 1
            else:
                value = named.get(key, right)
            holes = self.hole(value, expr, depth, via, module_only)
            if item.conv in _NUMERIC_CONVERSIONS:
                # ``where t5_id=%d``: formatting anything but a number raises
                holes = [
                    replace(h, kind="safe", how=f"`{N.short(value, 30)}` is formatted with `%{item.conv}`: a number")
                    if isinstance(h, Hole) and h.kind == "value" else h for h in holes
                ]
            out.extend(holes)
        return out

    def _format(self, call: cst.Call, fmt: str, depth: int, via, module_only: bool) -> Optional[List[Piece]]:
        try:
            parsed = list(string.Formatter().parse(fmt))
        except ValueError:
            return None
        positional = [a.value for a in call.args if a.keyword is None and not a.star]
        keywords = {a.keyword.value: a.value for a in call.args if a.keyword is not None}
        for a in call.args:
            if a.star == "**":
                keywords.update(self._mapping_items(a.value, module_only))
        out: List[Piece] = []
        auto = 0
        for literal_text, field_name, _spec, _conv in parsed:
            if literal_text:
                out.append(literal_text)
            if field_name is None:
                continue
            head = re.split(r"[.\[]", field_name, 1)[0]
            value: cst.BaseExpression = call
            if head == "":
                if auto < len(positional):
                    value = positional[auto]
                auto += 1
            elif head.isdigit():
                i = int(head)
                if i < len(positional):
                    value = positional[i]
            elif head in keywords:
                value = keywords[head]
            if head != field_name:
                value = call  # attribute/index access on the argument: unknown text
            out.extend(self.hole(value, call, depth, via, module_only))
        return out

    def _mapping_items(self, expr: cst.BaseExpression, module_only: bool) -> Dict[str, cst.BaseExpression]:
        """The literal keys of ``**params`` in ``.format(**params)``: ``params = dict(a=..., b=...)``
        or ``{"a": ..., "b": ...}`` assigned once (a key not found stays unknown text)."""
        if isinstance(expr, cst.Name):
            got = _single_assignment(self.ctx, expr, module_only)
            if got is None:
                return {}
            expr = got[0]
        if isinstance(expr, cst.Call) and N.dotted(expr.func) == "dict" and all(a.keyword is not None for a in expr.args):
            return {cast(cst.Name, a.keyword).value: a.value for a in expr.args}
        if isinstance(expr, cst.Dict):
            out: Dict[str, cst.BaseExpression] = {}
            for el in expr.elements:
                key = N.literal(el.key) if isinstance(el, cst.DictElement) else N.NOT_LITERAL
                if not isinstance(key, str):
                    return {}
                out[key] = cast(cst.DictElement, el).value
            return out
        return {}

    # -- holes ------------------------------------------------------------

    def hole(self, expr: cst.BaseExpression, builder: cst.CSTNode, depth: int, via, module_only: bool) -> List[Piece]:
        """Pieces for a spliced value: its own pieces when it is a (built) string, else a Hole."""
        text: Optional[str]
        if isinstance(expr, (cst.BinaryOperation, cst.Call, cst.Name)) and is_placeholder_list(expr, self, module_only):
            return [Hole(expr, builder, "placeholders", "a generated placeholder list", None, bool(via), anchor=via or None)]
        inner = self.pieces(expr, depth + 1, via, module_only)
        if inner is not None:
            if all(isinstance(p, str) for p in inner):
                text = "".join(cast(List[str], inner))
                return [Hole(expr, builder, "const", _const_how(self.ctx, expr), text, bool(via), anchor=via or None)]
            return inner
        kind, how, text = self.classify(expr, depth, module_only)
        return [Hole(expr, builder, kind, how, text, bool(via), anchor=via or None)]

    def classify(self, expr: cst.BaseExpression, depth: int = 0, module_only: bool = False) -> Tuple[str, str, Optional[str]]:
        """(kind, how, text) of a non-string value spliced into SQL."""
        text: Optional[str]
        if depth > MAX_DEPTH:
            return "value", "", None
        ctx = self.ctx
        if isinstance(expr, (cst.Integer, cst.Float)):
            return "safe", "a number literal", expr.value
        if isinstance(expr, cst.Name) and expr.value in ("True", "False", "None"):
            return "safe", "a constant", None
        if is_placeholder_list(expr, self, module_only):
            return "placeholders", "a generated placeholder list", None
        if isinstance(expr, cst.Call):
            q = ctx.qualify(expr.func) or N.dotted(expr.func) or ""
            name = N.call_name(expr) or ""
            if q in SAFE_CALLS or name in ("int", "float", "len", "round", "abs"):
                return "safe", f"`{N.short(expr, 30)}` is a number", None
            fixed = _fixed_form(expr, q, name)
            if fixed:
                return "safe", fixed, None
            if name == "str" and expr.args:
                return self.classify(expr.args[0].value, depth + 1, module_only)
            if name in _CASE_METHODS and not expr.args and N.receiver(expr) is not None:
                # ``sort_order.upper()``: as safe as ``sort_order`` (an allow-listed direction)
                return self.classify(cast(cst.BaseExpression, N.receiver(expr)), depth + 1, module_only)
            if q in ("os.getenv", "os.environ.get") or (name == "get" and (N.dotted(N.receiver(expr)) or "").endswith(("config", "settings", "environ"))):
                return "safe", f"`{N.short(expr, 40)}` is a configuration value", None
            if name in ("get", "pop", "setdefault") and N.receiver(expr) is not None:
                k, how, _ = self.classify_collection(N.receiver(expr), depth + 1, module_only)
                default = N.arg(expr, 1)
                if k != "value" and (default is None or self.classify_or_const(default, depth + 1, module_only) != "value"):
                    return "safe", f"looked up in {how}", None
            if _PLACEHOLDER_NAME.search(name) and all(N.literal(a.value) is not N.NOT_LITERAL for a in expr.args):
                return "placeholders", f"`{N.short(expr, 40)}` makes a placeholder from constants", None
            if name in QUOTE_CALLS or _QUOTING_NAME.search(name) or _escapes_quotes(expr, ctx):
                return "safe", f"quoted with `{N.short(expr.func, 30)}`", None
            if name == "join" and expr.args:
                seq = expr.args[0].value
                k, how, _ = self.classify_collection(seq, depth + 1, module_only)
                if k != "value":
                    return k, how, None
            return "value", "", None
        if isinstance(expr, cst.Attribute):
            return self._classify_attribute(expr, module_only)
        if isinstance(expr, cst.BooleanOperation):
            # ``" AND ".join(clauses) or "1 = 1"``: safe when both outcomes are
            sides = [expr.left, expr.right]
            if all(self.classify_or_const(v, depth + 1, module_only) != "value" for v in sides):
                return "safe", "every branch is constant or safe", None
            return "value", "", None
        if isinstance(expr, cst.Subscript) and _config_lookup(expr, ctx):
            return "safe", f"`{N.short(expr, 40)}` is a configuration value", None
        if isinstance(expr, cst.Subscript):
            coll = expr.value
            k, how, _ = self.classify_collection(coll, depth + 1, module_only)
            if k != "value":
                return "safe", f"looked up in {how}", None
            return "value", "", None
        if isinstance(expr, cst.BinaryOperation) and self._numeric(expr, depth, module_only):
            return "safe", f"`{N.short(expr, 30)}` is a number", None
        if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Add):
            # ``("_id, " if pk else "") + ", ".join(quoted)``: safe when both parts are
            if all(self.classify_or_const(side, depth + 1, module_only) != "value" for side in (expr.left, expr.right)):
                return "safe", "every part is constant or safe", None
        if isinstance(expr, cst.IfExp):
            return self._classify_choice(expr, depth, module_only)
        if isinstance(expr, cst.Name):
            return self._classify_name(expr, depth, module_only)
        return "value", "", None

    def _classify_choice(self, expr: cst.IfExp, depth: int, module_only: bool) -> Tuple[str, str, Optional[str]]:
        """``a if test else b``: safe when both choices are (or ``x if x in ALLOWED else ...``)."""
        a = self.classify_or_const(expr.body, depth + 1, module_only)
        b = self.classify_or_const(expr.orelse, depth + 1, module_only)
        if a != "value" and b != "value":
            # the statement's text is known only when both choices are constants (``"DESC" if
            # desc else "ASC"``), and then the fuller one stands for it: with ``'' if not where
            # else ' WHERE ' + ...`` the empty choice is not the statement
            texts: List[str] = []
            for side, kind in ((expr.body, a), (expr.orelse, b)):
                p = self.pieces(side, depth + 1, False, module_only) if kind == "const" else None
                if p:
                    texts.append("".join(x if isinstance(x, str) else (x.text or "") for x in p))
            text = max(texts, key=lambda t: len(t.strip())) if len(texts) == 2 else None
            return "safe", "a choice between constants", text
        if isinstance(expr.test, cst.Comparison) and any(isinstance(t.operator, cst.In) for t in expr.test.comparisons):
            if N.code(expr.test.left) == N.code(expr.body) and b != "value":
                return "safe", f"checked against `{N.short(expr.test.comparisons[0].comparator, 30)}`", None
        return "value", "", None

    def _classify_attribute(self, expr: cst.Attribute, module_only: bool) -> Tuple[str, str, Optional[str]]:
        text = N.code(expr)
        if any(text.endswith(s) for s in SAFE_ATTRS) or _MODEL_COLUMN_RE.search(text):
            return "safe", f"`{N.short(expr, 40)}` is a table/column name from the model", None
        if expr.attr.value in _FIELD_NAME_ATTRS and _model_field(self.ctx, expr.value, module_only):
            return "safe", f"`{N.short(expr, 40)}` is a column name from the model's fields", None
        if expr.attr.value == "pk":
            # ``review_request.pk``: an ORM object's primary key, a number (or a UUID) the
            # database generated
            return "safe", f"`{N.short(expr, 40)}` is a primary key", None
        if _record_key(expr):
            return "safe", f"`{N.short(expr, 40)}` is a record's key", None
        if _is_config_name(expr.attr.value):
            return "safe", f"`{N.short(expr, 40)}` is a configuration constant", None
        if _enum_constant(expr):
            return "safe", f"`{N.short(expr, 40)}` is an enum constant", None
        if _constant_property(self.ctx, expr.attr.value):
            return "safe", f"`{N.short(expr, 40)}` is a property that returns only constants", None
        if FRAGMENT_NAME_RE.search(expr.attr.value) and not isinstance(expr.value, cst.Call):
            # ``WHERE {query.where}``: the clause a query-builder object composed (with its own placeholders)
            return "safe", f"`{N.short(expr, 40)}` is a SQL fragment composed elsewhere", None
        return "value", "", None

    def _numeric(self, expr: cst.BaseExpression, depth: int, module_only: bool) -> bool:
        """Arithmetic that can only give a number: ``a - b``, ``a // b``, ``a / b``, ``a ** b`` (a
        string operand would raise), or ``+``/``*``/``%`` of two numbers."""
        if depth > 8:
            return False
        if isinstance(expr, (cst.Integer, cst.Float)):
            return True
        if isinstance(expr, cst.BinaryOperation):
            if isinstance(expr.operator, (cst.Subtract, cst.FloorDivide, cst.Divide, cst.Power)):
                return True
            if isinstance(expr.operator, cst.Add) and any(isinstance(side, (cst.Integer, cst.Float)) for side in (expr.left, expr.right)):
                return True  # ``rows_max + 1``: a string plus a number raises
            return self._numeric(expr.left, depth + 1, module_only) and self._numeric(expr.right, depth + 1, module_only)
        if isinstance(expr, (cst.Call, cst.Name)):
            kind, how, _ = self.classify(expr, depth + 1, module_only)
            return kind == "safe" and how.endswith("is a number")
        return False

    def classify_or_const(self, expr, depth, module_only) -> str:
        """"const", "safe", "placeholders" or "value" for any expression (a built string included)."""
        p = self.pieces(expr, depth + 1, False, module_only)
        if p is not None:
            if all(isinstance(x, str) or x.kind == "const" for x in p):
                return "const"
            if all(isinstance(x, str) or x.kind != "value" for x in p):
                return "safe"
            return "value"
        return self.classify(expr, depth + 1, module_only)[0]

    def _classify_name(self, expr: cst.Name, depth: int, module_only: bool) -> Tuple[str, str, Optional[str]]:
        ctx = self.ctx
        found = _scope_bindings(ctx, expr.value, expr, module_only)
        b = found[-1] if found else None
        if b is not None and b.kind == "for":
            if _loop_counter(b):
                return "safe", f"the loop counter `{expr.value}` is a number", None
            k, how, _ = self.classify_collection(b.value, depth + 1, module_only)
            if k != "value":
                return "safe", f"`{expr.value}` loops over {how}", None
        if expr.value in self._assumed:
            return "safe", f"`{expr.value}` is built from itself and constants", None
        fn = ctx.function
        if b is not None and b.kind == "param" and fn is not None and self._constant_everywhere(fn.qualname, expr.value):
            return "safe", f"every call of `{fn.qualname.rsplit('.', 1)[-1]}()` in the project passes a constant as `{expr.value}`", None
        if b is not None and b.kind == "param" and isinstance(b.node, cst.Param) and b.node.annotation is not None:
            ann = N.code(b.node.annotation.annotation)
            if ann in ("bool", "int", "float") or ann.startswith(("Literal[", "typing.Literal[")):
                return "safe", f"`{expr.value}` is annotated `{ann}`", None
        if b is not None and b.kind == "param" and isinstance(b.node, cst.Param) and isinstance(b.node.default, (cst.Integer, cst.Float)):
            # ``def is_flapping(self, alert, window=1800)``: a number by design
            return "safe", f"`{expr.value}` is a number (its default is {b.node.default.value})", None
        got = _single_assignment(ctx, expr, module_only)
        if got is not None:
            value, is_module = got
            k, how, text = self.classify(value, depth + 1, module_only or is_module)
            if k != "value":
                return k, how, text
        if b is not None and b.kind == "assign" and isinstance(b.value, cst.Call) and self._returns_constants(b):
            return "safe", f"`{expr.value}` comes from `{N.short(b.value.func, 40)}()`, which returns only constants", None
        if b is not None and b.kind == "assign" and isinstance(b.value, cst.Call) and self._returns_placeholders(b, expr.value):
            return "placeholders", f"`{expr.value}` is the placeholder list `{N.short(b.value.func, 40)}()` generates", None
        if got is None and self._all_bindings_constant(expr, depth, module_only):
            return "safe", f"every value assigned to `{expr.value}` is built from constants", None
        if FRAGMENT_NAME_RE.search(expr.value) and (b is None or b.kind != "for"):
            return "safe", f"`{expr.value}` is a SQL fragment composed elsewhere", None
        guard = self._membership_guard(expr)
        if guard is not None:
            return "safe", f"`{expr.value}` is checked against the allow-list `{guard}`", None
        check = self._validator_guard(expr)
        if check is not None:
            return "safe", f"`{expr.value}` is checked with `{check}` first", None
        return "value", "", None

    def _validator_guard(self, expr: cst.Name) -> Optional[str]:
        fn = self.ctx.function
        if fn is None:
            return None
        return self.ctx.memo(("sql-validators", id(fn.node)), lambda: _validator_guards(fn.node)).get(expr.value)

    def _constant_everywhere(self, qualname: str, param: str) -> bool:
        """In an application (the project has request or task entry points: no outside callers),
        every call site of the function passes a literal or an integer for ``param``."""
        return constant_in_application(self.ctx.index, self.ctx.config, qualname, param)

    def _returns_constants(self, b) -> bool:
        """``table, events = get_table_names(model)`` where every return of the project function
        is a tuple of that many constants (literals, ``_meta.db_table``)."""
        fq = resolve_callee(b.value, self.ctx)
        fn = self.ctx.index.functions.get(fq) if fq else None
        n = fn.const_returns if fn is not None else 0
        if not n:
            return False
        if b.is_simple:
            return n == 1
        return isinstance(b.target, (cst.Tuple, cst.List)) and len(b.target.elements) == n

    def _returns_placeholders(self, b, name: str) -> bool:
        """``query_str, params = array2sql(ids)`` where the project function always returns
        generated placeholder text (``(:ids_0,:ids_1)``) in the position ``name`` takes."""
        fq = resolve_callee(b.value, self.ctx)
        fn = self.ctx.index.functions.get(fq) if fq else None
        if fn is None or not fn.placeholder_returns:
            return False
        if b.is_simple:
            return fn.placeholder_returns == (0,)
        if not isinstance(b.target, (cst.Tuple, cst.List)):
            return False
        names = [el.value.value if isinstance(el.value, cst.Name) else None for el in b.target.elements]
        return name in names and names.index(name) in fn.placeholder_returns

    def classify_collection(self, coll: Optional[cst.BaseExpression], depth: int, module_only: bool) -> Tuple[str, str, Optional[str]]:
        """Whether a collection holds only constants (an allow-list): ("safe", how, None) or ("value", ...)."""
        el: Union[cst.BaseElement, cst.BaseDictElement]
        if coll is None or depth > 8:
            return "value", "", None
        if isinstance(coll, cst.Call) and N.call_name(coll) in ("keys", "values", "items") and N.receiver(coll) is not None:
            return self.classify_collection(N.receiver(coll), depth + 1, module_only)
        if isinstance(coll, cst.Call) and N.call_name(coll) in ("sorted", "list", "tuple", "set", "frozenset", "reversed") and coll.args:
            return self.classify_collection(coll.args[0].value, depth + 1, module_only)
        if isinstance(coll, (cst.List, cst.Tuple, cst.Set)):
            for el in coll.elements:
                if isinstance(el, cst.StarredElement):
                    return "value", "", None
                v = el.value
                if self.classify_or_const(v, depth + 1, module_only) == "value":
                    return "value", "", None
            return "safe", "a constant list", None
        if isinstance(coll, (cst.ListComp, cst.GeneratorExp, cst.SetComp)):
            # ``[identifier(f) for f in fields]``: every element goes through the same expression
            if self.classify_or_const(coll.elt, depth + 1, module_only) != "value":
                return "safe", "a list of quoted or constant values", None
            return "value", "", None
        if isinstance(coll, cst.Dict):
            for el in coll.elements:
                if not isinstance(el, cst.DictElement):
                    return "value", "", None
                if self.classify_or_const(el.value, depth + 1, module_only) == "value":
                    return "value", "", None
            return "safe", "a constant mapping", None
        if isinstance(coll, cst.Name) and self.ctx.function is not None:
            fn_node = self.ctx.function.node
            checked = self.ctx.memo(("sql-checked-collections", id(fn_node)), lambda: _checked_collections(fn_node))
            if coll.value in checked:
                return "safe", f"every item of `{coll.value}` is checked with `{checked[coll.value]}` first", None
        if isinstance(coll, cst.Name):
            got = _single_assignment(self.ctx, coll, module_only)
            if got is not None:
                value, is_module = got
                k, how, _ = self.classify_collection(value, depth + 1, module_only or is_module)
                if k != "value":
                    added = [] if is_module else self._appended(coll.value)
                    if all(self.classify_or_const(a, depth + 1, module_only) != "value" for a in added):
                        where = "module-level" if is_module else "local"
                        what = "allow-list" if not added else "list of constant fragments"
                        return "safe", f"the {where} {what} `{coll.value}`", None
            return "value", "", None
        if isinstance(coll, cst.Attribute):
            # self.ALLOWED_SORTS / Report.COLUMNS: a class-level constant (upper-case names only)
            last = coll.attr.value
            base = N.dotted(coll.value) or ""
            if last.isupper() and len(last) > 4 and (base in ("self", "cls") or (base[:1].isupper() and "." not in base)):
                return "safe", f"the allow-list `{N.short(coll, 40)}`", None
        return "value", "", None

    def _appended(self, name: str) -> List[cst.BaseExpression]:
        """Values added to a local list in the current function (``append``/``extend``/``insert``/``+=``)."""
        fn = self.ctx.function
        if fn is None:
            return []

        def compute():
            added: Dict[str, List[cst.BaseExpression]] = {}
            for node in N.walk(fn.node, into_functions=False):
                if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and isinstance(node.func.value, cst.Name):
                    meth = node.func.attr.value
                    target = node.func.value.value
                    if meth in ("append", "extend", "insert") and node.args:
                        value = node.args[-1].value
                        if meth == "extend":
                            added.setdefault(target, []).append(value if not isinstance(value, (cst.List, cst.Tuple)) else value)
                        else:
                            added.setdefault(target, []).append(value)
                elif isinstance(node, cst.AugAssign) and isinstance(node.target, cst.Name):
                    added.setdefault(node.target.value, []).append(node.value)
            return added

        found = self.ctx.memo(("sql-appends", id(fn.node)), compute)
        out: List[cst.BaseExpression] = []
        for v in found.get(name, []):
            if isinstance(v, (cst.List, cst.Tuple)):
                out.extend(e.value for e in v.elements)
            else:
                out.append(v)
        return out

    def _all_bindings_constant(self, expr: cst.Name, depth: int, module_only: bool) -> bool:
        """Every value assigned to the name (``where = ""`` / ``where = " WHERE a = %s"``) is constant-built."""
        found = _scope_bindings(self.ctx, expr.value, expr, module_only)
        if len(found) < 2 or expr.value in self._assumed:
            return False
        # ``s = "a"`` then ``s = f"({s})->>:k_{i}"`` in a loop: constant when every binding is,
        # assuming ``s`` itself is (each step keeps it so)
        self._assumed.add(expr.value)
        try:
            return self._bindings_constant(found, depth, module_only)
        finally:
            self._assumed.discard(expr.value)

    def _bindings_constant(self, found, depth: int, module_only: bool) -> bool:
        for b in found:
            if b.kind not in ("assign", "annassign", "augassign") or b.value is None or (b.kind != "augassign" and not b.is_simple):
                return False
            p = self.pieces(b.value, depth + 1, b.value, module_only)
            if p is None:
                if self.classify(b.value, depth + 1, module_only)[0] == "value":
                    return False
                continue
            if any(isinstance(h, Hole) and h.kind == "value" for h in p):
                return False
        return True

    def _membership_guard(self, expr: cst.Name) -> Optional[str]:
        """``if x not in ALLOWED: raise`` / ``assert x in ALLOWED`` / ``if x in ALLOWED:`` in the function."""
        fn = self.ctx.function
        if fn is None:
            return None

        def compute():
            guards: Dict[str, str] = {}
            for node in N.walk(fn.node, into_functions=False):
                if not isinstance(node, cst.Comparison):
                    continue
                left = node.left
                if isinstance(left, cst.Call) and N.call_name(left) in _CASE_METHODS and not left.args:
                    left = N.receiver(left)  # ``if order.lower() not in ("asc", "desc"): raise``
                if isinstance(left, cst.Name):
                    for comp in node.comparisons:
                        if isinstance(comp.operator, (cst.In, cst.NotIn)):
                            guards.setdefault(left.value, N.short(comp.comparator, 30))
            return guards

        guards = self.ctx.memo(("sql-guards", id(fn.node)), compute)
        return guards.get(expr.value)


_CASE_METHODS = frozenset(("upper", "lower", "casefold", "strip", "lstrip", "rstrip", "title", "capitalize"))

# a check of a name that raises or returns when it fails: ``if not _valid_sql_name(table): raise``,
# ``assert is_safe_identifier(col)``, ``if not re.fullmatch(r"\w+", col): raise``, ``col.isidentifier()``
_VALIDATOR_NAME = re.compile(
    r"(valid|safe|allowed|permitted|check)\w*(name|ident|column|table|field|sql|schema)|^is_valid_(cidr|ip|ipv4|ipv6|ip_?address|address|network|prefix|mac|uuid|int|integer|number|date|datetime|hex|slug|identifier)$|^(full)?match$|^isidentifier$|^isalnum$|^isdigit$|^isdecimal$", re.I
)


_STOPS = (cst.Raise, cst.Return, cst.Continue)


def _validator_guards(fn_node: cst.CSTNode) -> Dict[str, str]:
    """Names a failed check stops: ``if not valid(x): raise/return/continue`` (also ``if not
    x.isidentifier()``) and ``assert valid(x)``; name → the check's code."""
    guards: Dict[str, str] = {}

    def checked(test: cst.BaseExpression) -> List[Tuple[str, str]]:
        out = []
        for call in N.walk(test):
            if not isinstance(call, cst.Call) or not _VALIDATOR_NAME.search(N.call_name(call) or ""):
                continue
            recv = N.receiver(call)
            for arg in [a.value for a in call.args] + ([recv] if isinstance(recv, cst.Name) and not call.args else []):
                if isinstance(arg, cst.Name):
                    out.append((arg.value, N.short(call, 40)))
        return out

    for node in N.walk(fn_node, into_functions=False):
        if isinstance(node, cst.Assert):
            for name, how in checked(node.test):
                guards.setdefault(name, how)
        elif isinstance(node, cst.If) and isinstance(node.test, cst.UnaryOperation) and isinstance(node.test.operator, cst.Not):
            body = node.body.body if isinstance(node.body, cst.IndentedBlock) else ()
            stops = any(isinstance(s, cst.SimpleStatementLine) and any(isinstance(x, _STOPS) for x in s.body) for s in body)
            if stops or (isinstance(node.body, cst.SimpleStatementSuite) and any(isinstance(x, _STOPS) for x in node.body.body)):
                for name, how in checked(node.test.expression):
                    guards.setdefault(name, how)
    return guards


def _checked_collections(fn_node: cst.CSTNode) -> Dict[str, str]:
    """``for field in group_by: if not _valid_sql_name(field): raise``: collections whose every
    item a failed check stops (name → the check)."""
    out: Dict[str, str] = {}
    for node in N.walk(fn_node, into_functions=False):
        if isinstance(node, cst.For) and isinstance(node.target, cst.Name):
            inner = _validator_guards(node.body)
            if node.target.value not in inner:
                continue
            if isinstance(node.iter, cst.Name):
                out.setdefault(node.iter.value, inner[node.target.value])
            # ``for h in ids: if not h.isalnum(): continue`` then ``safe.append(h)``: every item of
            # ``safe`` passed the check
            for call in N.walk(node.body):
                if (
                    isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute) and call.func.attr.value == "append"
                    and isinstance(call.func.value, cst.Name) and len(call.args) == 1
                    and isinstance(call.args[0].value, cst.Name) and call.args[0].value.value == node.target.value
                ):
                    out.setdefault(call.func.value.value, inner[node.target.value])
    return out


def _constant_property(ctx: Context, attr: str) -> bool:
    """``db.timestamp_now`` where every project function of that name is a ``@property`` whose every
    return is a constant (``return "now()"`` / ``return "(strftime('%s', 'now'))"``): SQL text chosen
    by the object, not a value from outside."""
    props = ctx.index.derived("sql-constant-properties", _constant_properties)
    return props.get(attr, False)


def _constant_properties(index) -> Dict[str, bool]:
    out: Dict[str, bool] = {}
    for fn in index.functions.values():
        if fn.cls is None:
            continue
        is_prop = any(d.rsplit(".", 1)[-1] in ("property", "cached_property") for d in fn.decorators)
        out[fn.name] = out.get(fn.name, True) and is_prop and fn.const_returns == 1
    return out


def _loop_counter(b) -> bool:
    """The name counts iterations: ``for i in range(...)`` or the first name of ``for i, x in
    enumerate(...)``."""
    it = b.value
    if not isinstance(it, cst.Call) or not isinstance(b.node, cst.For):
        return False
    name = N.call_name(it)
    if name == "range" and isinstance(b.target, cst.Name):
        return True
    target = b.target
    if name == "enumerate" and isinstance(target, (cst.Tuple, cst.List)) and target.elements:
        first = target.elements[0].value
        return isinstance(first, cst.Name) and first.value == b.name
    return False


HTTP_ATTRS = {"GET", "POST", "FILES", "COOKIES", "META", "DATA", "JSON", "HEADERS", "ARGS", "FORM", "BODY", "PUT", "QUERY"}


# Helpers named for what they do to a value spliced into SQL: ``quote_ident``, ``identifier``,
# ``literal_string``, ``escape_like``, ``sanitize_name`` (a project's own quoting functions).
_QUOTING_NAME = re.compile(r"quote|escape|sanitiz|^qt_?(literal|ident)|^identifier$|^literal(_string|_value)?$|^sql_identifier$|^quote_?name$", re.I)


def _escapes_quotes(call: cst.Call, ctx: Context) -> bool:
    """``call`` calls a module-level project function that quotes its argument by doubling the
    quote character (``"'" + s.replace("'", "''") + "'"``): its result cannot break out of a
    literal. Read from the function's index facts, so the answer does not depend on which
    process parsed the file that defines it."""
    q = ctx.qualify(call.func)
    fn = ctx.index.functions.get(q) if q else None
    return fn is not None and fn.cls is None and fn.nested_in is None and fn.doubles_quotes


def _is_config_name(name: str) -> bool:
    """``settings.DB_SCHEMA`` / ``config.TABLE_PREFIX``: an upper-case configuration constant."""
    return name.isupper() and len(name) > 1 and name not in HTTP_ATTRS


def _config_lookup(expr: cst.Subscript, ctx: Context) -> bool:
    """``os.environ["X"]`` / ``app.config["X"]`` / ``settings.DATABASES["default"]``."""
    base = N.dotted(expr.value) or ""
    q = ctx.qualify(expr.value) or base
    if q == "os.environ" or base.endswith((".config", "app.config")) or base == "config":
        return True
    last = base.rsplit(".", 1)[-1]
    return _is_config_name(last) and "." in base


def _const_how(ctx: Context, expr: cst.BaseExpression) -> str:
    if isinstance(expr, cst.Name):
        found = ctx.bindings(expr.value, at=expr)
        if found and found[-1].kind == "import" and _imported_string(ctx, expr):
            return f"constant `{expr.value}` imported from `{cast(Tuple[str, str], _imported_string(ctx, expr))[1].rpartition('.')[0]}`"
        if found and found[-1].scope is ctx.module_scope():
            return f"module-level constant `{expr.value}`"
        if _imported_string(ctx, expr):
            return f"constant `{expr.value}` imported from `{cast(Tuple[str, str], _imported_string(ctx, expr))[1].rpartition('.')[0]}`"
        return f"local constant `{expr.value}`"
    if isinstance(expr, cst.Attribute):
        return f"constant `{N.short(expr, 40)}`"
    return "a constant"


def is_placeholder_list(expr: cst.BaseExpression, ev: "Evaluator", module_only: bool = False, depth: int = 0) -> bool:
    """``",".join(["%s"] * len(ids))``, ``", ".join("?" for _ in ids)``, ``"?," * n``, a name bound to one."""
    if depth > 4:
        return False
    if isinstance(expr, cst.Name):
        got = _single_assignment(ev.ctx, expr, module_only)
        return got is not None and is_placeholder_list(got[0], ev, module_only or got[1], depth + 1)
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, (cst.Multiply, cst.Add)):
        if isinstance(expr.operator, cst.Multiply):
            for side in (expr.left, expr.right):
                if _is_placeholder_text(ev, side, module_only):
                    return True
            return False
        return all(_is_placeholder_text(ev, s, module_only) or is_placeholder_list(s, ev, module_only, depth + 1) for s in (expr.left, expr.right))
    if isinstance(expr, cst.Call) and N.call_name(expr) in ("strip", "rstrip", "lstrip") and N.receiver(expr) is not None:
        return is_placeholder_list(cast(cst.BaseExpression, N.receiver(expr)), ev, module_only, depth + 1) or _is_placeholder_text(ev, cast(cst.BaseExpression, N.receiver(expr)), module_only)
    if isinstance(expr, cst.Call) and N.call_name(expr) == "join" and expr.args:
        seq = expr.args[0].value
        if isinstance(seq, cst.Name):
            got = _single_assignment(ev.ctx, seq, module_only)
            if got is not None:
                seq = got[0]
        if isinstance(seq, cst.BinaryOperation) and isinstance(seq.operator, cst.Multiply):
            for side in (seq.left, seq.right):
                if isinstance(side, (cst.List, cst.Tuple)) and side.elements and all(_is_placeholder_text(ev, e.value, module_only) for e in side.elements):
                    return True
                if _is_placeholder_text(ev, side, module_only):
                    return True
        if isinstance(seq, (cst.GeneratorExp, cst.ListComp)):
            return _is_placeholder_text(ev, seq.elt, module_only, allow_holes=True)
        if isinstance(seq, cst.Call) and N.call_name(seq) == "repeat" and seq.args:
            return _is_placeholder_text(ev, seq.args[0].value, module_only)
        if isinstance(seq, (cst.List, cst.Tuple)) and seq.elements:
            return all(_is_placeholder_text(ev, e.value, module_only) for e in seq.elements if not isinstance(e, cst.StarredElement))
    return False


def _is_placeholder_text(ev: "Evaluator", expr: cst.BaseExpression, module_only: bool, allow_holes: bool = False) -> bool:
    p = ev.pieces(expr, 0, False, module_only)
    if p is None:
        return False
    texts = "".join(x if isinstance(x, str) else "" for x in p)
    if not allow_holes and not all(isinstance(x, str) for x in p):
        return False
    if allow_holes and not any(isinstance(x, str) and x.strip() for x in p):
        return False
    if allow_holes:
        # f"{col} = %s" / f"${i}" / f"%({k})s": the text around the holes is a placeholder
        return bool(re.search(r"(\?|%s|\$|%\(\w*\)s|:)\s*,?\s*$", texts.strip())) or bool(PLACEHOLDER_TEXT_RE.match(texts))
    if PLACEHOLDER_TEXT_RE.match(texts.replace(",", "").strip() or ","):
        return True
    # a placeholder wrapped in SQL: "QUOTE(?)", "%s::int", "lower(%s)"
    return "'" not in texts and bool(re.search(r"\?|%s|\$\d|:[A-Za-z_]\w*", texts)) and len(texts) <= 40


# --------------------------------------------------------------------------- assembly


def _assemble(pieces: List[Piece]) -> Tuple[str, List[Hole]]:
    """SQL text with hole tokens; numbering value/safe holes. Quotes decide the token form."""
    out: List[str] = []
    holes: List[Hole] = []
    counter = 0
    for p in pieces:
        if isinstance(p, str):
            out.append(p)
            continue
        holes.append(p)
        if p.kind == "const" and p.text is not None:
            out.append(p.text)
            continue
        if p.kind == "safe" and p.text is not None:
            out.append(p.text)
            continue
        if p.kind == "placeholders":
            p.index = counter
            counter += 1
            out.append(f":qlh{p.index}")
            continue
        p.index = counter
        counter += 1
        out.append(f"{HOLE_PREFIX}{p.index}")
    return "".join(out), holes


def _sql_constant_uses(index) -> Dict[str, set]:
    """{qualified module-level name: sink names} of constants used as SQL in another module."""
    from querylint.project.facts import SQL_SINK_NAMES

    out: Dict[str, set] = {}
    for fn in index.functions.values():
        for name, callee in getattr(fn, "sql_names", ()):
            last = callee.rsplit(".", 1)[-1]
            if last in SQL_SINK_NAMES:
                out.setdefault(name, set()).add(last)
                continue
            target = index.resolve_function(callee, fn)
            if target is not None and bool(getattr(target, "sql_params", ())):
                out.setdefault(name, set()).add("helper")
    return out


def extract_constant(node: cst.Assign, ctx: Context) -> List[EmbeddedSql]:
    """A module-level ``NAME = "SELECT ..."`` that another module passes to a SQL sink."""
    if len(node.targets) != 1 or not isinstance(node.targets[0].target, cst.Name):
        return []
    uses = ctx.index.derived("sql_constant_uses", _sql_constant_uses)
    if not uses:
        return []
    sinks = uses.get(f"{ctx.module}.{node.targets[0].target.value}")
    if not sinks:
        return []
    ev = Evaluator(ctx)
    pieces = ev.pieces(node.value)
    if pieces is None:
        return []
    text, holes = _assemble(pieces)
    if not looks_like_sql(text):
        return []
    kind = "raw" if sinks == {"raw"} else "constant"
    sink = Sink(None, kind, node.targets[0].target.value, ((node.value, "statement"),), None, (), None, False, sorted(sinks)[0])
    return [EmbeddedSql(sink, node.value, "statement", pieces, node, holes, [], text, guess_driver_from_imports(ctx), ctx)]


def extract(call: cst.Call, ctx: Context) -> List[EmbeddedSql]:
    """Every SQL text reaching this call when it is a sink (memoised per call node)."""
    return ctx.memo(("sql-extract", id(call)), lambda: guarded(_extract, call, ctx))


def guarded(fn, node, ctx: Context) -> List[EmbeddedSql]:
    try:
        return fn(node, ctx)
    except RecursionError:  # a pathologically long concatenation: not judged
        return []


def _extract(call: cst.Call, ctx: Context) -> List[EmbeddedSql]:
    sink = find_sink(call, ctx)
    if sink is None:
        return []
    ev = Evaluator(ctx)
    out: List[EmbeddedSql] = []
    driver = sink.driver or guess_driver_from_imports(ctx)
    if sink.kind == "text" and sink.params is None:
        params = _text_params(call, ctx)
        if params is not None:
            sink = Sink(sink.call, sink.kind, sink.label, sink.sql, params, (), sink.driver, sink.confident, sink.method)
    for expr, fragment in sink.sql:
        pieces = ev.pieces(expr)
        origin: Optional[cst.CSTNode] = call
        extra: List[Hole] = []
        if pieces is None:
            # unknown text: still collect formatting that flows in through a name (``sql += f"..."``)
            extra = _builders_of_name(ev, expr)
            origin = None
        elif isinstance(expr, cst.Name):
            origin = _origin_of_name(ctx, expr)
        elif isinstance(expr, cst.Attribute):
            origin = ev.class_attr_node(expr)
        text, holes = (None, []) if pieces is None else _assemble(pieces)
        if fragment == "rawsql":
            # RawSQL("SELECT ...") is a scalar subquery of an ORM query, not a statement of its own
            fragment = "subquery" if text is not None and looks_like_sql(text) else "expression"
        item = EmbeddedSql(sink, expr, fragment, pieces, origin, holes, extra, text, driver, ctx)
        if not sink.confident:
            head = text if text is not None else _leading_text(ev, expr)
            if head is None or not looks_like_sql(head + " x"):
                continue
        out.append(item)
    return out


_ORDER_METHODS = frozenset({"order_by", "group_by"})
_CONDITION_METHODS = frozenset({"filter", "where", "having", "join", "outerjoin", "on"})


def _text_fragment(call: cst.Call, ctx: Context) -> str:
    """What a ``text(...)`` is: a whole statement, or a clause handed to a query method
    (``query.order_by(text(f"{col} {direction}"))``: a sort; ``.filter(text(...))``: a condition)."""
    arg = ctx.parent_of(call)
    outer = ctx.parent_of(arg) if isinstance(arg, cst.Arg) else None
    method = N.call_name(outer) if isinstance(outer, cst.Call) and isinstance(outer.func, cst.Attribute) else None
    if method in _ORDER_METHODS:
        return "order"
    if method in _CONDITION_METHODS:
        return "condition"
    return "statement"


def _text_params(call: cst.Call, ctx: Context) -> Optional[cst.BaseExpression]:
    """Parameters given with a ``text()`` statement: ``execute(text(...), params)``,
    ``stmt = text(...)`` then ``execute(stmt, params)``, or ``text(...).bindparams(k=v)``."""
    parent = ctx.parent_of(call)
    if isinstance(parent, cst.Attribute) and parent.attr.value == "bindparams":
        outer = ctx.parent_of(parent)
        if isinstance(outer, cst.Call):
            return cst.Call(func=cst.Name("dict"), args=[a for a in outer.args if a.keyword is not None])
    if isinstance(parent, cst.Arg):
        outer = ctx.parent_of(parent)
        if isinstance(outer, cst.Call) and outer.args and outer.args[0] is parent and len(outer.args) > 1:
            return outer.args[1].value
        return None
    if isinstance(parent, cst.Assign) and len(parent.targets) == 1 and isinstance(parent.targets[0].target, cst.Name):
        fn = ctx.function
        if fn is None:
            return None
        name = parent.targets[0].target.value
        for node in N.walk(fn.node, into_functions=False):
            if isinstance(node, cst.Call) and len(node.args) > 1 and isinstance(node.args[0].value, cst.Name) and node.args[0].value.value == name and node.args[0].keyword is None:
                return node.args[1].value
    return None


def _leading_text(ev: Evaluator, expr: cst.BaseExpression) -> Optional[str]:
    """The start of a SQL text that is not fully known: the first value assigned to the name."""
    while isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Add):
        expr = expr.left
    if isinstance(expr, cst.Name):
        found = ev.ctx.bindings(expr.value, at=expr)
        firsts = [b for b in found if b.kind in ("assign", "annassign") and b.value is not None]
        if not firsts:
            return None
        expr = cast(cst.BaseExpression, firsts[0].value)  # filtered on value above
    p = ev.pieces(expr, 1, True)
    if p and isinstance(p[0], str):
        return p[0]
    return None


def _origin_of_name(ctx: Context, expr: cst.Name) -> Optional[cst.CSTNode]:
    """The expression a name's text comes from (for reporting at the literal's line)."""
    current: cst.CSTNode = expr
    module_only = False
    for _ in range(8):
        if not isinstance(current, cst.Name):
            return current
        got = _single_assignment(ctx, current, module_only)
        if got is None:
            return None  # e.g. imported from another module: not reported in this file
        statement = _assignment_statement(ctx, current, module_only)
        value, is_module = got
        module_only = module_only or is_module
        if not isinstance(value, cst.Name):
            return statement or value
        current = value
    return None


def _assignment_statement(ctx: Context, node: cst.Name, module_only: bool) -> Optional[cst.CSTNode]:
    """The ``name = value`` statement of a single assignment (its span covers a parenthesised value)."""
    found = _scope_bindings(ctx, node.value, node, module_only)
    if found and isinstance(found[-1].node, (cst.Assign, cst.AnnAssign)):
        return found[-1].node
    return None


_OUTSIDE_WORDS = frozenset(("request", "req", "argv", "stdin", "query_params", "form"))


# calls whose result carries the text of their receiver or arguments
_TEXT_CALLS = frozenset((
    "str", "join", "format", "split", "rsplit", "strip", "lstrip", "rstrip", "lower", "upper", "title",
    "capitalize", "replace", "get", "pop", "getlist", "getattr", "list", "tuple", "sorted", "set", "reversed",
    "dict", "items", "values", "keys", "partition", "rpartition", "encode", "decode", "casefold", "splitlines",
    "loads", "load", "unquote", "unquote_plus", "parse_qs", "b64decode", "literal_eval", "get_json",
))


def _project_function(call: cst.Call, ctx: Context) -> bool:
    """``call`` reaches a module-level function of the project (its result may be built from its
    arguments), not a method of some object (a connection, a query) or a library call."""
    q = resolve_callee(call, ctx)
    fn = ctx.index.functions.get(q) if q else None
    return fn is not None and fn.cls is None


def from_outside(expr: Optional[cst.BaseExpression], ctx: Context, params: bool = True) -> bool:
    """Text from outside the code can reach ``expr``: a parameter of its function (other than
    ``self``/``cls``), request data, ``sys.argv`` or ``input()``, directly or through locals,
    attributes, subscripts, string operations, loops over them and lists filled from them. The
    result of any other call (a query, a project function) is not followed: a column of a row just
    fetched, an attribute of the object or an id from another query shows no sign of input.
    With ``params=False`` a parameter alone is not input: only request data, ``sys.argv`` or
    ``input()`` is. An attribute of a parameter annotated as a class (``model_cls: type[Model]``)
    is a class attribute: code, not input."""
    visited: Set[int] = set()

    def name_reaches(node: cst.Name, depth: int) -> bool:
        if node.value in _OUTSIDE_WORDS:
            return True
        if node.value in ("self", "cls"):
            return False
        for b in ctx.bindings(node.value, at=node):
            if b.kind == "param":
                if params:
                    return True
                continue
            if b.kind in ("assign", "annassign", "augassign", "for", "comprehension", "walrus", "with") and reaches(b.value, depth + 1):
                return True
        return any(reaches(v, depth + 1) for v in _added_to(ctx, node.value))

    def reaches(value: Optional[cst.BaseExpression], depth: int) -> bool:
        if value is None or depth > 8 or id(value) in visited:
            return False
        visited.add(id(value))
        if isinstance(value, cst.Name):
            return name_reaches(value, depth)
        if isinstance(value, cst.Attribute):
            if isinstance(value.value, cst.Name) and _class_param(ctx, value.value):
                return False
            return value.attr.value in _OUTSIDE_WORDS or reaches(value.value, depth + 1)
        if isinstance(value, cst.Subscript):
            return reaches(value.value, depth + 1)
        if isinstance(value, cst.Call):
            name = N.call_name(value) or ""
            if name == "input" or (N.dotted(value.func) or "").split(".")[0] in _OUTSIDE_WORDS:
                return True
            if name not in _TEXT_CALLS and not _project_function(value, ctx):
                return False
            parts = [a.value for a in value.args] + ([value.func.value] if isinstance(value.func, cst.Attribute) else [])
            return any(reaches(p, depth + 1) for p in parts)
        if isinstance(value, cst.FormattedString):
            return any(reaches(p.expression, depth + 1) for p in value.parts if isinstance(p, cst.FormattedStringExpression))
        if isinstance(value, (cst.BinaryOperation, cst.BooleanOperation)):
            return reaches(value.left, depth + 1) or reaches(value.right, depth + 1)
        if isinstance(value, cst.IfExp):
            return reaches(value.body, depth + 1) or reaches(value.orelse, depth + 1)
        if isinstance(value, (cst.List, cst.Tuple, cst.Set)):
            return any(reaches(el.value, depth + 1) for el in value.elements)
        if isinstance(value, (cst.ListComp, cst.GeneratorExp, cst.SetComp)):
            return reaches(value.elt, depth + 1) or reaches(value.for_in.iter, depth + 1)
        if isinstance(value, cst.Dict):
            return any(reaches(el.value, depth + 1) for el in value.elements)
        if isinstance(value, (cst.Await, cst.StarredElement)):
            return reaches(value.expression if isinstance(value, cst.Await) else value.value, depth + 1)
        return False

    return reaches(expr, 0)


def _class_param(ctx: Context, name: cst.Name) -> bool:
    """``name`` is a parameter annotated as a class: ``model_cls: type[Model]``, ``Type[Model]``."""
    for b in ctx.bindings(name.value, at=name):
        if b.kind == "param" and isinstance(b.node, cst.Param) and b.node.annotation is not None:
            ann = b.node.annotation.annotation
            if isinstance(ann, cst.SimpleString):
                text = N.string_value(ann) or ""
            elif isinstance(ann, cst.Subscript):
                text = (N.dotted(ann.value) or "") + "["
            else:
                text = ""
            if re.match(r"(typing\.)?[Tt]ype\[", text):
                return True
    return False


def _added_to(ctx: Context, name: str) -> List[cst.BaseExpression]:
    """Values appended to (``append``/``extend``/``insert``/``add``) the local ``name``."""
    fn = ctx.function
    if fn is None:
        return []

    def compute() -> Dict[str, List[cst.BaseExpression]]:
        added: Dict[str, List[cst.BaseExpression]] = {}
        for node in N.walk(fn.node, into_functions=False):
            if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and isinstance(node.func.value, cst.Name):
                if node.func.attr.value in ("append", "extend", "insert", "add") and node.args:
                    added.setdefault(node.func.value.value, []).append(node.args[-1].value)
        return added

    return ctx.memo(("sql-added-to", id(fn.node)), compute).get(name, [])


def value_holes_of_name(expr: cst.BaseExpression, ctx: Context) -> List[Hole]:
    """The non-constant values formatted into the text a name holds, where it is built
    (``where_id += "AND user_id = %s " % user_id``, then ``"... %s" % where_id``)."""
    if not isinstance(expr, cst.Name):
        return []
    holes = _builders_of_name(Evaluator(ctx), expr)
    if any(isinstance(h.expr, cst.Name) and h.expr.value == expr.value for h in holes):
        return []  # rebuilt from itself (``path = f"({path})->>{part}"``): judged where it is used
    return [h for h in holes if h.kind == "value"]


def _builders_of_name(ev: Evaluator, expr: cst.BaseExpression) -> List[Hole]:
    """Holes of every formatting expression assigned/appended to a name (``sql = f"..."``; ``sql += ...``)."""
    if not isinstance(expr, cst.Name):
        if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Add):
            return _builders_of_name(ev, expr.left) + _builders_of_name(ev, expr.right)
        return []
    ctx = ev.ctx
    found = ctx.bindings(expr.value, at=expr)
    if not found:
        return []
    scope = found[-1].scope
    every = scope.bindings.get(expr.value, []) if scope is not None else found
    out: List[Hole] = []
    for b in every:
        if b.kind not in ("assign", "annassign", "augassign") or b.value is None or b.end >= _ordinal(scope, expr):
            continue
        value = b.value
        p = ev.pieces(value, 1, b.node if isinstance(b.node, (cst.Assign, cst.AnnAssign, cst.AugAssign)) else value)
        if p is None:
            continue
        out.extend(h for h in p if isinstance(h, Hole))
    return out


def _ordinal(scope: Optional[Scope], node: cst.CSTNode) -> int:
    if scope is None:
        return 1 << 30
    return scope.ordinal.get(id(node), 1 << 30)


# --------------------------------------------------------------------------- pure helpers


_NUMERIC_CONVERSIONS = frozenset("diouxXeEfFgG")


@dataclass(frozen=True)
class Spec:
    """A ``%`` conversion: ``key`` is the mapping key of ``%(key)s``, None for a positional one."""

    key: Optional[str] = None
    conv: str = "s"  # the conversion letter: ``d``/``i``/``f``... format only numbers


def _record_key(expr: cst.Attribute) -> bool:
    """``tfile.id``, ``target.project_id``: see :func:`~querylint.project.facts.is_record_key`."""
    root = expr.value
    while isinstance(root, cst.Attribute):
        root = root.value
    return isinstance(root, cst.Name) and is_record_key(expr.attr.value, root.value)


def split_percent(fmt: str) -> Optional[List[Union[str, Spec]]]:
    """``"a %s b %(k)s %%"`` → ``["a ", Spec(None), " b ", Spec("k"), " %"]``."""
    out: List[Union[str, Spec]] = []
    buf: List[str] = []
    i, n = 0, len(fmt)
    while i < n:
        c = fmt[i]
        if c != "%":
            buf.append(c)
            i += 1
            continue
        if i + 1 < n and fmt[i + 1] == "%":
            buf.append("%")
            i += 2
            continue
        m = re.compile(r"%(\((?P<key>[^)]*)\))?[#0\- +]*(\*|\d+)?(\.(\*|\d+))?[hlL]?(?P<conv>[diouxXeEfFgGcrsa])").match(fmt, i)
        if not m:
            return None
        if buf:
            out.append("".join(buf))
            buf = []
        out.append(Spec(m.group("key"), m.group("conv")))
        i = m.end()
    if buf:
        out.append("".join(buf))
    return out


def runs_only_unbatchable(call: cst.Call, ctx: Context) -> bool:
    """Every SQL text known to reach ``call`` is DDL or administration (:func:`unbatchable`), and
    at least one is known: per item, such a statement is not an N+1. ``executescript`` runs a
    script (a schema file, a migration), whatever its text."""
    if N.call_name(call) == "executescript":
        return True
    found = extract(call, ctx)
    if not found:  # ``session.execute(text("..."))``: the SQL sink is the ``text()`` call
        arg = N.arg(call, 0)
        if isinstance(arg, cst.Name):
            arg = _resolve_value(ctx, arg)
        if isinstance(arg, cst.Call):
            found = extract(arg, ctx)
    texts = [e.text for e in found if e.text]
    if not texts:  # not extracted (``INSTALL``, ``SET`` do not look like row SQL): the literal's start
        lead = _literal_start(N.arg(call, 0), ctx)
        texts = [lead] if lead else []
    return bool(texts) and all(unbatchable(t) for t in texts)


def _literal_start(expr: Optional[cst.BaseExpression], ctx: Context) -> Optional[str]:
    """The constant text a string argument starts with (a literal, an f-string's first text
    part, a name bound once to one of those, the text inside ``text(...)``/``str(...)``), or None."""
    if isinstance(expr, cst.Name):
        expr = _resolve_value(ctx, expr)
    if isinstance(expr, cst.Call) and N.call_name(expr) in ("text", "str", "SQL") and expr.args:
        expr = expr.args[0].value
        if isinstance(expr, cst.Name):
            expr = _resolve_value(ctx, expr)
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, (cst.Modulo, cst.Add)):
        expr = expr.left  # ``'SET search_path TO %s' % namespace``, ``"SELECT ..." + where``
    elif isinstance(expr, cst.Call) and N.call_name(expr) == "format" and isinstance(expr.func, cst.Attribute):
        expr = expr.func.value  # ``"DROP SCHEMA {}".format(name)``
    if isinstance(expr, cst.ConcatenatedString):
        expr = expr.left
    if isinstance(expr, cst.SimpleString):
        return N.string_value(expr)
    if isinstance(expr, cst.FormattedString) and expr.parts and isinstance(expr.parts[0], cst.FormattedStringText):
        return expr.parts[0].value
    return None


# SQL words after which a spliced value names a table, schema or other object, not a value
_IDENTIFIER_BEFORE = re.compile(
    r"(?:\bfrom|\binto|\bupdate|\btable|\bjoin|\bschema|\bsearch_path\s+to|\bexists|\bsequence|\bdatabase|\bindex|\bon)\s*[`\"\[]?\s*$",
    re.I,
)


def statement_varies_per_item(call: cst.Call, loop, ctx: Context) -> bool:
    """Each iteration runs a different statement, so no one set-based query can replace them:
    the SQL is the loop's item itself (``for sql in statements: cur.execute(sql)``), or a value
    of the item is spliced in as a table/schema name (``f"INSERT INTO {table} ..."``)."""
    arg = N.arg(call, 0)
    for _ in range(4):  # ``str(sql)`` / ``text(sql)`` / ``stmt.bindparams(...)`` / a name bound in the loop
        if isinstance(arg, cst.Call) and N.call_name(arg) in ("text", "str", "SQL") and arg.args:
            arg = arg.args[0].value
        elif isinstance(arg, cst.Call) and N.call_name(arg) in ("bindparams", "columns") and N.receiver(arg) is not None:
            arg = N.receiver(arg)
        elif isinstance(arg, cst.Name) and not loop.binds(arg.value):
            b = ctx.binding(arg.value, at=call)
            if b is None or not b.is_simple or b.value is None or not any(a is loop.node for a in ctx.ancestors(b.node)):
                break
            arg = b.value
        else:
            break
    if isinstance(arg, cst.Name) and loop.binds(arg.value):
        return True
    pieces = _spliced_pieces(arg) if not (isinstance(arg, cst.BinaryOperation) and isinstance(arg.operator, cst.Modulo)) else _percent_pieces(arg, ctx)
    before = ""
    for piece in pieces:
        if isinstance(piece, str):
            before += piece
        elif _IDENTIFIER_BEFORE.search(before) and _from_loop(piece, loop, ctx):
            return True
        else:
            before += " ? "
    return False


def _percent_pieces(expr: cst.BinaryOperation, ctx: Context) -> List[Union[str, cst.CSTNode]]:
    """``stmt % (table, where)`` with ``stmt`` a constant holding ``%s``s: the text pieces and
    the values, in order."""
    template: Optional[cst.BaseExpression] = expr.left
    if isinstance(template, cst.Name):
        template = _resolve_value(ctx, template)
    text = N.string_value(template) if isinstance(template, (cst.SimpleString, cst.ConcatenatedString)) else None
    if text is None:
        return [expr]
    values = [e.value for e in expr.right.elements] if isinstance(expr.right, cst.Tuple) else [expr.right]
    parts = text.split("%s")
    if len(parts) != len(values) + 1:
        return [expr]
    out: List[Union[str, cst.CSTNode]] = [parts[0]]
    for v, part in zip(values, parts[1:]):
        out.extend((v, part))
    return out


def _spliced_pieces(expr) -> List[Union[str, cst.CSTNode]]:
    """An f-string or a ``+`` concatenation as text pieces and spliced expressions, in order."""
    if isinstance(expr, cst.FormattedString):
        return [p.value if isinstance(p, cst.FormattedStringText) else cast(cst.FormattedStringExpression, p).expression for p in expr.parts]
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Add):
        return _spliced_pieces(expr.left) + _spliced_pieces(expr.right)
    if isinstance(expr, cst.ConcatenatedString):
        return _spliced_pieces(expr.left) + _spliced_pieces(expr.right)
    s = N.string_value(expr) if isinstance(expr, cst.SimpleString) else None
    return [s] if s is not None else [expr]


def _from_loop(expr, loop, ctx: Context) -> bool:
    """The expression reads the loop's item or a name bound inside the loop."""
    for n in N.walk(expr):
        if isinstance(n, cst.Name):
            if loop.binds(n.value):
                return True
            b = ctx.binding(n.value, at=expr)
            if b is not None and b.kind not in ("param", "import", "def", "class") and any(a is loop.node for a in ctx.ancestors(b.node)):
                return True
    return False


_DESCRIBED_VERBS = frozenset({"INSERT", "UPDATE", "DELETE", "REPLACE", "MERGE", "UPSERT", "SELECT", "WITH"})


def _fixed_form(call: cst.Call, q: str, name: str) -> str:
    """Why the call's value prints in a fixed form with no quote in it (a parsed address or UUID,
    an ISO timestamp), or ""."""
    if q in PARSED_TYPES:
        return f"`{N.short(call, 30)}` is a parsed `{q.rsplit('.', 1)[-1]}`, printed in a fixed form"
    if name in FIXED_FORMAT_METHODS and isinstance(call.func, cst.Attribute):
        return f"`{N.short(call, 40)}` is text in a fixed format"
    return ""


def statement_start(expr: Optional[cst.BaseExpression], ctx: Context) -> Optional[str]:
    """The constant text the SQL given as ``expr`` starts with (a literal, a name assigned once,
    a ``%``/``.format()``/``+`` built on a literal, the text of ``text(...)``), or None."""
    return _literal_start(expr, ctx)


def literal_verb(call: cst.Call) -> str:
    """``"INSERT "`` when the call's first argument is literal SQL starting with a DML verb, else
    ``""``: query descriptions carry it (``conn.execute(INSERT ...)``), so the call graph knows
    a helper writes."""
    if not call.args:
        return ""
    text = N.literal(call.args[0].value)
    if not isinstance(text, str):
        return ""
    verb = first_word(text)
    return f"{verb} " if verb in _DESCRIBED_VERBS else ""


def _enum_constant(expr: cst.Attribute) -> bool:
    """``DebateSide.AFF.value`` / ``Status.OPEN``: a member (UPPER_CASE) of a class (CapWords),
    optionally its ``.value``/``.name``: a constant of the code, not data."""
    parts = (N.dotted(expr) or "").split(".")
    if parts and parts[-1] in ("value", "name"):
        parts = parts[:-1]
    if len(parts) < 2:
        return False
    member, cls = parts[-1], parts[-2]
    return member.isupper() and cls[:1].isupper() and not cls.isupper()
