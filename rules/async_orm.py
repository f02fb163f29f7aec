"""Tortoise ORM N+1s: awaited queries, relation fetches and writes once per item (QL135, QL136)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, FrozenSet, Optional, Tuple

import libcst as cst

from querylint.loops import classify_loop, per_item_loop
from querylint.rule import Rule, dedent, nodes as N
from querylint.subclasses import subclass_test

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


def _models(index) -> Dict[str, _TModel]:
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


def _model_of(node, ctx) -> Optional[str]:
    d = N.dotted(node)
    if d is None:
        return None
    models = _models(ctx.index)
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


def _queryset(expr, ctx) -> Optional[Tuple[str, Tuple[str, ...]]]:
    """(model, methods) when ``expr`` is a Tortoise query chain on a model class."""
    root, names = _chain_root(expr)
    if not names or names[0] not in CLASS_QUERIES | CLASS_WRITES:
        return None
    if any(n not in CHAIN and n not in CLASS_QUERIES and n not in CLASS_WRITES for n in names[1:]):
        return None
    model = _model_of(root, ctx)
    return (model, names) if model else None


def _instance(expr, ctx, depth=0) -> Optional[Tuple[str, Optional[Tuple[int, int]], FrozenSet[str]]]:
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


def _rows(expr, ctx, depth) -> Optional[Tuple[str, FrozenSet[str]]]:
    if isinstance(expr, cst.Await):
        expr = expr.expression
    if isinstance(expr, cst.Name):
        b = ctx.binding(expr.value, at=expr)
        if b is not None and b.kind in ("assign", "annassign") and b.is_simple and b.value is not None and depth < 6:
            return _rows(b.value, ctx, depth + 1)
        return None
    got = _queryset(expr, ctx)
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


def _per_item_loop(key, ctx):
    for loop in reversed(ctx.loops):
        if (id(loop.node), id(loop.clause)) == key:
            return loop if classify_loop(loop, ctx) == "items" else None
    return None


def classify(node: cst.Await, ctx) -> Optional[Tuple[str, str]]:
    """("query" | "write", description) for an awaited Tortoise statement."""
    expr = node.expression
    got = _queryset(expr, ctx)
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


def _relation(attr: cst.Attribute, ctx):
    inst = _instance(attr.value, ctx)
    if inst is None:
        return None
    model, _key, prefetched = inst
    models = _models(ctx.index)
    name = attr.attr.value
    if name not in models[model].relations or name in prefetched or "*" in prefetched:
        return None
    return inst


class TortoiseQueryInLoop(Rule):
    """
    ## What it does
    Flags a Tortoise ORM query awaited once per item of a loop or comprehension:
    `await Model.get(...)`, `await Model.filter(...)...`, `await obj.fetch_related(...)`, or an
    awaited relation of each row (`await order.customer`, `await user.posts.all()`) when the
    query did not `prefetch_related` / `select_related` it.

    ## Why is this bad?
    Every iteration waits for its own round trip: N items cost N queries, one after another.

    ## Example
    ```python
    for item in payload.items:
        product = await Product.get(id=item.product_id)
    ```

    ## Use instead
    ```python
    products = {p.id: p for p in await Product.filter(id__in=[i.product_id for i in payload.items])}
    ```
    and `Order.all().prefetch_related("customer")` for relations.
    """

    code = "QL135"
    name = "tortoise-query-in-loop"
    VALID = [
        {
            "app/models.py": dedent(
                """
                from tortoise import fields
                from tortoise.models import Model
                class Product(Model):
                    id = fields.IntField(pk=True)
                """
            ),
            "app/api.py": dedent(
                """
                from app.models import Product
                async def load(ids):
                    return {p.id: p for p in await Product.filter(id__in=ids)}
                """
            ),
        }
    ]
    INVALID = [
        {
            "app/models.py": VALID[0]["app/models.py"],
            "app/api.py": dedent(
                """
                from app.models import Product
                async def load(ids):
                    return [await Product.get(id=i) for i in ids]  # want: QL135
                """
            ),
        }
    ]

    def visit_Await(self, node: cst.Await) -> None:
        if self.ctx.loop is None or not _models(self.ctx.index):
            return
        got = classify(node, self.ctx)
        if got is None or got[0] not in ("query", "relation"):
            return
        loop = per_item_loop(self.ctx)
        if loop is None:
            return
        fix = (
            "prefetch the relation on the loop's query (`.prefetch_related(...)`)"
            if got[0] == "relation"
            else "fetch every row once before the loop (`filter(id__in=...)`) and look them up in a dict"
        )
        self.report(node, f"`await {got[1]}` runs a query on every iteration of {self.ctx.loop_label(loop)}; {fix}")


class TortoiseWriteInLoop(Rule):
    """
    ## What it does
    Flags a Tortoise ORM write awaited once per item of a loop: `await Model.create(...)`,
    `await obj.save()`, `await obj.delete()`, `await Model.filter(...).update(...)`.

    ## Why is this bad?
    One INSERT or UPDATE round trip per item.

    ## Example
    ```python
    for row in rows:
        await Event.create(**row)
    ```

    ## Use instead
    ```python
    await Event.bulk_create([Event(**row) for row in rows])
    ```
    """

    code = "QL136"
    name = "tortoise-write-in-loop"
    VALID = [
        {
            "app/models.py": TortoiseQueryInLoop.VALID[0]["app/models.py"],
            "app/load.py": dedent(
                """
                from app.models import Product
                async def load(rows):
                    await Product.bulk_create([Product(**r) for r in rows])
                """
            ),
        }
    ]
    INVALID = [
        {
            "app/models.py": TortoiseQueryInLoop.VALID[0]["app/models.py"],
            "app/load.py": dedent(
                """
                from app.models import Product
                async def load(rows):
                    for r in rows:
                        await Product.create(**r)  # want: QL136
                """
            ),
        }
    ]

    def visit_Await(self, node: cst.Await) -> None:
        if self.ctx.loop is None or not _models(self.ctx.index):
            return
        got = classify(node, self.ctx)
        if got is None or got[0] != "write":
            return
        loop = per_item_loop(self.ctx)
        if loop is None:
            return
        self.report(
            node,
            f"`await {got[1]}` writes one row on every iteration of {self.ctx.loop_label(loop)}; "
            "write them at once (`bulk_create`, `bulk_update`, or one `filter(id__in=...).update(...)`)",
        )


def detect_tortoise_query(node, ctx) -> Optional[str]:
    if not isinstance(node, cst.Call) or not isinstance(node.func, cst.Attribute):
        return None
    if N.call_name(node) not in CHAIN | CLASS_QUERIES | CLASS_WRITES:
        return None
    if not _models(ctx.index):
        return None
    parent = ctx.parent
    if not isinstance(parent, cst.Await):
        return None
    got = _queryset(node, ctx)
    return N.short(node.func) + "(...)" if got else None


RULES = (TortoiseQueryInLoop, TortoiseWriteInLoop)
QUERY_DETECTORS = (detect_tortoise_query,)
