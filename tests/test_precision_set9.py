"""Precision cases from the seventeenth session's second blind set (Ghostwriter, faraday, anitya,
packit-service, ecommerce, shynet, bitcart, koschei, credentials), and what the eight blind sets
say together. Each false alarm with its negative, and the positive it must not hide."""
from querylint.rule import dedent
from querylint.testing import lint_files

LOW = {"min-confidence": "low"}


def _found(files, select, **kw):
    return [(f.path, f.line, f.rule, f.confidence) for f in lint_files(files, select=select, **kw).findings]


def test_formatted_sql_in_code_the_project_calls_from_no_entry_point_is_one_step_less_sure():
    # Read in eight blind sets, QL303 in code that no request, job or command reaches was 0 real
    # of 24 (koschei's argparse ints, faraday's class constants, reviewboard's keys). In an
    # application, such code called only by other such code is ``medium``; a route reaching it,
    # or a function nothing calls (it may be called from outside), keeps ``high``.
    code = dedent(
        """
        from flask import Flask, request

        app = Flask(__name__)

        @app.get("/users")
        def users():
            return by_name(app.db, request.args["name"])

        def by_name(cur, name):
            return cur.execute(f"SELECT id FROM users WHERE name = '{name}'").fetchall()

        def cleanup(cur, older_than):
            return _purge(cur, older_than)

        def _purge(cur, older_than):
            return cur.execute(f"DELETE FROM builds WHERE started < '{older_than}'")

        def find_user(cur, email):
            return cur.execute(f"SELECT id FROM users WHERE email = '{email}'").fetchone()
        """
    )
    assert _found({"app/views.py": code}, ["QL303"], settings=LOW) == [
        ("app/views.py", 10, "QL303", "high"), ("app/views.py", 16, "QL303", "medium"), ("app/views.py", 19, "QL303", "high"),
    ]
