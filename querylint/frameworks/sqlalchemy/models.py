"""SQLAlchemy mappings from the project index: mapped classes and their relationships.

Computed once per run (``mappings(index)``) from the index facts alone:

* declarative bases: ``Base = declarative_base()`` (1.x), ``class Base(DeclarativeBase)`` (2.x),
  ``@as_declarative()``, ``registry().generate_base()``, and Flask-SQLAlchemy's ``db.Model``
  (``db = SQLAlchemy()``); classes decorated with ``@reg.mapped`` / ``@reg.mapped_as_dataclass``;
* every class whose ancestors reach such a base is mapped;
* ``relationship()`` / ``db.relationship()`` / ``relation()`` / ``dynamic_loader()`` class attributes:
  target (first argument or the ``Mapped[...]`` annotation), loading strategy (``lazy=``,
  ``WriteOnlyMapped`` / ``DynamicMapped``), collection or scalar (annotation, ``uselist=``,
  ``secondary=``, else the direction of a ``ForeignKey`` between the two tables), and the reverse
  attribute a ``backref=`` creates on the target.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Set, Tuple

from querylint.project.facts import CallSummary, ClassAttr, ClassFacts
from querylint.project.index import ProjectIndex

EAGER = frozenset({"joined", "selectin", "subquery", "immediate"})
RAISE = frozenset({"raise", "raise_on_sql"})
NOLOAD = frozenset({"noload"})
QUERYING = frozenset({"dynamic", "write_only"})  # the attribute is a query builder, not loaded data
LAZY = frozenset({"select"})

DECLARATIVE_BASE_CLASSES = {
    "sqlalchemy.orm.DeclarativeBase",
    "sqlalchemy.orm.DeclarativeBaseNoMeta",
    "sqlalchemy.orm.decl_api.DeclarativeBase",
    "sqlalchemy.orm.decl_api.DeclarativeBaseNoMeta",
}
BASE_FACTORIES = ("declarative_base", "generate_base", "as_declarative_base")
RELATIONSHIP_FUNCS = ("relationship", "relation", "dynamic_loader")
_COLLECTION_RE = re.compile(r"^\s*(?:typing\.)?(list|List|set|Set|Sequence|MutableSequence|Collection|Iterable|frozenset|FrozenSet|dict|Dict|Mapping)\s*\[", re.S)
_WORD_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
_NOT_TARGET = {
    "Optional", "None", "list", "List", "set", "Set", "typing", "Union", "Sequence", "dict", "Dict",
    "Mapped", "WriteOnlyMapped", "DynamicMapped", "Mapping", "Collection", "Iterable", "frozenset",
    "FrozenSet", "MutableSequence", "str", "int",
}


@dataclass(frozen=True)
class Relationship:
    owner: str  # qualname of the mapped class the attribute lives on
    name: str
    target: Optional[str]  # qualname of the related mapped class, when known
    lazy: str  # "select" (default), "joined", "selectin", "subquery", "immediate", "raise", "raise_on_sql", "noload", "dynamic", "write_only"
    collection: Optional[bool]  # True: one-to-many / many-to-many, False: many-to-one / one-to-one, None: unknown
    backref_of: Optional[str] = None  # "Owner.attr" when created by a ``backref=`` on the other side
    back_populates: Optional[str] = None  # the reverse attribute's name (``back_populates=`` or the backref pair)

    @property
    def label(self) -> str:
        return f"{self.owner.rsplit('.', 1)[-1]}.{self.name}"

    @property
    def kind_word(self) -> str:
        if self.lazy in QUERYING:
            return "dynamic collection" if self.lazy == "dynamic" else "write-only collection"
        if self.collection is True:
            return "collection"
        if self.collection is False:
            return "many-to-one"
        return "relationship"


@dataclass
class MappedClass:
    qualname: str
    name: str
    module: str
    table: Optional[str]
    flask: bool = False
    relationships: Dict[str, Relationship] = field(default_factory=dict)
    columns: Set[str] = field(default_factory=set)
    fk_tables: Set[str] = field(default_factory=set)  # tables its ForeignKey columns point at
    fk_columns: Dict[str, Set[str]] = field(default_factory=dict)  # column attribute -> tables it points at
    primary_keys: Set[str] = field(default_factory=set)
    unique_columns: Set[str] = field(default_factory=set)  # ``unique=True`` and primary-key columns


class Mappings:
    """Mapped classes of the project, with relationship lookups through inheritance."""

    def __init__(self, index: ProjectIndex):
        self.index = index
        self.classes: Dict[str, MappedClass] = {}
        self._rel_cache: Dict[Tuple[str, str], Optional[Relationship]] = {}

    def get(self, qualname: Optional[str]) -> Optional[MappedClass]:
        return self.classes.get(qualname) if qualname else None

    def resolve(self, dotted: Optional[str], module: Optional[str] = None) -> Optional[MappedClass]:
        """The mapped class a (qualified or bare) name refers to."""
        if not dotted:
            return None
        hit = self.classes.get(dotted)
        if hit is not None:
            return hit
        cls = self.index.resolve_class(dotted, module)
        return self.classes.get(cls.qualname) if cls is not None else None

    def relationship(self, owner: Optional[str], name: str) -> Optional[Relationship]:
        if not owner:
            return None
        key = (owner, name)
        if key in self._rel_cache:
            return self._rel_cache[key]
        found = None
        cls = self.index.classes.get(owner)
        chain = [owner] + ([c.qualname for c in self.index.mro_classes(cls)[1:]] if cls is not None else [])
        for q in chain:
            mc = self.classes.get(q)
            if mc is not None and name in mc.relationships:
                found = mc.relationships[name]
                break
        self._rel_cache[key] = found
        return found

    def holds_key_of(self, owner: Optional[str], columns, rel: "Relationship") -> bool:
        """One of ``columns`` of ``owner`` is the foreign key behind the many-to-one ``rel``, or
        the relationship itself (``.filter(Package.collection == collection)``): every row holds
        the same parent, which the session's identity map answers after the first load."""
        if rel.name in columns:
            return True
        target = self.classes.get(rel.target or "")
        if owner is None or target is None:
            return False
        cls = self.index.classes.get(owner)
        for c in self.index.mro_classes(cls) if cls is not None else ():
            mc = self.classes.get(c.qualname)
            if mc is None:
                continue
            names = _table_names(target)
            for col in columns:
                for t in mc.fk_columns.get(col, ()):
                    if t in names or t == "@" + target.name or t.endswith("." + target.name):
                        return True
        return False

    def primary_keys(self, owner: Optional[str]) -> Set[str]:
        cls = self.index.classes.get(owner or "")
        for c in self.index.mro_classes(cls) if cls is not None else ():
            mc = self.classes.get(c.qualname)
            if mc is not None and mc.primary_keys:
                return mc.primary_keys
        return {"id"}

    def is_unique(self, owner: str, name: str) -> bool:
        """``owner.name`` is a primary-key or ``unique=True`` column (through inheritance)."""
        cls = self.index.classes.get(owner)
        return any(name in mc.unique_columns for mc in (self.classes.get(c.qualname) for c in (self.index.mro_classes(cls) if cls is not None else ())) if mc is not None)

    def is_column(self, owner: str, name: str) -> bool:
        cls = self.index.classes.get(owner)
        for c in self.index.mro_classes(cls) if cls is not None else ():
            mc = self.classes.get(c.qualname)
            if mc is not None and name in mc.columns:
                return True
        return False


def mappings(index: ProjectIndex) -> Mappings:
    """The project's SQLAlchemy mappings, computed once per run."""
    return index.derived("sqlalchemy.mappings", _compute)


# ---------------------------------------------------------------------------------------- compute


def _last(name: Optional[str]) -> str:
    return (name or "").rsplit(".", 1)[-1]


def _compute(index: ProjectIndex) -> Mappings:
    m = Mappings(index)
    kinds = _MappedKinds(index)
    for cls in index.classes.values():
        mc = _mapped_class(cls, kinds.of(cls))
        if mc is not None:
            m.classes[cls.qualname] = mc
    # columns and foreign keys first (relationship direction needs them)
    for q, mc in m.classes.items():
        for c in _with_mixins(index.classes[q], m, index):
            _read_columns(mc, c)  # its own, then its mixins' (``@declared_attr def event_id``)
    tables = {mc.table: q for q, mc in m.classes.items() if mc.table}

    reverse: List[Relationship] = []
    for q, mc in m.classes.items():
        # its own attributes, then those of the mixins it inherits (a ``CommentMixin`` whose
        # ``@declared_attr comments`` adds the relationship to each model)
        for attr in [a for c in _with_mixins(index.classes[q], m, index) for a in c.attrs]:
            call = attr.call
            if call is None or not (_last(call.func) in RELATIONSHIP_FUNCS or (_last(call.func) == "Relationship" and call.func.startswith("sqlmodel"))):
                continue
            if attr.name in mc.relationships:
                continue  # declared on the class itself (or a nearer mixin)
            rel, back = _relationship(m, mc, attr, call, tables)
            mc.relationships[attr.name] = rel
            if back is not None:
                reverse.append(back)
    for back in reverse:
        owner = m.classes.get(back.owner)
        if owner is not None and back.name not in owner.relationships:
            owner.relationships[back.name] = back
    return m


def _with_mixins(cls: ClassFacts, m: Mappings, index: ProjectIndex) -> List[ClassFacts]:
    """A mapped class, then the unmapped classes it inherits from (its mixins), nearest first."""
    return [cls] + [c for c in index.mro_classes(cls)[1:] if c.qualname not in m.classes]


class _MappedKinds:
    """How a class is mapped, if it is: 'base' (declarative), 'flask' (``db.Model``), 'sqlmodel',
    'root' (an ``@as_declarative`` root), or None; memoised per class."""

    def __init__(self, index: ProjectIndex):
        self.index = index
        self.base_vars: Set[str] = set()  # qualified names of declarative_base() results
        self.fsa: Set[str] = set()  # qualified names of flask_sqlalchemy.SQLAlchemy() instances
        for f in index.files.values():
            for name, call in f.module_calls:
                last = _last(call.func)
                if self._is_flask_sqlalchemy(call.func, f.module):
                    self.fsa.add(f"{f.module}.{name}")
                elif last in BASE_FACTORIES:
                    self.base_vars.add(f"{f.module}.{name}")
        self.memo: Dict[str, Optional[str]] = {}

    def _is_flask_sqlalchemy(self, func: str, module: str, depth: int = 0) -> bool:
        """``flask_sqlalchemy.SQLAlchemy``, or a project class derived from it (a project-local
        ``class IndicoSQLAlchemy(SQLAlchemy)`` whose instance is the app's ``db``)."""
        if _last(func) == "SQLAlchemy" and (func.startswith("flask_sqlalchemy") or func == "SQLAlchemy"):
            return True
        if depth > 6:
            return False
        cls = self.index.resolve_class(func, module)
        return cls is not None and any(self._is_flask_sqlalchemy(b, cls.module, depth + 1) for b in cls.bases)

    def root_base(self, base: str, module: str) -> Optional[str]:
        """'base' (a declarative root), 'flask' (db.Model), 'sqlmodel', or None."""
        if base in DECLARATIVE_BASE_CLASSES or _last(base) in ("DeclarativeBase", "DeclarativeBaseNoMeta") and "sqlalchemy" in base:
            return "base"
        if base in self.base_vars or f"{module}.{base}" in self.base_vars or self.index.canonical(base) in self.base_vars:
            return "base"
        if base.endswith(".Model"):
            owner = base[: -len(".Model")]
            if owner in self.fsa or f"{module}.{owner}" in self.fsa or self.index.canonical(owner) in self.fsa:
                return "flask"
        if base in ("sqlmodel.SQLModel", "sqlmodel.main.SQLModel"):
            return "sqlmodel"
        return None

    def of(self, cls: ClassFacts, depth: int = 0) -> Optional[str]:
        memo = self.memo
        if cls.qualname in memo:
            return memo[cls.qualname]
        memo[cls.qualname] = None  # cycle guard
        kind = None
        if any(_last(d) in ("mapped", "mapped_as_dataclass") for d in cls.decorators):
            kind = "base"
        for base in cls.bases:
            if kind:
                break
            kind = self.root_base(base, cls.module)
            if kind is None and depth < 12:
                parent = self.index.resolve_class(base, cls.module)
                if parent is not None and parent.qualname != cls.qualname:
                    kind = self.of(parent, depth + 1)
                    if kind == "root":
                        kind = "base"  # a model over an ``@as_declarative()`` root is mapped
        if kind is None and any(_last(d) == "as_declarative" for d in cls.decorators):
            kind = "root"
        if kind is None and self._declares_on_external_base(cls):
            kind = "base"
        memo[cls.qualname] = kind
        return kind

    def _declares_on_external_base(self, cls: ClassFacts) -> bool:
        """A class over a base from outside the project (skyportal's ``baselayer.app.models.Base``)
        whose body declares SQLAlchemy columns or relationships: a mapped class. (A mixin with
        columns and no base is not one.)"""
        external = [b for b in cls.bases if b != "object" and self.index.resolve_class(b, cls.module) is None]
        if not external:
            return False
        return any(
            a.call is not None and a.call.func.startswith("sqlalchemy") and _last(a.call.func) in _DECLARATIONS for a in cls.attrs
        )


_DECLARATIONS = {"Column", "relationship", "mapped_column", "column_property", "deferred", "composite", "synonym"}


def _mapped_class(cls: ClassFacts, kind: Optional[str]) -> Optional[MappedClass]:
    """The mapping of a class of ``kind`` (its table), None when it maps nothing."""
    if kind is None or kind == "root":
        return None
    if kind == "sqlmodel" and not any(k == "table" and v == ("lit", True) for k, v in cls.keywords):
        return None  # a plain pydantic model (no table=True): not mapped
    # a declarative root itself (``class Base(DeclarativeBase): pass``) maps nothing, but its
    # attributes are inherited: keep it when it declares something
    table = None
    attr = cls.attr("__tablename__")
    if attr is not None and attr.value is not None and attr.value[0] == "str":
        table = attr.value[1]
    flask = kind == "flask"
    if table is None and flask:
        table = _snake(cls.name)
    return MappedClass(cls.qualname, cls.name, cls.module, table, flask)


def _read_columns(mc: MappedClass, cls: ClassFacts) -> None:
    """Columns, primary keys and foreign keys a mapped class declares."""
    for attr in cls.attrs:
        call = attr.call
        if call is None:
            if attr.annotation and attr.annotation.startswith("Mapped["):
                mc.columns.add(attr.name)
            continue
        last = _last(call.func)
        if last in ("Column", "mapped_column", "column_property", "deferred", "synonym", "composite"):
            mc.columns.add(attr.name)
            if call.kwarg("primary_key") == ("lit", True):
                mc.primary_keys.add(attr.name)
                mc.unique_columns.add(attr.name)
            if call.kwarg("unique") == ("lit", True):
                mc.unique_columns.add(attr.name)
            for fk in _foreign_keys(call):
                mc.fk_tables.add(fk)
                mc.fk_columns.setdefault(attr.name, set()).add(fk)


def _table_names(mc: MappedClass) -> Set[str]:
    """The mapped class's table, or the names a base that names tables itself would give it (no
    ``__tablename__``: skyportal's baselayer, Flask-SQLAlchemy): the class name in snake case,
    maybe plural."""
    if mc.table:
        return {mc.table}
    snake = _snake(mc.name)
    return {snake, snake + "s", mc.name.lower(), mc.name.lower() + "s"}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _foreign_keys(call: CallSummary) -> Iterable[str]:
    """Tables named by ``ForeignKey("table.col")`` arguments of a column call."""
    for _key, inner in call.calls:
        if _last(inner.func) == "ForeignKey" and inner.args and inner.args[0][0] == "str":
            target = str(inner.args[0][1])
            if "." in target:
                yield target.rsplit(".", 1)[0].split(".")[-1]
        elif _last(inner.func) == "ForeignKey" and inner.args and inner.args[0][0] == "name":
            # ForeignKey(User.id)
            yield "@" + str(inner.args[0][1]).rsplit(".", 1)[0]


def _annotation_target(annotation: Optional[str], bare: bool = False) -> Tuple[Optional[str], Optional[bool], Optional[str]]:
    """(target name, is collection, special loader) from ``Mapped[list["Order"]]`` and friends.

    ``bare``: the annotation has no ``Mapped[...]`` wrapper (SQLModel: ``list["Hero"]``, ``Optional["Team"]``).
    """
    if not annotation:
        return None, None, None
    text = annotation.strip()
    special = None
    m = re.match(r"^\s*(?:[\w.]*\.)?(Mapped|WriteOnlyMapped|DynamicMapped|Relationship|RelationshipProperty)\s*\[(.*)\]\s*$", text, re.S)
    if not m:
        if not bare:
            return None, None, None
        wrapper, inner = "Mapped", text
    else:
        wrapper, inner = m.group(1), m.group(2).strip()
    if wrapper == "WriteOnlyMapped":
        special = "write_only"
    elif wrapper == "DynamicMapped":
        special = "dynamic"
    inner_unq = inner.strip("\"'")
    collection = bool(_COLLECTION_RE.match(inner_unq)) or special is not None
    words = [w for w in _WORD_RE.findall(inner_unq) if w.split(".")[-1] not in _NOT_TARGET]
    target = words[0] if len(words) == 1 else (words[-1] if collection and words else None)
    return target, collection, special


def _lazy_value(v) -> Optional[str]:
    if v is None:
        return None
    kind, val = v
    if kind == "str":
        return str(val)
    if kind == "lit":
        return {True: "select", False: "joined", None: "noload"}.get(val)
    return None


def _relationship(m: Mappings, mc: MappedClass, attr: ClassAttr, call: CallSummary, tables: Dict[str, str]):
    sqlmodel = _last(call.func) == "Relationship"
    ann_target, ann_coll, special = _annotation_target(attr.annotation, bare=sqlmodel)
    target_name = None
    if call.args:
        kind, val = call.args[0]
        if kind in ("str", "name") and isinstance(val, str):
            target_name = val
        elif kind == "expr" and isinstance(val, str) and val.startswith("lambda"):
            target_name = val.split(":", 1)[-1].strip()
    if target_name is None:
        arg = call.kwarg("argument")
        if arg is not None and arg[0] in ("str", "name"):
            target_name = arg[1]
    if target_name is None:
        target_name = ann_target
    target = m.resolve(target_name, mc.module) if target_name else None
    target_q = target.qualname if target is not None else None

    lazy = special or _lazy_value(call.kwarg("lazy")) or "select"
    extra = call.kwarg("sa_relationship_kwargs")
    if sqlmodel and extra is not None and extra[0] == "expr":
        hit = re.search(r"""["']lazy["']\s*:\s*["'](\w+)["']""", str(extra[1]))
        if hit:
            lazy = hit.group(1)
    if _last(call.func) == "dynamic_loader":
        lazy = "dynamic"
    collection: Optional[bool] = None
    uselist = call.kwarg("uselist")
    if uselist is not None and uselist[0] == "lit" and isinstance(uselist[1], bool):
        collection = uselist[1]
    elif call.kwarg("secondary") is not None:
        collection = True
    elif attr.annotation and ann_target is not None:
        collection = bool(ann_coll)
    elif lazy in QUERYING:
        collection = True
    elif target is not None:
        collection = _direction(mc, target)
    bp = call.kwarg("back_populates")
    back_name = str(bp[1]) if bp is not None and bp[0] == "str" else None
    rel = Relationship(mc.qualname, attr.name, target_q, lazy, collection, back_populates=back_name)

    back = None
    backref_name, backref_lazy, backref_uselist = None, "select", None
    raw = call.kwarg("backref")
    if raw is not None and raw[0] == "str":
        backref_name = raw[1]
    else:
        nested = call.nested("backref")
        if nested is not None and _last(nested.func) == "backref" and nested.args and nested.args[0][0] == "str":
            backref_name = nested.args[0][1]
            backref_lazy = _lazy_value(nested.kwarg("lazy")) or "select"
            u = nested.kwarg("uselist")
            if u is not None and u[0] == "lit" and isinstance(u[1], bool):
                backref_uselist = u[1]
    if backref_name and target_q is not None:
        direction = _direction(target, mc) if target is not None else None
        if backref_uselist is not None:
            back_coll = backref_uselist
        elif call.kwarg("secondary") is not None:
            back_coll = True
        elif direction is not None:
            back_coll = direction
        elif uselist is not None and uselist == ("lit", False):
            back_coll = False  # one-to-one both ways
        elif collection is None:
            back_coll = None
        else:
            back_coll = not collection
        if backref_lazy == "dynamic":
            back_coll = True
        back = Relationship(target_q, str(backref_name), mc.qualname, backref_lazy, back_coll, backref_of=rel.label, back_populates=attr.name)
        rel = Relationship(rel.owner, rel.name, rel.target, rel.lazy, rel.collection, back_populates=str(backref_name))
    return rel, back


def _direction(owner: MappedClass, target: MappedClass) -> Optional[bool]:
    """False (many-to-one) when ``owner`` holds the foreign key to ``target``; True when ``target`` holds it."""
    def points_at(src: MappedClass, dst: MappedClass) -> bool:
        names = _table_names(dst)
        return any(t in names or t == "@" + dst.name or (t.startswith("@") and t.endswith("." + dst.name)) for t in src.fk_tables)

    if owner.qualname == target.qualname:
        return None  # self-referential: either way
    if points_at(owner, target):
        return False
    if points_at(target, owner):
        return True
    return None
