"""Django's N+1 detectors: a query, a write, a lazy relation or a querying model member once
per item of a loop (the Django variants of QL103-QL106; their old codes QL110, QL111, QL112,
QL117), and the site classification the Django-only rules in ``rules/django.py`` share."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Dict, FrozenSet, List, Optional, Set, Tuple, cast

import libcst as cst

from querylint.frameworks.django.models import GFK, M2M, MANY, REV_M2M, SINGLE, count_lookup
from querylint.frameworks.django.querysets import INST, DjType, graph_of, infer
from querylint.frameworks.django.sites import (
    Site, depends_on_loop, is_fresh, is_loaded, loop_queryset_line, per_item_loop_of,
    relation_hop, site_of,
)
from querylint.loops import per_item_loop, repeats_per_iteration, varies_per_item
from querylint.types import Edit
from querylint.usage import is_store_target
from querylint import nodes as N
from querylint.frameworks.base import Detector, loaded_earlier_in_iteration, member_queries, relation_read_earlier
from querylint.rule import callee_params, dedent, query_writes, read_chains, resolve_callee, writes_through

_CODES = {
    "read": "QL110", "instance-read": "QL110", "write": "QL111", "instance-write": "QL111",
    "related": "QL113", "defeat": "QL114", "invariant": "QL116",
}


def where_text(t: Optional[DjType], ctx: Context) -> str:
    if t is not None and t.named_only:
        return "the queryset passed in (if it is one)"
    line = loop_queryset_line(t, ctx)
    return f"the queryset built on line {line}" if line else "the queryset the loop iterates"


# queryset methods after which ``.select_related(...)`` / ``.prefetch_related(...)`` can be
# chained with the same rows as the result (not ``iterator()``, ``values()``, a slice)
_CHAINABLE = frozenset({
    "all", "filter", "exclude", "order_by", "select_related", "prefetch_related", "annotate", "only", "defer",
    "distinct", "using", "alias", "select_for_update",
})


def load_edit(t: Optional[DjType], how: str, path: str, ctx: Context) -> Tuple[Edit, ...]:
    """The ``--fix`` for a relation the loop's queryset does not load: ``.select_related("x")``
    (or ``prefetch_related``) appended where the queryset is built in this file, when that is a
    manager (``Book.objects``) or a chain of queryset methods."""
    if t is None or t.origin is None or t.named_only or not ctx.in_this_file(t.origin):
        return ()
    o = t.origin
    chained = isinstance(o, cst.Call) and isinstance(o.func, cst.Attribute) and o.func.attr.value in _CHAINABLE
    if not (chained or isinstance(o, cst.Attribute)) or _selects_every_relation(o, ctx):
        return ()  # (a manager, ``Book.objects``, or a related manager, ``order.lines``, is an attribute)
    end = ctx.span(o)
    return (Edit(end.end_line, end.end_column, end.end_line, end.end_column, f'.{how}("{path}")'),)


def _selects_every_relation(node: cst.CSTNode, ctx: Context) -> bool:
    """The chain around ``node`` calls ``select_related()`` with no names, which replaces named
    relations with every non-null one: a named one added before it would be dropped."""
    cur = node
    for anc in ctx.ancestors(node):
        if isinstance(anc, cst.Attribute) and anc.value is cur:
            cur = anc
        elif isinstance(anc, cst.Call) and anc.func is cur:
            if isinstance(cur, cst.Attribute) and cur.attr.value == "select_related" and not anc.args:
                return True
            cur = anc
        else:
            break
    return isinstance(node, cst.Call) and N.call_name(node) == "select_related" and not node.args


def _short_call(node: cst.CSTNode) -> str:
    text = N.short(node, 70)
    return text


def loop_site(node: cst.CSTNode, ctx: Context) -> Optional[Tuple[str, object, Site]]:
    """(code, loop, site) when ``node`` runs a Django query once per item of a loop."""
    if not ctx.loops:
        return None

    def compute():
        site = site_of(node, ctx)
        if site is None or under_prefetch_guard(node, ctx):
            return None
        loop = per_item_loop(ctx) or _rows_loop(site, ctx)
        if loop is None or not repeats_per_iteration(site.node, loop, ctx):
            return None
        site = _rebase_on_binding(site, loop, ctx)
        kind = site.kind
        t = site.qs
        if kind in ("read", "instance-read", "related", "defeat") and site.method in _EVALUATIONS and not is_fresh(site.expr, loop.node, ctx):
            # one queryset object built before the loop: its first evaluation fills the result
            # cache (fully, even when the loop breaks early), every later pass reads the cache
            return None
        if kind == "read" and site.method in _CACHE_READS and _evaluated_earlier(site.expr, site.node, loop, ctx):
            return None  # ``if not match: continue`` then ``match.count()``: the test filled the cache
        if kind in ("read", "instance-read", "related") and _locked_in_own_transaction(site, loop, ctx):
            return None  # rows locked in a transaction per item: fetching all first would lock all or none
        if kind in ("read", "instance-read"):
            if _random_pick(site.expr):
                return None  # ``order_by("?")`` per group: a deliberate random pick, no batch form
            if not depends_on_loop(site.node, loop.node, ctx):
                if kind == "instance-read":
                    return None  # ``job.refresh_from_db()`` each pass: polling for a change, never hoistable
                return None if _loop_writes_model(loop, t, ctx) else ("QL116", loop, site)
            return ("QL110", loop, site)
        if kind in ("related", "defeat"):
            owner = None
            if t is not None and t.owner_loop is not None:
                for l in reversed(ctx.loops):
                    if id(l.node) == t.owner_loop:
                        owner = l
                        break
            if owner is None:
                if not depends_on_loop(site.node, loop.node, ctx):
                    return None if _loop_writes_model(loop, t, ctx) else ("QL116", loop, site)
                return ("QL110", loop, site)
            from querylint.loops import batch_by_name_only, classify_loop

            if classify_loop(owner, ctx) != "items" and not batch_by_name_only(owner, ctx):
                return None
            return (_CODES[kind], owner, site)
        if kind in ("write", "instance-write"):
            return ("QL111", loop, site)
        return None

    return ctx.memo(("dj-loop-site", id(node)), compute)


_EVALUATIONS = frozenset((
    "iterate", "build", "list", "tuple", "set", "sorted", "len", "bool", "index", "contains", "sum", "max", "min", "any", "all",
    "frozenset", "dict", "next", "iter", "reversed", "enumerate",
))


# what a queryset answers from its result cache once evaluated (``first()`` re-queries when unordered)
_CACHE_READS = _EVALUATIONS | {"count", "exists", "acount", "aexists"}


def _evaluated_earlier(expr: cst.CSTNode, node: cst.CSTNode, loop, ctx: Context) -> bool:
    """``expr`` names a queryset that an earlier statement of the same pass evaluated (an ``if``
    testing it, a loop over it, ``len()``/``list()``/``bool()`` of it) with no new binding of the
    name in between: later reads come from its result cache."""
    if not isinstance(expr, cst.Name):
        return False
    name = expr.value
    child: cst.CSTNode = node
    for anc in ctx.ancestors(node):
        if anc is loop.node:
            return False
        if isinstance(anc, cst.IndentedBlock):
            before = list(anc.body)[: next((i for i, st in enumerate(anc.body) if st is child), 0)]
            for stmt in reversed(before):
                if any(name in N.target_names(t) for t in _bound_targets(stmt)):
                    return False
                if _evaluates(stmt, name):
                    return True
        child = anc
    return False


def _evaluates(stmt: cst.CSTNode, name: str) -> bool:
    def is_name(e) -> bool:
        return isinstance(e, cst.Name) and e.value == name

    if isinstance(stmt, (cst.If, cst.While)):
        test = stmt.test
        return is_name(test) or (isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not) and is_name(test.expression))
    if isinstance(stmt, cst.For):
        return is_name(stmt.iter)
    if isinstance(stmt, cst.SimpleStatementLine):
        return any(
            isinstance(n, cst.Call) and N.call_name(n) in ("len", "list", "bool", "tuple") and len(n.args) == 1 and is_name(n.args[0].value)
            for n in N.walk(stmt)
        )
    return False


def _bound_targets(stmt: cst.CSTNode):
    """Every name target bound anywhere in ``stmt`` (assignments, loop and ``with`` targets, walruses)."""
    for n in N.walk(stmt):
        if isinstance(n, cst.Assign):
            yield from (t.target for t in n.targets)
        elif isinstance(n, (cst.AnnAssign, cst.AugAssign, cst.NamedExpr)):
            yield n.target
        elif isinstance(n, (cst.For, cst.CompFor)):
            yield n.target
        elif isinstance(n, cst.WithItem) and n.asname is not None:
            yield n.asname.name


def _loop_writes_model(loop, t, ctx: Context) -> bool:
    """The loop writes rows of the model the "same" query reads (``count()`` then
    ``get_or_create(ordering=count + 1)``), or calls a project function that writes
    (``event.check_for_bump_or_rebalance(pool)`` moving registrations): its answer may change
    per iteration, so it is not loop-invariant."""
    model = t.model if t is not None else None
    if model is None:
        return False

    def compute() -> bool:
        for n in N.walk(loop.node, into_functions=False):
            if isinstance(n, cst.Call):
                w = site_of(n, ctx)
                if w is not None and w.kind in ("write", "instance-write") and w.qs is not None and w.qs.model == model:
                    return True
                if w is None:
                    qual = resolve_callee(n, ctx) or _model_method(n, ctx)
                    if qual is not None and writes_through(qual, ctx):
                        return True
        return False

    return ctx.memo(("dj-loop-writes", id(loop.node), model), compute)


def _model_method(call: cst.Call, ctx: Context) -> Optional[str]:
    """``locked_event.check_for_bump_or_rebalance(pool)`` on a model instance: the model's method."""
    recv = N.receiver(call)
    name = N.call_name(call)
    if recv is None or name is None:
        return None
    t = infer(recv, ctx)
    if t is None or t.kind != INST or not t.model:
        return None
    hit = ctx.index.find_method(t.model, name)
    return hit.qualname if hit is not None else None


def under_prefetch_guard(node: cst.CSTNode, ctx: Context) -> bool:
    """Inside ``if "teams" in getattr(self, "_prefetched_objects_cache", {}):`` (or a ``try`` on
    it): the code itself checks that the relation is prefetched before reading it."""
    for anc in ctx.ancestors(node):
        if isinstance(anc, (cst.If, cst.IfExp)) and "_prefetched_objects_cache" in N.code(anc.test):
            return True
        if isinstance(anc, (cst.FunctionDef, cst.ClassDef)):
            return False
    return False


def _locked_in_own_transaction(site: Site, loop, ctx: Context) -> bool:
    """``with transaction.atomic(): Event.objects.select_for_update().get(pk=event_id)`` in the
    loop: each item is locked in a transaction of its own, on purpose (lego's bump tasks)."""
    chain = site.node if isinstance(site.node, cst.Call) else site.expr
    if "select_for_update" not in _chain_methods(chain):
        return False
    for anc in ctx.ancestors(site.node):
        if anc is loop.node:
            return False
        if isinstance(anc, cst.With) and any(isinstance(i.item, cst.Call) and N.call_name(i.item) == "atomic" for i in anc.items):
            return True
    return False


def _chain_methods(expr: cst.CSTNode) -> List[str]:
    out = []
    cur = expr
    while isinstance(cur, cst.Call) and isinstance(cur.func, cst.Attribute):
        out.append(cur.func.attr.value)
        cur = cur.func.value
    return out


def _random_pick(expr: cst.CSTNode) -> bool:
    """The query chain orders at random (``.order_by("?")``)."""
    cur = expr
    while isinstance(cur, cst.Call) and isinstance(cur.func, cst.Attribute):
        if cur.func.attr.value == "order_by" and any(N.string_value(a.value) == "?" for a in cur.args):
            return True
        cur = cur.func.value
    return False


def _rows_loop(site: Site, ctx: Context):
    """A loop named like a batch loop (``for customer in page_obj``) that bound the model instance the
    site reads from: the instance's type outweighs the name."""
    from querylint.loops import batch_by_name_only

    t = site.qs
    key = t.owner_loop if t is not None and t.owner_loop is not None else (t.loop if t is not None else None)
    if key is None:
        return None
    for l in reversed(ctx.loops):
        if id(l.node) == key:
            return l if batch_by_name_only(l, ctx) else None
    return None


def _rebase_on_binding(site: Site, loop, ctx: Context) -> Site:
    """``qs = Model.objects.filter(...)`` then ``for x in qs`` in the same iteration: the query is
    the line that builds it, so report there (once, however often it is evaluated)."""
    if not isinstance(site.expr, cst.Name) or site.node is not site.expr and not isinstance(site.node, cst.Call):
        return site
    if isinstance(site.node, cst.Call) and isinstance(site.node.func, cst.Attribute) and site.node.func.attr.value == site.method:
        return site  # qs.count(): the call itself is the query
    b = ctx.binding(site.expr.value, at=site.expr)
    if b is None or b.kind not in ("assign", "annassign") or not b.is_simple or b.value is None:
        return site
    for a in ctx.ancestors(b.node):
        if a is loop.node:
            return Site(site.kind, b.value, site.qs, "build", b.value)
    return site


_EVAL_PARENTS = (cst.For, cst.CompFor, cst.Arg, cst.Subscript, cst.If, cst.While, cst.UnaryOperation)


if TYPE_CHECKING:  # pragma: no cover
    from typing import Protocol

    from querylint.context import Context

    class _SiteHost(Protocol):
        """What :class:`SiteChecks` needs from the Rule or Detector it is mixed into."""

        ctx: Context

        @property
        def code(self) -> str: ...

        def report(self, node: cst.CSTNode, message: str, *, fix: Optional[str] = None, confidence: str = "high") -> None: ...

        def message(self, loop: Any, site: Site) -> Tuple[str, str]: ...

        def confidence(self, site: Site) -> str: ...


class SiteChecks:
    """The visit methods of the site-classified checks (QL110/QL111 detectors, QL113/QL114/QL116 rules):
    each reports the sites :func:`loop_site` classifies under its own code."""

    def _check(self: _SiteHost, node) -> None:
        ctx = self.ctx
        if not ctx.frames or not ctx.frame.loops:
            return
        if not isinstance(node, cst.Call) and not isinstance(ctx.parent, _EVAL_PARENTS):
            return  # names, attributes and subscripts only run a query where they are evaluated
        hit = loop_site(node, ctx)
        if hit is None or hit[0] != self.code:
            return
        _code, loop, site = hit
        message, fix = self.message(loop, site)
        self.report(site.node, message, fix=fix, confidence=self.confidence(site))

    def confidence(self, site: Site) -> str:
        """How sure the finding is (a subclass may know the write is deliberate)."""
        return "high"

    visit_Call = _check
    visit_Name = _check
    visit_Attribute = _check
    visit_Subscript = _check

    def message(self, loop, site: Site) -> Tuple[str, str]:  # pragma: no cover - overridden
        """(what and where, the fix)."""
        raise NotImplementedError


def site_text(site: Site) -> str:
    if site.method == "build":
        return f"the queryset `{N.short(site.expr, 70)}`, evaluated below,"
    if site.method in ("iterate",):
        return f"iterating `{N.short(site.expr, 70)}`"
    if isinstance(site.node, cst.Call) and isinstance(site.node.func, cst.Attribute) and site.node.func.attr.value == site.method:
        return f"`{N.short(site.node, 70)}`"
    if isinstance(site.node, cst.Call) and site.node.args and site.node.args[0].value is site.expr:
        return f"`{N.short(site.node, 70)}`"  # ``get_object_or_404(Permission, codename=code)``
    if site.method == "index":
        return f"indexing `{N.short(site.expr, 60)}`"
    if site.method == "contains":
        return f"testing membership in `{N.short(site.expr, 60)}`"
    return f"`{site.method}({N.short(site.expr, 60)})`"


class OrmQueryInLoop(SiteChecks, Detector):
    """
    ## What it does
    Flags a Django ORM read (`get`, `first`, `exists`, `count`, `aggregate`, iterating or `list()`
    of a queryset, and their async forms `aget`, `acount`, ...) run once per item of a loop or
    comprehension, with arguments that depend on the item.

    ## Why is this bad?
    Each iteration is a round trip: N items cost N queries and the page gets slower as the data
    grows.

    ## Example
    ```python
    for order in orders:
        customer = Customer.objects.get(pk=order.customer_id)
    ```

    ## Use instead
    ```python
    customers = Customer.objects.in_bulk({o.customer_id for o in orders})
    for order in orders:
        customer = customers[order.customer_id]
    ```
    or `select_related("customer")` on the orders' queryset.

    ## Known problems
    Loops over constants, batches (`chunked(ids, 500)`, Paginator pages) and retries are not
    reported.
    """

    VALID = [
        {
            "shop/models.py": "from django.db import models\nclass Customer(models.Model):\n    name = models.CharField(max_length=9)\n",
            "shop/views.py": dedent(
                """
                from shop.models import Customer
                def names(ids):
                    customers = Customer.objects.in_bulk(ids)
                    return [customers[i].name for i in ids if i in customers]
                """
            ),
        }
    ]
    INVALID = [
        {
            "shop/models.py": "from django.db import models\nclass Customer(models.Model):\n    name = models.CharField(max_length=9)\n",
            "shop/views.py": dedent(
                """
                from shop.models import Customer
                def names(ids):
                    return [Customer.objects.get(pk=i).name for i in ids]  # want: QL110
                """
            ),
        }
    ]

    def message(self, loop, site):
        return (
            f"{site_text(site)} runs a query on every iteration of {self.ctx.loop_label(loop)}",
            "fetch every row once before the loop (`filter(<field>__in=...)` / `in_bulk()`) and look items up in a dict",
        )


class OrmWriteInLoop(SiteChecks, Detector):
    """
    ## What it does
    Flags a Django ORM write run once per item of a loop: `instance.save()` / `delete()`,
    `Model.objects.create()`, `get_or_create()`, `update_or_create()`, `update()`, `delete()`
    and their async forms.

    ## Why is this bad?
    One statement (and often one transaction) per row: writing 10,000 rows takes 10,000 round
    trips where one or a few would do.

    ## Example
    ```python
    for product in Product.objects.filter(category_id=cid):
        product.price = product.price * factor
        product.save(update_fields=["price"])
    ```

    ## Use instead
    ```python
    Product.objects.filter(category_id=cid).update(price=F("price") * factor)
    ```
    or collect the instances and call `bulk_update(objs, ["price"])` / `bulk_create(objs)` once.

    ## Known problems
    A write whose batch form would skip what the model does per row (a `save()` or `delete()`
    the project overrides, the files of a `FileField`/`ImageField` that a queryset `delete()`
    leaves behind) is `medium` confidence. Other deliberate per-row writes (signals,
    at-least-once processing) are reported; suppress them with a reason.
    """

    VALID = [
        {
            "shop/models.py": "from django.db import models\nclass Product(models.Model):\n    price = models.IntegerField()\n",
            "shop/jobs.py": dedent(
                """
                from shop.models import Product
                def reprice(prices):
                    objs = list(Product.objects.filter(pk__in=list(prices)))
                    for p in objs:
                        p.price = prices[p.pk]
                    Product.objects.bulk_update(objs, ["price"])
                """
            ),
        }
    ]
    INVALID = [
        {
            "shop/models.py": "from django.db import models\nclass Product(models.Model):\n    price = models.IntegerField()\n",
            "shop/jobs.py": dedent(
                """
                from shop.models import Product
                def reprice(prices):
                    for p in Product.objects.filter(pk__in=list(prices)):
                        p.price = prices[p.pk]
                        p.save()  # want: QL111
                """
            ),
        }
    ]

    def confidence(self, site: Site) -> str:
        """``medium`` for a write whose batch form would skip what the model does per row: its own
        ``save()`` (``bulk_create``/``bulk_update``/``update()`` never call it), its own
        ``delete()`` or the files of its file fields (a queryset ``delete()`` leaves both out)."""
        t = site.qs
        info = graph_of(self.ctx).models.get(t.model) if t is not None and t.model else None
        if info is None:
            return "high"
        m = site.method[1:] if site.method in ("asave", "adelete", "acreate", "aget_or_create", "aupdate_or_create") else site.method
        if m in ("save", "create", "get_or_create", "update_or_create") and info.overrides("save"):
            # an own ``save()`` that runs queries of its own (django-silk's ``SQLQuery.save()``
            # counting the request's queries) makes every row cost more: the batch is surer, not less
            return "high" if self.ctx.index.query_path(info.members["save"]) is not None else "medium"
        if m == "delete" and site.kind == "instance-write" and (info.overrides("delete") or info.file_fields):
            return "medium"
        hooks = model_hooks(self.ctx.index).get(info.name, frozenset())
        if m in ("save", "create", "get_or_create", "update_or_create") and hooks & {"pre_save", "post_save", "history"}:
            return "medium"  # receivers or a history tracker run per row; ``bulk_create``/``update()`` skip them
        if m == "delete" and hooks & {"pre_delete", "post_delete", "history"}:
            return "medium"
        if m in ("add", "remove", "set", "clear") and "m2m_changed" in hooks:
            return "medium"
        return "high"

    def message(self, loop, site):
        m = site.method.lstrip("a") if site.method.startswith("a") and site.method[1:] in ("save", "delete", "create", "update", "get_or_create", "update_or_create") else site.method
        if site.kind == "instance-write" and m == "save":
            fix = "collect the changed objects and call `bulk_update(objs, [fields])` (or `bulk_create`) once after the loop, or one `queryset.update(...)`"
        elif m == "delete":
            fix = "delete them with one `filter(pk__in=...).delete()` after the loop"
        elif m in ("create", "bulk_create"):
            fix = "build the instances in the loop and call `bulk_create(objs)` once after it"
        elif m in ("update", "bulk_update"):
            fix = "update every row in one statement (`filter(pk__in=...).update(...)`, `Case`/`When`) or `bulk_update` after the loop"
        elif m in ("add", "remove") and isinstance(site.node, cst.Call) and isinstance(site.node.func, cst.Attribute):
            manager = N.short(site.node.func.value, 40)
            fix = _other_side_fix(site.node, m, loop, self.ctx) or _through_fix(site.node, m, loop, self.ctx) or f"collect the objects and call `{manager}.{m}(*objs)` once after the loop (it takes many)"
        elif m in ("get_or_create", "update_or_create"):
            fix = "fetch the existing rows with one `filter(<key>__in=...)` before the loop and `bulk_create` the missing ones after it"
        else:
            fix = "batch the writes (`bulk_create` / `bulk_update` / one `update()`) outside the loop"
        return f"{site_text(site)} writes to the database on every iteration of {self.ctx.loop_label(loop)}", fix


def model_hooks(index) -> Dict[str, FrozenSet[str]]:
    """{model class name: the per-row hooks a batch write would skip}: signal receivers the
    project registers for it (``@receiver(post_save, sender=Domain)``), a history tracker
    (``auditlog.register(Order)``, a ``HistoricalRecords()`` field of django-simple-history)."""
    def compute(ix) -> Dict[str, FrozenSet[str]]:
        out: Dict[str, Set[str]] = {}
        for facts in ix.modules.values():
            for signal, sender in facts.signal_senders:
                out.setdefault(sender, set()).add(signal)
            for cls in facts.classes:
                if any(a.call is not None and a.call.func.rsplit(".", 1)[-1] == "HistoricalRecords" for a in cls.attrs):
                    out.setdefault(cls.name, set()).add("history")
        return {k: frozenset(v) for k, v in out.items()}

    return index.derived("django-model-hooks", compute)


def _other_side_fix(call: cst.Call, method: str, loop, ctx: Context) -> Optional[str]:
    """``for user in removed: user.teams.remove(team)``: the manager changes with every item and
    the object does not, so one call from the other side takes them all
    (``team.users.remove(*removed)``); None when that is not the shape or the other side's
    accessor is unknown."""
    recv = cast(cst.Attribute, call.func).value
    args = [a for a in call.args if not a.star and a.keyword is None]
    if not isinstance(recv, cst.Attribute) or len(args) != 1 or not varies_per_item(recv.value, loop, ctx) or varies_per_item(args[0].value, loop, ctx):
        return None
    owner = infer(recv.value, ctx)
    graph = graph_of(ctx)
    model = graph.get(owner.model) if owner is not None and owner.kind == INST and owner.model else None
    rel = model.relation(recv.attr.value) if model is not None else None
    target = graph.get(rel.target) if rel is not None and rel.target else None
    if model is None or rel is None or target is None or rel.kind not in (M2M, REV_M2M):
        return None
    back = None
    for r in target.relations.values():
        if rel.kind == M2M and r.kind == REV_M2M and r.field_name == rel.name and r.target == model.qualname:
            back = r.name  # ``teams = ManyToManyField(Team, related_name="members")``: ``team.members``
        elif rel.kind == REV_M2M and r.kind == M2M and r.name == rel.field_name:
            back = r.name  # ``Team.users = ManyToManyField(User, related_name="teams")``: ``team.users``
    if back is None:
        return None
    obj = N.short(args[0].value, 30)
    return f"`{N.short(recv, 40)}` changes with every item and `{obj}` does not: collect them and call `{obj}.{back}.{method}(*objs)` once after the loop"


def _through_fix(call: cst.Call, method: str, loop, ctx: Context) -> Optional[str]:
    """``attachment.articles.add(article)`` where ``attachment`` is another object every item (made
    in the loop) and the other side's accessor is unknown: one ``add(*objs)`` cannot take them, the
    link rows can (``bulk_create`` on the through model)."""
    recv = cast(cst.Attribute, call.func).value
    if not isinstance(recv, cst.Attribute) or not varies_per_item(recv.value, loop, ctx):
        return None
    owner = infer(recv.value, ctx)
    model = owner.model.rsplit(".", 1)[-1] if owner is not None and owner.kind == INST and owner.model else N.short(recv.value, 30)
    through = f"{model}.{recv.attr.value}.through"
    if method == "remove":
        return f"`{N.short(recv, 40)}` changes with every item: delete the links in one `{through}.objects.filter(...).delete()` after the loop"
    return f"`{N.short(recv, 40)}` changes with every item: collect the links and create them in one `{through}.objects.bulk_create([...])` after the loop"


# ------------------------------------------------------------------------------------ attributes


_BOOK_AUTHOR_MODELS = dedent(
    """
    from django.db import models
    class Author(models.Model):
        name = models.CharField(max_length=9)
    class Book(models.Model):
        title = models.CharField(max_length=9)
        author = models.ForeignKey(Author, on_delete=models.CASCADE)
    """
)


def lazy_chain(node: cst.Attribute, ctx: Context):
    """(loop, root instance type, relation path, root expression) when ``node`` lazily loads a relation per item."""

    def compute():
        if is_store_target(node, ctx):
            return None
        hop = relation_hop(node, ctx)
        if hop is None:
            return None
        base, model, name = hop
        rel = model.relation(name)
        if is_loaded(base, name, rel) or under_prefetch_guard(node, ctx):
            return None
        loop = per_item_loop_of(base, ctx)
        if loop is None:
            return None
        # the outermost lazy hop of a chain reports the whole path
        parent = ctx.parent
        if isinstance(parent, cst.Attribute) and parent.value is node and relation_hop(parent, ctx) is not None:
            return None
        path = [name]
        root = node.value
        while isinstance(root, cst.Attribute) and relation_hop(root, ctx) is not None:
            path.insert(0, root.attr.value)
            root = root.value
        return loop, base, "__".join(path), root, rel

    return ctx.memo(("dj-lazy", id(node)), compute)


def _callee_params(call: cst.Call, ctx: Context):
    """``callee_params`` of a project function that reads attributes off its parameters."""
    got = callee_params(call, ctx)
    return got if got is not None and (got[0].param_reads or got[0].flagged_reads) else None


def helper_lazy_reads(call: cst.Call, ctx: Context):
    """``_check(user, transition)`` in a loop over transitions, where the project function reads
    ``transition.model.content_type`` of its parameter: per argument that is the loop's row, the
    relation paths the helper loads lazily. [(argument, its type, loop, path, relation, what the
    helper reads, its facts)]"""
    got = _callee_params(call, ctx)
    if got is None:
        return []
    fn, params = got
    out = []
    for i, arg in enumerate(call.args):
        if arg.star:
            break
        param = arg.keyword.value if arg.keyword is not None else (params[i] if i < len(params) else None)
        chains = read_chains(fn, param, call, params)
        if not chains or not isinstance(arg.value, (cst.Name, cst.Attribute)):
            continue
        t = infer(arg.value, ctx)
        if t is None or t.kind != INST or t.model is None:
            continue
        loop = per_item_loop_of(t, ctx)
        if loop is None:
            continue
        root, prefix = _row_and_hops(arg.value, loop, ctx)
        for chain in chains:
            hit = _unloaded_path(t, chain, ctx)
            if hit is not None:
                # ``expand(swport=row.interface)`` reading ``swport.netbox``: loaded on the loop's
                # rows as ``interface__netbox``
                out.append((root, t, loop, "__".join(prefix + [hit[0]]), hit[1], f"{param}.{'.'.join(chain)}", fn))
    return out


def _row_and_hops(expr: cst.BaseExpression, loop, ctx: Context) -> Tuple[cst.BaseExpression, List[str]]:
    """(the loop's row, the relation hops read off it) for ``row.interface`` handed to a helper
    (``row``, ``["interface"]``); ``(expr, [])`` when ``expr`` is not reached from the row."""
    hops: List[str] = []
    node = expr
    while isinstance(node, cst.Attribute):
        hops.insert(0, node.attr.value)
        node = node.value
    if not hops or not isinstance(node, cst.Name):
        return expr, []
    t = infer(node, ctx)
    model = graph_of(ctx).get(t.model) if t is not None and t.kind == INST and t.model else None
    if t is None or model is None or per_item_loop_of(t, ctx) is not loop:
        return expr, []
    for hop in hops:
        rel = model.relation(hop) if model is not None else None
        if rel is None or rel.kind not in SINGLE:
            return expr, []
        model = graph_of(ctx).get(rel.target)
    return node, hops


def helper_manager_reads(call: cst.Call, ctx: Context):
    """``grid_resource(x)`` in a loop over grids, where the project function runs
    ``grid.packages.all()`` (or ``.count()``, ``.filter(...)``) on its parameter: a to-many
    relation queried once per row, unless the rows prefetch it (and the helper only uses what a
    prefetch serves). [(argument, its type, loop, relation name, what the helper reads, method, its facts)]"""
    got = _callee_params(call, ctx)
    if got is None:
        return []
    fn, params = got
    if any(c.rsplit(".", 1)[-1] == "prefetch_related_objects" for c in fn.calls):
        return []  # the helper prefetches for itself (a query of its own, QL102's)
    out = []
    for i, arg in enumerate(call.args):
        if arg.star:
            break
        param = arg.keyword.value if arg.keyword is not None else (params[i] if i < len(params) else None)
        evaluated = {c for p, c in fn.evaluated_reads if p == param}
        chains = [c for c in read_chains(fn, param, call, params) if len(c) >= 2 and (c[0], c[1]) in evaluated]
        if not chains or not isinstance(arg.value, (cst.Name, cst.Attribute)):
            continue
        t = infer(arg.value, ctx)
        model = graph_of(ctx).get(t.model) if t is not None and t.kind == INST and t.model is not None else None
        if t is None or model is None or t.opaque:
            continue
        loop = per_item_loop_of(t, ctx)
        if loop is None:
            continue
        for chain in chains:
            rel = model.relation(chain[0])
            if rel is None or rel.kind not in MANY:
                continue
            if chain[0] in t.covered and chain[1] in _KEEPS_CACHE:
                continue  # served from the prefetch cache
            out.append((arg.value, t, loop, chain[0], f"{param}.{chain[0]}.{chain[1]}()", chain[1], fn))
    return out


_KEEPS_CACHE = frozenset({"all", "count", "exists", "iterator", "first", "last"})


def _unloaded_path(t: DjType, chain: Tuple[str, ...], ctx: Context):
    """The relation path (``model__content_type``) of ``chain`` read off an instance of ``t``,
    when its first unloaded hop is a single-object relation; with that relation."""
    graph = graph_of(ctx)
    model = graph.get(t.model)
    path: List[str] = []
    first_unloaded = None
    for hop in chain:
        rel = model.relation(hop) if model is not None else None
        if rel is None or rel.kind not in SINGLE or t.to_attr(hop) is not None and not path:
            break
        path.append(hop)
        loaded = is_loaded(t, hop, rel) if len(path) == 1 else "__".join(path) in t.covered or t.opaque
        if not loaded and first_unloaded is None:
            first_unloaded = rel
        model = graph.get(rel.target)
    if first_unloaded is None:
        return None
    return "__".join(path), first_unloaded


class LazyRelationInLoop(Detector):
    """
    ## What it does
    Flags a ForeignKey / OneToOneField (forward or reverse) or GenericForeignKey read on an
    object of a loop over a queryset that did not `select_related` (or `prefetch_related`)
    that relation: `book.author.name`, `card.customer`, `customer.profile`.

    ## Why is this bad?
    Django loads the related object lazily, with one query per object of the loop.

    ## Example
    ```python
    for book in Book.objects.filter(in_print=True):
        print(book.title, book.author.name)
    ```

    ## Use instead
    ```python
    for book in Book.objects.filter(in_print=True).select_related("author"):
        print(book.title, book.author.name)
    ```

    ## Known problems
    Each relation is reported once per loop (Django caches it on the object after the first
    read). The queryset is followed through assignments, chained methods, project helpers,
    `get_queryset()`, and, for a function parameter, through every call site in the project
    (all must pass a queryset). A parameter with no call site in the project is judged by its
    name only when the evidence is strong (`for order in orders`, `Order` the one model of that
    name, the relation belonging to that one model). Otherwise objects whose origin cannot be
    traced are not reported. `select_related(*names)` and other arguments that cannot be read
    count as loading everything.
    """

    VALID = [
        {
            "lib/models.py": _BOOK_AUTHOR_MODELS,
            "lib/views.py": dedent(
                """
                from lib.models import Book
                def rows():
                    return [(b.title, b.author.name, b.author_id) for b in Book.objects.select_related("author")]
                """
            ),
        }
    ]
    INVALID = [
        {
            "lib/models.py": _BOOK_AUTHOR_MODELS,
            "lib/views.py": dedent(
                """
                from lib.models import Book
                def rows():
                    return [(b.title, b.author.name) for b in Book.objects.all()]  # want: QL112
                """
            ),
        }
    ]

    def __init__(self, *args):
        super().__init__(*args)
        self._seen: set = set()

    def visit_Call(self, node: cst.Call) -> None:
        if not self.ctx.loops:
            return
        for root, base, loop, path, rel, read_there, fn in helper_lazy_reads(node, self.ctx):
            key = (id(loop.node), N.code(root), path)
            if key in self._seen:
                continue
            self._seen.add(key)
            how = "prefetch_related" if rel.kind == GFK else "select_related"
            kind = {"fk": "ForeignKey", "o2o": "OneToOneField", "rev_o2o": "reverse one-to-one", "gfk": "GenericForeignKey"}.get(rel.kind, "relation")
            read = f"{N.short(root, 40)}.{path.replace('__', '.')}"
            how, load, base = through_prefetch(base, how, path, self.ctx)
            self.report(
                node,
                f"`{fn.name}()` reads `{read}` (a {kind} loaded lazily) for every item of {self.ctx.loop_label(loop)}",
                fix=f'add .{how}("{load}") to {where_text(base, self.ctx)}',
                notes=(f"call path: line {self.ctx.loop_line(loop)} loop -> {fn.name}() -> {read_there}",),
                edits=load_edit(base, how, load, self.ctx),
            )

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if not self.ctx.loops:
            return
        hit = lazy_chain(node, self.ctx)
        if hit is None:
            return
        loop, base, path, root, rel = hit
        key = (id(loop.node), N.code(root), path)
        if key in self._seen:
            return
        self._seen.add(key)
        if "__" not in path and relation_read_earlier(self.ctx, N.code(root), (path,), base.model, loop, node):
            return  # ``p.has_exceeded_quota()`` read ``self.user`` earlier in the pass: cached
        how = "prefetch_related" if rel.kind == GFK else "select_related"
        if "__" in path:
            # ``b.author.agency``: the path is loaded on the queryset of the root, ``b``
            base = infer(root, self.ctx) or base
        text = f"{N.short(root, 40)}.{path.replace('__', '.')}"
        how, load, base = through_prefetch(base, how, path, self.ctx)
        where = where_text(base, self.ctx)
        kind = {"fk": "ForeignKey", "o2o": "OneToOneField", "rev_o2o": "reverse one-to-one", "gfk": "GenericForeignKey"}.get(rel.kind, "relation")
        self.report(
            node,
            f"`{text}` loads a {kind} lazily, one query per item of {self.ctx.loop_label(loop)}",
            fix=f'add .{how}("{load}") to {where}',
            edits=load_edit(base, how, load, self.ctx),
        )


def through_prefetch(base: Optional[DjType], how: str, path: str, ctx: Context) -> Tuple[str, str, Optional[DjType]]:
    """(method, path, queryset) that loads ``path`` for the rows of ``base``. Rows of a prefetched
    related manager (``for t in ds.sourcetable_set.all()`` where the datasets were loaded with
    ``prefetch_related("sourcetable_set")``) come from the owner's prefetch: the relation goes on
    that (``prefetch_related("sourcetable_set__database")``); a ``select_related`` on the manager
    would run a new query per owner."""
    o = base.origin if base is not None else None
    if base is None or base.defeated or not isinstance(o, cst.Attribute):
        return how, path, base
    owner = infer(o.value, ctx)
    if owner is None or owner.kind != INST or o.attr.value not in owner.covered:
        return how, path, base
    return "prefetch_related", f"{o.attr.value}__{path}", owner


def member_query_path(base: DjType, member_qual: str, ctx: Context) -> Optional[Tuple[str, ...]]:
    """Call path from a model method/property to a query, unless the instance has what it reads loaded."""
    path = ctx.index.query_path(member_qual)
    if path is None:
        return None
    # what the member runs itself, or through methods of its own class (every hop on ``self``)
    direct = ctx.index.direct_queries.get(member_qual, ()) if len(path) == 2 else (member_queries(ctx.index, member_qual) or ())
    if direct:
        # only lazy relation reads / related managers on self: covered by the loop's queryset?
        def covered(desc: str) -> bool:
            if not desc.startswith("self."):
                return False
            parts = desc[5:].split(".")
            rel = parts[0]
            if len(parts) == 1:
                model = graph_of(ctx).get(base.model)
                r = model.relation(rel) if model is not None else None
                return rel in base.covered or (r is not None and is_loaded(base, rel, r))
            if len(parts) == 2 and parts[1] in ("all()", "count()", "exists()"):
                return rel in base.covered
            return False

        left = [d for d in direct if not covered(d)]
        if not left:
            return None
        if len(path) == 2 and path[1] not in left:
            # ``self.contest`` is loaded with the rows; the member's own query is another (a
            # ``self.save()`` under a condition): the path names that one
            return (path[0], left[0])
    return path


def per_object_member_query(attr: cst.Attribute, is_call: bool, ctx: Context) -> Optional[Tuple[str, ...]]:
    """``obj.best_identification`` / ``obj.summary()`` where ``obj`` is the one object a per-object
    method serializes (a ``SerializerMethodField``'s ``obj``): the call path from the model member
    to its query, unless the object has what it reads loaded. ``cached_property`` caches on the
    object, which the next call gets fresh."""
    base = infer(attr.value, ctx)
    if base is None or base.kind != INST or base.per_object is None:
        return None
    model = graph_of(ctx).get(base.model)
    name = attr.attr.value
    if model is None or name in ("save", "delete", "asave", "adelete", "refresh_from_db", "arefresh_from_db"):
        return None
    qual = model.members.get(name)
    if qual is None or is_call == (name in model.properties):
        return None
    path = member_query_path(base, qual, ctx)
    if path is None or query_writes(path[-1]):
        return None
    return path


_ORM_CALLS = frozenset({
    "filter", "exclude", "get", "first", "last", "all", "count", "exists", "values", "values_list", "aggregate",
    "annotate", "create", "update", "delete", "save", "get_or_create", "update_or_create", "execute", "raw",
})
_SELF_RELATION = re.compile(r"self\.(\w+)(\.all\(\)|\.count\(\)|\.exists\(\))?")


def _chain_text(loop_line: int, name: str, path: Tuple[str, ...]) -> str:
    parts = [f"line {loop_line} loop", f"{name}()"]
    for q in path[1:-1]:
        parts.append(q.rsplit(".", 1)[-1] + "()")
    parts.append(path[-1])
    return " -> ".join(parts)


_ORDER_LINE_MODELS = dedent(
    """
    from django.db import models
    class Order(models.Model):
        number = models.CharField(max_length=9)
        @property
        def n_lines(self):
            return self.lines.count()
    class Line(models.Model):
        order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    """
)


class ModelQueryMemberInLoop(Detector):
    """Django's variant of the model-member rule (QL106, documented in ``rules/n_plus_one.py``):
    a model method or property read per object of a queryset loop that queries, unless it only
    reads relations the loop's queryset already loads."""

    VALID = [
        {
            "shop/models.py": _ORDER_LINE_MODELS,
            "shop/views.py": dedent(
                """
                from shop.models import Order
                def summary():
                    return {o.number: o.n_lines for o in Order.objects.prefetch_related("lines")}
                """
            ),
        }
    ]
    INVALID = [
        {
            "shop/models.py": _ORDER_LINE_MODELS,
            "shop/views.py": dedent(
                """
                from shop.models import Order
                def summary():
                    return {o.number: o.n_lines for o in Order.objects.all()}  # want: QL117
                """
            ),
        }
    ]

    def __init__(self, *args):
        super().__init__(*args)
        self._seen: set = set()

    def _member(self, node: cst.Attribute, is_call: bool):
        return self._member_of(node.value, node.attr.value, is_call)

    def _member_of(self, value: cst.BaseExpression, name: str, is_call: bool):
        base = infer(value, self.ctx)
        if base is None or base.kind != INST:
            return None
        if base.loop is None and (not is_call or N.root_name(value) in ("self", "cls")):
            return None  # one object: a property is read once per loop only if cached; self.m() is QL102's
        model = graph_of(self.ctx).get(base.model)
        if model is None:
            return None
        if name in ("save", "delete", "asave", "adelete", "refresh_from_db", "arefresh_from_db"):
            return None
        qual = model.members.get(name)
        if qual is None:
            return None
        if is_call == (name in model.properties):
            return None
        loop = per_item_loop_of(base, self.ctx) if base.loop is not None else per_item_loop(self.ctx)
        if loop is None:
            return None
        path = member_query_path(base, qual, self.ctx)
        if path is None:
            return None
        if base.loop is None and self._only_caches_relations(model, qual, path):
            return None  # ``instance.get_version_slug()`` on the one object: ``self.version`` loads once
        return loop, path

    def _only_caches_relations(self, model, qual: str, path) -> bool:
        """The member's only queries are lazy reads of the object's own single relations, which
        Django caches on the object after the first read."""
        direct = self.ctx.index.direct_queries.get(qual, ())
        if len(path) != 2 or not direct:
            return False
        for desc in direct:
            parts = desc.split(".")
            if len(parts) != 2 or parts[0] != "self":
                return False
            rel = model.relation(parts[1])
            if rel is None or rel.kind not in SINGLE:
                return False
        return True

    def visit_Call(self, node: cst.Call) -> None:
        """``str(book)`` / ``repr(book)``: the model's ``__str__`` / ``__repr__``; a project
        helper given the loop's row that reads a querying member of it."""
        if not self.ctx.loops:
            return
        self._helper_members(node)
        if len(node.args) != 1 or node.args[0].keyword is not None or node.args[0].star:
            return
        dunder = {"str": "__str__", "repr": "__repr__"}.get(N.call_name(node) or "") if isinstance(node.func, cst.Name) else None
        if dunder is not None and self.ctx.binding(cast(cst.Name, node.func).value, at=node) is None:
            self._dunder(node, node.args[0].value, dunder)

    def _helper_members(self, call: cst.Call) -> None:
        """``_check(user, transition)`` where ``_check`` reads ``transition.permission_info``, a
        property that queries: reported at the call."""
        got = _callee_params(call, self.ctx)
        if got is None:
            return
        fn, params = got
        for i, arg in enumerate(call.args):
            if arg.star:
                break
            param = arg.keyword.value if arg.keyword is not None else (params[i] if i < len(params) else None)
            names = dict.fromkeys(c[0] for c in read_chains(fn, param, call, params))
            if not names or not isinstance(arg.value, (cst.Name, cst.Attribute)):
                continue
            base = infer(arg.value, self.ctx)
            model = graph_of(self.ctx).get(base.model) if base is not None and base.kind == INST and base.loop is not None else None
            if model is None:
                continue
            for name in names:
                if model.members.get(name) is None:
                    continue
                hit = self._member_of(arg.value, name, name not in model.properties)
                if hit is not None:
                    what = f"`{fn.name}()` reads `{N.short(arg.value, 30)}.{name}`, which"
                    self._report_member(call, cst.Attribute(value=arg.value, attr=cst.Name(name)), hit[0], hit[1], what)

    def visit_FormattedStringExpression(self, node: cst.FormattedStringExpression) -> None:
        """``f"{book}"``: the model's ``__str__`` (``{book!r}``: ``__repr__``)."""
        if self.ctx.loops:
            self._dunder(node, node.expression, "__repr__" if node.conversion == "r" else "__str__")

    def _dunder(self, report: cst.CSTNode, value: cst.BaseExpression, name: str) -> None:
        if not isinstance(value, (cst.Name, cst.Attribute)):
            return
        base = infer(value, self.ctx)
        if base is None or base.loop is None:
            return  # one object formatted on every pass (``f"rule {rule}: {folder}"``): its relations load once
        hit = self._member_of(value, name, True)
        if hit is not None:
            # ``f"{line.order.number}: {line}"``: the relation ``__str__`` reads may be loaded by then
            what = f"`{N.short(report, 50)}` calls `{name}()`, which"
            self._report_member(report, cst.Attribute(value=value, attr=cst.Name(name)), hit[0], hit[1], what)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if not self.ctx.loops or is_store_target(node, self.ctx):
            return
        parent = self.ctx.parent
        is_call = isinstance(parent, cst.Call) and parent.func is node
        hit = self._member(node, is_call)
        if hit is not None:
            target = cast(cst.Call, parent) if is_call else node
            what = f"`{N.short(node, 50)}()`" if is_call else f"the property `{N.short(node, 50)}`"
            self._report_member(target, node, hit[0], hit[1], what)

    def _report_member(self, target: cst.CSTNode, attr: cst.Attribute, loop, path, what: str) -> None:
        """Once per loop and member, unless the member's query is a relation read earlier in the iteration."""
        key = (id(loop.node), N.code(attr))
        if key in self._seen:
            return
        self._seen.add(key)
        if loaded_earlier_in_iteration(self.ctx, attr, path, loop, target):
            return
        chain = _chain_text(self.ctx.loop_line(loop), attr.attr.value, path)
        if query_writes(path[-1]):
            # ``notification.archive()`` ends in ``self.save()``: a write per item, which no
            # loader option saves
            self.report(
                target,
                f"{what} writes to the database for every item of {self.ctx.loop_label(loop)}",
                fix="change the rows with one `queryset.update(...)` (or `bulk_update`) after the loop, if the member does nothing else per row",
                notes=(f"call path: {chain}",),
                confidence="medium",  # as for a helper that writes per item: often deliberate
            )
            return
        self.report(
            target,
            f"{what} runs a query for every item of {self.ctx.loop_label(loop)}",
            fix=self._member_fix(attr, loop, path)
            or "load what it needs with the loop's queryset (`annotate`, `select_related`, `prefetch_related`) instead",
            notes=(f"call path: {chain}",),
        )

    def _member_fix(self, attr: cst.Attribute, loop, path) -> Optional[str]:
        """The loader the member needs, when every query the member runs itself is a read of one
        relation of the item: ``to_yaml()`` reading ``self.power_port`` wants
        ``select_related("power_port")``, ``n_lines`` counting ``self.lines.count()`` an annotation
        or a prefetch. None (generic advice) when it runs anything else or goes through helpers."""
        if len(path) != 2:
            return None
        base = infer(attr.value, self.ctx)
        model = graph_of(self.ctx).get(base.model) if base is not None and base.kind == INST else None
        descs = self.ctx.index.direct_queries.get(path[0], ())
        member = self.ctx.index.functions.get(path[0])
        if model is None or not descs or member is None or member.returned_calls:
            return None  # a member returning what a call gives (a queryset the caller evaluates): more than a relation
        if any(".objects" in c or c.rsplit(".", 1)[-1] in _ORM_CALLS for c in member.calls):
            return None  # it also builds queries querylint may not count (``model.objects.filter(...)`` on a model it looks up)
        single, many = [], []
        for desc in descs:
            m = _SELF_RELATION.fullmatch(desc)
            rel = model.relation(m.group(1)) if m is not None else None
            if m is None or rel is None or rel.kind == GFK:
                return None
            if rel.kind in SINGLE and not m.group(2):
                single.append(m.group(1))
            elif rel.kind not in SINGLE and m.group(2):
                many.append((m.group(1), m.group(2)))
            else:
                return None
        rows = infer(loop.iter, self.ctx) if getattr(loop, "iter", None) is not None else None
        if base is not None and base.origin is not None and (rows is None or rows.model != base.model):
            rows = base  # an item looked up per pass (``by_id[key]``): the queryset that filled the dict
        where = where_text(rows, self.ctx) if rows is not None or getattr(loop, "iter", None) is not None else "the loop's queryset"
        prefix = self._path_from_item(attr.value, loop)
        if prefix is None:
            return None
        if single and not many:
            names = ", ".join(f'"{prefix}{n}"' for n in dict.fromkeys(single))
            return f"add .select_related({names}) to {where}"
        if len(many) == 1 and not single:
            name, tail = many[0]
            if tail == ".all()":
                return f'add .prefetch_related("{prefix}{name}") to {where}'
            if prefix:
                return f'add .prefetch_related("{prefix}{name}") to {where}'
            return f'annotate it on {where} (`.annotate(n=Count("{count_lookup(graph_of(self.ctx), model.qualname, name)}"))`) or add .prefetch_related("{name}")'
        return None

    def _path_from_item(self, value: cst.BaseExpression, loop) -> Optional[str]:
        """``"project__"`` for ``log.project`` where ``log`` is the loop's item and ``project`` a
        single relation (``f"{log.project}"`` reads the project's relations through the item's
        queryset); ``""`` for the item itself; None when the chain is not one of relations."""
        parts: List[str] = []
        cur = value
        while isinstance(cur, cst.Attribute):
            parts.append(cur.attr.value)
            cur = cur.value
        if not isinstance(cur, cst.Name) or not loop.binds(cur.value):
            return None if parts else ""
        if not parts:
            return ""
        root = infer(cur, self.ctx)
        model = graph_of(self.ctx).get(root.model) if root is not None and root.kind == INST and root.model else None
        for part in reversed(parts):
            rel = model.relation(part) if model is not None else None
            if rel is None or rel.kind not in SINGLE or not rel.target:
                return None
            model = graph_of(self.ctx).get(rel.target)
        return "__".join(reversed(parts)) + "__"


# ------------------------------------------------------------------------------------ detector


def detect_django_query(node, ctx: Context) -> Optional[str]:
    """Query detector for the project index: Django ORM queries anywhere in a function."""
    if isinstance(node, cst.Attribute):
        parent = ctx.parent
        if isinstance(parent, cst.Call) and parent.func is node:
            return None
        if not (isinstance(node.value, cst.Name) and node.value.value == "self" and node.attr.value in graph_of(ctx).relation_owners):
            site = site_of(node, ctx)
            if site is not None and site.kind in ("read", "related", "defeat"):
                return _desc(site)
            return None
        hop = relation_hop(node, ctx)
        if hop is not None and not is_store_target(node, ctx):
            base, model, name = hop
            rel = model.relation(name)
            if not is_loaded(base, name, rel) and isinstance(node.value, cst.Name) and node.value.value == "self":
                return f"self.{name}"
            if not is_loaded(base, name, rel) and base.loop is None and isinstance(node.value, cst.Name):
                return None
        site = site_of(node, ctx)
        if site is not None and site.kind in ("read", "related", "defeat"):
            return _desc(site)
        return None
    if isinstance(node, cst.Call):
        site = site_of(node, ctx)
        if site is not None:
            return _desc(site)
        if N.call_name(node) == "prefetch_related_objects" and node.args and (ctx.qualify(node.func) or "").startswith("django."):
            return N.short(node, 60)  # one query per lookup level, for the objects it is given
    return None


def _desc(site: Site) -> str:
    text = N.short(site.node, 60) if isinstance(site.node, cst.Call) else N.short(site.expr, 60)
    return text


QUERY_DETECTORS = (detect_django_query,)
