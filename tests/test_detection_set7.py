"""Detection cases from the sixteenth session (issue 14), from the seventh held-out set's misses:
shapes written for these tests, each with the negatives that must stay silent."""
from querylint.rule import dedent
from querylint.testing import lint_files


def _found(files, select, **kw):
    return [(f.path, f.line, f.rule, f.confidence) for f in lint_files(files, select=select, **kw).findings]


_MODELS = dedent(
    """
    from flask_sqlalchemy import SQLAlchemy

    db = SQLAlchemy()

    class Cookie(db.Model):
        sid = db.Column(db.String, primary_key=True)
        user_id = db.Column(db.Integer)

    class Document(db.Model):
        id = db.Column(db.Integer, primary_key=True)
        submitted_by = db.Column(db.String)
    """
)

_LOGIN = dedent(
    """
    from flask import request
    from app.models import Cookie

    def get_user():
        cookie = Cookie.query.filter_by(sid=request.cookies.get("sid")).first()
        return cookie.user_id if cookie else None
    """
)


def _schemas(method_body: str, nested_elsewhere: bool = True) -> dict:
    schemas = dedent(
        """
        from marshmallow import Schema, fields
        from app.login import get_user
        from app.models import Cookie

        class DocumentSchema(Schema):
            id = fields.Int()
            submitted_by = fields.Method("scrub_submitted_by")

            def scrub_submitted_by(self, obj):
        """
    ) + "".join(f"        {line}\n" for line in method_body.splitlines())
    files = {"app/__init__.py": "", "app/models.py": _MODELS, "app/login.py": _LOGIN, "app/schemas.py": schemas}
    if nested_elsewhere:
        files["app/orders.py"] = dedent(
            """
            from marshmallow import Schema, fields
            from app.schemas import DocumentSchema

            class OrderSchema(Schema):
                id = fields.Int()
                documents = fields.List(fields.Nested(DocumentSchema))
            """
        )
    return files


def test_a_marshmallow_method_field_calling_a_helper_that_queries_is_a_query_per_dumped_object():
    # odie: ``submitted_by = fields.Method("scrub_submitted_by")`` calls ``get_user()``, which
    # reads the session's cookie row, for every document of ``List(Nested(DocumentSchema))``
    files = _schemas('return obj.submitted_by if get_user() else None')
    assert _found(files, ["QL118"]) == [("app/schemas.py", 10, "QL118", "high")]
    # a query written in the method itself too
    files = _schemas('return Cookie.query.filter_by(user_id=obj.id).count()')
    assert _found(files, ["QL118"]) == [("app/schemas.py", 10, "QL118", "high")]


def test_a_marshmallow_method_field_that_reads_what_the_schema_was_given_is_silent():
    # the fix: ``get_user()`` once in ``__init__``; the method reads ``self._authenticated``
    files = _schemas('return obj.submitted_by if self.context.get("user") else None')
    assert _found(files, ["QL118"], settings={"min-confidence": "low"}) == []


def test_a_marshmallow_schema_no_list_is_known_to_dump_is_one_step_less_sure():
    # dumped once per request, the query runs once: reported at medium (out of the default output)
    files = _schemas('return obj.submitted_by if get_user() else None', nested_elsewhere=False)
    assert _found(files, ["QL118"]) == []
    assert _found(files, ["QL118"], settings={"min-confidence": "low"}) == [("app/schemas.py", 10, "QL118", "medium")]


_DAO_MODELS = dedent(
    """
    from flask_sqlalchemy import SQLAlchemy

    db = SQLAlchemy()

    class Permission(db.Model):
        id = db.Column(db.Integer, primary_key=True)
        user_id = db.Column(db.Integer)
    """
)

_DAO = dedent(
    """
    from app.models import Permission

    class DAOClass:
        class Meta:
            model = None

        def get(self, pk):
            return self.Meta.model.query.get(pk)

    class PermissionDAO(DAOClass):
        class Meta:
            model = Permission

        def by_user(self, user_id):
            return self.Meta.model.query.filter_by(user_id=user_id).all()

    permission_dao = PermissionDAO()
    """
)


def _dao_files(loop_call: str) -> dict:
    views = dedent(
        f"""
        from app.dao import PermissionDAO, permission_dao

        def permissions(users):
            return [{loop_call} for u in users]
        """
    )
    return {"app/__init__.py": "", "app/models.py": _DAO_MODELS, "app/dao.py": _DAO, "app/views.py": views}


def test_a_method_of_a_module_level_data_access_object_is_followed_into_its_query():
    # notify: ``permission_dao = PermissionDAO()``; ``permission_dao.get_permissions_by_user_id(u.id)``
    # per user, the method reading ``self.Meta.model.query`` (``class Meta: model = Permission``)
    assert _found(_dao_files("permission_dao.by_user(u.id)"), ["QL102"]) == [("app/views.py", 4, "QL102", "high")]
    assert _found(_dao_files("PermissionDAO().by_user(u.id)"), ["QL102"]) == [("app/views.py", 4, "QL102", "high")]


def test_a_base_data_access_method_whose_model_each_subclass_names_is_not_judged():
    # ``DAOClass.get`` reads whichever subclass's ``Meta.model``: no one class, no query site
    assert _found(_dao_files("permission_dao.get(u.id)"), ["QL102"], settings={"min-confidence": "low"}) == []


def test_a_module_level_schema_told_to_dump_many_makes_its_method_fields_sure():
    # notify: ``invited_user_schema.dump(invited_users, many=True)`` in a view
    files = _schemas('return obj.submitted_by if get_user() else None', nested_elsewhere=False)
    files["app/schemas.py"] += "\n\ndocument_schema = DocumentSchema()\n"
    files["app/views.py"] = dedent(
        """
        from app.schemas import document_schema

        def documents(rows):
            return document_schema.dump(rows, many=True)
        """
    )
    assert _found(files, ["QL118"]) == [("app/schemas.py", 10, "QL118", "high")]


def test_a_method_of_an_object_made_on_the_spot_is_followed_through_helpers():
    # unmanic: the scan calls ``file_test.should_file_be_added()`` per file, which asks
    # ``history.History().tasks(path)``, which queries; the helper in between hid it
    files = {
        "app/__init__.py": "",
        "app/models.py": _DAO_MODELS,
        "app/history.py": dedent(
            """
            from app.models import Permission

            class History:
                def tasks(self, user_id):
                    return Permission.query.filter_by(user_id=user_id).all()
            """
        ),
        "app/scan.py": dedent(
            """
            from app import history

            def failed(user_id):
                return bool(history.History().tasks(user_id))

            def scan(users):
                return [u for u in users if not failed(u.id)]
            """
        ),
    }
    assert _found(files, ["QL102"]) == [("app/scan.py", 7, "QL102", "high")]
