"""Over-fetch: whole query results loaded to count, test, take one or collect keys (QL405-QL408).

One rule per pattern, every ORM through its adapter (:mod:`querylint.frameworks`): the rule
recognises the shape (``len(x)``, a truth test, ``x[0]``, ``[o.id for o in x]``) and the first
adapter that says "``x`` is rows of my query, loaded here" gives the message, the fix and the
old per-ORM code the finding also answers to.

| pattern | code | Django | SQLAlchemy | peewee |
| --- | --- | --- | --- | --- |
| len as count | QL405 | QL401 | QL410 | QL412 |
| truth test | QL406 | QL402 | QL414 | QL416 |
| fetch all, take one | QL407 | QL403 | QL411 | QL413 |
| instances for the key only | QL408 | QL404 | QL415 | QL417 |
"""
from __future__ import annotations

from typing import Optional, Tuple, cast

import libcst as cst

from querylint.loops import short_slice
from querylint.frameworks import LEN_AS_COUNT, PK_ONLY, TAKE_ONE, TRUTHINESS, active_adapters, first_hit
from querylint.rule import Edit, Rule, constant_subscript, dedent, line_after_imports, nodes as N, truth_context
from querylint.rule import Context

_DJANGO = "from django.db import models\nclass Product(models.Model):\n    name = models.CharField(max_length=9)\n    active = models.BooleanField()\n"
_SQLA = dedent(
    """
    from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
    class Base(DeclarativeBase):
        pass
    class User(Base):
        __tablename__ = "users"
        id: Mapped[int] = mapped_column(primary_key=True)
        email: Mapped[str] = mapped_column()
    """
)
_PEEWEE = dedent(
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


def _builtin(call: cst.Call, name: str, ctx: Context) -> bool:
    """``call`` calls the builtin ``name`` (not shadowed, not imported under that name)."""
    if not (isinstance(call.func, cst.Name) and call.func.value == name):
        return False
    return ctx.binding(name, at=call) is None and ctx.qualify(call.func) in (None, name)


def _select_count(node: cst.BaseExpression) -> Optional[Tuple[str, str]]:
    """``session.scalars(select(M).where(...)).all()`` -> (``session``, the statement counting the
    same rows: ``select(func.count()).select_from(M).where(...)``), for one entity, no join."""
    if not (isinstance(node, cst.Call) and N.call_name(node) == "all" and not node.args and isinstance(node.func, cst.Attribute)):
        return None
    result = node.func.value
    if not (isinstance(result, cst.Call) and N.call_name(result) == "scalars" and len(result.args) == 1 and isinstance(result.func, cst.Attribute)):
        return None
    stmt, chain = result.args[0].value, []
    while isinstance(stmt, cst.Call) and isinstance(stmt.func, cst.Attribute) and stmt.func.attr.value in _ROW_PRESERVING | {"where"}:
        chain.append(stmt)
        stmt = stmt.func.value
    if not (isinstance(stmt, cst.Call) and N.call_name(stmt) == "select" and isinstance(stmt.func, cst.Name)
            and len(stmt.args) == 1 and isinstance(stmt.args[0].value, (cst.Name, cst.Attribute)) and stmt.args[0].keyword is None):
        return None
    tail = N.code(result.args[0].value)[len(N.code(stmt)):]
    return N.code(result.func.value), f"select(func.count()).select_from({N.code(stmt.args[0].value)}){tail}"


class _PatternRule(Rule):
    """Reports the first adapter's answer for one pattern, under that adapter's variant code."""

    pattern = ""

    # the rows of one parent (``filter_by(task_id=task.id)``) are few enough that loading them
    # whole for their ids costs little (QL408 only: counting or testing them is still worth a fix)
    few_rows_of_one_parent = False

    def _ask(self, node: cst.CSTNode, ask, query: Optional[cst.CSTNode] = None) -> None:
        got = first_hit(active_adapters(self.ctx), self.pattern, ask)
        if got is not None:
            hit, variant = got
            few = _narrowed_by_key(query if query is not None else node, self.ctx, self.few_rows_of_one_parent)
            edits = self.edits(node, variant) if variant in _QUERYSET_VARIANTS | _SA_VARIANTS else ()
            self.report(node, hit.message, fix=hit.fix, variant=variant, confidence="medium" if few else "high", edits=edits)

    def edits(self, node: cst.CSTNode, variant: str) -> Tuple[Edit, ...]:
        """The ``--fix`` of a finding of a Django or peewee query (whose ``.count()`` and
        ``.exists()`` ask the database), if the rule has one."""
        return ()

    def _replace(self, node: cst.CSTNode, text: str) -> Tuple[Edit, ...]:
        span = self.ctx.span(node)
        return (Edit(span.line, span.column, span.end_line, span.end_column, text),)


_FILTERS = frozenset({"filter", "filter_by", "where", "exclude"})
# the variants whose queries have ``.count()`` and ``.exists()``: Django's and peewee's
_QUERYSET_VARIANTS = frozenset({"QL401", "QL412", "QL402", "QL416"})
# SQLAlchemy's: a legacy ``Query`` has ``.count()`` and ``.first()`` (a 2.x result has neither)
_SA_VARIANTS = frozenset({"QL410", "QL414"})
# methods of a legacy ``Query`` after which the rows are still one per row of the table: no join
# (``len(q.all())`` counts entities made unique, ``q.count()`` the joined rows), no grouping
_ROW_PRESERVING = frozenset({"filter", "filter_by", "order_by", "options", "execution_options", "with_for_update"})


def _legacy_query_all(node: cst.BaseExpression) -> Optional[cst.BaseExpression]:
    """``q`` of ``q.all()`` when ``q`` is written as ``session.query(M)...`` or ``M.query...``
    with only filters and orderings chained: ``q.count()`` counts what ``len(q.all())`` does."""
    if not (isinstance(node, cst.Call) and N.call_name(node) == "all" and not node.args and isinstance(node.func, cst.Attribute)):
        return None
    query = node.func.value
    cur = query
    while isinstance(cur, cst.Call) and isinstance(cur.func, cst.Attribute) and cur.func.attr.value in _ROW_PRESERVING:
        cur = cur.func.value
    root = isinstance(cur, cst.Call) and isinstance(cur.func, cst.Attribute) and cur.func.attr.value == "query" and len(cur.args) == 1
    if root or (isinstance(cur, cst.Attribute) and cur.attr.value == "query" and isinstance(cur.value, cst.Name)):
        return query
    return None


def _query_expr(node: cst.BaseExpression, ctx: Context) -> Optional[cst.BaseExpression]:
    """The query itself in ``qs``, ``Model.objects.filter(...)`` or ``list(qs)``: a method chain,
    or a name bound once to one (not to a list of its rows, which has no ``.count()``)."""
    while isinstance(node, cst.Call) and N.call_name(node) in ("list", "tuple") and len(node.args) == 1 and isinstance(node.func, cst.Name):
        node = node.args[0].value
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
        return node
    if isinstance(node, cst.Name):
        b = ctx.binding(node.value, at=node)
        value = b.value if b is not None and b.kind == "assign" and b.is_simple else None
        return node if isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute) else None
    return None


def _key_kind(name: str) -> Optional[str]:
    """``"row"`` for a primary key (``id``, ``pk``), ``"parent"`` for a foreign key (``group_id``)."""
    last = name.rsplit(".", 1)[-1]
    if last in ("id", "pk"):
        return "row"
    if last.endswith(("_id", "__id", "__pk", "_pk")):
        return "parent"
    return None


def _narrowed_by_key(node: cst.CSTNode, ctx: Context, parent_too: bool, depth: int = 0) -> bool:
    """The query is cut to a few rows by a literal slice, or narrowed by equality on a key: its
    primary key (one row), or, when
    ``parent_too``, a foreign key (``filter(group_id=gid)``, ``where(Task.task_id == tid)``: the
    rows of one parent, not a table)."""
    if depth > 3:
        return False
    if isinstance(node, cst.Name):
        b = ctx.binding(node.value, at=node)
        return b is not None and b.kind == "assign" and b.is_simple and b.value is not None and _narrowed_by_key(b.value, ctx, parent_too, depth + 1)
    if isinstance(node, cst.Subscript) and short_slice(node):
        return True  # ``qs.filter(...)[0:1]``: at most a few rows, whatever the filter
    wanted = ("row", "parent") if parent_too else ("row",)
    for n in N.walk(node):
        if not (isinstance(n, cst.Call) and N.call_name(n) in _FILTERS):
            continue
        for arg in n.args:
            if arg.keyword is not None:
                if _key_kind(arg.keyword.value) in wanted:
                    return True
                if parent_too and _key_kind(N.dotted(arg.value) or "") is not None:
                    return True  # ``filter(group=group.id)``
            elif isinstance(arg.value, cst.Comparison) and len(arg.value.comparisons) == 1 and isinstance(arg.value.comparisons[0].operator, cst.Equal):
                column = N.dotted(arg.value.left) or ""
                if "." in column and _key_kind(column) in wanted:
                    return True  # ``Bin.id == bin_id`` (the column side, not the value's name)
    return False


_LIST_LITERALS = (cst.List, cst.Tuple, cst.ListComp)


def _may_be_a_list(arg: cst.BaseExpression, ctx: Context) -> bool:
    """A name bound to ``qs if cond else []`` (or with a list in either branch)."""
    if not isinstance(arg, cst.Name):
        return False
    b = ctx.binding(arg.value, at=arg)
    value = b.value if b is not None and b.kind in ("assign", "annassign") else None
    return isinstance(value, cst.IfExp) and (isinstance(value.body, _LIST_LITERALS) or isinstance(value.orelse, _LIST_LITERALS))


class LenAsCount(_PatternRule):
    """
    ## What it does
    Flags `len(...)` of every row of an ORM query whose rows are used for nothing else: a Django
    queryset (`len(qs)`, `len(list(qs))`), a SQLAlchemy result (`len(session.scalars(stmt).all())`,
    `len(Model.query.all())`), a peewee `Model.select()` query.

    ## Why is this bad?
    Every row is sent over the network and turned into an object, only to be counted. The
    database counts faster, in one number: `SELECT COUNT(*)`.

    ## Example
    ```python
    n_active = len(Product.objects.filter(active=True))
    total = len(session.scalars(select(User).where(User.active)).all())
    ```

    ## Use instead
    ```python
    n_active = Product.objects.filter(active=True).count()
    total = session.scalar(select(func.count()).select_from(User).where(User.active))
    ```
    (peewee: `query.count()`).

    ## Known problems
    When the same rows are used afterwards (iterated, returned), loading them once is right and
    `len()` reuses them: not reported. Limited queries and prefetched relations
    (`len(x.items.all())` reads the prefetch cache) are not reported, nor a Django queryset
    that holds one row at most: filtered on the key, a `unique=True` field, or every field of a
    `unique_together` / unconditional `UniqueConstraint`.

    Replaces the per-ORM codes `QL401` (Django), `QL410` (SQLAlchemy) and `QL412` (peewee),
    which keep working as aliases.
    """

    code = "QL405"
    name = "len-as-count"
    aliases = ("QL401", "QL410", "QL412")
    pattern = LEN_AS_COUNT
    VALID = [
        {
            "shop/models.py": _DJANGO,
            "shop/views.py": dedent(
                """
                from shop.models import Product
                def page():
                    products = Product.objects.filter(active=True)
                    total = len(products)
                    return total, [p.name for p in products]
                """
            ),
        },
        dedent(
            """
            from sqlalchemy import func, select
            def count(session, User):
                users = session.scalars(select(User)).all()
                return len(users), [u.email for u in users]
            """
        ),
        {
            "app/models.py": _PEEWEE,
            "app/stats.py": dedent(
                """
                from app.models import Tweet
                def stats(user):
                    tweets = Tweet.select().where(Tweet.user == user)
                    return len(tweets), [t.id for t in tweets]
                """
            ),
        },
    ]
    INVALID = [
        {
            "shop/models.py": _DJANGO,
            "shop/views.py": dedent(
                """
                from shop.models import Product
                def page():
                    return len(Product.objects.filter(active=True))  # want: QL405
                """
            ),
        },
        {
            "app/models.py": _SQLA,
            "app/stats.py": dedent(
                """
                from app.models import User
                def count(session):
                    return len(session.query(User).all())  # want: QL405
                """
            ),
        },
        {
            "app/models.py": _PEEWEE,
            "app/stats.py": dedent(
                """
                from app.models import Tweet
                def stats(user):
                    return len(Tweet.select().where(Tweet.user == user))  # want: QL405
                """
            ),
        },
    ]

    def visit_Call(self, node: cst.Call) -> None:
        if len(node.args) != 1 or not _builtin(node, "len", self.ctx):
            return
        arg = node.args[0].value
        if _may_be_a_list(arg, self.ctx):
            return  # ``rows = qs if year else []``: ``.count()`` would fail on the list
        self._ask(node, lambda a: a.len_as_count(node, arg, self.ctx), arg)

    def edits(self, node: cst.CSTNode, variant: str) -> Tuple[Edit, ...]:
        """``len(qs)`` / ``len(list(qs))`` -> ``qs.count()``; SQLAlchemy's ``len(q.all())`` ->
        ``q.count()``."""
        value = cast(cst.Call, node).args[0].value
        counted = _select_count(value) if variant in _SA_VARIANTS else None
        if counted is not None:
            # ``len(session.scalars(select(M)...).all())`` -> ``session.scalar(select(func.count())...)``
            edits = self._replace(node, f"{counted[0]}.scalar({counted[1]})")
            if self.ctx.facts.import_map().get("func") != "sqlalchemy.func":
                top = line_after_imports(self.ctx)
                edits += (Edit(top, 1, top, 1, "from sqlalchemy import func\n"),)
            return edits
        arg = _legacy_query_all(value) if variant in _SA_VARIANTS else _query_expr(value, self.ctx)
        return self._replace(node, f"{N.code(arg)}.count()") if arg is not None else ()


_TRUTH_PARENTS = (cst.If, cst.While, cst.IfExp, cst.Assert, cst.UnaryOperation, cst.BooleanOperation, cst.Arg)


class TruthinessAsExists(_PatternRule):
    """
    ## What it does
    Flags an ORM query tested for truth (`if qs:`, `not qs`, `bool(qs)`, `assert qs`) when its
    rows are used for nothing else: a Django queryset, every row of a SQLAlchemy query
    (`if session.scalars(stmt).all():`), a peewee `Model.select()` query.

    ## Why is this bad?
    Testing the rows evaluates the query: every matching row is fetched and built to answer a
    yes/no question. An existence query asks the database for at most one row.

    ## Example
    ```python
    if Order.objects.filter(customer=c, status="open"):
        warn()
    if session.scalars(select(User).where(User.email == email)).all():
        raise EmailTaken(email)
    ```

    ## Use instead
    ```python
    if Order.objects.filter(customer=c, status="open").exists():
        warn()
    if session.scalar(select(exists().where(User.email == email))):
        raise EmailTaken(email)
    ```
    (peewee: `query.exists()`).

    ## Known problems
    When the same rows are used after the test (iterated, returned), the test fills the result
    cache they reuse: not reported. Nor is a Django queryset that holds one row at most (filtered
    on the key, a `unique=True` field, or every field of a `unique_together` / unconditional
    `UniqueConstraint`): testing it costs what `exists()` costs.

    Replaces the per-ORM codes `QL402` (Django), `QL414` (SQLAlchemy) and `QL416` (peewee),
    which keep working as aliases.
    """

    code = "QL406"
    name = "truthiness-as-exists"
    aliases = ("QL402", "QL414", "QL416")
    pattern = TRUTHINESS
    VALID = [
        {
            "shop/models.py": _DJANGO,
            "shop/views.py": dedent(
                """
                from shop.models import Product
                def names():
                    products = Product.objects.filter(active=True)
                    if not products:
                        return []
                    return [p.name for p in products]
                """
            ),
        },
        dedent(
            """
            def taken(session, User, email):
                users = session.query(User).filter(User.email == email).all()
                if users:
                    return users[0]
            """
        ),
        {
            "app/models.py": _PEEWEE,
            "app/q.py": dedent(
                """
                from app.models import Tweet
                def has_tweets(user):
                    return Tweet.select().where(Tweet.user == user).exists()
                """
            ),
        },
    ]
    INVALID = [
        {
            "shop/models.py": _DJANGO,
            "shop/views.py": dedent(
                """
                from shop.models import Product
                def any_active():
                    products = Product.objects.filter(active=True)
                    if products:  # want: QL406
                        return True
                    return False
                """
            ),
        },
        {
            "app/models.py": _SQLA,
            "app/q.py": dedent(
                """
                from app.models import User
                def taken(session, email):
                    if session.query(User).filter(User.email == email).all():  # want: QL406
                        return True
                """
            ),
        },
        {
            "app/models.py": _PEEWEE,
            "app/q.py": dedent(
                """
                from app.models import Tweet
                def has_tweets(user):
                    if Tweet.select().where(Tweet.user == user):  # want: QL406
                        return True
                    return False
                """
            ),
        },
    ]

    def _check(self, node: cst.BaseExpression) -> None:
        if not isinstance(self.ctx.parent, _TRUTH_PARENTS) or truth_context(node, self.ctx) is None:
            return
        self._ask(node, lambda a: a.truth_tested(node, self.ctx))

    def edits(self, node: cst.CSTNode, variant: str) -> Tuple[Edit, ...]:
        """``if qs:`` / ``not qs`` / ``assert qs`` / ``bool(qs)`` -> ``qs.exists()``, and for
        SQLAlchemy's ``q.all()``, ``q.first() is not None`` (not inside ``and``/``or``, whose value
        would change)."""
        parent = self.ctx.parent_of(node)
        tested = (isinstance(parent, (cst.If, cst.While, cst.Assert)) and parent.test is node) or (
            isinstance(parent, cst.UnaryOperation) and isinstance(parent.operator, cst.Not))
        wrapper = self.ctx.parent_of(parent) if isinstance(parent, cst.Arg) else None
        if isinstance(wrapper, cst.Call) and len(wrapper.args) == 1 and _builtin(wrapper, "bool", self.ctx):
            node, parent, tested = wrapper, None, True  # ``bool(qs)``: the call itself becomes the test
            expr = cast(cst.Call, node).args[0].value
            if variant in _SA_VARIANTS:
                query = _legacy_query_all(expr)
                return self._replace(node, f"{N.code(query)}.first() is not None") if query is not None else ()
            return self._replace(node, f"{N.code(expr)}.exists()") if _query_expr(expr, self.ctx) is expr else ()
        if not tested:
            return ()
        expr = cast(cst.BaseExpression, node)
        if variant in _SA_VARIANTS:
            # ``if q.all():`` -> ``if q.first() is not None:`` (one row at most; under ``not``, ``is None``)
            query = _legacy_query_all(expr)
            if query is None:
                return ()
            if isinstance(parent, cst.UnaryOperation):
                return self._replace(parent, f"{N.code(query)}.first() is None")
            return self._replace(node, f"{N.code(query)}.first() is not None")
        return self._replace(node, f"{N.code(node)}.exists()") if _query_expr(expr, self.ctx) is node else ()

    visit_Name = _check
    visit_Call = _check


class FetchAllTakeOne(_PatternRule):
    """
    ## What it does
    Flags every row of an ORM query loaded to keep one (or a constant slice): Django
    `list(qs)[0]`, `[x for x in qs][0]`, `next(iter(qs))`; SQLAlchemy `.all()[0]`,
    `list(query)[0]`; peewee `list(query)[0]`.

    ## Why is this bad?
    Every matching row is fetched and turned into an object, then all but one are thrown away.
    The query has no `LIMIT`, so the database does the whole work too.

    ## Example
    ```python
    newest = list(Post.objects.order_by("-created"))[0]
    newest = session.query(User).order_by(User.created_at.desc()).all()[0]
    ```

    ## Use instead
    ```python
    newest = Post.objects.order_by("-created").first()
    newest = session.query(User).order_by(User.created_at.desc()).first()
    ```
    Slices become `qs[:n]` (Django) or `.limit(n)` / `.offset(n)`.

    ## Known problems
    Django: only `[0]` and `[-1]` are reported (another index may be deliberate).

    Replaces the per-ORM codes `QL403` (Django), `QL411` (SQLAlchemy) and `QL413` (peewee),
    which keep working as aliases.
    """

    code = "QL407"
    name = "fetch-all-take-one"
    aliases = ("QL403", "QL411", "QL413")
    pattern = TAKE_ONE
    VALID = [
        {
            "shop/models.py": _DJANGO,
            "shop/views.py": "from shop.models import Product\ndef first():\n    return Product.objects.order_by(\"name\")[0]\n",
        },
        dedent(
            """
            def newest(session, User):
                return session.query(User).order_by(User.id.desc()).first()
            """
        ),
        {
            "app/models.py": _PEEWEE,
            "app/q.py": dedent(
                """
                from app.models import Tweet
                def newest():
                    return Tweet.select().order_by(Tweet.id.desc()).first()
                """
            ),
        },
    ]
    INVALID = [
        {
            "shop/models.py": _DJANGO,
            "shop/views.py": "from shop.models import Product\ndef first():\n    return list(Product.objects.order_by(\"name\"))[0]  # want: QL407\n",
        },
        {
            "app/models.py": _SQLA,
            "app/q.py": dedent(
                """
                from app.models import User
                def newest(session):
                    return session.query(User).order_by(User.id.desc()).all()[0]  # want: QL407
                """
            ),
        },
        {
            "app/models.py": _PEEWEE,
            "app/q.py": dedent(
                """
                from app.models import Tweet
                def newest():
                    return list(Tweet.select().order_by(Tweet.id.desc()))[0]  # want: QL407
                """
            ),
        },
    ]

    def visit_Subscript(self, node: cst.Subscript) -> None:
        if constant_subscript(node) is None:
            return
        self._ask(node, lambda a: a.take_one(node, self.ctx))

    def visit_Call(self, node: cst.Call) -> None:
        if node.args and _builtin(node, "next", self.ctx):
            self._ask(node, lambda a: a.take_one(node, self.ctx))


def _row_attr(elt: cst.CSTNode, var: str) -> Optional[str]:
    """``attr`` when ``elt`` is ``<var>.<attr>``."""
    if isinstance(elt, cst.Attribute) and isinstance(elt.value, cst.Name) and elt.value.value == var:
        return elt.attr.value
    return None


def _mentions(node: cst.CSTNode, var: str) -> bool:
    return any(isinstance(n, cst.Name) and n.value == var for n in N.walk(node))


class InstancesForPkOnly(_PatternRule):
    """
    ## What it does
    Flags a comprehension (or a loop that only appends) that loads whole model instances from an
    ORM query only to collect their primary key: `[o.id for o in Order.objects.filter(...)]`,
    `[u.id for u in session.scalars(select(User))]`, `[u.id for u in User.select()]`.

    ## Why is this bad?
    Every column of every row is fetched and turned into an object to read one value, when the
    database could return the one column.

    ## Example
    ```python
    ids = [o.pk for o in Order.objects.filter(status="open")]
    ids = [u.id for u in session.scalars(select(User).where(User.active))]
    ```

    ## Use instead
    ```python
    ids = list(Order.objects.filter(status="open").values_list("pk", flat=True))
    ids = session.scalars(select(User.id).where(User.active)).all()
    ```
    (peewee: `User.select(User.id).tuples()`, or the query itself as a subquery).

    ## Known problems
    Only collections that read nothing but the key are reported; loops that read two or more
    fields are not. The loop form (`for o in qs: ids.append(o.id)`) is recognised for Django.
    A query narrowed to one parent's rows by a foreign key (`filter(user_id=uid)`,
    `where(Order.event_id == eid)`) is `medium`: a handful of rows costs little to load whole.

    Replaces the per-ORM codes `QL404` (Django), `QL415` (SQLAlchemy) and `QL417` (peewee),
    which keep working as aliases.
    """

    few_rows_of_one_parent = True

    code = "QL408"
    name = "instances-for-pk-only"
    aliases = ("QL404", "QL415", "QL417")
    pattern = PK_ONLY
    VALID = [
        {
            "shop/models.py": _DJANGO,
            "shop/views.py": "from shop.models import Product\ndef ids():\n    return list(Product.objects.values_list(\"id\", flat=True))\n",
        },
        dedent(
            """
            from sqlalchemy import select
            def ids(session, User):
                return session.scalars(select(User.id)).all()
            """
        ),
        {
            "app/models.py": _PEEWEE,
            "app/q.py": dedent(
                """
                from app.models import User
                def ids():
                    return [row[0] for row in User.select(User.id).tuples()]
                """
            ),
        },
    ]
    INVALID = [
        {
            "shop/models.py": _DJANGO,
            "shop/views.py": "from shop.models import Product\ndef ids():\n    return [p.id for p in Product.objects.filter(active=True)]  # want: QL408\n",
        },
        {
            "app/models.py": _SQLA,
            "app/q.py": dedent(
                """
                from sqlalchemy import select
                from app.models import User
                def ids(session):
                    return [u.id for u in session.scalars(select(User))]  # want: QL408
                """
            ),
        },
        {
            "app/models.py": _PEEWEE,
            "app/q.py": dedent(
                """
                from app.models import User
                def ids():
                    return [u.id for u in User.select()]  # want: QL408
                """
            ),
        },
    ]

    def _comp(self, node) -> None:
        comp = node.for_in
        if comp.inner_for_in is not None or not isinstance(comp.target, cst.Name):
            return
        var = comp.target.value
        attr = _row_attr(node.elt, var)
        if attr is None or any(_mentions(cond, var) for cond in comp.ifs):
            return
        self._ask(node, lambda a: a.pk_only(node, comp.iter, attr, comp, self.ctx), comp.iter)

    visit_ListComp = _comp
    visit_SetComp = _comp
    visit_GeneratorExp = _comp

    def visit_For(self, node: cst.For) -> None:
        # for o in qs: ids.append(o.id)
        if not isinstance(node.target, cst.Name) or node.orelse is not None:
            return
        body = node.body.body if isinstance(node.body, cst.IndentedBlock) else ()
        if len(body) != 1 or not isinstance(body[0], cst.SimpleStatementLine) or len(body[0].body) != 1:
            return
        expr = body[0].body[0]
        call = expr.value if isinstance(expr, cst.Expr) else None
        if not (isinstance(call, cst.Call) and N.call_name(call) in ("append", "add") and len(call.args) == 1):
            return
        var = node.target.value
        attr = _row_attr(call.args[0].value, var)
        if attr is None or _mentions(call.func, var):
            return
        self._ask(node.iter, lambda a: a.pk_only(node, node.iter, attr, None, self.ctx))


RULES = (LenAsCount, TruthinessAsExists, FetchAllTakeOne, InstancesForPkOnly)
