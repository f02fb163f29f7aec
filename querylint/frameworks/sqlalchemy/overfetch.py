"""SQLAlchemy's answers to the over-fetch questions (what ``QL410``, ``QL411``, ``QL414``, ``QL415`` asked before)."""
from __future__ import annotations

from typing import Optional, Tuple, cast

import libcst as cst

from querylint import nodes as N
from querylint.context import Context
from querylint.frameworks.sqlalchemy.infer import SAValue, infer
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
    return cast(str, v.elem.entity), attr  # an entity row: its entity is known


