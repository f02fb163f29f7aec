"""Precision cases from the eleventh session's blind sample (issue 13): nine projects none of the
earlier sets used (ckan, tasking-manager, zou, linkding, opencve, Tandoor recipes, EvaP,
librephotos, a4-meinberlin). Each false alarm or duplicate with its negative, and the positive it
must not hide."""
from querylint.rule import dedent
from querylint.testing import lint_files


def _found(files, select, **kw):
    codes = [c.strip() for c in select.split(",")]
    return [(f.path, f.line, f.rule) for f in lint_files(files, select=codes, **kw).findings]


MEDIUM = {"min-confidence": "medium"}

MODELS = dedent(
    """
    from django.db import models

    class Ingredient(models.Model):
        note = models.CharField(max_length=10)

    class Step(models.Model):
        ingredients = models.ManyToManyField(Ingredient)
    """
)


def test_a_write_nested_in_the_arguments_of_another_write_is_one_finding():
    # Tandoor's importers: ``step.ingredients.add(Ingredient.objects.create(...))`` per parsed
    # line was two QL104 findings on one statement
    views = dedent(
        """
        from app.models import Ingredient

        def view(request, step):
            for text in request.POST.getlist("notes"):
                step.ingredients.add(Ingredient.objects.create(note=text))
            for text in request.POST.getlist("more"):
                made = Ingredient.objects.create(note=text)
                step.ingredients.add(made)
        """
    )
    found = _found({"app/models.py": MODELS, "app/views.py": views}, "QL104")
    assert found == [("app/views.py", 5, "QL104"), ("app/views.py", 7, "QL104"), ("app/views.py", 8, "QL104")]


def test_a_constant_whole_table_write_is_reported_by_default_only_beside_an_unused_id():
    # tasking-manager clears every nomination and vote when a level's requirements change: a
    # constant ``DELETE FROM user_next_level`` beside other work, deliberate
    ops = dedent(
        """
        async def update_level(level_id, dto, db):
            async with db.transaction():
                await db.execute("DELETE FROM user_next_level")
                await db.execute("UPDATE mapping_levels SET name = :name WHERE id = :id", {"id": level_id, "name": dto.name})

        def remove_user(conn, user_id):
            conn.execute("DELETE FROM sessions")
        """
    )
    assert _found({"ops.py": ops}, "QL302") == [("ops.py", 7, "QL302")]
    assert _found({"ops.py": ops}, "QL302", settings=MEDIUM) == [("ops.py", 3, "QL302"), ("ops.py", 7, "QL302")]


def test_a_function_on_a_column_beside_a_key_equality_is_not_reported():
    # tasking-manager: ``WHERE id = ANY(:ids) AND DATE(last_updated) > :t`` and ``WHERE user_id =
    # :uid AND DATE(action_date) > ...``: the key's index picks the rows, the function filters few
    queries = dedent(
        """
        def recent(db, ids, threshold):
            return db.fetch_all("SELECT id FROM projects WHERE id = ANY(:ids) AND DATE(last_updated) > :t", {"ids": ids, "t": threshold})

        def by_day(db, user_id):
            return db.fetch_all("SELECT action FROM task_history WHERE user_id = :user_id AND DATE(action_date) > :t", {"user_id": user_id})

        def in_list(cur, a, b, day):
            cur.execute("SELECT id FROM orders WHERE id IN (%s, %s) AND date(created_at) = %s", (a, b, day))

        def by_email(cur, email):
            cur.execute("SELECT id FROM users WHERE lower(email) = %s", (email,))

        def either(cur, uid, day):
            cur.execute("SELECT id FROM orders WHERE user_id = %s OR date(created_at) = %s", (uid, day))
        """
    )
    # (the columns the positives wrap are indexed: without an index there is nothing to lose)
    indexes = 'SCHEMA = """CREATE INDEX ix_orders_created ON orders (created_at); CREATE UNIQUE INDEX ux_email ON users (email);"""\n'
    assert _found({"queries.py": queries, "schema.py": indexes}, "QL306") == [("queries.py", 11, "QL306"), ("queries.py", 14, "QL306")]


def test_not_in_over_the_keys_one_owner_links_to_is_not_reported():
    # tasking-manager: ``id NOT IN (SELECT badge_id FROM user_mapping_badge WHERE user_id = :uid)``
    queries = dedent(
        """
        def available(db, user_id):
            return db.fetch_all("SELECT id FROM badges WHERE id NOT IN (SELECT badge_id FROM user_badge WHERE user_id = :uid)", {"uid": user_id})

        def orphans(cur):
            cur.execute("SELECT id FROM accounts WHERE id NOT IN (SELECT account_id FROM owners)")

        def unnamed(cur, uid):
            cur.execute("SELECT id FROM badges WHERE name NOT IN (SELECT label FROM user_badge WHERE user_id = %s)", (uid,))
        """
    )
    assert _found({"queries.py": queries}, "QL309", settings={"min-confidence": "medium"}) == [("queries.py", 5, "QL309"), ("queries.py", 8, "QL309")]


def test_quoted_identifiers_reach_sql_through_format_mappings_and_concatenation():
    # ckan's datastore: ``.format(**format_params)`` of a ``dict(res_id=identifier(...), ...)``,
    # ``("_id, " if ... else "") + ", ".join([identifier(f) ...])``, a nested ``.format`` under a
    # condition, and ``LIMIT {rows_max + 1}``
    code = dedent(
        """
        import sqlalchemy as sa

        def identifier(s):
            return '"' + s.replace('"', '""') + '"'

        def upsert(conn, table, fields, pk_sql, include):
            sql_columns = ", ".join(identifier(name) for name in fields)
            return_columns = "_id, " + sql_columns
            params = dict(
                res_id=identifier(table),
                columns=("_id, " if pk_sql == '"_id"' else "") + ", ".join([identifier(f) for f in fields]),
                returning="RETURNING {c}".format(c=return_columns) if include else "",
            )
            conn.execute(sa.text("INSERT INTO {res_id} ({columns}) VALUES (1) {returning}".format(**params)))

        def page(conn, rows_max):
            conn.execute(sa.text("SELECT a FROM t LIMIT {n}".format(n=rows_max + 1)))

        def unsafe(conn, table, name):
            params = {"res_id": identifier(table), "name": name}
            conn.execute(sa.text("DELETE FROM {res_id} WHERE name = '{name}'".format(**params)))
        """
    )
    found = lint_files({"store.py": code}, select=["QL303"]).findings
    assert [(f.line, f.rule) for f in found] == [(21, "QL303")]
    assert "`name`" in found[0].message


def test_an_identifier_appended_to_a_statement_is_advised_an_allow_list_not_a_parameter():
    # tasking-manager: ``query += f" ORDER BY {order_by} DESC"`` and ``INSERT INTO projects
    # ({columns})``: a sort column or a column list cannot be a bound parameter
    code = dedent(
        """
        async def tasks(db, order_by, project_id):
            query = "SELECT id FROM tasks WHERE project_id = :pid"
            if order_by:
                query += f" ORDER BY {order_by} DESC"
            return await db.fetch_all(query, {"pid": project_id})

        async def insert(db, meta):
            columns = ", ".join(meta.keys())
            values = ", ".join([f":{key}" for key in meta.keys()])
            return await db.execute(f"INSERT INTO projects ({columns}) VALUES ({values}) RETURNING id", meta)
        """
    )
    found = lint_files({"store.py": code}, select=["QL303"], settings={"min-confidence": "low"}).findings
    assert [(f.line, f.fix) for f in found] == [
        (4, "check `order_by` against an allow-list of column/table names (identifiers cannot be bound)"),
        (10, "check `columns` against an allow-list of column/table names (identifiers cannot be bound)"),
    ]
    # a sort column from a parameter is usually the request's ``?sort=``; a column list a helper
    # gets is usually picked by its callers' code: out of the default output (eighteenth session)
    assert [f.confidence for f in found] == ["high", "medium"]


def test_a_star_select_mapped_by_from_statement_through_a_name_is_not_reported():
    # ckan's group hierarchy: ``stmt = text(HIERARCHY_CTE)`` then
    # ``Session.query(Group).from_statement(stmt)``: the mapper needs every column
    code = dedent(
        """
        from sqlalchemy import text

        UPWARDS = "SELECT G.*, PT.depth FROM parenttree AS PT JOIN public.group G ON G.id = PT.table_id WHERE G.type = :type"

        class Group:
            def parents(self, session, type):
                stmt: Any = text(UPWARDS)
                return session.query(Group).from_statement(stmt).params(type=type).all()

            def rows(self, session, type):
                stmt = text("SELECT o.*, u.email FROM orders o JOIN users u ON u.id = o.user_id WHERE u.type = :type")
                return session.execute(stmt, {"type": type}).all()
        """
    )
    assert [(f.line, f.rule) for f in lint_files({"group.py": code}, select=["QL301"]).findings] == [(11, "QL301")]


def test_a_relation_read_under_a_check_that_it_is_prefetched_is_not_reported():
    # EvaP: ``if is_prefetched(self, "participants"): return len(self.participants.all())`` and
    # ``if is_prefetched(self.contributions[0], "questionnaires"): all(len(c.questionnaires) ...)``
    models = dedent(
        """
        from django.db import models
        from app.tools import is_prefetched

        class Questionnaire(models.Model):
            name = models.CharField(max_length=10)

        class Evaluation(models.Model):
            participants = models.ManyToManyField("auth.User")

            def num_participants(self):
                if is_prefetched(self, "participants"):
                    return len(self.participants.all())
                return self.participants.count()

            def all_have(self):
                for c in self.contributions.all():
                    if "questionnaires" in c._prefetched_objects_cache:
                        yield len(c.questionnaires.all())

            def other_check(self):
                if is_prefetched(self, "reviewers"):
                    return len(self.participants.all())
                return 0

        class Contribution(models.Model):
            evaluation = models.ForeignKey(Evaluation, related_name="contributions", on_delete=models.CASCADE)
            questionnaires = models.ManyToManyField(Questionnaire)
        """
    )
    found = _found({"app/models.py": models, "app/tools.py": "def is_prefetched(obj, name):\n    return True\n"}, "QL1,QL4")
    assert [(line, rule) for _, line, rule in found] == [(22, "QL405")]


def test_a_loop_under_a_check_that_its_rows_prefetched_the_relation_is_not_reported():
    models = dedent(
        """
        from django.db import models
        from app.tools import is_prefetched

        class Questionnaire(models.Model):
            name = models.CharField(max_length=10)

        class Evaluation(models.Model):
            name = models.CharField(max_length=10)

            def all_have(self):
                if is_prefetched(self, "contributions"):
                    if is_prefetched(self.contributions.all()[0], "questionnaires"):
                        return all(len(c.questionnaires.all()) > 0 for c in self.contributions.all())
                return False

            def all_have_unchecked(self):
                return all(len(c.questionnaires.all()) > 0 for c in self.contributions.all())

        class Contribution(models.Model):
            evaluation = models.ForeignKey(Evaluation, related_name="contributions", on_delete=models.CASCADE)
            questionnaires = models.ManyToManyField(Questionnaire)
        """
    )
    found = _found({"app/models.py": models, "app/tools.py": "def is_prefetched(obj, name):\n    return True\n"}, "QL1")
    assert [(line, rule) for _, line, rule in found] == [(17, "QL113")]


def test_a_query_standing_in_for_a_missing_annotation_is_not_reported():
    # librephotos: ``try: return obj.photo_count`` / ``except Exception: return obj.photos.count()``
    # in a SerializerMethodField; the viewset annotates ``photo_count``
    code = dedent(
        """
        from django.db import models
        from rest_framework import serializers, viewsets

        class Album(models.Model):
            name = models.CharField(max_length=10)

        class Photo(models.Model):
            album = models.ForeignKey(Album, related_name="photos", on_delete=models.CASCADE)

        class AlbumSerializer(serializers.ModelSerializer):
            photo_count = serializers.SerializerMethodField()
            last = serializers.SerializerMethodField()

            class Meta:
                model = Album
                fields = ["name", "photo_count", "last"]

            def get_photo_count(self, obj):
                try:
                    return obj.photo_count
                except Exception:
                    return obj.photos.count()

            def get_last(self, obj):
                try:
                    return obj.photos.latest("id").id
                except Photo.DoesNotExist:
                    return None

        class AlbumViewSet(viewsets.ModelViewSet):
            serializer_class = AlbumSerializer
            queryset = Album.objects.annotate(photo_count=models.Count("photos"))
        """
    )
    assert [(line, rule) for _, line, rule in _found({"app/views.py": code}, "QL1")] == [(26, "QL118")]


def test_the_inner_finding_stays_when_the_outer_one_is_less_sure():
    # Tandoor's shopping helper: ``self._add_ingredients(self.get_recipe_ingredients(...))``: the
    # outer call's finding is medium (hidden by default), the inner query's is high
    from types import SimpleNamespace as NS

    from querylint.engine import _drop_nested
    from querylint.types import Span

    rule = object()

    def item(span, confidence, edits=()):
        return (NS(span=span, confidence=confidence), NS(rule=rule, edits=edits), 128)

    outer = item(Span(128, 21, 128, 120), "medium")
    inner = item(Span(128, 43, 128, 100), "high")
    assert _drop_nested([outer, inner]) == [outer, inner]
    sure_outer = item(Span(128, 21, 128, 120), "high")
    assert _drop_nested([sure_outer, inner]) == [sure_outer]
    fixable_inner = item(Span(128, 43, 128, 100), "high", edits=("an edit",))
    assert _drop_nested([sure_outer, fixable_inner]) == [sure_outer, fixable_inner]


def test_a_star_over_a_join_whose_rows_are_handed_on_whole_is_not_sure():
    # tasking-manager: ``SELECT c.* FROM campaigns c JOIN ...`` rows unpacked into
    # ``CampaignDTO(**row)`` use every column; ``SELECT p.*`` over a join read back for one key is
    # the real over-fetch
    code = dedent(
        """
        async def campaigns(database, organisation_id):
            query = "SELECT c.* FROM campaigns c JOIN campaign_organisations co ON c.id = co.campaign_id WHERE co.organisation_id = :o"
            rows = await database.fetch_all(query=query, values={"o": organisation_id})
            return [CampaignDTO(**row) for row in rows]

        async def mentions(db, project_id):
            query = "SELECT p.*, u.username AS author_username FROM projects p JOIN users u ON p.author_id = u.id WHERE p.id = :p"
            project = await db.fetch_one(query, {"p": project_id})
            if not project:
                return []
            return [project["author_username"]]

        async def dtos(db, project_id):
            query = "SELECT p.*, u.username FROM projects p JOIN users u ON p.author_id = u.id WHERE p.id = :p"
            rows = await db.fetch_all(query, {"p": project_id})
            return [Dto(**row) for row in rows]
        """
    )
    assert [f.line for f in lint_files({"svc.py": code}, select=["QL301"]).findings] == [7]
    assert [f.line for f in lint_files({"svc.py": code}, select=["QL301"], settings=MEDIUM).findings] == [2, 7, 14]


def test_write_advice_matches_the_operation_for_related_adds_and_get_or_create():
    # openwisp's ``config.templates.add(template)`` per template (fixed with ``add(*templates)``);
    # Tandoor's ``Keyword.objects.get_or_create(...)`` per imported keyword
    code = dedent(
        """
        from django.db import models

        class Template(models.Model):
            name = models.CharField(max_length=10)

        class Config(models.Model):
            templates = models.ManyToManyField(Template)

        def add_tagged(config, names):
            for template in Template.objects.filter(name__in=names):
                config.templates.add(template)
            for name in names:
                Template.objects.get_or_create(name=name)
        """
    )
    fixes = [f.fix for f in lint_files({"app/models.py": code}, select=["QL104"]).findings]
    assert fixes == [
        "collect the objects and call `config.templates.add(*objs)` once after the loop (it takes many)",
        "fetch the existing rows with one `filter(<key>__in=...)` before the loop and `bulk_create` the missing ones after it",
    ]


def test_rows_passed_to_a_helper_that_unpacks_them_are_used_whole():
    # tasking-manager: ``Campaign.campaign_list_as_dto(rows)`` builds ``CampaignDTO(**row)`` per
    # row; ``create_result_dto(project, ...)`` reads a few keys of each (the real over-fetch)
    models = dedent(
        """
        class Campaign:
            @staticmethod
            def campaign_list_as_dto(campaigns):
                return [CampaignDTO(**campaign) for campaign in campaigns]

        def create_result_dto(project, locale):
            return {"id": project["id"], "name": project["name"]}
        """
    )
    svc = dedent(
        """
        from app.models import Campaign, create_result_dto

        async def campaigns(database, organisation_id):
            query = "SELECT c.* FROM campaigns c JOIN campaign_organisations co ON c.id = co.campaign_id WHERE co.organisation_id = :o"
            rows = await database.fetch_all(query=query, values={"o": organisation_id})
            return Campaign.campaign_list_as_dto(rows)

        async def recommended(db, tags, locale):
            query = "SELECT DISTINCT p.*, u.username FROM projects p JOIN users u ON u.id = p.author_id WHERE p.tag = ANY(:t)"
            rows = await db.fetch_all(query=query, values={"t": tags})
            return [create_result_dto(project, locale) for project in rows]
        """
    )
    assert [f.line for f in lint_files({"app/models.py": models, "app/svc.py": svc}, select=["QL301"]).findings] == [9]


def test_relations_loaded_with_prefetch_related_objects_are_not_lazy():
    # EvaP's results: ``prefetch_related_objects([evaluation], *GET_RESULTS_PREFETCH_LOOKUPS)``
    # with a module-level list, then ``contribution.contributor`` per contribution
    code = dedent(
        """
        from django.db import models
        from django.db.models import prefetch_related_objects

        class Person(models.Model):
            name = models.CharField(max_length=10)

        class Evaluation(models.Model):
            name = models.CharField(max_length=10)

        class Contribution(models.Model):
            evaluation = models.ForeignKey(Evaluation, related_name="contributions", on_delete=models.CASCADE)
            contributor = models.ForeignKey(Person, on_delete=models.CASCADE)

        LOOKUPS = ["contributions__contributor"]

        def results(evaluation):
            prefetch_related_objects([evaluation], *LOOKUPS)
            return [c.contributor.name for c in evaluation.contributions.all()]

        def results_literal(evaluation):
            prefetch_related_objects([evaluation], "contributions__contributor")
            return [c.contributor.name for c in evaluation.contributions.all()]

        def results_other(evaluation, other):
            prefetch_related_objects([other], "contributions__contributor")
            return [c.contributor.name for c in evaluation.contributions.all()]

        def view(request):
            return [results(e) + results_literal(e) + results_other(e, e) for e in Evaluation.objects.all()]
        """
    )
    assert [(line, rule) for _, line, rule in _found({"app/models.py": code}, "QL105", settings=MEDIUM)] == [(26, "QL105")]


def test_prefetch_related_objects_is_itself_a_query_per_call():
    # EvaP's exports call ``get_results(evaluation)`` per course: its ``prefetch_related_objects``
    # runs a query per lookup level for each evaluation
    code = dedent(
        """
        from django.db import models
        from django.db.models import prefetch_related_objects

        class Evaluation(models.Model):
            name = models.CharField(max_length=10)

        class Contribution(models.Model):
            evaluation = models.ForeignKey(Evaluation, related_name="contributions", on_delete=models.CASCADE)

        def results(evaluation):
            prefetch_related_objects([evaluation], "contributions")
            return len(evaluation.contributions.all())

        def view(request):
            return [results(e) for e in Evaluation.objects.all()]
        """
    )
    assert [(line, rule) for _, line, rule in _found({"app/models.py": code}, "QL1")] == [(15, "QL102")]
