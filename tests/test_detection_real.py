"""Detection on real code (issue 14): shapes seen in real projects' fixes, each with the fixed
form beside it (which must stay silent)."""
import subprocess
import sys
from pathlib import Path

from querylint.rule import dedent
from querylint.testing import lint_files

FLASK_PEEWEE = {
    "redash/__init__.py": dedent(
        """
        from flask import Flask
        from flask_peewee.db import Database
        app = Flask(__name__)
        db = Database(app)
        """
    ),
    "redash/models.py": dedent(
        """
        import peewee
        from redash import db
        class Query(db.Model):
            name = peewee.CharField()
        class Visualization(db.Model):
            query = peewee.ForeignKeyField(Query, related_name="visualizations")
            def to_dict(self):
                return {"query": self.query.name}
        class Dashboard(db.Model):
            name = peewee.CharField()
            def to_dict(self):
                return {w.id: w.to_dict() for w in self.widgets}
            def to_dict_joined(self):
                rows = Widget.select(Widget, Visualization).where(Widget.dashboard == self.id).join(Visualization)
                return {w.id: w.to_dict() for w in rows}
        class Widget(db.Model):
            visualization = peewee.ForeignKeyField(Visualization, related_name="widgets")
            dashboard = peewee.ForeignKeyField(Dashboard, related_name="widgets")
            def to_dict(self):
                return {"id": self.id, "visualization": self.visualization.to_dict()}
        """
    ),
}


def test_flask_peewee_models_backrefs_of_self_and_members_per_row():
    got = lint_files(FLASK_PEEWEE, select=["QL106"]).findings
    assert [(f.path, f.line) for f in got] == [("redash/models.py", 12)]
    assert "self.visualization (lazy load of Widget.visualization)" in got[0].notes[0]


def test_a_file_of_a_package_without_a_project_marker_is_named_as_the_code_imports_it(tmp_path: Path):
    for rel, text in FLASK_PEEWEE.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-m", "querylint", "--no-cache", "--format", "json", "--select", "QL106", "redash/models.py"],
        cwd=tmp_path, capture_output=True, text=True,
    )
    assert out.returncode == 1, out.stderr
    assert '"line": 12' in out.stdout


def test_an_insert_per_item_through_a_helper_is_a_write_with_the_executemany_fix():
    src = dedent(
        """
        def save_row(conn, row):
            conn.execute("INSERT INTO t (a, b) VALUES (?, ?)", (row["a"], row["b"]))
        def load_row(conn, key):
            return conn.execute("SELECT a FROM t WHERE b = ?", (key,)).fetchone()
        def save_all(conn, rows):
            for row in rows:
                save_row(conn, row)
            conn.commit()
        def load_all(conn, keys):
            return [load_row(conn, k) for k in keys]
        """
    )
    got = lint_files({"app/__init__.py": "", "app/store.py": src}, select=["QL102"], settings={"min-confidence": "low"}).findings
    by_line = {f.line: f for f in got}
    assert sorted(by_line) == [7, 10]
    assert "writes to the database" in by_line[7].message and "executemany" in (by_line[7].fix or "") and by_line[7].confidence == "high"
    assert "conn.execute(INSERT ...)" in by_line[7].notes[0]
    assert "runs a query" in by_line[10].message and "conn.execute(SELECT ...)" in by_line[10].notes[0]


ROOM_MODELS = dedent(
    """
    from app.core import db
    class RoomAttribute(db.Model):
        name = db.Column(db.String)
        value = db.Column(db.String)
    class Room(db.Model):
        attributes = db.relationship("RoomAttribute", lazy="dynamic")
        def getAttributeByName(self, attribute_name):
            return self.attributes.filter(RoomAttribute.name == attribute_name).first()
        def getAttributeValueByName(self, name):
            attr = self.getAttributeByName(name)
            return attr.value if attr else None
    class Helper:
        def describe_attribute(self, name):
            return Room.query.filter(Room.id == 1).first()
    """
)
ROOM_VIEW = dedent(
    """
    class RoomForm:
        def defaults(self, names):
            room = self._room
            out = {}
            for name in names:
                out[name] = room.getAttributeValueByName(name)
            return out
        def described(self, names):
            helper = self._helper
            return [helper.describe_attribute(n) for n in names]
    """
)


def test_a_distinctive_model_method_on_an_untyped_receiver_is_followed_into_its_query():
    """``room = self._room``, then ``room.getAttributeValueByName(name)`` per item: the one
    method of that name in the project is a model's, and it queries (indico, on a Flask < 1.0
    ``from flask.ext.sqlalchemy import SQLAlchemy`` wrapper). A method of a class that is not a
    model is not guessed."""
    files = {
        "app/__init__.py": "",
        "app/core.py": "from flask.ext.sqlalchemy import SQLAlchemy\ndb = SQLAlchemy()\n",
        "app/models.py": ROOM_MODELS,
        "app/forms.py": ROOM_VIEW,
    }
    got = lint_files(files, select=["QL102"]).findings
    assert [(f.path, f.line) for f in got] == [("app/forms.py", 6)]
    assert "Room.getAttributeByName()" in got[0].notes[0]


def test_a_guessed_model_method_whose_query_is_a_relation_of_the_instance_is_not_reported():
    """``line.get_warning_text()`` on basket lines of unknown type: the method only reads
    ``self.product``, which the lines' own queryset may have loaded (oscar's ``all_lines()``
    selects the product), so guessing the method says nothing about a query."""
    models = dedent(
        """
        from django.db import models
        class Product(models.Model):
            title = models.CharField(max_length=9)
        class Line(models.Model):
            product = models.ForeignKey(Product, on_delete=models.CASCADE)
            def get_warning_text(self):
                return "%s is no longer available" % self.product.title
            def count_siblings(self):
                return Line.objects.filter(product_id=self.product_id).count()
        """
    )
    view = dedent(
        """
        def warnings(basket):
            out = []
            for line in basket.all_lines():
                out.append(line.get_warning_text())
            return out
        def siblings(basket):
            out = []
            for line in basket.all_lines():
                out.append(line.count_siblings())
            return out
        """
    )
    files = {"shop/__init__.py": "", "shop/models.py": models, "shop/views.py": view}
    got = lint_files(files, select=["QL102"]).findings
    assert [f.line for f in got] == [9]


def test_a_model_imported_through_its_package_is_that_model_whatever_else_shares_its_name():
    """privacyidea: ``from privacyidea.models import Realm`` where ``models/__init__.py`` re-exports
    ``.realm.Realm``, and two Alembic migrations declare their own ``class Realm(Base)``. The
    name is ambiguous; the import is not."""
    files = {
        "app/__init__.py": "",
        "app/models/__init__.py": "from .db import db\nfrom .realm import Realm\n",
        "app/models/db.py": "from flask_sqlalchemy import SQLAlchemy\ndb = SQLAlchemy()\n",
        "app/models/realm.py": (
            "from .db import db\n"
            "class Realm(db.Model):\n    id = db.Column(db.Integer, primary_key=True)\n    name = db.Column(db.Unicode(255))\n"
        ),
        "app/migrations/versions/48ee74b8a7c8_.py": (
            "import sqlalchemy as sa\nfrom sqlalchemy.orm import declarative_base\nBase = declarative_base()\n"
            "class Realm(Base):\n    __tablename__ = 'realm'\n    id = sa.Column(sa.Integer, primary_key=True)\n"
        ),
        "app/migrations/versions/4f32a4e1bf33_.py": (
            "import sqlalchemy as sa\nfrom sqlalchemy.orm import declarative_base\nBase = declarative_base()\n"
            "class Realm(Base):\n    __tablename__ = 'realm'\n    id = sa.Column(sa.Integer, primary_key=True)\n"
        ),
        "app/lib/__init__.py": "",
        "app/lib/devices.py": (
            "from app.models import Realm\n"
            "def device_to_dict(device):\n"
            "    realm = Realm.query.filter_by(id=device.realm_id).first()\n"
            "    return {'realm': realm.name if realm else None}\n"
            "def devices_to_dicts(devices):\n"
            "    return [device_to_dict(d) for d in devices]\n"
        ),
    }
    got = lint_files(files, select=["QL1"]).findings
    assert [(f.path, f.line, f.rule) for f in got] == [("app/lib/devices.py", 6, "QL102")]


SKY_MODELS = """
import sqlalchemy as sa
from sqlalchemy.orm import relationship
from baselayer.app.models import Base


class Obj(Base):
    tns_name = sa.Column(sa.String)


class Submission(Base):
    service_id = sa.Column(sa.Integer)
    obj_id = sa.Column(sa.ForeignKey("obj.id"))
    obj = relationship("Obj")
"""

SKY_HANDLER = """
import sqlalchemy as sa
from baselayer.app.handlers import BaseHandler
from app.models import Submission


class SubmissionHandler(BaseHandler):
    def get(self, service_id, obj_id=None, page=1, size=100):
        with self.Session() as session:
            stmt = Submission.select(session.user_or_token).where(Submission.service_id == service_id)
            if obj_id is not None:
                stmt = stmt.where(Submission.obj_id == obj_id)
            total = session.execute(sa.select(sa.func.count()).select_from(stmt)).scalar()
            stmt = stmt.order_by(Submission.id.desc())
            submissions = session.scalars(stmt.limit(size).offset((page - 1) * size)).all()
            return self.success(data={"submissions": [{"tns_name": s.obj.tns_name} for s in submissions], "total": total})

    def for_one_object(self, obj_id):
        with self.Session() as session:
            stmt = Submission.select(session.user_or_token).where(Submission.obj_id == obj_id)
            return [s.obj.tns_name for s in session.scalars(stmt).all()]  # every row has the same obj
"""


def test_models_over_a_base_from_outside_the_project_and_its_select_class_method():
    """skyportal: models derive from ``baselayer.app.models.Base`` (not in the project) and
    declare SQLAlchemy columns and relationships; ``Model.select(user)`` is baselayer's
    ``select(cls)`` with access checks; the session comes from the framework's
    ``self.Session()``; the filter on ``obj_id`` is applied only when one is given. The fix
    added ``.options(joinedload(Submission.obj))``."""
    files = {"app/__init__.py": "", "app/models.py": SKY_MODELS, "app/handlers.py": SKY_HANDLER}
    got = lint_files(files, select=["QL1"]).findings
    assert [(f.path, f.line, f.rule) for f in got] == [("app/handlers.py", 16, "QL105")], [f.message for f in got]
    fixed = SKY_HANDLER.replace(".where(Submission.service_id == service_id)\n", ".where(Submission.service_id == service_id).options(sa.orm.joinedload(Submission.obj))\n", 1)
    assert lint_files({**files, "app/handlers.py": fixed}, select=["QL1"]).findings == []


DRF_MODELS = """
import functools
from django.db import models


class Identification(models.Model):
    occurrence = models.ForeignKey("Occurrence", on_delete=models.CASCADE, related_name="identifications")
    withdrawn = models.BooleanField(default=False)


class Occurrence(models.Model):
    name = models.CharField(max_length=10)

    @functools.cached_property
    def best_identification(self):
        return Identification.objects.filter(occurrence=self, withdrawn=False).order_by("-id").first()

    def identification_count(self):
        return self.identifications.count()

    def label(self):
        return self.name.title()
"""

DRF_SERIALIZER = """
from rest_framework import serializers
from app.models import Occurrence


class OccurrenceListSerializer(serializers.ModelSerializer):
    details = serializers.SerializerMethodField()
    n = serializers.SerializerMethodField()

    class Meta:
        model = Occurrence
        fields = ["name", "details", "n"]

    def get_details(self, obj):
        best = obj.best_identification
        return {"label": obj.label(), "best": best.pk if best else None}

    def get_n(self, obj):
        return obj.identification_count()
"""


def test_a_model_member_that_queries_in_a_serializer_method_field_runs_per_object():
    """antenna: ``get_determination_details(self, obj)`` reads ``obj.best_identification``, a
    ``cached_property`` that runs ``Identification.objects.filter(...).first()``: cached on the
    object, so once per object of the list. A member whose query is a relation the views'
    queryset prefetches, and a member that runs none, stay silent."""
    view = (
        "from rest_framework import viewsets\nfrom app.models import Occurrence\n"
        "from app.serializers import OccurrenceListSerializer\n"
        "class OccurrenceViewSet(viewsets.ModelViewSet):\n"
        "    queryset = Occurrence.objects.QUERY\n    serializer_class = OccurrenceListSerializer\n"
    )
    files = {"app/__init__.py": "", "app/models.py": DRF_MODELS, "app/serializers.py": DRF_SERIALIZER, "app/views.py": view.replace("QUERY", "all()")}
    got = lint_files(files, select=["QL118"]).findings
    assert [(f.line, f.message.split(" runs")[0]) for f in got] == [
        (15, "the property `obj.best_identification`"),
        (19, "`obj.identification_count()`"),
    ]
    prefetched = {**files, "app/views.py": view.replace("QUERY", 'prefetch_related("identifications")')}
    assert [f.line for f in lint_files(prefetched, select=["QL118"]).findings] == [15]
