"""Safety: querylint never imports, executes or evaluates the code it reads, never follows
``.pth``-style path hacks, and writes nothing outside its cache folder.

The hostile project below would leave a marker file (or end the process) if any of its code ran:
at import, at class creation, at decoration, from a ``.pth`` file, from ``sitecustomize``, from
modules named like querylint's own dependencies (``click.py``, ``libcst.py``) that would shadow
them if the linted folder got onto ``sys.path``, or from a SQL string that an ``eval`` would run.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from querylint.api import lint_paths
from querylint.run.config import Config
from querylint.testing import registry

SCRIPT = Path(sys.executable).with_name("querylint")


def hostile_project(root: Path, markers: Path) -> None:
    """Every file's execution would write a marker named after it into ``markers``."""
    markers.mkdir()

    def touch(name: str) -> str:
        return f"open({str(markers / name)!r}, 'w').write('ran')"

    files: Dict[str, str] = {
        "pyproject.toml": "[tool.querylint]\nselect = ['ALL']\n",
        "evil.py": (
            "import os, sys, subprocess\n"
            f"{touch('evil')}\n"
            f"os.system('touch {markers / 'system'}')\n"
            f"subprocess.run(['touch', {str(markers / 'subprocess')!r}])\n"
            "sys.exit(4)\n"
            "os._exit(3)\n"
            "\n\ndef report(cur, ids):\n    for i in ids:\n        cur.execute('SELECT name FROM t WHERE id = %s', (i,))\n"
        ),
        "pkg/__init__.py": f"{touch('pkg_init')}\nimport os\nos._exit(5)\n",
        "pkg/models.py": (
            "from django.db import models\n\n\n"
            "class Meta(type):\n"
            f"    def __new__(mcs, *a):\n        {touch('metaclass')}\n        return super().__new__(mcs, *a)\n\n\n"
            "def deco(fn):\n"
            f"    {touch('decorator')}\n    return fn\n\n\n"
            "class Book(models.Model, metaclass=Meta):\n"
            "    author = models.ForeignKey('Author', on_delete=models.CASCADE)\n\n"
            "    @deco\n    def __str__(self):\n        return self.author.name\n"
        ),
        "pkg/views.py": (
            "from pkg.models import Book\n\n\n"
            "def titles():\n"
            "    return [b.author.name for b in Book.objects.all()]\n\n\n"
            "def raw(cur, name):\n"
            f"    cur.execute(f\"SELECT * FROM t WHERE a = {{__import__('os').system('touch {markers / 'fstring'}')}}\")\n"
            f"    cur.execute('SELECT 1' + str(eval(\"{touch('eval')}\")))\n"
        ),
        "conftest.py": f"{touch('conftest')}\n",
        "setup.py": f"{touch('setup')}\nimport os\nos._exit(6)\n",
        "sitecustomize.py": f"{touch('sitecustomize')}\n",
        "usercustomize.py": f"{touch('usercustomize')}\n",
        # modules named like querylint's dependencies and the standard library
        "click.py": f"{touch('click')}\n",
        "libcst.py": f"{touch('libcst')}\n",
        "sqlglot.py": f"{touch('sqlglot')}\n",
        "json.py": f"{touch('json')}\n",
        "typing.py": f"{touch('typing')}\n",
        "querylint_rules.py": f"{touch('querylint_rules')}\nRULES = ()\n",
        # a path hack: executed only if this folder were treated as a site folder
        "evil.pth": f"import os; {touch('pth')}\n",
        "pkg/deep.pth": f"import os; {touch('pth_pkg')}\n",
    }
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")


def snapshot(folder: Path) -> Dict[str, Tuple[int, int]]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames:  # a folder's mtime moves when the cache folder appears in it
            out[Path(dirpath, name).relative_to(folder).as_posix() + "/"] = (0, 0)
        for name in filenames:
            p = Path(dirpath, name)
            st = p.lstat()
            out[p.relative_to(folder).as_posix()] = (st.st_size, st.st_mtime_ns)
    return out


def changed(before: Dict, after: Dict) -> List[str]:
    return sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))


@pytest.fixture
def world(tmp_path):
    """(project, markers, env): a hostile project, and HOME/TMPDIR inside the watched tree."""
    project = tmp_path / "project"
    project.mkdir()
    markers = tmp_path / "markers"
    hostile_project(project, markers)
    home = tmp_path / "home"
    tmpdir = tmp_path / "tmp"
    home.mkdir()
    tmpdir.mkdir()
    env = {**os.environ, "HOME": str(home), "TMPDIR": str(tmpdir), "XDG_CACHE_HOME": str(home / ".cache"), "NO_COLOR": "1"}
    env.pop("PYTHONSAFEPATH", None)
    return tmp_path, project, markers, env


@pytest.mark.parametrize(
    "how",
    ["script", "module"] if SCRIPT.exists() else ["module"],
)
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_linting_a_hostile_project_runs_none_of_it(world, how, jobs):
    tmp_path, project, markers, env = world
    before = snapshot(tmp_path)
    cmd = [str(SCRIPT)] if how == "script" else [sys.executable, "-m", "querylint"]
    proc = subprocess.run([*cmd, "--format", "json", "--jobs", jobs, "."], cwd=project, env=env, capture_output=True, timeout=300)
    assert proc.returncode == 1, proc.stderr.decode()  # findings, and not exit code 3/4/5/6
    doc = json.loads(proc.stdout)
    assert not [e for e in doc["errors"] if e["kind"] in ("internal", "plugin")], doc["errors"]
    assert {f["path"] for f in doc["findings"]} >= {"evil.py"}
    assert list(markers.iterdir()) == [], "linted code ran"
    after = snapshot(tmp_path)
    outside_cache = [p for p in changed(before, after) if not p.startswith("project/.querylint_cache")]
    assert outside_cache == [], f"querylint wrote outside its cache folder: {outside_cache}"
    assert any(p.startswith("project/.querylint_cache/") for p in after)  # the cache was used


def test_no_cache_writes_nothing_at_all(world):
    tmp_path, project, markers, env = world
    before = snapshot(tmp_path)
    proc = subprocess.run([sys.executable, "-m", "querylint", "--no-cache", "."], cwd=project, env=env, capture_output=True, timeout=300)
    assert proc.returncode == 1, proc.stderr.decode()
    assert list(markers.iterdir()) == []
    assert changed(before, snapshot(tmp_path)) == []


def test_api_in_process_runs_none_of_it(world):
    """The library call, too: no import of the linted modules, sys.path and sys.modules untouched."""
    tmp_path, project, markers, _env = world
    path_before = list(sys.path)
    modules_before = set(sys.modules)
    result = lint_paths([project], Config(select=("ALL",), respect_gitignore=False), project, registry(), cwd=project)
    assert not result.internal_errors
    assert list(markers.iterdir()) == []
    assert sys.path == path_before
    new = {m for m in set(sys.modules) - modules_before if m.split(".")[0] in ("evil", "pkg", "conftest", "setup", "sitecustomize")}
    assert new == set()


# --------------------------------------------------------------------------- a planted cache


def _exploit_pickle(marker: Path) -> bytes:
    """A pickle that runs code through getattr -> __globals__ -> __builtins__ -> eval, using only
    names a restricted unpickler might allow (getattr, copyreg._reconstructor)."""
    code = f"__import__('os').system('touch {marker}')".encode()
    return (
        b"cbuiltins\ngetattr\np0\n(ccopyreg\n_reconstructor\nV__globals__\ntRp1\n0"
        b"g0\n(g1\nVget\ntR(V__builtins__\ntRp2\n0"
        b"g0\n(g2\nVget\ntR(Veval\ntR"
        b"(V" + code + b"\ntR."
    )


def test_a_cache_committed_to_the_repository_cannot_run_code(tmp_path):
    """The cache lives in the checkout: a hostile pull request can commit one. Loading it must
    never execute anything (it is ignored and rebuilt)."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text("", encoding="utf-8")
    (project / "a.py").write_text("x = 1\n", encoding="utf-8")
    env = {**os.environ, "NO_COLOR": "1"}
    first = subprocess.run([sys.executable, "-m", "querylint", "."], cwd=project, env=env, capture_output=True, timeout=300)
    assert first.returncode == 0, first.stderr.decode()
    planted = sorted((project / ".querylint_cache").glob("*.pickle"))
    assert planted
    marker = tmp_path / "PWNED"
    for p in planted:
        p.write_bytes(_exploit_pickle(marker))
    second = subprocess.run([sys.executable, "-m", "querylint", "."], cwd=project, env=env, capture_output=True, timeout=300)
    assert second.returncode == 0, second.stderr.decode()
    assert b"Traceback" not in second.stderr
    assert not marker.exists(), "a planted cache file ran code"


def test_enum_members_still_load_from_the_cache():
    """Python 3.12+ pickles enum members as getattr(Enum, NAME): that stays allowed."""
    import io
    import pickle

    from querylint.run.cache import _SafeUnpickler
    from querylint.types import Severity

    by_name = b"cbuiltins\ngetattr\n(cquerylint.types\nSeverity\nVWARNING\ntR."
    assert _SafeUnpickler(io.BytesIO(by_name)).load() is Severity.WARNING
    for proto in range(pickle.HIGHEST_PROTOCOL + 1):
        data = pickle.dumps([Severity.INFO, Severity.ERROR], protocol=proto)
        assert _SafeUnpickler(io.BytesIO(data)).load() == [Severity.INFO, Severity.ERROR]
    with pytest.raises(pickle.UnpicklingError):
        _SafeUnpickler(io.BytesIO(b"cbuiltins\ngetattr\n(cquerylint.types\nSeverity\nV__class__\ntR.")).load()
