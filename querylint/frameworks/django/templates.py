"""Django's side of the template analysis: what a view hands its template, and what a template's
``order.customer`` / ``order.items.all`` / ``order.total`` means on a model.

- :func:`bound` types one context value (``Order.objects.select_related("customer")``) with the
  queryset inference of :mod:`querylint.frameworks.django.querysets`;
- :func:`class_view_render` reads a class-based view: ``ListView``/``DetailView`` and their kin,
  ``template_name`` or Django's default ``<app>/<model>_list.html``, the ``object_list`` /
  ``<model>_list`` / ``object`` / ``<model>`` names, ``context_object_name`` and what
  ``get_context_data`` adds;
- :func:`member` classifies an attribute of a model for the template walk; :func:`fix` names the
  ``select_related``/``prefetch_related`` to add.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import libcst as cst

from querylint.context import Context
from querylint.frameworks.django.models import GFK, MANY, SINGLE, expand_paths, model_graph
from querylint.frameworks.django.n_plus_one import load_edit
from querylint.frameworks.django.querysets import INST, LIST, QS, DjType, infer, view_queryset
from querylint.project.index import ProjectIndex
from querylint.templates.model import ONE, ROWS, Bound, Member, Render

LIST_VIEWS = {
    "ListView", "BaseListView", "MultipleObjectMixin", "MultipleObjectTemplateResponseMixin", "ArchiveIndexView",
    "YearArchiveView", "MonthArchiveView", "WeekArchiveView", "DayArchiveView", "TodayArchiveView", "FilterView",
    "SingleTableView", "SingleTableMixin",
}
DETAIL_VIEWS = {"DetailView", "BaseDetailView", "SingleObjectMixin", "SingleObjectTemplateResponseMixin", "UpdateView", "DeleteView", "DateDetailView"}
_SUFFIX = {"UpdateView": "_form", "CreateView": "_form", "DeleteView": "_confirm_delete"}
# the mixins and base views that fetch objects but render no template: a ``View`` with
# ``SingleObjectMixin`` answering JSON (Ghostwriter's ``AssignProjectContact``) has no default one
_NOT_RENDERING = frozenset({"SingleObjectMixin", "MultipleObjectMixin", "BaseDetailView", "BaseListView", "SingleTableMixin"})
# what a related manager (``order.items``) runs a query for, read from a template
MANAGER_QUERIES = frozenset({"all", "count", "exists", "first", "last", "latest", "earliest", "none"})


def bound(name: str, expr: cst.BaseExpression, ctx: Context) -> Optional[Bound]:
    """``name`` bound to ``expr`` in a view: rows or one instance of a project model, else None."""
    t = infer(expr, ctx)
    return _bound_of(name, t, ctx)


def _bound_of(name: str, t: Optional[DjType], ctx: Context) -> Optional[Bound]:
    if t is None or t.model is None or t.named_only or t.manager and t.kind != QS:
        return None
    if t.kind in (QS, LIST):
        kind = ROWS
    elif t.kind == INST:
        kind = ONE
    else:
        return None  # values() rows are dicts: nothing to load
    if model_graph(ctx.index).get(t.model) is None:
        return None
    line = ctx.line(t.origin) if t.origin is not None and ctx.in_this_file(t.origin) else None
    # where the loop rule's own fix would append ``.select_related(...)``, if it can
    edits = load_edit(t, "select_related", "", ctx) if line is not None else ()
    at = (edits[0].line, edits[0].column) if edits else None
    return Bound(name, "django", kind, t.model, expand_paths(t.covered), t.opaque, t.select_all, line, at)


def _base_names(ctx: Context, cls_qualname: str) -> List[str]:
    index = ctx.index
    cls = index.classes.get(cls_qualname)
    if cls is None:
        return []
    return [b.rsplit(".", 1)[-1] for b in index.ancestors(cls)]


def _class_str(ctx: Context, cls_qualname: str, attr: str) -> Optional[str]:
    """A class attribute (own or inherited) that is a string literal; "" when set to anything else."""
    index = ctx.index
    cls = index.classes.get(cls_qualname)
    if cls is None:
        return None
    for c in index.mro_classes(cls):
        a = c.attr(attr)
        if a is not None:
            if a.value is not None and a.value[0] == "str":
                return str(a.value[1])
            return ""
    return None


def _app_label(module: str) -> str:
    parts = module.split(".")
    if "models" in parts:
        parts = parts[: parts.index("models")]
    return parts[-1] if parts else ""


def class_view_render(ctx: Context, cls_qualname: str, node: cst.ClassDef, extra: Dict[str, Bound]) -> Optional[Render]:
    """The render of a Django class-based view (None when it is not a list or detail view, or its
    model or template is unknown). ``extra``: what its ``get_context_data`` adds."""
    bases = set(_base_names(ctx, cls_qualname))
    is_list = bool(bases & LIST_VIEWS)
    is_detail = not is_list and bool(bases & DETAIL_VIEWS)
    if not (is_list or is_detail):
        # a TemplateView (or any view with a literal template) whose get_context_data adds rows
        name = _class_str(ctx, cls_qualname, "template_name")
        if not name or not extra or not any(b.endswith("View") for b in bases):
            return None
        return Render((name,), cls_qualname, ctx.relpath, ctx.line(node), tuple(extra.values()))
    t = view_queryset(ctx, cls_qualname)
    graph = model_graph(ctx.index)
    info = graph.get(t.model) if t is not None else None
    names: List[str] = []
    explicit = _class_str(ctx, cls_qualname, "template_name")
    if explicit:
        names.append(explicit)
    elif explicit == "":
        return None  # computed: unknown
    renders = bool(bases & (LIST_VIEWS | DETAIL_VIEWS | {"TemplateResponseMixin"}) - _NOT_RENDERING)
    if info is not None and renders:
        suffix = _class_str(ctx, cls_qualname, "template_name_suffix")
        if suffix is None:
            suffix = next((s for b, s in _SUFFIX.items() if b in bases), "_list" if is_list else "_detail")
        if suffix:
            names.append(f"{_app_label(info.module)}/{info.name.lower()}{suffix}.html")
    if not names:
        return None
    bindings: Dict[str, Bound] = {}
    if info is not None and t is not None:
        own = _class_str(ctx, cls_qualname, "context_object_name")
        if is_list:
            rows = DjType(LIST, t.model, t.covered, t.select_all, t.to_attrs, opaque=t.opaque, origin=t.origin)
            for n in ("object_list", "page_obj", own or f"{info.name.lower()}_list"):
                b = _bound_of(n, rows, ctx)
                if b is not None:
                    bindings[n] = b
        else:
            one = DjType(INST, t.model, t.covered, t.select_all, t.to_attrs, opaque=t.opaque, origin=t.origin)
            for n in ("object", own or info.name.lower()):
                b = _bound_of(n, one, ctx)
                if b is not None:
                    bindings[n] = b
    bindings.update(extra)
    if not bindings:
        return None
    return Render(tuple(names), cls_qualname, ctx.relpath, ctx.line(node), tuple(bindings.values()))


def member(index: ProjectIndex, model: str, name: str) -> Optional[Member]:
    """``obj.<name>`` on a Django model, as a template reads it (methods are called without arguments)."""
    info = model_graph(index).get(model)
    if info is None:
        return None
    rel = info.relation(name)
    if rel is not None:
        label = f"{info.name}.{name}"
        if rel.kind in SINGLE:
            return Member("single", rel.target, label, nullable=rel.null or rel.kind == GFK)
        if rel.kind in MANY:
            return Member("many", rel.target, label, manager=True, query_methods=MANAGER_QUERIES, back_reference=rel.back_reference)
        return None
    fn_qual = info.members.get(name)
    if fn_qual is None:
        return None
    fn = index.functions.get(fn_qual)
    if fn is None or len([p for p in fn.params if not p.startswith("*")]) > 1:
        return None  # a template cannot pass arguments
    path = index.query_path(fn_qual)
    if path is None:
        return None
    return Member("query", None, f"{info.name}.{name}", call_path=path)


def fix(index: ProjectIndex, b: Bound, path: Tuple[str, ...], where: str) -> Tuple[str, Tuple[Tuple[int, int, str], ...]]:
    """(``add .select_related("customer") to the queryset in shop/views.py:14``, the edits of the
    view's file: ``.select_related("customer")`` appended to the queryset when it is built there)."""
    info = model_graph(index).get(b.model)
    many = False
    model = info
    for name in path:
        rel = model.relation(name) if model is not None else None
        if rel is None or rel.kind in MANY or rel.kind == GFK:
            many = True
        model = model_graph(index).get(rel.target) if rel is not None else None
    how = "prefetch_related" if many else "select_related"
    call = f'.{how}("{"__".join(path)}")'
    return f"add {call} to {where}", ((b.append_at[0], b.append_at[1], call),) if b.append_at else ()
