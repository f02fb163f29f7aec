"""peewee models from the project index, and what a peewee expression is.

Models: classes whose ancestors reach ``peewee.Model`` (or a ``playhouse`` model base, or a
``FlaskDB().Model`` / flask-peewee ``Database(app).Model``). Foreign keys: ``ForeignKeyField(Target, backref="name")`` /
``DeferredForeignKey("Target")`` (the reverse accessor defaults to ``<model>_set``);
``ManyToManyField`` accessors are queries on both sides.

Values: a ``Model.select()`` chain is a query (run when iterated or ended by ``.get()`` /
``.first()`` / ``.count()`` ...), ``prefetch(query, Sub)`` is rows with their backrefs already
loaded, iteration items are instances of the root model; joins (``.join(User)``,
``select(Tweet, User)``), ``.with_related(...)`` and ``prefetch`` record which related models
are already loaded.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Dict, FrozenSet, Optional, Set, Tuple, cast

import libcst as cst

from querylint import nodes as N
from querylint.context import Context
from querylint.project.facts import CallSummary
from querylint.project.index import ProjectIndex


@dataclass(frozen=True)
class ForeignKey:
    owner: str  # model holding the field
    name: str  # attribute (``user``); ``user_id`` reads the raw value without a query
    target: Optional[str]  # related model qualname
    backref: Optional[str]  # reverse accessor on the target (None for "+")
    many_to_many: bool = False


@dataclass
class PeeweeModel:
    qualname: str
    name: str
    module: str
    fks: Dict[str, ForeignKey] = field(default_factory=dict)
    backrefs: Dict[str, ForeignKey] = field(default_factory=dict)  # reverse accessor -> the FK it reverses


class PeeweeModels:
    def __init__(self, index: ProjectIndex):
        self.index = index
        self.models: Dict[str, PeeweeModel] = {}

    def resolve(self, dotted: Optional[str], module: Optional[str] = None) -> Optional[PeeweeModel]:
        if not dotted:
            return None
        hit = self.models.get(dotted)
        if hit is not None:
            return hit
        cls = self.index.resolve_class(dotted, module)
        return self.models.get(cls.qualname) if cls is not None else None

    def _mro(self, qualname: str):
        cls = self.index.classes.get(qualname)
        return [c.qualname for c in self.index.mro_classes(cls)] if cls is not None else [qualname]

    def fk(self, model: Optional[str], name: str) -> Optional[ForeignKey]:
        for q in self._mro(model) if model else ():
            m = self.models.get(q)
            if m is not None and name in m.fks:
                return m.fks[name]
        return None

    def backref(self, model: Optional[str], name: str) -> Optional[ForeignKey]:
        for q in self._mro(model) if model else ():
            m = self.models.get(q)
            if m is not None and name in m.backrefs:
                return m.backrefs[name]
        return None


def _last(q: Optional[str]) -> str:
    return (q or "").rsplit(".", 1)[-1]


def peewee_models(index: ProjectIndex) -> PeeweeModels:
    return index.derived("peewee.models", _compute)


def _flask_peewee_database(func: str) -> bool:
    """flask-peewee's ``Database(app)`` (``flask_peewee.db`` / ``flask.ext.peewee.db``): its
    ``.Model`` is a peewee model base, like playhouse's ``FlaskDB().Model``."""
    return func.endswith(".Database") and ("flask_peewee" in func or "flask.ext.peewee" in func)


def _compute(index: ProjectIndex) -> PeeweeModels:
    pm = PeeweeModels(index)
    flaskdb: Set[str] = set()
    call: Optional[CallSummary]
    for f in index.files.values():
        for name, call in f.module_calls:
            if _last(call.func) == "FlaskDB" or _flask_peewee_database(call.func):
                flaskdb.add(f"{f.module}.{name}")
    memo: Dict[str, bool] = {}

    def looks_peewee(cls) -> bool:
        """``class BaseModel(Model)`` after ``from peewee import *``: a Meta.database or peewee fields."""
        if cls.meta_value("database") is not None:
            return True
        return any(a.call is not None and _last(a.call.func) in PEEWEE_FIELDS for a in cls.attrs)

    def is_model(cls, depth=0) -> bool:
        if cls.qualname in memo:
            return memo[cls.qualname]
        memo[cls.qualname] = False
        ok = False
        for base in cls.bases:
            root = base.split(".")[0]
            if root in ("peewee", "playhouse") and _last(base) in ("Model", "SignalModel", "BaseModel"):
                ok = True
            elif base == "Model" and index.resolve_class(base, cls.module) is None and looks_peewee(cls):
                ok = True
            elif base.endswith(".Model") and (base[: -len(".Model")] in flaskdb or f"{cls.module}.{base[: -len('.Model')]}" in flaskdb):
                ok = True
            elif depth < 12:
                parent = index.resolve_class(base, cls.module)
                if parent is not None and parent.qualname != cls.qualname and is_model(parent, depth + 1):
                    ok = True
            if ok:
                break
        memo[cls.qualname] = ok
        return ok

    for cls in index.classes.values():
        if is_model(cls):
            pm.models[cls.qualname] = PeeweeModel(cls.qualname, cls.name, cls.module)
    for q, model in pm.models.items():
        cls = index.classes[q]
        for attr in cls.attrs:
            call = attr.call
            if call is None:
                continue
            last = _last(call.func)
            if last not in ("ForeignKeyField", "DeferredForeignKey", "ManyToManyField"):
                continue
            target_v = call.args[0] if call.args else call.kwarg("model") or call.kwarg("rel_model")
            target = None
            if target_v is not None and target_v[0] in ("str", "name"):
                if target_v[1] == "self":
                    target = q
                else:
                    t = pm.resolve(str(target_v[1]), cls.module)
                    target = t.qualname if t is not None else None
            br = call.kwarg("backref") or call.kwarg("related_name")  # peewee 2's name for it
            if br is not None and br[0] == "str":
                backref = None if str(br[1]).startswith("+") else str(br[1])
            else:
                backref = f"{cls.name.lower()}_set" if last != "ManyToManyField" else None
            fk = ForeignKey(q, attr.name, target, backref, many_to_many=last == "ManyToManyField")
            model.fks[attr.name] = fk
    for model in list(pm.models.values()):
        for fk in model.fks.values():
            if fk.backref and fk.target in pm.models:
                pm.models[fk.target].backrefs.setdefault(fk.backref, fk)
    return pm


# ------------------------------------------------------------------------------------ inference


@dataclass(frozen=True)
class PwValue:
    kind: str  # "query" (ModelSelect), "rows" (executed / prefetched), "instance", "column", "write" (update/delete/insert query)
    model: Optional[str] = None  # the row model
    loaded: FrozenSet[str] = frozenset()  # related models joined/selected/prefetched (qualnames), "*" = unknown/all
    loop: Optional[Tuple[int, int]] = None
    origin: Optional[cst.CSTNode] = None
    limited: bool = False
    backref: Optional[ForeignKey] = None  # a reverse accessor query (``user.tweets``)


PEEWEE_FIELDS = {
    "CharField", "TextField", "IntegerField", "BigIntegerField", "SmallIntegerField", "AutoField", "BigAutoField",
    "FloatField", "DoubleField", "DecimalField", "BooleanField", "DateTimeField", "DateField", "TimeField",
    "TimestampField", "UUIDField", "BlobField", "ForeignKeyField", "DeferredForeignKey", "ManyToManyField",
    "FixedCharField", "IPField", "BitField", "PrimaryKeyField",
}

QUERY_CHAIN = {
    "where", "orwhere", "filter", "order_by", "order_by_extend", "group_by", "having", "distinct", "offset",
    "for_update", "window", "with_cte", "select_from", "switch", "objects", "iterator", "alias", "bind", "clone",
    "naive",  # peewee 2: model rows with the joined columns flattened onto them (still models)
}
ROW_FORMATS = {"dicts", "tuples", "namedtuples"}
TERMINAL_ONE = {"get", "get_or_none", "first", "peek", "scalar"}
TERMINAL_OTHER = {"count", "exists", "execute", "scalars"}
CLASS_READS = {"get", "get_or_none", "get_by_id", "get_or_create"}
# what a helper may chain on ``Model.select(...)`` and hand back, still an unrun query
_RETURNED_CHAIN = QUERY_CHAIN | ROW_FORMATS | {"select", "join", "join_from", "left_outer_join", "limit", "paginate", "select_extend"}
CLASS_WRITES = {"create", "insert", "insert_many", "update", "delete", "replace", "delete_by_id", "set_by_id", "bulk_create", "bulk_update", "insert_from", "replace_many"}


def model_of(node, ctx: Context) -> Optional[str]:
    """Qualname of the peewee model class ``node`` names."""
    d = N.dotted(node)
    if d is None:
        return None
    pm = peewee_models(ctx.index)
    if not pm.models:
        return None
    head = d.split(".")[0]
    b = ctx.binding(head, at=node)
    if b is not None and b.kind not in ("import", "class", "def"):
        return None
    q = ctx.qualify(node) or d
    m = pm.resolve(q, ctx.module)
    return m.qualname if m is not None and _last(q) == m.name else None


def infer(expr, ctx: Context, depth: int = 0) -> Optional[PwValue]:
    if expr is None or depth > 12:
        return None
    return ctx.memo_guarded(("pw-infer", id(expr)), lambda: _infer(expr, ctx, depth))


def _loaded_from_select(call: cst.Call, ctx: Context, root: str) -> Set[str]:
    out = set()
    for a in call.args:
        v = a.value
        d = N.dotted(v)
        if d is None:
            continue
        m = model_of(v, ctx)
        if m is None and isinstance(v, cst.Attribute):
            m = model_of(v.value, ctx)
        if m is not None and m != root:
            out.add(m)
    return out


def _infer(expr, ctx: Context, depth: int) -> Optional[PwValue]:
    if isinstance(expr, cst.Await):
        return infer(expr.expression, ctx, depth + 1)
    if isinstance(expr, cst.Name):
        return _infer_name(expr, ctx, depth)
    if isinstance(expr, cst.Attribute):
        return _infer_attribute(expr, ctx, depth)
    if isinstance(expr, cst.Call):
        return _infer_call(expr, ctx, depth)
    if isinstance(expr, cst.Subscript):
        cls = model_of(expr.value, ctx)
        if cls is not None:
            return PwValue("instance", cls, frozenset(), origin=expr, limited=True)
    return None


def _infer_name(expr: cst.Name, ctx: Context, depth: int) -> Optional[PwValue]:
    """A loop target over a query (an instance), else the name's latest binding."""
    loop = ctx.loop_binding(expr.value)
    b = ctx.binding(expr.value, at=expr)
    if loop is not None and loop.iter is not None and loop.target is not None:
        # a ``sorted(..., key=lambda t: ...)`` lambda's parameter is the item itself
        if loop.kind == "key" or b is None or b.kind in ("for", "comprehension") or not _inside(b.node, loop.node, ctx):
            return _loop_item(expr, loop, ctx, depth)
    if b is None:
        return None
    if b.kind == "param" and expr.value == "self":
        cls = ctx.class_frame  # ``self`` in a model's method: an instance of the model
        if cls is not None and cls.qualname in peewee_models(ctx.index).models:
            return PwValue("instance", cls.qualname, frozenset(), None, b.node)
        return None
    if b.kind in ("assign", "annassign", "walrus", "with") and b.is_simple and b.value is not None:
        return infer(b.value, ctx, depth + 1)
    if b.kind == "for" and isinstance(b.node, cst.For) and isinstance(b.node.target, cst.Name):
        it = infer(b.value, ctx, depth + 1)
        if it is not None and it.kind in ("query", "rows") and it.model:
            return PwValue("instance", it.model, it.loaded, None, it.origin)
    return None


def _loop_item(expr: cst.Name, loop, ctx: Context, depth: int) -> Optional[PwValue]:
    """``row`` in ``for row in query`` / ``for i, row in enumerate(query)``: an instance of its model."""
    it_node = loop.iter
    if isinstance(loop.target, (cst.Tuple, cst.List)):
        # for i, row in enumerate(query)
        els = loop.target.elements
        if not (isinstance(it_node, cst.Call) and N.call_name(it_node) == "enumerate" and it_node.args and len(els) == 2
                and isinstance(els[1].value, cst.Name) and els[1].value.value == expr.value):
            return None
        it_node = it_node.args[0].value
    elif not isinstance(loop.target, cst.Name):
        return None
    it = infer(it_node, ctx, depth + 1)
    if it is not None and it.kind in ("query", "rows") and it.model:
        return PwValue("instance", it.model, it.loaded, (id(loop.node), id(loop.clause)), it.origin)
    return None


def _infer_attribute(expr: cst.Attribute, ctx: Context, depth: int) -> Optional[PwValue]:
    """``tweet.user`` (a foreign key: an instance), ``user.tweets`` (a backref: a query, or rows when prefetched)."""
    base = infer(expr.value, ctx, depth + 1)
    if base is None or base.kind != "instance" or not base.model:
        return None
    pm = peewee_models(ctx.index)
    name = expr.attr.value
    fk = pm.fk(base.model, name)
    if fk is not None and not fk.many_to_many:
        return PwValue("instance", fk.target, base.loaded, base.loop, base.origin)
    br = pm.backref(base.model, name) or (fk if fk is not None and fk.many_to_many else None)
    if br is not None:
        kind = "rows" if (br.owner in base.loaded or "*" in base.loaded) else "query"
        return PwValue(kind, br.owner if br is not fk else br.target, frozenset(), base.loop, base.origin, backref=br)
    return None


def _infer_call(expr: cst.Call, ctx: Context, depth: int) -> Optional[PwValue]:
    name = N.call_name(expr)
    recv = N.receiver(expr)
    if recv is None:
        return _function_call(expr, name, ctx, depth) or _returned_query(expr, ctx)
    cls = model_of(recv, ctx)
    if cls is not None:
        return _class_call(expr, name, cls, ctx)
    base = infer(recv, ctx, depth + 1)
    if base is None:
        return _returned_query(expr, ctx)
    if base.kind == "query":
        return _query_method(expr, name, base, ctx)
    if base.kind == "write" and name in ("where", "on_conflict", "on_conflict_ignore", "on_conflict_replace", "returning", "as_rowcount"):
        return base
    return None


def _returned_query(call: cst.Call, ctx: Context) -> Optional[PwValue]:
    """A project function that builds ``Model.select(...)``, refines it (``where``,
    ``order_by``, ``dicts()``...) and hands it back unrun: a query, run where the caller
    iterates or tests it. What it loads beyond the model is not tracked: its rows count as
    loading every relation (a helper's joins stay silent)."""
    if not uses_peewee(ctx):
        return None
    from querylint.project.callees import resolve_callee

    qual = resolve_callee(call, ctx)
    fn = ctx.index.functions.get(qual) if qual else None
    chain = fn.returned_query if fn is not None else ()
    if not chain or "select" not in chain[1:] or any(m not in _RETURNED_CHAIN for m in chain[1:]):
        return None
    pm = peewee_models(ctx.index)
    model = pm.resolve(chain[0], fn.module if fn is not None else None)
    if model is None or _last(chain[0]) != model.name:
        return None
    rows_of = None if any(m in ROW_FORMATS for m in chain[1:]) else model.qualname
    return PwValue("query", rows_of, frozenset({"*"}), origin=call)


def _function_call(expr: cst.Call, name: Optional[str], ctx: Context, depth: int) -> Optional[PwValue]:
    """``Model(...)``, ``prefetch(query, Sub)``, ``list(query)``."""
    ctor = model_of(expr.func, ctx)
    if ctor is not None:
        return PwValue("instance", ctor, frozenset(), origin=expr)
    if name == "prefetch" and expr.args:
        inner = infer(expr.args[0].value, ctx, depth + 1)
        if inner is None or inner.kind != "query":
            return None
        subs = {model_of(a.value, ctx) for a in expr.args[1:]}
        subs.discard(None)
        return PwValue("rows", inner.model, inner.loaded | frozenset(cast(Set[str], subs)) | (frozenset({"*"}) if not subs else frozenset()), origin=inner.origin)
    if name in ("list", "tuple", "sorted") and len(expr.args) == 1:
        inner = infer(expr.args[0].value, ctx, depth + 1)
        if inner is not None and inner.kind in ("query", "rows"):
            return replace(inner, kind="rows")
    return None


def _class_call(expr: cst.Call, name: Optional[str], cls: str, ctx: Context) -> Optional[PwValue]:
    """A model class's method: ``Model.select()`` (a query), ``Model.get(...)`` (an instance), ``Model.update(...)`` (a write)."""
    if name in ("select", "filter"):
        loaded = _loaded_from_select(expr, ctx, cls) if name == "select" else set()
        return PwValue("query", cls, frozenset(loaded), origin=expr)
    if name == "raw":
        return PwValue("query", cls, frozenset(), origin=expr)
    if name in CLASS_READS:
        return PwValue("instance", cls, frozenset(), origin=expr, limited=True)
    if name == "create":
        return PwValue("instance", cls, frozenset(), origin=expr)
    if name in ("update", "delete", "insert", "insert_many", "replace", "insert_from", "replace_many"):
        return PwValue("write", cls, origin=expr)
    return _class_chain_call(expr, name, cls, ctx)


def _class_chain_call(expr: cst.Call, name: Optional[str], cls: str, ctx: Context) -> Optional[PwValue]:
    """``Query.search(term)`` where ``search`` is a class method of the model whose every return
    is ``cls.select().where(...)...``: a query of that model that loads nothing else. A chain that
    selects, joins or prefetches more is not followed (what it loads is its own)."""
    fn = ctx.index.find_method(cls, name) if name else None
    if fn is None or not any(d.rsplit(".", 1)[-1] == "classmethod" for d in fn.decorators):
        return None
    chain = fn.class_chain_returns
    if not chain or chain[0] not in ("select", "filter") or any(c not in QUERY_CHAIN for c in chain[1:]):
        return None
    return PwValue("query", cls, frozenset(), origin=expr)


def _query_method(expr: cst.Call, name: Optional[str], base: PwValue, ctx: Context) -> Optional[PwValue]:
    """A method of a query: chained (joins, prefetches and selects add loaded models), or a terminal."""
    if name in QUERY_CHAIN:
        return base
    if name in ("join", "join_from", "left_outer_join"):
        joined = {model_of(a.value, ctx) for a in expr.args if a.keyword is None}
        joined.discard(None)
        return replace(base, loaded=base.loaded | frozenset(cast(Set[str], joined)))  # None discarded
    if name in ("select", "select_extend"):
        return replace(base, loaded=base.loaded | frozenset(_loaded_from_select(expr, ctx, base.model or "")))
    if name in ("limit", "paginate"):
        return replace(base, limited=True)
    if name in ("prefetch", "with_related"):
        subs = set()
        for a in expr.args:
            m = model_of(a.value, ctx)
            if m is None and isinstance(a.value, cst.Attribute):
                m = "*"
            if m is not None:
                subs.add(m)
        return PwValue("rows" if name == "prefetch" else "query", base.model, base.loaded | frozenset(cast(Set[str], subs) or {"*"}), base.loop, base.origin, base.limited)
    if name in ROW_FORMATS:
        return replace(base, model=None)
    if name in TERMINAL_ONE:
        return PwValue("instance", base.model, base.loaded, origin=base.origin, limited=True)
    return None


def _inside(node, container, ctx: Context) -> bool:
    for anc in ctx.ancestors(node):
        if anc is container:
            return True
    return False


def uses_peewee(ctx: Context) -> bool:
    return ctx.memo(("pw-uses",), lambda: bool(peewee_models(ctx.index).models))
