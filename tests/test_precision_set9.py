"""Precision cases from the seventeenth session's second blind set (Ghostwriter, faraday, anitya,
packit-service, ecommerce, shynet, bitcart, koschei, credentials), and what the eight blind sets
say together. Each false alarm with its negative, and the positive it must not hide."""
from querylint.rule import dedent
from querylint.testing import lint_files

LOW = {"min-confidence": "low"}


def _found(files, select, **kw):
    return [(f.path, f.line, f.rule, f.confidence) for f in lint_files(files, select=select, **kw).findings]


def _fixes(files, select, **kw):
    return [(f.line, f.rule, f.fix) for f in lint_files(files, select=select, **kw).findings]


MODELS = dedent(
    """
    from django.db import models

    class Client(models.Model):
        name = models.CharField(max_length=10)

    class Project(models.Model):
        client = models.ForeignKey(Client, on_delete=models.CASCADE)

        def __str__(self):
            return f"{self.client}"

    class Oplog(models.Model):
        project = models.ForeignKey(Project, on_delete=models.CASCADE)

    class Session(models.Model):
        name = models.CharField(max_length=10)

        @property
        def hit_count(self):
            return self.hit_set.count()

    class Hit(models.Model):
        session = models.ForeignKey(Session, on_delete=models.CASCADE)
    """
)


def test_advice_names_relations_from_the_loops_rows_and_the_lookup_an_aggregate_takes():
    # Ghostwriter: ``f"{log.project}"`` over ``Oplog.objects.select_related("project")`` runs
    # ``Project.__str__``, which reads ``self.client``: the rows need
    # ``select_related("project__client")``, not ``"client"`` (Oplog has no such field). shynet:
    # ``Hit.session`` has no related_name, so the reverse accessor ``hit_set`` is queried as
    # ``hit``: ``Count("hit")``, not ``Count("hit_set")`` (FieldError).
    views = dedent(
        """
        from app.models import Oplog, Session

        def report():
            return [f"{log.project}" for log in Oplog.objects.select_related("project")]

        def counts():
            return [s.hit_set.count() for s in Session.objects.all()]

        def counted():
            return [s.hit_count for s in Session.objects.all()]
        """
    )
    found = _fixes({"app/models.py": MODELS, "app/views.py": views}, ["QL106", "QL113"])
    assert [(line, rule) for line, rule, _fix in found][:2] == [(4, "QL106"), (7, "QL113")]
    assert found[0][2] == 'add .select_related("project__client") to the queryset built on line 4'
    assert 'Count("hit")' in found[1][2] and 'Count("hit_set")' not in found[1][2]


def test_a_many_to_one_every_row_shares_by_the_querys_filter_is_answered_by_the_identity_map():
    # koschei: ``session.query(Package).filter(Package.collection == collection)`` then
    # ``package.collection.name`` per package (in a helper): every row holds the collection
    # already loaded, and SQLAlchemy's identity map answers the lazy many-to-one without SQL. The
    # same read over packages of every collection stays reported.
    models = dedent(
        """
        from sqlalchemy import Column, ForeignKey, Integer, String
        from sqlalchemy.orm import declarative_base, relationship

        Base = declarative_base()

        class Collection(Base):
            __tablename__ = "collection"
            id = Column(Integer, primary_key=True)
            name = Column(String)

        class Package(Base):
            __tablename__ = "package"
            id = Column(Integer, primary_key=True)
            name = Column(String)
            collection_id = Column(Integer, ForeignKey("collection.id"))
            collection = relationship(Collection)
        """
    )
    admin = dedent(
        """
        from app.models import Collection, Package

        def describe(package):
            return f"{package.name} ({package.collection.name})"

        def set_priority(session, names, name):
            collection = session.query(Collection).filter_by(name=name).first()
            pkgs = session.query(Package).filter(Package.name.in_(names)).filter(Package.collection == collection).all()
            return [describe(pkg) for pkg in pkgs]

        def everything(session):
            return [describe(pkg) for pkg in session.query(Package).all()]
        """
    )
    found = _found({"app/models.py": models, "app/admin.py": admin}, ["QL105"], settings=LOW)
    assert [f[:3] for f in found] == [("app/admin.py", 12, "QL105")]


def test_a_query_update_filtered_on_a_list_per_group_is_not_a_single_row_write():
    # koschei: per collection, ``session.query(Package).filter(Package.id.in_(to_update)).update(...)``:
    # one UPDATE for that collection's rows, not a single-row write. An update of one row per
    # item stays reported.
    models = dedent(
        """
        from sqlalchemy import Boolean, Column, Integer
        from sqlalchemy.orm import declarative_base

        Base = declarative_base()

        class Package(Base):
            __tablename__ = "package"
            id = Column(Integer, primary_key=True)
            collection_id = Column(Integer)
            blocked = Column(Boolean)
        """
    )
    code = dedent(
        """
        from app.models import Package

        def refresh(session, collections, wanted):
            for collection in collections:
                ids = [p.id for p in wanted[collection]]
                session.query(Package).filter(Package.id.in_(ids)).update({"blocked": True}, synchronize_session=False)

        def block_each(session, ids):
            for i in ids:
                session.query(Package).filter(Package.id == i).update({"blocked": True})
        """
    )
    found = _found({"app/models.py": models, "app/sync.py": code}, ["QL1"], settings=LOW)
    assert [f[:2] for f in found] == [("app/sync.py", 10)]


def test_a_view_with_single_object_mixin_that_renders_no_template_is_not_the_templates_view():
    # Ghostwriter: ``AssignProjectContact(SingleObjectMixin, View)`` with ``model = Project``
    # answers JSON; only ``ProjectDetailView(DetailView)`` renders ``project_detail.html``. The
    # advice named the JSON view's queryset.
    models = dedent(
        """
        from django.db import models

        class Provider(models.Model):
            name = models.CharField(max_length=10)

        class Project(models.Model):
            name = models.CharField(max_length=10)

        class Server(models.Model):
            project = models.ForeignKey(Project, on_delete=models.CASCADE)
            provider = models.ForeignKey(Provider, on_delete=models.CASCADE)
        """
    )
    views = dedent(
        """
        from django.http import JsonResponse
        from django.views.generic import DetailView, View
        from django.views.generic.detail import SingleObjectMixin
        from rolodex.models import Project

        class AssignContact(SingleObjectMixin, View):
            model = Project

            def post(self, request, *args, **kwargs):
                return JsonResponse({"id": self.get_object().id})

        class ProjectDetailView(DetailView):
            model = Project
        """
    )
    template = "{% for server in project.server_set.all %}\\n{{ server.provider.name }}\\n{% endfor %}\\n"
    files = {"rolodex/models.py": models, "rolodex/views.py": views, "rolodex/templates/rolodex/project_detail.html": template}
    found = lint_files(files, select=["QL1"]).findings
    assert found and all("AssignContact" not in f.fix and not any("AssignContact" in n for n in f.notes) for f in found)
    assert any("ProjectDetailView" in f.fix for f in found)


def test_a_write_per_row_of_a_model_with_signal_receivers_or_history_is_one_step_less_sure():
    # Ghostwriter's ``Domain`` has a ``pre_save`` receiver, ecommerce's ``RefundLine`` a
    # ``HistoricalRecords()`` field: ``bulk_update``/``bulk_create`` would skip them, so a save per
    # row is often deliberate (``medium``). A model with neither stays ``high``.
    models = dedent(
        """
        from django.db import models
        from django.db.models.signals import pre_save
        from django.dispatch import receiver
        from simple_history.models import HistoricalRecords

        class Domain(models.Model):
            name = models.CharField(max_length=10)

        @receiver(pre_save, sender=Domain)
        def clean_domain(sender, instance, **kwargs):
            instance.name = instance.name.lower()

        class RefundLine(models.Model):
            amount = models.IntegerField()
            history = HistoricalRecords()

        class Tag(models.Model):
            name = models.CharField(max_length=10)
        """
    )
    tasks = dedent(
        """
        from app.models import Domain, RefundLine, Tag

        def expire():
            for d in Domain.objects.filter(name__startswith="a"):
                d.name = "x"
                d.save()

        def refund(amounts):
            for a in amounts:
                RefundLine.objects.create(amount=a)

        def tag(names):
            for n in names:
                Tag.objects.create(name=n)
        """
    )
    found = _found({"app/models.py": models, "app/tasks.py": tasks}, ["QL104"], settings=LOW)
    assert [(f[1], f[3]) for f in found] == [(6, "medium"), (10, "medium"), (14, "high")]


def test_a_parameter_given_only_at_import_time_is_not_input():
    # faraday: ``sum_hosts = _make_created_objects_sum("host")`` in a model's class body;
    # ``_make_created_objects_sum`` formats ``object_type_filter`` into SQL text. Class-body and
    # module-level calls run at import: nothing a request sends reaches them. A function a
    # handler calls with request data stays reported.
    code = dedent(
        """
        from flask import Flask, request
        from sqlalchemy import text

        app = Flask(__name__)

        def _make_sum(object_type_filter):
            return text(f"SELECT sum(created) FROM command_object WHERE object_type = '{object_type_filter}'")

        class Command:
            sum_hosts = _make_sum("host")
            sum_services = _make_sum("service")

        def _by_name(name):
            return text(f"SELECT id FROM command WHERE name = '{name}'")

        DEFAULT = _by_name("nightly")

        @app.get("/commands")
        def commands():
            return str(_by_name(request.args["name"]))
        """
    )
    assert [f[1:3] for f in _found({"app/models.py": code}, ["QL303"], settings=LOW)] == [(14, "QL303")]
