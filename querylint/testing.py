"""Test kit for rule authors (ours and plugins'): lint snippets and fixture folders.

Fixture folders mark each expected finding with a trailing ``# want: QL101`` comment (several
codes comma-separated; ``# want+1: QL101`` for the next line when a comment cannot sit on the
line itself). Every finding must be wanted and every want must be found.
"""
from __future__ import annotations

import io
import re
import tempfile
import tokenize
from pathlib import Path
from typing import Dict, Iterable, Mapping, Optional, Sequence, Set, Tuple, Union

from querylint.api import LintResult, lint_paths
from querylint.run.config import Config, config_from_dict, load_config
from querylint.plugins import Registry, load_registry
from querylint.templates.files import is_template

WANT_RE = re.compile(r"#\s*want(?P<off>[+-]\d+)?:\s*(?P<codes>QL\d{3}(?:\s*,\s*QL\d{3})*)")

_REGISTRY: Optional[Registry] = None


def registry() -> Registry:
    global _REGISTRY
    if _REGISTRY is None:
        _REGISTRY = load_registry()
    return _REGISTRY


def lint_folder(folder: Path, config: Optional[Config] = None, select: Optional[Sequence[str]] = None) -> LintResult:
    folder = Path(folder).resolve()
    if config is None:
        cfg_file = folder / "pyproject.toml"
        config = load_config(cfg_file if cfg_file.exists() else None, registry().option_keys())
    if select is not None:
        from dataclasses import replace

        config = replace(config, select=tuple(select))
    return lint_paths([folder], config, folder, registry(), cwd=folder)


def lint_files(files: Union[str, Mapping[str, str]], select: Optional[Sequence[str]] = None, settings: Optional[dict] = None) -> LintResult:
    """Lint a snippet (``example.py``) or {relative path: source} in a temporary project.
    ``select``: codes or prefixes, as a list or one comma-separated string."""
    if isinstance(select, str):
        select = [code.strip() for code in select.split(",") if code.strip()]
    if isinstance(files, str):
        files = {"example.py": files}
    with tempfile.TemporaryDirectory(prefix="querylint-test-") as tmp:
        root = Path(tmp)
        (root / "pyproject.toml").write_text("", encoding="utf-8")
        for rel, text in files.items():
            p = root / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(text, encoding="utf-8")
        config = config_from_dict(settings or {}, source="test", root=str(root), rule_option_keys=registry().option_keys())
        return lint_folder(root, config, select)


def wanted(folder: Path) -> Set[Tuple[str, int, str]]:
    """{(relative path, line, code)} from ``# want:`` markers under ``folder`` (in templates,
    ``{# want: QL112 #}`` comments)."""
    out = _template_wants(folder)
    for py in sorted(Path(folder).rglob("*.py")):
        text = py.read_text(encoding="utf-8")
        rel = py.relative_to(folder).as_posix()
        try:
            toks = [(t.start[0], t.string) for t in tokenize.generate_tokens(io.StringIO(text).readline) if t.type == tokenize.COMMENT]
        except (tokenize.TokenError, SyntaxError):
            toks = [(i, line[line.index("#"):]) for i, line in enumerate(text.splitlines(), 1) if "#" in line]
        for line, comment in toks:
            for m in WANT_RE.finditer(comment):
                off = int(m.group("off") or 0)
                for code in re.split(r"\s*,\s*", m.group("codes")):
                    out.add((rel, line + off, code))
    return out


def _template_wants(folder: Path) -> Set[Tuple[str, int, str]]:
    out = set()
    for f in sorted(Path(folder).rglob("*")):
        rel = f.relative_to(folder).as_posix()
        if not is_template(rel):
            continue
        for i, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
            for c in re.finditer(r"\{#(.*?)#\}", line):
                for m in WANT_RE.finditer("#" + c.group(1)):
                    off = int(m.group("off") or 0)
                    for code in re.split(r"\s*,\s*", m.group("codes")):
                        out.add((rel, i + off, code))
    return out


def found(result: LintResult, prefix: Optional[str] = None, wants: Iterable[Tuple[str, int, str]] = ()) -> Set[Tuple[str, int, str]]:
    """{(path, line, code)} of the findings. A finding is named by the code a ``# want:`` marker
    on its line uses when that is one of its codes (an alias: ``# want: QL410`` written before
    the SQLAlchemy rule became part of ``QL405``), else by its rule's code."""
    marked: Dict[Tuple[str, int], Set[str]] = {}
    for path, line, code in wants:
        marked.setdefault((path, line), set()).add(code)
    out = set()
    for f in result.findings:
        named = marked.get((f.path, f.span.line), set()) & set(f.codes)
        code = min(named) if named else f.rule
        if prefix is None or any(c.startswith(prefix) for c in f.codes):
            out.add((f.path, f.span.line, code))
    return out


def check_fixture(folder: Path, prefix: Optional[str] = None) -> Tuple[Set, Set, LintResult]:
    """(missing, unexpected, result) for a fixture folder; both sets empty means it passes.

    A fixture's markers name what querylint finds at ``medium`` confidence and above (unless the
    fixture has its own ``pyproject.toml``): a fixture is about what a rule sees; which of it the
    default output holds is tested on its own (``tests/test_contexts.py``)."""
    cfg_file = folder / "pyproject.toml"
    if cfg_file.exists():
        config = load_config(cfg_file, registry().option_keys())
    else:
        config = config_from_dict({"min-confidence": "medium"}, source="fixture", root=str(folder), rule_option_keys=registry().option_keys())
    result = lint_folder(folder, config, select=("ALL",))
    want = {w for w in wanted(folder) if prefix is None or w[2].startswith(prefix)}
    got = found(result, prefix, want)
    return want - got, got - want, result


def snippet_wants(files: Union[str, Mapping[str, str]]) -> Set[Tuple[str, int, str]]:
    if isinstance(files, str):
        files = {"example.py": files}
    out = set()
    for rel, text in files.items():
        for i, line in enumerate(text.splitlines(), 1):
            for m in WANT_RE.finditer(line):
                off = int(m.group("off") or 0)
                for code in re.split(r"\s*,\s*", m.group("codes")):
                    out.add((rel, i + off, code))
    return out
