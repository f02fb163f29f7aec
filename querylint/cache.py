"""The on-disk cache (``.querylint_cache/`` at the project root).

One file per *settings* digest (querylint's code, the Python and libcst versions, the project
root, the configuration, the selected rules and the loaded plugins). It holds three tables:

- ``facts``: relpath -> (content hash, FileFacts, facts digest). The project index is rebuilt
  from it without parsing unchanged files.
- ``queries``: relpath -> (content hash, index digest, query sites). A file's query sites depend
  on its own tree and on the whole index (through the call graph and the model views), so they
  are reused only while the digest of every file's facts is unchanged.
- ``results``: (relpath, display path, content hash) -> FileResult, valid for one *full*
  digest (index facts + every function's query sites): editing a model's relation in one file
  changes the digest and so re-lints the files that read it.

Anything unreadable, foreign or from another version is ignored and rebuilt: the loader only
accepts querylint's own plain data classes, never arbitrary pickled objects.
"""
from __future__ import annotations

import hashlib
import io
import os
import pickle
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any, Dict, Iterable, Optional, Sequence, Tuple

from querylint import __version__
from querylint.config import Config

MAGIC = "querylint-cache"
FORMAT = 1
KEEP_FILES = 8  # settings variants kept side by side (e.g. a pre-commit and a CI selection)

_ALLOWED = {
    ("querylint.facts", "FileFacts"), ("querylint.facts", "ClassFacts"), ("querylint.facts", "FunctionFacts"),
    ("querylint.facts", "ClassAttr"), ("querylint.facts", "CallSummary"),
    ("querylint.types", "Finding"), ("querylint.types", "FileError"), ("querylint.types", "Span"),
    ("querylint.types", "Severity"), ("querylint.engine", "FileResult"),
    ("builtins", "set"), ("builtins", "frozenset"), ("builtins", "complex"), ("builtins", "bytes"),
    ("builtins", "Ellipsis"), ("builtins", "getattr"),
    ("copyreg", "_reconstructor"), ("builtins", "object"),
}


class _SafeUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a querylint cache")


def digest(*parts: Any) -> str:
    h = hashlib.blake2b(digest_size=16)
    for p in parts:
        h.update(p if isinstance(p, bytes) else repr(p).encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    return h.hexdigest()


def content_hash(raw: bytes) -> str:
    return hashlib.blake2b(raw, digest_size=16).hexdigest()


def facts_digest(facts) -> str:
    return hashlib.blake2b(pickle.dumps(facts, protocol=4), digest_size=16).hexdigest()


def code_fingerprint(module_names: Iterable[str]) -> Tuple[Tuple[str, int, int], ...]:
    """(module, mtime, size) of querylint's own modules and the rule/plugin modules in use.

    The version alone is not enough while rules are being developed in an editable install.
    """
    prefixes = tuple(dict.fromkeys(["querylint", "querylint_rules", *module_names]))
    out = []
    for name, mod in sorted(sys.modules.items()):
        if mod is None or not any(name == p or name.startswith(p + ".") for p in prefixes):
            continue
        f = getattr(mod, "__file__", None)
        if not f:
            continue
        try:
            st = os.stat(f)
        except OSError:
            continue
        out.append((name, st.st_mtime_ns, st.st_size))
    return tuple(out)


def settings_digest(config: Config, root: Path, rules: Sequence[type], detectors: Sequence, plugin_modules: Iterable[str]) -> str:
    cfg = replace(config, source=None, root=None)
    return digest(
        MAGIC, FORMAT, __version__, sys.version, _version_of("libcst"), str(root), repr(cfg),
        tuple(f"{r.__module__}.{r.__qualname__}:{r.code}" for r in rules),
        tuple(f"{d.__module__}.{getattr(d, '__qualname__', repr(d))}" for d in detectors),
        code_fingerprint(plugin_modules),
    )


class Cache:
    def __init__(self, folder: Path, settings: str):
        self.folder = Path(folder)
        self.settings = settings
        self.file = self.folder / f"{settings}.pickle"
        self.facts: Dict[str, Tuple[str, Any, str]] = {}
        self.queries: Dict[str, Tuple[str, str, Any]] = {}
        self.results_digest: Optional[str] = None
        self.results: Dict[Tuple[str, str, str], Any] = {}
        self.dirty = False
        self.problem: Optional[str] = None  # why an existing cache file was ignored

    @classmethod
    def load(cls, folder: Path, settings: str) -> "Cache":
        cache = cls(folder, settings)
        try:
            data = cache.file.read_bytes()
        except OSError:
            return cache
        try:
            doc = _SafeUnpickler(io.BytesIO(data)).load()
            if not isinstance(doc, dict) or doc.get("magic") != MAGIC or doc.get("format") != FORMAT or doc.get("settings") != settings:
                raise ValueError("not a cache file of this querylint version and settings")
            facts, queries, results = doc["facts"], doc["queries"], doc["results"]
            if not (isinstance(facts, dict) and isinstance(queries, dict) and isinstance(results, dict)):
                raise ValueError("malformed tables")
            cache.facts, cache.queries, cache.results = facts, queries, results
            cache.results_digest = doc.get("results_digest")
        except Exception as exc:  # corrupt, truncated, foreign: ignore and rebuild
            cache.problem = f"{cache.file}: ignored ({type(exc).__name__}: {exc})"
            cache.facts, cache.queries, cache.results = {}, {}, {}
            cache.results_digest = None
            cache.dirty = True
        return cache

    # ------------------------------------------------------------------ lookups

    def get_facts(self, relpath: str, chash: str):
        hit = self.facts.get(relpath)
        if hit is not None and hit[0] == chash:
            return hit[1], hit[2]
        return None

    def put_facts(self, relpath: str, chash: str, facts, fdigest: str) -> None:
        self.facts[relpath] = (chash, facts, fdigest)
        self.dirty = True

    def get_queries(self, relpath: str, chash: str, index_digest: str):
        hit = self.queries.get(relpath)
        if hit is not None and hit[0] == chash and hit[1] == index_digest:
            return hit[2]
        return None

    def put_queries(self, relpath: str, chash: str, index_digest: str, found) -> None:
        self.queries[relpath] = (chash, index_digest, found)
        self.dirty = True

    def use_results_digest(self, full_digest: str) -> None:
        if self.results_digest != full_digest:
            self.results = {}
            self.results_digest = full_digest
            self.dirty = True

    def get_result(self, relpath: str, display: str, chash: str):
        return self.results.get((relpath, display, chash))

    def put_result(self, relpath: str, display: str, chash: str, result) -> None:
        self.results[(relpath, display, chash)] = result
        self.dirty = True

    def prune(self, relpaths: Iterable[str]) -> None:
        """Forget files that are no longer in the project."""
        keep = set(relpaths)
        for table in (self.facts, self.queries):
            for k in [k for k in table if k not in keep]:
                del table[k]
                self.dirty = True

    # ------------------------------------------------------------------ saving

    def save(self) -> None:
        """Write atomically; a cache that cannot be written is silently skipped."""
        if not self.dirty:
            return
        doc = {
            "magic": MAGIC, "format": FORMAT, "settings": self.settings,
            "facts": self.facts, "queries": self.queries,
            "results_digest": self.results_digest, "results": self.results,
        }
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            _mark_folder(self.folder)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=str(self.folder))
            try:
                with os.fdopen(fd, "wb") as fh:
                    pickle.dump(doc, fh, protocol=pickle.HIGHEST_PROTOCOL)
                os.replace(tmp, self.file)
            except BaseException:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
                raise
            self.dirty = False
            _trim(self.folder, self.file)
        except OSError:
            pass


def _mark_folder(folder: Path) -> None:
    tag = folder / "CACHEDIR.TAG"
    if not tag.exists():
        tag.write_text(
            "Signature: 8a477f597d28d172789f06886806bc55\n# This file is a cache directory tag created by querylint.\n",
            encoding="utf-8",
        )
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# Created by querylint automatically.\n*\n", encoding="utf-8")


def _trim(folder: Path, current: Path) -> None:
    files = sorted(folder.glob("*.pickle"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in files[KEEP_FILES:]:
        if old != current:
            try:
                old.unlink()
            except OSError:
                pass


def _version_of(dist: str) -> str:
    try:
        from importlib.metadata import version

        return version(dist)
    except Exception:
        return "?"
