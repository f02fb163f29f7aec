"""The django adapter: the answers the pattern rules ask for, and its N+1 detectors."""
from __future__ import annotations

from typing import Optional

import libcst as cst

from querylint import nodes as N
from querylint.context import Context
from querylint.frameworks.base import (
    LAZY_RELATION, LEN_AS_COUNT, MEMBER_QUERY, PK_ONLY, QUERY_IN_LOOP, TAKE_ONE, TRUTHINESS, WRITE_IN_LOOP, Adapter, Hit,
)
from querylint.frameworks.django.overfetch import unwrap, fresh_queryset, only_counted_or_tested, rows_used_elsewhere
from querylint.frameworks.django.querysets import QS, infer


class DjangoAdapter(Adapter):
    name = "django"
    codes = {
        QUERY_IN_LOOP: "QL110", WRITE_IN_LOOP: "QL111", LAZY_RELATION: "QL112", MEMBER_QUERY: "QL117",
        LEN_AS_COUNT: "QL401", TRUTHINESS: "QL402", TAKE_ONE: "QL403", PK_ONLY: "QL404",
    }

    def detectors(self):
        from querylint.frameworks.django import n_plus_one as n1

        return {
            QUERY_IN_LOOP: n1.OrmQueryInLoop, WRITE_IN_LOOP: n1.OrmWriteInLoop,
            LAZY_RELATION: n1.LazyRelationInLoop, MEMBER_QUERY: n1.ModelQueryMemberInLoop,
        }

    def query_detectors(self):
        from querylint.frameworks.django.n_plus_one import detect_django_query

        return (detect_django_query,)

    def template_bound(self, name, expr, ctx: Context):
        from querylint.frameworks.django.templates import bound

        return bound(name, expr, ctx)

    def template_view(self, ctx: Context, cls_qualname, node, extra):
        from querylint.frameworks.django.templates import class_view_render

        return class_view_render(ctx, cls_qualname, node, dict(extra))

    def template_member(self, index, model, name):
        from querylint.frameworks.django.templates import member

        return member(index, model, name)

    def count_lookup(self, index, model, path):
        from querylint.frameworks.django.models import count_lookup, model_graph

        return count_lookup(model_graph(index), model, path)

    def template_fix(self, index, bound, path, where):
        from querylint.frameworks.django.templates import fix

        return fix(index, bound, path, where)

    def len_as_count(self, call: cst.Call, arg: cst.BaseExpression, ctx: Context) -> Optional[Hit]:
        if isinstance(arg, cst.Call):
            arg = unwrap(arg, ("list", "tuple")) or arg  # len(list(qs))
        if not isinstance(arg, (cst.Name, cst.Call)):
            return None  # self.object_list and friends are often iterated elsewhere (templates)
        t = fresh_queryset(arg, ctx)
        if t is None or (t.related is not None and _owner_from_caller(arg, ctx)):
            # ``len(self.conditions.all())`` is how Django code counts a relation a caller may have
            # prefetched (``count()`` would query anyway)
            return None
        if _locks_rows(arg):
            return None  # ``len(qs.select_for_update())``: the rows are loaded to lock them
        if isinstance(arg, cst.Name) and not only_counted_or_tested(arg, ctx):
            return None
        return Hit(f"`len({N.short(arg, 50)})` loads every row to count them", f"use `{N.short(arg, 40)}.count()`")

    def truth_tested(self, node: cst.BaseExpression, ctx: Context) -> Optional[Hit]:
        if fresh_queryset(node, ctx) is None:
            return None
        if isinstance(node, cst.Name) and not only_counted_or_tested(node, ctx):
            return None
        return Hit(f"testing `{N.short(node, 50)}` for truth loads every row", f"use `{N.short(node, 40)}.exists()`")

    def take_one(self, node: cst.CSTNode, ctx: Context) -> Optional[Hit]:
        inner: Optional[cst.BaseExpression]
        if isinstance(node, cst.Call):  # next(iter(qs)): iterating a queryset fetches every row first
            inner = node.args[0].value
            if not isinstance(inner, cst.Call) or unwrap(inner, ("iter",)) is None:
                return None
            if ctx.binding("iter", at=node) is not None or fresh_queryset(inner.args[0].value, ctx) is None:
                return None
            return Hit(f"`{N.short(node, 60)}` fetches every row to keep one", "use `.first()`")
        if not isinstance(node, cst.Subscript) or not isinstance(node.slice[0].slice, cst.Index):
            return None
        idx = node.slice[0].slice.value
        if N.literal(idx) != 0 and not (isinstance(idx, cst.UnaryOperation) and N.literal(idx.expression) == 1):
            return None  # only [0] and [-1]: other indexes may be deliberate
        value = node.value
        inner = None
        if isinstance(value, cst.Call):
            inner = unwrap(value, ("list", "tuple", "sorted"))
            if inner is not None and ctx.binding(value.func.value, at=node) is not None:  # type: ignore[attr-defined]
                return None
        elif isinstance(value, cst.ListComp) and value.for_in.inner_for_in is None and not value.for_in.ifs:
            inner = value.for_in.iter
        if inner is None or fresh_queryset(inner, ctx) is None:
            return None
        return Hit(
            f"`{N.short(node, 60)}` fetches every row to keep one",
            "use `.first()` / `.last()` or index the queryset (`LIMIT 1`)",
        )

    def pk_only(self, node, iterable, attr, comp, ctx: Context) -> Optional[Hit]:
        if attr not in ("id", "pk"):
            return None
        t = infer(iterable, ctx)
        if t is None or t.kind != QS or t.evaluated or (t.related is not None and t.prefetched):
            return None
        if rows_used_elsewhere(iterable, ctx):
            return None  # the rows are loaded (and cached) for another loop anyway
        fix = f'use `.values_list("{attr}", flat=True)`'
        if isinstance(node, cst.For):
            return Hit(f"iterating `{N.short(iterable, 50)}` loads whole objects to collect `{attr}`", fix)
        return Hit(f"`{N.short(node, 60)}` loads whole objects to read `{attr}`", fix)


def _locks_rows(node: cst.CSTNode) -> bool:
    """The queryset chain asks for ``select_for_update()``: loading the rows is what takes the locks."""
    while isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
        if node.func.attr.value == "select_for_update":
            return True
        node = node.func.value
    return False


def _owner_from_caller(node: cst.CSTNode, ctx: Context) -> bool:
    """The related manager hangs off ``self`` or a parameter (an object the caller loaded), and
    the project prefetches a relation of that name somewhere: ``len(self.conditions.all())`` is
    then how the code reads what a caller may have prefetched."""
    relation = None
    while isinstance(node, (cst.Call, cst.Attribute)):
        if isinstance(node, cst.Attribute) and relation is None:
            relation = node.attr.value if node.attr.value != "all" else None
        node = node.func if isinstance(node, cst.Call) else node.value
    if not isinstance(node, cst.Name) or ctx.function is None or not isinstance(ctx.function.node, cst.FunctionDef):
        return False
    if node.value not in N.param_names(ctx.function.node.params):
        return False
    prefetched = ctx.index.derived("prefetched-names", lambda ix: frozenset(n for f in ix.modules.values() for n in f.prefetched_names))
    return relation in prefetched
