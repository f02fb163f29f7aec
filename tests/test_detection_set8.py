"""Detection cases from the eighteenth session's held-out set 8 (shapes real fix commits had),
each with the negative it must keep silent."""
import ast

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
