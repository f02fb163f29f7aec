"""Where Django code hits the database: query sites, lazy relation reads, per-item context.

Shared by the Django rules and the project index's query detector. Everything is memoised per
node on the file's context.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, FrozenSet, List, Optional, Tuple, cast

import libcst as cst

from querylint import nodes as N
from querylint.usage import is_store_target
from querylint.frameworks.django.models import EXTERNAL_USER, SINGLE, ModelInfo
from querylint.frameworks.django.querysets import (
    CACHE_SERVED, CHAIN, DEFEATING, INST, INSTANCE_READS, INSTANCE_WRITES, QS, READS, ROWS, WRITES, DjType,
    assigned_before, class_model, graph_of, infer,
)
from querylint.loops import batch_by_name_only, classify_loop, repeats_per_iteration
if TYPE_CHECKING:  # pragma: no cover
    from querylint.context import Context

EVALUATING_FUNCS = {"list", "tuple", "set", "sorted", "len", "bool", "sum", "max", "min", "any", "all", "frozenset", "dict", "next", "iter", "reversed", "enumerate"}


@dataclass(frozen=True)
class Site:
    kind: str  # "read", "write", "related", "defeat", "instance-write", "instance-read"
    node: cst.CSTNode  # where it runs (the call / the evaluated expression)
    qs: Optional[DjType]  # the queryset / instance involved
    method: str  # the method or evaluating function ("iterate" for a for loop)
    expr: cst.CSTNode  # the queryset expression


def _evaluating_parent(node, ctx: Context) -> Optional[str]:
    """How ``node`` (a queryset expression) is evaluated by its parent, if it is."""
    parent = ctx.parent_of(node)
    if parent is None:
        return None
    if isinstance(parent, cst.For) and parent.iter is node:
        return "iterate"
    if isinstance(parent, cst.CompFor) and parent.iter is node:
        return "iterate"
    if isinstance(parent, cst.Arg) and parent.value is node and parent.keyword is None and not parent.star:
        call = ctx.parent_of(parent)
        if isinstance(call, cst.Call) and call.args and call.args[0] is parent and isinstance(call.func, cst.Name) and call.func.value in EVALUATING_FUNCS:
            b = ctx.binding(call.func.value, at=call) if ctx.frames else None
            if b is None:
                return call.func.value
        return None
    if isinstance(parent, cst.Subscript) and parent.value is node and len(parent.slice) == 1:
        sl = parent.slice[0].slice
        if isinstance(sl, cst.Index) and not is_store_target(parent, ctx):
            return "index"  # (``form.fields[name] = ...`` stores: a queryset takes no items)
        return None
    if isinstance(parent, (cst.If, cst.While)) and parent.test is node:
        return "bool"
    if isinstance(parent, cst.ComparisonTarget) and parent.comparator is node and isinstance(parent.operator, (cst.In, cst.NotIn)):
        return "contains"  # ``volunteer in task.volunteers.all()``: a queryset has no ``__contains__``, ``in`` iterates it
    if isinstance(parent, cst.UnaryOperation) and isinstance(parent.operator, cst.Not):
        return "bool"
    return None


_SITE_METHODS = frozenset(READS | WRITES | INSTANCE_WRITES | INSTANCE_READS)


def site_of(node: cst.CSTNode, ctx: Context) -> Optional[Site]:
    """The query ``node`` runs, when it is a Django query site (memoised)."""
    return ctx.memo(("dj-site", id(node)), lambda: _site_of(node, ctx))


def _site_of(node, ctx: Context) -> Optional[Site]:
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
        method = node.func.attr.value
        if method in _SITE_METHODS:
            recv = infer(node.func.value, ctx)
            overridden = _overridden_manager_method(node.func.value, recv, method, ctx)
            if overridden is not None:
                # the project's Manager defines ``get``/``filter``/...: judged by its body (a
                # read-through cache in front of the query is not a query per call)
                return Site("read", node, cast(DjType, recv), method, node.func.value) if ctx.index.query_path(overridden) else None
            if recv is not None:
                if recv.kind == INST and method in INSTANCE_WRITES:
                    if recv.model is None:
                        return None
                    return Site("instance-write", node, recv, method, node.func.value)
                if recv.kind == INST and method in INSTANCE_READS:
                    return Site("instance-read", node, recv, method, node.func.value)
                if recv.kind in (QS, ROWS):
                    if method in READS or method in WRITES:
                        if recv.related is not None:
                            if method in WRITES and method not in ("add", "remove", "clear", "set", "create", "aadd", "aremove", "aclear", "aset", "acreate", "update", "delete", "get_or_create", "update_or_create"):
                                return None
                            if method in WRITES:
                                return Site("write", node, recv, method, node.func.value)
                            if recv.prefetched and method in CACHE_SERVED:
                                return None
                            if recv.defeated is not None or (recv.prefetched and method in DEFEATING):
                                return Site("defeat", node, recv, method, node.func.value)
                            if recv.prefetched and method in ("first", "last") :
                                model = graph_of(ctx).get(recv.model)
                                if model is not None and model.ordering:
                                    return None
                                return Site("defeat", node, recv, method, node.func.value)
                            if recv.prefetched:
                                return None
                            return Site("related", node, recv, method, node.func.value)
                        if method in ("add", "remove", "clear", "set", "aadd", "aremove", "aclear", "aset"):
                            return None  # not a manager method on a plain queryset
                        return Site("write" if method in WRITES else "read", node, recv, method, node.func.value)
        else:
            custom = _custom_manager_method(node, method, ctx)
            if custom is not None:
                return custom
    shortcut = _shortcut_read(node, ctx) if isinstance(node, cst.Call) else None
    if shortcut is not None:
        return shortcut
    # an evaluated queryset expression: for x in qs / list(qs) / len(qs) / qs[0] / if qs
    if isinstance(node, (cst.Call, cst.Name, cst.Attribute, cst.Subscript)):
        how = _evaluating_parent(node, ctx)
        if how is None:
            return None
        t = infer(node, ctx)
        if t is None or t.kind not in (QS, ROWS) or t.evaluated:
            return None
        if t.related is not None:
            if t.prefetched:
                return None
            if t.defeated is not None:
                return Site("defeat", node, t, how, node)
            return Site("related", node, t, how, node)
        if t.manager and how == "iterate":
            return Site("read", node, t, how, node)
        return Site("read", node, t, how, node)
    return None


_SHORTCUTS = {"get_object_or_404": "get", "aget_object_or_404": "aget", "get_list_or_404": "filter", "aget_list_or_404": "filter"}


def _shortcut_read(node: cst.Call, ctx: Context) -> Optional[Site]:
    """``get_object_or_404(Permission, codename=code)``: Django's shortcut runs ``get()`` (or
    ``filter()``) on the model's default manager or on the queryset it is given."""
    name = N.call_name(node)
    if name not in _SHORTCUTS or not node.args or node.args[0].keyword is not None:
        return None
    q = ctx.qualify(node.func) or ""
    if not q.startswith(("django.shortcuts.", "rest_framework.generics.")):
        return None
    first = node.args[0].value
    t = infer(first, ctx)
    if t is None:
        model = class_model(first, ctx)
        if model is None:
            return None
        t = DjType(QS, model, manager=True, origin=first)
    if t.kind != QS:
        return None
    return Site("read", node, t, _SHORTCUTS[name], first)


def _overridden_manager_method(recv_expr, recv, method: str, ctx: Context) -> Optional[str]:
    """Qualname of the project method ``Model.<manager>.<method>`` runs, when the model's project
    Manager class (or a project base of it) defines ``method`` itself."""
    if recv is None or not recv.manager or recv.model is None or not isinstance(recv_expr, cst.Attribute):
        return None
    model = graph_of(ctx).get(recv.model)
    mgr = model.manager_classes.get(recv_expr.attr.value) if model is not None else None
    fn = ctx.index.find_method(mgr, method) if mgr else None
    return fn.qualname if fn is not None else None


_WRITE_WORDS = ("create", "update", "delete", "save", "set_", "add", "remove", "bulk", "upsert", "mark", "import")


def _custom_manager_method(node: cst.Call, method: str, ctx: Context) -> Optional[Site]:
    """``Model.objects.create_or_update_by_guid(...)``: a project Manager/QuerySet method that queries."""
    graph = graph_of(ctx)
    quals = graph.queryset_method_quals.get(method)
    if not quals:
        return None
    recv = infer(cast(cst.Attribute, node.func).value, ctx)  # called for ``<expr>.<method>(...)`` only
    if recv is None or recv.kind != QS or recv.related is not None:
        return None
    if recv.model is None or recv.model not in graph.models or recv.model == EXTERNAL_USER:
        return None  # ``ContentType.objects.get_for_model(...)``: Django's own manager, not the project's method of that name
    if not any(ctx.index.query_path(q) for q in quals):
        return None
    kind = "write" if any(w in method.lower() for w in _WRITE_WORDS) else "read"
    return Site(kind, node, recv, method, cast(cst.Attribute, node.func).value)


def _within(node: cst.CSTNode, container: cst.CSTNode, ctx: Context) -> bool:
    return any(a is container for a in ctx.ancestors(node))


def is_fresh(expr: cst.CSTNode, loop_node: cst.CSTNode, ctx: Context) -> bool:
    """Is the queryset ``expr`` built inside ``loop_node`` (so each iteration queries anew)?"""
    root = expr
    while True:
        if isinstance(root, cst.Call):
            if isinstance(root.func, cst.Attribute):
                if root.func.attr.value in CHAIN and _within(root, loop_node, ctx):
                    return True  # ``qs.filter(kind=k)`` in the loop: a new queryset per iteration
                root = root.func.value
                continue
            return True
        if isinstance(root, cst.Attribute):
            root = root.value
            continue
        if isinstance(root, cst.Subscript):
            root = root.value
            continue
        if isinstance(root, cst.Await):
            root = root.expression
            continue
        break
    if isinstance(root, cst.Name):
        t = infer(root, ctx)
        if t is not None and t.kind == INST:
            return True  # a related manager of an instance
        b = ctx.binding(root.value, at=root) if ctx.frames else None
        if b is None or b.kind in ("import", "class"):
            return True  # Model.objects...
        for a in ctx.ancestors(b.node):
            if a is loop_node:
                return True
        return False
    return True


def loop_ids(ctx: Context) -> List[int]:
    return [id(l.node) for l in ctx.loops if classify_loop(l, ctx) == "items"]


def per_item_loop_of(t: DjType, ctx: Context):
    """The enclosing per-item loop whose iteration bound the instance ``t``, when the current
    node runs on every iteration (not only while building the error it raises)."""
    if t is None or t.loop is None:
        return None
    for l in reversed(ctx.loops):
        if id(l.node) == t.loop:
            if ctx.node is not None and not repeats_per_iteration(ctx.node, l, ctx):
                return None
            # ``for order in page``: the loop bound a model instance, which outweighs a batch-like name
            return l if classify_loop(l, ctx) == "items" or batch_by_name_only(l, ctx) else None
    return None


def names_bound_in(loop_node, ctx: Context) -> FrozenSet[str]:
    """Names (re)bound per iteration: the loop target(s) and every assignment inside the body."""

    def compute():
        out = set()
        if isinstance(loop_node, cst.For):
            out.update(N.target_names(loop_node.target))
            body = loop_node.body
        elif isinstance(loop_node, cst.While):
            body = loop_node.body
        else:
            body = loop_node
            clause = getattr(loop_node, "for_in", None)
            while clause is not None:
                out.update(N.target_names(clause.target))
                clause = clause.inner_for_in
        for n in N.walk(body, into_functions=False):
            if isinstance(n, cst.Assign):
                for t in n.targets:
                    out.update(N.target_names(t.target))
            elif isinstance(n, (cst.AnnAssign, cst.AugAssign)):
                out.update(N.target_names(n.target))
            elif isinstance(n, cst.For):
                out.update(N.target_names(n.target))
            elif isinstance(n, cst.CompFor):
                out.update(N.target_names(n.target))
            elif isinstance(n, cst.NamedExpr):
                out.update(N.target_names(n.target))
            elif isinstance(n, cst.WithItem) and n.asname is not None:
                out.update(N.target_names(n.asname.name))
            elif isinstance(n, cst.ExceptHandler) and n.name is not None:
                out.update(N.target_names(n.name.name))
        return frozenset(out)

    return ctx.memo(("dj-loop-names", id(loop_node)), compute)


def depends_on_loop(expr: cst.CSTNode, loop_node, ctx: Context) -> bool:
    names = names_bound_in(loop_node, ctx)
    stack = [expr]
    while stack:
        n = stack.pop()
        if isinstance(n, cst.Name):
            if n.value in names:
                return True
            continue
        if isinstance(n, cst.Attribute):
            stack.append(n.value)
            continue
        if isinstance(n, cst.Arg):
            stack.append(n.value)
            continue
        if isinstance(n, (cst.Lambda, cst.FunctionDef)):
            continue
        stack.extend(N.children(n))
    return False


def relation_hop(node: cst.Attribute, ctx: Context) -> Optional[Tuple[DjType, ModelInfo, str]]:
    """(instance, its model, relation name) when ``node`` reads a single-object relation of an instance."""
    base = infer(node.value, ctx)
    if base is None or base.kind != INST or base.model is None:
        return None
    model = graph_of(ctx).get(base.model)
    if model is None:
        return None
    rel = model.relation(node.attr.value)
    if rel is None or rel.kind not in SINGLE:
        return None
    if base.to_attr(node.attr.value) is not None or assigned_before(node, ctx):
        return None
    if base.named_only and len(graph_of(ctx).relation_owners.get(node.attr.value, ())) != 1:
        return None
    return base, model, node.attr.value


def is_loaded(base: DjType, name: str, rel) -> bool:
    """Is relation ``name`` loaded with ``base``? ``select_related()`` without arguments follows
    only non-null forward ForeignKey / OneToOne fields."""
    if name in base.covered or base.opaque:
        return True
    return base.select_all and rel.kind in ("fk", "o2o") and not rel.null


def loop_queryset_line(t: Optional[DjType], ctx: Context) -> Optional[int]:
    if t is None or t.origin is None:
        return None
    if not ctx.in_this_file(t.origin):
        return None  # built in another file
    return ctx.line(t.origin)
