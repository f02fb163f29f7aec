"""The query-cost report: every entry point querylint knows (views, routes, tasks, commands),
with the queries and connections reachable from it through the call graph.

A finding of the lint is a site; the report adds the sites up per entry point. A query site
under ``k`` per-item loops, reached through ``j`` calls made once per item of a loop, costs
``O(N^(k+j))`` per call of the entry point; the entry point costs its worst site. Pure: it reads
the project index and the findings, never the code under check.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Set, Tuple

from querylint.project.contexts import path_context
from querylint.project.index import ProjectIndex
from querylint.project.requests import call_edges, entry_points, is_graphql_class, is_view_class
from querylint.run.config import Config
from querylint.types import Finding

# entry descriptions (``querylint.project.requests``) that are endpoints, and their kind
_KINDS = (
    ("request handler", "route"), ("view", "view"), ("task", "task"), ("GraphQL resolver", "graphql"),
    ("AWS Lambda handler", "lambda"), ("middleware", "middleware"), ("dependency", "dependency"),
)
# connection rules and what their sites mean for an endpoint
_CONNECTIONS = {"QL201": "per_call", "QL202": "per_item", "QL203": "not_released", "QL204": "not_released", "QL205": "held_across_slow_work"}
# per-item rules whose site is a direct query (counted out of the fixed query sites)
_DIRECT = frozenset({"QL101", "QL103", "QL104", "QL116", "QL124"})
MAX_POWER = 3


@dataclass
class Site:
    path: str
    line: int
    rule: str
    message: str
    loop_line: Optional[int] = None
    via: Tuple[str, ...] = ()  # function names from the entry point to the site's function
    power: int = 0  # N to this power per call of the entry point

    def as_dict(self) -> dict:
        return {"path": self.path, "line": self.line, "loop_line": self.loop_line, "rule": self.rule,
                "message": self.message, "via": list(self.via), "cost": cost_label(self.power)}


@dataclass
class Endpoint:
    name: str
    kind: str
    path: str
    line: Optional[int]
    route: Optional[str]
    qualname: str
    fixed_queries: int = 0
    per_item: List[Site] = field(default_factory=list)
    connections: Dict[str, List[Site]] = field(default_factory=dict)
    budget: Optional[str] = None  # the most it may cost (``[tool.querylint.report] budgets``)

    @property
    def over_budget(self) -> bool:
        return self.budget is not None and self.power > _power_of(self.budget)

    @property
    def power(self) -> int:
        return max((s.power for s in self.per_item), default=0)

    @property
    def cost(self) -> str:
        return cost_label(self.power)

    @property
    def connections_per_item(self) -> int:
        return len(self.connections.get("per_item", ()))

    def as_dict(self) -> dict:
        return {
            "name": self.name, "kind": self.kind, "path": self.path, "line": self.line, "route": self.route,
            "cost": self.cost,
            "queries": {"fixed": self.fixed_queries, "per_item": [s.as_dict() for s in self.per_item]},
            "connections": {k: [s.as_dict() for s in v] for k, v in sorted(self.connections.items())},
            "budget": self.budget, "over_budget": self.over_budget,
        }


def _power_of(cost: str) -> int:
    return {"O(1)": 0, "O(N)": 1, "O(N^2)": 2, "O(N^3)": 3}[cost]


def cost_label(power: int) -> str:
    return "O(1)" if power == 0 else "O(N)" if power == 1 else f"O(N^{min(power, MAX_POWER)})"


def build(index: ProjectIndex, config: Config, findings: Sequence[Finding], root: Path, routes: Optional[Dict[str, str]] = None) -> List[Endpoint]:
    """One entry per endpoint of the project, worst first."""
    by_function: Dict[str, List[Finding]] = {}
    spans: Dict[Path, List[Tuple[int, int, str]]] = {}
    for f in findings:
        key = f.function or _enclosing_class(root, index, f, spans)
        if key:
            by_function.setdefault(key, []).append(f)
    per_item_edges = _per_item_edges(index)
    routes = routes if routes is not None else route_map(index)
    serializers = _list_serializers(index)
    out = []
    for qual, (_why, kind) in sorted(_endpoints(index, config).items()):
        fn = index.functions[qual]
        starts = [qual] + _serializer_methods(index, serializers.get(fn.cls or ""), fn.name)
        ep = Endpoint(_display_name(qual), kind, fn.path, None, _route_of(fn, routes), qual)
        _add_sites(ep, index, _reach(index, starts, per_item_edges), by_function, ())
        out.append(ep)
    for cls_q, route in sorted(_view_classes(index, config, routes).items()):
        cls = index.classes[cls_q]
        # a routed view whose handlers it inherits (a ``ListView``, a ``ModelViewSet``): its own
        # and its project bases' methods, its list serializer's methods, its ``queryset``
        methods = [m.qualname for c in index.mro_classes(cls) for m in (index.find_method(c.qualname, n) for n in c.methods) if m is not None]
        starts = list(dict.fromkeys(methods + _serializer_methods(index, serializers.get(cls_q), "list")))
        kind = "graphql" if is_graphql_class(index, cls_q, config) else "view"
        ep = Endpoint(cls.name, kind, cls.path, None, route, cls_q)
        _add_sites(ep, index, _reach(index, starts, per_item_edges), by_function, (cls_q,))
        out.append(ep)
    _add_lines(out, index, root)
    budgets = dict(config.report_budgets)
    for ep in out:
        ep.budget = next((budgets[k] for k in (ep.route, ep.name, ep.qualname) if k in budgets), None)
    out.sort(key=sort_key)
    return out


def _view_classes(index: ProjectIndex, config: Config, routes: Dict[str, str]) -> Dict[str, Optional[str]]:
    """{class: its route or None}: the routed classes, and every concrete class-based view or
    GraphQL mutation (one no project class derives from: netbox's views wired by a registry
    decorator, not urls.py; saleor's mutations, whose base's ``mutate`` calls their
    ``perform_mutation``)."""
    out: Dict[str, Optional[str]] = {q: r for q, r in routes.items() if q in index.classes}
    parents: Set[str] = set()
    for cls in index.classes.values():
        for base in cls.bases:
            hit = index.resolve_class(base, cls.module)
            if hit is not None:
                parents.add(hit.qualname)
    for q, cls in index.classes.items():
        if q not in out and q not in parents and path_context(cls.path, config) != "test" and (
                is_view_class(index, q, config) or is_graphql_class(index, q, config)):
            out[q] = None  # (a GraphQL mutation's resolver is often a base class method calling the subclass's)
    # a view that defines its handlers itself is already there, one endpoint per handler
    return {q: r for q, r in out.items() if not any(m in _HANDLERS or m.startswith("resolve_") for m in index.classes[q].methods)}


_HANDLERS = frozenset({"get", "post", "put", "patch", "delete", "dispatch", "mutate", "mutate_and_get_payload"})


def _add_sites(ep: Endpoint, index: ProjectIndex, reach, by_function: Dict[str, List[Finding]], own: Tuple[str, ...]) -> None:
    """The findings in every function the endpoint reaches (and in its class body: ``own``)."""
    sites = 0
    seen: Set[Tuple[str, int, str]] = set()
    for q, (power, path) in sorted(reach.items()):
        sites += len(index.direct_queries.get(q, ()))
        for f in by_function.get(q, ()):
            _add_site(ep, f, power, tuple(_display_name(p) for p in path), seen)
    for q in own:
        for f in by_function.get(q, ()):
            _add_site(ep, f, 0, (_display_name(q),), seen)
    ep.fixed_queries = max(0, sites - sum(1 for s in ep.per_item if s.rule in _DIRECT))


def _add_site(ep: Endpoint, f: Finding, power: int, via: Tuple[str, ...], seen: Set[Tuple[str, int, str]]) -> None:
    if (f.path, f.span.line, f.rule) in seen:
        return
    seen.add((f.path, f.span.line, f.rule))
    site = Site(f.path, f.span.line, f.rule, f.message, f.loop_line, via, power + f.loop_depth)
    if f.rule in _CONNECTIONS:
        ep.connections.setdefault("per_item" if f.loop_depth else _CONNECTIONS[f.rule], []).append(site)
    elif f.rule.startswith("QL1") and (f.loop_depth or f.rule in ("QL118", "QL119")):
        site.power = max(site.power, 1)  # a serializer's method runs once per object of the list
        ep.per_item.append(site)


def _list_serializers(index: ProjectIndex) -> Dict[str, str]:
    """{DRF view class: the serializer its list uses}."""
    from querylint.frameworks.django.drf import drf_info  # Django's serializers, when the project has them

    return dict(drf_info(index).views)


def _serializer_methods(index: ProjectIndex, serializer: Optional[str], handler: str) -> List[str]:
    """The methods of a list view's serializer (and its bases) that run per object: for its
    ``list`` (and ``get``) handler only."""
    cls = index.classes.get(serializer or "")
    if cls is None or handler not in ("list", "get"):
        return []
    return [m.qualname for c in index.mro_classes(cls) for m in (index.find_method(c.qualname, n) for n in c.methods) if m is not None]


def _enclosing_class(root: Path, index: ProjectIndex, f: Finding, spans: Dict[Path, List[Tuple[int, int, str]]]) -> Optional[str]:
    """The class whose body holds a finding made outside any function (QL119 on a view's
    ``queryset = ...``), by qualified name."""
    if f.rule != "QL119":
        return None
    facts = next((ff for ff in index.files.values() if f.path.endswith(ff.path)), None)
    if facts is None:
        return None
    path = root / facts.path
    if path not in spans:
        try:
            tree = ast.parse(path.read_bytes())
        except (OSError, SyntaxError, ValueError):
            tree = ast.Module(body=[], type_ignores=[])
        spans[path] = [(n.lineno, n.end_lineno or n.lineno, n.name) for n in tree.body if isinstance(n, ast.ClassDef)]
    for start, stop, name in spans[path]:
        if start <= f.span.line <= stop:
            return f"{facts.module}.{name}"
    return None


def sort_key(e: Endpoint):
    """Worst first: cost, then connections per item, other connection problems, per-item sites."""
    return (-e.power, -e.connections_per_item, -len(e.connections), -len(e.per_item), e.path, e.line or 0, e.name)


def _endpoints(index: ProjectIndex, config: Config) -> Dict[str, Tuple[str, str]]:
    """{qualname: (why, kind)}: entry points that are endpoints, and management commands."""
    out: Dict[str, Tuple[str, str]] = {}
    for q, why in entry_points(index, config).items():
        if path_context(index.functions[q].path, config) == "test":
            continue  # a view in a test module serves the test, not users
        if "__init__" in why or "(called per request)" in why or "runs per object" in why or why.startswith("form "):
            continue  # parts of a view, not endpoints
        for prefix, kind in _KINDS:
            if why.startswith(prefix):
                out[q] = (why, kind)
                break
    for q, fn in index.functions.items():
        if fn.name == "handle" and fn.cls is not None and path_context(fn.path, config) == "command":
            out.setdefault(q, (f"command `{fn.path}`", "command"))
    return out


# the HTTP method a class-based view's or viewset's handler answers
_METHOD_OF = {
    "get": "GET", "post": "POST", "put": "PUT", "patch": "PATCH", "delete": "DELETE", "head": "HEAD",
    "list": "GET", "create": "POST", "retrieve": "GET", "update": "PUT", "partial_update": "PATCH", "destroy": "DELETE",
}
_DETAIL = frozenset({"retrieve", "update", "partial_update", "destroy"})


def route_map(index: ProjectIndex) -> Dict[str, str]:
    """{function or class qualname: route as registered} from every file's route facts, under the
    prefixes of the ``include()`` chain that mounts its ``urls.py`` (``api/`` + ``orders/``)."""
    out: Dict[str, str] = {}
    mounts: Dict[str, Tuple[str, str]] = {}  # module -> (prefix, the module including it)
    for facts in index.files.values():
        for prefix, module in facts.url_includes:
            mounts.setdefault(module, (prefix, facts.module))
    for facts in index.files.values():
        mount = _mount_prefix(facts.module, mounts)
        for name, route in facts.route_paths:
            if mount:
                route = mount + (route[1:] if route.startswith("^") and mount.endswith(("/", "$")) else route)
            fn = index.resolve_function(name)
            cls = index.classes.get(name) or (index.resolve_class(name, facts.module) if fn is None else None)
            key = fn.qualname if fn is not None else cls.qualname if cls is not None else name
            out.setdefault(key, route)
    return out


def _mount_prefix(module: str, mounts: Dict[str, Tuple[str, str]]) -> str:
    prefix = ""
    seen = {module}
    while module in mounts and len(seen) < 8:
        p, module = mounts[module]
        if module in seen:
            break
        seen.add(module)
        prefix = (p[:-1] if p.endswith("$") else p) + (prefix[1:] if prefix.startswith("^") else prefix)
    return prefix


def _route_of(fn, routes: Dict[str, str]) -> Optional[str]:
    """The function's own route, or its class's with the handler's method (``GET orders/``,
    ``PUT books/{pk}`` for a viewset's ``update``)."""
    own = routes.get(fn.qualname)
    if own is not None or fn.cls is None:
        return own
    route = routes.get(fn.cls)
    if route is None:
        return None
    method = _METHOD_OF.get(fn.name)
    if fn.name in _DETAIL:
        route = route.rstrip("/") + "/{pk}/"
    if method is None or route.split(" ", 1)[0].isupper():
        return route if method is not None else f"{route} ({fn.name})"
    return f"{method} {route}"


def _per_item_edges(index: ProjectIndex) -> Dict[str, Set[str]]:
    """{caller: callees it calls once per item of a loop}."""
    out: Dict[str, Set[str]] = {}
    for q, fn in index.functions.items():
        for target, _kind, _pos, _kw in fn.loop_calls:
            hit = index.resolve_function(target, fn)
            if hit is not None:
                out.setdefault(q, set()).add(hit.qualname)
    return out


def _reach(index: ProjectIndex, entries: Sequence[str], per_item: Dict[str, Set[str]]) -> Dict[str, Tuple[int, Tuple[str, ...]]]:
    """Every function reachable from ``entries``: (the most calls made per item on a path to it,
    capped, and that path). Each function is revisited only when a path with more per-item
    calls reaches it, so the walk is linear in the call graph."""
    best: Dict[str, Tuple[int, Tuple[str, ...]]] = {e: (0, (e,)) for e in entries if e in index.functions}
    todo = list(best)
    while todo:
        current = todo.pop()
        power, path = best[current]
        for callee in call_edges(index, current):
            p = min(MAX_POWER, power + (1 if callee in per_item.get(current, ()) else 0))
            if callee not in best or best[callee][0] < p:
                best[callee] = (p, path + (callee,))
                todo.append(callee)
    return best


def _display_name(qualname: str) -> str:
    """``ShopView.post`` / ``checkout``: the class and function, without the module."""
    parts = qualname.split(".")
    return ".".join(parts[-2:]) if len(parts) > 2 and parts[-2][:1].isupper() else parts[-1]


def _add_lines(endpoints: List[Endpoint], index: ProjectIndex, root: Path) -> None:
    """The line of each endpoint's ``def`` (or ``class``), read with ``ast`` from its file (one
    parse per file)."""
    by_path: Dict[str, List[Endpoint]] = {}
    for ep in endpoints:
        by_path.setdefault(ep.path, []).append(ep)
    for relpath, eps in by_path.items():
        lines = _def_lines(root / relpath)
        for ep in eps:
            owner = index.functions.get(ep.qualname) or index.classes.get(ep.qualname)
            if owner is not None:
                ep.line = lines.get(ep.qualname[len(owner.module) + 1:])


def _def_lines(path: Path) -> Dict[str, int]:
    try:
        tree = ast.parse(path.read_bytes())
    except (OSError, SyntaxError, ValueError):
        return {}
    out: Dict[str, int] = {}

    def walk(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{prefix}{child.name}"
                out.setdefault(name, child.lineno)
                walk(child, name + ".")

    walk(tree, "")
    return out


# --------------------------------------------------------------------------- output


def summary(endpoints: Sequence[Endpoint]) -> dict:
    by_cost: Dict[str, int] = {}
    for ep in endpoints:
        by_cost[ep.cost] = by_cost.get(ep.cost, 0) + 1
    return {
        "endpoints": len(endpoints),
        "by_cost": dict(sorted(by_cost.items())),
        "with_connections_per_item": sum(1 for ep in endpoints if ep.connections_per_item),
        "with_connections_not_released": sum(1 for ep in endpoints if ep.connections.get("not_released")),
        "over_budget": sum(1 for ep in endpoints if ep.over_budget),
    }


def format_json(endpoints: Sequence[Endpoint], version: str) -> str:
    import json

    doc = {"version": version, "endpoints": [ep.as_dict() for ep in endpoints], "summary": summary(endpoints)}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def _title(ep: Endpoint) -> str:
    return f"{ep.route}  {ep.name}" if ep.route else ep.name


def _connection_words(ep: Endpoint) -> str:
    parts = []
    for key, word in (("per_item", "per item"), ("per_call", "per call"), ("not_released", "not released"), ("held_across_slow_work", "held across slow work")):
        n = len(ep.connections.get(key, ()))
        if n:
            parts.append(f"{n} {word}")
    return ", ".join(parts) or "-"


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def format_text(endpoints: Sequence[Endpoint]) -> str:
    """A table, worst first, each costly endpoint followed by its per-item sites."""
    if not endpoints:
        return "No endpoints found (views, routes, tasks or commands querylint recognises).\n"
    rows = [(ep.cost, str(ep.fixed_queries), _connection_words(ep), ep.kind, _clip(_title(ep), 70), f"{ep.path}:{ep.line or '?'}") for ep in endpoints]
    head = ("cost", "fixed", "connections", "kind", "endpoint", "where")
    widths = [max(len(r[i]) for r in rows + [head]) for i in range(len(head) - 1)]
    out = ["  ".join(h.ljust(w) for h, w in zip(head, widths)) + "  " + head[-1]]
    for ep, row in zip(endpoints, rows):
        out.append("  ".join(c.ljust(w) for c, w in zip(row, widths)) + "  " + row[-1])
        for site in ep.per_item + [s for key in ("per_item", "per_call", "not_released") for s in ep.connections.get(key, ())]:
            loop = f" (loop at line {site.loop_line})" if site.loop_line else ""
            via = " -> ".join(site.via)
            out.append(f"    {cost_label(site.power) if site in ep.per_item else 'conn':<7} {site.path}:{site.line} {site.rule}{loop} via {via}")
    s = summary(endpoints)
    counts = ", ".join(f"{n} {c}" for c, n in s["by_cost"].items())
    out.append(f"\n{s['endpoints']} endpoints: {counts}; {s['with_connections_per_item']} open a connection per item.")
    out += [f"over budget: {_title(ep)} costs {ep.cost}, its budget is {ep.budget}" for ep in endpoints if ep.over_budget]
    return "\n".join(out) + "\n"


def format_markdown(endpoints: Sequence[Endpoint]) -> str:
    """For a pull-request comment or ``$GITHUB_STEP_SUMMARY``: the costly endpoints, then a count."""
    s = summary(endpoints)
    costly = [ep for ep in endpoints if ep.power or ep.connections]
    out = ["## querylint: query cost per endpoint", ""]
    counts = ", ".join(f"{n} {c}" for c, n in s["by_cost"].items())
    out.append(f"{s['endpoints']} endpoints: {counts}.")
    over = [ep for ep in endpoints if ep.over_budget]
    if over:
        out += ["", "### Over budget", ""] + [f"- `{_title(ep)}` costs {ep.cost}, its budget is {ep.budget}" for ep in over]
    if costly:
        out += ["", "| endpoint | kind | queries | fixed | connections | where |", "| --- | --- | --- | --- | --- | --- |"]
        for ep in costly:
            out.append(f"| `{_title(ep)}` | {ep.kind} | {ep.cost} | {ep.fixed_queries} | {_connection_words(ep)} | `{ep.path}:{ep.line or '?'}` |")
        out.append("")
        for ep in costly:
            if not ep.per_item:
                continue
            out.append(f"- `{_title(ep)}`: " + "; ".join(
                f"{cost_label(site.power)} at `{site.path}:{site.line}` ({site.rule}, via `{' -> '.join(site.via)}`)" for site in ep.per_item[:5]
            ) + (f"; and {len(ep.per_item) - 5} more" if len(ep.per_item) > 5 else ""))
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- the delta


@dataclass
class Change:
    """An endpoint whose cost or connections differ between the base and the working tree."""

    endpoint: Endpoint  # the working tree's (the base's when the endpoint is gone)
    before: Optional[dict]
    after: Optional[dict]
    why: List[Site]  # sites the change added (per item or connections)

    @property
    def regression(self) -> bool:
        b, a = self.before or _NOTHING, self.after or _NOTHING
        return a["power"] > b["power"] or any(a[k] > b[k] for k in _CONNECTION_KEYS)

    def as_dict(self) -> dict:
        def public(d: Optional[dict]) -> Optional[dict]:
            return None if d is None else {k: v for k, v in d.items() if k != "power"}

        ep = self.endpoint
        return {"endpoint": ep.name, "kind": ep.kind, "route": ep.route, "path": ep.path, "line": ep.line,
                "before": public(self.before), "after": public(self.after), "regression": self.regression,
                "why": [s.as_dict() for s in self.why]}


_CONNECTION_KEYS = ("connections_per_item", "connections_per_call", "connections_not_released")
_NOTHING = {"power": 0, **{k: 0 for k in _CONNECTION_KEYS}}


def state(ep: Endpoint) -> dict:
    """What the delta compares: the cost and the connection counts."""
    return {
        "cost": ep.cost, "power": ep.power, "queries_per_item": len(ep.per_item), "fixed_queries": ep.fixed_queries,
        "connections_per_item": len(ep.connections.get("per_item", ())),
        "connections_per_call": len(ep.connections.get("per_call", ())),
        "connections_not_released": len(ep.connections.get("not_released", ())),
    }


def _site_key(s: Site) -> Tuple[str, str, Tuple[str, ...]]:
    return (s.rule, s.path, s.via)  # not the line: code above it moves


def compare(before: Sequence[Endpoint], after: Sequence[Endpoint]) -> List[Change]:
    """Endpoints whose cost or connections changed, regressions first."""
    old = {ep.qualname: ep for ep in before}
    new = {ep.qualname: ep for ep in after}
    out = []
    for q in sorted(set(old) | set(new)):
        b, a = old.get(q), new.get(q)
        sb, sa = (state(b) if b else None), (state(a) if a else None)
        x, y = sb or _NOTHING, sa or _NOTHING
        if x["power"] == y["power"] and all(x[k] == y[k] for k in _CONNECTION_KEYS):
            continue
        had = {_site_key(s) for s in (b.per_item + [c for v in b.connections.values() for c in v] if b else [])}
        why = [s for s in (a.per_item + [c for v in a.connections.values() for c in v] if a else []) if _site_key(s) not in had]
        out.append(Change(a or b, sb, sa, why))  # type: ignore[arg-type]  # one of them is set
    out.sort(key=lambda c: (not c.regression, sort_key(c.endpoint)))
    return out


def format_delta_json(changes: Sequence[Change], base: str, version: str) -> str:
    import json

    doc = {"version": version, "base": base, "changes": [c.as_dict() for c in changes],
           "summary": {"changed": len(changes), "regressions": sum(1 for c in changes if c.regression)}}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def _delta_line(c: Change) -> str:
    b, a = c.before or _NOTHING, c.after or _NOTHING
    parts = []
    if b["power"] != a["power"] or c.before is None or c.after is None:
        via = next((s for s in c.why if s in c.endpoint.per_item), None)
        extra = ""
        if via is not None:
            added = sum(1 for s in c.why if s in c.endpoint.per_item)
            extra = f" (+{added} per item, via `{' -> '.join(via.via)}` at `{via.path}:{via.line}`)"
        parts.append(f"{cost_label(b['power'])} -> {cost_label(a['power'])} queries{extra}")
    for key, word in (("connections_per_item", "connections per item"), ("connections_per_call", "connections per call"), ("connections_not_released", "connections not released")):
        if b[key] != a[key]:
            site = next((s for s in c.why if s.rule in _CONNECTIONS), None)
            where = f" (`{site.rule}` at `{site.path}:{site.line}`)" if site is not None else ""
            parts.append(f"{word} {b[key]} -> {a[key]}{where}")
    gone = " (removed)" if c.after is None else " (new)" if c.before is None else ""
    return f"`{_title(c.endpoint)}`{gone}: " + ", ".join(parts)


def format_delta_text(changes: Sequence[Change], base: str) -> str:
    if not changes:
        return f"No endpoint's query cost or connections changed since {base[:12]}.\n"
    out = [f"Endpoints whose query cost or connections changed since {base[:12]}:"]
    for c in changes:
        out.append(("  regression  " if c.regression else "  improved    ") + _delta_line(c).replace("`", ""))
    return "\n".join(out) + "\n"


def format_delta_markdown(changes: Sequence[Change], base: str) -> str:
    out = ["## querylint: query cost changes", ""]
    if not changes:
        return "\n".join(out + [f"No endpoint's query cost or connections changed since `{base[:12]}`."]) + "\n"
    worse = [c for c in changes if c.regression]
    better = [c for c in changes if not c.regression]
    if worse:
        out += [f"### {len(worse)} regression{'s' if len(worse) != 1 else ''}", ""] + [f"- {_delta_line(c)}" for c in worse] + [""]
    if better:
        out += ["### Improved", ""] + [f"- {_delta_line(c)}" for c in better] + [""]
    return "\n".join(out)
