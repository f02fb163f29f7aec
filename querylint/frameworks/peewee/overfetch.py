"""peewee's answers to the over-fetch questions (what ``QL412``, ``QL413``, ``QL416``, ``QL417`` asked before)."""
from __future__ import annotations

from typing import Optional

import libcst as cst

from querylint import nodes as N
from querylint.context import Context
from querylint.frameworks.base import LEN_AS_COUNT, PK_ONLY, TAKE_ONE, TRUTHINESS, Adapter, Hit
from querylint.peewee_models import PwValue, infer
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


def _select_args(expr: cst.CSTNode) -> bool:
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


class PeeweeAdapter(Adapter):
    name = "peewee"
    codes = {LEN_AS_COUNT: "QL412", TAKE_ONE: "QL413", TRUTHINESS: "QL416", PK_ONLY: "QL417"}

    def len_as_count(self, call: cst.Call, arg: cst.BaseExpression, ctx: Context) -> Optional[Hit]:
        if isinstance(arg, cst.Call) and isinstance(arg.func, cst.Name) and arg.func.value == "list" and len(arg.args) == 1:
            arg = arg.args[0].value  # len(list(query))
        if unevaluated_query(arg, ctx) is None:
            return None
        return Hit(f"`{N.short(call)}` runs the SELECT and loads every row only to count them", "use `.count()` on the query")

    def truth_tested(self, node: cst.BaseExpression, ctx: Context) -> Optional[Hit]:
        if unevaluated_query(node, ctx) is None:
            return None
        return Hit(f"`{N.short(node)}` runs the SELECT and fetches every row to test whether there is one", "use `.exists()`")

    def take_one(self, node: cst.CSTNode, ctx: Context) -> Optional[Hit]:
        if not isinstance(node, cst.Subscript):
            return None
        value = node.value
        if not (isinstance(value, cst.Call) and isinstance(value.func, cst.Name) and value.func.value == "list" and len(value.args) == 1):
            return None
        if unevaluated_query(value.args[0].value, ctx, allow_name=False) is None:
            return None
        return Hit(f"`{N.short(node)}` loads every row to keep one", "use `.first()` or `.limit(n)` on the query")

    def pk_only(self, node, iterable, attr, comp, ctx: Context) -> Optional[Hit]:
        if comp is None:
            return None
        v = unevaluated_query(iterable, ctx)
        if v is None or not v.model or v.loaded:
            return None
        if _select_args(iterable) or attr != primary_key(v.model, ctx):
            return None  # User.select(User.id): already one column
        name = v.model.rsplit(".", 1)[-1]
        return Hit(
            f"`{N.short(node)}` loads whole `{name}` rows only to read `{attr}`",
            f"select the column (`{name}.select({name}.{attr}).tuples()`) or use the query as a subquery",
        )
