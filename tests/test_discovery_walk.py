"""The folder walk lists what ``os.walk`` with sorted names would, in the same order, without a
``stat`` per plain file: files, links, excluded and virtualenv folders, FIFOs."""
import os
from pathlib import Path

import pytest

from querylint.run.config import Config
from querylint.run.discovery import discover


def reference(given: Path, config: Config):
    """``os.walk`` top-down, names sorted, the same filters (the walk this replaced); a file
    reached twice (a link to another) counts once."""
    out, seen = [], set()
    for dirpath, dirnames, filenames in os.walk(given):
        rel = Path(dirpath).relative_to(given).as_posix()
        dirnames[:] = sorted(
            d for d in dirnames
            if not os.path.islink(os.path.join(dirpath, d)) and not os.path.exists(os.path.join(dirpath, d, "pyvenv.cfg"))
            and d not in config.exclude
        )
        for name in sorted(filenames):
            f = Path(dirpath) / name
            if name.endswith(".py") and os.path.isfile(f) and not (rel.split("/")[0] in config.exclude) and f.resolve() not in seen:
                seen.add(f.resolve())
                out.append(f)
    return out


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "proj"
    for rel in ("z.py", "a.py", "b/x.py", "b/c/y.py", "b/a.py", "aa/m.py", "node_modules/n.py", "venv/lib/v.py", "d.txt"):
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("x = 1\n")
    (root / "venv" / "pyvenv.cfg").write_text("home = /usr\n")
    (root / "linked.py").symlink_to(root / "a.py")
    (root / "linked_dir").symlink_to(root / "b", target_is_directory=True)
    (root / "broken.py").symlink_to(root / "missing.py")
    if hasattr(os, "mkfifo"):
        os.mkfifo(root / "pipe.py")
    return root


def test_the_walk_lists_files_in_os_walk_order(tree):
    config = Config()
    files, problems = discover([tree], config, tree)
    assert files == reference(tree, config)
    names = [f.relative_to(tree).as_posix() for f in files]
    assert names == ["a.py", "z.py", "aa/m.py", "b/a.py", "b/x.py", "b/c/y.py"]  # ``linked.py`` is ``a.py``
    reasons = {p.name: why for p, why in problems}
    assert reasons["broken.py"].startswith("broken symbolic link")
    if hasattr(os, "mkfifo"):
        assert reasons["pipe.py"] == "not a regular file or folder"


def test_an_unreadable_folder_is_a_problem_and_the_walk_goes_on(tree):
    locked = tree / "b" / "c"
    locked.chmod(0)
    try:
        if os.access(locked, os.R_OK):
            pytest.skip("running with privileges that ignore file permissions (root)")
        files, problems = discover([tree], Config(), tree)
    finally:
        locked.chmod(0o755)
    assert (tree / "b" / "x.py") in files
    assert any(p == locked and "cannot list the folder" in why for p, why in problems)
