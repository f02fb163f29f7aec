"""Django REST Framework views and serializers, derived once per run from the project index.

For each serializer: its model (``Meta.model``), its method fields (``SerializerMethodField`` →
``get_<field>``), and the relation paths it reads per object (nested serializers, related
fields that need the object, dotted ``source=``), recursively through nested serializers.
For each list view: its serializer class.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Set, Tuple

from querylint.project.facts import ClassFacts
from querylint.frameworks.django.models import FK, M2M, MANY, O2O, SINGLE, ModelGraph, ModelInfo, model_graph
from querylint.project.index import ProjectIndex

_SERIALIZER_BASES = {"Serializer", "ModelSerializer", "HyperlinkedModelSerializer"}
_LIST_VIEW_BASES = {"ListModelMixin", "ModelViewSet", "ReadOnlyModelViewSet", "ListAPIView", "ListCreateAPIView"}
# related fields that need the related object itself (not just its id)
_OBJECT_FIELDS = {"StringRelatedField", "SlugRelatedField"}
_ID_FIELDS = {"PrimaryKeyRelatedField", "HyperlinkedRelatedField", "ManyRelatedField"}


def _last(name: str) -> str:
    return name.rsplit(".", 1)[-1]


@dataclass(frozen=True)
class Need:
    path: str  # relation path from the serializer's model ("author", "books__tags")
    many: bool  # needs prefetch_related (a to-many relation somewhere on the path)
    field: str  # the serializer field that reads it
    serializer: str  # qualname of the serializer declaring the field


@dataclass
class SerializerInfo:
    qualname: str
    model: Optional[str]
    method_fields: Dict[str, str] = field(default_factory=dict)  # method name -> field name
    needs: List[Need] = field(default_factory=list)


@dataclass
class DrfInfo:
    serializers: Dict[str, SerializerInfo] = field(default_factory=dict)
    views: Dict[str, str] = field(default_factory=dict)  # list view qualname -> serializer qualname
    users: Dict[str, List[str]] = field(default_factory=dict)  # serializer -> list views using it
    detail_users: Dict[str, List[str]] = field(default_factory=dict)  # serializer -> other views using it
    nested_many: Set[str] = field(default_factory=set)  # serializers nested with many=True
    # serializer -> (back-reference, parent model) for every nesting under a one-step reverse
    # relation (``commands = CommandSerializer(many=True)`` on a Build serializer: ``command.build``)
    back_refs: Dict[str, Set[Tuple[str, str]]] = field(default_factory=dict)
    nested_other: Set[str] = field(default_factory=set)  # serializers nested any other way
    list_known: Set[str] = field(default_factory=set)  # serializers known to run per row of a list (see ``_known_list_serializers``)
    # of those known only as a base of list serializers: the method fields the subclasses keep
    list_methods: Dict[str, Set[str]] = field(default_factory=dict)
    # imported by a module that neither calls, subclasses nor assigns it: handed on as a value
    # (``DataExporter(IssueExportSerializer)``) to code that serializes rows querylint cannot see
    passed_on: Set[str] = field(default_factory=set)

    def parent_back_refs(self, serializer: str) -> Set[Tuple[str, str]]:
        """The back-references every nesting of the serializer sets on its objects, when it is
        only ever nested under reverse relations (never a view's own serializer)."""
        if serializer in self.nested_other or self.users.get(serializer) or self.detail_users.get(serializer):
            return set()
        return self.back_refs.get(serializer, set())

    def only_single_objects(self, serializer: str) -> bool:
        """Known to serialize one object at a time (only detail views use it)."""
        return bool(self.detail_users.get(serializer)) and not self.users.get(serializer) and serializer not in self.nested_many


def _is_serializer(index: ProjectIndex, cls) -> bool:
    for a in index.ancestors(cls):
        if _last(a) in _SERIALIZER_BASES and (a.startswith("rest_framework") or "serializers" in a):
            return True
    return False


# a serializer field that reads relations: (field, source path, many, nested serializer qualname)
_Field = Tuple[str, str, bool, Optional[str]]


def build_drf(index: ProjectIndex) -> DrfInfo:
    graph = model_graph(index)
    info = DrfInfo()
    ser_classes = {q: c for q, c in index.classes.items() if _is_serializer(index, c)}
    if not ser_classes:
        return info
    raw: Dict[str, List[_Field]] = {}
    for q, cls in ser_classes.items():
        info.serializers[q], raw[q] = _read_serializer(q, cls, index, graph, ser_classes)
    for q in info.serializers:
        info.serializers[q].needs = _resolve_needs(q, info, raw, graph)
    _link_views(info, index, ser_classes)
    _link_listing_methods(info, index)
    # serializers nested with many=True in another serializer run once per item too
    for q, items in raw.items():
        parent = graph.get(info.serializers[q].model)
        for _f, src, many, nested in items:
            if nested is None:
                continue
            if many:
                info.nested_many.add(nested)
            rel = parent.relation(src) if parent is not None and "." not in src and "__" not in src else None
            back = rel.back_reference if rel is not None else None
            if back is not None and parent is not None:
                info.back_refs.setdefault(nested, set()).add((back, parent.qualname))
            else:
                info.nested_other.add(nested)
    info.list_known = _known_list_serializers(info, index)
    info.passed_on = _passed_on(info, index)
    return info


def _passed_on(info: DrfInfo, index: ProjectIndex) -> Set[str]:
    out: Set[str] = set()
    for ff in index.modules.values():
        if ff.path.endswith("__init__.py"):
            continue  # re-exports
        for local, imported in ff.imports:
            cls = index.resolve_class(imported, ff.module)
            target = cls.qualname if cls is not None else imported
            if target not in info.serializers:
                continue
            forms = {target, imported}
            called = any(c in forms or c.rsplit(".", 1)[0] in forms for fn in ff.functions for c in fn.calls)
            called = called or any(call.func in forms for _n, call in ff.module_calls)
            subclassed = any(forms & set(c.bases) for c in ff.classes)
            word = re.compile(rf"\b{re.escape(local)}\b")
            named = any(
                (a.call is not None and (a.call.func in forms or word.search(repr(a.call)))) or (a.value is not None and word.search(repr(a.value)))
                for c in ff.classes for a in c.attrs
            )
            if not (called or subclassed or named):
                out.add(target)
    return out


def _known_list_serializers(info: DrfInfo, index: ProjectIndex) -> Set[str]:
    """Serializers known to run once per row of a list: named by a list view, built with
    ``many=True``, nested with ``many=True`` or under a reverse relation; then their serializer bases (a method defined on
    ``CommentSerializer`` runs for ``NodeCommentSerializer``'s rows) and the serializers their
    methods build (``ParamsSerializer(obj.params).data`` in ``get_params``), to a fixpoint."""
    known = set(info.users) | info.nested_many | set(info.back_refs)
    for fn in index.functions.values():
        for target, _pos, keywords, _short in fn.call_consts:
            if "many" in keywords and target in info.serializers:
                known.add(target)  # ``MediaSearchSerializer(page, many=True)`` in a view
    as_base: Dict[str, Set[str]] = {}  # a base known through subclasses: the methods they keep
    for _ in range(4):
        grown = set(known)
        for q in known:
            cls = index.classes.get(q)
            for base in index.ancestors(cls) if cls is not None else ():
                if base in info.serializers:
                    if base not in known or base in as_base:
                        as_base.setdefault(base, set()).update(info.serializers[q].method_fields)
                    grown.add(base)
        for fn in index.functions.values():
            if fn.cls in known:
                for t in fn.calls:
                    if t in info.serializers:
                        grown.add(t)
                        as_base.pop(t, None)  # built per row by a known serializer's method
        if grown == known:
            break
        known = grown
    info.list_methods = as_base
    return known


def _serializer_model(cls: ClassFacts, index: ProjectIndex, graph: ModelGraph) -> Optional[str]:
    """The model of ``Meta.model`` (inherited too)."""
    for c in index.mro_classes(cls):
        v = c.meta_value("model")
        if v is not None and v[0] == "name":
            m = graph.resolve(v[1], c.module)
            return m.qualname if m else None
    return None


def _read_serializer(q: str, cls: ClassFacts, index: ProjectIndex, graph: ModelGraph, ser_classes: Dict[str, ClassFacts]) -> Tuple[SerializerInfo, List[_Field]]:
    """A serializer's model and method fields, and its fields that read relations (declared, then implicit)."""
    s = SerializerInfo(q, _serializer_model(cls, index, graph))
    items: List[_Field] = []
    for c in reversed(index.mro_classes(cls)):
        if c.qualname in ser_classes:
            _declared_fields(c, s, items, index, ser_classes)
    listed = _listed_fields(cls, index)
    if listed is not None:
        # a field a base declares but this serializer's ``Meta.fields`` leaves out is never read
        # (kpi's ``AssetMinimalListSerializer(AssetSerializer)`` with three fields)
        items = [it for it in items if it[0] in listed]
        s.method_fields = {m: f for m, f in s.method_fields.items() if f in listed}
    declared = {it[0] for it in items} | set(s.method_fields.values())
    for c in index.mro_classes(cls):
        if c.qualname in ser_classes:
            declared |= {a.name for a in c.attrs}
    items.extend(_implicit_relation_fields(cls, index, graph, s.model, declared))
    if "to_representation" in cls.methods:
        s.method_fields["to_representation"] = "to_representation"
    return s, items


def _declared_fields(c: ClassFacts, s: SerializerInfo, items: List[_Field], index: ProjectIndex, ser_classes: Dict[str, ClassFacts]) -> None:
    """The fields one serializer class declares: method fields into ``s``, relation readers into ``items``."""
    for a in c.attrs:
        if a.call is None:
            continue
        func = a.call.func
        src = a.call.kwarg("source")
        source = src[1] if src is not None and src[0] == "str" else None
        many_v = a.call.kwarg("many")
        many = many_v is not None and many_v == ("lit", True)
        last = _last(func)
        if last == "SerializerMethodField":  # noqa: SIM114
            mn = a.call.kwarg("method_name")
            method = mn[1] if mn is not None and mn[0] == "str" else f"get_{a.name}"
            s.method_fields[method] = a.name
            continue
        nested = index.resolve_class(func, c.module)
        if nested is not None and nested.qualname in ser_classes:
            items.append((a.name, source or a.name, many, nested.qualname))
        elif last in _OBJECT_FIELDS:
            items.append((a.name, source or a.name, many, None))
        elif last in _ID_FIELDS and many:
            items.append((a.name, source or a.name, True, None))
        elif source and "." in source:
            items.append((a.name, source.rsplit(".", 1)[0].replace(".", "__"), False, None))


def _resolve_needs(q: str, info: DrfInfo, raw: Dict[str, List[_Field]], graph: ModelGraph, depth: int = 0) -> List[Need]:
    """The relation paths serializer ``q`` reads per object, through its nested serializers."""
    s = info.serializers[q]
    model = graph.get(s.model)
    out: List[Need] = []
    if model is None or depth > 4:
        return out
    for fname, source, many, nested in raw.get(q, ()):
        parts = source.replace(".", "__").split("__")
        cur: Optional[ModelInfo] = model
        path: List[str] = []
        to_many = False
        ok = True
        last = None
        for p in parts:
            rel = cur.relation(p) if cur else None
            if rel is None:
                ok = False
                break
            path.append(p)
            if rel.kind in MANY:
                to_many = True
            cur = graph.get(rel.target)
            last = rel
        if not ok or not path:
            continue
        out.append(Need("__".join(path), to_many, fname, q))
        if nested is not None and nested in info.serializers and cur is not None:
            back = last.back_reference if last is not None and len(path) == 1 else None
            for sub in _resolve_needs(nested, info, raw, graph, depth + 1):
                steps = sub.path.split("__")
                if back is not None and steps[0] == back:
                    # ``images.exercise``: each image's way back is the parent object itself
                    if len(steps) > 1:
                        out.append(Need("__".join(steps[1:]), sub.many, f"{fname}.{sub.field}", sub.serializer))
                    continue
                out.append(Need("__".join(path) + "__" + sub.path, to_many or sub.many, f"{fname}.{sub.field}", sub.serializer))
    return out


def _link_views(info: DrfInfo, index: ProjectIndex, ser_classes: Dict[str, ClassFacts]) -> None:
    """Which views use which serializer (``serializer_class``), list views apart."""
    for q, cls in index.classes.items():
        if q in ser_classes:
            continue
        names = [_last(a) for a in index.ancestors(cls)]
        is_list = any(n in _LIST_VIEW_BASES for n in names)
        picker = index.find_method(q, "get_serializer_class")
        # ``if self.action == "list": return FooListSerializer``: the list never uses ``serializer_class``
        lists_own = picker is not None and bool(picker.list_returned_names)
        for c in index.mro_classes(cls):
            a = c.attr("serializer_class")
            if a is not None and a.value is not None and a.value[0] == "name":
                ser = index.resolve_class(a.value[1], c.module)
                if ser is not None and ser.qualname in info.serializers:
                    if is_list and not lists_own:
                        info.views[q] = ser.qualname
                        info.users.setdefault(ser.qualname, []).append(q)
                    else:
                        info.detail_users.setdefault(ser.qualname, []).append(q)
                break
        # ``def get_serializer_class(self): if self.action == "list": return FooListSerializer``
        picked = [index.resolve_class(name, picker.module) for name in picker.returned_names] if picker is not None else []
        for ser in picked:
            if ser is not None and ser.qualname in info.serializers and q not in info.users.get(ser.qualname, ()):
                listed = is_list and (not lists_own or (picker is not None and ser.qualname in _resolved(index, picker, picker.list_returned_names)))
                (info.users if listed else info.detail_users).setdefault(ser.qualname, []).append(q)
                if listed and lists_own:
                    info.views.setdefault(q, ser.qualname)


_VIEW_ROWS = ("self.queryset", "self.get_queryset", "self.filter_queryset")
_LOADERS = ("select_related", "prefetch_related", "only", "defer", "annotate", "values", "values_list")


def _link_listing_methods(info: DrfInfo, index: ProjectIndex) -> None:
    """``class TaskViewSet(ViewSet): queryset = ...`` (or ``def get_queryset``) whose ``list`` or
    ``@action`` builds ``TaskSerializer(self.queryset.filter(...), many=True)``: the view lists the
    serializer's objects from its own queryset (unless the method loads more on the way, which it
    cannot read)."""
    for fn in index.functions.values():
        if fn.cls is None or fn.cls in info.serializers or not any(c.startswith(_VIEW_ROWS) for c in fn.calls):
            continue
        if any(c.rsplit(".", 1)[-1] in _LOADERS for c in fn.calls):
            continue
        cls = index.classes.get(fn.cls)
        if cls is None or not any(c.attr("queryset") is not None or "get_queryset" in c.methods for c in index.mro_classes(cls)):
            continue
        for target, _pos, keywords, _short in fn.call_consts:
            if "many" in keywords and target in info.serializers and fn.cls not in info.users.get(target, ()):
                info.users.setdefault(target, []).append(fn.cls)


def _resolved(index: ProjectIndex, fn, names) -> Set[str]:
    return {c.qualname for c in (index.resolve_class(n, fn.module) for n in names) if c is not None}


def _listed_fields(cls, index: ProjectIndex) -> Optional[Set[str]]:
    """The names of a literal ``Meta.fields`` list (not ``"__all__"``), else None."""
    fields = _meta_of(cls, index, "fields")
    if fields is None or fields[0] != "list" or any(k != "str" for k, _v in fields[1]):
        return None
    return {v for _k, v in fields[1]}


def _meta_of(cls, index: ProjectIndex, key: str):
    for c in index.mro_classes(cls):
        v = c.meta_value(key)
        if v is not None:
            return v
    return None


def _implicit_relation_fields(cls, index: ProjectIndex, graph: ModelGraph, model_q: Optional[str], declared: Set[str]):
    """Relation fields a ModelSerializer builds from ``Meta.fields`` / ``Meta.depth``.

    A to-many relation becomes ``PrimaryKeyRelatedField(many=True)`` (one query per object unless
    prefetched); with ``depth >= 1`` every relation becomes a nested serializer.
    """
    model = graph.get(model_q)
    if model is None:
        return []
    fields = _meta_of(cls, index, "fields")
    depth = _meta_of(cls, index, "depth")
    nested = depth is not None and depth[0] == "lit" and isinstance(depth[1], int) and depth[1] >= 1
    if fields is None:
        return []
    if fields == ("str", "__all__"):
        names = [n for n, r in model.relations.items() if r.kind in (FK, O2O, M2M)]
    elif fields[0] == "list":
        names = [v for k, v in fields[1] if k == "str"]
    else:
        return []
    out = []
    for name in names:
        if name in declared:
            continue
        rel = model.relation(name)
        if rel is None:
            continue
        if rel.kind in MANY:
            out.append((name, name, True, None))
        elif nested and rel.kind in SINGLE:
            out.append((name, name, False, None))
    return out


def drf_info(index: ProjectIndex) -> DrfInfo:
    return index.derived("django-drf", build_drf)
