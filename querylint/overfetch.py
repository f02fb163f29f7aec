"""Helpers shared by the over-fetch rules (peewee and SQLAlchemy)."""
from __future__ import annotations

import libcst as cst

from querylint import nodes as N


def name_uses(name: str, ctx) -> int:
    """How many times ``name`` is used in the current function (or module), not counting the binding's own target."""
    fn = ctx.function
    root = fn.node if fn is not None else ctx.module_node

    def compute():
        return sum(1 for n in N.walk(root) if isinstance(n, cst.Name) and n.value == name)

    # the binding's own target counts once
    return ctx.memo(("name-uses", id(root), name), compute) - 1


def truth_test_nodes(node) -> list:
    """Expressions whose truth value a statement tests (``if x:``, ``while x:``, ``x if c else y``, ``not x``)."""
    test = getattr(node, "test", None)
    out = []
    stack = [test] if test is not None else []
    while stack:
        t = stack.pop()
        if isinstance(t, cst.UnaryOperation) and isinstance(t.operator, cst.Not):
            stack.append(t.expression)
        elif isinstance(t, cst.BooleanOperation):
            stack.extend([t.left, t.right])
        else:
            out.append(t)
    return out
