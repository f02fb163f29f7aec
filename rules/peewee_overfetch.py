"""peewee over-fetching: every row loaded only to count it or to keep one (QL412, QL413)."""
from __future__ import annotations

from typing import Optional

import libcst as cst

from querylint.overfetch import name_uses as _uses, truth_test_nodes
from querylint.peewee_models import PwValue, infer
from querylint.rule import Rule, dedent, nodes as N


def unevaluated_query(expr, ctx, allow_name: bool = True) -> Optional[PwValue]:
    """A peewee ``Model.select()`` query (not limited, not a backref) that ``expr`` is, or a name used only here."""
    if isinstance(expr, cst.Name):
        if not allow_name:
            return None
        b = ctx.binding(expr.value, at=expr)
        if b is None or b.kind != "assign" or not b.is_simple or b.value is None:
            return None
        if len(ctx.bindings(expr.value, at=expr)) != 1 or _uses(expr.value, ctx) != 1:
            return None
        return unevaluated_query(b.value, ctx, allow_name=False)
    if not isinstance(expr, cst.Call):
        return None
    v = infer(expr, ctx)
    if v is None or v.kind != "query" or v.limited or v.backref is not None or v.model is None:
        return None
    return v


_MODELS = dedent(
    """
    from peewee import CharField, ForeignKeyField, Model, SqliteDatabase
    db = SqliteDatabase(":memory:")
    class User(Model):
        username = CharField()
        class Meta:
            database = db
    class Tweet(Model):
        user = ForeignKeyField(User, backref="tweets")
        class Meta:
            database = db
    """
)


class LenOnPeeweeQuery(Rule):
    """
    ## What it does
    Flags `len(...)` of a peewee `Model.select()` query, or of a variable holding one that is
    used for nothing else.

    ## Why is this bad?
    `len(query)` runs the SELECT and builds every row, only to count them.

    ## Example
    ```python
    total = len(Tweet.select().where(Tweet.user == user))
    ```

    ## Use instead
    ```python
    total = Tweet.select().where(Tweet.user == user).count()
    ```

    ## Known problems
    `len(query)` followed by iterating the same query reuses peewee's result cache and is not
    reported.
    """

    code = "QL412"
    name = "len-on-peewee-query"
    VALID = [
        {
            "app/models.py": _MODELS,
            "app/stats.py": dedent(
                """
                from app.models import Tweet
                def stats(user):
                    tweets = Tweet.select().where(Tweet.user == user)
                    return len(tweets), [t.id for t in tweets]
                """
            ),
        }
    ]
    INVALID = [
        {
            "app/models.py": _MODELS,
            "app/stats.py": dedent(
                """
                from app.models import Tweet
                def stats(user):
                    return len(Tweet.select().where(Tweet.user == user))  # want: QL412
                """
            ),
        }
    ]

    def visit_Call(self, node: cst.Call) -> None:
        if not isinstance(node.func, cst.Name) or node.func.value != "len" or len(node.args) != 1:
            return
        arg = node.args[0].value
        if isinstance(arg, cst.Call) and isinstance(arg.func, cst.Name) and arg.func.value == "list" and len(arg.args) == 1:
            arg = arg.args[0].value  # len(list(query))
        if unevaluated_query(arg, self.ctx) is None:
            return
        self.report(node, f"`{N.short(node)}` runs the SELECT and loads every row only to count them; use `.count()` on the query")


class PeeweeListThenIndex(Rule):
    """
    ## What it does
    Flags `list(query)[0]` (or another constant index or slice) on a peewee `Model.select()`
    query.

    ## Why is this bad?
    Every matching row is fetched and built to keep one.

    ## Example
    ```python
    newest = list(Tweet.select().order_by(Tweet.id.desc()))[0]
    ```

    ## Use instead
    ```python
    newest = Tweet.select().order_by(Tweet.id.desc()).first()
    ```
    """

    code = "QL413"
    name = "peewee-list-then-index"
    VALID = [
        {
            "app/models.py": _MODELS,
            "app/q.py": dedent(
                """
                from app.models import Tweet
                def newest():
                    return Tweet.select().order_by(Tweet.id.desc()).first()
                """
            ),
        }
    ]
    INVALID = [
        {
            "app/models.py": _MODELS,
            "app/q.py": dedent(
                """
                from app.models import Tweet
                def newest():
                    return list(Tweet.select().order_by(Tweet.id.desc()))[0]  # want: QL413
                """
            ),
        }
    ]

    def visit_Subscript(self, node: cst.Subscript) -> None:
        value = node.value
        if not (isinstance(value, cst.Call) and isinstance(value.func, cst.Name) and value.func.value == "list" and len(value.args) == 1):
            return
        if len(node.slice) != 1:
            return
        sl = node.slice[0].slice
        if isinstance(sl, cst.Index):
            if not isinstance(N.literal(sl.value), int):
                return
        elif isinstance(sl, cst.Slice):
            if any(p is not None and not isinstance(N.literal(p), int) for p in (sl.lower, sl.upper)):
                return
        else:
            return
        if unevaluated_query(value.args[0].value, self.ctx, allow_name=False) is None:
            return
        self.report(node, f"`{N.short(node)}` loads every row to keep one; use `.first()` or `.limit(n)` on the query")




class PeeweeQueryAsBool(Rule):
    """
    ## What it does
    Flags the truth value of a peewee `Model.select()` query used as an existence test:
    `if User.select().where(User.email == email):`.

    ## Why is this bad?
    A peewee query has no `__bool__`: Python calls `len()`, which runs the SELECT and fetches
    every matching row to learn whether there is one.

    ## Example
    ```python
    if Tweet.select().where(Tweet.user == user):
        ...
    ```

    ## Use instead
    ```python
    if Tweet.select().where(Tweet.user == user).exists():
        ...
    ```

    ## Known problems
    A query kept in a variable and iterated after the test reuses peewee's result cache and is
    not reported.
    """

    code = "QL416"
    name = "peewee-query-as-bool"
    VALID = [
        {
            "app/models.py": _MODELS,
            "app/q.py": dedent(
                """
                from app.models import Tweet
                def has_tweets(user):
                    return Tweet.select().where(Tweet.user == user).exists()
                """
            ),
        }
    ]
    INVALID = [
        {
            "app/models.py": _MODELS,
            "app/q.py": dedent(
                """
                from app.models import Tweet
                def has_tweets(user):
                    if Tweet.select().where(Tweet.user == user):  # want: QL416
                        return True
                    return False
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
            if unevaluated_query(t, self.ctx) is not None:
                self.report(t, f"`{N.short(t)}` runs the SELECT and fetches every row to test whether there is one; use `.exists()`")


class PeeweeModelsForPrimaryKey(Rule):
    """
    ## What it does
    Flags a comprehension that loads whole peewee model instances from a query only to collect
    their primary key: `[u.id for u in User.select().where(...)]`.

    ## Why is this bad?
    Every column of every row is fetched and a model instance built, when the database could
    return the one column.

    ## Example
    ```python
    ids = [u.id for u in User.select().where(User.active == True)]
    ```

    ## Use instead
    ```python
    ids = [row[0] for row in User.select(User.id).where(User.active == True).tuples()]
    ```
    or use the query itself as a subquery (`Tweet.user.in_(User.select(User.id).where(...))`).
    """

    code = "QL417"
    name = "peewee-models-for-primary-key"
    VALID = [
        {
            "app/models.py": _MODELS,
            "app/q.py": dedent(
                """
                from app.models import User
                def ids():
                    return [row[0] for row in User.select(User.id).tuples()]
                """
            ),
        }
    ]
    INVALID = [
        {
            "app/models.py": _MODELS,
            "app/q.py": dedent(
                """
                from app.models import User
                def ids():
                    return [u.id for u in User.select()]  # want: QL417
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
        comp = node.for_in
        if comp is None or comp.inner_for_in is not None or comp.ifs or not isinstance(comp.target, cst.Name):
            return
        elt = node.elt
        if not isinstance(elt, cst.Attribute) or not isinstance(elt.value, cst.Name) or elt.value.value != comp.target.value:
            return
        v = unevaluated_query(comp.iter, self.ctx)
        if v is None or not v.model or v.loaded:
            return
        if _select_args(comp.iter):
            return  # User.select(User.id): already one column
        if elt.attr.value != _primary_key(v.model, self.ctx):
            return
        name = v.model.rsplit(".", 1)[-1]
        self.report(
            node,
            f"`{N.short(node)}` loads whole `{name}` rows only to read `{elt.attr.value}`; select the column "
            f"(`{name}.select({name}.{elt.attr.value}).tuples()`) or use the query as a subquery",
        )


def _select_args(expr) -> bool:
    """The chain starts with ``Model.select(<columns>)``."""
    cur = expr
    if isinstance(cur, cst.Name):
        return False
    while isinstance(cur, cst.Call) and isinstance(cur.func, cst.Attribute):
        if cur.func.attr.value == "select" and not isinstance(cur.func.value, cst.Call):
            return bool(cur.args)
        cur = cur.func.value
    return False


def _primary_key(model: str, ctx) -> str:
    cls = ctx.index.classes.get(model)
    for c in ctx.index.mro_classes(cls) if cls is not None else ():
        for a in c.attrs:
            if a.call is not None and (a.call.kwarg("primary_key") == ("lit", True) or a.call.func.rsplit(".", 1)[-1] in ("AutoField", "BigAutoField", "PrimaryKeyField")):
                return a.name
    return "id"


RULES = (LenOnPeeweeQuery, PeeweeListThenIndex, PeeweeQueryAsBool, PeeweeModelsForPrimaryKey)
