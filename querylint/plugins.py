"""Load rule plugins from the ``querylint.plugins`` entry-point group (the built-ins included)."""
from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Sequence, Tuple, Type, Union, cast

from querylint.codes import Selection, known_prefix

if TYPE_CHECKING:  # pragma: no cover
    from querylint.rule import Rule
    from querylint.run.catalogue import Catalogue

# What selection and validation read: the registry, or its snapshot (the rule classes or their stubs)
Known = Union["Registry", "Catalogue"]

if sys.version_info >= (3, 10):
    from importlib.metadata import entry_points
else:  # pragma: no cover
    from importlib.metadata import entry_points as _eps

    def entry_points(group):
        return _eps().get(group, [])

GROUP = "querylint.plugins"


class RuleConflict(Exception):
    """Two rules claim one code: a hard error naming both."""


@dataclass
class Registry:
    rules: Dict[str, Type[Rule]] = field(default_factory=dict)  # code -> rule class
    origins: Dict[str, str] = field(default_factory=dict)  # code -> module name
    claimed: Dict[str, Type[Rule]] = field(default_factory=dict)  # code or alias -> rule class
    detectors: List[Callable] = field(default_factory=list)  # query detectors for the index
    plugin_errors: List[Tuple[str, str]] = field(default_factory=list)  # (plugin name, message)
    default: bool = False  # every installed plugin, nothing else (what a catalogue may stand for)

    def add_module(self, module, origin: str) -> None:
        from querylint.rule import validate_rule

        for rule in getattr(module, "RULES", ()):
            problems = validate_rule(rule)
            if problems:
                raise ValueError("; ".join(problems))
            for code in (rule.code,) + tuple(rule.aliases):
                other = self.rules.get(code) or self.claimed.get(code)
                if other is not None and other is not rule:
                    raise RuleConflict(
                        f"rule code {code} is defined twice: by {self.origins[other.code]} "
                        f"({other.__name__}) and by {origin} ({rule.__name__})"
                    )
            self.rules[rule.code] = rule
            self.origins[rule.code] = origin
            for code in (rule.code,) + tuple(rule.aliases):
                self.claimed[code] = rule
        for det in getattr(module, "QUERY_DETECTORS", ()):
            if det not in self.detectors:
                self.detectors.append(det)

    def find(self, code: str) -> Optional[Type[Rule]]:
        """The rule that ``code`` names: its own code, an alias (a per-ORM code it replaced) or its name."""
        code = code.strip()
        rule = self.rules.get(code.upper())
        if rule is not None:
            return rule
        for r in self.rules.values():
            if code.upper() in r.aliases or code.lower() == r.name:
                return r
        return None

    def option_keys(self) -> Dict[str, Tuple[type, str]]:
        out = {}
        for rule in self.rules.values():
            for key, (typ, _default, expected) in rule.options.items():
                out[key] = (typ, expected)
        return out

    def sorted_rules(self) -> List[Type[Rule]]:
        return [self.rules[c] for c in sorted(self.rules)]


def load_registry(extra_modules: Sequence[str] = ()) -> Registry:
    """Every plugin module's RULES; a broken plugin is recorded in ``plugin_errors`` and skipped."""
    registry = Registry()
    seen = set()
    sources: List[Tuple[str, Callable[[], object], str]] = []
    try:
        eps = list(entry_points(group=GROUP))
    except Exception as exc:  # pragma: no cover - broken metadata
        registry.plugin_errors.append(("<entry points>", str(exc)))
        eps = []
    if not any(ep.value.split(":")[0] == "querylint_rules" for ep in eps):
        # running from a source tree without installed metadata: still load the built-ins
        sources.append(("builtin", lambda: importlib.import_module("querylint_rules"), "querylint_rules"))
    for ep in sorted(eps, key=lambda e: (e.value.split(":")[0] != "querylint_rules", e.name)):
        dist = getattr(ep, "dist", None)
        version = f" {dist.version}" if dist is not None and getattr(dist, "version", None) else ""
        sources.append((f"{ep.name} ({ep.value}{version})", ep.load, ep.value))
    for name in extra_modules:
        sources.append((name, cast(Callable[[], object], lambda n=name: importlib.import_module(n)), name))
    for label, load, origin in sources:
        if origin in seen:
            continue
        seen.add(origin)
        try:
            module = load()
            registry.add_module(module, origin)
        except RuleConflict:
            raise
        except Exception as exc:
            registry.plugin_errors.append((label, f"{type(exc).__name__}: {exc}"))
    registry.default = not extra_modules
    return registry


def select_rules(registry: Known, select, extend_select, ignore, preview: bool = False) -> List[Any]:
    """Rules that must run for the selection (longest matching prefix wins, as in ruff). A rule
    runs when one of its codes or aliases is enabled; its findings are then filtered one by one
    (:class:`querylint.codes.Selection`), so ``ignore = ["QL120"]`` drops only that variant."""
    sel = Selection(select, tuple(extend_select), tuple(ignore), preview)
    return [rule for _code, rule in sorted(registry.rules.items()) if sel.runs(rule)]


def unknown_codes(registry: Known, codes: Sequence[str]) -> List[str]:
    """Codes/prefixes in a selection that match no known rule."""
    known = list(registry.rules) + [a for r in registry.rules.values() for a in r.aliases] + ["QL001"]
    return [c for c in codes if not known_prefix(known, c)]
