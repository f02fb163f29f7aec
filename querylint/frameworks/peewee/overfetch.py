"""peewee's answers to the over-fetch questions (what ``QL412``, ``QL413``, ``QL416``, ``QL417`` asked before)."""
from __future__ import annotations

from typing import Optional

import libcst as cst

from querylint.context import Context
from querylint.frameworks.peewee.models import PwValue, infer
from querylint.usage import name_uses


def unevaluated_query(expr: cst.CSTNode, ctx: Context, allow_name: bool = True) -> Optional[PwValue]:
    """A peewee ``Model.select()`` query (not limited, not a backref) that ``expr`` is, or a name used only here."""
    if isinstance(expr, cst.Name):
        if not allow_name:
            return None
        b = ctx.binding(expr.value, at=expr)
        if b is None or b.kind != "assign" or not b.is_simple or b.value is None:
            return None
        if len(ctx.bindings(expr.value, at=expr)) != 1 or name_uses(expr.value, ctx) != 1:
            return None
        return unevaluated_query(b.value, ctx, allow_name=False)
    if not isinstance(expr, cst.Call):
        return None
    v = infer(expr, ctx)
    if v is None or v.kind != "query" or v.limited or v.backref is not None or v.model is None:
        return None
    return v


def selects_columns(expr: cst.CSTNode) -> bool:
    """The chain starts with ``Model.select(<columns>)``."""
    cur = expr
    while isinstance(cur, cst.Call) and isinstance(cur.func, cst.Attribute):
        if cur.func.attr.value == "select" and not isinstance(cur.func.value, cst.Call):
            return bool(cur.args)
        cur = cur.func.value
    return False


def primary_key(model: str, ctx: Context) -> str:
    cls = ctx.index.classes.get(model)
    for c in ctx.index.mro_classes(cls) if cls is not None else ():
        for a in c.attrs:
            if a.call is not None and (
                a.call.kwarg("primary_key") == ("lit", True) or a.call.func.rsplit(".", 1)[-1] in ("AutoField", "BigAutoField", "PrimaryKeyField")
            ):
                return a.name
    return "id"


