"""Run the engine's three passes over many files, in this process or in a pool of workers.

Every file is parsed at most once per run: it belongs to one *shard* (this process, or one
worker process) the first time a pass needs its tree, and that shard keeps the tree for the
later passes. Workers are plain processes that own their shard and answer requests over a
pipe; the index facts are sent to them once. Small batches stay in this process, where a
worker's start-up would cost more than it saves.
"""
from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import pickle
import time
import traceback
from pathlib import Path
from multiprocessing.connection import wait as wait_for
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Set, Tuple, cast

from querylint.run.config import Config
from querylint.run.files import Entry
from querylint.run.workers import WorkerError
from querylint.engine import ParsedFile, Queries, collect_queries, fast_facts, lint_file, parse_file
from querylint.result import FileResult
from querylint.project.facts import FileFacts
from querylint.project.index import ProjectIndex
from querylint.run.progress import PHASES, Progress
from querylint.types import FileError

Tick = Optional[Callable[[int], None]]  # told how many of a pass's files are done

# Below this many files needing a tree in one pass, work stays in this process.
PARALLEL_THRESHOLD = 50

# Files the lint leaves out (tests, migrations) give their facts from Python's ``ast`` (the same
# facts, without libcst's tree); ``QUERYLINT_FAST_FACTS=0`` gathers every file's from libcst
# (the equivalence test runs both).
FAST_FACTS = os.environ.get("QUERYLINT_FAST_FACTS", "1") != "0"


class Shard:
    """The files of one process: parsed on first need, trees kept until linted."""

    def __init__(self, config: Config, rules: Sequence[type], detectors: Sequence[Callable]):
        self.config = config
        self.rules = list(rules)
        self.detectors = list(detectors)
        self.entries: Dict[str, Entry] = {}
        self.parsed: Dict[str, ParsedFile] = {}
        self.index: Optional[ProjectIndex] = None
        self.by_relpath: Dict[str, str] = {}
        self.freed: Set[str] = set()  # parsed once, tree freed since: parsed again on demand

    def add(self, entries: Iterable[Entry]) -> None:
        for e in entries:
            self.entries[e.key] = e
            self.by_relpath[e.relpath] = e.key

    def tree(self, relpath: str):
        """The tree of a file this shard owns (parsed again if pass 1 freed it), else None: another
        shard's file is that shard's to parse."""
        key = self.by_relpath.get(relpath)
        if key is None or (key not in self.parsed and key not in self.freed):
            return None
        return self._parsed(key).module

    def _parsed(self, key: str) -> ParsedFile:
        pf = self.parsed.get(key)
        if pf is None:
            e = self.entries[key]
            pf = parse_file(Path(e.path), e.relpath, e.display)
            self.parsed[key] = pf
        return pf

    def facts(self, keys: Sequence[str], tick: Tick = None) -> Dict[str, Tuple[Optional[FileFacts], Optional[FileError]]]:
        """Pass 1 over this shard's files. The tree of a file the lint leaves out (a test or a
        migration) is freed at once: pass 2 rarely needs it (then it is parsed again), and the
        run's peak memory is the trees held at the end of this pass."""
        out: Dict[str, Tuple[Optional[FileFacts], Optional[FileError]]] = {}
        with _trees_frozen():
            for k in keys:
                ff = fast_facts(Path(self.entries[k].path), self.entries[k].relpath) if FAST_FACTS and self.config.left_out(self.entries[k].relpath) else None
                if ff is not None:  # no tree: parsed with libcst only if a later pass needs it
                    out[k] = (ff, None)
                    self.freed.add(k)
                    if tick is not None:
                        tick(len(out))
                    continue
                pf = self._parsed(k)
                out[k] = (pf.facts, pf.error)
                if pf.error is None and self.config.left_out(self.entries[k].relpath):
                    del self.parsed[k]
                    self.freed.add(k)
                if tick is not None:
                    tick(len(out))
        return out

    def set_index(self, facts: Sequence[FileFacts]) -> None:
        self.index = ProjectIndex(facts)
        self.index.tree_provider = self.tree

    def set_queries(self, queries: Dict[str, Tuple[str, ...]]) -> None:
        cast(ProjectIndex, self.index).set_direct_queries(queries)  # after set_index

    def queries(self, keys: Sequence[str], tick: Tick = None) -> Dict[str, Queries]:
        out: Dict[str, Queries] = {}
        for k in keys:
            pf = self._parsed(k)
            if pf.facts is None:
                out[k] = ({}, [], ())
            else:
                out[k] = collect_queries(pf, cast(ProjectIndex, self.index), self.config, self.detectors)
            if tick is not None:
                tick(len(out))
        return out

    def forget(self, keys: Sequence[str]) -> Dict[str, None]:
        """Free the trees of files no later pass reads (parsed again if one ever is)."""
        for k in keys:
            if self.parsed.pop(k, None) is not None:
                self.freed.add(k)
        return {}

    def lint(self, keys: Sequence[str], tick: Tick = None) -> Dict[str, FileResult]:
        out = {}
        for k in keys:
            # trees stay until the run ends: other files' cross-file inference may read them
            out[k] = lint_file(self._parsed(k), cast(ProjectIndex, self.index), self.config, self.rules)
            if tick is not None:
                tick(len(out))
        return out


# --------------------------------------------------------------------------- garbage collection

_FROZEN = False


@contextlib.contextmanager
def _trees_frozen():
    """Parse with the cyclic GC paused, then freeze what was built.

    The trees are held between passes; with the collector on, every collection of the old
    generation rescans all of them (a third of a cold run). They are freed by reference
    counting, so they need no scanning: frozen objects are skipped by the collector, which
    stays on for the cycles the later passes create.
    """
    global _FROZEN
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        _FROZEN = True
        if was_enabled:
            gc.enable()


def unfreeze_trees() -> None:
    """Hand frozen objects back to the collector (end of a run)."""
    global _FROZEN
    if _FROZEN:
        gc.unfreeze()
        _FROZEN = False


# --------------------------------------------------------------------------- workers


def _worker_main(conn, config, rules, detectors, progress: bool) -> None:
    shard = Shard(config, rules, detectors)
    while True:
        try:
            op, payload = pickle.loads(conn.recv_bytes())
        except EOFError:
            return
        if op == "stop":
            return
        try:
            if op == "add":
                shard.add(payload)
                reply = None
            elif op == "index":
                shard.set_index(payload)
                reply = None
            elif op == "set_queries":
                shard.set_queries(payload)
                reply = None
            elif progress and op in PHASES:
                reply = getattr(shard, op)(payload, tick=_ticker(conn))
            else:
                reply = getattr(shard, op)(payload)
            conn.send_bytes(pickle.dumps(("ok", reply), protocol=pickle.HIGHEST_PROTOCOL))
        except BaseException:
            conn.send_bytes(pickle.dumps(("error", traceback.format_exc()), protocol=pickle.HIGHEST_PROTOCOL))


def _ticker(conn) -> Callable[[int], None]:
    """Tell the main process how many files of the pass are done, at most ten times a second."""
    last = [0.0]

    def tick(done: int) -> None:
        now = time.monotonic()
        if now - last[0] >= 0.1:
            last[0] = now
            conn.send_bytes(pickle.dumps(("progress", done), protocol=pickle.HIGHEST_PROTOCOL))

    return tick


class _Worker:
    def __init__(self, ctx: Any, config, rules, detectors, progress: bool = False):
        parent, child = ctx.Pipe()
        self.conn = parent
        self.proc = ctx.Process(target=_worker_main, args=(child, config, rules, detectors, progress), daemon=True)
        self.proc.start()
        child.close()
        self.has_index = False
        self.has_queries = False
        self.dead = False

    def send(self, op: str, payload) -> None:
        self.conn.send_bytes(pickle.dumps((op, payload), protocol=pickle.HIGHEST_PROTOCOL))

    def send_raw(self, data: bytes) -> None:
        self.conn.send_bytes(data)

    def receive(self):
        """The answer to the last request (progress reports before it are passed over)."""
        while True:
            status, reply = self.message()
            if status == "ok":
                return reply

    def message(self) -> Tuple[str, Any]:
        """The next message: ("ok", answer) or ("progress", files done)."""
        try:
            status, reply = pickle.loads(self.conn.recv_bytes())
        except EOFError:
            raise WorkerError("a querylint worker process stopped unexpectedly") from None
        if status not in ("ok", "progress"):
            raise WorkerError(reply)
        return status, reply

    def close(self) -> None:
        try:
            if not self.dead:
                self.send("stop", None)
        except (OSError, ValueError):
            pass
        self.proc.join(timeout=5)
        if self.proc.is_alive():  # pragma: no cover - a stuck worker
            self.proc.terminate()
        self.conn.close()


class Runner:
    """Hands each pass's files to their shards and gathers the answers."""

    def __init__(self, entries: Sequence[Entry], config: Config, rules: Sequence[type], detectors: Sequence[Callable], jobs: int = 1,
                 progress: Optional[Progress] = None):
        self.entries = {e.key: e for e in entries}
        self.progress = progress
        self.config = config
        self.rules = list(rules)
        self.detectors = list(detectors)
        self.jobs = max(1, jobs)
        self.local = Shard(config, rules, detectors)
        self.workers: List[_Worker] = []
        self.owner: Dict[str, int] = {}  # key -> -1 (local) or worker number
        self.index_facts: Optional[Sequence[FileFacts]] = None
        self._index_blob: Optional[bytes] = None
        self.direct_queries: Optional[Dict[str, Tuple[str, ...]]] = None
        self._queries_blob: Optional[bytes] = None
        self._local_has_queries = False

    # ------------------------------------------------------------------ ownership

    def _assign(self, keys: Sequence[str]) -> None:
        new = [k for k in keys if k not in self.owner]
        if not new:
            return
        if self.jobs > 1 and len(new) >= PARALLEL_THRESHOLD and not (self.workers and all(w.dead for w in self.workers)):
            if not self.workers:
                self._start_workers()
            # balance by file size: largest first onto the least loaded worker
            sizes = {k: _size(self.entries[k].path) for k in new}
            load = [float("inf") if wk.dead else 0 for wk in self.workers]
            batches: List[List[Entry]] = [[] for _ in self.workers]
            for k in sorted(new, key=lambda k: (-sizes[k], k)):
                w = load.index(min(load))
                load[w] += sizes[k] + 2000
                batches[w].append(self.entries[k])
                self.owner[k] = w
            for w, batch in enumerate(batches):
                if batch:
                    self.workers[w].send("add", batch)
            for w, batch in enumerate(batches):
                if batch:
                    self.workers[w].receive()
        else:
            self.local.add(self.entries[k] for k in new)
            for k in new:
                self.owner[k] = -1

    def _start_workers(self) -> None:
        methods = multiprocessing.get_all_start_methods()
        ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        self.workers = [_Worker(ctx, self.config, self.rules, self.detectors, self.progress is not None) for _ in range(self.jobs)]

    def _split(self, keys: Sequence[str]) -> Tuple[List[str], Dict[int, List[str]]]:
        self._assign(keys)
        local: List[str] = []
        remote: Dict[int, List[str]] = {}
        for k in keys:
            w = self.owner[k]
            if w < 0:
                local.append(k)
            else:
                remote.setdefault(w, []).append(k)
        return local, remote

    def _run(self, op: str, keys: Sequence[str], prepare: Optional[Callable[[_Worker], None]] = None) -> Dict:
        local, remote = self._split(keys)
        counted = self.progress is not None and op in PHASES
        if counted:
            cast(Progress, self.progress).begin(op, len(keys))
        sent: Dict[int, List[str]] = {}
        for w, ks in remote.items():
            try:
                if prepare is not None:
                    prepare(self.workers[w])
                self.workers[w].send(op, ks)
                sent[w] = ks
            except (WorkerError, OSError):
                self._retire(w)
                local.extend(ks)
        out: Dict = {}
        if local:
            out.update(self._here(op, local, "local", counted))  # this process works while the workers do
        pending = dict(sent)
        while pending:
            by_conn = {self.workers[w].conn: w for w in pending}
            for conn in wait_for(list(by_conn)):
                w = by_conn[conn]
                try:
                    status, reply = self.workers[w].message()
                except (WorkerError, OSError) as failure:
                    # nothing is lost: the dead worker's files are done again in this process
                    ks = pending.pop(w)
                    self._retire(w)
                    if counted:
                        cast(Progress, self.progress).done.pop(w, None)
                    try:
                        out.update(self._here(op, ks, ("redo", w), counted))
                    except Exception as exc:  # the same failure here: an internal error, reported
                        raise WorkerError(f"{failure}\n(redoing that worker's files in the main process failed too: {type(exc).__name__}: {exc})") from exc
                    continue
                if status == "progress":
                    cast(Progress, self.progress).advance(w, reply)
                    continue
                out.update(reply)
                pending.pop(w)
                if counted:
                    cast(Progress, self.progress).advance(w, len(sent[w]))
        return out

    def _here(self, op: str, keys: Sequence[str], shard: object, counted: bool) -> Dict:
        """Run a pass over ``keys`` in this process (counting them as ``shard``'s progress)."""
        run = getattr(self.local, op)
        if not counted:
            return run(keys)
        progress = cast(Progress, self.progress)
        return run(keys, tick=lambda done: progress.advance(shard, done))

    def _retire(self, w: int) -> None:
        """A worker died: every file it owned moves to this process (parsed again here)."""
        worker = self.workers[w]
        if worker.dead:
            return
        worker.dead = True
        moved = [k for k, owner in self.owner.items() if owner == w]
        for k in moved:
            self.owner[k] = -1
        self.local.add(self.entries[k] for k in moved)
        try:
            worker.proc.terminate()
        except Exception:  # pragma: no cover
            pass

    # ------------------------------------------------------------------ passes

    def facts(self, keys: Sequence[str]):
        return self._run("facts", keys)

    def set_index(self, facts: Sequence[FileFacts]) -> None:
        self.index_facts = facts
        self.local.index = None
        self._index_blob = None
        for w in self.workers:
            w.has_index = w.has_queries = False

    def set_queries(self, queries: Dict[str, Tuple[str, ...]]) -> None:
        self.direct_queries = queries
        self._queries_blob = None
        self._local_has_queries = False
        for w in self.workers:
            w.has_queries = False

    def _local_index(self) -> None:
        if self.local.index is None and self.index_facts is not None:
            self.local.set_index(self.index_facts)
            self._local_has_queries = False
        if self.local.index is not None and self.direct_queries is not None and not self._local_has_queries:
            self.local.set_queries(self.direct_queries)
            self._local_has_queries = True

    def local_index(self) -> Optional[ProjectIndex]:
        """The project index with its query sites, in this process (the template pass reads it)."""
        self._local_index()
        return self.local.index

    def _prepare_index(self, worker: _Worker) -> None:
        if not worker.has_index:
            if self._index_blob is None:
                self._index_blob = pickle.dumps(("index", list(cast(Sequence[FileFacts], self.index_facts))), protocol=pickle.HIGHEST_PROTOCOL)
            worker.send_raw(self._index_blob)
            worker.receive()
            worker.has_index = True

    def _prepare_queries(self, worker: _Worker) -> None:
        self._prepare_index(worker)
        if not worker.has_queries:
            if self._queries_blob is None:
                self._queries_blob = pickle.dumps(("set_queries", self.direct_queries), protocol=pickle.HIGHEST_PROTOCOL)
            worker.send_raw(self._queries_blob)
            worker.receive()
            worker.has_queries = True

    def queries(self, keys: Sequence[str]):
        self._local_index()
        return self._run("queries", keys, self._prepare_index)

    def forget(self, keys: Sequence[str]) -> None:
        self._run("forget", [k for k in keys if k in self.owner])

    def lint(self, keys: Sequence[str]):
        self._local_index()
        return self._run("lint", keys, self._prepare_queries)

    def close(self) -> None:
        for w in self.workers:
            w.close()
        self.workers = []

    def __enter__(self) -> "Runner":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0
