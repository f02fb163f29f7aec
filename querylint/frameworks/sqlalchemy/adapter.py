"""The sqlalchemy adapter: the answers the pattern rules ask for, and its N+1 detectors."""
from __future__ import annotations

from typing import Optional

import libcst as cst

from querylint import nodes as N
from querylint.context import Context
from querylint.frameworks.base import (
    LAZY_RELATION, LEN_AS_COUNT, MEMBER_QUERY, PK_ONLY, QUERY_IN_LOOP, TAKE_ONE, TRUTHINESS, WRITE_IN_LOOP, Adapter, Hit,
)
from querylint.frameworks.sqlalchemy.overfetch import entity_rows, materialised_query, pinned_to_one_row
from querylint.usage import constant_subscript


class SqlalchemyAdapter(Adapter):
    name = "sqlalchemy"
    codes = {
        QUERY_IN_LOOP: "QL120", WRITE_IN_LOOP: "QL121", LAZY_RELATION: "QL122", MEMBER_QUERY: "QL125",
        LEN_AS_COUNT: "QL410", TAKE_ONE: "QL411", TRUTHINESS: "QL414", PK_ONLY: "QL415",
    }

    def detectors(self):
        from querylint.frameworks.sqlalchemy import n_plus_one as n1

        return {
            QUERY_IN_LOOP: n1.SqlalchemyQueryInLoop, WRITE_IN_LOOP: n1.SqlalchemySessionWriteInLoop,
            LAZY_RELATION: n1.SqlalchemyLazyLoadInLoop, MEMBER_QUERY: n1.OrmMethodQueryInLoop,
        }

    def query_detectors(self):
        from querylint.frameworks.sqlalchemy.n_plus_one import detect_sqlalchemy_query

        return (detect_sqlalchemy_query,)

    def template_bound(self, name, expr, ctx: Context):
        from querylint.frameworks.sqlalchemy.templates import bound

        return bound(name, expr, ctx)

    def template_member(self, index, model, name):
        from querylint.frameworks.sqlalchemy.templates import member

        return member(index, model, name)

    def template_fix(self, index, bound, path, where):
        from querylint.frameworks.sqlalchemy.templates import fix

        return fix(index, bound, path, where)

    def len_as_count(self, call: cst.Call, arg: cst.BaseExpression, ctx: Context) -> Optional[Hit]:
        if materialised_query(arg, ctx) is None or pinned_to_one_row(arg, ctx):
            return None
        return Hit(
            f"`{N.short(call)}` loads every row only to count them",
            "count in the database (`session.scalar(select(func.count()).select_from(...))`, or `query.count()`)",
        )

    def truth_tested(self, node: cst.BaseExpression, ctx: Context) -> Optional[Hit]:
        if materialised_query(node, ctx) is None or pinned_to_one_row(node, ctx):
            return None
        return Hit(
            f"`{N.short(node)}` loads every row only to test whether there is one",
            "use `session.scalar(select(exists().where(...)))` or `.first() is not None`",
        )

    def take_one(self, node: cst.CSTNode, ctx: Context) -> Optional[Hit]:
        if not isinstance(node, cst.Subscript):
            return None
        parent = ctx.parent_of(node)
        if isinstance(parent, (cst.AssignTarget, cst.Del)):
            return None
        if materialised_query(node.value, ctx) is None:
            return None
        what = "one" if constant_subscript(node) == "index" else "a slice"
        return Hit(
            f"`{N.short(node)}` loads every row to keep {what}",
            "use `.first()` / `.limit(1)` (or `.limit(n).offset(m)` for a slice) so the database returns only what is used",
        )

    def pk_only(self, node, iterable, attr, comp, ctx: Context) -> Optional[Hit]:
        if comp is None or comp.asynchronous is not None:
            return None
        got = entity_rows(iterable, attr, ctx)
        if got is None:
            return None
        name = got[0].rsplit(".", 1)[-1]
        return Hit(
            f"`{N.short(node)}` loads whole `{name}` objects only to read `{attr}`",
            f"select the column instead (`session.scalars(select({name}.{attr}))`)",
        )
