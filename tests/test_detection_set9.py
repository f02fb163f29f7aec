"""Detection cases from the nineteenth session's held-out set 9 (shapes real fix commits had),
each with the negative it must keep silent."""
from querylint.rule import dedent
from querylint.testing import lint_files


def _found(files, select, **kw):
    return [(f.path, f.line, f.rule, f.confidence) for f in lint_files(files, select=select, **kw).findings]


def test_geopandas_reads_sql_like_pandas():
    # Digital-Twins: ``gpd.GeoDataFrame.from_postgis(f"... ST_GeomFromText('{polygon}', 2193)",
    # engine)``: geopandas' readers run the text they are given, as ``pandas.read_sql`` does
    code = dedent(
        """
        import geopandas as gpd
        from sqlalchemy import text

        def regions(engine, area):
            polygon = area["geometry"][0]
            query = f"SELECT name, geometry FROM region WHERE ST_Intersects(geometry, ST_GeomFromText('{polygon}', 2193))"
            return gpd.GeoDataFrame.from_postgis(query, engine, geom_col="geometry")

        def coast(engine, area):
            polygon = area["geometry"][0]
            return gpd.read_postgis(f"SELECT geometry FROM coast WHERE ST_DWithin(geometry, '{polygon}', 10)", engine)

        def bound(engine, area):
            query = text("SELECT name, geometry FROM region WHERE ST_Intersects(geometry, ST_GeomFromText(:p, 2193))")
            return gpd.read_postgis(query.bindparams(p=str(area["geometry"][0])), engine)
        """
    )
    assert [(line, rule) for _, line, rule, _ in _found({"app/geo.py": code}, ["QL3"])] == [(6, "QL303"), (11, "QL303")]


PROXY_MODELS = dedent(
    """
    from django.db import models

    class Database(models.Model):
        memorable_name = models.CharField(max_length=10)

    class DataSet(models.Model):
        name = models.CharField(max_length=10)

    class MasterDataset(DataSet):
        class Meta:
            proxy = True

    class Source(models.Model):
        dataset = models.ForeignKey(DataSet, on_delete=models.CASCADE)
        database = models.ForeignKey(Database, on_delete=models.CASCADE)

        class Meta:
            abstract = True

    class SourceTable(Source):
        schema = models.CharField(max_length=10)
    """
)


def test_a_proxy_model_has_the_reverse_accessors_of_its_concrete_model():
    # data-workspace: ``MasterDataset`` is a proxy of ``DataSet``, which ``SourceTable.dataset``
    # (declared on an abstract base) points at; ``master.sourcetable_set`` is prefetched, the
    # tables' ``database`` is not. The rows of a prefetched relation come from the owner's
    # prefetch, so that is where the path goes (a ``select_related`` on the manager would query
    # once per dataset)
    views = dedent(
        """
        from app.models import MasterDataset

        def find(request, ids):
            datasets = MasterDataset.objects.filter(id__in=ids).prefetch_related("sourcetable_set")
            return [
                (table.database.memorable_name, table.schema)
                for dataset in datasets
                for table in dataset.sourcetable_set.all()
            ]

        def find_loaded(request, ids):
            datasets = MasterDataset.objects.filter(id__in=ids).prefetch_related("sourcetable_set__database")
            return [
                (table.database.memorable_name, table.schema)
                for dataset in datasets
                for table in dataset.sourcetable_set.all()
            ]
        """
    )
    result = lint_files({"app/__init__.py": "", "app/models.py": PROXY_MODELS, "app/views.py": views}, select=["QL1"])
    assert [(f.line, f.rule) for f in result.findings] == [(6, "QL105")]
    assert result.findings[0].fix == 'add .prefetch_related("sourcetable_set__database") to the queryset built on line 4'


def test_membership_in_a_related_manager_evaluates_it_per_item():
    # FOSDEM volunteers: ``'checked' if volunteer in task.volunteers.all() else ''`` for each task:
    # a queryset has no ``__contains__``, so ``in`` loads the relation's rows for every task;
    # with ``prefetch_related("volunteers")`` it reads the cache
    models = dedent(
        """
        from django.db import models

        class Volunteer(models.Model):
            name = models.CharField(max_length=10)

        class Task(models.Model):
            volunteers = models.ManyToManyField(Volunteer)
        """
    )
    code = dedent(
        """
        from app.models import Task

        def task_list(request, volunteer):
            checked = {}
            for task in Task.objects.all():
                checked[task.id] = volunteer in task.volunteers.all()
            return checked

        def task_list_prefetched(request, volunteer):
            checked = {}
            for task in Task.objects.prefetch_related("volunteers"):
                checked[task.id] = volunteer in task.volunteers.all()
            return checked
        """
    )
    found = lint_files({"app/__init__.py": "", "app/models.py": models, "app/views.py": code}, select=["QL1"]).findings
    assert [(f.line, f.rule) for f in found] == [(6, "QL113")]
    assert found[0].fix == 'add .prefetch_related("volunteers") to the queryset built on line 5'
