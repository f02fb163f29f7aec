"""Per-file facts for the project index: module name, imports, classes, functions, calls.

A light pass of our own over the libcst tree (no scope or qualified-name metadata): it records
what other files need to know about this one. Everything here is plain, picklable data.
"""
from __future__ import annotations

import builtins
import re
import sys
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, Dict, FrozenSet, Iterator, List, Optional, Set, Tuple, cast

import libcst as cst

from querylint import nodes as N
from querylint.scope import failure_handler, first_statement_memo_guard

# A summarised argument value: ("str", "text"), ("lit", 3), ("name", "resolved.dotted"), ("expr", "source")
Value = Tuple[str, Any]


@dataclass(frozen=True)
class CallSummary:
    func: str
    args: Tuple[Value, ...] = ()
    kwargs: Tuple[Tuple[str, Value], ...] = ()
    # arguments that are themselves calls, summarised in full: (keyword or str(position), summary);
    # e.g. ``relationship("User", backref=backref("posts", lazy="dynamic"))``
    calls: Tuple[Tuple[str, "CallSummary"], ...] = ()

    def kwarg(self, name: str) -> Optional[Value]:
        for k, v in self.kwargs:
            if k == name:
                return v
        return None

    def nested(self, key: str) -> Optional["CallSummary"]:
        """The full summary of a call argument (``key``: a keyword, or "0", "1"... for positions)."""
        for k, v in self.calls:
            if k == key:
                return v
        return None


@dataclass(frozen=True)
class ClassAttr:
    name: str
    call: Optional[CallSummary]  # the right-hand side when it is a call
    annotation: Optional[str]  # source of the annotation (``Mapped[list["Order"]]``)
    value: Optional[Value] = None  # the right-hand side when it is not a call


@dataclass(frozen=True)
class ClassFacts:
    qualname: str
    name: str
    module: str
    path: str
    bases: Tuple[str, ...]
    decorators: Tuple[str, ...]
    attrs: Tuple[ClassAttr, ...]
    methods: Tuple[str, ...]
    meta: Tuple[Tuple[str, Value], ...] = ()  # attributes of a nested ``class Meta``
    keywords: Tuple[Tuple[str, Value], ...] = ()  # class keywords (``metaclass=...``)

    def attr(self, name: str) -> Optional[ClassAttr]:
        for a in self.attrs:
            if a.name == name:
                return a
        return None

    def meta_value(self, name: str) -> Optional[Value]:
        for k, v in self.meta:
            if k == name:
                return v
        return None


@dataclass(frozen=True)
class FunctionFacts:
    qualname: str
    name: str
    module: str
    path: str
    cls: Optional[str]  # qualname of the enclosing class for methods
    params: Tuple[str, ...]
    decorators: Tuple[str, ...]  # resolved dotted names
    is_async: bool
    calls: Tuple[str, ...]  # call targets: resolved dotted ("pkg.mod.func"), or "self.meth" / "cls.meth"
    returns_yield: bool = False
    nested_in: Optional[str] = None  # qualname of the enclosing function for nested defs
    sql_params: Tuple[str, ...] = ()  # parameters passed on, unchanged, as the SQL of a sink (``cur.execute(sql)``)
    sql_names: Tuple[Tuple[str, str], ...] = ()  # (qualified name, callee) of imported names passed first to a call (``cur.execute(queries.ALL)``)
    memo_guarded: bool = False  # starts with ``if <cache is empty>: <fill it>``: queries once, then serves the cache
    const_returns: int = 0  # every return is a constant (1) or a tuple of that many constants: literals, ``_meta.db_table``
    placeholder_returns: Tuple[int, ...] = ()  # returned positions that are always generated placeholder text
    # per call of a project function with arguments (``self.m(...)``, ``<this package>.f(...)``):
    # (target as in ``calls``, positions and keywords given a literal or an integer, positions
    # (as text) and keywords given a short literal collection)
    call_consts: Tuple[Tuple[str, Tuple[int, ...], Tuple[str, ...], Tuple[str, ...]], ...] = ()
    # what the function hands out, when every ``return`` gives the result of a call (``return
    # psycopg2.connect(dsn)``, ``conn = SessionLocal(); ...; return conn``, ``return conn, cur``):
    # (the callee, resolved; "value" / "first" (of a returned tuple) / "with" (returned from
    # inside ``with callee(...) as x``)); empty when any return gives something else
    returned_calls: Tuple[Tuple[str, str], ...] = ()
    # a method whose every ``return`` gives a chain built on its own class (``return
    # cls.query.filter(...).order_by(...)``, ``return cls.select().where(...)``): the chain's
    # attribute and method names in order from ``cls`` (``("query", "filter", "order_by")``, the
    # union over the returns); empty otherwise
    class_chain_returns: Tuple[str, ...] = ()
    doubles_quotes: bool = False  # calls ``.replace("'", "''")`` (or ``'"'`` -> ``'""'``): a quoting helper
    # parameters the function keeps or hands out (stored, aliased, returned, yielded, put in a
    # container): a connection passed in is no longer only borrowed
    kept_params: Tuple[str, ...] = ()
    # calls made once per item of a loop (``for`` over a collection that is not a literal or a
    # ``range``, a comprehension, a ``while`` with no ``break``): (target as in ``calls``, "for" /
    # "while", positions and keywords of arguments that change per item)
    loop_calls: Tuple[Tuple[str, str, Tuple[int, ...], Tuple[str, ...]], ...] = ()
    # calls given a parameter as an argument, as is: (target as in ``calls``, the parameters);
    # ``sqlite3.connect(path)``, ``open_db(path)``: a database that comes from the caller
    param_calls: Tuple[Tuple[str, Tuple[str, ...]], ...] = ()
    # a function that hands back a parameter it only refined (``query = query.filter(...)``
    # ... ``return query``): the parameter, then the method names chained on it in order;
    # empty when any return or reassignment gives something else
    refined_param: Tuple[str, ...] = ()
    # a function that hands back a query it built and did not run (``q = self.session.query(Vote)``
    # ... ``q = q.filter(...)`` ... ``return q``): the entity as written (qualified when imported),
    # then the method names chained after ``.query(...)`` in order; empty otherwise
    returned_query: Tuple[str, ...] = ()
    # parameters unpacked whole into a call, themselves or item by item (``Dto(**row)``, ``for
    # row in rows: Dto(**row)``): their rows' columns are all used
    spread_params: Tuple[str, ...] = ()
    # attribute chains read off each parameter (``transition.model.content_type`` ->
    # (``transition``, (``model``, ``content_type``))), longest first, at most four hops and
    # ``MAX_PARAM_READS`` per function: what a helper reads of an object it is given
    param_reads: Tuple[Tuple[str, Tuple[str, ...]], ...] = ()
    # reads made only under ``if <flag>:`` where the flag is a parameter: (parameter, chain, the
    # flag, whether its default is a falsy literal); a call that turns the flag off skips them
    flagged_reads: Tuple[Tuple[str, Tuple[str, ...], str, bool], ...] = ()
    # (parameter, (relation, method)) of ``param.rel.method()`` calls the function evaluates: the
    # iterable of a loop or comprehension, the argument of ``list``/``len``/..., or a method that
    # always runs its query (``count``, ``exists``, ``first``, ...); not one only passed on (a
    # subquery in ``filter(id__in=viewer.following.all())``)
    evaluated_reads: Tuple[Tuple[str, Tuple[str, str]], ...] = ()
    # call targets made only inside retry loops (``while attempts < 4:``, ``for attempt in
    # range(3):``): a ``time.sleep`` there is a backoff after a failure, not work on every call
    retry_only_calls: Tuple[str, ...] = ()
    # call targets made only in an ``except`` for a failure of outside work (a cleanup when a web
    # push is answered 410): what they query runs on failure, not on every call
    failure_calls: Tuple[str, ...] = ()
    # call targets made only when a parameter is truthy (under ``if flag:``, in ``x if flag else
    # y``, after ``if not flag: return``): (target, the parameter, whether its default is a falsy
    # literal); a caller passing ``flag=False`` never reaches them
    flag_calls: Tuple[Tuple[str, str, bool], ...] = ()
    # hands out slices of a sequence (``yield ids[i:i + 500]``, ``return [xs[i:i + n] for i in
    # range(0, len(xs), n)]``): a loop over its result walks batches, not items
    hands_out_slices: bool = False
    # classes (or other names) returned as they are, resolved (``return OccurrenceListSerializer``
    # in a ``get_serializer_class``)
    returned_names: Tuple[str, ...] = ()
    # the names ``get_serializer_class`` returns under ``if self.action == "list"``: the list's serializers
    list_returned_names: Tuple[str, ...] = ()


@dataclass(frozen=True)
class FileFacts:
    path: str  # posix, relative to the project root
    module: str
    imports: Tuple[Tuple[str, str], ...]  # local name -> qualified dotted name
    classes: Tuple[ClassFacts, ...]
    functions: Tuple[FunctionFacts, ...]
    module_names: Tuple[str, ...]  # names bound at module level (defs, classes, assignments)
    module_calls: Tuple[Tuple[str, CallSummary], ...] = ()  # module-level ``name = call(...)``
    module_strings: Tuple[Tuple[str, str], ...] = ()  # module-level ``NAME = "literal"``
    aliases: Tuple[Tuple[str, str], ...] = ()  # module-level ``name = imported.name``: (name, qualified)
    routes: Tuple[str, ...] = ()  # function names wired in urls.py-style ``path(..., view)`` calls
    # (view or function, route as written: ``"orders/<int:pk>/"``, ``"POST /checkout"``) for the report
    route_paths: Tuple[Tuple[str, str], ...] = ()
    # (route prefix, the module it includes) of ``path("api/", include("shop.urls"))`` entries
    url_includes: Tuple[Tuple[str, str], ...] = ()
    dependencies: Tuple[str, ...] = ()  # functions named in FastAPI ``Depends(f)`` / ``Security(f)`` (run per request)
    value_refs: Tuple[str, ...] = ()  # attribute names read as values in functions (``return bulk_edit.merge``): maybe passed on
    # functions handed to a scheduler to run on every timer tick or event: ``IOLoop.call_later(5,
    # on_timeout, agent)``, ``PeriodicCallback(poll, 1000)``, ``scheduler.add_job(sync, "interval")``
    scheduled: Tuple[str, ...] = ()
    # module-level ``app.teardown_appcontext(close_db)`` / ``teardown_request`` registrations
    # (decorated teardown functions and registrations inside functions are in their facts)
    teardowns: Tuple[str, ...] = ()
    # expression indexes the file declares (``CREATE INDEX ... ON t (medium, lower(address))``,
    # ``models.Index(Lower("email"))``, ``Index("ix", func.lower(User.email))``): (function,
    # column), both lower-case
    expression_indexes: Tuple[Tuple[str, str], ...] = ()
    # plain columns the file declares an index on (lower-case names): ``CREATE INDEX ... ON t (a, b)``,
    # ``PRIMARY KEY``/``UNIQUE`` columns, Django ``db_index=True``/``unique=True``/``primary_key=True``
    # fields and foreign keys (``author`` and ``author_id``), ``models.Index(fields=[...])``,
    # SQLAlchemy ``Column(..., index=True)``, ``Index("ix", "col")``, Alembic ``create_index``
    indexed_columns: Tuple[str, ...] = ()
    # relation names the file prefetches (``prefetch_related("conditions", "a__b")``,
    # ``Prefetch("events", ...)``): every step of each path
    prefetched_names: Tuple[str, ...] = ()
    # Django signal receivers and history trackers the file registers: (signal, the sender's
    # class name as written, last part): ``("post_save", "Domain")`` for ``@receiver(post_save,
    # sender=Domain)``, ``("history", "Order")`` for ``auditlog.register(Order)``
    signal_senders: Tuple[Tuple[str, str], ...] = ()

    def import_map(self) -> Dict[str, str]:
        return dict(self.imports)


_SQL_INDEX_HEAD = re.compile(
    r"CREATE\s+(?:UNIQUE\s+)?INDEX\s+(?:CONCURRENTLY\s+)?(?:IF\s+NOT\s+EXISTS\s+)?(?:[\w\".]+\s+)?ON\s+(?:ONLY\s+)?[\w\".]+\s*(?:USING\s+\w+\s*)?\(",
    re.I,
)
_SQL_INDEX_FUNC = re.compile(r"(\w+)\s*\(\s*\"?(\w+)\"?\s*(?:\)|::|,)")
_ORM_INDEX_FUNC = re.compile(
    r"Index\(\s*(?:[\"'][^\"']*[\"']\s*,\s*)?(?:[\w.]*\.)?(?:func\.)?(\w+)\(\s*(?:[\"'](\w+)[\"']|(?:[\w.]*\.)?(\w+)\s*\))"
)


def expression_indexes(text: str) -> Tuple[Tuple[str, str], ...]:
    """See ``FileFacts.expression_indexes``: read from the file's text (SQL in any string, and
    Django's / SQLAlchemy's ``Index(...)`` with a function of a column)."""
    if "ndex" not in text and "NDEX" not in text:
        return ()
    out: List[Tuple[str, str]] = []
    for m in _SQL_INDEX_HEAD.finditer(text):
        depth, end, limit = 1, m.end(), min(len(text), m.end() + 400)
        while end < limit and depth:
            depth += {"(": 1, ")": -1}.get(text[end], 0)
            end += 1
        for f in _SQL_INDEX_FUNC.finditer(text, m.end(), end):
            out.append((f.group(1).lower(), f.group(2).lower()))
    for m in _ORM_INDEX_FUNC.finditer(text):
        func, col = m.group(1).lower(), (m.group(2) or m.group(3) or "").lower()
        if col and func not in ("f", "q", "text", "column", "desc", "asc"):
            out.append((func, col))
    return tuple(dict.fromkeys(out))


_FIELD_HEAD = re.compile(
    r"^[ \t]*(\w+)[ \t]*(?::[^=\n]*)?=[ \t]*[\w.]*?\b(\w*Field|Column|mapped_column|ForeignKey|OneToOneField|ParentalKey)\(",
    re.M,
)
_INDEX_FLAG = re.compile(r"\b(db_index|index|unique|primary_key)\s*=\s*True\b")
_SQL_COLUMN_FLAG = re.compile(r"(?:^|[(,])[ \t]*\"?(\w{1,64})\"?[ \t]+\w{1,64}[^,\n()]{0,120}?\b(PRIMARY[ \t]+KEY|UNIQUE)\b", re.I | re.M)
_SQL_KEY_LIST = re.compile(r"\b(?:PRIMARY\s+KEY|UNIQUE)\s*\(([^()]{1,200})\)", re.I)
_INDEX_FIELDS = re.compile(r"\b(?:Index|UniqueConstraint)\((?:[^()]|\([^()]*\)){0,300}?\bfields\s*=\s*[\[(]([^\])]{1,300})[\])]")
_TOGETHER = re.compile(r"\b(?:unique|index)_together\s*=\s*[\[(]{1,3}([^\]\)]{1,200})")
_SA_INDEX = re.compile(r"\bIndex\(\s*[\"'][^\"'\n]{0,120}[\"']\s*,([^()]{0,300})\)")
_ALEMBIC_INDEX = re.compile(r"\bcreate_index\(\s*[^,()]+,\s*[\"']\w+[\"']\s*,\s*\[([^\]]{1,200})\]")
_RELATION_FIELDS_RE = ("ForeignKey", "OneToOneField", "ParentalKey")


_INDEX_WORDS = ("ndex", "NDEX", "nique", "NIQUE", "rimary", "RIMARY", "Field(", "Column(", "column(", "ForeignKey(", "ParentalKey(", "together")
_FIELD_WORDS = ("Field(", "Column(", "mapped_column(", "ForeignKey(", "ParentalKey(")


def indexed_columns(text: str) -> Tuple[str, ...]:
    """See ``FileFacts.indexed_columns``: read from the file's text (every pattern bounded: no
    input makes it backtrack without end)."""
    if not any(w in text for w in _INDEX_WORDS):
        return ()
    out: List[str] = []
    lowered = "ndex" in text or "NDEX" in text
    if lowered:
        for m in _SQL_INDEX_HEAD.finditer(text):
            depth, end, limit = 1, m.end(), min(len(text), m.end() + 400)
            while end < limit and depth:
                depth += {"(": 1, ")": -1}.get(text[end], 0)
                end += 1
            for part in text[m.end():end - 1].split(","):
                name = part.strip().strip('"`').split()[0].strip('"`') if part.strip() else ""
                if re.fullmatch(r"\w+", name):
                    out.append(name.lower())
    if "KEY" in text or "UNIQUE" in text or "key" in text or "unique" in text:
        out += [m.group(1).lower() for m in _SQL_COLUMN_FLAG.finditer(text)]
        for m in _SQL_KEY_LIST.finditer(text):
            out += [c.strip().strip('"`').lower() for c in m.group(1).split(",") if re.fullmatch(r"\w+", c.strip().strip('"`'))]
    for m in _FIELD_HEAD.finditer(text) if any(w in text for w in _FIELD_WORDS) else ():
        name, kind = m.group(1), m.group(2)
        depth, end, limit = 1, m.end(), min(len(text), m.end() + 600)
        while end < limit and depth:
            depth += {"(": 1, ")": -1}.get(text[end], 0)
            end += 1
        args = text[m.end():end]
        if kind in _RELATION_FIELDS_RE:
            out += [name.lower(), name.lower() + "_id"]  # Django indexes a foreign key's column
        elif _INDEX_FLAG.search(args):
            out.append(name.lower())
    for rx in (_INDEX_FIELDS, _TOGETHER, _SA_INDEX, _ALEMBIC_INDEX):
        for m in rx.finditer(text):
            for part in m.group(1).split(","):
                name = part.strip().strip("\"'()[] -").rsplit(".", 1)[-1]
                if re.fullmatch(r"\w+", name):
                    out.append(name.lower())
    return tuple(dict.fromkeys(out))


_PREFETCH_CALL = re.compile(r"\b(?:prefetch_related|prefetch_related_objects|Prefetch)\(([^()]{0,400})")
_QUOTED_PATH = re.compile(r"[\"']([A-Za-z_][\w]*(?:__[A-Za-z_]\w*)*)[\"']")


def prefetched_names(text: str) -> Tuple[str, ...]:
    """See ``FileFacts.prefetched_names``: read from the file's text."""
    if "refetch" not in text:
        return ()
    out: List[str] = []
    for m in _PREFETCH_CALL.finditer(text):
        for p in _QUOTED_PATH.finditer(m.group(1)):
            out.extend(p.group(1).split("__"))
    return tuple(dict.fromkeys(out))


_SIGNALS = ("pre_save", "post_save", "pre_delete", "post_delete", "m2m_changed")
_RECEIVER_CALL = re.compile(r"receiver\(([^()]{0,300})\)")
_CONNECT_CALL = re.compile(r"\b(pre_save|post_save|pre_delete|post_delete|m2m_changed)\.connect\(([^()]{0,300})\)")
_SENDER = re.compile(r"\bsender\s*=\s*[\"']?([\w.]+)")
_HISTORY_REGISTER = re.compile(r"\b(?:auditlog|simple_history|reversion)\.register\(\s*([\w.]+)")


def signal_senders(text: str) -> Tuple[Tuple[str, str], ...]:
    """See ``FileFacts.signal_senders``: read from the file's text."""
    if "sender" not in text and ".register(" not in text:
        return ()
    out: List[Tuple[str, str]] = []
    for m in _RECEIVER_CALL.finditer(text):
        sender = _SENDER.search(m.group(1))
        if sender is not None:
            out.extend((sig, sender.group(1).rsplit(".", 1)[-1]) for sig in _SIGNALS if re.search(r"\b" + sig + r"\b", m.group(1)))
    for m in _CONNECT_CALL.finditer(text):
        sender = _SENDER.search(m.group(2))
        if sender is not None:
            out.append((m.group(1), sender.group(1).rsplit(".", 1)[-1]))
    for m in _HISTORY_REGISTER.finditer(text):
        out.append(("history", m.group(1).rsplit(".", 1)[-1]))
    return tuple(dict.fromkeys(out))


def module_name(relpath: str) -> str:
    """``shop/models.py`` → ``shop.models``; ``shop/__init__.py`` → ``shop``; ``src/`` prefix kept."""
    p = PurePosixPath(relpath)
    parts = list(p.with_suffix("").parts)
    if parts and parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts) if parts else p.stem


def _resolve_relative(module: str, is_package: bool, level: int, target: Optional[str]) -> str:
    parts = module.split(".") if module else []
    if not is_package:
        parts = parts[:-1]
    if level > 1:
        parts = parts[: max(0, len(parts) - (level - 1))]
    if target:
        parts.append(target)
    return ".".join(p for p in parts if p)


class Resolver:
    """Resolves local dotted names through the file's imports and module-level definitions."""

    def __init__(self, module: str, imports: Dict[str, str], module_defs: Dict[str, str]):
        self.module = module
        self.imports = imports
        self.module_defs = module_defs

    def qualify(self, name: Optional[str]) -> Optional[str]:
        if not name:
            return None
        head, _, rest = name.partition(".")
        if head in self.imports:
            full = self.imports[head]
        elif head in self.module_defs:
            full = self.module_defs[head]
        else:
            return name
        return f"{full}.{rest}" if rest else full

    def is_imported(self, name: str) -> bool:
        return name.partition(".")[0] in self.imports


def _unique_constraint_fields(value: cst.BaseExpression) -> List[Tuple[str, ...]]:
    """``constraints = [UniqueConstraint(fields=["a", "b"], name=...)]``: the field tuples of the
    unique constraints that hold for every row (no ``condition=``)."""
    out: List[Tuple[str, ...]] = []
    for el in value.elements if isinstance(value, (cst.List, cst.Tuple)) else ():
        call = el.value
        if not isinstance(call, cst.Call) or not (N.dotted(call.func) or "").endswith("UniqueConstraint"):
            continue
        kw = {a.keyword.value: a.value for a in call.args if a.keyword is not None}
        seq = kw.get("fields")
        fields = [N.string_value(e.value) for e in seq.elements] if isinstance(seq, (cst.List, cst.Tuple)) else []
        if "condition" not in kw and fields and all(isinstance(f, str) for f in fields):
            out.append(tuple(cast(List[str], fields)))
    return out


def summarise_value(node: Optional[cst.CSTNode], resolver: Resolver) -> Value:
    if node is None:
        return ("lit", None)
    lit = N.literal(node)
    if lit is not N.NOT_LITERAL:
        return ("str", lit) if isinstance(lit, str) else ("lit", lit)
    name = N.dotted(node)
    if name:
        return ("name", resolver.qualify(name))
    if isinstance(node, (cst.List, cst.Tuple)):
        return ("list", tuple(summarise_value(e.value, resolver) for e in node.elements))
    if isinstance(node, cst.Call):
        inner = N.dotted(node.func)
        return ("call", resolver.qualify(inner) if inner else N.short(node))
    return ("expr", N.short(node, 120))


def summarise_call(call: cst.Call, resolver: Resolver, _depth: int = 0) -> Optional[CallSummary]:
    func = N.dotted(call.func)
    if func is None and isinstance(call.func, cst.Call) and not call.args and N.call_name(call.func) == "from_queryset":
        return summarise_call(call.func, resolver, _depth)  # ``Manager.from_queryset(QS)()``: the class it builds
    if func is None:
        return None
    args = tuple(summarise_value(a.value, resolver) for a in call.args if a.keyword is None and not a.star)
    kwargs = tuple(
        (a.keyword.value, summarise_value(a.value, resolver)) for a in call.args if a.keyword is not None
    )
    calls = []
    if _depth < 2:
        position = 0
        for a in call.args:
            key = None
            if a.keyword is not None:
                key = a.keyword.value
            elif not a.star:
                key = str(position)
                position += 1
            if key is not None and isinstance(a.value, cst.Call):
                inner = summarise_call(a.value, resolver, _depth + 1)
                if inner is not None:
                    calls.append((key, inner))
    return CallSummary(resolver.qualify(func) or func, args, kwargs, tuple(calls))


def collect_imports(module_node: cst.Module, module: str, is_package: bool) -> Dict[str, str]:
    """Every import in the file (any depth: conditional and function-level imports count too)."""
    imports: Dict[str, str] = {}
    for node in N.statements(module_node):
        if isinstance(node, cst.Import):
            for alias in node.names:
                full = N.dotted(alias.name) or ""
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    imports[alias.asname.name.value] = full
                else:
                    head = full.split(".")[0]
                    imports.setdefault(head, head)
        elif isinstance(node, cst.ImportFrom):
            base = N.dotted(node.module) if node.module is not None else None
            level = len(node.relative)
            if level:
                base = _resolve_relative(module, is_package, level, base)
            elif base and base.startswith("flask.ext."):
                base = "flask_" + base[len("flask.ext."):]  # Flask < 1.0: ``from flask.ext.sqlalchemy import SQLAlchemy``
            if isinstance(node.names, cst.ImportStar):
                if base:
                    imports[f"*{base}"] = base  # no local name: the module is imported all the same
                continue
            for alias in node.names:
                name = N.dotted(alias.name) or ""
                local = alias.asname.name.value if alias.asname is not None and isinstance(alias.asname.name, cst.Name) else name
                imports[local] = f"{base}.{name}" if base else name
    return imports


ROUTE_FUNCS = {"path", "re_path", "url", "add_url_rule", "add_api_route", "add_route", "register"}


# calls whose first argument is SQL text (for ``FunctionFacts.sql_params``; the SQL family judges it)
SQL_SINK_NAMES = {
    "execute", "executemany", "executescript", "exec_driver_sql", "mogrify", "fetch", "fetchrow", "fetchval",
    "fetch_all", "fetch_one", "fetch_val", "raw", "read_sql", "read_sql_query", "read_postgis", "from_postgis", "text",
}


# libraries whose bare ``text(...)``/``execute(...)`` functions take SQL
SQL_LIBRARIES = frozenset({
    "sqlalchemy", "sqlmodel", "flask_sqlalchemy", "databases", "django", "psycopg", "psycopg2", "asyncpg", "pymysql",
    "MySQLdb", "sqlite3", "aiosqlite", "aiomysql", "aiopg", "pandas", "peewee", "playhouse", "tortoise", "duckdb",
    "records", "pyodbc", "oracledb", "cx_Oracle", "clickhouse_driver", "snowflake",
})


def collect_facts(module_node: cst.Module, relpath: str) -> FileFacts:
    module = module_name(relpath)
    is_package = PurePosixPath(relpath).name == "__init__.py"
    imports = collect_imports(module_node, module, is_package)
    module_defs: Dict[str, str] = {}
    for stmt in module_node.body:
        if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            module_defs[stmt.name.value] = f"{module}.{stmt.name.value}"
    resolver = Resolver(module, imports, module_defs)
    c = _Collector(module, relpath, imports, resolver)
    c.module_names.extend(module_defs)
    c.visit_block(module_node.body)
    return FileFacts(
        path=relpath,
        module=module,
        imports=tuple(sorted(imports.items())),
        classes=tuple(c.classes),
        functions=tuple(c.functions),
        module_names=tuple(dict.fromkeys(c.module_names)),
        module_calls=tuple(c.module_calls),
        module_strings=tuple(c.module_strings),
        aliases=tuple(c.aliases),
        routes=tuple(dict.fromkeys(c.routes)),
        route_paths=tuple(dict.fromkeys(c.route_paths)),
        url_includes=tuple(dict.fromkeys(c.url_includes)),
        dependencies=_dependencies(module_node, imports, resolver),
        value_refs=tuple(sorted(c.value_refs)),
        scheduled=tuple(dict.fromkeys(c.scheduled)),
        teardowns=tuple(c.teardowns),
        expression_indexes=expression_indexes(code := module_node.code),
        indexed_columns=indexed_columns(code),
        prefetched_names=prefetched_names(code),
        signal_senders=signal_senders(code),
    )


class _Collector:
    """One pass over a module for :func:`collect_facts`: module-level statements, then every class
    and function (nested ones too), each appended in source order."""

    def __init__(self, module: str, relpath: str, imports: Dict[str, str], resolver: Resolver):
        self.module = module
        self.relpath = relpath
        self.imports = imports
        self.resolver = resolver
        self.classes: List[ClassFacts] = []
        self.functions: List[FunctionFacts] = []
        self.module_names: List[str] = []
        self.module_calls: List[Tuple[str, CallSummary]] = []
        self.module_strings: List[Tuple[str, str]] = []
        self.aliases: List[Tuple[str, str]] = []
        self.routes: List[str] = []
        self.route_paths: List[Tuple[str, str]] = []
        self.url_includes: List[Tuple[str, str]] = []
        self.value_refs: Set[str] = set()
        self.scheduled: List[str] = []
        self.teardowns: List[str] = []

    # ------------------------------------------------------------------------------ functions

    def visit_function(self, fn: cst.FunctionDef, prefix: str, cls: Optional[str], nested_in: Optional[str]) -> None:
        qual, imports, resolver = f"{prefix}.{fn.name.value}", self.imports, self.resolver
        self.route_paths.extend(_decorator_routes(fn, qual) if fn.decorators else ())
        calls: List[str] = []
        has_yield = doubles_quotes = False
        params = tuple(N.param_names(fn.params))
        sql_params: List[str] = []
        sql_names: List[Tuple[str, str]] = []
        called: Set[int] = set()
        flow: List[cst.CSTNode] = []  # returns and bindings, for ``const_returns``
        call_consts: List[Tuple[str, cst.Call]] = []  # calls of project functions, judged by ``_call_consts`` after the walk
        keeping: List[cst.CSTNode] = []  # yields and calls that keep their arguments, for ``kept_params``
        project_prefix = self.module.split(".")[0] + "."
        targets: Dict[int, Tuple[cst.Call, str]] = {}  # id(call) -> (call, its entry in ``calls``)
        loops: List[cst.CSTNode] = []
        spread: List[str] = []  # names unpacked with ``**`` into a call
        param_set = frozenset(params) - {"self", "cls"}
        reads: Dict[Tuple[str, Tuple[str, ...]], int] = {}
        flag_ifs: List[cst.If] = []  # ``if <parameter>:``
        for node in N.walk(fn.body, into_functions=False):
            if type(node) in _LOOP_NODES:  # (by type: libcst's classes make every ``isinstance`` an ABC check)
                loops.append(node)
            if type(node) is cst.Attribute:
                if id(node) not in called:
                    self.value_refs.add(cast(cst.Attribute, node).attr.value)
                if param_set:
                    _param_read(cast(cst.Attribute, node), param_set, reads)
            elif type(node) is cst.If and type(cast(cst.If, node).test) is cst.Name and cast(cst.Name, cast(cst.If, node).test).value in param_set:
                flag_ifs.append(cast(cst.If, node))
            if isinstance(node, cst.Call):
                called.add(id(node.func))
                spread.extend(a.value.value for a in node.args if a.star == "**" and isinstance(a.value, cst.Name))
                param, name = _sql_argument(node, params, imports, resolver)
                sql_params.extend(param)
                sql_names.extend(name)
                _record_call(node, cls, resolver, imports, project_prefix, calls, targets, call_consts)
                self._registrations(node, cls)
                if not doubles_quotes and _doubles_quotes(node):
                    doubles_quotes = True
                if _keeps_args(node):
                    keeping.append(node)
            elif type(node) is cst.Yield:
                has_yield = True
                keeping.append(node)
            elif type(node) in _FLOW_NODES:
                flow.append(node)
            elif type(node) is cst.FunctionDef and node is not fn:
                self.visit_function(cast(cst.FunctionDef, node), qual, None, qual)
            elif type(node) is cst.ClassDef:
                self.visit_class(cast(cst.ClassDef, node), qual)
        self.functions.append(
            FunctionFacts(
                qualname=qual,
                name=fn.name.value,
                module=self.module,
                path=self.relpath,
                cls=cls,
                params=params,
                decorators=tuple(resolver.qualify(d) or d for d in N.decorator_names(fn)),
                is_async=fn.asynchronous is not None,
                calls=tuple(dict.fromkeys(calls)),
                returns_yield=has_yield, hands_out_slices=hands_out_slices(fn),
                const_returns=0 if has_yield else constant_returns(flow), returned_names=_returned_names(flow, resolver) if fn.name.value.startswith("get_") else (), list_returned_names=_list_returned_names(fn, resolver),
                placeholder_returns=() if has_yield else placeholder_returns(flow),
                call_consts=_call_consts(call_consts, fn, params),
                nested_in=nested_in,
                sql_params=tuple(dict.fromkeys(sql_params)),
                sql_names=tuple(dict.fromkeys(sql_names)),
                memo_guarded=first_statement_memo_guard(fn),
                returned_calls=() if has_yield else returned_calls(fn, resolver),
                class_chain_returns=() if has_yield or cls is None else class_chain_returns(flow), refined_param=() if has_yield else refined_param(flow, params),
                returned_query=() if has_yield else returned_query(flow, resolver), spread_params=spread_params(spread, loops, params), **_reads_facts(fn, reads, flag_ifs, param_set),
                doubles_quotes=doubles_quotes,
                kept_params=kept_params(flow + keeping, params),
                loop_calls=per_item_calls(loops, followed := _followed(targets, imports)), param_calls=calls_given_params(followed, params), retry_only_calls=retry_only_calls(loops, targets), failure_calls=failure_only_calls(fn, targets),
                flag_calls=flag_only_calls(fn, targets, flag_ifs, param_set),
            )
        )

    # -------------------------------------------------------------------------------- classes

    def visit_class(self, node: cst.ClassDef, prefix: str) -> None:
        qual = f"{prefix}.{node.name.value}"
        resolver = self.resolver
        bases = tuple(resolver.qualify(N.dotted(a.value)) or N.short(a.value) for a in node.bases)
        keywords = tuple((k.keyword.value, summarise_value(k.value, resolver)) for k in node.keywords if k.keyword)
        attrs: List[ClassAttr] = []
        methods: List[str] = []
        meta: List[Tuple[str, Value]] = []
        body = node.body.body if isinstance(node.body, cst.IndentedBlock) else ()
        for stmt in body:
            if isinstance(stmt, cst.FunctionDef):
                methods.append(stmt.name.value)
                self.visit_function(stmt, qual, qual, None)
                declared = _declared_attr(stmt)
                if declared is not None:
                    attrs.append(_class_attr(stmt.name.value, declared, None, resolver))
            elif isinstance(stmt, cst.ClassDef):
                if stmt.name.value == "Meta":
                    meta.extend(self._meta(stmt))
                else:
                    self.visit_class(stmt, qual)
            elif isinstance(stmt, cst.SimpleStatementLine):
                attrs.extend(self._class_attrs(stmt))
            else:
                # if/try blocks in class bodies: methods defined inside still count
                for inner in N.walk(stmt, into_functions=False):
                    if isinstance(inner, cst.FunctionDef):
                        methods.append(inner.name.value)
                        self.visit_function(inner, qual, qual, None)
        self.classes.append(
            ClassFacts(
                qualname=qual,
                name=node.name.value,
                module=self.module,
                path=self.relpath,
                bases=bases,
                decorators=tuple(resolver.qualify(d) or d for d in N.decorator_names(node)),
                attrs=tuple(attrs),
                methods=tuple(methods),
                meta=tuple(meta),
                keywords=keywords,
            )
        )

    def _meta(self, meta_class: cst.ClassDef) -> List[Tuple[str, Value]]:
        """``class Meta:`` assignments, summarised."""
        out: List[Tuple[str, Value]] = []
        for inner in meta_class.body.body if isinstance(meta_class.body, cst.IndentedBlock) else ():
            if isinstance(inner, cst.SimpleStatementLine):
                for small in inner.body:
                    if isinstance(small, cst.Assign):
                        for t in small.targets:
                            for name in N.target_names(t.target):
                                out.append((name, summarise_value(small.value, self.resolver)))
                                if name == "constraints":
                                    out += [("unique_constraint_fields", ("lit", f)) for f in _unique_constraint_fields(small.value)]
        return out

    def _class_attrs(self, stmt: cst.SimpleStatementLine) -> List[ClassAttr]:
        """Class attributes assigned (or annotated) on one line of a class body."""
        out: List[ClassAttr] = []
        for small in stmt.body:
            if isinstance(small, cst.Assign):
                for t in small.targets:
                    for name in N.target_names(t.target):
                        out.append(_class_attr(name, small.value, None, self.resolver))
            elif isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                out.append(_class_attr(small.target.value, small.value, N.code(small.annotation.annotation), self.resolver))
        return out

    # ------------------------------------------------------------------------- module level

    def visit_block(self, stmts) -> None:
        for stmt in stmts:
            if isinstance(stmt, cst.FunctionDef):
                self.visit_function(stmt, self.module, None, None)
                self._global_calls(stmt)
            elif isinstance(stmt, cst.ClassDef):
                self.visit_class(stmt, self.module)
            elif isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    self._module_statement(small)
            else:
                # module-level if/try/with blocks: definitions inside still count
                for attr in ("body", "orelse", "handlers", "finalbody"):
                    inner = getattr(stmt, attr, None)
                    if inner is None:
                        continue
                    blocks = inner if isinstance(inner, (list, tuple)) else [inner]
                    for b in blocks:
                        body = getattr(b, "body", None)
                        if isinstance(body, cst.IndentedBlock):
                            body = body.body
                        if isinstance(body, (list, tuple)):
                            self.visit_block(body)

    def _global_calls(self, fn: cst.FunctionDef) -> None:
        """``def init(config): global Session; Session = sessionmaker(bind=engine)``: a module-level
        name an initialiser binds to a call (statements at the top of the function's body)."""
        if not isinstance(fn.body, cst.IndentedBlock):
            return
        declared: Set[str] = set()
        for stmt in fn.body.body:
            if not isinstance(stmt, cst.SimpleStatementLine):
                continue
            for small in stmt.body:
                if isinstance(small, cst.Global):
                    declared.update(n.name.value for n in small.names)
                elif isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name):
                    name = small.targets[0].target.value
                    if name in declared and isinstance(small.value, cst.Call):
                        summary = summarise_call(small.value, self.resolver)
                        if summary:
                            self.module_calls.append((name, summary))

    def _module_statement(self, small: cst.BaseSmallStatement) -> None:
        """A module-level assignment (names, calls, strings, ``urlpatterns``) or route registration."""
        resolver = self.resolver
        if isinstance(small, (cst.Assign, cst.AnnAssign)):
            targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else [small.target]
            for t in targets:
                for name in N.target_names(t):
                    self.module_names.append(name)
                    if isinstance(small.value, cst.Call):
                        summary = summarise_call(small.value, resolver)
                        if summary:
                            self.module_calls.append((name, summary))
                    s = N.string_value(small.value) if small.value is not None else None
                    if s is not None:
                        self.module_strings.append((name, s))
                    if isinstance(t, cst.Name) and isinstance(small.value, (cst.Name, cst.Attribute)) and resolver.is_imported(N.dotted(small.value) or ""):
                        # ``get_dbconn = database.get_dbconn``: another name for an imported one
                        self.aliases.append((name, cast(str, resolver.qualify(N.dotted(small.value)))))
            if isinstance(small.value, (cst.List, cst.Tuple)) and any(n == "urlpatterns" for t in targets for n in N.target_names(t)):
                self._add_routes(_route_views(small.value, resolver))
                self.url_includes.extend(_url_includes(small.value, resolver))
            elif isinstance(small.value, (cst.List, cst.Tuple, cst.Call)):
                self._add_routes(_starlette_routes(small.value, resolver))
        elif isinstance(small, cst.AugAssign) and N.dotted(small.target) == "urlpatterns":
            self._add_routes(_route_views(small.value, resolver))
            self.url_includes.extend(_url_includes(small.value, resolver))
        elif isinstance(small, cst.Expr) and isinstance(small.value, cst.Call) and N.call_name(small.value) in REGISTER_FUNCS:
            self._add_routes(_registered_views(small.value, resolver))
        elif isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
            for node in N.walk(small.value):  # ``threading.Timer(30, report).start()``
                if type(node) is cst.Call:
                    self._registrations(cast(cst.Call, node), None)
        elif isinstance(small, cst.Expr) and isinstance(small.value, cst.Call) and N.call_name(small.value) in TEARDOWN_HOOKS:
            self.teardowns.append(N.code(small.value.func))

    def _registrations(self, call: cst.Call, cls: Optional[str]) -> None:
        """A call that registers a view (``app.add_url_rule("/", view_func=index)``) or a
        scheduled callback (``io_loop.call_later(5, on_timeout)``)."""
        if N.call_name(call) in REGISTER_FUNCS:
            self._add_routes(_registered_views(call, self.resolver))
        callback = _scheduled_callback(call, self.resolver, cls)
        if callback is not None:
            self.scheduled.append(callback)

    def _add_routes(self, pairs: List[Tuple[str, Optional[str]]]) -> None:
        for name, route in pairs:
            self.routes.append(name)
            if route is not None:
                self.route_paths.append((name, route))


def _declared_attr(fn: cst.FunctionDef) -> Optional[cst.Call]:
    """The call a SQLAlchemy ``@declared_attr`` method ends by returning (``return
    relationship("Comment")``): the attribute it declares on every mapped subclass."""
    if not any(d.split(".")[-1] in ("declared_attr", "cascading", "directive") and "declared_attr" in d for d in N.decorator_names(fn)):
        return None
    body = fn.body.body if isinstance(fn.body, cst.IndentedBlock) else ()
    last = body[-1] if body else None
    if isinstance(last, cst.SimpleStatementLine) and isinstance(last.body[0], cst.Return) and isinstance(last.body[0].value, cst.Call):
        return last.body[0].value
    return None


# Calls that hand a function to a scheduler, run on every timer tick or event: the callback's
# position and keyword. asyncio's and Tornado's event loops, Tornado's ``PeriodicCallback``,
# APScheduler's ``add_job``, the ``schedule`` package's ``every(...).do(job)``, ``sched``'s
# ``enter``, ``threading.Timer``.
SCHEDULERS = {
    "call_later": (1, "callback"), "call_at": (1, "callback"), "add_timeout": (1, "callback"),
    "call_soon": (0, "callback"), "call_soon_threadsafe": (0, "callback"), "add_callback": (0, "callback"),
    "spawn_callback": (0, "callback"), "PeriodicCallback": (0, "callback"), "add_job": (0, "func"),
    "enter": (2, "action"), "enterabs": (2, "action"), "Timer": (1, "function"), "do": (0, "job_func"),
}


def _scheduled_callback(call: cst.Call, resolver: Resolver, cls: Optional[str]) -> Optional[str]:
    """The function ``call`` hands to a scheduler (qualified; ``self.tick`` as the method of
    ``cls``), or None."""
    name = N.call_name(call)
    spec = SCHEDULERS.get(name or "")
    if spec is None:
        return None
    dotted = N.dotted(call.func) or ""
    if name == "Timer" and resolver.qualify(dotted) != "threading.Timer":
        return None  # timeit's, a test double's
    if name == "do" and "every(" not in N.code(call.func):
        return None  # only ``schedule.every(10).minutes.do(job)``
    if name in ("enter", "enterabs") and len(call.args) < 3:
        return None
    callback = N.arg(call, spec[0], spec[1])
    target = N.dotted(callback) if callback is not None else None
    if not target:
        return None
    if target.startswith("self.") and target.count(".") == 1:
        return f"{cls}.{target[5:]}" if cls else None
    return resolver.qualify(target) or target


# Flask/Quart hooks that run when a request or app context ends
TEARDOWN_HOOKS = frozenset({"teardown_appcontext", "teardown_request"})


def _class_attr(name: str, value, annotation, resolver: Resolver) -> ClassAttr:
    if isinstance(value, cst.Call):
        return ClassAttr(name, summarise_call(value, resolver), annotation)
    return ClassAttr(name, None, annotation, summarise_value(value, resolver) if value is not None else None)


# route registrations as statements: ``app.add_url_rule("/", view_func=index)``, ``router.register("b", BookViewSet)``
REGISTER_FUNCS = {
    "add_url_rule", "add_api_route", "add_api_websocket_route", "add_websocket_route", "add_route", "register",
    "add_get", "add_post", "add_put", "add_patch", "add_delete", "add_view", "add_resource",
}


HTTP_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "*"})


def _registered_views(call: cst.Call, resolver: Resolver) -> List[Tuple[str, Optional[str]]]:
    """The view a registration call names: ``view_func=``/``endpoint=``/``handler=`` or by
    position, with the route it is registered under (``add_url_rule("/x", ...)``,
    ``router.register("books", BookViewSet)``, aiohttp's ``add_route("POST", "/x", handler)``)."""
    view = N.arg(call, keyword="view_func") or N.arg(call, keyword="endpoint") or N.arg(call, keyword="handler") or N.arg(call, keyword="viewset")
    if view is None or N.string_value(view) is not None:
        position = 2 if N.call_name(call) == "add_url_rule" else (0 if N.call_name(call) == "add_resource" else 1)
        view = N.arg(call, position)
    if isinstance(view, cst.Call) and N.call_name(view) == "as_view":
        view = view.func.value if isinstance(view.func, cst.Attribute) else view
    elif isinstance(view, cst.Call) and not view.args:
        view = view.func  # ``app.add_route("/x", Resource())`` (falcon): an instance of a class
    name = N.dotted(view) if view is not None else None
    if not name:
        return []
    strings = [v for v in (N.string_value(a.value) for a in call.args if a.keyword is None) if v is not None]
    method = (N.call_name(call) or "").rpartition("_")[2].upper()
    if len(strings) >= 2 and strings[0].upper() in HTTP_METHODS:
        route: Optional[str] = f"{strings[0].upper()} {strings[1]}"
    elif strings:
        route = f"{method} {strings[0]}" if method in HTTP_METHODS else strings[0]
    else:
        route = None
    return [(resolver.qualify(name) or name, route)]


def _route_views(node, resolver: Resolver) -> List[Tuple[str, Optional[str]]]:
    """Views named in ``path("x/", views.thing)`` / ``path(..., View.as_view())`` entries, with the
    route as written (relative to where the module is included)."""
    out: List[Tuple[str, Optional[str]]] = []
    for n in N.walk(node):
        if isinstance(n, cst.Call) and N.call_name(n) in ROUTE_FUNCS and len(n.args) >= 2:
            view = n.args[1].value
            if isinstance(view, cst.Call) and N.call_name(view) == "as_view":
                view = view.func.value if isinstance(view.func, cst.Attribute) else view
            name = N.dotted(view)
            if name:
                out.append((resolver.qualify(name) or name, N.string_value(n.args[0].value)))
    return out


STARLETTE_ROUTES = frozenset({"Route", "WebSocketRoute"})


def _starlette_routes(node: cst.BaseExpression, resolver: Resolver) -> List[Tuple[str, Optional[str]]]:
    """``routes = [Route("/users", list_users, methods=["GET"])]`` and ``Starlette(routes=[...])``."""
    if isinstance(node, cst.Call) and N.call_name(node) not in ("Starlette", "Router", "Mount", "FastAPI"):
        return []
    out: List[Tuple[str, Optional[str]]] = []
    for n in N.walk(node):
        if isinstance(n, cst.Call) and N.call_name(n) in STARLETTE_ROUTES and n.args:
            path = N.string_value(n.args[0].value)
            endpoint = N.arg(n, 1) or N.arg(n, keyword="endpoint")
            name = N.dotted(endpoint) if endpoint is not None else None
            if path is None or not name:
                continue
            methods_arg = N.arg(n, keyword="methods")
            methods = [m.upper() for m in (N.string_value(e.value) for e in methods_arg.elements) if m] if isinstance(methods_arg, (cst.List, cst.Tuple)) else []
            out.append((resolver.qualify(name) or name, f"{'|'.join(methods)} {path}" if methods else path))
    return out


def _url_includes(node, resolver: Resolver) -> List[Tuple[str, str]]:
    """``path("api/", include("shop.urls"))`` / ``include(shop_urls)``: (prefix, module)."""
    out = []
    for n in N.walk(node):
        if isinstance(n, cst.Call) and N.call_name(n) in ROUTE_FUNCS and len(n.args) >= 2:
            prefix, inc = N.string_value(n.args[0].value), n.args[1].value
            if prefix is None or not (isinstance(inc, cst.Call) and N.call_name(inc) == "include" and inc.args):
                continue
            target = inc.args[0].value
            if isinstance(target, cst.Tuple) and target.elements:  # ``include(("shop.urls", "shop"))``
                target = target.elements[0].value
            module = N.string_value(target)
            if module is None and isinstance(target, (cst.Name, cst.Attribute)):
                module = resolver.qualify(N.dotted(target) or "") or N.dotted(target)
            if module:
                out.append((prefix, module))
    return out


# the decorators that route a function: ``@app.route("/x", methods=["POST"])``, ``@router.get("/x")``
ROUTE_DECORATORS = frozenset({"route", "get", "post", "put", "patch", "delete", "head", "options", "api_route", "websocket", "view_config"})


def _decorator_routes(fn: cst.FunctionDef, qualname: str) -> List[Tuple[str, str]]:
    """``("app.views.checkout", "POST /checkout")`` for ``@bp.route("/checkout", methods=["POST"])``."""
    out = []
    for dec in fn.decorators:
        call = dec.decorator
        if not (isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute) and call.func.attr.value in ROUTE_DECORATORS and call.args):
            continue
        path = N.string_value(call.args[0].value) if call.args[0].keyword is None else None
        if path is None:
            continue
        verb = call.func.attr.value.upper()
        methods_arg = N.arg(call, keyword="methods")
        methods = [m.upper() for m in (N.string_value(e.value) for e in methods_arg.elements) if m] if isinstance(methods_arg, (cst.List, cst.Tuple)) else []
        if verb in HTTP_METHODS:
            methods = [verb]
        out.append((qualname, f"{'|'.join(methods)} {path}" if methods else path))
    return out


def _dependencies(module_node: cst.Module, imports: Dict[str, str], resolver: Resolver) -> Tuple[str, ...]:
    """Functions named in ``Depends(get_db)`` / ``Security(f)`` anywhere in the file (FastAPI).

    Only files that import ``Depends``/``Security`` are walked (cheap for everything else).
    """
    local = {k for k, v in imports.items() if v.rsplit(".", 1)[-1] in ("Depends", "Security")}
    if not local and not any(v.split(".")[0] == "fastapi" for v in imports.values()):
        return ()
    out: List[str] = []
    for node in N.walk(module_node):
        if isinstance(node, cst.Call) and node.args and (N.call_name(node) in ("Depends", "Security") or N.dotted(node.func) in local):
            name = N.dotted(node.args[0].value)
            if name:
                out.append(resolver.qualify(name) or name)
    return tuple(dict.fromkeys(out))


# attributes whose value is a name fixed in the code (a table, an app label)
SAFE_ATTR_SUFFIXES = ("_meta.db_table", "_meta.model_name", "_meta.app_label", "__tablename__", "__table__.name")


MEMO_DECORATOR_WORDS = ("cache", "memo", "lru", "once", "singleton")


def _is_slice(node: Optional[cst.BaseExpression]) -> bool:
    return isinstance(node, cst.Subscript) and any(isinstance(e.slice, cst.Slice) for e in node.slice)


def hands_out_slices(fn: cst.FunctionDef) -> bool:
    """Every ``yield`` gives a slice of a sequence, or every ``return`` a comprehension of slices
    (a chunking helper such as ``split_ids(ids)``)."""
    outs: List[Optional[cst.BaseExpression]] = []
    kinds = set()
    for node in N.walk(fn.body, into_functions=False):
        if type(node) is cst.Yield or type(node) is cst.Return:
            kinds.add(type(node))
            outs.append(node.value if isinstance(node.value, cst.BaseExpression) else None)
    if not outs or len(kinds) != 1:
        return False
    if kinds == {cst.Yield}:
        return all(_is_slice(v) for v in outs)
    return all(isinstance(v, (cst.ListComp, cst.GeneratorExp)) and _is_slice(v.elt) for v in outs)


_BINDING_NODES = frozenset({cst.Assign, cst.AnnAssign, cst.AugAssign, cst.For, cst.NamedExpr, cst.WithItem})
_RETURNED_CALLS_NODES = _BINDING_NODES | {cst.Global, cst.Nonlocal, cst.Return}
_CONSTANT_LOOP_NODES = _BINDING_NODES | {cst.CompFor}


def returned_calls(fn: cst.FunctionDef, resolver: "Resolver") -> Tuple[Tuple[str, str], ...]:
    """(callee, shape) of what every ``return`` of ``fn`` gives: a call's result, directly or
    through a local bound once (``conn = connect(); ...; return conn``), alone or first in a
    tuple (``return conn, conn.cursor()``), or from inside ``with callee(...) as conn``. Empty
    when any return gives something else (a global, an attribute, a rebound name), when the
    function is memoised (every caller gets the same object) or when nothing is returned."""
    if any(w in d.lower() for d in N.decorator_names(fn) for w in MEMO_DECORATOR_WORDS):
        return ()
    returns: List[cst.Return] = []
    bound: Dict[str, List[Tuple[str, Optional[cst.BaseExpression]]]] = {}
    shared: Set[str] = set()
    for node in N.walk(fn.body, into_functions=False):
        if type(node) not in _RETURNED_CALLS_NODES:
            continue  # (one set lookup: libcst's classes make every ``isinstance`` an ABC check)
        if isinstance(node, (cst.Global, cst.Nonlocal)):
            shared.update(n.name.value for n in node.names)
        elif isinstance(node, cst.Return):
            returns.append(node)
        elif isinstance(node, cst.Assign) and len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
            bound.setdefault(node.targets[0].target.value, []).append(("value", node.value))
        elif isinstance(node, cst.Assign) and len(node.targets) == 1 and _self_attr(node.targets[0].target):
            bound.setdefault(N.code(node.targets[0].target), []).append(("value", node.value))  # ``self._registry = scoped_session(...)``
        elif isinstance(node, cst.WithItem) and node.asname is not None and isinstance(node.asname.name, cst.Name):
            bound.setdefault(node.asname.name.value, []).append(("with", node.item))
        elif isinstance(node, (cst.Assign, cst.AnnAssign, cst.AugAssign, cst.For, cst.NamedExpr, cst.WithItem)):
            targets: List[Any] = [t.target for t in node.targets] if isinstance(node, cst.Assign) else [getattr(node, "target", None)]
            if isinstance(node, cst.WithItem):
                targets = [node.asname.name] if node.asname is not None else []
            for t in targets:
                for name in N.target_names(t) if t is not None else ():
                    bound.setdefault(name, []).append(("value", None))
    out: List[Tuple[str, str]] = []
    for ret in returns:
        value = ret.value
        if value is None or isinstance(value, cst.Name) and value.value == "None":
            continue  # ``if not dsn: return None``
        shape = "value"
        if isinstance(value, cst.Tuple) and value.elements:
            value, shape = value.elements[0].value, "first"
        if isinstance(value, cst.Name):
            # ``conn = None`` before a retry loop or a ``try`` is a placeholder, not what is handed out
            binds = [b for b in bound.get(value.value, []) if not (isinstance(b[1], cst.Name) and b[1].value == "None")]
            if len(binds) > 1 and _same_opener(binds):
                binds = binds[:1]  # ``try: conn = connect(db) except OperationalError: conn = connect("postgres")``
            if value.value in shared or len(binds) != 1 or binds[0][1] is None:
                return ()
            how, value = binds[0][0], cast(cst.BaseExpression, binds[0][1])
            if how == "with":
                if shape == "first":
                    return ()
                shape = "with"
        if isinstance(value, cst.Await):
            value = value.expression
        if isinstance(value, cst.Call) and N.call_name(value) == "cast" and len(value.args) == 2:
            value = value.args[1].value  # ``typing.cast(Session, make())`` is ``make()``
        if not isinstance(value, cst.Call):
            return ()
        value = _wrapped_call(value, bound) if shape == "value" else value
        factory = _called_factory(value.func, bound)
        if factory is not None and shape == "value":
            # ``return sessionmaker(bind=engine)()``, ``maker = sessionmaker(...); return maker()``:
            # what the factory a call builds makes (``product`` of the factory's callee); made on
            # ``self`` (``self._registry = scoped_session(...); return self._registry()``), only
            # a fresh object's (``Manager().make_session()``) is new on every call
            value, shape = factory, "self-product" if _self_attr(value.func) else "product"
        if isinstance(value.func, cst.Attribute) and isinstance(value.func.value, cst.Call) and isinstance(value.func.value.func, (cst.Name, cst.Attribute)):
            # ``return SessionManager().make_session(engine)``: a method of a fresh object
            made = N.dotted(value.func.value.func)
            if made and made.split(".")[-1][:1].isupper() and shape == "value":
                out.append((f"{resolver.qualify(made) or made}.{value.func.attr.value}", "fresh"))
                continue
        got = _returned_target(value, shape, resolver)
        if got is None:
            return ()
        out.append(got)
    return tuple(dict.fromkeys(out))


def _returned_target(value: cst.Call, shape: str, resolver: "Resolver") -> Optional[Tuple[str, str]]:
    """(callee, shape) of a returned call, or None when it cannot be what the caller owns."""
    if not isinstance(value.func, (cst.Name, cst.Attribute)):
        return None
    target = N.dotted(value.func)
    if target and target.startswith("self.") and target.count(".") == 2 and target.endswith((".getconn", ".acquire")):
        return target, "self-checkout"  # ``return self.pool.getconn()``: the object's pool, checked out for the caller
    if not target or target.split(".")[0] in ("self", "cls"):
        return None
    first = N.string_value(N.arg(value, 0))
    if first is not None and (":memory:" in first or first.rstrip("/") in ("sqlite:", "sqlite+pysqlite:", "sqlite+aiosqlite:")):
        return None  # an in-memory database holds no server connection
    return resolver.qualify(target) or target, shape


def _wrapped_call(value: cst.Call, bound: Dict[str, List[Tuple[str, Optional[cst.BaseExpression]]]]) -> cst.Call:
    """``return ConnectionPlus(sqlite3_conn)`` with ``sqlite3_conn = sqlite3.connect(...)`` bound
    once before (or the call written inside): a class made around what the inner call opens hands
    that out, so the inner call is what the function returns. Anything else is ``value`` itself."""
    positional = [a for a in value.args if a.keyword is None and not a.star]
    last = (N.dotted(value.func) or "").rsplit(".", 1)[-1]
    if len(positional) != 1 or not last[:1].isupper():
        return value
    inner = positional[0].value
    if isinstance(inner, cst.Name):
        binds = bound.get(inner.value, [])
        inner = binds[0][1] if len(binds) == 1 and binds[0][0] == "value" and binds[0][1] is not None else inner
    if isinstance(inner, cst.Await):
        inner = inner.expression
    return inner if isinstance(inner, cst.Call) and isinstance(inner.func, (cst.Name, cst.Attribute)) else value


def _same_opener(binds: List[Tuple[str, Optional[cst.BaseExpression]]]) -> bool:
    """Every binding of the returned name calls the same function (a fallback with other
    arguments), as a plain value."""
    funcs = {N.dotted(v.func) if isinstance(v, cst.Call) and how == "value" else None for how, v in binds}
    return len(funcs) == 1 and None not in funcs


# methods that block and hand out messages for as long as the connection lives
LISTEN_METHODS = {"listen", "consume", "notifies", "iter_messages", "stream", "watch", "events", "messages", "subscribe"}
_COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)
_LOOP_TYPES = (cst.For, cst.While) + _COMPREHENSIONS
_LOOP_NODES = frozenset(_LOOP_TYPES)
_FLOW_NODES = frozenset({cst.Return, cst.Assign, cst.AnnAssign, cst.AugAssign, cst.For, cst.WithItem, cst.NamedExpr})


BUILTIN_NAMES = frozenset(dir(builtins))


def _followed(targets: Dict[int, Tuple[cst.Call, str]], imports) -> Dict[int, Tuple[cst.Call, str]]:
    """The calls ``loop_calls``/``param_calls`` keep: a method of the class, an imported name (a
    driver's ``connect``, a project helper) or a bare name that is not a builtin; not a method of
    a local value (``rows.append``), which the index never resolves."""
    out = {}
    for key, (call, target) in targets.items():
        written = cast(str, N.call_target(call.func))
        head = written.split(".")[0]
        if head in ("self", "cls") or head in imports or ("." not in written and written not in BUILTIN_NAMES):
            out[key] = (call, target)
    return out


def calls_given_params(targets: Dict[int, Tuple[cst.Call, str]], params: Tuple[str, ...]) -> Tuple[Tuple[str, Tuple[str, ...]], ...]:
    """See ``FunctionFacts.param_calls``."""
    out: Dict[str, Tuple[str, ...]] = {}
    for call, target in targets.values():
        given = tuple(a.value.value for a in call.args if isinstance(a.value, cst.Name) and a.value.value in params and a.value.value not in ("self", "cls"))
        if given:
            out[target] = tuple(dict.fromkeys(out.get(target, ()) + given))
    return tuple(out.items())


RETRY_NAME = re.compile(r"^_?(attempt|attempts|retry|retries|tries|try_count|n_try|tried|tries_left|retries_left)\w*$", re.I)


def retry_only_calls(loops: List[cst.CSTNode], targets: Dict[int, Tuple[cst.Call, str]]) -> Tuple[str, ...]:
    """See ``FunctionFacts.retry_only_calls``."""
    inside: Set[int] = set()
    for loop in loops:
        if isinstance(loop, cst.While):
            names = [n.value for n in N.walk(loop.test) if isinstance(n, cst.Name)]
        elif isinstance(loop, cst.For) and isinstance(loop.iter, cst.Call) and N.call_name(loop.iter) == "range":
            names = list(N.target_names(loop.target))
        else:
            continue
        if any(RETRY_NAME.match(n) for n in names):
            inside.update(id(n) for n in N.walk(loop.body, into_functions=False) if isinstance(n, cst.Call))
    return _only_inside(inside, targets)


def _only_inside(inside: Set[int], targets: Dict[int, Tuple[cst.Call, str]]) -> Tuple[str, ...]:
    """The call targets made only by the calls in ``inside`` (ids), never elsewhere."""
    if not inside:
        return ()
    there = {t for k, (_, t) in targets.items() if k in inside}
    elsewhere = {t for k, (_, t) in targets.items() if k not in inside}
    return tuple(sorted(there - elsewhere))


def failure_only_calls(fn: cst.FunctionDef, targets: Dict[int, Tuple[cst.Call, str]]) -> Tuple[str, ...]:
    """See ``FunctionFacts.failure_calls``."""
    inside: Set[int] = set()
    for node in N.walk(fn.body, into_functions=False):
        if type(node) is cst.Try:
            for handler in cast(cst.Try, node).handlers:
                if failure_handler(handler):
                    inside.update(id(n) for n in N.walk(handler.body, into_functions=False) if isinstance(n, cst.Call))
    return _only_inside(inside, targets)


def _flag_test(test: cst.BaseExpression, params: FrozenSet[str], negated: bool) -> Optional[str]:
    """``flag`` (or ``not flag`` when ``negated``) for a parameter ``flag``."""
    if negated:
        if not (type(test) is cst.UnaryOperation and type(cast(cst.UnaryOperation, test).operator) is cst.Not):
            return None
        test = cast(cst.UnaryOperation, test).expression
    return test.value if type(test) is cst.Name and cast(cst.Name, test).value in params else None


def flag_only_calls(fn: cst.FunctionDef, targets: Dict[int, Tuple[cst.Call, str]], flag_ifs: List[cst.If], params: FrozenSet[str]) -> Tuple[Tuple[str, str, bool], ...]:
    """See ``FunctionFacts.flag_calls``."""
    if not targets or not params:
        return ()
    regions: List[Tuple[str, List[cst.CSTNode]]] = [(cast(cst.Name, node.test).value, [node.body]) for node in flag_ifs]
    stmts: List[cst.CSTNode] = list(fn.body.body) if isinstance(fn.body, cst.IndentedBlock) else []
    for i, stmt in enumerate(stmts):
        flag = _flag_test(cast(cst.If, stmt).test, params, True) if type(stmt) is cst.If and cast(cst.If, stmt).orelse is None else None
        if flag is not None and _only_returns(cast(cst.If, stmt).body):
            regions.append((flag, list(stmts[i + 1:])))  # ``if not flag: return`` then the rest
            break
    for node in N.walk(fn.body, into_functions=False):
        if type(node) is cst.IfExp:
            flag = _flag_test(cast(cst.IfExp, node).test, params, False)
            if flag is not None:
                regions.append((flag, [cast(cst.IfExp, node).body]))
    if not regions:
        return ()
    guards: Dict[int, str] = {}
    for flag, nodes in regions:
        for region in nodes:
            for n in N.walk(region, into_functions=False):
                if type(n) is cst.Call:
                    guards.setdefault(id(n), flag)
    flags: Dict[str, Optional[str]] = {}
    for k, (_, t) in targets.items():
        f = guards.get(k)
        flags[t] = f if flags.get(t, f) == f else None
    return tuple(sorted((t, f, _falsy_default(fn, f)) for t, f in flags.items() if f is not None))


def _only_returns(body: cst.BaseSuite) -> bool:
    lines = list(body.body) if isinstance(body, cst.IndentedBlock) else [body]
    smalls = [s for line in lines for s in getattr(line, "body", ())] if all(type(line) in (cst.SimpleStatementLine, cst.SimpleStatementSuite) for line in lines) else []
    return bool(smalls) and all(type(s) is cst.Return for s in smalls)


def per_item_calls(loops: List[cst.CSTNode], targets: Dict[int, Tuple[cst.Call, str]]) -> Tuple[Tuple[str, str, Tuple[int, ...], Tuple[str, ...]], ...]:
    """The calls each per-item loop makes on every pass (see ``FunctionFacts.loop_calls``). Not a
    loop over a literal or a ``range`` (a fixed number of passes, a hand-made pool, retries), nor
    a ``while`` that can ``break`` (a retry or a search)."""
    out: Dict[Tuple[str, str], Tuple[Set[int], Set[str]]] = {}
    for loop in loops:
        per_item: List[cst.CSTNode]
        if isinstance(loop, cst.For):
            if _fixed_iterable(loop.iter):
                continue
            kind, names, per_item = "for", set(N.target_names(loop.target)), [loop.body]
        elif isinstance(loop, cst.While):
            if any(isinstance(n, cst.Break) or _listens_in(n) for n in _own_statements(loop.body)):
                continue  # a retry or a search; a reconnect loop whose pass listens until it fails
            kind, names, per_item = "while", set(), [loop.body]
        else:
            comp = cast(cst.CompFor, loop.for_in)  # type: ignore[attr-defined]
            if _fixed_iterable(comp.iter):
                continue
            kind, names = "for", set(N.target_names(comp.target))
            per_item = [getattr(loop, f) for f in ("elt", "key", "value") if hasattr(loop, f)]
            per_item += [i.test for i in comp.ifs] + ([comp.inner_for_in] if comp.inner_for_in is not None else [])
        nodes = [n for part in per_item for n in N.walk(part, into_functions=False)]
        for n in nodes:  # names rebound per pass change per item too
            if isinstance(n, (cst.Assign, cst.AugAssign, cst.AnnAssign)):
                for t in ([t.target for t in n.targets] if isinstance(n, cst.Assign) else [n.target]):
                    names.update(N.target_names(t))
            elif isinstance(n, (cst.For, cst.CompFor)):
                names.update(N.target_names(n.target))
        for n in nodes:
            found = targets.get(id(n)) if isinstance(n, cst.Call) else None
            if found is None:
                continue
            target = found[1]
            positions, keywords = out.setdefault((target, kind), (set(), set()))
            call = cast(cst.Call, n)
            for i, arg in enumerate(call.args):
                if any(isinstance(x, cst.Name) and x.value in names for x in N.walk(arg.value)):
                    if arg.keyword is not None:
                        keywords.add(arg.keyword.value)
                    else:
                        positions.add(i)
    return tuple((t, k, tuple(sorted(p)), tuple(sorted(kw))) for (t, k), (p, kw) in out.items())


def _fixed_iterable(node: cst.BaseExpression) -> bool:
    """A literal collection or string, ``range(...)``, or ``enumerate``/``sorted`` of a literal."""
    literals = (cst.List, cst.Tuple, cst.Set, cst.Dict, cst.SimpleString, cst.ConcatenatedString)
    if isinstance(node, literals):
        return True
    if not isinstance(node, cst.Call):
        return False
    name = N.call_name(node)
    return name == "range" or (name in ("enumerate", "sorted", "reversed") and bool(node.args) and isinstance(node.args[0].value, literals))


def _listens_in(node: cst.CSTNode) -> bool:
    """``for message in pubsub.listen():`` or a nested ``while True:``: the pass does not end while it works."""
    if isinstance(node, cst.For):
        return isinstance(node.iter, cst.Call) and N.call_name(node.iter) in LISTEN_METHODS
    return isinstance(node, cst.While) and N.code(node.test).strip() in ("True", "1")


def _own_statements(body: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """The nodes of a loop body outside nested loops and functions (a ``break`` there ends this loop)."""
    stack = list(N.children(body))
    while stack:
        n = stack.pop()
        yield n
        if not isinstance(n, (cst.For, cst.While, cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            stack.extend(N.children(n))


def _self_attr(node: cst.CSTNode) -> bool:
    return isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and node.value.value == "self"


def _called_factory(func: cst.BaseExpression, bound: Dict[str, List[Tuple[str, Optional[cst.BaseExpression]]]]) -> Optional[cst.Call]:
    """The call that built the callable ``func``: ``sessionmaker(...)`` in ``sessionmaker(...)()``
    or in ``maker()`` after ``maker = sessionmaker(...)`` (bound once in the function; an
    attribute of ``self`` too)."""
    if isinstance(func, cst.Call):
        return func
    if isinstance(func, cst.Name) or _self_attr(func):
        binds = bound.get(N.code(func), [])
        if len(binds) == 1 and binds[0][0] == "value" and isinstance(binds[0][1], cst.Call):
            return binds[0][1]
    return None


def _sql_argument(call: cst.Call, params: Tuple[str, ...], imports: Dict[str, str], resolver: Resolver):
    """A call's first argument as SQL: ([the parameter]) passed on to a sink unchanged, or
    ([(the imported name, the callee)]) for ``cur.execute(queries.ALL)``; empty lists otherwise."""
    sql_arg = N.arg(call, 0)
    if not isinstance(sql_arg, (cst.Name, cst.Attribute)):
        return [], []
    if isinstance(sql_arg, cst.Name) and sql_arg.value in params and N.call_name(call) in SQL_SINK_NAMES:
        if isinstance(call.func, cst.Name) and call.func.value in imports and imports[call.func.value].split(".")[0] not in SQL_LIBRARIES | {resolver.module.split(".")[0]}:
            return [], []  # ``from tagflow import text``: a heading's text, not a statement
        return [sql_arg.value], []
    dotted = N.dotted(sql_arg)
    callee = N.dotted(call.func)
    if not (dotted and callee and dotted.split(".")[0] in imports):
        return [], []
    if callee.split(".")[0] not in ("self", "cls"):
        callee = resolver.qualify(callee) or callee
    return [], [(resolver.qualify(dotted) or dotted, callee)]


KEEPING_CALLS = {"append", "appendleft", "add", "extend", "insert", "put", "put_nowait", "setdefault", "register", "update", "push", "callback", "partial", "closing"}


def kept_params(nodes: List[cst.CSTNode], params: Tuple[str, ...]) -> Tuple[str, ...]:
    """The parameters a function keeps beyond the call or hands back, from its assignments,
    returns, yields and keeping calls (``nodes``, gathered by the facts walk): bound to an
    attribute or an item, returned or yielded (alone or in a container), put in a container
    (``self.conns.append(conn)``), or bound to a local name that is kept in turn. A parameter
    only used (``conn.execute(...)``, ``helper(conn)``, ``Repository(conn)`` for the caller to
    use), or aliased to a local only used (``dialect = mixed``), is not kept."""
    wanted = set(params) - {"self", "cls"}
    if not wanted:
        return ()
    aliases: Dict[str, Set[str]] = {}  # local name -> the parameters (or aliases) it was bound to
    kept: Set[str] = set()

    def held(expr: Optional[cst.BaseExpression], into: Set[str], names: Set[str]) -> None:
        """The names an expression's value is (or contains), not what it is computed from."""
        if expr is None:
            return
        if isinstance(expr, cst.Name):
            if expr.value in names:
                into.add(expr.value)
        elif isinstance(expr, (cst.Tuple, cst.List, cst.Set)):
            for el in expr.elements:
                held(el.value, into, names)
        elif isinstance(expr, cst.Dict):
            for item in expr.elements:
                held(getattr(item, "value", None), into, names)
        elif isinstance(expr, cst.IfExp):
            held(expr.body, into, names)
            held(expr.orelse, into, names)
        elif isinstance(expr, cst.BooleanOperation):
            held(expr.left, into, names)
            held(expr.right, into, names)
        elif isinstance(expr, (cst.Await, cst.NamedExpr)):
            held(getattr(expr, "expression", None) or getattr(expr, "value", None), into, names)
        elif isinstance(expr, cst.Call) and _keeps_args(expr):
            for a in expr.args:
                held(a.value, into, names)

    local_binds: Dict[int, Tuple[List[str], Optional[cst.BaseExpression]]] = {}  # id(node) -> (local names, value)
    for node in nodes:
        if isinstance(node, (cst.Assign, cst.AnnAssign)):
            bound = [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]
            if all(isinstance(t, cst.Name) for t in bound):
                local_binds[id(node)] = ([cast(cst.Name, t).value for t in bound], node.value)
    for _ in range(3):  # aliases of aliases, a few steps
        names = wanted | set(aliases)
        for local_names, value in local_binds.values():
            got: Set[str] = set()
            held(value, got, names)
            for local in local_names:
                if got - aliases.get(local, set()) - {local}:
                    aliases.setdefault(local, set()).update(got - {local})
    names = wanted | set(aliases)
    for node in nodes:
        if isinstance(node, (cst.Assign, cst.AnnAssign, cst.AugAssign, cst.Return)):
            if id(node) not in local_binds:  # an attribute or an item keeps it; a local, only if kept
                held(node.value, kept, names)
        elif isinstance(node, cst.Yield):
            held(node.value if isinstance(node.value, cst.BaseExpression) else None, kept, names)
        elif isinstance(node, cst.Call) and _keeps_args(node):
            for a in node.args:
                held(a.value, kept, names)
    pending = list(kept)
    while pending:  # a kept alias keeps what it was bound to
        for source in aliases.get(pending.pop(), ()):
            if source not in kept:
                kept.add(source)
                pending.append(source)
    return tuple(p for p in params if p in kept)


def _keeps_args(call: cst.Call) -> bool:
    """A call that keeps what it is given: a container's add, a registration. (Not a constructor:
    a repository or wrapper built over a session closes nothing unless it is closed.)"""
    return (N.call_name(call) or "") in KEEPING_CALLS


DOUBLED = {"'": "''", '"': '""'}


def _doubles_quotes(call: cst.Call) -> bool:
    """``s.replace("'", "''")``: the quote character doubled, as SQL string literals escape it."""
    if N.call_name(call) != "replace" or len(call.args) != 2:
        return False
    old, new = N.string_value(call.args[0].value), N.string_value(call.args[1].value)
    return old in DOUBLED and new == DOUBLED[old]


def class_chain_returns(flow: List[cst.CSTNode]) -> Tuple[str, ...]:
    """See ``FunctionFacts.class_chain_returns``."""
    names: List[str] = []
    seen = False
    for node in flow:
        if not isinstance(node, cst.Return):
            continue
        seen = True
        got = _chain_on(node.value)
        if got is None or got[0] != "cls" or not got[1]:
            return ()
        for name in got[1]:
            if name not in names:
                names.append(name)
    return tuple(names) if seen else ()


def _chain_on(expr: Optional[cst.BaseExpression]) -> Optional[Tuple[str, List[str]]]:
    """``q.filter(a).order_by(b)``: (``q``, [``filter``, ``order_by``]); None for anything else."""
    chain: List[str] = []
    while expr is not None:
        if isinstance(expr, cst.Call):
            expr = expr.func
        elif isinstance(expr, cst.Attribute):
            chain.append(expr.attr.value)
            expr = expr.value
        elif isinstance(expr, cst.Name):
            return expr.value, chain[::-1]
        else:
            return None
    return None


def refined_param(flow: List[cst.CSTNode], params: Tuple[str, ...]) -> Tuple[str, ...]:
    """See ``FunctionFacts.refined_param``."""
    returns, assigned = _returns_and_bindings(flow)
    if not returns:
        return ()
    names: List[str] = []
    param: Optional[str] = None
    for value in returns:
        got = _chain_on(value)
        if got is None or got[0] not in params or param not in (None, got[0]):
            return ()
        param = got[0]
    if param is None:
        return ()
    for value in assigned.get(param, ()):
        got = _chain_on(value)
        if got is None or got[0] != param:
            return ()
        names.extend(m for m in got[1] if m not in names)
    for value in returns:
        names.extend(m for m in cast(Tuple[str, List[str]], _chain_on(value))[1] if m not in names)
    return (param, *names)


def _record_call(node: cst.Call, cls, resolver, imports, project_prefix: str, calls: List[str], targets: dict, call_consts: list) -> None:
    """A call's target in ``calls`` (and ``targets``), and in ``call_consts`` when a project
    function may own it."""
    target = N.call_target(node.func)
    if not target:
        return
    head = target.split(".")[0]
    if head in ("self", "cls") and cls:
        calls.append(target)
    else:
        calls.append(resolver.qualify(target) or target)
    targets[id(node)] = (node, calls[-1])
    if node.args and (
        calls[-1].startswith(project_prefix)
        or head in ("self", "cls")
        or (head in imports and calls[-1].split(".")[0] not in STDLIB)
    ):  # a call another top-level package of the project may own (``util.migrate.copy_table(...)`` from ``data/``)
        call_consts.append((calls[-1], node))


MAX_PARAM_READS = 24


def _param_read(node: cst.Attribute, params: frozenset, reads: Dict[Tuple[str, Tuple[str, ...]], int]) -> None:
    chain: List[str] = []
    expr: cst.BaseExpression = node
    while isinstance(expr, cst.Attribute) and len(chain) < 5:
        chain.append(expr.attr.value)
        expr = expr.value
    key = (expr.value, tuple(reversed(chain))) if isinstance(expr, cst.Name) and expr.value in params and len(chain) <= 4 else None
    if key is not None and (key in reads or len(reads) < MAX_PARAM_READS * 4):
        reads[key] = reads.get(key, 0) + 1


def _longest_reads(keys) -> List[Tuple[str, Tuple[str, ...]]]:
    """Chains that are not the start of a longer one, longest first."""
    out: List[Tuple[str, Tuple[str, ...]]] = []
    for param, chain in sorted(keys, key=lambda k: -len(k[1])):
        if not any(p == param and c[: len(chain)] == chain for p, c in out):
            out.append((param, chain))
    return out[:MAX_PARAM_READS]


def _falsy_default(fn: cst.FunctionDef, name: str) -> bool:
    for p in (*fn.params.params, *fn.params.kwonly_params):
        if p.name.value == name:
            return N.falsy_literal(p.default)
    return False


def _reads_facts(fn: cst.FunctionDef, reads: Dict[Tuple[str, Tuple[str, ...]], int], flag_ifs: List[cst.If], params: frozenset) -> Dict[str, Any]:
    """``param_reads`` and ``flagged_reads``: a read every occurrence of which sits under ``if
    <flag parameter>:`` is flagged."""
    guarded: Dict[Tuple[str, Tuple[str, ...]], Tuple[str, int]] = {}
    for node in flag_ifs:
        flag = cast(cst.Name, node.test).value
        inside: Dict[Tuple[str, Tuple[str, ...]], int] = {}
        for n in N.walk(node.body, into_functions=False):
            if type(n) is cst.Attribute:
                _param_read(cast(cst.Attribute, n), params, inside)
        for key, count in inside.items():
            guarded[key] = (flag, guarded.get(key, (flag, 0))[1] + count)
    flagged = [k for k, count in reads.items() if k in guarded and guarded[k][1] >= count]  # (in walk order: a set's would vary by process)
    plain = _longest_reads(k for k in reads if k not in flagged)
    marked = [(p, c, guarded[(p, c)][0], _falsy_default(fn, guarded[(p, c)][0])) for p, c in _longest_reads(flagged)]
    evaluated = _evaluated_reads(fn, params) if any(len(c) >= 2 and c[1] in MANAGER_READS for _p, c in reads) else ()
    return {"param_reads": tuple(plain), "flagged_reads": tuple(marked), "evaluated_reads": evaluated}


MANAGER_READS = frozenset({"all", "filter", "exclude", "order_by", "values", "values_list", "annotate", "count", "exists", "first", "last", "get", "aggregate", "latest", "earliest", "iterator"})
ALWAYS_RUN = frozenset({"count", "exists", "first", "last", "get", "aggregate", "latest", "earliest"})
EVALUATORS = frozenset({"list", "len", "sorted", "set", "tuple", "sum", "any", "all", "bool", "dict", "enumerate"})


def _evaluated_reads(fn: cst.FunctionDef, params: frozenset) -> Tuple[Tuple[str, Tuple[str, str]], ...]:
    """See ``FunctionFacts.evaluated_reads``."""
    out: Dict[Tuple[str, Tuple[str, str]], None] = {}

    def manager_call(expr: Optional[cst.BaseExpression]) -> Optional[Tuple[str, Tuple[str, str]]]:
        # ``param.rel.method(...)`` (later chained methods keep it one query: ``.all().order_by()``)
        while isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute):
            inner = expr.func.value
            if isinstance(inner, cst.Attribute) and isinstance(inner.value, cst.Name) and inner.value.value in params:
                return inner.value.value, (inner.attr.value, expr.func.attr.value)
            expr = inner
        return None

    for node in N.walk(fn.body, into_functions=False):
        got = None
        if isinstance(node, cst.For):
            got = manager_call(node.iter)
        elif isinstance(node, cst.CompFor):
            got = manager_call(node.iter)
        elif isinstance(node, cst.Call):
            name = N.call_name(node)
            if isinstance(node.func, cst.Name) and name in EVALUATORS and node.args:
                got = manager_call(node.args[0].value)
            elif name in ALWAYS_RUN:
                got = manager_call(node)
        if got is not None:
            out[got] = None
    return tuple(out)[:8]


def spread_params(spread: List[str], loops: List[cst.CSTNode], params: Tuple[str, ...]) -> Tuple[str, ...]:
    """See ``FunctionFacts.spread_params``."""
    if not spread:
        return ()
    names = set(spread)
    heads: List[Any] = []
    for loop in loops:
        comp = getattr(loop, "for_in", None)  # a comprehension: each of its ``for`` clauses
        if comp is None:
            heads.append(loop)
        while comp is not None:
            heads.append(comp)
            comp = comp.inner_for_in
    for head in heads:
        it, target = getattr(head, "iter", None), getattr(head, "target", None)
        if isinstance(it, cst.Name) and isinstance(target, cst.Name) and target.value in names:
            names.add(it.value)
    return tuple(p for p in params if p in names)


def _built_query(value: Optional[cst.BaseExpression]) -> Optional[Tuple[cst.BaseExpression, List[str]]]:
    """``<x>.query(Entity).filter(...).order_by(...)``: (``Entity``, [``filter``, ``order_by``]);
    ``Entity.select(...).where(...)`` (peewee): (``Entity``, [``select``, ``where``])."""
    chain: List[str] = []
    expr = value
    while isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute):
        name = expr.func.attr.value
        if name == "query":
            args = [a.value for a in expr.args if a.keyword is None and not a.star]
            if len(args) == 1 and isinstance(args[0], (cst.Name, cst.Attribute)):
                return args[0], chain[::-1]
            return None
        if name == "select" and isinstance(expr.func.value, (cst.Name, cst.Attribute)):
            return expr.func.value, ["select", *chain[::-1]]
        chain.append(name)
        expr = expr.func.value
    return None


def returned_query(flow: List[cst.CSTNode], resolver) -> Tuple[str, ...]:
    """See ``FunctionFacts.returned_query``."""
    returns, assigned = _returns_and_bindings(flow)
    if not returns:
        return ()
    entity: Optional[str] = None
    names: List[str] = []

    def built(value) -> bool:
        nonlocal entity
        got = _built_query(value)
        if got is None:
            return False
        ent = resolver.qualify(N.dotted(got[0]))
        if ent is None or entity not in (None, ent):
            return False
        entity = ent
        names.extend(m for m in got[1] if m not in names)
        return True

    for value in returns:
        if built(value):
            continue
        got = _chain_on(value)
        if got is None or got[0] in ("self", "cls"):
            return ()
        values = assigned.get(got[0], ())
        if not values:
            return ()
        names.extend(m for m in got[1] if m not in names)  # ``return q.dicts()``
        for v in values:
            inner = _chain_on(v)
            if inner is not None and inner[0] == got[0]:
                names.extend(m for m in inner[1] if m not in names)
            elif not built(v):
                return ()
    return (entity, *names) if entity is not None else ()


def _returns_and_bindings(flow: List[cst.CSTNode]) -> Tuple[List[Optional[cst.BaseExpression]], Dict[str, List[Optional[cst.BaseExpression]]]]:
    """The values a function returns, and every value bound to each local name (None: unknown)."""
    returns: List[Optional[cst.BaseExpression]] = []
    assigned: Dict[str, List[Optional[cst.BaseExpression]]] = {}
    for node in flow:
        if isinstance(node, cst.Return):
            returns.append(node.value)
        elif isinstance(node, cst.Assign) and len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
            assigned.setdefault(node.targets[0].target.value, []).append(node.value)
        elif (isinstance(node, cst.Assign) and len(node.targets) == 1 and isinstance(node.targets[0].target, (cst.Tuple, cst.List))
              and isinstance(node.value, (cst.Tuple, cst.List)) and len(node.value.elements) == len(node.targets[0].target.elements)):
            for t_el, v_el in zip(node.targets[0].target.elements, node.value.elements):  # ``a, b = "x", "y"``
                if isinstance(t_el.value, cst.Name) and not isinstance(v_el, cst.StarredElement):
                    assigned.setdefault(t_el.value.value, []).append(v_el.value)
                else:
                    for name in N.target_names(t_el.value):
                        assigned.setdefault(name, []).append(None)
        else:
            targets: List[Any] = [t.target for t in node.targets] if isinstance(node, cst.Assign) else [getattr(node, "target", None)]
            if isinstance(node, cst.WithItem):
                targets = [node.asname.name] if node.asname is not None else []
            for t in targets:
                for name in N.target_names(t) if t is not None else ():
                    assigned.setdefault(name, []).append(None)
    return returns, assigned


def _returned_names(flow: List[cst.CSTNode], resolver: "Resolver") -> Tuple[str, ...]:
    """The capitalised names the function's ``return``s give as they are (``return FooSerializer``,
    ``return serializers.Foo``), resolved: the classes a ``get_serializer_class`` picks."""
    out: List[str] = []
    for node in flow:
        if isinstance(node, cst.Return) and isinstance(node.value, (cst.Name, cst.Attribute)):
            name = N.dotted(node.value)
            if name and name.rsplit(".", 1)[-1][:1].isupper() and name.split(".")[0] not in ("self", "cls"):
                out.append(resolver.qualify(name) or name)
    return tuple(dict.fromkeys(out))


def _list_returned_names(fn: cst.FunctionDef, resolver: "Resolver") -> Tuple[str, ...]:
    """What ``get_serializer_class`` returns under ``if self.action == "list"`` (or ``in (...)``
    holding ``"list"``): the serializers a list action uses, whatever ``serializer_class`` says."""
    if fn.name.value != "get_serializer_class":
        return ()
    out: List[str] = []
    for node in N.walk(fn.body, into_functions=False):
        if isinstance(node, cst.If) and _tests_list_action(node.test):
            for stmt in node.body.body if isinstance(node.body, cst.IndentedBlock) else ():
                for small in stmt.body if isinstance(stmt, cst.SimpleStatementLine) else ():
                    if isinstance(small, cst.Return) and isinstance(small.value, (cst.Name, cst.Attribute)):
                        name = N.dotted(small.value)
                        if name and name.split(".")[0] not in ("self", "cls"):
                            out.append(resolver.qualify(name) or name)
    return tuple(dict.fromkeys(out))


def _tests_list_action(test: cst.BaseExpression) -> bool:
    if not (isinstance(test, cst.Comparison) and len(test.comparisons) == 1 and N.dotted(test.left) == "self.action"):
        return False
    op, right = test.comparisons[0].operator, test.comparisons[0].comparator
    if isinstance(op, cst.Equal):
        return N.string_value(right) == "list"
    if isinstance(op, cst.In) and isinstance(right, (cst.Tuple, cst.List, cst.Set)):
        return any(N.string_value(e.value) == "list" for e in right.elements)
    return False


def constant_returns(flow: List[cst.CSTNode]) -> int:
    """1 when every ``return`` of a function gives a constant, n when each gives a tuple of n
    constants (``return "dojo_user", "dojo_userevent"`` in every branch), else 0. Constants:
    literals, ``Model._meta.db_table``-style names, and locals only ever bound to those."""
    returns, assigned = _returns_and_bindings(flow)
    if not returns:
        return 0

    def const(e: Optional[cst.BaseExpression], depth: int = 0) -> bool:
        if e is None or depth > 3:
            return False
        if isinstance(e, (cst.SimpleString, cst.Integer, cst.Float)):
            return True
        if isinstance(e, cst.ConcatenatedString):
            return const(e.left, depth) and const(cast(cst.BaseExpression, e.right), depth)
        if isinstance(e, cst.FormattedString):
            return all(isinstance(p, cst.FormattedStringText) or const(cast(cst.FormattedStringExpression, p).expression, depth + 1) for p in e.parts)
        if isinstance(e, cst.Attribute):
            return (N.dotted(e) or "").endswith(SAFE_ATTR_SUFFIXES)
        if isinstance(e, cst.Name):
            values = assigned.get(e.value)
            return bool(values) and all(const(v, depth + 1) for v in cast(List[Optional[cst.BaseExpression]], values))
        return False

    arity = set()
    for r in returns:
        if isinstance(r, cst.Tuple) and r.elements and not any(isinstance(el, cst.StarredElement) for el in r.elements):
            if not all(const(el.value) for el in r.elements):
                return 0
            arity.add(len(r.elements))
        elif const(r):
            arity.add(1)
        else:
            return 0
    return arity.pop() if len(arity) == 1 else 0


def placeholder_returns(flow: List[cst.CSTNode]) -> Tuple[int, ...]:
    """Positions of the returned tuple (``(0,)`` for a single value) that every ``return`` fills
    with generated placeholder text: ``f"({','.join(f':{n}' for n in names)})"``, ``", ".join(["%s"]
    * len(ids))`` (``return query_str, bindparams`` from an IN-list helper)."""
    returns, assigned = _returns_and_bindings(flow)
    if not returns:
        return ()

    def text(e: Optional[cst.BaseExpression], depth: int = 0) -> bool:
        if e is None or depth > 3:
            return False
        if isinstance(e, cst.Name):
            values = assigned.get(e.value) or []
            return bool(values) and all(text(v, depth + 1) for v in values)
        if isinstance(e, cst.FormattedString):
            return all(
                PUNCTUATION.fullmatch(p.value) is not None if isinstance(p, cst.FormattedStringText)
                else isinstance(p, cst.FormattedStringExpression) and _placeholder_join(p.expression, depth)
                for p in e.parts
            ) and any(isinstance(p, cst.FormattedStringExpression) for p in e.parts)
        return _placeholder_join(e, depth)

    positions: Optional[Set[int]] = None
    for r in returns:
        values = [el.value for el in r.elements] if isinstance(r, cst.Tuple) else [r]
        found = {i for i, v in enumerate(values) if text(v)}
        positions = found if positions is None else positions & found
    return tuple(sorted(positions or ()))


PUNCTUATION = re.compile(r"[\s(),]*")
PLACEHOLDER_ELT = re.compile(r"%s|\?|:\w+|%\(\w+\)s")


def _placeholder_join(e: cst.BaseExpression, depth: int) -> bool:
    """``",".join(f":{n}" for n in names)`` / ``", ".join(["%s"] * len(ids))``: bind parameters
    only, one per item (the names are the comprehension's own)."""
    if not (isinstance(e, cst.Call) and N.call_name(e) == "join" and len(e.args) == 1):
        return False
    sep = N.string_value(N.receiver(e)) if N.receiver(e) is not None else None
    if sep is None or not PUNCTUATION.fullmatch(sep):
        return False
    seq = e.args[0].value
    if isinstance(seq, cst.BinaryOperation) and isinstance(seq.operator, cst.Multiply) and isinstance(seq.left, cst.List):
        return all(PLACEHOLDER_ELT.fullmatch(N.string_value(el.value) or "") for el in seq.left.elements)
    if isinstance(seq, (cst.GeneratorExp, cst.ListComp)):
        elt = seq.elt
        if isinstance(elt, cst.FormattedString):
            targets = set(N.target_names(seq.for_in.target))
            parts = elt.parts
            return (
                len(parts) == 2 and isinstance(parts[0], cst.FormattedStringText) and parts[0].value in (":", "@")
                and isinstance(parts[1], cst.FormattedStringExpression) and isinstance(parts[1].expression, cst.Name)
                and parts[1].expression.value in targets
            )
        return bool(PLACEHOLDER_ELT.fullmatch(N.string_value(elt) or ""))
    return False


STDLIB = frozenset(getattr(sys, "stdlib_module_names", ()))


def _constant_value(v: cst.BaseExpression) -> bool:
    if isinstance(v, cst.Name) and v.value in ("True", "False", "None"):
        return True  # ``many=True``
    if isinstance(v, cst.Attribute):
        root = v.value
        while isinstance(root, cst.Attribute):
            root = root.value
        return isinstance(root, cst.Name) and is_record_key(v.attr.value, root.value)  # ``target.project_id``: a number
    return isinstance(v, (cst.SimpleString, cst.Integer, cst.Float, cst.ConcatenatedString)) or (
        isinstance(v, cst.Call) and isinstance(v.func, cst.Name) and v.func.value in ("int", "len")
    )


# roots of values that carry what a client sent: their ``.id`` is the client's text
_CLIENT_ROOTS = frozenset({
    "request", "req", "form", "args", "params", "data", "json", "payload", "body", "query", "kwargs",
    "options", "opts", "message", "msg", "event", "update", "callback_query", "cleaned_data", "values", "self",
})
_FOREIGN_IDS = frozenset({"external", "remote", "message", "session", "request", "client", "msg", "thread", "object"})


def is_record_key(attr: str, root: str) -> bool:
    """``tfile.id``, ``target.project_id``: an object's key or a foreign key it holds, a number
    (or a UUID) the database made, not text from outside. Not of a value a client sent
    (``request.args.id``, ``payload.user_id``), nor an id of another system (``sf_contact_id``,
    ``message_id``, ``external_id``: their text comes from elsewhere)."""
    if not (attr == "id" or (attr.endswith("_id") and attr.count("_") == 1 and attr[:-3] not in _FOREIGN_IDS)):
        return False
    return root.lower() not in _CLIENT_ROOTS


def _call_consts(pending: List[Tuple[str, cst.Call]], fn: cst.FunctionDef, params: Tuple[str, ...]):
    """``FunctionFacts.call_consts`` for the calls the walk kept; a name bound only as the target
    of a loop over constants (``for table in TABLES: run(table)``) or to literals
    (``table = "osf_comment"``) is a constant too."""
    if not pending:
        return ()
    names = _constant_loop_names(fn, params) if any(isinstance(a.value, cst.Name) for _, c in pending for a in c.args) else frozenset()
    return tuple((target,) + _constant_args(call, names) for target, call in pending)


def _constant_loop_names(fn: cst.FunctionDef, params: Tuple[str, ...]) -> FrozenSet[str]:
    looped: Set[str] = set()
    other: Set[str] = set(params)
    for node in N.walk(fn.body, into_functions=False):
        if type(node) not in _CONSTANT_LOOP_NODES:
            continue
        targets: List[cst.BaseExpression] = []
        if isinstance(node, (cst.For, cst.CompFor)):
            it = node.iter
            constant = (isinstance(it, cst.Name) and it.value.strip("_").isupper()) or (isinstance(it, cst.Attribute) and it.attr.value.strip("_").isupper()) or (
                isinstance(it, (cst.List, cst.Tuple, cst.Set)) and all(_constant_value(e.value) for e in it.elements if not isinstance(e, cst.StarredElement)))
            (looped if constant else other).update(N.target_names(node.target))
            continue
        if isinstance(node, cst.Assign) and len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name) and _constant_value(node.value):
            looped.add(node.targets[0].target.value)  # ``table = "osf_comment"``
            continue
        if isinstance(node, cst.Assign):
            targets = [t.target for t in node.targets]
        elif isinstance(node, (cst.AnnAssign, cst.AugAssign)):
            targets = [node.target]
        elif isinstance(node, cst.WithItem) and node.asname is not None:
            targets = [node.asname.name]
        elif isinstance(node, cst.NamedExpr):
            targets = [node.target]
        for t in targets:
            other.update(N.target_names(t))
    return frozenset(looped - other)


def _constant_args(call: cst.Call, loop_constants: FrozenSet[str] = frozenset()) -> Tuple[Tuple[int, ...], Tuple[str, ...], Tuple[str, ...]]:
    """Positions and keywords of ``call`` given a literal, an integer (``int(x)``, ``len(x)``) or a
    literal list/tuple/set of those; then the positions (as text) and keywords given a short
    literal collection of anything (``create([message])``: a loop over it runs at most 3 times)."""
    pos: List[int] = []
    kws: List[str] = []
    short: List[str] = []
    for i, arg in enumerate(call.args):
        if arg.star:
            break
        v = arg.value
        if isinstance(v, cst.Name) and v.value in loop_constants:
            if arg.keyword is not None:
                kws.append(arg.keyword.value)
            else:
                pos.append(i)
            continue
        if isinstance(v, (cst.List, cst.Tuple, cst.Set)) and 0 < len(v.elements) <= 3 and not any(isinstance(e, cst.StarredElement) for e in v.elements):
            short.append(arg.keyword.value if arg.keyword is not None else str(i))
        ok = _constant_value(v) or (
            isinstance(v, (cst.List, cst.Tuple, cst.Set))  # a literal collection of constants: ``["view", "change"]``
            and all(not isinstance(e, cst.StarredElement) and _constant_value(e.value) for e in v.elements)
        )
        if not ok:
            continue
        if arg.keyword is not None:
            kws.append(arg.keyword.value)
        else:
            pos.append(i)
    return tuple(pos), tuple(kws), tuple(short)
