"""Django's answers to the over-fetch questions (what ``QL401``-``QL404`` asked before)."""
from __future__ import annotations

from typing import Optional

import libcst as cst

from querylint import nodes as N
from querylint.context import Context
from querylint.django_querysets import QS, ROWS, DjType, infer
from querylint.frameworks.base import LEN_AS_COUNT, PK_ONLY, TAKE_ONE, TRUTHINESS, Adapter, Hit
from querylint.usage import is_len_arg, truth_context

_NON_EVALUATING = {
    "filter", "exclude", "order_by", "all", "distinct", "annotate", "alias", "using", "select_related",
    "prefetch_related", "only", "defer", "values", "values_list", "count", "exists", "acount", "aexists",
    "update", "delete", "aggregate", "first", "last", "get", "none", "model", "query", "db", "ordered",
    "union", "intersection", "difference", "latest", "earliest",
}


def fresh_queryset(node: cst.CSTNode, ctx: Context) -> Optional[DjType]:
    """A queryset that is evaluated from scratch here (not a prefetched relation, not a list)."""
    t = infer(node, ctx)
    if t is None or t.kind not in (QS, ROWS) or t.evaluated:
        return None
    if t.related is not None and (t.prefetched or t.owner_loop is not None):
        return None  # prefetch cache, or a per-item relation: the N+1 rules say prefetch_related
    return t


def only_counted_or_tested(name_node: cst.Name, ctx: Context) -> bool:
    """Is every other read of the variable in this function a ``len()``, a truth test, or a call
    that builds a new queryset (``qs.filter(...)``, ``qs.count()``: the result cache is untouched)?
    Iterating, passing the queryset on or returning it uses the rows."""
    b = ctx.binding(name_node.value, at=name_node)
    if b is None or b.kind not in ("assign", "annassign"):
        return False
    frame = ctx.function
    root = frame.node if frame is not None else ctx.module_node
    name = name_node.value
    for n in N.walk(root, into_functions=False):
        if not isinstance(n, cst.Name) or n.value != name or n is name_node:
            continue
        parent = ctx.parent_of(n)
        if isinstance(parent, cst.AssignTarget) or (isinstance(parent, (cst.AugAssign, cst.AnnAssign)) and parent.target is n):
            continue
        if isinstance(parent, cst.Attribute) and parent.attr is n:
            continue
        if isinstance(parent, cst.Arg) and parent.keyword is n:
            continue
        if isinstance(parent, cst.Attribute) and parent.value is n and parent.attr.value in _NON_EVALUATING:
            continue
        if is_len_arg(n, parent, ctx) or truth_context(n, ctx) is not None:
            continue
        return False
    return True


def _unwrap(call: cst.Call, names) -> Optional[cst.BaseExpression]:
    if isinstance(call.func, cst.Name) and call.func.value in names and len(call.args) == 1:
        return call.args[0].value
    return None


class DjangoAdapter(Adapter):
    name = "django"
    codes = {LEN_AS_COUNT: "QL401", TRUTHINESS: "QL402", TAKE_ONE: "QL403", PK_ONLY: "QL404"}

    def len_as_count(self, call: cst.Call, arg: cst.BaseExpression, ctx: Context) -> Optional[Hit]:
        if isinstance(arg, cst.Call):
            arg = _unwrap(arg, ("list", "tuple")) or arg  # len(list(qs))
        if not isinstance(arg, (cst.Name, cst.Call)):
            return None  # self.object_list and friends are often iterated elsewhere (templates)
        if fresh_queryset(arg, ctx) is None:
            return None
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
        if isinstance(node, cst.Call):  # next(iter(qs)): iterating a queryset fetches every row first
            inner = node.args[0].value
            if not isinstance(inner, cst.Call) or _unwrap(inner, ("iter",)) is None:
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
            inner = _unwrap(value, ("list", "tuple", "sorted"))
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
        fix = f'use `.values_list("{attr}", flat=True)`'
        if isinstance(node, cst.For):
            return Hit(f"iterating `{N.short(iterable, 50)}` loads whole objects to collect `{attr}`", fix)
        return Hit(f"`{N.short(node, 60)}` loads whole objects to read `{attr}`", fix)
