"""The project index: cross-file facts gathered once per run, read-only for rules.

Built from every file's :class:`~querylint.project.facts.FileFacts` (modules, classes, functions, calls)
plus the query sites the rule families' detectors find in each function. Family-specific views
(the Django model graph, SQLAlchemy mappings, per-request paths) are derived lazily through
:meth:`ProjectIndex.derived`, computed once and shared by every rule.
"""
from __future__ import annotations

from collections import deque
from typing import Any, Callable, Deque, Dict, Iterable, List, Mapping, Optional, Set, Tuple

from querylint.project.facts import ClassFacts, FileFacts, FunctionFacts


# Decorators that memoise a function's result across calls (by its arguments): a query behind
# one runs once per distinct key, not once per call, so a call per item is not an N+1.
# ``cached_property`` is not here: it caches per instance, and a loop has one instance per item.
MEMO_DECORATORS = frozenset({
    "functools.cache", "functools.lru_cache", "cache", "lru_cache", "memoize", "memoized", "cached",
    "ttl_cache", "cachetools.cached", "cachetools.func.ttl_cache", "cachetools.func.lru_cache",
    "async_lru.alru_cache", "alru_cache",
})


# words of a project's own caching decorator (``@dojo_settings_cache(key=...)``,
# ``@cache_for_request``, ``@request_cached``), and words that say it is something else
_CACHE_WORDS = frozenset({"cache", "cached", "memoize", "memoized", "memoise", "memoised", "memo"})
_NOT_MEMO_WORDS = frozenset({
    "never", "control", "invalidate", "invalidates", "clear", "clears", "bust", "evict", "page", "headers", "vary",
    "purge", "patch", "delete", "property", "response", "view", "template", "set", "update", "warm", "refresh",
})


def memoised(decorators) -> bool:
    """A decorator list that memoises: ``@lru_cache``, ``@functools.cache``, Flask-Caching's
    ``@cache.memoize()`` / ``@cache.cached()``, ``@cachetools.cached(...)``, a project decorator
    named for caching (``@cache_for_request``, ``@settings_cache(key=...)``). Django's
    ``@method_decorator(cache_page)`` is not (it caches a response, not a lookup), nor
    ``@never_cache`` or ``@cached_property`` (per instance: a loop has one instance per item)."""
    for d in decorators:
        last = d.rsplit(".", 1)[-1]
        words = set(last.lower().split("_"))
        if words & _CACHE_WORDS and not words & _NOT_MEMO_WORDS and not d.startswith(("django.", "flask.", "functools.cached_property")):
            return True
        if d in MEMO_DECORATORS or last in ("memoize", "memoized", "lru_cache", "alru_cache", "ttl_cache"):
            return True
        if last in ("cache", "cached") and (d == last or d.startswith(("functools.", "cachetools.")) or "." in d):
            return True  # ``@cache`` from functools, ``@app_cache.cached(...)``
    return False


class ProjectIndex:
    def __init__(self, files: Iterable[FileFacts] = ()):
        self.files: Dict[str, FileFacts] = {}
        self.modules: Dict[str, FileFacts] = {}
        self.classes: Dict[str, ClassFacts] = {}
        self.classes_by_name: Dict[str, List[ClassFacts]] = {}
        self.functions: Dict[str, FunctionFacts] = {}
        self.functions_by_name: Dict[str, List[FunctionFacts]] = {}
        # function qualname -> descriptions of the queries it runs itself (filled by the engine)
        self.direct_queries: Dict[str, Tuple[str, ...]] = {}
        self._derived: Dict[str, Any] = {}
        self._query_paths: Optional[Dict[str, Tuple[str, ...]]] = None
        self._callees: Dict[str, Tuple[str, ...]] = {}
        self._class_memo: Dict[Tuple[str, Optional[str]], Optional[ClassFacts]] = {}
        self._suffix_memo: Dict[str, Optional[FunctionFacts]] = {}
        # relpath -> the parsed tree, when the process that holds this index parsed that file
        # (set by the engine; families use it for cross-file inference without re-parsing)
        self.tree_provider: Optional[Callable[[str], Any]] = None
        for f in files:
            self.add(f)

    # ------------------------------------------------------------------ building

    def add(self, facts: FileFacts) -> None:
        self._class_memo.clear()
        self._suffix_memo.clear()
        self._derived.clear()  # views of the whole index (modules by last name, import maps, ...)
        self.files[facts.path] = facts
        self.modules[facts.module] = facts
        for c in facts.classes:
            self.classes[c.qualname] = c
            self.classes_by_name.setdefault(c.name, []).append(c)
        for fn in facts.functions:
            self.functions[fn.qualname] = fn
            self.functions_by_name.setdefault(fn.name, []).append(fn)

    def canonical(self, dotted: str) -> str:
        """``dotted`` with re-exports followed: ``pkg.db`` where ``pkg/__init__.py`` does ``from
        .core import db`` is ``pkg.core.db`` (a project-local ``db``, model base or helper
        imported through a package's ``__init__``). Bounded: at most eight hops."""
        seen = set()
        for _ in range(8):
            if dotted in seen:
                break
            seen.add(dotted)
            parts = dotted.split(".")
            for i in range(len(parts) - 1, 0, -1):
                facts = self._module_named(".".join(parts[:i]))
                if facts is None:
                    continue
                target = self._import_maps().get(facts.module, {}).get(parts[i])
                if target is not None and target not in (".".join(parts[: i + 1]), f"{facts.module}.{parts[i]}"):
                    dotted = ".".join([target] + parts[i + 1:])
                    break
                # the longest module prefix decides; named as the project names it (``src.`` kept)
                dotted = ".".join([facts.module] + parts[i:])
                return dotted
            else:
                break
        return dotted

    def _module_named(self, name: str) -> Optional[FileFacts]:
        """A project module by its name as imported: exact, else the one module whose name ends
        with it (``iem.database`` is ``src.iem.database`` in a ``src/`` layout)."""
        hit = self.modules.get(name)
        if hit is not None:
            return hit
        by_last = self.derived("modules-by-last", lambda ix: _group_by_last(ix.modules))
        matches = [f for m, f in by_last.get(name.rsplit(".", 1)[-1], ()) if m.endswith("." + name)]
        return matches[0] if len(matches) == 1 else None

    def _import_maps(self) -> Dict[str, Dict[str, str]]:
        maps = self._derived.get("import-maps")
        if maps is None:
            # module-level aliases (``get_dbconn = database.get_dbconn``) re-export like imports
            maps = self._derived["import-maps"] = {
                m: {**self.star_names(f), **dict(f.aliases), **f.import_map()} for m, f in self.modules.items()
            }
        return maps

    def star_names(self, facts: FileFacts) -> Dict[str, str]:
        """The names ``from <project module> import *`` binds in ``facts``' module: what the
        target module defines or imports at module level, except private names (``from
        .models import *`` in a Django view binds every model). Nested star imports are followed
        up to three deep; a name bound more than once keeps its last binding."""
        if not any(local.startswith("*") for local, _ in facts.imports):
            return {}
        memo = self._derived.setdefault("star-names", {})
        hit = memo.get(facts.module)
        if hit is None:
            hit = memo[facts.module] = self._star_names(facts, 3, {facts.module})
        return hit

    def _star_names(self, facts: FileFacts, depth: int, seen: set) -> Dict[str, str]:
        out: Dict[str, str] = {}
        for local, base in facts.imports:
            if not local.startswith("*"):
                continue
            target = self._module_named(base)
            if target is None or target.module in seen:
                continue
            seen.add(target.module)
            names: Dict[str, str] = self._star_names(target, depth - 1, seen) if depth > 1 else {}
            names.update((k, v) for k, v in target.imports if not k.startswith(("*", "_")))
            names.update((k, v) for k, v in target.aliases if not k.startswith("_"))
            names.update((n, f"{target.module}.{n}") for n in target.module_names if not n.startswith("_"))
            out.update(names)
        return out

    def set_direct_queries(self, queries: Mapping[str, Iterable[str]]) -> None:
        for k, v in queries.items():
            v = tuple(v)
            if v:
                self.direct_queries[k] = v
        self._query_paths = None

    def tree(self, relpath: str):
        """The already parsed libcst module of a project file, or None when this process has none."""
        if self.tree_provider is None:
            return None
        return self.tree_provider(relpath)

    def derived(self, key: str, compute: Callable[["ProjectIndex"], Any]) -> Any:
        """A family-specific view of the index, computed once per run (e.g. the Django model graph)."""
        if key not in self._derived:
            self._derived[key] = compute(self)
        return self._derived[key]

    def library_name(self, qualified: str) -> str:
        """A name imported through project modules that got it from a library, by its library
        name: with ``db/sqlite.py`` doing ``import sqlite3`` (or ``import pysqlite3 as
        sqlite3``), ``db.sqlite.sqlite3.connect`` is ``sqlite3.connect``. Anything else (a
        project definition among them) as given."""
        if "." not in qualified:
            return qualified
        memo = self.derived("library-names", lambda ix: {})
        if qualified not in memo:
            found = self.canonical(qualified)
            tops = self.derived("top-packages", lambda ix: {m.split(".")[0] for m in ix.modules})
            memo[qualified] = found if found.split(".")[0] not in tops else qualified
        return memo[qualified]

    # ------------------------------------------------------------------ classes

    def resolve_class(self, dotted: Optional[str], module: Optional[str] = None) -> Optional[ClassFacts]:
        """A project class by qualified name; falls back to a module-suffix match, then a unique bare name.
        Memoised: the fallbacks scan every class of that name (ten ``User`` models in a monorepo)."""
        if not dotted:
            return None
        hit = self.classes.get(dotted)
        if hit:
            return hit
        key = (dotted, module)
        if key in self._class_memo:
            return self._class_memo[key]
        found = self._class_memo[key] = self._resolve_class(dotted, module)
        return found

    def _resolve_class(self, dotted: str, module: Optional[str]) -> Optional[ClassFacts]:
        if module and f"{module}.{dotted}" in self.classes:
            return self.classes[f"{module}.{dotted}"]
        if "." in dotted:
            # ``pkg.models.Realm`` re-exported by ``pkg/models/__init__.py``: the class it names,
            # whatever else is called ``Realm`` (copies in migrations)
            hit = self.classes.get(self.canonical(dotted))
            if hit is not None:
                return hit
        name = dotted.rsplit(".", 1)[-1]
        candidates = self.classes_by_name.get(name, ())
        if "." in dotted:
            suffix = "." + dotted
            matches = [c for c in candidates if c.qualname.endswith(suffix) or ("." + c.qualname).endswith(suffix)]
            if len(matches) == 1:
                return matches[0]
            # "app.Model" strings (Django): match the app label against the module path
            if dotted.count(".") == 1:
                app = dotted.split(".")[0]
                matches = [c for c in candidates if app in c.module.split(".")]
                if len(matches) == 1:
                    return matches[0]
        if len(candidates) == 1:
            return candidates[0]
        if module and candidates:
            same = [c for c in candidates if c.module == module]
            if len(same) == 1:
                return same[0]
        return None

    def ancestors(self, cls: ClassFacts) -> List[str]:
        """Every base of ``cls``, transitively through project classes (qualnames or external dotted names)."""
        out: List[str] = []
        seen: Set[str] = {cls.qualname}
        queue = deque([cls])
        while queue:
            current = queue.popleft()
            for base in current.bases:
                project = self.resolve_class(base, current.module)
                key = project.qualname if project else base
                if key in seen:
                    continue
                seen.add(key)
                out.append(key)
                if project:
                    queue.append(project)
        return out

    def mro_classes(self, cls: ClassFacts) -> List[ClassFacts]:
        """``cls`` and its project ancestors."""
        out = [cls]
        for name in self.ancestors(cls):
            c = self.classes.get(name)
            if c:
                out.append(c)
        return out

    def find_method(self, cls_qualname: str, name: str) -> Optional[FunctionFacts]:
        cls = self.classes.get(cls_qualname)
        if cls is None:
            return None
        for c in self.mro_classes(cls):
            fn = self.functions.get(f"{c.qualname}.{name}")
            if fn is not None:
                return fn
        return None

    # ------------------------------------------------------------------ call graph

    def resolve_function(self, target: str, caller: Optional[FunctionFacts] = None) -> Optional[FunctionFacts]:
        """The project function a call target names (``pkg.mod.f``, ``self.m``, ``Class.m``), if any."""
        if caller is not None and caller.cls and target.split(".")[0] in ("self", "cls") and target.count(".") == 1:
            return self.find_method(caller.cls, target.split(".", 1)[1])
        fn = self.functions.get(target)
        if fn is not None:
            return fn
        if caller is not None and "." not in target:
            # a nested helper or a same-module function
            for prefix in (caller.qualname, caller.module):
                fn = self.functions.get(f"{prefix}.{target}")
                if fn is not None:
                    return fn
        if "." in target:
            owner, _, meth = target.rpartition(".")
            cls = self.classes.get(owner) or self.instance_class(owner)
            if cls is not None:
                return self.find_method(cls.qualname, meth)
            defined = self.canonical(target)  # re-exported by a package or a module-level alias
            if defined != target and self.canonical(defined) == defined:
                return self.resolve_function(defined)
            # module suffix match (``src.shop.utils.f`` imported as ``shop.utils.f``), memoised:
            # it scans every function of that name
            if target not in self._suffix_memo:
                matches = [f for f in self.functions_by_name.get(meth, ()) if ("." + f.qualname).endswith("." + target)]
                self._suffix_memo[target] = matches[0] if len(matches) == 1 else None
            return self._suffix_memo[target]
        return None

    def instance_class(self, dotted: str) -> Optional[ClassFacts]:
        """The project class of the module-level instance ``dotted`` names, bound once
        (``permission_dao = PermissionDAO()`` in ``app.dao``: ``app.dao.permission_dao``)."""
        module, _, var = dotted.rpartition(".")
        facts = self.modules.get(module)
        if facts is None:
            return None
        made = [call.func for name, call in facts.module_calls if name == var]
        if len(made) != 1 or sum(1 for name in facts.module_names if name == var) > 1:
            return None
        return self.constructed_class(made[0])

    def constructed_class(self, target: str) -> Optional[ClassFacts]:
        """The project class a call target instantiates: by qualified name, or by a unique module
        suffix (``services.data.DataService`` for ``server/src/services/data.py``, a project whose
        import root is a subfolder). A bare name never counts (a library's class of that name)."""
        cls = self.classes.get(target)
        if cls is not None or "." not in target:
            return cls
        suffix = "." + target
        matches = [c for c in self.classes_by_name.get(target.rsplit(".", 1)[-1], ()) if ("." + c.qualname).endswith(suffix)]
        return matches[0] if len(matches) == 1 else None

    def callees(self, qualname: str) -> Tuple[str, ...]:
        cached = self._callees.get(qualname)
        if cached is not None:
            return cached
        fn = self.functions.get(qualname)
        out: List[str] = []
        if fn is not None:
            for target in fn.calls:
                hit = self.resolve_function(target, fn)
                if hit is not None and hit.qualname != qualname:
                    out.append(hit.qualname)
        result = tuple(dict.fromkeys(out))
        self._callees[qualname] = result
        return result

    def reachable_from(
        self, entries: Iterable[str], callees: Optional[Callable[[str], Iterable[str]]] = None
    ) -> Dict[str, Tuple[str, ...]]:
        """Every function reachable from ``entries`` → the call path from its entry (breadth
        first), over :meth:`callees` or the edges ``callees`` gives."""
        edges = callees or self.callees
        paths: Dict[str, Tuple[str, ...]] = {}
        queue: Deque[str] = deque()
        for e in entries:
            if e in self.functions and e not in paths:
                paths[e] = (e,)
                queue.append(e)
        while queue:
            current = queue.popleft()
            for callee in edges(current):
                if callee not in paths:
                    paths[callee] = paths[current] + (callee,)
                    queue.append(callee)
        return paths

    def callers_of(self, qualname: str) -> Tuple[str, ...]:
        """Project functions whose calls reach ``qualname`` (the reverse of :meth:`callees`)."""
        return self.derived("callers", _callers_of).get(qualname, ())

    def loop_callers(self, qualname: str) -> Tuple[Tuple[str, str, Tuple[int, ...], Tuple[str, ...]], ...]:
        """(caller, loop kind, per-item argument positions, per-item keywords) for each project
        function that calls ``qualname`` once per item of a loop (``FunctionFacts.loop_calls``)."""
        return self.derived("loop-callers", _loop_callers_of).get(qualname, ())

    def constant_param(self, qualname: str, param: str, skip: Optional[Callable[[str], bool]] = None, short_lists: bool = False, _depth: int = 0) -> bool:
        """Every call site of the function in the project passes a literal or an integer for
        ``param`` (and there is at least one); callers in files ``skip`` names (tests) are left out.
        With ``short_lists``, a literal list of at most three values of any kind counts too
        (``create([message])``: a loop over the parameter runs at most three times). A caller that
        hands on its own parameter of the same name counts when that one is constant in turn
        (``_render(request, table)`` -> ``oldest(cursor, table)``, every ``_render`` given ``"arp"``)."""
        fn = self.functions.get(qualname)
        if fn is None or param not in fn.params:
            return False
        if fn.cls is not None and fn.name in self.derived("unresolved-method-calls", _unresolved_method_calls):
            return False  # also called on objects whose class is not known (``self._storage.add(...)``): those callers are unseen
        index = fn.params.index(param)
        bound = fn.cls is not None and fn.params[:1] in (("self",), ("cls",))
        total = constant = 0
        for cq in self.callers_of(qualname):
            caller = self.functions[cq]
            if skip is not None and skip(caller.path):
                continue
            if not any(hit is not None and hit.qualname == qualname for hit in (self.resolve_function(t, caller) for t, _, _, _ in caller.call_consts)):
                return False  # a call this module did not record (another package's name for it): unknown
            for target, positions, keywords, short in caller.call_consts:
                hit = self.resolve_function(target, caller)
                if hit is None or hit.qualname != qualname:
                    continue
                total += 1
                shift = 1 if bound else 0  # ``obj.method(x)``: the first argument is the second parameter
                if param in keywords or (index - shift) in positions or short_lists and (param in short or str(index - shift) in short):
                    constant += 1
                elif _depth < 3 and any(param in given for t, given in caller.param_calls if t == target) \
                        and self.constant_param(cq, param, skip, short_lists, _depth + 1):
                    constant += 1
        if total == 0 and _depth == 0:
            # called only at import time (``sum_hosts = _make_sum("host")`` in a class body or at
            # module level): nothing a request sends can reach those arguments
            return qualname in self.derived("import-time-calls", _import_time_calls)
        return total > 0 and constant == total

    def query_path(self, qualname: str) -> Optional[Tuple[str, ...]]:
        """Shortest call path from ``qualname`` to a query: (``f``, ``g``, ..., query description), or None."""
        if self._query_paths is None:
            self._query_paths = self._compute_query_paths()
        return self._query_paths.get(qualname)

    def _compute_query_paths(self) -> Dict[str, Tuple[str, ...]]:
        # reverse BFS from the functions that query directly
        callers: Dict[str, List[str]] = {}
        for q, fn in self.functions.items():
            failing = {h.qualname for h in (self.resolve_function(t, fn) for t in fn.failure_calls) if h is not None}
            for callee in self.callees(q):
                if callee not in failing:  # called only when outside work fails
                    callers.setdefault(callee, []).append(q)
        paths: Dict[str, Tuple[str, ...]] = {}
        queue: Deque[str] = deque()
        cached = {q for q, fn in self.functions.items() if memoised(fn.decorators) or fn.memo_guarded}
        for q, queries in sorted(self.direct_queries.items()):
            if q in self.functions and q not in cached:
                paths[q] = (q, queries[0])
                queue.append(q)
        while queue:
            current = queue.popleft()
            for caller in sorted(callers.get(current, ())):
                if caller not in paths and caller not in cached:
                    paths[caller] = (caller,) + paths[current]
                    queue.append(caller)
        return paths


def _import_time_calls(index: "ProjectIndex") -> Set[str]:
    """Project functions called in a class body or at module level (``x = f(...)``, also as an
    argument of such a call): their arguments are values of import time."""
    out: Set[str] = set()

    def add(call, facts) -> None:
        hit = index.resolve_function(call.func, None) or index.functions.get(f"{facts.module}.{call.func}")
        if hit is not None:
            out.add(hit.qualname)
        for _k, inner in call.calls:
            add(inner, facts)

    for facts in index.modules.values():
        for _name, call in facts.module_calls:
            add(call, facts)
        for cls in facts.classes:
            for a in cls.attrs:
                if a.call is not None:
                    add(a.call, facts)
    return out


def _callers_of(index: "ProjectIndex") -> Dict[str, Tuple[str, ...]]:
    out: Dict[str, List[str]] = {}
    for q in index.functions:
        for callee in index.callees(q):
            out.setdefault(callee, []).append(q)
    return {k: tuple(v) for k, v in out.items()}


def _unresolved_method_calls(index: "ProjectIndex") -> Set[str]:
    """Method names called on a receiver no project definition resolves (``self._storage.add(...)``,
    ``repo.save(...)``): a method of that name may have callers the index cannot see."""
    out: Set[str] = set()
    for q, fn in index.functions.items():
        for target in fn.calls:
            if "." in target and index.resolve_function(target, fn) is None:
                out.add(target.rsplit(".", 1)[1])
    return out


def _loop_callers_of(index: "ProjectIndex") -> Dict[str, Tuple[Tuple[str, str, Tuple[int, ...], Tuple[str, ...]], ...]]:
    out: Dict[str, List[Tuple[str, str, Tuple[int, ...], Tuple[str, ...]]]] = {}
    for q, fn in index.functions.items():
        for target, kind, positions, keywords in fn.loop_calls:
            hit = index.resolve_function(target, fn)
            if hit is not None and hit.qualname != q:
                out.setdefault(hit.qualname, []).append((q, kind, positions, keywords))
    return {k: tuple(v) for k, v in out.items()}


def _group_by_last(modules: Mapping[str, FileFacts]) -> Dict[str, List[Tuple[str, FileFacts]]]:
    out: Dict[str, List[Tuple[str, FileFacts]]] = {}
    for m, f in modules.items():
        out.setdefault(m.rsplit(".", 1)[-1], []).append((m, f))
    return out
