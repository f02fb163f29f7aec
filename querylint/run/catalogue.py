"""What a run needs to know of the rules before it needs the rules themselves.

Importing the rules costs most of a run that the cache answers whole (libcst and every rule
module: a few tenths of a second, where the rest of the run is a few hundredths). A *catalogue*
is a snapshot of the loaded registry as plain data (each rule's codes, name, severity and docs,
the option keys, the plugins that failed to load, the fingerprint of the code), kept in the
cache folder beside the results. It holds for as long as the code it was taken from is the code
installed: its key is the content of querylint's own files and of every plugin module's files,
read from disk without importing them, with the versions of Python, querylint and its parsers.
The catalogue answers selection, config validation and the cache's settings digest exactly as
the registry would; only a run that must lint something loads the registry.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import sys
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

from querylint import __version__
from querylint.types import Severity

FILE = "catalogue.json"
GROUP = "querylint.plugins"
BUILTIN = "querylint_rules"
_TYPES: Dict[str, type] = {t.__name__: t for t in (bool, int, float, str, list, tuple, dict)}


@dataclass(frozen=True)
class RuleStub:
    """A rule as selection, validation and reporters see it (the attributes they read)."""

    code: str
    name: str
    aliases: Tuple[str, ...]
    preview: bool
    default_enabled: bool
    severity: Severity
    ident: str  # ``module.Class:code``, part of the cache's settings digest
    summary_text: str
    documentation_text: str

    def summary(self) -> str:
        return self.summary_text

    def documentation(self) -> str:
        return self.documentation_text


def rule_ident(rule: Any) -> str:
    return f"{rule.__module__}.{rule.__qualname__}:{rule.code}"


def detector_ident(detector: Any) -> str:
    return f"{detector.__module__}.{getattr(detector, '__qualname__', repr(detector))}"


class Catalogue:
    """A registry's snapshot, usable wherever a run only asks what the registry knows."""

    def __init__(self, rules: Dict[str, RuleStub], detectors: Tuple[str, ...], plugin_errors: List[Tuple[str, str]],
                 options: Dict[str, Tuple[type, str]], fingerprint: Tuple[Tuple[str, str], ...]):
        self.rules = rules
        self.detector_idents = detectors
        self.plugin_errors = plugin_errors
        self._options = options
        self.fingerprint = fingerprint

    @classmethod
    def of(cls, registry: Any) -> "Catalogue":
        rules = {
            code: RuleStub(code, r.name, tuple(r.aliases), bool(r.preview), bool(r.default_enabled), r.severity,
                           rule_ident(r), r.summary(), r.documentation())
            for code, r in registry.rules.items()
        }
        return cls(rules, tuple(detector_ident(d) for d in registry.detectors), list(registry.plugin_errors),
                   dict(registry.option_keys()), (("code", code_key(tuple(sorted(set(registry.origins.values()))))),))

    def option_keys(self) -> Dict[str, Tuple[type, str]]:
        return dict(self._options)

    # ------------------------------------------------------------------ the file

    def write(self, folder: Path) -> None:
        """Store the catalogue under the key of the code installed now (best effort: a folder
        that cannot be written only costs the next run the import)."""
        options = {}
        for key, (typ, expected) in self._options.items():
            if _TYPES.get(typ.__name__) is not typ:
                return  # an option type a catalogue cannot name: runs keep loading the registry
            options[key] = [typ.__name__, expected]
        doc = {
            "key": code_key(),
            "rules": [[s.code, s.name, list(s.aliases), s.preview, s.default_enabled, s.severity.value, s.ident,
                       s.summary_text, s.documentation_text] for s in self.rules.values()],
            "detectors": list(self.detector_idents),
            "plugin_errors": [list(e) for e in self.plugin_errors],
            "options": options,
            "fingerprint": [list(f) for f in self.fingerprint],
        }
        try:
            folder.mkdir(parents=True, exist_ok=True)
            tmp = folder / f".{FILE}.{os.getpid()}"
            tmp.write_text(json.dumps(doc), encoding="utf-8")
            os.replace(tmp, folder / FILE)
        except OSError:
            pass

    @classmethod
    def read(cls, folder: Path) -> Optional["Catalogue"]:
        """The catalogue in ``folder`` when it was taken from the code installed now, else None."""
        try:
            doc = json.loads((folder / FILE).read_text(encoding="utf-8"))
            if doc.get("key") != code_key():
                return None
            rules = {}
            for code, name, aliases, preview, enabled, severity, ident, summary, docs in doc["rules"]:
                rules[code] = RuleStub(code, name, tuple(aliases), preview, enabled, Severity(severity), ident, summary, docs)
            options = {key: (_TYPES[typ], expected) for key, (typ, expected) in doc["options"].items()}
            errors = [(str(label), str(message)) for label, message in doc["plugin_errors"]]
            fingerprint = tuple((str(name), str(h)) for name, h in doc["fingerprint"])
            return cls(rules, tuple(doc["detectors"]), errors, options, fingerprint)
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None


@functools.lru_cache(maxsize=None)
def code_key(modules_in_use: Tuple[str, ...] = ()) -> str:
    """The content of the code a catalogue describes, read from disk once per process:
    querylint's own files and every plugin module's (and ``modules_in_use``'s, the modules a
    registry loaded its rules from), with the versions of Python and of the parsers. Read from
    disk, it does not depend on which modules happen to be imported yet (the cache's settings
    digest includes it, so a second run in one process finds the first one's results)."""
    h = hashlib.blake2b(digest_size=16)
    for part in (__version__, sys.version, _version("libcst"), _version("sqlglot")):
        h.update(part.encode() + b"\0")
    modules = [BUILTIN, *(m.split(":")[0] for m in modules_in_use)]
    for name, value, version in _entry_points():
        h.update(f"{name}={value}@{version}".encode() + b"\0")
        modules.append(value.split(":")[0])
    for path in _code_files(modules):
        h.update(path.encode() + b"\0")
        try:
            with open(path, "rb") as f:
                h.update(hashlib.blake2b(f.read(), digest_size=16).digest())
        except OSError:
            h.update(b"unreadable")
    return h.hexdigest()


def _entry_points() -> List[Tuple[str, str, str]]:
    from importlib.metadata import entry_points

    out = []
    for ep in entry_points(group=GROUP) if sys.version_info >= (3, 10) else entry_points().get(GROUP, []):  # type: ignore[arg-type,attr-defined]
        dist = getattr(ep, "dist", None)
        out.append((ep.name, ep.value, str(getattr(dist, "version", "") or "")))
    return sorted(out)


def _code_files(modules: Sequence[str]) -> Iterator[str]:
    """Every Python file of querylint's package and of the named modules (packages whole)."""
    folders = [str(Path(__file__).resolve().parent.parent)]
    files = []
    for name in dict.fromkeys(modules):
        try:
            spec = find_spec(name)
        except (ImportError, ValueError):
            spec = None
        if spec is None:
            files.append(f"<missing {name}>")
        elif spec.submodule_search_locations:
            folders.extend(spec.submodule_search_locations)
        elif spec.origin:
            files.append(spec.origin)
    for folder in folders:
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
            files.extend(os.path.join(dirpath, f) for f in sorted(filenames) if f.endswith(".py"))
    return iter(files)


def _version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return ""
