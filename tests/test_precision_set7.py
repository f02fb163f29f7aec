"""Precision cases from the fifteenth session: a seventh blind set (nav, liberapay, optuna,
ArchiveBox, alerta, babybuddy, archivematica, django-wiki, openwisp-radius). Each false alarm with
its negative, and the positive it must not hide."""
from querylint.rule import dedent
from querylint.testing import lint_files

LOW = {"min-confidence": "low"}


def _found(files, select, **kw):
    return [(f.path, f.line, f.rule, f.confidence) for f in lint_files(files, select=select, **kw).findings]


def test_formatted_sql_from_values_that_print_in_a_fixed_form_is_not_injection():
    # nav: ``"inet '{}' >>= netaddr".format(IP(query))`` (an address IPy parsed or rejected);
    # openwisp-radius: ``'{session.stop_time.isoformat()}'``; alerta: ``INTERVAL '{window}
    # seconds'`` with ``window=1800``; ``if not is_valid_cidr(value): raise`` before the format.
    # A raw parameter in quotes stays reported.
    code = dedent(
        """
        from IPy import IP

        def prefixes(cursor, query):
            cursor.execute("SELECT id FROM prefix WHERE inet '{}' >>= netaddr".format(IP(query)))

        def delete_point(cursor, session):
            cursor.execute(f"DELETE FROM acct WHERE time = '{session.stop_time.isoformat()}'")

        def is_flapping(cursor, alert, window=1800):
            cursor.execute("SELECT 1 FROM alerts WHERE t > NOW() - INTERVAL '{window} seconds'".format(window=window))

        def contains(cursor, value):
            if not is_valid_cidr(value):
                raise ValueError(value)
            cursor.execute("SELECT id FROM prefix WHERE inet '{}' <<= netaddr".format(value))

        def by_name(cursor, name):
            cursor.execute("SELECT id FROM prefix WHERE name = '{}'".format(name))
        """
    )
    assert _found({"app/db.py": code}, ["QL303"], settings=LOW) == [("app/db.py", 18, "QL303", "high")]


def test_a_table_name_every_caller_passes_on_from_a_constant_is_not_injection():
    # nav's watchdog: ``_render_count_estimate(request, "arp")`` hands ``table`` on to
    # ``get_oldest_start_time_date(cursor, table)``, which formats it into ``FROM {table}``;
    # every call at the top passes a literal. A caller passing request data keeps it reported.
    views = dedent(
        """
        from django.db import connection

        def arp_count(request):
            return _render_count_estimate(request, "arp")

        def cam_count(request):
            return _render_count_estimate(request, "cam")

        def _render_count_estimate(request, table):
            cursor = connection.cursor()
            return get_oldest_start_time_date(cursor, table)

        def get_oldest_start_time_date(cursor, table):
            cursor.execute("SELECT start_time FROM {table} ORDER BY start_time LIMIT 1".format(table=table))
            return cursor.fetchone()
        """
    )
    assert _found({"app/views.py": views}, ["QL303"], settings=LOW) == []
    leaky = views + dedent(
        """

        def any_count(request):
            return _render_count_estimate(request, request.GET["table"])
        """
    )
    assert [r[1:3] for r in _found({"app/views.py": leaky}, ["QL303"], settings=LOW)] == [(14, "QL303")]


def test_a_clause_attribute_is_a_composed_fragment():
    # alerta's ``get_services``: ``WHERE {where}`` formatted with ``query.where`` (a clause with its
    # own placeholders, run with ``query.vars``); the name ``select`` is bound again later and
    # run with ``{}``, which paired the clause with the wrong call
    code = dedent(
        """
        class Backend:
            def get_services(self, query):
                select = "SELECT svc, count(1) FROM alerts WHERE {where} GROUP BY svc".format(where=query.where)
                result = self._fetchall(select, query.vars)
                select = "SELECT DISTINCT svc FROM alerts"
                services = self._fetchall(select, {})
                return result, services

            def by_value(self, query):
                return self._fetchall("SELECT svc FROM alerts WHERE svc = '{}'".format(query.value), {})

            def _fetchall(self, query, vars):
                cursor = self.conn.cursor()
                cursor.execute(query, vars)
                return cursor.fetchall()
        """
    )
    assert [r[1:3] for r in _found({"app/backend.py": code}, ["QL303"], settings=LOW)] == [(10, "QL303")]


def test_a_connection_probe_in_a_try_is_freed_at_once():
    # nav's PostgresqlChecker: ``try: psycopg2.connect(**kwargs)`` / ``except Exception: return
    # DOWN``. Nothing keeps the connection, so CPython frees (and closes) it at once. One
    # thrown away outside a probe is a mistake (the code meant to keep it): still reported.
    code = dedent(
        """
        import psycopg2

        def is_up(kwargs):
            try:
                psycopg2.connect(**kwargs)
            except Exception as err:
                return False, str(err)
            return True, ""

        def warm_up(dsn):
            psycopg2.connect(dsn)
            return True
        """
    )
    assert [r[1:3] for r in _found({"app/check.py": code}, ["QL203"], settings=LOW)] == [(11, "QL203")]


def test_a_factory_that_hands_out_an_http_session_is_not_slow_work_itself():
    # archivematica: ``_storage_api_session()`` builds ``requests.session()`` and returns it: the
    # factory (and a function that only hands its session on) waits on nothing. A function that
    # uses what the factory makes, or posts itself, is slow work.
    code = dedent(
        """
        import requests
        from django.db import transaction

        def _storage_api_session(timeout=5):
            session = requests.session()
            session.headers["X"] = "1"
            return session

        def cleanup(job):
            session = _storage_api_session()
            return session

        def notify(job):
            requests.post("https://example.org/hook", json={"job": job.id})

        def call(jobs):
            with transaction.atomic():
                for job in jobs:
                    job.save()
                    cleanup(job)

        def call_and_notify(jobs):
            with transaction.atomic():
                for job in jobs:
                    job.save()
                    notify(job)

        def delete_remote(job):
            return _storage_api_session().delete("https://example.org/" + job.name)

        def call_and_delete(jobs):
            with transaction.atomic():
                for job in jobs:
                    job.delete()
                    delete_remote(job)
        """
    )
    found = lint_files({"app/tasks.py": code}, select=["QL205"], settings=LOW).findings
    assert [f.line for f in found] == [23, 32]
    assert "an HTTP call (a client from `_storage_api_session()`)" in found[1].message


def test_a_formatted_admin_statement_per_item_is_not_an_n_plus_one_and_an_insert_is_advised_executemany():
    # nav's pgsync: ``self.cursor.execute('SET search_path TO %s' % namespace)`` per schema cannot
    # be one set-based query; its event generator runs ``cursor.execute(sql, row)`` with ``sql =
    # """INSERT ..."""`` bound in the loop: the advice is ``executemany``, not ``WHERE id IN``
    code = dedent(
        '''
        import psycopg2

        class Syncer:
            def __init__(self, schemas):
                self.cursor = psycopg2.connect("dbname=nav").cursor()
                self.schemas = schemas

            def install(self):
                for schema in self.schemas:
                    self.cursor.execute('SET search_path TO %s' % schema[0])
                    self.cursor.execute("DROP SCHEMA {} CASCADE".format(schema[1]))

        def handler(cursor, boxlist, state):
            for deviceid, netboxid in boxlist:
                sql = """INSERT INTO eventq (deviceid, netboxid, state) VALUES (%s, %s, %s)"""
                cursor.execute(sql, (deviceid, netboxid, state))
        '''
    )
    found = lint_files({"app/sync.py": code}, select=["QL101"], settings=LOW).findings
    assert [(f.line, f.fix.startswith("collect the rows and run one `executemany(...)`")) for f in found] == [(16, True)]


def test_a_link_added_from_a_new_object_per_item_is_advised_the_through_model():
    # django-wiki's archive upload: ``attachment = Attachment(); attachment.save();
    # attachment.articles.add(self.article)`` per file. ``attachment.articles.add(*objs)`` once
    # cannot take them (each is another attachment); the link rows can be bulk-created.
    models = dedent(
        """
        from django.db import models

        class Article(models.Model):
            title = models.CharField(max_length=9)

        class Attachment(models.Model):
            name = models.CharField(max_length=9)
            articles = models.ManyToManyField("core.Page")  # a model out of sight: the other side is unknown
        """
    )
    forms = dedent(
        """
        from wiki.models import Attachment

        def save_all(article, names):
            for name in names:
                attachment = Attachment(name=name)
                attachment.save()
                attachment.articles.add(article)
        """
    )
    found = [f for f in lint_files({"wiki/models.py": models, "wiki/forms.py": forms}, select=["QL104"], settings=LOW).findings if "articles" in f.message]
    assert [f.fix for f in found] == [
        "`attachment.articles` changes with every item: collect the links and create them in one "
        "`Attachment.articles.through.objects.bulk_create([...])` after the loop"
    ]


def test_len_of_rows_handed_to_the_template_is_not_a_count():
    # archivematica's ``formatgroup_delete``: ``other_group_count = len(other_groups)`` and then
    # ``render(request, ..., context(locals()))``: the template loops over ``other_groups``, so
    # ``.count()`` would add a query. Also ``{"groups": groups}`` in the context.
    models = dedent(
        """
        from django.db import models

        class FormatGroup(models.Model):
            slug = models.CharField(max_length=9)
        """
    )
    views = dedent(
        """
        from django.shortcuts import render
        from fpr.models import FormatGroup

        def delete(request, slug):
            other_groups = FormatGroup.objects.exclude(slug=slug)
            other_group_count = len(other_groups)
            return render(request, "delete.html", context(locals()))

        def listing(request):
            groups = FormatGroup.objects.all()
            n = len(groups)
            return render(request, "list.html", {"groups": groups, "n": n})

        def count_only(request):
            groups = FormatGroup.objects.all()
            return render(request, "n.html", {"n": len(groups)})
        """
    )
    assert [r[1:3] for r in _found({"fpr/models.py": models, "fpr/views.py": views}, ["QL405"], settings=LOW)] == [(16, "QL405")]


def test_a_helper_given_a_relation_of_the_row_is_advised_the_whole_path():
    # nav's network explorer: ``search_expand_swport(swport=swportvlan.interface)`` reads
    # ``swport.netbox``: the loop's rows need ``select_related("interface__netbox")``, not
    # ``"netbox"`` (SwPortVlan has no such field)
    models = dedent(
        """
        from django.db import models

        class Netbox(models.Model):
            sysname = models.CharField(max_length=9)

        class Interface(models.Model):
            netbox = models.ForeignKey(Netbox, on_delete=models.CASCADE)

        class SwPortVlan(models.Model):
            interface = models.ForeignKey(Interface, on_delete=models.CASCADE)
        """
    )
    search = dedent(
        """
        from nav.models import SwPortVlan

        def expand(swport=None):
            return swport.netbox.sysname

        def search(vlan):
            return [expand(swport=spv.interface) for spv in SwPortVlan.objects.filter(vlan=vlan)]
        """
    )
    found = [f for f in lint_files({"nav/models.py": models, "nav/search.py": search}, select=["QL105"], settings=LOW).findings if "expand()" in f.message]
    assert [f.fix for f in found] == ['add .select_related("interface__netbox") to the queryset the loop iterates']


def test_a_property_over_an_inherited_field_is_not_that_relation():
    # ArchiveBox: ``Snapshot.created_by`` is a property (``return self.crawl.created_by``) over
    # the ``created_by`` ForeignKey its abstract base declares; with
    # ``select_related("crawl__created_by")`` nothing is left to load
    models = dedent(
        """
        from django.db import models

        class User(models.Model):
            username = models.CharField(max_length=9)

        class ModelWithUUID(models.Model):
            created_by = models.ForeignKey(User, on_delete=models.CASCADE)

            class Meta:
                abstract = True

        class Crawl(ModelWithUUID):
            url = models.CharField(max_length=9)

        class Snapshot(ModelWithUUID):
            crawl = models.ForeignKey(Crawl, on_delete=models.CASCADE)

            @property
            def created_by(self):
                return self.crawl.created_by

            def storage_path(self):
                return self.created_by.username

        class Tag(ModelWithUUID):
            name = models.CharField(max_length=9)
        """
    )
    update = dedent(
        """
        from archive.models import Snapshot, Tag

        def paths():
            return [s.storage_path() for s in Snapshot.objects.select_related("crawl__created_by")]

        def owners():
            return [t.created_by.username for t in Tag.objects.all()]
        """
    )
    found = _found({"archive/models.py": models, "archive/update.py": update}, ["QL105", "QL106"], settings=LOW)
    assert [r[1:3] for r in found] == [(7, "QL105")]


def test_slow_work_behind_a_process_wide_memo_runs_once():
    # ``global _CURRENT; if _CURRENT: ... return _CURRENT`` then a subprocess (``lsb_release``) and
    # ``_CURRENT = ...``: the slow work runs once per process, not in every transaction that asks
    # for it (the shape of ArchiveBox's ``Machine.current()``, whose hit also asks the database
    # whether the row still exists: that one is no plain memo)
    code = dedent(
        """
        import subprocess
        from django.db import transaction

        _CURRENT = None

        def current():
            global _CURRENT
            if _CURRENT:
                if _CURRENT["fresh"]:
                    return _CURRENT
            _CURRENT = {"os": subprocess.check_output(["lsb_release", "-a"]), "fresh": True}
            return _CURRENT

        def os_info():
            return subprocess.check_output(["lsb_release", "-a"])

        def save_result(result):
            with transaction.atomic():
                result.machine = current()
                result.save()

        def save_result_slow(result):
            with transaction.atomic():
                result.os = os_info()
                result.save()

        _CHECKED = None

        def current_checked():
            global _CHECKED
            if _CHECKED:
                if still_there(_CHECKED):
                    return _CHECKED
            _CHECKED = {"os": subprocess.check_output(["lsb_release", "-a"])}
            return _CHECKED

        def save_checked(result):
            with transaction.atomic():
                result.machine = current_checked()
                result.save()
        """
    )
    assert [r[1:3] for r in _found({"app/results.py": code}, ["QL205"], settings=LOW)] == [(23, "QL205"), (38, "QL205")]


def test_an_engine_a_library_function_never_disposes_is_sure_and_a_mock_engine_is_none():
    # sqlalchemy-utils (held-out 7): ``create_database(url)`` builds ``sa.create_engine(url)`` on
    # every call and never disposes it; the library has no entry points and only its tests call
    # it, so its callers are its users, as often as they like. ``create_mock_engine(...)`` prints
    # SQL and holds no pool. ``engine.raw_connection().set_isolation_level(...)`` uses and drops
    # a checkout: the engine's leak is still the finding.
    lib = dedent(
        """
        import sqlalchemy as sa
        from sqlalchemy import create_mock_engine

        def create_database(url):
            engine = sa.create_engine(url)
            engine.raw_connection().set_isolation_level(0)
            engine.execute("CREATE DATABASE app")

        def render_statement(statement, bind):
            engine = create_mock_engine(bind.engine, executor=print)
            engine.execute(statement)

        def _private(url):
            engine = sa.create_engine(url)
            engine.execute("SELECT 1")
        """
    )
    test = dedent(
        """
        from dbutils.database import create_database

        def test_create():
            create_database("sqlite://")
        """
    )
    found = _found({"dbutils/__init__.py": "", "dbutils/database.py": lib, "tests/test_database.py": test}, ["QL203"], settings=LOW)
    assert [(r[0], r[1], r[3]) for r in found] == [("dbutils/database.py", 5, "high"), ("dbutils/database.py", 14, "medium")]


def test_a_session_stored_on_the_object_anew_every_call_and_never_closed():
    # pykmip (held-out 7): ``_process_batch()`` runs per request and starts with
    # ``self._data_session = self._data_store_session_factory()`` (a sessionmaker kept in
    # ``__init__``); nothing ever closes ``self._data_session``, so each request leaves a session
    # and its pooled connection behind. Opening for the object's life (``__init__``,
    # ``connect()``), a guarded open and a class that closes the attribute are left alone.
    code = dedent(
        """
        import sqlalchemy
        import sqlalchemy.orm

        class Engine:
            def __init__(self, path):
                self._store = sqlalchemy.create_engine(path)
                self._factory = sqlalchemy.orm.sessionmaker(bind=self._store)
                self._admin = self._factory()

            def process_request(self, request):
                self.connect()
                self._refresh()
                return self._process_batch(request.batch)

            def connect(self):
                self._main = self._factory()

            def _refresh(self):
                if self._cache is None:
                    self._cache = self._factory()

            def _process_batch(self, batch):
                self._data_session = self._factory()
                return [self._data_session.query(item).all() for item in batch]

        class ClosingEngine(Engine):
            def handle(self, batch):
                self._work = self._factory()
                try:
                    return self._work.query(batch).all()
                finally:
                    self._work.close()

            def serve(self, batch):
                return self.handle(batch)
        """
    )
    assert [r[1:3] for r in _found({"kmip/engine.py": code}, ["QL203"], settings=LOW)] == [(23, "QL203")]


def test_a_create_per_item_whose_own_save_writes_more_is_sure():
    # django-silk (held-out 7): ``SQLQuery.objects.create(**query)`` per recorded query, where
    # ``SQLQuery.save()`` also saves the request's counter: every row costs two writes, so the
    # batch form is surer, not less. An own ``save()`` that only computes a field stays medium
    # (``bulk_create`` would skip it).
    models = dedent(
        """
        from django.db import models

        class Request(models.Model):
            num_sql_queries = models.IntegerField(default=0)

        class SQLQuery(models.Model):
            request = models.ForeignKey(Request, null=True, on_delete=models.CASCADE)
            query = models.TextField()

            def save(self, *args, **kwargs):
                if not self.pk and self.request:
                    self.request.num_sql_queries += 1
                    self.request.save(update_fields=["num_sql_queries"])
                super().save(*args, **kwargs)

        class Profile(models.Model):
            start = models.IntegerField()
            end = models.IntegerField()
            taken = models.IntegerField(default=0)

            def save(self, *args, **kwargs):
                self.taken = self.end - self.start
                super().save(*args, **kwargs)
        """
    )
    collector = dedent(
        """
        from silk import models

        def finalise(queries, profiles):
            for query in queries:
                query["model"] = models.SQLQuery.objects.create(**query)
            for profile in profiles:
                models.Profile.objects.create(**profile)
        """
    )
    found = _found({"silk/models.py": models, "silk/collector.py": collector}, ["QL104"], settings=LOW)
    assert [(r[1], r[3]) for r in found] == [(5, "high"), (7, "medium")]


def test_a_table_star_beside_a_table_function_is_one_tables_columns():
    # alerta: ``SELECT DISTINCT ON (a.id) a.* FROM alerts a, UNNEST(history) h``: UNNEST of the
    # row's own array is no second table, and ``a.*`` returns the columns of ``alerts`` only
    # (the everyday single-table star, medium); a real join stays reported
    code = dedent(
        """
        def unshelve(cur):
            cur.execute("SELECT DISTINCT ON (a.id) a.* FROM alerts a, UNNEST(history) h WHERE h.status = 'shelved'")
            return cur.fetchall()

        def with_owner(cur):
            cur.execute("SELECT a.*, u.email FROM alerts a JOIN users u ON u.id = a.owner_id")
            return cur.fetchall()
        """
    )
    assert [r[1:4] for r in _found({"app/db.py": code}, ["QL301"], settings=LOW)] == [(2, "QL301", "medium"), (6, "QL301", "high")]


def test_an_engine_handed_to_a_helper_that_only_aliases_it_is_still_the_callers():
    # sqlalchemy-utils' ``create_database()``: ``quote(engine, database)`` where ``quote`` does
    # ``dialect = mixed`` (or ``mixed.dialect``) and reads it. Binding a parameter to a local that
    # is only used does not keep it, so the engine is still never disposed; a helper that
    # returns its alias (``c = conn; return c``) does keep what it was given.
    code = dedent(
        """
        import sqlalchemy as sa

        def quote(mixed, ident):
            if isinstance(mixed, str):
                dialect = mixed
            else:
                dialect = mixed.dialect
            return dialect.identifier_preparer.quote(ident)

        def keep(conn):
            c = conn
            return c

        def create_database(url):
            engine = sa.create_engine(url)
            engine.execute("CREATE DATABASE {0}".format(quote(engine, "app")))

        def hand_over(url):
            engine = sa.create_engine(url)
            engine.execute("SELECT 1")
            return keep(engine)
        """
    )
    assert [r[1:3] for r in _found({"app/db.py": code}, ["QL203"], settings=LOW)] == [(15, "QL203")]
