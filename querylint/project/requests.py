"""Where the per-request (and per-job) code is: handlers and everything they call in the project.

Entry points are found from the index facts alone:

* Django function views (wired in ``urls.py`` or taking ``request`` first), class-based views,
  Django admin classes and middleware, DRF views/viewsets and their handler methods, DRF
  serializers' per-object methods;
* Flask/Quart routes and per-request hooks (``@app.route``, ``@bp.get``, ``before_request``,
  ``MethodView``), FastAPI/Starlette endpoints (``@app.get``, ``@router.post``, websockets,
  ``Depends(...)`` dependencies, ``HTTPEndpoint``), aiohttp handlers and class views;
* GraphQL resolvers (graphene ``resolve_*``/``mutate``, strawberry fields) and Django
  Channels consumers;
* task functions (Celery ``@shared_task`` / ``@app.task``, RQ ``@job``, Dramatiq ``@actor``,
  Huey) and ``celery.Task.run``;
* AWS Lambda handlers (``def lambda_handler(event, context)``), once per invocation;
* configured decorators and base classes (``request-decorators``, ``request-base-classes``,
  ``task-decorators``).

The decorator's owner is resolved through module-level assignments (``users = Blueprint(...)``,
``router = APIRouter()``, ``celery_app = Celery(...)``), so any variable name works.

Start-up code is never an entry: FastAPI/Starlette lifespan handlers and ``on_event`` hooks,
Flask ``before_first_request``, ``AppConfig.ready``, management commands' ``handle``, app
factories, ``if __name__ == "__main__":`` blocks (module level) and ``startup-functions``.
Everything reachable from an entry through the project call graph runs per request too,
including ``Class.__init__`` for classes instantiated there (view objects themselves are built
per request). Routes registered as statements (``app.add_url_rule(..., view_func=f)``,
``router.register("b", ViewSet)``) count like decorated ones.
"""
from __future__ import annotations

from collections import Counter
from typing import Dict, FrozenSet, Iterable, Optional, Set, Tuple, cast

from querylint.run.config import Config
from querylint.project.contexts import path_context
from querylint.project.facts import FunctionFacts
from querylint.project.index import ProjectIndex

ROUTE_DECORATOR_ATTRS = {
    "route", "get", "post", "put", "patch", "delete", "head", "options", "api_route", "websocket",
    "websocket_route", "view", "trace", "add_route",
    # MCP servers: every tool call, resource read and prompt is a request (``@mcp.tool()``)
    "tool", "resource", "prompt", "call_tool", "read_resource", "get_prompt",
}
# per-request hooks of web apps (``@app.before_request``) - not start-up
REQUEST_HOOK_ATTRS = {
    "before_request", "after_request", "teardown_request", "teardown_appcontext", "before_app_request",
    "after_app_request", "teardown_app_request", "middleware", "exception_handler", "errorhandler",
    "app_errorhandler", "context_processor", "app_context_processor", "url_value_preprocessor",
}
# start-up hooks (``@app.before_first_request``, ``@app.on_event("startup")``)
STARTUP_HOOK_ATTRS = {
    "before_first_request", "on_event", "on_startup", "on_shutdown", "before_serving", "after_serving",
    "before_server_start", "after_server_start", "before_server_stop", "listener", "on_startup_hook",
    "cli", "command", "shell_context_processor",
}
WEB_APP_CONSTRUCTORS = {
    "flask.Flask", "flask.Blueprint", "flask.blueprints.Blueprint", "quart.Quart", "quart.Blueprint",
    "fastapi.FastAPI", "fastapi.APIRouter", "fastapi.routing.APIRouter", "starlette.applications.Starlette",
    "starlette.routing.Router", "sanic.Sanic", "sanic.Blueprint", "aiohttp.web.RouteTableDef",
    "aiohttp.web.Application", "ninja.NinjaAPI", "ninja.Router", "apiflask.APIFlask", "apiflask.APIBlueprint",
    "flask_smorest.Blueprint", "flask_restx.Namespace", "flask_restx.Api", "flask_restful.Api", "bottle.Bottle",
    "litestar.Router", "falcon.App", "falcon.asgi.App", "connexion.App",
    "mcp.server.fastmcp.FastMCP", "mcp.server.fastmcp.server.FastMCP", "fastmcp.FastMCP", "fastmcp.server.FastMCP",
    "mcp.server.Server", "mcp.server.lowlevel.Server", "mcp.server.lowlevel.server.Server",
}
WEB_APP_NAMES = {"Flask", "Blueprint", "Quart", "FastAPI", "APIRouter", "Starlette", "Sanic", "RouteTableDef", "NinjaAPI", "APIFlask", "APIBlueprint", "FastMCP"}
TASK_APP_CONSTRUCTORS = {"celery.Celery", "huey.Huey", "huey.RedisHuey", "huey.SqliteHuey", "huey.PriorityRedisHuey", "huey.contrib.djhuey.HUEY"}
TASK_DECORATORS = {
    "celery.shared_task", "celery.task", "celery.decorators.task", "celery.decorators.periodic_task",
    "rq.job", "rq.decorators.job", "django_rq.job", "dramatiq.actor", "huey.task", "huey.periodic_task",
    "huey.contrib.djhuey.task", "huey.contrib.djhuey.db_task", "huey.contrib.djhuey.periodic_task",
    "huey.contrib.djhuey.db_periodic_task", "arq.worker.func", "taskiq.task",
    # not imported (a decorator defined or star-imported in the project)
    "shared_task", "task", "job", "actor",
}
TASK_DECORATOR_LASTS = {"shared_task", "actor", "periodic_task", "db_task", "db_periodic_task"}
TASK_DECORATOR_ATTRS = {"task", "actor", "periodic_task", "db_task", "db_periodic_task", "job"}
DJANGO_VIEW_DECORATORS = {
    "api_view", "require_GET", "require_POST", "require_safe", "require_http_methods", "login_required",
    "permission_required", "csrf_exempt", "action", "staff_member_required", "user_passes_test",
    "cache_page", "never_cache", "vary_on_headers", "sensitive_post_parameters", "transaction.atomic", "atomic",
}
VIEW_BASES = (
    "django.views", "django.views.generic", "django.contrib.admin", "rest_framework.views", "rest_framework.generics",
    "rest_framework.viewsets", "rest_framework.mixins", "flask.views", "aiohttp.web", "starlette.endpoints",
    "ninja", "flask_restful", "flask_restx", "quart.views", "sanic.views", "django.utils.deprecation",
    "channels.generic", "tornado.web",
)
VIEW_BASE_NAMES = {
    "View", "TemplateView", "ListView", "DetailView", "CreateView", "UpdateView", "DeleteView", "FormView",
    "RedirectView", "ArchiveIndexView", "YearArchiveView", "MonthArchiveView", "DayArchiveView",
    "APIView", "GenericAPIView", "ViewSet", "GenericViewSet", "ModelViewSet", "ViewSetMixin",
    "ReadOnlyModelViewSet", "ListAPIView", "RetrieveAPIView", "CreateAPIView", "ListCreateAPIView",
    "RetrieveUpdateAPIView", "RetrieveDestroyAPIView", "RetrieveUpdateDestroyAPIView", "UpdateAPIView",
    "DestroyAPIView", "MethodView", "HTTPEndpoint", "WebSocketEndpoint", "Resource", "HTTPMethodView",
    "ModelAdmin", "TabularInline", "StackedInline", "MiddlewareMixin", "BaseHTTPMiddleware",
    "WebsocketConsumer", "AsyncWebsocketConsumer", "JsonWebsocketConsumer", "AsyncJsonWebsocketConsumer",
    "AsyncConsumer", "SyncConsumer", "RequestHandler",
    "ListModelMixin", "RetrieveModelMixin", "CreateModelMixin", "UpdateModelMixin", "DestroyModelMixin",
}
# base names specific enough to count without a known module (``View``/``Resource`` are not)
_GENERIC_VIEW_NAMES = {"View", "Resource", "ViewSetMixin"}
SERIALIZER_BASE_NAMES = {"Serializer", "ModelSerializer", "HyperlinkedModelSerializer", "ListSerializer", "BaseSerializer"}
FORM_BASE_NAMES = {"Form", "ModelForm"}
HANDLER_METHODS = {
    "get", "post", "put", "patch", "delete", "head", "options", "list", "retrieve", "create", "update",
    "partial_update", "destroy", "get_queryset", "get_object", "perform_create", "perform_update",
    "perform_destroy", "dispatch", "get_context_data", "form_valid", "form_invalid", "dispatch_request",
    "get_serializer_context", "get_serializer", "filter_queryset", "paginate_queryset", "get_success_url",
    "websocket", "on_receive", "on_connect", "on_disconnect", "initial", "finalize_response",
    "process_request", "process_view", "process_response", "process_exception", "process_template_response",
    "__call__", "get_changelist", "changelist_view", "change_view", "add_view", "save_model", "delete_model",
    "has_permission", "has_object_permission", "has_change_permission",
    "connect", "receive", "receive_json", "disconnect", "websocket_connect", "websocket_receive",
    "on_get", "on_post", "on_put", "on_patch", "on_delete", "on_head", "prepare", "on_message",
}
GRAPHQL_BASES = ("graphene.", "graphene_django.")
GRAPHQL_DECORATORS = {"strawberry.field", "strawberry.mutation", "strawberry.subscription", "strawberry_django.field", "strawberry_django.mutation"}
SERIALIZER_METHODS_PREFIX = ("get_", "to_representation", "validate", "create", "update", "save", "to_internal_value")
FORM_METHODS_PREFIX = ("clean", "save", "is_valid")
TASK_BASES = {"Task", "celery.Task", "celery.app.task.Task"}
STARTUP_CLASS_METHODS = {
    # (base class last name, method): start-up or offline code
    ("AppConfig", "ready"), ("BaseCommand", "handle"), ("Command", "handle"), ("AppCommand", "handle_app_config"),
    ("LabelCommand", "handle_label"),
}
STARTUP_FUNCTION_NAMES = {"create_app", "make_app", "init_app", "setup_app", "lifespan", "app_lifespan", "main", "startup", "on_startup", "init_db"}


def _last(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def _lasts(names: Iterable[str]) -> FrozenSet[str]:
    return frozenset(_last(n) for n in names)


# ---------------------------------------------------------------------------- app objects


def app_objects(index: ProjectIndex) -> Dict[str, str]:
    """{qualified module-level name: "web" | "task"} for app/router/blueprint/task-app objects."""

    def compute(ix: ProjectIndex) -> Dict[str, str]:
        out: Dict[str, str] = {}
        for facts in ix.files.values():
            for name, call in facts.module_calls:
                kind = _app_kind(call.func)
                if kind:
                    out[f"{facts.module}.{name}"] = kind
        return out

    return index.derived("connections.app_objects", compute)


def _app_kind(func: str) -> Optional[str]:
    if func in WEB_APP_CONSTRUCTORS or (_last(func) in WEB_APP_NAMES and "." not in func):
        return "web"
    if func in TASK_APP_CONSTRUCTORS or _last(func) in ("Celery", "Huey", "RedisHuey"):
        return "task"
    if _last(func) in WEB_APP_NAMES and func.split(".")[0] in ("flask", "quart", "fastapi", "starlette", "sanic", "ninja", "apiflask", "flask_smorest"):
        return "web"
    return None


def _owner_kind(index: ProjectIndex, fn: FunctionFacts, owner: str) -> Optional[str]:
    """What the decorator's owner object is (``users`` in ``@users.route``), when it is known."""
    apps = app_objects(index)
    for candidate in (owner, f"{fn.module}.{owner}"):
        if candidate in apps:
            return apps[candidate]
    # imported from another module under a different package prefix (``src.app.bp``)
    last = _last(owner)
    hits = {kind for q, kind in apps.items() if q.endswith("." + owner) or (q.endswith("." + last) and "." in owner)}
    if len(hits) == 1:
        return hits.pop()
    return None


_WEB_OWNER_WORDS = ("app", "router", "bp", "blueprint", "api", "routes", "application", "web", "server", "views", "ns", "mcp")


def _owner_looks_web(owner: str) -> bool:
    o = _last(owner).lower()
    return o in _WEB_OWNER_WORDS or o.endswith(("_bp", "_router", "_app", "router", "blueprint", "app", "_api", "_routes"))


def _is_route_decorator(dec: str, fn: FunctionFacts, index: ProjectIndex, config: Config) -> bool:
    if dec in config.request_decorators or _last(dec) in _lasts(config.request_decorators):
        return True
    parts = dec.split(".")
    if len(parts) < 2:
        return False
    attr = parts[-1]
    if attr not in ROUTE_DECORATOR_ATTRS and attr not in REQUEST_HOOK_ATTRS:
        return False
    owner = ".".join(parts[:-1])
    kind = _owner_kind(index, fn, owner)
    if kind is not None:
        return kind == "web"
    if owner.split(".")[0] in ("requests", "httpx", "functools", "dict", "os", "self", "cls"):
        return False
    return _owner_looks_web(owner)


def _is_task_decorator(dec: str, fn: FunctionFacts, index: ProjectIndex, config: Config) -> bool:
    if dec in config.task_decorators or _last(dec) in _lasts(config.task_decorators):
        return True
    if dec in TASK_DECORATORS or _last(dec) in TASK_DECORATOR_LASTS:
        return True
    parts = dec.split(".")
    if len(parts) >= 2 and parts[-1] in TASK_DECORATOR_ATTRS:
        owner = ".".join(parts[:-1])
        kind = _owner_kind(index, fn, owner)
        if kind is not None:
            return kind == "task"
        o = _last(owner).lower()
        return o in ("app", "celery", "huey", "broker", "worker", "queue") or o.endswith(("celery", "_app", "huey"))
    return False


def _is_startup_decorator(dec: str) -> bool:
    parts = dec.split(".")
    return len(parts) >= 2 and parts[-1] in STARTUP_HOOK_ATTRS


# ---------------------------------------------------------------------------- classes


def is_view_class(index: ProjectIndex, cls_qualname: str, config: Config) -> bool:
    """A class-based view (Django, DRF, Flask, Starlette, ...) built per request."""
    return _class_kind(index, cls_qualname, config) == "view" and not _built_once(index, cls_qualname)


def is_graphql_class(index: ProjectIndex, cls_qualname: str, config: Config) -> bool:
    """A GraphQL type or mutation class (graphene and friends): its methods answer requests."""
    return _class_kind(index, cls_qualname, config) == "graphql"


def _class_kind(index: ProjectIndex, cls_qualname: str, config: Config) -> Optional[str]:
    def compute(ix: ProjectIndex) -> Dict[str, Optional[str]]:
        return {}

    cache = index.derived("connections.class_kinds", compute)
    if cls_qualname in cache:
        return cache[cls_qualname]
    kind = _compute_class_kind(index, cls_qualname, config)
    cache[cls_qualname] = kind
    return kind


def _compute_class_kind(index: ProjectIndex, cls_qualname: str, config: Config) -> Optional[str]:
    cls = index.classes.get(cls_qualname)
    if cls is None:
        return None
    names = [cls.qualname] + index.ancestors(cls)
    configured = _lasts(config.request_base_classes)
    for name in names:
        if name in config.request_base_classes or (name != cls.qualname and _last(name) in configured):
            return "view"
        last = _last(name)
        external = name not in index.classes
        if last in ("AppConfig", "BaseCommand") and external:
            return "startup"
        if last in VIEW_BASE_NAMES and external:
            if last not in _GENERIC_VIEW_NAMES or any(name.startswith(b) for b in VIEW_BASES):
                return "view"
        if last in SERIALIZER_BASE_NAMES and external and (name.startswith("rest_framework") or "serializers" in name or "." not in name):
            return "serializer"
        if last in FORM_BASE_NAMES and external and name.startswith("django"):
            return "form"
        if external and (name in TASK_BASES or (last == "Task" and name.startswith("celery"))):
            return "task"
        if external and name.startswith(GRAPHQL_BASES) and last in ("ObjectType", "Mutation", "DjangoObjectType", "ClientIDMutation"):
            return "graphql"
    return None


# ---------------------------------------------------------------------------- entries

_FRAMEWORK_PREFIXES = ("rest_framework.", "django.", "starlette.", "fastapi.", "flask.", "aiohttp.", "ninja.", "sanic.")


_BUILT_ONCE_BASES = {"ModelAdmin", "TabularInline", "StackedInline", "MiddlewareMixin", "BaseHTTPMiddleware"}


def _built_once(index: ProjectIndex, cls_qualname: str) -> bool:
    """Admin classes and middleware are instantiated once, not per request."""
    cls = index.classes.get(cls_qualname)
    return cls is None or any(_last(a) in _BUILT_ONCE_BASES for a in index.ancestors(cls))


def _framework_class(index: ProjectIndex, cls_qualname: str) -> bool:
    """A class deriving from a web framework's class (not start-up code)."""
    cls = index.classes.get(cls_qualname)
    if cls is None:
        return False
    return any(a.startswith(_FRAMEWORK_PREFIXES) and a not in index.classes and _last(a) not in ("AppConfig", "BaseCommand") for a in index.ancestors(cls))



def _startup_names(index: ProjectIndex, config: Config) -> FrozenSet[str]:
    """Functions wired as start-up hooks: ``FastAPI(lifespan=f)``, ``Starlette(on_startup=[f])``."""

    def compute(ix: ProjectIndex) -> FrozenSet[str]:
        out = set(config.startup_functions)
        for facts in ix.files.values():
            for _name, call in facts.module_calls:
                for key, value in call.kwargs:
                    if key not in ("lifespan", "on_startup", "on_shutdown", "startup", "shutdown"):
                        continue
                    values = value[1] if value[0] == "list" else (value,)
                    for v in values:
                        if v[0] == "name" and v[1]:
                            out.add(v[1] if "." in v[1] else f"{facts.module}.{v[1]}")
        return frozenset(out)

    return index.derived("connections.startup_names", compute)


def is_startup(index: ProjectIndex, config: Config, qualname: Optional[str]) -> bool:
    """True for start-up/offline code: lifespan and start-up hooks, ``AppConfig.ready``,
    management commands, app factories, ``main()`` and ``startup-functions``."""
    if not qualname:
        return False
    fn = index.functions.get(qualname)
    if fn is None:
        return False
    startup = _startup_names(index, config)
    if qualname in startup or any(qualname.endswith("." + s) for s in startup if "." in s):
        return True
    if any(_is_startup_decorator(d) for d in fn.decorators):
        return True
    if fn.cls is None and fn.nested_in is None and fn.name in STARTUP_FUNCTION_NAMES:
        return True
    if fn.cls is not None:
        kind = _class_kind(index, fn.cls, config)
        if kind == "startup":
            return True
    return False


def constant_in_application(index: ProjectIndex, config: Config, qualname: str, param: str, skip_tests: bool = False, short_lists: bool = False) -> bool:
    """In an application (the project has request or task entry points, so no callers outside
    it), every call site of the function passes a literal for ``param`` (or, with
    ``short_lists``, a literal list of at most three values). With ``skip_tests``, callers in test
    code do not count (their literals say nothing about production sizes)."""
    skip = (lambda path: path_context(path, config) == "test") if skip_tests else None
    if not index.constant_param(qualname, param, skip, short_lists):
        return False
    return has_entry_points(index, config)


def has_entry_points(index: ProjectIndex, config: Config) -> bool:
    """The project is an application: some function runs per request, job or command."""
    return bool(index.derived("entry-points", lambda ix: entry_points(ix, config)))


def entry_points(index: ProjectIndex, config: Config) -> Dict[str, str]:
    """{function qualname: description of why it runs per request/job}."""
    out: Dict[str, str] = {}
    routed: Set[str] = set()
    depends: Set[str] = set()
    fn: Optional[FunctionFacts]
    for facts in index.files.values():
        routed.update(facts.routes)
        depends.update(getattr(facts, "dependencies", ()))
    routed_names = {_last(r) for r in routed}
    depends_names = {_last(d) for d in depends}
    for qual, fn in index.functions.items():
        if fn.nested_in:
            # routes defined inside an app factory (``def create_app(): @app.route(...)``)
            if any(_is_route_decorator(d, fn, index, config) for d in fn.decorators):
                out[qual] = f"request handler `{fn.name}`"
            continue
        why = _entry_reason(index, fn, config, routed, routed_names)
        if why is None and fn.name in depends_names and _named_in(index, fn, depends):
            why = f"dependency `{fn.name}`"
        if why and not is_startup(index, config, qual):
            out[qual] = why
    # functions handed to a scheduler: they run on every timer tick or event, as a task does
    for facts in index.files.values():
        for name in facts.scheduled:
            owner, _, member = name.rpartition(".")
            fn = index.resolve_function(name) or (index.find_method(owner, member) if owner in index.classes else None)
            if fn is not None and fn.qualname not in out and not is_startup(index, config, fn.qualname):
                out[fn.qualname] = f"scheduled callback `{fn.name}`"
    # class dependencies: ``Depends(Pagination)`` builds the object (and calls it) per request
    for dep in depends:
        cls = index.classes.get(dep)
        if cls is None:
            continue
        for meth in ("__init__", "__call__"):
            fn = index.find_method(cls.qualname, meth)
            if fn is not None:
                out.setdefault(fn.qualname, f"dependency `{cls.name}`")
    return out


def _fixture(fn: FunctionFacts, config: Config) -> bool:
    """A pytest fixture (``def manager(request, ...)`` in ``conftest.py``) or any function of test
    code: its ``request`` is pytest's, not an HTTP request."""
    return any(_last(d) in ("fixture", "yield_fixture") for d in fn.decorators) or path_context(fn.path, config) == "test"


def _named_in(index: ProjectIndex, fn: FunctionFacts, names) -> bool:
    if fn.qualname in names:
        return True
    return any(r.endswith("." + fn.name) and index.resolve_function(r) is fn for r in names) or fn.name in names


def _entry_reason(index: ProjectIndex, fn: FunctionFacts, config: Config, routed, routed_names) -> Optional[str]:
    for dec in fn.decorators:
        if dec in GRAPHQL_DECORATORS:
            return f"GraphQL resolver `{fn.name}`"
        if _is_route_decorator(dec, fn, index, config):
            return f"request handler `{fn.name}`"
        if _is_task_decorator(dec, fn, index, config):
            return f"task `{fn.name}`"
        if (_last(dec) in DJANGO_VIEW_DECORATORS or dec in DJANGO_VIEW_DECORATORS) and fn.params[:1] == ("request",):
            return f"view `{fn.name}`"
    if fn.name in routed_names and fn.cls is None and _named_in(index, fn, routed):
        return f"view `{fn.name}`"
    if fn.cls is None and fn.params[:1] == ("request",) and not _fixture(fn, config):
        return f"view `{fn.name}`"
    if fn.cls is None and fn.params[:2] == ("event", "context") and len(fn.params) == 2 and "handler" in fn.name:
        return f"AWS Lambda handler `{fn.name}`"
    if fn.cls is not None:
        kind = _class_kind(index, fn.cls, config)
        cls_name = _last(fn.cls)
        if fn.name == "__call__" and fn.params[1:2] == ("request",) and index.find_method(fn.cls, "__init__") is not None:
            return f"middleware `{cls_name}.__call__`"
        if fn.cls in routed and fn.name in HANDLER_METHODS:
            return f"view `{cls_name}.{fn.name}`"
        if kind == "view" and (fn.name in HANDLER_METHODS or fn.params[1:2] in (("request",), ("req",))):
            return f"view `{cls_name}.{fn.name}`"
        if kind == "view" and fn.name == "__init__" and not _built_once(index, fn.cls):
            # Django/DRF/Flask/Starlette build a new view object for every request
            return f"view `{cls_name}.__init__` (a new view object per request)"
        if fn.params[1:2] == ("request",) and _framework_class(index, fn.cls):
            # DRF permissions/authentication/throttles/pagination, Django admin, middleware mixins
            return f"`{cls_name}.{fn.name}` (called per request)"
        if kind == "serializer" and fn.name.startswith(SERIALIZER_METHODS_PREFIX):
            return f"serializer `{cls_name}.{fn.name}` (runs per object)"
        if kind == "form" and fn.name.startswith(FORM_METHODS_PREFIX):
            return f"form `{cls_name}.{fn.name}`"
        if kind == "task" and fn.name == "run":
            return f"task `{cls_name}.run`"
        if kind == "graphql" and (fn.name.startswith("resolve_") or fn.name in ("mutate", "mutate_and_get_payload")):
            return f"GraphQL resolver `{cls_name}.{fn.name}`"
    return None


def request_paths(index: ProjectIndex, config: Config) -> Dict[str, Tuple[str, Tuple[str, ...]]]:
    """{function qualname: (entry description, call path from the entry)} for per-request code."""

    def compute(ix: ProjectIndex):
        entries = entry_points(ix, config)
        reach = ix.reachable_from(sorted(entries), lambda q: _callees(ix, q))  # plus ``Class()`` → ``__init__``
        return {q: (entries[path[0]], path) for q, path in reach.items()}

    return index.derived("request_paths", compute)


def call_edges(ix: ProjectIndex, qualname: str) -> Tuple[str, ...]:
    """The functions ``qualname`` calls, with ``__init__`` of the classes it builds."""
    return _callees(ix, qualname)


def _callees(ix: ProjectIndex, qualname: str) -> Tuple[str, ...]:
    out = list(ix.callees(qualname))
    fn = ix.functions.get(qualname)
    for target in fn.calls if fn is not None else ():
        cls = ix.constructed_class(target)
        if cls is None:
            continue
        for name in ("__init__", "__post_init__"):
            init = ix.find_method(cls.qualname, name)
            if init is not None and init.qualname not in out and init.qualname != qualname:
                out.append(init.qualname)
    return tuple(out)


def request_context(index: ProjectIndex, config: Config, qualname: Optional[str]) -> Optional[Tuple[str, Tuple[str, ...]]]:
    if not qualname:
        return None
    paths = request_paths(index, config)
    hit = paths.get(qualname)
    if hit is None and ".<lambda>" in qualname:
        hit = paths.get(qualname.split(".<lambda>")[0])
    return hit


def describe(hit: Tuple[str, Tuple[str, ...]]) -> str:
    """``view `orders` via orders() -> load()`` for messages."""
    entry, path = hit
    if len(path) > 1:
        return entry + " via " + " -> ".join(p.rsplit(".", 1)[-1] + "()" for p in path)
    return entry


def test_only(index: ProjectIndex, config: Config, qualname: Optional[str]) -> bool:
    """Whether only tests (and test support) reach this production-file function."""
    return bool(qualname) and qualname in _test_only_functions(index, config)


def offline_only(index: ProjectIndex, config: Config, qualname: Optional[str]) -> Optional[str]:
    """``command`` or ``script`` when only management commands, CLIs, scripts (and tests) reach
    this function, directly or through other such functions: a backfill helper a command calls,
    an importer only a CLI runs. None when anything else may call it."""
    if not qualname:
        return None
    return _offline_functions(index, config).get(qualname)


_OFFLINE = ("command", "script", "test")


def _offline_functions(index: ProjectIndex, config: Config) -> Dict[str, str]:
    """{function: "command" | "script"} for functions outside command/script/test files that only
    such code calls (the closure over the call graph). Only in an application (it has request or
    task entry points: in a library, anyone may call anything), never an entry point, and never a
    function whose name other code calls, imports or hands on (it may run there)."""

    def compute(ix: ProjectIndex) -> Dict[str, str]:
        entries = entry_points(ix, config)
        if not entries:
            return {}
        callers = _callers(ix)
        label: Dict[str, str] = {}
        for q, fn in ix.functions.items():
            where = path_context(fn.path, config)
            if where in _OFFLINE:
                label[q] = cast(str, where)
        seeds = set(label)
        # names other code calls, routes, imports or hands on (the functions' part shrinks as
        # functions turn out offline), and the contexts of the offline code naming each
        file_names = _names_used_outside(ix, config, set(ix.functions), _OFFLINE)
        called = Counter(t.rsplit(".", 1)[-1] for q, fn in ix.functions.items() if q not in label for t in fn.calls)
        offline_names = _names_used_by(ix, config, label)

        def mark(q: str, kind: str) -> None:
            label[q] = kind
            for t in ix.functions[q].calls:
                name = t.rsplit(".", 1)[-1]
                called[name] -= 1
                offline_names.setdefault(name, set()).add(kind)

        for _ in range(8):  # a call chain a few helpers deep; each round adds at least one level
            grown = False
            for q, fn in ix.functions.items():
                if q in label or q in entries or fn.name in file_names or called[fn.name] > 0:
                    continue
                if callers.get(q):
                    if not callers[q] <= label.keys():
                        continue
                    kinds = {label[c] for c in callers[q]}
                elif fn.cls is None and fn.name in offline_names:
                    # calls querylint could not resolve (a package's lazy ``__getattr__``
                    # re-export), and only offline code names the function
                    kinds = offline_names[fn.name]
                else:
                    continue
                if kinds <= {"test"}:
                    continue  # only tests: the test-only analysis decides
                mark(q, "command" if "command" in kinds else "script")
                grown = True
            if not grown:
                break
        return {q: k for q, k in label.items() if q not in seeds and k != "test"}

    return index.derived("offline_functions", compute)


def _names_used_by(ix: ProjectIndex, config: Config, label: Dict[str, str]) -> Dict[str, Set[str]]:
    """{function name: the contexts of the offline code that calls or imports it}: the calls of
    the functions in ``label`` and the imports and module-level calls of command, script and test
    files."""
    out: Dict[str, Set[str]] = {}
    for q, kind in label.items():
        for t in ix.functions[q].calls:
            out.setdefault(t.rsplit(".", 1)[-1], set()).add(kind)
    for facts in ix.files.values():
        where = path_context(facts.path, config)
        if where in _OFFLINE:
            for name in [c.func for _, c in facts.module_calls] + [target for _, target in facts.imports]:
                out.setdefault(name.rsplit(".", 1)[-1], set()).add(cast(str, where))
    return out


def _has_own_test(name: str, tested: Set[str]) -> bool:
    """A test is named after ``name`` (``test_<name>`` or ``test_<name>_<case>``)."""
    bare = name.lstrip("_")
    return bool(bare) and any(t == bare or t.startswith(bare + "_") for t in tested)


def _callers(ix: ProjectIndex) -> Dict[str, Set[str]]:
    """{callee: its callers} over the project's functions (``Class()`` counts as ``__init__``)."""

    def compute(ix: ProjectIndex) -> Dict[str, Set[str]]:
        out: Dict[str, Set[str]] = {}
        for q in ix.functions:
            for callee in _callees(ix, q):
                if callee != q:
                    out.setdefault(callee, set()).add(q)
        return out

    return ix.derived("callers-with-init", compute)


def _names_used_outside(ix: ProjectIndex, config: Config, functions: Set[str], contexts: Tuple[str, ...]) -> Set[str]:
    """Function names that code outside ``functions`` and outside files of ``contexts`` calls,
    routes, imports or hands on as a value: such a function runs there (through an object
    querylint cannot type, a scheduler's table, a signal)."""
    names: Set[str] = set()
    for q, fn in ix.functions.items():
        if q not in functions:
            names.update(t.rsplit(".", 1)[-1] for t in fn.calls)
    for facts in ix.files.values():
        if path_context(facts.path, config) not in contexts:
            names.update(c.func.rsplit(".", 1)[-1] for _, c in facts.module_calls)
            names.update(r.rsplit(".", 1)[-1] for r in facts.routes + facts.dependencies)
            names.update(target.rsplit(".", 1)[-1] for _, target in facts.imports)
            names.update(facts.value_refs)  # ``return bulk_edit.merge``: handed to a caller
    return names


def _test_only_functions(index: ProjectIndex, config: Config) -> FrozenSet[str]:
    """Functions outside test files that only test code calls: test helpers kept beside the code.
    Only in an application (the project has request or task entry points): in a library, tests
    stand in for its users. The evidence must be direct: a function no one calls, an entry point,
    one called at module level, one whose name any production code calls (through an object
    querylint cannot type, too) or imports (to pass it on: a scheduler's table, a signal) is
    production. (The engine also keeps a function its own module names anywhere but in its def.)"""

    def compute(ix: ProjectIndex) -> FrozenSet[str]:
        entries = entry_points(ix, config)
        if not entries:
            return frozenset()
        in_tests = {q for q, fn in ix.functions.items() if path_context(fn.path, config) == "test"}
        callers = _callers(ix)
        prod_names = _names_used_outside(ix, config, in_tests, ("test",))
        # a function with a test of its own (``test_check_database``) is what the tests test:
        # the project's code (a reusable app's API, named only in its users' settings)
        tested = {ix.functions[q].name[5:] for q in in_tests if ix.functions[q].name.startswith("test_")}
        return frozenset(
            q for q, fn in ix.functions.items()
            if q not in in_tests and q not in entries and callers.get(q) and callers[q] <= in_tests and fn.name not in prod_names
            and not _has_own_test(fn.name, tested)
        )

    return index.derived("test_only_functions", compute)
