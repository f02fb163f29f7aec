"""Where a finding's code runs (context) and how sure querylint is (confidence): in every
format, and the default output leaves out what is below ``min-confidence`` (issue 13)."""
import json

import pytest

from querylint.run.config import Config
from querylint.project.contexts import cap, finding_context, path_context, shown
from querylint.testing import lint_files

LOOP = "def names(cur, ids):\n    for i in ids:\n        cur.execute('SELECT name FROM users WHERE id = %s', (i,))\n"


@pytest.mark.parametrize(
    "relpath, expected",
    [
        ("app/testing/helpers.py", "test"),
        ("test/data/flask_vulnerable_api/app.py", "test"),  # a ``test/`` folder (singular) holds tests too
        ("app/factories.py", "test"),
        ("app/utils/populate.py", "test"),
        ("shop/core/utils/random_data.py", "test"),
        ("dev-data.py", "test"),
        ("app/management/commands/create_test_event.py", "test"),
        ("app/dev_data/users.py", "test"),
        ("dev/common/setup_test_data.py", "test"),
        ("profiles/community/github_mock/flaskapp.py", "test"),
        ("app/mocks/payments.py", "test"),
        ("kobo/apps/long_running_migrations/jobs/0009_backfill.py", "script"),
        ("app/mocking.py", None),
        ("app/devices.py", None),
        ("app/testing/fixtures.py", "test"),
        ("app/fixtures.py", "test"),
        ("app/tests/test_x.py", "test"),
        ("app/management/commands/backfill.py", "command"),
        ("app/cli/people.py", "command"),
        ("scripts/migrate_data.py", "script"),
        ("app/ipam/utils/migrations.py", "script"),
        ("lnbits/core/migrations.py", "script"),
        ("arches/app/utils/v3migration.py", "script"),
        ("tools2/migrate_users.py", "script"),
        ("app/services/account_migration.py", None),
        ("setup.py", "script"),
        ("dojo/db_migrations/0250_backfill.py", "script"),
        ("app/migrations/0001_initial.py", "script"),
        ("tenants/setup.py", None),
        ("app/views.py", None),
        ("app/testimonials.py", None),
    ],
)
def test_path_context(relpath, expected):
    assert path_context(relpath, Config()) == expected


def test_test_support_wins_over_an_entry_point():
    hit = ("view `index`", ("app.testing.views.index",))
    assert finding_context("app/testing/views.py", Config(), hit) == "test"
    assert finding_context("app/views.py", Config(), hit) == "request"
    assert finding_context("app/views.py", Config(), ("task `sync`", ("app.tasks.sync",))) == "task"
    assert finding_context("app/views.py", Config(), None) == "unknown"


@pytest.mark.parametrize(
    "confidence, context, expected",
    [("high", "request", "high"), ("high", "test", "low"), ("high", "command", "medium"), ("medium", "command", "low"), ("low", "command", "low"), ("medium", "unknown", "medium")],
)
def test_cap(confidence, context, expected):
    assert cap(confidence, context) == expected


def test_shown():
    assert shown("medium", "medium") and shown("high", "medium") and not shown("low", "medium") and shown("low", "low")


def test_test_support_code_is_left_out_by_default_and_shown_on_request():
    files = {"app/__init__.py": "", "app/testing/__init__.py": "", "app/testing/seed.py": LOOP, "app/reports.py": LOOP}
    default = lint_files(files, select=["QL101"])
    assert [(f.path, f.context, f.confidence) for f in default.findings] == [("app/reports.py", "unknown", "high")]
    assert default.hidden == 1
    everything = lint_files(files, select=["QL101"], settings={"min-confidence": "low"})
    assert sorted((f.path, f.context, f.confidence) for f in everything.findings) == [
        ("app/reports.py", "unknown", "high"),
        ("app/testing/seed.py", "test", "low"),
    ]
    assert everything.hidden == 0


def test_commands_are_medium_and_views_are_request():
    view = (
        "from flask import Flask\napp = Flask(__name__)\n@app.route('/n')\ndef n(cur, ids):\n"
        "    for i in ids:\n        cur.execute('SELECT name FROM users WHERE id = %s', (i,))\n"
    )
    files = {"app/__init__.py": "", "app/management/commands/backfill.py": LOOP, "app/views.py": view}
    assert [f.path for f in lint_files(files, select=["QL101"]).findings] == ["app/views.py"]
    got = lint_files(files, select=["QL101"], settings={"min-confidence": "medium"})
    assert sorted((f.path, f.context, f.confidence) for f in got.findings) == [
        ("app/management/commands/backfill.py", "command", "medium"),
        ("app/views.py", "request", "high"),
    ]


def test_every_format_carries_confidence_and_context():
    from querylint.report.reporters import format_github, format_gitlab, format_json, format_sarif

    result = lint_files(
        {"app/__init__.py": "", "app/management/commands/backfill.py": LOOP}, select=["QL101"], settings={"min-confidence": "medium"}
    )
    (f,) = json.loads(format_json(result))["findings"]
    assert (f["confidence"], f["context"]) == ("medium", "command")
    (res,) = json.loads(format_sarif(result))["runs"][0]["results"]
    assert res["properties"]["confidence"] == "medium" and res["properties"]["context"] == "command"
    assert "confidence: medium, context: command" in format_github(result)
    (issue,) = json.loads(format_gitlab(result))
    assert "confidence: medium, context: command" in issue["content"]["body"]


SMALL = (
    "def sync(cur, mapping, ids):\n"
    "    for key, value in read_config().items():\n"
    "        cur.execute('UPDATE settings SET value = %s WHERE key = %s', (value, key))\n"
    "    for i in ids:\n"
    "        cur.execute('SELECT name FROM users WHERE id = %s', (i,))\n"
)


def test_a_small_bounded_collection_is_one_step_less_sure():
    got = lint_files({"app/__init__.py": "", "app/sync.py": SMALL}, select=["QL101"], settings={"min-confidence": "low"})
    assert sorted((f.span.line, f.confidence) for f in got.findings) == [(3, "medium"), (5, "high")]


def test_a_command_over_a_small_collection_is_left_out_and_over_unknown_data_is_kept():
    files = {"app/__init__.py": "", "app/management/commands/sync.py": SMALL}
    everything = lint_files(files, select=["QL101"], settings={"min-confidence": "low"})
    assert sorted((f.span.line, f.confidence, f.context) for f in everything.findings) == [(3, "low", "command"), (5, "medium", "command")]
    default = lint_files(files, select=["QL101"])
    assert default.findings == [] and default.hidden == 2
    medium = lint_files(files, select=["QL101"], settings={"min-confidence": "medium"})
    assert [f.span.line for f in medium.findings] == [5] and medium.hidden == 1


def test_the_parts_of_a_parameters_text_are_not_a_small_collection():
    src = (
        "def totals(cur, ids: str, counts, **kwargs):\n"
        "    for cid in ids.split(','):\n"
        "        cur.execute('SELECT name FROM users WHERE id = %s', (cid,))\n"
        "    for key, n in counts.items():\n"
        "        cur.execute('UPDATE stock SET n = %s WHERE key = %s', (n, key))\n"
        "    for key, value in kwargs.items():\n"
        "        cur.execute('UPDATE settings SET value = %s WHERE key = %s', (value, key))\n"
        "    for part in 'a,b'.split(','):\n"
        "        cur.execute('SELECT name FROM users WHERE id = %s', (part,))\n"
    )
    got = lint_files({"app/__init__.py": "", "app/sync.py": src}, select=["QL101"], settings={"min-confidence": "low"})
    assert sorted((f.span.line, f.confidence) for f in got.findings) == [(3, "high"), (5, "medium"), (7, "medium"), (9, "medium")]
    star = "def sync(cur, **kwargs):\n    for key in kwargs:\n        cur.execute('SELECT 1 FROM t WHERE k = %s', (key,))\n"
    got = lint_files({"app/__init__.py": "", "app/star.py": star}, select=["QL101"], settings={"min-confidence": "low"})
    assert [f.confidence for f in got.findings] == ["medium"]  # keyword arguments: what one caller passed
    coerce = "def field(cur):\n    return lambda x: [cur.execute('SELECT 1 FROM t WHERE id = %s', (v,)) for v in x.split(',')]\n"
    got = lint_files({"app/__init__.py": "", "app/forms.py": coerce}, select=["QL101"], settings={"min-confidence": "low"})
    assert [f.confidence for f in got.findings] == ["medium"]


def test_a_django_cursor_left_open_with_its_result_drained_is_one_step_less_sure():
    src = (
        "from django.db import connection\n"
        "def check():\n"
        "    cursor = connection.cursor()\n"
        "    cursor.execute('SELECT id FROM t')\n"
        "    return cursor.fetchall()\n"
    )
    assert lint_files({"app.py": src}, select=["QL203"]).findings == []
    (f,) = lint_files({"app.py": src}, select=["QL203"], settings={"min-confidence": "low"}).findings
    assert f.confidence == "medium" and "cursor" in f.message
    # a view's cursor too (kitsune fixed two, but Django closes the connection at the end of the
    # request and the cursor goes with the frame): shown with ``--min-confidence medium``
    view = (
        "from django.db import connection\nfrom django.http import JsonResponse\n"
        "def schema_version(request):\n"
        "    cursor = connection.cursor()\n"
        "    cursor.execute('SELECT version FROM schema_version')\n"
        "    version = [x for x in cursor][0][0]\n"
        "    return JsonResponse({'version': version})\n"
    )
    files = {"kadmin/__init__.py": "", "kadmin/views.py": view, "kadmin/urls.py": URLS_FOR_SCHEMA_VERSION}
    assert lint_files(files, select=["QL203"]).findings == []
    (f,) = lint_files(files, select=["QL203"], settings={"min-confidence": "medium"}).findings
    assert (f.line, f.confidence, f.context) == (4, "medium", "request") and "with connection.cursor() as cursor" in (f.fix or "")
    fixed = view.replace("    cursor = connection.cursor()\n    cursor.execute('SELECT version FROM schema_version')\n    version", "    with connection.cursor() as cursor:\n        cursor.execute('SELECT version FROM schema_version')\n        version")
    assert lint_files({**files, "kadmin/views.py": fixed}, select=["QL203"], settings={"min-confidence": "low"}).findings == []


URLS_FOR_SCHEMA_VERSION = "from django.urls import path\nfrom kadmin.views import schema_version\nurlpatterns = [path('schema/', schema_version)]\n"


def test_a_django_cursor_left_open_with_its_result_read_in_part_is_reported():
    """``fetchone()`` leaves the rest of the result pending on the thread's shared connection until
    the collector closes the cursor (django-healthchecks fixed exactly this)."""
    src = (
        "from django.db import connection\n"
        "def check_database():\n"
        "    cursor = connection.cursor()\n"
        "    cursor.execute('SELECT 1')\n"
        "    row = cursor.fetchone()\n"
        "    return row[0] == 1\n"
    )
    (f,) = lint_files({"app.py": src}, select=["QL203"]).findings
    assert f.confidence == "high" and "read only in part (`cursor.fetchone()`)" in f.message
    assert "with connection.cursor() as cursor" in (f.fix or "")
    drained = src.replace("    row = cursor.fetchone()\n", "    for row in cursor:\n        pass\n    row = cursor.fetchone()\n")
    assert lint_files({"app.py": drained}, select=["QL203"]).findings == []
    closed = src.replace("    cursor = connection.cursor()\n", "    with connection.cursor() as cursor:\n").replace("\n    cursor.", "\n        cursor.").replace("\n    row", "\n        row")
    assert lint_files({"app.py": closed}, select=["QL203"], settings={"min-confidence": "low"}).findings == []


def test_a_commands_options_are_a_small_collection():
    src = (
        "def handle(cur, *args, **options):\n"
        "    for slug in options['slugs']:\n"
        "        cur.execute('SELECT id FROM projects WHERE slug = %s', (slug,))\n"
    )
    got = lint_files({"app/__init__.py": "", "app/management/commands/fix.py": src}, select=["QL101"], settings={"min-confidence": "low"})
    assert [(f.confidence, f.context) for f in got.findings] == [("low", "command")]


_VIEW = "from flask import Flask\napp = Flask(__name__)\n@app.route('/n')\ndef index():\n    return 'ok'\n"


def test_a_helper_only_tests_call_is_test_code_in_an_application():
    files = {
        "app/__init__.py": "", "app/views.py": _VIEW, "app/demo.py": LOOP,
        "tests/test_demo.py": "from app.demo import names\ndef test_report_lists_users(cur):\n    names(cur, [1, 2])\n",
    }
    everything = lint_files(files, select=["QL101"], settings={"min-confidence": "low"})
    assert [(f.path, f.context, f.confidence) for f in everything.findings] == [("app/demo.py", "test", "low")]
    assert lint_files(files, select=["QL101"]).findings == []


def test_a_function_with_a_test_named_after_it_is_the_code_under_test():
    """Only tests call ``check_database``, but ``test_check_database`` tests it: it is the project's
    code (a reusable app's function its users name in their settings), not a test helper."""
    files = {
        "app/__init__.py": "", "app/views.py": _VIEW, "app/demo.py": LOOP,
        "tests/test_demo.py": "from app.demo import names\ndef test_names_per_id(cur):\n    names(cur, [1, 2])\n",
    }
    got = lint_files(files, select=["QL101"])
    assert [(f.path, f.context, f.confidence) for f in got.findings] == [("app/demo.py", "unknown", "high")]


def test_a_helper_production_code_also_calls_stays_production():
    caller = "from app.demo import names\ndef report(cur, ids):\n    return names(cur, ids)\n"
    via_object = "def report(repo, cur, ids):\n    return repo.names(cur, ids)\n"  # untyped receiver: by name
    for other in (caller, via_object):
        files = {
            "app/__init__.py": "", "app/views.py": _VIEW, "app/demo.py": LOOP, "app/reports.py": other,
            "tests/test_demo.py": "from app.demo import names\ndef test_names(cur):\n    names(cur, [1, 2])\n",
        }
        got = lint_files(files, select=["QL101"])
        assert [(f.path, f.context) for f in got.findings] == [("app/demo.py", "unknown")], other


def test_in_a_library_tests_stand_in_for_its_users():
    files = {
        "lib/__init__.py": "", "lib/demo.py": LOOP,
        "tests/test_demo.py": "from lib.demo import names\ndef test_names(cur):\n    names(cur, [1, 2])\n",
    }
    got = lint_files(files, select=["QL101"])
    assert [(f.path, f.context, f.confidence) for f in got.findings] == [("lib/demo.py", "unknown", "high")]


def test_a_helper_production_code_imports_to_pass_on_stays_production():
    schedule = "from app.demo import names\nJOBS = [{'func': names, 'interval': 30}]\n"
    files = {
        "app/__init__.py": "", "app/views.py": _VIEW, "app/demo.py": LOOP, "app/schedule.py": schedule,
        "tests/test_demo.py": "from app.demo import names\ndef test_names(cur):\n    names(cur, [1, 2])\n",
    }
    got = lint_files(files, select=["QL101"])
    assert [(f.path, f.context) for f in got.findings] == [("app/demo.py", "unknown")]


def test_a_helper_its_module_passes_on_as_a_value_stays_production():
    jobs = LOOP + "def schedule(queue, cur):\n    queue.enqueue(names, cur, [1])\n"
    files = {
        "app/__init__.py": "", "app/views.py": _VIEW, "app/demo.py": jobs,
        "tests/test_demo.py": "from app.demo import names\ndef test_names(cur):\n    names(cur, [1, 2])\n",
    }
    got = lint_files(files, select=["QL101"])
    assert [(f.path, f.context) for f in got.findings] == [("app/demo.py", "unknown")]


def test_a_leak_in_a_command_is_repaired_when_the_process_exits():
    assert cap("high", "command", released_at_exit=True) == "low"
    assert cap("high", "request", released_at_exit=True) == "high"
    leak = "import psycopg2\ndef run(dsn):\n    conn = psycopg2.connect(dsn)\n    conn.cursor().execute('SELECT 1')\n"
    files = {"app/__init__.py": "", "app/management/commands/ping.py": leak, "app/jobs.py": leak}
    got = lint_files(files, select=["QL203"], settings={"min-confidence": "low"}).findings
    assert sorted((f.path, f.context, f.confidence) for f in got) == [
        ("app/jobs.py", "unknown", "high"),
        ("app/management/commands/ping.py", "command", "low"),
    ]


def test_a_helper_production_code_hands_out_as_an_attribute_stays_production():
    pick = "from app import demo\ndef method_for(name):\n    if name == 'names':\n        return demo.names\n"
    files = {
        "app/__init__.py": "", "app/views.py": _VIEW, "app/demo.py": LOOP, "app/dispatch.py": pick,
        "tests/test_demo.py": "from app.demo import names\ndef test_names(cur):\n    names(cur, [1, 2])\n",
    }
    got = lint_files(files, select=["QL101"])
    assert [(f.path, f.context) for f in got.findings] == [("app/demo.py", "unknown")]


def test_a_task_keeps_the_rules_confidence_a_command_is_one_step_less():
    assert cap("high", "task") == "high"
    assert cap("high", "request") == "high"
    assert cap("high", "command") == "medium"
    assert cap("high", "command", released_at_exit=True) == "low"
    assert cap("high", "test") == "low"


def test_a_short_literal_slice_is_a_small_collection():
    src = (
        "def latest(cur, rows, offset):\n"
        "    for r in rows[:6]:\n"
        "        cur.execute('SELECT name FROM users WHERE id = %s', (r,))\n"
        "    for r in rows[offset:offset + 50]:\n"
        "        cur.execute('SELECT name FROM users WHERE id = %s', (r,))\n"
        "    for r in rows[:500]:\n"
        "        cur.execute('SELECT name FROM users WHERE id = %s', (r,))\n"
    )
    got = lint_files({"app/__init__.py": "", "app/sync.py": src}, select=["QL101"], settings={"min-confidence": "low"})
    assert sorted((f.span.line, f.confidence) for f in got.findings) == [(3, "medium"), (5, "high"), (7, "high")]


def test_a_root_level_file_run_as_main_that_nothing_imports_is_a_script():
    script = LOOP + "\n\nif __name__ == '__main__':\n    main()\n"
    files = {"slides_to_json.py": script, "app/__init__.py": "", "app/reports.py": LOOP}
    got = lint_files(files, select=["QL101"], settings={"min-confidence": "low"}).findings
    assert sorted((f.path, f.context) for f in got) == [("app/reports.py", "unknown"), ("slides_to_json.py", "script")]
    # imported by the application: production code that can also run by hand
    imported = {**files, "app/jobs.py": "import slides_to_json\n"}
    got = lint_files(imported, select=["QL101"], settings={"min-confidence": "low"}).findings
    assert ("slides_to_json.py", "unknown") in [(f.path, f.context) for f in got]
    # a module inside a package keeps its context (``python -m workers.gc`` runs in production)
    inside = {"app/__init__.py": "", "app/worker.py": script}
    assert [f.context for f in lint_files(inside, select=["QL101"], settings={"min-confidence": "low"}).findings] == ["unknown"]
    # a folder that is not a package holds scripts too (pyIEM's ``util/``), unless imported
    folder = {"util/backfill_stations.py": script, "util/common.py": LOOP, "app/__init__.py": ""}
    got = lint_files(folder, select=["QL101"], settings={"min-confidence": "low"}).findings
    assert sorted((f.path, f.context) for f in got) == [("util/backfill_stations.py", "script"), ("util/common.py", "unknown")]
    imported = {**folder, "util/other.py": "from backfill_stations import names\n"}
    got = lint_files(imported, select=["QL101"], settings={"min-confidence": "low"}).findings
    assert ("util/backfill_stations.py", "unknown") in [(f.path, f.context) for f in got]


def test_a_parameter_every_caller_passes_a_literal_list_for_is_a_constant_collection():
    # pontoon signals: ``assign_group_permissions(instance, "translators", ["can_translate"])``
    helper = (
        "def grant(cur, names):\n    for name in names:\n"
        "        cur.execute('SELECT id FROM perms WHERE name = %s', (name,))\n"
    )
    view = (
        "from flask import Flask\nfrom app.perms import grant\napp = Flask(__name__)\n"
        "@app.route('/a')\ndef a(cur):\n    grant(cur, ['view', 'change'])\n"
        "@app.route('/b')\ndef b(cur):\n    grant(cur, ('view',))\n"
    )
    files = {"app/__init__.py": "", "app/perms.py": helper, "app/views.py": view}
    assert lint_files(files, select=["QL101"], settings={"min-confidence": "low"}).findings == []
    from_request = view + "@app.route('/c')\ndef c(cur, request):\n    grant(cur, request.json['names'])\n"
    got = lint_files({**files, "app/views.py": from_request}, select=["QL101"], settings={"min-confidence": "low"}).findings
    assert [(f.path, f.line) for f in got] == [("app/perms.py", 3)]


def test_a_module_of_a_scripts_folder_that_the_program_imports_is_the_programs_code():
    leak = "import sqlite3\ndef probe(path):\n    db = sqlite3.connect(path)\n    return db.execute('SELECT 1').fetchone()\n"
    files = {
        "scripts/ilapfuncs.py": leak,  # the program's helpers (RLEAPP keeps its package in ``scripts/``)
        "scripts/backfill.py": leak,  # a one-off script nothing imports
        "scripts/artifacts/chats.py": "from scripts.ilapfuncs import probe\n",
        "tools/fix_dates.py": leak,
        "tools/run_fix.py": "from tools.fix_dates import probe\n",  # imported only by another script
        "main.py": "from scripts.ilapfuncs import *\n\nif __name__ == '__main__':\n    pass\n",
    }
    got = lint_files(files, select=["QL203"], settings={"min-confidence": "low"}).findings
    assert sorted((f.path, f.context, f.confidence) for f in got) == [
        ("scripts/backfill.py", "script", "low"),
        ("scripts/ilapfuncs.py", "unknown", "high"),
        ("tools/fix_dates.py", "script", "low"),
    ]


def test_a_tools_subpackage_of_the_projects_package_is_library_code():
    # pmat: ``prediction_market_agent_tooling/tools/db/db_manager.py`` (a namespace package: no
    # ``__init__.py``), imported by the package's other tools modules
    leak = "import sqlite3\ndef probe(path):\n    db = sqlite3.connect(path)\n    return db.execute('SELECT 1').fetchone()\n"
    files = {
        "pkg/tools/db/manager.py": leak,
        "pkg/tools/caches.py": "from pkg.tools.db.manager import probe\n",
        "lib/__init__.py": "",
        "lib/tools/__init__.py": "",
        "lib/tools/store.py": leak,  # a regular subpackage: nothing need import it
        "app/scripts/cleanup.py": leak,  # a django-extensions runscript folder stays scripts
        "app/tools/once.py": leak,  # a folder of scripts in a non-package folder, never imported
    }
    got = lint_files(files, select=["QL203"], settings={"min-confidence": "low"}).findings
    assert sorted((f.path, f.context, f.confidence) for f in got) == [
        ("app/scripts/cleanup.py", "script", "low"),
        ("app/tools/once.py", "script", "low"),
        ("lib/tools/store.py", "unknown", "high"),
        ("pkg/tools/db/manager.py", "unknown", "high"),
    ]


_WORKER = '''\
from sqlalchemy import create_engine, text


def purge(url):
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM events WHERE old"))


def main():
    running = True
    while running:
        try:
            purge("postgresql://db/app")
        except Exception:
            running = False


if __name__ == "__main__":
    main()
'''

_PAGING = _WORKER.replace(
    "    running = True\n    while running:\n        try:\n            purge(\"postgresql://db/app\")\n        except Exception:\n            running = False\n",
    "    pages = 3\n    while pages:\n        purge(\"postgresql://db/app\")\n        pages = pages - 1\n",
)


def test_a_worker_run_as_a_script_keeps_its_confidence_a_script_that_ends_is_one_off():
    # ``python worker.py`` whose loop only an exception ends runs for the life of the process:
    # an engine per pass is a leak that grows, not a one-off script's cost
    worker = lint_files({"workers/purge/worker.py": _WORKER}, select=["QL202"], settings={"min-confidence": "low"})
    assert [(f.line, f.context, f.confidence) for f in worker.findings] == [(5, "unknown", "high")]
    paging = lint_files({"workers/purge/worker.py": _PAGING}, select=["QL202"], settings={"min-confidence": "low"})
    assert [(f.line, f.context, f.confidence) for f in paging.findings] == [(5, "script", "medium")]
    forever = _WORKER.replace("running = True\n    while running:", "while True:").replace("running = False", "raise")
    assert [f.context for f in lint_files({"w.py": forever}, select=["QL202"], settings={"min-confidence": "low"}).findings] == ["unknown"]
