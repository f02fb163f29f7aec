"""Precision cases from the thirteenth session: a fifth blind set (bookwyrm, wger, lnbits, flaskbb,
pgadmin4, plane, django-helpdesk, keystone) and the fixed versions of real N+1 fixes. Each false
alarm with its negative, and the positive it must not hide."""
from querylint.rule import dedent
from querylint.testing import lint_files


def _found(files, select, **kw):
    codes = [c.strip() for c in select.split(",")]
    return [(f.path, f.line, f.rule) for f in lint_files(files, select=codes, **kw).findings]


LOW = {"min-confidence": "low"}

ENTRY_MODELS = dedent(
    """
    from django.db import models

    class Tag(models.Model):
        name = models.CharField(max_length=10)

    class State(models.Model):
        name = models.CharField(max_length=10)

    class EntryQuerySet(models.QuerySet):
        def public(self):
            try:
                state = State.objects.get(name="approved")
                return self.filter(state=state).prefetch_related("tags")
            except State.DoesNotExist:
                return self.all()

        def recent(self):
            return self.order_by("-id").prefetch_related("tags")

        def drafts(self):
            return self.filter(state__name="draft")

    class Entry(models.Model):
        state = models.ForeignKey(State, on_delete=models.CASCADE)
        tags = models.ManyToManyField(Tag)
        objects = EntryQuerySet.as_manager()
    """
)


def test_a_custom_queryset_method_that_prefetches_loads_the_relation():
    # network-pulse's ``Entry.objects.public()``: the project QuerySet's method returns
    # ``self.filter(...).prefetch_related(...)``; the rows it hands out carry the relation. A return
    # in the ``except`` branch (the fallback of a failed build) is not the normal path.
    views = dedent(
        """
        from app.models import Entry

        def public(request):
            for e in Entry.objects.public():
                for t in e.tags.all():
                    print(t.name)

        def recent(request):
            for e in Entry.objects.filter(state__name="x").recent():
                for t in e.tags.all():
                    print(t.name)

        def drafts(request):
            for e in Entry.objects.drafts():
                for t in e.tags.all():
                    print(t.name)

        def everything(request):
            for e in Entry.objects.all():
                for t in e.tags.all():
                    print(t.name)
        """
    )
    found = _found({"app/models.py": ENTRY_MODELS, "app/views.py": views}, "QL113", settings=LOW)
    assert found == [("app/views.py", 15, "QL113"), ("app/views.py", 20, "QL113")]


def test_a_serializer_over_a_custom_queryset_method_that_prefetches_is_silent():
    views = dedent(
        """
        from rest_framework import generics, serializers
        from app.models import Entry

        class EntrySerializer(serializers.ModelSerializer):
            tag_names = serializers.SerializerMethodField()

            class Meta:
                model = Entry
                fields = ["id", "tag_names"]

            def get_tag_names(self, obj):
                return [t.name for t in obj.tags.all()]

        class Entries(generics.ListAPIView):
            queryset = Entry.objects.public()
            serializer_class = EntrySerializer
        """
    )
    assert _found({"app/models.py": ENTRY_MODELS, "app/views.py": views}, "QL118", settings=LOW) == []
    drafts = views.replace("Entry.objects.public()", "Entry.objects.drafts()")
    assert _found({"app/models.py": ENTRY_MODELS, "app/views.py": drafts}, "QL118", settings=LOW) == [("app/views.py", 12, "QL118")]


def test_formatted_sql_from_a_name_a_failed_check_stops_is_not_reported():
    # lnbits' ``fetch_page``: ``if not _valid_sql_name(table_name): raise`` before
    # ``FROM {table_name}``; the check is the allow-list the fix would ask for
    code = dedent(
        """
        import re

        def _valid_sql_name(name):
            return bool(re.fullmatch(r"[a-z_]+", name))

        def count(conn, table_name, key):
            if not _valid_sql_name(table_name):
                raise ValueError(table_name)
            return conn.execute(f"SELECT COUNT(*) FROM {table_name} WHERE id = {key}")

        def count_checked(conn, table_name):
            assert table_name.isidentifier()
            return conn.execute(f"SELECT COUNT(*) FROM {table_name}")

        def grouped(conn, group_by):
            for field in group_by:
                if not _valid_sql_name(field):
                    raise ValueError(field)
            clause = f"GROUP BY {', '.join(group_by)}"
            return conn.execute(f"SELECT kind, COUNT(*) FROM items {clause}")

        def quoted(conn, role):
            return conn.execute("SELECT 1 FROM pg_roles WHERE rolname = {0}".format(qtLiteral(role)))

        def count_unchecked(conn, table_name, email):
            if not is_valid_email(email):
                raise ValueError(email)
            return conn.execute(f"SELECT COUNT(*) FROM {table_name} WHERE email = '{email}'")
        """
    )
    found = lint_files({"app/db.py": code}, select=["QL303"], settings=LOW).findings
    assert [(f.line, f.message.split(" from ")[1].split(", not")[0]) for f in found] == [(9, "`key`"), (28, "`table_name`, `email`")]


def test_formatted_sql_from_a_property_that_returns_only_constants_is_not_reported():
    # lnbits' ``db.timestamp_now``: a property choosing ``now()`` or ``strftime(...)`` by dialect
    code = dedent(
        """
        class Database:
            @property
            def timestamp_now(self):
                if self.type == "postgres":
                    return "now()"
                return "(strftime('%s', 'now'))"

            @property
            def owner(self):
                return self.settings["owner"]

        db = Database()

        def purge(conn):
            conn.execute(f"DELETE FROM audit WHERE delete_at < {db.timestamp_now}")

        def mine(conn):
            conn.execute(f"DELETE FROM audit WHERE owner = '{db.owner}'")
        """
    )
    assert [f.line for f in lint_files({"app/db.py": code}, select=["QL303"], settings=LOW).findings] == [18]


def test_a_value_after_a_comma_in_a_function_call_or_values_is_advised_a_bound_parameter():
    # lnbits' ``SELECT setval('{seq}', {max_id})``: ``max_id`` is a value, not a column
    code = dedent(
        """
        def reset(cur, seq, max_id, col, rows):
            cur.execute(f"SELECT setval('{seq}', {max_id})")
            cur.execute(f"INSERT INTO t (a, b) VALUES (1, {max_id})")
            cur.execute(f"SELECT a, {col} FROM t")
            cur.execute(f"INSERT INTO t (a, {col}) VALUES (1, 2)")
            cur.execute(f"SELECT x FROM (SELECT a, {col} FROM t) s")
        """
    )
    fixes = [f.fix for f in lint_files({"app/db.py": code}, select=["QL303"], settings=LOW).findings]
    assert ["allow-list" in fx for fx in fixes] == [True, False, True, True, True]
    # (``setval('{seq}', ...)`` names a sequence: an allow-list for ``seq``, a parameter for ``max_id``)
    assert "pass `max_id` as a bound parameter" in fixes[0] and "check `seq` against an allow-list" in fixes[0]


def test_a_helper_that_queries_only_when_outside_work_fails_is_not_a_query_per_item():
    # lnbits' ``send_push_notification()``: per subscription, a web push; the DELETE runs only
    # in ``except WebPushException`` (the subscription is gone). A handler for a missing row or
    # key is ordinary control flow: its query counts.
    code = dedent(
        """
        from pywebpush import webpush, WebPushException

        def push(conn, sub, body):
            try:
                webpush(sub.info, body)
            except WebPushException as e:
                if e.response.status_code == 410:
                    conn.execute("DELETE FROM subs WHERE id = ?", (sub.id,))

        def delete_subscription(conn, sub):
            conn.execute("DELETE FROM subs WHERE id = ?", (sub.id,))

        def push_through_helper(conn, sub, body):
            try:
                webpush(sub.info, body)
            except WebPushException:
                delete_subscription(conn, sub)

        def lookup(conn, cache, key):
            try:
                return cache[key]
            except KeyError:
                return conn.execute("SELECT v FROM kv WHERE k = ?", (key,)).fetchone()

        def run(conn, subs, cache, keys):
            for sub in subs:
                push(conn, sub, "hi")
                push_through_helper(conn, sub, "hi")
            for key in keys:
                lookup(conn, cache, key)
        """
    )
    assert [f.line for f in lint_files({"app/push.py": code}, select=["QL102"], settings=LOW).findings] == [30]


def test_a_helper_that_computes_its_key_then_serves_a_cache_it_fills_is_not_a_query_per_item():
    # wger's ``load_language(code)``: the key is computed first, then ``cache.get``/``return`` and
    # ``cache.set`` after the query: one query per distinct language, not per item
    helpers = dedent(
        """
        from django.core.cache import cache
        from app.models import Language

        def load_language(code):
            used = code.split("-")[0]
            language = cache.get(f"lang-{used}")
            if language:
                return language
            language = Language.objects.get(short_name=used)
            cache.set(f"lang-{used}", language)
            return language

        def load_uncached(code):
            used = code.split("-")[0]
            language = cache.get(f"lang-{used}")
            if language:
                return language
            return Language.objects.get(short_name=used)
        """
    )
    models = "from django.db import models\n\nclass Language(models.Model):\n    short_name = models.CharField(max_length=5)\n"
    views = dedent(
        """
        from app.helpers import load_language, load_uncached

        def search(request):
            codes = request.GET["lang"].split(",")
            first = [load_language(c) for c in codes]
            second = [load_uncached(c) for c in codes]
            return first, second
        """
    )
    found = _found({"app/models.py": models, "app/helpers.py": helpers, "app/views.py": views}, "QL102", settings=LOW)
    assert found == [("app/views.py", 6, "QL102")]


def test_len_of_a_name_that_may_hold_a_list_is_not_advised_count():
    # bookwyrm's feed: ``readthroughs = qs if year else []``; ``len(readthroughs)`` would become
    # ``readthroughs.count()``, which fails on the list
    models = "from django.db import models\n\nclass Read(models.Model):\n    year = models.IntegerField()\n"
    views = dedent(
        """
        from app.models import Read

        def feed(request, year):
            reads = Read.objects.filter(year=year) if year else []
            every = Read.objects.filter(year=year)
            return {"reads": len(reads), "every": len(every)}
        """
    )
    assert _found({"app/models.py": models, "app/views.py": views}, "QL405") == [("app/views.py", 6, "QL405")]


def test_a_call_guarded_by_a_flag_it_sets_runs_once_not_per_item():
    # pgadmin4's ``_restore_connections``: ``if ... and not self.tunnel_created:
    # self.create_ssh_tunnel(...)``, which ends with ``self.tunnel_created = True``
    code = dedent(
        """
        import sqlite3

        class Manager:
            def __init__(self, path):
                self.conn = sqlite3.connect(path)
                self.tunnel_created = False
                self.loaded = False

            def create_tunnel(self):
                self.conn.execute("SELECT host FROM tunnels").fetchall()
                self.tunnel_created = True

            def lookup(self, key):
                return self.conn.execute("SELECT v FROM kv WHERE k = ?", (key,)).fetchone()

            def restore(self, conns):
                for conn in conns:
                    if conn.ssh and not self.tunnel_created:
                        self.create_tunnel()
                    if not self.loaded:
                        self.lookup(conn.key)
        """
    )
    assert _found({"app/manager.py": code}, "QL102", settings=LOW) == [("app/manager.py", 21, "QL102")]


def test_a_relation_narrowed_by_a_method_is_advised_a_prefetch_with_its_queryset():
    # django-helpdesk's ``checklist.tasks.completed().values_list(...)`` (a project QuerySet
    # method) and wger's ``meal.mealitem_set.select_related()``: ``prefetch_related("tasks")``
    # would not be used, the rows must be prefetched with the queryset they are read through
    models = dedent(
        """
        from django.db import models

        class TaskQuerySet(models.QuerySet):
            def completed(self):
                return self.filter(done=True)

        class Checklist(models.Model):
            name = models.CharField(max_length=10)

        class Task(models.Model):
            checklist = models.ForeignKey(Checklist, related_name="tasks", on_delete=models.CASCADE)
            done = models.BooleanField()
            objects = TaskQuerySet.as_manager()
        """
    )
    views = dedent(
        """
        from app.models import Checklist

        def update(request):
            for checklist in Checklist.objects.all():
                done = set(checklist.tasks.completed().values_list("id", flat=True))
                rows = [t.pk for t in checklist.tasks.select_related()]
                every = [t.pk for t in checklist.tasks.all()]
        """
    )
    fixes = [f.fix for f in lint_files({"app/models.py": models, "app/views.py": views}, select=["QL113"]).findings]
    assert len(fixes) == 3
    assert fixes[0].startswith('prefetch the rows it needs (`Prefetch("tasks", queryset=..., to_attr=...)`)') and "`.completed()`" in fixes[0]
    assert "`.select_related()`" in fixes[1]
    assert fixes[2] == 'add .prefetch_related("tasks") to the queryset built on line 4'


def test_a_serializer_handed_on_as_a_value_gets_rows_querylint_cannot_see():
    # plane's export: ``DataExporter(IssueExportSerializer, ...)`` builds it with a queryset that
    # prefetches ``issue_module__module``; the serializer's own loops are not judged on guesses
    models = dedent(
        """
        from django.db import models

        class Module(models.Model):
            name = models.CharField(max_length=10)

        class Issue(models.Model):
            title = models.CharField(max_length=10)

        class IssueModule(models.Model):
            issue = models.ForeignKey(Issue, related_name="issue_module", on_delete=models.CASCADE)
            module = models.ForeignKey(Module, on_delete=models.CASCADE)
        """
    )
    serializers = dedent(
        """
        from rest_framework import serializers
        from app.models import Issue

        class IssueExportSerializer(serializers.ModelSerializer):
            modules = serializers.SerializerMethodField()

            class Meta:
                model = Issue
                fields = ["id", "modules"]

            def get_modules(self, obj):
                return [im.module.name for im in obj.issue_module.all()]
        """
    )
    task = dedent(
        """
        from app.exporter import DataExporter
        from app.models import Issue
        from app.serializers import IssueExportSerializer

        def export(ids):
            issues = Issue.objects.filter(id__in=ids).prefetch_related("issue_module__module")
            return DataExporter(IssueExportSerializer).run(issues)
        """
    )
    exporter = dedent(
        """
        class DataExporter:
            def __init__(self, serializer_class):
                self.serializer_class = serializer_class

            def run(self, rows):
                return self.serializer_class(rows, many=True).data
        """
    )
    files = {"app/models.py": models, "app/serializers.py": serializers, "app/tasks.py": task, "app/exporter.py": exporter}
    assert _found(files, "QL105", settings=LOW) == []
    # the package below the project root (plane's ``apps/api/plane/...`` imported as ``plane...``)
    nested = {f"apps/api/{k}": v for k, v in files.items()}
    assert _found(nested, "QL105", settings=LOW) == []
    del files["app/tasks.py"]
    assert _found(files, "QL105", settings=LOW) == [("app/serializers.py", 12, "QL105")]
