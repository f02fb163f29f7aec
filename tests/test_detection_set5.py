"""Detection cases from the thirteenth session's fifth held-out set (issue 14): real connection
fixes that querylint missed, as shapes written for these tests. Each with the negative that must
stay silent."""
from querylint.rule import dedent
from querylint.testing import lint_files


def _found(files, select, **kw):
    codes = [c.strip() for c in select.split(",")]
    return [(f.path, f.line, f.rule) for f in lint_files(files, select=codes, **kw).findings]


SCOPED = dedent(
    """
    from sqlalchemy import create_engine, orm

    Session = orm.scoped_session(orm.sessionmaker(bind=create_engine("postgresql://db/app")))
    """
)

METRICS = dedent(
    """
    from flask import Flask
    from app import db
    from app.models import Result

    app = Flask(__name__)

    @app.route("/metrics")
    def latest():
        session = db.Session()
        return {r.name: r.value for r in session.query(Result)}
    """
)


def test_a_scoped_session_nobody_removes_is_a_session_left_open():
    # amp's metrics service: ``db.Session()`` from a module-level ``scoped_session`` per request,
    # never closed, and nothing in the project calls ``Session.remove()``: each thread's session
    # keeps the connection its transaction checked out
    files = {"app/db.py": SCOPED, "app/models.py": "class Result:\n    pass\n", "app/views.py": METRICS}
    assert _found(files, "QL203") == [("app/views.py", 9, "QL203")]
    # off a request or job path (a script's thread ends with its session): one step less sure
    script = METRICS.replace('@app.route("/metrics")\n', "")
    files["app/views.py"] = script
    assert _found(files, "QL203") == []
    assert [(f.line, f.confidence) for f in lint_files(files, select=["QL203"], settings={"min-confidence": "medium"}).findings] == [(8, "medium")]


def test_a_scoped_session_removed_at_teardown_is_silent():
    teardown = dedent(
        """
        from app import db
        from app.views import app

        @app.teardown_appcontext
        def shutdown_session(exception=None):
            db.Session.remove()
        """
    )
    files = {"app/db.py": SCOPED, "app/models.py": "class Result:\n    pass\n", "app/views.py": METRICS, "app/hooks.py": teardown}
    assert _found(files, "QL203") == []


DBCONN = dedent(
    """
    import psycopg2
    from flask import Flask

    app = Flask(__name__)

    def connect_db():
        try:
            conn = psycopg2.connect(dbname="app")
        except psycopg2.OperationalError:
            conn = psycopg2.connect(dbname="postgres")
        return conn

    class DBConn:
        def __init__(self, conn=None):
            self.conn = conn if conn is not None else connect_db()

        def __enter__(self):
            return self.conn

        def __exit__(self, exc_type, exc_val, tb):
            if not exc_type:
                self.conn.commit()
                for notice in self.conn.notices:
                    print(notice)
            return False

    @app.route("/runs")
    def runs():
        with DBConn() as db:
            db.cursor().execute("SELECT 1")
    """
)


def test_a_connection_kept_by_a_context_manager_whose_exit_only_commits_is_never_closed():
    # anonlink's ``DBConn``: ``__init__`` keeps a fresh connection from a helper (which falls
    # back to another database with a second ``connect``); ``__exit__`` commits and reads
    # notices but never closes it
    found = _found({"app/util.py": DBCONN}, "QL203")
    assert ("app/util.py", 15, "QL203") in found


def test_a_connection_an_exit_closes_or_hands_back_is_silent():
    assert "        return False" in DBCONN
    closes = DBCONN.replace("        return False", "        self.conn.close()\n        return False")
    assert [f for f in _found({"app/util.py": closes}, "QL203") if f[1] == 15] == []
    handed = DBCONN.replace("        return False", "        release(self.conn)\n        return False")
    assert [f for f in _found({"app/util.py": handed}, "QL203") if f[1] == 15] == []


WRAPPER = dedent(
    """
    from sqlalchemy import create_engine
    from sqlalchemy.orm import sessionmaker

    engine = create_engine("postgresql://db/bot")
    Session = sessionmaker(bind=engine)
    session = Session()

    def reconnect_session():
        global engine, Session, session
        session.rollback()
        engine = create_engine("postgresql://db/bot")
        Session = sessionmaker(bind=engine)
        session = Session()

    def error_handler(func):
        async def wrapper(update, context):
            try:
                reconnect_session()
                await func(update, context)
            except Exception:
                reconnect_session()
        return wrapper

    @error_handler
    async def start(update, context):
        session.query(1)
    """
)


def test_an_engine_rebuilt_by_a_helper_every_decorated_call_makes_is_reported():
    # print-tgbot: the handlers' decorator calls ``reconnect_session()`` before every update,
    # which rebinds the global engine: a new pool per update, the old one never disposed
    assert _found({"bot/handlers.py": WRAPPER}, "QL201") == [("bot/handlers.py", 11, "QL201")]


def test_an_engine_rebuilt_only_when_the_wrapped_call_fails_or_once_is_silent():
    on_failure = WRAPPER.replace("            reconnect_session()\n            await func", "            await func")
    assert on_failure != WRAPPER
    assert _found({"bot/handlers.py": on_failure}, "QL201") == []
    guarded = WRAPPER.replace(
        '    engine = create_engine("postgresql://db/bot")\n    Session =', '    if engine is None:\n        engine = create_engine("postgresql://db/bot")\n    Session ='
    )
    assert guarded != WRAPPER
    assert [f for f in _found({"bot/handlers.py": guarded}, "QL201") if f[1] in (11, 12)] == []


PLAN_MODELS = dedent(
    """
    from django.db import models
    from django.utils.functional import cached_property

    class Project(models.Model):
        plan = models.ForeignKey("Plan", related_name="projects", on_delete=models.CASCADE)
        is_draft = models.BooleanField()

    class Plan(models.Model):
        title = models.CharField(max_length=10)

        @cached_property
        def published_projects(self):
            return self.projects.filter(is_draft=False)

    class Entity(models.Model):
        name = models.CharField(max_length=10)

    class Duplicate(models.Model):
        entity1 = models.ForeignKey(Entity, related_name="duplicates1", on_delete=models.CASCADE)
        status = models.CharField(max_length=10)
    """
)


def test_a_model_property_queryset_counted_by_a_serializer_method_field():
    # a4-meinberlin's ``get_published_projects_count``: ``plan.published_projects.count()``,
    # a ``cached_property`` building a filtered queryset, once per serialized plan
    api = dedent(
        """
        from rest_framework import serializers, viewsets
        from app.models import Plan

        class PlanSerializer(serializers.ModelSerializer):
            published_count = serializers.SerializerMethodField()
            title_upper = serializers.SerializerMethodField()

            class Meta:
                model = Plan
                fields = ["id", "published_count", "title_upper"]

            def get_published_count(self, plan: Plan):
                return plan.published_projects.count()

            def get_title_upper(self, plan):
                return plan.title.upper()

        class PlansViewSet(viewsets.ReadOnlyModelViewSet):
            queryset = Plan.objects.all()
            serializer_class = PlanSerializer
        """
    )
    assert _found({"app/models.py": PLAN_MODELS, "app/api.py": api}, "QL118") == [("app/api.py", 13, "QL118")]


def test_a_helper_filtering_a_relation_only_one_model_has_queries_per_item():
    # iaso's ``_get_duplicates(entity)``: ``entity.duplicates1.filter(...).count()`` in a helper
    # the list view calls per entity; ``duplicates1`` is a relation only ``Entity`` has
    helpers = dedent(
        """
        def get_duplicates(entity):
            pending = entity.duplicates1.filter(status="pending")
            return pending.count()

        def describe(entity):
            return entity.name.upper()
        """
    )
    views = dedent(
        """
        from app.helpers import describe, get_duplicates
        from app.models import Entity

        def entities(request):
            out = []
            for entity in Entity.objects.all():
                out.append((get_duplicates(entity), describe(entity)))
            return out
        """
    )
    files = {"app/models.py": PLAN_MODELS, "app/helpers.py": helpers, "app/views.py": views}
    found = lint_files(files, select=["QL102"]).findings
    assert [(f.line, f.message.split("`")[1]) for f in found] == [(7, "get_duplicates()")]


def test_get_object_or_404_per_item_is_a_query_per_item():
    # iaso's user roles: ``get_object_or_404(Permission, codename=code)`` per posted codename
    views = dedent(
        """
        from django.contrib.auth.models import Permission
        from django.shortcuts import get_object_or_404
        from app.models import Plan

        def assign(request):
            for code in request.data["permissions"]:
                get_object_or_404(Permission, codename=code)
            for pk in request.data["plans"]:
                get_object_or_404(Plan.objects.filter(title="x"), pk=pk)
            plan = get_object_or_404(Plan, pk=request.data["plan"])
            for name in ("a", "b"):
                print(plan, name)
        """
    )
    assert _found({"app/models.py": PLAN_MODELS, "app/views.py": views}, "QL103") == [("app/views.py", 7, "QL103"), ("app/views.py", 9, "QL103")]


def test_text_handed_to_order_by_is_a_sort_clause_from_the_request():
    # labelU: ``query.order_by(text(f"{sort_key[0]} {sort_key[1]}"))`` with ``sort_key`` from the
    # request's ``sort`` parameter: column names and a direction, to check against an allow-list
    code = dedent(
        """
        from sqlalchemy import text

        def list_by(db, Sample, sorting):
            query = db.query(Sample)
            for item in sorting.split(","):
                key = item.split(":")
                query = query.order_by(text(f"{key[0]} {key[1]}"))
            return query.order_by(text("id DESC")).all()
        """
    )
    found = lint_files({"app/crud.py": code}, select=["QL303"]).findings
    assert [(f.line, "allow-list" in f.fix, "bound parameter" in f.fix) for f in found] == [(7, True, False)]


DATABASE = dedent(
    """
    import sqlite3

    class MonitorDatabase:
        def __init__(self):
            self.connection = sqlite3.connect("monitor.db")

        def action(self, query, args=None):
            with self.connection as c:
                if args is None:
                    return c.execute(query)
                return c.execute(query, args)

        def select(self, query, args=None):
            return self.action(query, args).fetchall()
    """
)


def test_values_formatted_into_a_clause_a_project_wrapper_runs_are_reported_where_they_go_in():
    # Tautulli's ``get_home_stats``: ``where_id += "AND section_id = %s " % section_id`` from the
    # request, spliced into every stats query run with ``monitor_db.select(query)``, a method
    # that hands the SQL to ``self.action()``, which executes it
    stats = dedent(
        """
        from app import database

        def home_stats(section_id, user_id, count):
            monitor_db = database.MonitorDatabase()
            where_id = ""
            if section_id:
                where_id += "AND section_id = %s " % section_id
            if user_id:
                where_id += "AND user_id = ? "
            query = "SELECT id FROM history WHERE media = 'movie' %s LIMIT %d" % (where_id, int(count))
            return monitor_db.select(query, [user_id] if user_id else None)
        """
    )
    found = lint_files({"app/database.py": DATABASE, "app/stats.py": stats}, select=["QL303"]).findings
    assert [(f.path, f.line) for f in found] == [("app/stats.py", 7)]
    assert "`section_id`" in found[0].message and "bound parameter" in found[0].fix
    fixed = stats.replace('"AND section_id = %s " % section_id', '"AND section_id = ? "')
    assert lint_files({"app/database.py": DATABASE, "app/stats.py": fixed}, select=["QL303"]).findings == []


def test_a_session_an_application_keeps_for_its_life_is_left_to_its_cleanup():
    # jupyterhub: ``self.db = self.session_factory()`` on the application object, used by
    # ``cleanup()`` at shutdown: one session for the life of the process, not one per use
    app = dedent(
        """
        from sqlalchemy.orm import sessionmaker

        class Hub:
            def init_db(self, engine):
                self.session_factory = sessionmaker(bind=engine)
                self.db = self.session_factory()

            def cleanup(self):
                self.db.query(1)
                self.db.commit()
        """
    )
    assert _found({"app/hub.py": app}, "QL203") == []
