"""What kind of loop is this? Shared by every family so they agree on what is *not* an N+1.

``classify_loop`` returns one of:

* ``"items"``: one iteration per item of data (the N+1 shape);
* ``"constant"``: iterating literals, an UPPER_CASE module constant, or ``range(<literal>)``;
* ``"batch"``: iterating chunks/batches/pages (``for chunk in chunked(ids, 500)``,
  ``range(0, n, size)``, ``paginator.page_range``);
* ``"retry"``: retry/attempt loops (``for attempt in range(retries)``);
* ``"poll"``: ``while True`` / ``while not done`` polling and work loops with no per-item iterable,
  and any other ``while`` loop that does not step through items (``while has_changes``, ``while
  len(done) < LIMIT``, ``while not_unique``): its number of rounds is not the size of any data.

A ``while`` loop is ``"items"`` only when it visibly walks a collection: an index into something
its test names (``while i < len(codes): codes[i]``), a work queue popped in the body (``while
queue: queue.pop()``), a cursor read row by row (``row = cur.fetchone()``, ``next(it)``), or a
chain of objects (``while node: ...; node = node.parent``).
"""
from __future__ import annotations

import re
from typing import List, Optional, Tuple, cast

import libcst as cst

from querylint import nodes as N
from querylint.context import Context, Loop
from querylint.project.requests import constant_in_application
from querylint.scope import failure_handler, fills, memo_guard

_BATCH_WORDS = re.compile(r"(batch|chunk|page|slice|shard|partition|window|bucket|group_of|block)", re.I)
_RETRY_WORDS = re.compile(r"^_?(attempt|attempts|retry|retries|try_|tries|n_try|tried)\w*$", re.I)
_BATCH_FUNCS = {"chunked", "chunks", "batched", "batch", "batches", "grouper", "paginate", "islice_batches", "iter_batches", "in_batches", "chunk", "partition"}


def _is_constant_collection(node: cst.CSTNode, ctx: Context, depth: int = 0) -> bool:
    if isinstance(node, (cst.List, cst.Tuple, cst.Set)):
        return all(
            N.literal(e.value) is not N.NOT_LITERAL or _is_constant_collection(e.value, ctx, depth + 1) or _is_definition_ref(e.value, ctx)
            for e in node.elements
        )
    if isinstance(node, cst.Dict):
        return all(isinstance(e, cst.DictElement) and N.literal(e.key) is not N.NOT_LITERAL for e in node.elements)
    if N.literal(node) is not N.NOT_LITERAL and isinstance(N.literal(node), str):
        return True  # iterating a string literal
    if isinstance(node, cst.Call) and N.call_name(node) in ("items", "keys", "values") and isinstance(node.func, cst.Attribute):
        return _is_constant_collection(node.func.value, ctx, depth + 1)
    if isinstance(node, cst.Call) and N.call_name(node) in ("enumerate", "sorted", "reversed", "list", "tuple") and node.args:
        return _is_constant_collection(node.args[0].value, ctx, depth + 1)
    if isinstance(node, cst.Name) and depth < 3:
        if node.value.isupper() and len(node.value) > 1:
            return True
        b = ctx.binding(node.value)
        if b is not None and b.kind in ("assign", "annassign") and b.is_simple and b.value is not None:
            if isinstance(b.value, (cst.List, cst.Set, cst.Dict, cst.Tuple)) and not b.value.elements:
                return False  # ``kept = []``: filled later (``kept.append(row)``), not a constant
            return _is_constant_collection(b.value, ctx, depth + 1)
        if b is not None and b.kind == "for" and b.is_simple and b.value is not None and _is_constant_collection(b.value, ctx, depth + 1):
            return True  # ``for names in FILES.values(): for name in names``: an item of a constant
        if b is not None and b.kind == "for" and not b.is_simple and _constant_dict_value(node.value, b, ctx, depth):
            return True  # ``for field, roles in self.defaults.items(): for role in roles``: a value of a constant dict
        if b is not None and b.kind == "param" and ctx.function is not None and constant_in_application(ctx.index, ctx.config, ctx.function.qualname, node.value, skip_tests=True, short_lists=True):
            return True  # every call site in the application passes a literal (``perms=["view", "change"]``, ``[message]``)
    if isinstance(node, cst.Attribute) and node.attr.value.isupper():
        return True
    if isinstance(node, cst.Attribute) and depth < 3:
        value = _own_class_literal(node, ctx)
        if value is not None:
            return _is_constant_collection(value, ctx, depth + 1)
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add) and depth < 3:
        # ``ResultEntryForm.GOV + ResultEntryForm.OPP``: constants joined
        return _is_constant_collection(node.left, ctx, depth + 1) and _is_constant_collection(node.right, ctx, depth + 1)
    if isinstance(node, (cst.Name, cst.Attribute)) and _is_enum_class(node, ctx):
        return True  # for status in OrderStatus: the members of an Enum
    return False


def _own_class_literal(node: cst.Attribute, ctx: Context) -> Optional[cst.BaseExpression]:
    """``self.X`` / ``cls.X`` where the enclosing class assigns ``X`` a non-empty literal collection
    in its body (``custom_m2m_fields = {"system_roles": [BuiltinRole.system_user]}``)."""
    if not (isinstance(node.value, cst.Name) and node.value.value in ("self", "cls")) or not ctx.frames:
        return None
    cls = ctx.class_frame
    body = getattr(getattr(cls, "node", None), "body", None)
    for stmt in getattr(body, "body", ()):
        for small in stmt.body if isinstance(stmt, cst.SimpleStatementLine) else ():
            if isinstance(small, cst.Assign) and any(isinstance(t.target, cst.Name) and t.target.value == node.attr.value for t in small.targets):
                v = small.value
                return v if isinstance(v, (cst.List, cst.Tuple, cst.Set, cst.Dict)) and v.elements else None
    return None


def _constant_dict_value(name: str, b, ctx: Context, depth: int) -> bool:
    """``name`` is the value target of ``for key, name in D.items()`` (or ``enumerate``-free
    ``D.values()`` unpacked) where ``D`` is a literal dict whose every value is a constant collection."""
    it = b.value
    target = b.target
    if not (isinstance(it, cst.Call) and N.call_name(it) == "items" and isinstance(it.func, cst.Attribute)):
        return False
    if not (isinstance(target, cst.Tuple) and len(target.elements) == 2 and isinstance(target.elements[1].value, cst.Name) and target.elements[1].value.value == name):
        return False
    d: Optional[cst.BaseExpression] = it.func.value
    if isinstance(d, cst.Attribute):
        d = _own_class_literal(d, ctx)
    elif isinstance(d, cst.Name):
        db = ctx.binding(d.value)
        d = db.value if db is not None and db.kind == "assign" and db.is_simple else None
    if not isinstance(d, cst.Dict) or not d.elements:
        return False
    return all(isinstance(e, cst.DictElement) and _is_constant_collection(e.value, ctx, depth + 1) for e in d.elements)


_ENUM_BASES = ("Enum", "IntEnum", "StrEnum", "Flag", "IntFlag", "TextChoices", "IntegerChoices", "Choices")


def _is_enum_class(node: cst.CSTNode, ctx: Context) -> bool:
    name = N.dotted(node)
    if name is None:
        return False
    b = ctx.binding(name.split(".")[0], at=node)
    if b is None or b.kind not in ("import", "class"):
        return False
    cls = ctx.index.resolve_class(ctx.qualify(node) or name, ctx.module)
    if cls is None:
        return False
    return any(a.rsplit(".", 1)[-1] in _ENUM_BASES for a in [cls.qualname] + ctx.index.ancestors(cls) if a != cls.qualname)


def _is_definition_ref(node: cst.CSTNode, ctx: Context) -> bool:
    """A class, function or module named in the code (``User`` in ``for model in (User, Order)``)."""
    name = N.dotted(node)
    if name is None:
        return False
    b = ctx.binding(name.split(".")[0], at=node)
    return b is not None and b.kind in ("import", "class", "def")


def _names_in(node: Optional[cst.CSTNode]) -> str:
    if node is None:
        return ""
    return " ".join(n.value for n in N.walk(node) if isinstance(n, cst.Name))


_FETCH_MANY = {"fetchmany", "fetch_many", "fetchmany_async"}


def _steps_through_batches(node: cst.While) -> bool:
    """``while batch := cur.fetchmany(500)`` or a window loop (``while lo <= top: hi = lo +
    window_size; ...; lo = hi``): the names that decide when it ends are fed by a batch-sized
    step, so each iteration is one batch, not one item."""
    test = node.test
    if any(isinstance(n, cst.Call) and N.call_name(n) in _FETCH_MANY for n in N.walk(test)):
        return True
    control = {n.value for n in N.walk(test) if isinstance(n, cst.Name)}
    assigns = []
    for stmt in node.body.body if isinstance(node.body, cst.IndentedBlock) else ():
        for small in stmt.body if isinstance(stmt, cst.SimpleStatementLine) else ():
            if isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name):
                assigns.append((small.targets[0].target.value, small.value))
            elif isinstance(small, cst.AugAssign) and isinstance(small.target, cst.Name):
                assigns.append((small.target.value, small.value))
    for _ in range(2):  # ``lo = hi`` and ``hi = lo + window_size``: one level of indirection
        for target, value in assigns:
            if target in control:
                control |= {n.value for n in N.walk(value) if isinstance(n, cst.Name)}
    return any(_BATCH_WORDS.search(name) or re.search(r"offset|step", name, re.I) for name in control)


_POPS = {"pop", "popleft", "popitem", "get_nowait", "heappop", "dequeue", "shift"}
_ROW_READS = {"fetchone", "fetchrow", "fetch_one", "next", "readline", "__next__"}


def _steps_through_items(node: cst.While) -> bool:
    """The ``while`` loop walks a collection one item per round (see the module docstring)."""
    test_names = {n.value for n in N.walk(node.test) if isinstance(n, cst.Name)}
    if any(isinstance(n, cst.Call) and N.call_name(n) in _ROW_READS for n in N.walk(node.test)):
        return True  # while (row := cur.fetchone()) is not None
    for n in N.walk(node.body):
        if isinstance(n, cst.Subscript):
            index = {m.value for m in N.walk(n.slice[0]) if isinstance(m, cst.Name)} if n.slice else set()
            if index & test_names:
                return True  # while i < len(codes): code = codes[i]
        if isinstance(n, cst.Call) and N.call_name(n) in _POPS:
            receiver = n.func.value if isinstance(n.func, cst.Attribute) else (n.args[0].value if n.args else None)
            if isinstance(receiver, cst.Name) and receiver.value in test_names:
                return True  # while queue: item = queue.pop()
        if isinstance(n, cst.Assign) and len(n.targets) == 1 and isinstance(n.targets[0].target, cst.Name):
            target = n.targets[0].target.value
            if target not in test_names:
                continue
            value = n.value
            if isinstance(value, cst.Call) and N.call_name(value) in _ROW_READS:
                return True  # row = cur.fetchone() ... while row
            base = value
            while isinstance(base, (cst.Attribute, cst.Call)):
                base = base.value if isinstance(base, cst.Attribute) else base.func
            if base is not value and isinstance(base, cst.Name) and base.value == target:
                return True  # node = node.parent
    return False


def _constant_name(node: cst.BaseExpression) -> bool:
    """An UPPER_CASE name (``_MAX_RESOLVE_DEPTH``, ``settings.MAX_PAGES``): a configured constant."""
    last = node.attr.value if isinstance(node, cst.Attribute) else node.value if isinstance(node, cst.Name) else ""
    return len(last.strip("_")) > 1 and last.isupper()


def _walks_batches(it: cst.Call, fname: str, ctx: Context) -> bool:
    """``itertools.count(0, batch_size)`` (a window start per round), the grouper idiom
    ``zip_longest(*[iter(rows)] * 500)``, or a project helper that hands out slices."""
    if fname == "count" and len(it.args) >= 2 and ctx.qualify(it.func) in ("itertools.count", "count"):
        return True
    if fname in ("zip", "zip_longest") and any(a.star == "*" and _repeated_iterator(a.value, ctx) for a in it.args):
        return True
    target = ctx.qualify(it.func)
    fn = ctx.index.resolve_function(target, ctx.function_facts()) if target else None
    return fn is not None and fn.hands_out_slices


def _repeated_iterator(value: cst.BaseExpression, ctx: Context) -> bool:
    """``[iter(rows)] * 500``, directly or through a name bound to it once."""
    if isinstance(value, cst.Name):
        b = ctx.binding(value.value, at=value)
        value = b.value if b is not None and b.is_simple and b.value is not None else value
    return isinstance(value, cst.BinaryOperation) and isinstance(value.operator, cst.Multiply) and any(
        isinstance(s, cst.List) and any(isinstance(e.value, cst.Call) and N.call_name(e.value) == "iter" for e in s.elements)
        for s in (value.left, value.right)
    )


def classify_loop(loop: Loop, ctx: Context) -> str:
    def compute() -> str:
        if loop.kind == "while":
            test = cast(cst.While, loop.node).test
            lit = N.literal(test)
            if lit is not N.NOT_LITERAL and lit:
                return "poll"
            if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
                return "poll"  # while not done / while not finished
            if _RETRY_WORDS.match(_names_in(test).split(" ")[0] or "") or re.search(r"attempt|retr", _names_in(test), re.I):
                return "retry"
            if _steps_through_batches(cast(cst.While, loop.node)):
                return "batch"
            return "items" if _steps_through_items(cast(cst.While, loop.node)) else "poll"
        it = loop.iter
        target = loop.target
        target_names = N.target_names(target) if target is not None else []
        if any(_RETRY_WORDS.match(n) for n in target_names):
            return "retry"
        if it is not None and _is_constant_collection(it, ctx):
            return "constant"
        if isinstance(it, cst.Call) and N.call_name(it) == "range":
            args = [a.value for a in it.args]
            if len(args) == 3:
                return "batch"
            if all(N.literal(a) is not N.NOT_LITERAL or _constant_name(a) for a in args):
                # ``range(3)``, ``range(MAX_DEPTH)``: a fixed number of passes, whatever the data holds
                return "retry" if any(re.search(r"retr|attempt", n, re.I) for n in target_names) else "constant"
            if any(re.search(r"retr|attempt|tries", _names_in(a), re.I) for a in args):
                return "retry"
            if target_names == ["_"] and _breaks_out(loop.node):
                return "retry"  # ``for _ in range(max_tries): ... break``: attempts until one succeeds
        if any(_BATCH_WORDS.search(n) for n in target_names):
            return "batch"
        if isinstance(it, cst.Call):
            fname = N.call_name(it) or ""
            if fname in _BATCH_FUNCS or _BATCH_WORDS.search(fname) or _walks_batches(it, fname, ctx):
                return "batch"
        if it is not None:
            text = N.dotted(it) or ""
            if text and _BATCH_WORDS.search(text.split(".")[-1]):
                return "batch"
            if isinstance(it, cst.Attribute) and it.attr.value == "page_range":
                return "batch"
        return "items"

    return ctx.memo(("loop-kind", id(loop.node), id(loop.clause)), compute)


def batch_by_name_only(loop: Loop, ctx: Context) -> bool:
    """``classify_loop`` says "batch" only because of the iterable's name or function (``for post in page``,
    ``for p in query.paginate()``): the target names one item and the iterable is no ``range``/``partitions``.
    A family that knows the iterable yields its rows one at a time may count such a loop per item."""
    if loop.kind == "while" or loop.target is None or classify_loop(loop, ctx) != "batch":
        return False
    if any(_BATCH_WORDS.search(n) for n in N.target_names(loop.target)):
        return False
    it = loop.iter
    return not (isinstance(it, cst.Call) and N.call_name(it) in ("range", "partitions"))


def per_item_loop(ctx: Context) -> Optional[Loop]:
    """The innermost enclosing loop of the current frame whose iterations are per item of data
    and in which the current node runs on every iteration (:func:`repeats_per_iteration`).

    None when not in a loop, or when every enclosing loop is a constant/batch/retry/poll loop.
    """
    node = ctx.node
    for loop in reversed(ctx.loops):
        if classify_loop(loop, ctx) == "items" and (node is None or repeats_per_iteration(node, loop, ctx)):
            return loop
    return None


_EXITS = (cst.Return, cst.Raise)
_BLOCKS = (cst.IndentedBlock, cst.SimpleStatementSuite, cst.SimpleStatementLine)


def varies_per_item(value: cst.CSTNode, loop: Loop, ctx: Context) -> bool:
    """``value`` names the loop's target or a name bound inside the loop (``path = name + ".db"``):
    it changes from one item to the next (a different database, shard or file per item)."""
    targets = set(N.target_names(loop.target)) if loop.target is not None else set()
    for n in N.walk(value):
        if not isinstance(n, cst.Name):
            continue
        if n.value in targets:
            return True
        b = ctx.binding(n.value, at=value)
        if b is not None and b.kind not in ("param", "import", "def", "class") and any(a is loop.node for a in ctx.ancestors(b.node)):
            return True
    return False


def repeats_per_iteration(node: cst.CSTNode, loop: Loop, ctx: Context) -> bool:
    """Whether ``node`` can run on every iteration of ``loop``: not when it sits in an ``except``
    branch inside the loop (it runs on errors only), nor when an unconditional ``return`` /
    ``raise`` (or a ``break`` of this loop) follows it in its block (it runs at most once:
    ``obj.save(); return obj``). Comprehensions always repeat."""
    if loop.kind == "key":
        return True
    if loop.kind == "comprehension":
        return not _picked_in_comprehension(node, loop, ctx)
    return ctx.memo(("repeats", id(node), id(loop.node)), lambda: _repeats(node, loop, ctx))


def _picked_in_comprehension(node: cst.CSTNode, loop: Loop, ctx: Context) -> bool:
    """In the branch of a conditional expression that holds for one item of the comprehension
    (``getattr(node, key) if key != "tags" else list(node.tags.all())``)."""
    below: cst.CSTNode = node
    for anc in ctx.ancestors(node):
        if anc is loop.node or isinstance(anc, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            return False
        if _conditional_picks_one(anc, below, loop):
            return True
        below = anc
    return False


def _repeats(node: cst.CSTNode, loop: Loop, ctx: Context) -> bool:
    chain = []  # ancestors of ``node`` below ``loop``, innermost first
    below: cst.CSTNode = node
    for anc in ctx.ancestors(node):
        if anc is loop.node:
            break
        if isinstance(anc, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            return True  # defined in the loop, called who knows when
        if isinstance(anc, cst.ExceptHandler):
            return False  # runs on errors only
        if isinstance(anc, _EXITS):
            return False  # ``return order.customer.name``: the loop ends here
        if isinstance(anc, cst.If) and _picks_one_item(anc.test, loop) and below is anc.body:
            return False  # ``if post.pk == thread.last_post_id:`` one item of the loop, not each
        if _conditional_picks_one(anc, below, loop):
            return False  # ``getattr(node, key) if key != "tags" else list(node.tags)``: the one item named "tags"
        if isinstance(anc, cst.If) and isinstance(below, cst.Else) and _else_picks_one(anc.test, loop):
            return False  # ``if key != "tags": ... else: <query>``
        if isinstance(anc, cst.If) and below is anc.body and _fills_a_cache(anc, loop):
            return False  # ``if key not in cache: cache[key] = <query>``: once per key, then the cache
        if isinstance(anc, cst.If) and below is anc.body and _sets_its_flag(anc, ctx):
            return False  # ``if not self.tunnel_created: self.create_tunnel()``, which sets the flag: once
        chain.append(anc)
        below = anc
    else:
        return True
    child: cst.CSTNode = node
    for i, anc in enumerate(chain):
        if isinstance(anc, _BLOCKS) and child in anc.body:
            # a ``break`` here leaves ``loop`` only when no inner loop sits between the two
            nested = any(isinstance(a, (cst.For, cst.While)) for a in chain[i + 1:])
            body = list(anc.body)
            if any(_exits(later, nested) for later in body[body.index(child) + 1:]):
                return False
        child = anc
    return True


def on_raising_path(node: cst.CSTNode, ctx: Context) -> bool:
    """``node`` sits in an ``if``/``else`` branch that always ends by raising (a diagnostic built
    for the error it raises: Misago's ``get_real_name()`` reads the database only to describe a
    corrupted field), or in the ``raise`` statement itself. Such code runs once, on failure, not
    on every call."""
    child: cst.CSTNode = node
    for anc in ctx.ancestors(node):
        if isinstance(anc, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            return False
        if isinstance(anc, cst.Raise):
            return True  # ``raise ImproperlyConfigured(... % self.tool.name)``: the error's own text
        if isinstance(anc, (cst.If, cst.Else)) and child is anc.body and isinstance(anc.body, cst.IndentedBlock) and anc.body.body:
            last = anc.body.body[-1]
            if isinstance(last, cst.SimpleStatementLine) and any(isinstance(s, cst.Raise) for s in last.body) and not any(
                isinstance(n, (cst.Return, cst.Break, cst.Continue, cst.Yield)) for n in N.walk(anc.body, into_functions=False)
            ):
                return True
        child = anc
    return False


def in_failure_handler(node: cst.CSTNode, ctx: Context) -> bool:
    """``node`` sits in an ``except`` handler for a failure of outside work (``except WebPushException
    as e: if e.response.status_code == 410: delete_subscription(...)``): it runs when that work
    fails, not on every call. Handlers for a missing key or row (``except KeyError``, ``except
    Model.DoesNotExist``, ``except IntegrityError``) are ordinary control flow and do not count."""
    for anc in ctx.ancestors(node):
        if isinstance(anc, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            return False
        if isinstance(anc, cst.ExceptHandler):
            return failure_handler(anc)
    return False


def _fills_a_cache(guard: cst.If, loop: Loop) -> bool:
    """``if key not in cache: ... cache[key] = value`` (or ``if not units: units = ...``) inside the
    loop: the guarded code fills a cache that later passes read. Not when the "cache" is the
    item itself (``if not item.author: item.author = ...`` loads per item)."""
    target = memo_guard(guard)
    if target is None or not _stores_answer(guard.body, target):
        return False  # ``if item not in seen: seen.append(item)`` dedups items, it caches no answer
    items = set(N.target_names(loop.target)) if loop.target is not None else set()
    if target.split(".")[0] in items:
        return False
    if "." not in target:
        # a local set again on every pass outside the guard (``integration = customer.crm``, then
        # ``if not integration: integration = create(...)``) holds the item's value, not a cache;
        # unless it is read from a cache the guard fills (``unit_id = ids.get(name)``, then ``if
        # unit_id is None: <make the unit>; ids[name] = unit.id``): once per key
        guarded = {id(n) for n in N.walk(guard.body)}
        for n in N.walk(loop.node):
            if isinstance(n, (cst.Assign, cst.AnnAssign)) and id(n) not in guarded:
                targets = [t.target for t in n.targets] if isinstance(n, cst.Assign) else [n.target]
                if any(target in N.target_names(t) for t in targets) and not _read_from_filled_cache(n.value, guard):
                    return False
    return True


def _read_from_filled_cache(value: Optional[cst.BaseExpression], guard: cst.If) -> bool:
    """``cache.get(key)`` (or ``cache[key]``) where the guard's body stores into ``cache``."""
    if isinstance(value, cst.Call) and N.call_name(value) == "get" and isinstance(value.func, cst.Attribute):
        cache = N.dotted(value.func.value)
    elif isinstance(value, cst.Subscript):
        cache = N.dotted(value.value)
    else:
        return False
    return cache is not None and fills(guard.body, cache)


def _sets_its_flag(guard: cst.If, ctx: Context) -> bool:
    """``if ... and not self.<flag>:`` whose body sets ``self.<flag>``, itself or in a method of
    the class it calls (``self.create_ssh_tunnel()`` ending with ``self.tunnel_created = True``):
    the guarded code runs once per object, not once per item."""
    flags = _negated_self_flags(guard.test)
    if not flags:
        return False
    if any(_assigns_self(guard.body, f) for f in flags):
        return True
    cls = ctx.class_frame
    if cls is None or not isinstance(cls.node, cst.ClassDef) or not isinstance(cls.node.body, cst.IndentedBlock):
        return False
    methods = {m.name.value: m for m in cls.node.body.body if isinstance(m, cst.FunctionDef)}
    for call in N.walk(guard.body, into_functions=False):
        if isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute) and N.dotted(call.func.value) == "self":
            method = methods.get(call.func.attr.value)
            if method is not None and any(_assigns_self(method.body, f) for f in flags):
                return True
    return False


def _negated_self_flags(test: cst.BaseExpression) -> List[str]:
    """``flag`` for each ``not self.flag`` among the ``and``-ed conditions of ``test``."""
    parts: List[cst.BaseExpression] = []
    stack = [test]
    while stack:
        t = stack.pop()
        if isinstance(t, cst.BooleanOperation) and isinstance(t.operator, cst.And):
            stack.extend((t.left, t.right))
        else:
            parts.append(t)
    out = []
    for p in parts:
        if isinstance(p, cst.UnaryOperation) and isinstance(p.operator, cst.Not) and isinstance(p.expression, cst.Attribute):
            if N.dotted(p.expression.value) == "self":
                out.append(p.expression.attr.value)
    return out


def _assigns_self(body: cst.CSTNode, attr: str) -> bool:
    for node in N.walk(body, into_functions=False):
        if isinstance(node, (cst.Assign, cst.AnnAssign)):
            targets = [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]
            if any(N.dotted(t) == f"self.{attr}" for t in targets):
                return True
    return False


def _stores_answer(body: cst.CSTNode, target: str) -> bool:
    """``target = ...`` or ``target[key] = ...`` in ``body`` (a cache filled with an answer)."""
    for node in N.walk(body, into_functions=False):
        if isinstance(node, (cst.Assign, cst.AnnAssign)):
            for t in [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]:
                if N.dotted(t.value if isinstance(t, cst.Subscript) else t) == target:
                    return True
    return False


def _conditional_picks_one(anc: cst.CSTNode, below: cst.CSTNode, loop: Loop) -> bool:
    """``below`` is the branch of the conditional expression ``anc`` that holds for one item."""
    if not isinstance(anc, cst.IfExp):
        return False
    return (below is anc.body and _picks_one_item(anc.test, loop)) or (below is anc.orelse and _else_picks_one(anc.test, loop))


def _else_picks_one(test: cst.BaseExpression, loop: Loop) -> bool:
    """The ``else`` of ``item != value`` (``is not``) holds for one item: ``item == value``."""
    if not (isinstance(test, cst.Comparison) and len(test.comparisons) == 1):
        return False
    op = test.comparisons[0].operator
    if not isinstance(op, (cst.NotEqual, cst.IsNot)):
        return False
    equal = cst.Equal() if isinstance(op, cst.NotEqual) else cst.Is()
    return _picks_one_item(test.with_changes(comparisons=[test.comparisons[0].with_changes(operator=equal)]), loop)


def _picks_one_item(test: cst.BaseExpression, loop: Loop, flags: bool = True) -> bool:
    """``item == <value the loop does not change>`` (or ``item.pk``/``item.id``): true for one
    item of the loop at most (``if field == "font_color"``, ``if post.id == thread.solution_id``)."""
    if isinstance(test, cst.BooleanOperation):
        return isinstance(test.operator, cst.And) and (_picks_one_item(test.left, loop, flags) or _picks_one_item(test.right, loop, flags))
    if isinstance(test, cst.Name):
        return flags and _flag_set_by_picks(test.value, loop)
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1 or not isinstance(test.comparisons[0].operator, (cst.Equal, cst.Is)):
        return False
    targets = set(N.target_names(loop.target)) if loop.target is not None else set()
    if not targets:
        return False

    def is_item(e: cst.BaseExpression) -> bool:
        if isinstance(e, cst.Attribute) and e.attr.value in ("pk", "id"):
            e = e.value
        return isinstance(e, cst.Name) and e.value in targets

    def invariant(e: cst.BaseExpression) -> bool:
        if N.literal(e) is None or (isinstance(e, cst.Name) and e.value == "None"):
            return False  # ``if item is None``: any number of items
        return not any(isinstance(n, cst.Name) and n.value in targets for n in N.walk(e))

    left, right = test.left, test.comparisons[0].comparator
    return (is_item(left) and invariant(right)) or (is_item(right) and invariant(left))


def _flag_set_by_picks(flag: str, loop: Loop) -> bool:
    """``save_thread = False; if post.id == thread.solution_id: save_thread = True; ...; if
    save_thread:``: the flag is set to True only in branches that pick one item."""
    body = getattr(loop.node, "body", None)
    if body is None:
        return False
    found = {"true": 0, "other": 0}

    stack: List[Tuple[cst.CSTNode, bool]] = [(body, False)]  # (node, inside a branch that picks one item)
    while stack:
        node, picked = stack.pop()
        if isinstance(node, (cst.AugAssign, cst.AnnAssign)) and isinstance(node.target, cst.Name) and node.target.value == flag:
            found["other"] += 1
        value = _assigns(node, flag)
        if value is True:
            found["true" if picked else "other"] += 1
        elif value is not None and value is not False:
            found["other"] += 1
        if isinstance(node, cst.If):
            stack.append((node.body, picked or _picks_one_item(node.test, loop, flags=False)))
            if node.orelse is not None:
                stack.append((node.orelse, picked))
            continue
        stack.extend((child, picked) for child in node.children)
    return found["true"] > 0 and found["other"] == 0


def _assigns(node: cst.CSTNode, name: str):
    """The literal ``name`` is set to by this assignment (None when it does not assign ``name``;
    ``N.NOT_LITERAL`` for another value)."""
    if isinstance(node, cst.Assign) and any(isinstance(t.target, cst.Name) and t.target.value == name for t in node.targets):
        return N.literal(node.value)
    return None


def _breaks_out(loop_node: cst.CSTNode) -> bool:
    """The loop's own body has a ``break`` (not one of a nested loop or function)."""
    body = getattr(loop_node, "body", None)
    stack = [body] if body is not None else []
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Break):
            return True
        if isinstance(node, (cst.For, cst.While, cst.FunctionDef, cst.Lambda, cst.ClassDef)):
            continue
        stack.extend(node.children)
    return False


def _exits(stmt: cst.CSTNode, nested: bool) -> bool:
    small = stmt.body if isinstance(stmt, cst.SimpleStatementLine) else (stmt,)
    for s in small:
        if isinstance(s, _EXITS) or (isinstance(s, cst.Break) and not nested):
            return True
    return False


def per_item_loop_by_key(key, ctx: Context) -> Optional[Loop]:
    """The enclosing loop whose ``(id(node), id(clause))`` is ``key`` (how inferred values name the
    loop their item comes from), when it runs once per item; else None."""
    if key is None:
        return None
    node = ctx.node
    for loop in reversed(ctx.loops):
        if (id(loop.node), id(loop.clause)) == key:
            if classify_loop(loop, ctx) != "items" or (node is not None and not repeats_per_iteration(node, loop, ctx)):
                return None
            return loop
    return None


# Iterables that hold a handful of things by nature, not rows of a table or request data.
_SMALL_METHODS = frozenset({"items", "keys", "finditer", "findall", "split", "splitlines", "get_fields", "sorted_tables"})
_SMALL_ATTRS = frozenset({"sorted_tables", "relationships", "columns", "fields", "choices", "argv", "tables"})


# The parts of a text: as many as the text holds, unknown for a parameter (a handler's ``ids: str``).
_SIZED_BY_RECEIVER = frozenset({"split", "splitlines", "finditer", "findall"})


def _keys_are_row_ids(node: cst.BaseExpression, loop: Loop, ctx: Context) -> bool:
    """The dict ``node`` names also filters a query of the enclosing function by its keys
    (``Variant.objects.filter(pk__in=counts_by_variant_id)``): its keys are row ids, as many as rows."""
    if not isinstance(node, cst.Name):
        return False
    fn = next((a for a in ctx.ancestors(loop.node) if isinstance(a, (cst.FunctionDef, cst.Lambda))), None)
    if not isinstance(fn, cst.FunctionDef):
        return False
    return any(
        isinstance(n, cst.Arg) and n.keyword is not None and n.keyword.value.endswith("__in")
        and isinstance(n.value, cst.Name) and n.value.value == node.value
        for n in N.walk(fn.body, into_functions=False)
    )


def _parameter(node: cst.BaseExpression, loop: Loop, ctx: Context) -> bool:
    """``node`` names a parameter of the enclosing function (not of a lambda: a form field's
    ``coerce=lambda x: ...`` gets one short value): text that arrives from outside (a handler's
    ``ids: str``) may hold any number of parts."""
    if not isinstance(node, cst.Name):
        return False
    for anc in ctx.ancestors(loop.node):
        if isinstance(anc, cst.Lambda):
            return False
        if isinstance(anc, cst.FunctionDef):
            return node.value in N.param_names(anc.params)
    return False


_SHORT_SLICE = 10


def short_slice(sub: cst.Subscript) -> bool:
    """``rows[:6]`` / ``rows[2:8]``: a slice with literal bounds at most 10 apart."""
    if len(sub.slice) != 1 or not isinstance(sub.slice[0].slice, cst.Slice):
        return False
    sl = sub.slice[0].slice
    if sl.step is not None or not isinstance(sl.upper, cst.Integer):
        return False
    lower = 0
    if sl.lower is not None:
        if not isinstance(sl.lower, cst.Integer):
            return False
        lower = int(sl.lower.evaluated_value)
    return 0 <= int(sl.upper.evaluated_value) - lower <= _SHORT_SLICE


def small_collection(loop: Loop, ctx: Context) -> bool:
    """The loop runs over a small bounded collection: a dict's ``.items()``/``.keys()``, keyword
    arguments, a Django ``m2m_changed`` receiver's ``pk_set``, a string's ``split()`` or regex matches, a model's fields or a metadata's tables,
    a slice of at most 10 literal items. (A parameter or a query stays "unknown size": it may be
    every row of a table; so do the parts of a function parameter's text.)"""
    it = loop.iter
    if it is None:
        return False
    if isinstance(it, cst.Call) and N.call_name(it) in ("enumerate", "sorted", "list", "reversed") and it.args:
        it = it.args[0].value
    if isinstance(it, cst.Call) and isinstance(it.func, cst.Attribute):
        name = it.func.attr.value
        if name in _SMALL_METHODS:
            receiver = it.func.value
            if name in ("items", "keys") and _keys_are_row_ids(receiver, loop, ctx):
                return False  # ``filter(pk__in=counts)`` then ``for pk, n in counts.items()``: one entry per row
            return not (name in _SIZED_BY_RECEIVER and _parameter(receiver, loop, ctx))
        return name == "values" and isinstance(it.func.value, cst.Name) and it.func.value.value in ("kwargs", "options", "params")
    if isinstance(it, cst.Attribute):
        return it.attr.value in _SMALL_ATTRS
    if isinstance(it, cst.Subscript) and isinstance(it.value, cst.Name) and it.value.value in ("options", "kwargs"):
        return True  # a command's ``options["slugs"]``: what one person typed
    if isinstance(it, cst.Subscript) and short_slice(it):
        return True  # ``latest[:6]``: a handful, whatever the table holds
    if isinstance(it, cst.Name):
        # ``pk_set`` of a Django ``m2m_changed`` receiver: the keys one ``.add()``/``.remove()`` passed
        return it.value in ("kwargs", "options", "pk_set") and _parameter(it, loop, ctx)
    return False


def reported_loop(loops, ctx: Context) -> Optional[Loop]:
    """The innermost per-item loop of a report's loops (the one the finding multiplies with)."""
    for loop in reversed(loops):
        if classify_loop(loop, ctx) == "items":
            return loop
    return None
