"""Where a finding's code runs, and how sure querylint is that it is worth acting on.

``context`` is one of: ``request`` (a view, route, serializer, middleware, or what they call),
``task`` (a Celery-style job), ``command`` (a management command or CLI), ``script`` (a one-off
script), ``test`` (tests, test support, fixtures, factories, development seed data) and
``unknown``. It is decided from the project index (request/task entry points reach the function)
and from the file's path.

``confidence`` is ``high``, ``medium`` or ``low``. A rule may report with less than high when
its evidence is weak, and an N+1 over a small bounded collection (a dict's items, keyword
arguments, a string's matches, a model's fields) or beside slow external work per item is one
step less sure; test and seed code (and, in an application, what only tests call) is
``low`` (not a production path); a command or script is one step less sure (so a one-off
command over a small collection is ``low``, over a whole table ``medium``). The default output
shows ``high`` only (``min-confidence`` in the config, ``--min-confidence`` on the command
line): what is worth acting on.

Pure: no I/O, no rule imports.
"""
from __future__ import annotations

import functools

from typing import Optional, Tuple

from querylint.run.config import Config, path_matches

CONTEXTS = ("request", "task", "command", "script", "test", "unknown")
CONFIDENCES = ("low", "medium", "high")

# Test support and development data: not production paths even when not named like tests.
SUPPORT_GLOBS = (
    "*/testing/*", "*/testutils/*", "*/test_utils/*", "fixtures.py", "*/factories/*", "factories.py",
    "*/factories.py", "populate*.py", "*random_data*.py", "seed*.py", "*/seed/*", "*/seeds/*", "loaddata.py",
    "*/example_*/*", "*/examples/*", "*/demo/*", "*/demodata/*", "*/sample_data/*",
    "dev-data*.py", "dev_data*.py", "*/dev_data/*", "*fake_data*.py", "*dummy_data*.py", "*/create_test_*.py",
    "*setup_test_data*.py", "*/mock/*", "*/mocks/*", "*_mock/*",  # galaxy_ng's dev seeding and mock GitHub server
)
COMMAND_GLOBS = ("*/management/commands/*.py", "*/cli/*", "cli.py", "*/cli.py", "*/commands/*.py", "manage.py")
# folders of scripts: a module there that the program imports is the program's code (RLEAPP's
# ``scripts/`` package), not a one-off script
SCRIPT_FOLDER_GLOBS = ("*/scripts/*", "scripts/*", "*/bin/*", "bin/*", "*/tools/*", "tools/*")
# one-off code wherever it is imported from: fixes, backfills, data migrations
ONE_OFF_GLOBS = (
    "*/contrib/scripts/*",
    "*/db/fixes/*", "*/data_fixes/*", "*/backfills/*", "*/data_migrations/*", "*_migrations/*",  # kpi's long_running_migrations/jobs/
    # data-migration modules run once at upgrade: ``core/migrations.py``, ``utils/v3migration.py``
    "migrations.py", "v[0-9]*migration*.py", "migrate_*.py",
)
SCRIPT_GLOBS = SCRIPT_FOLDER_GLOBS + ONE_OFF_GLOBS


@functools.lru_cache(maxsize=1 << 16)
def path_context(relpath: str, config: Config) -> Optional[str]:
    """The context a file's path alone says (test support, command, script), else None.
    Memoised per file: every finding and every function on a call path asks again."""
    if config.is_test(relpath) or any(path_matches(relpath, g) for g in SUPPORT_GLOBS):
        return "test"
    if any(path_matches(relpath, g) for g in COMMAND_GLOBS):
        return "command"
    if relpath == "setup.py" or config.is_migration(relpath) or any(path_matches(relpath, g) for g in SCRIPT_GLOBS):
        return "script"  # the packaging ``setup.py`` at the root (``tenants/setup.py`` is a module)
    return None


def entry_context(hit: Optional[Tuple[str, Tuple[str, ...]]]) -> Optional[str]:
    """``request`` / ``task`` from a request-context hit (entry description, call path)."""
    if hit is None:
        return None
    return "task" if hit[0].startswith("task") else "request"


def in_scripts_folder(relpath: str, config: Config) -> bool:
    """A script only because it sits in a folder of scripts (``scripts/``, ``tools/``, ``bin/``):
    when the program imports it, it is a library module of the program, not a one-off script."""
    return path_context(relpath, config) == "script" and any(path_matches(relpath, g) for g in SCRIPT_FOLDER_GLOBS) \
        and not any(path_matches(relpath, g) for g in ONE_OFF_GLOBS)


def finding_context(
    relpath: str, config: Config, hit, only_tests_call: bool = False, standalone_script: bool = False, offline: Optional[str] = None,
    program_module: bool = False,
) -> str:
    """Test support wins (a view in a test helper is still test code); then an entry point that
    reaches the function; then a function only tests reach (a test helper kept beside the code);
    then what the path says (unless the file is a ``program_module``: a module of a scripts
    folder that the program imports); then what only commands or scripts call (``offline``: a
    backfill helper), or a standalone script (a root-level file run as ``__main__`` that nothing
    imports); else unknown."""
    by_path = path_context(relpath, config)
    if by_path == "test":
        return "test"
    if by_path == "script" and program_module:
        by_path = None
    if only_tests_call and hit is None:
        return "test"
    return entry_context(hit) or by_path or offline or ("script" if standalone_script else None) or "unknown"


def lower(confidence: str) -> str:
    """One step less sure."""
    return CONFIDENCES[max(0, CONFIDENCES.index(confidence) - 1)]


def cap(confidence: str, context: str, released_at_exit: bool = False, one_off_too: bool = False) -> str:
    """The rule's confidence, adjusted for where the code runs: test and seed code is ``low``; a
    command or script is one step less (a one-off run: shown with ``--min-confidence medium``),
    and ``low`` for a leak the end of the process repairs (a connection a command never closes).
    A background task keeps the rule's confidence: its queries per row load the same database
    that serves the requests, and real projects fix them. ``one_off_too``: a problem that is not
    one of cost (an injection risk) is as sure in a command (run again and again, often with
    arguments), though not in a one-off script or migration."""
    if context == "test" or (released_at_exit and context in ("command", "script")):
        return "low"
    if context == "script" or (context == "command" and not one_off_too):
        return lower(confidence)
    return confidence


def shown(confidence: str, minimum: str) -> bool:
    return CONFIDENCES.index(confidence) >= CONFIDENCES.index(minimum)
