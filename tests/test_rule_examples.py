"""Every rule's VALID/INVALID examples behave as labelled, and every rule's docs are complete.

Test IDs carry the code, so ``pytest -k QL101`` selects everything about a rule.
"""
import pytest

from querylint.rule import DOC_SECTIONS, sections, validate_rule
from querylint.testing import lint_files, registry, snippet_wants

RULES = registry().sorted_rules()


def _cases(kind):
    for rule in RULES:
        for i, example in enumerate(getattr(rule, kind)):
            yield pytest.param(rule, example, id=f"{rule.code}-{kind.lower()}-{i}")


def test_registry_loaded_without_errors():
    assert registry().plugin_errors == []
    assert RULES, "no rules loaded"


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_rule_declaration(rule):
    assert validate_rule(rule) == []
    secs = sections(rule.documentation())
    for heading in DOC_SECTIONS:
        assert secs[heading].strip(), f"{rule.code}: empty '{heading}'"
    assert rule.summary()
    assert rule.INVALID, f"{rule.code} has no INVALID example"
    assert rule.VALID, f"{rule.code} has no VALID example"


@pytest.mark.parametrize("rule, example", list(_cases("VALID")))
def test_valid_example(rule, example):
    result = lint_files(example, select=[rule.code])
    assert result.errors == []
    assert [f for f in result.findings if f.rule == rule.code] == []


@pytest.mark.parametrize("rule, example", list(_cases("INVALID")))
def test_invalid_example(rule, example):
    # at every confidence: a rule whose findings are all medium (QL309) still shows what it flags
    result = lint_files(example, select=[rule.code], settings={"min-confidence": "low"})
    assert result.errors == []
    got = {(f.path, f.span.line, f.rule) for f in result.findings if f.rule == rule.code}
    assert got, f"{rule.code} found nothing in its INVALID example"
    want = {w for w in snippet_wants(example) if w[2] == rule.code}
    if want:
        assert got == want
