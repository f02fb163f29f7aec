"""SQLAlchemy's N+1 detectors: a session query, a session write, a lazy relationship load and a
querying model member once per item (the SQLAlchemy variants of QL103-QL106; old codes QL120,
QL121, QL122, QL125), and the query sites the project index records."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, List, Optional, Set, Tuple, cast

import libcst as cst

from querylint.frameworks.dbapi import statement_call
from querylint.loops import batch_by_name_only, classify_loop, per_item_loop, repeats_per_iteration
from querylint.frameworks.base import Detector, MemberQueryDetector, member_queries
from querylint.frameworks.sqlalchemy.schemas import marshmallow_schemas, nested_fields, pydantic_models, schema_of
from querylint.rule import Edit, callee_params, dedent, line_after_imports, nodes as N, read_chains
from querylint.sql.extract import literal_verb, runs_only_unbatchable, statement_varies_per_item
from querylint.usage import is_store_target
from querylint.frameworks.sqlalchemy.infer import (
    is_fsa_db,
    module_functions,
    param_chains,
    describe_returned_rows,
    QUERY_TERMINAL_ONE,
    QUERY_TERMINAL_ROWS,
    Elem,
    SAValue,
    infer,
    mapped_entity,
    relationship_value,
    uses_sqlalchemy,
)
from querylint.frameworks.sqlalchemy.models import EAGER, NOLOAD, RAISE, Relationship, mappings
if TYPE_CHECKING:  # pragma: no cover
    from querylint.context import Context

SESSION_READS = {"get", "get_one", "execute", "scalars", "scalar", "stream", "stream_scalars", "exec"}
FSA_DB_READS = {"get_or_404", "first_or_404", "one_or_404"}  # Flask-SQLAlchemy 3 ``db.get_or_404(Model, id)``
SESSION_WRITES = {"commit", "flush", "refresh", "merge"}
QUERY_TERMINALS = QUERY_TERMINAL_ROWS | QUERY_TERMINAL_ONE | {"count", "delete", "update", "paginate"}
CALL_NAMES = SESSION_READS | SESSION_WRITES | QUERY_TERMINALS | FSA_DB_READS
MUTATORS = {"append", "extend", "remove", "add", "discard", "insert", "pop", "clear", "set", "update"}
LAZY_LOAD_RE = re.compile(r"\(lazy load of ([\w.]+)\.(\w+)\)")


# The models of the lazy-load examples (here and in rules/sqlalchemy.py).
ORDER_CUSTOMER_MODELS = dedent(
                """
                from sqlalchemy import ForeignKey
                from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
                class Base(DeclarativeBase):
                    pass
                class Customer(Base):
                    __tablename__ = "customers"
                    id: Mapped[int] = mapped_column(primary_key=True)
                class Order(Base):
                    __tablename__ = "orders"
                    id: Mapped[int] = mapped_column(primary_key=True)
                    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
                    customer: Mapped["Customer"] = relationship()
                """
)


def last_part(q: Optional[str]) -> str:
    return (q or "").rsplit(".", 1)[-1]


# ----------------------------------------------------------------------------- classification


def classify_call(call: cst.Call, ctx: Context) -> Optional[Tuple[str, SAValue]]:
    """("query" | "write" | "dynamic", receiver value) when ``call`` runs a SQLAlchemy statement."""
    name = N.call_name(call)
    if name not in CALL_NAMES:
        return None
    recv = N.receiver(call)
    if recv is None or not uses_sqlalchemy(ctx):
        return None
    if name in FSA_DB_READS and isinstance(recv, (cst.Name, cst.Attribute)) and is_fsa_db(recv, ctx):
        first = N.arg(call, 0)
        if mapped_entity(first, ctx) is not None or (infer(first, ctx) is not None and cast(SAValue, infer(first, ctx)).kind == "stmt"):
            return "query", SAValue("session")
    if name in SESSION_READS or name in SESSION_WRITES:
        base = infer(recv, ctx)
        if base is not None and base.kind == "session":
            if statement_call(call, ctx) is not None:
                return None  # a driver connection: QL101
            if name in SESSION_WRITES:
                return "write", base
            if name in ("get", "get_one"):
                return ("query", base) if mapped_entity(N.arg(call, 0), ctx) is not None else None
            if name in ("execute", "stream", "exec"):
                return _execute_kind(call, ctx, base)
            return "query", base
        if base is None and name in ("get", "get_one", "execute", "scalars", "scalar", "exec") and statement_call(call, ctx) is None:
            # an object of unknown type, with SQLAlchemy arguments: a session or scoped session
            if not isinstance(recv, (cst.Name, cst.Attribute)) or N.dotted(recv) in ("self", "cls"):
                return None
            if _is_known_non_session(recv, ctx):
                return None
            if name in ("get", "get_one"):
                if mapped_entity(N.arg(call, 0), ctx) is not None and len(call.args) >= 2:
                    return "query", SAValue("session")
                return None
            stmt = infer(N.arg(call, 0), ctx)
            if stmt is not None and stmt.kind == "stmt" and stmt.elem is not None:
                return _execute_kind(call, ctx, SAValue("session")) if name in ("execute", "exec") else ("query", SAValue("session"))
            return None
    if name in QUERY_TERMINALS:
        base = infer(recv, ctx)
        if base is None:
            return None
        if base.kind == "query":
            if name in ("delete", "update"):
                return "write", base
            return "query", base
        if base.kind == "dynamic":
            return "dynamic", base
    return None


def _is_known_non_session(recv, ctx: Context) -> bool:
    head = N.root_name(recv)
    if head is None:
        return True
    b = ctx.binding(head, at=recv)
    if b is not None and b.kind in ("assign", "with") and b.value is not None and isinstance(b.value, cst.Call):
        q = ctx.qualify(b.value.func) or ""
        return not q.startswith("sqlalchemy")
    return False


def _is_many_params(node, ctx: Context, depth: int = 0) -> bool:
    """A list of parameter sets (``[{...}, ...]``, a comprehension, ``rows``), not one dict."""
    if isinstance(node, (cst.List, cst.ListComp, cst.GeneratorExp)):
        return True
    if isinstance(node, cst.Call) and N.call_name(node) in ("list", "tuple") and node.args:
        return True
    if isinstance(node, cst.Name) and depth < 3:
        b = ctx.binding(node.value, at=node)
        if b is not None and b.kind in ("assign", "annassign") and b.is_simple and b.value is not None:
            if isinstance(b.value, cst.Dict) or (isinstance(b.value, cst.Call) and N.call_name(b.value) == "dict"):
                return False
            return _is_many_params(b.value, ctx, depth + 1) or (b.value is not None and node.value.endswith(("rows", "records", "batch", "chunk", "items", "values", "mappings", "data")))
        return node.value.endswith(("rows", "records", "batch", "chunk", "mappings"))
    return False


def _execute_kind(call: cst.Call, ctx: Context, base: SAValue) -> Optional[Tuple[str, SAValue]]:
    positional = [a for a in call.args if a.keyword is None and not a.star]
    second = positional[1].value if len(positional) >= 2 else N.arg(call, keyword="params")
    if second is not None and _is_many_params(second, ctx):
        # session.execute(insert(X), rows): one executemany for many rows
        return None
    stmt = infer(N.arg(call, 0), ctx)
    if stmt is not None and stmt.bulk:
        return None
    if runs_only_unbatchable(call, ctx):
        return None  # ``text("CREATE SCHEMA ...")`` per tenant: DDL, not an N+1
    if stmt is not None and stmt.kind == "stmt" and stmt.origin is not None and isinstance(stmt.origin, cst.Call):
        verb = last_part(ctx.qualify(stmt.origin.func) or N.call_name(stmt.origin))
        if verb in ("insert", "update", "delete"):
            return "write", base
    return "query", base


def per_item(elem: Optional[Elem], ctx: Context):
    """The enclosing per-item loop that makes ``elem`` vary per iteration, else None."""
    if elem is None or elem.loop is None:
        return None
    for loop in reversed(ctx.loops):
        if (id(loop.node), id(loop.clause)) == elem.loop:
            if ctx.node is not None and not repeats_per_iteration(ctx.node, loop, ctx):
                return None  # in an ``except`` branch, or followed by ``return``/``break``: at most once
            if classify_loop(loop, ctx) == "items":
                return loop
            # ``for post in page`` over a Pagination / Result: the rows' type outweighs the batch-like name
            return loop if batch_by_name_only(loop, ctx) and _yields_rows(loop.iter, ctx) else None
    return None


def _yields_rows(it, ctx: Context) -> bool:
    v = infer(it, ctx)
    return v is not None and v.kind in ("result", "rows", "query", "page")


def loader_hint(elem: Elem, rel: Relationship, ctx: Context) -> str:
    """``selectinload(Order.lines).joinedload(Line.product)`` for the path to ``rel``:
    ``joinedload`` for a known many-to-one, ``selectinload`` otherwise (a collection, or a
    relationship of unknown direction: a joined collection would need ``.unique()`` on a 2.x
    result, ``selectinload`` is right either way)."""
    m = mappings(ctx.index)
    owner = elem.root
    links = []
    for name in elem.path + (rel.name,):
        r = m.relationship(owner, name)
        if r is None:
            return f"{_loader_for(rel)}({rel.label})"
        links.append(f"{_loader_for(r)}({r.label})")
        owner = r.target
    return ".".join(links)


def _loader_for(rel: Relationship) -> str:
    return "joinedload" if rel.collection is False else "selectinload"


_LOADERS = frozenset({"joinedload", "selectinload"})


def options_edit(elem: Elem, rel: Relationship, ctx: Context) -> Tuple[Edit, ...]:
    """The ``--fix`` for a lazily loaded relationship: ``.options(joinedload(Order.customer))``
    appended where the query is built in this file (``select(...)``, ``session.query(...)``,
    ``Model.query``), with the loader's import when the module lacks it; only when every class
    the option names is bound in the module."""
    at = options_anchor(elem, ctx)
    if at is None:
        return ()
    hint = loader_hint(elem, rel, ctx)
    if any(cls not in names_in_module(ctx) for cls in re.findall(r"\(([A-Za-z_]\w*)\.", hint)):
        return ()
    edits = [Edit(at[0], at[1], at[0], at[1], f".options({hint})")]
    missing = missing_loaders(hint, loaders_imported(ctx))
    if missing:
        line = line_after_imports(ctx)
        edits.append(Edit(line, 1, line, 1, f"from sqlalchemy.orm import {', '.join(missing)}\n"))
    return tuple(edits)


def options_anchor(elem: Elem, ctx: Context) -> Optional[Tuple[int, int]]:
    """(line, column) where ``.options(...)`` can be appended to the query the rows come from:
    built in this file by ``select(...)``, ``session.query(...)`` or ``Model.query``."""
    o = elem.origin
    if o is None or not ctx.in_this_file(o) or elem.origin_label:
        return None
    if not ((isinstance(o, cst.Call) and N.call_name(o) in ("select", "query")) or (isinstance(o, cst.Attribute) and o.attr.value == "query")):
        return None
    end = ctx.span(o)
    return end.end_line, end.end_column


def names_in_module(ctx: Context) -> Set[str]:
    """The names a fix may use in this module: imported, defined, assigned."""
    return set(ctx.facts.import_map()) | {c.name for c in ctx.facts.classes} | set(ctx.facts.module_names)


def loaders_imported(ctx: Context) -> Set[str]:
    imports = ctx.facts.import_map()
    return {name for name in _LOADERS if imports.get(name) == f"sqlalchemy.orm.{name}"}


def missing_loaders(hint: str, imported) -> List[str]:
    """The loader functions ``hint`` calls that the module does not import yet."""
    return sorted(name for name in _LOADERS if f"{name}(" in hint and name not in imported)



def strategy(elem: Elem, rel: Relationship) -> str:
    """How the relationship loads for this item: "eager", "lazy", "raise", "none", "unknown"."""
    got = elem.loaders.lookup(elem.path + (rel.name,))
    if got == "opaque":
        return "unknown"
    if got is None:
        got = rel.lazy
    if got in EAGER:
        return "eager"
    if got in RAISE:
        return "raise"
    if got in NOLOAD:
        return "none"
    if got == "select":
        return "lazy"
    return "unknown"


def origin_text(elem: Elem, ctx: Context) -> str:
    if elem.origin_label:
        return elem.origin_label
    if elem.origin is not None:
        try:
            return f"the query on line {ctx.line(elem.origin)}"
        except Exception:  # pragma: no cover
            pass
    return "the query that loads it"


# ------------------------------------------------------------------------------------- rules


class SqlalchemyQueryInLoop(Detector):
    """
    ## What it does
    Flags a SQLAlchemy query run once per item of a loop or comprehension: `session.get(...)`,
    `session.execute(...)` / `session.scalars(...)` / `session.scalar(...)` (also awaited on an
    `AsyncSession`), a 1.x `session.query(...)` or Flask-SQLAlchemy `Model.query` chain ended by
    `.all()` / `.first()` / `.one()` / `.scalar()` / `.count()` / `.get()`, or such a query
    iterated by an inner loop.

    ## Why is this bad?
    Every iteration is a round trip to the database: N items cost N queries, and the page gets
    slower as the data grows.

    ## Example
    ```python
    for item in payload.items:
        product = session.get(Product, item.product_id)
    ```

    ## Use instead
    ```python
    ids = [item.product_id for item in payload.items]
    products = {p.id: p for p in session.scalars(select(Product).where(Product.id.in_(ids)))}
    for item in payload.items:
        product = products.get(item.product_id)
    ```

    ## Known problems
    Sessions are recognised by how they were made (`Session(engine)`, a `sessionmaker()` result,
    `db.session`), by a `Session` / `AsyncSession` annotation, or by a conventional name
    (`session`, `db_session`) in a file that uses SQLAlchemy. Loops over constants, batches and
    retries are not reported. `Connection.execute` is QL101's.
    """

    VALID = [
        dedent(
            """
            from sqlalchemy import select
            from sqlalchemy.orm import Session
            from app.models import Product

            def load(session: Session, ids):
                products = session.scalars(select(Product).where(Product.id.in_(ids))).all()
                return {p.id: p for p in products}
            """
        ),
        dedent(
            """
            from sqlalchemy.orm import Session
            def add_all(session: Session, rows):
                for row in rows:
                    session.add(row)
                session.commit()
            """
        ),
    ]
    INVALID = [
        {
            "app/models.py": dedent(
                """
                from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
                class Base(DeclarativeBase):
                    pass
                class Product(Base):
                    __tablename__ = "products"
                    id: Mapped[int] = mapped_column(primary_key=True)
                """
            ),
            "app/cart.py": dedent(
                """
                from sqlalchemy.orm import Session
                from app.models import Product

                def prices(session: Session, ids):
                    return [session.get(Product, i) for i in ids]  # want: QL120
                """
            ),
        }
    ]

    def visit_Call(self, node: cst.Call) -> None:
        if self.ctx.loop is None or N.call_name(node) not in CALL_NAMES:
            return
        got = classify_call(node, self.ctx)
        if got is None or got[0] != "query":
            return
        loop = per_item_loop(self.ctx)
        if loop is None:
            return
        name = N.call_name(node)
        if name in ("execute", "exec_driver_sql") and statement_varies_per_item(node, loop, self.ctx):
            return  # ``text(stmt % (table, where))`` per table: a different statement per item, nothing to merge
        where = self.ctx.loop_label(loop)
        target = f"`{N.short(node.func)}(...)`" if got[1].kind == "session" else f"`{N.short(node)}`"
        if name in ("get", "get_one") and got[1].kind == "session":
            ent = mapped_entity(N.arg(node, 0), self.ctx)
            e = last_part(ent)
            fix = f"load every `{e}` once before the loop (`select({e}).where({e}.id.in_(ids))`) and look them up in a dict"
        elif name == "count":
            fix = "count for every item in one grouped query (`func.count()` with `group_by`) before the loop"
        else:
            fix = "run one query for all items before the loop (`.in_(...)`, a join, or a GROUP BY) and look the results up in a dict"
        self.report(node, f"{target} runs a query on every iteration of {where}", fix=fix)

    # an inner loop's iterable that is a query: iterating it runs the query each time
    def visit_For(self, node: cst.For) -> None:
        self._check_iterable(node.iter)

    def visit_CompFor(self, node) -> None:  # pragma: no cover - clauses are not dispatched by the walker
        pass

    def _check_iterable_in_comprehension(self, node) -> None:
        parent = self.ctx.parent
        if isinstance(parent, cst.CompFor) and parent.iter is node:
            self._check_iterable(node)

    def visit_Name(self, node: cst.Name) -> None:
        if self.ctx.loop is not None and isinstance(self.ctx.parent, cst.CompFor):
            self._check_iterable_in_comprehension(node)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if self.ctx.loop is not None and isinstance(self.ctx.parent, cst.CompFor):
            self._check_iterable_in_comprehension(node)

    def leave_Call(self, node: cst.Call) -> None:
        if self.ctx.loop is not None and isinstance(self.ctx.parent, cst.CompFor):
            self._check_iterable_in_comprehension(node)

    def _check_iterable(self, it) -> None:
        if self.ctx.loop is None or not isinstance(it, (cst.Name, cst.Attribute, cst.Call)):
            return
        if isinstance(it, cst.Call) and N.call_name(it) in CALL_NAMES:
            return  # visit_Call judges terminal calls
        v = infer(it, self.ctx)
        if v is None or v.kind != "query":
            return
        if isinstance(it, cst.Name):
            # a query built before the loop and iterated in it: still one query per iteration
            pass
        loop = per_item_loop(self.ctx)
        if loop is None:
            return
        self.report(
            it,
            f"iterating `{N.short(it)}` runs a query on every iteration of {self.ctx.loop_label(loop)}",
            fix="run one query for all items before the loop and group the rows in Python",
        )


class SqlalchemySessionWriteInLoop(Detector):
    """
    ## What it does
    Flags `session.commit()`, `session.flush()`, `session.refresh(obj)` and `session.merge(obj)`
    run once per item of a loop, and single-row `INSERT` / `UPDATE` / `DELETE` statements
    (`session.execute(update(...))`, `query.update(...)`, `query.delete()`) run per item.

    ## Why is this bad?
    Each commit or flush is a round trip (and a transaction) per item; `refresh` re-reads the
    row with a SELECT; `merge` may SELECT the row first. A loop of 10,000 items makes 10,000
    round trips where one would do.

    ## Example
    ```python
    for row in rows:
        session.add(Order(**row))
        session.commit()
    ```

    ## Use instead
    ```python
    session.add_all(Order(**row) for row in rows)
    session.commit()
    ```
    For updates, `session.execute(update(Order), [{"id": 1, "status": "x"}, ...])` runs one
    executemany.

    ## Known problems
    Commits under a periodic condition (`if i % 500 == 0:`) are batches and are not reported.
    Per-item commits kept on purpose (at-least-once processing of a queue) need a suppression.
    """

    VALID = [
        dedent(
            """
            from sqlalchemy.orm import Session
            def save(session: Session, orders):
                for i, order in enumerate(orders):
                    session.add(order)
                    if i % 500 == 0:
                        session.commit()
                session.commit()
            """
        )
    ]
    INVALID = [
        dedent(
            """
            from sqlalchemy.orm import Session
            def save(session: Session, orders):
                for order in orders:
                    session.add(order)
                    session.commit()  # want: QL121
            """
        )
    ]

    def visit_Call(self, node: cst.Call) -> None:
        if self.ctx.loop is None or N.call_name(node) not in CALL_NAMES:
            return
        got = classify_call(node, self.ctx)
        if got is None or got[0] != "write":
            return
        loop = per_item_loop(self.ctx)
        if loop is None or _periodic(node, loop, self.ctx) or _isolates_errors(node, loop, self.ctx):
            return
        if not repeats_per_iteration(node, loop, self.ctx):
            return  # ``if unit_id is None: ... flush(); ids[name] = unit.id``: once per new key
        name = N.call_name(node)
        if name in ("update", "delete") and _filters_with_in(node):
            return  # ``query.filter(Package.id.in_(ids)).update(...)`` per group: already one statement per group of rows
        where = self.ctx.loop_label(loop)
        target = f"`{N.short(node.func)}(...)`" if node.args else f"`{N.short(node)}`"
        if name == "commit":
            msg, fix = f"{target} commits on every iteration of {where}", "add the objects in the loop and commit once after it"
        elif name == "flush":
            msg, fix = f"{target} flushes to the database on every iteration of {where}", "flush once after the loop (or let commit flush)"
        elif name == "refresh":
            msg, fix = f"{target} re-reads the row with a SELECT on every iteration of {where}", "drop the refresh or reload all rows once after the loop"
        elif name == "merge":
            msg, fix = f"{target} may SELECT the row on every iteration of {where}", "load the existing rows once (`.in_(...)`) or use `session.add`"
        else:
            msg = f"{target} runs a single-row write on every iteration of {where}"
            fix = "pass all rows at once (`session.execute(update(Model), [{...}, ...])` / `insert(Model)` with a list runs one executemany)"
        self.report(node, msg, fix=fix)


def _filters_with_in(call: cst.Call) -> bool:
    """The query the write ends filters on a list (``.filter(Model.id.in_(ids))``)."""
    cur = N.receiver(call)
    while isinstance(cur, cst.Call) and isinstance(cur.func, cst.Attribute):
        if cur.func.attr.value in ("filter", "where") and any(
                isinstance(n, cst.Call) and N.call_name(n) == "in_" for a in cur.args for n in N.walk(a.value)):
            return True
        cur = cur.func.value
    return False


def _isolates_errors(node: cst.Call, loop, ctx: Context) -> bool:
    """A commit/flush per item inside ``try`` whose ``except`` rolls back: each item in its own
    transaction on purpose, so one bad row does not undo the others (not batchable as is)."""
    if N.call_name(node) not in ("commit", "flush"):
        return False
    child: cst.CSTNode = node
    for anc in ctx.ancestors(node):
        if anc is loop.node:
            return False
        if isinstance(anc, cst.Try) and child is anc.body:
            for handler in anc.handlers:
                if any(isinstance(n, cst.Call) and N.call_name(n) == "rollback" for n in N.walk(handler.body)):
                    return True
        child = anc
    return False


def _periodic(node, loop, ctx: Context) -> bool:
    """Inside an ``if`` that makes the call periodic (``if i % 100 == 0`` / ``if len(batch) >= size``)."""
    for anc in ctx.ancestors(node):
        if anc is loop.node:
            return False
        if isinstance(anc, cst.If):
            text = N.short(anc.test, 200)
            if "%" in text or "len(" in text or re.search(r"batch|chunk|size|every|flush|commit", text, re.I):
                return True
    return False


class SqlalchemyLazyLoadInLoop(Detector):
    """
    ## What it does
    Flags a per-item read of a lazily loaded `relationship()` (the default `lazy="select"`) on
    rows of a query: `order.customer` / `user.addresses` inside the loop over the query's rows,
    when the query has no covering loader option (`joinedload`, `selectinload`, `subqueryload`,
    `immediateload`, `contains_eager`) and the relationship is not declared eager
    (`lazy="joined"` / `"selectin"` / `"subquery"` / `"immediate"`). The read may also happen
    one call away, reported at the call in the loop: a helper of the same module given the row
    (`serialize(order)`), `PostOut.model_validate(post)` of a pydantic model with nested
    fields, or a marshmallow `schema.dump(post)` with `Nested` fields.

    ## Why is this bad?
    Each first access to the attribute runs its own SELECT: one query for the rows, then one
    more per row (the N+1).

    ## Example
    ```python
    for order in session.scalars(select(Order)):
        print(order.customer.name)
    ```

    ## Use instead
    ```python
    for order in session.scalars(select(Order).options(joinedload(Order.customer))):
        print(order.customer.name)
    ```
    `selectinload` suits collections (`user.addresses`), `joinedload` many-to-one.

    ## Known problems
    Rows are followed from the query to the loop through plain data flow in one function; rows
    passed in as parameters are not judged. A many-to-one lazy load is skipped by SQLAlchemy when
    the related object is already in the session's identity map, so the real count can be lower.
    """

    VALID = [
        {
            "app/models.py": ORDER_CUSTOMER_MODELS,
            "app/report.py": dedent(
                """
                from sqlalchemy import select
                from sqlalchemy.orm import Session, joinedload
                from app.models import Order
                def report(session: Session):
                    stmt = select(Order).options(joinedload(Order.customer))
                    return [o.customer.id for o in session.scalars(stmt)]
                """
            ),
        }
    ]
    INVALID = [
        {
            "app/models.py": ORDER_CUSTOMER_MODELS,
            "app/report.py": dedent(
                """
                from sqlalchemy import select
                from sqlalchemy.orm import Session
                from app.models import Order
                def report(session: Session):
                    return [o.customer.id for o in session.scalars(select(Order))]  # want: QL122
                """
            ),
        }
    ]

    def __init__(self, *args) -> None:
        super().__init__(*args)
        self._seen: Set[Tuple[int, str, str]] = set()

    def visit_Attribute(self, node: cst.Attribute) -> None:
        got = lazy_access(node, self.ctx)
        if got is None or got[0] != "lazy":
            return
        _how, elem, rel, loop = got
        # one finding per loop, object and relation: the first read loads it, later reads of the
        # same relation in the iteration use the loaded value
        key = (id(loop.node), N.code(node.value), node.attr.value)
        if key in self._seen:
            return
        self._seen.add(key)
        note = ""
        if elem.is_async and not (isinstance(node.value, cst.Attribute) and node.value.attr.value == "awaitable_attrs"):
            note = " (with an AsyncSession this implicit load raises `MissingGreenlet`)"
        self.report(
            node,
            f"`{N.short(node)}` lazily loads the {rel.kind_word} `{rel.label}` on every iteration of {self.ctx.loop_label(loop)}{note}",
            fix=f"add `.options({loader_hint(elem, rel, self.ctx)})` to {origin_text(elem, self.ctx)}",
            edits=options_edit(elem, rel, self.ctx),
        )

    def visit_Call(self, node: cst.Call) -> None:
        if self.ctx.loop is None or not node.args:
            return
        if isinstance(node.func, cst.Attribute) and self._serialiser_per_item(node):
            return
        # a project helper that reads relationships of the row it is given: ``serialize(order)``,
        # ``collection.update_user(parl)``
        got = helper_lazy_reads(node, self.ctx)
        if got is None:
            return
        helper, arg_text, elem, rel, loop, chain = got
        self.report(
            node,
            f"`{helper}()` reads `{arg_text}.{chain}` (the lazily loaded {rel.kind_word} `{rel.label}`) on every iteration of "
            f"{self.ctx.loop_label(loop)}",
            fix=f"add `.options({loader_hint(elem, rel, self.ctx)})` to {origin_text(elem, self.ctx)}",
            edits=options_edit(elem, rel, self.ctx),
        )


    def _serialiser_per_item(self, node: cst.Call) -> bool:
        """``PostOut.model_validate(post)`` / ``PostSchema().dump(post)`` once per row, reading lazy
        relationships. True when ``node`` is such a serialiser call (reported or not)."""
        if not isinstance(node.func, cst.Attribute):  # visit_Call calls it for ``<expr>.<name>(...)`` only
            return False
        name = node.func.attr.value
        if name not in ("model_validate", "from_orm", "validate", "dump"):
            return False
        m = mappings(self.ctx.index)
        if not m.classes:
            return True
        arg = N.arg(node, 0)
        if not isinstance(arg, (cst.Name, cst.Attribute)):
            return True
        base = infer(arg, self.ctx)
        if base is None or base.kind != "instance" or base.elem is None or base.elem.kind != "entity" or base.elem.root_self:
            return True
        loop = per_item(base.elem, self.ctx)
        if loop is None:
            return True
        if name == "dump":
            got = schema_of(node.func.value, self.ctx)
            if got is None:
                return True
            fields = marshmallow_schemas(self.ctx.index)[got[0]]
            label = got[0].rsplit(".", 1)[-1]
        else:
            owner = node.func.value
            cls = self.ctx.index.resolve_class(self.ctx.qualify(owner) or N.dotted(owner) or "", self.ctx.module)
            if cls is None or cls.qualname not in pydantic_models(self.ctx.index):
                return True
            fields = tuple((f, f) for f, _nested in nested_fields(cls.qualname, self.ctx))
            label = cls.name
        elem = base.elem
        for field_name, attr in fields:
            rel = m.relationship(elem.entity, attr)
            if rel is None or rel.lazy in ("dynamic", "write_only"):
                continue
            if strategy(elem, rel) != "lazy" or reverse_of_parent(elem, rel, m):
                continue
            self.report(
                node,
                f"`{N.short(node)}` reads `{field_name}` of `{label}`, the lazily loaded {rel.kind_word} `{rel.label}`, on every iteration of "
                f"{self.ctx.loop_label(loop)}",
                fix=f"add `.options({loader_hint(elem, rel, self.ctx)})` to {origin_text(elem, self.ctx)}",
            )
            return True
        return True


def _helper_chains(call: cst.Call, ctx: Context):
    """(helper name, its parameters as the call's positions bind them, chains read off a
    parameter) of the project function ``call`` reaches: a same-module function from its tree,
    any other (a method, another module's function) from its index facts."""
    if isinstance(call.func, cst.Name):
        fn = module_functions(ctx).get(call.func.value)
        b = ctx.binding(call.func.value, at=call)
        if fn is not None and b is not None and b.kind == "def":
            return call.func.value, [p.name.value for p in fn.params.params], lambda param: param_chains(fn, param, ctx)
    got = callee_params(call, ctx)
    if got is None or not (got[0].param_reads or got[0].flagged_reads):
        return None
    facts, params = got
    return facts.name, params, lambda param: read_chains(facts, param, call, params)


def helper_lazy_reads(call: cst.Call, ctx: Context):
    """(helper, arg text, elem, relationship, loop, chain) when a project helper lazily loads from a per-item row."""
    m = mappings(ctx.index)
    if not m.classes:
        return None
    got = _helper_chains(call, ctx)
    if got is None:
        return None
    helper, params, chains_of = got
    for i, a in enumerate(call.args):
        if a.keyword is not None or a.star or i >= len(params):
            break
        if not isinstance(a.value, (cst.Name, cst.Attribute)):
            continue
        base = infer(a.value, ctx)
        if base is None or base.kind != "instance" or base.elem is None or base.elem.kind != "entity" or base.elem.root_self:
            continue
        loop = per_item(base.elem, ctx)
        if loop is None:
            continue
        for chain in chains_of(params[i]):
            elem = base.elem
            for k, attr in enumerate(chain):
                rel = m.relationship(elem.entity, attr)
                if rel is None or rel.lazy in ("dynamic", "write_only"):
                    break
                how = strategy(elem, rel)
                if how == "lazy" and not reverse_of_parent(elem, rel, m) and not (
                    rel.collection is False and elem.fixed and m.holds_key_of(elem.entity, elem.fixed, rel)
                ):
                    return helper, N.short(a.value), elem, rel, loop, ".".join(chain[: k + 1])
                if how not in ("eager", "none") or rel.collection or rel.target is None:
                    break
                nxt = relationship_value(elem, attr, ctx)
                if nxt is None or nxt.elem is None:
                    break
                elem = nxt.elem
    return None


def lazy_access(node: cst.Attribute, ctx: Context):
    """("lazy" | "raise", elem, relationship, loop) for a per-item relationship read that loads or raises."""
    if ctx.loop is None:
        return None
    m = mappings(ctx.index)
    if not m.classes or node.attr.value not in _relationship_names(m, ctx):
        return None
    return ctx.memo(("sa-lazy-access", id(node)), lambda: _lazy_access(node, ctx, m))


def _lazy_access(node, ctx: Context, m):
    base = infer(node.value, ctx)
    if base is None or base.kind != "instance" or base.elem is None or base.elem.kind != "entity":
        return None
    elem = base.elem
    rel = m.relationship(elem.entity, node.attr.value)
    if rel is None or rel.lazy in ("dynamic", "write_only") or elem.root_self:
        return None
    how = strategy(elem, rel)
    if how not in ("lazy", "raise"):
        return None
    if reverse_of_parent(elem, rel, m):
        return None
    if rel.collection is False and elem.fixed and m.holds_key_of(elem.entity, elem.fixed, rel):
        return None  # every row shares one parent: one load, then the identity map
    loop = per_item(elem, ctx)
    if loop is None or is_store_target(node, ctx) or _is_mutation(node, ctx):
        return None
    return how, elem, rel, loop


def reverse_of_parent(elem: Elem, rel: Relationship, m) -> bool:
    """``o.customer`` for ``o`` in ``customer.orders``: the parent is in the identity map, no SQL."""
    if rel.collection is not False or not elem.path:
        return False
    owner = elem.root
    parent_rel: Any = None  # set by the loop (elem.path is not empty)
    for name in elem.path:
        parent_rel = m.relationship(owner, name)
        if parent_rel is None:
            return False
        parent_owner, owner = owner, parent_rel.target
    return bool(parent_rel.collection) and rel.target == parent_owner and (
        parent_rel.back_populates == rel.name or rel.back_populates == parent_rel.name
    )


def _is_mutation(node: cst.Attribute, ctx: Context) -> bool:
    parent = ctx.parent_of(node) or ctx.parent
    if isinstance(parent, cst.Attribute) and parent.value is node and parent.attr.value in MUTATORS:
        return True
    return False


def _relationship_names(m, ctx: Context):
    def compute():
        out = set()
        for mc in m.classes.values():
            out.update(mc.relationships)
        return out

    return ctx.index.derived("sqlalchemy.relationship-names", lambda _i: compute())



class OrmMethodQueryInLoop(MemberQueryDetector):
    """
    ## What it does
    Flags a per-item call of a model method or property of a SQLAlchemy mapped class that runs a
    query: directly, through the functions it calls, or by reading a lazily
    loaded relationship of `self` that the loop's query does not eager-load.

    ## Why is this bad?
    The query hides in the model: `order.total_paid()` looks like arithmetic, but runs a SELECT
    for every order in the loop.

    ## Example
    ```python
    class Order(Base):
        def total(self):
            return sum(line.price for line in self.lines)

    for order in session.scalars(select(Order)):
        print(order.total())
    ```

    ## Use instead
    ```python
    for order in session.scalars(select(Order).options(selectinload(Order.lines))):
        print(order.total())
    ```

    ## Known problems
    Methods are found through the project index; calls on objects whose class is not known from
    the loop's query are not judged.
    """

    VALID = [
        {
            "app/models.py": dedent(
                """
                from sqlalchemy import Column, ForeignKey, Integer
                from sqlalchemy.orm import declarative_base, relationship
                Base = declarative_base()
                class Order(Base):
                    __tablename__ = "orders"
                    id = Column(Integer, primary_key=True)
                    lines = relationship("Line")
                    def total(self):
                        return sum(line.price for line in self.lines)
                class Line(Base):
                    __tablename__ = "lines"
                    id = Column(Integer, primary_key=True)
                    price = Column(Integer)
                    order_id = Column(Integer, ForeignKey("orders.id"))
                """
            ),
            "app/report.py": dedent(
                """
                from sqlalchemy import select
                from sqlalchemy.orm import selectinload
                from app.models import Order
                def totals(session):
                    return [o.total() for o in session.scalars(select(Order).options(selectinload(Order.lines)))]
                """
            ),
        }
    ]
    INVALID = [
        {
            "app/models.py": VALID[0]["app/models.py"],
            "app/report.py": dedent(
                """
                from sqlalchemy import select
                from app.models import Order
                def totals(session):
                    return [o.total() for o in session.scalars(select(Order))]  # want: QL125
                """
            ),
        }
    ]

    def active_here(self) -> bool:
        return bool(mappings(self.ctx.index).classes)

    def owner_and_loop(self, attr: cst.Attribute):
        m = mappings(self.ctx.index)
        base = infer(attr.value, self.ctx)
        if base is None or base.kind != "instance" or base.elem is None or base.elem.kind != "entity" or base.elem.root_self:
            return None
        elem = base.elem
        if m.relationship(elem.entity, attr.attr.value) is not None:
            return None
        return elem.entity, per_item(elem, self.ctx), elem

    def covered(self, qualname: str, path, elem) -> bool:
        return _only_covered_lazy_loads(qualname, elem, self.ctx.index, mappings(self.ctx.index))

    def fix_for(self, path, elem) -> str:
        hit = LAZY_LOAD_RE.search(path[-1])
        if hit is not None:
            return f"eager-load `{hit.group(1)}.{hit.group(2)}` on {origin_text(elem, self.ctx)}"
        return super().fix_for(path, elem)


def _only_covered_lazy_loads(qualname: str, elem: Elem, index, m) -> bool:
    """Every query of the method, and of the methods of its class it calls on ``self``
    (``serialize()`` -> ``self.get_users()``), is a lazy load of a ``self`` relationship the
    loop's query eager-loads."""
    descs = member_queries(index, qualname, limit=8)
    if not descs:
        return False
    for d in descs:
        hit = LAZY_LOAD_RE.search(d)
        if hit is None:
            return False
        rel = m.relationship(elem.entity, hit.group(2))
        if rel is None or rel.lazy in ("dynamic", "write_only"):
            return False  # a query builder: no loader option covers it
        if strategy(elem, rel) in ("eager", "none", "unknown") or reverse_of_parent(elem, rel, m):
            continue
        if rel.collection is False and elem.fixed and m.holds_key_of(elem.entity, elem.fixed, rel):
            continue
        return False
    return True




# ------------------------------------------------------------------------ index query detector


def detect_sqlalchemy_query(node, ctx: Context) -> Optional[str]:
    """Query sites for the project index: SQLAlchemy statements, and lazy loads of ``self`` relationships.

    A query whose rows the function returns is described with them (``... (returns rows of
    app.models.User [orders=selectin])``) so callers know what they iterate.
    """
    if isinstance(node, cst.Call):
        if isinstance(ctx.parent, cst.Return) and uses_sqlalchemy(ctx):
            described = describe_returned_rows(node, ctx)
            if described is not None:
                return described
        if N.call_name(node) not in CALL_NAMES or N.call_name(node) == "flush":
            return None  # a flush only sends what the caller added: the write is judged where it is made
        got = classify_call(node, ctx)
        if got is not None:
            return N.short(node.func) + f"({literal_verb(node)}...)"
        return None
    if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and node.value.value == "self":
        cls = ctx.class_frame
        if cls is None:
            return None
        m = mappings(ctx.index)
        mc = m.get(cls.qualname)
        if mc is None:
            return None
        rel = m.relationship(cls.qualname, node.attr.value)
        if rel is None or rel.lazy not in ("select", "dynamic"):
            return None
        if is_store_target(node, ctx):
            return None
        return f"self.{node.attr.value} (lazy load of {rel.label})"
    return None



