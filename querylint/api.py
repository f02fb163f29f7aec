"""The public entry point: lint paths with a configuration. Never prints, never exits."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Dict, Optional, Sequence, Tuple, Type, cast

from querylint import __version__
from querylint.run.config import Config, ConfigError
from querylint.run.cache import Cache, digest, settings_digest
from querylint.run.discovery import discover, display_path
from querylint.result import UNUSED_INFO, UNUSED_SUPPRESSION, LintResult, RuleInfo, by_confidence, finish
from querylint.run.catalogue import Catalogue
from querylint.run.files import RunFiles, entries_of, from_cache, shard_targets, template_hashes
from querylint.run.progress import Progress
from querylint.plugins import Known, Registry, load_registry, select_rules, unknown_codes
from querylint.types import FileError

if TYPE_CHECKING:  # pragma: no cover
    from querylint.rule import Rule


def rule_info(rule: Type[Rule]) -> RuleInfo:
    return RuleInfo(rule.code, rule.name, rule.severity, rule.summary(), rule.documentation())


def check_selection(registry: Known, config: Config) -> None:
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
    cache_dir: Optional[Path] = None,
    jobs: int = 1,
    progress: Optional[Progress] = None,
    shard: Optional[Tuple[int, int]] = None,
    keep_index: bool = False,
) -> LintResult:
    """Lint ``paths`` (the index covers the whole project under ``root``).

    ``cache_dir``: reuse and refresh the on-disk cache there (None: no cache).
    ``jobs``: worker processes for large batches (the output never depends on it).
    ``progress``: told how many files each pass has done (the command line's status line).
    ``shard``: ``(i, n)`` lints the i-th of n parts of the files (1-based), with the whole
    project's index; the n parts' findings together are one full run's.
    ``keep_index``: the result carries the project index and its query sites (``index``), for
    the query-cost report; never answered from the results cache alone.
    """
    return by_confidence(_lint_paths(paths, config, root, registry, cwd, cache_dir, jobs, progress, shard, keep_index), config)


def _lint_paths(paths, config, root, registry, cwd, cache_dir, jobs, progress=None, shard=None, keep_index=False) -> LintResult:
    cwd = cwd or Path.cwd()
    root = root.resolve()
    # what the run knows of the rules before it lints: with a cache, the registry's snapshot kept
    # there while it is the installed code's (a run the cache answers whole imports no rule)
    catalogue = Catalogue.read(Path(cache_dir)) if registry is None and cache_dir is not None and not keep_index else None
    if catalogue is None:
        registry = registry or load_registry()
        if cache_dir is not None:
            catalogue = Catalogue.of(registry)
            if registry.default and Catalogue.read(Path(cache_dir)) is None:  # (the language server lints with its own registry)
                catalogue.write(Path(cache_dir))
    known = registry if registry is not None else cast(Catalogue, catalogue)
    rules = select_rules(known, config.select, config.extend_select, config.ignore, config.preview)  # classes, or their stubs
    result = LintResult(rules=[r.code for r in rules])
    result.rule_info = {r.code: rule_info(r) for r in rules}
    result.rule_info.setdefault(UNUSED_SUPPRESSION[0], UNUSED_INFO)
    for label, message in known.plugin_errors:
        result.errors.append(FileError(label, None, f"plugin failed to load and was skipped: {message}", "plugin"))

    real: Dict[Path, Path] = {}
    targets, problems = discover(paths, config, root, real)
    for p, reason in problems:
        result.errors.append(FileError(display_path(p, cwd), None, reason, "read"))
    target_keys = set(real.values())  # before the rest of the project joins ``real``
    entries = entries_of(paths, config, root, cwd, targets, real, target_keys)
    if shard is not None:  # the index stays the whole project's: cross-file findings are exact
        targets = shard_targets(targets, real, entries, config, shard)
        target_keys = {real[p] for p in targets}
    run = RunFiles(targets, real, target_keys, entries)

    if catalogue is not None:
        selected = select_rules(catalogue, config.select, config.extend_select, config.ignore, config.preview)
        settings = settings_digest(config, root, [r.ident for r in selected], catalogue.detector_idents, catalogue.fingerprint)
        run.cache = Cache.load(Path(cast(Path, cache_dir)), settings)
    cache = run.cache
    files_digest = ""
    if cache is not None:
        for e in run.entries + run.templates:
            run.hashes[e.key] = cache.file_hash(e.relpath, e.path)
        template_hashes(run)
        files_digest = digest(sorted((e.relpath, run.hashes[e.key]) for e in run.entries + run.templates))
        if not keep_index and cache.results_valid_for(files_digest) and from_cache(result, cache, targets, real, run.by_key, run.hashes, config):
            # nothing changed in the project and every file to lint has its result: no parsing,
            # no index, no rule imported (the pre-commit and re-run case)
            cache.save()
            return finish(result)

    if registry is None:  # the cache cannot answer: now the rules themselves
        registry = load_registry()
        rules = select_rules(registry, config.select, config.extend_select, config.ignore, config.preview)
    from querylint.run.passes import run_passes  # the parser and the rules load here

    run_passes(run, config, rules, registry.detectors, result, jobs, progress, keep_index, files_digest)
    return finish(result)


def version_string() -> str:
    return f"querylint {__version__}"
