"""Rule codes as users name them: selection, ignores and suppressions, aliases included.

A finding answers to its rule's code and to the alias codes of its variant: when the per-ORM
rules of one pattern became one rule (``QL110``/``QL120``/``QL130``/``QL135`` are now one
query-in-loop rule), a SQLAlchemy finding still answers to ``QL120``, and only it does. So
``ignore = ["QL120"]`` keeps silencing SQLAlchemy's query-in-loop findings and nothing else,
``# noqa: QL120`` keeps working, and ``select = ["QL12"]`` still means "SQLAlchemy's N+1 rules".
Everything that matches user-given codes against findings goes through this module.

Pure: no I/O, no rule imports.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional, Sequence, Tuple

Codes = Tuple[str, ...]


def match(codes: Iterable[str], patterns: Iterable[str]) -> Tuple[int, bool]:
    """(length of the longest pattern that is a prefix of one of ``codes``, or -1; whether a
    pattern names one of ``codes`` exactly). ``ALL`` matches with length 0."""
    codes = tuple(codes)
    best, exact = -1, False
    for p in patterns:
        if p == "ALL":
            best = max(best, 0)
            continue
        for c in codes:
            if c.startswith(p):
                best = max(best, len(p))
                exact = exact or p == c
    return best, exact


def matches_any(codes: Iterable[str], patterns: Iterable[str]) -> bool:
    return match(codes, patterns)[0] >= 0


@dataclass(frozen=True)
class Selection:
    """``select`` / ``extend-select`` / ``ignore`` / ``preview`` of a run (longest match wins, as in ruff)."""

    select: Optional[Codes] = None  # None: every rule that is on by default
    extend_select: Codes = ()
    ignore: Codes = ()
    preview: bool = False

    @classmethod
    def of(cls, config) -> "Selection":
        return cls(config.select, tuple(config.extend_select), tuple(config.ignore), bool(config.preview))

    def enabled(self, rule, codes: Codes) -> bool:
        """Whether a finding of ``rule`` that answers to ``codes`` is reported."""
        if self.select is None:
            on = rule.default_enabled and (not rule.preview or self.preview)
            explicit = -1
        else:
            explicit, exact = match(codes, self.select)
            on = explicit >= 0 and (not rule.preview or self.preview or exact)
        extra, exact = match(codes, self.extend_select)
        if extra >= 0 and (not rule.preview or self.preview or exact):
            on = True
            explicit = max(explicit, extra)
        ign, _ = match(codes, self.ignore)
        if ign >= 0 and ign >= explicit:
            on = False
        return on

    def runs(self, rule) -> bool:
        """Whether ``rule`` must run: some finding it can make (plain, or as one of its aliases' variants) is enabled."""
        if self.enabled(rule, (rule.code,)):
            return True
        return any(self.enabled(rule, (rule.code, a)) for a in rule.aliases)


def finding_codes(rule, variant: Optional[str]) -> Codes:
    """The codes a finding of ``rule`` answers to. ``variant`` is the alias of the rule's
    variant that made it (a merged rule's per-ORM code); a rule with one alias (a renamed
    rule) answers to it always; a merged rule's finding without a variant to its own code only."""
    if variant:
        if variant not in rule.aliases:
            raise ValueError(f"{rule.code}: {variant!r} is not one of its aliases {rule.aliases!r}")
        return (rule.code, variant)
    if len(rule.aliases) == 1:
        return (rule.code, rule.aliases[0])
    return (rule.code,)


def canonical(registry_rules, code: str) -> Optional[str]:
    """The rule code that ``code`` (a code or an alias) names, or None."""
    if code in registry_rules:
        return code
    for rule in registry_rules.values():
        if code in rule.aliases:
            return rule.code
    return None


def known_prefix(all_codes: Sequence[str], pattern: str) -> bool:
    return pattern == "ALL" or any(k.startswith(pattern) for k in all_codes)
