"""The fast facts pass: Python's ``ast`` gives exactly the facts libcst's tree gives."""
from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest

from querylint.engine import parse_file
from querylint.project.ast_facts import collect_facts_ast

ROOT = Path(__file__).resolve().parent.parent


def _python_files(folder: Path):
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d != "__pycache__")
        for name in sorted(filenames):
            if name.endswith(".py"):
                yield Path(dirpath) / name


def _unequal(root: Path, folder: Path):
    """The files under ``folder`` whose ``ast`` facts differ from libcst's."""
    bad, seen = [], 0
    for path in _python_files(folder):
        rel = path.relative_to(root).as_posix()
        pf = parse_file(path, rel, rel)
        if pf.facts is None:
            continue
        seen += 1
        text = pf.source or ""
        if collect_facts_ast(ast.parse(text), text, rel) != pf.facts:
            bad.append(rel)
    return seen, bad


@pytest.mark.parametrize("folder", ["fixtures", "querylint", "rules", "tests"])
def test_ast_facts_equal_libcst_facts_on_our_own_trees(folder):
    seen, bad = _unequal(ROOT, ROOT / folder)
    assert seen >= 10
    assert not bad, f"{len(bad)} of {seen} files differ, e.g. {bad[:5]}"


@pytest.mark.slow
@pytest.mark.parametrize("package", ["django", "sqlalchemy"])
def test_ast_facts_equal_libcst_facts_on_a_large_real_tree(package):
    module = pytest.importorskip(package)
    folder = Path(module.__file__).parent
    seen, bad = _unequal(folder.parent, folder)
    assert seen > 200
    assert not bad, f"{len(bad)} of {seen} files differ, e.g. {bad[:5]}"
