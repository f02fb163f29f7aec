"""QL102: a call, once per item, to a project function that runs a query (directly or deeper)."""
from __future__ import annotations

from typing import Optional

import libcst as cst

from querylint.loops import per_item_loop
from querylint.rule import Rule, dedent, nodes as N


def resolve_callee(call: cst.Call, ctx) -> Optional[str]:
    """Qualname of the project function a call reaches, when plain data flow tells."""
    func = call.func
    index = ctx.index
    fn_facts = ctx.function_facts()
    name = N.dotted(func)
    if name is None:
        return None
    head = name.split(".")[0]
    if head in ("self", "cls") and name.count(".") == 1:
        cls = ctx.class_frame
        if cls is None:
            return None
        hit = index.find_method(cls.qualname, name.split(".")[1])
        return hit.qualname if hit else None
    if head in ("self", "cls"):
        owner = _instance_attr_class(name.split(".")[1], ctx) if name.count(".") == 2 else None
        if owner is None:
            return None
        hit = index.find_method(owner, name.split(".")[2])
        return hit.qualname if hit else None
    # a local variable shadows module names: only plain functions, imported names, Class.method,
    # and methods of a local bound to an instance of a project class (``svc = PriceService(); svc.price()``)
    b = ctx.binding(head, at=call)
    if b is not None and b.kind not in ("import", "def", "class"):
        if name.count(".") != 1:
            return None
        if b.kind == "param" and isinstance(b.node, cst.Param):
            owner = annotation_class(b.node.annotation, ctx)  # ``def f(repo: CustomerRepository)``
        elif not b.is_simple or b.kind not in ("assign", "annassign", "with"):
            return None
        else:
            owner = _constructed_class(b.value, ctx)
            if owner is None and b.kind == "annassign" and isinstance(b.node, cst.AnnAssign):
                owner = annotation_class(b.node.annotation, ctx)
        if owner is None:
            return None
        hit = index.find_method(owner, name.split(".")[1])
        return hit.qualname if hit else None
    qual = ctx.qualify(func)
    if qual is None:
        return None
    hit = index.resolve_function(qual, fn_facts)
    if hit is None and "." not in name:
        hit = index.functions.get(f"{ctx.module}.{name}")
    return hit.qualname if hit else None


def _constructed_class(value, ctx) -> Optional[str]:
    """Qualname of the project class ``value`` constructs (``PriceService(conn)``), else None."""
    if not isinstance(value, cst.Call):
        return None
    qual = ctx.qualify(value.func)
    if not qual:
        return None
    cls = ctx.index.classes.get(qual)
    return cls.qualname if cls is not None else None


def annotation_class(annotation, ctx) -> Optional[str]:
    """Qualname of the project class an annotation names: ``X``, ``mod.X``, ``X | None``, ``Optional[X]``, ``"X"``."""
    ann = annotation.annotation if isinstance(annotation, cst.Annotation) else annotation
    if isinstance(ann, cst.SimpleString):
        try:
            ann = cst.parse_expression(ann.evaluated_value)
        except Exception:
            return None
    if isinstance(ann, cst.BinaryOperation) and isinstance(ann.operator, cst.BitOr):
        sides = [s for s in (ann.left, ann.right) if not (isinstance(s, cst.Name) and s.value == "None")]
        return annotation_class(sides[0], ctx) if len(sides) == 1 else None
    if isinstance(ann, cst.Subscript):
        if (N.dotted(ann.value) or "").rsplit(".", 1)[-1] != "Optional" or len(ann.slice) != 1:
            return None
        el = ann.slice[0].slice
        return annotation_class(el.value, ctx) if isinstance(el, cst.Index) else None
    if N.dotted(ann) is None:
        return None
    qual = ctx.qualify(N.dotted(ann))
    cls = ctx.index.classes.get(qual) if qual else None
    return cls.qualname if cls is not None else None


def _value_class(value, params, ctx) -> Optional[str]:
    """Project class of a value stored on ``self``: a constructor call, an annotated parameter, or
    ``param or Class()`` / ``Class() if param is None else param`` whose parts agree."""
    if isinstance(value, cst.Call):
        return _constructed_class(value, ctx)
    if isinstance(value, cst.Name):
        p = params.get(value.value)
        return annotation_class(p.annotation, ctx) if p is not None and p.annotation is not None else None
    if isinstance(value, cst.BooleanOperation) and isinstance(value.operator, cst.Or):
        parts = [value.left, value.right]
    elif isinstance(value, cst.IfExp):
        parts = [value.body, value.orelse]
    else:
        return None
    found = set()
    for part in parts:
        c = _value_class(part, params, ctx)
        if c is not None:
            found.add(c)
        elif not (isinstance(part, cst.Name) and part.value in params):
            return None  # something else we cannot type
    return found.pop() if len(found) == 1 else None


def _instance_attr_class(attr: str, ctx) -> Optional[str]:
    """The project class of ``self.<attr>`` when the enclosing class assigns it exactly once, from a
    constructor or an annotated parameter (see ``_value_class``)."""
    frame = ctx.class_frame
    if frame is None or not isinstance(frame.node, cst.ClassDef):
        return None

    def compute():
        found = []
        for stmt in frame.node.body.body:
            if not isinstance(stmt, cst.FunctionDef):
                continue
            p = stmt.params
            params = {x.name.value: x for x in (*p.posonly_params, *p.params, *p.kwonly_params)}
            for node in N.walk(stmt.body):
                if isinstance(node, cst.Assign):
                    for t in node.targets:
                        if N.dotted(t.target) == f"self.{attr}":
                            found.append((node.value, params, None))
                elif isinstance(node, cst.AnnAssign) and N.dotted(node.target) == f"self.{attr}" and node.value is not None:
                    found.append((node.value, params, node.annotation))
        if len(found) != 1:
            return None
        value, params, annotation = found[0]
        owner = _value_class(value, params, ctx)
        if owner is None and annotation is not None:
            owner = annotation_class(annotation, ctx)
        return owner

    return ctx.memo(("self-attr-class", id(frame.node), attr), compute)


def short_name(qualname: str) -> str:
    parts = qualname.split(".")
    return ".".join(parts[-2:]) if len(parts) > 2 and parts[-2][:1].isupper() else parts[-1]


class QueryThroughCallInLoop(Rule):
    """
    ## What it does
    Flags a call, inside a loop or comprehension, to a function or method of the project that
    runs a database query itself or through the functions it calls. The message prints the
    call path down to the query.

    ## Why is this bad?
    A helper hides the query from the reader of the loop: the loop looks cheap, but each
    iteration is a round trip. This is the N+1 most often missed in review.

    ## Example
    ```python
    def get_total(order_id):
        return OrderLine.objects.filter(order_id=order_id).aggregate(Sum("price"))

    for order in orders:
        totals[order.id] = get_total(order.id)
    ```

    ## Use instead
    ```python
    totals = dict(
        OrderLine.objects.filter(order__in=orders)
        .values_list("order_id")
        .annotate(total=Sum("price"))
    )
    ```
    or give the helper a batch form (`get_totals(order_ids)`) and call it once.

    ## Known problems
    Only calls whose target is known without running the code are followed: functions by name
    or import, `self.method()`, `Class.method()`, and methods of objects built from a project
    class or annotated with one (`repo: CustomerRepository`, also when stored on `self`).
    Calls through callbacks and methods of objects of unknown type are not.
    """

    code = "QL102"
    name = "query-via-call-in-loop"
    VALID = [
        {
            "app/db.py": dedent(
                """
                def fetch_names(cur, ids):
                    cur.execute("SELECT name FROM users WHERE id = ANY(%s)", (ids,))
                    return cur.fetchall()
                """
            ),
            "app/report.py": dedent(
                """
                from app.db import fetch_names
                def report(cur, ids):
                    names = fetch_names(cur, ids)
                    for n in names:
                        print(n)
                """
            ),
        }
    ]
    INVALID = [
        {
            "app/db.py": dedent(
                """
                def fetch_name(cur, user_id):
                    cur.execute("SELECT name FROM users WHERE id = %s", (user_id,))
                    return cur.fetchone()
                """
            ),
            "app/report.py": dedent(
                """
                from app.db import fetch_name
                def report(cur, ids):
                    for i in ids:
                        print(fetch_name(cur, i))  # want: QL102
                """
            ),
        }
    ]

    def visit_Call(self, node: cst.Call) -> None:
        if self.ctx.loop is None:
            return
        qual = resolve_callee(node, self.ctx)
        if qual is None:
            return
        path = self.ctx.index.query_path(qual)
        if path is None:
            return
        loop = per_item_loop(self.ctx)
        if loop is None:
            return
        chain = " -> ".join([f"line {self.ctx.loop_line(loop)} loop"] + [short_name(q) + "()" for q in path[:-1]] + [path[-1]])
        self.report(
            node,
            f"`{N.short(node.func)}()` runs a query on every iteration of {self.ctx.loop_label(loop)} "
            f"({chain}); fetch what it needs once before the loop, or give it a batch form",
            notes=(f"call path: {chain}",),
        )


RULES = (QueryThroughCallInLoop,)
