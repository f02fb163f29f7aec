"""Precision cases from the fourteenth session: a sixth blind set (DMOJ online-judge, pythondotorg,
umap, spiderfoot, openslides-backend, buildbot, open-event-server, WebODM). Each false alarm with
its negative, and the positive it must not hide."""
from querylint.rule import dedent
from querylint.testing import lint_files

LOW = {"min-confidence": "low"}


def _found(files, select, **kw):
    return [(f.path, f.line, f.rule, f.confidence) for f in lint_files(files, select=select, **kw).findings]


def test_formatted_sql_from_a_fetched_row_is_medium_and_from_a_parameter_high():
    # buildbot's contrib poller: ``f"SELECT who FROM people WHERE id={whoid}"`` where ``whoid`` is a
    # column of a row the code just fetched. No parameter, request data or quotes reach it: it is
    # an integer id, not input. A parameter (or request data, or a quoted value) stays high.
    code = dedent(
        """
        import sqlite3

        def poll(conn):
            cur = conn.cursor()
            cur.execute("SELECT whoid, descid FROM checkins")
            for whoid, descid in cur.fetchall():
                cur.execute(f"SELECT who FROM people WHERE id={whoid}")
                pid = open_cancel(conn).backend_pid
                cur.execute("SELECT pg_cancel_backend({0})".format(pid))

        def find(conn, user_id):
            conn.execute(f"SELECT who FROM people WHERE id={user_id}")

        def by_name(conn):
            for (name,) in conn.execute("SELECT name FROM staged"):
                conn.execute(f"SELECT id FROM people WHERE name = '{name}'")

        def sort(conn, request):
            order = request.args.get("order", "id")
            conn.execute("SELECT id FROM people ORDER BY " + order)

        def split(conn, data):
            first, second = data.split(",")
            conn.execute("SELECT id FROM people WHERE id = %s" % first)
        """
    )
    got = _found({"app/db.py": code}, "QL303", settings=LOW)
    assert got == [
        ("app/db.py", 7, "QL303", "medium"),
        ("app/db.py", 9, "QL303", "medium"),
        ("app/db.py", 12, "QL303", "high"),
        ("app/db.py", 16, "QL303", "high"),
        ("app/db.py", 20, "QL303", "high"),
        ("app/db.py", 24, "QL303", "high"),
    ]
    assert [f[1] for f in _found({"app/db.py": code}, "QL303")] == [12, 16, 20, 24]


def test_a_list_of_items_a_check_let_through_is_not_input():
    # spiderfoot's ``if not hashId.isalnum(): continue`` then ``hashIds.append(hashId)``: every item
    # joined into the quoted IN list passed the check. Without the check it is reported.
    code = dedent(
        """
        def results(conn, element_ids):
            hash_ids = []
            for hash_id in element_ids:
                if not hash_id:
                    continue
                if not hash_id.isalnum():
                    continue
                hash_ids.append(hash_id)
            qry = "SELECT data FROM results WHERE hash IN ('%s')" % "','".join(hash_ids)
            return conn.execute(qry).fetchall()

        def unchecked(conn, element_ids):
            hash_ids = []
            for hash_id in element_ids:
                if not hash_id:
                    continue
                hash_ids.append(hash_id)
            qry = "SELECT data FROM results WHERE hash IN ('%s')" % "','".join(hash_ids)
            return conn.execute(qry).fetchall()
        """
    )
    assert [f[1] for f in _found({"app/db.py": code}, "QL303", settings=LOW)] == [18]


def test_not_in_a_subquery_is_medium():
    # spiderfoot's ``i.guid NOT IN (SELECT scan_instance_id FROM tbl_scan_results ...)`` over a
    # column its CREATE TABLE declares NOT NULL: the NULL trap needs a nullable column querylint
    # cannot see, so the finding is shown only from ``--min-confidence medium``.
    code = 'def scans(cur):\n    cur.execute("SELECT guid FROM scans WHERE guid NOT IN (SELECT scan_id FROM results)")\n'
    assert _found({"app/db.py": code}, "QL309") == []
    assert _found({"app/db.py": code}, "QL309", settings={"min-confidence": "medium"}) == [("app/db.py", 2, "QL309", "medium")]


CONTEST_MODELS = dedent(
    """
    from django.db import models, transaction

    class Contest(models.Model):
        key = models.CharField(max_length=20)

        @property
        def format(self):
            return make_format(self)

    class ContestParticipation(models.Model):
        contest = models.ForeignKey(Contest, related_name="users", on_delete=models.CASCADE)
        score = models.IntegerField(default=0)
        is_disqualified = models.BooleanField(default=False)

        def recompute_results(self):
            with transaction.atomic():
                self.contest.format.update_participation(self)
                if self.is_disqualified:
                    self.score = -9999
                    self.save(update_fields=["score"])
    """
)


def test_a_member_whose_relation_the_rows_carry_is_judged_by_its_other_queries():
    # online-judge's ``recompute_results()`` reads ``self.contest``, which a loop over
    # ``contest.users`` (the related manager sets it) or ``.prefetch_related("contest")`` already
    # loads; what is left is its conditional ``self.save()``, a write per item (medium). Over plain
    # rows ``self.contest`` is still a query per row.
    tasks = dedent(
        """
        from celery import shared_task
        from app.models import Contest, ContestParticipation

        @shared_task
        def rescore_contest(contest_key):
            contest = Contest.objects.get(key=contest_key)
            participations = contest.users
            for participation in participations.iterator():
                participation.recompute_results()

        @shared_task
        def rescore_some(ids):
            for participation in ContestParticipation.objects.filter(id__in=ids).prefetch_related("contest"):
                participation.recompute_results()

        @shared_task
        def rescore_all(ids):
            for participation in ContestParticipation.objects.filter(id__in=ids):
                participation.recompute_results()
        """
    )
    files = {"app/__init__.py": "", "app/models.py": CONTEST_MODELS, "app/tasks.py": tasks}
    assert _found(files, "QL106") == [("app/tasks.py", 19, "QL106", "high")]
    low = lint_files(files, select="QL106", settings=LOW).findings
    assert [(f.line, f.confidence) for f in low] == [(9, "medium"), (14, "medium"), (19, "high")]
    assert "self.save(" in low[0].notes[0] and "self.contest" in low[2].notes[0]


def test_a_double_quoted_value_is_text_and_a_command_keeps_the_injection_risk():
    # regulations-core's ``delete_reg`` command: ``'DELETE ... WHERE version = "{0}"'.format(doc)``
    # where ``doc`` comes from the database: SQLite's and MySQL's double-quoted string is a value
    # in quotes (high), in a management command as much as anywhere. A double-quoted identifier
    # (``FROM "{table}"``) is not a quoted value.
    command = dedent(
        """
        from django.core.management.base import BaseCommand
        from django.db import connection
        from app.models import Notice

        class Command(BaseCommand):
            def handle(self, *args, **options):
                docs = [n.document_number for n in Notice.objects.all()]
                cursor = connection.cursor()
                for doc in docs:
                    cursor.execute('DELETE FROM layer WHERE version = "{0}"'.format(doc))
                    cursor.execute('SELECT id FROM "{0}" LIMIT 1'.format(doc))
        """
    )
    models = "from django.db import models\nclass Notice(models.Model):\n    document_number = models.CharField(max_length=9)\n"
    files = {"app/__init__.py": "", "app/models.py": models, "app/management/__init__.py": "",
             "app/management/commands/__init__.py": "", "app/management/commands/delete_reg.py": command}
    got = _found(files, "QL303")
    assert got == [("app/management/commands/delete_reg.py", 10, "QL303", "high")]


def test_a_relation_read_by_several_method_fields_of_one_serializer_is_one_finding():
    # WebODM's ``TaskSerializer``: ``get_processing_node_name`` and ``get_can_rerun_from`` both read
    # ``obj.processing_node``; the first field loads it for the second. One finding, at the first;
    # another serializer reading it is its own finding.
    models = dedent(
        """
        from django.db import models

        class Node(models.Model):
            name = models.CharField(max_length=9)

        class Task(models.Model):
            processing_node = models.ForeignKey(Node, null=True, on_delete=models.SET_NULL)
        """
    )
    api = dedent(
        """
        from rest_framework import serializers, viewsets
        from app.models import Task

        class TaskSerializer(serializers.ModelSerializer):
            node_name = serializers.SerializerMethodField()
            can_rerun = serializers.SerializerMethodField()

            def get_node_name(self, obj):
                return obj.processing_node.name if obj.processing_node else None

            def get_can_rerun(self, task):
                return task.processing_node is not None and task.processing_node.name != "x"

            class Meta:
                model = Task
                fields = ["id", "node_name", "can_rerun"]

        class OtherSerializer(serializers.ModelSerializer):
            node = serializers.SerializerMethodField()

            def get_node(self, obj):
                return obj.processing_node.name

            class Meta:
                model = Task
                fields = ["id", "node"]

        class TaskViewSet(viewsets.ModelViewSet):
            queryset = Task.objects.all()
            serializer_class = TaskSerializer

        class OtherViewSet(viewsets.ModelViewSet):
            queryset = Task.objects.all()
            serializer_class = OtherSerializer
        """
    )
    got = _found({"app/__init__.py": "", "app/models.py": models, "app/api.py": api}, "QL118")
    assert [line for _, line, _, _ in got] == [9, 22]


QUOTA_MODELS = dedent(
    """
    from django.db import models
    from django.contrib.auth.models import User
    from django.core.cache import cache

    class Task(models.Model):
        owner = models.ForeignKey(User, on_delete=models.CASCADE)
        size = models.IntegerField()

    class Profile(models.Model):
        user = models.OneToOneField(User, on_delete=models.CASCADE)
        quota = models.IntegerField()

        def used_quota(self):
            return Task.objects.filter(owner=self.user).aggregate(total=models.Sum("size"))["total"] or 0

        def has_exceeded_quota(self):
            return self.used_quota() > self.quota

        def set_quota_deadline(self, hours):
            cache.set(f"deadline_{self.user.id}", hours)
            return hours
    """
)


def test_a_relation_a_member_read_earlier_in_the_pass_is_cached():
    # WebODM's ``check_quotas``: ``p.has_exceeded_quota()`` filters on ``self.user`` (through
    # ``used_quota()``), so ``p.set_quota_deadline()`` reading ``self.user.id`` and ``p.user``
    # later in the same pass run no query. The first read is the finding.
    tasks = dedent(
        """
        from celery import shared_task
        from app.models import Profile

        @shared_task
        def check_quotas():
            for p in Profile.objects.filter(quota__gt=-1):
                if p.has_exceeded_quota():
                    p.set_quota_deadline(3)
                    print(p.user.username)

        @shared_task
        def deadlines():
            for p in Profile.objects.filter(quota__gt=-1):
                p.set_quota_deadline(3)
                print(p.user.username)

        @shared_task
        def names():
            for p in Profile.objects.filter(quota__gt=-1):
                print(p.user.username)
        """
    )
    files = {"app/__init__.py": "", "app/models.py": QUOTA_MODELS, "app/tasks.py": tasks}
    got = [(line, rule) for _, line, rule, _ in _found(files, "QL105,QL106")]
    assert got == [(7, "QL106"), (14, "QL106"), (20, "QL105")]


def test_the_same_call_again_in_a_pass_is_one_finding():
    # WebODM: ``if p.has_exceeded_quota():`` and then ``while p.has_exceeded_quota():`` (recomputed
    # after each delete, by design) in the same pass over profiles: one finding, at the first.
    tasks = dedent(
        """
        from celery import shared_task
        from app.models import Profile, Task

        @shared_task
        def check_quotas():
            for p in Profile.objects.filter(quota__gt=-1):
                if p.has_exceeded_quota():
                    while p.has_exceeded_quota():
                        Task.objects.filter(owner=p.user).order_by("-id").first().delete()
        """
    )
    files = {"app/__init__.py": "", "app/models.py": QUOTA_MODELS, "app/tasks.py": tasks}
    assert [(line, rule) for _, line, rule, _ in _found(files, "QL102,QL106", settings=LOW)] == [(7, "QL106")]


def test_an_insert_per_row_whose_new_key_is_read_is_medium_with_returning_advice():
    # buildbot's build requests: ``r = conn.execute(tbl.insert(), {...})`` then
    # ``brids[b] = r.inserted_primary_key[0]``, one row at a time on purpose. A SQLAlchemy Core
    # ``insert()`` is an INSERT (write advice, not "fetch every row"); reading the new key makes
    # it medium, with ``RETURNING`` advice. Without the key read it stays high.
    code = dedent(
        """
        def add_requests(conn, tbl, bsid, builderids):
            brids = {}
            ins = tbl.insert()
            for builderid in builderids:
                r = conn.execute(ins, {"buildsetid": bsid, "builderid": builderid})
                brids[builderid] = r.inserted_primary_key[0]
            return brids

        def add_rows(cur, rows):
            ids = []
            for row in rows:
                cur.execute("INSERT INTO t (a) VALUES (%s)", (row,))
                ids.append(cur.lastrowid)
            return ids

        def add_plain(conn, tbl, builderids):
            for builderid in builderids:
                conn.execute(tbl.insert(), {"builderid": builderid})
        """
    )
    got = lint_files({"app/db.py": code}, select="QL101", settings=LOW).findings
    assert [(f.line, f.confidence) for f in got] == [(5, "medium"), (12, "medium"), (18, "high")]
    assert all("INSERT" in f.message for f in got)
    assert "RETURNING" in got[0].fix and "executemany" in got[2].fix


def test_a_loop_over_the_items_of_a_constant_is_a_constant_loop():
    # WebODM's ``for candidates in EXTERNAL_ASSET_FILES.values(): for asset in candidates:``: the
    # inner loop walks the lists of a module constant. A loop over a parameter's items is not.
    code = dedent(
        """
        from app.models import Task

        FILES = {"ortho": ["ortho.tif"], "cloud": ["model.laz", "model.las"]}

        def imported(project):
            for candidates in FILES.values():
                for name in candidates:
                    Task.objects.filter(project=project, name=name).exists()

        def requested(project, groups):
            for candidates in groups.values():
                for name in candidates:
                    Task.objects.filter(project=project, name=name).exists()
        """
    )
    models = "from django.db import models\nclass Task(models.Model):\n    project = models.IntegerField()\n    name = models.CharField(max_length=9)\n"
    got = _found({"app/__init__.py": "", "app/models.py": models, "app/views.py": code}, "QL103", settings=LOW)
    assert [line for _, line, _, _ in got] == [13]


def test_a_member_reading_a_loaded_relation_through_its_own_methods_is_covered():
    # WebODM's ``get_statistics()`` -> ``assets_path()`` -> ``task_path()`` reads ``self.project``,
    # which the viewset's ``select_related("project")`` loads; the serializer method calling it
    # runs no query. Through a helper of another module that queries, it is still reported.
    models = dedent(
        """
        import os
        from django.db import models

        class Project(models.Model):
            name = models.CharField(max_length=9)

        class Task(models.Model):
            project = models.ForeignKey(Project, on_delete=models.CASCADE)

            def task_path(self, *args):
                return os.path.join("media", str(self.project.id), *args)

            def assets_path(self, *args):
                return self.task_path("assets", *args)

            def get_statistics(self):
                return os.path.exists(self.assets_path("stats.json"))

            def get_audit(self):
                return audit_rows(self.id)

        def audit_rows(task_id):
            return list(Audit.objects.filter(task_id=task_id))

        class Audit(models.Model):
            task_id = models.IntegerField()
        """
    )
    api = dedent(
        """
        from rest_framework import serializers, viewsets
        from rest_framework.response import Response
        from app.models import Task

        class TaskSerializer(serializers.ModelSerializer):
            statistics = serializers.SerializerMethodField()
            audit = serializers.SerializerMethodField()

            def get_statistics(self, obj):
                return obj.get_statistics()

            def get_audit(self, obj):
                return obj.get_audit()

            class Meta:
                model = Task
                fields = ["id", "statistics", "audit"]

        class TaskViewSet(viewsets.ViewSet):
            queryset = Task.objects.all().select_related("project")

            def list(self, request):
                return Response(TaskSerializer(self.queryset.filter(id__gt=0), many=True).data)
        """
    )
    got = _found({"app/__init__.py": "", "app/models.py": models, "app/api.py": api}, "QL118", settings=LOW)
    assert [line for _, line, _, _ in got] == [13]


def test_a_helper_that_queues_a_job_per_item_is_slow_external_work():
    # open-event-server's mail loops: ``for email in emails: send_email(...)`` where the project's
    # ``send_email`` hands the message to ``send_email_task.delay(payload)`` and the loop also
    # calls a helper that queries per recipient: the job per item is the loop's cost (medium).
    # Without the queued job the query per item stays high.
    code = dedent(
        """
        from celery import shared_task
        from app.models import User

        @shared_task
        def send_email_task(payload):
            print(payload)

        def send_email(to, subject):
            send_email_task.delay({"to": to, "subject": subject})

        def user_name(email):
            return User.objects.filter(email=email).first()

        def notify(request, emails):
            for email in emails:
                name = user_name(email)
                send_email(to=email, subject=f"hi {name}")

        def names(request, emails):
            return [user_name(email) for email in emails]
        """
    )
    models = "from django.db import models\nclass User(models.Model):\n    email = models.CharField(max_length=9)\n"
    got = _found({"app/__init__.py": "", "app/models.py": models, "app/mail.py": code}, "QL102", settings=LOW)
    assert [(line, conf) for _, line, _, conf in got] == [(16, "medium"), (20, "high")]


def test_a_related_manager_of_a_row_s_relation_is_prefetched_through_that_relation():
    # pythondotorg's logo placements: ``sponsor = sponsorship.sponsor`` then
    # ``sponsor.contacts.all()`` per sponsorship; Sponsorship has no ``contacts``: the prefetch
    # is ``sponsor__contacts`` on the sponsorships' queryset.
    models = dedent(
        """
        from django.db import models

        class Sponsor(models.Model):
            name = models.CharField(max_length=9)

        class Contact(models.Model):
            sponsor = models.ForeignKey(Sponsor, related_name="contacts", on_delete=models.CASCADE)
            name = models.CharField(max_length=9)

        class Sponsorship(models.Model):
            sponsor = models.ForeignKey(Sponsor, on_delete=models.CASCADE)
        """
    )
    views = dedent(
        """
        from app.models import Sponsorship

        def placements(request):
            out = []
            for sponsorship in Sponsorship.objects.select_related("sponsor"):
                sponsor = sponsorship.sponsor
                out.append([c.name for c in sponsor.contacts.all()])
                out.append([c.name for c in sponsorship.sponsor.contacts.all()])
            return out
        """
    )
    got = lint_files({"app/__init__.py": "", "app/models.py": models, "app/views.py": views}, select=["QL113"]).findings
    assert [f.line for f in got] == [7, 8]
    assert all('prefetch_related("sponsor__contacts")' in f.fix for f in got)


def test_an_injection_risk_in_a_one_off_script_is_medium():
    # open-event-server's root-level ``session_slides_type_to_json.py``: a one-off migration that
    # quotes JSON of stored titles into an UPDATE. A script is one step less sure (a management
    # command keeps the risk: see the regulations-core test above).
    script = dedent(
        """
        import json
        import sqlite3

        def migrate(conn):
            for row in conn.execute("SELECT id, title FROM sessions").fetchall():
                data = json.dumps({"name": row[1]})
                conn.execute(f"UPDATE sessions SET slides = '{data}' WHERE id = {row[0]}")

        if __name__ == "__main__":
            migrate(sqlite3.connect("app.db"))
        """
    )
    files = {"app/__init__.py": "", "scripts/migrate_slides.py": script}
    assert _found(files, "QL303") == []
    assert _found(files, "QL303", settings={"min-confidence": "medium"}) == [("scripts/migrate_slides.py", 7, "QL303", "medium")]


def test_an_m2m_change_per_item_on_a_varying_manager_is_batched_from_the_other_side():
    # umap's ``TeamUpdate.form_valid``: ``for user in removed: user.teams.remove(self.object)``:
    # ``user.teams.remove(*objs)`` would batch nothing (the manager changes with every user); one
    # ``team.users.remove(*users)`` does. The same object's manager keeps the usual advice.
    models = dedent(
        """
        from django.db import models

        class Member(models.Model):
            name = models.CharField(max_length=9)

        class Team(models.Model):
            users = models.ManyToManyField(Member, related_name="teams")
        """
    )
    views = dedent(
        """
        from app.models import Member, Team

        def prune(request, team_id, ids):
            team = Team.objects.get(pk=team_id)
            for user in Member.objects.filter(pk__in=ids):
                user.teams.remove(team)
            for user in Member.objects.filter(pk__in=ids):
                team.users.add(user)
        """
    )
    got = lint_files({"app/__init__.py": "", "app/models.py": models, "app/views.py": views}, select=["QL104"]).findings
    assert [f.line for f in got] == [6, 8]
    assert "`team.users.remove(*objs)`" in got[0].fix and "`team.users.add(*objs)`" in got[1].fix


def test_a_helper_whose_argument_names_the_table_runs_one_query_per_table():
    # openslides' ``get_everything``: ``{c: self.reader.get_all(c) for c in model_registry}`` where
    # ``get_all(collection)`` selects ``FROM {sql.Identifier(collection)}``: a different table per
    # item, which no single query could merge. A value per item is still an N+1.
    code = dedent(
        """
        from psycopg import sql

        model_registry = {}

        class Reader:
            def __init__(self, conn):
                self.conn = conn

            def get_all(self, collection):
                query = sql.SQL("SELECT * FROM {c}").format(c=sql.Identifier(collection))
                with self.conn.cursor() as cur:
                    cur.execute(query)
                    return cur.fetchall()

            def get_one(self, collection, id):
                with self.conn.cursor() as cur:
                    cur.execute("SELECT * FROM items WHERE collection = %s AND id = %s", (collection, id))
                    return cur.fetchone()

        class Db:
            def __init__(self, conn):
                self.reader = Reader(conn)

            def everything(self):
                return {c: self.reader.get_all(c) for c in model_registry}

            def some(self, ids):
                return [self.reader.get_one("x", i) for i in ids]
        """
    )
    assert [line for _, line, _, _ in _found({"app/__init__.py": "", "app/db.py": code}, "QL102", settings=LOW)] == [28]


def test_a_comprehension_s_if_clause_runs_before_its_element():
    # EvaP's ``text_questions``: ``[a.question for a in ... if a.question.is_text_question]``: the
    # ``if`` loads ``a.question`` first on every item (the finding), the element reads it cached.
    models = dedent(
        """
        from django.db import models

        class Question(models.Model):
            is_text_question = models.BooleanField()

        class Questionnaire(models.Model):
            name = models.CharField(max_length=9)

            @property
            def text_questions(self):
                return [
                    assignment.question
                    for assignment in self.question_assignments.all()
                    if assignment.question.is_text_question
                ]

        class Assignment(models.Model):
            questionnaire = models.ForeignKey(Questionnaire, related_name="question_assignments", on_delete=models.CASCADE)
            question = models.ForeignKey(Question, on_delete=models.CASCADE)
        """
    )
    assert _found({"app/__init__.py": "", "app/models.py": models}, "QL105") == [("app/models.py", 14, "QL105", "high")]
