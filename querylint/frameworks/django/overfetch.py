"""Django's answers to the over-fetch questions (what ``QL401``-``QL404`` asked before)."""
from __future__ import annotations

from typing import Optional

import libcst as cst

from querylint import nodes as N
from querylint.context import Context
from querylint.frameworks.django.querysets import QS, ROWS, DjType, infer
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


def unwrap(call: cst.Call, names) -> Optional[cst.BaseExpression]:
    if isinstance(call.func, cst.Name) and call.func.value in names and len(call.args) == 1:
        return call.args[0].value
    return None


