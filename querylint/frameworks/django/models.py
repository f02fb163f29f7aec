"""The Django model graph, derived once per run from the project index.

Model classes are found by their bases (``models.Model`` and anything that derives from it in
the project: abstract bases, proxies, mixins), or, for bases we cannot see, by the Django fields
they declare. For every concrete model we collect its fields (own and inherited), its relations
(forward ForeignKey / OneToOneField / ManyToManyField / GenericForeignKey / GenericRelation, and
the reverse accessors other models give it: ``related_name``, ``<model>_set``, reverse one-to-one
``<model>``), its managers, and whether ``Meta.ordering`` is set.

Everything here is plain data computed from :class:`~querylint.project.facts.ClassFacts`; no code is run.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, FrozenSet, List, Optional, Set, Tuple, cast

from querylint.project.facts import CallSummary, ClassFacts
from querylint.project.index import ProjectIndex

# relation kinds
FK, O2O, M2M, GFK, GREL = "fk", "o2o", "m2m", "gfk", "generic"
REV_FK, REV_O2O, REV_M2M = "rev_fk", "rev_o2o", "rev_m2m"
SINGLE = (FK, O2O, REV_O2O, GFK)  # accessing it yields one instance (a query unless loaded)
MANY = (M2M, REV_FK, REV_M2M, GREL)  # accessing it yields a related manager

EXTERNAL_USER = "<user model>"

_RELATION_FIELDS = {
    "ForeignKey": FK,
    "OneToOneField": O2O,
    "ManyToManyField": M2M,
    "ParentalKey": FK,
    "ParentalManyToManyField": M2M,
    "TreeForeignKey": FK,
    "TreeOneToOneField": O2O,
    "TreeManyToManyField": M2M,
    "GenericForeignKey": GFK,
    "GenericRelation": GREL,
    "SortedManyToManyField": M2M,
}
_NOT_DJANGO = ("peewee", "sqlalchemy", "tortoise", "pydantic", "mongoengine", "pony", "ormar", "sqlmodel", "odmantic", "marshmallow")
# Django's own classes with "fields" that are not models: forms, serializers, filter sets
_NOT_MODELS = ("django.forms.", "rest_framework.", "django_filters.", "django.views.")
_QUERY_DECORATORS = ("property", "cached_property")


@dataclass(frozen=True)
class Relation:
    name: str
    kind: str
    target: Optional[str]  # model qualname, EXTERNAL_USER, or None (unknown / external)
    owner: str  # qualname of the model that has the accessor
    declared_in: str  # qualname of the model declaring the field (for reverse accessors: the other side)
    field_name: str = ""  # the declaring field
    null: bool = False  # a nullable forward ForeignKey / OneToOneField

    @property
    def many(self) -> bool:
        return self.kind in MANY

    @property
    def back_reference(self) -> Optional[str]:
        """The children's accessor that leads back here (``exercise.exerciseimage_set`` → ``exercise``):
        Django sets it on every row loaded through the reverse relation (a related manager or a
        prefetch), so reading it from a child costs no query."""
        return self.field_name if self.kind in (REV_FK, REV_O2O) and self.field_name else None


@dataclass
class ModelInfo:
    qualname: str
    name: str
    module: str
    abstract: bool = False
    proxy: bool = False
    fields: Set[str] = field(default_factory=set)  # concrete non-relation fields (own + inherited)
    relations: Dict[str, Relation] = field(default_factory=dict)
    managers: Set[str] = field(default_factory=lambda: {"objects", "_default_manager", "_base_manager"})
    manager_classes: Dict[str, str] = field(default_factory=dict)  # manager attribute -> project Manager class qualname
    ordering: bool = False
    members: Dict[str, str] = field(default_factory=dict)  # method/property name -> function qualname
    properties: Set[str] = field(default_factory=set)  # names read as attributes (@property/@cached_property)
    unique_fields: Set[str] = field(default_factory=lambda: {"pk", "id"})  # ``unique=True`` fields, one-to-ones, the key
    # ``unique_together`` and unconditional ``UniqueConstraint(fields=[...])``: sets of field names
    unique_sets: List[FrozenSet[str]] = field(default_factory=list)
    file_fields: Set[str] = field(default_factory=set)  # FileField / ImageField: deleting a row leaves a file behind

    def overrides(self, method: str) -> bool:
        """The project defines ``method`` (``save``, ``delete``) on this model or a base of it."""
        return method in self.members

    def relation(self, name: str) -> Optional[Relation]:
        return self.relations.get(name)

    def has_field(self, name: str) -> bool:
        return name in self.fields or name in self.relations or name in ("pk", "id")


@dataclass
class ModelGraph:
    models: Dict[str, ModelInfo] = field(default_factory=dict)
    by_name: Dict[str, List[str]] = field(default_factory=dict)
    user_model: Optional[str] = None
    # relation name -> qualnames of the models that have it
    relation_owners: Dict[str, Set[str]] = field(default_factory=dict)
    querysets: Set[str] = field(default_factory=set)  # project QuerySet/Manager classes
    # project QuerySet/Manager class -> the models that use it (``objects = QS.as_manager()``,
    # ``Manager.from_queryset(QS)()``, ``objects = MyManager()``)
    queryset_models: Dict[str, Set[str]] = field(default_factory=dict)
    queryset_methods: Set[str] = field(default_factory=set)  # their method names
    queryset_method_quals: Dict[str, List[str]] = field(default_factory=dict)  # method name -> function qualnames
    manager_names: Set[str] = field(default_factory=lambda: {"objects", "_default_manager", "_base_manager"})

    def get(self, qualname: Optional[str]) -> Optional[ModelInfo]:
        if not qualname:
            return None
        return self.models.get(qualname)

    def resolve(self, dotted: Optional[str], module: Optional[str] = None) -> Optional[ModelInfo]:
        """A model by qualified name, ``"app.Model"`` or ``"Model"`` (unique bare name)."""
        if not dotted:
            return None
        hit = self.models.get(dotted)
        if hit:
            return hit
        if module and f"{module}.{dotted}" in self.models:
            return self.models[f"{module}.{dotted}"]
        name = dotted.rsplit(".", 1)[-1]
        cands = self.by_name.get(name, [])
        if len(cands) == 1:
            return self.models[cands[0]]
        if "." in dotted:
            suffix = "." + dotted
            m = [c for c in cands if ("." + c).endswith(suffix)]
            if len(m) == 1:
                return self.models[m[0]]
            app = dotted.split(".")[-2]
            m = [c for c in cands if app in c.split(".")[:-1]]
            if len(m) == 1:
                return self.models[m[0]]
        if module and cands:
            m = [c for c in cands if self.models[c].module == module]
            if len(m) == 1:
                return self.models[m[0]]
            pkg = module.rsplit(".", 1)[0]
            m = [c for c in cands if self.models[c].module.startswith(pkg + ".") or self.models[c].module == pkg]
            if len(m) == 1:
                return self.models[m[0]]
        return None


def _last(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def _is_django_base(name: str) -> bool:
    if name.startswith(_NOT_DJANGO):
        return False
    last = _last(name)
    if name.startswith("django."):
        return last in ("Model", "AbstractUser", "AbstractBaseUser", "PermissionsMixin", "User", "Group", "Permission") or (
            name.startswith("django.db.models") and last == "Model"
        )
    # third-party model bases: mptt.models.MPTTModel, model_utils.models.TimeStampedModel, polymorphic...
    return last.endswith("Model") and ".models" in name and "." in name


def _field_kind(func: str) -> Optional[str]:
    last = _last(func)
    if func.startswith(_NOT_DJANGO):
        return None
    return _RELATION_FIELDS.get(last)


def _is_django_field(func: str) -> bool:
    if func.startswith(_NOT_DJANGO) or func.startswith(_NOT_MODELS):
        return False
    last = _last(func)
    return (func.startswith("django.") or func.startswith("models.")) and (last.endswith("Field") or last in _RELATION_FIELDS)


def _is_any_field(func: str) -> bool:
    if func.startswith(_NOT_DJANGO):
        return False
    last = _last(func)
    return last.endswith("Field") or last in _RELATION_FIELDS


def _is_manager_call(func: str, index: ProjectIndex, module: str) -> bool:
    last = _last(func)
    if last == "as_manager" or last.endswith("Manager") or "from_queryset" in func:
        return True
    cls = index.resolve_class(func, module)
    if cls is not None:
        return any(_last(a).endswith(("Manager", "QuerySet")) for a in [cls.qualname] + index.ancestors(cls))
    return False


def _manager_sources(call, mc, index: ProjectIndex, module: str) -> List[str]:
    """The project classes a model's manager is made from: the Manager class itself, the QuerySet
    of ``QS.as_manager()`` and both classes of ``Manager.from_queryset(QS)()``."""
    out = [mc.qualname] if mc is not None else []
    func = call.func if call is not None else ""
    for suffix in (".as_manager", ".from_queryset"):
        if func.endswith(suffix):
            cls = index.resolve_class(func[: -len(suffix)], module)
            out += [cls.qualname] if cls is not None else []
    if func.endswith(".from_queryset") and call.args and call.args[0][0] == "name":
        cls = index.resolve_class(call.args[0][1], module)
        out += [cls.qualname] if cls is not None else []
    return out


def _meta(cls: ClassFacts, key: str):
    v = cls.meta_value(key)
    return v[1] if v is not None else None


def build_graph(index: ProjectIndex) -> ModelGraph:
    graph = ModelGraph()
    model_classes = _model_classes(index, graph)
    for q, cls in model_classes.items():
        info = ModelInfo(q, cls.name, cls.module)
        info.abstract = _meta(cls, "abstract") is True
        info.proxy = _meta(cls, "proxy") is True
        graph.models[q] = info
        graph.by_name.setdefault(cls.name, []).append(q)

    # a custom user model
    users = [
        q for q, c in model_classes.items()
        if any(_last(a) in ("AbstractUser", "AbstractBaseUser") for a in index.ancestors(c)) and not graph.models[q].abstract
    ]
    graph.user_model = users[0] if len(users) == 1 else None

    declared: List[_Declared] = []
    for q, cls in model_classes.items():
        _read_members(graph.models[q], cls, model_classes, index, declared)
        for a in cls.attrs:
            if a.call is not None and _is_manager_call(a.call.func, index, cls.module):
                for made in _manager_sources(a.call, index.resolve_class(a.call.func, cls.module), index, cls.module):
                    graph.queryset_models.setdefault(made, set()).add(q)
    if graph.models and graph.user_model is None:
        graph.models[EXTERNAL_USER] = _external_user()
    for concrete, fname, kind, decl, call in declared:
        _add_relation(graph, concrete, fname, kind, decl, call)
    _inherit_reverse_accessors(graph, model_classes, index)

    for q, info in graph.models.items():
        for name in info.relations:
            graph.relation_owners.setdefault(name, set()).add(q)
        graph.manager_names |= info.managers
    return graph


def _inherit_reverse_accessors(graph: ModelGraph, model_classes: Dict[str, ClassFacts], index: ProjectIndex) -> None:
    """A reverse accessor is a descriptor Django sets on the target class, so a proxy or a child
    model inherits it: ``MasterDataset(DataSet)`` with ``Meta.proxy`` has ``sourcetable_set`` when
    ``SourceTable.dataset`` points at ``DataSet``. The subclass's own names come first."""
    for q, cls in model_classes.items():
        info = graph.models[q]
        if info.abstract:
            continue
        for base in index.ancestors(cls):
            binfo = graph.models.get(base)
            if binfo is None:
                continue
            for name, rel in binfo.relations.items():
                if rel.kind in (REV_FK, REV_O2O, REV_M2M) and name not in info.relations and name not in info.fields and name not in info.members:
                    info.relations[name] = rel


# (concrete model, field, kind, declaring class, call): a relation field as declared
_Declared = Tuple[str, str, str, ClassFacts, CallSummary]


def _model_classes(index: ProjectIndex, graph: ModelGraph) -> Dict[str, ClassFacts]:
    """The project's model classes by qualified name; custom QuerySet/Manager classes go into ``graph``."""
    model_classes: Dict[str, ClassFacts] = {}
    is_model: Dict[str, bool] = {}
    for cls in index.classes.values():
        if _is_model(cls, index, is_model):
            model_classes[cls.qualname] = cls
        else:
            names = [cls.qualname] + index.ancestors(cls)
            if any(
                _last(n) in ("QuerySet", "Manager", "BaseManager") and (n.startswith("django") or "." not in n)
                or _last(n).endswith("QuerySet") and n not in index.classes  # a library's (``OrderedModelQuerySet``)
                for n in names[1:]
            ):
                graph.querysets.add(cls.qualname)
                graph.queryset_methods.update(cls.methods)
                for m in cls.methods:
                    graph.queryset_method_quals.setdefault(m, []).append(f"{cls.qualname}.{m}")
    return model_classes


def _is_model(cls: ClassFacts, index: ProjectIndex, is_model: Dict[str, bool], depth: int = 0) -> bool:
    """A Django model: a Django model base somewhere up the project's classes, or Django fields (memo: ``is_model``)."""
    if cls.qualname in is_model:
        return is_model[cls.qualname]
    is_model[cls.qualname] = False  # cycles
    result = False
    for base in cls.bases:
        if _is_django_base(base):
            result = True
            break
        project = index.resolve_class(base, cls.module)
        if project is not None and project.qualname != cls.qualname and depth < 30 and _is_model(project, index, is_model, depth + 1):
            result = True
            break
    if not result:
        # bases we cannot see: a class declaring Django fields is a model
        result = any(a.call is not None and _is_django_field(a.call.func) for a in cls.attrs) and not any(
            b.startswith(_NOT_DJANGO) or b.startswith(_NOT_MODELS) for b in cls.bases
        )
    is_model[cls.qualname] = result
    return result


def _read_members(info: ModelInfo, cls: ClassFacts, model_classes: Dict[str, ClassFacts], index: ProjectIndex, declared: List[_Declared]) -> None:
    """Fields, managers, members and ordering of one model, inherited ones included; its relation
    fields go to ``declared`` (linked once every model is known)."""
    q = info.qualname
    chain = [c for c in index.mro_classes(cls) if c.qualname in model_classes]
    ordering = None
    start = len(declared)
    for c in reversed(chain):  # base first, subclass overrides
        # a subclass's property or method of a base field's name replaces the field (ArchiveBox's
        # ``Snapshot.created_by`` property over ``ModelWithUUID.created_by``)
        shadowed = set(c.methods)
        if shadowed:
            declared[start:] = [d for d in declared[start:] if d[1] not in shadowed]
            info.fields -= shadowed
        for a in c.attrs:
            if a.call is None:
                continue
            func = a.call.func
            kind = _field_kind(func)
            unique = dict(a.call.kwargs).get("unique") == ("lit", True) or dict(a.call.kwargs).get("primary_key") == ("lit", True)
            if kind is not None:
                declared.append((q, a.name, kind, c, a.call))
                if unique or kind == O2O:
                    info.unique_fields |= {a.name, f"{a.name}_id"}
            elif _is_any_field(func):
                info.fields.add(a.name)
                if _last(func).endswith(("FileField", "ImageField")):
                    info.file_fields.add(a.name)
                if unique:
                    info.unique_fields.add(a.name)
            elif _is_manager_call(func, index, c.module):
                info.managers.add(a.name)
                mc = index.resolve_class(func, c.module)
                if mc is not None:
                    info.manager_classes[a.name] = mc.qualname
                else:
                    info.manager_classes.pop(a.name, None)
        o = _meta(c, "ordering")
        if o is not None:
            ordering = o
        sets = _unique_sets(c)
        if sets is not None:
            info.unique_sets = sets  # a subclass's Meta replaces its base's
        for m in c.methods:
            fq = f"{c.qualname}.{m}"
            info.members.setdefault(m, fq)
            fn = index.functions.get(fq)
            if fn is not None and any(_last(d) in _QUERY_DECORATORS for d in fn.decorators):
                info.properties.add(m)
    # subclass definitions win over inherited ones
    for c in chain:
        for m in c.methods:
            info.members[m] = f"{c.qualname}.{m}"
    info.ordering = bool(ordering)


def _unique_sets(cls: ClassFacts) -> Optional[List[FrozenSet[str]]]:
    """The field sets ``Meta.unique_together`` (one tuple or a tuple of tuples) and unconditional
    ``UniqueConstraint(fields=[...])`` entries make unique; None when the class's Meta sets none."""
    out: List[FrozenSet[str]] = []
    together = cls.meta_value("unique_together")
    names = _strings(together)
    if names:
        out.append(frozenset(names))
    elif together is not None and together[0] == "list":
        out += [frozenset(g) for g in (_strings(v) for v in together[1]) if g]
    for k, v in cls.meta:
        if k == "unique_constraint_fields" and isinstance(v[1], tuple) and v[1]:
            out.append(frozenset(v[1]))
    return out or None


def _strings(value) -> Tuple[str, ...]:
    """The strings of a summarised list or tuple of string literals, else ()."""
    if value is None or value[0] != "list" or not value[1] or any(v[0] != "str" for v in value[1]):
        return ()
    return tuple(v[1] for v in value[1])


def _external_user() -> ModelInfo:
    """django.contrib.auth's User: its fields, groups/permissions (the reverse accessors project models give it come later)."""
    user = ModelInfo(
        EXTERNAL_USER, "User", "django.contrib.auth.models",
        fields={"username", "email", "first_name", "last_name", "password", "is_active", "is_staff", "is_superuser", "last_login", "date_joined"},
    )
    for name in ("groups", "user_permissions"):
        user.relations[name] = Relation(name, M2M, None, EXTERNAL_USER, EXTERNAL_USER, name)
    return user


def _target_of(graph: ModelGraph, call: CallSummary, owner_cls: ClassFacts, concrete: str) -> Optional[str]:
    """The model a relation field points to (``"self"``, ``"app.Model"``, ``Model``, the user model)."""
    to = call.args[0] if call.args else call.kwarg("to")
    if to is None:
        return None
    kind, value = to
    if kind == "str":
        if value == "self":
            return concrete
        if value.endswith("AUTH_USER_MODEL") or value in ("auth.User", "django.contrib.auth.models.User"):
            return graph.user_model or EXTERNAL_USER
        hit = graph.resolve(value, owner_cls.module)
        return hit.qualname if hit else None
    if kind == "name" and value:
        if value.endswith("AUTH_USER_MODEL") or value in ("django.contrib.auth.models.User",) or value.endswith("get_user_model"):
            return graph.user_model or EXTERNAL_USER
        hit = graph.resolve(value, owner_cls.module)
        return hit.qualname if hit else None
    if kind == "call" and value and _last(value) == "get_user_model":
        return graph.user_model or EXTERNAL_USER
    return None


def _add_relation(graph: ModelGraph, concrete: str, fname: str, kind: str, decl: ClassFacts, call: CallSummary) -> None:
    """A declared relation field on ``concrete``, and its reverse accessor on the target model."""
    info = graph.models[concrete]
    if kind == GFK:
        info.relations[fname] = Relation(fname, GFK, None, concrete, concrete, fname)
        return
    target = _target_of(graph, call, decl, concrete)
    info.relations[fname] = Relation(fname, kind, target, concrete, concrete, fname, null=call.kwarg("null") == ("lit", True))
    if kind == GREL or info.abstract:
        return
    tinfo = graph.models.get(target) if target else None
    if tinfo is None:
        return
    rn = call.kwarg("related_name")
    related_name = rn[1] if rn is not None and rn[0] == "str" else None
    if rn is not None and rn[0] != "str":
        return  # computed name: unknown
    if related_name is not None:
        if related_name.endswith("+"):
            return
        app = info.module.split(".")
        app_label = app[-2] if len(app) >= 2 and app[-1] == "models" else app[0]
        related_name = related_name.replace("%(class)s", info.name.lower()).replace("%(app_label)s", app_label.lower())
        accessor = related_name
    else:
        accessor = info.name.lower() if kind == O2O else info.name.lower() + "_set"
    rkind = {FK: REV_FK, O2O: REV_O2O, M2M: REV_M2M}[kind]
    if accessor not in tinfo.relations:
        tinfo.relations[accessor] = Relation(accessor, rkind, concrete, cast(str, target), concrete, fname)  # tinfo found: target set


def count_lookup(graph: "ModelGraph", model: Optional[str], path: str) -> str:
    """The lookup an aggregate needs for a relation path of accessors: a reverse relation with no
    ``related_name`` is read as ``hit_set`` but queried as ``hit`` (``Count("hit")``; shynet's
    ``Count("hit_set")`` raises FieldError). Hops querylint cannot follow stay as written."""
    out = []
    info = graph.get(model) if model else None
    for hop in split_path(path):
        rel = info.relation(hop) if info is not None else None
        child = graph.get(rel.target) if rel is not None and rel.target else None
        if rel is not None and rel.kind in (REV_FK, REV_M2M) and child is not None and hop == child.name.lower() + "_set":
            hop = child.name.lower()
        out.append(hop)
        info = child
    return "__".join(out)


def model_graph(index: ProjectIndex) -> ModelGraph:
    return index.derived("django-model-graph", build_graph)


def split_path(path: str) -> Tuple[str, ...]:
    return tuple(p for p in path.split("__") if p)


def sub_paths(covered: FrozenSet[str], name: str) -> FrozenSet[str]:
    prefix = name + "__"
    return frozenset(p[len(prefix):] for p in covered if p.startswith(prefix))


def expand_paths(paths) -> FrozenSet[str]:
    """``{"a__b__c"}`` → ``{"a", "a__b", "a__b__c"}`` (every prefix is loaded too)."""
    out: Set[str] = set()
    for p in paths:
        parts = split_path(p)
        for i in range(1, len(parts) + 1):
            out.add("__".join(parts[:i]))
    return frozenset(out)
