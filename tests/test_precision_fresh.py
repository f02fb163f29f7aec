"""Precision cases from the seventh session's fresh sample (issue 13): nine projects none of the
earlier sets used (awx, django-oscar, mediacms, Misago, paperless-ngx, polar, quay, securedrop,
taiga-back). Each false alarm with its negative, and the positive it must not hide."""
from querylint.rule import dedent
from querylint.testing import lint_files


def _found(files, select, **kw):
    return [(f.path, f.line, f.rule) for f in lint_files(files, select=select, **kw).findings]


UI_MODAL = dedent(
    """
    import contextlib
    from tagflow import tag, text

    @contextlib.contextmanager
    def modal(title):
        with tag.h3():
            text(title)
        yield
    """
)


def test_a_ui_helper_passing_its_title_to_a_text_function_of_another_library_takes_no_sql():
    # polar's backoffice: ``modal(f"Delete User {user.email}")`` is a heading, not a DELETE
    view = dedent(
        """
        from app.components import modal
        def delete_user_modal(user):
            with modal(f"Delete User {user.email}"):
                pass
            with modal("Delete Payout Account"):
                pass
        """
    )
    files = {"app/__init__.py": "", "app/components.py": UI_MODAL, "app/views.py": view}
    assert _found(files, ["QL302", "QL303"], settings={"min-confidence": "low"}) == []


def test_a_helper_passing_its_argument_to_sqlalchemy_text_still_takes_sql():
    helper = UI_MODAL.replace("from tagflow import tag, text", "from tagflow import tag\nfrom sqlalchemy import text")
    helper = helper.replace("text(title)", "session.execute(text(title))")
    view = dedent(
        """
        from app.components import modal
        def delete_user_modal(user):
            with modal(f"DELETE FROM users WHERE email = '{user.email}'"):
                pass
        """
    )
    files = {"app/__init__.py": "", "app/components.py": helper, "app/views.py": view}
    assert ("app/views.py", 3, "QL303") in _found(files, ["QL303"], settings={"min-confidence": "low"})


def test_a_sentence_starting_with_delete_is_not_a_statement():
    from querylint.sql.parse import looks_like_sql

    assert not looks_like_sql("Delete Payout Account")
    assert looks_like_sql("DELETE FROM orders") and looks_like_sql("delete orders where id = 1")


BATCHES = dedent(
    """
    import itertools
    from django.db import connection
    from app.models import Host

    def rebuild(removals):
        def split_ids(ids):
            for i in range(0, len(ids), 40000):
                yield ids[i : i + 40000]

        with connection.cursor() as cursor:
            for ids in split_ids(removals):
                cursor.execute("DELETE FROM ancestors WHERE role_id IN (%s)" % ",".join(str(int(x)) for x in ids))

    def migrate(table, batchsize=10000):
        with connection.cursor() as cursor:
            for i in itertools.count(0, batchsize):
                cursor.execute("SELECT count(1) FROM hosts WHERE id >= %s LIMIT 1", (i,))
                if not cursor.fetchone()[0]:
                    break

    def mark(names):
        for hosts in itertools.zip_longest(*[iter(names)] * 500):
            Host.objects.filter(name__in=[h for h in hosts if h]).update(seen=True)
        args = [iter(names)] * 500
        for hosts in itertools.zip_longest(*args):
            Host.objects.filter(name__in=[h for h in hosts if h]).update(seen=False)

    def each(ids):
        def one_by_one(xs):
            for x in xs:
                yield x

        with connection.cursor() as cursor:
            for i in one_by_one(ids):
                cursor.execute("DELETE FROM ancestors WHERE role_id = %s", (i,))
    """
)
HOSTS = "from django.db import models\nclass Host(models.Model):\n    name = models.CharField(max_length=9)\n    seen = models.BooleanField()\n"


def test_loops_over_batches_are_not_per_item():
    # awx: a nested helper yielding 40,000-id slices, ``itertools.count(0, batchsize)`` windows and
    # the ``zip_longest(*[iter(xs)] * 500)`` grouper: each statement covers a batch
    files = {"app/__init__.py": "", "app/models.py": HOSTS, "app/tasks.py": BATCHES}
    got = _found(files, ["QL101", "QL103", "QL104"], settings={"min-confidence": "low"})
    assert got == [("app/tasks.py", 35, "QL101")]


MESSAGES = dedent(
    """
    from app.models import Message
    def create(messages):
        for message in messages:
            Message.objects.create(content=message)
    """
)
MESSAGE_MODEL = "from django.db import models\nclass Message(models.Model):\n    content = models.CharField(max_length=9)\n"
ROUTES = dedent(
    """
    from flask import Flask, request
    from app.messages import create
    app = Flask(__name__)
    @app.route("/")
    def post():
        create([request.form["content"]])
        return "ok"
    """
)


def test_a_loop_over_a_parameter_every_caller_passes_a_one_item_list_runs_once():
    # quay: ``create([message])`` at every call site: the loop runs once per call
    files = {"app/__init__.py": "", "app/models.py": MESSAGE_MODEL, "app/messages.py": MESSAGES, "app/web.py": ROUTES}
    assert _found(files, ["QL104"], settings={"min-confidence": "low"}) == []


def test_a_caller_passing_a_collection_keeps_the_loop_per_item():
    routes = ROUTES + '@app.route("/many")\ndef post_many():\n    create(request.form.getlist("content"))\n    return "ok"\n'
    files = {"app/__init__.py": "", "app/models.py": MESSAGE_MODEL, "app/messages.py": MESSAGES, "app/web.py": routes}
    assert _found(files, ["QL104"], settings={"min-confidence": "low"}) == [("app/messages.py", 4, "QL104")]


USER_MODEL = dedent(
    """
    from django.db import connection, models

    class User(models.Model):
        profile = models.JSONField()
        team = models.ForeignKey("Team", on_delete=models.CASCADE)

        def real_name(self):
            if not isinstance(self.profile, dict):
                with connection.cursor() as cursor:
                    cursor.execute("SELECT oid FROM pg_type WHERE typname = 'hstore'")
                    oids = [row[0] for row in cursor]
                raise RuntimeError(f"profile has the wrong type: {oids}")
            return self.profile.get("real_name")

        def team_name(self):
            if self.team_id is None:
                raise ValueError("no team")
            return Team.objects.get(pk=self.team_id).name

    class Team(models.Model):
        name = models.CharField(max_length=9)
    """
)
USER_VIEW = dedent(
    """
    from app.models import User
    def names(request):
        return [(u.real_name(), u.team_name()) for u in User.objects.all()]
    """
)


def test_a_query_that_only_describes_the_error_a_branch_raises_is_not_per_call():
    # Misago: ``get_real_name()`` queries pg_type only to build the message of the RuntimeError
    files = {"app/__init__.py": "", "app/models.py": USER_MODEL, "app/views.py": USER_VIEW}
    got = _found(files, ["QL102", "QL106"], settings={"min-confidence": "low"})
    assert got == [("app/views.py", 3, "QL106")] and "team_name" in lint_files(files, select=["QL106"]).findings[0].message


DOCS = "from django.db import models\nclass Document(models.Model):\n    title = models.CharField(max_length=9)\n"


def test_a_queryset_iterated_in_full_elsewhere_in_the_function_is_not_over_fetched_for_its_ids():
    # paperless: ``for doc in documents`` fills the result cache the later ``[doc.id for doc in
    # documents]`` reads; awx: ``set(h.id for h in all_hosts)`` loads the rows a later loop updates
    code = dedent(
        """
        from app.models import Document
        def send(ids):
            documents = Document.objects.filter(pk__in=ids)
            titles = [doc.title for doc in documents]
            return titles, [doc.id for doc in documents]

        def touch(ids):
            docs = Document.objects.filter(pk__in=ids).only("id", "title")
            known = set(d.id for d in docs)
            for d in docs:
                d.title = d.title.strip()
            Document.objects.bulk_update(docs, ["title"])
            return known

        def only_ids(ids):
            documents = Document.objects.filter(pk__in=ids)
            return [doc.id for doc in documents]
        """
    )
    files = {"app/__init__.py": "", "app/models.py": DOCS, "app/views.py": code}
    assert _found(files, ["QL408"], settings={"min-confidence": "low"}) == [("app/views.py", 17, "QL408")]


def test_a_lifespan_built_by_a_factory_is_not_a_decorator_wrapper():
    # polar: ``Starlette(lifespan=_create_lifespan(database=True))``: the inner function runs once
    # per application start, and it is not wrapping anything
    code = dedent(
        """
        import contextlib
        import functools
        import redis.asyncio as async_redis
        from starlette.applications import Starlette

        def _create_lifespan(*, database):
            @contextlib.asynccontextmanager
            async def lifespan(app):
                client = async_redis.Redis.from_url("redis://")
                yield {"redis": client}
                await client.close()
            return lifespan

        def create_app():
            return Starlette(routes=[], lifespan=_create_lifespan(database=True))

        def with_cache(func):
            @functools.wraps(func)
            async def wrapper(*args, **kwargs):
                client = async_redis.Redis.from_url("redis://")
                return await func(client, *args, **kwargs)
            return wrapper
        """
    )
    assert _found({"app.py": code}, ["QL201"], settings={"min-confidence": "low"}) == [("app.py", 20, "QL201")]


def test_a_connection_held_by_a_daemon_main_loop_lives_with_the_process():
    # awx's websocket relay: ``run()`` connects once, then serves in ``while True:`` until the process ends
    code = dedent(
        """
        import asyncio
        import psycopg

        class Relay:
            async def run(self):
                conn = await psycopg.AsyncConnection.connect(dbname="awx")
                await conn.set_autocommit(True)
                while True:
                    for host in self.hosts:
                        if host.gone:
                            break
                    await asyncio.sleep(5)

            async def once(self):
                conn = await psycopg.AsyncConnection.connect(dbname="awx")
                while True:
                    cur = await conn.execute("SELECT ready FROM jobs")
                    if await cur.fetchone():
                        break
                    await asyncio.sleep(1)
        """
    )
    assert _found({"relay.py": code}, ["QL203"], settings={"min-confidence": "low"}) == [("relay.py", 15, "QL203")]  # leaves its loop, so it ends


POLLS = dedent(
    """
    from django.db import models
    class Category(models.Model):
        name = models.CharField(max_length=9)
    class Thread(models.Model):
        category = models.ForeignKey(Category, on_delete=models.CASCADE)
    class Poll(models.Model):
        thread = models.ForeignKey(Thread, on_delete=models.CASCADE)
        category = models.ForeignKey(Category, on_delete=models.CASCADE)
    """
)


def test_a_relation_assigned_in_the_loop_is_the_object_assigned():
    # Misago's merge: ``poll.thread = threads_dict[poll.thread_id]`` then ``poll.thread.category``
    code = dedent(
        """
        from app.models import Poll
        def conflicts(threads):
            by_id = {t.id: t for t in threads}
            polls = list(Poll.objects.filter(thread__in=threads))
            for poll in polls:
                poll.thread = by_id[poll.thread_id]
                poll.category = poll.thread.category
            for poll in polls:
                print(poll.thread.category.name)
            return polls
        """
    )
    files = {"app/__init__.py": "", "app/models.py": POLLS, "app/merge.py": code}
    assert _found(files, ["QL105"], settings={"min-confidence": "low"}) == []
    files["app/merge.py"] = code.replace("        poll.thread = by_id[poll.thread_id]\n", "")
    assert _found(files, ["QL105"], settings={"min-confidence": "low"}) == [("app/merge.py", 6, "QL105"), ("app/merge.py", 8, "QL105")]


AWX_VIEWS = dedent(
    """
    from rest_framework import generics, serializers
    from app.models import Source

    class SourceSerializer(serializers.ModelSerializer):
        related = serializers.SerializerMethodField()
        class Meta:
            model = Source
            fields = ["id", "related"]
        def get_related(self, obj):
            return {"inventory": obj.inventory.name}

    class ListAPIView(generics.ListAPIView):
        def get_queryset(self):
            return self.request.user.get_queryset(self.model)

    class SourceList(ListAPIView):
        model = Source
        serializer_class = SourceSerializer
    """
)
SOURCES = "from django.db import models\nclass Inventory(models.Model):\n    name = models.CharField(max_length=9)\nclass Source(models.Model):\n    inventory = models.ForeignKey(Inventory, on_delete=models.CASCADE)\n"


def test_a_project_base_get_queryset_runs_under_a_subclass_model_attribute():
    # awx: the base view's get_queryset goes through the user's access class, which loads
    # relations querylint cannot read: not ``Source._default_manager.all()``
    files = {"app/__init__.py": "", "app/models.py": SOURCES, "app/api.py": AWX_VIEWS}
    assert _found(files, ["QL118"], settings={"min-confidence": "low"}) == []
    plain = AWX_VIEWS.replace("    def get_queryset(self):\n        return self.request.user.get_queryset(self.model)\n", "    pass\n")
    files["app/api.py"] = plain
    assert _found(files, ["QL118"]) == [("app/api.py", 10, "QL118")]


def test_a_method_also_called_on_objects_of_unknown_class_has_unseen_callers():
    # reader: ``add_or_update_entry(x)`` passes ``[x]``, but the real callers hold the storage as
    # ``self._storage`` (class unknown): the loop stays per item
    storage = dedent(
        """
        import sqlite3
        class Storage:
            def __init__(self, path):
                self.db = sqlite3.connect(path)
            def add_entries(self, entries):
                for e in entries:
                    self.db.execute("INSERT INTO entries (id) VALUES (?)", (e,))
            def add_entry(self, entry):
                self.add_entries([entry])
        """
    )
    core = dedent(
        """
        from flask import Flask
        app = Flask(__name__)
        class Reader:
            def __init__(self, storage):
                self._storage = storage
            def update(self, entries):
                self._storage.add_entries(entries)
        @app.route("/")
        def index():
            return "ok"
        """
    )
    files = {"app/__init__.py": "", "app/storage.py": storage, "app/core.py": core}
    assert _found(files, ["QL101"], settings={"min-confidence": "low"}) == [("app/storage.py", 7, "QL101")]
    files["app/core.py"] = core.replace("self._storage.add_entries(entries)", "pass")
    assert _found(files, ["QL101"], settings={"min-confidence": "low"}) == []


def test_a_test_folder_inside_a_package_is_test_code():
    # django-oscar ships its test helpers as ``src/oscar/test/testcases.py``
    from querylint.project.contexts import path_context
    from querylint.run.config import Config

    assert path_context("src/oscar/test/testcases.py", Config()) == "test"
    assert path_context("test/helpers.py", Config()) == "test"
    assert path_context("src/oscar/contest/views.py", Config()) is None


def test_a_loop_of_a_constant_number_of_passes_is_not_per_item():
    # polar: ``for _ in range(_MAX_RESOLVE_DEPTH):`` walks a tree one level per pass, one
    # set-based UPDATE ... WHERE id IN (frontier) each
    code = dedent(
        """
        from app.models import Host
        _MAX_DEPTH = 32
        def resolve(frontier):
            for _ in range(_MAX_DEPTH):
                Host.objects.filter(pk__in=frontier).update(seen=True)
                frontier = list(Host.objects.filter(parent__in=frontier).values_list("pk", flat=True))
                if not frontier:
                    break
        def per_host(n):
            for i in range(n):
                Host.objects.filter(pk=i).update(seen=True)
        """
    )
    hosts = HOSTS.replace("    seen = models.BooleanField()\n", "    seen = models.BooleanField()\n    parent = models.ForeignKey('self', null=True, on_delete=models.CASCADE)\n")
    files = {"app/__init__.py": "", "app/models.py": hosts, "app/tree.py": code}
    assert _found(files, ["QL103", "QL104"], settings={"min-confidence": "low"}) == [("app/tree.py", 11, "QL104")]


def test_a_table_name_from_a_loop_over_a_constant_list_is_not_injectable():
    # osf: ``for table in TABLES_TO_POPULATE: run_statements(SQL, page_size, table)``
    code = dedent(
        """
        from django.db import connection
        from django.core.management.base import BaseCommand
        TABLES = ["osf_comment", "osf_institution"]
        UPDATE = "UPDATE {} SET deleted = modified WHERE id IN (SELECT id FROM {} WHERE is_deleted LIMIT %s)"
        CHECK = "SELECT deleted FROM {} WHERE deleted IS NULL"

        def run_statements(statement, page_size, table):
            with connection.cursor() as cursor:
                cursor.execute(statement.format(table, table), [page_size])
                cursor.execute(CHECK.format(table))

        def populate(page_size=1000):
            for table in TABLES:
                run_statements(UPDATE, page_size, table)

        class Command(BaseCommand):
            def handle(self, *args, **options):
                populate()
        """
    )
    files = {"app/__init__.py": "", "app/management/__init__.py": "", "app/migrate.py": code,
             "app/urls.py": "from django.urls import path\nfrom app import views\nurlpatterns = [path('', views.index)]\n",
             "app/views.py": "def index(request):\n    return None\n"}
    assert _found(files, ["QL303"], settings={"min-confidence": "low"}) == []
    files["tests/test_migrate.py"] = "from app.migrate import run_statements, UPDATE\ndef test_run():\n    table = 'osf_comment'\n    run_statements(UPDATE, 10, table)\n"
    assert _found(files, ["QL303"], settings={"min-confidence": "low"}) == []  # a test's literal, through a local
    files["app/migrate.py"] = code.replace("    for table in TABLES:\n", "    for table in options_tables():\n")
    assert _found(files, ["QL303"], settings={"min-confidence": "low"}) == [("app/migrate.py", 10, "QL303")]


TAGGED = "from django.db import models\nclass Tag(models.Model):\n    name = models.CharField(max_length=9)\nclass Node(models.Model):\n    title = models.CharField(max_length=9)\n    tags = models.ManyToManyField(Tag)\n"


def test_the_else_of_a_comparison_with_the_loop_item_runs_for_one_item():
    # osf: ``getattr(node, key) if key != "tags" else [str(t) for t in node.tags.all()]`` over
    # distinct keys: the tags are read for the one key named "tags"
    code = dedent(
        """
        from app.models import Node
        def updated(pk, names):
            node = Node.objects.get(pk=pk)
            one = {key: getattr(node, key) if key != "tags" else [str(t) for t in node.tags.all()] for key in names}
            each = {key: [str(t) for t in node.tags.all()] if key != "tags" else None for key in names}
            for key in names:
                if key != "tags":
                    print(key)
                else:
                    print(list(node.tags.all()))
            return one, each
        """
    )
    files = {"app/__init__.py": "", "app/models.py": TAGGED, "app/views.py": code}
    assert [line for _, line, _ in _found(files, ["QL116"], settings={"min-confidence": "low"})] == [5]


def test_a_queryset_the_function_returns_is_not_over_fetched_for_its_ids():
    # django-cms: ``ids = (p.pk for p in placeholders)`` fills the cache of the queryset it returns
    code = dedent(
        """
        from app.models import Document
        def clear(ids):
            documents = Document.objects.filter(pk__in=ids)
            Document.objects.filter(pk__in=[d.id for d in documents]).delete()
            return documents

        def clear_only(ids):
            documents = Document.objects.filter(pk__in=ids)
            Document.objects.filter(pk__in=[d.id for d in documents]).delete()
            return None
        """
    )
    files = {"app/__init__.py": "", "app/models.py": DOCS, "app/views.py": code}
    assert _found(files, ["QL408"], settings={"min-confidence": "low"}) == [("app/views.py", 9, "QL408")]


def test_an_engine_made_where_the_try_failed_is_not_made_per_request():
    # Nettacker: ``except OperationalError:`` creates the database through a maintenance engine,
    # on the first run only; the engine of the ``try`` is made on every request
    code = dedent(
        """
        from flask import Flask
        from sqlalchemy import create_engine, text
        from sqlalchemy.exc import OperationalError
        app = Flask(__name__)

        @app.route("/scan")
        def new_scan():
            try:
                engine = create_engine("postgresql://app@db/app")
                engine.connect().close()
            except OperationalError:
                admin = create_engine("postgresql://app@db/postgres")
                with admin.connect() as conn:
                    conn.execute(text("CREATE DATABASE app"))
                admin.dispose()
            return "ok"
        """
    )
    assert _found({"app.py": code}, ["QL201"], settings={"min-confidence": "low"}) == [("app.py", 9, "QL201")]


def test_a_raise_where_the_open_itself_failed_leaks_nothing():
    # Flexget: ``try: con = sqlite.connect(f) except Exception: raise PluginError(...)``
    code = dedent(
        """
        import psycopg2
        def cookies(dsn):
            try:
                con = psycopg2.connect(dsn)
            except Exception:
                raise RuntimeError("cannot open")
            rows = con.cursor().execute("SELECT 1")
            con.close()
            return rows

        def cookies_checked(dsn):
            try:
                con = psycopg2.connect(dsn)
                con.cursor().execute("SELECT 1")
            except Exception:
                raise RuntimeError("cannot read")
            con.close()
        """
    )
    assert _found({"app.py": code}, ["QL203"], settings={"min-confidence": "low"}) == [("app.py", 13, "QL203")]


def test_a_serializer_no_list_view_is_known_to_use_is_one_step_less_sure():
    # pretalx: the v1 serializer is picked by get_serializer_class; nautobot: the serializer is
    # unused; Misago: built in a function view from a paginated helper's items
    from rules.django_drf import SerializerMethodFieldQuery as R

    files = {k: v for k, v in R.INVALID[0].items() if not k.endswith("views.py")}
    got = lint_files(files, select=["QL118"], settings={"min-confidence": "low"}).findings
    assert [(f.rule, f.confidence) for f in got] == [("QL118", "medium")]
    assert [(f.rule, f.confidence) for f in lint_files(R.INVALID[0], select=["QL118"]).findings] == [("QL118", "high")]


def test_a_serializer_a_list_view_picks_in_get_serializer_class_is_a_known_list_use():
    # antenna: ``OccurrenceViewSet.get_serializer_class`` returns ``OccurrenceListSerializer`` for lists
    from rules.django_drf import SerializerMethodFieldQuery as R

    files = dict(R.INVALID[0])
    files["lib/views.py"] = files["lib/views.py"].replace(
        "    serializer_class = AuthorSerializer\n",
        "    def get_serializer_class(self):\n        if self.action == 'list':\n            return AuthorSerializer\n        return None\n",
    )
    assert [(f.rule, f.confidence) for f in lint_files(files, select=["QL118"]).findings] == [("QL118", "high")]
    files["lib/views.py"] = files["lib/views.py"].replace("Author.objects.all()", "Author.objects.prefetch_related('books')")
    assert lint_files(files, select=["QL118"], settings={"min-confidence": "low"}).findings == []


def test_a_pytest_fixture_taking_request_is_not_a_view():
    # Flexget: ``def manager(request, config, ...)`` in tests/conftest.py builds the application,
    # whose start-up makes the engine: no HTTP request there
    app = dedent(
        """
        from sqlalchemy import create_engine
        class Manager:
            def __init__(self, url):
                self.engine = create_engine(url)
        """
    )
    fixture = dedent(
        """
        import pytest
        from app.manager import Manager
        @pytest.fixture
        def manager(request):
            return Manager(request.param)
        """
    )
    view = "from app.manager import Manager\ndef status(request):\n    return Manager(request.GET['url'])\n"
    files = {"app/__init__.py": "", "app/manager.py": app, "tests/conftest.py": fixture}
    assert _found(files, ["QL201"], settings={"min-confidence": "low"}) == []
    files["app/views.py"] = view
    assert _found(files, ["QL201"]) == [("app/manager.py", 4, "QL201")]


WIKI = dedent(
    """
    from django.db import models
    class WikiManager(models.Manager):
        def get_for_node(self, node, name=None, pk=None):
            if name:
                try:
                    return WikiPage.objects.get(node=node, name=name)
                except WikiPage.DoesNotExist:
                    return None
            return WikiPage.load(pk)
        def for_node(self, node):
            return self.filter(node=node)
    class WikiPage(models.Model):
        node = models.IntegerField()
        name = models.CharField(max_length=9)
        objects = WikiManager()
        @classmethod
        def load(cls, pk):
            return cls.objects.filter(pk=pk).first()
    """
)


def test_a_manager_method_returning_one_row_or_none_is_not_a_queryset():
    # osf: ``wiki = WikiPage.objects.get_for_node(node, name); if wiki or ...``: a None check
    code = dedent(
        """
        from app.models import WikiPage
        def validate(node, name):
            wiki = WikiPage.objects.get_for_node(node, name)
            if wiki:
                raise ValueError("exists")
            pages = WikiPage.objects.for_node(node)
            if pages:
                return "some"
        """
    )
    files = {"app/__init__.py": "", "app/models.py": WIKI, "app/views.py": code}
    assert _found(files, ["QL406"], settings={"min-confidence": "low"}) == [("app/views.py", 7, "QL406")]


def test_a_base_serializer_of_a_list_views_serializer_runs_per_row():
    # osf: ``get_has_children`` is defined on CommentSerializer; the list view names its subclass
    from rules.django_drf import SerializerMethodFieldQuery as R

    files = dict(R.INVALID[0])
    files["lib/serializers.py"] += "class ListAuthorSerializer(AuthorSerializer):\n    pass\n"
    files["lib/views.py"] = files["lib/views.py"].replace("serializer_class = AuthorSerializer", "serializer_class = ListAuthorSerializer").replace(
        "import AuthorSerializer", "import ListAuthorSerializer")
    assert [(f.rule, f.confidence) for f in lint_files(files, select=["QL118"]).findings] == [("QL118", "high")]


def test_a_serializer_built_in_a_method_of_a_list_serializer_runs_per_row():
    # osf: ``NodeLogSerializer.get_params`` returns ``NodeLogParamsSerializer(obj.params).data``
    from rules.django_drf import SerializerMethodFieldQuery as R

    files = dict(R.INVALID[0])
    inner = files["lib/serializers.py"].replace("class AuthorSerializer", "class InnerAuthorSerializer")
    outer = dedent(
        """
        class AuthorSerializer(serializers.ModelSerializer):
            inner = serializers.SerializerMethodField()
            class Meta:
                model = Author
                fields = ["inner"]
            def get_inner(self, obj):
                return InnerAuthorSerializer(obj).data
        """
    )
    files["lib/serializers.py"] = inner + outer
    got = lint_files(files, select=["QL118"], settings={"min-confidence": "low"}).findings
    assert [(f.rule, f.confidence) for f in got] == [("QL118", "high")]


def test_a_serializer_a_view_builds_with_many_true_runs_per_row():
    # mediacms: ``MediaSearchSerializer(page, many=True, context=...)`` in an APIView's get()
    from rules.django_drf import SerializerMethodFieldQuery as R

    files = dict(R.INVALID[0])
    files["lib/views.py"] = dedent(
        """
        from lib.models import Author
        from lib.serializers import AuthorSerializer
        def authors(request):
            return AuthorSerializer(Author.objects.all(), many=True).data
        """
    )
    assert [(f.rule, f.confidence) for f in lint_files(files, select=["QL118"]).findings] == [("QL118", "high")]


def test_the_keys_an_m2m_changed_receiver_gets_are_a_small_collection():
    # awx: ``for role_id in pk_set: Role.objects.get(pk=role_id)`` in an m2m_changed receiver:
    # the keys one ``.parents.add(...)`` call passed, a handful
    code = dedent(
        """
        from app.models import Host
        def on_parents_changed(sender, instance, action, reverse, model, pk_set, **kwargs):
            for pk in pk_set:
                Host.objects.get(pk=pk)
        def mark(ids):
            for pk in ids:
                Host.objects.get(pk=pk)
        """
    )
    files = {"app/__init__.py": "", "app/models.py": HOSTS, "app/signals.py": code}
    got = lint_files(files, select=["QL103"], settings={"min-confidence": "low"}).findings
    assert [(f.line, f.confidence) for f in got] == [(4, "medium"), (7, "high")]
