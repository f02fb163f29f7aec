"""What only SQLAlchemy has: `raiseload` and dynamic relationships, lazy loads behind response
models and schema dumps (QL123, QL124, QL126, QL127). The patterns every ORM shares are in
``rules/n_plus_one.py``."""
from __future__ import annotations

from typing import cast

import libcst as cst

from querylint.frameworks.sqlalchemy.n_plus_one import (
    ORDER_CUSTOMER_MODELS, QUERY_TERMINALS, classify_call, last_part, lazy_access, loader_hint, origin_text,
    reverse_of_parent, strategy,
)
from querylint.frameworks.sqlalchemy.schemas import (
    inside_function, marshmallow_schemas, nested_fields, route_response_model, schema_of,
)
from querylint.loops import per_item_loop
from querylint.rule import Rule, dedent, nodes as N
from querylint.frameworks.sqlalchemy.infer import SAValue, infer, relationship_value
from querylint.frameworks.sqlalchemy.models import mappings


class SqlalchemyRaiseloadAccess(Rule):
    """
    ## What it does
    Flags a per-item read of a relationship that the query marks `raiseload(...)` (or that is
    declared `lazy="raise"` / `"raise_on_sql"`) and that no other loader option covers.

    ## Why is this bad?
    The access raises `sqlalchemy.exc.InvalidRequestError` at run time: `raiseload` exists to
    catch N+1s, and this loop would be one.

    ## Example
    ```python
    stmt = select(Order).options(raiseload("*"))
    for order in session.scalars(stmt):
        print(order.customer.name)
    ```

    ## Use instead
    ```python
    stmt = select(Order).options(joinedload(Order.customer), raiseload("*"))
    ```
    """

    code = "QL123"
    per_request_escalation = True
    loop_scaled = True
    name = "sqlalchemy-raiseload-access"
    cheap_fix = True
    VALID = [
        dedent(
            """
            from sqlalchemy.orm import raiseload
            def f(session, stmt):
                return list(session.scalars(stmt.options(raiseload("*"))))
            """
        )
    ]
    INVALID = [
        {
            "app/models.py": ORDER_CUSTOMER_MODELS,
            "app/report.py": dedent(
                """
                from sqlalchemy import select
                from sqlalchemy.orm import Session, raiseload
                from app.models import Order
                def report(session: Session):
                    stmt = select(Order).options(raiseload("*"))
                    return [o.customer.id for o in session.scalars(stmt)]  # want: QL123
                """
            ),
        }
    ]

    def visit_Attribute(self, node: cst.Attribute) -> None:
        got = lazy_access(node, self.ctx)
        if got is None or got[0] != "raise":
            return
        _how, elem, rel, loop = got
        self.report(
            node,
            f"`{N.short(node)}` reads `{rel.label}`, which is set to raise on lazy load (`raiseload` / `lazy=\"raise\"`): "
            f"this access raises on every iteration of {self.ctx.loop_label(loop)}",
            fix=f"eager-load it on {origin_text(elem, self.ctx)} (`.options({loader_hint(elem, rel, self.ctx)})`) or stop reading it",
        )


class SqlalchemyDynamicRelationshipInLoop(Rule):
    """
    ## What it does
    Flags a `lazy="dynamic"` (`DynamicMapped`) relationship queried once per item: iterated,
    or ended by `.all()` / `.first()` / `.count()` ... inside a loop or comprehension.

    ## Why is this bad?
    A dynamic relationship is a query builder: it cannot be eager-loaded, and every use runs a
    new SELECT. Used per item, it is an N+1 that loader options cannot fix.

    ## Example
    ```python
    for user in users:
        counts[user.id] = user.posts.count()
    ```

    ## Use instead
    ```python
    counts = dict(
        session.execute(select(Post.user_id, func.count()).group_by(Post.user_id)).all()
    )
    ```
    """

    code = "QL124"
    per_request_escalation = True
    loop_scaled = True
    name = "sqlalchemy-dynamic-relationship-in-loop"
    cheap_fix = True
    VALID = [
        dedent(
            """
            def count_posts(user):
                return user.posts.count()
            """
        )
    ]
    INVALID = [
        {
            "app/models.py": dedent(
                """
                from sqlalchemy import Column, ForeignKey, Integer
                from sqlalchemy.orm import declarative_base, relationship
                Base = declarative_base()
                class User(Base):
                    __tablename__ = "users"
                    id = Column(Integer, primary_key=True)
                    posts = relationship("Post", lazy="dynamic")
                class Post(Base):
                    __tablename__ = "posts"
                    id = Column(Integer, primary_key=True)
                    user_id = Column(Integer, ForeignKey("users.id"))
                """
            ),
            "app/stats.py": dedent(
                """
                from app.models import User
                def counts(session):
                    return {u.id: u.posts.count() for u in session.query(User).all()}  # want: QL124
                """
            ),
        }
    ]

    def visit_Call(self, node: cst.Call) -> None:
        if self.ctx.loop is None or N.call_name(node) not in QUERY_TERMINALS:
            return
        got = classify_call(node, self.ctx)
        if got is None or got[0] != "dynamic":
            return
        self._report(node, got[1])

    def visit_For(self, node: cst.For) -> None:
        self._check_iterable(node.iter)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if self.ctx.loop is not None and isinstance(self.ctx.parent, cst.CompFor) and self.ctx.parent.iter is node:
            self._check_iterable(node)

    def leave_Call(self, node: cst.Call) -> None:
        if self.ctx.loop is not None and isinstance(self.ctx.parent, cst.CompFor) and self.ctx.parent.iter is node:
            self._check_iterable(node)

    def _check_iterable(self, it) -> None:
        if self.ctx.loop is None or not isinstance(it, (cst.Attribute, cst.Call)):
            return
        if isinstance(it, cst.Call) and N.call_name(it) in QUERY_TERMINALS:
            return
        v = infer(it, self.ctx)
        if v is not None and v.kind == "dynamic":
            self._report(it, v)

    def _report(self, node, v: SAValue) -> None:
        loop = per_item_loop(self.ctx)
        if loop is None:
            return
        rel = v.relationship
        label = rel.label if rel is not None else N.short(node)
        child = last_part(rel.target) if rel is not None and rel.target else "the related class"
        self.report(
            node,
            f"`{N.short(node)}` queries the dynamic relationship `{label}` on every iteration of {self.ctx.loop_label(loop)}",
            fix=f"load the `{child}` rows for all items in one query (`.in_(...)` or GROUP BY) before the loop",
        )



class SqlalchemyLazyLoadInResponseModel(Rule):
    """
    ## What it does
    Flags a FastAPI route that returns rows of a SQLAlchemy / SQLModel query through a response
    model whose nested fields (`author: AuthorOut`, `comments: list[CommentOut]`) are lazily
    loaded relationships the query does not eager-load. The finding sits on the query, where the
    fix belongs.

    ## Why is this bad?
    FastAPI reads every nested field of every row while serialising the response: one lazy
    SELECT per row and relationship, hidden inside the framework.

    ## Example
    ```python
    @router.get("/posts", response_model=list[PostOut])  # PostOut.author: AuthorOut
    def posts(session: Session = Depends(get_session)):
        return session.scalars(select(Post)).all()
    ```

    ## Use instead
    ```python
        return session.scalars(select(Post).options(joinedload(Post.author))).all()
    ```

    ## Known problems
    Only routes that return the query's rows directly (or through a variable) are judged, and
    only nested fields whose names match a relationship of the row's class. A route that returns
    one object (`session.get(...)`, `.first()`) loads each of its relationships once per request:
    it is reported only when a collection lies between the object and the lazy relationship.
    """

    code = "QL126"
    per_request_escalation = True
    loop_scaled = True
    name = "sqlalchemy-lazy-load-in-response-model"
    VALID = [
        dedent(
            """
            from fastapi import APIRouter
            router = APIRouter()

            @router.get("/ping")
            def ping():
                return {"ok": True}
            """
        )
    ]
    INVALID = [
        {
            "app/models.py": ORDER_CUSTOMER_MODELS,
            "app/schemas.py": dedent(
                """
                from pydantic import BaseModel
                class CustomerOut(BaseModel):
                    id: int
                class OrderOut(BaseModel):
                    id: int
                    customer: CustomerOut
                """
            ),
            "app/api.py": dedent(
                """
                from fastapi import APIRouter
                from sqlalchemy import select
                from sqlalchemy.orm import Session
                from app.models import Order
                from app.schemas import OrderOut
                router = APIRouter()

                @router.get("/orders", response_model=list[OrderOut])
                def orders(session: Session):
                    return session.scalars(select(Order)).all()  # want: QL126
                """
            ),
        }
    ]

    def visit_Return(self, node: cst.Return) -> None:
        fn = self.ctx.function
        if node.value is None or fn is None or not isinstance(fn.node, cst.FunctionDef) or not fn.node.decorators:
            return
        if self.ctx.frame is not fn:
            return  # a lambda or nested frame
        m = mappings(self.ctx.index)
        if not m.classes:
            return
        model = self.ctx.memo(("response-model", id(fn.node)), lambda: route_response_model(cast(cst.FunctionDef, fn.node), self.ctx))
        if model is None:
            return
        v = infer(node.value, self.ctx)
        if v is None or v.kind not in ("rows", "result", "instance", "query") or v.elem is None or v.elem.kind != "entity":
            return
        elem = v.elem
        if elem.loop is not None or elem.path or elem.root_self:
            return
        found = self._lazy_nested(elem, model, m, 0)
        if found is None:
            return
        rel, hint_elem, field_path, through_many = found
        if v.kind == "instance" and not through_many:
            return  # one object: one lazy load per request, not one per row
        target = elem.origin if elem.origin is not None and not elem.origin_label and inside_function(elem.origin, fn.node, self.ctx) else node
        self.report(
            target,
            f"the response model `{model.rsplit('.', 1)[-1]}` reads `{field_path}`, the lazily loaded {rel.kind_word} "
            f"`{rel.label}`, for every row while the response is serialised",
            fix=f"add `.options({loader_hint(hint_elem, rel, self.ctx)})` to {origin_text(elem, self.ctx)}",
        )

    def _lazy_nested(self, elem, model, m, depth, through_many=False):
        """(relationship, its row, field path, whether a collection lies above it) for the first
        lazily loaded relationship the response model reads."""
        if depth > 3:
            return None
        for field_name, nested in nested_fields(model, self.ctx):
            rel = m.relationship(elem.entity, field_name)
            if rel is None or rel.lazy in ("dynamic", "write_only"):
                continue
            how = strategy(elem, rel)
            if how == "lazy" and not reverse_of_parent(elem, rel, m):
                return rel, elem, field_name, through_many
            if how in ("eager", "none") and rel.target:
                child = relationship_value(elem, field_name, self.ctx)
                if child is not None and child.elem is not None:
                    got = self._lazy_nested(child.elem, nested, m, depth + 1, through_many or rel.collection is True)
                    if got is not None:
                        return got[0], got[1], f"{field_name}.{got[2]}", got[3]
        return None



class SqlalchemyLazyLoadInSchemaDump(Rule):
    """
    ## What it does
    Flags a marshmallow schema `dump(...)` of the rows of a SQLAlchemy query, when the schema's
    `fields.Nested(...)` / `fields.Pluck(...)` fields read lazily loaded relationships the query
    does not eager-load. The finding sits on the query, where the fix belongs.

    ## Why is this bad?
    The schema reads each nested relationship of each row while dumping: one lazy SELECT per
    row and relationship, hidden inside the serialiser.

    ## Example
    ```python
    class PostSchema(ma.SQLAlchemyAutoSchema):
        author = ma.Nested(AuthorSchema)

    posts = Post.query.all()
    return jsonify(PostSchema(many=True).dump(posts))
    ```

    ## Use instead
    ```python
    posts = Post.query.options(joinedload(Post.author)).all()
    ```

    ## Known problems
    Only `Nested` / `Pluck` fields whose name (or `attribute=`) is a relationship of the row's
    class are judged; `fields.Method` / `fields.Function` are not followed.
    """

    code = "QL127"
    per_request_escalation = True
    loop_scaled = True
    name = "sqlalchemy-lazy-load-in-schema-dump"
    VALID = [
        dedent(
            """
            def dump(schema, rows):
                return schema.dump(rows)
            """
        )
    ]
    INVALID = [
        {
            "app/models.py": ORDER_CUSTOMER_MODELS,
            "app/schemas.py": dedent(
                """
                from marshmallow import Schema, fields
                class CustomerSchema(Schema):
                    id = fields.Int()
                class OrderSchema(Schema):
                    id = fields.Int()
                    customer = fields.Nested(CustomerSchema)
                """
            ),
            "app/views.py": dedent(
                """
                from sqlalchemy import select
                from app.models import Order
                from app.schemas import OrderSchema
                def orders(session):
                    rows = session.scalars(select(Order)).all()  # want: QL127
                    return OrderSchema(many=True).dump(rows)
                """
            ),
        }
    ]

    def visit_Call(self, node: cst.Call) -> None:
        if N.call_name(node) != "dump" or not node.args or not isinstance(node.func, cst.Attribute):
            return
        m = mappings(self.ctx.index)
        if not m.classes or not marshmallow_schemas(self.ctx.index):
            return
        got = schema_of(node.func.value, self.ctx)
        if got is None:
            return
        schema, many = got
        dump_many = N.arg(node, keyword="many")
        many = many or (isinstance(dump_many, cst.Name) and dump_many.value == "True")
        v = infer(node.args[0].value, self.ctx)
        if v is None or v.elem is None or v.elem.kind != "entity":
            return
        if v.kind not in ("rows", "result", "query") or not many:
            return
        elem = v.elem
        if elem.loop is not None or elem.root_self:
            return
        for field_name, attr in marshmallow_schemas(self.ctx.index)[schema]:
            rel = m.relationship(elem.entity, attr)
            if rel is None or rel.lazy in ("dynamic", "write_only"):
                continue
            if strategy(elem, rel) != "lazy" or reverse_of_parent(elem, rel, m):
                continue
            fn = self.ctx.function
            target: cst.CSTNode = node
            if elem.origin is not None and not elem.origin_label and fn is not None and inside_function(elem.origin, fn.node, self.ctx):
                target = elem.origin
            self.report(
                target,
                f"`{schema.rsplit('.', 1)[-1]}(many=True).dump(...)` reads `{field_name}`, the lazily loaded {rel.kind_word} "
                f"`{rel.label}`, for every row",
                fix=f"add `.options({loader_hint(elem, rel, self.ctx)})` to {origin_text(elem, self.ctx)}",
            )
            return



RULES = (
    SqlalchemyRaiseloadAccess,
    SqlalchemyDynamicRelationshipInLoop,
    SqlalchemyLazyLoadInResponseModel,
    SqlalchemyLazyLoadInSchemaDump,
)
