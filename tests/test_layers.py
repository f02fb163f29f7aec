"""Layers go one way: cli → api → engine → rule API. The core never imports the built-in rules,
reporters never import rules, and nothing below the CLI prints or exits."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORE = sorted((ROOT / "querylint").glob("*.py"))


def _imports(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
    return tree, out


@pytest.mark.parametrize("path", CORE, ids=[p.name for p in CORE])
def test_core_never_imports_rules(path):
    _, imports = _imports(path)
    assert not any(i == "querylint_rules" or i.startswith("querylint_rules.") or i == "rules" for i in imports)


@pytest.mark.parametrize("path", [p for p in CORE if p.name not in ("cli.py", "__main__.py")], ids=lambda p: p.name)
def test_below_the_cli_nothing_prints_or_exits(path):
    tree, imports = _imports(path)
    assert "click" not in imports, f"{path.name} imports click"
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            name = f.id if isinstance(f, ast.Name) else (f.attr if isinstance(f, ast.Attribute) else None)
            owner = f.value.id if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) else None
            assert name != "print", f"{path.name}:{node.lineno} prints"
            assert not (owner == "sys" and name == "exit"), f"{path.name}:{node.lineno} exits"


def test_rules_do_not_import_cli_api_or_reporters():
    for path in sorted((ROOT / "rules").glob("*.py")):
        _, imports = _imports(path)
        bad = {i for i in imports if i in ("querylint.cli", "querylint.api", "querylint.reporters", "querylint.engine", "click")}
        assert not bad, f"{path.name} imports {bad}"


def test_the_wheel_lists_every_package():
    """An editable install finds subpackages by folder; a wheel only ships what pyproject lists
    (a missing entry passes every in-tree test and breaks the installed tool)."""
    try:
        import tomllib
    except ImportError:  # pragma: no cover - Python < 3.11
        import tomli as tomllib
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"])
    found = {"querylint_rules"} | {
        ".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "querylint").rglob("__init__.py")
    }
    assert listed == found
