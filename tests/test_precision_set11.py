"""Causes of false alarms from the eleventh blind precision set (nineteenth session), each
with the positive it must keep."""
import ast

import libcst as cst

from querylint.project.ast_facts import collect_facts_ast
from querylint.project.facts import collect_facts, indexed_columns
from querylint.rule import dedent
from querylint.testing import lint_files

LOW = {"min-confidence": "low"}


def _found(files, select, **kw):
    return [(f.path, f.line, f.rule, f.confidence) for f in lint_files(files, select=select, **kw).findings]


def test_a_percent_d_conversion_formats_only_numbers():
    # tendenci: ``"... where t5_id=%d" % (table, tfile.id)``: ``%d`` raises for anything but a number
    code = dedent(
        """
        def t4_object(cursor, table, file_id):
            cursor.execute("select t4_object_id from %s where t5_id=%d" % (table, file_id))

        def by_name(cursor, table, name):
            cursor.execute("select id from %s where name='%s'" % (table, name))
        """
    )
    found = _found({"app/files.py": code}, ["QL303"], settings=LOW)
    assert [(line, conf) for _, line, _, conf in found] == [(2, "medium"), (5, "high")], found


def test_an_objects_key_is_a_number_the_database_made():
    # pybossa: ``"... where id=%s" % target.project_id`` in a mapper event, and a helper every
    # caller gives ``target.project_id``/``target.task_id``; an ``id`` a client sent stays reported
    code = dedent(
        """
        def add_task_event(conn, target):
            conn.execute("select name from project where id=%s" % target.project_id)
            create_result(conn, target.project_id, target.task_id)

        def create_result(conn, project_id, task_id):
            conn.execute("SELECT id FROM task_run WHERE project_id=%s AND task_id=%s" % (project_id, task_id))

        def by_client(conn, payload, request):
            conn.execute("SELECT id FROM users WHERE id = %s" % payload.user_id)
            conn.execute("SELECT id FROM users WHERE id = %s" % request.json.id)

        def by_message(conn, mail):
            conn.execute("SELECT id FROM inbox WHERE message_id = '%s'" % mail.message_id)
        """
    )
    views = "from flask import Flask\nfrom app.events import by_client\napp = Flask(__name__)\napp.add_url_rule('/u', view_func=by_client)\n"
    found = _found({"app/__init__.py": "", "app/events.py": code, "app/views.py": views}, ["QL303"])
    assert [line for _, line, _, _ in found] == [9, 10, 13], found


def test_a_double_quoted_hole_and_a_sequence_name_are_identifiers():
    # baserow: ``jsonb_path_query("{field_name}", %s)`` (a quoted column) and
    # ``nextval('{sequence_name}'::regclass)`` name objects the code made: an allow-list, not a
    # parameter, and only as sure as where the name comes from; MySQL's ``name = "{v}"`` is a string
    code = dedent(
        """
        from django.db.models.expressions import RawSQL

        def contains(model_field, value):
            field_name = model_field.name
            return RawSQL(f'EXISTS(SELECT 1 FROM jsonb_path_query("{field_name}", %s) elem)', (value,))

        def next_value(table, name):
            return RawSQL(f"nextval('{table}_{name}_seq'::regclass)", ())

        def by_name(cur, name):
            cur.execute(f'SELECT id FROM users WHERE name = "{name}"')
        """
    )
    found = lint_files({"app/sql.py": code}, select=["QL303"], settings=LOW).findings
    assert [(f.line, f.confidence) for f in found] == [(5, "medium"), (8, "medium"), (11, "high")]
    assert all("allow-list" in f.fix for f in found[:2]) and "bound parameter" in found[2].fix


def test_a_function_on_a_column_is_sure_only_where_the_column_is_indexed():
    # pybossa: ``WHERE TO_DATE(task_run.finish_time, ...) >= ...`` on a Text column no index
    # covers: no index to lose (medium); ``date(created)`` on an indexed column stays high
    models = dedent(
        """
        from django.db import models

        class TaskRun(models.Model):
            finish_time = models.TextField()
            created = models.DateTimeField(
                db_index=True,
            )
        """
    )
    code = dedent(
        """
        def finished(cur, day):
            cur.execute("SELECT id FROM app_taskrun WHERE TO_DATE(finish_time, 'YYYY-MM-DD') >= %s", (day,))

        def created(cur, day):
            cur.execute("SELECT id FROM app_taskrun WHERE date(created) = %s", (day,))
        """
    )
    found = _found({"app/models.py": models, "app/jobs.py": code}, ["QL306"], settings=LOW)
    assert [(line, conf) for _, line, _, conf in found] == [(2, "medium"), (5, "high")], found


def test_indexed_columns_are_read_from_every_declaration_form():
    text = dedent(
        '''
        class Event(models.Model):
            owner = models.ForeignKey(User, on_delete=models.CASCADE)
            slug = models.SlugField(unique=True)
            plain = models.CharField(max_length=3)

            class Meta:
                indexes = [models.Index(fields=["created", "-score"])]

        class Project(Base):
            name = Column(Unicode(255), unique=True, nullable=False)
            short: Mapped[str] = mapped_column(String(20), index=True)
            body = Column(Text)
            __table_args__ = (Index("ix_p", "lead_id", Project.cat),)

        op.create_index("ix_x", "task_run", ["finish_time"])
        SQL = """CREATE TABLE t (id serial PRIMARY KEY, email text UNIQUE, note text);
        CREATE INDEX ix ON t USING btree (kind, "other");"""
        '''
    )
    got = set(indexed_columns(text))
    assert {"owner", "owner_id", "slug", "created", "score", "name", "short", "lead_id", "cat", "finish_time", "id", "email", "kind", "other"} <= got
    assert not {"plain", "body", "note"} & got
    assert collect_facts_ast(ast.parse(text), text, "app/m.py") == collect_facts(cst.parse_module(text), "app/m.py")


def test_djangos_own_manager_method_is_not_a_project_method_of_the_same_name():
    # tendenci: ``ContentType.objects.get_for_model(object)`` in a loop, while a project manager
    # also defines a ``get_for_model`` that queries: Django's is served from its process cache
    code = dedent(
        """
        from django.contrib.contenttypes.models import ContentType
        from django.db import models

        class CategoryManager(models.Manager):
            def get_for_model(self, model):
                return list(self.filter(name=model._meta.model_name))

        class Category(models.Model):
            name = models.CharField(max_length=10)
            objects = CategoryManager()

        def assign(obj, perms):
            for perm in perms:
                content_type = ContentType.objects.get_for_model(obj)
                categories = Category.objects.get_for_model(obj)
                print(perm, content_type, categories)
        """
    )
    found = _found({"app/models.py": code}, ["QL1"], settings=LOW)
    assert [(line, rule) for _, line, rule, _ in found] == [(15, "QL116")], found


def test_storing_into_an_item_is_not_indexing_a_queryset():
    # tendenci: ``form.fields[obj.field_name] = forms.ChoiceField(...)`` where ``fields`` is also a
    # model's related name: storing an item evaluates nothing (a queryset takes no items)
    code = dedent(
        """
        from django.db import models

        class CorpApp(models.Model):
            name = models.CharField(max_length=10)

        class CorpAppField(models.Model):
            corp_app = models.ForeignKey(CorpApp, related_name="fields", on_delete=models.CASCADE)

        def assign(app: CorpApp, names):
            for name in names:
                app.fields[name] = None

        def first(app: CorpApp, names):
            for name in names:
                print(app.fields.all()[0])
        """
    )
    found = _found({"app/models.py": code}, ["QL1"], settings=LOW)
    assert [line for _, line, _, _ in found] == [15], found


OVERFETCH_MODELS = dedent(
    """
    from django.db import models

    class Table(models.Model):
        name = models.CharField(max_length=10)

    class Field(models.Model):
        table = models.ForeignKey(Table, on_delete=models.CASCADE)
        name = models.CharField(max_length=10)

    class Condition(models.Model):
        field = models.ForeignKey(Field, related_name="conditions", on_delete=models.CASCADE)
    """
)


def test_rows_that_are_used_as_objects_elsewhere_are_not_loaded_for_their_ids_only():
    # baserow: ``ids = [f.id for f in table_fields]`` where a closure later picks a field from
    # ``table_fields``, or the same list was handed to another call: the objects are needed
    code = dedent(
        """
        from app.models import Field

        def group_bys(table, wanted):
            table_fields = Field.objects.filter(table=table)
            ids = [field.id for field in table_fields]

            def pick(field_id):
                return next(f for f in table_fields if f.id == field_id)

            return [pick(i) for i in wanted if i in ids]

        def options(view, fields, registry):
            fields = Field.objects.filter(table=view)
            registry.before_update(view, fields)
            return [field.id for field in fields]

        def only_ids(table):
            fields = Field.objects.filter(table=table)
            return [field.id for field in fields]
        """
    )
    found = _found({"app/__init__.py": "", "app/models.py": OVERFETCH_MODELS, "app/views.py": code}, ["QL408"], settings=LOW)
    assert [line for _, line, _, _ in found] == [19], found


def test_len_of_a_relation_or_of_rows_locked_for_update_is_not_a_count():
    # baserow: ``len(self.conditions.all())`` in a model method counts what a caller may have
    # prefetched (the project prefetches ``conditions``; ``count()`` would query anyway), and
    # ``len(qs.select_for_update())`` loads the rows to lock them. A relation nothing prefetches
    # stays reported
    models = dedent(
        """
        from django.db import models

        class Table(models.Model):
            name = models.CharField(max_length=10)

        class Field(models.Model):
            table = models.ForeignKey(Table, on_delete=models.CASCADE)

            def n_conditions(self):
                return len(self.conditions.all())

            def n_notes(self):
                return len(self.notes.all())

        class Condition(models.Model):
            field = models.ForeignKey(Field, related_name="conditions", on_delete=models.CASCADE)

        class Note(models.Model):
            field = models.ForeignKey(Field, related_name="notes", on_delete=models.CASCADE)
        """
    )
    code = dedent(
        """
        from app.models import Field

        def options(table):
            return [f.n_conditions() for f in Field.objects.filter(table=table).prefetch_related("conditions")]

        def lock_admins(table):
            return len(Field.objects.filter(table=table).select_for_update())

        def n_fields(table):
            return len(Field.objects.filter(table=table))
        """
    )
    found = _found({"app/__init__.py": "", "app/models.py": models, "app/views.py": code}, ["QL405"], settings=LOW)
    assert [(path, line) for path, line, _, _ in found] == [("app/models.py", 13), ("app/views.py", 10)], found


def test_a_write_made_once_per_new_key_is_not_a_write_per_item():
    # OpenOversight: ``unit_id = unit_ids.get(name)``; ``if unit_id is None: db.session.add(unit);
    # db.session.flush(); unit_ids[name] = unit.id``: one flush per new unit name, needed for its id
    code = dedent(
        """
        from app.db import db
        from app.models import Unit

        def import_rows(rows, unit_ids):
            for row in rows:
                name = row["unit"].strip().lower()
                unit_id = unit_ids.get(name)
                if unit_id is None:
                    unit = Unit(description=name)
                    db.session.add(unit)
                    db.session.flush()
                    unit_id = unit.id
                    unit_ids[name] = unit_id
                row["unit_id"] = unit_id

        def flush_each(rows):
            for row in rows:
                unit = Unit(description=row["name"])
                db.session.add(unit)
                db.session.flush()
                row["unit_id"] = unit.id
        """
    )
    models = dedent(
        """
        from app.db import db

        class Unit(db.Model):
            id = db.Column(db.Integer, primary_key=True)
            description = db.Column(db.String(50))
        """
    )
    files = {"app/__init__.py": "", "app/db.py": "from flask_sqlalchemy import SQLAlchemy\ndb = SQLAlchemy()\n", "app/models.py": models, "app/imports.py": code}
    found = _found(files, ["QL104", "QL121"], settings=LOW)
    assert [line for _, line, _, _ in found] == [20], found


def test_reading_indexed_columns_has_no_pathological_input():
    # a first cut backtracked without end on ``Index("ix", <a long dotted name> ...`` with no
    # closing parenthesis (indico's models): every pattern is bounded now
    text = 'Index("ix", ' + "a" * 40 + " b\n" + "(" + ", ".join(["x int"] * 2000) + "\n" + "x = " + "y." * 5000 + "Field(\n"
    assert indexed_columns(text) == ()
