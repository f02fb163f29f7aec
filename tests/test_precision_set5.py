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

        def count_unchecked(conn, table_name, email):
            if not is_valid_email(email):
                raise ValueError(email)
            return conn.execute(f"SELECT COUNT(*) FROM {table_name} WHERE email = '{email}'")
        """
    )
    found = lint_files({"app/db.py": code}, select=["QL303"], settings=LOW).findings
    assert [(f.line, f.message.split(" from ")[1].split(", not")[0]) for f in found] == [(9, "`key`"), (18, "`table_name`, `email`")]


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
    assert ["allow-list" in fx for fx in fixes] == [False, False, True, True, True]
    assert "`seq`, `max_id` as a bound parameter" in fixes[0]


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

        def lookup(conn, cache, key):
            try:
                return cache[key]
            except KeyError:
                return conn.execute("SELECT v FROM kv WHERE k = ?", (key,)).fetchone()

        def run(conn, subs, cache, keys):
            for sub in subs:
                push(conn, sub, "hi")
            for key in keys:
                lookup(conn, cache, key)
        """
    )
    assert [f.line for f in lint_files({"app/push.py": code}, select=["QL102"], settings=LOW).findings] == [20]


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
