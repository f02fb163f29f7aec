"""The adapter protocol: what a rule may ask an ORM, answered with small frozen values.

A pattern rule (``rules/overfetch.py``, ``rules/n_plus_one.py``) recognises the shape of the
code (``len(x)``, ``x[0]``, a truth test, ``[o.id for o in x]``, a call inside a loop) and asks
every adapter whether ``x`` means the problem *for that ORM*. The first adapter that answers
wins; its answer carries the message, the fix and the variant code (the ORM's old per-ORM code,
kept as an alias so existing configs, suppressions and baselines keep working).

An adapter never imports a rule or another framework. A new ORM is a folder under
``querylint/frameworks/`` with an ``ADAPTER`` and one line in :mod:`querylint.frameworks.registry`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, ClassVar, List, Mapping, Optional, Sequence, Set, Tuple, Type

import libcst as cst

from querylint import nodes as N
from querylint.templates.model import Bound, Member, Render

if TYPE_CHECKING:  # pragma: no cover
    from querylint.context import Context

# The over-fetch patterns (rules/overfetch.py) and the N+1 patterns (rules/n_plus_one.py), by
# the key an adapter's ``codes`` maps to its old per-ORM code.
QUERY_IN_LOOP = "query-in-loop"
WRITE_IN_LOOP = "write-in-loop"
LAZY_RELATION = "lazy-relation"
MEMBER_QUERY = "member-query"
LEN_AS_COUNT = "len-as-count"
TRUTHINESS = "truthiness"
TAKE_ONE = "take-one"
PK_ONLY = "pk-only"


@dataclass(frozen=True)
class Hit:
    """An adapter's answer: the problem is there. ``message`` says what (short), ``fix`` how."""

    message: str
    fix: Optional[str] = None


class Detector:
    """One ORM's detector for one N+1 pattern: a visitor the walker drives beside the rules.

    The pattern rule (``rules/n_plus_one.py``) creates one per active adapter; the detector
    finds the ORM's own shapes (with whatever per-file state it keeps) and reports through the
    rule, so every finding carries the rule's code and this ORM's variant alias. ``code`` is
    the variant (the old per-ORM code): a detector that also decides between patterns compares
    against it. Class attributes ``VALID``/``INVALID`` hold its examples (gathered by the rule).
    """

    VALID: ClassVar[Sequence[Any]] = ()
    INVALID: ClassVar[Sequence[Any]] = ()

    def __init__(self, rule: Any, ctx: "Context", variant: str):
        self.rule = rule
        self.ctx = ctx
        self.code = variant

    def report(self, node: cst.CSTNode, message: str, *, fix: Optional[str] = None, severity: Any = None, notes: Sequence[str] = (), confidence: str = "high", edits: Sequence[Any] = ()) -> None:
        self.rule.report(node, message, fix=fix, severity=severity, notes=notes, variant=self.code, confidence=confidence, edits=edits)

    def line(self, node: cst.CSTNode) -> int:
        return self.ctx.line(node)


def loaded_earlier_in_iteration(ctx: "Context", attr: cst.Attribute, path: Tuple[str, ...], loop: Any, report_node: cst.CSTNode) -> bool:
    """``order.user`` read on line 27 and ``order.email`` (a property reading ``self.user``)
    on line 28 of the same iteration: the relation is loaded and cached on the object by
    then (the first read is the one to report), when the member's query is that relation of
    ``self`` and every hop is a method of the same class. The same holds for a second read of
    the member itself (``repo.groups`` on lines 222 and 223): one problem, one finding."""
    last = path[-1].split(" ", 1)[0]  # "self.groups (lazy load of Project.groups)"
    if not (last.startswith("self.") and last[5:].isidentifier()):
        return False
    classes = {ctx.index.functions[q].cls for q in path[:-1] if q in ctx.index.functions}
    if len(classes) != 1:
        return False
    rel, owner = last[5:], N.code(attr.value)
    return relation_read_earlier(ctx, owner, (rel, attr.attr.value), next(iter(classes)), loop, report_node)


def relation_read_earlier(ctx: "Context", owner: str, names: Tuple[str, ...], cls: Optional[str], loop: Any, report_node: cst.CSTNode) -> bool:
    """An earlier statement of the same pass of ``loop`` reads ``owner.<name>`` for one of
    ``names``, or calls (or reads) a member of ``owner``'s class ``cls`` that reads ``self.<name>``
    (``p.has_exceeded_quota()`` filtering on ``self.user`` before ``p.user``): Django caches the
    relation on the object, so the later read runs no query."""
    node = getattr(loop, "node", None)
    if isinstance(node, (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)):
        # in the order a pass runs: the ``for``/``if`` clauses, then the element
        parts: List[cst.CSTNode] = [node.for_in] + ([node.key, node.value] if isinstance(node, cst.DictComp) else [node.elt])
    else:
        body = getattr(node, "body", None)
        parts = [body] if body is not None else []
    for n in (x for part in parts for x in N.walk(part, into_functions=False)):
        if n is report_node:
            return False
        if not isinstance(n, cst.Attribute) or N.code(n.value) != owner:
            continue
        if n.attr.value in names:
            return True
        if cls is not None and set(names) & member_self_relations(ctx, f"{cls}.{n.attr.value}"):
            return True
    return False


def member_self_relations(ctx: "Context", qual: str) -> Set[str]:
    """The attributes of ``self`` whose reads the index records as queries in a member (lazy
    relation loads: ``self.user``), with the methods of the same class it calls."""

    def compute() -> Set[str]:
        descs = member_queries(ctx.index, qual, strict=False) or ()
        return {m.group(1) for m in (_SELF_ATTR.match(d) for d in descs) if m is not None}

    return ctx.memo(("member-self-relations", qual), compute)


def member_queries(index: Any, qual: str, limit: int = 12, strict: bool = True) -> Optional[Tuple[str, ...]]:
    """The queries a model member runs itself and through the methods of its class it calls
    (``get_statistics()`` -> ``assets_path()`` -> ``task_path()`` reading ``self.project``). None
    when the closure holds more than ``limit`` functions, or (``strict``) when it reaches a query
    through any other function."""
    first = index.functions.get(qual)
    if first is None or first.cls is None:
        return None
    out: List[str] = []
    todo: List[str] = [qual]
    seen: Set[str] = set()
    while todo:
        q = todo.pop()
        if q in seen:
            continue
        seen.add(q)
        if len(seen) > limit:
            return None
        out.extend(index.direct_queries.get(q, ()))
        for callee in index.callees(q):
            fn = index.functions.get(callee)
            if fn is not None and fn.cls == first.cls:
                todo.append(callee)
            elif strict and index.query_path(callee) is not None:
                return None
    return tuple(out)


_SELF_ATTR = re.compile(r"self\.(\w+)(?:\s|$)")


_MEMBER_DECORATORS = ("property", "cached_property", "hybrid_property")


class MemberQueryDetector(Detector):
    """The model-member pattern for ORMs whose models are classes in the project index: a
    per-item call of a model method (or a read of a property) whose body runs a query, directly
    or through what it calls (the index's call graph). A subclass answers which model an
    attribute's owner is an instance of and which loop makes it vary per item; it may veto a
    path (``covered``) and name a better fix (``fix_for``)."""

    def active_here(self) -> bool:
        return True

    def owner_and_loop(self, attr: cst.Attribute) -> Optional[Tuple[str, Any, Any]]:
        """(model qualname, the per-item loop or None, anything ``covered``/``fix_for`` need)."""
        return None

    def covered(self, qualname: str, path: Tuple[str, ...], extra: Any) -> bool:
        return False

    def fix_for(self, path: Tuple[str, ...], extra: Any) -> str:
        return "compute it for every item in one query before the loop (`.in_(...)` / GROUP BY)"

    def visit_Call(self, node: cst.Call) -> None:
        if self.ctx.loop is None or not isinstance(node.func, cst.Attribute):
            return
        self._check(node, node.func, property_only=False)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if self.ctx.loop is None:
            return
        parent = self.ctx.parent_of(node) or self.ctx.parent
        if isinstance(parent, cst.Call) and parent.func is node:
            return
        self._check(node, node, property_only=True)

    def _check(self, report_node: cst.CSTNode, attr: cst.Attribute, property_only: bool) -> None:
        name = attr.attr.value
        if name.startswith("__") or not self.active_here():
            return
        got = self.owner_and_loop(attr)
        if got is None or got[1] is None:
            return
        owner, loop, extra = got
        index = self.ctx.index
        fn = index.find_method(owner, name)
        if fn is None:
            return
        is_prop = any(d.rsplit(".", 1)[-1] in _MEMBER_DECORATORS for d in fn.decorators)
        if property_only != is_prop:
            return
        path = index.query_path(fn.qualname)
        if path is None or self.covered(fn.qualname, path, extra):
            return
        if loaded_earlier_in_iteration(self.ctx, attr, path, loop, report_node):
            return
        chain = " -> ".join(p.rsplit(".", 1)[-1] + "()" for p in path[:-1]) + " -> " + path[-1]
        self.report(
            report_node,
            f"`{N.short(report_node)}` runs a query on every iteration of {self.ctx.loop_label(loop)}",
            fix=self.fix_for(path, extra),
            notes=(f"call path: {chain}",),
        )


class Adapter:
    """One ORM. Every question answers None (not mine / not a problem) unless overridden."""

    name: ClassVar[str] = ""
    # pattern key -> the ORM's old code for it (the variant alias of the pattern rule)
    codes: ClassVar[Mapping[str, str]] = {}

    def detectors(self) -> Mapping[str, Type[Detector]]:
        """pattern key -> this ORM's detector class for the N+1 patterns (imported lazily)."""
        return {}

    def query_detectors(self) -> Tuple[Callable, ...]:
        """Functions ``(node, ctx) -> description | None`` that tell the project index where a
        function runs one of this ORM's queries (the call graph's query sites)."""
        return ()

    def active(self, ctx: "Context") -> bool:
        """A cheap guard: can this file hold this ORM's code at all?"""
        return True

    # ---------------------------------------------------------------- templates
    def template_bound(self, name: str, expr: cst.BaseExpression, ctx: "Context") -> Optional[Bound]:
        """A view binds context name ``name`` to ``expr``: rows or one instance of this ORM's model?"""
        return None

    def template_view(self, ctx: "Context", cls_qualname: str, node: cst.ClassDef, extra: Mapping[str, Bound]) -> Optional[Render]:
        """The render of the class-based view ``node`` of this ORM's web framework (``extra``:
        names its ``get_context_data`` adds), else None."""
        return None

    def template_member(self, index: Any, model: str, name: str) -> Optional[Member]:
        """What a template's ``obj.<name>`` is on this ORM's ``model``."""
        return None

    def count_lookup(self, index: Any, model: str, path: str) -> str:
        """The lookup an aggregate over relation ``path`` of ``model`` names (Django: ``hit``
        for the default reverse accessor ``hit_set``)."""
        return path

    def template_fix(self, index: Any, bound: Bound, path: Tuple[str, ...], where: str) -> Tuple[str, Tuple[Tuple[int, int, str], ...]]:
        """How to load relation ``path`` (names from the bound model) with the view's query
        (``where``: "the queryset in shop/views.py:14"), and the insertions ``--fix`` makes in
        the view's file: (line, column, text), none without a certain fix."""
        return f"load it with {where}", ()

    # ---------------------------------------------------------------- over-fetch
    def len_as_count(self, call: cst.Call, arg: cst.BaseExpression, ctx: "Context") -> Optional[Hit]:
        """``call`` is ``len(arg)``: does it load every row of a query only to count them?"""
        return None

    def truth_tested(self, node: cst.BaseExpression, ctx: "Context") -> Optional[Hit]:
        """``node`` is only tested for truth: does that load every row of a query?"""
        return None

    def take_one(self, node: cst.CSTNode, ctx: "Context") -> Optional[Hit]:
        """``node`` is ``<x>[<constant>]`` (or ``next(iter(<x>))``): are all rows loaded to keep one?"""
        return None

    def pk_only(
        self, node: cst.CSTNode, iterable: cst.BaseExpression, attr: str, comp: Optional[cst.CompFor], ctx: "Context"
    ) -> Optional[Hit]:
        """``node`` collects ``<row>.<attr>`` of every row of ``iterable`` (a comprehension, whose
        clause is ``comp``, or a ``for`` loop that appends): whole objects loaded for one column?"""
        return None


def first_hit(adapters: Sequence[Adapter], pattern: str, ask) -> Optional[tuple]:
    """(hit, variant code) from the first active adapter whose ``ask(adapter)`` answers."""
    for adapter in adapters:
        if pattern not in adapter.codes:
            continue
        hit = ask(adapter)
        if hit is not None:
            return hit, adapter.codes[pattern]
    return None
