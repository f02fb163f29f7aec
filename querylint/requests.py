"""Where the per-request (and per-job) code is: handlers and everything they call in the project.

Entry points are found from the index facts alone: Django function views (wired in ``urls.py``
or taking ``request`` first), class-based views and DRF views/viewsets and their handler
methods, DRF serializer methods, Flask/FastAPI/Starlette/aiohttp route decorators, and task
decorators (Celery, RQ, Dramatiq). Configured decorators and base classes extend the lists.
"""
from __future__ import annotations

from typing import Dict, Optional, Tuple

from querylint.config import Config
from querylint.facts import FunctionFacts
from querylint.index import ProjectIndex

ROUTE_DECORATOR_ATTRS = {
    "route", "get", "post", "put", "patch", "delete", "head", "options", "api_route", "websocket",
    "websocket_route", "view",
}
TASK_DECORATORS = {
    "celery.shared_task", "shared_task", "celery.task", "task", "job", "rq.job", "rq.decorators.job",
    "dramatiq.actor", "actor", "huey.task", "periodic_task", "db_task", "db_periodic_task",
}
DJANGO_VIEW_DECORATORS = {"api_view", "require_GET", "require_POST", "require_http_methods", "login_required", "permission_required", "csrf_exempt", "action"}
VIEW_BASES = (
    "django.views", "django.views.generic", "rest_framework.views", "rest_framework.generics",
    "rest_framework.viewsets", "rest_framework.mixins", "flask.views", "aiohttp.web.View",
    "starlette.endpoints", "ninja",
)
VIEW_BASE_NAMES = {
    "View", "TemplateView", "ListView", "DetailView", "CreateView", "UpdateView", "DeleteView", "FormView",
    "RedirectView", "APIView", "GenericAPIView", "ViewSet", "GenericViewSet", "ModelViewSet",
    "ReadOnlyModelViewSet", "ListAPIView", "RetrieveAPIView", "CreateAPIView", "ListCreateAPIView",
    "RetrieveUpdateAPIView", "RetrieveDestroyAPIView", "RetrieveUpdateDestroyAPIView", "UpdateAPIView",
    "DestroyAPIView", "MethodView", "HTTPEndpoint", "WebSocketEndpoint",
}
SERIALIZER_BASE_NAMES = {"Serializer", "ModelSerializer", "HyperlinkedModelSerializer", "ListSerializer"}
HANDLER_METHODS = {
    "get", "post", "put", "patch", "delete", "head", "options", "list", "retrieve", "create", "update",
    "partial_update", "destroy", "get_queryset", "get_object", "perform_create", "perform_update",
    "perform_destroy", "dispatch", "get_context_data", "form_valid", "dispatch_request", "get_serializer_context",
}
SERIALIZER_METHODS_PREFIX = ("get_", "to_representation", "validate")
TASK_BASES = {"Task", "celery.Task", "celery.app.task.Task"}


def _last(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def _is_route_decorator(dec: str, config: Config) -> bool:
    if dec in config.request_decorators or _last(dec) in {_last(d) for d in config.request_decorators}:
        return True
    parts = dec.split(".")
    if len(parts) >= 2 and parts[-1] in ROUTE_DECORATOR_ATTRS:
        owner = parts[-2].lower()
        # app.get / router.post / bp.route / blueprint.get / api.get / routes.get
        if owner in ("app", "router", "bp", "blueprint", "api", "routes", "application", "web", "server") or owner.endswith(("_bp", "_router", "_app", "router", "blueprint", "app", "api")):
            return True
    return False


def _is_task_decorator(dec: str, config: Config) -> Optional[str]:
    if dec in config.task_decorators or _last(dec) in {_last(d) for d in config.task_decorators}:
        return "task"
    if dec in TASK_DECORATORS or _last(dec) in ("shared_task", "actor", "periodic_task", "db_task"):
        return "task"
    parts = dec.split(".")
    if len(parts) >= 2 and parts[-1] == "task" and parts[-2].lower() in ("app", "celery", "huey", "broker", "worker"):
        return "task"
    return None


def _class_kind(index: ProjectIndex, cls_qualname: str, config: Config) -> Optional[str]:
    cls = index.classes.get(cls_qualname)
    if cls is None:
        return None
    names = [cls.qualname] + index.ancestors(cls)
    for name in names:
        if name in config.request_base_classes or _last(name) in {_last(b) for b in config.request_base_classes}:
            return "view"
        last = _last(name)
        if last in VIEW_BASE_NAMES and (any(name.startswith(b) for b in VIEW_BASES) or "." not in name or last not in ("View",) or name.startswith(("django", "rest_framework", "flask"))):
            return "view"
        if last in SERIALIZER_BASE_NAMES and (name.startswith("rest_framework") or "serializers" in name):
            return "serializer"
        if name in TASK_BASES or (last == "Task" and name.startswith("celery")):
            return "task"
    return None


def entry_points(index: ProjectIndex, config: Config) -> Dict[str, str]:
    """{function qualname: description of why it runs per request/job}."""
    out: Dict[str, str] = {}
    routed = set()
    for facts in index.files.values():
        for r in facts.routes:
            routed.add(r)
    for qual, fn in index.functions.items():
        if fn.nested_in:
            continue
        why = _entry_reason(index, fn, config, routed)
        if why:
            out[qual] = why
    return out


def _entry_reason(index: ProjectIndex, fn: FunctionFacts, config: Config, routed) -> Optional[str]:
    for dec in fn.decorators:
        if _is_route_decorator(dec, config):
            return f"request handler `{fn.name}`"
        if _is_task_decorator(dec, config):
            return f"task `{fn.name}`"
        if _last(dec) in DJANGO_VIEW_DECORATORS and fn.params[:1] == ("request",):
            return f"view `{fn.name}`"
    if fn.qualname in routed or any(r.endswith("." + fn.name) and index.resolve_function(r) is fn for r in routed):
        return f"view `{fn.name}`"
    if fn.cls is None and fn.params[:1] == ("request",):
        return f"view `{fn.name}`"
    if fn.cls is not None:
        kind = _class_kind(index, fn.cls, config)
        cls_name = _last(fn.cls)
        if kind == "view" and (fn.name in HANDLER_METHODS or (fn.params[1:2] == ("request",))):
            return f"view `{cls_name}.{fn.name}`"
        if kind == "serializer" and fn.name.startswith(SERIALIZER_METHODS_PREFIX):
            return f"serializer `{cls_name}.{fn.name}` (runs per object)"
        if kind == "task" and fn.name == "run":
            return f"task `{cls_name}.run`"
    return None


def request_paths(index: ProjectIndex, config: Config) -> Dict[str, Tuple[str, Tuple[str, ...]]]:
    """{function qualname: (entry description, call path from the entry)} for per-request code."""

    def compute(ix: ProjectIndex):
        entries = entry_points(ix, config)
        reach = ix.reachable_from(sorted(entries))
        return {q: (entries[path[0]], path) for q, path in reach.items()}

    return index.derived("request_paths", compute)


def request_context(index: ProjectIndex, config: Config, qualname: Optional[str]) -> Optional[Tuple[str, Tuple[str, ...]]]:
    if not qualname:
        return None
    paths = request_paths(index, config)
    hit = paths.get(qualname)
    if hit is None and ".<lambda>" in qualname:
        hit = paths.get(qualname.split(".<lambda>")[0])
    return hit
