"""Guards against pathologically nested source (the robustness issue).

libcst's native parser overflows the C stack on input nested a few thousand levels deep: a
segmentation fault that would end the whole run (and lose every finding). Tree walks hit
Python's recursion limit far earlier (``pydoc_data/topics.py``: thousands of implicitly
concatenated strings). So:

- :func:`nesting_error` asks CPython's own parser first (it has depth guards and is ~10x faster
  than libcst): source CPython refuses as too deeply nested is a syntax error, never handed on;
- :func:`call_deep` runs a function on a thread with a large stack (and, with
  ``recursion=True``, a raised recursion limit), so what CPython accepts parses and walks;
- :func:`parse_module` does both for a parse.
"""
from __future__ import annotations

import ast
import os
import sys
import threading
import warnings
from typing import Any, Callable, Optional, Tuple, cast

STACK_SIZE = 512 * 1024 * 1024  # reserved address space; only the pages touched are used
DEEP_RECURSION_LIMIT = 100_000
TOO_DEEP = "the file is too deeply nested to analyse"


def nesting_error(text: str) -> Optional[str]:
    """A message when CPython's parser rejects ``text`` as too deeply nested, else None.

    Other syntax errors are left to libcst (it knows newer syntax than the running interpreter).
    """
    return _checked_ast(text)[1]


def _checked_ast(text: str) -> Tuple[Optional[ast.Module], Optional[str]]:
    """(CPython's tree of ``text`` or None, the message when it is too deeply nested or None)."""
    try:
        return _ast_tree(text), None
    except SyntaxError as exc:
        msg = getattr(exc, "msg", "") or ""
        if "too many nested" in msg or "too many levels" in msg or "too complex" in msg:
            line = f" (line {exc.lineno})" if exc.lineno else ""
            return None, f"syntax error: {msg}{line}"
    except (RecursionError, MemoryError):
        return None, "syntax error: the file is too deeply nested for Python itself to parse"
    except Exception:  # ValueError (null bytes on older Pythons) and the like: libcst decides
        pass
    return None, None


def _ast_tree(text: str) -> ast.Module:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # invalid escapes etc.: not ours to report
        return cast(ast.Module, compile(text, "<querylint>", "exec", ast.PyCF_ONLY_AST, dont_inherit=True))


def parse_ast(text: str) -> Optional[ast.Module]:
    """Python's own tree of ``text`` (on the big-stack thread, as :func:`parse_module`), or None
    when CPython rejects it for any reason: the libcst parse then decides what is wrong."""
    try:
        return call_deep(_checked_ast, text)[0]
    except (RecursionError, MemoryError):
        return None


class TooDeepSource(Exception):
    """CPython refuses the source as too deeply nested (the message says why)."""


def parse_module(text: str):
    """libcst's tree of ``text``, after :func:`nesting_error`; both on a fresh big-stack thread,
    so the depth check does not depend on how deep the caller's stack is (deterministic)."""
    return call_deep(_checked_parse, text)[0]


def parse_module_and_ast(text: str) -> Tuple[Any, Optional[ast.Module]]:
    """(libcst's tree, CPython's tree or None when CPython rejects the text) of ``text``: the
    depth check parses with CPython anyway (:func:`parse_module`)."""
    return call_deep(_checked_parse, text)


def _checked_parse(text: str) -> Tuple[Any, Optional[ast.Module]]:
    import libcst

    tree, problem = _checked_ast(text)
    if problem is not None:
        raise TooDeepSource(problem)
    return libcst.parse_module(text), tree


def call_deep(fn: Callable[..., Any], *args: Any, recursion: bool = False) -> Any:
    """``fn(*args)`` on querylint's big-stack thread; its exception is re-raised here.

    ``recursion``: also raise the recursion limit while it runs (safe: the big stack holds it).
    One long-lived thread per process serves every call (starting a thread with a large stack
    per file cost about a tenth of a cold run); calls made on that thread run directly. Falls
    back to calling ``fn`` directly when no such thread can be started.
    """
    worker = _worker()
    if worker is None or threading.current_thread() is worker.thread:
        if recursion and worker is not None:
            _raise_limit()
            try:
                return fn(*args)
            finally:
                _restore_limit()
        return fn(*args)
    return worker.run(fn, args, recursion)


class _DeepWorker:
    def __init__(self) -> None:
        import queue

        self.requests: "queue.Queue" = queue.Queue()
        self.pid = os.getpid()
        self.call_lock = threading.Lock()  # one caller at a time: the worker runs one call
        self.thread = threading.Thread(target=self._serve, name="querylint-deep", daemon=True)

    def _serve(self) -> None:
        while True:
            fn, args, recursion, box, done = self.requests.get()
            if recursion:
                _raise_limit()
            try:
                box.append((True, fn(*args)))
            except BaseException as exc:  # handed back to the caller's thread
                box.append((False, exc))
            finally:
                if recursion:
                    _restore_limit()
                done.set()

    def run(self, fn, args, recursion: bool):
        box: list = []
        done = threading.Event()
        with self.call_lock:
            self.requests.put((fn, args, recursion, box, done))
            done.wait()
        ok, value = box[0]
        if ok:
            return value
        raise value


_WORKER: list = [None]


def _worker() -> Optional[_DeepWorker]:
    """This process's big-stack thread, started on first use (and again after a fork)."""
    current = _WORKER[0]
    if current is not None and current.pid == os.getpid() and current.thread.is_alive():
        return current
    with _LOCK:
        current = _WORKER[0]
        if current is not None and current.pid == os.getpid() and current.thread.is_alive():
            return current
        previous = threading.stack_size()
        try:
            threading.stack_size(STACK_SIZE)
            worker = _DeepWorker()
            worker.thread.start()
        except (RuntimeError, ValueError, MemoryError):  # no address space for the stack
            return None
        finally:
            threading.stack_size(previous)
        _WORKER[0] = worker
        return worker


_LOCK = threading.Lock()
_LIMIT_LOCK = threading.Lock()
_RAISED = [0, 0]  # deep threads running with the raised limit, the limit to restore after the last


def _raise_limit() -> None:
    with _LIMIT_LOCK:
        if _RAISED[0] == 0:
            _RAISED[1] = sys.getrecursionlimit()
            sys.setrecursionlimit(max(_RAISED[1], DEEP_RECURSION_LIMIT))
        _RAISED[0] += 1


def _restore_limit() -> None:
    with _LIMIT_LOCK:
        _RAISED[0] -= 1
        if _RAISED[0] == 0:
            sys.setrecursionlimit(_RAISED[1])
