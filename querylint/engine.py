"""The engine: parse each file once, gather index facts, find query sites, run the rules.

It knows no rule by name. Per file: parse (libcst) → facts → (after the index is merged)
query sites for the call graph → one batched walk with every selected rule → findings,
filtered by suppressions in one place.
"""
from __future__ import annotations

import traceback
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Set, Tuple, cast

import libcst as cst

from querylint import nodes as N
from querylint.codes import Selection, matches_any
from querylint.run.config import Config
from querylint.project.contexts import CONFIDENCES, cap, finding_context, in_scripts_folder, lower, path_context
from querylint.loops import classify_loop, in_failure_handler, on_raising_path, reported_loop, small_collection
from querylint.context import Context
from querylint.deep import TOO_DEEP, TooDeepSource, call_deep, parse_ast, parse_module_and_ast
from querylint.project.facts import FileFacts, collect_facts
from querylint.project.index import ProjectIndex
from querylint.project.requests import offline_only, request_context, test_only
from querylint.run.source import SourceError, read_source
from querylint.scope import under_attribute_fallback, under_cache_miss, under_memo_guard, under_prefetch_check
from querylint.suppressions import parse_suppressions
from querylint.frameworks.registry import active_adapters
from querylint.templates.model import Render
from querylint.templates.sites import RenderCollector, worth_looking
from querylint.result import UNUSED_SUPPRESSION, FileResult
from querylint.types import FileError, Finding, Severity, Span
from querylint.walker import Walker



@dataclass
class ParsedFile:
    path: Path
    relpath: str  # relative to the project root (module names, config globs)
    display: str  # relative to the working folder (reports)
    source: Optional[str] = None
    module: Optional[cst.Module] = None
    facts: Optional[FileFacts] = None
    error: Optional[FileError] = None


def parse_file(path: Path, relpath: str, display: str) -> ParsedFile:
    pf = ParsedFile(path, relpath, display)
    try:
        _raw, text = read_source(path)
    except SourceError as exc:
        pf.error = FileError(display, exc.line, exc.message, exc.kind)
        return pf
    pf.source = text
    try:
        pf.module, tree = parse_module_and_ast(text)  # depth-checked first: libcst would overflow the C stack
    except TooDeepSource as exc:
        pf.error = FileError(display, None, str(exc), "syntax")
        return pf
    except cst.ParserSyntaxError as exc:
        pf.error = FileError(display, exc.raw_line, f"syntax error: {exc.message} (column {exc.raw_column + 1})", "syntax")
        return pf
    except RecursionError:
        pf.error = FileError(display, None, "the file is too deeply nested to parse", "syntax")
        return pf
    except Exception as exc:  # libcst can raise other errors on exotic input
        pf.error = FileError(display, None, f"cannot parse: {type(exc).__name__}: {exc}", "syntax")
        return pf
    pf.facts = _ast_facts(tree, text, relpath) if tree is not None else None
    if pf.facts is not None:
        return pf
    try:
        try:
            pf.facts = collect_facts(pf.module, relpath)
        except RecursionError:
            pf.facts = call_deep(collect_facts, pf.module, relpath, recursion=True)
    except RecursionError:
        pf.error = FileError(display, None, TOO_DEEP, "limit")
    except Exception as exc:
        pf.error = FileError(display, None, f"internal error while indexing: {type(exc).__name__}: {exc}", "internal")
    return pf


def _ast_facts(tree, text: str, relpath: str) -> Optional[FileFacts]:
    """The facts from CPython's tree (the same as libcst's, cheaper), or None on any failure:
    the libcst pass then gives them, or reports why it cannot."""
    from querylint.project.ast_facts import collect_facts_ast

    try:
        return collect_facts_ast(tree, text, relpath)
    except Exception:  # RecursionError included: libcst's pass has the big stack and the messages
        return None


def fast_facts(path: Path, relpath: str) -> Optional[FileFacts]:
    """The file's facts from Python's ``ast`` (several times cheaper than libcst's tree, and
    the same facts: ``tests/test_fast_facts.py``), for a file no later pass may need a tree of;
    None when that pass cannot say (unreadable, rejected by CPython, too deep, an internal
    error): the libcst parse then decides, and reports what is wrong."""
    try:
        _raw, text = read_source(path)
    except SourceError:
        return None
    tree = parse_ast(text)
    return _ast_facts(tree, text, relpath) if tree is not None else None


class _QueryCollector:
    """Pass 2: records, per function, the query sites the detectors recognise."""

    def __init__(self, ctx: Context, detectors: Sequence[Callable]):
        self.ctx = ctx
        self.detectors = detectors
        self.found: Dict[str, List[str]] = {}

    def _check(self, node) -> None:
        fn = self.ctx.function
        if fn is None:
            return
        for det in self.detectors:
            desc = det(node, self.ctx)
            if desc:
                if under_cache_miss(node, self.ctx) or under_memo_guard(node, self.ctx):
                    return  # fills a cache once (per process, object or key): not a query per call
                if under_prefetch_check(node, self.ctx) or under_attribute_fallback(node, self.ctx):
                    return  # reads a relation the branch checked is loaded, or stands in for an annotation
                if on_raising_path(node, self.ctx) or in_failure_handler(node, self.ctx):
                    return  # describes the error it raises, or handles a failure: runs on failure only
                self.found.setdefault(fn.qualname, []).append(desc)
                return

    visit_Call = _check
    visit_Attribute = _check


def configured_query_detector(node, ctx: Context) -> Optional[str]:
    """Calls to functions named in ``query-functions`` run queries."""
    if not ctx.config.query_functions or not isinstance(node, cst.Call):
        return None
    q = ctx.qualify(node.func)
    if q and (q in ctx.config.query_functions or any(q.endswith("." + f) for f in ctx.config.query_functions)):
        return N.short(node.func) + "()"
    return None


class _TooDeep(Exception):
    """A walk hit the recursion limit: retried once with :func:`call_deep`."""


Queries = Tuple[Dict[str, List[str]], List[FileError], Tuple[Render, ...]]


def collect_queries(pf: ParsedFile, index: ProjectIndex, config: Config, detectors: Sequence[Callable]) -> Queries:
    """Pass 2 for one file: its functions' query sites, and the templates it renders (with what)."""
    try:
        return _collect_queries(pf, index, config, detectors, False)
    except _TooDeep:
        pass
    try:
        return call_deep(_collect_queries, pf, index, config, detectors, True, recursion=True)
    except _TooDeep:
        return {}, [FileError(pf.display, None, TOO_DEEP, "limit")], ()


def _collect_queries(pf: ParsedFile, index: ProjectIndex, config: Config, detectors: Sequence[Callable], deep: bool) -> Queries:
    ctx = _context(pf, index, config)
    collector = _QueryCollector(ctx, list(detectors) + [configured_query_detector])
    visitors: List[object] = [collector]
    renders = RenderCollector(ctx, active_adapters(ctx)) if worth_looking(pf.source or "") else None
    if renders is not None:
        visitors.append(renders)
    errors: List[FileError] = []

    def on_error(visitor, node, exc):
        if isinstance(exc, RecursionError) and not deep:
            raise _TooDeep()
        errors.append(FileError(pf.display, _safe_line(ctx, node), f"internal error in a query detector: {type(exc).__name__}: {exc}", "internal"))

    try:
        Walker(ctx, visitors, on_error).run()
    except RecursionError:
        raise _TooDeep() from None
    return collector.found, errors, tuple(renders.renders) if renders is not None else ()


def _context(pf: ParsedFile, index: ProjectIndex, config: Config) -> Context:
    # only called for a parsed and indexed file (``pf.facts`` set, so ``pf.module`` too)
    return Context(path=pf.display, relpath=pf.relpath, source=pf.source or "", module=cast(cst.Module, pf.module), facts=cast(FileFacts, pf.facts), index=index, config=config, file=str(pf.path))


def _drop_subsumed(candidates):
    """One problem, one finding: drop a finding when a selected rule that subsumes its rule
    (``Rule.subsumes``) reported the same node."""
    by_node: Dict[int, Set[type]] = {}
    for rep, *_ in candidates:
        by_node.setdefault(id(rep.node), set()).add(rep.rule)
    out = []
    for cand in candidates:
        rep = cand[0]
        rivals = by_node[id(rep.node)]
        if len(rivals) > 1 and any(rep.rule.code in other.subsumes for other in rivals):
            continue
        out.append(cand)
    return out


def _inside(inner: Span, outer: Span) -> bool:
    return (outer.line, outer.column) <= (inner.line, inner.column) and (inner.end_line, inner.end_column) <= (outer.end_line, outer.end_column)


def _drop_nested(built):
    """One statement, one finding per rule: a call reported inside the arguments of another call
    the same rule reported (``step.items.add(Item.objects.create(...))``) is already named by the
    outer finding, unless the inner one carries a fix of its own or is surer (the outer one may
    not be shown). ``built``: (finding, report, statement line)."""
    by_statement: Dict[tuple, list] = {}
    for item in built:
        by_statement.setdefault((item[1].rule, item[2]), []).append(item)
    out = []
    for item in built:
        finding, rep, stmt_line = item
        rivals = by_statement[(rep.rule, stmt_line)]
        if not rep.edits and len(rivals) > 1 and any(
            other[0].span != finding.span and _inside(finding.span, other[0].span)
            and CONFIDENCES.index(other[0].confidence) >= CONFIDENCES.index(finding.confidence)
            for other in rivals
        ):
            continue
        out.append(item)
    return out


def _scaled(rep, ctx: Context) -> str:
    """The rule's confidence, one step lower when the loop it multiplies with is a small bounded
    collection (``for key, value in kwargs.items()``)."""
    if rep.rule.loop_scaled and rep.loops:
        loop = reported_loop(rep.loops, ctx)
        if loop is not None and small_collection(loop, ctx):
            return lower(rep.confidence)
    return rep.confidence


def _only_tests_call(qualname: Optional[str], ctx: Context) -> bool:
    """Only test code calls the reporting function, and its own module never names it again (a
    function passed on as a value, ``queue.enqueue(job)``, runs in production)."""
    if not test_only(ctx.index, ctx.config, qualname):
        return False
    names = ctx.memo(("names-used",), lambda: Counter(n.value for n in N.walk(ctx.module_node) if isinstance(n, cst.Name)))
    return names[cast(str, qualname).rsplit(".", 1)[-1]] <= 1


def _standalone_script(relpath: str, ctx: Context) -> bool:
    """A file at the project's root, or in a folder that is not a package (no ``__init__.py``:
    pyIEM's ``util/``), that runs as ``python file.py`` (a module-level ``if __name__ ==
    "__main__":``) and that no other file imports: a one-off script (``drop_db.py``,
    ``migrate_slides.py``), not a module production code runs."""
    folder = relpath.rpartition("/")[0]
    if relpath == "manage.py" or (folder and f"{folder}/__init__.py" in ctx.index.files):
        return False

    def compute() -> bool:
        if not any(isinstance(s, cst.If) and _is_main_guard(s.test) for s in ctx.module_node.body):
            return False
        if any(isinstance(n, cst.While) and _runs_until_stopped(n) for n in N.walk(ctx.module_node)):
            return False  # a worker run as ``python worker.py``: its loop runs for the life of the process
        stem = relpath.rpartition("/")[2][:-3]  # a sibling script imports it by its file name
        return not (_imported(ctx.module, ctx) or _imported(stem, ctx))

    return ctx.memo(("standalone-script",), compute)


def _runs_until_stopped(loop: cst.While) -> bool:
    """A service loop that only an exception or a signal ends: ``while True:`` with no ``break``
    or ``return`` of its own, or ``while running:`` whose flag is set only in an ``except``
    (or elsewhere: a signal handler). A paging loop (``while True: ... if not rows: break``,
    ``while more: more = page.has_next``) ends by itself."""
    test = loop.test
    if N.literal(test) in (True, 1):
        return not _ends_itself(loop.body)
    if isinstance(test, cst.Name):
        return not _assigns_outside_except(loop.body, test.value)
    return False


def _ends_itself(node: cst.CSTNode) -> bool:
    for child in node.children:
        if isinstance(child, (cst.Return, cst.Break)):
            return True
        if isinstance(child, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            continue
        if isinstance(child, (cst.For, cst.While)):
            if any(isinstance(n, cst.Return) for n in N.walk(child.body)) or _ends_itself(child.orelse or cst.Pass()):
                return True
            continue  # a ``break`` there ends the inner loop
        if _ends_itself(child):
            return True
    return False


def _assigns_outside_except(node: cst.CSTNode, name: str) -> bool:
    for child in node.children:
        if isinstance(child, (cst.ExceptHandler, cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            continue
        if isinstance(child, (cst.AssignTarget, cst.AugAssign, cst.AnnAssign)) and isinstance(child.target, cst.Name) and child.target.value == name:
            return True
        if _assigns_outside_except(child, name):
            return True
    return False


def _program_module(relpath: str, ctx: Context) -> bool:
    """A module of a scripts folder that code outside test, command and script files imports, or
    of a ``tools`` subpackage of the project's package (``pkg/tools/db/manager.py``: the package's
    utilities, which its own tools modules import, not a folder of scripts)."""
    return ctx.memo(
        ("program-module",),
        lambda: in_scripts_folder(relpath, ctx.config) and (_in_tools_subpackage(relpath, ctx) or _imported(ctx.module, ctx, by_program=True)),
    )


def _in_tools_subpackage(relpath: str, ctx: Context) -> bool:
    """``relpath`` is under a ``tools`` folder inside a package (``pkg/tools/``, with
    ``__init__.py`` files or a namespace package whose modules the project imports by their dotted
    name). Top-level ``tools/`` and ``scripts/`` folders, and ``scripts`` packages inside apps
    (django-extensions' ``runscript``), stay scripts."""
    parts = relpath.split("/")
    files = ctx.index.files
    for i, part in enumerate(parts[:-1]):
        if part != "tools" or i == 0:
            continue
        if "/".join(parts[: i + 1] + ["__init__.py"]) in files and "/".join(parts[:i] + ["__init__.py"]) in files:
            return True
        return _imported(ctx.module, ctx)
    return False


def _imported(module: str, ctx: Context, by_program: bool = False) -> bool:
    """Another project file imports ``module`` or a name from it (by the program: from a file
    outside test, command and script files). One set of imported dotted prefixes per run."""
    config = ctx.config

    def prefixes(ix) -> set:
        return {
            q[:i] for f in ix.files.values() if not by_program or path_context(f.path, config) is None
            for _, q in f.imports for i in [len(q)] + [j for j, c in enumerate(q) if c == "."]
        }

    return module in ctx.index.derived("imported-by-program" if by_program else "imported-modules", prefixes)


def _is_main_guard(test: cst.BaseExpression) -> bool:
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return False
    sides = {N.code(test.left).strip(), N.code(test.comparisons[0].comparator).strip()}
    return "__name__" in sides and bool(sides & {'"__main__"', "'__main__'"})


def _safe_line(ctx: Context, node) -> Optional[int]:
    try:
        return ctx.line(node)
    except Exception:
        return None


def lint_file(pf: ParsedFile, index: ProjectIndex, config: Config, rules: Sequence[type]) -> FileResult:
    """Run every rule over one parsed file; findings are filtered by suppressions here."""
    try:
        return _lint_file(pf, index, config, rules, False)
    except _TooDeep:
        pass
    try:
        return call_deep(_lint_file, pf, index, config, rules, True, recursion=True)
    except _TooDeep:
        return FileResult(errors=[FileError(pf.display, None, TOO_DEEP, "limit")])


def _lint_file(pf: ParsedFile, index: ProjectIndex, config: Config, rules: Sequence[type], deep: bool) -> FileResult:
    result = FileResult()
    if pf.error is not None:
        result.errors.append(pf.error)
        return result
    ctx = _context(pf, index, config)
    _run_rules(ctx, pf, rules, deep, result)
    if not ctx.reports and not config.report_unused_suppressions:
        return result

    suppressions = parse_suppressions(pf.source or "")
    file_ignores = config.ignores_for(pf.relpath)
    seen = set()
    built = [
        (_finding(rep, span, codes, pf, ctx), rep, stmt_line)
        for rep, span, stmt_line, codes in _drop_subsumed(_candidates(ctx, pf, config, deep, result))
    ]
    for finding, rep, stmt_line in _drop_nested(built):
        span, codes = finding.span, (rep.codes or (rep.rule.code,))
        key = (finding.rule, span, finding.message)
        if key in seen:
            continue
        seen.add(key)
        if matches_any(codes, file_ignores) or suppressions.file_ignores(codes):
            result.suppressed.append(finding)
            continue
        directive = suppressions.match(codes, dict.fromkeys((span.line, stmt_line)))
        if directive is not None:
            result.suppressed.append(replace(finding, suppressed_reason=directive.reason or ""))
            continue
        result.findings.append(finding)
    if config.report_unused_suppressions:
        _report_unused(suppressions, pf, result)
    return result


def _run_rules(ctx: Context, pf: ParsedFile, rules: Sequence[type], deep: bool, result: FileResult) -> None:
    """One walk with every rule's visitors; a rule that crashes is reported and disabled for the file."""
    instances = [v for cls in rules for v in cls(ctx).visitors()]

    def on_error(visitor, node, exc):
        if isinstance(exc, RecursionError) and not deep:
            raise _TooDeep()  # retried on a big stack; a rule that still recurses forever is reported then
        code = getattr(visitor, "code", type(visitor).__name__)
        tb = traceback.extract_tb(exc.__traceback__)
        where = f" ({Path(tb[-1].filename).name}:{tb[-1].lineno})" if tb else ""
        result.errors.append(
            FileError(pf.display, _safe_line(ctx, node), f"rule {code} crashed and was disabled for this file: {type(exc).__name__}: {exc}{where}", "internal")
        )

    try:
        Walker(ctx, instances, on_error).run()
    except RecursionError:
        raise _TooDeep() from None


def _candidates(ctx: Context, pf: ParsedFile, config: Config, deep: bool, result: FileResult) -> list:
    """The reports the selection keeps, with their positions: (report, span, statement line, codes)."""
    selection = Selection.of(config)
    candidates = []
    for rep in ctx.reports:
        try:
            span = ctx.span(rep.node)
            stmt_line = ctx.line(ctx.statement_of(rep.node))
        except RecursionError:
            if not deep:
                raise _TooDeep() from None
            result.errors.append(FileError(pf.display, None, TOO_DEEP, "limit"))
            break
        except Exception as exc:  # pragma: no cover - position metadata failure
            result.errors.append(FileError(pf.display, None, f"internal error computing a position: {exc}", "internal"))
            continue
        codes = rep.codes or (rep.rule.code,)
        if rep.rule.code.startswith(("QL1", "QL4")) and (under_prefetch_check(rep.node, ctx) or under_attribute_fallback(rep.node, ctx)):
            continue  # ``if is_prefetched(obj, "tags"): len(obj.tags.all())``; ``except AttributeError:`` after ``obj.tag_count``
        if not selection.enabled(rep.rule, codes):
            continue  # a variant the selection leaves out (``ignore = ["QL120"]`` on a merged rule)
        candidates.append((rep, span, stmt_line, codes))
    return candidates


def _finding(rep, span: Span, codes, pf: ParsedFile, ctx: Context) -> Finding:
    """A report as a finding: raised a level when it runs per request (rules that ask for it),
    with where it runs (context) and how sure querylint is (confidence)."""
    index, config = ctx.index, ctx.config
    severity = rep.severity or rep.rule.severity
    message = rep.message
    hit = request_context(index, config, rep.function)
    offline = offline_only(index, config, rep.function) if hit is None else None
    context = finding_context(
        pf.relpath, config, hit, _only_tests_call(rep.function, ctx), _standalone_script(pf.relpath, ctx), offline, _program_module(pf.relpath, ctx)
    )
    if rep.rule.per_request_escalation:
        if hit is not None:
            entry, path = hit
            severity = severity.raised()
            via = ""
            if len(path) > 1:
                via = " via " + " -> ".join(p.rsplit(".", 1)[-1] + "()" for p in path)
            message = f"{message} (per request: {entry}{via})"
    per_item = [loop for loop in rep.loops if classify_loop(loop, ctx) == "items"]
    confidence = cap(_scaled(rep, ctx), context, rep.rule.released_at_exit, rep.rule.one_off_too)
    return Finding(
        pf.display, span, rep.rule.code, rep.rule.name, severity, message, None, rep.notes, codes[1:], rep.fix,
        confidence, context,
        rep.function, ctx.loop_line(per_item[-1]) if per_item else None, len(per_item), rep.edits, rep.fix_safety,
    )


def _report_unused(suppressions, pf: ParsedFile, result: FileResult) -> None:
    """QL001: suppression comments (ours) that silenced nothing."""
    for d in suppressions.directives():
        if d.style == "noqa" and (d.codes is None or not any(c.startswith("QL") for c in d.codes)):
            continue  # a flake8/ruff noqa: not ours to judge
        if d.used:
            unused = [c for c in (d.codes or ()) if c.startswith("QL") and not any(u.startswith(c) for u in d.used)]
            if not unused:
                continue
            what = ", ".join(unused)
        else:
            what = ", ".join(d.codes) if d.codes else "every rule"
        span = Span(d.line, d.column, d.line, d.column + 1)
        result.findings.append(
            Finding(pf.display, span, UNUSED_SUPPRESSION[0], UNUSED_SUPPRESSION[1], Severity.INFO, f"suppression of {what} silences nothing here")
        )
