"""Tortoise's N+1 detectors: an awaited query or relation fetch, and an awaited write, once per item
(the Tortoise variants of QL103 and QL104; old codes QL135, QL136), and the query sites the project
index records."""
from __future__ import annotations

from typing import TYPE_CHECKING, Optional

import libcst as cst

from querylint import nodes as N
from querylint.frameworks.base import Detector
from querylint.frameworks.tortoise.models import CHAIN, CLASS_QUERIES, CLASS_WRITES, classify, queryset_of, tortoise_models
from querylint.loops import per_item_loop
from querylint.rule import dedent
if TYPE_CHECKING:  # pragma: no cover
    from querylint.context import Context


class TortoiseQueryInLoop(Detector):
    """
    ## What it does
    Flags a Tortoise ORM query awaited once per item of a loop or comprehension:
    `await Model.get(...)`, `await Model.filter(...)...`, `await obj.fetch_related(...)`, or an
    awaited relation of each row (`await order.customer`, `await user.posts.all()`) when the
    query did not `prefetch_related` / `select_related` it.

    ## Why is this bad?
    Every iteration waits for its own round trip: N items cost N queries, one after another.

    ## Example
    ```python
    for item in payload.items:
        product = await Product.get(id=item.product_id)
    ```

    ## Use instead
    ```python
    products = {p.id: p for p in await Product.filter(id__in=[i.product_id for i in payload.items])}
    ```
    and `Order.all().prefetch_related("customer")` for relations.
    """

    VALID = [
        {
            "app/models.py": dedent(
                """
                from tortoise import fields
                from tortoise.models import Model
                class Product(Model):
                    id = fields.IntField(pk=True)
                """
            ),
            "app/api.py": dedent(
                """
                from app.models import Product
                async def load(ids):
                    return {p.id: p for p in await Product.filter(id__in=ids)}
                """
            ),
        }
    ]
    INVALID = [
        {
            "app/models.py": VALID[0]["app/models.py"],
            "app/api.py": dedent(
                """
                from app.models import Product
                async def load(ids):
                    return [await Product.get(id=i) for i in ids]  # want: QL135
                """
            ),
        }
    ]

    def visit_Await(self, node: cst.Await) -> None:
        if self.ctx.loop is None or not tortoise_models(self.ctx.index):
            return
        got = classify(node, self.ctx)
        if got is None or got[0] not in ("query", "relation"):
            return
        loop = per_item_loop(self.ctx)
        if loop is None:
            return
        fix = (
            "prefetch the relation on the loop's query (`.prefetch_related(...)`)"
            if got[0] == "relation"
            else "fetch every row once before the loop (`filter(id__in=...)`) and look them up in a dict"
        )
        self.report(node, f"`await {got[1]}` runs a query on every iteration of {self.ctx.loop_label(loop)}", fix=fix)


class TortoiseWriteInLoop(Detector):
    """
    ## What it does
    Flags a Tortoise ORM write awaited once per item of a loop: `await Model.create(...)`,
    `await obj.save()`, `await obj.delete()`, `await Model.filter(...).update(...)`.

    ## Why is this bad?
    One INSERT or UPDATE round trip per item.

    ## Example
    ```python
    for row in rows:
        await Event.create(**row)
    ```

    ## Use instead
    ```python
    await Event.bulk_create([Event(**row) for row in rows])
    ```
    """

    VALID = [
        {
            "app/models.py": TortoiseQueryInLoop.VALID[0]["app/models.py"],
            "app/load.py": dedent(
                """
                from app.models import Product
                async def load(rows):
                    await Product.bulk_create([Product(**r) for r in rows])
                """
            ),
        }
    ]
    INVALID = [
        {
            "app/models.py": TortoiseQueryInLoop.VALID[0]["app/models.py"],
            "app/load.py": dedent(
                """
                from app.models import Product
                async def load(rows):
                    for r in rows:
                        await Product.create(**r)  # want: QL136
                """
            ),
        }
    ]

    def visit_Await(self, node: cst.Await) -> None:
        if self.ctx.loop is None or not tortoise_models(self.ctx.index):
            return
        got = classify(node, self.ctx)
        if got is None or got[0] != "write":
            return
        loop = per_item_loop(self.ctx)
        if loop is None:
            return
        self.report(
            node,
            f"`await {got[1]}` writes one row on every iteration of {self.ctx.loop_label(loop)}",
            fix="write them at once (`bulk_create`, `bulk_update`, or one `filter(id__in=...).update(...)`)",
        )


def detect_tortoise_query(node, ctx: Context) -> Optional[str]:
    if not isinstance(node, cst.Call) or not isinstance(node.func, cst.Attribute):
        return None
    if N.call_name(node) not in CHAIN | CLASS_QUERIES | CLASS_WRITES:
        return None
    if not tortoise_models(ctx.index):
        return None
    parent = ctx.parent
    if not isinstance(parent, cst.Await):
        return None
    got = queryset_of(node, ctx)
    return N.short(node.func) + "(...)" if got else None
