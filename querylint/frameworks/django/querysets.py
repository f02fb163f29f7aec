"""What a Django expression is: a queryset (with what it loads), a model instance, rows, a list.

:func:`infer` walks an expression back through assignments, loop targets, chained queryset
methods and project helpers (``get_queryset``, functions returning querysets, in this file or
another) and returns a :class:`DjType`, or None when the origin is unknown. Results are
memoised per node with ``ctx.memo``.

A queryset carries the relation paths loaded with its objects (``select_related`` /
``prefetch_related`` / ``Prefetch(..., to_attr=...)``), the fields left out by ``only`` /
``defer``, and whether it yields rows (``values`` / ``values_list``). An instance bound by
iterating a queryset remembers the loop that bound it, so rules can tell per-item access from
access to one object fetched once.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any, Dict, FrozenSet, List, Optional, Set, Tuple, Union, cast

import libcst as cst

from querylint import nodes as N
from querylint.context import Context, Frame
from querylint.project.callees import refined_argument
from querylint.project.contexts import path_context
from querylint.frameworks.django.models import (
    EXTERNAL_USER, GFK, REV_FK, SINGLE, ModelGraph, ModelInfo, Relation, expand_paths, model_graph, sub_paths,
)

QS, INST, LIST, ROWS = "qs", "inst", "list", "rows"
DICT = "dict"  # a dict of instances keyed by id: ``{o.pk: o for o in qs}``, ``qs.in_bulk(ids)``

CHAIN = {
    "filter", "exclude", "order_by", "all", "distinct", "annotate", "alias", "using", "reverse",
    "none", "select_for_update", "extra", "defer", "only", "select_related", "prefetch_related",
    "union", "intersection", "difference", "complex_filter", "values", "values_list", "iterator",
    "aiterator", "dates", "datetimes", "filter_by", "active", "live", "visible", "published",
}
SINGLE_RESULT = {
    "get", "first", "last", "earliest", "latest", "aget", "afirst", "alast", "aearliest", "alatest",
    "get_object", "create", "acreate",
}
READS = {
    "get", "first", "last", "earliest", "latest", "exists", "count", "aggregate", "in_bulk",
    "contains", "explain", "aget", "afirst", "alast", "aearliest", "alatest", "aexists", "acount",
    "aaggregate", "ain_bulk", "acontains", "aexplain",
}
WRITES = {
    "create", "get_or_create", "update_or_create", "update", "delete", "bulk_create", "bulk_update",
    "acreate", "aget_or_create", "aupdate_or_create", "aupdate", "adelete", "abulk_create",
    "abulk_update", "add", "remove", "clear", "set", "aadd", "aremove", "aclear", "aset",
}
INSTANCE_WRITES = {"save", "delete", "asave", "adelete"}
INSTANCE_READS = {"refresh_from_db", "arefresh_from_db"}
# served from the prefetch cache on a prefetched related manager
CACHE_SERVED = {"all", "count", "exists", "acount", "aexists"}
# a prefetched manager re-queries for these
DEFEATING = {
    "filter", "exclude", "order_by", "values", "values_list", "annotate", "distinct", "get",
    "aggregate", "select_related", "only", "defer", "latest", "earliest", "in_bulk", "iterator",
    "reverse", "extra",
}
EVALUATORS = {"list", "tuple", "set", "sorted", "len", "bool", "sum", "max", "min", "any", "all", "frozenset", "dict", "enumerate", "next", "iter", "reversed"}


@dataclass(frozen=True)
class DjType:
    kind: str  # QS, INST, LIST (a list of instances), ROWS (values()/values_list() rows)
    model: Optional[str]  # model qualname (None: unknown / external)
    covered: FrozenSet[str] = frozenset()
    select_all: bool = False
    to_attrs: Tuple[Tuple[str, "DjType"], ...] = ()
    only: Optional[FrozenSet[str]] = None
    defer: FrozenSet[str] = frozenset()
    related: Optional[str] = None  # source of ``obj.rel`` for a related manager
    prefetched: bool = False  # related manager served from the prefetch cache
    defeated: Optional[str] = None  # method that made a prefetched manager query again
    manager: bool = False  # ``Model.objects`` itself
    loop: Optional[int] = None  # id() of the loop node whose iteration bound this instance
    evaluated: bool = False  # a list already in memory
    origin: Any = field(default=None, compare=False, hash=False)  # node that built the queryset
    owner_loop: Optional[int] = None  # for related managers: the loop of the owning instance
    per_object: Optional[str] = None  # serializer qualname: the object a SerializerMethodField method gets
    named_only: bool = False  # inferred from names alone (a parameter ``orders`` iterated as ``order``)
    opaque: bool = False  # select/prefetch_related with arguments we cannot read: assume everything is loaded

    def to_attr(self, name: str) -> Optional["DjType"]:
        for k, v in self.to_attrs:
            if k == name:
                return v
        return None


def graph_of(ctx: Context) -> ModelGraph:
    return model_graph(ctx.index)


# ---------------------------------------------------------------------------------------- helpers


def _str_args(call: cst.Call) -> List[str]:
    out = []
    for a in call.args:
        if a.keyword is None and not a.star:
            s = N.string_value(a.value)
            if s is not None:
                out.append(s)
    return out


def _prefetch_args(call: cst.Call, ctx: Context, model: Optional[ModelInfo]) -> Tuple[List[str], List[Tuple[str, DjType]], bool]:
    """(paths, to_attr lists, unknown): the lookups of ``prefetch_related(...)``."""
    paths: List[str] = []
    attrs: List[Tuple[str, DjType]] = []
    unknown = False
    for a in call.args:
        if a.keyword is not None:
            continue
        v = a.value
        if a.star:
            # ``*LOOKUPS``: a list of literal lookups assigned once
            listed = _simple_value(ctx, v) if isinstance(v, cst.Name) else None
            items = [N.string_value(e.value) for e in listed.elements] if isinstance(listed, (cst.List, cst.Tuple)) else [None]
            if a.star == "*" and items and all(i is not None for i in items):
                paths.extend(cast(List[str], items))
            else:
                unknown = True
            continue
        s = N.string_value(v)
        if s is not None:
            paths.append(s)
            continue
        if isinstance(v, cst.Name):
            b = _simple_value(ctx, v)
            if b is not None:
                v = b
        if isinstance(v, cst.Call) and N.call_name(v) == "Prefetch":
            lookup = N.string_value(N.arg(v, 0, "lookup"))
            if lookup is None:
                unknown = True
                continue
            inner_qs = N.arg(v, 1, "queryset")
            inner = infer(inner_qs, ctx) if inner_qs is not None else None
            to_attr = N.string_value(N.arg(v, 2, "to_attr"))
            inner_cov = inner.covered if inner is not None else frozenset()
            if to_attr and "__" not in lookup:
                target = _relation_target(ctx, model, lookup)
                attrs.append((to_attr, DjType(LIST, inner.model if inner else target, inner_cov, inner.select_all if inner else False, evaluated=True)))
                continue
            paths.append(lookup)
            paths.extend(lookup + "__" + p for p in inner_cov)
            continue
        unknown = True
    return paths, attrs, unknown


def _relation_target(ctx: Context, model: Optional[ModelInfo], name: str) -> Optional[str]:
    if model is None:
        return None
    rel = model.relation(name)
    return rel.target if rel else None


def _simple_value(ctx: Context, name: cst.Name) -> Optional[cst.BaseExpression]:
    b = ctx.binding(name.value, at=name)
    if b is not None and b.kind in ("assign", "annassign", "walrus") and b.is_simple:
        return b.value
    return None


def apply_method(t: DjType, method: str, call: cst.Call, ctx: Context) -> Optional[DjType]:
    """The queryset a chained method returns."""
    graph = graph_of(ctx)
    model = graph.get(t.model)
    if t.kind == ROWS:
        return t if method in CHAIN else None
    base = replace(t, manager=False)
    if t.related is not None:
        if t.prefetched and method in DEFEATING:
            base = replace(base, prefetched=False, defeated=method)
        elif t.prefetched and method not in CACHE_SERVED and method not in ("iterator",):
            base = replace(base, prefetched=False, defeated=method)
    if method == "select_related":
        args = _str_args(call)
        if not call.args:
            return replace(base, select_all=True)
        if len(args) != len(call.args):
            return replace(base, opaque=True)  # select_related(*fields): we cannot tell what it loads
        return replace(base, covered=base.covered | expand_paths(args))
    if method == "prefetch_related":
        paths, attrs, unknown = _prefetch_args(call, ctx, model)
        return replace(base, covered=base.covered | expand_paths(paths), to_attrs=base.to_attrs + tuple(attrs), opaque=base.opaque or unknown)
    if method == "only":
        fields: Union[List[str], FrozenSet[str]] = _str_args(call)
        if len(fields) != len(call.args):
            return replace(base, only=None, defer=frozenset())  # only(*names): unknown, stay silent
        fields = frozenset(s.split("__")[0] for s in fields)
        return replace(base, only=fields if base.only is None else base.only | fields)
    if method == "defer":
        fields = frozenset(s for s in _str_args(call) if "__" not in s)
        if len(call.args) == 1 and N.literal(call.args[0].value) is None:
            return replace(base, defer=frozenset())
        return replace(base, defer=base.defer | fields)
    if method in ("values", "values_list"):
        return DjType(ROWS, t.model, origin=t.origin, related=t.related, prefetched=False, defeated=base.defeated, owner_loop=t.owner_loop)
    if method in CHAIN:
        return base
    if method in graph.queryset_methods and method not in READS and method not in WRITES:
        # a project QuerySet/Manager method (an override of ``count()``/``get()`` keeps Django's
        # contract: a number, a row, not a queryset): a queryset only when one of them returns one
        # (``check_perms()`` returning a bool, ``_is_ambiguous(s)`` returning ``s.isdigit()``: not)
        quals = graph.queryset_method_quals.get(method, [])
        if quals and not any(_returns_queryset(ctx, q) for q in quals):
            return None
        return _custom_method_loads(ctx, model, method, quals, base)
    return None


def _custom_method_loads(ctx: Context, model, method: str, quals: List[str], base: DjType) -> DjType:
    """``Entry.objects.public()`` where the project QuerySet's ``public()`` returns
    ``self.filter(...).prefetch_related("tags")``: what every candidate method loads counts as loaded.
    The candidates are the model's own manager classes' methods of that name (any project QuerySet's
    when the model names none)."""
    candidates = []
    for mc in (model.manager_classes.values() if model is not None else ()):
        fn = ctx.index.find_method(mc, method)
        if fn is not None and fn.qualname not in candidates:
            candidates.append(fn.qualname)
    if not candidates:
        candidates = list(quals)
    if not candidates or len(candidates) > 4:
        return base
    loads = [function_returns(ctx, q) for q in candidates]
    if any(r is None or r.kind != QS or r.model not in (None, base.model) for r in loads):
        return base
    got = cast(List[DjType], loads)
    covered = got[0].covered
    for r in got[1:]:
        covered &= r.covered
    return replace(base, covered=base.covered | covered, select_all=base.select_all or all(r.select_all for r in got),
                   opaque=base.opaque or any(r.opaque for r in got), to_attrs=base.to_attrs + tuple(a for r in got for a in r.to_attrs))


def _returns_queryset(ctx: Context, qualname: str) -> bool:
    """Some ``return`` of the function is a queryset, or cannot be read (then assume it is)."""
    fn = ctx.index.functions.get(qualname)
    if fn is None:
        return True
    if fn.const_returns or fn.returns_yield:
        return False  # a generator hands out what it yields, never the queryset itself
    t = function_returns(ctx, qualname)
    if t is not None:
        return t.kind == QS
    return not _returns_plain_values(ctx, fn) and not _returns_one_object(ctx, fn)


_ONE_OBJECT = {"get", "first", "last", "latest", "earliest", "aget", "afirst", "alast", "get_object_or_404", "get_or_none", "load"}


def _returns_one_object(ctx: Context, fn) -> bool:
    """Every ``return`` gives ``None`` or one object (``Model.objects.get(...)``, ``.first()``,
    ``Model.load(pk)``): osf's ``WikiPage.objects.get_for_node(node, name)``, a row or None."""
    off = offline(ctx, fn.path)
    if off is None or fn.qualname not in off.defs:
        return False
    values = [n.value for n in N.walk(off.defs[fn.qualname].body, into_functions=False) if isinstance(n, cst.Return)]
    return bool(values) and all(
        v is None or (isinstance(v, cst.Name) and v.value == "None") or (isinstance(v, cst.Call) and N.call_name(v) in _ONE_OBJECT)
        for v in values
    ) and any(isinstance(v, cst.Call) for v in values)


_PLAIN = (cst.Comparison, cst.BooleanOperation, cst.UnaryOperation, cst.SimpleString, cst.Integer, cst.Name, cst.FormattedString, cst.Dict, cst.Tuple)


def _returns_plain_values(ctx: Context, fn) -> bool:
    """Every ``return`` gives a plain value: a comparison, ``a and b``, ``not x``, a literal,
    ``True``/``False``/``None``, or ``<x>.exists()``/``.count()``."""
    off = offline(ctx, fn.path)
    if off is None or fn.qualname not in off.defs:
        return False
    values = [n.value for n in N.walk(off.defs[fn.qualname].body, into_functions=False) if isinstance(n, cst.Return)]
    if not values:
        return False
    for v in values:
        if v is None:
            continue
        if isinstance(v, cst.Name) and v.value not in ("True", "False", "None"):
            return False
        if isinstance(v, cst.Call) and N.call_name(v) in ("exists", "count", "aggregate", "bool", "len", "isinstance", "hasattr"):
            continue
        if not isinstance(v, _PLAIN):
            return False
    return True


# ---------------------------------------------------------------------------------------- inference


def infer(node: Optional[cst.CSTNode], ctx: Context) -> Optional[DjType]:
    if node is None:
        return None
    return ctx.memo_guarded(("dj-infer", id(node)), lambda: _infer(node, ctx))


def _model_of_class_expr(expr, ctx: Context) -> Optional[ModelInfo]:
    name = N.dotted(expr)
    if not name:
        return None
    if name.rsplit(".", 1)[-1] not in graph_of(ctx).by_name:
        return None  # cheap: no project model has that name
    head = name.split(".")[0]
    b = ctx.binding(head, at=expr) if ctx.frames else None
    if b is not None and b.kind not in ("import", "class"):
        return None
    q = ctx.qualify(expr)
    graph = graph_of(ctx)
    hit = graph.models.get(q) if q else None
    if hit is None and q and b is None and "." not in name:
        hit = graph.models.get(f"{ctx.module}.{name}")
    if hit is None and q and (b is not None or ctx.resolver.is_imported(name)):
        hit = graph.resolve(q, ctx.module)
    return hit


_NOT_DJANGO_MODULES = ("peewee", "sqlalchemy", "tortoise", "mongoengine", "pony", "ormar", "sqlmodel", "odmantic", "beanie", "pynamodb", "neomodel")


def class_model(expr, ctx: Context) -> Optional[str]:
    """The model a class expression names: a project model's qualname, or "ext:<dotted>" for a
    Django model querylint cannot see (``Permission``, ``get_user_model()``)."""
    m = _model_of_class_expr(expr, ctx) if isinstance(expr, (cst.Name, cst.Attribute)) else None
    return m.qualname if m is not None else _external_model(expr, ctx)


def _external_model(expr, ctx: Context) -> Optional[str]:
    """A Django model we cannot see (``django.contrib.auth.models.User``, a third-party app's model,
    ``get_user_model()``): "ext:<dotted>" (or the project's custom user model)."""
    if isinstance(expr, cst.Call):
        if N.call_name(expr) == "get_user_model" and not expr.args:
            graph = graph_of(ctx)
            return graph.user_model or (EXTERNAL_USER if EXTERNAL_USER in graph.models else "ext:user")
        return None
    name = N.dotted(expr)
    if not name or not name.split(".")[-1][:1].isupper():
        return None
    head = name.split(".")[0]
    b = ctx.binding(head, at=expr) if ctx.frames else None
    if b is None or b.kind != "import":
        return None
    q = ctx.qualify(expr) or name
    if q.startswith(_NOT_DJANGO_MODULES) or "mongo" in q or "document" in q.lower():
        return None
    if q in ctx.index.classes:
        return None  # a project class that is not a Django model
    if q == "django.contrib.auth.models.User":
        graph = graph_of(ctx)
        return graph.user_model or (EXTERNAL_USER if EXTERNAL_USER in graph.models else "ext:" + q)
    return "ext:" + q


def _infer(node, ctx: Context) -> Optional[DjType]:
    if isinstance(node, cst.Await):
        return infer(node.expression, ctx)
    if isinstance(node, cst.Name):
        return _infer_name(node, ctx)
    if isinstance(node, cst.Attribute):
        return _infer_attribute(node, ctx)
    if isinstance(node, cst.Call):
        return _infer_call(node, ctx)
    if isinstance(node, cst.Subscript):
        base = infer(node.value, ctx)
        if base is None or len(node.slice) != 1:
            return None
        sl = node.slice[0].slice
        if isinstance(sl, cst.Slice):
            return base if base.kind in (QS, LIST, ROWS) else None
        if base.kind in (QS, LIST):
            return DjType(INST, base.model, base.covered, base.select_all, base.to_attrs, base.only, base.defer)
        if base.kind == DICT:
            return _dict_value(base, sl.value if isinstance(sl, cst.Index) else None, node, ctx)
        return None
    if isinstance(node, cst.DictComp) and isinstance(node.value, cst.Name) and node.for_in.inner_for_in is None:
        # ``{v.pk: v for v in qs}``: the rows, looked up by key
        if N.target_names(node.for_in.target) == [node.value.value]:
            it = infer(node.for_in.iter, ctx)
            if it is not None and it.kind in (QS, LIST) and it.model is not None:
                return replace(it, kind=DICT, evaluated=True, related=None, manager=False, loop=None)
    if isinstance(node, (cst.ListComp, cst.GeneratorExp)) and isinstance(node.elt, cst.Name) and node.for_in.inner_for_in is None:
        # [x for x in qs if ...]
        if N.target_names(node.for_in.target) == [node.elt.value]:
            it = infer(node.for_in.iter, ctx)
            if it is not None and it.kind in (QS, LIST):
                return replace(it, kind=LIST, evaluated=True, related=None, manager=False)
    if isinstance(node, cst.IfExp):
        a, b = infer(node.body, ctx), infer(node.orelse, ctx)
        return a if a is not None and (b is None or b.model == a.model) else None
    if isinstance(node, cst.BooleanOperation):
        return infer(node.right, ctx) or infer(node.left, ctx)
    return None


def _dict_value(d: DjType, key: Optional[cst.BaseExpression], node: cst.CSTNode, ctx: Context) -> DjType:
    """The instance ``d[key]`` / ``d.get(key)`` holds: what the dict's rows loaded, bound per pass
    of the innermost loop whose target the key reads (``variant_by_id[variant_id]`` in ``for
    variant_id, n in counts.items()``), so its relations are read once per item."""
    loop_id = None
    used = {n.value for n in N.walk(key) if isinstance(n, cst.Name)} if key is not None else set()
    for anc in ctx.ancestors(node) if used else ():
        if isinstance(anc, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            break
        targets: List[str] = []
        if isinstance(anc, cst.For):
            targets = N.target_names(anc.target)
        elif isinstance(anc, (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)):
            clause: Optional[cst.CompFor] = anc.for_in
            while clause is not None:
                targets += N.target_names(clause.target)
                clause = clause.inner_for_in
        if used & set(targets):
            loop_id = id(anc)
            break
    else:
        # the walk's own loops, innermost first, when the node's ancestors are not known yet
        for loop in reversed(ctx.loops) if used and ctx.frames else ():
            if loop.target is not None and used & set(N.target_names(loop.target)):
                loop_id = id(loop.node)
                break
    return DjType(INST, d.model, d.covered, d.select_all, d.to_attrs, d.only, d.defer, loop=loop_id, origin=d.origin)


def _loop_for_name(name: cst.Name, ctx: Context):
    return ctx.loop_binding(name.value)


def iter_element(it: Optional[DjType], loop_node) -> Optional[DjType]:
    """The instance bound by iterating ``it``."""
    if it is None or it.kind not in (QS, LIST):
        return None
    if it.model is None:
        return None
    return DjType(
        INST, it.model, it.covered, it.select_all, it.to_attrs, it.only, it.defer,
        loop=id(loop_node) if loop_node is not None else None, origin=it.origin, named_only=it.named_only,
        opaque=it.opaque,
    )


def _element_of_target(target, name: str, it_expr, ctx: Context, loop_node) -> Optional[DjType]:
    if isinstance(target, cst.Name) and target.value == name:
        return iter_element(infer_iterable(it_expr, ctx), loop_node)
    if isinstance(target, (cst.Tuple, cst.List)) and isinstance(it_expr, cst.Call):
        fname = N.call_name(it_expr)
        elts = [e.value for e in target.elements]
        if fname == "enumerate" and len(elts) == 2 and isinstance(elts[1], cst.Name) and elts[1].value == name and it_expr.args:
            return iter_element(infer_iterable(it_expr.args[0].value, ctx), loop_node)
    return None


def infer_iterable(expr, ctx: Context) -> Optional[DjType]:
    """``infer``, plus: a parameter iterated in a loop is what every caller in the project passes."""
    t = infer(expr, ctx)
    if t is not None or not isinstance(expr, cst.Name) or not ctx.frames:
        return t
    b = ctx.binding(expr.value, at=expr)
    if b is None or b.kind != "param":
        return None
    frame = ctx.function
    if frame is None or frame.facts is None or not isinstance(frame.node, cst.FunctionDef):
        return None
    params = N.param_names(frame.node.params)
    if expr.value not in params:
        return None
    t = param_from_callers(ctx, frame.facts, params.index(expr.value), expr.value)
    if t is not None:
        return t
    t = used_like_model(expr, ctx)
    if t is not None:
        return t
    if ctx.index.callers_of(frame.facts.qualname):
        return None  # callers pass something else (a list, an unknown value): stay silent
    return named_like_queryset(expr, ctx)




def used_like_model(expr: cst.Name, ctx: Context) -> Optional[DjType]:
    """Usage evidence for a parameter of unknown origin: ``for attribute in attributes:`` whose
    body calls ``attribute.values.get(pk=v)``, where ``values`` is a to-many relation (a reverse
    ``ForeignKey`` or a many-to-many) of exactly one concrete project model: the items are that
    model's instances. Every such use in the loop must name the same model, and call a method
    that queries even on a prefetched relation (``get``, ``filter``, ...: :data:`DEFEATING`), so
    the query per item holds whatever the callers pass; ``.all()`` / ``.count()`` on items of
    unknown origin may be served by a prefetch and stay silent."""
    loop = None
    for l in reversed(ctx.loops) if ctx.frames else ():
        if l.iter is expr:
            loop = l
            break
    if loop is None or not isinstance(loop.target, cst.Name) or not _imports_django(ctx):
        return None
    var = loop.target.value
    body = getattr(loop.node, "body", None)
    if body is None:
        return None

    def owners_by_relation(_ix) -> Dict[str, List[str]]:
        out: Dict[str, List[str]] = {}
        for m in graph_of(ctx).models.values():
            if m.abstract or m.qualname == EXTERNAL_USER:
                continue
            for name, rel in m.relations.items():
                if rel.many:
                    out.setdefault(name, []).append(m.qualname)
        return out

    owners = ctx.index.derived("django-models-by-many-relation", owners_by_relation)
    found: set = set()
    for n in N.walk(body, into_functions=False):
        if not (isinstance(n, cst.Call) and isinstance(n.func, cst.Attribute) and n.func.attr.value in DEFEATING):
            continue
        rel = n.func.value
        if isinstance(rel, cst.Attribute) and isinstance(rel.value, cst.Name) and rel.value.value == var:
            models = owners.get(rel.attr.value, [])
            if len(models) != 1:
                return None  # a name several models (or none) use: no evidence
            found.add(models[0])
    if len(found) != 1:
        return None
    return DjType(QS, found.pop(), named_only=True)


def _concrete_models_named(ctx: Context, snake: str) -> List[ModelInfo]:
    """The concrete project models whose snake-case name is ``snake`` (``order_line`` for
    ``OrderLine``), from a map built once per run. A model of test code (a sample app that
    swaps in for the real one, ``tests/sample_config/models.py``) gives way to the project's
    own of the same name: the code outside tests names those."""

    def build(ix) -> Dict[str, List[ModelInfo]]:
        out: Dict[str, List[ModelInfo]] = {}
        for m in graph_of(ctx).models.values():
            if not m.abstract and m.qualname != EXTERNAL_USER:
                out.setdefault(_snake(m.name), []).append(m)
        for name, models in out.items():
            if len(models) > 1:
                own = [m for m in models if m.qualname not in ix.classes or path_context(ix.classes[m.qualname].path, ctx.config) != "test"]
                if own:
                    out[name] = own
        return out

    return ctx.index.derived("django-models-by-snake-name", build).get(snake, [])


def model_named_like(name: str, ctx: Context) -> Optional[ModelInfo]:
    """The one concrete project model a variable is named after: ``phase`` -> ``Phase``, or,
    with a qualifying word before it, ``source_phase`` / ``current_phase`` -> ``Phase``
    (``order_line`` -> ``OrderLine`` before ``Line``)."""
    parts = name.lstrip("_").split("_")
    for i in range(len(parts)):
        hits = _concrete_models_named(ctx, "_".join(parts[i:]))
        if hits:
            return hits[0] if len(hits) == 1 else None
    return None


def _snake(name: str) -> str:
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i and not name[i - 1].isupper():
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


def named_like_queryset(expr: cst.Name, ctx: Context) -> Optional[DjType]:
    """Strong naming evidence for a parameter of unknown origin: ``for order in orders`` where
    ``Order`` is the one project model of that name. Relations read on it are then judged as on
    a queryset that loads nothing."""
    loop = None
    for l in reversed(ctx.loops) if ctx.frames else ():
        if l.iter is expr:
            loop = l
            break
    if loop is None or not isinstance(loop.target, cst.Name):
        return None
    var, seq = loop.target.value, expr.value
    if seq not in (var + "s", var + "es", var[:-1] + "ies" if var.endswith("y") else var + "s", var + "_list", var + "_qs", var + "_queryset"):
        return None
    hits = _concrete_models_named(ctx, var)
    if len(hits) != 1:
        return None
    return DjType(QS, hits[0].qualname, named_only=True)


def param_from_callers(ctx: Context, fn, position: int, name: str, instances: bool = False) -> Optional[DjType]:
    """The queryset every call site in the project passes for a parameter (None unless all agree);
    with ``instances``, the model instance every call site passes (and what each loaded)."""
    index = ctx.index
    store = index.derived("django-param-types", lambda _i: {})
    key = (fn.qualname, position, instances)
    if key in store:
        return store[key]
    store[key] = None
    if _DEPTH[0] > 4:
        return None
    callers = index.callers_of(fn.qualname)
    if not callers or len(callers) > 20:
        return None
    is_method = fn.cls is not None and fn.params[:1] in (("self",), ("cls",))
    found: List[DjType] = []
    _DEPTH[0] += 1
    try:
        for cq in callers:
            caller = index.functions.get(cq)
            if instances and caller is not None and not _may_return_queryset(caller):
                # it passes on what it was given (loading nothing itself), or loads rows through a
                # project helper: what it passes then counts when it can be typed
                found.extend(_helper_loaded_instance(ctx, fn, cq, caller, position, name) if _may_load_rows(caller, index) else ())
                continue
            if caller is None or not _may_return_queryset(caller):
                return None
            off = offline(ctx, caller.path)
            if off is None or cq not in off.defs:
                return None
            saved = off.ctx.frames
            try:
                off.enter(cq)
                frames = list(off.ctx.frames)
                node = off.defs[cq]
                for call in N.walk(node.body, into_functions=False):
                    if not isinstance(call, cst.Call):
                        continue
                    target = N.dotted(call.func)
                    if not target or target.rsplit(".", 1)[-1] != fn.name:
                        continue
                    hit = index.resolve_function(off.ctx.qualify(call.func) or target, caller) if not target.startswith(("self.", "cls.")) else index.resolve_function(target, caller)
                    if hit is None or hit.qualname != fn.qualname:
                        continue
                    pos = position - 1 if is_method else position
                    arg = N.arg(call, pos, name) if pos >= 0 else None
                    if arg is None:
                        return None
                    off.ctx.frames = list(frames)
                    t = infer(arg, off.ctx)
                    if instances and t is None and isinstance(arg, cst.Name):
                        t = _loop_element_around(arg, call, off.ctx)
                    if instances and t is None:
                        t = _instance_named_alike(arg, name, ctx)
                    if instances and (t is None or t.kind != INST):
                        return None  # a caller passes what we cannot type: it may have loaded anything
                    if t is None or t.kind not in ((INST,) if instances else (QS, LIST)) or t.model is None:
                        return None
                    found.append(t)
            finally:
                off.ctx.frames = saved
    finally:
        _DEPTH[0] -= 1
    if instances:
        # what any caller that passes a known instance loaded counts as loaded (silence is the safe side)
        if any(t.model != found[0].model for t in found):
            return None
        covered_any: FrozenSet[str] = frozenset().union(*(t.covered for t in found)) if found else frozenset()
        result = DjType(INST, found[0].model if found else None, covered_any, any(t.select_all for t in found), opaque=any(t.opaque for t in found))
        store[key] = result
        return result
    if not found or any(t.model != found[0].model for t in found):
        return None
    covered = found[0].covered
    for t in found[1:]:
        covered &= t.covered
    result = DjType(LIST, found[0].model, covered, all(t.select_all for t in found), evaluated=True)
    store[key] = result
    return result


def _instance_named_alike(arg: cst.BaseExpression, param: str, ctx: Context) -> Optional[DjType]:
    """``clone(game.current_phase)`` for ``def clone(source_phase)``: an argument named after the
    model the parameter is named after is an instance of it that loaded nothing we can see."""
    last = arg.value if isinstance(arg, cst.Name) else arg.attr.value if isinstance(arg, cst.Attribute) else None
    named = model_named_like(last, ctx) if last else None
    return DjType(INST, named.qualname) if named is not None and named is model_named_like(param, ctx) else None


def _loop_element_around(name: cst.Name, call: cst.Call, ctx: Context) -> Optional[DjType]:
    """The row a loop or comprehension around ``call`` binds to ``name`` (a caller read offline,
    where no walk has pushed its loops)."""
    for anc in ctx.ancestors(call):
        if isinstance(anc, cst.For) and name.value in N.target_names(anc.target):
            return _element_of_target(anc.target, name.value, anc.iter, ctx, anc)
        if isinstance(anc, (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)):
            clause: Optional[cst.CompFor] = anc.for_in
            while clause is not None:
                if name.value in N.target_names(clause.target):
                    return _element_of_target(clause.target, name.value, clause.iter, ctx, anc)
                clause = clause.inner_for_in
        if isinstance(anc, (cst.FunctionDef, cst.ClassDef)):
            return None
    return None


def _infer_name(node: cst.Name, ctx: Context) -> Optional[DjType]:
    t = _infer_name_binding(node, ctx)
    if t is not None and t.kind == INST and t.model is not None and ctx.function is not None:
        t = _with_prefetched_objects(t, node, ctx)
    return t


def _with_prefetched_objects(t: DjType, node: cst.Name, ctx: Context) -> DjType:
    """``prefetch_related_objects([evaluation], "contributions__contributor")`` earlier in the
    function: the instance has those relations loaded."""
    fn = cast(Frame, ctx.function)
    calls = ctx.memo(("dj-prefetch-objects", id(fn.node)), lambda: [
        c for c in N.walk(fn.node, into_functions=False)
        if isinstance(c, cst.Call) and N.call_name(c) == "prefetch_related_objects" and c.args
    ])
    for call in calls:
        first = call.args[0].value
        listed = [e.value for e in first.elements] if isinstance(first, (cst.List, cst.Tuple)) else [first]
        if not any(isinstance(e, cst.Name) and e.value == node.value for e in listed) or ctx.line(call) > ctx.line(node):
            continue
        paths, attrs, unknown = _prefetch_args(call.with_changes(args=call.args[1:]), ctx, graph_of(ctx).get(t.model))
        t = replace(t, covered=t.covered | expand_paths(paths), to_attrs=t.to_attrs + tuple(attrs), opaque=t.opaque or unknown)
    return t


def _other_branch_binding(node: cst.Name, b, ctx: Context):
    """``else: queryset = Repository.objects.none()``: an empty queryset yields no rows, so the
    rows a later loop reads come from the other branch's binding (reviewboard's widgets)."""
    v = b.value
    if not (isinstance(v, cst.Call) and N.call_name(v) == "none" and not v.args and any(isinstance(a, (cst.If, cst.Else)) for a in ctx.ancestors(b.node))):
        return None
    for other in reversed(ctx.bindings(node.value, at=node)):
        if other is not b and other.kind in ("assign", "annassign") and other.is_simple and other.value is not None and not (
                isinstance(other.value, cst.Call) and N.call_name(other.value) == "none"):
            return other
    return None


def _infer_name_binding(node: cst.Name, ctx: Context) -> Optional[DjType]:
    name = node.value
    loop = _loop_for_name(node, ctx)
    b = ctx.binding(name, at=node) if ctx.frames else None
    if loop is not None and (b is None or b.node is loop.node or loop.kind in ("comprehension", "key") or not _inside(ctx, b.node, loop.node)):
        return _element_of_target(loop.target, name, loop.iter, ctx, loop.node)
    if b is None:
        return None
    if b.kind in ("assign", "annassign", "walrus") and b.is_simple:
        if isinstance(b.value, cst.List) and not b.value.elements:
            return _appended_rows(name, ctx)
        other = _other_branch_binding(node, b, ctx)
        if other is not None:
            b = other
        return infer(b.value, ctx) or _duck_queryset(name, b, ctx)
    if b.kind in ("for", "comprehension"):
        # (a comprehension's variable outside the walk: a caller's argument read offline)
        return _element_of_target(b.target, name, b.value, ctx, b.node)
    if b.kind == "with" and b.is_simple:
        return None
    if b.kind == "param":
        return _infer_param(node, b, ctx) or _refined_param(node, ctx) or _duck_queryset(name, b, ctx)
    if b.kind == "class":
        return None
    return None


def _refined_param(node: cst.Name, ctx: Context) -> Optional[DjType]:
    """``courses = courses.prefetch_related(...)``: a parameter the function narrows and keeps
    under its own name is the queryset every call site passes (an iterated parameter that is
    never reassigned is followed by :func:`infer_iterable`)."""
    frame = ctx.function
    if frame is None or frame.facts is None or not isinstance(frame.node, cst.FunctionDef):
        return None
    if not any(b.kind != "param" for b in ctx.scope(frame).bindings.get(node.value, [])):
        return None
    params = N.param_names(frame.node.params)
    passed = param_from_callers(ctx, frame.facts, params.index(node.value), node.value) if node.value in params else None
    # (what the callers pass, as a queryset: the function calls queryset methods on it)
    return replace(passed, kind=QS, evaluated=False) if passed is not None else None


def _appended_rows(name: str, ctx: Context) -> Optional[DjType]:
    """``kept = []`` filled only by ``kept.append(card)`` where every appended value is an item of
    a queryset loop of one model (``for card in Card.objects.filter(...): if ok: kept.append(card)``):
    a list of that model's objects, loading what those querysets loaded (all of them). The name
    must not be rebound, and nothing else may change the list."""
    frame = ctx.function
    fn = frame.node if frame is not None else None
    if frame is None or not isinstance(fn, cst.FunctionDef) or ctx.scope(frame).is_reassigned(name):
        return None

    def compute() -> Optional[DjType]:
        items: List[DjType] = []
        for n in N.walk(fn.body, into_functions=False):
            if isinstance(n, cst.AugAssign) and isinstance(n.target, cst.Name) and n.target.value == name:
                return None
            if not (isinstance(n, cst.Call) and isinstance(n.func, cst.Attribute) and isinstance(n.func.value, cst.Name) and n.func.value.value == name):
                continue
            method = n.func.attr.value
            if method in ("index", "count", "copy"):
                continue
            if method != "append" or len(n.args) != 1:
                return None  # extend / insert / pop / sort ...: not followed
            t = _appended_item(n.args[0].value, ctx)
            if t is None or t.kind != INST or t.model is None or t.loop is None:
                return None
            items.append(t)
        if not items or len({t.model for t in items}) != 1:
            return None
        covered = frozenset.intersection(*(frozenset(t.covered) for t in items))
        first = items[0]
        return DjType(LIST, first.model, covered, all(t.select_all for t in items), evaluated=True, origin=first.origin)

    return ctx.memo(("dj-appended", id(fn), name), compute)


def _appended_item(value, ctx: Context) -> Optional[DjType]:
    """What ``kept.append(value)`` appends, read from where ``value`` is bound (a loop target),
    not from the loop the walk is in now (a later ``for card in kept`` binds the same name)."""
    if isinstance(value, cst.Name):
        b = ctx.binding(value.value, at=value)
        if b is not None and b.kind in ("for", "comprehension"):
            return _element_of_target(b.target, value.value, b.value, ctx, b.node)
        return None
    return None


# Methods only a Django queryset has (no dict, list, SQLAlchemy query or peewee query has them).
_QUERYSET_ONLY = frozenset({"values_list", "select_related", "prefetch_related", "in_bulk", "only", "defer", "annotate", "exclude"})


def _duck_queryset(name: str, b, ctx: Context) -> Optional[DjType]:
    """A name bound once in the function to a value of unknown type (``field._queryset``, a
    parameter no call site types) that the function calls a Django-only queryset method on
    (``values_list``, ``select_related`` ...): a queryset of a model querylint does not know."""
    frame = ctx.function
    fn = frame.node if frame is not None else None
    if frame is None or not isinstance(fn, cst.FunctionDef) or not (b.is_simple or b.kind == "param"):
        return None
    if ctx.scope(frame).is_reassigned(name) or not _imports_django(ctx):
        return None

    def compute() -> Tuple[Set[str], Set[str]]:
        """(names a Django-only queryset method is called on, names checked with ``isinstance``)."""
        called: Set[str] = set()
        checked: Set[str] = set()
        for n in N.walk(fn.body, into_functions=False):
            if type(n) is not cst.Call:
                continue
            call = cast(cst.Call, n)
            if isinstance(call.func, cst.Attribute) and call.func.attr.value in _QUERYSET_ONLY:
                if isinstance(call.func.value, cst.Name) and _queryset_arguments(call):
                    called.add(call.func.value.value)
            elif N.call_name(call) == "isinstance" and call.args and isinstance(call.args[0].value, cst.Name):
                checked.add(call.args[0].value.value)
        return called, checked

    called, checked = ctx.memo(("dj-duck", id(fn)), compute)
    # ``if isinstance(objs, QuerySet): ... else: ...``: the code itself is not sure
    if name not in called or name in checked:
        return None
    return DjType(QS, "ext:unknown", origin=b.node)


# the keywords each Django-only queryset method accepts (``annotate``/``exclude``: any)
_QUERYSET_KEYWORDS = {"values_list": frozenset({"flat", "named"}), "in_bulk": frozenset({"field_name"}),
                      "select_related": frozenset(), "prefetch_related": frozenset(), "only": frozenset(), "defer": frozenset()}


def _queryset_arguments(call: cst.Call) -> bool:
    """The call's keywords are ones the queryset method takes: ``field.prefetch_related(qset,
    request, depth=1)`` is a project method of the same name (peeringdb's serializers)."""
    allowed = _QUERYSET_KEYWORDS.get(cast(cst.Attribute, call.func).attr.value)
    return allowed is None or all(a.keyword is None or a.keyword.value in allowed for a in call.args)


def _imports_django(ctx: Context) -> bool:
    """The module imports from Django (or the project's models): duck typing only where Django is about."""
    return ctx.memo(("dj-imports",), lambda: any(m == "django" or m.startswith("django.") for m in ctx.resolver.imports.values()))


def _inside(ctx: Context, node, container) -> bool:
    if node is container:
        return True
    for a in ctx.ancestors(node):
        if a is container:
            return True
    return False


def _paginated(expr, ctx: Context) -> Optional[DjType]:
    """The queryset a ``django.core.paginator.Paginator(qs, n)`` (or a name bound to one) pages over."""
    if isinstance(expr, cst.Name):
        b = ctx.binding(expr.value, at=expr) if ctx.frames else None
        if b is None or b.kind not in ("assign", "annassign") or not b.is_simple:
            return None
        expr = b.value
    if not isinstance(expr, cst.Call) or not expr.args:
        return None
    q = ctx.qualify(expr.func) or ""
    if not (q.startswith("django.") and q.endswith(".Paginator")):
        return None
    inner = infer(expr.args[0].value, ctx)
    return inner if inner is not None and inner.kind in (QS, LIST) and inner.model is not None else None


def _infer_param(node: cst.Name, b, ctx: Context) -> Optional[DjType]:
    frame = ctx.function
    if frame is None or not isinstance(frame.node, cst.FunctionDef):
        return None
    params = N.param_names(frame.node.params)
    cls = ctx.class_frame
    graph = graph_of(ctx)
    if node.value == "self" and params and params[0] == "self" and cls is not None:
        model = graph.get(cls.qualname) or graph.resolve(cls.qualname)
        if model is not None and model.qualname == cls.qualname:
            return DjType(INST, model.qualname)
        if cls.qualname in graph.querysets:
            # a custom Manager / QuerySet method: of the one model that uses it, when known
            users = graph.queryset_models.get(cls.qualname, set())
            return DjType(QS, next(iter(users)) if len(users) == 1 else None, origin=node)
    # ``def get_<field>(self, obj)`` of a serializer: one call per serialized object
    if cls is not None and len(params) >= 2 and params[0] == "self" and node.value == params[1]:
        t = serializer_object(ctx, cls.qualname, frame.node.name.value)
        if t is not None:
            return t
        t = admin_object(ctx, cls, frame.node.name.value)
        if t is not None:
            return t
    # annotated parameter: ``def f(book: Book)``
    p = b.node
    if isinstance(p, cst.Param) and p.annotation is not None:
        ann = p.annotation.annotation
        m = _model_of_class_expr(ann, ctx) if N.dotted(ann) else None
        if m is not None:
            return DjType(INST, m.qualname)
        return None
    # ``def collect(submission)``: a parameter without a default named after the one project model
    # of that name holds that model's instance (``submission.answers.all()``). When the project
    # calls the function, every call must pass such an instance, and what they loaded counts.
    # Only inside this function's loops: a single query through it is no N+1 here, and counting it
    # as a query the function runs would judge its callers' loops on naming evidence alone.
    if isinstance(p, cst.Param) and p.default is None and node.value not in ("self", "cls", "request") and frame.facts is not None and ctx.loops:
        named = model_named_like(node.value, ctx)
        if named is None:
            return None
        if not ctx.index.callers_of(frame.facts.qualname):
            return DjType(INST, named.qualname)
        passed = param_from_callers(ctx, frame.facts, params.index(node.value), node.value, instances=True)
        if passed is None or passed.model not in (None, named.qualname):
            return None  # a caller passes another model's instance, or something we cannot follow
        return replace(passed, model=named.qualname)
    return None


def assigned_before(node: cst.Attribute, ctx: Context) -> bool:
    """``poll.thread = threads[poll.thread_id]`` earlier in the function: ``poll.thread`` is now
    whatever was assigned (no lazy load, and not known to carry its relations)."""
    fn = ctx.function
    if fn is None:
        return False
    stores = ctx.memo(("attr-stores", id(fn.node)), lambda: _attribute_stores(fn.node, ctx))
    at = stores.get(N.code(node))
    if not at:
        return False
    here = ctx.span(node)
    return any(pos < (here.line, here.column) for pos in at)


def _attribute_stores(fn_node: cst.CSTNode, ctx: Context) -> Dict[str, List[Tuple[int, int]]]:
    out: Dict[str, List[Tuple[int, int]]] = {}
    for n in N.walk(fn_node, into_functions=False):
        if isinstance(n, cst.Assign):
            for t in n.targets:
                if isinstance(t.target, cst.Attribute) and isinstance(t.target.value, cst.Name) and t.target.value.value != "self":
                    span = ctx.span(n)
                    out.setdefault(N.code(t.target), []).append((span.line, span.column))
    return out


def _infer_attribute(node: cst.Attribute, ctx: Context) -> Optional[DjType]:
    attr = node.attr.value
    graph = graph_of(ctx)
    # Model.objects / custom managers
    m = _model_of_class_expr(node.value, ctx) if isinstance(node.value, (cst.Name, cst.Attribute)) and attr in graph.manager_names else None
    if m is not None:
        if attr in m.managers:
            return _manager_defaults(ctx, m, attr, DjType(QS, m.qualname, manager=True, origin=node))
        return None
    if attr in ("objects", "_default_manager"):
        ext = _external_model(node.value, ctx)
        if ext is not None:
            return DjType(QS, ext, manager=True, origin=node)
    if attr == "object_list" and isinstance(node.value, cst.Name) and node.value.value == "self" and ctx.class_frame is not None:
        return view_queryset(ctx, ctx.class_frame.qualname)  # ListView / MultipleObjectMixin
    if attr == "object" and isinstance(node.value, cst.Name) and node.value.value == "self" and ctx.class_frame is not None:
        return _single_object(ctx, ctx.class_frame.qualname)  # DetailView / UpdateView: self.object = self.get_object()
    base = infer(node.value, ctx) or _named_self_attribute(node.value, attr, ctx) or _param_with_manager(node, ctx)
    if base is None:
        return None
    if attr == "object_list" and base.kind == LIST and base.evaluated and base.model is not None:
        return base  # page.object_list of a Paginator page
    if base.kind != INST:
        return None
    model = graph.get(base.model)
    if model is None or assigned_before(node, ctx):
        return None
    ta = base.to_attr(attr)
    rel = model.relation(attr)
    if ta is not None:
        if rel is not None and rel.kind in SINGLE:
            return ta  # the parent a related manager set on its rows: it varies with the parent's loop, not this one
        return replace(ta, loop=base.loop)
    if rel is None:
        got = _property_queryset(base.model, attr, ctx) if base.model else None
        # a new queryset per object: per object of the serializer that object is (``plan.published_projects``)
        return replace(got, per_object=base.per_object) if got is not None and base.per_object else got
    if base.named_only and len(graph.relation_owners.get(attr, ())) != 1:
        return None  # naming evidence only: the relation must belong to that one model
    sub = sub_paths(base.covered, attr)
    if rel.kind in SINGLE:
        follows = base.select_all and rel.kind in ("fk", "o2o") and not rel.null
        return DjType(INST, rel.target if rel.kind != GFK else None, sub, follows, loop=base.loop, per_object=base.per_object, opaque=base.opaque)
    back: Tuple[Tuple[str, DjType], ...] = ()
    if rel.kind == REV_FK and rel.field_name:
        # ``for child in parent.children.all(): child.parent``: Django sets each child's foreign
        # key back to ``parent`` itself (the related manager's known related objects, prefetches
        # too), so ``child.parent.owner`` is the parent's relation, loaded once per parent
        sub = sub | {rel.field_name}
        back = ((rel.field_name, base),)
    return DjType(
        QS, rel.target, sub, to_attrs=back, related=N.short(node), prefetched=attr in base.covered or base.opaque, origin=node, owner_loop=base.loop,
        per_object=base.per_object, opaque=base.opaque,
    )


def _property_queryset(model: str, attr: str, ctx: Context) -> Optional[DjType]:
    """``course.final_grade_documents``: a ``@property`` (or ``cached_property``) of the model
    that returns a queryset (``self.grade_documents.filter(type=FINAL)``), a new one per object."""
    fn = ctx.index.find_method(model, attr)
    if fn is None or not any(d.rsplit(".", 1)[-1] in ("property", "cached_property") for d in fn.decorators):
        return None
    if not _may_return_queryset(fn):
        return None
    got = function_returns(ctx, fn.qualname)
    return got if got is not None and got.kind == QS else None


# queryset methods that query even on a prefetched related manager (``count()``, ``first()`` may not)
_MANAGER_QUERIES = frozenset({"filter", "exclude", "get", "values", "values_list", "order_by", "aggregate", "annotate", "distinct", "only", "defer"})


def _param_with_manager(node: cst.Attribute, ctx: Context) -> Optional[DjType]:
    """``entity.duplicates1.filter(...)`` in a helper given ``entity``: a to-many relation name
    only one concrete project model has, followed by a queryset method, marks the parameter as an
    instance of that model. What it loaded is unknown (opaque): only what queries regardless (a
    ``filter()``) counts."""
    if not isinstance(node.value, cst.Name) or node.value.value in ("self", "cls", "request"):
        return None
    graph = graph_of(ctx)
    owners = [graph.get(q) for q in graph.relation_owners.get(node.attr.value, ())]
    concrete = [m for m in owners if m is not None and not m.abstract]
    if len(concrete) != 1:
        return None
    rel = concrete[0].relation(node.attr.value)
    if rel is None or not rel.many:
        return None
    b = ctx.binding(node.value.value, at=node)
    if b is None or b.kind != "param" or not isinstance(b.node, cst.Param):
        return None  # a function's parameter (not a lambda's, not a loop's)
    parent = ctx.parent_of(node)
    outer = ctx.parent_of(parent) if isinstance(parent, cst.Attribute) and parent.value is node else None
    if not (isinstance(outer, cst.Call) and outer.func is parent and cast(cst.Attribute, parent).attr.value in _MANAGER_QUERIES):
        return None
    return DjType(INST, concrete[0].qualname, opaque=True)


def _named_self_attribute(expr, relation: str, ctx: Context) -> Optional[DjType]:
    """``self.round.debate_set`` in a view or mixin, where ``self.round`` is a property or an
    attribute querylint cannot follow (cached, looked up by URL): named after the one project
    model ``Round``, and read through a relation ``Round`` has, it is a ``Round`` instance."""
    if not (isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Name) and expr.value.value == "self"):
        return None
    hits = _concrete_models_named(ctx, expr.attr.value)
    if len(hits) != 1 or hits[0].relation(relation) is None:
        return None
    return DjType(INST, hits[0].qualname)


def _infer_call(node: cst.Call, ctx: Context) -> Optional[DjType]:
    func = node.func
    m: Union[str, ModelInfo, None]  # a model qualname (admin), then a model
    if isinstance(func, cst.Attribute):
        method = func.attr.value
        recv = infer(func.value, ctx)
        if recv is not None:
            if recv.kind == QS and method in ("in_bulk", "ain_bulk") and recv.model is not None:
                return replace(recv, kind=DICT, evaluated=True, related=None, manager=False, loop=None)
            if recv.kind == DICT:
                return _dict_value(recv, node.args[0].value if node.args else None, node, ctx) if method == "get" else None
            if recv.kind in (QS, ROWS):
                if method in SINGLE_RESULT and recv.kind == QS:
                    return DjType(INST, recv.model, recv.covered, recv.select_all, recv.to_attrs, recv.only, recv.defer)
                if method in ("get_or_create", "update_or_create", "aget_or_create", "aupdate_or_create"):
                    return None
                return apply_method(recv, method, node, ctx)
            if recv.kind == INST and recv.model:
                # ``doc.links_to()``: a model method that returns a queryset (``DocumentLink.objects.filter(linked_to=self)``)
                fn = ctx.index.find_method(recv.model, method)
                if fn is not None and _may_return_queryset(fn):
                    return function_returns(ctx, fn.qualname)
            return None
        unique = _unique_model_method(func, ctx)
        if unique is not None:
            return function_returns(ctx, unique)
        if method in ("get_page", "page") and node.args:
            inner = _paginated(func.value, ctx)
            if inner is not None:
                return replace(inner, kind=LIST, evaluated=True, related=None, manager=False)  # a Page: iterates its rows
        if method in ("filter_queryset", "paginate_queryset") and node.args and isinstance(func.value, cst.Name) and func.value.value == "self":
            inner = infer(node.args[0].value, ctx)
            if inner is not None and method == "paginate_queryset" and inner.kind == QS:
                return replace(inner, kind=LIST, evaluated=True)
            return inner
        # ``super().get_queryset()`` / ``self.get_queryset()`` in a view
        is_self = (isinstance(func.value, cst.Name) and func.value.value == "self") or (
            isinstance(func.value, cst.Call) and N.dotted(func.value.func) == "super"
        )
        if is_self and method in ("get_queryset", "get_object"):
            t = view_queryset_in_context(ctx, skip_own=isinstance(func.value, cst.Call))
            cls = ctx.class_frame
            if t is None and method == "get_queryset" and isinstance(func.value, cst.Call) and cls is not None and is_model_admin(ctx.index, cls.qualname):
                m = admin_model(ctx, cls)
                t = DjType(QS, m, origin=node) if m else None
            if t is not None and method == "get_object":
                return DjType(INST, t.model, t.covered, t.select_all, t.to_attrs, t.only, t.defer)
            return t
    name = N.dotted(func)
    if name is None:
        return None
    last = name.rsplit(".", 1)[-1]
    if last in ("list", "sorted", "tuple", "reversed") and node.args:
        inner = infer(node.args[0].value, ctx)
        if inner is not None and inner.kind in (QS, LIST):
            return replace(inner, kind=LIST, evaluated=True, related=None, manager=False)
        if inner is not None and inner.kind == ROWS:
            return replace(inner, evaluated=True, related=None)
        return None
    if last in ("get_object_or_404", "aget_object_or_404") and node.args:
        first = node.args[0].value
        m = _model_of_class_expr(first, ctx)
        if m is not None:
            return DjType(INST, m.qualname)
        inner = infer(first, ctx)
        if inner is not None and inner.kind == QS:
            return DjType(INST, inner.model, inner.covered, inner.select_all, inner.to_attrs, inner.only, inner.defer)
        return None
    if last in ("get_list_or_404",) and node.args:
        first = node.args[0].value
        m = _model_of_class_expr(first, ctx)
        if m is not None:
            return DjType(LIST, m.qualname, evaluated=True)
        return None
    m = _model_of_class_expr(func, ctx)
    if m is not None:
        return DjType(INST, m.qualname)  # an unsaved instance
    return returned_by_call(node, ctx)


# ---------------------------------------------------------------------------------------- helpers' returns


def _unique_model_method(func: cst.Attribute, ctx: Context) -> Optional[str]:
    """``doc.links_to()`` on a receiver of unknown type, when ``links_to`` is a method of exactly one
    project model and of nothing else in the project (no other class or function has the name) and it
    returns a queryset: the method's qualname. Names Django's own API uses never count."""
    method = func.attr.value
    if method.startswith("_") or method in _QS_WORDS or method in READS or len(method) < 5:
        return None
    if isinstance(func.value, cst.Name) and func.value.value in ("self", "cls"):
        return None

    def compute() -> Optional[str]:
        same = ctx.index.functions_by_name.get(method, ())
        if len(same) != 1 or same[0].cls is None:
            return None
        graph = model_graph(ctx.index)
        fn = same[0]
        if graph.get(fn.cls) is None or not _may_return_queryset(fn):
            return None
        return fn.qualname

    return ctx.index.derived(f"django-unique-model-method:{method}", lambda _i: compute())


# what a helper may do to a queryset it is given and hands back, and it still loads the same
# relations (``qs = apply_filters(qs, request)``)
_REFINING = {"filter", "exclude", "order_by", "all", "distinct", "annotate", "alias", "using", "reverse", "complex_filter"}


def returned_by_call(node: cst.Call, ctx: Context) -> Optional[DjType]:
    """What a project function returns, when it is a queryset/instance (this file or another)."""
    from querylint.project.facts import FunctionFacts  # noqa: F401

    passed = refined_argument(node, ctx, _REFINING)
    if passed is not None:
        got = infer(passed, ctx)
        return got if got is not None and got.kind == QS else None

    name = N.dotted(node.func)
    if not name:
        return None
    head = name.split(".")[0]
    index = ctx.index
    fn = None
    if head in ("self", "cls") and name.count(".") == 1:
        cls = ctx.class_frame
        if cls is not None:
            fn = index.find_method(cls.qualname, name.split(".")[1])
    else:
        b = ctx.binding(head, at=node) if ctx.frames else None
        if b is not None and b.kind not in ("import", "def", "class"):
            return None
        q = ctx.qualify(node.func)
        if q:
            fn = index.resolve_function(q, ctx.function_facts())
            if fn is None and "." not in name:
                fn = index.functions.get(f"{ctx.module}.{name}")
    if fn is None or not _may_return_queryset(fn):
        return None
    return function_returns(ctx, fn.qualname)


_QS_WORDS = CHAIN | SINGLE_RESULT | {"objects", "_default_manager", "get_queryset", "get_object_or_404", "aget_object_or_404", "get_list_or_404", "get_object"}


def _may_return_queryset(fn) -> bool:
    """Cheap test on the index facts: does the function call anything queryset-like at all?"""
    for target in fn.calls:
        parts = target.split(".")
        if any(p in _QS_WORDS for p in parts[1:]) or parts[-1] in _QS_WORDS:
            return True
    return False


def _helper_loaded_instance(ctx: Context, fn, cq: str, caller, position: int, name: str) -> Tuple[DjType, ...]:
    """The instance ``caller`` passes for ``fn``'s parameter at every call (``for f in
    get_models(ids): match(f)``), when all of them can be typed; () otherwise."""
    is_method = fn.cls is not None and fn.params[:1] in (("self",), ("cls",))
    off = offline(ctx, caller.path)
    if off is None or cq not in off.defs:
        return ()
    saved = off.ctx.frames
    got: Optional[DjType] = None
    try:
        off.enter(cq)
        frames = list(off.ctx.frames)
        for call in N.walk(off.defs[cq].body, into_functions=False):
            if not isinstance(call, cst.Call) or (N.dotted(call.func) or "").rsplit(".", 1)[-1] != fn.name:
                continue
            pos = position - 1 if is_method else position
            arg = N.arg(call, pos, name) if pos >= 0 else None
            off.ctx.frames = list(frames)
            t = infer(arg, off.ctx) if arg is not None else None
            if t is None and isinstance(arg, cst.Name):
                t = _loop_element_around(arg, call, off.ctx)
            if t is None or t.kind != INST or (got is not None and t.model != got.model):
                return ()
            got = t if got is None else replace(got, covered=got.covered | t.covered)
    finally:
        off.ctx.frames = saved
    return (got,) if got is not None else ()


def _may_load_rows(fn, index) -> bool:
    """``_may_return_queryset``, or a call to a project function that may (``findings =
    get_models(ids)``, a helper that builds and returns the prefetched rows)."""
    if _may_return_queryset(fn):
        return True
    for target in fn.calls:
        hit = index.resolve_function(target, fn)
        if hit is not None and hit is not fn and _may_return_queryset(hit):
            return True
    return False


def _root_of(ctx: Context) -> Optional[Path]:
    try:
        p = Path(getattr(ctx, "file", None) or ctx.path).resolve()
    except (OSError, RuntimeError):  # RuntimeError: a symlink loop (Python < 3.13)
        return None
    for _ in range(len(PurePosixPath(ctx.relpath).parts)):
        p = p.parent
    return p


class _Offline:
    """A parsed file with a context we can point at any of its functions or classes."""

    def __init__(self, ctx: Context, module: cst.Module):
        self.ctx = ctx
        self.module = module
        self.defs: Dict[str, Union[cst.FunctionDef, cst.ClassDef]] = {}
        self.chains: Dict[str, List[Tuple[str, cst.CSTNode, str]]] = {}
        self._index(module, ctx.module, [])

    def _index(self, node, prefix, chain):
        body = node.body.body if isinstance(getattr(node, "body", None), cst.IndentedBlock) else (node.body if isinstance(node, cst.Module) else ())
        for stmt in body:
            if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
                q = f"{prefix}.{stmt.name.value}"
                kind = "class" if isinstance(stmt, cst.ClassDef) else "function"
                self.defs[q] = stmt
                self.chains[q] = chain + [(kind, stmt, q)]
                self._index(stmt, q, chain + [(kind, stmt, q)])
            elif isinstance(stmt, (cst.If, cst.Try)):
                for inner in N.walk(stmt, into_functions=False):
                    if isinstance(inner, (cst.FunctionDef, cst.ClassDef)) and inner is not stmt:
                        q = f"{prefix}.{inner.name.value}"
                        self.defs.setdefault(q, inner)
                        self.chains.setdefault(q, chain + [("class" if isinstance(inner, cst.ClassDef) else "function", inner, q)])

    def enter(self, qualname: str) -> bool:
        """Point the context's frames at a def/class; fill parents for its subtree."""
        chain = self.chains.get(qualname)
        if chain is None:
            return False
        ctx = self.ctx
        ctx.frames = [Frame("module", self.module, ctx.module)]
        for kind, node, q in chain:
            facts = ctx.facts_of(q) if kind == "function" else None
            ctx.frames.append(Frame(kind, node, q, facts=facts))
        ctx.fill_parents(chain[-1][1])
        return True


OFFLINE_FILES_PER_FILE = 50  # real projects consult a handful (netbox: at most 4)


def offline(ctx: Context, relpath: str) -> Optional[_Offline]:
    """A parsed copy of another project file (memoised per run), for helper and view inference.

    Bounded per file being analysed: it may consult at most :data:`OFFLINE_FILES_PER_FILE` other
    files (served from the memo or not). The bound does not depend on which files this process
    parsed, so the output does not depend on ``--jobs``; a per-process budget of re-parses did."""
    if relpath != ctx.relpath:
        asked = ctx.memo(("django-offline-asked",), set)
        if relpath not in asked:
            if len(asked) >= OFFLINE_FILES_PER_FILE:
                return None
            asked.add(relpath)
    store = ctx.index.derived("django-offline-files", lambda _i: {})
    if relpath in store:
        return store[relpath]
    facts = ctx.index.files.get(relpath)
    if facts is None:
        store[relpath] = None
        return None
    # the tree this process already parsed, when it has it (no second parse)
    module = ctx.module_node if relpath == ctx.relpath else ctx.index.tree(relpath)
    store[relpath] = None
    if module is None:
        root = _root_of(ctx)
        if root is None:
            return None
        try:
            module = cst.parse_module((root / relpath).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, cst.ParserSyntaxError):  # gone, not UTF-8, changed since indexed
            return None
    octx = Context(path=relpath, relpath=relpath, source="", module=module, facts=facts, index=ctx.index, config=ctx.config)
    off = _Offline(octx, module)
    octx.fill_parents(module)
    store[relpath] = off
    return off


_DEPTH = [0]


_DEFAULT_LOADS = ("select_related", "prefetch_related")


def _manager_defaults(ctx: Context, model, attr: str, base: DjType) -> DjType:
    """``Model.objects`` when the project Manager's ``get_queryset()`` adds select_related/prefetch_related:
    the relations it loads count as loaded (a conditional one too: silence is the safe side)."""
    mgr = model.manager_classes.get(attr)
    fn = ctx.index.find_method(mgr, "get_queryset") if mgr else None
    if fn is None:
        return base
    store = ctx.index.derived("django-manager-defaults", lambda _i: {})
    key = (fn.qualname, model.qualname)
    if key not in store:
        store[key] = None
        covered = _manager_loads(ctx, fn, base)
        store[key] = (covered.covered, covered.select_all, covered.opaque, covered.to_attrs) if covered is not None else None
    got = store[key]
    if got is None:
        return base
    covered, select_all, opaque, to_attrs = got
    return replace(base, covered=base.covered | covered, select_all=base.select_all or select_all, opaque=base.opaque or opaque,
                   to_attrs=base.to_attrs + to_attrs)


def _manager_loads(ctx: Context, fn, base: DjType) -> Optional[DjType]:
    off = offline(ctx, fn.path)
    if off is None:
        return None
    saved = off.ctx.frames
    try:
        if not off.enter(fn.qualname):
            return None
        node = off.defs[fn.qualname]
        calls = [n for n in N.walk(node.body, into_functions=False)
                 if isinstance(n, cst.Call) and isinstance(n.func, cst.Attribute) and n.func.attr.value in _DEFAULT_LOADS]
        t = replace(base, covered=frozenset(), origin=None)
        for call in reversed(calls):  # inner calls of a chain first
            t = apply_method(t, cast(cst.Attribute, call.func).attr.value, call, off.ctx) or t
        return t
    finally:
        off.ctx.frames = saved


def function_returns(ctx: Context, qualname: str) -> Optional[DjType]:
    store = ctx.index.derived("django-returns", lambda _i: {})
    if qualname in store:
        return store[qualname]
    store[qualname] = None
    fn = ctx.index.functions.get(qualname)
    if fn is None or _DEPTH[0] > 6:
        return None
    off = offline(ctx, fn.path)
    if off is None:
        return None
    _DEPTH[0] += 1
    saved = off.ctx.frames
    try:
        if not off.enter(qualname):
            return None
        node = off.defs[qualname]
        frames = list(off.ctx.frames)
        results: List[DjType] = []
        empty: List[DjType] = []  # ``return Model.objects.none()``: no rows, nothing to load
        # ``except ...: return self.all()``: the fallback of a failed build, not the normal path
        fallback: List[DjType] = []
        in_handlers = {id(r) for h in N.walk(node.body, into_functions=False) if isinstance(h, cst.ExceptHandler)
                       for r in N.walk(h, into_functions=False) if isinstance(r, cst.Return)}
        for n in N.walk(node.body, into_functions=False):
            if isinstance(n, cst.Return) and isinstance(n.value, (cst.List, cst.Tuple)) and not n.value.elements:
                continue  # ``if not ids: return []``: no rows, nothing to load
            if isinstance(n, cst.Return) and n.value is not None:
                off.ctx.frames = list(frames)
                t = infer(n.value, off.ctx)
                if t is None:
                    return None
                none = isinstance(n.value, cst.Call) and isinstance(n.value.func, cst.Attribute) and n.value.func.attr.value == "none"
                (empty if none else fallback if id(n) in in_handlers else results).append(t)
        results = results or fallback or empty
        if not results:
            return None
        first = results[0]
        if any(r.model != first.model or r.kind != first.kind for r in results[1:]):
            return None
        covered = first.covered
        # returns chosen by the view's action (``if self.action == "list": return optimize(qs)``):
        # the action judged may be the one that loads most; silence is the safe side
        per_action = len(results) > 1 and _per_action(node)
        for r in results[1:]:
            covered = covered | r.covered if per_action else covered & r.covered
        result = replace(first, covered=covered, loop=None, origin=None)
        store[qualname] = result
        return result
    finally:
        off.ctx.frames = saved
        _DEPTH[0] -= 1


_ACTION_TESTS = ("self.action", "self.detail", "self.request.method", "request.method")


def _per_action(fn: cst.CSTNode) -> bool:
    """A view method that branches on the action or the HTTP method (``if self.action == "list":``)."""
    return any(isinstance(n, cst.If) and any(t in N.code(n.test) for t in _ACTION_TESTS) for n in N.walk(fn, into_functions=False))


def class_attr_queryset(ctx: Context, cls_qualname: str, attr: str = "queryset") -> Tuple[Optional[DjType], Optional[cst.CSTNode], Optional[Any]]:
    """The queryset a view class assigns to ``queryset = ...`` (own or inherited): (type, node, offline file)."""
    index = ctx.index
    cls = index.classes.get(cls_qualname)
    if cls is None:
        return None, None, None
    for c in index.mro_classes(cls):
        if c.attr(attr) is None:
            continue
        off = offline(ctx, c.path)
        if off is None or c.qualname not in off.defs:
            return None, None, None
        node = off.defs[c.qualname]
        for stmt in node.body.body:
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, cst.Assign) and any(N.dotted(t.target) == attr for t in small.targets):
                        saved = off.ctx.frames
                        try:
                            off.enter(c.qualname)
                            return infer(small.value, off.ctx), small, off
                        finally:
                            off.ctx.frames = saved
        return None, None, None
    return None, None, None


def view_queryset(ctx: Context, cls_qualname: str, skip_own: bool = False) -> Optional[DjType]:
    """What a view's list queryset is: ``get_queryset()`` when defined, else ``queryset``."""
    index = ctx.index
    cls = index.classes.get(cls_qualname)
    if cls is None:
        return None
    model: Optional[DjType] = None
    attr_t: Optional[DjType] = None
    for c in index.mro_classes(cls):
        if skip_own and c.qualname == cls_qualname:
            continue
        if "get_queryset" in c.methods:
            # a project base's ``get_queryset`` runs even under a subclass's ``model = X``
            # (awx: ``return self.request.user.get_queryset(self.model)``)
            if attr_t is not None:
                # ... and over a subclass's ``queryset = ...`` (ralph's mixin applying the view's
                # ``select_related`` list): the class attribute, with what that method loads
                return _with_base_loads(ctx, attr_t, f"{c.qualname}.get_queryset", cls_qualname)
            return function_returns(ctx, f"{c.qualname}.get_queryset")
        if attr_t is None and c.attr("queryset") is not None:
            t, _node, _off = class_attr_queryset(ctx, c.qualname)
            if t is None or not any("get_queryset" in b.methods for b in index.mro_classes(cls)):
                return t
            attr_t = t
        a = c.attr("model")
        if model is None and a is not None and a.value is not None and a.value[0] == "name":
            m = graph_of(ctx).resolve(a.value[1], c.module)
            if m is None:
                return None
            model = DjType(QS, m.qualname)  # Django's ``model._default_manager.all()``, unless a base reads it otherwise
    return model


def _with_base_loads(ctx: Context, t: DjType, method: str, view: str) -> Optional[DjType]:
    """``t`` with the relations a project base's ``get_queryset`` adds on top of ``super()``'s:
    its literal ``select_related``/``prefetch_related`` paths, and those of a list the view
    class names (``select_related(*self.select_related)`` with ``select_related = ["model"]``:
    ralph's mixin); opaque when it passes anything else."""
    fn = ctx.index.functions.get(method)
    off = offline(ctx, fn.path) if fn is not None else None
    node = off.defs.get(method) if off is not None else None
    if node is None:
        return replace(t, opaque=True)
    if not any(isinstance(n, cst.Call) and N.code(n.func) == "super().get_queryset" for n in N.walk(node.body, into_functions=False)):
        return function_returns(ctx, method) or replace(t, opaque=True)  # its own queryset, not the attribute
    for n in N.walk(node.body, into_functions=False):
        if isinstance(n, cst.Call) and N.call_name(n) in ("select_related", "prefetch_related"):
            paths = _load_args(ctx, n, view)
            if paths is None:
                return replace(t, opaque=True)
            t = replace(t, covered=t.covered | expand_paths(paths))
    return t


def _load_args(ctx: Context, call: cst.Call, view: str) -> Optional[List[str]]:
    """The relation paths a load call names: literals, ``None`` (clears, adds nothing), or
    ``*self.<attr>`` where the view's class attribute is a literal list of them; None if unknown."""
    out: List[str] = []
    for arg in call.args:
        v = arg.value
        if arg.star == "*" and isinstance(v, cst.Attribute) and N.code(v.value) == "self":
            listed = _class_list_attr(ctx, view, v.attr.value)
            if listed is None:
                return None
            out.extend(listed)
        elif N.string_value(v) is not None:
            out.append(cast(str, N.string_value(v)))
        elif not (isinstance(v, cst.Name) and v.value == "None") or arg.star:
            return None
    return out if call.args else None


def _class_list_attr(ctx: Context, cls_qualname: str, name: str) -> Optional[List[str]]:
    """A class attribute (through the MRO) that is a literal list or tuple of strings."""
    cls = ctx.index.classes.get(cls_qualname)
    for c in ctx.index.mro_classes(cls) if cls is not None else ():
        a = c.attr(name)
        if a is None:
            continue
        v = a.value
        if v is not None and v[0] in ("list", "tuple") and all(k == "str" for k, _ in v[1]):
            return [s for _, s in v[1]]
        return None
    return None


_SINGLE_OBJECT_VIEWS = frozenset({
    "SingleObjectMixin", "BaseDetailView", "DetailView", "BaseUpdateView", "UpdateView", "BaseDeleteView", "DeleteView",
})


def _single_object(ctx: Context, cls_qualname: str) -> Optional[DjType]:
    """``self.object`` of a Django single-object view: the instance ``get_object()`` loads from the view's queryset."""
    cls = ctx.index.classes.get(cls_qualname)
    if cls is None or not any(a.rsplit(".", 1)[-1] in _SINGLE_OBJECT_VIEWS for a in ctx.index.ancestors(cls)):
        return None
    t = view_queryset(ctx, cls_qualname)
    if t is None or t.kind != QS or t.model is None:
        return None
    return DjType(INST, t.model, t.covered, t.select_all, t.to_attrs, t.only, t.defer)


def view_queryset_in_context(ctx: Context, skip_own: bool) -> Optional[DjType]:
    cls = ctx.class_frame
    if cls is None:
        return None
    if skip_own:
        # super().get_queryset(): the class attribute / the parent's get_queryset
        own = ctx.index.classes.get(cls.qualname)
        if own is None:
            return None
        if own.attr("queryset") is not None:
            t, _n, _o = class_attr_queryset(ctx, cls.qualname)
            return t
        return view_queryset(ctx, cls.qualname, skip_own=True)
    return view_queryset(ctx, cls.qualname)


def serializer_object(ctx: Context, cls_qualname: str, method: str) -> Optional[DjType]:
    """The object a serializer's ``get_<field>`` method receives, with what the views using it load."""
    from querylint.frameworks.django.drf import drf_info

    drf = drf_info(ctx.index)
    ser = drf.serializers.get(cls_qualname)
    if ser is None or ser.model is None or method not in ser.method_fields or drf.only_single_objects(cls_qualname):
        return None
    covered = None
    select_all = True
    for view in drf.users.get(cls_qualname, ()):
        t = view_queryset(ctx, view)
        if t is None or t.model != ser.model:
            return None  # a view we cannot read: stay silent
        if t.opaque:
            return None
        covered = t.covered if covered is None else covered & t.covered
        select_all = select_all and t.select_all
    # nested only under its parent's reverse relation: ``obj.build`` is that parent, whose own
    # relations load once per parent (the parent serializer's concern), not once per object
    parents = tuple((back, DjType(INST, parent, opaque=True)) for back, parent in sorted(drf.parent_back_refs(cls_qualname)))
    if len({back for back, _ in parents}) != len(parents):
        parents = ()
    # no view, no ``many=True`` and no parent is known to list with it: the rows it gets come from
    # code querylint cannot follow (``DataExporter(IssueExportSerializer)`` calling
    # ``self.serializer_class(queryset, many=True)``) and may load anything
    unknown_rows = cls_qualname in drf.passed_on and cls_qualname not in drf.list_known and not drf.users.get(cls_qualname)
    return DjType(
        INST, ser.model, covered or frozenset(), bool(covered is not None and select_all), to_attrs=parents, per_object=cls_qualname,
        opaque=unknown_rows,
    )


def is_model_admin(index, cls_qualname: str) -> bool:
    cls = index.classes.get(cls_qualname)
    if cls is None:
        return False
    return any(a.rsplit(".", 1)[-1] == "ModelAdmin" for a in index.ancestors(cls))


def admin_model(ctx: Context, cls_frame) -> Optional[str]:
    """The model a ModelAdmin is registered for: ``@admin.register(Model)`` or ``admin.site.register(Model, Admin)``."""

    def compute():
        node = cls_frame.node
        for dec in getattr(node, "decorators", ()):
            d = dec.decorator
            if isinstance(d, cst.Call) and N.call_name(d) == "register" and d.args:
                m = _model_of_class_expr(d.args[0].value, ctx)
                if m is not None:
                    return m.qualname
        name = cls_frame.qualname.rsplit(".", 1)[-1]
        for stmt in ctx.module_node.body:
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    call = small.value if isinstance(small, cst.Expr) else None
                    if isinstance(call, cst.Call) and N.call_name(call) == "register" and len(call.args) >= 2 and N.dotted(call.args[1].value) == name:
                        m = _model_of_class_expr(call.args[0].value, ctx)
                        if m is not None:
                            return m.qualname
        return None

    return ctx.memo(("dj-admin-model", id(cls_frame.node)), compute)


def admin_object(ctx: Context, cls_frame, method: str) -> Optional[DjType]:
    """The object a ModelAdmin ``list_display`` method receives, one call per row of the changelist."""
    index = ctx.index
    if not is_model_admin(index, cls_frame.qualname):
        return None
    facts = index.classes.get(cls_frame.qualname)
    if facts is None:
        return None
    ld = None
    for c in index.mro_classes(facts):
        a = c.attr("list_display")
        if a is not None:
            ld = a.value
            break
    if ld is None or ld[0] != "list":
        return None
    names = [v for k, v in ld[1] if k == "str"]
    if method not in names:
        return None
    model_q = admin_model(ctx, cls_frame)
    graph = graph_of(ctx)
    model = graph.get(model_q)
    if model is None:
        return None
    covered: FrozenSet[str] = frozenset()
    select_all = False
    lsr = None
    for c in index.mro_classes(facts):
        a = c.attr("list_select_related")
        if a is not None:
            lsr = a.value
            break
    if lsr is not None:
        if lsr == ("lit", True):
            select_all = True
        elif lsr[0] == "list":
            covered = expand_paths(v for k, v in lsr[1] if k == "str")
    elif any(model.relation(n) is not None and cast(Relation, model.relation(n)).kind in ("fk", "o2o") for n in names):
        select_all = True  # the changelist select_related()s when list_display names a ForeignKey
    if "get_queryset" in facts.methods:
        t = function_returns(ctx, f"{cls_frame.qualname}.get_queryset")
        if t is None:
            return None  # a get_queryset we cannot read: stay silent
        covered |= t.covered
        select_all = select_all or t.select_all
    return DjType(INST, model.qualname, covered, select_all, per_object=cls_frame.qualname)
