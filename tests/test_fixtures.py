"""Every fixture project under fixtures/<family>/<case>/ yields exactly its ``# want:`` findings
(at ``medium`` confidence and above: see ``querylint.testing.check_fixture``).

A fixture with no markers must produce no findings at all (its traps are the test).
"""
import pytest

from querylint.testing import check_fixture

from conftest import FIXTURES

CASES = sorted(p for family in FIXTURES.iterdir() if family.is_dir() for p in family.iterdir() if p.is_dir())


@pytest.mark.parametrize("case", CASES, ids=[f"{c.parent.name}/{c.name}" for c in CASES])
def test_fixture(case):
    missing, unexpected, result = check_fixture(case)
    assert result.errors == [], result.errors
    details = {f"{f.path}:{f.span.line} {f.rule}": f.message for f in result.findings}
    assert not missing, f"missing findings {sorted(missing)}"
    assert not unexpected, f"unexpected findings {sorted(unexpected)}: {details}"
    # one problem, one finding: no two rules report the same expression
    spans = [(f.path, f.span) for f in result.findings]
    assert len(spans) == len(set(spans)), sorted(f"{f.path}:{f.span.line}:{f.span.column} {f.rule}" for f in result.findings if spans.count((f.path, f.span)) > 1)
