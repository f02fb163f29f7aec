"""Corpus sweep: lint large amounts of real code with every registered rule enabled.

The standard library of the running interpreter, and the installed sources of Django, Django
REST Framework and SQLAlchemy. Whatever rules exist when the suite runs are all selected, so the
sweep keeps protecting the project as rule families are added.

Checked for each corpus:
- no exception escapes and no internal error (a rule crash names the rule and the file);
- every file is accounted for: the number of files linted equals an independent count of the
  ``.py`` files, none skipped;
- a file is reported as unreadable only when CPython itself cannot compile it either (the
  standard library ships a few on purpose: bad encodings, Python 2 grammar test data).

Cost, measured on the development machine (Python 3.11, 2 cores shared with other jobs, load
6-8, Nov 2026): 5.5 minutes wall for the whole sweep with 2 worker processes (stdlib 1,790
files in 4 chunks: 123 s for ``test/``, 12-30 s for the others; Django 885 files 67 s;
SQLAlchemy 48 s; DRF 6 s), about 2.5 CPU minutes. The whole ``.ci/run`` took 13 minutes of
its 90-minute budget, so the full corpora are swept, not a subset. The standard library is
linted in fixed chunks (by top-level name, balanced by bytes) so that no single run holds every
parsed tree in memory at once (the whole stdlib in one run peaked near 2 GB); each chunk is
still a whole-project run (index, call graph, rules). Marked ``slow``; ``.ci/run`` runs it
(plain ``pytest``).
"""
from __future__ import annotations

import ast
import os
import re
import sysconfig
import time
import warnings
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import pytest

from querylint.api import LintResult, lint_paths
from querylint.run.config import Config
from querylint.run.source import SourceError, decode_source
from querylint.testing import registry

pytestmark = pytest.mark.slow

STDLIB = Path(sysconfig.get_paths()["stdlib"])
STDLIB_CHUNKS = 4
JOBS = 2


def _site_package(name: str) -> Path:
    module = pytest.importorskip(name)
    return Path(module.__file__).resolve().parent


def _top_entries(root: Path) -> List[str]:
    """Top-level names under ``root`` that can hold Python files (site-packages never)."""
    out = []
    for entry in sorted(os.listdir(root)):
        p = root / entry
        if entry == "site-packages" or p.is_symlink():
            continue
        if (p.is_dir() and not (p / "pyvenv.cfg").exists()) or entry.endswith(".py"):
            out.append(entry)
    return out


def _expected_files(root: Path, entries: Sequence[str]) -> List[Path]:
    """The .py files querylint should find, and the templates (a template suffix inside a
    ``templates``/``jinja2`` folder): an independent walk (no symlinked folders)."""
    out = []
    for entry in entries:
        p = root / entry
        if p.is_file():
            out.append(p)
            continue
        for dirpath, dirnames, filenames in os.walk(p):
            dirnames[:] = [d for d in dirnames if not Path(dirpath, d).is_symlink() and not Path(dirpath, d, "pyvenv.cfg").exists()]
            in_templates = any(part in ("templates", "jinja2", "jinja_templates") for part in Path(dirpath).relative_to(root).parts)
            out.extend(Path(dirpath, f) for f in filenames if f.endswith(".py") or (in_templates and f.endswith((".html", ".htm", ".jinja", ".jinja2", ".j2", ".txt", ".xml"))))
    return out


def _exclude_others(root: Path, keep: Sequence[str]) -> Tuple[str, ...]:
    """Exclude patterns (anchored at ``root``) for every top-level entry not in ``keep``."""
    patterns = ["site-packages", "__pycache__"]
    for entry in sorted(os.listdir(root)):
        if entry in keep:
            continue
        patterns.append(f"./{entry}")  # has a '/': matches the top-level entry only
    return tuple(patterns)


def _cpython_rejects(path: Path) -> bool:
    """True when the running interpreter cannot read or compile the file either."""
    raw = path.read_bytes()
    try:
        text = decode_source(raw)
    except SourceError:
        return True
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(text, str(path), "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    except (SyntaxError, ValueError):
        return True
    return False


# Syntax CPython accepts but libcst cannot parse (the file is reported, with libcst's message).
KNOWN_LIBCST_GAPS = (
    (re.compile(r"^\s*\([\w.]+\)\s*:"), "a parenthesised annotated target: `(x): int`"),
)


def _known_libcst_gap(path: Path, line) -> bool:
    if not line:
        return False
    lines = decode_source(path.read_bytes()).splitlines()
    near = lines[max(0, line - 2): line]
    return any(rx.match(text) for rx, _why in KNOWN_LIBCST_GAPS for text in near)


def sweep(root: Path, keep: Sequence[str]) -> Tuple[LintResult, List[Path], float]:
    config = Config(
        select=("ALL",),
        exclude=_exclude_others(root, keep),
        respect_gitignore=False,
        exclude_tests=False,
        exclude_migrations=False,
    )
    expected = _expected_files(root, keep)
    start = time.perf_counter()
    result = lint_paths([root], config, root, registry(), cwd=root, jobs=JOBS)
    return result, expected, time.perf_counter() - start


def check(root: Path, result: LintResult, expected: List[Path]) -> None:
    internal = [f"{e.path}:{e.line}: [{e.kind}] {e.message}" for e in result.errors if e.kind not in ("syntax", "decode", "read")]
    assert not internal, "internal errors:\n" + "\n".join(internal[:50])
    assert result.skipped == 0
    assert result.files == len(expected), (result.files, len(expected))
    by_path: Dict[str, Path] = {p.relative_to(root).as_posix(): p for p in expected}
    for e in result.errors:
        assert e.path in by_path, f"error for a file that is not in the corpus: {e}"
        if not _cpython_rejects(by_path[e.path]):
            assert _known_libcst_gap(by_path[e.path], e.line), f"querylint could not read a file CPython compiles: {e}"
    for f in result.findings:
        assert f.path in by_path, f
        assert f.span.line >= 1 and f.span.column >= 1, f


def _stdlib_chunks() -> List[List[str]]:
    """Top-level stdlib entries in STDLIB_CHUNKS groups of similar size in bytes (deterministic)."""
    entries = _top_entries(STDLIB)
    sizes = {e: sum(p.stat().st_size for p in _expected_files(STDLIB, [e])) for e in entries}
    chunks: List[List[str]] = [[] for _ in range(STDLIB_CHUNKS)]
    load = [0] * STDLIB_CHUNKS
    for e in sorted(entries, key=lambda e: (-sizes[e], e)):
        i = load.index(min(load))
        chunks[i].append(e)
        load[i] += sizes[e]
    return [sorted(c) for c in chunks]


@pytest.mark.parametrize("chunk", range(STDLIB_CHUNKS), ids=[f"stdlib-{i + 1}of{STDLIB_CHUNKS}" for i in range(STDLIB_CHUNKS)])
def test_standard_library(chunk):
    keep = _stdlib_chunks()[chunk]
    result, expected, seconds = sweep(STDLIB, keep)
    check(STDLIB, result, expected)
    assert len(expected) > 50  # the chunk really held code
    print(f"stdlib chunk {chunk + 1}: {len(expected)} files, {len(result.errors)} unreadable, {len(result.findings)} findings, {seconds:.0f}s")


@pytest.mark.parametrize("package", ["django", "rest_framework", "sqlalchemy"])
def test_installed_framework_sources(package):
    pkg = _site_package(package)
    result, expected, seconds = sweep(pkg.parent, [pkg.name])
    check(pkg.parent, result, expected)
    assert not result.errors, result.errors  # installed for this interpreter: everything compiles
    assert len(expected) > 50
    print(f"{package}: {len(expected)} files, {len(result.findings)} findings, {seconds:.0f}s")
