"""Precision cases from the seventeenth session: an eighth blind set (kinto, freqtrade, ephios,
aleph, peeringdb, sydent, open-humans, ichnaea, lego, reviewboard). Each false alarm with its
negative, and the positive it must not hide."""
from querylint.rule import dedent
from querylint.testing import lint_files

LOW = {"min-confidence": "low"}


def _found(files, select, **kw):
    return [(f.path, f.line, f.rule, f.confidence) for f in lint_files(files, select=select, **kw).findings]


def test_a_script_per_file_and_chunks_sent_with_executemany_are_not_per_row_statements():
    # sydent: ``c.executescript(fp.read())`` per schema file on a fresh install, and
    # ``cur.executemany(INSERT, rows[i : i + 500])`` in a ``while`` loop over 500-row slices:
    # both are already the batched form. A SELECT per id stays reported.
    code = dedent(
        """
        import os
        import sqlite3

        def create_schema(db, schema_dir):
            c = db.cursor()
            for f in os.listdir(schema_dir):
                c.executescript(open(os.path.join(schema_dir, f)).read())

        def fill(db, tuples):
            cur = db.cursor()
            done = 0
            while done < len(tuples):
                cur.executemany("INSERT INTO tmp (medium, address) VALUES (?, ?)", tuples[done : done + 500])
                done += 500

        def names(db, ids):
            cur = db.cursor()
            return [cur.execute("SELECT name FROM users WHERE id = ?", (i,)).fetchone() for i in ids]
        """
    )
    assert _found({"app/db.py": code}, ["QL101"]) == [("app/db.py", 18, "QL101", "high")]
    assert ("app/db.py", 13, "QL101", "medium") in _found({"app/db.py": code}, ["QL101"], settings=LOW)


def test_a_primary_key_formatted_into_sql_is_not_injection():
    # reviewboard: ``"... = %s" % str(user.pk)`` in ``queryset.extra(select=...)`` and
    # ``%(local_site_id)s`` filled from ``local_site.pk``: numbers the database generated.
    # A name from the caller inside quotes stays reported.
    code = dedent(
        """
        from django.db import connection

        def draft_summary(queryset, state):
            user = state.datagrid.request.user
            return queryset.extra(select={"d": "SELECT summary FROM drafts WHERE owner_id = %s" % str(user.pk)})

        def bump(local_site, review_request):
            cursor = connection.cursor()
            cursor.execute("UPDATE t SET local_id = 1 WHERE site_id = %(s)s AND id = %(r)s" % {"s": local_site.pk, "r": review_request.pk})

        def by_name(name):
            cursor = connection.cursor()
            cursor.execute("SELECT id FROM t WHERE name = '%s'" % name)
        """
    )
    assert _found({"app/views.py": code}, ["QL303"], settings=LOW) == [("app/views.py", 13, "QL303", "high")]


def test_a_migration_tools_version_table_is_not_a_growing_table():
    # ichnaea's health check reads ``select version_num from alembic_version`` per request: one
    # row per migration head; a LIMIT would hide the extra heads it exists to report. An
    # unbounded read of a data table per request stays reported.
    code = dedent(
        """
        from django.db import connection

        def check_database(request):
            with connection.cursor() as cursor:
                cursor.execute("select version_num from alembic_version")
                heads = cursor.fetchall()
                cursor.execute("select cellid from cell_area")
                return heads, cursor.fetchall()
        """
    )
    assert [f[1:3] for f in _found({"app/views.py": code}, ["QL305"], settings=LOW)] == [(7, "QL305")]


def test_a_project_method_named_like_a_queryset_method_does_not_make_a_queryset():
    # peeringdb: ``field = REFTAG_MAP.get(o_fld)`` then ``if field: field.prefetch_related(qset,
    # request, depth=depth - 1)``: a serializer class with its own ``prefetch_related``
    # (keywords no queryset method takes). A value of unknown type given ``select_related("x")``
    # stays a queryset.
    code = dedent(
        """
        from django.db import models

        def expand(cls, qset, request, fields, depth):
            for fld in fields:
                field = cls.REFTAG_MAP.get(fld)
                if field:
                    field.prefetch_related(qset, request, depth=depth - 1)

        def names(holder):
            rows = holder.rows
            if rows:
                return [r.name for r in rows.select_related("owner")]
        """
    )
    assert [f[1:3] for f in _found({"app/serializers.py": code}, ["QL406"], settings=LOW)] == [(11, "QL406")]


def test_a_count_in_a_loop_that_calls_a_writing_model_method_is_not_loop_invariant():
    # lego: ``for _ in range(event.waiting_registrations.count()): event.bump(pool)`` per pool:
    # ``bump`` moves registrations, so the count differs from pool to pool; hoisting it would
    # read a stale number. The same count beside a method that only reads stays reported.
    models = dedent(
        """
        from django.db import models

        class Event(models.Model):
            title = models.CharField(max_length=10)

            def bump(self, pool):
                reg = self.registrations.filter(pool=None).first()
                reg.pool = pool
                reg.save()

            def describe(self, pool):
                return f"{self.title}: {pool.name}"

        class Pool(models.Model):
            event = models.ForeignKey(Event, related_name="pools", on_delete=models.CASCADE)
            name = models.CharField(max_length=10)

        class Registration(models.Model):
            event = models.ForeignKey(Event, related_name="registrations", on_delete=models.CASCADE)
            pool = models.ForeignKey(Pool, null=True, on_delete=models.CASCADE)
        """
    )
    tasks = dedent(
        """
        from app.models import Event

        def rebalance(event_id):
            event = Event.objects.get(pk=event_id)
            for pool in event.pools.all():
                for _ in range(event.registrations.count()):
                    event.bump(pool)

        def report(event_id):
            event = Event.objects.get(pk=event_id)
            out = []
            for pool in event.pools.all():
                out.append((event.registrations.count(), event.describe(pool)))
            return out
        """
    )
    found = _found({"app/models.py": models, "app/tasks.py": tasks}, ["QL116"], settings=LOW)
    assert [f[:3] for f in found] == [("app/tasks.py", 13, "QL116")]


def test_a_row_locked_in_a_transaction_of_its_own_per_item_is_deliberate():
    # lego: ``for event_id in ids: with transaction.atomic(): event =
    # Event.objects.select_for_update().get(pk=event_id)``: each event (and its pools) locked in
    # its own transaction; fetching them all first would lock all or none. The same read without
    # the lock stays reported.
    models = dedent(
        """
        from django.db import models

        class Event(models.Model):
            title = models.CharField(max_length=10)

        class Pool(models.Model):
            event = models.ForeignKey(Event, related_name="pools", on_delete=models.CASCADE)
        """
    )
    tasks = dedent(
        """
        from django.db import transaction
        from app.models import Event

        def bump(ids):
            for event_id in ids:
                with transaction.atomic():
                    event = Event.objects.select_for_update().get(pk=event_id)
                    for pool in event.pools.select_for_update().all():
                        print(pool)

        def titles(ids):
            for event_id in ids:
                print(Event.objects.get(pk=event_id).title)
        """
    )
    found = _found({"app/models.py": models, "app/tasks.py": tasks}, ["QL103", "QL113"], settings=LOW)
    assert [f[:3] for f in found] == [("app/tasks.py", 13, "QL103")]


def test_a_function_on_a_column_the_project_indexes_by_that_expression_is_fine():
    # sydent: ``CREATE INDEX ... ON global_threepid_associations (medium, lower(address))`` in
    # its schema code, and ``WHERE medium = ? AND lower(address) = lower(?)`` in its queries.
    # Django's ``models.Index(Lower("email"))`` declares one too. A function on a column no
    # index covers stays reported.
    schema = dedent(
        """
        def create(cur):
            cur.execute("CREATE INDEX IF NOT EXISTS medium_lower_address ON assoc (medium, lower(address))")
        """
    )
    models = dedent(
        """
        from django.db import models
        from django.db.models.functions import Lower

        class Account(models.Model):
            email = models.CharField(max_length=100)

            class Meta:
                indexes = [models.Index(Lower("email"), name="account_email_lower")]
        """
    )
    queries = dedent(
        """
        def mxid(cur, medium, address):
            cur.execute("SELECT mxid FROM assoc WHERE medium = ? AND lower(address) = lower(?)", (medium, address))

        def account(cur, email):
            cur.execute("SELECT id FROM app_account WHERE lower(email) = lower(?)", (email,))

        def by_name(cur, name):
            cur.execute("SELECT id FROM app_account WHERE upper(name) = ?", (name,))
        """
    )
    files = {"app/schema.py": schema, "app/models.py": models, "app/queries.py": queries}
    assert [f[:3] for f in _found(files, ["QL306"], settings=LOW)] == [("app/queries.py", 8, "QL306")]


def _fixes(files, select, **kw):
    return [(f.line, f.rule, f.fix) for f in lint_files(files, select=select, **kw).findings]


def test_advice_for_get_on_a_related_manager_is_not_a_prefetch_it_ignores():
    # reviewboard's admin: ``obj.review_request.get().id`` per changelist row. A prefetch does
    # not serve ``get()`` (it always queries), so "add prefetch_related" alone fixes nothing;
    # a count keeps the plain prefetch advice.
    code = dedent(
        """
        from django.contrib import admin
        from django.db import models

        class Request(models.Model):
            title = models.CharField(max_length=10)

        class Comment(models.Model):
            text = models.TextField()
            requests = models.ManyToManyField(Request, related_name="comments")

        @admin.register(Comment)
        class CommentAdmin(admin.ModelAdmin):
            list_display = ("text", "request_id", "request_count")

            def request_id(self, obj):
                return obj.requests.get().id

            def request_count(self, obj):
                return obj.requests.count()
        """
    )
    found = _fixes({"app/admin.py": code}, ["QL118"])
    assert [f[:2] for f in found] == [(16, "QL118"), (19, "QL118")]
    assert "queries even when prefetched" in found[0][2] and found[1][2].startswith('add prefetch_related("requests")')


def test_a_helper_whose_query_a_flag_parameter_turns_off_is_silent_where_the_call_turns_it_off():
    # aleph: ``_query_item(proxy, entitysets=False)`` where ``_query_item`` runs
    # ``EntitySet.entity_entitysets(entity.id) if entitysets else []``; ckan's
    # ``include_datasets`` and ArchiveBox's ``if not emit_results: return`` are the same shape.
    # The same helpers called with the flag on (or left at a true default) stay reported.
    code = dedent(
        """
        import sqlite3

        def lookup(conn, key):
            return conn.execute("SELECT v FROM kv WHERE k = ?", (key,)).fetchone()

        def query_item(conn, item, entitysets=True):
            ids = lookup(conn, item) if entitysets else []
            return [item, ids]

        def summary(conn, item, include_rows=False):
            out = {"item": item}
            if include_rows:
                out["rows"] = lookup(conn, item)
            return out

        def emit(conn, item, emit_results):
            if not emit_results:
                return None
            return lookup(conn, item)

        def run(conn, items):
            quiet = [query_item(conn, i, entitysets=False) for i in items]
            plain = [summary(conn, i) for i in items]
            none = [emit(conn, i, False) for i in items]
            loud = [query_item(conn, i) for i in items]
            full = [summary(conn, i, include_rows=True) for i in items]
            return quiet, plain, none, loud, full
        """
    )
    assert [f[1:3] for f in _found({"app/xref.py": code}, ["QL102"])] == [(25, "QL102"), (26, "QL102")]


def test_a_statement_built_per_table_with_percent_formatting_is_not_an_n_plus_one():
    # ichnaea's export: ``table_stmt = text(stmt % (table, where))`` per shard table, run with
    # ``table_stmt.bindparams(limit=..., cellid=...)``: one statement per table, which no single
    # query could merge. A constant statement run per id stays reported.
    code = dedent(
        """
        from sqlalchemy import text
        from sqlalchemy.orm import Session

        STMT = "SELECT cellid FROM %s WHERE %s AND cellid > :cellid ORDER BY cellid LIMIT :limit"

        def export(session: Session, tables, where):
            out = []
            for table in tables:
                table_stmt = text(STMT % (table, where))
                out.extend(session.execute(table_stmt.bindparams(limit=100, cellid="")).fetchall())
            return out

        def names(session: Session, ids):
            return [session.execute(text("SELECT name FROM cell WHERE id = :id"), {"id": i}).scalar() for i in ids]
        """
    )
    assert [f[1:3] for f in _found({"app/export.py": code}, ["QL103", "QL120"], settings=LOW)] == [(14, "QL103")]


def test_a_relation_read_only_in_the_raise_and_rows_from_the_branch_that_is_not_none():
    # reviewboard's admin widget: ``scmtool_class`` reads ``self.tool.name`` only inside the
    # ``raise ImproperlyConfigured(...)`` that ends it; and the loop's queryset is
    # ``queryset.select_related("hosting_account")[:8]`` in one branch and ``.none()`` (no rows)
    # in the other. A property that reads an unloaded relation stays reported.
    models = dedent(
        """
        from django.db import models
        from django.utils.functional import cached_property

        class Account(models.Model):
            name = models.CharField(max_length=10)

        class Tool(models.Model):
            name = models.CharField(max_length=10)

        class Repository(models.Model):
            name = models.CharField(max_length=10)
            hosting_account = models.ForeignKey(Account, null=True, on_delete=models.CASCADE)
            tool = models.ForeignKey(Tool, null=True, on_delete=models.CASCADE)
            owner = models.ForeignKey(Account, null=True, related_name="+", on_delete=models.CASCADE)

            @cached_property
            def hosting_service(self):
                return self.hosting_account.name if self.hosting_account else None

            @property
            def tool_class(self):
                if self.name:
                    return self.name
                raise ValueError("no tool %s" % self.tool.name)

            @property
            def owner_name(self):
                return self.owner.name
        """
    )
    widgets = dedent(
        """
        from app.models import Repository

        def info(total):
            queryset = Repository.objects.filter(name__isnull=False)
            if total > 0:
                queryset = queryset.only("id", "hosting_account_id", "name").select_related("hosting_account")[:8]
            else:
                queryset = Repository.objects.none()
            return [(r.hosting_service, r.tool_class, r.owner_name) for r in queryset]
        """
    )
    found = _found({"app/models.py": models, "app/widgets.py": widgets}, ["QL106"], settings=LOW)
    assert [f[:3] for f in found] == [("app/widgets.py", 9, "QL106")]
    assert "owner_name" in lint_files({"app/models.py": models, "app/widgets.py": widgets}, select=["QL106"], settings=LOW).findings[0].message
