"""One batched traversal per file: keeps the frame/loop stacks and dispatches to every visitor.

Visitors are objects with ``visit_<NodeType>(node)`` / ``leave_<NodeType>(node)`` methods (libcst
class names). A visitor that raises is switched off for the rest of the file and the error is
handed to ``on_error``; the walk goes on for the others.
"""
from __future__ import annotations

from typing import Callable, Dict, List, Optional, Sequence, Tuple

import libcst as cst

from querylint import nodes as N
from querylint.context import COMPREHENSIONS, Context, Frame, Loop

Handler = Tuple[object, Callable]
_COMPREHENSION_TYPES = frozenset(COMPREHENSIONS)
# (visitor classes, "visit_"/"leave_", node class) -> ((visitor position, method name), ...)
_SPECS: Dict[Tuple[Tuple[type, ...], str, type], Tuple[Tuple[int, str], ...]] = {}


class Walker:
    def __init__(self, ctx: Context, visitors: Sequence[object], on_error: Callable[[object, cst.CSTNode, BaseException], None]):
        self.ctx = ctx
        self.visitors = list(visitors)
        self.on_error = on_error
        self.dead: set = set()
        self._visitor_types = tuple(type(v) for v in self.visitors)
        self._visit: Dict[type, List[Handler]] = {}
        self._leave: Dict[type, List[Handler]] = {}
        # node class -> (visit handlers, leave handlers, special traversal): one lookup per node
        self._plan: Dict[type, Tuple[List[Handler], List[Handler], Optional[Callable]]] = {}

    # ------------------------------------------------------------------ dispatch

    def _handlers(self, table, prefix, cls) -> List[Handler]:
        handlers = table.get(cls)
        if handlers is None:
            # which visitor classes handle ``cls``, and by which method, is the same for every
            # file: resolved once per run (hot path: many rules x node classes x files)
            key = (self._visitor_types, prefix, cls)
            spec: Optional[Sequence[Tuple[int, str]]] = _SPECS.get(key)
            if spec is None:
                spec = []
                for i, v in enumerate(self.visitors):
                    for klass in cls.__mro__:
                        name = prefix + klass.__name__
                        if getattr(v, name, None) is not None:
                            spec.append((i, name))
                            break
                spec = _SPECS[key] = tuple(spec)
            handlers = [(self.visitors[i], getattr(self.visitors[i], name)) for i, name in spec]
            table[cls] = handlers
        return handlers

    def _call(self, handlers: List[Handler], node) -> None:
        for visitor, fn in handlers:
            if id(visitor) in self.dead:
                continue
            try:
                fn(node)
            except RecursionError as exc:
                self.dead.add(id(visitor))
                self.on_error(visitor, node, exc)
            except Exception as exc:  # a rule bug must not stop the run
                self.dead.add(id(visitor))
                self.on_error(visitor, node, exc)

    # ------------------------------------------------------------------ traversal

    def run(self) -> None:
        module = self.ctx.module_node
        self.ctx.frames.append(Frame("module", module, self.ctx.module))
        self.ctx._parents[id(module)] = None
        self._node(module, None)
        self.ctx.frames.pop()

    def _plan_for(self, cls: type):
        special = _SPECIAL.get(cls)
        if special is None and cls in _COMPREHENSION_TYPES:
            special = Walker._comprehension
        plan = (self._handlers(self._visit, "visit_", cls), self._handlers(self._leave, "leave_", cls), special)
        self._plan[cls] = plan
        return plan

    def _node(self, node: cst.CSTNode, parent: Optional[cst.CSTNode]) -> None:
        ctx = self.ctx
        ctx._parents[id(node)] = parent
        ctx.stack.append(node)
        cls = type(node)
        plan = self._plan.get(cls) or self._plan_for(cls)
        visit, leave, special = plan
        if visit:
            self._call(visit, node)
        if special is not None:
            special(self, node)
        else:
            for child in N.children(node):
                self._node(child, node)
        if leave:
            self._call(leave, node)
        ctx.stack.pop()

    def _kids(self, node, *names):
        for name in names:
            value = getattr(node, name, None)
            if isinstance(value, cst.CSTNode):
                self._node(value, node)
            elif isinstance(value, (list, tuple)):
                for item in value:
                    if isinstance(item, cst.CSTNode):
                        self._node(item, node)

    def _function(self, node: cst.FunctionDef) -> None:
        self._kids(node, "decorators")
        # defaults and annotations are evaluated in the enclosing frame
        for p in _all_params(node.params):
            if p.default is not None:
                self._node(p.default, node.params)
        outer = self.ctx.frame
        qual = f"{outer.qualname}.{node.name.value}"
        facts = self.ctx._functions_by_qualname.get(qual)
        self.ctx.frames.append(Frame("function", node, qual, facts=facts))
        self.ctx._parents[id(node.params)] = node
        self._kids(node, "body")
        self.ctx.frames.pop()

    def _lambda(self, node: cst.Lambda) -> None:
        for p in _all_params(node.params):
            if p.default is not None:
                self._node(p.default, node.params)
        frame = Frame("lambda", node, self.ctx.frame.qualname + ".<lambda>")
        key_loop = _key_function_loop(node, self.ctx)
        if key_loop is not None:
            frame.loops.append(key_loop)  # ``sorted(rows, key=lambda r: r.author.name)``: per row
        self.ctx.frames.append(frame)
        self._kids(node, "body")
        self.ctx.frames.pop()

    def _class(self, node: cst.ClassDef) -> None:
        self._kids(node, "decorators", "bases", "keywords")
        self.ctx.frames.append(Frame("class", node, f"{self.ctx.frame.qualname}.{node.name.value}"))
        self._kids(node, "body")
        self.ctx.frames.pop()

    def _for(self, node: cst.For) -> None:
        self._kids(node, "target", "iter")
        loops = self.ctx.frame.loops
        loops.append(Loop(node, "async for" if node.asynchronous is not None else "for", node.iter, node.target))
        self._kids(node, "body")
        loops.pop()
        self._kids(node, "orelse")

    def _while(self, node: cst.While) -> None:
        # the test runs per iteration too, but a query there is usually a batch/queue condition:
        # judged outside the loop (precision first)
        self._kids(node, "test")
        loops = self.ctx.frame.loops
        loops.append(Loop(node, "while", None, None))
        self._kids(node, "body")
        loops.pop()
        self._kids(node, "orelse")

    def _comprehension(self, node) -> None:
        clause: Optional[cst.CompFor] = node.for_in
        loops = self.ctx.frame.loops
        pushed = 0
        first = True
        while clause is not None:
            self.ctx._parents[id(clause)] = node
            self.ctx.stack.append(clause)
            if first:
                self._node(clause.iter, clause)
                first = False
            else:
                self._node(clause.iter, clause)
            loops.append(Loop(node, "comprehension", clause.iter, clause.target, clause))
            pushed += 1
            self._node(clause.target, clause)
            for cond in clause.ifs:
                self._node(cond, clause)
            self.ctx.stack.pop()
            clause = clause.inner_for_in
        if isinstance(node, cst.DictComp):
            self._node(node.key, node)
            self._node(node.value, node)
        else:
            self._node(node.elt, node)
        for _ in range(pushed):
            loops.pop()


# builtins and stdlib helpers that call their ``key=`` function once per item of their first argument
KEY_FUNCTION_CALLS = {"sorted", "min", "max", "groupby", "nsmallest", "nlargest"}


def _key_function_loop(node: cst.Lambda, ctx: Context) -> Optional[Loop]:
    """The per-item region of a lambda passed as ``key=`` to ``sorted``/``min``/``max``/
    ``itertools.groupby``/``heapq.nsmallest``/``heapq.nlargest`` or ``list.sort``: it runs once per
    item of the sorted collection, its parameter bound to the item."""
    arg = ctx._parents.get(id(node))
    call = ctx._parents.get(id(arg)) if isinstance(arg, cst.Arg) else None
    if not isinstance(arg, cst.Arg) or arg.keyword is None or arg.keyword.value != "key" or not isinstance(call, cst.Call):
        return None
    params = node.params.params
    if len(params) != 1 or node.params.star_arg is not None and not isinstance(node.params.star_arg, cst.MaybeSentinel):
        return None
    name = N.call_name(call)
    if name == "sort" and isinstance(call.func, cst.Attribute):
        items: Optional[cst.BaseExpression] = call.func.value
    elif name in KEY_FUNCTION_CALLS:
        positional = [a.value for a in call.args if a.keyword is None and not a.star]
        if name in ("nsmallest", "nlargest"):
            positional = positional[1:]
        if len(positional) != 1:
            return None  # ``max(a, b, key=...)``: a fixed pair, not a collection
        items = positional[0]
    else:
        return None
    return Loop(node, "key", items, params[0].name)


def _all_params(params: cst.Parameters):
    out = list(params.posonly_params) + list(params.params) + list(params.kwonly_params)
    if isinstance(params.star_arg, cst.Param):
        out.append(params.star_arg)
    if params.star_kwarg is not None:
        out.append(params.star_kwarg)
    return out


_SPECIAL: Dict[type, Callable] = {
    cst.FunctionDef: Walker._function,
    cst.Lambda: Walker._lambda,
    cst.ClassDef: Walker._class,
    cst.For: Walker._for,
    cst.While: Walker._while,
}
