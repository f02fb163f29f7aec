"""Django-only N+1 rules: what only Django's ORM has (related managers and their prefetch
cache, deferred fields, a query repeated unchanged in a loop). The patterns every ORM shares
(query, write, lazy relation, model member per item) are in ``rules/n_plus_one.py``."""
from __future__ import annotations

from typing import Any, List, Set

import libcst as cst

from querylint.frameworks.django.models import count_lookup
from querylint.frameworks.django.n_plus_one import SiteChecks, helper_manager_reads, site_text, where_text
from querylint.frameworks.django.querysets import DEFEATING, INST, graph_of, infer
from querylint.frameworks.django.sites import per_item_loop_of, relation_hop
from querylint.rule import Rule, dedent, is_store_target, nodes as N
from querylint.rule import Context


class RelatedManagerInLoop(SiteChecks, Rule):
    """
    ## What it does
    Flags a reverse ForeignKey or ManyToMany manager (`author.books.all()`, `.count()`,
    `author.book_set.filter(...)`) used once per object of a loop over a queryset that did
    not `prefetch_related` that relation.

    ## Why is this bad?
    Every object costs one more query: the classic N+1.

    ## Example
    ```python
    for author in Author.objects.all():
        titles = [b.title for b in author.books.all()]
    ```

    ## Use instead
    ```python
    for author in Author.objects.prefetch_related("books"):
        titles = [b.title for b in author.books.all()]
    ```
    For counts, `annotate(n_books=Count("books"))`.

    A project function called per row that queries a to-many relation of its argument
    (`[grid_resource(g) for g in grids]`, where `grid_resource` iterates `grid.packages.all()`) is
    reported at the call, with the relation it reads.
    """

    code = "QL113"
    subsumes = ("QL102",)  # a helper querying a relation of its row: the relation names the fix
    per_request_escalation = True
    loop_scaled = True
    name = "related-manager-in-loop"
    cheap_fix = True
    VALID = [
        {
            "lib/models.py": dedent(
                """
                from django.db import models
                class Author(models.Model):
                    name = models.CharField(max_length=9)
                class Book(models.Model):
                    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="books")
                """
            ),
            "lib/views.py": dedent(
                """
                from lib.models import Author
                def report():
                    return {a.name: len(a.books.all()) for a in Author.objects.prefetch_related("books")}
                """
            ),
        }
    ]
    INVALID = [
        {
            "lib/models.py": dedent(
                """
                from django.db import models
                class Author(models.Model):
                    name = models.CharField(max_length=9)
                class Book(models.Model):
                    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="books")
                """
            ),
            "lib/views.py": dedent(
                """
                from lib.models import Author
                def report():
                    return {a.name: a.books.count() for a in Author.objects.all()}  # want: QL113
                """
            ),
        }
    ]

    def visit_Call(self, node: cst.Call) -> None:
        self._check(node)
        if not self.ctx.frames or not self.ctx.frame.loops:
            return
        seen = set()
        for arg, t, loop, name, read, method, fn in helper_manager_reads(node, self.ctx):
            if name in seen:
                continue
            seen.add(name)
            where = where_text(t, self.ctx)
            fix = f'add .prefetch_related("{name}") to {where}'
            if method in ("count", "exists"):
                fix = f'annotate it on {where} (`.annotate(n=Count("{count_lookup(graph_of(self.ctx), t.model if t is not None else None, name)}"))`) or add .prefetch_related("{name}")'
            elif method not in ("all", "iterator", "first", "last"):
                fix = f'prefetch the rows it needs (`Prefetch("{name}", queryset=..., to_attr=...)`) on {where}: `.{method}()` queries even when the relation is prefetched'
            self.report(
                node,
                f"`{fn.name}()` queries `{N.short(arg, 40)}.{name}` (`{read}`) for every item of {self.ctx.loop_label(loop)}",
                fix=fix,
                notes=(f"call path: line {self.ctx.loop_line(loop)} loop -> {fn.name}() -> {read}",),
            )

    def message(self, loop, site):
        rel = site.qs.related or "the relation"
        name = rel.rsplit(".", 1)[-1]
        where = "the loop's queryset"
        origin = site.qs.origin
        if isinstance(origin, cst.Attribute):
            # ``sponsor = sponsorship.sponsor`` then ``sponsor.contacts.all()``: the prefetch goes on
            # the rows' queryset, through the relation that leads to the owner
            root, prefix = _row_path(origin.value, self.ctx)
            where = where_text(infer(root, self.ctx), self.ctx)
            name = f"{prefix}__{name}" if prefix else name
        fix = f'add .prefetch_related("{name}") to {where}'
        if site.method in ("count", "acount", "exists", "aexists"):
            owner = infer(root, self.ctx).model if isinstance(origin, cst.Attribute) and infer(root, self.ctx) is not None else (rel.rsplit(".", 1)[0] if "." in rel else None)
            fix = f'annotate it on {where} (`.annotate(n=Count("{count_lookup(graph_of(self.ctx), owner, name)}"))`) or add .prefetch_related("{name}")'
        elif site.method in ("get", "latest", "earliest"):
            # these query again even on a prefetched relation
            fix = f'add .prefetch_related("{name}") to {where} and pick the item from `.all()` in Python: `.{site.method}()` queries even when the relation is prefetched'
        elif site.method in DEFEATING:
            fix = f'prefetch the rows it needs (`Prefetch("{name}", queryset=..., to_attr=...)`) on {where}: `.{site.method}()` queries even when the relation is prefetched'
        narrowed = _narrowing_method(site.node, rel)
        if narrowed is not None and site.method not in DEFEATING:
            # ``checklist.tasks.completed().values_list(...)``, ``meal.items.select_related()``:
            # a plain prefetch of the relation would not be used
            fix = f'prefetch the rows it needs (`Prefetch("{name}", queryset=..., to_attr=...)`) on {where}: `.{narrowed}()` queries even when the relation is prefetched'
        return f"{site_text(site)} queries `{rel}` for every item of {self.ctx.loop_label(loop)}", fix



def _row_path(expr: cst.BaseExpression, ctx: Context):
    """(the expression of the loop's row, the relation path from it to ``expr``): ``sponsor``
    bound to ``sponsorship.sponsor`` gives (``sponsorship``, ``"sponsor"``)."""
    hops: List[str] = []
    for _ in range(4):
        if isinstance(expr, cst.Name):
            b = ctx.binding(expr.value, at=expr)
            if b is None or b.kind != "assign" or not b.is_simple or not isinstance(b.value, cst.Attribute) or relation_hop(b.value, ctx) is None:
                break
            expr = b.value
        elif isinstance(expr, cst.Attribute) and relation_hop(expr, ctx) is not None:
            hops.insert(0, expr.attr.value)
            expr = expr.value
        else:
            break
    return expr, "__".join(hops)


_KEEPS_PREFETCH = frozenset({"all", "count", "exists", "acount", "aexists", "iterator", "first", "last", "afirst", "alast"})


def _narrowing_method(node: cst.CSTNode, relation: str):
    """The first method chained on the related manager ``relation`` that builds a new query
    (``filter``, ``select_related``, a project QuerySet method), if any."""
    methods = []
    cur = node
    while isinstance(cur, cst.Call) and isinstance(cur.func, cst.Attribute):
        if N.code(cur.func.value) == relation:
            methods.append(cur.func.attr.value)
            break
        methods.append(cur.func.attr.value)
        cur = cur.func.value
    else:
        return None
    for m in reversed(methods):
        if m in DEFEATING or m not in _KEEPS_PREFETCH:
            return m
    return None


class PrefetchDefeatedInLoop(SiteChecks, Rule):
    """
    ## What it does
    Flags a call on a prefetched related manager that does not read the prefetch cache
    (`.filter()`, `.exclude()`, `.order_by()`, `.values()`, `.first()` without a model
    ordering, ...) once per object of a loop.

    ## Why is this bad?
    `prefetch_related` loaded the relation for every object in one query, but a new queryset
    method ignores that cache and queries again for each object: the prefetch is wasted and
    the N+1 is back.

    ## Example
    ```python
    for order in Order.objects.prefetch_related("lines"):
        open_lines = order.lines.filter(cancelled=False)
    ```

    ## Use instead
    ```python
    active = Prefetch("lines", queryset=OrderLine.objects.filter(cancelled=False), to_attr="open_lines")
    for order in Order.objects.prefetch_related(active):
        open_lines = order.open_lines
    ```
    or filter in Python over `order.lines.all()`.
    """

    code = "QL114"
    per_request_escalation = True
    loop_scaled = True
    name = "prefetch-defeated-in-loop"
    cheap_fix = True
    VALID = [
        {
            "shop/models.py": dedent(
                """
                from django.db import models
                class Order(models.Model):
                    number = models.CharField(max_length=9)
                class Line(models.Model):
                    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
                    cancelled = models.BooleanField()
                """
            ),
            "shop/views.py": dedent(
                """
                from shop.models import Order
                def open_lines():
                    return [[l for l in o.lines.all() if not l.cancelled] for o in Order.objects.prefetch_related("lines")]
                """
            ),
        }
    ]
    INVALID = [
        {
            "shop/models.py": dedent(
                """
                from django.db import models
                class Order(models.Model):
                    number = models.CharField(max_length=9)
                class Line(models.Model):
                    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
                    cancelled = models.BooleanField()
                """
            ),
            "shop/views.py": dedent(
                """
                from shop.models import Order
                def open_lines():
                    return [list(o.lines.filter(cancelled=False)) for o in Order.objects.prefetch_related("lines")]  # want: QL114
                """
            ),
        }
    ]

    def message(self, loop, site):
        rel = site.qs.related or "the relation"
        name = rel.rsplit(".", 1)[-1]
        how = site.qs.defeated or site.method
        return (
            f"`.{how}()` on the prefetched `{rel}` bypasses the prefetch cache and queries again for every item of {self.ctx.loop_label(loop)}",
            f'filter `{rel}.all()` in Python, or prefetch with `Prefetch("{name}", queryset=..., to_attr=...)`',
        )



class LoopInvariantQuery(SiteChecks, Rule):
    """
    ## What it does
    Flags a Django query inside a loop whose arguments do not depend on the loop: the same
    query runs again on every iteration.

    ## Why is this bad?
    It returns the same answer each time; N iterations cost N identical round trips.

    ## Example
    ```python
    for item in items:
        rate = TaxRate.objects.get(country="FR")
        item.total = item.price * rate.value
    ```

    ## Use instead
    ```python
    rate = TaxRate.objects.get(country="FR")
    for item in items:
        item.total = item.price * rate.value
    ```

    ## Known problems
    A queryset object built before the loop and evaluated in it (`notes = f.notes.all()`, then
    `for n in notes:` on every pass) is not reported: its first evaluation fills the result
    cache, even when the loop breaks early, and later passes read it.
    """

    code = "QL116"
    per_request_escalation = True
    loop_scaled = True
    name = "loop-invariant-query"
    VALID = [
        {
            "shop/models.py": "from django.db import models\nclass TaxRate(models.Model):\n    country = models.CharField(max_length=2)\n    value = models.IntegerField()\n",
            "shop/tax.py": dedent(
                """
                from shop.models import TaxRate
                def totals(prices):
                    rate = TaxRate.objects.get(country="FR")
                    return [p * rate.value for p in prices]
                """
            ),
        }
    ]
    INVALID = [
        {
            "shop/models.py": "from django.db import models\nclass TaxRate(models.Model):\n    country = models.CharField(max_length=2)\n    value = models.IntegerField()\n",
            "shop/tax.py": dedent(
                """
                from shop.models import TaxRate
                def totals(prices):
                    return [p * TaxRate.objects.get(country="FR").value for p in prices]  # want: QL116
                """
            ),
        }
    ]

    def message(self, loop, site):
        return f"{site_text(site)} runs the same query on every iteration of {self.ctx.loop_label(loop)}", "run it once before the loop and reuse the result"



class DeferredFieldInLoop(Rule):
    """
    ## What it does
    Flags a field read per object of a loop over a queryset that left the field out with
    `.only(...)` or `.defer(...)`.

    ## Why is this bad?
    Django loads a deferred field on first access with one query per object: the `only()`
    meant to save work costs N extra queries.

    ## Example
    ```python
    for user in User.objects.only("id", "email"):
        send(user.email, user.first_name)
    ```

    ## Use instead
    ```python
    for user in User.objects.only("id", "email", "first_name"):
        send(user.email, user.first_name)
    ```
    """

    code = "QL115"
    per_request_escalation = True
    loop_scaled = True
    name = "deferred-field-in-loop"
    cheap_fix = True
    VALID = [
        {
            "acc/models.py": "from django.db import models\nclass Member(models.Model):\n    email = models.CharField(max_length=9)\n    nick = models.CharField(max_length=9)\n",
            "acc/mail.py": "from acc.models import Member\ndef emails():\n    return [m.email for m in Member.objects.only(\"email\")]\n",
        }
    ]
    INVALID = [
        {
            "acc/models.py": "from django.db import models\nclass Member(models.Model):\n    email = models.CharField(max_length=9)\n    nick = models.CharField(max_length=9)\n",
            "acc/mail.py": "from acc.models import Member\ndef emails():\n    return [m.nick for m in Member.objects.only(\"email\")]  # want: QL115\n",
        }
    ]

    def __init__(self, ctx: Context):
        super().__init__(ctx)
        self._seen: Set[Any] = set()

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if not self.ctx.loops or is_store_target(node, self.ctx):
            return
        attr = node.attr.value
        base = infer(node.value, self.ctx)
        if base is None or base.kind != INST or (base.only is None and not base.defer):
            return
        model = graph_of(self.ctx).get(base.model)
        if model is None or attr not in model.fields or attr in ("id", "pk"):
            return
        deferred = attr in base.defer or (base.only is not None and attr not in base.only)
        if not deferred:
            return
        loop = per_item_loop_of(base, self.ctx)
        if loop is None:
            return
        key = (id(loop.node), N.code(node.value), attr)
        if key in self._seen:
            return
        self._seen.add(key)
        how = f'add "{attr}" to the `.only(...)`' if base.only is not None else f'remove "{attr}" from the `.defer(...)`'
        self.report(
            node,
            f"`{N.short(node, 50)}` reads a deferred field, one query per item of {self.ctx.loop_label(loop)}",
            fix=f"{how} of {where_text(base, self.ctx)}",
        )


RULES = (RelatedManagerInLoop, PrefetchDefeatedInLoop, DeferredFieldInLoop, LoopInvariantQuery)
