"""Which files to lint: walk folders, skip excluded and git-ignored ones; named files always count."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Dict, FrozenSet, Iterable, List, Optional, Set, Tuple

from querylint.run.config import Config, path_matches
from querylint.templates.files import TEMPLATE_FOLDERS, template_suffix


class PathError(Exception):
    """A path given on the command line does not exist (a usage error, exit 2)."""


def _excluded(rel: str, patterns: Iterable[str], given_rel: str = "") -> bool:
    """``rel`` (relative to the root) matches an exclude pattern. A pattern without ``/`` names
    a path part *below* the folder given on the command line (``given_rel``): naming an
    excluded folder explicitly lints it, as in ruff."""
    tail = rel[len(given_rel) + 1:] if given_rel and rel.startswith(given_rel + "/") else rel
    literal, others = _split_patterns(tuple(patterns))
    if literal and not literal.isdisjoint(tail.split("/")):
        return True
    for p in others:
        if "/" not in p.rstrip("/"):
            if path_matches(tail, p):
                return True
        elif path_matches(rel, p):
            return True
    return False


_SPLIT: Dict[Tuple[str, ...], Tuple[FrozenSet[str], Tuple[str, ...]]] = {}


def _split_patterns(patterns: Tuple[str, ...]) -> Tuple[FrozenSet[str], Tuple[str, ...]]:
    """(plain names without ``/`` or glob characters, the other patterns). A plain name matches
    exactly when it equals a path part, so a set lookup replaces the fnmatch calls (hot path)."""
    hit = _SPLIT.get(patterns)
    if hit is None:
        plain = [p.rstrip("/") for p in patterns if "/" not in p.rstrip("/") and not any(c in p for c in "*?[]")]
        others = tuple(p for p in patterns if "/" in p.rstrip("/") or any(c in p for c in "*?[]"))
        hit = _SPLIT[patterns] = (frozenset(x for x in plain if x), others)
    return hit


def _git_ignored(root: Path, candidates: List[Path]) -> Set[Path]:
    """The subset of ``candidates`` that git ignores (empty when git or the repository is absent)."""
    if not candidates or not (root / ".git").exists():
        return set()
    try:
        proc = subprocess.run(
            ["git", "-C", str(root), "check-ignore", "--stdin", "-z"],
            input="\0".join(str(p) for p in candidates).encode("utf-8", "surrogateescape"),
            capture_output=True,
            timeout=60,
        )
    except (OSError, subprocess.SubprocessError):
        return set()
    if proc.returncode not in (0, 1):
        return set()
    return {Path(p) for p in proc.stdout.decode("utf-8", "surrogateescape").split("\0") if p}


def discover(
    paths: Iterable[Path], config: Config, root: Path, resolved: Optional[Dict[Path, Path]] = None
) -> Tuple[List[Path], List[Tuple[Path, str]]]:
    """Return (files to lint, [(path, reason) for entries that could not be read]).

    ``resolved``, when given, receives each returned file's real path (saves resolving again).

    Folders are walked recursively (without following symlinked folders, so loops cannot
    hang the walk); files named explicitly are always linted, excluded or not.
    """
    excludes = tuple(config.exclude) + tuple(config.extend_exclude)
    suffixes = (".py", ".pyi") if config.include_pyi else (".py",)
    explicit: List[Path] = []
    walked: List[Path] = []
    reals: Dict[Path, Path] = {}
    problems: List[Tuple[Path, str]] = []
    for given in paths:
        if not os.path.lexists(given):
            raise PathError(f"{given}: no such file or folder")
        if given.is_file():
            explicit.append(given)
            continue
        if not given.is_dir():
            problems.append((given, _not_a_file(given)))
            continue
        _walk(given, root, excludes, suffixes, walked, reals, problems, config.template_folders)
    if config.respect_gitignore and walked:
        ignored = _git_ignored(root, [reals.get(p) or resolve_path(p) for p in walked])
        if ignored:
            walked = [p for p in walked if (reals.get(p) or resolve_path(p)) not in ignored]
    seen: Set[Path] = set()
    out: List[Path] = []
    for f in explicit + walked:
        key = reals.get(f) or resolve_path(f)
        if key in seen:
            continue
        seen.add(key)
        out.append(f)
        if resolved is not None:
            resolved[f] = key
    return out, problems


def _walk(
    given: Path, root: Path, excludes: Tuple[str, ...], suffixes: Tuple[str, ...],
    walked: List[Path], reals: Dict[Path, Path], problems: List[Tuple[Path, str]], template_folders: Tuple[str, ...] = TEMPLATE_FOLDERS,
) -> None:
    """One folder named on the command line: its files that are not excluded go to ``walked``
    (their real paths to ``reals``), entries that cannot be read to ``problems``; templates
    (a template suffix) only below one of ``template_folders``. Top-down in name order (a
    folder's files, then its sub-folders), as ``os.walk`` with sorted names would go; the
    directory entries say what is a file, a folder or a link, so a plain file costs no
    ``stat`` (the pre-commit run walks the whole project on every commit)."""
    root_s = str(root)
    root_prefix = root_s.rstrip("/") + "/"
    given_real = resolve_path(given)
    given_rel = "" if given_real == root.resolve() else _rel(given, root)
    pending = [(str(given), given_real)]
    while pending:
        dirpath, base_real = pending.pop()
        try:
            with os.scandir(dirpath) as it:
                found = sorted(it, key=lambda entry: entry.name)
        except OSError as exc:
            problems.append((Path(exc.filename or dirpath), f"cannot list the folder: {exc.strerror}"))
            continue
        # symlinked folders are not followed, so a folder's real path is the given folder's
        # real path plus the walked part: no resolve() per entry (hot path)
        base = Path(dirpath)
        base_rel = rel_real(base_real, base, root)  # strings below: few Path objects (hot path)
        rel_prefix = "" if base_rel == "." else base_rel + "/"
        base_real_s = str(base_real)
        under_root = base_real_s == root_s or base_real_s.startswith(root_prefix)
        in_templates = bool(template_folders) and any(part in template_folders for part in rel_prefix.split("/"))
        folders = []
        for entry in found:
            name = entry.name
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            if is_dir:
                rel = rel_prefix + name if under_root else rel_real(base_real / name, Path(entry.path), root)
                if _excluded(rel, excludes, given_rel) or os.path.exists(os.path.join(entry.path, "pyvenv.cfg")) or entry.is_symlink():
                    continue
                folders.append((entry.path, base_real / name))
                continue
            if not name.endswith(suffixes) and not (in_templates and template_suffix(name)):
                continue
            f = base / name
            if entry.is_symlink():
                f_real = resolve_path(f)
                rel = rel_real(f_real, f, root)
            else:
                f_real = None
                rel = rel_prefix + name if under_root else rel_real(base_real / name, f, root)
            if _excluded(rel, excludes, given_rel):
                continue
            reals[f] = f_real or base_real / name
            try:
                regular = entry.is_file()
            except OSError:
                regular = False
            if not regular:  # a FIFO would block the read forever; a symlink loop never resolves
                problems.append((f, _not_a_file(f)))
                continue
            walked.append(f)
        pending.extend(reversed(folders))


def _not_a_file(path: Path) -> str:
    """Why an existing name is neither a regular file nor a folder."""
    try:
        os.stat(path)
    except OSError as exc:
        return f"broken symbolic link: {exc.strerror}" if path.is_symlink() else f"cannot read: {exc.strerror}"
    return "not a regular file or folder"


def resolve_path(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a symlink loop (Python < 3.13 raises)
        return Path(os.path.abspath(path))


def rel_real(real: Path, path: Path, root: Path) -> str:
    """:func:`_rel` for a path whose real path is already known."""
    try:
        return real.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def _rel(path: Path, root: Path) -> str:
    try:
        return resolve_path(path).relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def display_path(path: Path, cwd: Optional[Path] = None) -> str:
    """Path relative to the working folder when below it, posix style."""
    cwd = cwd or Path.cwd()
    try:
        shown = Path(os.path.relpath(path.absolute(), cwd)).as_posix() if not os.path.relpath(path.absolute(), cwd).startswith("..") else path.absolute().as_posix()
    except ValueError:
        shown = path.as_posix()
    # an undecodable file name (surrogate escapes) cannot be written as UTF-8: show U+FFFD instead
    return shown.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def why_nothing(paths: Iterable[Path], config: Config, root: Path) -> Optional[str]:
    """When the given folders hold Python files but every one was left out: what left them out
    (an ignore rule of git, naming the file and line; the ``exclude`` settings), else None."""
    folders = [p for p in paths if p.is_dir()]
    if not folders:
        return None
    suffixes = (".py", ".pyi") if config.include_pyi else (".py",)
    every: List[Path] = []
    for given in folders:
        _walk(given, root, (), suffixes, every, {}, [], ())
        if every:
            break
    if not every:
        return None
    names = ", ".join(str(p) for p in folders)
    excludes = tuple(config.exclude) + tuple(config.extend_exclude)
    kept: List[Path] = []
    for given in folders:
        _walk(given, root, excludes, suffixes, kept, {}, [], ())
    if not kept:
        first = _rel(every[0], root)
        hit = next((p for p in excludes if _excluded(first, (p,))), None) if excludes else None
        what = f"the exclude pattern `{hit}`" if hit else "the exclude settings"
        return f"every Python file under {names} is excluded by {what} (for example {first}); name the files to lint them anyway"
    rule = _git_ignore_rule(root, resolve_path(kept[0]))
    if rule is not None:
        return (
            f"every Python file under {names} is ignored by git ({rule}); name the files to lint them anyway, "
            "or set respect-gitignore = false"
        )
    return None


def _git_ignore_rule(root: Path, path: Path) -> Optional[str]:
    """``.gitignore:3: build/``: the ignore rule git applies to ``path``, if any."""
    try:
        proc = subprocess.run(["git", "-C", str(root), "check-ignore", "-v", str(path)], capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    if proc.returncode != 0:
        return None
    source, _, _rest = proc.stdout.decode("utf-8", "surrogateescape").partition("\t")
    parts = source.split(":", 2)
    return f"{parts[0]}:{parts[1]}: `{parts[2]}`" if len(parts) == 3 else source.strip() or None
