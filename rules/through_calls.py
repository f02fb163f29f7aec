"""QL102: a call, once per item, to a project function that runs a query (directly or deeper)."""
from __future__ import annotations

import re
from typing import Set, Tuple

import libcst as cst

from querylint.frameworks.lifetime import database_params
from querylint.loops import per_item_loop, varies_per_item
from querylint.rule import Context, Rule, dedent, flagged_off, nodes as N, query_writes, resolve_callee, unique_model_method


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
    Calls through callbacks are not, nor methods of objects of unknown type, except a
    distinctive method name (public, 8 characters or more) that exactly one function in the
    project has, a method of an ORM model (`room.getAttributeValueByName(name)`), when its query
    is not just a relation of the instance (which the rows' own query may have loaded). A helper that
    writes per item is reported as a write with batching advice; through the ORM (a save, a
    commit) it is `medium` confidence, since an event or audit row per item is often deliberate.
    A helper whose argument names the table it reads (`sql.Identifier(collection)`) called per
    item of a collection of tables runs one query per table, which no single query could merge:
    not reported. Nor is a call that turns off the flag parameter every query of the helper
    sits under (`if include_rows:`, `x if entitysets else []`, `if not emit: return`): given
    `False` or left at a false default.
    """

    code = "QL102"
    per_request_escalation = True
    loop_scaled = True
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

    def __init__(self, ctx: Context):
        super().__init__(ctx)
        self._seen: Set[Tuple[int, str]] = set()

    def visit_Call(self, node: cst.Call) -> None:
        if self.ctx.loop is None:
            return
        qual = resolve_callee(node, self.ctx)
        guessed = qual is None
        if guessed:
            qual = unique_model_method(node, self.ctx)
        if qual is None:
            return
        path = self.ctx.index.query_path(qual)
        if path is None:
            return
        if guessed and re.fullmatch(r"self\.\w+", path[-1]):
            return  # a relation of an instance loaded we do not know how (``select_related`` may cover it)
        loop = per_item_loop(self.ctx)
        if loop is None:
            return
        if _loads_own_relation_once(node, path, loop, self.ctx) or _database_per_item(node, path[0], loop, self.ctx):
            return
        if _table_per_item(node, qual, loop, self.ctx):
            return  # a different table per item (a dump of every collection): nothing to merge
        if not guessed and flagged_off(node, self.ctx):
            return  # ``_query_item(proxy, entitysets=False)``: the call turns the query off
        key = (id(loop.node), N.code(node.func))
        if key in self._seen:
            return  # ``if p.over_quota():`` then ``while p.over_quota():``: one problem per pass, one finding
        self._seen.add(key)
        chain = " -> ".join([f"line {self.ctx.loop_line(loop)} loop"] + [short_name(q) + "()" for q in path[:-1]] + [path[-1]])
        writes = query_writes(path[-1])
        if writes:
            # a helper that writes (and commits) per item through the ORM: often deliberate (an
            # event, an audit row, one transaction per item), so one step less sure; a raw
            # INSERT/UPDATE per item is the classic ``executemany`` case and stays sure
            raw = writes == "raw"
            self.report(
                node,
                f"`{N.short(node.func)}()` writes to the database on every iteration of {self.ctx.loop_label(loop)}",
                fix=(
                    "give it a batch form: one `executemany(...)` (or a multi-row INSERT) for every item, and one commit"
                    if raw else "give it a batch form that writes every item in one statement and commits once"
                ),
                notes=(f"call path: {chain}",),
                confidence="high" if raw else "medium",
            )
            return
        self.report(
            node,
            f"`{N.short(node.func)}()` runs a query on every iteration of {self.ctx.loop_label(loop)}",
            fix="fetch what it needs once before the loop, or give it a batch form",
            notes=(f"call path: {chain}",),
        )


# quoting an identifier: the argument names a table (or column), not a value
_IDENTIFIER_CALLS = frozenset({"Identifier", "quote_ident", "quote_name", "quote_identifier", "Table"})


def _table_per_item(call: cst.Call, qualname: str, loop, ctx: Context) -> bool:
    """``{c: reader.get_all(c) for c in model_registry}`` where ``get_all(collection)`` builds
    ``FROM {sql.Identifier(collection)}``: the item names the table, one query per table."""
    fn = ctx.index.functions.get(qualname)
    if fn is None:
        return False
    tables = {p for target, ps in fn.param_calls if target.rsplit(".", 1)[-1] in _IDENTIFIER_CALLS for p in ps}
    if not tables:
        return False
    offset = 1 if fn.cls is not None and fn.params[:1] in (("self",), ("cls",)) else 0
    for i, arg in enumerate(call.args):
        if arg.star:
            return False
        param = arg.keyword.value if arg.keyword is not None else (fn.params[i + offset] if i + offset < len(fn.params) else None)
        if param in tables and varies_per_item(arg.value, loop, ctx):
            return True
    return False


def _database_per_item(call: cst.Call, qualname: str, loop, ctx: Context) -> bool:
    """``for f in files: records(f)`` where ``records(path)`` opens the database at ``path``: one
    query per database (RLEAPP's artifact parsers), nothing a batch query could join."""
    fn = ctx.index.functions.get(qualname)
    chosen = database_params(fn, ctx) if fn is not None else set()
    if fn is None or not chosen:
        return False
    offset = 1 if fn.cls is not None and fn.params[:1] in (("self",), ("cls",)) else 0
    for i, arg in enumerate(call.args):
        param = arg.keyword.value if arg.keyword is not None else (fn.params[i + offset] if i + offset < len(fn.params) else None)
        if param in chosen and varies_per_item(arg.value, loop, ctx):
            return True
    return False


def _loads_own_relation_once(call: cst.Call, path, loop, ctx: Context) -> bool:
    """``for line in lines: self.applies_to(line)`` where the path ends at ``self.range``: a
    relation of one object that does not change in the loop, loaded on the first call and cached
    on the object after it (every hop a method of the same class)."""
    if not re.fullmatch(r"self\.\w+", path[-1]):
        return False
    recv = N.receiver(call)
    if not isinstance(recv, cst.Name):
        return False
    if recv.value != "self":
        b = ctx.binding(recv.value, at=call)
        if b is None or any(a is loop.node for a in ctx.ancestors(b.node)):
            return False
        if loop.target is not None and recv.value in N.target_names(loop.target):
            return False
    classes = {ctx.index.functions[q].cls for q in path[:-1] if q in ctx.index.functions}
    return len(classes) == 1 and None not in classes


RULES = (QueryThroughCallInLoop,)
