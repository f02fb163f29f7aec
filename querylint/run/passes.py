"""The passes of a lint run that read the code: facts for the index, the query sites of the
call graph, the rules, the templates. The parser and the rules are imported from here on."""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Optional, Sequence, Set, Tuple, cast

from querylint.project.callees import MODEL_BASES
from querylint.project.facts import FileFacts
from querylint.project.index import ProjectIndex
from querylint.result import FileResult, LintResult
from querylint.run.cache import digest, facts_digest
from querylint.run.config import Config
from querylint.run.files import RunFiles, lint_keys
from querylint.run.parallel import Runner, unfreeze_trees
from querylint.run.progress import Progress
from querylint.templates.lint import lint_template, read_templates, template_findings
from querylint.templates.model import Render
from querylint.types import FileError


def run_passes(run: RunFiles, config: Config, rules: Sequence[type], detectors: Sequence, result: LintResult, jobs: int,
               progress: Optional[Progress], keep_index: bool, files_digest: str) -> None:
    """Lint ``run``'s targets into ``result`` (``files_digest``: the files' contents, with a cache)."""
    cache = run.cache
    try:
        with Runner(run.entries, config, rules, detectors, jobs, progress) as runner:
            # pass 1: facts (from the cache when the content is unchanged)
            facts, fdigests, file_errors = _facts_pass(run, runner)
            runner.set_index([facts[e.key] for e in run.entries if e.key in facts])
            # trees no later pass reads are freed now (memory grows with the index, not the trees)
            linted = set(lint_keys(run.targets, run.real, run.by_key, config, file_errors)[0])
            unqueried = _never_called(run, facts, config, linted)
            runner.forget([e.key for e in run.entries if e.key not in linted and (e.key in unqueried or not _has_functions(facts.get(e.key)))])
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
    finally:
        unfreeze_trees()


def _facts_pass(run: RunFiles, runner: Runner) -> Tuple[Dict[str, FileFacts], Dict[str, str], Dict[str, FileError]]:
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


def _never_called(run: RunFiles, facts: Dict[str, FileFacts], config: Config, lint_keys: Set[str]) -> Set[str]:
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
    run: RunFiles, runner: Runner, facts: Dict[str, FileFacts], index_digest: str, result: LintResult, unqueried: Optional[Set[str]] = None
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


def _rules_pass(run: RunFiles, runner: Runner, config: Config, file_errors: Dict[str, FileError], result: LintResult) -> None:
    """Pass 3, the rules over the files to lint (results from the cache when they hold)."""
    linted, result.skipped = lint_keys(run.targets, run.real, run.by_key, config, file_errors, templates=False)
    results: Dict[str, FileResult] = {}
    todo = []
    for key in linted:
        if key in file_errors:
            results[key] = FileResult(errors=[file_errors[key]])
            continue
        if not _from_results_cache(run, key, results):
            todo.append(key)
    for key, res in runner.lint(todo).items():
        results[key] = _cached(run, key, res)
    _add_results(result, results, linted)


def _from_results_cache(run: RunFiles, key: str, results: Dict[str, FileResult]) -> bool:
    """Fill ``results[key]`` from the results cache, if it holds the file's result."""
    e, h = run.by_key[key], run.cached_hash(key)
    hit = run.cache.get_result(e.relpath, e.display, h) if run.cache is not None and h else None
    if hit is not None:
        results[key] = hit
    return hit is not None


def _cached(run: RunFiles, key: str, res: FileResult) -> FileResult:
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


def _templates_pass(run: RunFiles, runner: Runner, config: Config, rules, renders: Tuple[Render, ...], result: LintResult) -> None:
    """Pass 4, the templates among the files to lint, walked with what the views hand them."""
    keys = lint_keys(run.targets, run.real, run.by_key, config, {}, templates=True)[0]
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


