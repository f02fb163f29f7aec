"""Django over-fetch rules (QL401-QL404): whole querysets loaded to count, test, take one or collect ids."""
from __future__ import annotations

from typing import Optional

import libcst as cst

from querylint.django_querysets import INST, LIST, QS, ROWS, DjType, infer
from querylint.rule import Rule, dedent, nodes as N

_MODELS = "from django.db import models\nclass Product(models.Model):\n    name = models.CharField(max_length=9)\n    active = models.BooleanField()\n"


def _queryset(node, ctx) -> Optional[DjType]:
    """A queryset that is evaluated from scratch here (not a prefetched relation, not a list)."""
    t = infer(node, ctx)
    if t is None or t.kind not in (QS, ROWS) or t.evaluated:
        return None
    if t.related is not None and (t.prefetched or t.owner_loop is not None):
        return None  # prefetch cache, or a per-item relation: the N+1 rules say prefetch_related
    return t


_NON_EVALUATING = {
    "filter", "exclude", "order_by", "all", "distinct", "annotate", "alias", "using", "select_related",
    "prefetch_related", "only", "defer", "values", "values_list", "count", "exists", "acount", "aexists",
    "update", "delete", "aggregate", "first", "last", "get", "none", "model", "query", "db", "ordered",
    "union", "intersection", "difference", "latest", "earliest",
}


def only_used_as(name_node: cst.Name, ctx, allowed) -> bool:
    """Is every other read of the variable in this function a use in ``allowed`` (a predicate)?

    Reads that build a new queryset (``qs.filter(...)``, ``qs.count()``) do not touch the
    result cache and are fine; iterating, passing the queryset on, returning it are not.
    """
    b = ctx.binding(name_node.value, at=name_node)
    if b is None or b.kind not in ("assign", "annassign"):
        return False
    frame = ctx.function
    root = frame.node if frame is not None else ctx.module_node
    name = name_node.value
    ctx.memo(("dj-parents", id(root)), lambda: _fill_parents(ctx, root))
    for n in N.walk(root, into_functions=False):
        if not isinstance(n, cst.Name) or n.value != name or n is name_node:
            continue
        parent = ctx.parent_of(n)
        if isinstance(parent, cst.AssignTarget) or (isinstance(parent, (cst.AugAssign, cst.AnnAssign)) and parent.target is n):
            continue
        if isinstance(parent, cst.Attribute) and parent.attr is n:
            continue
        if isinstance(parent, cst.Arg) and parent.keyword is n:
            continue
        if isinstance(parent, cst.Attribute) and parent.value is n and parent.attr.value in _NON_EVALUATING:
            continue
        if allowed(n, parent):
            continue
        return False
    return True


def _fill_parents(ctx, root) -> bool:
    stack = [root]
    while stack:
        cur = stack.pop()
        for c in N.children(cur):
            ctx._parents.setdefault(id(c), cur)
            stack.append(c)
    return True


def _is_len(n, parent, ctx) -> bool:
    if isinstance(parent, cst.Arg):
        call = ctx.parent_of(parent)
        return isinstance(call, cst.Call) and N.dotted(call.func) == "len"
    return False


def _bool_chain_top(node: cst.BooleanOperation, ctx) -> cst.CSTNode:
    """The outermost ``and``/``or`` of the chain holding ``node`` (memoised: linear on long chains)."""
    seen = []
    cur = node
    top = None
    while True:
        known = ctx.memo(("bool-top", id(cur)), lambda: None)
        if known is not None:
            top = known
            break
        seen.append(cur)
        parent = ctx.parent_of(cur)
        if not isinstance(parent, cst.BooleanOperation):
            top = cur
            break
        cur = parent
    for n in seen:
        ctx._cache[("bool-top", id(n))] = top
    return top


def _bool_context(node, ctx) -> Optional[cst.CSTNode]:
    """The node where ``node`` is tested for truth, if it is only tested."""
    parent = ctx.parent_of(node)
    if isinstance(parent, (cst.If, cst.While, cst.IfExp, cst.Assert)) and parent.test is node:
        return node
    if isinstance(parent, cst.UnaryOperation) and isinstance(parent.operator, cst.Not):
        return node
    if isinstance(parent, cst.BooleanOperation):
        cur = _bool_chain_top(parent, ctx)
        gp = ctx.parent_of(cur)
        if isinstance(gp, (cst.If, cst.While, cst.IfExp, cst.Assert)) and gp.test is cur:
            return node
        if isinstance(gp, cst.UnaryOperation) and isinstance(gp.operator, cst.Not):
            return node
        return None
    if isinstance(parent, cst.Arg) and parent.value is node:
        call = ctx.parent_of(parent)
        if isinstance(call, cst.Call) and N.dotted(call.func) == "bool":
            return node
    return None


class LenQuerysetAsCount(Rule):
    """
    ## What it does
    Flags `len(qs)` on a Django queryset whose rows are not used afterwards: it loads every
    row into memory just to count them.

    ## Why is this bad?
    `len()` evaluates the queryset (`SELECT` every column of every row); `qs.count()` runs
    `SELECT COUNT(*)` in the database and transfers one number.

    ## Example
    ```python
    n_active = len(Product.objects.filter(active=True))
    ```

    ## Use instead
    ```python
    n_active = Product.objects.filter(active=True).count()
    ```

    ## Known problems
    When the same queryset is iterated afterwards, `len()` fills the result cache that the
    loop reuses: that is fine and not reported. Prefetched relations (`len(x.items.all())`)
    read the prefetch cache and are not reported.
    """

    code = "QL401"
    name = "len-queryset-as-count"
    VALID = [
        {
            "shop/models.py": _MODELS,
            "shop/views.py": dedent(
                """
                from shop.models import Product
                def page():
                    products = Product.objects.filter(active=True)
                    total = len(products)
                    return total, [p.name for p in products]
                """
            ),
        }
    ]
    INVALID = [
        {
            "shop/models.py": _MODELS,
            "shop/views.py": dedent(
                """
                from shop.models import Product
                def page():
                    return len(Product.objects.filter(active=True))  # want: QL401
                """
            ),
        }
    ]

    def visit_Call(self, node: cst.Call) -> None:
        if not (isinstance(node.func, cst.Name) and node.func.value == "len" and len(node.args) == 1):
            return
        arg = node.args[0].value
        if isinstance(arg, cst.Call) and isinstance(arg.func, cst.Name) and arg.func.value in ("list", "tuple") and len(arg.args) == 1:
            arg = arg.args[0].value  # len(list(qs))
        if not isinstance(arg, (cst.Name, cst.Call)):
            return  # self.object_list and friends are often iterated elsewhere (templates)
        t = _queryset(arg, self.ctx)
        if t is None:
            return
        if self.ctx.binding("len", at=node) is not None:
            return
        if isinstance(arg, cst.Name) and not only_used_as(arg, self.ctx, lambda n, p: _is_len(n, p, self.ctx) or _bool_context(n, self.ctx) is not None):
            return
        self.report(node, f"`len({N.short(arg, 50)})` loads every row to count them; use `{N.short(arg, 40)}.count()`")


_BOOL_PARENTS = (cst.If, cst.While, cst.IfExp, cst.Assert, cst.UnaryOperation, cst.BooleanOperation, cst.Arg)


class QuerysetTruthiness(Rule):
    """
    ## What it does
    Flags a Django queryset tested for truth (`if qs:`, `not qs`, `bool(qs)`) when its rows are
    not used afterwards.

    ## Why is this bad?
    Testing a queryset evaluates it: every row is fetched to answer a yes/no question.
    `qs.exists()` asks the database for at most one row.

    ## Example
    ```python
    if Order.objects.filter(customer=c, status="open"):
        warn()
    ```

    ## Use instead
    ```python
    if Order.objects.filter(customer=c, status="open").exists():
        warn()
    ```

    ## Known problems
    When the same queryset is iterated afterwards, the test fills the result cache the loop
    reuses; that is fine and not reported.
    """

    code = "QL402"
    name = "queryset-truthiness"
    VALID = [
        {
            "shop/models.py": _MODELS,
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
        }
    ]
    INVALID = [
        {
            "shop/models.py": _MODELS,
            "shop/views.py": dedent(
                """
                from shop.models import Product
                def any_active():
                    products = Product.objects.filter(active=True)
                    if products:  # want: QL402
                        return True
                    return False
                """
            ),
        }
    ]

    def _check(self, node) -> None:
        if not isinstance(self.ctx.parent, _BOOL_PARENTS):
            return
        if _bool_context(node, self.ctx) is None:
            return
        t = _queryset(node, self.ctx)
        if t is None:
            return
        if isinstance(node, cst.Name) and not only_used_as(node, self.ctx, lambda n, p: _is_len(n, p, self.ctx) or _bool_context(n, self.ctx) is not None):
            return
        self.report(node, f"testing `{N.short(node, 50)}` for truth loads every row; use `{N.short(node, 40)}.exists()`")

    visit_Name = _check
    visit_Call = _check


class FetchAllTakeOne(Rule):
    """
    ## What it does
    Flags `list(qs)[0]` and `[x for x in qs][0]`: a whole Django queryset loaded to take one
    object.

    ## Why is this bad?
    Every row is fetched and turned into an object, then all but one are thrown away.
    Indexing the queryset itself (`qs[0]`, `qs.first()`) sends `LIMIT 1`.

    ## Example
    ```python
    newest = list(Post.objects.order_by("-created"))[0]
    ```

    ## Use instead
    ```python
    newest = Post.objects.order_by("-created").first()
    ```
    """

    code = "QL403"
    name = "fetch-all-take-one"
    VALID = [
        {
            "shop/models.py": _MODELS,
            "shop/views.py": "from shop.models import Product\ndef first():\n    return Product.objects.order_by(\"name\")[0]\n",
        }
    ]
    INVALID = [
        {
            "shop/models.py": _MODELS,
            "shop/views.py": "from shop.models import Product\ndef first():\n    return list(Product.objects.order_by(\"name\"))[0]  # want: QL403\n",
        }
    ]

    def visit_Call(self, node: cst.Call) -> None:
        # next(iter(qs)): iterating a queryset fetches every row first
        if not (isinstance(node.func, cst.Name) and node.func.value == "next" and node.args):
            return
        inner = node.args[0].value
        if not (isinstance(inner, cst.Call) and isinstance(inner.func, cst.Name) and inner.func.value == "iter" and len(inner.args) == 1):
            return
        if self.ctx.binding("next", at=node) is not None or self.ctx.binding("iter", at=node) is not None:
            return
        if _queryset(inner.args[0].value, self.ctx) is None:
            return
        self.report(node, f"`{N.short(node, 60)}` fetches every row to keep one; use `.first()`")

    def visit_Subscript(self, node: cst.Subscript) -> None:
        if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
            return
        idx = N.literal(node.slice[0].slice.value)
        if idx not in (0, -1) or isinstance(idx, bool):
            if not (isinstance(node.slice[0].slice.value, cst.UnaryOperation) and N.literal(node.slice[0].slice.value.expression) == 1):
                return
        value = node.value
        inner = None
        if isinstance(value, cst.Call) and isinstance(value.func, cst.Name) and value.func.value in ("list", "tuple", "sorted") and len(value.args) == 1:
            if self.ctx.binding(value.func.value, at=node) is not None:
                return
            inner = value.args[0].value
            if value.func.value == "sorted" and len(value.args) != 1:
                return
        elif isinstance(value, cst.ListComp) and value.for_in.inner_for_in is None and not value.for_in.ifs:
            inner = value.for_in.iter
        if inner is None:
            return
        t = _queryset(inner, self.ctx)
        if t is None:
            return
        self.report(node, f"`{N.short(node, 60)}` fetches every row to keep one; use `.first()` / `.last()` or index the queryset (`LIMIT 1`)")


class InstancesForPkOnly(Rule):
    """
    ## What it does
    Flags a comprehension that loads whole Django model instances only to collect their
    primary key: `[o.id for o in Order.objects.filter(...)]`.

    ## Why is this bad?
    Every column of every row is fetched and turned into a model instance to read one value.

    ## Example
    ```python
    ids = [o.pk for o in Order.objects.filter(status="open")]
    ```

    ## Use instead
    ```python
    ids = list(Order.objects.filter(status="open").values_list("pk", flat=True))
    ```
    """

    code = "QL404"
    name = "instances-for-pk-only"
    VALID = [
        {
            "shop/models.py": _MODELS,
            "shop/views.py": "from shop.models import Product\ndef ids():\n    return list(Product.objects.values_list(\"id\", flat=True))\n",
        }
    ]
    INVALID = [
        {
            "shop/models.py": _MODELS,
            "shop/views.py": "from shop.models import Product\ndef ids():\n    return [p.id for p in Product.objects.filter(active=True)]  # want: QL404\n",
        }
    ]

    def _comp(self, node) -> None:
        clause = node.for_in
        if clause.inner_for_in is not None or not isinstance(clause.target, cst.Name):
            return
        elt = node.elt
        if not (isinstance(elt, cst.Attribute) and isinstance(elt.value, cst.Name) and elt.value.value == clause.target.value):
            return
        attr = elt.attr.value
        if attr not in ("id", "pk"):
            return
        var = clause.target.value
        for cond in clause.ifs:
            for n in N.walk(cond):
                if isinstance(n, cst.Name) and n.value == var:
                    return
        t = infer(clause.iter, self.ctx)
        if t is None or t.kind != QS or t.evaluated or (t.related is not None and t.prefetched):
            return
        self.report(node, f'`{N.short(node, 60)}` loads whole objects to read `{attr}`; use `.values_list("{attr}", flat=True)`')

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
        arg = call.args[0].value
        var = node.target.value
        if not (isinstance(arg, cst.Attribute) and isinstance(arg.value, cst.Name) and arg.value.value == var and arg.attr.value in ("id", "pk")):
            return
        if any(isinstance(n, cst.Name) and n.value == var for n in N.walk(call.func)):
            return
        t = infer(node.iter, self.ctx)
        if t is None or t.kind != QS or t.evaluated or (t.related is not None and t.prefetched):
            return
        attr = arg.attr.value
        self.report(node.iter, f'iterating `{N.short(node.iter, 50)}` loads whole objects to collect `{attr}`; use `.values_list("{attr}", flat=True)`')


RULES = (LenQuerysetAsCount, QuerysetTruthiness, FetchAllTakeOne, InstancesForPkOnly)
