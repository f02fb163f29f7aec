"""``[tool.querylint]`` → a validated, frozen :class:`Config`.

Pure functions: :func:`config_from_dict` takes the TOML table and never touches the disk, so it
can be tested with plain dicts. :func:`load_config` finds and reads the file.
"""
from __future__ import annotations

import difflib
import fnmatch
import functools
import re
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

from querylint.templates.files import TEMPLATE_FOLDERS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.9/3.10 only
    import tomli as tomllib

CODE_RE = re.compile(r"^(ALL|QL\d{0,3})$")
DEFAULT_EXCLUDE = (
    ".git", ".hg", ".svn", ".venv", "venv", ".env", "env", ".tox", ".nox", "node_modules",
    "build", "dist", "__pycache__", ".eggs", "*.egg-info", ".mypy_cache", ".pytest_cache",
    ".ruff_cache", ".querylint_cache", "site-packages",
)
SQL_DIALECTS = (
    "postgres", "mysql", "sqlite", "tsql", "oracle", "bigquery", "snowflake", "duckdb",
    "redshift", "trino", "presto", "spark", "databricks", "clickhouse", "mariadb",
)


class ConfigError(Exception):
    """A configuration problem: names the file, the key, the bad value and the expected form."""


@dataclass(frozen=True)
class Config:
    # rule selection (None = the rules' defaults)
    select: Optional[Tuple[str, ...]] = None
    extend_select: Tuple[str, ...] = ()
    ignore: Tuple[str, ...] = ()
    preview: bool = False
    # files
    exclude: Tuple[str, ...] = DEFAULT_EXCLUDE
    extend_exclude: Tuple[str, ...] = ()
    per_file_ignores: Tuple[Tuple[str, Tuple[str, ...]], ...] = ()
    include_pyi: bool = False
    respect_gitignore: bool = True
    # folder names that hold templates, beside ``templates`` and ``jinja2`` (a ``DIRS`` entry or
    # Flask's ``template_folder`` named otherwise)
    extend_template_folders: Tuple[str, ...] = ()
    # where per-item or per-request judgements are relaxed
    exclude_migrations: bool = True
    migration_globs: Tuple[str, ...] = ("*/migrations/*.py", "*migrations/[0-9][0-9][0-9][0-9]_*.py", "*/versions/*.py", "*/alembic/*.py")
    exclude_tests: bool = True
    test_globs: Tuple[str, ...] = ("test_*.py", "*_test.py", "*/tests/*.py", "*/test/*.py", "*/tests.py", "conftest.py", "*/regression/*.py")
    # family settings
    sql_dialect: Optional[str] = None
    query_functions: Tuple[str, ...] = ()
    sql_functions: Tuple[str, ...] = ()
    request_decorators: Tuple[str, ...] = ()
    request_base_classes: Tuple[str, ...] = ()
    task_decorators: Tuple[str, ...] = ()
    startup_functions: Tuple[str, ...] = ()
    # reporting
    report_unused_suppressions: bool = False
    # findings below this confidence are left out of the output (querylint/project/contexts.py)
    min_confidence: str = "high"
    # the query-cost report's budgets: (route, view name or qualified name; the most it may cost)
    report_budgets: Tuple[Tuple[str, str], ...] = ()
    # where the config came from (for messages); not a key
    source: Optional[str] = field(default=None, compare=False)
    root: Optional[str] = field(default=None, compare=False)
    # options declared by plugin rules: {"rule-code.option" or option key: value}
    rule_options: Tuple[Tuple[str, Any], ...] = ()

    @property
    def template_folders(self) -> Tuple[str, ...]:
        """The folder names whose files with a template suffix are templates."""
        return TEMPLATE_FOLDERS + self.extend_template_folders

    def option(self, key: str, default: Any = None) -> Any:
        return dict(self.rule_options).get(key, default)

    def ignores_for(self, relpath: str) -> Tuple[str, ...]:
        """Codes ignored for one file by ``per-file-ignores``."""
        out: List[str] = []
        for pattern, codes in self.per_file_ignores:
            if path_matches(relpath, pattern):
                out.extend(codes)
        return tuple(out)

    def is_migration(self, relpath: str) -> bool:
        return any(path_matches(relpath, g) for g in self.migration_globs)

    def is_test(self, relpath: str) -> bool:
        return any(path_matches(relpath, g) for g in self.test_globs)

    def left_out(self, relpath: str) -> bool:
        """A migration or a test file the lint skips (``exclude-migrations``, ``exclude-tests``)."""
        return (self.exclude_migrations and self.is_migration(relpath)) or (self.exclude_tests and self.is_test(relpath))


@functools.lru_cache(maxsize=1 << 16)
def path_matches(relpath: str, pattern: str) -> bool:
    """Glob match of a posix relative path; a pattern without '/' also matches any path part.
    Memoised: the context of every finding and function asks again for the same few paths."""
    relpath = relpath.replace("\\", "/")
    if fnmatch.fnmatchcase(relpath, pattern) or fnmatch.fnmatchcase("./" + relpath, pattern):
        return True
    if pattern.startswith("*/") and fnmatch.fnmatchcase(relpath, pattern[2:]):
        return True
    if "/" not in pattern.rstrip("/"):
        return any(fnmatch.fnmatchcase(part, pattern.rstrip("/")) for part in relpath.split("/"))
    return False


# --------------------------------------------------------------------------- validation

_LIST = "a list of strings"
_CODES = 'a list of rule codes or prefixes like "QL101" or "QL1"'

# key -> (attribute, kind, expected description)
_KEYS: Dict[str, Tuple[str, str, str]] = {
    "select": ("select", "codes", _CODES),
    "extend-select": ("extend_select", "codes", _CODES),
    "ignore": ("ignore", "codes", _CODES),
    "preview": ("preview", "bool", "true or false"),
    "exclude": ("exclude", "globs", "a list of glob patterns"),
    "extend-exclude": ("extend_exclude", "globs", "a list of glob patterns"),
    "per-file-ignores": ("per_file_ignores", "pfi", 'a table of glob = ["QL101", ...]'),
    "include-pyi": ("include_pyi", "bool", "true or false"),
    "respect-gitignore": ("respect_gitignore", "bool", "true or false"),
    "extend-template-folders": ("extend_template_folders", "folders", 'a list of folder names like "tpl"'),
    "exclude-migrations": ("exclude_migrations", "bool", "true or false"),
    "migration-globs": ("migration_globs", "globs", "a list of glob patterns"),
    "exclude-tests": ("exclude_tests", "bool", "true or false"),
    "test-globs": ("test_globs", "globs", "a list of glob patterns"),
    "sql-dialect": ("sql_dialect", "dialect", "one of " + ", ".join(SQL_DIALECTS)),
    "query-functions": ("query_functions", "dotted", 'a list of dotted names like "myapp.db.run_query"'),
    "sql-functions": ("sql_functions", "dotted", 'a list of dotted names like "myapp.db.run_sql"'),
    "request-decorators": ("request_decorators", "dotted", 'a list of dotted names like "myapp.api.endpoint"'),
    "request-base-classes": ("request_base_classes", "dotted", 'a list of dotted names like "myapp.views.BaseView"'),
    "task-decorators": ("task_decorators", "dotted", 'a list of dotted names like "myapp.tasks.job"'),
    "startup-functions": ("startup_functions", "dotted", 'a list of dotted names like "myapp.app.create_app"'),
    "report-unused-suppressions": ("report_unused_suppressions", "bool", "true or false"),
    "min-confidence": ("min_confidence", "confidence", 'one of "low", "medium", "high"'),
    "report": ("report_budgets", "report", 'a table with budgets = { "route or view" = "O(1)" }'),
}
COSTS = ("O(1)", "O(N)", "O(N^2)", "O(N^3)")
_DOTTED_RE = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_*][\w]*)*$")


def _where(source: Optional[str], key: str) -> str:
    return f"{source or 'configuration'}: [tool.querylint] {key}"


def _check_list(value: Any, source: Optional[str], key: str, expected: str) -> Tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{_where(source, key)}: expected {expected}, got {_describe(value)}")
    return tuple(value)


def _describe(value: Any) -> str:
    kind = {str: "the string", bool: "the boolean", int: "the integer", float: "the number",
            list: "the list", dict: "a table"}.get(type(value), type(value).__name__)
    if isinstance(value, dict):
        return "a table"
    return f"{kind} {value!r}"


def check_codes(codes: Iterable[str], source: Optional[str], key: str) -> Tuple[str, ...]:
    out = []
    for code in codes:
        norm = code.strip().upper()
        if not CODE_RE.match(norm):
            raise ConfigError(
                f'{_where(source, key)}: expected {_CODES}, got {code!r}'
            )
        out.append(norm)
    return tuple(out)


def _check_glob(pattern: str, source: Optional[str], key: str) -> str:
    if not pattern or pattern.count("[") != pattern.count("]"):
        raise ConfigError(f"{_where(source, key)}: expected a glob pattern, got {pattern!r} (unbalanced brackets or empty)")
    return pattern


def config_from_dict(
    table: Mapping[str, Any],
    source: Optional[str] = None,
    root: Optional[str] = None,
    rule_option_keys: Mapping[str, Tuple[type, str]] = {},
) -> Config:
    """Validate a ``[tool.querylint]`` table. Raises :class:`ConfigError` naming the bad key."""
    if not isinstance(table, Mapping):
        raise ConfigError(f"{source or 'configuration'}: [tool.querylint] must be a table, got {_describe(table)}")
    values: Dict[str, Any] = {}
    rule_options = []
    for key, value in table.items():
        if key in rule_option_keys:
            typ, expected = rule_option_keys[key]
            if not isinstance(value, typ) or (typ is int and isinstance(value, bool)):
                raise ConfigError(f"{_where(source, key)}: expected {expected}, got {_describe(value)}")
            rule_options.append((key, tuple(value) if isinstance(value, list) else value))
            continue
        spec = _KEYS.get(key) or _KEYS.get(key.replace("_", "-"))
        if spec is None:
            known = list(_KEYS) + list(rule_option_keys)
            near = difflib.get_close_matches(key, known, n=1)
            hint = f"; did you mean {near[0]!r}?" if near else f"; known keys: {', '.join(sorted(known))}"
            raise ConfigError(f"{_where(source, key)}: unknown key{hint}")
        attr, kind, expected = spec
        if kind == "bool":
            if not isinstance(value, bool):
                raise ConfigError(f"{_where(source, key)}: expected {expected}, got {_describe(value)}")
            values[attr] = value
        elif kind == "codes":
            values[attr] = check_codes(_check_list(value, source, key, expected), source, key)
        elif kind == "globs":
            values[attr] = tuple(_check_glob(p, source, key) for p in _check_list(value, source, key, expected))
        elif kind == "folders":
            items = _check_list(value, source, key, expected)
            for item in items:
                if not item or "/" in item or "\\" in item or item in (".", ".."):
                    raise ConfigError(f"{_where(source, key)}: expected {expected}, got {item!r}")
            values[attr] = items
        elif kind == "dotted":
            items = _check_list(value, source, key, expected)
            for item in items:
                if not _DOTTED_RE.match(item):
                    raise ConfigError(f"{_where(source, key)}: expected {expected}, got {item!r}")
            values[attr] = items
        elif kind == "confidence":
            if not isinstance(value, str) or value.lower() not in ("low", "medium", "high"):
                raise ConfigError(f"{_where(source, key)}: expected {expected}, got {_describe(value)}")
            values[attr] = value.lower()
        elif kind == "dialect":
            if not isinstance(value, str) or value.lower() not in SQL_DIALECTS:
                raise ConfigError(f"{_where(source, key)}: expected {expected}, got {_describe(value)}")
            values[attr] = value.lower()
        elif kind == "report":
            values[attr] = _report_budgets(value, source, key, expected)
        elif kind == "pfi":
            if not isinstance(value, Mapping):
                raise ConfigError(f"{_where(source, key)}: expected {expected}, got {_describe(value)}")
            pairs = []
            for glob, codes in value.items():
                sub = f"{key}.{glob!r}"
                codes = check_codes(_check_list(codes, source, sub, _CODES), source, sub)
                pairs.append((_check_glob(glob, source, sub), codes))
            values[attr] = tuple(pairs)
    return Config(source=source, root=root, rule_options=tuple(rule_options), **values)


def _report_budgets(value: Any, source: Optional[str], key: str, expected: str) -> Tuple[Tuple[str, str], ...]:
    """``[tool.querylint.report] budgets = { "POST /checkout/" = "O(1)" }``: the most each endpoint
    (by route, view name or qualified name) may cost."""
    if not isinstance(value, Mapping):
        raise ConfigError(f"{_where(source, key)}: expected {expected}, got {_describe(value)}")
    for sub in value:
        if sub != "budgets":
            raise ConfigError(f"{_where(source, f'{key}.{sub}')}: unknown key; known keys: budgets")
    budgets = value.get("budgets", {})
    if not isinstance(budgets, Mapping):
        raise ConfigError(f"{_where(source, f'{key}.budgets')}: expected a table of \"route or view\" = \"O(1)\", got {_describe(budgets)}")
    out = []
    for endpoint, cost in budgets.items():
        if not isinstance(cost, str) or cost.replace(" ", "") not in COSTS:
            raise ConfigError(f"{_where(source, f'{key}.budgets.{endpoint!r}')}: expected one of {', '.join(COSTS)}, got {_describe(cost)}")
        out.append((endpoint, cost.replace(" ", "")))
    return tuple(out)


def merge_cli(config: Config, **overrides: Any) -> Config:
    """CLI flags override the file (and nothing else does). ``None`` means 'not given'."""
    given = {k: v for k, v in overrides.items() if v is not None}
    for k in ("select", "extend_select", "ignore"):
        if k in given:
            given[k] = check_codes(given[k], "command line", "--" + k.replace("_", "-"))
    if "extend_select" in given:
        given["extend_select"] = config.extend_select + given["extend_select"]
    if "ignore" in given:
        given["ignore"] = config.ignore + given["ignore"]
    return replace(config, **given)


# --------------------------------------------------------------------------- files

# a packaging file, a checkout, or what an application without packaging keeps at its root
# (its requirements, Pipfile, Django's manage.py): its packages import each other from there
ROOT_MARKERS = ("pyproject.toml", "setup.cfg", "setup.py", ".git", "requirements.txt", "Pipfile", "manage.py")


def is_project_root(folder: Path) -> bool:
    """The folder holds a project marker (:data:`ROOT_MARKERS`)."""
    return any((folder / marker).exists() for marker in ROOT_MARKERS)


def find_project_root(paths: Iterable[Path]) -> Path:
    """The nearest folder above the common ancestor of ``paths`` holding a root marker; without
    one, the folder above the outermost package (``__init__.py``) around the common ancestor, so
    that module names are the ones the code imports (``redash.models``, not ``models``)."""
    resolved = [_resolve(p) for p in paths] or [Path.cwd().resolve()]
    common = Path(_common_path(resolved))
    if common.is_file():
        common = common.parent
    for folder in [common, *common.parents]:
        if is_project_root(folder):
            return folder
    return package_root(common)


def package_root(folder: Path) -> Path:
    """``folder``, or the parent of the outermost package that holds it."""
    while (folder / "__init__.py").is_file() and folder.parent != folder:
        folder = folder.parent
    return folder


def _resolve(p: Path) -> Path:
    try:
        return p.resolve()
    except (OSError, RuntimeError):  # a symlink loop (Python < 3.13 raises)
        import os

        return Path(os.path.abspath(p))


def _common_path(paths):
    import os

    try:
        return os.path.commonpath([str(p) for p in paths])
    except ValueError:
        return str(paths[0])


def find_config_file(paths: Iterable[Path]) -> Optional[Path]:
    """The nearest pyproject.toml above the paths that has a [tool.querylint] table, else the nearest one."""
    resolved = [_resolve(p) for p in paths] or [Path.cwd().resolve()]
    start = Path(_common_path(resolved))
    if start.is_file():
        start = start.parent
    first = None
    for folder in [start, *start.parents]:
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            if first is None:
                first = candidate
            try:
                text = candidate.read_text(encoding="utf-8", errors="replace")  # load_config reports bad bytes
            except OSError:
                continue
            if "[tool.querylint" in text:
                return candidate
            if folder != start and (folder / ".git").exists():
                break
    return first


def load_config(
    path: Optional[Path],
    rule_option_keys: Mapping[str, Tuple[type, str]] = {},
    explicit: bool = False,
) -> Config:
    """Read ``[tool.querylint]`` from ``path`` (a pyproject.toml, or with ``explicit`` any TOML file)."""
    if path is None:
        return Config()
    source = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read the configuration file: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{source}: the configuration file is not UTF-8: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: invalid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{source}: invalid TOML: arrays or tables nested too deeply") from None
    table = data.get("tool", {}).get("querylint") if isinstance(data.get("tool"), dict) else None
    if table is None and explicit and path.name != "pyproject.toml":
        # a standalone querylint.toml may hold the keys at the top level
        table = data.get("querylint", data)
    return config_from_dict(table or {}, source=source, root=str(path.parent), rule_option_keys=rule_option_keys)
