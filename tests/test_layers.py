"""Layers go one way: cli → api → engine → rule API. The core never imports the built-in rules,
reporters never import rules, and nothing below the CLI prints or exits."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORE = sorted((ROOT / "querylint").rglob("*.py"))


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
        bad = {i for i in imports if i in ("querylint.cli", "querylint.api", "querylint.report.reporters", "querylint.engine", "click")}
        assert not bad, f"{path.name} imports {bad}"


def test_the_wheel_ships_every_folder_of_code():
    """An editable install finds modules by folder; a wheel ships only the packages setup.py's
    find_packages() sees, which needs an ``__init__.py`` (a folder without one passes every in-tree
    test and breaks the installed tool)."""
    from setuptools import find_packages

    shipped = set(find_packages(str(ROOT), include=["querylint", "querylint.*"]))
    with_code = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "querylint").rglob("*.py")}
    assert with_code <= shipped, f"folders without __init__.py: {sorted(with_code - shipped)}"
    assert "find_packages(include=[\"querylint\", \"querylint.*\"])" in (ROOT / "setup.py").read_text(encoding="utf-8")


# --------------------------------------------------------------------------- the rule API boundary

ALL_CODE = sorted((ROOT / "querylint").rglob("*.py")) + sorted((ROOT / "rules").glob("*.py"))
RULE_API = ("querylint.rule", "querylint.frameworks", "querylint.sql", "querylint.loops", "querylint.nodes")


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[0] == "rules":
        parts[0] = "querylint_rules"
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imported_names(tree):
    """(module, name) for every ``from module import name``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            for a in node.names:
                yield node.module, a.name


@pytest.mark.parametrize("path", sorted((ROOT / "rules").glob("*.py")), ids=lambda p: p.name)
def test_rules_import_only_the_public_rule_api(path):
    _, imports = _imports(path)
    ours = {i for i in imports if i == "querylint" or i.startswith("querylint.")}
    bad = {i for i in ours if not any(i == api or i.startswith(api + ".") for api in RULE_API)}
    assert not bad, f"rules/{path.name} imports {sorted(bad)}: rules use querylint.rule, querylint.frameworks, querylint.sql, querylint.loops, querylint.nodes"


@pytest.mark.parametrize("path", ALL_CODE, ids=lambda p: str(p.relative_to(ROOT)))
def test_nobody_imports_another_modules_private_names(path):
    tree, _ = _imports(path)
    bad = [f"{m}.{n}" for m, n in _imported_names(tree) if n.startswith("_") and not n.startswith("__") and m.startswith(("querylint", "querylint_rules"))]
    assert not bad, f"{path.relative_to(ROOT)} imports private names {bad}"


FRAMEWORKS = sorted(p.name for p in (ROOT / "querylint" / "frameworks").iterdir() if (p / "__init__.py").exists())


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_no_framework_imports_another(framework):
    others = [f"querylint.frameworks.{o}" for o in FRAMEWORKS if o != framework]
    for path in sorted((ROOT / "querylint" / "frameworks" / framework).rglob("*.py")):
        _, imports = _imports(path)
        bad = {i for i in imports if any(i == o or i.startswith(o + ".") for o in others)}
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}: a framework never imports another"


@pytest.mark.parametrize("path", ALL_CODE, ids=lambda p: str(p.relative_to(ROOT)))
def test_only_the_context_and_the_walker_touch_the_contexts_private_state(path):
    if path.relative_to(ROOT).as_posix() in ("querylint/context.py", "querylint/walker.py"):
        return
    tree, _ = _imports(path)
    bad = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            owner = node.value
            if isinstance(owner, ast.Name) and owner.id == "ctx" or (
                isinstance(owner, ast.Attribute) and owner.attr == "ctx"
            ):
                bad.append(f"line {node.lineno}: ctx.{node.attr}")
    assert not bad, f"{path.relative_to(ROOT)} touches the context's private state: {bad}"


# --------------------------------------------------------------------------- small pieces

MAX_FUNCTION_LINES = 80


def test_no_function_is_longer_than_80_lines():
    """Every function (methods and nested functions too) in querylint/ and rules/ fits in 80 lines,
    from its ``def`` line to its last line (decorators apart): a longer one is split by its phases."""
    long = []
    for path in sorted((ROOT / "querylint").rglob("*.py")) + sorted((ROOT / "rules").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({n} lines)")
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines: {long}"


def test_every_ctx_parameter_is_annotated():
    """``ctx`` is typed everywhere, so the type checker sees every rule's use of the Context API."""
    missing = []
    for path in ALL_CODE:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                args = node.args.posonlyargs + node.args.args + node.args.kwonlyargs
                missing += [f"{path.relative_to(ROOT)}:{node.lineno} {node.name}" for a in args if a.arg == "ctx" and a.annotation is None]
    assert not missing, missing
