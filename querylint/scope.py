"""What a module or function binds and reads, as plain facts from its tree (shared by the
framework adapters: none of this is specific to an ORM)."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, List, Optional, Sequence, Set, cast

import libcst as cst

from querylint import nodes as N
if TYPE_CHECKING:  # pragma: no cover
    from querylint.context import Context


def module_functions(ctx: Context):
    """Module-level ``def``s of the file being linted, by name."""
    def compute():
        out = {}
        for stmt in ctx.module_node.body:
            if isinstance(stmt, cst.FunctionDef):
                out[stmt.name.value] = stmt
        return out

    return ctx.memo(("module-functions",), compute)


def param_chains(fn: cst.FunctionDef, param: str, ctx: Context):
    """Attribute chains read from ``param`` in ``fn`` (``("customer", "name")`` for ``order.customer.name``)."""
    def compute():
        if any(b for b in N.walk(fn.body) if isinstance(b, (cst.Assign, cst.AugAssign)) and any(
            isinstance(t.target, cst.Name) and t.target.value == param for t in getattr(b, "targets", ()))):
            return ()  # the parameter is rebound: give up
        chains = []
        for node in N.walk(fn.body, into_functions=False):
            if isinstance(node, cst.Attribute):
                parts = []
                cur = node
                while isinstance(cur, cst.Attribute):
                    parts.append(cur.attr.value)
                    cur = cur.value
                if isinstance(cur, cst.Name) and cur.value == param:
                    chains.append(tuple(reversed(parts)))
        return tuple(dict.fromkeys(chains))

    return ctx.memo(("param-chains", id(fn), param), compute)


FILLS = frozenset({"add", "update", "append", "extend", "setdefault", "insert", "set", "set_many"})


def memo_target(test: cst.BaseExpression) -> Optional[str]:
    """The cache a guard tests for emptiness: ``not X``, ``X is None``, ``X == None``,
    ``not X.get(k)``, ``k not in X`` (X a dotted name), else None."""
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        inner = test.expression
        if isinstance(inner, cst.Call) and N.call_name(inner) == "get" and isinstance(inner.func, cst.Attribute):
            inner = inner.func.value
        return N.dotted(inner)
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
        comp = test.comparisons[0]
        if isinstance(comp.operator, (cst.Is, cst.Equal)) and isinstance(comp.comparator, cst.Name) and comp.comparator.value == "None":
            return N.dotted(test.left)
        if isinstance(comp.operator, cst.NotIn):
            return N.dotted(comp.comparator)
    return None


def fills(body: cst.CSTNode, target: str) -> bool:
    """``body`` stores into ``target``: assigns it, one of its items, or adds to it."""
    for node in N.walk(body, into_functions=False):
        if isinstance(node, (cst.Assign, cst.AugAssign, cst.AnnAssign)):
            targets = [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]
            for t in targets:
                base = t.value if isinstance(t, cst.Subscript) else t
                if N.dotted(base) == target:
                    return True
        elif isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value in FILLS:
            if N.dotted(node.func.value) == target:
                return True
    return False


def memo_guard(stmt: cst.CSTNode, params: Sequence[str] = ()) -> Optional[str]:
    """The cache ``stmt`` fills once, when it is ``if <cache is empty>: <fill the cache>`` over a
    global or attribute (not a parameter): the guarded code runs once per process or object."""
    if not isinstance(stmt, cst.If):
        return None
    target = memo_target(stmt.test)
    root = target.split(".")[0] if target else None
    if target is None or (root in params and root not in ("self", "cls")):
        return None  # a parameter is a new cache per call; ``self._x`` / ``cls._x`` live on
    return target if fills(stmt.body, target) else None


def first_statement_memo_guard(fn: cst.FunctionDef) -> bool:
    """The function starts (after its docstring) with a memo guard: it queries once, then serves
    the cache (``def _cache_types(engine): if not _pg_types: ...``)."""
    body = list(fn.body.body) if isinstance(fn.body, cst.IndentedBlock) else []
    if body and isinstance(body[0], cst.SimpleStatementLine) and body[0].body and isinstance(body[0].body[0], cst.Expr) and isinstance(body[0].body[0].value, (cst.SimpleString, cst.ConcatenatedString)):
        body = body[1:]
    declared: List[str] = []
    while body and isinstance(body[0], cst.SimpleStatementLine) and all(isinstance(s, cst.Global) for s in body[0].body):
        declared += [n.name.value for g in body[0].body for n in cast(cst.Global, g).names]
        body = body[1:]
    if body and _global_hit_first(body, declared):
        return True
    for _ in range(3):  # ``try: if ENGINE is None: ENGINE = create_engine(...)``: the guard opens the try
        if not (body and isinstance(body[0], cst.Try) and isinstance(body[0].body, cst.IndentedBlock)):
            break
        body = list(body[0].body.body)
    params = N.param_names(fn.params)
    if body and (memo_guard(body[0], params) is not None or _early_return_memo(body, params)):
        return True
    # the key computed first: ``used = code.split("-")[0]``, then ``hit = cache.get(key(used))``,
    # ``if hit: return hit`` ... ``cache.set(key(used), value)``
    for skip in (1, 2):
        if len(body) > skip + 2 and all(_key_computation(s) for s in body[:skip]) and _early_return_memo(body[skip:], params):
            return True
    # the cache fetched first, then checked: ``store = get_app_local_store()``, ``hit =
    # store.get("client")``, ``if hit: return hit`` ... ``store["client"] = build()``
    fetched = _fetched_cache(body[0]) if len(body) > 2 else None
    return fetched is not None and fetched not in params and _early_return_memo(body[1:], params, fetched)


def _global_hit_first(body: Sequence[cst.CSTNode], declared: Sequence[str]) -> bool:
    """``global _CURRENT`` then ``if _CURRENT: ... return <it>`` (however nested: a check of a
    flag may drop it) calling nothing, and the rest of the function stores ``_CURRENT``: a
    process-wide memo. A hit that calls something (ArchiveBox's ``Machine.current()`` asks the
    database whether the row still exists) is not a plain memo."""
    first = body[0]
    if not isinstance(first, cst.If):
        return False
    test = first.test
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1 and isinstance(test.comparisons[0].operator, cst.IsNot):
        test = test.left  # ``if _CURRENT is not None:``
    if not isinstance(test, cst.Name) or test.value not in declared:
        return False
    if not any(isinstance(n, cst.Return) and n.value is not None for n in N.walk(first.body, into_functions=False)):
        return False
    if any(isinstance(n, cst.Call) for n in N.walk(first.body, into_functions=False)):
        return False  # the hit does work of its own (ArchiveBox's ``exists()`` recheck): no plain memo
    return any(fills(stmt, test.value) for stmt in body[1:])


def _key_computation(stmt: cst.CSTNode) -> bool:
    """``used = (code or get_language()).split("-")[0]``: one plain assignment to a name, with no
    call that could be a query (only string and number helpers)."""
    if not (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 and isinstance(stmt.body[0], cst.Assign)):
        return False
    assign = stmt.body[0]
    if len(assign.targets) != 1 or not isinstance(assign.targets[0].target, cst.Name):
        return False
    calls = [N.call_name(c) or "" for c in N.walk(assign.value) if isinstance(c, cst.Call)]
    return all(c in KEY_HELPERS for c in calls)


KEY_HELPERS = frozenset({
    "split", "rsplit", "lower", "upper", "strip", "lstrip", "rstrip", "replace", "format", "join", "str", "int",
    "tuple", "frozenset", "sorted", "get_language", "hash", "encode", "hexdigest", "md5", "sha1", "sha256",
})


# calls that make a new, empty container: a cache bound from one lives for one call only
FRESH_CONTAINERS = frozenset({"dict", "list", "set", "defaultdict", "OrderedDict", "Counter", "WeakValueDictionary"})


def _fetched_cache(stmt: cst.CSTNode) -> Optional[str]:
    """The name ``stmt`` binds to a container it fetches (``store = get_app_local_store()``,
    ``cache = caches["default"]``, ``registry = self._registry``), not one it makes."""
    if not (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 and isinstance(stmt.body[0], cst.Assign)):
        return None
    assign = stmt.body[0]
    if len(assign.targets) != 1 or not isinstance(assign.targets[0].target, cst.Name):
        return None
    value = assign.value
    if isinstance(value, cst.Call) and N.call_name(value) not in FRESH_CONTAINERS or isinstance(value, (cst.Attribute, cst.Subscript)):
        return assign.targets[0].target.value
    return None


def _early_return_memo(body: Sequence[cst.CSTNode], params: Sequence[str], fetched: Optional[str] = None) -> bool:
    """``if key in CACHE: return CACHE[key]`` (or ``hit = CACHE.get(key)`` then ``if hit: return
    hit``) first, and the rest of the function stores into ``CACHE``: a query per distinct key.
    ``fetched``: the cache is that local name, bound by the statement before."""
    first = body[0]
    target: Optional[str] = None
    rest = list(body[1:])
    if isinstance(first, cst.If) and isinstance(first.test, cst.Comparison) and len(first.test.comparisons) == 1:
        comp = first.test.comparisons[0]
        if isinstance(comp.operator, cst.In) and _only_returns(first.body):
            target = N.dotted(comp.comparator)
    elif isinstance(first, cst.SimpleStatementLine) and len(first.body) == 1 and isinstance(first.body[0], cst.Assign) and len(body) > 1:
        assign = first.body[0]
        value = assign.value
        hit = assign.targets[0].target
        nxt = body[1]
        if (
            isinstance(value, cst.Call) and N.call_name(value) == "get" and isinstance(value.func, cst.Attribute)
            and isinstance(hit, cst.Name) and isinstance(nxt, cst.If) and _only_returns(nxt.body)
            and hit.value in {n.value for n in N.walk(nxt.test) if isinstance(n, cst.Name)}
        ):
            target = N.dotted(value.func.value)
            rest = list(body[2:])
    if target is None:
        return False
    root = target.split(".")[0]
    if root in params and root not in ("self", "cls"):
        return False  # a cache passed in per call
    if fetched is not None and root != fetched:
        return False
    return any(fills(stmt, target) for stmt in rest)


def _only_returns(block: cst.BaseSuite) -> bool:
    stmts = list(block.body) if isinstance(block, cst.IndentedBlock) else [block]
    return len(stmts) == 1 and isinstance(stmts[0], cst.SimpleStatementLine) and all(isinstance(s, cst.Return) for s in stmts[0].body)


def under_memo_guard(node: cst.CSTNode, ctx: Context) -> bool:
    """``node`` sits in the body of a memo guard of its function (``if _client is None: _client =
    Redis(...)``): it runs once per process or object, not per call."""
    fn = ctx.function
    params = N.param_names(fn.node.params) if fn is not None and isinstance(fn.node, cst.FunctionDef) else ()
    child = node
    for anc in ctx.ancestors(node):
        if isinstance(anc, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
            return False
        if isinstance(anc, cst.If) and child is anc.body and memo_guard(anc, params) is not None:
            return True
        child = anc
    return False


MISS_ERRORS = frozenset({"KeyError", "LookupError", "AttributeError"})


def caught_names(handler: cst.ExceptHandler) -> Set[str]:
    """The exception class names an ``except`` clause catches (empty for a bare ``except:``)."""
    caught = handler.type
    types = [e.value for e in caught.elements] if isinstance(caught, cst.Tuple) else [caught] if caught is not None else []
    return {(N.dotted(t) or "").rsplit(".", 1)[-1] for t in types}


def under_cache_miss(node: cst.CSTNode, ctx: "Context") -> bool:
    """``node`` sits in the ``except KeyError:`` branch of a cache lookup that the branch refills
    (``try: d = Factory._types[key] except KeyError: Factory._types = {... query ...}``): it runs
    on a miss only, once per key."""
    child = node
    for anc in ctx.ancestors(node):
        if isinstance(anc, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
            return False
        if isinstance(anc, cst.Try) and isinstance(child, cst.ExceptHandler):
            if not caught_names(child) & MISS_ERRORS:
                return False
            looked_up = {N.dotted(n.value) for n in N.walk(anc.body) if isinstance(n, cst.Subscript)} - {None}
            return any(fills(child.body, cast(str, target)) for target in looked_up)
        child = anc
    return False


PREFETCH_CHECK = ("prefetched", "_prefetched_objects_cache", "fields_cache")


def under_prefetch_check(node: cst.CSTNode, ctx: "Context") -> bool:
    """``node`` reads a relation in the body of a check that it is already loaded (EvaP's ``if
    is_prefetched(self, "participants"): return len(self.participants.all())``, ``if "tags" in
    obj._prefetched_objects_cache:``): no query there. The check must name the relation ``node``
    reads."""
    child = node
    attrs: Optional[Set[str]] = None
    for anc in ctx.ancestors(node):
        if isinstance(anc, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
            return False
        if isinstance(anc, cst.If) and child is anc.body:
            test_code = N.code(anc.test)
            if any(word in test_code for word in PREFETCH_CHECK):
                named = {s for s in (N.literal(n) for n in N.walk(anc.test) if isinstance(n, cst.SimpleString)) if isinstance(s, str)}
                if attrs is None:
                    attrs = {n.attr.value for n in N.walk(node) if isinstance(n, cst.Attribute)}
                if named & attrs:
                    return True
        child = anc
    return False


FALLBACK_ERRORS = frozenset({"AttributeError", "Exception", "BaseException"})


def under_attribute_fallback(node: cst.CSTNode, ctx: "Context") -> bool:
    """``node`` is the fallback for a value the object usually carries (``try: return
    obj.photo_count`` / ``except AttributeError: return obj.photos.count()``): the queryset's
    annotation answers, and the query runs only for rows without it."""
    child = node
    for anc in ctx.ancestors(node):
        if isinstance(anc, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
            return False
        if isinstance(anc, cst.Try) and isinstance(child, cst.ExceptHandler):
            names = caught_names(child)
            if names and not names & FALLBACK_ERRORS:
                return False
            body = list(anc.body.body) if isinstance(anc.body, cst.IndentedBlock) else []
            if len(body) != 1 or not isinstance(body[0], cst.SimpleStatementLine) or len(body[0].body) != 1:
                return False
            small = body[0].body[0]
            value = small.value if isinstance(small, (cst.Return, cst.Assign)) else None
            if not isinstance(value, cst.Attribute) or not isinstance(value.value, cst.Name):
                return False
            owner = value.value.value
            return any(isinstance(n, cst.Attribute) and isinstance(n.value, cst.Name) and n.value.value == owner for n in N.walk(node))
        child = anc
    return False


# exceptions a handler catches as ordinary control flow: a cache or row that was missing, a race
# lost to another writer; a query there runs on the common path
MISS_EXCEPTIONS = re.compile(
    r"(KeyError|IndexError|LookupError|AttributeError|StopIteration|DoesNotExist|NoResultFound|NotFound|"
    r"MultipleObjectsReturned|MultipleResultsFound|IntegrityError|UniqueViolation|CacheMiss|Missing\w*)$"
)


def failure_handler(handler: cst.ExceptHandler) -> bool:
    """An ``except`` for a failure of outside work (``except WebPushException``, a bare
    ``except:``), not for a missing key or row (``except KeyError``, ``except Model.DoesNotExist``,
    ``except IntegrityError``), which is ordinary control flow."""
    if handler.type is None:
        return True
    kinds = handler.type.elements if isinstance(handler.type, cst.Tuple) else [handler.type]
    names = [N.dotted(k.value if isinstance(k, cst.Element) else k) or "" for k in kinds]
    return all(n and not MISS_EXCEPTIONS.search(n) for n in names)
