"""Command line: ``querylint [PATH...]``. Flags, not subcommands, so a folder named ``rules`` still lints."""
from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path
from typing import List, Optional, Tuple

import click

from querylint import __version__
from querylint.api import check_selection, lint_paths
from querylint.result import merge_results
from querylint.run.baseline import BaselineError, apply_baseline, attach_fingerprints, read_baseline, write_baseline
from querylint.run.gitdiff import GitDiffError, changed_lines, filter_findings
from querylint.run.workers import WorkerError, default_jobs
from querylint.run.config import ConfigError, find_config_file, find_project_root, load_config, merge_cli
from querylint.run.discovery import PathError, why_nothing
from querylint.run.progress import Progress, wanted as progress_wanted
from querylint.plugins import RuleConflict, load_registry, select_rules
from querylint.run.catalogue import Catalogue
from querylint.report.reporters import FORMATTERS, format_errors_text, format_statistics, format_summary_text

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
CACHE_FOLDER = ".querylint_cache"


def _codes(values: Tuple[str, ...]) -> Optional[Tuple[str, ...]]:
    if not values:
        return None
    out: List[str] = []
    for v in values:
        out.extend(c.strip() for c in v.split(",") if c.strip())
    if not out:
        _fail(f'expected rule codes or prefixes like "QL101" or "QL1", got {", ".join(repr(v) for v in values)}')
    return tuple(out)


def _use_colour() -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return sys.stdout.isatty()


def _fail(message: str) -> None:
    click.echo(f"querylint: error: {message}", err=True)
    sys.exit(EXIT_ERROR)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--format", "output_format", type=click.Choice(sorted(set(FORMATTERS) | {"markdown"})), default="text", show_default=True, help="Output format (markdown: --report only).")
@click.option("--select", multiple=True, help="Rule codes or prefixes to enable (replaces the defaults), comma-separated.")
@click.option("--extend-select", multiple=True, help="Rule codes or prefixes to enable on top of the selection.")
@click.option("--ignore", multiple=True, help="Rule codes or prefixes to disable.")
@click.option("--config", "config_path", type=click.Path(path_type=Path, dir_okay=False), help="Read settings from this file instead of the nearest pyproject.toml.")
@click.option("--preview", is_flag=True, default=None, help="Enable preview rules.")
@click.option("--report-unused-suppressions", is_flag=True, default=None, help="Report suppression comments that silence nothing (QL001).")
@click.option("--min-confidence", type=click.Choice(["low", "medium", "high"]), default=None,
              help="Show findings of this confidence and above (default: high; medium adds commands, scripts and weaker evidence; low adds test and seed code).")
@click.option("--statistics", is_flag=True, help="Print the number of findings per rule instead of each finding.")
@click.option("--output", "output_file", type=click.Path(path_type=Path, dir_okay=False), help="Write the report to this file instead of stdout.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when problems are found.")
@click.option("-q", "--quiet", is_flag=True, help="Print findings only, no summary line.")
@click.option("--diff", "diff_ref", metavar="REF", help="Report only findings on lines added or changed since the merge base with the git ref REF.")
@click.option("--baseline", "baseline_file", type=click.Path(path_type=Path, dir_okay=False), help="Report only findings not recorded in this baseline file.")
@click.option("--write-baseline", "write_baseline_file", type=click.Path(path_type=Path, dir_okay=False), help="Record every current finding in this baseline file and exit 0.")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the cache.")
@click.option("--cache-dir", type=click.Path(path_type=Path, file_okay=False), help="Cache folder (default: .querylint_cache at the project root).")
@click.option("--progress/--no-progress", default=None, help="Show files done on stderr during a long run (default: on a terminal, for the text format, outside CI).")
@click.option("--shard", metavar="I/N", callback=lambda _ctx, _param, value: _shard(value), help="Lint the I-th of N parts of the files (a CI job matrix); each part uses the whole project's index.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None, help="Worker processes (default: the number of cores).")
@click.option("--report", "cost_report", is_flag=True, help="Print the query-cost report: every view, route, task and command with the queries and connections it reaches (text, json or markdown).")
@click.option("--fix", is_flag=True, help="Apply the fixes querylint is certain of (then report what remains).")
@click.option("--unsafe-fixes", is_flag=True, help="With --fix or --fix-diff: also apply fixes that may change behaviour beyond the number of queries.")
@click.option("--fix-diff", is_flag=True, help="Print the fixes as a unified diff without writing them (exit 1 when there are some).")
@click.option("--fail-on-regression", is_flag=True, help="With --report --diff REF: exit 1 when an endpoint's query cost or connections grow.")
@click.option("--lsp", is_flag=True, help="Run the language server over stdio (also: `querylint lsp`); needs `pip install 'querylint[lsp]'`.")
@click.option("--list-rules", is_flag=True, help="List every rule and exit.")
@click.option("--explain", metavar="CODE", help="Print a rule's documentation (ALL: every rule, as Markdown) and exit.")
@click.version_option(__version__, "--version", prog_name="querylint", message="%(prog)s %(version)s")
def main(paths, output_format, select, extend_select, ignore, config_path, preview, report_unused_suppressions, min_confidence,
         statistics, output_file, exit_zero, quiet, diff_ref, baseline_file, write_baseline_file, no_cache, cache_dir,
         progress, shard, jobs, cost_report, fix, unsafe_fixes, fix_diff, fail_on_regression, lsp, list_rules, explain):
    """Find N+1 queries, connection misuse and risky SQL in Python code, without running it."""
    # the linted code's own warnings (invalid escapes met while reading string literals) are
    # not querylint's to print
    warnings.filterwarnings("ignore", category=SyntaxWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    if list_rules:
        _list_rules(_registry())
        return
    if explain is not None:
        _explain(_registry(), explain)
        return

    if lsp or (len(paths) == 1 and str(paths[0]) == "lsp" and not os.path.lexists("lsp")):
        _serve_lsp()  # ``querylint lsp`` (a folder named lsp still lints; ``--lsp`` always serves)
        return
    paths = list(paths) or [Path(".")]
    for p in paths:
        if not os.path.lexists(p):
            _fail(f"{p}: no such file or folder")
    if output_format == "markdown" and not cost_report:
        _fail("--format markdown is for --report; findings come as text, json, sarif, github or gitlab")
    if cost_report:
        flags = (select, extend_select, ignore, preview, report_unused_suppressions, min_confidence)
        _cost_report(_registry(), paths, config_path, output_format, output_file, jobs, flags, diff_ref, fail_on_regression)
    elif fail_on_regression:
        _fail("--fail-on-regression goes with --report --diff REF")
    flags = (select, extend_select, ignore, preview, report_unused_suppressions, min_confidence)
    cwd = Path.cwd()
    known = _read_baseline(baseline_file) if baseline_file is not None else None
    changed = _changed_lines(diff_ref, cwd) if diff_ref is not None else None
    fingerprinted = known is not None or write_baseline_file is not None or output_format in ("gitlab", "sarif")
    lint_args = (paths, config_path, flags, cwd, no_cache, cache_dir, jobs, progress_wanted(progress, output_format), shard, fingerprinted)
    result, projects = _lint_all(*lint_args)
    fixed = 0
    if fix or fix_diff:
        fixed = _apply_fixes(result, cwd, unsafe_fixes, fix_diff)
        if fixed and not fix_diff:
            result, projects = _lint_all(*lint_args)  # what remains
    if changed is not None:
        result.outside_diff = filter_findings(result, changed, cwd)
    if write_baseline_file is not None:
        _write_baseline_and_exit(result, write_baseline_file)
    if known is not None:
        apply_baseline(result, known)

    _report(result, output_format, statistics, output_file, quiet)
    if fixed and not fix_diff:
        click.echo(f"querylint: fixed {fixed} problem{'s' if fixed != 1 else ''}", err=True)
    if result.summary()["files"] == 0 and not result.errors:
        for group, config, root in projects:  # "Found 0 problems in 0 files" alone says nothing
            why = why_nothing(group, config, root)
            if why is not None:
                click.echo(f"querylint: note: {why}", err=True)
    code = result.exit_code
    if fix_diff and fixed and code == EXIT_CLEAN:
        code = EXIT_FINDINGS  # the preview found something to fix
    if exit_zero and code == EXIT_FINDINGS:
        code = EXIT_CLEAN
    sys.exit(code)


def _cost_report(registry, paths, config_path, output_format, output_file, jobs, flags, diff_ref=None, fail_on_regression=False) -> None:
    """``--report``: lint each project keeping its index, then add the sites up per endpoint;
    with ``--diff REF``, the same for the merge base (read from git objects) and the changes."""
    from querylint.report import cost

    if output_format not in ("text", "json", "markdown"):
        _fail(f"--report comes as text, json or markdown, not {output_format}")
    cwd = Path.cwd()
    endpoints, errors = _endpoints(registry, paths, config_path, jobs, flags, cwd)
    if diff_ref is None:
        text = {"text": cost.format_text, "markdown": cost.format_markdown}.get(output_format)
        out = text(endpoints) if text is not None else cost.format_json(endpoints, __version__)
        code = EXIT_FINDINGS if any(ep.over_budget for ep in endpoints) else EXIT_CLEAN
    else:
        before, base = _base_endpoints(registry, paths, config_path, jobs, flags, cwd, diff_ref)
        changes = cost.compare(before, endpoints)
        delta = {"text": cost.format_delta_text, "markdown": cost.format_delta_markdown}.get(output_format)
        out = delta(changes, base) if delta is not None else cost.format_delta_json(changes, base, __version__)
        worse = fail_on_regression and any(c.regression for c in changes)
        code = EXIT_FINDINGS if worse or any(ep.over_budget for ep in endpoints) else EXIT_CLEAN
    if output_file is not None:
        output_file.write_text(out, encoding="utf-8")
    else:
        click.echo(out, nl=False)
    if errors:
        from types import SimpleNamespace

        click.echo(format_errors_text(SimpleNamespace(errors=errors)), err=True, nl=False)
    sys.exit(EXIT_FINDINGS if errors or code == EXIT_FINDINGS else EXIT_CLEAN)


def _endpoints(registry, paths, config_path, jobs, flags, cwd: Path):
    """(every endpoint of the projects the paths belong to, worst first; the files' errors)."""
    from querylint.report import cost
    from querylint.run.discovery import display_path

    endpoints = []
    errors = []
    for group, config, root in _configured_projects(registry, paths, config_path, flags):
        try:
            result = lint_paths(group, config, root, registry, cwd=cwd, cache_dir=None, jobs=jobs or default_jobs(), keep_index=True)
        except (PathError, WorkerError) as exc:
            _fail(str(exc))
        errors.extend(result.errors)
        if result.index is None:
            continue  # no Python file to read
        found = cost.build(result.index, config, result.findings, root.resolve())
        for ep in found:
            ep.path = display_path(root / ep.path, cwd)
        endpoints.extend(found)
    endpoints.sort(key=cost.sort_key)
    return endpoints, errors


def _base_endpoints(registry, paths, config_path, jobs, flags, cwd: Path, ref: str):
    """The endpoints of the merge base of REF and HEAD: its files exported from git objects into
    a temporary folder, linted with the same paths relative to the repository."""
    import tempfile

    from querylint.run.gitdiff import export_commit, merge_base

    toplevel, base = _from_git(merge_base, ref, cwd)
    toplevel = toplevel.resolve()
    with tempfile.TemporaryDirectory(prefix="querylint-base-") as tmp:
        top = Path(tmp)
        try:
            export_commit(toplevel, base, top)
        except GitDiffError as exc:
            _fail(str(exc))
        where = top / cwd.resolve().relative_to(toplevel) if cwd.resolve().is_relative_to(toplevel) else top
        moved = []
        for p in paths:
            rel = Path(p).resolve().relative_to(toplevel) if Path(p).resolve().is_relative_to(toplevel) else None
            if rel is not None and (top / rel).exists():
                moved.append(top / rel)
        if not moved:
            return [], base
        where.mkdir(parents=True, exist_ok=True)
        old = os.getcwd()
        os.chdir(where)  # display paths relative to the same place as the working tree's
        try:
            found, _errors = _endpoints(registry, moved, config_path, jobs, flags, where)
        finally:
            os.chdir(old)
    return found, base


def _serve_lsp() -> None:
    try:
        from querylint.lsp import serve

        import pygls  # noqa: F401
    except ImportError:
        _fail("the language server needs pygls: pip install 'querylint[lsp]'")
    serve()


def _lint_all(paths, config_path, flags, cwd, no_cache, cache_dir, jobs, show_progress, shard, fingerprinted):
    """Lint every project the paths belong to: (merged result, each project's paths, config and root).

    With a cache, the rules' catalogue kept there stands in for the registry until something
    must be linted: a run the cache answers whole imports neither the parser nor the rules."""
    results = []
    projects = []
    for group in _projects(paths, config_path):
        folder = None if no_cache else (cache_dir if cache_dir is not None else _root_before_config(group, config_path) / CACHE_FOLDER)
        catalogue = Catalogue.read(folder) if folder is not None else None
        config = _config(catalogue or _registry(), group, config_path, *flags)
        root = Path(config.root) if config.root else find_project_root(group)
        results.append(_lint(group, config, root, None if catalogue else _registry(), cwd, folder, jobs, show_progress, shard))
        projects.append((group, config, root))
        if fingerprinted:
            attach_fingerprints(results[-1], cwd, root)  # relative to each project's own root
    return merge_results(results), projects


def _root_before_config(group: List[Path], config_path: Optional[Path]) -> Path:
    """The project root the configuration will name (its file's folder, else the nearest root
    marker), found without reading it: the cache folder is there."""
    found = config_path if config_path is not None else find_config_file(group)
    return Path(found).resolve().parent if found is not None else find_project_root(group)


_LOADED: list = []


def _registry():
    """Every installed rule plugin, loaded on first need (a rule code defined twice ends the run)."""
    if not _LOADED:
        try:
            _LOADED.append(load_registry())
        except RuleConflict as exc:
            _fail(str(exc))
    return _LOADED[0]


def _apply_fixes(result, cwd: Path, unsafe: bool, preview: bool) -> int:
    """``--fix``: write the fixes of the findings shown (``--fix-diff``: print them as a diff
    instead). Returns the number of findings fixed."""
    from querylint.run.fixes import plan, unified_diff

    fixed = 0
    for path, old, new, n, problem in plan(result.findings, cwd, unsafe):
        shown = os.path.relpath(path, cwd)
        if problem:
            click.echo(f"querylint: {shown}: not fixed: {problem}", err=True)
            continue
        if preview:
            click.echo(unified_diff(shown, old, new), nl=False)
        else:
            try:
                path.write_text(new, encoding="utf-8")
            except OSError as exc:
                click.echo(f"querylint: {shown}: not fixed: cannot write it: {exc.strerror or exc}", err=True)
                continue
        fixed += n
    return fixed


def _configured_projects(registry, paths, config_path, flags):
    """(paths, configuration, root) for each project the paths belong to."""
    for group in _projects(paths, config_path):
        config = _config(registry, group, config_path, *flags)
        yield group, config, Path(config.root) if config.root else find_project_root(group)


def _projects(paths: List[Path], config_path: Optional[Path]) -> List[List[Path]]:
    """The given paths grouped by the project each belongs to (its nearest root marker, else the
    folder above its outermost package), in the order given. Paths from unrelated folders (the
    standard library's ``json`` and a project in ``/tmp``) are linted as separate projects, each
    with its own index, configuration and cache, never as one project rooted at their common
    ancestor. ``--config`` names one configuration, so one project."""
    if config_path is not None or len(paths) < 2:
        return [list(paths)]
    roots: dict = {}
    groups: dict = {}
    for p in paths:
        folder = Path(p).parent if not Path(p).is_dir() else Path(p)
        if folder not in roots:
            roots[folder] = find_project_root([Path(p)])
        groups.setdefault(roots[folder], []).append(Path(p))
    if len(groups) == 1:
        return [list(paths)]
    return list(groups.values())


def _config(registry, paths, config_path, select, extend_select, ignore, preview, report_unused_suppressions, min_confidence):
    """The configuration file's settings (``--config``'s, else the nearest), overridden by the flags."""
    try:
        if config_path is not None:
            config = load_config(config_path, registry.option_keys(), explicit=True)
        else:
            config = load_config(find_config_file(paths), registry.option_keys())
        config = merge_cli(
            config,
            select=_codes(select),
            extend_select=_codes(extend_select),
            ignore=_codes(ignore),
            preview=preview,
            report_unused_suppressions=report_unused_suppressions,
            min_confidence=min_confidence,
        )
        check_selection(registry, config)
    except ConfigError as exc:
        _fail(str(exc))
    return config


def _read_baseline(baseline_file):
    try:
        return read_baseline(baseline_file)
    except BaselineError as exc:
        _fail(str(exc))


def _changed_lines(diff_ref, cwd):
    """``--diff REF``: the lines changed since the merge base (notes go to stderr)."""
    changed, _base = _from_git(changed_lines, diff_ref, cwd)
    return changed


def _from_git(step, *args):
    """A git step's answer without its notes (printed to stderr); its error ends the run."""
    try:
        *answer, notes = step(*args)
    except GitDiffError as exc:
        _fail(str(exc))
    for note in notes:
        click.echo(f"querylint: note: {note}", err=True)
    return answer


def _shard(value: Optional[str]) -> Optional[Tuple[int, int]]:
    """``--shard 2/4`` as (2, 4)."""
    if value is None:
        return None
    parts = value.split("/")
    if len(parts) == 2 and all(p.strip().isdigit() for p in parts):
        i, n = int(parts[0]), int(parts[1])
        if 1 <= i <= n:
            return i, n
    raise click.BadParameter(f"expected I/N with 1 <= I <= N (say 2/4), got {value!r}", param_hint="--shard")


def _lint(paths, config, root, registry, cwd, cache_folder, jobs, show_progress: bool = False, shard=None):
    progress = Progress() if show_progress else None
    try:
        result = lint_paths(paths, config, root, registry, cwd=cwd, cache_dir=cache_folder, jobs=jobs or default_jobs(), progress=progress, shard=shard)
    except PathError as exc:
        _fail(str(exc))
    except WorkerError as exc:
        _fail(f"internal error in a worker process:\n{exc}")
    finally:
        if progress is not None:
            progress.close()
    if result.cache_note:
        click.echo(f"querylint: note: cache {result.cache_note}; rebuilt", err=True)
    return result


def _write_baseline_and_exit(result, write_baseline_file) -> None:
    try:
        n = write_baseline(result, write_baseline_file)
    except OSError as exc:
        _fail(f"--write-baseline {write_baseline_file}: cannot write the baseline: {exc.strerror or exc}")
    click.echo(f"querylint: wrote {n} finding{'s' if n != 1 else ''} to the baseline {write_baseline_file}", err=True)
    sys.exit(EXIT_ERROR if result.internal_errors else EXIT_CLEAN)


def _report(result, output_format, statistics, output_file, quiet) -> None:
    """The report to stdout (or ``--output``), errors and the summary to stderr."""
    colour = _use_colour() and output_file is None
    if statistics and output_format == "text":
        text = format_statistics(result)
    elif output_format == "text":
        text = FORMATTERS["text"](result, colour=colour)
    else:
        text = FORMATTERS[output_format](result)
    if output_file is not None:
        try:
            output_file.write_text(text, encoding="utf-8")
        except OSError as exc:
            _fail(f"--output {output_file}: cannot write the report: {exc.strerror or exc}")
    else:
        click.echo(text, nl=False, color=colour or None)
    if output_format == "text" or output_file is not None:
        err = format_errors_text(result)
        if err:
            click.echo(err, err=True, nl=False)
        if not quiet and output_format == "text":
            click.echo(format_summary_text(result), err=True, nl=False)
    elif result.errors:
        click.echo(format_errors_text(result), err=True, nl=False)


def _list_rules(registry) -> None:
    enabled = {r.code for r in select_rules(registry, None, (), (), False)}
    rows = []
    for rule in registry.sorted_rules():
        state = "on" if rule.code in enabled else ("preview" if rule.preview else "off")
        rows.append((rule.code, rule.name, state, ",".join(rule.aliases) or "-", rule.summary()))
    w = max((len(r[1]) for r in rows), default=4)
    wa = max((len(r[3]) for r in rows), default=7)
    click.echo(f"{'code':<6}  {'name':<{w}}  {'default':<7}  {'aliases':<{wa}}  summary")
    for code, name, state, aliases, summary in rows:
        click.echo(f"{code:<6}  {name:<{w}}  {state:<7}  {aliases:<{wa}}  {summary}")


def _explain(registry, code: str) -> None:
    code = code.strip().upper()
    if code == "ALL":
        from querylint.report.docs import rules_markdown

        click.echo(rules_markdown(registry), nl=False)
        return
    rule = registry.find(code)
    if rule is None:
        _fail(f"--explain: unknown rule {code!r}; see `querylint --list-rules`")
    if code != rule.code and code in rule.aliases:
        click.echo(f"{code} is now part of {rule.code} ({rule.name}); {code} keeps working as an alias.\n")
    state = "on by default" if rule.default_enabled and not rule.preview else ("preview" if rule.preview else "off by default")
    click.echo(f"{rule.code} ({rule.name}) [{state}, severity {rule.severity.value}]\n")
    click.echo(rule.documentation())
