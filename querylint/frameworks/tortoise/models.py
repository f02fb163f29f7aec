"""Tortoise ORM: its model graph (models and their relations, forward and reverse) and what an
awaited expression does (a query, a relation fetch, a write), read from the project index."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Dict, FrozenSet, Optional, Tuple

import libcst as cst

from querylint import nodes as N
from querylint.project.subclasses import subclass_test
if TYPE_CHECKING:  # pragma: no cover
    from querylint.context import Context

CLASS_QUERIES = {"get", "get_or_none", "filter", "exclude", "all", "first", "get_or_create", "update_or_create", "exists", "count", "in_bulk", "raw", "annotate", "select_for_update", "order_by"}
CLASS_WRITES = {"create"}
CHAIN = {
    "filter", "exclude", "order_by", "limit", "offset", "distinct", "annotate", "group_by", "using_db", "select_for_update",
    "only", "prefetch_related", "select_related", "values", "values_list", "all", "first", "get", "get_or_none", "count",
    "exists", "update", "delete",
}
WRITE_TERMINALS = {"update", "delete"}
INSTANCE_WRITES = {"save", "delete"}
INSTANCE_QUERIES = {"fetch_related", "refresh_from_db"}
RELATION_FIELDS = {"ForeignKeyField", "OneToOneField", "ManyToManyField", "ForeignKeyRelation", "OneToOneRelation"}


def _last(q: Optional[str]) -> str:
    return (q or "").rsplit(".", 1)[-1]


@dataclass(frozen=True)
class _TModel:
    qualname: str
    relations: FrozenSet[str]  # forward relation fields and reverse ``related_name``s


def tortoise_models(index) -> Dict[str, _TModel]:
    def compute(ix):
        is_model = subclass_test(ix, lambda base: base in ("tortoise.models.Model", "tortoise.Model"), 12)

        rels: Dict[str, set] = {}
        names = {}
        for cls in ix.classes.values():
            if is_model(cls):
                rels.setdefault(cls.qualname, set())
                names[cls.name] = cls.qualname
        for q in list(rels):
            cls = ix.classes[q]
            for attr in cls.attrs:
                if attr.call is None or _last(attr.call.func) not in RELATION_FIELDS:
                    continue
                rels[q].add(attr.name)
                target = attr.call.args[0] if attr.call.args else attr.call.kwarg("model_name")
                related = attr.call.kwarg("related_name")
                if target and target[0] == "str" and related and related[0] == "str" and related[1]:
                    tq = names.get(str(target[1]).rsplit(".", 1)[-1])
                    if tq:
                        rels.setdefault(tq, set()).add(str(related[1]))
        return {q: _TModel(q, frozenset(r)) for q, r in rels.items()}

    return index.derived("tortoise.models", compute)


def _model_of(node, ctx: Context) -> Optional[str]:
    d = N.dotted(node)
    if d is None:
        return None
    models = tortoise_models(ctx.index)
    if not models:
        return None
    b = ctx.binding(d.split(".")[0], at=node)
    if b is not None and b.kind not in ("import", "class", "def"):
        return None
    cls = ctx.index.resolve_class(ctx.qualify(node) or d, ctx.module)
    return cls.qualname if cls is not None and cls.qualname in models and cls.name == _last(d) else None


def _chain_root(expr) -> Tuple[Optional[cst.BaseExpression], Tuple[str, ...]]:
    """(the class a method chain starts from, method names) for ``Model.filter(...).first()``."""
    names = []
    cur = expr
    while isinstance(cur, cst.Call) and isinstance(cur.func, cst.Attribute):
        names.append(cur.func.attr.value)
        cur = cur.func.value
    return cur, tuple(reversed(names))


def queryset_of(expr, ctx: Context) -> Optional[Tuple[str, Tuple[str, ...]]]:
    """(model, methods) when ``expr`` is a Tortoise query chain on a model class."""
    root, names = _chain_root(expr)
    if not names or names[0] not in CLASS_QUERIES | CLASS_WRITES:
        return None
    if any(n not in CHAIN and n not in CLASS_QUERIES and n not in CLASS_WRITES for n in names[1:]):
        return None
    model = _model_of(root, ctx)
    return (model, names) if model else None


def _instance(expr, ctx: Context, depth=0) -> Optional[Tuple[str, Optional[Tuple[int, int]], FrozenSet[str]]]:
    """(model, per-item loop key, prefetched relations) for a Tortoise model instance."""
    if depth > 6:
        return None
    if isinstance(expr, cst.Name):
        loop = ctx.loop_binding(expr.value)
        if loop is not None and isinstance(loop.target, cst.Name) and loop.iter is not None:
            it = loop.iter.expression if isinstance(loop.iter, cst.Await) else loop.iter
            rows = _rows(it, ctx, depth + 1)
            if rows is not None:
                return rows[0], (id(loop.node), id(loop.clause)), rows[1]
        return None
    return None


def _rows(expr, ctx: Context, depth) -> Optional[Tuple[str, FrozenSet[str]]]:
    if isinstance(expr, cst.Await):
        expr = expr.expression
    if isinstance(expr, cst.Name):
        b = ctx.binding(expr.value, at=expr)
        if b is not None and b.kind in ("assign", "annassign") and b.is_simple and b.value is not None and depth < 6:
            return _rows(b.value, ctx, depth + 1)
        return None
    got = queryset_of(expr, ctx)
    if got is None:
        return None
    model, names = got
    if any(n in ("first", "get", "get_or_none", "count", "exists", "values", "values_list", "update", "delete", "create") for n in names):
        return None
    prefetched = set()
    cur = expr
    while isinstance(cur, cst.Call) and isinstance(cur.func, cst.Attribute):
        if cur.func.attr.value in ("prefetch_related", "select_related"):
            for a in cur.args:
                s = N.string_value(a.value)
                if s:
                    prefetched.add(s.split("__")[0])
                else:
                    prefetched.add("*")
        cur = cur.func.value
    return model, frozenset(prefetched)


def classify(node: cst.Await, ctx: Context) -> Optional[Tuple[str, str]]:
    """("query" | "write", description) for an awaited Tortoise statement."""
    expr = node.expression
    got = queryset_of(expr, ctx)
    if got is not None:
        model, names = got
        if names[0] in CLASS_WRITES or names[-1] in WRITE_TERMINALS:
            return "write", N.short(expr, 50)
        return "query", N.short(expr, 50)
    if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute):
        name = expr.func.attr.value
        inst = _instance(expr.func.value, ctx)
        if inst is not None:
            if name in INSTANCE_WRITES:
                return "write", N.short(expr, 50)
            if name == "fetch_related":
                return "relation", N.short(expr, 50)
            if name in INSTANCE_QUERIES:
                return "query", N.short(expr, 50)
        # await order.items.all() / .filter(...)
        root, names = _chain_root(expr)
        if isinstance(root, cst.Attribute) and names and all(n in CHAIN for n in names):
            rel = _relation(root, ctx)
            if rel is not None:
                return "relation", N.short(expr, 50)
    if isinstance(expr, cst.Attribute) and _relation(expr, ctx) is not None:
        return "relation", N.short(expr, 50)
    return None


def _relation(attr: cst.Attribute, ctx: Context):
    inst = _instance(attr.value, ctx)
    if inst is None:
        return None
    model, _key, prefetched = inst
    models = tortoise_models(ctx.index)
    name = attr.attr.value
    if name not in models[model].relations or name in prefetched or "*" in prefetched:
        return None
    return inst
