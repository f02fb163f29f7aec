"""Where Python code renders a template, and with what context (collected in the query pass).

Recognised, when the name is imported from its framework:

- Django: ``render(request, "shop/orders.html", ctx)``, ``render_to_response``,
  ``render_to_string("x.html", ctx)``, ``TemplateResponse(request, "x.html", ctx)``, and the
  class-based views the ORM adapter reads (``ListView``/``DetailView``...);
- Flask: ``render_template("x.html", orders=orders)`` (also a list of names);
- Starlette / FastAPI: ``templates.TemplateResponse("x.html", {"request": request, ...})`` and
  the newer ``TemplateResponse(request, "x.html", {...})``.

The context is a dict literal, ``dict(...)``, keywords, or a name bound to a dict literal in the
function and filled by ``ctx["name"] = value`` / ``ctx.update(...)``. Each value is typed by
the adapters (:meth:`Adapter.template_bound`); a name no adapter knows is left out, and a
template name that is not a literal leaves the render out (silence over guessing).
"""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

import libcst as cst

from querylint import nodes as N
from querylint.context import Context
from querylint.templates.model import Bound, Render

# callee (dotted, as imported) -> (position of the template name, position of the context or None for keywords)
_CALLS = {
    "django.shortcuts.render": (1, 2),
    "django.shortcuts.render_to_response": (0, 1),
    "django.template.loader.render_to_string": (0, 1),
    "django.template.response.TemplateResponse": (1, 2),
    "django.template.response.SimpleTemplateResponse": (0, 1),
    "flask.render_template": (0, None),
    "quart.render_template": (0, None),
}
_LAST_NAMES = frozenset({q.rsplit(".", 1)[-1] for q in _CALLS} | {"TemplateResponse"})
_CONTEXT_METHODS = ("get_context_data",)
_HINTS = ("render", "TemplateResponse", "template_name", "View")


def worth_looking(source: str) -> bool:
    """A cheap guard: can this file render a template at all?"""
    return any(h in source for h in _HINTS)


class RenderCollector:
    """A walker visitor: the renders of one file."""

    def __init__(self, ctx: Context, adapters: Sequence):
        self.ctx = ctx
        self.adapters = adapters
        self.renders: List[Render] = []
        self._extra: Dict[str, Dict[str, Bound]] = {}  # view class -> names its get_context_data adds

    # ------------------------------------------------------------------ calls

    def visit_Call(self, node: cst.Call) -> None:
        fn = self.ctx.function
        if fn is None:
            return
        self._context_call(node)
        got = self._site(node)
        if got is None:
            return
        names, entries = got
        bindings = self._bind(entries)
        self.renders.append(Render(names, fn.qualname, self.ctx.relpath, self.ctx.line(node), tuple(bindings.values())))

    def _site(self, node: cst.Call) -> Optional[Tuple[Tuple[str, ...], List[Tuple[str, cst.BaseExpression]]]]:
        func = node.func
        last = func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else ""
        if last not in _LAST_NAMES:
            return None  # cheap: most calls are not renders
        q = self.ctx.qualify(func) or ""
        spec = _CALLS.get(q)
        if spec is not None:
            name_pos, ctx_pos = spec
            names = self._names(N.arg(node, name_pos, "template_name") or N.arg(node, name_pos, "template_name_or_list"))
            if names is None:
                return None
            if ctx_pos is None:
                return names, [(a.keyword.value, a.value) for a in node.args if a.keyword is not None]
            return names, self._entries(N.arg(node, ctx_pos, "context"))
        if isinstance(node.func, cst.Attribute) and node.func.attr.value == "TemplateResponse":
            first = N.arg(node, 0)
            if first is not None and N.string_value(first) is not None:
                return self._with(N.arg(node, 0, "name"), N.arg(node, 1, "context"))
            return self._with(N.arg(node, 1, "name"), N.arg(node, 2, "context"))
        return None

    def _with(self, name, context):
        names = self._names(name)
        return (names, self._entries(context)) if names is not None else None

    def _names(self, node: Optional[cst.BaseExpression]) -> Optional[Tuple[str, ...]]:
        if node is None:
            return None
        if isinstance(node, cst.Name):
            b = self.ctx.binding(node.value, at=node)
            if b is None or not b.is_simple or b.value is None or len(self.ctx.bindings(node.value)) != 1:
                return None
            node = b.value
        s = N.string_value(node)
        if s is not None:
            return (s,)
        if isinstance(node, (cst.List, cst.Tuple)):
            out = [N.string_value(e.value) for e in node.elements]
            if out and all(x is not None for x in out):
                return tuple(x for x in out if x is not None)
        return None

    def _entries(self, node: Optional[cst.BaseExpression]) -> List[Tuple[str, cst.BaseExpression]]:
        if node is None:
            return []
        got = _literal_entries(node)
        if got is not None:
            return got
        if not isinstance(node, cst.Name):
            return []
        binds = self.ctx.bindings(node.value)
        if len(binds) != 1 or not binds[0].is_simple or binds[0].value is None:
            return []
        out = list(_literal_entries(binds[0].value) or [])
        out.extend(self._filled(node.value))
        return out

    def _filled(self, name: str) -> List[Tuple[str, cst.BaseExpression]]:
        """``ctx["orders"] = qs`` and ``ctx.update(orders=qs)`` in the current function."""
        fn = self.ctx.function
        if fn is None:
            return []
        out: List[Tuple[str, cst.BaseExpression]] = []
        for n in N.walk(fn.node, into_functions=False):
            if isinstance(n, cst.Assign):
                got = _stored_key(n)
                if got is not None and got[0] == name:
                    out.append((got[1], n.value))
            elif isinstance(n, cst.Call) and isinstance(n.func, cst.Attribute) and n.func.attr.value == "update" and N.dotted(n.func.value) == name:
                for a in n.args:
                    if a.keyword is not None:
                        out.append((a.keyword.value, a.value))
                    elif a.star == "":
                        out.extend(_literal_entries(a.value) or [])
        return out

    def _bind(self, entries: List[Tuple[str, cst.BaseExpression]]) -> Dict[str, Bound]:
        out: Dict[str, Bound] = {}
        for name, expr in entries:
            for adapter in self.adapters:
                b = adapter.template_bound(name, expr, self.ctx)
                if b is not None:
                    out[name] = b
                    break
        return out

    # ------------------------------------------------------------------ class-based views

    def _context_method(self) -> Optional[str]:
        """The view class whose ``get_context_data`` we are in (directly), else None."""
        fn = self.ctx.function
        if fn is None or not isinstance(fn.node, cst.FunctionDef) or fn.node.name.value not in _CONTEXT_METHODS:
            return None
        if len(self.ctx.frames) < 2 or self.ctx.frames[-2].kind != "class" or self.ctx.frames[-1] is not fn:
            return None
        return self.ctx.frames[-2].qualname

    def _add_extra(self, cls: str, entries: List[Tuple[str, cst.BaseExpression]]) -> None:
        self._extra.setdefault(cls, {}).update(self._bind(entries))

    def visit_Assign(self, node: cst.Assign) -> None:
        cls = self._context_method()
        got = _stored_key(node) if cls is not None else None
        if cls is not None and got is not None:
            self._add_extra(cls, [(got[1], node.value)])

    def visit_Return(self, node: cst.Return) -> None:
        cls = self._context_method()
        if cls is not None and node.value is not None:
            self._add_extra(cls, _literal_entries(node.value) or [])

    def _context_call(self, node: cst.Call) -> None:
        cls = self._context_method()
        if cls is not None and isinstance(node.func, cst.Attribute) and node.func.attr.value in ("update", "get_context_data"):
            self._add_extra(cls, [(a.keyword.value, a.value) for a in node.args if a.keyword is not None])

    def leave_ClassDef(self, node: cst.ClassDef) -> None:
        qualname = f"{self.ctx.frame.qualname}.{node.name.value}"  # its frame is gone by now
        for adapter in self.adapters:
            r = adapter.template_view(self.ctx, qualname, node, self._extra.get(qualname, {}))
            if r is not None:
                self.renders.append(r)
                return


def _stored_key(node: cst.Assign) -> Optional[Tuple[Optional[str], str]]:
    """``ctx["orders"] = ...``: (the dict's dotted name, the literal key), else None."""
    if len(node.targets) != 1:
        return None
    t = node.targets[0].target
    if not (isinstance(t, cst.Subscript) and len(t.slice) == 1 and isinstance(t.slice[0].slice, cst.Index)):
        return None
    key = N.string_value(t.slice[0].slice.value)
    return (N.dotted(t.value), key) if key is not None else None


def _literal_entries(node: cst.BaseExpression) -> Optional[List[Tuple[str, cst.BaseExpression]]]:
    """``{"orders": qs, **base}`` / ``dict(orders=qs)``: the (name, value) pairs with literal keys."""
    if isinstance(node, cst.Dict):
        out = []
        for el in node.elements:
            if isinstance(el, cst.DictElement):
                key = N.string_value(el.key)
                if key is not None:
                    out.append((key, el.value))
        return out
    if isinstance(node, cst.Call) and N.dotted(node.func) == "dict":
        return [(a.keyword.value, a.value) for a in node.args if a.keyword is not None]
    return None
