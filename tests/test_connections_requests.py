"""Per-request entry detection and reachability (querylint/project/requests.py), issue 5.

Each test builds a tiny project index from sources (no files) and checks which functions run
per request or per job, and that start-up code does not.
"""
import textwrap

import libcst as cst
import pytest

from querylint.run.config import Config
from querylint.project.facts import collect_facts
from querylint.project.index import ProjectIndex
from querylint.project.requests import entry_points, is_startup, request_context, request_paths


def index_of(files, config=None):
    ix = ProjectIndex()
    for rel, src in files.items():
        ix.add(collect_facts(cst.parse_module(textwrap.dedent(src)), rel))
    return ix, config or Config()


def entries(files, config=None):
    ix, cfg = index_of(files, config)
    return entry_points(ix, cfg)


def per_request(files, config=None):
    ix, cfg = index_of(files, config)
    return set(request_paths(ix, cfg))


def test_django_function_view_taking_request():
    got = entries({"shop/views.py": "def orders(request):\n    return 1\n\ndef helper(x):\n    return x\n"})
    assert set(got) == {"shop.views.orders"}


def test_django_view_wired_in_urls_without_request_name():
    got = entries({
        "shop/views.py": "def orders(req, pk):\n    return pk\n\ndef unused(req):\n    return 1\n",
        "shop/urls.py": "from django.urls import path\nfrom . import views\nurlpatterns = [path('o/<int:pk>/', views.orders)]\n",
    })
    assert set(got) == {"shop.views.orders"}


def test_class_based_views_and_drf_handlers():
    got = entries({
        "api/views.py": """
            from django.views.generic import ListView
            from rest_framework.views import APIView
            from rest_framework import viewsets
            from rest_framework.decorators import action

            class BookList(ListView):
                def get_queryset(self):
                    return 1
                def _private(self):
                    return 2

            class Legacy(APIView):
                def get(self, request, pk):
                    return pk

            class OrderViewSet(viewsets.ModelViewSet):
                def list(self, request):
                    return 1
                @action(detail=True)
                def refund(self, request, pk=None):
                    return pk
                def helper(self, x):
                    return x

            class Plain:
                def get(self, request):
                    return 1
        """
    })
    assert set(got) == {
        "api.views.BookList.get_queryset", "api.views.Legacy.get", "api.views.OrderViewSet.list",
        "api.views.OrderViewSet.refund",
    }


def test_view_base_through_project_class():
    got = entries({
        "api/base.py": "from rest_framework.generics import GenericAPIView\nclass Base(GenericAPIView):\n    pass\n",
        "api/views.py": "from api.base import Base\nclass Orders(Base):\n    def post(self, request):\n        return 1\n",
    })
    assert "api.views.Orders.post" in got


def test_drf_serializer_methods_run_per_object():
    got = entries({
        "api/serializers.py": """
            from rest_framework import serializers
            class BookSerializer(serializers.ModelSerializer):
                def get_author_name(self, obj):
                    return obj
                def to_representation(self, obj):
                    return obj
                def helper(self):
                    return 1
        """
    })
    assert set(got) == {"api.serializers.BookSerializer.get_author_name", "api.serializers.BookSerializer.to_representation"}
    assert "per object" in got["api.serializers.BookSerializer.get_author_name"]


def test_flask_routes_blueprints_of_any_name_and_methodview():
    got = entries({
        "web/app.py": """
            from flask import Flask, Blueprint
            from flask.views import MethodView
            app = Flask(__name__)
            users = Blueprint("users", __name__)

            @app.route("/")
            def index():
                return "x"

            @users.get("/u/<int:i>")
            def user(i):
                return i

            @app.before_request
            def load_user():
                return None

            @app.before_first_request
            def warm():
                return None

            class Items(MethodView):
                def get(self):
                    return 1
        """
    })
    assert set(got) == {"web.app.index", "web.app.user", "web.app.load_user", "web.app.Items.get"}


def test_blueprint_imported_from_another_module():
    got = entries({
        "web/bps.py": "from flask import Blueprint\nreports = Blueprint('reports', __name__)\n",
        "web/views.py": "from web.bps import reports\n@reports.route('/r')\ndef show():\n    return 1\n",
    })
    assert set(got) == {"web.views.show"}


def test_fastapi_endpoints_websockets_and_dependencies():
    got = entries({
        "svc/main.py": """
            from contextlib import asynccontextmanager
            from fastapi import APIRouter, Depends, FastAPI

            @asynccontextmanager
            async def lifespan(app):
                yield

            app = FastAPI(lifespan=lifespan)
            api = APIRouter(prefix="/v1")

            def get_db():
                yield 1

            @api.post("/orders")
            async def create(db=Depends(get_db)):
                return db

            @app.websocket("/ws")
            async def ws(websocket):
                return None

            @app.on_event("startup")
            async def start():
                return None
        """
    })
    assert set(got) == {"svc.main.create", "svc.main.ws", "svc.main.get_db"}
    assert "dependency" in got["svc.main.get_db"]


def test_non_web_decorators_on_app_like_names_are_not_routes():
    got = entries({
        "x.py": """
            import functools
            cache = {}
            @functools.lru_cache()
            def f():
                return 1
            @cache.get
            def g():
                return 2
        """
    })
    assert got == {}


def test_tasks_celery_rq_dramatiq_and_celery_app_of_any_name():
    got = entries({
        "jobs/tasks.py": """
            from celery import Celery, shared_task
            from rq.decorators import job
            import dramatiq
            worker = Celery("w")

            @shared_task
            def a():
                return 1

            @worker.task(bind=True)
            def b(self):
                return 2

            @job("default")
            def c():
                return 3

            @dramatiq.actor
            def d():
                return 4

            def not_a_task():
                return 5
        """
    })
    assert set(got) == {"jobs.tasks.a", "jobs.tasks.b", "jobs.tasks.c", "jobs.tasks.d"}
    assert got["jobs.tasks.a"].startswith("task")


def test_aiohttp_handler_and_configured_decorators_and_bases():
    cfg = Config(request_decorators=("myapp.api.endpoint",), request_base_classes=("myapp.base.Handler",), task_decorators=("myapp.jobs.background",))
    got = entries({
        "myapp/h.py": """
            from myapp.api import endpoint
            from myapp.base import Handler
            from myapp.jobs import background

            async def handle(request):
                return 1

            def lambda_handler(event, context):
                return 5

            def transform(event, context):
                return 6

            @endpoint
            def custom():
                return 2

            @background
            def later():
                return 3

            class Mine(Handler):
                def on_get(self, req, resp):
                    return 4
        """
    }, cfg)
    assert {"myapp.h.handle", "myapp.h.custom", "myapp.h.later", "myapp.h.Mine.on_get", "myapp.h.lambda_handler"} <= set(got)
    assert "myapp.h.transform" not in got


def test_startup_code_is_not_per_request():
    files = {
        "proj/apps.py": "from django.apps import AppConfig\nclass Shop(AppConfig):\n    def ready(self):\n        return 1\n",
        "proj/management/commands/export.py": "from django.core.management.base import BaseCommand\nclass Command(BaseCommand):\n    def handle(self, *a, **k):\n        return 1\n",
        "proj/factory.py": "from flask import Flask\ndef create_app():\n    app = Flask(__name__)\n    return app\n",
    }
    ix, cfg = index_of(files)
    assert entry_points(ix, cfg) == {}
    assert is_startup(ix, cfg, "proj.apps.Shop.ready")
    assert is_startup(ix, cfg, "proj.management.commands.export.Command.handle")
    assert is_startup(ix, cfg, "proj.factory.create_app")


def test_reachability_through_the_call_graph():
    files = {
        "shop/db.py": "def load(i):\n    return fetch(i)\n\ndef fetch(i):\n    return i\n\ndef offline():\n    return fetch(1)\n",
        "shop/views.py": "from shop.db import load\ndef orders(request):\n    return load(1)\n",
    }
    ix, cfg = index_of(files)
    paths = request_paths(ix, cfg)
    assert set(paths) == {"shop.views.orders", "shop.db.load", "shop.db.fetch"}
    entry, path = request_context(ix, cfg, "shop.db.fetch")
    assert path == ("shop.views.orders", "shop.db.load", "shop.db.fetch")
    assert "orders" in entry
    assert request_context(ix, cfg, "shop.db.offline") is None


def test_method_calls_through_self_are_followed():
    got = per_request({
        "api/views.py": """
            from rest_framework.views import APIView
            class V(APIView):
                def get(self, request):
                    return self._load()
                def _load(self):
                    return 1
        """
    })
    assert got == {"api.views.V.get", "api.views.V._load"}


def test_routes_inside_an_app_factory_are_entries():
    got = entries({
        "web/factory.py": """
            from flask import Flask
            def create_app():
                app = Flask(__name__)

                @app.route("/ping")
                def ping():
                    return "pong"

                return app
        """
    })
    assert set(got) == {"web.factory.create_app.ping"}


def test_classes_instantiated_per_request_run_their_init_per_request():
    got = per_request({
        "shop/repo.py": "class Repo:\n    def __init__(self):\n        self.x = 1\n\nclass Unused:\n    def __init__(self):\n        self.y = 2\n",
        "shop/views.py": "from shop.repo import Repo\ndef orders(request):\n    return Repo()\n",
    })
    assert got == {"shop.views.orders", "shop.repo.Repo.__init__"}


def test_middleware_call_is_per_request():
    got = entries({
        "proj/mw.py": """
            class Timing:
                def __init__(self, get_response):
                    self.get_response = get_response
                def __call__(self, request):
                    return self.get_response(request)
        """
    })
    assert set(got) == {"proj.mw.Timing.__call__"}


def test_query_in_loop_on_a_request_path_says_so_and_is_raised():
    """Issue 5, bullet 6: QL1xx findings inside per-request code name the path and are raised."""
    from querylint.testing import lint_files

    files = {
        "web/db.py": textwrap.dedent(
            """
            def names(cur, ids):
                out = []
                for i in ids:
                    cur.execute("SELECT name FROM users WHERE id = %s", (i,))
                    out.append(cur.fetchone())
                return out
            """
        ),
        "web/app.py": textwrap.dedent(
            """
            from flask import Flask, request
            from web.db import names
            app = Flask(__name__)

            @app.get("/names")
            def list_names():
                return names(None, request.args.getlist("id"))
            """
        ),
        "web/offline.py": textwrap.dedent(
            """
            def report(cur, ids):
                for i in ids:
                    cur.execute("SELECT name FROM users WHERE id = %s", (i,))
            """
        ),
    }
    result = lint_files(files, select=["QL101"])
    by_path = {f.path: f for f in result.findings}
    hot = by_path["web/db.py"]
    assert "per request: request handler `list_names` via list_names() -> names()" in hot.message
    assert hot.severity.value == "error"
    cold = by_path["web/offline.py"]
    assert "per request" not in cold.message
    assert cold.severity.value == "warning"


def test_framework_classes_taking_request_and_class_dependencies():
    got = entries({
        "api/perms.py": """
            from rest_framework.permissions import BasePermission
            class IsOwner(BasePermission):
                def has_permission(self, request, view):
                    return True
                def helper(self, x):
                    return x
        """,
        "api/deps.py": """
            from fastapi import Depends, FastAPI
            app = FastAPI()
            class Pagination:
                def __init__(self, page: int = 1):
                    self.page = page
            @app.get("/items")
            def items(p: Pagination = Depends(Pagination)):
                return p.page
        """,
    })
    assert {"api.perms.IsOwner.has_permission", "api.deps.Pagination.__init__", "api.deps.items"} <= set(got)
    assert "api.perms.IsOwner.helper" not in got


def test_registered_views_add_url_rule_and_router_register():
    got = entries({
        "web/app.py": """
            from flask import Flask
            from web import handlers
            app = Flask(__name__)
            app.add_url_rule("/", "index", handlers.index)
            app.add_url_rule("/items", view_func=handlers.ItemsView.as_view("items"))
        """,
        "web/handlers.py": """
            class ItemsView:
                def get(self):
                    return 1
            def index():
                return 2
            def unused():
                return 3
        """,
    })
    assert set(got) == {"web.handlers.index", "web.handlers.ItemsView.get"}


def test_view_objects_are_built_per_request_but_admin_and_middleware_once():
    got = entries({
        "app/views.py": """
            from django.contrib import admin
            from django.views import View
            from django.utils.deprecation import MiddlewareMixin

            class Orders(View):
                def __init__(self, **kwargs):
                    super().__init__(**kwargs)

            class BookAdmin(admin.ModelAdmin):
                def __init__(self, model, site):
                    super().__init__(model, site)

            class Timing(MiddlewareMixin):
                def __init__(self, get_response):
                    self.get_response = get_response
        """
    })
    assert "app.views.Orders.__init__" in got
    assert "app.views.BookAdmin.__init__" not in got
    assert "app.views.Timing.__init__" not in got


def test_graphql_resolvers_and_channels_consumers():
    got = entries({
        "api/schema.py": """
            import graphene
            import strawberry
            from channels.generic.websocket import AsyncWebsocketConsumer

            class Query(graphene.ObjectType):
                books = graphene.List(graphene.String)
                def resolve_books(root, info):
                    return []
                def helper(self):
                    return 1

            @strawberry.type
            class SQuery:
                @strawberry.field
                def authors(self) -> list:
                    return []

            class Chat(AsyncWebsocketConsumer):
                async def receive(self, text_data=None, bytes_data=None):
                    return None
        """
    })
    assert {"api.schema.Query.resolve_books", "api.schema.SQuery.authors", "api.schema.Chat.receive"} <= set(got)
    assert "api.schema.Query.helper" not in got


def test_tornado_handlers_and_falcon_resources():
    got = entries({
        "svc/app.py": """
            import falcon
            import tornado.web

            class MainHandler(tornado.web.RequestHandler):
                def get(self):
                    return 1

            class Things:
                def on_get(self, req, resp):
                    return 2
                def helper(self):
                    return 3

            app = falcon.App()
            app.add_route("/things", Things())
        """
    })
    assert {"svc.app.MainHandler.get", "svc.app.Things.on_get"} <= set(got)
    assert "svc.app.Things.helper" not in got


def test_a_class_imported_from_a_subfolder_import_root_runs_its_init_per_request():
    """``server/src`` is the import root (``from services.data import DataService``): the
    instantiated class is found by its module suffix, and its ``__init__`` runs per request."""
    files = {
        "server/src/services/data.py": """
            import sqlalchemy as db
            class DataService:
                def __init__(self, url):
                    self.engine = db.create_engine(url)
        """,
        "server/src/app.py": """
            from sanic import Sanic
            from services.data import DataService
            app = Sanic("x")
            @app.route("/ttc")
            async def ttc(request):
                return DataService(app.config["URL"])
        """,
    }
    assert "server.src.services.data.DataService.__init__" in per_request(files)
    files["server/src/other.py"] = "class DataService:\n    def __init__(self):\n        pass\n"
    files["server/src/lib/services/data.py"] = "class DataService:\n    def __init__(self):\n        pass\n"
    assert "server.src.services.data.DataService.__init__" not in per_request(files)  # two classes end that way


def test_mcp_server_tools_resources_and_prompts_are_requests():
    got = entries({
        "srv/server.py": """
            from mcp.server.fastmcp import FastMCP
            from pydantic_ai import Agent
            mcp = FastMCP("db")
            agent = Agent("model")

            @mcp.tool(description="tables")
            def tables():
                return 1

            @mcp.resource("db://schema")
            def schema():
                return 2

            @mcp.prompt()
            def explain():
                return 3

            @agent.tool
            def not_a_request():
                return 4
        """
    })
    assert set(got) == {"srv.server.tables", "srv.server.schema", "srv.server.explain"}


def test_functions_handed_to_a_scheduler_run_per_job():
    got = entries({
        "svc/monitor.py": """
            import threading
            import sched
            import schedule
            import tornado.ioloop
            from apscheduler.schedulers.background import BackgroundScheduler

            scheduler = BackgroundScheduler()
            s = sched.scheduler()

            def on_timeout(agent_id):
                pass

            def sweep():
                pass

            def report():
                pass

            def nightly():
                pass

            def ping():
                pass

            def arm(agent_id, seconds):
                tornado.ioloop.IOLoop.current().call_later(seconds, on_timeout, agent_id)
                s.enter(5, 1, ping)

            class Poller:
                def start(self):
                    tornado.ioloop.PeriodicCallback(self.tick, 1000).start()

                def tick(self):
                    pass

            scheduler.add_job(sweep, "interval", minutes=5)
            threading.Timer(30, report).start()
            schedule.every().day.at("02:00").do(nightly)
        """,
    })
    assert got == {
        "svc.monitor.on_timeout": "scheduled callback `on_timeout`",
        "svc.monitor.Poller.tick": "scheduled callback `tick`",
        "svc.monitor.sweep": "scheduled callback `sweep`",
        "svc.monitor.report": "scheduled callback `report`",
        "svc.monitor.nightly": "scheduled callback `nightly`",
        "svc.monitor.ping": "scheduled callback `ping`",
    }


def test_what_only_looks_like_a_scheduler_is_not_an_entry():
    got = entries({
        "svc/tools.py": """
            import timeit
            from contextlib import ExitStack

            def work():
                pass

            def other():
                pass

            def measure():
                timeit.Timer(work).timeit()
                with ExitStack() as stack:
                    stack.enter_context(other())
                todo = []
                todo.do(work)  # not ``schedule.every(...).do``
        """,
    })
    assert got == {}
