"""What a module or function binds and reads, as plain facts from its tree (shared by the
framework adapters: none of this is specific to an ORM)."""
from __future__ import annotations

import libcst as cst

from querylint import nodes as N


def module_functions(ctx):
    """Module-level ``def``s of the file being linted, by name."""
    def compute():
        out = {}
        for stmt in ctx.module_node.body:
            if isinstance(stmt, cst.FunctionDef):
                out[stmt.name.value] = stmt
        return out

    return ctx.memo(("module-functions",), compute)


def param_chains(fn: cst.FunctionDef, param: str, ctx):
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
