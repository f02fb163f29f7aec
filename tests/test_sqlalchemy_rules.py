"""SQLAlchemy family (QL120-QL125, QL410-QL411): mappings, loader options and row inference.

One case per fact: a models module shared by the snippets, then small functions that must or
must not be flagged. Test IDs carry the codes (``pytest -k QL122``).
"""
import pytest

from querylint.engine import parse_file
from querylint.project.index import ProjectIndex
from querylint.frameworks.sqlalchemy.models import mappings
from querylint.testing import lint_files

MODELS = '''
from typing import Optional
from sqlalchemy import Column, ForeignKey, Integer, String, Table
from sqlalchemy.orm import DeclarativeBase, DynamicMapped, Mapped, WriteOnlyMapped, backref, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Country(Base):
    __tablename__ = "countries"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40))


class Customer(Base):
    __tablename__ = "customers"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    country_id: Mapped[int] = mapped_column(ForeignKey("countries.id"))
    country: Mapped["Country"] = relationship()
    orders: Mapped[list["Order"]] = relationship(back_populates="customer")
    events: DynamicMapped["Event"] = relationship()
    notes: WriteOnlyMapped["Note"] = relationship()
    tags = relationship("Tag", secondary="customer_tags", backref="customers")
    avatar = relationship("Avatar", uselist=False, backref=backref("owner", lazy="joined"))


class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    customer: Mapped["Customer"] = relationship(back_populates="orders")
    invoice: Mapped[Optional["Invoice"]] = relationship(lazy="joined")
    lines = relationship("Line", backref="order")


class Line(Base):
    __tablename__ = "lines"
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id = Column(Integer, ForeignKey("orders.id"))
    sku = Column(String(20))


class Invoice(Base):
    __tablename__ = "invoices"
    id: Mapped[int] = mapped_column(primary_key=True)


class Event(Base):
    __tablename__ = "events"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))


class Note(Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))


class Tag(Base):
    __tablename__ = "tags"
    id: Mapped[int] = mapped_column(primary_key=True)


class Avatar(Base):
    __tablename__ = "avatars"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
'''

HEADER = '''
from sqlalchemy import select, update, insert, func, text
from sqlalchemy.orm import Session, joinedload, selectinload, subqueryload, defaultload, lazyload, noload, raiseload, Load
from app.models import Country, Customer, Order, Line, Event, Note, Tag, Avatar
'''


def codes(body: str, select=("QL1", "QL4")):
    """{(line, code)} for ``body`` (line numbers counted inside ``body``)."""
    src = HEADER + body
    offset = HEADER.count("\n")
    result = lint_files({"app/__init__.py": "", "app/models.py": MODELS, "app/views.py": src}, select=list(select))
    assert result.errors == []
    return {(f.span.line - offset, f.variant) for f in result.findings if f.path.endswith("views.py")}


def _index(files):
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        idx = ProjectIndex()
        for rel, text in files.items():
            p = Path(tmp) / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(text)
            idx.add(parse_file(p, rel, rel).facts)
        return idx


# ------------------------------------------------------------------------------ mappings


def test_mapping_facts():
    m = mappings(_index({"app/__init__.py": "", "app/models.py": MODELS}))
    rel = m.relationship
    assert rel("app.models.Customer", "country").collection is False
    assert rel("app.models.Customer", "orders").collection is True
    assert rel("app.models.Customer", "events").lazy == "dynamic"
    assert rel("app.models.Customer", "notes").lazy == "write_only"
    assert rel("app.models.Customer", "tags").collection is True
    # backref="customers" on a secondary relationship: a collection on Tag
    assert rel("app.models.Tag", "customers").target == "app.models.Customer"
    assert rel("app.models.Tag", "customers").collection is True
    # backref("owner", lazy="joined") on a uselist=False relationship: scalar, eager
    assert rel("app.models.Avatar", "owner").lazy == "joined"
    assert rel("app.models.Avatar", "owner").collection is False
    # 1.x relationship("Line", backref="order"): direction from the ForeignKey column
    assert rel("app.models.Order", "lines").collection is True
    assert rel("app.models.Line", "order").collection is False
    assert rel("app.models.Order", "invoice").lazy == "joined"
    assert rel("app.models.Order", "customer_id") is None


def test_flask_sqlalchemy_model_in_another_module():
    m = mappings(
        _index(
            {
                "blog/__init__.py": "",
                "blog/ext.py": "from flask_sqlalchemy import SQLAlchemy\ndb = SQLAlchemy()\n",
                "blog/models.py": (
                    "from .ext import db\n"
                    "class User(db.Model):\n    id = db.Column(db.Integer, primary_key=True)\n"
                    "    posts = db.relationship('Post', backref='author', lazy='dynamic')\n"
                    "class Post(db.Model):\n    id = db.Column(db.Integer, primary_key=True)\n"
                    "    user_id = db.Column(db.Integer, db.ForeignKey('user.id'))\n"
                ),
            }
        )
    )
    assert m.relationship("blog.models.User", "posts").lazy == "dynamic"
    assert m.relationship("blog.models.Post", "author").collection is False


def test_plain_classes_are_not_mapped():
    m = mappings(_index({"a.py": "class Thing:\n    owner = relationship('X')\n"}))
    assert m.classes == {}


# ------------------------------------------------------------------------------ QL122 / QL123


@pytest.mark.parametrize(
    "body, want",
    [
        # default lazy many-to-one and collection on rows of select()
        ("def f(s: Session):\n    return [o.customer.name for o in s.scalars(select(Order))]\n", {(2, "QL122")}),
        ("def f(s: Session):\n    for c in s.scalars(select(Customer)):\n        print(len(c.orders))\n", {(3, "QL122")}),
        # covered by a loader option on a statement built earlier
        ("def f(s: Session):\n    st = select(Order).options(joinedload(Order.customer))\n    return [o.customer.name for o in s.scalars(st)]\n", set()),
        # 1.x string option
        ("def f(s):\n    return [o.customer.name for o in s.query(Order).options(joinedload('customer'))]\n", set()),
        # a chained option covers the nested path...
        (
            "def f(s: Session):\n    st = select(Customer).options(selectinload(Customer.orders).joinedload(Order.customer))\n"
            "    return [o.customer.name for c in s.scalars(st) for o in c.orders]\n",
            set(),
        ),
        # ...defaultload() only leads the way: the first hop is still lazy
        (
            "def f(s: Session):\n    st = select(Customer).options(defaultload(Customer.orders).joinedload(Order.invoice))\n"
            "    return [o.id for c in s.scalars(st) for o in c.orders]\n",
            {(3, "QL122")},
        ),
        # .options(...) with sub-options
        (
            "def f(s: Session):\n    st = select(Customer).options(selectinload(Customer.orders).options(selectinload(Order.lines)))\n"
            "    return [l.sku for c in s.scalars(st) for o in c.orders for l in o.lines]\n",
            set(),
        ),
        # options unpacked from a list variable
        ("OPTS = [joinedload(Order.customer)]\ndef f(s: Session):\n    return [o.customer.name for o in s.scalars(select(Order).options(*OPTS))]\n", set()),
        # options we cannot read (a helper's result): silent
        ("def f(s: Session, opts):\n    return [o.customer.name for o in s.scalars(select(Order).options(*opts))]\n", set()),
        # lazyload() forces a declared-eager relationship back to lazy
        ("def f(s: Session):\n    return [o.invoice for o in s.scalars(select(Order).options(lazyload(Order.invoice)))]\n", {(2, "QL122")}),
        ("def f(s: Session):\n    return [o.invoice for o in s.scalars(select(Order))]\n", set()),
        ("def f(s: Session):\n    return [o.customer for o in s.scalars(select(Order).options(noload(Order.customer)))]\n", set()),
        # raiseload: the access raises
        ("def f(s: Session):\n    return [o.customer for o in s.scalars(select(Order).options(raiseload(Order.customer)))]\n", {(2, "QL123")}),
        # Load(Order).joinedload(...)
        ("def f(s: Session):\n    return [o.customer for o in s.scalars(select(Order).options(Load(Order).joinedload(Order.customer)))]\n", set()),
        # column rows carry no relationships
        ("def f(s: Session):\n    return [r.name for r in s.execute(select(Customer.id, Customer.name))]\n", set()),
        # tuple rows: each entity keeps its own options
        ("def f(s: Session):\n    return [(o.customer, c.country) for o, c in s.execute(select(Order, Customer).join(Order.customer))]\n", {(2, "QL122")}),
        # enumerate / sorted / zip keep the rows
        ("def f(s: Session):\n    for i, o in enumerate(s.scalars(select(Order)).all()):\n        print(i, o.customer)\n", {(3, "QL122")}),
        ("def f(s: Session):\n    for o in sorted(s.scalars(select(Order)), key=lambda o: o.id):\n        print(o.customer)\n", {(3, "QL122")}),
        # a sort key runs once per row
        ("def f(s: Session):\n    return sorted(s.scalars(select(Order)).all(), key=lambda o: o.customer.name)\n", {(2, "QL122")}),
        ("def f(s: Session):\n    st = select(Order).options(joinedload(Order.customer))\n    return sorted(s.scalars(st), key=lambda o: o.customer.name)\n", set()),
        ("def f(s: Session):\n    return min(s.scalars(select(Order)), key=lambda o: o.customer_id)\n", set()),
        # Row attributes named after the entity
        ("def f(s: Session):\n    return [row.Order.customer for row in s.execute(select(Order)).all()]\n", {(2, "QL122")}),
        ("def f(s: Session):\n    return [row.Order.customer for row in s.execute(select(Order).options(joinedload(Order.customer)))]\n", set()),
        # rows passed in as a parameter: we cannot know how they were loaded
        ("def f(orders):\n    return [o.customer for o in orders]\n", set()),
        # one object loaded before the loop: its relationship loads once
        ("def f(s: Session, ids):\n    c = s.get(Customer, 1)\n    return [c.country.name for i in ids]\n", set()),
        # ...but its collection's items load per item
        ("def f(s: Session):\n    c = s.get(Customer, 1)\n    return [len(o.lines) for o in c.orders]\n", {(3, "QL122")}),
        # session.get(..., options=[...])
        ("def f(s: Session):\n    c = s.get(Customer, 1, options=[selectinload(Customer.orders).selectinload(Order.lines)])\n    return [len(o.lines) for o in c.orders]\n", set()),
        # the reverse of the parent collection is in the identity map
        ("def f(s: Session):\n    c = s.get(Customer, 1)\n    return [o.customer.name for o in c.orders]\n", set()),
        # every row has the same customer: one load, then the identity map
        ("def f(s: Session, cid):\n    return [o.customer.name for o in s.scalars(select(Order).where(Order.customer_id == cid))]\n", set()),
        ("def f(s, cid):\n    return [o.customer.name for o in s.query(Order).filter_by(customer_id=cid)]\n", set()),
        ("def f(s: Session, cid):\n    return [o.customer.name for o in s.scalars(select(Order).where(Order.id == cid))]\n", {(2, "QL122")}),
        # a loop over classes is a loop over constants
        ("def f(s):\n    return {m: s.query(m).count() for m in (Customer, Order)}\n", set()),
        # a helper of this module reads the relationship of the row it gets
        ("def ser(o):\n    return {'c': o.customer.name}\ndef f(s: Session):\n    return [ser(o) for o in s.scalars(select(Order))]\n", {(4, "QL122")}),
        ("def ser(o):\n    return {'c': o.customer.name}\ndef f(s: Session):\n    return [ser(o) for o in s.scalars(select(Order).options(joinedload(Order.customer)))]\n", set()),
        ("def ser(o):\n    return {'c': o.customer_id}\ndef f(s: Session):\n    return [ser(o) for o in s.scalars(select(Order))]\n", set()),
        ("def ser(o):\n    return {'c': o.customer.country.name}\ndef f(s: Session):\n    return [ser(o) for o in s.scalars(select(Order).options(joinedload(Order.customer)))]\n", {(4, "QL122")}),
        # ...but what that parent loads lazily, it loads once per parent
        ("def f(s: Session):\n    return [o.customer.country.name for c in s.scalars(select(Customer)) for o in c.orders]\n", {(2, "QL122")}),
        # assignment to a relationship is no load
        ("def f(s: Session, c):\n    for o in s.scalars(select(Order)):\n        o.customer = c\n", set()),
        # a loop over constants
        ("def f(s: Session):\n    o = s.get(Order, 1)\n    for k in ('a', 'b'):\n        print(o.customer)\n", set()),
    ],
)
def test_lazy_loads_QL122_QL123(body, want):
    assert codes(body, ("QL122", "QL123")) == want


# ------------------------------------------------------------------------------ QL120 / QL121 / QL124


@pytest.mark.parametrize(
    "body, want",
    [
        ("def f(s: Session, ids):\n    return [s.get(Customer, i) for i in ids]\n", {(2, "QL120")}),
        ("def f(db, ids):\n    return [db.query(Customer).filter(Customer.id == i).one() for i in ids]\n", {(2, "QL120")}),
        ("def f(s: Session, ids):\n    for i in ids:\n        s.execute(text('SELECT 1 WHERE :i'), {'i': i})\n", {(3, "QL120")}),
        ("def f(s: Session, names):\n    return [s.scalars(select(Customer).where(Customer.name == n)).first() for n in names]\n", {(2, "QL120")}),
        # hoisted / bulk / add
        ("def f(s: Session, ids):\n    rows = s.scalars(select(Customer).where(Customer.id.in_(ids))).all()\n    return [r.name for r in rows]\n", set()),
        ("def f(s: Session, rows):\n    for chunk in rows:\n        s.execute(insert(Customer), chunk)\n", set()),
        ("def f(s: Session, ids):\n    for i in ids:\n        s.execute(update(Customer), [{'id': i, 'name': 'x'}])\n", set()),
        ("def f(s: Session, objs):\n    for o in objs:\n        s.add(o)\n    s.commit()\n", set()),
        # writes
        ("def f(s: Session, objs):\n    for o in objs:\n        s.merge(o)\n", {(3, "QL121")}),
        ("def f(s: Session, ids):\n    for i in ids:\n        s.execute(update(Customer).where(Customer.id == i).values(name='x'))\n", {(3, "QL121")}),
        ("def f(s, ids):\n    for i in ids:\n        s.query(Customer).filter(Customer.id == i).delete()\n", {(3, "QL121")}),
        ("def f(s: Session, objs):\n    for n, o in enumerate(objs):\n        s.add(o)\n        if n % 100 == 0:\n            s.commit()\n", set()),
        ("from sqlalchemy.orm import scoped_session, sessionmaker\ndb_session = scoped_session(sessionmaker())\ndef f(objs):\n    for o in objs:\n        db_session.commit()\n", {(5, "QL121")}),
        # dynamic relationship per item
        ("def f(s: Session):\n    return {c.id: c.events.count() for c in s.scalars(select(Customer))}\n", {(2, "QL124")}),
        ("def f(s: Session):\n    for c in s.scalars(select(Customer)):\n        for e in c.events:\n            print(e)\n", {(3, "QL124")}),
        # write-only collections are read through the session: QL120
        ("def f(s: Session):\n    return [s.scalars(c.notes.select()).all() for c in s.scalars(select(Customer))]\n", {(2, "QL120")}),
        # not a database session
        ("from flask import session\ndef f(keys):\n    return [session.get(k) for k in keys]\n", set()),
        ("import httpx\ndef f(urls):\n    session = httpx.Client()\n    return [session.get(u) for u in urls]\n", set()),
        ("def f(cache, ids):\n    return [cache.get(i) for i in ids]\n", set()),
    ],
)
def test_queries_and_writes_QL120_QL121_QL124(body, want):
    assert codes(body, ("QL120", "QL121", "QL124")) == want


# ------------------------------------------------------------------------------ QL410 / QL411


@pytest.mark.parametrize(
    "body, want",
    [
        ("def f(s):\n    return len(s.query(Customer).all())\n", {(2, "QL410")}),
        ("def f(s: Session):\n    return s.scalars(select(Customer)).all()[-1]\n", {(2, "QL411")}),
        ("def f(s: Session):\n    return list(s.scalars(select(Customer)))[0]\n", {(2, "QL411")}),
        ("def f(s: Session):\n    rows = s.scalars(select(Customer)).all()\n    return rows[0], len(rows)\n", set()),
        ("def f(s: Session):\n    return len(s.scalars(select(Customer).limit(10)).all())\n", set()),
        ("def f(s: Session):\n    return s.scalars(select(Customer)).first()\n", set()),
        ("def f(c):\n    return len(c.orders)\n", set()),
        ("def f(s: Session, i):\n    return s.scalars(select(Customer)).all()[i]\n", set()),
        # an aggregate without GROUP BY is one row
        ("def f(s: Session):\n    return s.execute(select(func.count()).select_from(Customer)).all()[0]\n", set()),
        ("def f(s):\n    return s.query(func.max(Customer.id)).all()[0]\n", set()),
        ("def f(s: Session):\n    return len(s.execute(select(Customer.name, func.count()).group_by(Customer.name)).all())\n", {(2, "QL410")}),
        ("def f(s):\n    return len(list(s.query(Customer)))\n", {(2, "QL410")}),
    ],
)
def test_overfetch_QL410_QL411(body, want):
    assert codes(body, ("QL410", "QL411")) == want


@pytest.mark.parametrize(
    "body, want",
    [
        ("def f(s, e):\n    if s.query(Customer).filter(Customer.name == e).all():\n        return 1\n", {(2, "QL414")}),
        ("def f(s: Session, e):\n    if not s.scalars(select(Customer)).all():\n        return 1\n", {(2, "QL414")}),
        ("def f(s: Session, e):\n    rows = s.scalars(select(Customer)).all()\n    if rows:\n        return rows\n", set()),
        ("def f(s: Session):\n    if s.scalars(select(Customer)).first():\n        return 1\n", set()),
        ("def f(s: Session):\n    return [c.id for c in s.scalars(select(Customer))]\n", {(2, "QL415")}),
        ("def f(s):\n    return {c.id for c in s.query(Customer).filter(Customer.name != '')}\n", {(2, "QL415")}),
        ("def f(s: Session):\n    rows = s.scalars(select(Customer)).all()\n    return [c.id for c in rows], rows\n", set()),
        ("def f(s: Session):\n    return [c.name for c in s.scalars(select(Customer))]\n", set()),
        ("def f(s: Session):\n    return [(c.id, c.name) for c in s.scalars(select(Customer))]\n", set()),
        ("def f(c):\n    return [o.id for o in c.orders]\n", set()),
        ("def f(s: Session):\n    return [c.id for c in s.scalars(select(Customer.id))]\n", set()),
    ],
)
def test_overfetch_QL414_QL415(body, want):
    assert codes(body, ("QL414", "QL415")) == want


METHOD_MODELS = '''
from sqlalchemy import Column, ForeignKey, Integer, String
from sqlalchemy.orm import declarative_base, relationship

Base = declarative_base()


class User(Base):
    __tablename__ = "users"
    id = Column(Integer, primary_key=True)
    nickname = Column(String)
    posts = relationship("Post", lazy="dynamic")
    profile = relationship("Profile", uselist=False)

    def post_count(self):
        return self.posts.count()

    def bio(self):
        return self.profile.bio if self.profile else ""

    @property
    def label(self):
        return self.nickname.title()


class Post(Base):
    __tablename__ = "posts"
    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("users.id"))


class Profile(Base):
    __tablename__ = "profiles"
    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("users.id"))
    bio = Column(String)
'''


@pytest.mark.parametrize(
    "body, want",
    [
        ("def f(s):\n    return [u.post_count() for u in s.query(User)]\n", {(2, "QL125")}),
        # a dynamic relationship cannot be eager-loaded: the option does not help
        ("def f(s):\n    return [u.post_count() for u in s.query(User).options(selectinload(User.posts))]\n", {(2, "QL125")}),
        ("def f(s):\n    return [u.bio() for u in s.query(User)]\n", {(2, "QL125")}),
        ("def f(s):\n    return [u.bio() for u in s.query(User).options(joinedload(User.profile))]\n", set()),
        ("def f(s):\n    return [u.label for u in s.query(User)]\n", set()),
        ("def f(users):\n    return [u.bio() for u in users]\n", set()),
    ],
)
def test_model_methods_QL125(body, want):
    header = "from sqlalchemy.orm import joinedload, selectinload\nfrom app.models import User\n"
    result = lint_files({"app/__init__.py": "", "app/models.py": METHOD_MODELS, "app/views.py": header + body}, select=["QL125"])
    assert result.errors == []
    assert {(f.span.line - 2, f.variant) for f in result.findings} == want


def test_loop_over_enum_members_is_constant_QL120():
    body = (
        "import enum\n"
        "class Status(enum.Enum):\n    NEW = 'new'\n    PAID = 'paid'\n"
        "def f(s):\n    return {st: s.query(Order).filter(Order.id == st.value).count() for st in Status}\n"
    )
    assert codes(body, ("QL120",)) == set()


def _messages(body, select):
    result = lint_files({"app/__init__.py": "", "app/models.py": MODELS, "app/views.py": HEADER + body}, select=list(select))
    return [f.message for f in result.findings]


def _fixes(body, select):
    result = lint_files({"app/__init__.py": "", "app/models.py": MODELS, "app/views.py": HEADER + body}, select=list(select))
    return [f.fix for f in result.findings]


def test_messages_name_the_loop_the_query_and_the_fix():
    offset = HEADER.count("\n")
    body = "def f(s: Session):\n    rows = s.scalars(select(Customer)).all()\n    for c in rows:\n        print(c.orders)\n"
    (msg,) = _messages(body, ["QL122"])
    assert msg == f"`c.orders` lazily loads the collection `Customer.orders` on every iteration of the loop at line {offset + 3}"
    assert _fixes(body, ["QL122"]) == [f"add `.options(selectinload(Customer.orders))` to the query on line {offset + 2}"]
    body = "def f(s: Session, ids):\n    return [s.get(Customer, i) for i in ids]\n"
    (msg,) = _messages(body, ["QL120"])
    assert f"comprehension at line {offset + 2}" in msg
    assert "`select(Customer).where(Customer.id.in_(ids))`" in _fixes(body, ["QL120"])[0]
    body = "def f(s: Session):\n    return [len(o.lines) for c in s.scalars(select(Customer)) for o in c.orders]\n"
    msgs = sorted(_messages(body, ["QL122"]))
    assert len(msgs) == 2  # c.orders per customer, then o.lines per order
    assert msgs[0].startswith("`c.orders` lazily loads the collection `Customer.orders`")
    # the hint follows the path from the query's root entity
    assert any("`.options(selectinload(Customer.orders).selectinload(Order.lines))`" in f for f in _fixes(body, ["QL122"]))
    assert not any(m.endswith(".") for m in msgs)


SQLMODEL_MODELS = '''
from typing import Optional

from sqlmodel import Field, Relationship, SQLModel


class Team(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str
    heroes: list["Hero"] = Relationship(back_populates="team")


class Hero(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    team_id: Optional[int] = Field(default=None, foreign_key="team.id")
    team: Optional[Team] = Relationship(back_populates="heroes", sa_relationship_kwargs={"lazy": "selectin"})


class TeamRead(SQLModel):
    id: int
    name: str


class HeroRead(SQLModel):
    id: int
    team: Optional[TeamRead] = None


class TeamWithHeroes(TeamRead):
    heroes: list[HeroRead] = []
'''


@pytest.mark.parametrize(
    "body, want",
    [
        ("def f(session: Session):\n    return [len(t.heroes) for t in session.exec(select(Team))]\n", {(2, "QL122")}),
        ("def f(session: Session):\n    return [h.team.name for h in session.exec(select(Hero))]\n", set()),
        ("def f(session: Session, names):\n    return [session.exec(select(Hero).where(Hero.id == n)).first() for n in names]\n", {(2, "QL120")}),
        (
            "@router.get('/teams', response_model=list[TeamWithHeroes])\ndef teams(session: Session):\n    return session.exec(select(Team)).all()\n",
            {(3, "QL126")},
        ),
        ("@router.get('/heroes', response_model=list[HeroRead])\ndef heroes(session: Session):\n    return session.exec(select(Hero)).all()\n", set()),
    ],
)
def test_sqlmodel(body, want):
    header = (
        "from fastapi import APIRouter\nfrom sqlmodel import Session, select\n"
        "from app.models import Hero, HeroRead, Team, TeamWithHeroes\nrouter = APIRouter()\n"
    )
    result = lint_files({"app/__init__.py": "", "app/models.py": SQLMODEL_MODELS, "app/api.py": header + body}, select=["QL12"])
    assert result.errors == []
    assert {(f.span.line - 4, f.variant) for f in result.findings} == want


def test_sqlmodel_mapping():
    m = mappings(_index({"app/__init__.py": "", "app/models.py": SQLMODEL_MODELS}))
    assert set(m.classes) == {"app.models.Team", "app.models.Hero"}  # not the table-less read models
    assert m.relationship("app.models.Hero", "team").lazy == "selectin"
    assert m.relationship("app.models.Team", "heroes").collection is True


AS_DECLARATIVE_MODELS = '''\
from sqlalchemy import Column, ForeignKey, Integer, Unicode
from sqlalchemy.orm import as_declarative, relationship
from sqlalchemy.ext.declarative import declared_attr


@as_declarative()
class BaseModel(object):
    id = Column(Integer, primary_key=True)


class CommentMixin(object):
    @declared_attr
    def comments(self):
        self.Comment = type("{0:s}Comment".format(self.__name__), (BaseModel,), {"__tablename__": "c"})
        return relationship(self.Comment)


class Sketch(BaseModel):
    __tablename__ = "sketch"


class Event(CommentMixin, BaseModel):
    __tablename__ = "event"
    sketch_id = Column(Integer, ForeignKey("sketch.id"))
    sketch = relationship(Sketch)
    document_id = Column(Unicode(255))
'''


def test_models_over_an_as_declarative_root_and_their_mixins_relationships_are_mapped():
    # timesketch: ``class Event(CommentMixin, BaseModel)`` over an ``@as_declarative()`` root,
    # whose ``comments`` a mixin's ``@declared_attr`` declares
    src = '''\
from sqlalchemy.orm import selectinload
from app.models import Event


def comments_of(session, sketch):
    comments = {}
    for event in session.query(Event).filter_by(sketch=sketch):
        for comment in event.comments:  # want: QL105
            comments.setdefault(event.document_id, []).append(comment)
    return comments


def sketches(session):
    return [e.sketch for e in session.query(Event).all()]  # want: QL105


def comments_loaded(session, sketch):
    return {e.document_id: list(e.comments) for e in session.query(Event).options(selectinload(Event.comments))}
'''
    files = {"app/__init__.py": "", "app/models.py": AS_DECLARATIVE_MODELS, "app/views.py": src}
    result = lint_files(files, select=["QL105"])
    assert {(f.path, f.span.line) for f in result.findings} == {("app/views.py", 8), ("app/views.py", 14)}


FOLDER_MODELS = '''\
from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()


class User(db.Model):
    id = db.Column(db.Integer, primary_key=True)


folder_users = db.Table("fu", db.Column("folder_id", db.ForeignKey("folder.id")), db.Column("user_id", db.ForeignKey("user.id")))


class Service(db.Model):
    id = db.Column(db.Integer, primary_key=True)


class Folder(db.Model):
    __tablename__ = "folder"
    id = db.Column(db.Integer, primary_key=True)
    service_id = db.Column(db.ForeignKey("service.id"))
    service = db.relationship("Service", backref="all_folders")
    users = db.relationship("User", secondary=folder_users)

    def serialize(self):
        return {"id": self.id, "users": self.user_ids()}

    def user_ids(self):
        return [u.id for u in self.users]

    def audit(self):
        return {"users": self.user_ids(), "count": User.query.count()}
'''


def test_a_model_methods_lazy_loads_through_its_own_helpers_are_covered_by_the_loops_eager_load():
    # notifications-api: ``o.serialize()`` -> ``self.get_users_with_permission()`` -> ``self.users``,
    # over ``service.all_template_folders`` loaded with ``selectinload(...).options(selectinload("users"))``
    src = '''\
from sqlalchemy.orm import selectinload
from app.models import Service


def loaded(service_id):
    service = Service.query.filter_by(id=service_id).options(selectinload("all_folders").options(selectinload("users"))).one()
    return [o.serialize() for o in service.all_folders]


def lazy(service_id):
    service = Service.query.filter_by(id=service_id).one()
    return [o.serialize() for o in service.all_folders]  # want: QL106


def loaded_but_another_query(service_id):
    service = Service.query.filter_by(id=service_id).options(selectinload("all_folders").options(selectinload("users"))).one()
    return [o.audit() for o in service.all_folders]  # want: QL106
'''
    files = {"app/__init__.py": "", "app/models.py": FOLDER_MODELS, "app/views.py": src}
    result = lint_files(files, select=["QL106"])
    assert {(f.path, f.span.line) for f in result.findings} == {("app/views.py", 12), ("app/views.py", 17)}


SETTING_MODELS = AS_DECLARATIVE_MODELS + '''

class EventMixin(object):
    @declared_attr
    def event_id(cls):
        return Column(Integer, ForeignKey("event.id"), nullable=False)

    @declared_attr
    def event(cls):
        return relationship("Event")


class Setting(EventMixin, BaseModel):
    __tablename__ = "setting"
    value = Column(Unicode(255))
'''


def test_a_many_to_one_keyed_to_the_ids_of_objects_in_hand_is_answered_by_the_identity_map():
    # indico: ``{x.event: x.value for x in EventSetting.query.filter(EventSetting.event_id.in_(e.id
    # for e in events))}``: the events are loaded, so ``x.event`` is an identity-map lookup
    src = '''\
from app.models import Setting


def locales(session, events):
    query = session.query(Setting).filter(Setting.event_id.in_(e.id for e in events))
    return {x.event: x.value for x in query}


def locales_of_ids(session, event_ids):
    query = session.query(Setting).filter(Setting.event_id.in_(event_ids))
    return {x.event: x.value for x in query}  # want: QL105
'''
    files = {"app/__init__.py": "", "app/models.py": SETTING_MODELS, "app/views.py": src}
    result = lint_files(files, select=["QL105"])
    assert {(f.path, f.span.line) for f in result.findings} == {("app/views.py", 11)}


def test_a_relationship_of_unknown_direction_is_loaded_with_selectinload():
    # ``relationship(self.Comment)`` in a mixin: its direction is unknown; ``joinedload`` of a
    # collection would need ``.unique()`` on a 2.x result, ``selectinload`` is right either way
    src = '''\
from app.models import Event


def comments_of(session):
    return [len(e.comments) for e in session.query(Event).all()]
'''
    files = {"app/__init__.py": "", "app/models.py": AS_DECLARATIVE_MODELS, "app/views.py": src}
    [f] = lint_files(files, select=["QL105"]).findings
    assert "selectinload(Event.comments)" in f.fix and "joinedload" not in f.fix
