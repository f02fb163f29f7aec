"""Reporters: one small findings list → the expected text, JSON, GitHub, GitLab and SARIF output.

Golden files live in tests/data/golden/; regenerate them with ``QUERYLINT_UPDATE_GOLDEN=1``
after an intended change, and read the diff. SARIF is also validated against the official
OASIS SARIF 2.1.0 schema (a copy in tests/data/).
"""
import json
import os
from pathlib import Path

import jsonschema
import pytest

from querylint import __version__
from querylint.api import LintResult, RuleInfo
from querylint.run.baseline import fingerprints
from querylint.report.reporters import FORMATTERS, format_errors_text, format_statistics, format_summary_text
from querylint.types import FileError, Finding, Severity, Span

DATA = Path(__file__).parent / "data"
GOLDEN = DATA / "golden"

SOURCES = {
    "shop/reports.py": "def monthly(cur, ids):\n    for i in ids:\n        cur.execute('SELECT 1 FROM t WHERE id = %s', (i,))\n",
    "shop/cart.py": "class Cart:\n    def total(self):\n        return [price(i) for i in self.items]\n\n\nrows = [price(i) for i in x]\n",
}


def _result() -> LintResult:
    r = LintResult(rules=["QL101", "QL102"], files=2)
    r.rule_info = {
        "QL101": RuleInfo("QL101", "query-in-loop", Severity.WARNING, "Flags a query run on every iteration of a loop", "## What it does\n\nFlags a query run on every iteration of a loop."),
        "QL102": RuleInfo("QL102", "query-via-call-in-loop", Severity.WARNING, "Flags a call to a querying function in a loop", "## What it does\n\nFlags a call to a querying function in a loop."),
        "QL001": RuleInfo("QL001", "unused-suppression", Severity.INFO, "Reports a suppression that silences nothing", "## What it does\n\nReports a suppression that silences nothing."),
    }
    r.findings = [
        Finding("shop/cart.py", Span(3, 17, 3, 25), "QL102", "query-via-call-in-loop", Severity.ERROR,
                "`price()` runs a query on every iteration of the comprehension at line 3 (per request: views.cart)",
                notes=("call path: line 3 loop -> price() -> cur.execute(...)",)),
        Finding("shop/cart.py", Span(6, 9, 6, 17), "QL001", "unused-suppression", Severity.INFO,
                "suppression of QL101 silences nothing here"),
        Finding("shop/reports.py", Span(3, 9, 3, 58), "QL101", "query-in-loop", Severity.WARNING,
                "`cur.execute(...)` runs a SELECT statement on every iteration of the loop at line 2; use `%s`, a: b, c\nnext"),
    ]
    r.suppressed = [
        Finding("shop/reports.py", Span(9, 9, 9, 20), "QL101", "query-in-loop", Severity.WARNING,
                "`cur.execute(...)` runs a SELECT statement on every iteration of the loop at line 8", "at most 3 shards"),
    ]
    r.errors = [FileError("shop/broken.py", 4, "syntax error: expected ':' (column 12)", "syntax")]
    r.fingerprints = fingerprints(r.findings, SOURCES.get)
    return r


CASES = {
    "text": lambda r: FORMATTERS["text"](r) + "--- stderr\n" + format_errors_text(r) + format_summary_text(r),
    "json": lambda r: FORMATTERS["json"](r).replace(f'"version": "{__version__}"', '"version": "<version>"'),
    "github": FORMATTERS["github"],
    "gitlab": FORMATTERS["gitlab"],
    "sarif": lambda r: FORMATTERS["sarif"](r).replace(f'"{__version__}"', '"<version>"'),
    "statistics": format_statistics,
}
SUFFIX = {"text": "txt", "json": "json", "github": "txt", "gitlab": "json", "sarif": "sarif", "statistics": "txt"}


@pytest.mark.parametrize("fmt", sorted(CASES))
def test_golden(fmt):
    got = CASES[fmt](_result())
    path = GOLDEN / f"findings.{fmt}.{SUFFIX[fmt]}"
    if os.environ.get("QUERYLINT_UPDATE_GOLDEN"):
        path.write_text(got, encoding="utf-8")
    assert got == path.read_text(encoding="utf-8")


def test_sarif_validates_against_the_official_schema():
    schema = json.loads((DATA / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    doc = json.loads(FORMATTERS["sarif"](_result()))
    jsonschema.validate(doc, schema)
    run = doc["runs"][0]
    ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert ids == ["QL001", "QL101", "QL102"]
    for res in run["results"]:
        assert run["tool"]["driver"]["rules"][res["ruleIndex"]]["id"] == res["ruleId"]
        assert res["partialFingerprints"]["querylintFingerprint/v1"]
    assert run["tool"]["driver"]["rules"][1]["help"]["markdown"].startswith("## What it does")
    assert run["invocations"][0]["toolExecutionNotifications"][0]["locations"][0]["physicalLocation"]["region"] == {"startLine": 4}


def test_sarif_of_an_empty_run_validates():
    schema = json.loads((DATA / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    jsonschema.validate(json.loads(FORMATTERS["sarif"](LintResult())), schema)


def test_sarif_absolute_paths_become_file_uris():
    r = _result()
    r.findings = [Finding("/abs/dir with space/x.py", Span(1, 1, 1, 2), "QL101", "query-in-loop", Severity.WARNING, "m")]
    loc = json.loads(FORMATTERS["sarif"](r))["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"] == {"uri": "file:///abs/dir%20with%20space/x.py"}


def test_github_escapes_properties_and_data():
    out = FORMATTERS["github"](_result()).splitlines()
    reports = [l for l in out if "reports.py" in l][0]
    # newline and percent escaped in the message; the message's ':' and ',' are allowed as data
    assert "use `%25s`, a: b, c%0Anext%0A" in reports
    assert reports.endswith("%0Aconfidence: high, context: unknown")  # where it runs, how sure
    assert reports.startswith("::warning file=shop/reports.py,line=3,col=9,endLine=3,endColumn=58,title=QL101::")
    assert out[0].startswith("::error file=shop/cart.py,line=3,")  # per-request error severity
    assert any(l.startswith("::notice ") for l in out)  # info
    assert out[-1] == "::error file=shop/broken.py,line=4,title=querylint::syntax error: expected ':' (column 12)"


def test_gitlab_fingerprints_are_stable_and_unique():
    a = json.loads(FORMATTERS["gitlab"](_result()))
    b = json.loads(FORMATTERS["gitlab"](_result()))
    assert [i["fingerprint"] for i in a] == [i["fingerprint"] for i in b]
    assert len({i["fingerprint"] for i in a}) == len(a)
    assert {i["severity"] for i in a} == {"major", "minor", "info"}


def test_json_keeps_suppression_reason():
    doc = json.loads(FORMATTERS["json"](_result()))
    assert doc["suppressed"][0]["suppression_reason"] == "at most 3 shards"
    assert doc["summary"]["by_rule"] == {"QL001": 1, "QL101": 1, "QL102": 1}
