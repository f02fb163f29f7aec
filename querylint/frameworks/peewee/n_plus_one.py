"""peewee's N+1 detectors: a query, a write and a foreign-key / backref load once per item (the
peewee variants of QL103-QL105; old codes QL130, QL131, QL132), and the query sites the project
index records."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Optional, Tuple

import libcst as cst

from querylint.loops import per_item_loop, per_item_loop_by_key
from querylint.frameworks.peewee.models import CLASS_READS, TERMINAL_ONE, PwValue, infer, model_of, peewee_models, uses_peewee
from querylint.frameworks.base import Detector, MemberQueryDetector
from querylint.rule import Edit, dedent, nodes as N
from querylint.scope import module_functions, param_chains
from querylint.usage import is_store_target
if TYPE_CHECKING:  # pragma: no cover
    from querylint.context import Context

QUERY_TERMINALS = TERMINAL_ONE | {"count", "exists", "execute", "scalars"}
INSTANCE_WRITES = {"save", "delete_instance"}
CLASS_WRITES = {"create", "delete_by_id", "set_by_id"}
WRITE_QUERY_TERMINALS = {"execute"}
CONSUMERS = {"len", "list", "tuple", "sorted", "sum", "any", "all", "set", "max", "min"}


def _last(q: Optional[str]) -> str:
    return (q or "").rsplit(".", 1)[-1]


_MODELS_INVALID = dedent(
    """
    from peewee import CharField, ForeignKeyField, Model, SqliteDatabase
    db = SqliteDatabase(":memory:")
    class BaseModel(Model):
        class Meta:
            database = db
    class User(BaseModel):
        username = CharField(unique=True)
    class Tweet(BaseModel):
        user = ForeignKeyField(User, backref="tweets")
        content = CharField()
    """
)


def classify_call(call: cst.Call, ctx: Context) -> Optional[Tuple[str, str]]:
    """("query" | "write", description) when ``call`` runs a peewee statement."""
    name = N.call_name(call)
    recv = N.receiver(call)
    if recv is None or name is None:
        return None
    if name in CLASS_READS or name in CLASS_WRITES:
        if model_of(recv, ctx) is not None:
            return ("query" if name in CLASS_READS else "write"), N.short(call.func)
    if name in QUERY_TERMINALS:
        base = infer(recv, ctx)
        if base is not None:
            if base.kind == "query" and base.backref is None:
                return "query", N.short(call.func)
            if base.kind == "write" and name == "execute":
                return "write", N.short(call.func)
    if name in INSTANCE_WRITES:
        base = infer(recv, ctx)
        if base is not None and base.kind == "instance" and base.model:
            return "write", N.short(call.func)
    return None


def _per_item(v: PwValue, ctx: Context):
    return per_item_loop_by_key(v.loop, ctx)


def _join_edit(base, fk, pm, ctx: Context) -> Tuple[Edit, ...]:
    """The ``--fix`` for a foreign key read per row: ``Tweet.select()`` becomes
    ``Tweet.select(Tweet, User).join(User)`` where the query is built in this file with no
    columns of its own, the model has one foreign key to that target (the join is unambiguous)
    and the target's name is bound in the module."""
    o = base.origin
    if o is None or not ctx.in_this_file(o) or not (isinstance(o, cst.Call) and isinstance(o.func, cst.Attribute)):
        return ()
    if o.func.attr.value != "select" or o.args or not isinstance(o.func.value, cst.Name) or o.func.value.value != _last(base.model):
        return ()
    model, target = _last(base.model), _last(fk.target)
    m = pm.models.get(base.model)
    if m is None or sum(1 for f in m.fks.values() if f.target == fk.target) != 1:
        return ()
    bound = set(ctx.facts.import_map()) | {c.name for c in ctx.facts.classes} | set(ctx.facts.module_names)
    if target not in bound:
        return ()
    span = ctx.span(o)
    return (Edit(span.line, span.column, span.end_line, span.end_column, f"{model}.select({model}, {target}).join({target})"),)


def _iterated_or_run(node, ctx: Context) -> bool:
    """The expression is iterated, consumed (``len``/``list``...) or has a method called on it."""
    parent = ctx.parent_of(node) or ctx.parent
    if isinstance(parent, cst.For) and parent.iter is node:
        return True
    if isinstance(parent, cst.CompFor) and parent.iter is node:
        return True
    if isinstance(parent, cst.Attribute) and parent.value is node:
        return True
    if isinstance(parent, cst.Arg):
        call = ctx.parent_of(parent)
        return isinstance(call, cst.Call) and isinstance(call.func, cst.Name) and call.func.value in CONSUMERS
    return False


class PeeweeQueryInLoop(Detector):
    """
    ## What it does
    Flags a peewee query run once per item of a loop or comprehension: `Model.get(...)`,
    `Model.get_or_none(...)`, `Model.get_by_id(...)`, `Model.get_or_create(...)`, a
    `Model.select()` chain ended by `.get()` / `.first()` / `.count()` / `.exists()` /
    `.scalar()`, or iterated by an inner loop.

    ## Why is this bad?
    Every iteration is a round trip to the database: N items cost N queries.

    ## Example
    ```python
    for name in names:
        user = User.get(User.username == name)
    ```

    ## Use instead
    ```python
    users = {u.username: u for u in User.select().where(User.username.in_(names))}
    ```

    ## Known problems
    Models are found through the project index (subclasses of `peewee.Model`). Loops over
    constants, batches and retries are not reported.
    """

    VALID = [
        {
            "app/models.py": _MODELS_INVALID,
            "app/views.py": dedent(
                """
                from app.models import User
                def lookup(names):
                    return {u.username: u for u in User.select().where(User.username.in_(names))}
                """
            ),
        }
    ]
    INVALID = [
        {
            "app/models.py": _MODELS_INVALID,
            "app/views.py": dedent(
                """
                from app.models import User
                def lookup(names):
                    return [User.get(User.username == n) for n in names]  # want: QL130
                """
            ),
        }
    ]

    def visit_Call(self, node: cst.Call) -> None:
        if self.ctx.loop is None:
            return
        got = classify_call(node, self.ctx)
        if got is None:
            if isinstance(node.func, cst.Name) and node.func.value in CONSUMERS and len(node.args) == 1:
                v = infer(node.args[0].value, self.ctx)
                if v is not None and v.kind == "query" and v.backref is None and not isinstance(node.args[0].value, cst.Name):
                    self._report(node, N.short(node))
            return
        if got[0] != "query":
            return
        self._report(node, N.short(node))

    def visit_For(self, node: cst.For) -> None:
        self._check_iterable(node.iter)

    def visit_Subscript(self, node: cst.Subscript) -> None:
        if self.ctx.loop is None:
            return
        parent = self.ctx.parent_of(node) or self.ctx.parent
        if isinstance(parent, (cst.AssignTarget, cst.Del)):
            return
        if model_of(node.value, self.ctx) is not None:
            self._report(node, N.short(node))

    def on_comprehension_iter(self, node) -> None:
        self._check_iterable(node)

    def visit_Name(self, node) -> None:
        self._comp_iter(node)

    def visit_Attribute(self, node) -> None:
        self._comp_iter(node)

    def leave_Call(self, node) -> None:
        self._comp_iter(node)

    def _comp_iter(self, node) -> None:
        if self.ctx.loop is None:
            return
        parent = self.ctx.parent
        if isinstance(parent, cst.CompFor) and parent.iter is node:
            self._check_iterable(node)

    def _check_iterable(self, it) -> None:
        if self.ctx.loop is None or not isinstance(it, (cst.Name, cst.Attribute, cst.Call)):
            return
        if isinstance(it, cst.Call) and classify_call(it, self.ctx) is not None:
            return
        v = infer(it, self.ctx)
        if v is None or v.kind != "query" or v.backref is not None or self._built_before_loop(it):
            return
        self._report(it, f"iterating {N.short(it)}", iterated=True)

    def _built_before_loop(self, it) -> bool:
        """``events = Event.select()...`` before the loop, iterated on every pass: one query
        object, which runs once and keeps its rows (peewee caches a query's result)."""
        loop = per_item_loop(self.ctx)
        if loop is None or not isinstance(it, cst.Name):
            return False
        b = self.ctx.binding(it.value, at=it)
        if b is None or b.kind not in ("assign", "annassign") or not b.is_simple:
            return False
        return not any(a is loop.node for a in self.ctx.ancestors(b.node))

    def _report(self, node, what: str, iterated: bool = False) -> None:
        loop = per_item_loop(self.ctx)
        if loop is None:
            return
        text = what if iterated else f"`{what}`"
        if iterated:
            text = f"iterating `{N.short(node)}`"
        self.report(
            node,
            f"{text} runs a query on every iteration of {self.ctx.loop_label(loop)}",
            fix="fetch every row once before the loop (`.where(Model.field.in_(values))`) and look them up in a dict",
        )


class PeeweeWriteInLoop(Detector):
    """
    ## What it does
    Flags a peewee write once per item of a loop: `Model.create(...)`, `obj.save()`,
    `obj.delete_instance()`, or `Model.update(...)` / `Model.delete()` / `Model.insert(...)`
    `.execute()`.

    ## Why is this bad?
    One INSERT or UPDATE per item is one round trip per item; outside a transaction, also one
    commit (and one disk sync) per item.

    ## Example
    ```python
    for row in rows:
        Tweet.create(user=user, content=row["text"])
    ```

    ## Use instead
    ```python
    with db.atomic():
        Tweet.insert_many([{"user": user, "content": r["text"]} for r in rows]).execute()
    ```
    `Model.bulk_update(objs, fields=[...])` for updates.
    """

    VALID = [
        {
            "app/models.py": _MODELS_INVALID,
            "app/load.py": dedent(
                """
                from app.models import Tweet, db
                def load(user, rows):
                    with db.atomic():
                        Tweet.insert_many([{"user": user, "content": r} for r in rows]).execute()
                """
            ),
        }
    ]
    INVALID = [
        {
            "app/models.py": _MODELS_INVALID,
            "app/load.py": dedent(
                """
                from app.models import Tweet
                def load(user, rows):
                    for r in rows:
                        Tweet.create(user=user, content=r)  # want: QL131
                """
            ),
        }
    ]

    def visit_Call(self, node: cst.Call) -> None:
        if self.ctx.loop is None:
            return
        got = classify_call(node, self.ctx)
        if got is None or got[0] != "write":
            return
        loop = per_item_loop(self.ctx)
        if loop is None:
            return
        self.report(
            node,
            f"`{N.short(node)}` writes one row on every iteration of {self.ctx.loop_label(loop)}",
            fix="collect the rows and write them at once (`insert_many(...)`, `bulk_create`, `bulk_update`) inside `db.atomic()`",
        )


class PeeweeForeignKeyInLoop(Detector):
    """
    ## What it does
    Flags a per-item read of a peewee `ForeignKeyField` (`tweet.user`) or of a backref
    (`user.tweets`, iterated or counted) on rows of a query that neither joins and selects the
    related model (`Tweet.select(Tweet, User).join(User)`) nor prefetches it
    (`prefetch(users, Tweet)`).

    ## Why is this bad?
    peewee loads the related row with its own SELECT the first time the attribute is read:
    one query for the rows, then one per row.

    ## Example
    ```python
    for tweet in Tweet.select():
        print(tweet.user.username)
    ```

    ## Use instead
    ```python
    for tweet in Tweet.select(Tweet, User).join(User):
        print(tweet.user.username)
    ```
    Read `tweet.user_id` when only the key is needed; use `prefetch()` for backrefs.

    ## Known problems
    A query that joins the model without selecting its columns still loads it per row; such
    joins are taken as covering, to stay quiet when unsure.
    """

    VALID = [
        {
            "app/models.py": _MODELS_INVALID,
            "app/feed.py": dedent(
                """
                from app.models import Tweet, User
                def feed():
                    return [(t.content, t.user.username) for t in Tweet.select(Tweet, User).join(User)]
                """
            ),
        }
    ]
    INVALID = [
        {
            "app/models.py": _MODELS_INVALID,
            "app/feed.py": dedent(
                """
                from app.models import Tweet
                def feed():
                    return [(t.content, t.user.username) for t in Tweet.select()]  # want: QL132
                """
            ),
        }
    ]

    def visit_Call(self, node: cst.Call) -> None:
        # a helper of this module reading a foreign key of the row it is given: ``as_row(tweet)``
        if self.ctx.loop is None or not isinstance(node.func, cst.Name) or not node.args:
            return
        pm = peewee_models(self.ctx.index)
        if not pm.models:
            return
        fn = module_functions(self.ctx).get(node.func.value)
        b = self.ctx.binding(node.func.value, at=node)
        if fn is None or b is None or b.kind != "def":
            return
        params = [p.name.value for p in fn.params.params]
        for i, a in enumerate(node.args):
            if a.keyword is not None or a.star or i >= len(params) or not isinstance(a.value, (cst.Name, cst.Attribute)):
                break
            base = infer(a.value, self.ctx)
            if base is None or base.kind != "instance" or not base.model:
                continue
            loop = _per_item(base, self.ctx)
            if loop is None:
                continue
            for chain in param_chains(fn, params[i], self.ctx):
                fk = pm.fk(base.model, chain[0])
                if fk is None or fk.many_to_many or fk.target is None or fk.target in base.loaded or "*" in base.loaded:
                    continue
                target = _last(fk.target)
                self.report(
                    node,
                    f"`{node.func.value}()` reads `{N.short(a.value)}.{chain[0]}`, loading the related `{target}` with a query on every "
                    f"iteration of {self.ctx.loop_label(loop)}",
                    fix=f"select it with the rows (`.select({_last(base.model)}, {target}).join({target})`)",
                )
                return

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if self.ctx.loop is None:
            return
        pm = peewee_models(self.ctx.index)
        if not pm.models:
            return
        base = infer(node.value, self.ctx)
        if base is None or base.kind != "instance" or not base.model:
            return
        name = node.attr.value
        fk = pm.fk(base.model, name)
        loop = _per_item(base, self.ctx)
        if loop is None:
            return
        parent = self.ctx.parent_of(node) or self.ctx.parent
        if isinstance(parent, (cst.AssignTarget, cst.Del)) or (isinstance(parent, cst.AugAssign) and parent.target is node):
            return
        model = _last(base.model)
        if fk is not None and not fk.many_to_many:
            if fk.target is None or fk.target in base.loaded or "*" in base.loaded:
                return
            target = _last(fk.target)
            self.report(
                node,
                f"`{N.short(node)}` loads the related `{target}` with a query on every iteration of {self.ctx.loop_label(loop)}",
                fix=f"select it with the rows (`{model}.select({model}, {target}).join({target})`) or read `{N.short(node)}_id` if only the key is needed",
                edits=_join_edit(base, fk, pm, self.ctx),
            )
            return
        v = infer(node, self.ctx)
        if v is None or v.kind != "query" or v.backref is None or not _iterated_or_run(node, self.ctx):
            return
        child = _last(v.model)
        self.report(
            node,
            f"`{N.short(node)}` queries `{child}` rows on every iteration of {self.ctx.loop_label(loop)}",
            fix=f"load them for all rows at once with `prefetch(<{model} query>, {child})`",
        )


class PeeweeMemberQueryInLoop(MemberQueryDetector):
    """A per-item call of a peewee model's method or property that runs a query (the peewee
    variant of QL106; it answered to QL125 before the rules merged, and still does)."""

    def active_here(self) -> bool:
        return uses_peewee(self.ctx)

    def owner_and_loop(self, attr: cst.Attribute):
        pw = infer(attr.value, self.ctx)
        if pw is None or pw.kind != "instance" or not pw.model or pw.loop is None:
            return None
        return pw.model, _per_item(pw, self.ctx), pw

    def covered(self, qualname: str, path, pw) -> bool:
        """Every query the member runs (itself and through what it calls) is a lazy load of a
        foreign key whose model the loop's query joined and selected (``Widget.select(Widget,
        Visualization).join(Visualization)``)."""
        return bool(pw.loaded) and _only_joined_loads(qualname, pw.loaded, self.ctx)


def detect_peewee_query(node, ctx: Context) -> Optional[str]:
    """Query sites for the project index: peewee reads and writes, and a model method's read of a
    foreign key of ``self`` (``self.visualization``: a query unless the row was joined)."""
    if isinstance(node, cst.Attribute):
        return _self_foreign_key(node, ctx)
    if not isinstance(node, cst.Call):
        return None
    name = N.call_name(node)
    if name is None:
        return None
    if not (name in CLASS_READS or name in CLASS_WRITES or name in QUERY_TERMINALS or name in INSTANCE_WRITES):
        return _evaluated_query(node, ctx)
    if not peewee_models(ctx.index).models:
        return None
    got = classify_call(node, ctx)
    return got[1] + "(...)" if got else None


_EVALUATING = CONSUMERS | {"bool", "next", "iter", "enumerate", "reversed", "frozenset", "dict"}


def _evaluates(expr: cst.CSTNode, ctx: Context) -> bool:
    """``expr`` is iterated, consumed (``list``/``len``...), indexed or tested for truth here."""
    parent = ctx.parent_of(expr)
    if isinstance(parent, (cst.For, cst.CompFor)):
        return parent.iter is expr
    if isinstance(parent, (cst.If, cst.While)):
        return parent.test is expr
    if isinstance(parent, cst.UnaryOperation):
        return isinstance(parent.operator, cst.Not)
    if isinstance(parent, cst.Subscript):
        return parent.value is expr
    if isinstance(parent, cst.Arg) and parent.keyword is None and not parent.star:
        call = ctx.parent_of(parent)
        return (isinstance(call, cst.Call) and isinstance(call.func, cst.Name) and call.func.value in _EVALUATING
                and bool(call.args) and call.args[0] is parent and ctx.binding(call.func.value, at=call) is None)
    return False


def _evaluated_query(call: cst.Call, ctx: Context) -> Optional[str]:
    """A whole peewee query (``Model.select()...``, or a project helper's returned one) run
    here: iterated, consumed or tested for truth, as it is or through the name it is bound to."""
    parent = ctx.parent_of(call)
    if isinstance(parent, cst.Attribute) or not peewee_models(ctx.index).models:
        return None  # a chain goes on: its end is judged
    v = infer(call, ctx)
    if v is None or v.kind != "query" or v.backref is not None:
        return None
    desc = N.short(call, 60)
    if _evaluates(call, ctx):
        return desc
    fn = ctx.function
    if fn is None or not (isinstance(parent, cst.Assign) and len(parent.targets) == 1 and isinstance(parent.targets[0].target, cst.Name)):
        return None
    name = parent.targets[0].target.value
    for node in N.walk(fn.node, into_functions=False):
        if isinstance(node, cst.Name) and node.value == name and _evaluates(node, ctx):
            b = ctx.binding(name, at=node)
            if b is not None and b.node is parent:
                return desc
    return None




def _self_foreign_key(node: cst.Attribute, ctx: Context) -> Optional[str]:
    if not (isinstance(node.value, cst.Name) and node.value.value == "self"):
        return None
    cls = ctx.class_frame
    if cls is None:
        return None
    pm = peewee_models(ctx.index)
    if cls.qualname not in pm.models:
        return None
    fk = pm.fk(cls.qualname, node.attr.value)
    if fk is None or fk.many_to_many:
        return None
    if is_store_target(node, ctx):
        return None  # ``self.author = user``: a store, not a load
    return f"self.{node.attr.value} (lazy load of {cls.qualname.rsplit('.', 1)[-1]}.{node.attr.value})"


_LAZY_FK = re.compile(r"\(lazy load of (\w+)\.(\w+)\)$")


def _only_joined_loads(qualname: str, loaded, ctx: Context, limit: int = 40) -> bool:
    index, pm = ctx.index, peewee_models(ctx.index)
    seen, todo = set(), [qualname]
    while todo:
        q = todo.pop()
        if q in seen:
            continue
        seen.add(q)
        if len(seen) > limit:
            return False
        for desc in index.direct_queries.get(q, ()):
            hit = _LAZY_FK.search(desc)
            fn = index.functions.get(q)
            fk = pm.fk(fn.cls, hit.group(2)) if hit is not None and fn is not None and fn.cls else None
            if fk is None or not ("*" in loaded or fk.target in loaded):
                return False
        todo.extend(c for c in index.callees(q) if index.query_path(c))
    return True
