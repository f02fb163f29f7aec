"""Precision cases from the eighteenth session's blind set (rapidpro, FitTrackee, Mailu, zeeguu's
api, jumpserver, DefectDojo, rdmo, codechecker, beets, Medusa). Each false alarm with its negative,
and the positive it must not hide."""
from querylint.rule import dedent
from querylint.testing import lint_files

LOW = {"min-confidence": "low"}


def _found(files, select, **kw):
    return [(f.path, f.line, f.rule, f.confidence) for f in lint_files(files, select=select, **kw).findings]


def _fixes(files, select, **kw):
    return [(f.line, f.rule, f.fix) for f in lint_files(files, select=select, **kw).findings]


def test_table_and_column_names_code_picks_are_not_input():
    # Medusa: ``FROM [{name}]`` and SQLite's ``FROM '{name}'`` with a provider id the code made,
    # ``UPDATE [%s] SET %s = ?`` in a migration helper whose callers name the table; beets:
    # ``model_cls.relation_join`` of a parameter annotated ``type[Model]`` and ``model._table``;
    # DefectDojo: table names a helper maps from a model name. Identifiers cannot be bound, and
    # nothing from the request or the command line reaches them: medium, with the allow-list advice.
    code = dedent(
        """
        import sqlite3

        class DBConnection:
            def __init__(self, filename):
                self.conn = sqlite3.connect(filename)

            def action(self, query, args=None):
                return self.conn.execute(query, args or ())

            def add_column(self, table, column, default=0):
                self.action("UPDATE [%s] SET %s = ?" % (table, column), (default,))

        class CacheDB(DBConnection):
            def __init__(self, provider_id):
                DBConnection.__init__(self, "cache.db")
                self.action("SELECT identifier FROM [{name}] GROUP BY identifier".format(name=provider_id))
                self.action("SELECT max(time) FROM '{p}'".format(p=provider_id))

        class Model:
            _table = "items"
            relation_join = "LEFT JOIN albums ON albums.id = items.album_id"

        def results(conn, model_cls: "type[Model]", where, subvals):
            table = model_cls._table
            source = table
            source += f" {model_cls.relation_join}"
            return conn.execute(f"SELECT {table}.* FROM ({source}) WHERE {where}", subvals).fetchall()

        def unique_values(conn, model, field):
            if field not in model.all_keys():
                raise KeyError
            return conn.execute(f"SELECT DISTINCT {field} FROM {model._table}").fetchall()
        """
    )
    found = _found({"app/db.py": code}, ["QL303"], settings=LOW)
    assert found and all(conf == "medium" for _, _, _, conf in found), found
    fixes = _fixes({"app/db.py": code}, ["QL303"], settings=LOW)
    assert all("bound parameter" not in fix for line, _, fix in fixes if line in (11, 16, 17)), fixes
    assert _found({"app/db.py": code}, ["QL303"]) == []


def test_names_and_values_from_input_stay_sure():
    # a table named by the request, a sort column a helper takes from its caller (labelU's
    # ``?sort=``), a quoted value from a parameter, a value outside quotes from a parameter
    code = dedent(
        """
        from sqlalchemy import text

        def export(request, cur):
            table = request.GET["table"]
            cur.execute(f"SELECT id FROM {table}")

        def list_by(session, query, sort):
            key, direction = sort.split(":")
            return query.order_by(text(f"{key} {direction}"))

        def find(cur, name):
            cur.execute(f"SELECT id FROM users WHERE name = '{name}'")

        def stats(cur, section_id):
            cur.execute("SELECT count(*) FROM history WHERE section_id = %s" % section_id)
        """
    )
    found = _found({"app/views.py": code}, ["QL303"])
    assert [line for _, line, _, conf in found if conf == "high"] == [5, 9, 12, 15], found


def test_unbounded_select_with_a_where_it_may_add_or_into_a_module_cache():
    # Medusa: ``'SELECT * FROM shows {where}'`` formatted with ``'' if not where else ' WHERE ' +
    # ...``: neither choice is the statement, so "no WHERE" is not known; a loader that keeps the
    # rows in a module global (``global network_dict``) runs once per process, not per request.
    code = dedent(
        """
        import sqlite3
        from flask import Flask, request

        app = Flask(__name__)
        network_dict = {}

        def db():
            return sqlite3.connect("x.db")

        def recommended(source=None):
            where, params = [], []
            if source:
                where.append("source = ?")
                params.append(source)
            query = "SELECT id, name FROM shows {where}"
            return db().execute(query.format(where="" if not where else " WHERE " + " AND ".join(where)), params).fetchall()

        def load_network_dict():
            rows = db().execute("SELECT network_name, timezone FROM network_timezones").fetchall()
            global network_dict
            network_dict = {r[0]: r[1] for r in rows}

        def timezone(name):
            if not network_dict:
                load_network_dict()
            return network_dict.get(name)

        def all_networks():
            return db().execute("SELECT network_name, timezone FROM network_timezones").fetchall()

        @app.route("/rec")
        def rec():
            return {"shows": recommended(request.args.get("source")), "tz": timezone("x"), "all": all_networks()}
        """
    )
    assert [line for _, line, _, _ in _found({"app/web.py": code}, ["QL305"])] == [29]


DEDUPE_MODELS = dedent(
    """
    from django.db import models

    class Endpoint(models.Model):
        host = models.CharField(max_length=10)

    class Finding(models.Model):
        title = models.CharField(max_length=10)
        endpoints = models.ManyToManyField(Endpoint)
    """
)


def test_an_instance_a_caller_loaded_through_a_helper_may_carry_its_prefetch():
    # DefectDojo: ``findings = get_finding_models_for_deduplication(ids)`` prefetches
    # ``endpoints``; each finding goes to a matcher whose loop over candidates reads
    # ``new_finding.endpoints.count()`` from that prefetch. The caller loads its rows through a
    # project helper, so what it passes is not "nothing loaded".
    code = dedent(
        """
        from app.models import Finding

        def get_models(ids):
            return list(Finding.objects.filter(id__in=ids).prefetch_related("endpoints"))

        def legacy(new_finding, by_title):
            candidates = []
            candidates.extend(by_title.get(new_finding.title, []))
            for candidate in candidates:
                if new_finding.endpoints.count() != 0:
                    yield candidate

        def dedupe(ids, by_title):
            for new_finding in get_models(ids):
                for match in legacy(new_finding, by_title):
                    print(match)
        """
    )
    assert _found({"app/models.py": DEDUPE_MODELS, "app/dedupe.py": code}, ["QL1"], settings=LOW) == []
    # the same matcher, called with rows of a plain queryset: one COUNT per candidate
    plain = code.replace('for new_finding in get_models(ids):', 'for new_finding in Finding.objects.filter(id__in=ids):')
    found = _found({"app/models.py": DEDUPE_MODELS, "app/dedupe.py": plain}, ["QL1"], settings=LOW)
    assert ("app/dedupe.py", 10, "QL116", "high") in found, found
    # a helper that returns early with ``[]`` and otherwise rows without the prefetch: the
    # matcher's counts are queries, in the matcher's loop and at the call in the caller's loop
    # (DefectDojo's ``locations``, which the helper did not prefetch)
    early = code.replace(
        '    return list(Finding.objects.filter(id__in=ids).prefetch_related("endpoints"))',
        '    if not ids:\n        return []\n    return list(Finding.objects.filter(id__in=ids))',
    )
    assert "return []" in early
    found = _found({"app/models.py": DEDUPE_MODELS, "app/dedupe.py": early}, ["QL1"], settings=LOW)
    assert [(line, rule) for _, line, rule, _ in found] == [(12, "QL116"), (17, "QL113")], found
    prefetched = early.replace("Finding.objects.filter(id__in=ids))", 'Finding.objects.filter(id__in=ids).prefetch_related("endpoints"))')
    assert _found({"app/models.py": DEDUPE_MODELS, "app/dedupe.py": prefetched}, ["QL1"], settings=LOW) == []


def test_objects_loaded_with_load_only_are_not_whole_objects():
    # codechecker: ``session.query(FileContent).options(load_only(FileContent.content_hash))``
    # then ``set(fc.content_hash for fc in q)``: only that column is selected
    code = dedent(
        """
        from sqlalchemy import Column, String
        from sqlalchemy.orm import declarative_base, load_only

        Base = declarative_base()

        class FileContent(Base):
            __tablename__ = "file_contents"
            content_hash = Column(String, primary_key=True)
            content = Column(String)

        def missing(session, hashes):
            q = session.query(FileContent).options(load_only(FileContent.content_hash)).filter(FileContent.content_hash.in_(hashes))
            return list(set(hashes) - set(fc.content_hash for fc in q))

        def missing_whole(session, hashes):
            q = session.query(FileContent).filter(FileContent.content_hash.in_(hashes))
            return list(set(hashes) - set(fc.content_hash for fc in q))
        """
    )
    assert [line for _, line, _, _ in _found({"app/store.py": code}, ["QL408"])] == [17]


def test_attempts_until_one_succeeds_are_not_items():
    # Mailu: ``for _ in range(config.get("MAX_RETRIES", 10))`` generates a random candidate and
    # checks it is free, breaking at the first free one: attempts, not a collection to batch
    code = dedent(
        """
        import secrets
        from flask import Flask, current_app
        from flask_sqlalchemy import SQLAlchemy

        app = Flask(__name__)
        db = SQLAlchemy(app)

        class Alias(db.Model):
            id = db.Column(db.Integer, primary_key=True)
            email = db.Column(db.String)

        @app.route("/alias", methods=["POST"])
        def new_alias():
            localpart = None
            for _ in range(current_app.config.get("MAX_RETRIES", 10)):
                candidate = secrets.token_hex(4)
                if not Alias.query.filter_by(email=candidate).first():
                    localpart = candidate
                    break
            return localpart or ""

        @app.route("/aliases", methods=["POST"])
        def check_all():
            taken = []
            for email in current_app.config.get("RESERVED", []):
                if Alias.query.filter_by(email=email).first():
                    taken.append(email)
            return ",".join(taken)
        """
    )
    assert [line for _, line, _, _ in _found({"app/web.py": code}, ["QL1"])] == [26]


TASKS = dedent(
    """
    from django.db import models

    class Catalog(models.Model):
        uri = models.CharField(max_length=10)

    class Task(models.Model):
        uri = models.CharField(max_length=10)
        catalogs = models.ManyToManyField(Catalog)
    """
)
TASK_VIEWS = dedent(
    """
    from rest_framework import serializers, viewsets
    from rest_framework.decorators import action
    from rest_framework.response import Response

    from app.models import Task

    class TaskExportSerializer(serializers.ModelSerializer):
        catalogs = serializers.SerializerMethodField()

        class Meta:
            model = Task
            fields = ("uri", "catalogs")

        def get_catalogs(self, obj):
            return [c.uri for c in obj.catalogs.all()]

    class TaskSerializer(serializers.ModelSerializer):
        class Meta:
            model = Task
            fields = ("uri",)

    class TaskViewSet(viewsets.ModelViewSet):
        serializer_class = TaskSerializer

        def get_queryset(self):
            queryset = Task.objects.all().order_by("uri")
            if self.action == "export":
                return queryset.prefetch_related("catalogs")
            return queryset

        @action(detail=False)
        def export(self, request):
            queryset = self.filter_queryset(self.get_queryset())
            return Response(TaskExportSerializer(queryset, many=True).data)
    """
)


def test_a_serializer_an_action_builds_from_get_queryset_gets_what_it_loads():
    # rdmo: the export action serializes ``self.get_queryset()``, which prefetches ``catalogs``
    # for that action; the view defines ``get_queryset`` and no ``queryset`` attribute
    files = {"app/models.py": TASKS, "app/views.py": TASK_VIEWS}
    assert _found(files, ["QL118"], settings=LOW) == []
    bare = {"app/models.py": TASKS, "app/views.py": TASK_VIEWS.replace('queryset.prefetch_related("catalogs")', "queryset")}
    assert [(line, rule) for _, line, rule, _ in _found(bare, ["QL118"])] == [(15, "QL118")]


def test_a_loop_over_a_value_of_a_constant_class_dict_runs_a_fixed_number_of_times():
    # jumpserver: ``for f, default_roles in self.custom_m2m_fields.items()`` then a query per
    # ``role in default_roles``, where the class sets ``custom_m2m_fields`` to a dict of one-item
    # lists: two queries in all, whatever the data
    models = "from django.db import models\n\nclass Role(models.Model):\n    name = models.CharField(max_length=10)\n"
    code = dedent(
        """
        from rest_framework import serializers
        from app.models import Role

        class BuiltinRole:
            system_user = Role(id=1)
            org_user = Role(id=2)

        class UserSerializer(serializers.Serializer):
            custom_m2m_fields = {
                "system_roles": [BuiltinRole.system_user],
                "org_roles": [BuiltinRole.org_user],
            }

            def save_roles(self, validated_data):
                out = {}
                for f, default_roles in self.custom_m2m_fields.items():
                    out[f] = [Role.objects.filter(id=role.id).first() for role in default_roles]
                return out

            def save_given(self, validated_data):
                out = {}
                for f, roles in validated_data.items():
                    out[f] = [Role.objects.filter(id=role).first() for role in roles]
                return out
        """
    )
    found = _found({"app/models.py": models, "app/serializers.py": code}, ["QL1"], settings=LOW)
    assert [line for _, line, _, _ in found] == [23], found
