"""SQLAlchemy over-fetching: every row loaded only to count it or to keep one (QL410, QL411)."""
from __future__ import annotations

from typing import Optional

import libcst as cst

from querylint.overfetch import name_uses as _uses, truth_test_nodes
from querylint.rule import Rule, dedent, nodes as N
from querylint.sqlalchemy_infer import SAValue, infer

MATERIALISE = {"all", "fetchall"}


def materialised_query(expr, ctx, allow_name: bool = True) -> Optional[SAValue]:
    """The query whose every row ``expr`` holds: ``q.all()``, ``session.scalars(...).all()``, ``list(q)``.

    A name counts when it is bound once to such a call and used nowhere else (``allow_name``).
    """
    if isinstance(expr, cst.Name) and allow_name:
        b = ctx.binding(expr.value, at=expr)
        if b is None or b.kind != "assign" or not b.is_simple or b.value is None:
            return None
        if len(ctx.bindings(expr.value, at=expr)) != 1 or _uses(expr.value, ctx) != 1:
            return None
        return materialised_query(b.value, ctx, allow_name=False)
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


class LenOnSqlalchemyResult(Rule):
    """
    ## What it does
    Flags `len(...)` of every row of a SQLAlchemy query (`len(session.query(User).all())`,
    `len(session.scalars(stmt).all())`, `len(Model.query.all())`), or of a variable holding them
    that is used for nothing else.

    ## Why is this bad?
    Every row is sent over the network and turned into an object, only to be counted. The
    database counts faster, in one number.

    ## Example
    ```python
    total = len(session.scalars(select(User).where(User.active)).all())
    ```

    ## Use instead
    ```python
    total = session.scalar(select(func.count()).select_from(User).where(User.active))
    ```
    or `session.query(User).filter(...).count()` in the 1.x style.

    ## Known problems
    Limited queries (`.limit(n)`) and rows that are also used after being counted are not
    reported: loading them once is then the right thing.
    """

    code = "QL410"
    name = "len-on-sqlalchemy-result"
    VALID = [
        dedent(
            """
            from sqlalchemy import func, select
            def count(session, User):
                users = session.scalars(select(User)).all()
                return len(users), [u.email for u in users]
            """
        )
    ]
    INVALID = [
        {
            "app/models.py": dedent(
                """
                from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
                class Base(DeclarativeBase):
                    pass
                class User(Base):
                    __tablename__ = "users"
                    id: Mapped[int] = mapped_column(primary_key=True)
                """
            ),
            "app/stats.py": dedent(
                """
                from app.models import User
                def count(session):
                    return len(session.query(User).all())  # want: QL410
                """
            ),
        }
    ]

    def visit_Call(self, node: cst.Call) -> None:
        if not isinstance(node.func, cst.Name) or node.func.value != "len" or len(node.args) != 1:
            return
        if self.ctx.qualify(node.func) not in (None, "len"):
            return
        arg = node.args[0].value
        base = materialised_query(arg, self.ctx)
        if base is None:
            return
        self.report(
            node,
            f"`{N.short(node)}` loads every row only to count them; count in the database "
            "(`session.scalar(select(func.count()).select_from(...))`, or `query.count()`)",
        )


class SqlalchemyAllThenIndex(Rule):
    """
    ## What it does
    Flags `.all()[0]` (or any constant index or slice) on a SQLAlchemy query or result, and
    `list(query)[0]`.

    ## Why is this bad?
    `.all()` fetches every matching row and builds every object, then all but one are thrown
    away. The query has no `LIMIT`, so the database does the whole work too.

    ## Example
    ```python
    newest = session.query(User).order_by(User.created_at.desc()).all()[0]
    ```

    ## Use instead
    ```python
    newest = session.query(User).order_by(User.created_at.desc()).first()
    ```
    or `session.scalars(stmt.limit(1)).first()`; slices become `.limit(n)` / `.offset(n)`.
    """

    code = "QL411"
    name = "sqlalchemy-all-then-index"
    VALID = [
        dedent(
            """
            def newest(session, User):
                return session.query(User).order_by(User.id.desc()).first()
            """
        )
    ]
    INVALID = [
        {
            "app/models.py": LenOnSqlalchemyResult.INVALID[0]["app/models.py"],
            "app/q.py": dedent(
                """
                from app.models import User
                def newest(session):
                    return session.query(User).order_by(User.id.desc()).all()[0]  # want: QL411
                """
            ),
        }
    ]

    def visit_Subscript(self, node: cst.Subscript) -> None:
        if len(node.slice) != 1:
            return
        sl = node.slice[0].slice
        if isinstance(sl, cst.Index):
            if not isinstance(N.literal(sl.value), int) and not (
                isinstance(sl.value, cst.UnaryOperation) and isinstance(N.literal(sl.value.expression), int)
            ):
                return
        elif isinstance(sl, cst.Slice):
            if any(p is not None and not isinstance(N.literal(p), int) for p in (sl.lower, sl.upper)):
                return
        else:
            return
        parent = self.ctx.parent_of(node) or self.ctx.parent
        if isinstance(parent, (cst.AssignTarget, cst.Del)):
            return
        base = materialised_query(node.value, self.ctx)
        if base is None:
            return
        what = "one" if isinstance(sl, cst.Index) else "a slice"
        self.report(
            node,
            f"`{N.short(node)}` loads every row to keep {what}; use `.first()` / `.limit(1)` "
            "(or `.limit(n).offset(m)` for a slice) so the database returns only what is used",
        )




class SqlalchemyAllAsBool(Rule):
    """
    ## What it does
    Flags the truth value of every row of a SQLAlchemy query used as an existence test:
    `if session.query(User).filter(...).all():`, `if not session.scalars(stmt).all():`.

    ## Why is this bad?
    All matching rows are fetched and built into objects to learn whether there is one.

    ## Example
    ```python
    if session.scalars(select(User).where(User.email == email)).all():
        raise EmailTaken(email)
    ```

    ## Use instead
    ```python
    if session.scalar(select(exists().where(User.email == email))):
        raise EmailTaken(email)
    ```
    or `.first() is not None` / `.limit(1)`.

    ## Known problems
    Rows kept in a variable and used after the test are not reported.
    """

    code = "QL414"
    name = "sqlalchemy-all-as-bool"
    VALID = [
        dedent(
            """
            def taken(session, User, email):
                users = session.query(User).filter(User.email == email).all()
                if users:
                    return users[0]
            """
        )
    ]
    INVALID = [
        {
            "app/models.py": LenOnSqlalchemyResult.INVALID[0]["app/models.py"],
            "app/q.py": dedent(
                """
                from app.models import User
                def taken(session, email):
                    if session.query(User).filter(User.id == email).all():  # want: QL414
                        return True
                """
            ),
        }
    ]

    def visit_If(self, node) -> None:
        self._check(node)

    def visit_While(self, node) -> None:
        self._check(node)

    def visit_IfExp(self, node) -> None:
        self._check(node)

    def _check(self, node) -> None:
        for t in truth_test_nodes(node):
            if materialised_query(t, self.ctx) is not None:
                self.report(
                    t,
                    f"`{N.short(t)}` loads every row only to test whether there is one; use "
                    "`session.scalar(select(exists().where(...)))` or `.first() is not None`",
                )


class SqlalchemyEntitiesForPrimaryKey(Rule):
    """
    ## What it does
    Flags a comprehension that loads whole mapped objects from a query only to collect their
    primary key: `[u.id for u in session.scalars(select(User))]`.

    ## Why is this bad?
    Every column of every row is fetched and an object is built, tracked by the session and
    thrown away, when the database could return the one column.

    ## Example
    ```python
    ids = [u.id for u in session.scalars(select(User).where(User.active))]
    ```

    ## Use instead
    ```python
    ids = session.scalars(select(User.id).where(User.active)).all()
    ```

    ## Known problems
    Only comprehensions over a query's rows that read nothing but the key are reported; loops
    that read two or more fields are not.
    """

    code = "QL415"
    name = "sqlalchemy-entities-for-primary-key"
    VALID = [
        dedent(
            """
            from sqlalchemy import select
            def ids(session, User):
                return session.scalars(select(User.id)).all()
            """
        )
    ]
    INVALID = [
        {
            "app/models.py": LenOnSqlalchemyResult.INVALID[0]["app/models.py"],
            "app/q.py": dedent(
                """
                from sqlalchemy import select
                from app.models import User
                def ids(session):
                    return [u.id for u in session.scalars(select(User))]  # want: QL415
                """
            ),
        }
    ]

    def visit_ListComp(self, node) -> None:
        self._check(node)

    def visit_SetComp(self, node) -> None:
        self._check(node)

    def visit_GeneratorExp(self, node) -> None:
        self._check(node)

    def _check(self, node) -> None:
        got = pk_comprehension(node, self.ctx)
        if got is None:
            return
        entity, pk = got
        name = entity.rsplit(".", 1)[-1]
        self.report(
            node,
            f"`{N.short(node)}` loads whole `{name}` objects only to read `{pk}`; select the column instead "
            f"(`session.scalars(select({name}.{pk}))`)",
        )


def pk_comprehension(node, ctx):
    """(entity, primary key) for ``[x.id for x in <rows of a query>]``."""
    from querylint.sqlalchemy_models import mappings

    comp = node.for_in
    if comp is None or comp.inner_for_in is not None or comp.ifs or comp.asynchronous is not None:
        return None
    if not isinstance(comp.target, cst.Name) or not isinstance(node.elt, cst.Attribute):
        return None
    elt = node.elt
    if not isinstance(elt.value, cst.Name) or elt.value.value != comp.target.value:
        return None
    it = comp.iter
    if isinstance(it, cst.Name):
        # rows kept in a variable: only when nothing else uses them
        b = ctx.binding(it.value, at=it)
        if b is None or b.kind != "assign" or not b.is_simple or len(ctx.bindings(it.value, at=it)) != 1 or _uses(it.value, ctx) != 1:
            return None
    v = infer(it, ctx)
    if v is None or v.kind not in ("query", "result", "rows") or v.relationship is not None or v.elem is None:
        return None
    if v.elem.kind != "entity" or v.elem.path or v.elem.loop is not None:
        return None
    m = mappings(ctx.index)
    pks = m.primary_keys(v.elem.entity)
    if elt.attr.value not in pks:
        return None
    return v.elem.entity, elt.attr.value


RULES = (LenOnSqlalchemyResult, SqlalchemyAllThenIndex, SqlalchemyAllAsBool, SqlalchemyEntitiesForPrimaryKey)
