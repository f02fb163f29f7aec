"""The files of one lint run: what the paths name (the targets), what the project index covers
around them, how each is shown, and the answers the cache holds for them. Light: no parser and
no rule is imported, so a run the cache answers whole never loads them."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Set, Tuple

from querylint.result import LintResult
from querylint.run.cache import Cache, digest
from querylint.run.config import Config, is_project_root, package_root
from querylint.run.discovery import discover, display_path, rel_real, resolve_path
from querylint.templates.files import template_suffix


@dataclass(frozen=True)
class Entry:
    key: str  # the resolved absolute path
    path: str  # the path as discovered
    relpath: str  # relative to the project root
    display: str  # relative to the working folder


class RunFiles:
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


def _working_folder(root: Path, cwd: Path) -> bool:
    """``root`` is the folder querylint runs in (``querylint app/views.py`` from an exported tree
    without packaging): its files import each other from there. Never the filesystem's root or
    the home folder."""
    here = resolve_path(Path(cwd))
    return here == root and root != Path(root.anchor) and root != resolve_path(Path.home())


def entries_of(paths, config: Config, root: Path, cwd: Path, targets: List[Path], real: Dict[Path, Path], target_keys: Set[Path]) -> List[Entry]:
    """Every file the index covers, once each: the targets, and the rest of the project under
    ``root`` when only some of its files are linted (pre-commit; their real paths join ``real``)."""
    index_files = list(targets)
    walked_root = any(Path(p).is_dir() and resolve_path(Path(p)) == root for p in paths)
    if not walked_root and all(_under(p, root) for p in target_keys):
        # a root without a project marker is only the common ancestor of the paths (``/`` for a
        # stdlib package and a temporary folder): then index the folder of each given file (its
        # models and helpers), never everything under the ancestor; unless it is the folder the
        # run started in
        around = [root] if is_project_root(root) or _working_folder(root, cwd) else _around_files(paths)
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


def template_hashes(run: RunFiles) -> None:
    """A template's findings depend on the templates it includes or extends and on those that
    include it: its cache key is its own content with every template's."""
    if not run.templates:
        return
    together = digest(sorted((e.relpath, run.hashes[e.key]) for e in run.templates))
    for e in run.templates:
        if run.hashes[e.key]:
            run.hashes[e.key] = digest(run.hashes[e.key], together)


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


def lint_keys(targets, real, by_key, config: Config, file_errors, templates: Optional[bool] = None) -> Tuple[List[str], int]:
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


def from_cache(result: LintResult, cache: Cache, targets, real, by_key, hashes, config: Config) -> bool:
    """Fill ``result`` from cached per-file results; False (and ``result`` untouched) when one is missing."""
    keys, skipped = lint_keys(targets, real, by_key, config, {})
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


