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
