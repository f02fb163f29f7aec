"""What a SQLAlchemy expression is: a session, a statement, a query, a result, rows, an instance.

Simple data flow only (a name's latest binding, loop targets, ``with ... as``, annotated
parameters); loader options are carried from where a statement is built (``stmt =
select(A).options(...)``) to where its rows are used. Every answer says what one item is
(:class:`Elem`): an entity of a mapped class with the loader options that apply to it and the
relationship path from the query's root entity, a tuple of such, or a plain column value.

Only what can be shown is answered; everything else is ``None`` (the rules stay silent).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import List, Optional, Sequence, Tuple, Union, cast

import libcst as cst

from querylint import nodes as N
from querylint.scope import module_functions, param_chains  # noqa: F401 (used here and re-exported)
from querylint.context import Context
from querylint.project.callees import refined_argument
from querylint.frameworks.sqlalchemy.models import Relationship, mappings

# ------------------------------------------------------------------------------------ loaders

LOADER_STRATEGY = {
    "joinedload": "joined", "joinedload_all": "joined", "contains_eager": "joined",
    "selectinload": "selectin", "selectinload_all": "selectin",
    "subqueryload": "subquery", "subqueryload_all": "subquery",
    "immediateload": "immediate",
    "raiseload": "raise",
    "lazyload": "select",
    "noload": "noload",
    "defaultload": "default",
}
COLUMN_OPTIONS = {"load_only", "defer", "undefer", "undefer_group", "with_expression", "selectin_polymorphic", "with_loader_criteria"}

Option = Tuple[Optional[str], Tuple[str, ...], str]  # (owner class name or None, path, strategy)


@dataclass(frozen=True)
class Loaders:
    options: Tuple[Option, ...] = ()
    opaque: bool = False  # options we could not read (a helper's result, a comprehension): assume they cover

    def add(self, opts: Sequence[Option], opaque: bool = False) -> "Loaders":
        return Loaders(self.options + tuple(opts), self.opaque or opaque)

    def lookup(self, path: Tuple[str, ...]) -> Optional[str]:
        """The strategy the options give ``path`` (relationship names from the root), else None."""
        if self.opaque:
            return "opaque"
        exact = wildcard = None
        for _owner, p, strategy in self.options:
            if strategy == "default":
                continue
            if p == path:
                exact = strategy
            elif p and p[-1] == "*" and len(p) == len(path) and p[:-1] == path[:-1]:
                wildcard = strategy
        return exact or wildcard

    def for_owner(self, name: Optional[str]) -> "Loaders":
        """Options whose owner class is ``name`` (or unknown)."""
        if name is None:
            return self
        return Loaders(tuple(o for o in self.options if o[0] in (None, name)), self.opaque)


NO_LOADERS = Loaders()


def _attr_path(node: cst.BaseExpression) -> Optional[Tuple[Optional[str], Tuple[str, ...]]]:
    """``Order.customer`` → ("Order", ("customer",)); ``"a.b"`` → (None, ("a", "b")); ``A.b.of_type(X)`` → ("A", ("b",))."""
    if isinstance(node, cst.Call) and N.call_name(node) in ("of_type", "and_") and isinstance(node.func, cst.Attribute):
        return _attr_path(node.func.value)
    s = N.string_value(node)
    if s is not None:
        return None, tuple(p for p in s.split(".") if p)
    if isinstance(node, cst.Attribute):
        owner = N.dotted(node.value)
        return (owner.rsplit(".", 1)[-1] if owner else None), (node.attr.value,)
    return None


def parse_options(args: Sequence[cst.Arg], ctx: Context, depth: int = 0) -> Tuple[List[Option], bool]:
    """Loader options from ``.options(...)`` arguments: (options, opaque)."""
    out: List[Option] = []
    opaque = False
    values: Optional[List[cst.BaseExpression]]
    for a in args:
        values = [a.value]
        if a.star == "*":
            values = _expand_sequence(a.value, ctx, depth)
            if values is None:
                opaque = True
                continue
        for v in values:
            got = _parse_option(v, ctx, (), None, depth)
            if got is None:
                opaque = True
            else:
                out.extend(got)
    return out, opaque


def _expand_sequence(node, ctx: Context, depth: int) -> Optional[List[cst.BaseExpression]]:
    if isinstance(node, (cst.List, cst.Tuple)):
        return [e.value for e in node.elements if not isinstance(e, cst.StarredElement)]
    if isinstance(node, cst.Name) and depth < 4:
        b = ctx.binding(node.value, at=node)
        if b is not None and b.kind in ("assign", "annassign") and b.is_simple and b.value is not None:
            return _expand_sequence(b.value, ctx, depth + 1)
    return None


def _parse_option(node, ctx: Context, prefix: Tuple[str, ...], owner: Optional[str], depth: int) -> Optional[List[Option]]:
    """One option expression (possibly chained) → options; None when unreadable."""
    got: Union[List[Option], Tuple[Optional[str], Tuple[str, ...]], None]  # options, then an attribute path
    if depth > 6:
        return None
    if isinstance(node, cst.Name) and depth < 4:
        b = ctx.binding(node.value, at=node)
        if b is not None and b.kind in ("assign", "annassign") and b.is_simple and b.value is not None:
            return _parse_option(b.value, ctx, prefix, owner, depth + 1)
        return None
    if not isinstance(node, cst.Call):
        return None
    name = N.call_name(node)
    recv = N.receiver(node)
    chained = recv is not None and isinstance(recv, cst.Call) and _is_option_chain(recv)
    out: List[Option] = []
    if chained:
        inner = _parse_option(recv, ctx, prefix, owner, depth + 1)
        if inner is None:
            return None
        out.extend(inner)
        # the chain continues from the deepest path of the receiver
        base_owner, base = _chain_end(cast(cst.Call, recv), prefix, owner)
    else:
        base_owner, base = owner, prefix
        if recv is not None and not _is_module_ref(recv, ctx):
            return None
    if name == "Load":
        return out  # Load(Order) alone: the root
    if name == "options":
        for a in node.args:
            got = _parse_option(a.value, ctx, base, base_owner, depth + 1)
            if got is None:
                return None
            out.extend(got)
        return out
    if name in COLUMN_OPTIONS:
        return out
    strategy = LOADER_STRATEGY.get(name or "")
    if strategy is None:
        return None
    path = base
    first_owner = base_owner
    positional = [a for a in node.args if a.keyword is None and not a.star]
    if not positional:
        return None
    for i, a in enumerate(positional):
        got = _attr_path(a.value)
        if got is None:
            # contains_eager(Order.customer, alias) / raiseload("*", sql_only=True)
            if i == 0:
                return None
            break
        o, parts = got
        if i == 0 and not base and o is not None:
            first_owner = o
        for p in parts:
            path = path + (p,)
            # every link of an old-style ``joinedload_all("a.b")`` / ``joinedload(A.b, B.c)`` gets the strategy
            out.append((first_owner, path, strategy))
    return out


def _is_option_chain(call: cst.Call) -> bool:
    name = N.call_name(call)
    return name in LOADER_STRATEGY or name in COLUMN_OPTIONS or name in ("Load", "options")


def _chain_end(call: cst.Call, prefix: Tuple[str, ...], owner: Optional[str]) -> Tuple[Optional[str], Tuple[str, ...]]:
    """Owner and path the chain ``call`` ends at (``joinedload(A.b).selectinload(B.c)`` → ("A", ("b", "c")))."""
    links = []
    cur: Optional[cst.Call] = call
    while isinstance(cur, cst.Call) and _is_option_chain(cur):
        links.append(cur)
        recv = N.receiver(cur)
        cur = recv if isinstance(recv, cst.Call) else None
    path = prefix
    first_owner = owner
    for link in reversed(links):
        name = N.call_name(link)
        if name == "Load":
            got = _attr_path(link.args[0].value) if link.args else None
            d = N.dotted(link.args[0].value) if link.args else None
            if d:
                first_owner = d.rsplit(".", 1)[-1]
            continue
        if name in COLUMN_OPTIONS or name == "options":
            continue
        positional = [a for a in link.args if a.keyword is None and not a.star]
        for i, a in enumerate(positional):
            got = _attr_path(a.value)
            if got is None:
                break
            o, parts = got
            if not path and o is not None and first_owner is None:
                first_owner = o
            path = path + parts
    return first_owner, path


def _is_module_ref(node, ctx: Context) -> bool:
    """``orm`` / ``sa.orm`` / ``db`` in ``orm.joinedload(...)``: a module or Flask-SQLAlchemy object, not data."""
    d = N.dotted(node)
    if d is None:
        return False
    q = ctx.qualify(node) or d
    return q.split(".")[0] in ("sqlalchemy", "flask_sqlalchemy") or d.split(".")[-1] in ("db", "orm", "sa", "sqlalchemy")


# ------------------------------------------------------------------------------------ values


@dataclass(frozen=True)
class Elem:
    """One item of a result: an entity, a tuple of items, or a plain column value."""

    kind: str  # "entity", "tuple", "column"
    entity: Optional[str] = None  # mapped class qualname
    path: Tuple[str, ...] = ()  # relationship path from the query's root entity
    loaders: Loaders = NO_LOADERS
    parts: Tuple["Elem", ...] = ()
    loop: Optional[Tuple[int, int]] = None  # (id(loop node), id(clause)) that makes it per item
    origin: Optional[cst.CSTNode] = None  # where the query was built (for messages)
    is_async: bool = False
    root_self: bool = False  # reached from ``self`` in a model method (loaders unknown)
    root: Optional[str] = None  # the query's root entity (``path`` starts there)
    fixed: Tuple[str, ...] = ()  # columns of the entity the query pins with ``==`` (``customer_id == 5``)
    origin_label: Optional[str] = None  # "the query in `get_users()`" when the rows come from a project function
    parent: Optional["Elem"] = field(default=None, compare=False, repr=False)  # the owner, for items of a collection


@dataclass(frozen=True)
class SAValue:
    kind: str  # "session", "stmt", "query", "dynamic", "writeonly", "result", "rows", "instance", "page", "column"
    elem: Optional[Elem] = None
    limited: bool = False
    is_async: bool = False
    origin: Optional[cst.CSTNode] = None
    relationship: Optional[Relationship] = None  # for "dynamic"/"writeonly" and relationship collections
    bulk: bool = False  # insert().values([...]) and friends
    aggregate: bool = False  # select(func.count(...)) without GROUP BY: one row


SESSION_FACTORIES = {"sessionmaker", "async_sessionmaker", "scoped_session", "async_scoped_session"}
SESSION_CLASSES = {"Session", "AsyncSession"}
SESSION_NAMES = {"session", "db_session", "dbsession", "sess", "db_sess", "orm_session", "async_session_obj", "dbs"}
NOT_DB_SESSION = ("http", "client", "request", "aio", "boto", "spark", "browser", "web", "tf", "ssh", "ftp", "cookie", "user_session", "login", "auth")
SESSION_RESULT_METHODS = {"execute": "result", "scalars": "scalars", "scalar": "scalar", "stream": "result", "stream_scalars": "scalars", "get": "get", "get_one": "get", "merge": "merge"}

QUERY_CHAIN = {
    "filter", "filter_by", "where", "order_by", "join", "outerjoin", "join_from", "outerjoin_from", "group_by", "having",
    "distinct", "offset", "select_from", "execution_options", "enable_eagerloads", "with_for_update", "populate_existing",
    "yield_per", "correlate", "params", "reset_joinpoint", "autoflush", "with_parent", "union", "union_all", "order_by",
    "with_hint", "prefix_with", "suffix_with", "set_label_style", "filter_by", "with_session", "enable_assertions",
    "options", "limit", "slice", "fetch", "with_entities", "add_columns", "add_entity", "with_only_columns", "column",
}
QUERY_TERMINAL_ROWS = {"all"}
QUERY_TERMINAL_ONE = {"first", "one", "one_or_none", "scalar", "get", "first_or_404", "get_or_404", "one_or_404", "scalar_one", "scalar_one_or_none"}
QUERY_TERMINAL_OTHER = {"count", "delete", "update", "exists_query", "paginate", "insert"}
RESULT_SAME = {"unique", "partitions", "yield_per", "tuples", "freeze", "columns"}
RESULT_ROWS = {"all", "fetchall", "fetchmany"}
RESULT_ONE = {"first", "one", "one_or_none", "scalar_one", "scalar_one_or_none", "scalar", "fetchone"}


def _last(q: Optional[str]) -> str:
    return (q or "").rsplit(".", 1)[-1]


def uses_sqlalchemy(ctx: Context) -> bool:
    """The file imports SQLAlchemy/Flask-SQLAlchemy/SQLModel, or the project maps classes with it."""
    def compute() -> bool:
        for _local, full in ctx.facts.imports:
            if full.split(".")[0] in ("sqlalchemy", "flask_sqlalchemy", "sqlmodel"):
                return True
        return bool(mappings(ctx.index).classes)

    return ctx.memo(("sa-uses",), compute)


def mapped_entity(node, ctx: Context) -> Optional[str]:
    """Qualname of the mapped class ``node`` names (``Order``, ``models.Order``, ``aliased(Order)``)."""
    if isinstance(node, cst.Call) and N.call_name(node) == "aliased" and node.args:
        return mapped_entity(node.args[0].value, ctx)
    d = N.dotted(node)
    if d is None:
        return None
    m = mappings(ctx.index)
    if not m.classes:
        return None
    if d in ("self.Meta.model", "cls.Meta.model"):
        return _meta_model(ctx)
    head = d.split(".")[0]
    b = ctx.binding(head, at=node) if isinstance(node, (cst.Name, cst.Attribute)) else None
    if b is not None and b.kind not in ("import", "class", "def"):
        if b.kind == "assign" and b.is_simple and isinstance(b.value, cst.Call) and N.call_name(b.value) == "aliased" and d == head:
            return mapped_entity(b.value, ctx)
        return None
    q = ctx.qualify(node) or d
    mc = m.resolve(q, ctx.module)
    return mc.qualname if mc is not None and _last(q) == mc.name else None


def _meta_model(ctx: Context) -> Optional[str]:
    """``self.Meta.model`` in a method of a class whose own ``class Meta`` names a mapped class
    (a project's data-access object: ``class PermissionDAO(DAOClass): class Meta: model =
    Permission``). A base's method reads whichever subclass's: not one class, not judged."""
    frame = ctx.class_frame
    cls = ctx.index.classes.get(frame.qualname) if frame is not None else None
    value = cls.meta_value("model") if cls is not None else None
    if value is None or value[0] != "name":
        return None
    mc = mappings(ctx.index).resolve(str(value[1]), cls.module if cls is not None else None)
    return mc.qualname if mc is not None else None


def _entity_elem(node, ctx: Context) -> Elem:
    ent = mapped_entity(node, ctx)
    if ent is not None:
        return Elem("entity", ent, root=ent)
    return Elem("column")


def _select_elem(args: Sequence[cst.Arg], ctx: Context, query_style: bool) -> Optional[Elem]:
    positional = [a.value for a in args if a.keyword is None and not a.star]
    if not positional or any(a.star for a in args):
        return None
    parts = tuple(_entity_elem(p, ctx) for p in positional)
    if query_style and len(parts) == 1 and parts[0].kind == "entity":
        return parts[0]
    return Elem("tuple", parts=parts)


def infer(expr: Optional[cst.CSTNode], ctx: Context, depth: int = 0) -> Optional[SAValue]:
    """What a SQLAlchemy expression is, memoised per node."""
    if expr is None or depth > 24:  # a paged, sorted, filtered statement built in steps runs ~15 deep
        return None
    return ctx.memo_guarded(("sa-infer", id(expr)), lambda: _infer(expr, ctx, depth))


def _infer(expr, ctx: Context, depth: int) -> Optional[SAValue]:
    if isinstance(expr, cst.Await):
        v = infer(expr.expression, ctx, depth + 1)
        if v is None:
            return None
        if v.elem is not None and v.kind in ("result", "rows", "instance"):
            return replace(v, is_async=True, elem=_mark_async(v.elem))
        return replace(v, is_async=True)
    if isinstance(expr, cst.Name):
        return _infer_name(expr, ctx, depth)
    if isinstance(expr, cst.Attribute):
        return _infer_attribute(expr, ctx, depth)
    if isinstance(expr, cst.Call):
        return _infer_call(expr, ctx, depth)
    if isinstance(expr, cst.Subscript):
        base = infer(expr.value, ctx, depth + 1)
        if base is not None and base.kind in ("rows",) and base.elem is not None:
            sl = expr.slice
            if len(sl) == 1 and isinstance(sl[0].slice, cst.Index):
                return SAValue("instance", base.elem, origin=base.origin)
            return base
        if base is not None and base.kind == "instance" and base.elem is not None and base.elem.kind == "tuple":
            sl = expr.slice
            if len(sl) == 1 and isinstance(sl[0].slice, cst.Index):
                idx = N.literal(sl[0].slice.value)
                if isinstance(idx, int) and -len(base.elem.parts) <= idx < len(base.elem.parts):
                    return SAValue("instance", base.elem.parts[idx], origin=base.origin)
    return None


def _per_item(elem: Optional[Elem], loop) -> Optional[Elem]:
    if elem is None:
        return None
    return replace(elem, loop=(id(loop.node), id(loop.clause)), parts=tuple(replace(p, loop=(id(loop.node), id(loop.clause))) for p in elem.parts))


def items_of(v: Optional[SAValue]) -> Optional[Elem]:
    """What one iteration over ``v`` yields."""
    if v is None:
        return None
    if v.kind in ("result", "rows", "query", "dynamic", "page"):
        return v.elem
    return None


def _unpack(elem: Optional[Elem], target, name: str) -> Optional[Elem]:
    if elem is None:
        return None
    if isinstance(target, cst.Name):
        return elem if target.value == name else None
    if isinstance(target, (cst.Tuple, cst.List)) and elem.kind == "tuple":
        els = target.elements
        if len(els) != len(elem.parts) or any(isinstance(e, cst.StarredElement) for e in els):
            return None
        for e, part in zip(els, elem.parts):
            got = _unpack(part, e.value, name)
            if got is not None:
                return got
    return None


def _infer_name(expr: cst.Name, ctx: Context, depth: int) -> Optional[SAValue]:
    name = expr.value
    loop = ctx.loop_binding(name)
    b = ctx.binding(name, at=expr)
    if loop is not None and loop.iter is not None and loop.target is not None:
        # the loop binding wins unless the name is reassigned inside the loop body before this use
        if b is None or b.kind in ("for", "comprehension") or not _inside(b.node, loop.node, ctx):
            elem = _unpack(items_of(infer(loop.iter, ctx, depth + 1)), loop.target, name)
            return SAValue("instance", _per_item(elem, loop)) if elem is not None else None
    if b is None:
        if name == "self":
            return _self_value(ctx)
        return None
    if b.kind in ("assign", "annassign", "walrus") and b.value is not None:
        if not b.is_simple:
            if b.kind == "assign" and isinstance(b.target, (cst.Tuple, cst.List)):
                v = infer(b.value, ctx, depth + 1)
                if v is not None and v.kind == "instance":
                    elem = _unpack(v.elem, b.target, name)
                    return replace(v, elem=elem) if elem is not None else None
            return None
        value = infer(b.value, ctx, depth + 1)
        return _unpinned_if_conditional(value, b, expr, ctx, depth)
    if b.kind == "with" and b.value is not None and b.is_simple:
        return infer(b.value, ctx, depth + 1)
    if b.kind == "for" and b.value is not None and isinstance(b.node, cst.For):
        elem = _unpack(items_of(infer(b.value, ctx, depth + 1)), b.node.target, name)
        return SAValue("instance", elem) if elem is not None else None
    if b.kind == "param":
        if name == "self":
            return _self_value(ctx)
        return _param_value(b.node, ctx)
    return None


def _unpinned_if_conditional(value: Optional[SAValue], b, use: cst.Name, ctx: Context, depth: int) -> Optional[SAValue]:
    """``if obj_id: stmt = stmt.where(Sub.obj_id == obj_id)``: a filter applied only on one path
    pins nothing on the other, so the statement keeps the pins it had before the ``if`` (loader
    options added there still count: the path that reads the relation usually adds them)."""
    if value is None or value.elem is None or not _pins(value.elem):
        return value
    use_ancestors = {id(a) for a in ctx.ancestors(use)}
    branch = None
    for anc in ctx.ancestors(b.node):
        if isinstance(anc, (cst.FunctionDef, cst.Module)):
            break
        if isinstance(anc, cst.If) and id(anc) not in use_ancestors:
            branch = anc
    if branch is None:
        return value
    before = ctx.binding(use.value, at=branch)  # the outermost such ``if``: what held before it
    prev = infer(before.value, ctx, depth + 1) if before is not None and before.kind == "assign" and before.value is not None else None
    return replace(value, elem=_pinned_like(value.elem, prev.elem if prev is not None else None))


def _pins(e: "Elem") -> bool:
    return bool(e.fixed) or any(_pins(p) for p in e.parts)


def _pinned_like(e: "Elem", before: Optional["Elem"]) -> "Elem":
    """``e`` with the pins ``before`` had (none when it had none or a different shape)."""
    if e.kind == "tuple":
        olds = before.parts if before is not None and before.kind == "tuple" and len(before.parts) == len(e.parts) else (None,) * len(e.parts)
        return replace(e, parts=tuple(_pinned_like(p, o) for p, o in zip(e.parts, olds)))
    same = before is not None and before.kind == e.kind and before.entity == e.entity
    return replace(e, fixed=before.fixed if same and before is not None else ())


def _inside(node, container, ctx: Context) -> bool:
    for anc in ctx.ancestors(node):
        if anc is container:
            return True
    return False


def _self_value(ctx: Context) -> Optional[SAValue]:
    cls = ctx.class_frame
    if cls is None:
        return None
    if mappings(ctx.index).get(cls.qualname) is None:
        return None
    return SAValue("instance", Elem("entity", cls.qualname, loaders=Loaders(opaque=True), root_self=True, root=cls.qualname))


def _self_attr_session(attr: str, ctx: Context) -> Optional[SAValue]:
    """``self.<attr>`` set once from a session parameter (annotated or named like one) or annotated as a session."""
    from querylint.project.callees import self_attr_source

    got = self_attr_source(attr, ctx)
    if got is None:
        return None
    value, params, annotation = got
    if isinstance(value, cst.Name) and value.value in params:
        v = _param_value(params[value.value], ctx)
    elif annotation is not None:
        v = _param_value(cst.Param(cst.Name("_"), annotation=annotation), ctx)
    else:
        v = None
    return v if v is not None and v.kind == "session" else None


def _param_value(param, ctx: Context) -> Optional[SAValue]:
    if not isinstance(param, cst.Param):
        return None
    ann = param.annotation.annotation if param.annotation is not None else None
    if ann is not None:
        q = ctx.qualify(ann) or N.dotted(ann) or ""
        if isinstance(ann, cst.Subscript):
            q = ctx.qualify(ann.value) or ""
            if _last(q) in ("scoped_session", "async_scoped_session"):
                return SAValue("session", is_async=_last(q).startswith("async"))
            return None
        if _last(q) in SESSION_CLASSES | {"scoped_session", "async_scoped_session"} and (q.startswith(("sqlalchemy", "sqlmodel")) or "." not in q):
            return SAValue("session", is_async=_last(q).startswith("Async") or _last(q).startswith("async"))
        return None
    n = param.name.value.lstrip("_").lower()
    if _session_name(n) and uses_sqlalchemy(ctx):
        return SAValue("session")
    return None


def _session_name(n: str) -> bool:
    if n in SESSION_NAMES:
        return True
    if n.endswith("_session") and not any(w in n for w in NOT_DB_SESSION):
        return n.split("_")[0] in ("db", "sql", "orm", "read", "write", "sa", "pg", "main", "replica", "async", "new", "local")
    return False


def is_fsa_db(node, ctx: Context) -> bool:
    """``db`` in ``db.session`` / ``db.select``: a Flask-SQLAlchemy object (by assignment or by name)."""
    d = N.dotted(node)
    if d is None:
        return False
    q = ctx.qualify(node) or d
    for f in ctx.index.files.values():
        pass
    if d in ("db", "database") or d.endswith(".db"):
        return uses_sqlalchemy(ctx)
    mod, _, var = q.rpartition(".")
    facts = ctx.index.modules.get(mod)
    if facts is not None:
        for n, call in facts.module_calls:
            if n == var and _last(call.func) == "SQLAlchemy":
                return True
    return False


def _infer_attribute(expr: cst.Attribute, ctx: Context, depth: int) -> Optional[SAValue]:
    attr = expr.attr.value
    if attr == "session":
        if is_fsa_db(expr.value, ctx):
            return SAValue("session")
        if isinstance(expr.value, cst.Name) and expr.value.value in ("self", "cls") and uses_sqlalchemy(ctx):
            return SAValue("session")
    if isinstance(expr.value, cst.Name) and expr.value.value in ("self", "cls") and _session_name(attr.lstrip("_").lower()) and uses_sqlalchemy(ctx):
        return SAValue("session")
    if isinstance(expr.value, cst.Name) and expr.value.value == "self" and uses_sqlalchemy(ctx):
        got = _self_attr_session(attr, ctx)  # ``self._s = session`` with ``session: Session``
        if got is not None:
            return got
    if attr == "query":
        ent = mapped_entity(expr.value, ctx)
        if ent is not None:
            return SAValue("query", Elem("entity", ent, origin=expr, root=ent), origin=expr)
    if attr == "items":
        base = infer(expr.value, ctx, depth + 1)
        if base is not None and base.kind == "page":
            return SAValue("rows", base.elem, origin=base.origin)
        return None
    if attr == "awaitable_attrs":
        return infer(expr.value, ctx, depth + 1)
    base = infer(expr.value, ctx, depth + 1)
    if base is not None and base.kind == "instance" and base.elem is not None and base.elem.kind == "tuple":
        # row.User on a Row of select(User, Address)
        hits = [p for p in base.elem.parts if p.kind == "entity" and _last(p.entity) == attr]
        return SAValue("instance", hits[0], origin=base.origin) if len(hits) == 1 else None
    if base is None or base.kind != "instance" or base.elem is None or base.elem.kind != "entity":
        return None
    return relationship_value(base.elem, attr, ctx)


def relationship_value(elem: Elem, attr: str, ctx: Context) -> Optional[SAValue]:
    rel = mappings(ctx.index).relationship(elem.entity, attr)
    if rel is None:
        return None
    path = elem.path + (attr,)
    if rel.collection is False and elem.parent is not None and elem.path:
        # ``o.customer`` for ``o`` in ``customer.orders``: the parent object itself (identity map)
        back = mappings(ctx.index).relationship(elem.parent.entity, elem.path[-1])
        if back is not None and back.collection and rel.target == elem.parent.entity and (
            back.back_populates == attr or rel.back_populates == back.name
        ):
            return SAValue("instance", elem.parent, relationship=rel, origin=elem.origin)
    child = replace(elem, entity=rel.target, path=path, parts=(), fixed=(), parent=elem if rel.collection else None) if rel.target else None
    if rel.lazy == "dynamic":
        return SAValue("dynamic", child, relationship=rel, origin=elem.origin)
    if rel.lazy == "write_only":
        return SAValue("writeonly", child, relationship=rel, origin=elem.origin)
    if rel.collection:
        return SAValue("rows", child, relationship=rel, origin=elem.origin)
    if rel.collection is False and child is not None:
        return SAValue("instance", child, relationship=rel, origin=elem.origin)
    return None


_SELECT_FUNCS = ("select", "insert", "update", "delete", "text", "union", "union_all")


def _is_select_func(func, ctx: Context) -> Optional[str]:
    last_name = func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else None
    if last_name not in _SELECT_FUNCS:
        return None
    q = ctx.qualify(func) or N.dotted(func) or ""
    last = _last(q)
    if last not in ("select", "insert", "update", "delete", "text", "union", "union_all"):
        return None
    if q.startswith("sqlalchemy") or q.startswith("sqlmodel"):
        return last
    if isinstance(func, cst.Attribute) and is_fsa_db(func.value, ctx):
        return last
    return None


_ON_MODULES_TOO = ("query", "get", "execute", "scalars", "scalar", "exec", "get_one")


def _infer_call(call: cst.Call, ctx: Context, depth: int) -> Optional[SAValue]:
    name = N.call_name(call)
    if name is None:
        return None
    recv = N.receiver(call)
    kind = _is_select_func(call.func, ctx)
    if kind is not None:
        return _statement_constructor(call, kind, ctx)
    passed = refined_argument(call, ctx, _REFINING) if name not in QUERY_CHAIN else None
    if passed is not None:
        return infer(passed, ctx, depth + 1)  # ``query = self._narrow(session, query)``: the same query
    if recv is None or _is_module_ref(recv, ctx) and name not in _ON_MODULES_TOO:
        got = _infer_function_call(call, name, recv, ctx, depth)
        if got is not None or recv is None:
            return got
    if name in ("begin", "begin_nested") and _is_session_factory(recv, ctx):
        return SAValue("session")
    built = _class_chain_call(call, name, recv, ctx)
    if built is not None:
        return built
    base = infer(recv, ctx, depth + 1)
    if base is None and name in _UNTYPED_SESSION_METHODS and isinstance(recv, (cst.Name, cst.Attribute)) and uses_sqlalchemy(ctx):
        base = _untyped_session(call, name, ctx, depth)
    if base is None:
        return returned_rows(call, ctx) if isinstance(recv, (cst.Name, cst.Attribute)) else None
    k = base.kind
    if k == "session":
        return _session_method(call, name, ctx, depth)
    if k in ("stmt", "query", "dynamic"):
        return _statement_method(call, name, base, ctx)
    if k == "result":
        return _result_method(name, base)
    return None


# query methods that change what the rows load or hold: a class method using them is not followed
_RESHAPING = {"options", "join", "outerjoin", "join_from", "outerjoin_from", "with_entities", "add_columns", "add_entity", "with_only_columns", "column", "select_from", "union", "union_all"}
# what a helper may do to a query it is given and hands back, and it is still the same query
# loading the same relations (a join filters; it loads nothing unless ``contains_eager`` says so)
_REFINING = QUERY_CHAIN - {"options", "with_entities", "add_columns", "add_entity", "with_only_columns", "column", "select_from", "union", "union_all", "fetch"}


def _class_chain_call(call: cst.Call, name: str, recv, ctx: Context) -> Optional[SAValue]:
    """``Query.search(term)`` where ``search`` is a class method of the mapped class whose every
    return is ``cls.query.filter(...)...`` (Flask-SQLAlchemy): a query of that class (``.all()`` at
    the end: its rows), loading nothing beyond it. Chains that add loader options, joins or
    columns are not followed (what they load is theirs to say)."""
    if recv is None or not isinstance(recv, (cst.Name, cst.Attribute)):
        return None
    ent = mapped_entity(recv, ctx)
    if ent is None:
        return None
    fn = ctx.index.find_method(ent, name)
    if fn is None and name == "select":
        # ``Obj.select(user)``: a ``select`` class method the mapped class inherits from a base
        # outside the project (skyportal's baselayer: ``select(cls)`` with access checks)
        elem = Elem("entity", ent, root=ent, origin=call, origin_label=f"`{_last(ent)}.select()`")
        return SAValue("stmt", elem, origin=call)
    if fn is None or not any(d.rsplit(".", 1)[-1] == "classmethod" for d in fn.decorators):
        return None
    chain = fn.class_chain_returns
    if not chain or chain[0] != "query" or any(c in _RESHAPING for c in chain):
        return None
    rest = chain[1:]
    terminal = [c for c in rest if c not in QUERY_CHAIN]
    if terminal and terminal != ["all"]:
        return None
    elem = Elem("entity", ent, root=ent, origin=call, origin_label=f"the query in `{_last(ent)}.{fn.name}()`")
    return SAValue("rows" if terminal else "query", elem, origin=call)


def _statement_constructor(call: cst.Call, kind: str, ctx: Context) -> Optional[SAValue]:
    """``select(...)``, ``insert(...)``, ``text(...)`` ... (``kind`` from :func:`_is_select_func`)."""
    if kind == "select":
        elem = _select_elem(call.args, ctx, query_style=False)
        return SAValue("stmt", _with_origin(elem, call), origin=call, aggregate=_has_aggregate(call, ctx))
    if kind in ("insert", "update", "delete", "text", "union", "union_all"):
        return SAValue("stmt", None, origin=call, bulk=False, relationship=None, limited=kind in ("insert", "update", "delete"))
    return None


def _infer_function_call(call: cst.Call, name: str, recv, ctx: Context, depth: int) -> Optional[SAValue]:
    """A plain function or a module's function: session constructors, ``list(rows)``, ``zip(...)``,
    ``SessionLocal()``, a helper that returns rows. None when nothing is known (the caller goes on
    with a module receiver, gives up without one)."""
    func = call.func
    q = ctx.qualify(func) or name
    if name in SESSION_CLASSES and (q.startswith(("sqlalchemy", "sqlmodel")) or name == q):
        return SAValue("session", is_async=name == "AsyncSession")
    if name in ("scoped_session", "async_scoped_session") and q.startswith("sqlalchemy"):
        return SAValue("session", is_async=name.startswith("async"))  # the registry proxies a session
    if name in ("object_session",) or q.endswith("Session.object_session") or name == "async_object_session":
        return SAValue("session")
    if recv is None and call.args and name in _ITERATING_BUILTINS:
        return _iterating_builtin(call, name, ctx, depth)
    if name == "paginate" and recv is not None and call.args:
        inner = infer(call.args[0].value, ctx, depth + 1)
        if inner is not None and inner.kind == "stmt":
            return SAValue("page", _first_part(inner.elem), origin=inner.origin)
    if recv is not None:
        return SAValue("session") if _is_session_factory(func, ctx) else None
    # SessionLocal() where SessionLocal = sessionmaker(...)
    if _is_session_factory(func, ctx):
        return SAValue("session")
    got = returned_rows(call, ctx)
    if got is not None:
        return got
    if isinstance(func, cst.Call) and _last(ctx.qualify(func.func) or N.call_name(func) or "") in SESSION_FACTORIES:
        return SAValue("session")
    return None


_ITERATING_BUILTINS = ("list", "sorted", "tuple", "reversed", "iter", "set", "enumerate", "zip")


def _iterating_builtin(call: cst.Call, name: str, ctx: Context, depth: int) -> Optional[SAValue]:
    """``list(rows)``, ``enumerate(rows)``, ``zip(rows, other)``: rows of the same items (or tuples)."""
    if name == "zip":
        parts = []
        for a in call.args:
            inner = infer(a.value, ctx, depth + 1)
            parts.append(inner.elem if inner is not None and inner.kind in ("result", "rows", "query") and inner.elem is not None else Elem("column"))
        if any(p.kind != "column" for p in parts):
            return SAValue("rows", Elem("tuple", parts=tuple(parts)))
        return None
    inner = infer(call.args[0].value, ctx, depth + 1)
    if name == "enumerate":
        if inner is not None and inner.kind in ("result", "rows", "query") and inner.elem is not None:
            return SAValue("rows", Elem("tuple", parts=(Elem("column"), inner.elem)), origin=inner.origin)
        return None
    if inner is not None and inner.kind in ("result", "rows", "query", "dynamic"):
        return SAValue("rows", inner.elem, origin=inner.origin, relationship=inner.relationship)
    return None


# methods that make an object of unknown type a session when it runs a statement of mapped classes
# (``session.scalars(select(User))`` where ``session`` comes from a framework's ``self.Session()``)
_UNTYPED_SESSION_METHODS = ("query", "exec", "scalars", "scalar", "execute", "stream", "stream_scalars")


def _untyped_session(call: cst.Call, name: str, ctx: Context, depth: int) -> Optional[SAValue]:
    """``db.query(User)`` on an object of unknown type: a session when it queries mapped classes."""
    if name == "query":
        elem = _select_elem(call.args, ctx, query_style=True)
        if elem is not None and (elem.kind == "entity" or any(p.kind == "entity" for p in elem.parts)):
            return SAValue("session")
        return None
    stmt = infer(N.arg(call, 0), ctx, depth + 1)
    if stmt is not None and stmt.kind == "stmt" and stmt.elem is not None:
        return SAValue("session")
    return None


def _session_method(call: cst.Call, name: str, ctx: Context, depth: int) -> Optional[SAValue]:
    """``session.query(...)``, ``.get(...)``, ``.execute(...)``, ``.scalars(...)`` ..."""
    if name == "query":
        elem = _select_elem(call.args, ctx, query_style=True)
        if elem is None:
            return None
        return SAValue("query", _with_origin(elem, call), origin=call, aggregate=_has_aggregate(call, ctx))
    if name in ("get", "get_one"):
        return _session_get(call, ctx)
    if name not in ("execute", "stream", "exec", "scalars", "stream_scalars", "scalar"):
        return None  # merge and the rest
    stmt = infer(N.arg(call, 0), ctx, depth + 1)
    elem = stmt.elem if stmt is not None and stmt.kind == "stmt" else None
    if name == "scalar":
        return SAValue("instance", _first_part(elem), origin=call, limited=True)
    if name in ("scalars", "stream_scalars"):
        elem = _first_part(elem)
    elif name == "exec" and elem is not None and elem.kind == "tuple" and len(elem.parts) == 1:
        elem = elem.parts[0]
    return SAValue("result", elem, origin=call, limited=bool(stmt and stmt.limited), aggregate=bool(stmt and stmt.aggregate))


def _session_get(call: cst.Call, ctx: Context) -> Optional[SAValue]:
    """``session.get(User, pk, options=[...])``: one instance with those loader options."""
    ent = mapped_entity(N.arg(call, 0), ctx) if call.args else None
    if ent is None:
        return None
    opts = N.arg(call, keyword="options")
    loaders = NO_LOADERS
    if opts is not None:
        parsed = _expand_sequence(opts, ctx, 0)
        if parsed is None:
            loaders = Loaders(opaque=True)
        else:
            got, opaque = parse_options([cst.Arg(v) for v in parsed], ctx)
            loaders = Loaders(tuple(got), opaque)
    return SAValue("instance", Elem("entity", ent, loaders=loaders, origin=call, root=ent), origin=call)


def _statement_method(call: cst.Call, name: str, base: SAValue, ctx: Context) -> Optional[SAValue]:
    """A method of a statement, a legacy ``Query`` or a dynamic relationship: chained builders keep
    what it is, terminals give rows or one instance."""
    k = base.kind
    if name == "options":
        opts, opaque = parse_options(call.args, ctx)
        elem = base.elem
        if elem is not None:
            elem = _with_loaders(elem, opts, opaque)
        return replace(base, elem=elem)
    if name in ("with_entities", "with_only_columns", "add_columns", "column", "values") or name == "add_entity":
        return _change_columns(call, name, base, ctx)
    if name in ("limit", "slice", "fetch"):
        return replace(base, limited=True)
    if name == "group_by":
        return replace(base, aggregate=False)
    if name in ("where", "filter", "filter_by") and base.elem is not None:
        return replace(base, elem=_pin(call, name, base.elem))
    if name in QUERY_CHAIN or name in ("returning", "execution_options", "filter_by"):
        return base
    if k == "stmt":
        if name in ("subquery", "scalar_subquery", "exists", "cte", "alias", "lateral"):
            return None
        return base if name not in ("compile",) else None
    # Query / AppenderQuery terminals
    if name in QUERY_TERMINAL_ROWS:
        return SAValue("rows", base.elem, origin=base.origin, relationship=base.relationship)
    if name in QUERY_TERMINAL_ONE:
        return SAValue("instance", base.elem, origin=base.origin, limited=True)
    if name == "paginate":
        return SAValue("page", base.elem, origin=base.origin)
    return None


def _change_columns(call: cst.Call, name: str, base: SAValue, ctx: Context) -> SAValue:
    """``.with_entities(...)``, ``.add_entity(...)``, ``.values(...)`` ...: what is selected changes."""
    k = base.kind
    if name == "values" and k == "stmt":
        arg0 = N.arg(call, 0)
        bulk = isinstance(arg0, (cst.List, cst.ListComp, cst.Name, cst.Tuple)) and not isinstance(arg0, cst.Dict)
        return replace(base, bulk=bulk or base.bulk)
    if name in ("with_entities", "with_only_columns"):
        elem = _select_elem(call.args, ctx, query_style=(k != "stmt"))
        return replace(base, elem=elem)
    if name == "add_entity" and base.elem is not None:
        parts = base.elem.parts if base.elem.kind == "tuple" else (base.elem,)
        return replace(base, elem=Elem("tuple", parts=parts + (_entity_elem(N.arg(call, 0), ctx),)))
    return replace(base, elem=Elem("column"))


def _pin(call: cst.Call, name: str, e: Elem) -> Elem:
    """``e`` with the columns that ``.where(...)`` / ``.filter_by(...)`` fix to one value."""
    if e.kind == "entity":
        got = _pinned_columns(call, e, name)
        return replace(e, fixed=e.fixed + got) if got else e
    if e.kind == "tuple" and (name != "filter_by" or len(e.parts) == 1):
        return replace(e, parts=tuple(_pin(call, name, p) for p in e.parts))
    return e


def _result_method(name: str, base: SAValue) -> Optional[SAValue]:
    """A method of a ``Result``: ``.scalars()``, ``.all()``, ``.first()`` ..."""
    if name == "scalars":
        return replace(base, elem=_first_part(base.elem))
    if name in RESULT_SAME:
        return base
    if name in RESULT_ROWS:
        return SAValue("rows", base.elem, origin=base.origin, limited=base.limited)
    if name in RESULT_ONE:
        elem = base.elem
        if name.startswith("scalar") and elem is not None:
            elem = _first_part(elem)
        return SAValue("instance", elem, origin=base.origin, limited=True)
    if name == "mappings":
        return replace(base, elem=Elem("column"))
    return None


def _pinned_columns(call: cst.Call, elem: Elem, name: str) -> Tuple[str, ...]:
    """Columns of ``elem``'s entity compared with ``==`` in ``.where(...)`` / ``.filter_by(col=...)``."""
    out = []
    if name == "filter_by":
        return tuple(a.keyword.value for a in call.args if a.keyword is not None)
    ent = _last(elem.entity)
    for a in call.args:
        cmp = a.value
        if _in_loaded_ids(cmp, ent):
            # ``Setting.event_id.in_(e.id for e in events)``: the parents are loaded already, so a
            # many-to-one through that key is answered from the session's identity map
            out.append(cast(cst.Attribute, cast(cst.Attribute, cast(cst.Call, cmp).func).value).attr.value)
            continue
        if not isinstance(cmp, cst.Comparison) or len(cmp.comparisons) != 1 or not isinstance(cmp.comparisons[0].operator, cst.Equal):
            continue
        left = cmp.left
        if isinstance(left, cst.Attribute) and N.dotted(left.value) and _last(N.dotted(left.value)) == ent:
            out.append(left.attr.value)
    return tuple(out)


def _in_loaded_ids(node: cst.BaseExpression, ent: str) -> bool:
    """``Entity.col.in_(x.id for x in objects)``: a column of ``ent`` matched against the ids of
    objects in hand (a comprehension over their ``.id``)."""
    if not (isinstance(node, cst.Call) and N.call_name(node) == "in_" and len(node.args) == 1 and isinstance(node.func, cst.Attribute)):
        return False
    col = node.func.value
    if not (isinstance(col, cst.Attribute) and N.dotted(col.value) and _last(N.dotted(col.value)) == ent):
        return False
    arg = node.args[0].value
    if not isinstance(arg, (cst.GeneratorExp, cst.ListComp, cst.SetComp)):
        return False
    elt, target = arg.elt, arg.for_in.target
    return (isinstance(elt, cst.Attribute) and elt.attr.value == "id" and isinstance(elt.value, cst.Name)
            and isinstance(target, cst.Name) and elt.value.value == target.value)


def _mark_async(elem: Elem) -> Elem:
    return replace(elem, is_async=True, parts=tuple(replace(p, is_async=True) for p in elem.parts))


def _with_origin(elem: Optional[Elem], origin) -> Optional[Elem]:
    if elem is None:
        return None
    return replace(elem, origin=origin, parts=tuple(replace(p, origin=origin) for p in elem.parts))


_AGGREGATES = {"count", "sum", "max", "min", "avg", "total", "group_concat", "string_agg", "array_agg", "bool_and", "bool_or", "every"}


def _has_aggregate(call: cst.Call, ctx: Context) -> bool:
    """``select(func.count(...))`` / ``query(func.sum(...))``: an aggregate column (one row without GROUP BY)."""
    for a in call.args:
        v = a.value
        while isinstance(v, cst.Call) and isinstance(v.func, cst.Attribute) and v.func.attr.value in ("label", "scalar_subquery", "cast", "filter"):
            v = v.func.value
        if isinstance(v, cst.Call):
            d = N.dotted(v.func) or ""
            if d.startswith(("func.", "sa.func.", "sqlalchemy.func.", "db.func.")) and d.rsplit(".", 1)[-1].lower() in _AGGREGATES:
                return True
    return False


def _first_part(elem: Optional[Elem]) -> Optional[Elem]:
    if elem is None:
        return None
    if elem.kind == "tuple":
        return elem.parts[0] if elem.parts else None
    return elem


def _with_loaders(elem: Elem, opts: Sequence[Option], opaque: bool) -> Elem:
    if elem.kind == "entity":
        name = _last(elem.entity)
        mine = [o for o in opts if o[0] in (None, name)]
        return replace(elem, loaders=elem.loaders.add(mine, opaque))
    if elem.kind == "tuple":
        return replace(elem, parts=tuple(_with_loaders(p, opts, opaque) for p in elem.parts))
    return elem


def _is_session_factory(func, ctx: Context) -> bool:
    """``SessionLocal`` / ``async_session`` assigned ``sessionmaker(...)`` / ``scoped_session(...)`` somewhere in the project."""
    d = N.dotted(func)
    if d is None:
        return False
    low = d.rsplit(".", 1)[-1].lower()
    if "sess" not in low and not low.endswith(("local", "maker", "factory", "scope")):
        return False  # factories are named for what they make (SessionLocal, async_session, session_factory)

    def compute():
        q = ctx.qualify(func) or d
        head = d.split(".")[0]
        b = ctx.binding(head, at=func) if isinstance(func, (cst.Name, cst.Attribute)) else None
        if b is not None and b.kind in ("assign", "annassign") and b.is_simple and isinstance(b.value, cst.Call) and d == head:
            inner = ctx.qualify(b.value.func) or N.call_name(b.value) or ""
            return _last(inner) in SESSION_FACTORIES
        mod, _, var = q.rpartition(".")
        facts = ctx.index.modules.get(mod) if mod else ctx.facts
        if facts is None and not mod:
            facts = ctx.facts
        if facts is not None:
            for n, call in facts.module_calls:
                if n == (var or q) and _last(call.func) in SESSION_FACTORIES:
                    return True
        return False

    return ctx.memo(("sa-factory", id(func)), compute)


def is_session(expr, ctx: Context) -> bool:
    v = infer(expr, ctx)
    return v is not None and v.kind == "session"


# ------------------------------------------------------------------ rows returned by project functions

import re as _re

_RETURNING_CALLS = QUERY_TERMINAL_ROWS | QUERY_TERMINAL_ONE | RESULT_ROWS | RESULT_ONE | RESULT_SAME | {"scalars", "get", "get_one", "list", "execute"}
_RETURNS_RE = _re.compile(r"\(returns (rows|one) of ([\w.]+)(?: \[([^\]]*)\])?\)")


def describe_returned_rows(call: cst.Call, ctx: Context) -> Optional[str]:
    """``... (returns rows of pkg.User [orders=selectin])`` for a returned, executed query, else None."""
    if N.call_name(call) not in _RETURNING_CALLS:
        return None
    v = infer(call, ctx)
    if v is None or v.kind not in ("rows", "result", "instance") or v.elem is None or v.elem.kind != "entity":
        return None
    if v.elem.loop is not None or v.elem.path or v.elem.root_self:
        return None
    loaders = "?" if v.elem.loaders.opaque else ";".join(f"{'.'.join(p)}={st}" for _o, p, st in v.elem.loaders.options)
    what = "one" if v.kind == "instance" else "rows"
    return f"{N.short(call, 50)} (returns {what} of {v.elem.entity}{f' [{loaders}]' if loaders else ''})"


def returned_rows(call: cst.Call, ctx: Context) -> Optional[SAValue]:
    """What a call to a project function returns, from its index description."""
    from querylint.project.callees import resolve_callee

    d = N.dotted(call.func)
    if d is None:
        return None
    b = ctx.binding(d.split(".")[0], at=call) if d.split(".")[0] not in ("self", "cls") else None
    if d.split(".")[0] in ("self", "cls") or (b is not None and b.kind not in ("import", "def", "class")):
        # ``self._teams()``, ``self.repo.all()``, ``repo.all()`` with ``repo: TeamRepository``
        qual = resolve_callee(call, ctx)
        fn = ctx.index.functions.get(qual) if qual else None
    else:
        q = ctx.qualify(call.func)
        fn = ctx.index.resolve_function(q, ctx.function_facts()) if q else None
    if fn is None:
        return None
    for desc in ctx.index.direct_queries.get(fn.qualname, ()):
        m = _RETURNS_RE.search(desc)
        if m is None:
            continue
        kind, entity, raw = m.groups()
        raw = raw or ""
        if mappings(ctx.index).get(entity) is None:
            return None
        if raw == "?":
            loaders = Loaders(opaque=True)
        else:
            opts = []
            for part in raw.split(";"):
                if "=" in part:
                    path, st = part.split("=", 1)
                    opts.append((None, tuple(path.split(".")), st))
            loaders = Loaders(tuple(opts))
        elem = Elem("entity", entity, loaders=loaders, root=entity, origin=call, origin_label=f"the query in `{fn.name}()`")
        return SAValue("instance" if kind == "one" else "rows", elem, origin=call)
    return _returned_query(call, fn, ctx)


def _returned_query(call: cst.Call, fn, ctx: Context) -> Optional[SAValue]:
    """``self.query()`` where ``query`` builds ``self.session.query(Vote)`` (refined with
    ``filter``/``order_by``) and hands it back unrun: a query of ``Vote`` loading nothing beyond
    it. Chains that add options, joins or columns are not followed."""
    if not fn.returned_query or any(m in _RESHAPING or m not in QUERY_CHAIN for m in fn.returned_query[1:]):
        return None
    mapped = mappings(ctx.index).resolve(fn.returned_query[0], fn.module)
    if mapped is None:
        return None
    ent = mapped.qualname
    elem = Elem("entity", ent, root=ent, origin=call, origin_label=f"the query `{fn.name}()` builds")
    return SAValue("query", elem, origin=call)


# ------------------------------------------------------------------ same-module helpers
