"""SQLAlchemy's answers to the over-fetch questions (what ``QL410``, ``QL411``, ``QL414``, ``QL415`` asked before)."""
from __future__ import annotations

from typing import Optional, Tuple, cast

import libcst as cst

from querylint import nodes as N
from querylint.context import Context
from querylint.frameworks.sqlalchemy.infer import SAValue, infer, mapped_entity
from querylint.frameworks.sqlalchemy.models import mappings
from querylint.usage import name_uses

MATERIALISE = {"all", "fetchall"}


def used_once_here(name: cst.Name, ctx: Context) -> bool:
    """``name`` is bound once, by a plain assignment, and read only at this place."""
    b = ctx.binding(name.value, at=name)
    if b is None or b.kind != "assign" or not b.is_simple or b.value is None:
        return False
    return len(ctx.bindings(name.value, at=name)) == 1 and name_uses(name.value, ctx) == 1


def materialised_query(expr: cst.CSTNode, ctx: Context, allow_name: bool = True) -> Optional[SAValue]:
    """The query whose every row ``expr`` holds: ``q.all()``, ``session.scalars(...).all()``, ``list(q)``.

    A name counts when it is bound once to such a call and used nowhere else (``allow_name``).
    """
    if isinstance(expr, cst.Name) and allow_name:
        if not used_once_here(expr, ctx):
            return None
        b = ctx.binding(expr.value, at=expr)
        return materialised_query(b.value, ctx, allow_name=False) if b is not None and b.value is not None else None
    if not isinstance(expr, cst.Call):
        return None
    name = N.call_name(expr)
    recv = N.receiver(expr)
    if name in MATERIALISE and recv is not None:
        base = infer(recv, ctx)
        if base is None or base.kind not in ("query", "result", "dynamic") or base.limited or base.aggregate:
            return None
        return base
    if name == "list" and recv is None and len(expr.args) == 1:
        base = infer(expr.args[0].value, ctx)
        if base is None or base.kind not in ("query", "result") or base.limited or base.aggregate:
            return None
        return base
    return None


def pinned_to_one_row(expr: cst.CSTNode, ctx: Context) -> bool:
    """The query filters a unique column to one value (``filter(Domain.name == name)`` where
    ``name`` is ``unique=True``, ``filter_by(id=...)`` of that entity), also through the name it
    was bound to: it holds one row at most, so loading it is no dearer than counting it."""
    m = mappings(ctx.index)
    node: Optional[cst.CSTNode] = expr
    for _ in range(12):  # down the method chain, through simple assignments
        if isinstance(node, cst.Name):
            b = ctx.binding(node.value, at=node)
            node = b.value if b is not None and b.kind == "assign" and b.is_simple else None
            continue
        if isinstance(node, cst.Call) and N.call_name(node) == "list" and node.args:
            node = node.args[0].value
            continue
        if not isinstance(node, cst.Call) or N.receiver(node) is None:
            return False
        if N.call_name(node) in ("filter", "where", "filter_by") and _unique_filter(node, m, ctx):
            return True
        node = N.receiver(node)
    return False


def _unique_filter(call: cst.Call, m, ctx: Context) -> bool:
    for arg in call.args:
        v = arg.value
        if arg.keyword is None and isinstance(v, cst.Comparison) and len(v.comparisons) == 1 and isinstance(v.comparisons[0].operator, cst.Equal):
            for side in (v.left, v.comparisons[0].comparator):
                if isinstance(side, cst.Attribute):
                    owner = mapped_entity(side.value, ctx)
                    if owner is not None and m.is_unique(owner, side.attr.value):
                        return True
        elif arg.keyword is not None and N.call_name(call) == "filter_by":
            base = infer(cast(cst.BaseExpression, N.receiver(call)), ctx)
            owner = base.elem.entity if base is not None and base.elem is not None else None
            if owner and m.is_unique(owner, arg.keyword.value):
                return True
    return False


def entity_rows(iterable: cst.BaseExpression, attr: str, ctx: Context) -> Optional[Tuple[str, str]]:
    """(entity, primary key) when ``iterable`` holds whole mapped objects of a query and ``attr`` is their key."""
    if isinstance(iterable, cst.Name) and not used_once_here(iterable, ctx):
        return None  # rows kept in a variable: only when nothing else uses them
    v = infer(iterable, ctx)
    if v is None or v.kind not in ("query", "result", "rows") or v.relationship is not None or v.elem is None:
        return None
    if v.elem.kind != "entity" or v.elem.path or v.elem.loop is not None:
        return None
    if attr not in mappings(ctx.index).primary_keys(v.elem.entity):
        return None
    if _loads_only_columns(iterable, ctx):
        return None  # ``.options(load_only(FileContent.content_hash))``: the objects carry that column only
    return cast(str, v.elem.entity), attr  # an entity row: its entity is known


def _loads_only_columns(iterable: cst.BaseExpression, ctx: Context) -> bool:
    """The query (or the one its name is bound to) names its columns with ``load_only(...)``."""
    expr: Optional[cst.BaseExpression] = iterable
    if isinstance(iterable, cst.Name):
        b = ctx.binding(iterable.value, at=iterable)
        expr = b.value if b is not None and b.kind == "assign" else None
    return expr is not None and any(isinstance(n, cst.Call) and N.call_name(n) == "load_only" for n in N.walk(expr))


