"""The public entry point: lint paths with a configuration. Never prints, never exits."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from querylint import __version__
from querylint.config import Config, ConfigError
from querylint.discovery import _rel, discover, display_path
from querylint.engine import ParsedFile, collect_queries, lint_file, parse_file
from querylint.index import ProjectIndex
from querylint.plugins import Registry, load_registry, select_rules, unknown_codes
from querylint.types import FileError, Finding


@dataclass
class LintResult:
    findings: List[Finding] = field(default_factory=list)
    errors: List[FileError] = field(default_factory=list)
    suppressed: List[Finding] = field(default_factory=list)
    files: int = 0
    skipped: int = 0
    rules: List[str] = field(default_factory=list)

    @property
    def internal_errors(self) -> List[FileError]:
        return [e for e in self.errors if e.kind in ("internal", "plugin")]

    def summary(self) -> Dict[str, object]:
        by_rule: Dict[str, int] = {}
        for f in self.findings:
            by_rule[f.rule] = by_rule.get(f.rule, 0) + 1
        return {
            "files": self.files,
            "skipped": self.skipped,
            "findings": len(self.findings),
            "errors": len(self.errors),
            "suppressed": len(self.suppressed),
            "by_rule": dict(sorted(by_rule.items())),
        }

    @property
    def exit_code(self) -> int:
        if self.internal_errors:
            return 2
        return 1 if (self.findings or self.errors) else 0


def check_selection(registry: Registry, config: Config) -> None:
    for key, codes in (("select", config.select or ()), ("extend-select", config.extend_select), ("ignore", config.ignore)):
        bad = unknown_codes(registry, codes)
        if bad:
            raise ConfigError(
                f"{config.source or 'configuration'}: [tool.querylint] {key}: unknown rule code or prefix "
                f"{', '.join(repr(b) for b in bad)}; expected codes like \"QL101\" (see `querylint --list-rules`)"
            )


def lint_paths(
    paths: Sequence[Path],
    config: Config,
    root: Path,
    registry: Optional[Registry] = None,
    cwd: Optional[Path] = None,
) -> LintResult:
    registry = registry or load_registry()
    cwd = cwd or Path.cwd()
    root = root.resolve()
    rules = select_rules(registry, config.select, config.extend_select, config.ignore, config.preview)
    result = LintResult(rules=[r.code for r in rules])
    for label, message in registry.plugin_errors:
        result.errors.append(FileError(label, None, f"plugin failed to load and was skipped: {message}", "plugin"))

    targets, problems = discover(paths, config, root)
    for p, reason in problems:
        result.errors.append(FileError(display_path(p, cwd), None, reason, "read"))

    # The index covers the whole project root, even when only some files are linted (pre-commit).
    index_files = list(targets)
    target_keys = {p.resolve() for p in targets}
    if all(_under(p, root) for p in target_keys):
        project_files, _ = discover([root], config, root)
        for p in project_files:
            if p.resolve() not in target_keys:
                index_files.append(p)

    parsed: Dict[Path, ParsedFile] = {}
    for p in index_files:
        key = p.resolve()
        parsed[key] = parse_file(p, _rel(p, root), display_path(p, cwd))

    index = ProjectIndex(pf.facts for pf in parsed.values() if pf.facts is not None)
    detectors = registry.detectors
    queries: Dict[str, List[str]] = {}
    for key, pf in parsed.items():
        if pf.facts is None or not _may_query(pf):
            continue
        found, errs = collect_queries(pf, index, config, detectors)
        queries.update(found)
        if key in target_keys:
            result.errors.extend(errs)
    index.set_direct_queries(queries)

    for p in targets:
        pf = parsed[p.resolve()]
        if pf.error is None and (
            (config.exclude_migrations and config.is_migration(pf.relpath))
            or (config.exclude_tests and config.is_test(pf.relpath))
        ):
            result.skipped += 1
            continue
        res = lint_file(pf, index, config, rules)
        result.files += 1
        result.findings.extend(res.findings)
        result.suppressed.extend(res.suppressed)
        result.errors.extend(res.errors)

    result.findings.sort(key=Finding.sort_key)
    result.suppressed.sort(key=Finding.sort_key)
    result.errors.sort(key=FileError.sort_key)
    return result


def _under(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
        return True
    except ValueError:
        return False


def _may_query(pf: ParsedFile) -> bool:
    """Cheap text test: can this file contain a query site at all? (skips most of a big project)"""
    return bool(pf.facts.functions)


def version_string() -> str:
    return f"querylint {__version__}"
