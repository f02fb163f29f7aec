"""Every SQL string the extraction finds in fixtures/sql parses (with the case's configured dialect).

A failure here means either the fixture has broken SQL (its rules would silently skip it) or the
placeholder/hole normalisation broke a valid statement.
"""
from pathlib import Path

import pytest

from querylint.run.config import Config, load_config

from conftest import FIXTURES
from sql_helpers import extract_all

CASES = sorted(p for p in (FIXTURES / "sql").iterdir() if p.is_dir())


def _config(case: Path) -> Config:
    cfg = case / "pyproject.toml"
    return load_config(cfg) if cfg.exists() else Config()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_every_fixture_sql_string_parses(case):
    config = _config(case)
    files = {p.relative_to(case).as_posix(): p.read_text(encoding="utf-8") for p in case.rglob("*.py")}
    checked = 0
    for rel, text in files.items():
        others = {r: t for r, t in files.items() if r != rel}
        for item in extract_all(text, others=others, config=config, relpath=rel):
            if item.text is None or not item.is_sql:
                continue
            norm, result = item.parsed(config.sql_dialect)
            assert result.ok, f"{rel}: {item.text!r} -> {norm.sql!r}: {result.error}"
            checked += 1
    assert checked, f"no SQL found in {case.name}"
