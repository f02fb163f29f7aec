"""What a view hands a template, as small frozen values (kept in the cache beside the query sites).

A :class:`Render` is one place Python code renders a template (a ``render(...)`` call, a
class-based view); its :class:`Bound` values say which context names hold rows or one object of
a model, with the relations the query loads. An ORM adapter answers what a template's
attribute read means for a model with a :class:`Member`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import FrozenSet, Optional, Tuple

ROWS = "rows"  # a queryset / a list of instances: iterated in the template
ONE = "one"  # one instance (a DetailView's ``object``)


@dataclass(frozen=True)
class Bound:
    """A context name bound to model rows (or one row) by a view."""

    name: str
    orm: str  # the adapter's name ("django", "sqlalchemy")
    kind: str  # ROWS or ONE
    model: str  # qualname of the model
    loaded: FrozenSet[str] = frozenset()  # relation paths the query loads ("author", "items__product")
    opaque: bool = False  # loads querylint cannot read: every relation counts as loaded
    select_all: bool = False  # Django ``select_related()`` without arguments
    line: Optional[int] = None  # where the query is built, in the view's file (None: not in it)
    append_at: Optional[Tuple[int, int]] = None  # (line, column) where ``--fix`` may append a loader call to it
    # what a fix in the view's file may use: model names bound there, the loader functions it
    # imports, the line after its imports (where a fix adds one)
    names: FrozenSet[str] = frozenset()
    imported: FrozenSet[str] = frozenset()
    imports_at: Optional[int] = None


@dataclass(frozen=True)
class Render:
    """One place a template is rendered with a context."""

    templates: Tuple[str, ...]  # the template names it tries, in order (the first that exists wins)
    view: str  # the view's qualified name (a function or a class)
    path: str  # the view's file, relative to the project root
    line: int  # the render call or the view class
    bindings: Tuple[Bound, ...]


@dataclass(frozen=True)
class Member:
    """What ``obj.<name>`` is on a model, for a template."""

    kind: str  # "single" (one related object), "many" (a related manager or collection), "query" (a member that queries)
    target: Optional[str] = None  # the related model
    label: str = ""  # "Order.customer"
    loaded_by_default: bool = False  # the model always loads it (SQLAlchemy ``lazy="joined"``)
    manager: bool = False  # a Django related manager: the rows come from ``.all``
    query_methods: FrozenSet[str] = frozenset()  # members of the value that run a query (``count``, ``all``...)
    call_path: Tuple[str, ...] = ()  # for "query": the functions down to the query
    nullable: bool = False  # a nullable forward key: ``select_related()`` without arguments skips it
    loadable: bool = True  # the view's query can load it (not a ``lazy="dynamic"`` query object)
    back_reference: Optional[str] = None  # for "many": the rows' attribute that leads back to the owner, set without a query
    # for "single": loaded from the session's identity map when the view loaded the target's rows
    # (SQLAlchemy's many-to-one by primary key: ``roles=Role.query.all()`` beside ``user.role``)
    identity_mapped: bool = False
