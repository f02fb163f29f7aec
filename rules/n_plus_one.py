"""N+1: one rule per pattern, every ORM through its adapter's detector (QL103-QL106).

A pattern rule drives, for each ORM active in the file, that ORM's detector for the pattern
(:meth:`querylint.frameworks.Adapter.detectors`); the detector finds the ORM's own shapes and
reports through the rule, so every finding carries the rule's code and the ORM's old code as
its variant alias (``# noqa: QL120``, ``ignore = ["QL12"]`` and old baselines keep working).

| pattern | code | Django | SQLAlchemy | peewee | Tortoise |
| --- | --- | --- | --- | --- | --- |
| query per item | QL103 | QL110 | QL120 | QL130 | QL135 |
| write per item | QL104 | QL111 | QL121 | QL131 | QL136 |
| lazy relation per item | QL105 | QL112 | QL122 | QL132 | |
| model member that queries, per item | QL106 | QL117 | QL125 | QL125 | |
"""
from __future__ import annotations

from typing import ClassVar, List, Sequence, Tuple

from querylint.frameworks import (
    LAZY_RELATION, MEMBER_QUERY, QUERY_IN_LOOP, WRITE_IN_LOOP, active_adapters, adapters, orm_query_detectors,
)
from querylint.rule import Example, Rule


def _variants(pattern: str) -> Tuple[Tuple[str, type], ...]:
    """(variant code, detector class) of every adapter that has a detector for ``pattern``."""
    out = []
    for adapter in adapters():
        det = adapter.detectors().get(pattern)
        if det is not None:
            out.append((adapter.codes[pattern], det))
    return tuple(out)


def _unique(codes) -> Tuple[str, ...]:
    return tuple(dict.fromkeys(codes))


class _PatternRule(Rule):
    """Drives one detector per active ORM; findings are reported under this rule's code."""

    pattern: ClassVar[str] = ""
    per_request_escalation = True
    loop_scaled = True

    def visitors(self) -> Sequence[object]:
        out: List[object] = []
        for adapter in active_adapters(self.ctx):
            det = adapter.detectors().get(self.pattern)
            if det is not None:
                out.append(det(self, self.ctx, adapter.codes[self.pattern]))
        return out

    @classmethod
    def pattern_aliases(cls) -> Tuple[str, ...]:
        return _unique(code for code, _ in _variants(cls.pattern))

    @classmethod
    def pattern_examples(cls, which: str) -> Tuple[Example, ...]:
        return tuple(ex for _, det in _variants(cls.pattern) for ex in getattr(det, which))


def _pattern(cls):
    """Fill a pattern rule's aliases and examples from the adapters' detectors."""
    cls.aliases = cls.pattern_aliases()
    cls.VALID = cls.pattern_examples("VALID")
    cls.INVALID = cls.pattern_examples("INVALID")
    return cls


@_pattern
class QueryInLoop(_PatternRule):
    """
    ## What it does
    Flags an ORM read run once per item of a loop or comprehension, with arguments that depend
    on the item: Django (`Model.objects.get(...)`, `.first()`, `.count()`, iterating a queryset
    built in the loop, and the async forms), SQLAlchemy (`session.get()`,
    `session.execute(select(...))`, `Model.query.filter(...).first()`), peewee
    (`Model.get(...)`, `Model.select().where(...)`) and Tortoise (`await Model.get(...)`).

    ## Why is this bad?
    Each iteration is a round trip: N items cost N queries, and the page gets slower as the
    data grows.

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
    or load the relation with the rows (`select_related("customer")`, SQLAlchemy's
    `selectinload(Order.customer)`, a peewee join, Tortoise's `prefetch_related`).

    ## Known problems
    Loops over constants, batches (`chunked(ids, 500)`, paginator pages) and retries are not
    reported. A query that does not depend on the item is a loop-invariant query (`QL116`).
    A Django queryset built before the loop and filtered in it (`open.filter(region=r)`) is a
    new query per item. A value of unknown type that the function calls a queryset-only method
    on (`values_list`, `select_related`, `prefetch_related`, `annotate`, `exclude`, `only`,
    `defer`, `in_bulk`) is taken for a queryset (a form field's `queryset`, an untyped parameter).

    Replaces the per-ORM codes `QL110` (Django), `QL120` (SQLAlchemy), `QL130` (peewee) and
    `QL135` (Tortoise), which keep working as aliases.
    """

    code = "QL103"
    name = "orm-query-in-loop"
    pattern = QUERY_IN_LOOP


@_pattern
class WriteInLoop(_PatternRule):
    """
    ## What it does
    Flags an ORM write run once per item of a loop: Django's `instance.save()`, `delete()`,
    `Model.objects.create()`, `get_or_create()`, `update()`; SQLAlchemy's `session.add()` +
    `flush()`/`commit()` per item, `session.execute(insert/update(...))`; peewee's
    `Model.create()`, `.save()`, `insert().execute()`; Tortoise's `await Model.create()`.

    ## Why is this bad?
    One statement (and often one transaction) per row: writing 10,000 rows takes 10,000 round
    trips where one or a few would do.

    ## Example
    ```python
    for row in rows:
        Product.objects.create(name=row["name"], price=row["price"])
    ```

    ## Use instead
    ```python
    Product.objects.bulk_create([Product(name=r["name"], price=r["price"]) for r in rows])
    ```
    (`bulk_update()` / one `update()`; SQLAlchemy: `session.add_all()` and one commit, or
    `session.execute(insert(Model), rows)`; peewee: `insert_many()`; Tortoise: `bulk_create()`).

    ## Known problems
    A write that runs at most once (followed by `break` or `return`) is not reported. A Django
    write whose batch form would skip what the model does per row (a `save()`/`delete()` the
    project overrides, the files of a `FileField`, signal receivers the project registers for the
    model such as `@receiver(post_save, sender=Domain)`, a history tracker such as
    django-simple-history's `HistoricalRecords()` or `auditlog.register(Model)`) is `medium`
    confidence, shown with `--min-confidence medium`. Receivers are matched by the model's class
    name.

    Replaces the per-ORM codes `QL111` (Django), `QL121` (SQLAlchemy), `QL131` (peewee) and
    `QL136` (Tortoise), which keep working as aliases.
    """

    code = "QL104"
    name = "orm-write-in-loop"
    pattern = WRITE_IN_LOOP


@_pattern
class LazyRelationInLoop(_PatternRule):
    """
    ## What it does
    Flags a lazily loaded relation read once per object of a loop over ORM rows that did not
    load it: a Django foreign key or one-to-one without `select_related`, a SQLAlchemy
    relationship with the default lazy loading and no loader option, a peewee foreign key
    without a join.

    ## Why is this bad?
    Reading the relation runs one query per object: the classic N+1.

    ## Example
    ```python
    for book in Book.objects.all():
        print(book.author.name)
    ```

    ## Use instead
    ```python
    for book in Book.objects.select_related("author"):
        print(book.author.name)
    ```
    (SQLAlchemy: `options(selectinload(Book.author))`; peewee: `.join(Author)` and select the
    author's columns; `book.author_id` reads the key without a query).

    A loop here is also a comprehension or a sort key: `sorted(books, key=lambda b: b.author.name)`
    (and `min`, `max`, `list.sort`, `itertools.groupby`, `heapq.nsmallest`/`nlargest`) runs the
    key once per book.

    ## In templates
    The same read in a Django or Jinja2 template is reported at the template's line:
    `{% for order in orders %}{{ order.customer.name }}{% endfor %}` fed by
    `render(request, "shop/orders.html", {"orders": Order.objects.all()})`, a `ListView` or
    `DetailView`, Flask's `render_template` or Starlette's `TemplateResponse`. So is a related
    manager's query per row (`{{ order.items.count }}`, `{% for i in order.items.all %}`), unless
    prefetched. The fix names the view's query (`add .select_related("customer") to the queryset
    in shop/views.py:14`). Templates are read through `{% extends %}`, `{% include %}` (with
    `with` and `only`), `{% with %}`, `{% regroup %}`, Jinja2's `{% set %}` and macros. Silence a
    line with `{# querylint: ignore[QL112] #}` on it or on the line above; a `{% cache %}` fragment
    is not reported (it queries on a cache miss only).

    ## Known problems
    A relation loaded by the loop's query, by a model-level eager default or by a framework
    that prefetches it is not reported; nor is the `_id` column. In templates, a view whose
    template name or context is computed (not a literal or a dict built in the view) is not
    followed.

    Replaces the per-ORM codes `QL112` (Django), `QL122` (SQLAlchemy) and `QL132` (peewee),
    which keep working as aliases.
    """

    code = "QL105"
    name = "lazy-relation-in-loop"
    cheap_fix = True
    pattern = LAZY_RELATION


@_pattern
class MemberQueryInLoop(_PatternRule):
    """
    ## What it does
    Flags a call (or a `@property` / `@cached_property` read) per object of a loop to a model
    method that runs a query itself or through what it calls. The message prints the call
    path down to the query. For Django models this includes `__str__` / `__repr__` run by
    `str(obj)`, `repr(obj)` and `f"{obj}"` (a `__str__` that reads `self.author.name`).

    ## Why is this bad?
    `order.total` looks like a field; if it aggregates the order's lines, a loop over 100
    orders runs 100 queries.

    ## Example
    ```python
    class Order(models.Model):
        @property
        def total(self):
            return self.lines.aggregate(s=Sum("price"))["s"]

    for order in Order.objects.all():
        print(order.total)
    ```

    ## Use instead
    ```python
    for order in Order.objects.annotate(total_price=Sum("lines__price")):
        print(order.total_price)
    ```
    (SQLAlchemy: a `column_property` or one grouped query before the loop).

    In a template, the same member read per row of a view's rows (`{{ order.total }}` inside
    `{% for order in orders %}`) is reported at the template's line, and so is a SQLAlchemy
    `lazy="dynamic"` relationship queried per row (`{{ order.events.count() }}`).

    ## Known problems
    A member that only reads relations the loop's query already loads is not reported. A Django
    member whose query is a write (`archive()` ending in `self.save()`) is reported as a write per
    item with `medium` confidence (often deliberate, as for a helper that writes per item), with
    batch-write advice instead of a loader option.

    Replaces the per-ORM codes `QL117` (Django) and `QL125` (SQLAlchemy), which keep working as
    aliases.
    """

    code = "QL106"
    name = "model-member-query-in-loop"
    pattern = MEMBER_QUERY
    subsumes = ("QL102",)  # the same call seen as a project function that queries: this is the more specific


RULES = (QueryInLoop, WriteInLoop, LazyRelationInLoop, MemberQueryInLoop)
QUERY_DETECTORS = orm_query_detectors()
