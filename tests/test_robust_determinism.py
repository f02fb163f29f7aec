"""Determinism: the same input gives byte-identical reports, whatever the hash seed, the number
of worker processes, or the state of the cache.

The project is a copy of the repository's fixtures (every family's findings, suppressions and
traps) plus enough generated files to cross the worker pool's threshold, so ``--jobs 2`` really
runs in two processes.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import List

import pytest

from querylint.cli import main
from querylint.report.reporters import FORMATTERS

ROOT = Path(__file__).resolve().parent.parent

try:
    from querylint.run.parallel import PARALLEL_THRESHOLD
except ImportError:  # pragma: no cover - before the worker pool existed
    PARALLEL_THRESHOLD = 0

pytestmark = pytest.mark.slow

HAS_JOBS = any(p.name == "jobs" for p in main.params)

LOOP = '''import sqlite3


def report_{n}(ids):
    conn = sqlite3.connect("app.db")
    cur = conn.cursor()
    for i in ids:
        cur.execute("SELECT name FROM users WHERE id = ?", (i,))
    return [helper_{n}(cur, i) for i in ids]


def helper_{n}(cur, i):
    cur.execute("SELECT price FROM prices WHERE id = %s" % i)
    return cur.fetchone()
'''


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("determinism")
    shutil.copytree(ROOT / "fixtures", root / "fixtures")
    (root / "pyproject.toml").write_text("[tool.querylint]\nselect = ['ALL']\n", encoding="utf-8")
    gen = root / "generated"
    gen.mkdir()
    for n in range(max(60, PARALLEL_THRESHOLD + 10)):
        (gen / f"mod_{n:03d}.py").write_text(LOOP.format(n=n), encoding="utf-8")
    (gen / "broken.py").write_text("def f(:\n", encoding="utf-8")
    return root


def run(project: Path, args: List[str], seed: str = "0") -> bytes:
    env = {**os.environ, "PYTHONHASHSEED": seed, "NO_COLOR": "1"}
    proc = subprocess.run([sys.executable, "-m", "querylint", *args, "."], cwd=project, env=env, capture_output=True, timeout=600)
    assert proc.returncode == 1, proc.stderr.decode()[-3000:]
    assert b"Traceback" not in proc.stderr
    return proc.stdout


def test_two_runs_are_byte_identical_across_hash_seeds(project):
    first = run(project, ["--no-cache", "--format", "json"], seed="1")
    second = run(project, ["--no-cache", "--format", "json"], seed="12345")
    assert first == second
    assert first.count(b'"rule"') > 50  # a real report, not an empty one


@pytest.mark.parametrize("fmt", sorted(set(FORMATTERS) - {"json"}))
def test_every_format_is_stable(project, fmt):
    assert run(project, ["--no-cache", "--format", fmt], seed="7") == run(project, ["--no-cache", "--format", fmt], seed="8")


@pytest.mark.skipif(not HAS_JOBS, reason="querylint has no --jobs option yet")
def test_jobs_1_and_jobs_2_are_byte_identical(project):
    one = run(project, ["--no-cache", "--format", "json", "--jobs", "1"], seed="3")
    two = run(project, ["--no-cache", "--format", "json", "--jobs", "2"], seed="4")
    assert one == two


@pytest.mark.skipif(not HAS_JOBS, reason="querylint has no --jobs option yet")
def test_cold_and_warm_cache_are_byte_identical(project, tmp_path):
    cache = tmp_path / "cache"
    cold = run(project, ["--cache-dir", str(cache), "--format", "json", "--jobs", "2"], seed="5")
    warm = run(project, ["--cache-dir", str(cache), "--format", "json", "--jobs", "1"], seed="6")
    uncached = run(project, ["--no-cache", "--format", "json"], seed="9")
    assert cold == warm == uncached
