"""How an expression is used where it stands: tested for truth, counted, read once.

Shared by the over-fetch rule and the adapters that answer it (they decide whether a variable
holding a query is "used for nothing else"). Pure syntax over the context's parent map.
"""
from __future__ import annotations

from typing import Optional

import libcst as cst

from querylint import nodes as N
from querylint.context import Context

_TESTS = (cst.If, cst.While, cst.IfExp, cst.Assert)


def name_uses(name: str, ctx: Context) -> int:
    """How many times ``name`` is used in the current function (or module), not counting the binding's own target."""
    fn = ctx.function
    root = fn.node if fn is not None else ctx.module_node

    def compute() -> int:
        return sum(1 for n in N.walk(root) if isinstance(n, cst.Name) and n.value == name)

    # the binding's own target counts once
    return ctx.memo(("name-uses", id(root), name), compute) - 1


def is_len_arg(n: cst.CSTNode, parent: Optional[cst.CSTNode], ctx: Context) -> bool:
    """``n`` is the argument of ``len(...)``."""
    if isinstance(parent, cst.Arg):
        call = ctx.parent_of(parent)
        return isinstance(call, cst.Call) and N.dotted(call.func) == "len"
    return False


def _bool_chain_top(node: cst.BooleanOperation, ctx: Context) -> cst.CSTNode:
    """The outermost ``and``/``or`` of the chain holding ``node`` (memoised: linear on long chains)."""
    seen = []
    cur: cst.CSTNode = node
    while True:
        known = ctx.memo(("bool-top", id(cur)), lambda: None)
        if known is not None:
            top = known
            break
        seen.append(cur)
        parent = ctx.parent_of(cur)
        if not isinstance(parent, cst.BooleanOperation):
            top = cur
            break
        cur = parent
    for n in seen:
        ctx.remember(("bool-top", id(n)), top)
    return top


def truth_context(node: cst.CSTNode, ctx: Context) -> Optional[cst.CSTNode]:
    """``node`` when it is only tested for truth (``if x:``, ``while x``, ``x if c else y``,
    ``assert x``, ``not x``, ``bool(x)``, or an operand of an ``and``/``or`` chain that is tested)."""
    parent = ctx.parent_of(node)
    if isinstance(parent, _TESTS) and parent.test is node:
        return node
    if isinstance(parent, cst.UnaryOperation) and isinstance(parent.operator, cst.Not):
        return node
    if isinstance(parent, cst.BooleanOperation):
        cur = _bool_chain_top(parent, ctx)
        gp = ctx.parent_of(cur)
        if isinstance(gp, _TESTS) and gp.test is cur:
            return node
        if isinstance(gp, cst.UnaryOperation) and isinstance(gp.operator, cst.Not):
            return node
        return None
    if isinstance(parent, cst.Arg) and parent.value is node:
        call = ctx.parent_of(parent)
        if isinstance(call, cst.Call) and N.dotted(call.func) == "bool":
            return node
    return None


def constant_subscript(node: cst.Subscript) -> Optional[str]:
    """``"index"`` for ``x[<int>]`` / ``x[-<int>]``, ``"slice"`` for ``x[<int?>:<int?>]``, else None."""
    if len(node.slice) != 1:
        return None
    sl = node.slice[0].slice
    if isinstance(sl, cst.Index):
        v = sl.value
        if isinstance(v, cst.UnaryOperation) and isinstance(v.operator, cst.Minus):
            v = v.expression
        lit = N.literal(v)
        return "index" if isinstance(lit, int) and not isinstance(lit, bool) else None
    if isinstance(sl, cst.Slice):
        if any(p is not None and not isinstance(N.literal(p), int) for p in (sl.lower, sl.upper)):
            return None
        return "slice"
    return None


def is_store_target(node: cst.CSTNode, ctx: Context) -> bool:
    """``node`` is written, not read: an assignment's target (``self.author = user``, ``+=``, an
    annotated assignment) or a ``del``."""
    parent = ctx.parent_of(node) or ctx.parent
    if isinstance(parent, cst.AssignTarget) and parent.target is node:
        return True
    if isinstance(parent, (cst.AugAssign, cst.AnnAssign)) and parent.target is node:
        return True
    return isinstance(parent, cst.Del)
