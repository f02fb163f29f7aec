"""``--diff REF``: the lines a change adds, from ``git diff -U0`` against the merge base with REF.

:func:`parse_unified_diff` is pure (diff text → {path: changed line numbers}); :func:`changed_lines`
asks git. Untracked (not ignored) files count as wholly new.
"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Dict, List, Optional, Set, Tuple, Union, cast

from querylint.templates.files import template_suffix

ALL_LINES = None  # marker: every line of the file is new
_HUNK_RE = re.compile(r"^@@ -\d+(?:,\d+)? \+(?P<start>\d+)(?:,(?P<count>\d+))? @@")


class GitDiffError(Exception):
    """The diff cannot be computed (not a repository, unknown REF, missing history): exit 2."""


def _unquote(path: str) -> str:
    if path.startswith('"') and path.endswith('"'):
        body = path[1:-1]
        return body.encode("latin-1", "backslashreplace").decode("unicode_escape").encode("latin-1").decode("utf-8", "replace")
    return path


def parse_unified_diff(text: str) -> Dict[str, Set[int]]:
    """{new path: added/changed line numbers} from ``git diff -U0`` output (deleted files omitted)."""
    out: Dict[str, Set[int]] = {}
    current: Optional[str] = None
    for line in text.splitlines():
        if line.startswith("+++ "):
            target = _unquote(line[4:].rstrip("\t"))
            if target == "/dev/null":
                current = None
            else:
                current = target[2:] if target.startswith("b/") else target
                out.setdefault(current, set())
        elif line.startswith("@@") and current is not None:
            m = _HUNK_RE.match(line)
            if not m:
                continue
            start = int(m.group("start"))
            count = int(m.group("count")) if m.group("count") is not None else 1
            out[current].update(range(start, start + count))
    return out


def _git(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["git", *args], cwd=str(cwd), capture_output=True, text=True, encoding="utf-8", errors="surrogateescape")
    except OSError as exc:
        raise GitDiffError(f"--diff: cannot run git: {exc.strerror or exc}") from None


def changed_lines(ref: str, cwd: Path) -> Tuple[Dict[Path, Union[Set[int], None]], str, List[str]]:
    """({absolute path: changed lines, or None for a new untracked file}, base commit, notes).

    The base is the merge base of REF and HEAD. On a shallow clone whose history does not reach
    the merge base, the base is REF itself (for a pull request's merge commit that is exactly
    the change), with a note saying so.
    """
    toplevel, base, notes = merge_base(ref, cwd)
    diff = _git(toplevel, "diff", "-U0", "--no-color", "--no-ext-diff", "--no-renames", base, "--")
    if diff.returncode != 0:
        raise GitDiffError(f"--diff {ref}: git diff failed: {diff.stderr.strip()}")
    out: Dict[Path, Union[Set[int], None]] = {}
    for rel, lines in parse_unified_diff(diff.stdout).items():
        out[(toplevel / rel).resolve()] = lines
    untracked = _git(toplevel, "ls-files", "--others", "--exclude-standard", "-z")
    if untracked.returncode == 0:
        for rel in untracked.stdout.split("\0"):
            if rel:
                out[(toplevel / rel).resolve()] = ALL_LINES
    return out, base, notes


def merge_base(ref: str, cwd: Path) -> Tuple[Path, str, List[str]]:
    """(the repository's top folder, the merge base of REF and HEAD, notes)."""
    top = _git(cwd, "rev-parse", "--show-toplevel")
    if top.returncode != 0:
        raise GitDiffError(f"--diff {ref}: {cwd} is not inside a git repository")
    toplevel = Path(top.stdout.strip())
    commit = _git(cwd, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if commit.returncode != 0:
        shallow = _git(cwd, "rev-parse", "--is-shallow-repository").stdout.strip() == "true"
        hint = (
            f" This is a shallow clone: fetch it first, e.g. `git fetch --depth=50 origin {ref.split('/')[-1]}`"
            if shallow
            else f" Fetch it first, e.g. `git fetch origin {ref.split('/')[-1]}`"
        )
        raise GitDiffError(f"--diff {ref}: no commit named {ref!r} in this clone.{hint}")
    ref_commit = commit.stdout.strip()
    notes: List[str] = []
    mb = _git(cwd, "merge-base", ref_commit, "HEAD")
    if mb.returncode == 0 and mb.stdout.strip():
        base = mb.stdout.strip()
    else:
        shallow = _git(cwd, "rev-parse", "--is-shallow-repository").stdout.strip() == "true"
        if not shallow:
            raise GitDiffError(f"--diff {ref}: {ref} and HEAD have no common ancestor")
        base = ref_commit
        notes.append(
            f"--diff {ref}: the shallow history does not reach the merge base of {ref} and HEAD; "
            f"comparing with {ref} itself (fetch more history for an exact merge base)"
        )
    return toplevel, base, notes


# what the report of a past commit needs: the code (and its templates: every file with a template
# suffix, whatever folders the configuration names), and what configures querylint and marks a project
_EXPORTED = (".py", ".pyi")
_EXPORTED_NAMES = frozenset({"pyproject.toml", "setup.cfg", "setup.py", "requirements.txt", "Pipfile", "manage.py", ".gitignore"})


def export_commit(toplevel: Path, commit: str, dest: Path) -> int:
    """Write the Python files and templates (and project markers) of ``commit`` under ``dest``, read from the
    git objects: the working tree is never touched. Returns the number of files written."""
    listing = subprocess.run(["git", "ls-tree", "-r", "-z", commit], cwd=str(toplevel), capture_output=True)
    if listing.returncode != 0:
        raise GitDiffError(f"--diff: cannot list {commit}: {listing.stderr.decode('utf-8', 'replace').strip()}")
    wanted = []
    for entry in listing.stdout.split(b"\0"):
        if not entry:
            continue
        meta, _, raw = entry.partition(b"\t")
        parts = meta.split()
        rel = raw.decode("utf-8", "surrogateescape")
        if len(parts) == 3 and parts[1] == b"blob" and (rel.endswith(_EXPORTED) or rel.rsplit("/", 1)[-1] in _EXPORTED_NAMES or template_suffix(rel)):
            wanted.append((parts[2].decode(), rel))
    proc = subprocess.Popen(["git", "cat-file", "--batch"], cwd=str(toplevel), stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    written = 0
    try:
        for sha, rel in wanted:
            proc.stdin.write(sha.encode() + b"\n")
            proc.stdin.flush()
            header = proc.stdout.readline().split()
            if len(header) < 3 or header[1] != b"blob":
                continue
            data = proc.stdout.read(int(header[2]))
            proc.stdout.read(1)
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            written += 1
    finally:
        proc.stdin.close()
        proc.wait()
    return written


def filter_findings(result, changed: Dict[Path, Union[Set[int], None]], cwd: Path) -> int:
    """Keep only findings on changed lines (errors are kept); returns how many were dropped."""
    keep = []
    cache: Dict[str, Path] = {}
    for f in result.findings:
        p = cache.get(f.path)
        if p is None:
            p = Path(f.path)
            p = (p if p.is_absolute() else cwd / p).resolve()
            cache[f.path] = p
        if p in changed and (changed[p] is ALL_LINES or f.span.line in cast(Set[int], changed[p])):
            keep.append(f)
    dropped = len(result.findings) - len(keep)
    result.findings = keep
    return dropped
