"""Precision cases from the eighth session's blind sample (issue 13): ten projects none of the
earlier sets used (readthedocs.org, lemur, calibre-web, ralph, peering-manager, pulpcore, kpi,
PowerDNS-Admin, shuup, galaxy_ng). Each false alarm with its negative, and the positive it must
not hide."""
from querylint.rule import dedent
from querylint.testing import lint_files


def _found(files, select, **kw):
    return [(f.path, f.line, f.rule) for f in lint_files(files, select=select, **kw).findings]


LOW = {"min-confidence": "low"}

THING = dedent(
    """
    from django.db import models

    class Thing(models.Model):
        name = models.CharField(max_length=10)
    """
)


def test_a_generator_method_of_a_custom_queryset_hands_out_items_not_a_queryset():
    # ralph's PolymorphicQuerySet: ``for key, value in self._iterate_extra_prefetches()`` walks a
    # dict the generator reads; neither it nor the method building ``.extra()`` runs a query
    qs = dedent(
        """
        from django.db import models
        from app.models import Thing

        class PolymorphicQuerySet(models.QuerySet):
            def _iterate_extra_prefetches(self):
                for key, value in self._extra_kwargs.get("select", {}).items():
                    if "_prefetch_related_val_" in key:
                        yield key, value

            def _add_extra_to_subquery(self, query):
                query = query.extra(*self._extra_args, **self._extra_kwargs)
                for key, value in self._iterate_extra_prefetches():
                    query = query.extra(tables=[key], where=[value])
                return query

            def children(self, result):
                out = {}
                for ct_id, objects in result:
                    query = Thing.objects.filter(pk__in=[o.id for o in objects])
                    query = self._add_extra_to_subquery(query)
                    for obj in query:
                        out[obj.pk] = obj
                    out[ct_id] = Thing.objects.filter(name=ct_id).count()
                return out
        """
    )
    found = _found({"app/__init__.py": "", "app/models.py": THING, "app/querysets.py": qs}, ["QL1"], settings=LOW)
    # a query per item is still found (line 23); the generator's caller is not (line 20)
    assert [(line, rule) for _p, line, rule in found] == [(23, "QL103")]


def test_refreshing_one_object_on_every_pass_is_polling_not_a_hoistable_query():
    # ralph's async transitions: ``job.refresh_from_db()`` before each action sees whether
    # another process killed the job; refreshing each item of the loop is still a query per item
    jobs = dedent(
        """
        from app.models import Thing

        def run_actions(job_id, actions):
            job = Thing.objects.get(pk=job_id)
            for action in actions:
                job.refresh_from_db()
                if job.name == "killed":
                    break
                action.run()

        def reload_all():
            for thing in Thing.objects.all():
                thing.refresh_from_db()
        """
    )
    found = _found({"app/__init__.py": "", "app/models.py": THING, "app/jobs.py": jobs}, ["QL1"], settings=LOW)
    assert [(line, rule) for _p, line, rule in found] == [(13, "QL103")]


def test_a_count_after_a_truth_test_of_the_same_queryset_reads_its_cache():
    # peering-manager's router poll: ``if not match: continue`` evaluated the queryset, so
    # ``match.count()`` runs no query; the per-item query is the first evaluation
    poll = dedent(
        """
        from app.models import Thing

        def poll(neighbors):
            found = 0
            for neighbor in neighbors:
                match = Thing.objects.filter(name=neighbor)
                if not match:
                    continue
                if match.count() > 1:
                    continue
                found += 1
            return found

        def poll_rebound(neighbors, others):
            for neighbor in neighbors:
                match = Thing.objects.filter(name=neighbor)
                if not match:
                    continue
                if others:
                    match = Thing.objects.filter(name__startswith=neighbor)
                print(match.count())
        """
    )
    found = _found({"app/__init__.py": "", "app/models.py": THING, "app/poll.py": poll}, ["QL103"], settings=LOW)
    # the querysets evaluated per item (built on lines 6 and 16), and the count after a new
    # binding (line 21), not the count the truth test answered (line 9)
    assert [line for _p, line, _rule in found] == [6, 16, 21]


def test_columns_of_the_models_fields_are_identifiers_not_input():
    # ralph: a join condition built from a through model's fields, and a count query from the
    # columns of ``_meta.get_field(...)`` and a relation's ``.field``: nothing comes from outside
    code = dedent(
        """
        from django.db import connection
        from app.models import Thing

        def quote_type():
            if connection.vendor == "mysql":
                return "`"
            return '"'

        def join_condition(through_table, target_column_name):
            q = quote_type()
            through_table_name = through_table._meta.db_table
            fields = {field for field in through_table._meta.fields}
            our_table = None
            back_column = None
            for field in fields:
                if field.column == target_column_name:
                    continue
                back_column = field.column
                our_table = field.related_model._meta.db_table
            with connection.cursor() as cur:
                cur.execute(f"SELECT 1 FROM {q}{our_table}{q} JOIN {through_table_name} ON {back_column} = 1")

        def used(kind):
            quantity = Thing._meta.get_field("name")
            id_column = Thing.owner.field.column
            sql = "SELECT SUM({q}) FROM {t} WHERE {i} = 1".format(q=quantity.db_column or quantity.column, t=Thing._meta.db_table, i=id_column)
            with connection.cursor() as cur:
                cur.execute(sql)
                cur.execute(f"SELECT id FROM {Thing._meta.db_table} WHERE name = '{kind.column}'")
        """
    )
    found = _found({"app/__init__.py": "", "app/models.py": THING, "app/sql.py": code}, ["QL303"], settings=LOW)
    # a column of something that is not known to be a model field is still reported
    assert [line for _p, line, _rule in found] == [29]


SA_MODELS = dedent(
    """
    from flask_sqlalchemy import SQLAlchemy

    db = SQLAlchemy()

    class Domain(db.Model):
        id = db.Column(db.Integer, primary_key=True)
        name = db.Column(db.String(255), index=True, unique=True)
        kind = db.Column(db.String(8))
    """
)


def test_loading_the_rows_of_a_unique_value_is_loading_one_row():
    # PowerDNS-Admin: ``len(session.query(Domain).filter(Domain.name == name).all())`` tests one
    # row (``name`` is unique); ``kind`` is not, so that test still loads every match
    code = dedent(
        """
        from app.models import Domain, db

        def exists(name):
            domain = db.session.query(Domain).filter(Domain.name == name)
            if len(domain.all()) == 0:
                return False
            taken = Domain.query.filter_by(id=7).all()
            if taken:
                return True
            return len(Domain.query.filter(Domain.kind == name).all()) > 0
        """
    )
    found = _found({"app/__init__.py": "", "app/models.py": SA_MODELS, "app/checks.py": code}, ["QL405", "QL406"], settings=LOW)
    assert [(line, rule) for _p, line, rule in found] == [(10, "QL405")]


TRANSITIONS = dedent(
    """
    from django.db import models

    class Kind(models.Model):
        name = models.CharField(max_length=10)

    class Transition(models.Model):
        kind = models.ForeignKey(Kind, on_delete=models.CASCADE)
        name = models.CharField(max_length=10)
    """
)

TRANSITION_API = dedent(
    """
    from rest_framework import serializers, viewsets
    from app.models import Transition

    class RelatedMixin:
        select_related = None

        def get_queryset(self):
            queryset = super().get_queryset()
            if self.select_related:
                queryset = queryset.select_related(*self.select_related)
            return queryset

    class OwnMixin:
        def get_queryset(self):
            return super().get_queryset().filter(name="mine")

    class BriefMixin:
        brief = False
        brief_prefetch_fields = []

        def get_queryset(self):
            qs = super().get_queryset()
            if self.brief:
                return qs.prefetch_related(None).prefetch_related(*self.brief_prefetch_fields)
            return qs

    class TransitionSerializer(serializers.ModelSerializer):
        kind_name = serializers.SerializerMethodField()

        class Meta:
            model = Transition
            fields = ["name", "kind_name"]

        def get_kind_name(self, obj):
            return obj.kind.name

    class TransitionViewSet({mixin}, viewsets.ModelViewSet):
        queryset = Transition.objects.all()
        serializer_class = TransitionSerializer
        select_related = ["kind"]

    class AvailableViewSet(TransitionViewSet):
        def get_queryset(self):
            return super().get_queryset().filter(name="x")
    """
)


def test_a_base_get_queryset_applying_the_views_own_load_lists_loads_them():
    # ralph's QuerysetRelatedMixin: ``select_related(*self.select_related)`` over the subclass's
    # ``queryset``; a mixin that only filters keeps the class attribute's (missing) loads
    def found(mixin):
        files = {"app/__init__.py": "", "app/models.py": TRANSITIONS, "app/api.py": TRANSITION_API.replace("{mixin}", mixin)}
        return _found(files, ["QL118"], settings=LOW)

    assert found("RelatedMixin") == []
    assert found("OwnMixin") == [("app/api.py", 35, "QL118")]
    # peering-manager's brief mode: clears the prefetches and adds the (empty) brief list
    assert found("BriefMixin") == [("app/api.py", 35, "QL118")]


NAMESPACES = dedent(
    """
    from django.db import models

    class Namespace(models.Model):
        name = models.CharField(max_length=10)

    class Link(models.Model):
        namespace = models.ForeignKey(Namespace, related_name="links", on_delete=models.CASCADE)
        url = models.CharField(max_length=10)
    """
)

NAMESPACE_API = dedent(
    """
    from rest_framework import serializers, viewsets
    from app.models import Link, Namespace

    class LinkSerializer(serializers.ModelSerializer):
        class Meta:
            model = Link
            fields = ["url"]

    class NamespaceSerializer(serializers.ModelSerializer):
        links = LinkSerializer(many=True)

        class Meta:
            model = Namespace
            fields = ["name", "links"]

    class NamespaceSummarySerializer(serializers.ModelSerializer):
        class Meta:
            model = Namespace
            fields = ["name"]

    class NamespaceViewSet(viewsets.ModelViewSet):
        queryset = Namespace.objects.all()
        serializer_class = NamespaceSerializer

        def get_serializer_class(self):
            if self.action == {action}:
                return NamespaceSummarySerializer
            else:
                return self.serializer_class
    """
)


def test_the_serializer_a_list_action_picks_replaces_serializer_class_for_the_list():
    # galaxy_ng: ``if self.action == "list": return NamespaceSummarySerializer``; the nested links
    # are read only when one namespace is retrieved
    def found(action):
        files = {"app/__init__.py": "", "app/models.py": NAMESPACES, "app/api.py": NAMESPACE_API.replace("{action}", action)}
        return [(line, rule) for _p, line, rule in _found(files, ["QL118", "QL119"])]

    assert found('"list"') == []
    assert found('"retrieve"') == [(22, "QL119")]  # the list uses serializer_class: its links per row


ASSETS = dedent(
    """
    from django.contrib.auth.models import User
    from django.db import models

    class Asset(models.Model):
        owner = models.ForeignKey(User, on_delete=models.CASCADE)
        name = models.CharField(max_length=10)
    """
)

ASSET_API = dedent(
    """
    from rest_framework import generics, serializers
    from app.models import Asset

    class AssetSerializer(serializers.ModelSerializer):
        owner__username = serializers.ReadOnlyField(source="owner.username")
        owner_label = serializers.SerializerMethodField()

        class Meta:
            model = Asset
            fields = ["name", "owner__username", "owner_label"]

        def get_owner_label(self, obj):
            return obj.owner.get_full_name()

    class AssetMinimalSerializer(AssetSerializer):
        class Meta:
            model = Asset
            fields = {fields}

    class MinimalList(generics.ListAPIView):
        queryset = Asset.objects.all()
        serializer_class = AssetMinimalSerializer
    """
)


def test_fields_a_base_serializer_declares_but_meta_fields_leaves_out_are_not_read():
    # kpi's ``AssetMinimalListSerializer(AssetSerializer)`` lists three fields of its own
    def found(fields):
        files = {"app/__init__.py": "", "app/models.py": ASSETS, "app/api.py": ASSET_API.replace("{fields}", fields)}
        return sorted({rule for _p, _line, rule in _found(files, ["QL118", "QL119"])})

    assert found('["name"]') == []
    assert found('["name", "owner__username", "owner_label"]') == ["QL118", "QL119"]


OPTIMIZED_MODELS = NAMESPACES.replace(
    "    name = models.CharField(max_length=10)\n",
    "    name = models.CharField(max_length=10)\n\n"
    "    @staticmethod\n"
    "    def optimize_for_list(queryset):\n"
    "        queryset = queryset.prefetch_related(\"links\")\n"
    "        return queryset\n",
    1,
)
assert "optimize_for_list" in OPTIMIZED_MODELS

# the namespace API up to its view's body, then a ``get_queryset`` that loads by action
OPTIMIZED_API = NAMESPACE_API.split("    def get_serializer_class", 1)[0] + (
    "    def get_queryset(self):\n"
    "        queryset = Namespace.objects.filter(name__gt=\"\")\n"
    "        if self.action == \"list\":\n"
    "            return Namespace.optimize_for_list(queryset)\n"
    "        return queryset.filter(name=\"x\")\n"
)
assert "get_serializer_class" not in OPTIMIZED_API


def test_a_get_queryset_that_picks_its_loads_by_action_loads_them_for_the_list():
    # kpi: ``if self.action == "list": return queryset.model.optimize_queryset_for_list(queryset)``,
    # a model static method that narrows its parameter under its own name
    files = {"app/__init__.py": "", "app/models.py": OPTIMIZED_MODELS, "app/api.py": OPTIMIZED_API}
    assert _found(files, ["QL118", "QL119"]) == []
    # with no action test, a path that loads nothing is still the one every action may take
    files["app/api.py"] = OPTIMIZED_API.replace('if self.action == "list":', "if self.request.user.is_staff:")
    assert [rule for _p, _line, rule in _found(files, ["QL118", "QL119"])] == ["QL119"]
