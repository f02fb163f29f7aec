"""Detection cases from the eighteenth session's held-out set 8 (shapes real fix commits had),
each with the negative it must keep silent."""
import ast
from pathlib import Path

import libcst as cst

from querylint.project.ast_facts import collect_facts_ast
from querylint.project.facts import collect_facts
from querylint.rule import dedent
from querylint.testing import lint_files


def _found(files, select, **kw):
    return [(f.path, f.line, f.rule, f.confidence) for f in lint_files(files, select=select, **kw).findings]


DB = dedent(
    """
    from sqlalchemy import create_engine
    from sqlalchemy.orm import sessionmaker

    engine = None
    Session = None

    def init(config):
        global engine
        global Session
        engine = create_engine(config["db"])
        Session = sessionmaker(bind=engine)
    """
)
API = dedent(
    """
    import falcon
    from sqlalchemy import text
    from app import db

    class Incidents:
        def on_post(self, req, resp):
            session = db.Session()
            plan = session.execute(text("SELECT id FROM plans WHERE name = :n"), {"n": req.media["plan"]}).scalar()
            if not plan:
                raise falcon.HTTPNotFound()
            session.execute(text("INSERT INTO incidents (plan_id) VALUES (:p)"), {"p": plan})
            session.commit()
            session.close()

    class Plans:
        def on_get(self, req, resp):
            session = db.Session()
            try:
                resp.media = session.execute(text("SELECT name FROM plans LIMIT 10")).fetchall()
            finally:
                session.close()

    app = falcon.App()
    app.add_route("/incidents", Incidents())
    app.add_route("/plans", Plans())
    """
)


def test_a_session_factory_an_initialiser_binds_to_a_module_global():
    # iris: ``Session = None`` at module level, ``global Session; Session = sessionmaker(...)`` in
    # ``db.init(config)``; a handler's ``db.Session()`` that a rejected request's ``raise`` skips
    # the close of leaks a pooled connection per bad request
    files = {"app/__init__.py": "", "app/db.py": DB, "app/api.py": API}
    assert _found(files, ["QL2"]) == [("app/api.py", 7, "QL203", "high")]


def test_the_initialiser_global_is_a_fact_of_both_collectors():
    facts = collect_facts(cst.parse_module(DB), "app/db.py")
    assert [name for name, _ in facts.module_calls] == ["engine", "Session"]
    assert collect_facts_ast(ast.parse(DB), DB, "app/db.py") == facts


# the models of the dict-lookup fixture (a ``__str__`` that reads a lazy foreign key)
VARIANT_MODELS = (Path(__file__).resolve().parents[1] / "fixtures/django/dict_lookups/dj_lookups/models.py").read_text()


def test_a_dict_whose_keys_filter_the_query_has_one_entry_per_row():
    # variantgrid: ``{v.pk: v for v in Variant.objects.filter(pk__in=counts)}`` then ``for
    # variant_id, n in counts.items(): str(variant_by_id[variant_id])``: the dict's keys are the
    # rows' ids, so its ``.items()`` is as long as the rows (a dict's items are otherwise taken
    # for a handful: one step less sure)
    code = dedent(
        """
        from app.models import Variant

        def locus_counts(counts):
            variant_by_id = {v.pk: v for v in Variant.objects.filter(pk__in=counts)}
            rows = []
            for variant_id, n in counts.items():
                v = variant_by_id[variant_id]
                rows.append((str(v), n))
            return rows

        def labelled(counts, labels):
            variant_by_id = {v.pk: v for v in Variant.objects.filter(pk__in=counts)}
            rows = []
            for key, n in labels.items():
                v = variant_by_id[key]
                rows.append((str(v), n))
            return rows
        """
    )
    found = _found({"app/models.py": VARIANT_MODELS, "app/views.py": code}, ["QL106"], settings={"min-confidence": "low"})
    assert [(line, conf) for _, line, _, conf in found] == [(8, "high"), (16, "medium")], found


def test_a_session_made_for_one_statement_and_dropped_is_never_closed():
    # iris: ``return db.Session().execute(sql, {...}).scalar()``: the session begins a transaction
    # that checks out a pooled connection, then is dropped; sessions sit in reference cycles, so
    # the connection stays taken until a garbage collection. A ``with`` block, and the thread
    # session of a ``scoped_session`` registry, are not that
    helpers = dedent(
        """
        from sqlalchemy import text
        from sqlalchemy.orm import scoped_session, sessionmaker
        from app import db

        Scoped = scoped_session(sessionmaker())

        def incident_of(msg_id):
            return db.Session().execute(text("SELECT incident_id FROM message WHERE id = :m"), {"m": msg_id}).scalar()

        def incidents_of(ids):
            return [row[0] for row in db.Session().execute(text("SELECT incident_id FROM message"))]

        def closed(msg_id):
            with db.Session() as session:
                return session.execute(text("SELECT 1")).scalar()

        def thread_session():
            return Scoped().execute(text("SELECT 1")).scalar()

        def factory_kept():
            return db.Session().bind
        """
    )
    found = _found({"app/__init__.py": "", "app/db.py": DB, "app/utils.py": helpers}, ["QL203"], settings={"min-confidence": "low"})
    assert [(line, conf) for _, line, _, conf in found] == [(8, "high"), (11, "high")], found
