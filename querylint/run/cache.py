"""The on-disk cache (``.querylint_cache/`` at the project root).

Two files per *settings* digest (querylint's code, the Python and libcst versions, the
configuration, the selected rules and the loaded plugins; not the folder, so a cache restored
into another clone stays valid). It holds three tables:

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

import enum
import hashlib
import io
import os
import pickle
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any, Dict, Iterable, Optional, Sequence, Tuple

from querylint.run.config import Config
from querylint.run.source import overlay_text

MAGIC = "querylint-cache"
FORMAT = 8
KEEP_FILES = 8  # settings variants kept side by side (e.g. a pre-commit and a CI selection)

_ALLOWED = {
    ("querylint.project.facts", "FileFacts"), ("querylint.project.facts", "ClassFacts"), ("querylint.project.facts", "FunctionFacts"),
    ("querylint.project.facts", "ClassAttr"), ("querylint.project.facts", "CallSummary"),
    ("querylint.types", "Finding"), ("querylint.types", "FileError"), ("querylint.types", "Span"), ("querylint.types", "Edit"),
    ("querylint.types", "Severity"), ("querylint.result", "FileResult"),
    ("querylint.templates.model", "Render"), ("querylint.templates.model", "Bound"),
    ("builtins", "set"), ("builtins", "frozenset"), ("builtins", "complex"), ("builtins", "bytes"),
    ("builtins", "Ellipsis"), ("builtins", "getattr"),
    ("copyreg", "_reconstructor"), ("builtins", "object"),
}


def _enum_member(cls, name):
    """``getattr`` as enum members use it (``getattr(Severity, "WARNING")`` on Python 3.12+), and
    nothing more: a raw ``getattr`` reaches ``__globals__`` and from there ``eval`` (a cache file
    committed to a repository would run code)."""
    if isinstance(cls, type) and issubclass(cls, enum.Enum) and isinstance(name, str) and name in cls.__members__:
        return cls.__members__[name]
    raise pickle.UnpicklingError("getattr is only allowed for enum members in a querylint cache")


class _SafeUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if (module, name) == ("builtins", "getattr"):
            return _enum_member
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


def settings_digest(config: Config, root: Path, rule_idents: Sequence[str], detector_idents: Sequence[str], fingerprint: Sequence[Tuple[str, str]]) -> str:
    """What every cached answer depends on besides the files: the settings, the rules that run
    (``module.Class:code``), the query detectors and the code's fingerprint
    (:func:`querylint.run.catalogue.code_key`). Not the project's folder: every key is a path
    relative to the project root and a content hash, so a cache restored into another clone (a
    CI job in a fresh checkout) is valid there."""
    cfg = replace(config, source=None, root=None)
    # (querylint's, Python's and the parsers' versions are in the fingerprint)
    return digest(MAGIC, FORMAT, repr(cfg), tuple(rule_idents), tuple(detector_idents), tuple(fingerprint))


class Cache:
    """Two files per settings digest: a small *manifest* (file stats and hashes, the digests
    and the per-file results), read on every run, and the *index* tables (facts and query
    sites), read only when some file changed. A run where nothing changed reads the manifest
    alone."""

    def __init__(self, folder: Path, settings: str):
        self.folder = Path(folder)
        self.settings = settings
        self.file = self.folder / f"{settings}.pickle"
        self.index_file = self.folder / f"{settings}.index.pickle"
        self._facts: Dict[str, Tuple[str, Any, str]] = {}
        self._queries: Dict[str, Tuple[str, str, Any]] = {}
        self._index_loaded = False
        self.results_digest: Optional[str] = None
        self.results_files: Optional[str] = None  # digest of every (relpath, hash) the results were computed from
        self.results: Dict[Tuple[str, str, str], Any] = {}
        self.stats: Dict[str, Tuple[int, int, int, str]] = {}  # relpath -> (mtime_ns, ctime_ns, size, hash)
        self.dirty = False
        self.index_dirty = False
        self.problem: Optional[str] = None  # why an existing cache file was ignored

    @classmethod
    def load(cls, folder: Path, settings: str) -> "Cache":
        cache = cls(folder, settings)
        doc = cache._read(cache.file, ("results", "stats"))
        if doc is not None:
            cache.results, cache.stats = doc["results"], doc["stats"]
            cache.results_digest = doc.get("results_digest")
            cache.results_files = doc.get("results_files")
        return cache

    def _read(self, path: Path, tables: Tuple[str, ...]) -> Optional[dict]:
        try:
            data = path.read_bytes()
        except OSError:
            return None
        try:
            doc = _SafeUnpickler(io.BytesIO(data)).load()
            if not isinstance(doc, dict) or doc.get("magic") != MAGIC or doc.get("format") != FORMAT or doc.get("settings") != self.settings:
                raise ValueError("not a cache file of this querylint version and settings")
            if not all(isinstance(doc.get(t), dict) for t in tables):
                raise ValueError("malformed tables")
            return doc
        except Exception as exc:  # corrupt, truncated, foreign: ignore and rebuild
            self.problem = f"{path}: ignored ({type(exc).__name__}: {exc})"
            self.dirty = self.index_dirty = True
            return None

    def _load_index(self) -> None:
        if self._index_loaded:
            return
        self._index_loaded = True
        doc = self._read(self.index_file, ("facts", "queries"))
        if doc is not None:
            self._facts, self._queries = doc["facts"], doc["queries"]

    @property
    def facts(self) -> Dict[str, Tuple[str, Any, str]]:
        self._load_index()
        return self._facts

    @property
    def queries(self) -> Dict[str, Tuple[str, str, Any]]:
        self._load_index()
        return self._queries

    # ------------------------------------------------------------------ lookups

    def file_hash(self, relpath: str, path: str) -> Optional[str]:
        """The content hash of a file; not re-read while its size and times are unchanged
        (as mypy and ruff do). None when the file cannot be read. An editor buffer with unsaved
        changes is hashed from its text (and its stats are not recorded)."""
        text = overlay_text(path)
        if text is not None:
            return content_hash(text.encode("utf-8"))
        try:
            st = os.stat(path)
        except OSError:
            return None
        hit = self.stats.get(relpath)
        if hit is not None and hit[:3] == (st.st_mtime_ns, st.st_ctime_ns, st.st_size):
            return hit[3]
        try:
            with open(path, "rb") as fh:
                chash = content_hash(fh.read())
        except OSError:
            return None
        self.stats[relpath] = (st.st_mtime_ns, st.st_ctime_ns, st.st_size, chash)
        self.dirty = True
        return chash

    def get_facts(self, relpath: str, chash: str):
        hit = self.facts.get(relpath)
        if hit is not None and hit[0] == chash:
            return hit[1], hit[2]
        return None

    def put_facts(self, relpath: str, chash: str, facts, fdigest: str) -> None:
        self.facts[relpath] = (chash, facts, fdigest)
        self.index_dirty = True

    def get_queries(self, relpath: str, chash: str, index_digest: str):
        hit = self.queries.get(relpath)
        if hit is not None and hit[0] == chash and hit[1] == index_digest:
            return hit[2]
        return None

    def put_queries(self, relpath: str, chash: str, index_digest: str, found) -> None:
        self.queries[relpath] = (chash, index_digest, found)
        self.index_dirty = True

    def use_results_digest(self, full_digest: str, files_digest: str) -> None:
        if self.results_digest != full_digest:
            self.results = {}
            self.results_digest = full_digest
            self.dirty = True
        if self.results_files != files_digest:
            self.results_files = files_digest
            self.dirty = True

    def results_valid_for(self, files_digest: str) -> bool:
        """True when the stored results were computed from exactly these files' contents."""
        return self.results_digest is not None and self.results_files == files_digest

    def get_result(self, relpath: str, display: str, chash: str):
        return self.results.get((relpath, display, chash))

    def put_result(self, relpath: str, display: str, chash: str, result) -> None:
        self.results[(relpath, display, chash)] = result
        self.dirty = True

    def prune(self, relpaths: Iterable[str]) -> None:
        """Forget files that are no longer in the project."""
        keep = set(relpaths)
        for k in [k for k in self.stats if k not in keep]:
            del self.stats[k]
            self.dirty = True
        if self._index_loaded:
            for table in (self._facts, self._queries):
                for k in [k for k in table if k not in keep]:
                    del table[k]
                    self.index_dirty = True

    # ------------------------------------------------------------------ saving

    def save(self) -> None:
        """Write atomically; a cache that cannot be written is silently skipped."""
        head = {"magic": MAGIC, "format": FORMAT, "settings": self.settings}
        try:
            if self.index_dirty and self._index_loaded:
                self._write(self.index_file, dict(head, facts=self._facts, queries=self._queries))
                self.index_dirty = False
            if self.dirty:
                self._write(self.file, dict(head, results_digest=self.results_digest, results_files=self.results_files,
                                            results=self.results, stats=self.stats))
                self.dirty = False
            _trim(self.folder, self.file)
        except OSError:
            pass

    def _write(self, path: Path, doc: dict) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        _mark_folder(self.folder)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=str(self.folder))
        try:
            with os.fdopen(fd, "wb") as fh:
                pickle.dump(doc, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise


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
    """Keep the newest KEEP_FILES settings variants (a manifest and its index file each)."""
    try:
        manifests = [p for p in folder.glob("*.pickle") if not p.name.endswith(".index.pickle")]
        manifests.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    except OSError:
        return
    for old in manifests[KEEP_FILES:]:
        if old != current:
            for p in (old, old.with_name(old.stem + ".index.pickle")):
                try:
                    p.unlink()
                except OSError:
                    pass
