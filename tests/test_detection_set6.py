"""Detection cases from the fourteenth session's sixth held-out set (issue 14): real connection
fixes that querylint missed, as shapes written for these tests. Each with the negative that must
stay silent."""
from querylint.rule import dedent
from querylint.testing import lint_files


def _found(files, select, **kw):
    codes = [c.strip() for c in select.split(",")]
    return [(f.path, f.line, f.rule) for f in lint_files(files, select=codes, **kw).findings]


WRAPPING_OPENER = dedent(
    """
    import sqlite3

    class ConnectionPlus:
        def __init__(self, conn):
            self._conn = conn

        def close(self):
            self._conn.close()

        def execute(self, sql, *args):
            return self._conn.execute(sql, *args)

    def connect(path):
        raw = sqlite3.connect(path, detect_types=sqlite3.PARSE_DECLTYPES)
        conn = ConnectionPlus(raw)
        conn.execute("PRAGMA foreign_keys = ON")
        return conn
    """
)


def test_a_connection_wrapped_in_a_class_by_a_project_opener_is_the_callers_to_close():
    # qcodes' ``connect()`` returns ``ConnectionPlus(sqlite3.connect(...))``; a caller that reads
    # the version and returns without closing leaks the file connection on every call. Closing
    # the wrapper closes it.
    code = dedent(
        """
        from app.db import connect

        def db_version(path):
            conn = connect(path)
            return conn.execute("PRAGMA user_version").fetchone()[0]

        def db_version_closed(path):
            conn = connect(path)
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            conn.close()
            return version
        """
    )
    files = {"app/__init__.py": "", "app/db.py": WRAPPING_OPENER, "app/version.py": code}
    assert _found(files, "QL203") == [("app/version.py", 4, "QL203")]


POOL_HANDLER = dedent(
    """
    from psycopg2 import pool

    class Handler:
        def __init__(self, dsn):
            self.postgreSQL_pool = pool.ThreadedConnectionPool(1, 5, dsn)

        def _close_connection(self, connection):
            self.postgreSQL_pool.putconn(connection)

        def _get_connection(self):
            connection = self.postgreSQL_pool.getconn()
            connection.autocommit = False
            return connection

        def snapshot_timestamp(self):
            connection = self._get_connection()
            cursor = connection.cursor()
            try:
                cursor.execute("SELECT MAX(ts) FROM snap")
                for rec in cursor:
                    return rec[0]
            except Exception as e:
                print(e)
            self._close_connection(connection)

        def snapshot_size(self):
            connection = self._get_connection()
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT count(*) FROM snap")
                    return cursor.fetchone()[0]
            finally:
                self._close_connection(connection)
    """
)


def test_a_pool_checkout_a_method_of_the_object_hands_out_must_go_back_on_every_path():
    # jina's hnsw-postgres ``_get_snapshot_timestamp``: ``self._get_connection()`` wraps
    # ``self.postgreSQL_pool.getconn()``; the ``return`` inside the cursor loop skips the
    # ``putconn`` wrapper, so every background check keeps one pooled connection. The fixed form
    # gives it back in a ``finally``.
    got = lint_files({"app/__init__.py": "", "app/handler.py": POOL_HANDLER}, select=["QL204"]).findings
    assert [(f.line, f.rule) for f in got] == [(16, "QL204")]
    assert "when the function returns at line 21" in got[0].message


GRID_MODELS = dedent(
    """
    from django.db import models

    class Package(models.Model):
        slug = models.SlugField()

    class Grid(models.Model):
        slug = models.SlugField()
        packages = models.ManyToManyField(Package, through="GridPackage")

    class GridPackage(models.Model):
        grid = models.ForeignKey(Grid, on_delete=models.CASCADE)
        package = models.ForeignKey(Package, on_delete=models.CASCADE)
    """
)
GRID_RESOURCES = dedent(
    """
    from app.models import Grid

    def grid_resource(grid):
        return {"slug": grid.slug, "packages": [x.slug for x in grid.packages.all()]}

    def grid_size(grid):
        return grid.packages.count()

    def grid_new(grid):
        return list(grid.packages.filter(slug__startswith="new"))

    def related_grids(grid):
        # the relation is a subquery of the one query the caller runs: not evaluated here
        return Grid.objects.filter(packages__in=grid.packages.all()).exclude(id=grid.id)
    """
)


def test_a_helper_that_queries_a_to_many_relation_of_its_row_is_reported_at_the_call():
    # djangopackages' API: ``[grid_resource(x) for x in Grid.objects.all()[a:b]]`` where the helper
    # (another module) iterates ``grid.packages.all()``: one query per grid. The fix prefetches
    # the relation in a queryset factory; a ``.filter()`` on it queries even when prefetched.
    views = dedent(
        """
        from app.models import Grid
        from app.resources import grid_resource, grid_size, grid_new, related_grids

        def optimized():
            return Grid.objects.prefetch_related("packages")

        def grid_list(request):
            return {"objects": [grid_resource(x) for x in Grid.objects.all()[0:20]]}

        def grid_list_fixed(request):
            return {"objects": [grid_resource(x) for x in optimized()[0:20]]}

        def grid_sizes(request):
            return [grid_size(g) for g in optimized()]

        def grid_news(request):
            return [grid_new(g) for g in optimized()]

        def grid_related(request):
            return [related_grids(g).first() for g in Grid.objects.all()]
        """
    )
    files = {"app/__init__.py": "", "app/models.py": GRID_MODELS, "app/resources.py": GRID_RESOURCES, "app/views.py": views}
    got = lint_files(files, select=["QL113"]).findings
    assert [f.line for f in got] == [8, 17]
    # the helper's queryset runs per grid (``.first()``, QL103); its relation is only a subquery
    assert [(f.line, f.rule) for f in lint_files(files, select=["QL1"]).findings if f.line == 20] == [(20, "QL103")]
    assert 'prefetch_related("packages")' in got[0].fix and "Prefetch(" in got[1].fix


def test_self_in_a_custom_queryset_method_is_a_queryset_of_its_model():
    # django-admin-index's ``AppGroupQuerySet.as_list()``: ``self.prefetch_related("applink_set")``
    # and then ``app.applink_set.annotate(...)`` per group, which skips the prefetch cache. The
    # QuerySet (a library QuerySet's subclass) reaches the model through
    # ``Manager.from_queryset(QS)()``; ``.all()`` on the prefetched relation is free.
    models = dedent(
        """
        from django.db import models
        from django.db.models import F
        from ordered_model.models import OrderedModelQuerySet

        class GroupQuerySet(OrderedModelQuerySet):
            def as_list(self):
                out = []
                for app in self.prefetch_related("applink_set"):
                    for link in app.applink_set.annotate(n=F("name")):
                        out.append(link.n)
                    for link in app.applink_set.all():
                        out.append(link.name)
                return out

        class GroupManager(models.Manager):
            pass

        class Group(models.Model):
            name = models.CharField(max_length=9)
            objects = GroupManager.from_queryset(GroupQuerySet)()

        class AppLink(models.Model):
            group = models.ForeignKey(Group, on_delete=models.CASCADE)
            name = models.CharField(max_length=9)
        """
    )
    assert _found({"app/__init__.py": "", "app/models.py": models}, "QL1") == [("app/models.py", 9, "QL114")]
