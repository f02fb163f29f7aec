"""What a lint run answers, as plain data: findings and errors per file and for the run, and
what reporters need to know of the rules. Light: no parser, no rule is imported here, so a run
answered from the cache never loads them."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Dict, List, Optional, Sequence, Tuple

from querylint.project.contexts import shown
from querylint.types import FileError, Finding, Severity

if TYPE_CHECKING:  # pragma: no cover
    from querylint.project.index import ProjectIndex
    from querylint.run.config import Config

UNUSED_SUPPRESSION = ("QL001", "unused-suppression")


@dataclass
class FileResult:
    findings: List[Finding] = field(default_factory=list)
    suppressed: List[Finding] = field(default_factory=list)
    errors: List[FileError] = field(default_factory=list)


@dataclass(frozen=True)
class RuleInfo:
    """What reporters need to know about a rule (they never import rules)."""

    code: str
    name: str
    severity: Severity
    summary: str
    documentation: str


UNUSED_INFO = RuleInfo(
    UNUSED_SUPPRESSION[0], UNUSED_SUPPRESSION[1], Severity.INFO,
    "Reports a suppression comment that silences nothing",
    "## What it does\n\nReports a `# querylint: ignore[...]` or `# noqa: QL...` comment that silences no finding "
    "(enabled by `--report-unused-suppressions`).\n\n## Why is this bad?\n\nA stale suppression hides the next "
    "real problem on that line.",
)


@dataclass
class LintResult:
    findings: List[Finding] = field(default_factory=list)
    errors: List[FileError] = field(default_factory=list)
    suppressed: List[Finding] = field(default_factory=list)
    files: int = 0
    skipped: int = 0
    rules: List[str] = field(default_factory=list)
    rule_info: Dict[str, RuleInfo] = field(default_factory=dict)
    # finding -> stable fingerprint (filled by :func:`querylint.run.baseline.attach_fingerprints`)
    fingerprints: Dict[Finding, str] = field(default_factory=dict)
    # finding -> its fingerprints under its alias codes (a baseline written before a rule was renamed)
    alias_fingerprints: Dict[Finding, Tuple[str, ...]] = field(default_factory=dict)
    cache_note: Optional[str] = None
    baselined: int = 0  # findings dropped because the baseline has them
    outside_diff: int = 0  # findings dropped by --diff
    hidden: int = 0  # findings below min-confidence (test and seed code, weak evidence)
    index: Optional[ProjectIndex] = None  # the project index with its query sites (``keep_index``)

    @property
    def internal_errors(self) -> List[FileError]:
        return [e for e in self.errors if e.kind in ("internal", "plugin")]

    def summary(self) -> Dict[str, object]:
        by_rule: Dict[str, int] = {}
        for f in self.findings:
            by_rule[f.rule] = by_rule.get(f.rule, 0) + 1
        return {
            "files": self.files,
            "skipped": self.skipped,
            "findings": len(self.findings),
            "errors": len(self.errors),
            "suppressed": len(self.suppressed),
            "hidden": self.hidden,
            "by_rule": dict(sorted(by_rule.items())),
        }

    @property
    def exit_code(self) -> int:
        if self.internal_errors:
            return 2
        return 1 if (self.findings or self.errors) else 0


def merge_results(results: Sequence[LintResult]) -> LintResult:
    """One result from the results of several projects linted apart (the same rules in each)."""
    if len(results) == 1:
        return results[0]
    out = LintResult(rules=list(results[0].rules) if results else [])
    for r in results:
        out.findings += r.findings
        out.errors += r.errors
        out.suppressed += r.suppressed
        out.files += r.files
        out.skipped += r.skipped
        out.hidden += r.hidden
        out.rule_info.update(r.rule_info)
        out.fingerprints.update(r.fingerprints)
        out.alias_fingerprints.update(r.alias_fingerprints)
        out.cache_note = out.cache_note or r.cache_note
    return out


def by_confidence(result: LintResult, config: Config) -> LintResult:
    """Leave out findings below ``min-confidence`` (counted in ``hidden``): the default output
    holds what is worth acting on; ``--min-confidence low`` shows the rest."""
    kept = [f for f in result.findings if shown(f.confidence, config.min_confidence)]
    result.hidden = len(result.findings) - len(kept)
    result.findings = kept
    return result


def finish(result: LintResult) -> LintResult:
    result.findings.sort(key=Finding.sort_key)
    result.suppressed.sort(key=Finding.sort_key)
    result.errors.sort(key=FileError.sort_key)
    return result


