"""Django's answers to the over-fetch questions (what ``QL401``-``QL404`` asked before)."""
from __future__ import annotations

from typing import Optional, Set, cast

import libcst as cst

from querylint import nodes as N
from querylint.context import Context
from querylint.frameworks.django.models import REV_FK
from querylint.frameworks.django.querysets import INST, QS, ROWS, DjType, graph_of, infer
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
    if at_most_one_row(node, t, ctx):
        return None  # ``if Token.objects.filter(key=k):`` loads one row at most: nothing to save
    if rows_used_elsewhere(node, ctx):
        return None
    return t


# calls that take a queryset without using its objects (a subquery, a count)
_NOT_OBJECT_USES = frozenset({"filter", "exclude", "get", "annotate", "len", "bool", "str", "print", "repr", "format", "count", "exists"})


def _used_as_objects(text: str, node: cst.CSTNode, fn_node: cst.CSTNode, ctx: Context) -> bool:
    """The variable's objects are used apart from this read: iterated in a nested function
    (``validate(group_by)`` picks ``next(f for f in table_fields if ...)``), or handed to another
    call (``before_field_options_update(view, options, fields)``)."""
    for n in N.walk(fn_node, into_functions=False):
        if isinstance(n, (cst.FunctionDef, cst.Lambda)) and n is not fn_node:
            for inner in N.walk(n):
                if isinstance(inner, (cst.For, cst.CompFor)) and isinstance(inner.iter, cst.Name) and inner.iter.value == text:
                    return True  # iterated in a closure: the same objects
            continue
        if isinstance(n, cst.Call) and N.call_name(n) not in _NOT_OBJECT_USES:
            if any(isinstance(a.value, cst.Name) and a.value.value == text and a.value is not node for a in n.args):
                b_now, b_then = ctx.binding(text, at=node), ctx.binding(text, at=n)
                if b_now is not None and b_now is b_then:
                    return True
    return False


def rows_used_elsewhere(node: cst.CSTNode, ctx: Context) -> bool:
    """The function iterates the same queryset (a variable, or the same expression such as
    ``self.findings.all()``) elsewhere: a variable iterated before or after this point has its
    rows loaded and cached once (``len(qs)`` then costs nothing, ``[d.id for d in qs]`` reads the
    cache); the same expression iterated anywhere means the rows are loaded anyway, and under a caller's ``prefetch_related`` the suggested ``exists()`` or
    ``count()`` would add a query instead of saving one."""
    fn = ctx.function
    if fn is None or not isinstance(node, (cst.Name, cst.Call, cst.Attribute)):
        return False
    text = N.code(node)
    is_name = isinstance(node, cst.Name)
    if is_name and _returned(text, node, fn.node, ctx):
        return True  # ``return placeholders``: the caller gets the instances this read loaded
    if is_name and _handed_on(text, node, fn.node, ctx):
        return True  # ``render(..., {"groups": groups})``, ``context(locals())``: the template reads the rows
    if is_name and _used_as_objects(text, node, fn.node, ctx):
        return True
    for n in N.walk(fn.node, into_functions=False):
        it = n.iter if isinstance(n, (cst.For, cst.CompFor)) else None
        if it is None and isinstance(n, cst.Call) and N.call_name(n) in ("list", "tuple", "set", "sorted") and len(n.args) == 1 and isinstance(n.func, cst.Name):
            it = n.args[0].value
        if it is None or it is node or N.code(it) != text:
            continue
        if not is_name:
            return True
        # the same variable iterated before (its rows are cached) or after (this read fills the
        # cache that loop reads): the rows are loaded anyway
        b_now, b_then = ctx.binding(text, at=node), ctx.binding(text, at=it)
        if b_now is not None and b_now is b_then:
            return True
    return False


def _returned(name: str, node: cst.CSTNode, fn_node: cst.CSTNode, ctx: Context) -> bool:
    """The function returns the same variable (``return placeholders``), bound as it is here."""
    here = ctx.binding(name, at=node)
    for n in N.walk(fn_node, into_functions=False):
        if isinstance(n, cst.Return) and isinstance(n.value, cst.Name) and n.value.value == name:
            if here is not None and ctx.binding(name, at=n.value) is here:
                return True
    return False


def _handed_on(name: str, node: cst.CSTNode, fn_node: cst.CSTNode, ctx: Context) -> bool:
    """The same variable is handed on whole: a value of a dict display or a keyword argument
    (a template context, ``render(request, t, {"groups": groups})``), or every local is
    (``context(locals())``)."""
    here = ctx.binding(name, at=node)
    for n in N.walk(fn_node, into_functions=False):
        if isinstance(n, cst.Call) and isinstance(n.func, cst.Name) and n.func.value in ("locals", "vars") and not n.args:
            return True
        value = n.value if isinstance(n, cst.DictElement) else n.value if isinstance(n, cst.Arg) and n.keyword is not None else None
        if isinstance(value, cst.Name) and value.value == name and value is not node and here is not None and ctx.binding(name, at=value) is here:
            return True
    return False


_EXACT = ("", "exact", "iexact")


def at_most_one_row(node: cst.CSTNode, t: DjType, ctx: Context) -> bool:
    """The queryset is filtered on its key or a unique field (``filter(token=t)``, ``filter(pk=pk)``,
    a one-to-one), or sliced to one row: it holds one row at most."""
    model = graph_of(ctx).get(t.model)
    if model is None:
        return False
    expr: Optional[cst.CSTNode] = node
    for _ in range(2):  # through one simple assignment
        if isinstance(expr, cst.Name):
            b = ctx.binding(expr.value, at=expr)
            expr = b.value if b is not None and b.is_simple else None
    keys: Set[str] = set()  # fields the chain's filters pin to one value
    while isinstance(expr, (cst.Call, cst.Subscript, cst.Attribute)):
        if isinstance(expr, cst.Attribute) and keys:
            keys |= _parent_key(expr, ctx)  # ``review.votes``: the rows of one review
            if any(u <= keys for u in model.unique_sets):
                return True
        if isinstance(expr, cst.Subscript):
            sl = expr.slice[0].slice if len(expr.slice) == 1 else None
            if isinstance(sl, cst.Slice) and sl.lower is None and N.literal(sl.upper) in (0, 1):
                return True
            expr = expr.value
            continue
        if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute) and expr.func.attr.value == "filter":
            for arg in expr.args:
                if arg.keyword is None:
                    continue
                name, _, lookup = arg.keyword.value.partition("__")
                if lookup in _EXACT and name in model.unique_fields:
                    return True
                if lookup in _EXACT:
                    keys.add(name[:-3] if name.endswith("_id") and name[:-3] in model.relations else name)
                    if any(u <= keys for u in model.unique_sets):
                        return True  # ``filter(user=u, review=r)`` under ``unique_together = ("user", "review")``
        expr = expr.func if isinstance(expr, cst.Call) else cast(cst.Attribute, expr).value
        if isinstance(expr, cst.Attribute):
            expr = expr.value
    return False


def _parent_key(attr: cst.Attribute, ctx: Context) -> Set[str]:
    """``review.votes`` (a reverse foreign key of one instance): its rows share ``review``."""
    owner = infer(attr.value, ctx)
    model = graph_of(ctx).get(owner.model) if owner is not None and owner.kind == INST and owner.model else None
    rel = model.relation(attr.attr.value) if model is not None else None
    return {rel.field_name} if rel is not None and rel.kind == REV_FK and rel.field_name else set()


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


