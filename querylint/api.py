"""The public entry point: lint paths with a configuration. Never prints, never exits."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Dict, List, Optional, Sequence, Set, Tuple, Type, cast

from querylint import __version__
from querylint.project.callees import MODEL_BASES
from querylint.project.contexts import shown
from querylint.run.config import Config, ConfigError, is_project_root, package_root
from querylint.run.cache import Cache, digest, facts_digest, settings_digest
from querylint.run.discovery import rel_real, resolve_path, discover, display_path
from querylint.engine import UNUSED_SUPPRESSION, FileResult
from querylint.project.facts import FileFacts
from querylint.project.index import ProjectIndex
from querylint.run.parallel import Entry, Runner, unfreeze_trees
from querylint.run.progress import Progress
from querylint.plugins import Registry, load_registry, select_rules, unknown_codes
from querylint.templates.files import template_suffix
from querylint.templates.lint import lint_template, read_templates, template_findings
from querylint.templates.model import Render
from querylint.types import FileError, Finding, Severity

if TYPE_CHECKING:  # pragma: no cover
    from querylint.rule import Rule


@dataclass(frozen=True)
class RuleInfo:
    """What reporters need to know about a rule (they never import rules)."""

    code: str
    name: str
    severity: Severity
    summary: str
    documentation: str


def rule_info(rule: Type[Rule]) -> RuleInfo:
    return RuleInfo(rule.code, rule.name, rule.severity, rule.summary(), rule.documentation())


_UNUSED_INFO = RuleInfo(
    UNUSED_SUPPRESSION[0], UNUSED_SUPPRESSION[1], Severity.INFO,
    "Reports a suppression comment that silences nothing",
    "## What it does\n\nReports a `# querylint: ignore[...]` or `# noqa: QL...` comment that silences no finding "
    "(enabled by `--report-unused-suppressions`).\n\n## Why is this bad?\n\nA stale suppression hides the next "
    "real problem on that line.",
)


@dataclass
class LintResult:
    findings: List[Finding] = field(default_factory=list)
    errors: List[FileError] = field(default_factory=list)
    suppressed: List[Finding] = field(default_factory=list)
    files: int = 0
    skipped: int = 0
    rules: List[str] = field(default_factory=list)
    rule_info: Dict[str, RuleInfo] = field(default_factory=dict)
    # finding -> stable fingerprint (filled by :func:`querylint.run.baseline.attach_fingerprints`)
    fingerprints: Dict[Finding, str] = field(default_factory=dict)
    # finding -> its fingerprints under its alias codes (a baseline written before a rule was renamed)
    alias_fingerprints: Dict[Finding, Tuple[str, ...]] = field(default_factory=dict)
    cache_note: Optional[str] = None
    baselined: int = 0  # findings dropped because the baseline has them
    outside_diff: int = 0  # findings dropped by --diff
    hidden: int = 0  # findings below min-confidence (test and seed code, weak evidence)
    index: Optional[ProjectIndex] = None  # the project index with its query sites (``keep_index``)

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
            "hidden": self.hidden,
            "by_rule": dict(sorted(by_rule.items())),
        }

    @property
    def exit_code(self) -> int:
        if self.internal_errors:
            return 2
        return 1 if (self.findings or self.errors) else 0


def merge_results(results: Sequence[LintResult]) -> LintResult:
    """One result from the results of several projects linted apart (the same rules in each)."""
    if len(results) == 1:
        return results[0]
    out = LintResult(rules=list(results[0].rules) if results else [])
    for r in results:
        out.findings += r.findings
        out.errors += r.errors
        out.suppressed += r.suppressed
        out.files += r.files
        out.skipped += r.skipped
        out.hidden += r.hidden
        out.rule_info.update(r.rule_info)
        out.fingerprints.update(r.fingerprints)
        out.alias_fingerprints.update(r.alias_fingerprints)
        out.cache_note = out.cache_note or r.cache_note
    return out


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
    try:
        return _by_confidence(_lint_paths(paths, config, root, registry, cwd, cache_dir, jobs, progress, shard, keep_index), config)
    finally:
        unfreeze_trees()


def _by_confidence(result: LintResult, config: Config) -> LintResult:
    """Leave out findings below ``min-confidence`` (counted in ``hidden``): the default output
    holds what is worth acting on; ``--min-confidence low`` shows the rest."""
    kept = [f for f in result.findings if shown(f.confidence, config.min_confidence)]
    result.hidden = len(result.findings) - len(kept)
    result.findings = kept
    return result


def _lint_paths(paths, config, root, registry, cwd, cache_dir, jobs, progress=None, shard=None, keep_index=False) -> LintResult:
    registry = registry or load_registry()
    cwd = cwd or Path.cwd()
    root = root.resolve()
    rules = select_rules(registry, config.select, config.extend_select, config.ignore, config.preview)
    result = LintResult(rules=[r.code for r in rules])
    result.rule_info = {r.code: rule_info(r) for r in rules}
    result.rule_info.setdefault(UNUSED_SUPPRESSION[0], _UNUSED_INFO)
    for label, message in registry.plugin_errors:
        result.errors.append(FileError(label, None, f"plugin failed to load and was skipped: {message}", "plugin"))

    real: Dict[Path, Path] = {}
    targets, problems = discover(paths, config, root, real)
    for p, reason in problems:
        result.errors.append(FileError(display_path(p, cwd), None, reason, "read"))
    target_keys = set(real.values())  # before the rest of the project joins ``real``
    entries = _entries(paths, config, root, cwd, targets, real, target_keys)
    if shard is not None:  # the index stays the whole project's: cross-file findings are exact
        targets = shard_targets(targets, real, entries, config, shard)
        target_keys = {real[p] for p in targets}
    run = _Run(targets, real, target_keys, entries)
    detectors = registry.detectors

    if cache_dir is not None:
        run.cache = Cache.load(Path(cache_dir), settings_digest(config, root, rules, detectors, registry.origins.values()))
    cache = run.cache
    if cache is not None:
        for e in run.entries + run.templates:
            run.hashes[e.key] = cache.file_hash(e.relpath, e.path)
        _template_hashes(run)
        files_digest = digest(sorted((e.relpath, run.hashes[e.key]) for e in run.entries + run.templates))
        if not keep_index and cache.results_valid_for(files_digest) and _from_cache(result, cache, targets, real, run.by_key, run.hashes, config):
            # nothing changed in the project and every file to lint has its result: no parsing,
            # no index (the pre-commit and re-run case)
            cache.save()
            return _finish(result)

    with Runner(run.entries, config, rules, detectors, jobs, progress) as runner:
        # pass 1: facts (from the cache when the content is unchanged)
        facts, fdigests, file_errors = _facts_pass(run, runner)
        runner.set_index([facts[e.key] for e in run.entries if e.key in facts])
        # trees no later pass reads are freed now (memory grows with the index, not the trees)
        lint_keys = set(_lint_keys(run.targets, run.real, run.by_key, config, file_errors)[0])
        unqueried = _never_called(run, facts, config, lint_keys)
        runner.forget([e.key for e in run.entries if e.key not in lint_keys and (e.key in unqueried or not _has_functions(facts.get(e.key)))])
        # pass 2: which functions run queries
        index_digest = digest(sorted((run.by_key[k].relpath, d) for k, d in fdigests.items())) if cache is not None else ""
        direct, renders = _queries_pass(run, runner, facts, index_digest, result, unqueried)
        runner.set_queries(direct)
        if keep_index:  # the query-cost report walks the call graph from every entry point
            result.index = ProjectIndex([facts[e.key] for e in run.entries if e.key in facts])
            result.index.set_direct_queries(direct)
        # pass 3: the rules, over the files to lint
        if cache is not None:
            # the results hold for these file contents only when every file could be indexed
            cache.use_results_digest(digest(index_digest, sorted(direct.items()), renders), "" if file_errors else files_digest)
        _rules_pass(run, runner, config, file_errors, result)
        _templates_pass(run, runner, config, rules, renders, result)

    if cache is not None:
        cache.prune(e.relpath for e in run.entries + run.templates)
        cache.save()
        result.cache_note = cache.problem
    return _finish(result)


class _Run:
    """The files of one lint run (the index's, the targets among them) and the cache they use."""

    def __init__(self, targets: List[Path], real: Dict[Path, Path], target_keys: Set[Path], entries: List[Entry]):
        self.targets = targets
        self.real = real
        self.target_keys = target_keys
        self.entries = [e for e in entries if not template_suffix(e.path)]  # Python files: the index and the rules
        self.templates = [e for e in entries if template_suffix(e.path)]  # read by the template pass
        self.by_key = {e.key: e for e in entries}
        self.cache: Optional[Cache] = None
        self.hashes: Dict[str, Optional[str]] = {}  # content hash by key (with a cache)

    def cached_hash(self, key: str) -> Optional[str]:
        """The content hash to look the cache up with; None without a cache or a hash."""
        return self.hashes[key] if self.cache is not None and self.hashes[key] else None


def shard_targets(targets: List[Path], real: Dict[Path, Path], entries: List[Entry], config: Config, shard: Tuple[int, int]) -> List[Path]:
    """The files of part ``i`` of ``n``: every n-th file in the order of their paths relative to
    the project root (the same on every machine and clone), the files the lint leaves out
    (tests, migrations) dealt last so the files to lint are spread evenly."""
    i, n = shard
    relpath = {e.key: e.relpath for e in entries}
    rels = sorted({relpath[str(real[p])] for p in targets}, key=lambda r: (config.left_out(r), r))
    chosen = {r for k, r in enumerate(rels) if k % n == i - 1}
    return [p for p in targets if relpath[str(real[p])] in chosen]


def _package_of(folder: Path) -> Path:
    """The outermost package holding ``folder`` (its models and helpers), or ``folder`` itself."""
    top = package_root(folder)
    if top == folder:
        return folder
    return top / folder.relative_to(top).parts[0]


def _around_files(paths) -> List[Path]:
    """Without a project marker, what a given file's imports can reach: its outermost package, or
    for a file in a plain folder (a script beside its helpers, a file in ``/tmp``) the ``.py``
    files beside it, never the folders below (they may hold anything)."""
    out: Set[Path] = set()
    for p in paths:
        folder = Path(p).parent
        if Path(p).is_dir():
            continue
        top = _package_of(folder)
        if top != folder or (folder / "__init__.py").is_file():
            out.add(top)
            continue
        try:
            out.update(f for f in folder.iterdir() if f.suffix == ".py" and f.is_file())
        except OSError:
            continue
    return sorted(out)


def _entries(paths, config: Config, root: Path, cwd: Path, targets: List[Path], real: Dict[Path, Path], target_keys: Set[Path]) -> List[Entry]:
    """Every file the index covers, once each: the targets, and the rest of the project under
    ``root`` when only some of its files are linted (pre-commit; their real paths join ``real``)."""
    index_files = list(targets)
    walked_root = any(Path(p).is_dir() and resolve_path(Path(p)) == root for p in paths)
    if not walked_root and all(_under(p, root) for p in target_keys):
        # a root without a project marker is only the common ancestor of the paths (``/`` for a
        # stdlib package and a temporary folder): then index the folder of each given file (its
        # models and helpers), never everything under the ancestor
        around = [root] if is_project_root(root) else _around_files(paths)
        project_files, _ = discover(around, config, root, real) if around else ([], [])
        for p in project_files:
            if real[p] not in target_keys:
                index_files.append(p)

    show = _displayer(cwd)
    entries: List[Entry] = []
    seen = set()
    for p in index_files:
        rp = real[p]
        key = str(rp)
        if key in seen:
            continue
        seen.add(key)
        entries.append(Entry(key, str(p), rel_real(rp, p, root), show(p)))
    return entries


def _facts_pass(run: _Run, runner: Runner) -> Tuple[Dict[str, FileFacts], Dict[str, str], Dict[str, FileError]]:
    """Pass 1, every file's facts (from the cache when the content is unchanged): (facts, their
    digests with a cache, errors) by key."""
    cache = run.cache
    facts: Dict[str, FileFacts] = {}
    fdigests: Dict[str, str] = {}
    file_errors: Dict[str, FileError] = {}
    todo = []
    for e in run.entries:
        h = run.cached_hash(e.key)
        hit = cache.get_facts(e.relpath, h) if cache is not None and h else None
        if hit is not None:
            facts[e.key], fdigests[e.key] = hit
        else:
            todo.append(e.key)
    for key, (ff, err) in runner.facts(todo).items():
        if ff is not None:
            facts[key] = ff
            if cache is not None:
                fdigests[key] = facts_digest(ff)
                if run.hashes[key] and err is None:
                    cache.put_facts(run.by_key[key].relpath, cast(str, run.hashes[key]), ff, fdigests[key])
        if err is not None:
            file_errors[key] = err
    return facts, fdigests, file_errors


def _has_functions(ff: Optional[FileFacts]) -> bool:
    """Pass 2 reads the file: it has functions (query sites), or class-based views (the templates
    they render, even when every method is inherited)."""
    return ff is not None and (bool(ff.functions) or any(b.rsplit(".", 1)[-1].endswith(("View", "Mixin")) for c in ff.classes for b in c.bases))


def _never_called(run: _Run, facts: Dict[str, FileFacts], config: Config, lint_keys: Set[str]) -> Set[str]:
    """Keys of the files whose functions no linted code can reach, so pass 2 need not look for
    their queries: test and migration files left out of the lint (``exclude-tests``,
    ``exclude-migrations``) that no other reachable file imports or calls into by a dotted path,
    and that define no class an ORM model could be (a base named ``...Model``, ``Base``): its
    methods could be found by name alone (``unique_model_method``). Their facts stay in the index (callers, contexts)."""
    left_out = set()
    for e in run.entries:
        ff = facts.get(e.key)
        if ff is None or e.key in lint_keys or not ff.functions:
            continue
        if config.left_out(e.relpath):
            left_out.add(e.key)
    if not left_out:
        return left_out
    classes = {c.qualname: c for ff in facts.values() for c in ff.classes}

    def model_like(cls, depth: int = 0) -> bool:
        for base in cls.bases:
            last = base.rsplit(".", 1)[-1]
            if last.endswith("Model") or last in MODEL_BASES:
                return True
            parent = classes.get(base)
            if parent is not None and depth < 20 and model_like(parent, depth + 1):
                return True
        return False

    module_of = {facts[k].module: k for k in left_out}
    reached = {k for k in left_out if any(model_like(c) for c in facts[k].classes)}
    pending = [facts[e.key] for e in run.entries if e.key in facts and e.key not in left_out] + [facts[k] for k in reached]
    while pending:
        ff = pending.pop()
        # what it imports (``from pkg.tests.utils import f``) and what it calls by a dotted path
        # (``import pkg.tests.utils`` is recorded as ``pkg``; the call says ``pkg.tests.utils.f``)
        named = {target for _local, target in ff.imports}
        named.update(c for f in ff.functions for c in f.calls)
        named.update(call.func for _name, call in ff.module_calls)
        named.update(a.call.func for c in ff.classes for a in c.attrs if a.call is not None)
        for target in named:
            parts = target.split(".")
            for i in range(1, len(parts) + 1):
                key = module_of.get(".".join(parts[:i]))
                if key is not None and key not in reached:
                    reached.add(key)
                    pending.append(facts[key])
    return left_out - reached


def _queries_pass(
    run: _Run, runner: Runner, facts: Dict[str, FileFacts], index_digest: str, result: LintResult, unqueried: Optional[Set[str]] = None
) -> Tuple[Dict[str, Tuple[str, ...]], Tuple[Render, ...]]:
    """Pass 2, which functions run queries: function → the queries it runs directly (files in
    ``unqueried`` are left out: no linted code can call them); and the templates views render."""
    cache = run.cache
    found_by_key: Dict[str, Tuple[Dict[str, List[str]], Tuple[Render, ...]]] = {}
    todo = []
    for e in run.entries:
        ff = facts.get(e.key)
        if not _has_functions(ff) or (unqueried is not None and e.key in unqueried):
            continue
        h = run.cached_hash(e.key)
        hit = cache.get_queries(e.relpath, h, index_digest) if cache is not None and h else None
        if hit is not None:
            found_by_key[e.key] = hit
        else:
            todo.append(e.key)
    for key, (found, errs, renders) in runner.queries(todo).items():
        found_by_key[key] = (found, renders)
        if Path(key) in run.target_keys:
            result.errors.extend(errs)
        if cache is not None and not errs and run.hashes[key]:
            cache.put_queries(run.by_key[key].relpath, cast(str, run.hashes[key]), index_digest, (found, renders))
    queries: Dict[str, List[str]] = {}
    all_renders: List[Render] = []
    for e in run.entries:  # merged in one fixed order, whatever the number of workers
        found, renders = found_by_key.get(e.key, ({}, ()))
        queries.update(found)
        all_renders.extend(renders)
    return {k: tuple(v) for k, v in queries.items() if v}, tuple(all_renders)


def _rules_pass(run: _Run, runner: Runner, config: Config, file_errors: Dict[str, FileError], result: LintResult) -> None:
    """Pass 3, the rules over the files to lint (results from the cache when they hold)."""
    lint_keys, result.skipped = _lint_keys(run.targets, run.real, run.by_key, config, file_errors, templates=False)
    results: Dict[str, FileResult] = {}
    todo = []
    for key in lint_keys:
        if key in file_errors:
            results[key] = FileResult(errors=[file_errors[key]])
            continue
        if not _from_results_cache(run, key, results):
            todo.append(key)
    for key, res in runner.lint(todo).items():
        results[key] = _cached(run, key, res)
    _add_results(result, results, lint_keys)


def _from_results_cache(run: _Run, key: str, results: Dict[str, FileResult]) -> bool:
    """Fill ``results[key]`` from the results cache, if it holds the file's result."""
    e, h = run.by_key[key], run.cached_hash(key)
    hit = run.cache.get_result(e.relpath, e.display, h) if run.cache is not None and h else None
    if hit is not None:
        results[key] = hit
    return hit is not None


def _cached(run: _Run, key: str, res: FileResult) -> FileResult:
    """``res``, kept in the results cache when it is complete."""
    e = run.by_key[key]
    if run.cache is not None and not res.errors and run.hashes[key]:
        run.cache.put_result(e.relpath, e.display, cast(str, run.hashes[key]), res)
    return res


def _add_results(result: LintResult, results: Dict[str, FileResult], keys: Sequence[str]) -> None:
    for key in keys:
        res = results[key]
        result.files += 1
        result.findings.extend(res.findings)
        result.suppressed.extend(res.suppressed)
        result.errors.extend(res.errors)


def _template_hashes(run: _Run) -> None:
    """A template's findings depend on the templates it includes or extends and on those that
    include it: its cache key is its own content with every template's."""
    if not run.templates:
        return
    together = digest(sorted((e.relpath, run.hashes[e.key]) for e in run.templates))
    for e in run.templates:
        if run.hashes[e.key]:
            run.hashes[e.key] = digest(run.hashes[e.key], together)


def _templates_pass(run: _Run, runner: Runner, config: Config, rules, renders: Tuple[Render, ...], result: LintResult) -> None:
    """Pass 4, the templates among the files to lint, walked with what the views hand them."""
    keys = _lint_keys(run.targets, run.real, run.by_key, config, {}, templates=True)[0]
    if not keys:
        return
    results: Dict[str, FileResult] = {}
    todo = [key for key in keys if not _from_results_cache(run, key, results)]
    if todo:
        parsed, texts, errors = read_templates([(e.relpath, Path(e.path), e.display) for e in run.templates])
        shown = {e.relpath: e.display for e in run.entries + run.templates}
        failed: Dict[str, List[FileError]] = {rp: [err] for rp, err in errors.items()}
        problems = template_findings(parsed, renders, runner.local_index(), config, rules, lambda rp: shown.get(rp, rp), failed) if renders else {}
        for key in todo:
            e = run.by_key[key]
            res = lint_template(e.relpath, e.display, texts.get(e.relpath), parsed.get(e.relpath), problems.get(e.relpath, []), config, failed.get(e.relpath, []))
            results[key] = _cached(run, key, res)
    _add_results(result, results, keys)


def _displayer(cwd: Path):
    """:func:`display_path` with a fast path for plain paths below the working folder (hot path)."""
    cwd_s = os.fspath(cwd)
    here = os.path.normpath(os.getcwd()) == os.path.normpath(cwd_s)
    prefix = cwd_s.rstrip("/") + "/"

    def show(p: Path) -> str:
        s = os.fspath(p)
        if os.sep == "/" and s.isascii() and ".." not in s.split("/"):
            if s.startswith(prefix):
                return os.path.normpath(s[len(prefix):])
            if here and not s.startswith("/"):
                return os.path.normpath(s)
        return display_path(p, cwd)

    return show


def _finish(result: LintResult) -> LintResult:
    result.findings.sort(key=Finding.sort_key)
    result.suppressed.sort(key=Finding.sort_key)
    result.errors.sort(key=FileError.sort_key)
    return result


def _lint_keys(targets, real, by_key, config: Config, file_errors, templates: Optional[bool] = None) -> Tuple[List[str], int]:
    """(keys of the files to lint, in order; how many targets are skipped as migrations/tests).
    ``templates``: only templates (True), only Python files (False), both (None)."""
    keys: List[str] = []
    skipped = 0
    for p in targets:
        key = str(real[p])
        e = by_key[key]
        if templates is not None and template_suffix(e.path) != templates:
            continue
        if key not in file_errors and config.left_out(e.relpath):
            skipped += 1
            continue
        if key not in keys:
            keys.append(key)
    return keys, skipped


def _from_cache(result: LintResult, cache: Cache, targets, real, by_key, hashes, config: Config) -> bool:
    """Fill ``result`` from cached per-file results; False (and ``result`` untouched) when one is missing."""
    keys, skipped = _lint_keys(targets, real, by_key, config, {})
    hits = []
    for key in keys:
        e = by_key[key]
        hit = cache.get_result(e.relpath, e.display, hashes[key]) if hashes[key] else None
        if hit is None:
            return False
        hits.append(hit)
    result.skipped = skipped
    for res in hits:
        result.files += 1
        result.findings.extend(res.findings)
        result.suppressed.extend(res.suppressed)
        result.errors.extend(res.errors)
    result.cache_note = cache.problem
    return True


def _under(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
        return True
    except ValueError:
        return False


def version_string() -> str:
    return f"querylint {__version__}"
