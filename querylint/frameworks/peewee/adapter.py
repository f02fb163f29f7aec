"""The peewee adapter: the answers the pattern rules ask for, and its N+1 detectors."""
from __future__ import annotations

from typing import Optional

import libcst as cst

from querylint import nodes as N
from querylint.context import Context
from querylint.frameworks.base import (
    LAZY_RELATION, LEN_AS_COUNT, MEMBER_QUERY, PK_ONLY, QUERY_IN_LOOP, TAKE_ONE, TRUTHINESS, WRITE_IN_LOOP, Adapter, Hit,
)
from querylint.frameworks.peewee.overfetch import selects_columns, primary_key, unevaluated_query


class PeeweeAdapter(Adapter):
    name = "peewee"
    codes = {
        QUERY_IN_LOOP: "QL130", WRITE_IN_LOOP: "QL131", LAZY_RELATION: "QL132",
        MEMBER_QUERY: "QL125",  # peewee model members were QL125 findings (shared with SQLAlchemy)
        LEN_AS_COUNT: "QL412", TAKE_ONE: "QL413", TRUTHINESS: "QL416", PK_ONLY: "QL417",
    }

    def detectors(self):
        from querylint.frameworks.peewee import n_plus_one as n1

        return {
            QUERY_IN_LOOP: n1.PeeweeQueryInLoop, WRITE_IN_LOOP: n1.PeeweeWriteInLoop,
            LAZY_RELATION: n1.PeeweeForeignKeyInLoop, MEMBER_QUERY: n1.PeeweeMemberQueryInLoop,
        }

    def query_detectors(self):
        from querylint.frameworks.peewee.n_plus_one import detect_peewee_query

        return (detect_peewee_query,)

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
        if selects_columns(iterable) or attr != primary_key(v.model, ctx):
            return None  # User.select(User.id): already one column
        name = v.model.rsplit(".", 1)[-1]
        return Hit(
            f"`{N.short(node)}` loads whole `{name}` rows only to read `{attr}`",
            f"select the column (`{name}.select({name}.{attr}).tuples()`) or use the query as a subquery",
        )
