"""Precision cases learnt from real projects (issue 13): each false alarm or not-worth-fixing
pattern with its negative, and the positive it must not hide."""
from querylint.testing import lint_files
from querylint.rule import dedent

CONDITION_MODELS = dedent(
    """
    from django.db import models
    class Range(models.Model):
        name = models.CharField(max_length=9)
    class Condition(models.Model):
        range = models.ForeignKey(Range, on_delete=models.CASCADE)
        def can_apply(self, line):
            return self.in_range(line)
        def in_range(self, line):
            return line.product_id in self.range.name
        def applies(self, lines):
            return [line for line in lines if self.can_apply(line)]
    """
)


def _found(files, select, **kw):
    return [(f.path, f.line, f.rule) for f in lint_files(files, select=select, **kw).findings]


def test_a_relation_of_self_is_loaded_once_for_the_whole_loop():
    # ``self.range`` is cached on the one object after the first call: not a query per line
    assert _found({"app/__init__.py": "", "app/models.py": CONDITION_MODELS}, ["QL102"]) == []


def test_a_relation_of_each_item_through_a_helper_is_still_found():
    # each condition's own ``self.range``: one query per condition
    helper = dedent(
        """
        from app.models import Condition
        def usable(line, ids):
            return [c for c in Condition.objects.filter(pk__in=ids) if c.can_apply(line)]
        """
    )
    files = {"app/__init__.py": "", "app/models.py": CONDITION_MODELS, "app/report.py": helper}
    assert ("app/report.py", 3, "QL106") in _found(files, ["QL102", "QL106"])


WRITES = dedent(
    """
    from app.db import Event
    def log_event(kind):
        Event.objects.create(kind=kind)
    def handle(kinds):
        for kind in kinds:
            log_event(kind)
    """
)
DB = "from django.db import models\nclass Event(models.Model):\n    kind = models.CharField(max_length=9)\n"


def test_a_helper_that_writes_per_item_is_a_write_and_one_step_less_sure():
    files = {"app/__init__.py": "", "app/db.py": DB, "app/events.py": WRITES}
    got = lint_files(files, select=["QL102"], settings={"min-confidence": "low"}).findings
    assert [(f.line, f.confidence) for f in got] == [(6, "medium")]
    assert "writes to the database" in got[0].message and "batch" in got[0].fix


def test_a_helper_that_writes_per_item_in_a_command_is_left_out_by_default():
    files = {"app/__init__.py": "", "app/db.py": DB, "app/management/commands/events.py": WRITES}
    assert _found(files, ["QL102"]) == []
    assert len(_found(files, ["QL102"], settings={"min-confidence": "low"})) == 1


SETTINGS_MODELS = dedent(
    """
    from django.db import models
    from app.caching import settings_cache
    class SettingsManager(models.Manager):
        def get(self, *args, **kwargs):
            return cached_settings()
    @settings_cache(key="settings")
    def cached_settings():
        return Settings.objects.filter(pk=1).first()
    class Settings(models.Model):
        enabled = models.BooleanField()
        objects = SettingsManager()
    class Item(models.Model):
        name = models.CharField(max_length=9)
    """
)
CACHING = "def settings_cache(key):\n    def wrap(f):\n        return f\n    return wrap\n"


def test_a_manager_get_served_by_a_project_cache_is_not_a_query_per_item():
    use = dedent(
        """
        from app.models import Item, Settings
        def enabled_names():
            return [i.name for i in Item.objects.all() if Settings.objects.get(pk=i.pk).enabled]
        """
    )
    files = {"app/__init__.py": "", "app/caching.py": CACHING, "app/models.py": SETTINGS_MODELS, "app/use.py": use}
    assert _found(files, ["QL103", "QL102"]) == []


def test_a_manager_get_that_queries_is_still_found():
    models = SETTINGS_MODELS.replace("return cached_settings()", "return self.filter(*args, **kwargs).first()")
    use = dedent(
        """
        from app.models import Item, Settings
        def enabled_names():
            return [i.name for i in Item.objects.all() if Settings.objects.get(pk=i.pk).enabled]
        """
    )
    files = {"app/__init__.py": "", "app/caching.py": CACHING, "app/models.py": models, "app/use.py": use}
    assert ("app/use.py", 3, "QL103") in _found(files, ["QL103", "QL102"])


def test_memoising_decorators_by_name():
    from querylint.project.index import memoised

    for d in ("functools.lru_cache", "app.caching.settings_cache", "cache_for_request", "app.utils.request_cached", "cache.memoize"):
        assert memoised([d]), d
    for d in ("django.views.decorators.cache.cache_page", "never_cache", "functools.cached_property", "app.invalidate_cache", "cache_response"):
        assert not memoised([d]), d


NOTIFY = dedent(
    """
    import requests
    from app.models import Item
    def notify(ids):
        for item in Item.objects.filter(pk__in=ids):
            owner = Item.objects.get(pk=item.pk + 1)
            requests.post("https://hooks.example.com", json={"name": owner.name})
    def enqueue(ids, task):
        for item in Item.objects.filter(pk__in=ids):
            owner = Item.objects.get(pk=item.pk + 1)
            task.delay(owner.pk)
    def plain(ids):
        for item in Item.objects.filter(pk__in=ids):
            owner = Item.objects.get(pk=item.pk + 1)
            print(owner.name)
    def fan_out(queue, rq):
        for data in queue:
            hooks = Item.objects.filter(name=data["name"])
            for hook in hooks:
                rq.enqueue("send", hook.pk)
    """
)
ITEM = "from django.db import models\nclass Item(models.Model):\n    name = models.CharField(max_length=9)\n"


def test_a_query_beside_per_item_external_work_is_one_step_less_sure():
    files = {"app/__init__.py": "", "app/models.py": ITEM, "app/notify.py": NOTIFY}
    got = lint_files(files, select=["QL103"], settings={"min-confidence": "low"}).findings
    # a job queued per row of the inner query is not work per outer item: none when it is empty
    assert sorted((f.line, f.confidence) for f in got) == [(5, "medium"), (9, "medium"), (13, "high"), (17, "high")]


def test_a_lazy_relation_beside_external_work_keeps_its_confidence_the_fix_is_one_word():
    models = ITEM + "class Line(models.Model):\n    item = models.ForeignKey(Item, on_delete=models.CASCADE)\n"
    src = (
        "import requests\nfrom app.models import Line\n"
        "def notify():\n"
        "    for line in Line.objects.all():\n"
        "        requests.post('https://hooks.example.com', json={'name': line.item.name})\n"
    )
    got = lint_files({"app/__init__.py": "", "app/models.py": models, "app/notify.py": src}, select=["QL105"]).findings
    assert [(f.line, f.confidence) for f in got] == [(5, "high")]


def test_a_route_returning_one_object_loads_its_relations_once():
    from rules.sqlalchemy import ORDER_CUSTOMER_MODELS, SqlalchemyLazyLoadInResponseModel

    example = dict(SqlalchemyLazyLoadInResponseModel.INVALID[0])
    one = example["app/api.py"].replace('"/orders", response_model=list[OrderOut]', '"/orders/{oid}", response_model=OrderOut')
    one = one.replace("def orders(session: Session):", "def order(session: Session, oid: int):")
    one = one.replace("return session.scalars(select(Order)).all()  # want: QL126", "order = session.get(Order, oid)\n    return order")
    assert "session.get" in one
    files = {"app/__init__.py": "", "app/models.py": ORDER_CUSTOMER_MODELS, "app/schemas.py": example["app/schemas.py"]}
    assert _found({**files, "app/api.py": one}, ["QL126"]) == []
    many = example["app/api.py"].replace("  # want: QL126", "")
    assert [(p, c) for p, _, c in _found({**files, "app/api.py": many}, ["QL126"])] == [("app/api.py", "QL126")]


def test_statements_that_differ_per_item_and_batch_loops_are_not_query_per_item():
    code = dedent(
        """
        from sqlalchemy import text
        def migrate(cursor, tables, statements, connection, schemas, src, dst, window_size):
            for table in tables:
                cursor.execute("INSERT INTO `dojo" + table + "` SELECT * FROM `" + table + "`;")
            for sql in statements:
                cursor.execute(sql)
            for schema in schemas:
                set_path = text(f'set search_path to "{schema}"')
                connection.execute(set_path)
            while batch := src.fetchmany(500):
                dst.executemany("INSERT INTO t VALUES (?)", [(r[0],) for r in batch])
            lo, top = 0, 10
            while lo <= top:
                hi = lo + window_size
                cursor.execute("DELETE FROM refs WHERE id >= %(lo)s AND id < %(hi)s", {"lo": lo, "hi": hi})
                lo = hi
        def per_item(cursor, ids):
            for i in ids:
                cursor.execute(f"SELECT name FROM users WHERE id = {int(i)}")
            queue = list(ids)
            while queue:
                item = queue.pop()
                cursor.execute("SELECT name FROM users WHERE id = %s", (item,))
        """
    )
    assert [line for _, line, _ in _found({"app/__init__.py": "", "app/jobs.py": code}, ["QL101"])] == [19, 23]


TOKEN_MODELS = dedent(
    """
    from django.db import models
    class Media(models.Model):
        friendly_token = models.CharField(max_length=12, unique=True)
        title = models.CharField(max_length=9)
    """
)


def test_a_queryset_filtered_on_a_unique_field_holds_one_row_at_most():
    code = dedent(
        """
        from app.models import Media
        def token_taken(token):
            return bool(Media.objects.filter(friendly_token=token))
        def by_pk(pk):
            qs = Media.objects.filter(pk=pk)
            return len(qs)
        def titled(title):
            return bool(Media.objects.filter(title=title))
        def first_only(title):
            return len(Media.objects.filter(title=title)[:1])
        """
    )
    files = {"app/__init__.py": "", "app/models.py": TOKEN_MODELS, "app/use.py": code}
    assert [line for _, line, _ in _found(files, ["QL405", "QL406"])] == [8]


ORDER_USER = dedent(
    """
    from django.db import models
    class User(models.Model):
        email = models.CharField(max_length=9)
    class Order(models.Model):
        user = models.ForeignKey(User, on_delete=models.CASCADE)
        guest_email = models.CharField(max_length=9)
        @property
        def email(self):
            return self.user.email if self.user_id else self.guest_email
    """
)


def test_a_member_reading_a_relation_already_read_in_the_iteration_adds_no_query():
    code = dedent(
        """
        from app.models import Order
        def rows():
            out = []
            for order in Order.objects.all():
                out.append((order.user, order.email))
            return out
        def emails():
            return [order.email for order in Order.objects.all()]
        """
    )
    files = {"app/__init__.py": "", "app/models.py": ORDER_USER, "app/report.py": code}
    got = _found(files, ["QL105", "QL106"])
    assert ("app/report.py", 8, "QL106") in got and ("app/report.py", 5, "QL105") in got
    assert ("app/report.py", 5, "QL106") not in got


PROJECT_GROUPS = dedent(
    """
    from sqlalchemy import ForeignKey
    from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
    class Base(DeclarativeBase):
        pass
    class Group(Base):
        __tablename__ = "groups"
        id: Mapped[int] = mapped_column(primary_key=True)
        project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
        access: Mapped[str]
    class Project(Base):
        __tablename__ = "projects"
        id: Mapped[int] = mapped_column(primary_key=True)
        groups: Mapped[list[Group]] = relationship()
        @property
        def groups_by_access(self):
            out = {}
            for group in self.groups:
                out.setdefault(group.access, []).append(group)
            return out
    """
)


def test_a_member_read_twice_in_the_iteration_is_one_finding():
    code = dedent(
        """
        from sqlalchemy import select
        from app.models import Project
        def dashboard(session):
            rows = []
            for repo in session.scalars(select(Project)):
                for access in repo.groups_by_access:
                    rows.append((access, len(repo.groups_by_access[access])))
            return rows
        """
    )
    files = {"app/__init__.py": "", "app/models.py": PROJECT_GROUPS, "app/views.py": code}
    assert _found(files, ["QL106"]) == [("app/views.py", 6, "QL106")]


FINDINGS = dedent(
    """
    from django.db import models
    class Group(models.Model):
        name = models.CharField(max_length=9)
        def deadline(self):
            if not self.findings.all():
                return None
            return min(f.due for f in self.findings.all())
        def size(self):
            if not self.findings.all():
                return 0
            return 1
    class Finding(models.Model):
        group = models.ForeignKey(Group, related_name="findings", on_delete=models.CASCADE)
        due = models.IntegerField()
    def ids(group_id):
        docs = Finding.objects.filter(group_id=group_id)
        names = [str(d) for d in docs]
        return len(docs), names
    def count(group_id):
        docs = Finding.objects.filter(group_id=group_id)
        return len(docs)
    """
)


def test_rows_used_elsewhere_in_the_function_are_not_over_fetch():
    got = _found({"app/__init__.py": "", "app/models.py": FINDINGS}, ["QL405", "QL406"])
    assert [line for _, line, _ in got] == [9, 21], got


PLAYLIST = dedent(
    """
    from django.db import models
    class Entry(models.Model):
        playlist_id = models.IntegerField()
        media_id = models.IntegerField()
        ordering = models.IntegerField()
    class Rate(models.Model):
        value = models.IntegerField()
    def add(playlist_id, media_ids):
        for media_id in media_ids:
            n = Entry.objects.filter(playlist_id=playlist_id).count()
            Entry.objects.get_or_create(playlist_id=playlist_id, media_id=media_id, ordering=n + 1)
    def rates(prices):
        return [p * Rate.objects.get(pk=1).value for p in prices]
    """
)


def test_a_query_whose_model_the_loop_writes_is_not_loop_invariant():
    got = _found({"app/__init__.py": "", "app/models.py": PLAYLIST}, ["QL116"])
    assert [line for _, line, _ in got] == [13]


BACKFILL = dedent(
    """
    def table_names(model_name):
        if model_name == "user":
            table, events = "app_user", "app_userevent"
        elif model_name == "group":
            table, events = "app_group", "app_groupevent"
        else:
            raise ValueError(model_name)
        return table, events
    def django_table(model):
        return model._meta.db_table
    def user_table(name):
        return f"{name}_table"
    def backfill(cursor, model_name, model, name):
        table, events = table_names(model_name)
        cursor.execute(f"SELECT t.id FROM {table} t WHERE NOT EXISTS (SELECT 1 FROM {events} e WHERE e.obj_id = t.id)")
        own = django_table(model)
        cursor.execute(f"SELECT id FROM {own}")
        theirs = user_table(name)
        cursor.execute(f"SELECT id FROM {theirs}")
    """
)


def test_names_returned_by_a_function_of_constants_are_not_injectable():
    # ``theirs`` is a table name a parameter makes: no sign it is input (no request, command line
    # or ``input()``), so it stays out of the default output (medium: in the tenth blind set all
    # nine table and column names reported were picked by code); the other two are not reported
    files = {"app/__init__.py": "", "app/backfill.py": BACKFILL}
    assert _found(files, ["QL303"]) == []
    got = lint_files(files, select=["QL303"], settings={"min-confidence": "low"}).findings
    assert [(f.line, f.confidence) for f in got] == [(19, "medium")]


ALEMBIC = dedent(
    """
    def drop_column(cursor, table, column):
        cursor.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    def upgrade(cursor):
        drop_column(cursor, "tokens", "legacy_pin")
        drop_column(cursor, table="users", column="old_name")
    def limit_rows(cursor, n):
        cursor.execute(f"SELECT id FROM events LIMIT {n}")
    def recent(cursor, request):
        limit_rows(cursor, int(request.args["n"]))
    def lookup(cursor, name):
        cursor.execute(f"SELECT id FROM users WHERE name = '{name}'")
    def search(cursor, request):
        lookup(cursor, "admin")
        lookup(cursor, request.args["q"])
    """
)
APP = "from flask import Flask\napp = Flask(__name__)\n@app.route('/')\ndef index():\n    return 'ok'\n"


def test_a_parameter_every_call_site_passes_a_constant_is_not_injectable_in_an_application():
    files = {"app/__init__.py": "", "app/views.py": APP, "app/db.py": ALEMBIC}
    assert [line for _, line, _ in _found(files, ["QL303"])] == [11]
    library = {"lib/__init__.py": "", "lib/db.py": ALEMBIC}
    assert [line for _, line, _ in _found(library, ["QL303"])] == [7, 11]


DEBATE = dedent(
    """
    from django.db import models
    class Debate(models.Model):
        room = models.CharField(max_length=9)
        def sides(self):
            return [dt.debate.room for dt in self.debateteam_set.all()]
    class Team(models.Model):
        name = models.CharField(max_length=9)
    class DebateTeam(models.Model):
        debate = models.ForeignKey(Debate, on_delete=models.CASCADE)
        team = models.ForeignKey(Team, on_delete=models.CASCADE)
    def names(pk):
        debate = Debate.objects.get(pk=pk)
        return [dt.team.name for dt in debate.debateteam_set.all()]
    """
)


def test_children_of_a_related_manager_know_their_parent():
    # dt.debate is the parent the manager came from (cached); dt.team is one query per child
    got = _found({"app/__init__.py": "", "app/models.py": DEBATE}, ["QL105"])
    assert [line for _, line, _ in got] == [13]


def test_a_viewset_whose_project_base_builds_the_queryset_is_not_judged():
    from rules.django_drf import NestedSerializerWithoutPrefetch as R

    example = {k: v for k, v in R.INVALID[0].items()}
    api = [k for k in example if k.endswith("api.py")][0]
    base = dedent(
        """
        from rest_framework import viewsets
        class ProjectModelViewSet(viewsets.ReadOnlyModelViewSet):
            def get_queryset(self):
                qs = super().get_queryset()
                return qs.prefetch_related(*self.serializer_class.prefetch_fields())
        """
    )
    text = example[api].replace("viewsets.ReadOnlyModelViewSet", "ProjectModelViewSet").replace("  # want: QL119", "")
    text = "from lib.base import ProjectModelViewSet\n" + text
    files = {"lib/__init__.py": "", **example, "lib/base.py": base, api: text}
    assert _found(files, ["QL119"]) == []
    plain = {"lib/__init__.py": "", **example}
    plain[api] = plain[api].replace("  # want: QL119", "")
    assert len(_found(plain, ["QL119"])) == 1


JOBS = dedent(
    """
    from django.db import models
    class JobQuerySet(models.QuerySet):
        def runnable(self):
            return self.filter(enabled=True)
        def check_perms(self, user, action):
            return user.is_superuser or action == "view"
        def _is_ambiguous(self, search):
            return search.isdigit() and len(search) < 4
        def search(self, text):
            if self._is_ambiguous(text):
                return self.none()
            return self.filter(name=text)
    class Job(models.Model):
        name = models.CharField(max_length=9)
        enabled = models.BooleanField()
        objects = JobQuerySet.as_manager()
    def run(user):
        if not Job.objects.check_perms(user, "run"):
            raise PermissionError
        if Job.objects.runnable():
            return 1
    """
)


def test_a_project_queryset_method_that_returns_a_bool_is_not_a_queryset():
    got = _found({"app/__init__.py": "", "app/models.py": JOBS}, ["QL406"])
    assert [line for _, line, _ in got] == [20]


def test_a_statement_on_each_items_own_database_is_not_a_query_per_item():
    code = dedent(
        """
        import sqlite3
        def sizes(paths, names, conn):
            out = []
            for path in paths:
                db = sqlite3.connect(path)
                out.append(db.execute("SELECT count(*) FROM t").fetchone())
            for database in names:
                database.execute("PRAGMA optimize")
            for name in names:
                out.append(conn.execute("SELECT id FROM users WHERE name = ?", (name,)).fetchone())
            return out
        """
    )
    assert [line for _, line, _ in _found({"app/__init__.py": "", "app/db.py": code}, ["QL101"])] == [10]


def test_a_generic_foreign_key_in_a_serializer_method_is_fixed_with_prefetch_related():
    models = dedent(
        """
        from django.db import models
        from django.contrib.contenttypes.fields import GenericForeignKey
        from django.contrib.contenttypes.models import ContentType
        class Note(models.Model):
            content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
            object_id = models.IntegerField()
            owner = GenericForeignKey("content_type", "object_id")
        """
    )
    api = dedent(
        """
        from rest_framework import serializers
        from app.models import Note
        class NoteSerializer(serializers.ModelSerializer):
            owner_name = serializers.SerializerMethodField()
            class Meta:
                model = Note
                fields = ["owner_name"]
            def get_owner_name(self, obj):
                return str(obj.owner)
        """
    )
    api += "from rest_framework import generics\nclass NoteList(generics.ListAPIView):\n    queryset = Note.objects.all()\n    serializer_class = NoteSerializer\n"
    got = lint_files({"app/__init__.py": "", "app/models.py": models, "app/api.py": api}, select=["QL118"]).findings
    assert got and all("prefetch_related" in f.fix and "select_related" not in f.fix for f in got)


def test_a_read_guarded_by_the_prefetch_cache_is_not_an_n_plus_one():
    models = dedent(
        """
        from django.db import models
        class Team(models.Model):
            name = models.CharField(max_length=9)
        class Member(models.Model):
            team = models.ForeignKey(Team, on_delete=models.CASCADE)
        class Org(models.Model):
            name = models.CharField(max_length=9)
            def team_names(self, members):
                if "team" in getattr(self, "_prefetched_objects_cache", {}):
                    return [m.team.name for m in Member.objects.all()]
                return [m.team.name for m in Member.objects.all()]
        """
    )
    assert [line for _, line, _ in _found({"app/__init__.py": "", "app/models.py": models}, ["QL105"])] == [11]


def test_a_relation_read_only_while_building_the_raised_error_runs_once():
    models = dedent(
        """
        from django.db import models
        class Version(models.Model):
            name = models.CharField(max_length=9)
        class Image(models.Model):
            version = models.ForeignKey(Version, on_delete=models.CASCADE)
            default = models.BooleanField()
        class Device(models.Model):
            images = models.ManyToManyField(Image)
            def clean(self):
                for image in self.images.all():
                    if not image.default:
                        raise ValueError(f"bad {image.version}")
            def names(self):
                return [image.version.name for image in self.images.all()]
        """
    )
    assert _found({"app/__init__.py": "", "app/models.py": models}, ["QL105"]) == [("app/models.py", 14, "QL105")]


def test_a_write_whose_batch_form_skips_the_models_own_save_delete_or_files_is_medium():
    models = dedent(
        """
        from django.db import models
        class Answer(models.Model):
            upload = models.FileField()
        class Tag(models.Model):
            name = models.CharField(max_length=9)
            def save(self, *args, **kwargs):
                self.name = self.name.lower()
                super().save(*args, **kwargs)
        class Plain(models.Model):
            name = models.CharField(max_length=9)
        """
    )
    jobs = dedent(
        """
        from app.models import Answer, Tag, Plain
        def clean(user):
            for answer in Answer.objects.filter(owner=user):
                answer.delete()
            for name in user.names:
                Tag.objects.create(name=name)
            for name in user.names:
                Plain.objects.create(name=name)
            for p in Plain.objects.filter(owner=user):
                p.delete()
        """
    )
    files = {"app/__init__.py": "", "app/models.py": models, "app/jobs.py": jobs}
    got = lint_files(files, select=["QL104"], settings={"min-confidence": "low"}).findings
    assert [(f.line, f.confidence) for f in got] == [(4, "medium"), (6, "medium"), (8, "high"), (10, "high")]


FEEDBACK_MODELS = dedent(
    """
    from django.db import models
    class Talk(models.Model):
        code = models.CharField(max_length=9)
    class Speaker(models.Model):
        code = models.CharField(max_length=9)
    class Feedback(models.Model):
        talk = models.ForeignKey(Talk, on_delete=models.CASCADE)
        speaker = models.ForeignKey(Speaker, on_delete=models.CASCADE)
    """
)


def test_a_get_queryset_returning_none_early_is_judged_by_its_real_queryset():
    views = dedent(
        """
        from rest_framework import serializers, viewsets
        from app.models import Feedback
        class FeedbackSerializer(serializers.ModelSerializer):
            submission = serializers.SlugRelatedField(slug_field="code", read_only=True, source="talk")
            speaker = serializers.SlugRelatedField(slug_field="code", read_only=True)
            class Meta:
                model = Feedback
                fields = ["id", "submission", "speaker"]
        class FeedbackViewSet(viewsets.ReadOnlyModelViewSet):
            serializer_class = FeedbackSerializer
            def get_queryset(self):
                if self.request.user.is_anonymous:
                    return Feedback.objects.none()
                queryset = Feedback.objects.filter(talk__event=1).select_related("talk", "speaker")
                if fields := self.check(1):
                    queryset = queryset.select_related(*[f.replace("a", "b") for f in fields])
                return queryset
        class Plain(viewsets.ReadOnlyModelViewSet):
            serializer_class = FeedbackSerializer
            def get_queryset(self):
                queryset = Feedback.objects.filter(talk__event=1).select_related("talk", "speaker")
                return queryset
        """
    )
    files = {"app/__init__.py": "", "app/models.py": FEEDBACK_MODELS, "app/views.py": views}
    assert _found(files, ["QL119"]) == []
    head, _, tail = views.rpartition('.select_related("talk", "speaker")')
    unloaded = head + tail  # the plain view's queryset loads nothing
    assert _found({**files, "app/views.py": unloaded}, ["QL119"]) == [("app/views.py", 22, "QL119")]


def test_a_project_override_of_count_still_returns_a_number():
    models = dedent(
        """
        from django.db import models
        class TreeQuerySet(models.QuerySet):
            def count(self):
                plain = self.without_tree_fields()
                count = super().count()
                return count
        class Node(models.Model):
            name = models.CharField(max_length=9)
            objects = TreeQuerySet.as_manager()
        """
    )
    use = dedent(
        """
        from django.core.exceptions import ValidationError
        from app.models import Node
        def check(names, **kwargs):
            nodes = kwargs["model"].objects.filter(name__in=names)
            if nodes.count():
                raise ValidationError(f"taken: {list(nodes.values_list('name', flat=True))}")
            if Node.objects.filter(name="root"):
                return True
        """
    )
    files = {"app/__init__.py": "", "app/models.py": models, "app/use.py": use}
    assert _found(files, ["QL406"]) == [("app/use.py", 7, "QL406")]


TABLE_OPS = dedent(
    """
    def copy_table_contents(source_table, destination_table, conn):
        conn.execute('INSERT INTO "%s" SELECT * FROM "%s"' % (destination_table, source_table))
    """
)
ROUTES = "from flask import Flask\napp = Flask(__name__)\n@app.route('/')\ndef index():\n    return 'x'\n"


def test_identifiers_every_caller_in_another_package_passes_as_literals_are_not_injectable():
    # quay: a migration in ``data/`` calls a helper in ``util/`` with table names written out
    migration = "from util.table_ops import copy_table_contents\ndef upgrade(conn):\n    copy_table_contents('blob', 'apprblob', conn)\n"
    files = {"util/__init__.py": "", "util/table_ops.py": TABLE_OPS, "data/__init__.py": "", "data/migration.py": migration, "web/__init__.py": "", "web/app.py": ROUTES}
    assert _found(files, ["QL303"], settings={"min-confidence": "low"}) == []


def test_an_identifier_one_caller_passes_from_the_request_is_still_reported():
    handler = "from flask import request\nfrom util.table_ops import copy_table_contents\ndef copy(conn):\n    copy_table_contents(request.args['t'], 'dest', conn)\n"
    files = {"util/__init__.py": "", "util/table_ops.py": TABLE_OPS, "web/__init__.py": "", "web/app.py": ROUTES, "web/copy.py": handler}
    got = lint_files(files, select=["QL303"], settings={"min-confidence": "low"}).findings
    assert [(f.path, f.line) for f in got] == [("util/table_ops.py", 2)]


def test_a_quoted_identifier_is_checked_against_an_allow_list_not_bound():
    code = dedent(
        """
        from flask import request
        def copy(conn):
            table = request.args["t"]
            conn.execute('INSERT INTO "%s" SELECT * FROM archive' % table)
            conn.execute("SELECT * FROM `%s`" % table)
            conn.execute('SELECT * FROM users WHERE name = "%s"' % table)
        """
    )
    got = lint_files({"app.py": code}, select=["QL303"], settings={"min-confidence": "low"}).findings
    assert [("allow-list" in f.fix, "bound parameter" in f.fix) for f in got] == [(True, False), (True, False), (False, True)]


def test_column_names_from_the_model_meta_joined_with_placeholders_are_not_injectable():
    # misago postgres/delete.py: every spliced name comes from ``_meta``; every value is a parameter
    code = dedent(
        """
        from django.db import connection
        def delete_all(model, **where):
            fields = []
            params = []
            for field, value in where.items():
                column = model._meta.get_field(field).column
                if isinstance(value, list):
                    in_clause = ", ".join(["%s"] * len(value))
                    fields.append(f'"{column}" IN ({in_clause})')
                    params += value
                else:
                    fields.append(f'"{column}" = %s')
                    params.append(value)
            table = model._meta.db_table
            where_joined = " AND ".join(fields)
            with connection.cursor() as cursor:
                cursor.execute(f'DELETE FROM "{table}" WHERE {where_joined};', params)
        def delete_by(model, field, value):
            with connection.cursor() as cursor:
                cursor.execute(f'DELETE FROM "{model._meta.db_table}" WHERE "{field}" = %s', [value])  # want: QL303
        """
    )
    got = lint_files({"app.py": code}, select=["QL303"], settings={"min-confidence": "low"}).findings
    assert [f.line for f in got] == [20], [(f.line, f.message, f.notes) for f in got]


EXERCISE_MODELS = dedent(
    """
    from django.db import models
    class Category(models.Model):
        name = models.CharField(max_length=9)
    class Exercise(models.Model):
        uuid = models.CharField(max_length=9)
        category = models.ForeignKey(Category, on_delete=models.CASCADE)
    class ExerciseImage(models.Model):
        exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE)
        image = models.CharField(max_length=9)
    """
)
EXERCISE_VIEWS = dedent(
    """
    from rest_framework import serializers, viewsets
    from app.models import Exercise
    class ImageSerializer(serializers.ModelSerializer):
        exercise_uuid = serializers.ReadOnlyField(source="exercise.uuid")
        class Meta:
            model = __IMAGE__
            fields = ["id", "image", "exercise_uuid"]
    class ExerciseSerializer(serializers.ModelSerializer):
        images = ImageSerializer(source="exerciseimage_set", many=True, read_only=True)
        class Meta:
            model = Exercise
            fields = ["id", "images"]
    class ExerciseViewSet(viewsets.ReadOnlyModelViewSet):
        serializer_class = ExerciseSerializer
        queryset = Exercise.objects.prefetch_related("exerciseimage_set")
    """
).replace("__IMAGE__", "ExerciseImage").replace("from app.models import Exercise", "from app.models import Exercise, ExerciseImage")


def test_a_child_reached_through_a_prefetched_reverse_relation_knows_its_parent():
    # wger ExerciseInfoViewSet: ``exerciseimage_set`` is prefetched; each image's ``exercise``
    # is the parent Exercise Django already set, so ``exercise.uuid`` costs no query
    files = {"app/__init__.py": "", "app/models.py": EXERCISE_MODELS, "app/views.py": EXERCISE_VIEWS}
    assert _found(files, ["QL119"]) == []


def test_the_parents_own_relation_read_back_through_a_child_is_still_a_query_per_parent():
    views = EXERCISE_VIEWS.replace('source="exercise.uuid"', 'source="exercise.category.name"')
    files = {"app/__init__.py": "", "app/models.py": EXERCISE_MODELS, "app/views.py": views}
    got = lint_files(files, select=["QL119"]).findings
    assert [(f.line, f.fix) for f in got] == [(15, 'add .select_related("category")')]


BUILD_MODELS = dedent(
    """
    from django.db import models
    class Project(models.Model):
        slug = models.CharField(max_length=9)
    class Build(models.Model):
        project = models.ForeignKey(Project, on_delete=models.CASCADE)
    class Command(models.Model):
        build = models.ForeignKey(Build, related_name="commands", on_delete=models.CASCADE)
        text = models.CharField(max_length=9)
    """
)


def test_a_row_of_a_related_manager_reads_its_parent_without_a_query():
    # readthedocs: ``command.build`` is the Build the manager belongs to, and ``build.project``
    # is that one Build's relation, loaded once, not once per command
    code = dedent(
        """
        from app.models import Build, Command
        def show(build_id):
            build = Build.objects.get(pk=build_id)
            out = []
            for c in build.commands.all():
                out.append((c.text, c.build.project.slug))
            for b in Build.objects.prefetch_related("commands"):
                for c in b.commands.all():
                    out.append(c.build.project.slug)
            for c in Command.objects.all():
                out.append(c.build.pk)
            return out
        """
    )
    files = {"app/__init__.py": "", "app/models.py": BUILD_MODELS, "app/views.py": code}
    got = lint_files(files, select=["QL105"]).findings
    # the parent's own relation per build of the outer loop, and a plain per-command foreign key
    assert [(f.line, f.fix) for f in got] == [
        (9, 'add .select_related("project") to the queryset built on line 7'),
        (11, 'add .select_related("build") to the queryset built on line 10'),
    ]


def test_a_method_of_the_one_object_that_reads_its_own_relation_queries_once():
    # readthedocs: ``instance.get_version_slug()`` per stored command reads ``self.version``,
    # cached on the one Build after the first call; a count per call is still a query each time
    models = BUILD_MODELS + dedent(
        """
        class Version(models.Model):
            slug = models.CharField(max_length=9)
        class Run(models.Model):
            version = models.ForeignKey(Version, null=True, on_delete=models.CASCADE)
            def get_version_slug(self):
                if self.version:
                    return self.version.slug
                return ""
            def command_count(self):
                return Command.objects.filter(text=self.pk).count()
        """
    )
    code = dedent(
        """
        from app.models import Run
        def show(run_id, commands):
            run = Run.objects.get(pk=run_id)
            for command in commands:
                command["version"] = run.get_version_slug()
                command["count"] = run.command_count()
        """
    )
    files = {"app/__init__.py": "", "app/models.py": models, "app/views.py": code}
    assert _found(files, ["QL106"], settings={"min-confidence": "low"}) == [("app/views.py", 6, "QL106")]


SHOP_MODELS = dedent(
    """
    from django.db import models
    class Group(models.Model):
        name = models.CharField(max_length=9)
    class Event(models.Model):
        group = models.ForeignKey(Group, null=True, on_delete=models.CASCADE)
    """
)


def test_loading_one_parents_rows_for_their_ids_is_one_step_less_sure():
    # open-event-server: ``[o.id for o in Order.query.filter_by(user_id=...)]`` loads one user's
    # few orders; counting or testing a parent's rows in Python is still worth the fix, and
    # loading a table for its ids is the one that matters
    code = dedent(
        """
        from app.models import Event
        def stats(group, group_id, event_id):
            mine = Event.objects.filter(group_id=group_id)
            one = Event.objects.filter(id=event_id)
            ids = [e.id for e in Event.objects.filter(group_id=group.pk)]
            every_id = [e.id for e in Event.objects.filter(group__isnull=False)]
            return len(mine), len(one), ids, every_id
        """
    )
    files = {"app/__init__.py": "", "app/models.py": SHOP_MODELS, "app/stats.py": code}
    got = lint_files(files, select=["QL405", "QL408"], settings={"min-confidence": "low"}).findings
    assert sorted((f.line, f.column, f.rule, f.confidence) for f in got) == [
        (5, 11, "QL408", "medium"), (6, 16, "QL408", "high"), (7, 12, "QL405", "high"),
    ]


BUILD_VIEWS = dedent(
    """
    from rest_framework import serializers, viewsets
    from app.models import Build, Command
    class CommandSerializer(serializers.ModelSerializer):
        command = serializers.SerializerMethodField()
        class Meta:
            model = Command
            fields = ["id", "command"]
        def get_command(self, obj):
            return obj.text.replace(obj.build.project.slug, "")
    class BuildSerializer(serializers.ModelSerializer):
        commands = CommandSerializer(many=True, read_only=True)
        class Meta:
            model = Build
            fields = ["id", "commands"]
    class BuildViewSet(viewsets.ReadOnlyModelViewSet):
        serializer_class = BuildSerializer
        queryset = Build.objects.select_related("project").prefetch_related("commands")
    """
)


def test_a_serializer_nested_under_its_parents_reverse_relation_reads_the_parent_for_free():
    # readthedocs BuildCommandReadOnlySerializer: ``obj.build`` is the Build being serialized
    files = {"app/__init__.py": "", "app/models.py": BUILD_MODELS, "app/views.py": BUILD_VIEWS}
    assert _found(files, ["QL118"], settings={"min-confidence": "low"}) == []
    # the same serializer behind its own list view: each command's build is a query
    own_view = BUILD_VIEWS + dedent(
        """
        class CommandViewSet(viewsets.ReadOnlyModelViewSet):
            serializer_class = CommandSerializer
            queryset = Command.objects.all()
        """
    )
    got = _found({**files, "app/views.py": own_view}, ["QL118"], settings={"min-confidence": "low"})
    assert got == [("app/views.py", 9, "QL118")]


def test_a_placeholder_made_by_a_helper_from_constants_is_not_injectable():
    # lnbits: ``f"... updated_at = {db.timestamp_placeholder('now')}"`` with ``now`` bound
    code = dedent(
        """
        async def touch(db, checking_id, label):
            await db.execute(
                f"UPDATE payments SET updated_at = {db.timestamp_placeholder('now')} WHERE id = :id",
                {"now": 1, "id": checking_id},
            )
            await db.execute(f"UPDATE payments SET memo = {db.timestamp_placeholder(label)} WHERE id = :id", {"id": checking_id})
        """
    )
    got = lint_files({"app.py": code}, select=["QL303"], settings={"min-confidence": "low"}).findings
    assert [f.line for f in got] == [6]


def test_a_registry_whose_session_is_kept_or_returned_and_a_static_pool_are_not_leaks():
    # calibre-web: ``session = Session()`` into a module global at start-up, ``return Session()``
    # to the thread that owns it, and ``engine.connect()`` on a ``StaticPool`` engine
    code = dedent(
        """
        from sqlalchemy import create_engine, text
        from sqlalchemy.orm import scoped_session, sessionmaker
        from sqlalchemy.pool import StaticPool
        session = None
        def init_db(path):
            global session
            engine = create_engine(path)
            Session = scoped_session(sessionmaker())
            Session.configure(bind=engine)
            session = Session()
        def init_db_thread(path):
            engine = create_engine(path)
            Session = scoped_session(sessionmaker())
            Session.configure(bind=engine)
            return Session()
        def probe(dbpath):
            try:
                engine = create_engine("sqlite://", poolclass=StaticPool)
                with engine.begin() as connection:
                    connection.execute(text("PRAGMA cache_size = 10000"))
                conn = engine.connect()
            except Exception:
                return None
            return conn.execute(text("SELECT 1")).all()
        def leaky(path):
            engine = create_engine(path)
            Session = scoped_session(sessionmaker(bind=engine))
            return Session().query(text("1")).all()
        def leaky_conn(path):
            engine = create_engine(path)
            conn = engine.connect()
            return conn.execute(text("SELECT 1")).all()
        """
    )
    got = lint_files({"app.py": code}, select=["QL203", "QL204"], settings={"min-confidence": "low"}).findings
    assert sorted((f.line, f.rule) for f in got) == [(27, "QL203"), (31, "QL204")], [(f.line, f.rule, f.message) for f in got]


def test_a_query_that_refills_a_cache_on_a_key_miss_is_not_a_query_per_call():
    # arches DataTypeFactory.get_instance: ``try: _types[key] except KeyError: _types = {...}``
    models = "from django.db import models\nclass DataType(models.Model):\n    name = models.CharField(max_length=9)\n"
    factory = dedent(
        """
        from app.models import DataType
        class Factory:
            _types = {}
            def get_instance(self, name):
                try:
                    return Factory._types[name]
                except KeyError:
                    Factory._types = {d.name: d for d in DataType.objects.all()}
                    return Factory._types[name]
            def fresh(self, name):
                try:
                    return self.local[name]
                except KeyError:
                    return DataType.objects.get(name=name)
        def layers(nodes):
            factory = Factory()
            return [(factory.get_instance(n.kind), factory.fresh(n.kind)) for n in nodes]
        """
    )
    files = {"app/__init__.py": "", "app/models.py": models, "app/layers.py": factory}
    got = lint_files(files, select=["QL102"], settings={"min-confidence": "low"}).findings
    assert ["fresh()" in f.message for f in got] == [True]


def test_counting_a_slice_of_one_row_is_one_step_less_sure():
    # arches Concept.get: ``len(Relation.objects.filter(...)[0:1]) > 0`` loads at most one row
    code = dedent(
        """
        from app.models import Event
        def has_events(group_id):
            first = Event.objects.filter(group__isnull=False)[0:1]
            return len(first) > 0, len(Event.objects.filter(group__isnull=False))
        """
    )
    files = {"app/__init__.py": "", "app/models.py": SHOP_MODELS, "app/stats.py": code}
    got = lint_files(files, select=["QL405"], settings={"min-confidence": "low"}).findings
    assert sorted((f.column, f.confidence) for f in got) == [(12, "medium"), (28, "high")]


def test_a_scoped_registry_bound_to_a_connection_a_with_block_holds_is_not_a_leak():
    # calibre-web check_valid_db: ``local_session.configure(bind=connection)`` inside
    # ``with check_engine.begin() as connection:``
    code = dedent(
        """
        from sqlalchemy import create_engine, text
        from sqlalchemy.orm import scoped_session, sessionmaker
        def check(path):
            engine = create_engine(path)
            with engine.begin() as connection:
                local_session = scoped_session(sessionmaker())
                local_session.configure(bind=connection)
                return local_session().execute(text("SELECT 1")).all()
        def leaky(path):
            engine = create_engine(path)
            registry = scoped_session(sessionmaker())
            registry.configure(bind=engine)
            return registry().execute(text("SELECT 1")).all()
        """
    )
    got = lint_files({"app.py": code}, select=["QL203"], settings={"min-confidence": "low"}).findings
    # line 4: a different problem, the engine ``check()`` makes and never disposes (not the registry)
    assert [f.line for f in got] == [4, 11], [(f.line, f.message) for f in got]
    assert "never disposed" in got[0].message


BOOK_BACKFILL = dedent(
    """
    from app.models import Book
    def backfill_titles(ids):
        for pk in ids:
            book = Book.objects.get(pk=pk)
            book.title = book.title.strip()
            book.save()
    def run_backfill():
        backfill_titles(list(Book.objects.values_list("pk", flat=True)))
    """
)
BOOK_MODELS = "from django.db import models\nclass Book(models.Model):\n    title = models.CharField(max_length=9)\n"
BACKFILL_COMMAND = dedent(
    """
    from django.core.management.base import BaseCommand
    from app.backfill import run_backfill
    class Command(BaseCommand):
        def handle(self, *args, **options):
            run_backfill()
    """
)
BACKFILL_MIGRATION = dedent(
    """
    from django.db import migrations
    from app.backfill import run_backfill
    def forwards(apps, schema_editor):
        run_backfill()
    class Migration(migrations.Migration):
        operations = [migrations.RunPython(forwards)]
    """
)
VIEW = "from app.models import Book\ndef index(request):\n    return Book.objects.count()\n"


def test_a_helper_only_commands_and_migrations_reach_runs_as_a_command():
    """A backfill helper that only a management command and a data migration (also in a
    ``db_migrations`` package) call, two calls deep, is command code: one step less sure."""
    files = {
        "app/__init__.py": "", "app/models.py": BOOK_MODELS, "app/views.py": VIEW, "app/backfill.py": BOOK_BACKFILL,
        "app/management/commands/backfill.py": BACKFILL_COMMAND, "app/db_migrations/0007_backfill.py": BACKFILL_MIGRATION,
    }
    assert _found(files, ["QL1"]) == []
    got = lint_files(files, select=["QL1"], settings={"min-confidence": "low"}).findings
    assert got and {(f.path, f.context, f.confidence) for f in got} == {("app/backfill.py", "command", "medium")}


def test_a_helper_a_view_also_reaches_stays_request_code():
    files = {
        "app/__init__.py": "", "app/models.py": BOOK_MODELS, "app/backfill.py": BOOK_BACKFILL,
        "app/management/commands/backfill.py": BACKFILL_COMMAND,
        "app/views.py": VIEW + "from app.backfill import run_backfill\ndef fix(request):\n    run_backfill()\n",
    }
    got = lint_files(files, select=["QL1"]).findings
    assert got and {(f.path, f.context, f.confidence) for f in got} == {("app/backfill.py", "request", "high")}


def test_a_helper_an_unknown_caller_reaches_is_not_offline():
    """A caller that is neither a command nor an entry point (a library-style function) keeps the
    helper's context unknown: anything may call it."""
    files = {
        "app/__init__.py": "", "app/models.py": BOOK_MODELS, "app/views.py": VIEW, "app/backfill.py": BOOK_BACKFILL,
        "app/management/commands/backfill.py": BACKFILL_COMMAND,
        "app/api.py": "from app.backfill import run_backfill\ndef public_api():\n    run_backfill()\n",
    }
    got = lint_files(files, select=["QL1"]).findings
    assert got and {(f.path, f.context) for f in got} == {("app/backfill.py", "unknown")}


SORTED_SOURCES = dedent(
    """
    import sqlalchemy as sa
    SORT_ORDER = ["asc", "desc"]
    def get_sources(session, sort_order, fields):
        if sort_order.lower() not in SORT_ORDER:
            raise ValueError(sort_order)
        statement = "SELECT id FROM objs "
        path = "objs.altdata->>:altdata_field_0"
        for i, field in enumerate(fields[1:]):
            path = f"({path})::jsonb->>:altdata_field_{i + 1}"
        statement += f"ORDER BY {path} {sort_order.upper()} NULLS LAST"
        return session.execute(sa.text(statement))
    def unchecked(session, sort_order, name):
        path = "altdata"
        for part in name.split("."):
            path = f"({path})->>{part}"
        return session.execute(sa.text(f"SELECT id FROM objs ORDER BY {path} {sort_order.upper()}"))
    """
)


def test_an_allow_listed_direction_and_a_path_built_from_itself_and_counters_are_not_injectable():
    """``sort_order.upper()`` after ``if sort_order.lower() not in SORT_ORDER: raise``, and a JSON
    path rebuilt in a loop from itself, constants and the loop counter (skyportal)."""
    got = lint_files({"app/__init__.py": "", "app/sources.py": SORTED_SOURCES}, select=["QL303"]).findings
    assert [f.line for f in got] == [16]
    assert "`path`, `sort_order.upper()`" in got[0].message
    assert "bound parameter" not in got[0].fix and "allow-list" in got[0].fix  # a direction cannot be bound


VOTE_MODELS = dedent(
    """
    from django.db import models
    class User(models.Model):
        name = models.CharField(max_length=9)
    class Review(models.Model):
        title = models.CharField(max_length=9)
    class AbstractVote(models.Model):
        user = models.ForeignKey(User, on_delete=models.CASCADE)
        review = models.ForeignKey(Review, on_delete=models.CASCADE)
        delta = models.IntegerField()
        class Meta:
            abstract = True
            unique_together = (("user", "review"),)
    class Vote(AbstractVote):
        pass
    class Tag(models.Model):
        review = models.ForeignKey(Review, on_delete=models.CASCADE)
        slot = models.IntegerField()
        name = models.CharField(max_length=9)
        class Meta:
            constraints = [
                models.UniqueConstraint(fields=["review", "slot"], name="one_per_slot"),
                models.UniqueConstraint(fields=["name"], condition=models.Q(slot=0), name="partial"),
            ]
    """
)


def test_a_queryset_filtered_on_a_unique_together_key_holds_one_row_at_most():
    """``unique_together`` (inherited from an abstract base) and an unconditional
    ``UniqueConstraint``: a filter pinning every field of one holds one row at most (oscar's
    previous vote, DefectDojo's metadata); pinning part of it, or a partial constraint, does not."""
    code = dedent(
        """
        from app.models import Tag, Vote
        def voted(user, review):
            return bool(Vote.objects.filter(user=user, review_id=review.id))
        def voted_chained(user, review):
            return len(Vote.objects.filter(user=user).filter(review=review))
        def slot_taken(review, slot):
            return bool(Tag.objects.filter(review=review, slot=slot))
        def any_votes(user):
            return bool(Vote.objects.filter(user=user))
        def named(name):
            return bool(Tag.objects.filter(name=name))
        def previous(pk):
            vote = Vote.objects.get(pk=pk)
            return len(vote.review.vote_set.filter(user=vote.user)) > 0
        def of_review(pk):
            vote = Vote.objects.get(pk=pk)
            return len(vote.review.vote_set.all()) > 0
        """
    )
    files = {"app/__init__.py": "", "app/models.py": VOTE_MODELS, "app/use.py": code}
    assert [line for _, line, _ in _found(files, ["QL405", "QL406"])] == [9, 11, 17]


NOTE_MODELS = dedent(
    """
    from django.db import models
    class NoteType(models.Model):
        mandatory = models.BooleanField()
    class Finding(models.Model):
        title = models.CharField(max_length=9)
    class Note(models.Model):
        finding = models.ForeignKey(Finding, related_name="notes", on_delete=models.CASCADE)
        note_type = models.ForeignKey(NoteType, on_delete=models.CASCADE)
    """
)


def test_one_related_queryset_reiterated_in_an_outer_loop_is_one_query():
    """``notes = finding.notes.all()`` before the loop, iterated (with an early ``break``) on each
    pass: the first pass fills its result cache (DefectDojo). Built inside the loop, it queries per
    pass."""
    code = dedent(
        """
        from app.models import NoteType
        def missing(finding):
            notes = finding.notes.all()
            out = []
            for type_id in NoteType.objects.filter(mandatory=True).values_list("id", flat=True):
                for note in notes:
                    if note.note_type_id == type_id:
                        break
                else:
                    out.append(type_id)
            return out
        def missing_fresh(finding):
            out = []
            for type_id in NoteType.objects.filter(mandatory=True).values_list("id", flat=True):
                for note in finding.notes.all():
                    if note.note_type_id == type_id:
                        break
                else:
                    out.append(type_id)
            return out
        """
    )
    files = {"app/__init__.py": "", "app/models.py": NOTE_MODELS, "app/use.py": code}
    assert [(line, rule) for _, line, rule in _found(files, ["QL1"])] == [(15, "QL116")]


def test_a_model_method_that_only_saves_is_reported_as_a_write_not_a_missing_prefetch():
    """``notification.archive()`` ends in ``self.save()``: the advice is a batch write, never a
    loader option (oscar)."""
    models = dedent(
        """
        from django.db import models
        class Notification(models.Model):
            location = models.CharField(max_length=9)
            def archive(self):
                self.location = "archive"
                self.save()
        """
    )
    code = "def archive_all(notifications):\n    for n in notifications:\n        n.archive()\n"
    code = "from app.models import Notification\n" + code + "def view(request):\n    archive_all(Notification.objects.all())\n"
    files = {"app/__init__.py": "", "app/models.py": models, "app/views.py": code}
    assert lint_files(files, select=["QL106"]).findings == []  # a write per item through a member: often deliberate
    got = lint_files(files, select=["QL106"], settings={"min-confidence": "medium"}).findings
    assert len(got) == 1 and "writes to the database" in got[0].message
    assert "update(" in got[0].fix and "prefetch" not in got[0].fix


def test_a_helper_only_commands_import_through_a_lazy_package_export_runs_as_a_command():
    """The command imports the helper from its package, whose ``__getattr__`` loads it lazily:
    the call does not resolve, but only offline code names the function (DefectDojo auditlog)."""
    lazy = dedent(
        """
        import importlib
        _LAZY = {"run_backfill": "app.backfill"}
        def __getattr__(name):
            return getattr(importlib.import_module(_LAZY[name]), name)
        """
    )
    command = BACKFILL_COMMAND.replace("from app.backfill import run_backfill", "from app import run_backfill")
    files = {
        "app/__init__.py": lazy, "app/models.py": BOOK_MODELS, "app/views.py": VIEW, "app/backfill.py": BOOK_BACKFILL,
        "app/management/commands/backfill.py": command,
    }
    got = lint_files(files, select=["QL1"], settings={"min-confidence": "low"}).findings
    assert got and {(f.path, f.context) for f in got} == {("app/backfill.py", "command")}
    also_a_view = dict(files, **{"app/views.py": VIEW + "from app import run_backfill\ndef fix(request):\n    run_backfill()\n"})
    got = lint_files(also_a_view, select=["QL1"], settings={"min-confidence": "low"}).findings
    assert got and {f.context for f in got} != {"command"}


IN_LIST_HELPERS = dedent(
    """
    import sqlalchemy as sa
    def array2sql(array, prefix="array"):
        names = [f"{prefix}_{i}" for i in range(len(array))]
        query_str = f"({','.join(f':{name}' for name in names)})"
        params = [sa.bindparam(n, value=v) for n, v in zip(names, array)]
        return query_str, params
    def marks(ids):
        return ", ".join(["%s"] * len(ids)), list(ids)
    def raw_list(values):
        return f"({','.join(values)})", []
    """
)
IN_LIST_USES = dedent(
    """
    import sqlalchemy as sa
    from app.sqlutil import array2sql, marks, raw_list
    def by_ids(session, ids):
        query_str, params = array2sql(ids, "ids")
        return session.execute(sa.text(f"SELECT id FROM objs WHERE id IN {query_str}").bindparams(*params))
    def by_marks(cur, ids):
        placeholders, args = marks(ids)
        cur.execute(f"SELECT id FROM objs WHERE id IN ({placeholders})", args)
    def by_raw(session, names):
        query_str, _ = raw_list(names)
        return session.execute(sa.text(f"SELECT id FROM objs WHERE name IN {query_str}"))
    """
)


def test_placeholder_text_an_in_list_helper_returns_is_not_injectable():
    """``query_str, params = array2sql(ids)``: the helper's first return is generated ``:name``
    placeholders whose values are bound (skyportal). A helper that joins the values themselves
    is still reported."""
    files = {"app/__init__.py": "", "app/sqlutil.py": IN_LIST_HELPERS, "app/queries.py": IN_LIST_USES}
    got = lint_files(files, select=["QL303"]).findings
    assert [(f.path, f.line) for f in got] == [("app/queries.py", 11)]


def test_a_helper_that_opens_the_database_an_item_names_runs_one_query_per_database_not_per_row():
    """RLEAPP's parsers: ``for file_found in files_found: get_sqlite_db_records(file_found, query)``
    where the helper opens the SQLite file it is given (through a project helper that returns
    the connection). Each item is another database: no batch query could join them."""
    helpers = dedent(
        """
        import sqlite3
        def open_readonly(path):
            return sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        def get_records(path, query):
            db = open_readonly(path)
            cursor = db.cursor()
            cursor.execute(query)
            return cursor
        def get_rows(path):
            with sqlite3.connect(path) as db:
                return db.execute("SELECT id FROM messages").fetchall()
        DB = "app.sqlite"
        def get_count(table):
            db = sqlite3.connect(DB)
            try:
                return db.execute(f"SELECT count(*) FROM {table}").fetchone()
            finally:
                db.close()
        """
    )
    uses = dedent(
        """
        from app.dbutil import get_records, get_count
        def parse(files_found, tables):
            for file_found in files_found:
                rows = get_records(file_found, "SELECT id FROM messages")
            for name in files_found:
                path = name + ".db"
                get_records(path=path, query="SELECT 1")
                get_rows(path)
            for table in tables:
                get_count(table)  # want: the same database every time
        """
    )
    files = {"app/__init__.py": "", "app/dbutil.py": helpers, "app/parsers.py": uses}
    got = lint_files(files, select=["QL102"], settings={"min-confidence": "low"}).findings
    assert [(f.path, f.line) for f in got] == [("app/parsers.py", 10)]
