"""The N+1 queries of templates: walk each rendered template with what its view hands it.

For every :class:`Render` (a view rendering ``shop/orders.html`` with ``orders`` bound to
``Order.objects.all()``) the template is walked as the engine would render it: ``{% extends %}``
parents with the child's blocks, ``{% include %}`` with the current names (``with``/``only``),
Jinja2 macros called with arguments, ``{% for %}`` over rows binding one object per row. A
read inside a per-row loop is a problem when it loads something the view's query did not:

- a relation (``order.customer.name``, Jinja2 ``order.items``), reported with the relation path
  to load on the view's query (``select_related``/``prefetch_related`` or loader options);
- a related manager's query (``order.items.all``, ``order.items.count``), unless prefetched;
- a model member whose body queries (``order.total_paid`` -> ``self.payments.aggregate(...)``).

Silent: prefetched and selected relations, ``_id`` columns and plain fields, ``values()`` rows,
names no view binds, loops over anything that is not rows of a model, and ``{% cache %}``
fragments (their queries run on a cache miss only). One finding per relation per loop.

Bounded: includes and parents nest at most :data:`MAX_NESTING` deep, and a template that includes
itself is walked once per chain.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Dict, FrozenSet, List, Optional, Sequence, Tuple

from querylint.templates.model import ONE, ROWS, Bound, Member, Render
from querylint.templates.parse import Ref, Tag, Template, Var, assignments, names_of, refs, split_top, string_literals

MAX_NESTING = 12
MAX_STEPS = 200_000  # tags and outputs walked for one render: includes that fan out cannot multiply without bound


class WalkTooLong(Exception):
    """A render's walk passed :data:`MAX_STEPS` (reported as a limit, the run goes on)."""
_PASS_THROUGH_ROWS = {"object_list", "items", "all", "iterator"}  # page.object_list, page.items, rows.all


@dataclass(frozen=True)
class Loop:
    line: int
    path: str  # template file (relpath) of the loop tag
    what: str  # "the loop over `orders`"

    def label(self, here: str, show: Callable[[str], str]) -> str:
        """"the loop over `orders` (line 4)", with the file when it is another template."""
        return f"{self.what} (line {self.line})" if here == self.path else f"{self.what} ({show(self.path)}:{self.line})"


@dataclass(frozen=True)
class Val:
    """What a template name holds while walking."""

    bound: Bound  # the view's binding it comes from
    kind: str  # "rows", "one", "manager", "group", "groups"
    model: Optional[str]
    path: Tuple[str, ...] = ()  # relation names from the bound model
    loaded: FrozenSet[str] = frozenset()  # loaded relation paths, relative to ``model``
    loop: Optional[Loop] = None  # for "one": the loop that makes it one object per row
    covered: bool = False  # for "manager": served from the prefetch cache
    member: Optional[Member] = None  # for "manager"
    grouper: Optional["Val"] = None  # for "group"/"groups" (``{% regroup %}``)
    owner: Optional["Val"] = None  # for rows of a relation: the object they belong to
    back: Optional[str] = None  # ... and the attribute of a row that leads back to it (loaded)


@dataclass
class Problem:
    """A finding in the making (the engine turns it into a :class:`Finding`)."""

    path: str  # template relpath
    line: int
    column: int
    length: int
    pattern: str  # "lazy-relation" / "member-query"
    orm: str
    message: str
    fix: str
    view: str
    view_path: str  # the view's file (relative to the project; as reports show it once selected)
    notes: Tuple[str, ...] = ()
    edits: Tuple[Tuple[int, int, str], ...] = ()  # (line, column, text) to insert in the view's file


@dataclass
class TemplateFile:
    relpath: str
    template: Template


class Library:
    """The project's templates by the names views and ``{% include %}`` use."""

    def __init__(self, files: Sequence[TemplateFile], folders: Sequence[str]):
        self.files = {f.relpath: f for f in files}
        self.by_name: Dict[str, List[str]] = {}
        for f in files:
            for name in template_names(f.relpath, folders):
                self.by_name.setdefault(name, []).append(f.relpath)

    def find(self, name: str) -> Optional[TemplateFile]:
        hits = self.by_name.get(name.lstrip("/"))
        if not hits or len(set(hits)) != 1:
            return None  # unknown, or several files answer to it: which one renders is not clear
        return self.files[hits[0]]

    def first(self, names: Sequence[str]) -> Optional[TemplateFile]:
        """Django's ``select_template``: the first name that exists."""
        for n in names:
            if self.by_name.get(n.lstrip("/")):
                return self.find(n)
        return None


def template_names(relpath: str, folders: Sequence[str]) -> List[str]:
    """The names a template answers to: its path below each template folder in its path."""
    parts = relpath.split("/")
    return ["/".join(parts[i + 1:]) for i, p in enumerate(parts[:-1]) if p in folders]


@dataclass
class _Walk:
    render: Render
    library: Library
    index: Any
    adapters: Dict[str, Any]
    problems: List[Problem]
    show: Callable[[str], str]  # a project path as the reports show it
    seen: set = field(default_factory=set)
    steps: int = 0  # (loop, bound name, relation path): one finding each
    depth: int = 0
    macros: Dict[str, Tuple[Tuple[str, ...], List[Any], str]] = field(default_factory=dict)


def analyze(
    renders: Sequence[Render], library: Library, index: Any, adapters: Dict[str, Any], show: Callable[[str], str] = str,
    crashed: Optional[Callable[[str, Render, BaseException], None]] = None,
) -> List[Problem]:
    """The problems of every template the ``renders`` reach (``show`` turns a project path into
    the path reports use). A walk that fails is handed to ``crashed`` (template relpath, the
    render, the error) and the others go on."""
    problems: List[Problem] = []
    for r in renders:
        if not r.bindings:
            continue
        tf = library.first(r.templates)
        if tf is None:
            continue
        w = _Walk(r, library, index, adapters, problems, show)
        scope: Dict[str, Val] = {}
        for b in r.bindings:
            scope[b.name] = Val(b, ROWS if b.kind == ROWS else ONE, b.model, (), b.loaded)
        try:
            _render(w, tf, scope, {})
        except Exception as exc:  # a bug in the walk: reported, never the end of the run
            if crashed is None:
                raise
            crashed(tf.relpath, r, exc)
    return problems


# ------------------------------------------------------------------------------------ walking


def _render(w: _Walk, tf: TemplateFile, scope: Dict[str, Val], blocks: Dict[str, Tuple[List[Any], str]]) -> None:
    """Render ``tf`` (its ``{% extends %}`` chain first: the parent's layout with the child's blocks)."""
    if w.depth >= MAX_NESTING:
        return
    parent = _extends(tf.template)
    if parent is not None:
        p = w.library.find(parent)
        if p is None or p.relpath == tf.relpath:
            return
        merged = dict(_blocks(tf.template.items, tf.relpath))
        merged.update(blocks)  # the child's own blocks win over this template's
        w.depth += 1
        try:
            _collect_macros(w, tf)
            _render(w, p, scope, merged)
        finally:
            w.depth -= 1
        return
    _collect_macros(w, tf)
    _items(w, tf.template.items, tf.relpath, scope, blocks)


def _extends(t: Template) -> Optional[str]:
    for it in t.items:
        if isinstance(it, Tag) and it.name == "extends":
            names = string_literals(it.args)
            return names[0] if names else None
    return None


def _blocks(items: List[Any], relpath: str) -> Dict[str, Tuple[List[Any], str]]:
    out: Dict[str, Tuple[List[Any], str]] = {}
    for it in items:
        if isinstance(it, Tag) and it.body is not None:
            if it.name == "block":
                out.setdefault(it.args.split()[0] if it.args else "", (it.body, relpath))
            out.update({k: v for k, v in _blocks(it.body, relpath).items() if k not in out})
            for br in it.branches:
                out.update({k: v for k, v in _blocks(br.body or [], relpath).items() if k not in out})
    return out


def _collect_macros(w: _Walk, tf: TemplateFile, prefix: str = "", only: Optional[Dict[str, str]] = None) -> None:
    """The macros ``tf`` defines (named ``prefix + name``; ``only``: {name: alias} of a
    ``{% from ... import %}``), and those it imports from other templates."""
    for it in tf.template.items:
        if not isinstance(it, Tag):
            continue
        if it.name == "macro" and it.body is not None:
            m = re.match(r"\s*([A-Za-z_]\w*)\s*\((.*)\)\s*$", it.args, re.DOTALL)
            if m and (only is None or m.group(1) in only):
                params = tuple(p.split("=")[0].strip() for p in _split_commas(m.group(2)) if p.strip())
                name = only[m.group(1)] if only is not None else m.group(1)
                w.macros.setdefault(prefix + name, (params, it.body, tf.relpath))
        elif it.name in ("import", "from") and not prefix and only is None:
            _import_macros(w, it)


def _import_macros(w: _Walk, it: Tag) -> None:
    """``{% import "macros.html" as m %}`` (calls ``m.row(o)``) and ``{% from "macros.html" import
    row, cell as c %}``."""
    names = string_literals(it.args)
    source = w.library.find(names[0]) if names else None
    if source is None:
        return
    if it.name == "import":
        m = re.search(r"\bas\s+([A-Za-z_]\w*)", it.args)
        if m:
            _collect_macros(w, source, prefix=m.group(1) + ".")
        return
    m = re.search(r"\bimport\s+(.*?)(?:\s+with(?:out)?\s+context)?\s*$", it.args, re.DOTALL)
    if m:
        only = {}
        for part in m.group(1).split(","):
            bits = part.split()
            if bits:
                only[bits[0]] = bits[2] if len(bits) == 3 and bits[1] == "as" else bits[0]
        _collect_macros(w, source, only=only)


def _items(w: _Walk, items: List[Any], relpath: str, scope: Dict[str, Val], blocks: Dict[str, Tuple[List[Any], str]]) -> None:
    w.steps += len(items)
    if w.steps > MAX_STEPS:
        raise WalkTooLong(f"the walk of this template as {w.render.view} renders it stopped after {MAX_STEPS} tags (includes that fan out)")
    for it in items:
        if isinstance(it, Var):
            _expression(w, it.expr, it.line, it.column, relpath, scope)
        elif isinstance(it, Tag):
            _tag(w, it, relpath, scope, blocks)


def _expression(w: _Walk, expr: str, line: int, column: int, relpath: str, scope: Dict[str, Val]) -> None:
    call = re.match(r"\s*([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)?)\s*\((.*)\)\s*$", expr, re.DOTALL)
    if call and call.group(1) in w.macros and call.group(1).split(".")[0] not in scope:
        _call_macro(w, call.group(1), call.group(2), line, column + call.start(2), relpath, scope)
        return
    for ref in refs(expr, line, column):
        _read(w, ref, relpath, scope)


def _call_macro(w: _Walk, name: str, args: str, line: int, column: int, relpath: str, scope: Dict[str, Val]) -> None:
    params, body, mpath = w.macros[name]
    inner: Dict[str, Val] = {}
    for i, part in enumerate(_split_commas(args)):
        key, value = (part.split("=", 1) if re.match(r"\s*[A-Za-z_]\w*\s*=[^=]", part) else (None, part))
        target = key.strip() if key else (params[i] if i < len(params) else None)
        rs = refs(value, line, column)
        v = _read(w, rs[0], relpath, scope) if len(rs) == 1 else None
        for r in rs[1:] if len(rs) != 1 else ():
            _read(w, r, relpath, scope)
        if target and v is not None:
            inner[target] = v
    if w.depth >= MAX_NESTING or (name, mpath) in w.seen:
        return
    w.seen.add((name, mpath))
    w.depth += 1
    try:
        _items(w, body, mpath, inner, {})
    finally:
        w.depth -= 1
        w.seen.discard((name, mpath))


def _split_commas(text: str) -> List[str]:
    out: List[str] = []
    cur: List[str] = []
    depth, quote = 0, ""
    for c in text:
        if quote:
            quote = "" if c == quote else quote
        elif c in "\"'":
            quote = c
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == "," and depth == 0:
            out.append("".join(cur))
            cur = []
            continue
        cur.append(c)
    if "".join(cur).strip():
        out.append("".join(cur))
    return out


def _tag(w: _Walk, t: Tag, relpath: str, scope: Dict[str, Val], blocks: Dict[str, Tuple[List[Any], str]]) -> None:
    n = t.name
    if n == "for" and t.body is not None:
        _for(w, t, relpath, scope, blocks)
        return
    if n == "cache":
        return  # a cached fragment queries on a cache miss only
    if n == "block":
        name = t.args.split()[0] if t.args else ""
        body, where = blocks.get(name, (t.body or [], relpath))
        _items(w, body, where, scope, blocks)
        return
    if n == "include":
        _include(w, t, relpath, scope)
        return
    if n in ("with", "set", "blocktrans", "blocktranslate"):
        inner = dict(scope)
        args = t.args
        if n in ("blocktrans", "blocktranslate"):
            m = re.search(r"(?:^|\s)(?:with|count)\s+(.*)$", args, re.DOTALL)
            args = m.group(1) if m else ""
        old = split_top(args, "as") if n == "with" else None
        pairs = [(old[1].strip(), old[0], 0)] if old and "=" not in args else assignments(args)
        for name, expr, off in pairs:
            rs = refs(expr, t.line, t.column + off)
            v = _read(w, rs[0], relpath, scope) if rs else None
            for r in rs[1:]:
                _read(w, r, relpath, scope)
            if v is not None and len(rs) == 1 and not rs[0].filters:
                inner[name] = v
            else:
                inner.pop(name, None)
        if n == "set" and t.body is None:
            scope.clear()
            scope.update(inner)  # Jinja2 ``{% set %}`` binds in the current scope
            return
        _items(w, t.body or [], relpath, inner, blocks)
        return
    if n == "regroup":
        _regroup(w, t, relpath, scope)
        return
    if n == "call":
        _expression(w, t.args, t.line, t.column, relpath, scope)  # ``{% call row(o) %}``: the macro runs
    elif n in ("if", "elif", "url", "firstof", "cycle", "filter", "now"):
        for r in refs(t.args if n != "url" else _url_args(t.args), t.line, t.column):
            _read(w, r, relpath, scope)
    if n == "macro":
        return  # walked where it is called
    if t.body is not None:
        _items(w, t.body, relpath, scope, blocks)
    for br in t.branches:
        if br.name in ("elif", "elseif"):
            for r in refs(br.args, br.line, br.column):
                _read(w, r, relpath, scope)
        _items(w, br.body or [], relpath, scope, blocks)


def _url_args(args: str) -> str:
    """``'shop:order' order.pk as link``: the arguments after the view name."""
    head = re.match(r"\s*(\"[^\"]*\"|'[^']*'|\S+)", args)
    rest = args[head.end():] if head else args
    rest = re.split(r"\sas\s", rest)[0]
    return " " * (len(args) - len(rest)) + rest if head else rest


def _for(w: _Walk, t: Tag, relpath: str, scope: Dict[str, Val], blocks: Dict[str, Tuple[List[Any], str]]) -> None:
    parts = split_top(t.args, "in")
    inner = dict(scope)
    if parts is not None:
        target, iterable, off = parts
        condition = split_top(iterable, "if")  # Jinja2 ``for x in xs if x.ok``
        if condition is not None:
            iterable = condition[0]
        iterable = re.sub(r"\s+(reversed|recursive)\s*$", "", iterable)
        rs = refs(iterable, t.line, t.column + off)
        v = _read(w, rs[0], relpath, scope) if rs else None
        for r in rs[1:]:
            _read(w, r, relpath, scope)
        names = names_of(target)
        for nm in names:
            inner.pop(nm, None)
        if v is not None and len(names) == 1 and v.kind in ("rows", "groups"):
            loop = Loop(t.line, relpath, f"the loop over `{rs[0].text}`")
            if v.kind == "rows":
                inner[names[0]] = replace(v, kind="one", loop=loop)
            else:
                inner[names[0]] = replace(v, kind="group", loop=loop)
        if condition is not None:
            for r in refs(condition[1], t.line, t.column + off + len(condition[0])):
                _read(w, r, relpath, inner)
    _items(w, t.body or [], relpath, inner, blocks)
    for br in t.branches:
        _items(w, br.body or [], relpath, scope, blocks)


def _include(w: _Walk, t: Tag, relpath: str, scope: Dict[str, Val]) -> None:
    head = re.match(r"\s*(\"[^\"]*\"|'[^']*'|\[[^\]]*\])", t.args)
    if head is None:
        return  # a name in a variable: unknown
    names = string_literals(head.group(1))
    rest = t.args[head.end():]
    inner: Dict[str, Val] = {} if re.search(r"\bonly\b|\bwithout\s+context\b", rest) else dict(scope)
    m = re.search(r"\bwith\b(?!\s+context)(.*?)(\bonly\b|$)", rest, re.DOTALL)
    if m:
        base = t.column + head.end() + m.start(1)
        for name, expr, off in assignments(m.group(1)):
            rs = refs(expr, t.line, base + off)
            v = _read(w, rs[0], relpath, scope) if rs else None
            if v is not None and len(rs) == 1 and not rs[0].filters:
                inner[name] = v
    tf = w.library.first(names)
    if tf is None or w.depth >= MAX_NESTING or ("include", tf.relpath) in w.seen:
        return
    w.seen.add(("include", tf.relpath))
    w.depth += 1
    try:
        _render(w, tf, inner, {})
    finally:
        w.depth -= 1
        w.seen.discard(("include", tf.relpath))


def _regroup(w: _Walk, t: Tag, relpath: str, scope: Dict[str, Val]) -> None:
    """``{% regroup orders by customer as groups %}``: reads ``customer`` of every row."""
    m = re.match(r"\s*(\S+)\s+by\s+(\S+)\s+as\s+([A-Za-z_]\w*)\s*$", t.args)
    if m is None:
        return
    rs = refs(m.group(1), t.line, t.column)
    v = _read(w, rs[0], relpath, scope) if rs else None
    scope.pop(m.group(3), None)
    if v is None or v.kind != "rows":
        return
    loop = Loop(t.line, relpath, f"the regroup of `{rs[0].text}`")
    row = replace(v, kind="one", loop=loop)
    by = refs("x." + m.group(2), t.line, t.column + m.start(2) - 2)
    grouper = None
    if by:
        grouper = _steps(w, Ref(by[0].parts[1:], t.line, t.column + m.start(2)), row, relpath, 0)
    scope[m.group(3)] = replace(v, kind="groups", grouper=grouper)


# ------------------------------------------------------------------------------------ reads


def _read(w: _Walk, ref: Ref, relpath: str, scope: Dict[str, Val]) -> Optional[Val]:
    v = scope.get(ref.parts[0])
    if v is None:
        return None
    return _steps(w, ref, v, relpath, 1)


def _steps(w: _Walk, ref: Ref, v: Optional[Val], relpath: str, start: int) -> Optional[Val]:
    for i in range(start, len(ref.parts)):
        if v is None:
            return None
        v = _step(w, ref, i, v, relpath)
    return v


def _step(w: _Walk, ref: Ref, i: int, v: Val, relpath: str) -> Optional[Val]:
    name = ref.parts[i]
    if v.kind == "group":
        if name == "list":
            return replace(v, kind="rows", loop=None)
        if name == "grouper":
            return v.grouper
        return None
    if v.kind == "rows":
        return v if name in _PASS_THROUGH_ROWS else None
    if v.kind == "manager":
        m = v.member
        if m is None or name not in m.query_methods:
            return None
        if v.loop is not None and not v.covered:
            pattern = "lazy-relation" if m.loadable else "member-query"
            _report(w, ref, i, v, relpath, pattern, f"`{_text(ref, i)}` runs a query for every row of {v.loop.label(relpath, w.show)}", relation=v.path)
        if name == "all":
            return Val(v.bound, "rows", v.model, v.path, v.loaded, owner=v.owner, back=m.back_reference)
        if name in ("filter", "order_by"):
            return Val(v.bound, "rows", v.model, v.path, v.loaded)
        return None
    if v.kind != "one" or v.model is None:
        return None
    if v.back is not None and name == v.back and v.owner is not None:
        return v.owner  # Django and SQLAlchemy hand each row of a relation its owner: no query
    adapter = w.adapters.get(v.bound.orm)
    if adapter is None:
        return None
    m = adapter.template_member(w.index, v.model, name)
    if m is None:
        return None
    path = v.path + (name,)
    sub = frozenset(p[len(name) + 2:] for p in v.loaded if p.startswith(name + "__"))
    here = _loaded(v, name, m)
    if m.kind == "single":
        if m.identity_mapped and any(b.kind == ROWS and b.model == m.target for b in w.render.bindings):
            here = True  # the view loaded those rows into the session: the many-to-one finds them there
        if v.loop is not None and not here:
            _report(w, ref, i, v, relpath, "lazy-relation", f"`{_text(ref, i)}` loads {_a(m)} for every row of {v.loop.label(relpath, w.show)}")
        return Val(v.bound, "one", m.target, path, sub, v.loop)
    if m.kind == "many":
        if m.manager:
            return Val(v.bound, "manager", m.target, path, sub, v.loop, covered=here, member=m, owner=v)
        if v.loop is not None and not here:
            _report(w, ref, i, v, relpath, "lazy-relation", f"`{_text(ref, i)}` loads {_a(m)} for every row of {v.loop.label(relpath, w.show)}")
        return Val(v.bound, "rows", m.target, path, sub, owner=v, back=m.back_reference)
    if m.kind == "query":
        if v.loop is not None and not _member_covered(m, v):
            _report(w, ref, i, v, relpath, "member-query", f"`{_text(ref, i)}` runs a query for every row of {v.loop.label(relpath, w.show)}", m)
        return None
    return None


def _loaded(v: Val, name: str, m: Member) -> bool:
    b = v.bound
    if m.loaded_by_default or b.opaque or name in v.loaded:
        return True
    return b.select_all and not v.path and m.kind == "single" and not m.nullable


def _member_covered(m: Member, v: Val) -> bool:
    """A member whose query is a lazy load of one of the object's own relations the rows have loaded."""
    if v.bound.opaque:
        return True
    last = m.call_path[-1].split(" ", 1)[0] if m.call_path else ""
    rel = last[5:] if last.startswith("self.") else ""
    return rel.isidentifier() and (rel in v.loaded or rel == v.back)


def _a(m: Member) -> str:
    what = m.label or "a relation"
    return f"`{what}`"


def _text(ref: Ref, i: int) -> str:
    return ".".join(ref.parts[: i + 1])


def _report(
    w: _Walk, ref: Ref, i: int, v: Val, relpath: str, pattern: str, message: str, m: Optional[Member] = None, relation: Optional[Tuple[str, ...]] = None
) -> None:
    """One finding per relation (``relation``: a related manager's, else the read's) per loop."""
    path = relation if relation is not None else v.path + (ref.parts[i],)
    loop = v.loop
    key = (loop, v.bound.name, path if pattern == "lazy-relation" else path[:-1] + ("()" + path[-1],))
    at = ("at", relpath, ref.line, ref.column)  # one finding per reference: `a.b.c.count` loading `b` is fixed first
    if key in w.seen or at in w.seen:
        return
    w.seen.add(key)
    w.seen.add(at)
    column = ref.column
    r = w.render
    adapter = w.adapters[v.bound.orm]
    view = r.view.rsplit(".", 1)[-1]
    edits: Tuple[Tuple[int, int, str], ...] = ()
    notes: Tuple[str, ...] = (f"rendered by {view} ({w.show(r.path)}:{r.line}) with `{v.bound.name}`",)
    if pattern == "lazy-relation":
        where = f"the queryset in {w.show(r.path)}:{v.bound.line}" if v.bound.line else f"the queryset of `{view}` ({w.show(r.path)}:{r.line})"
        fix, edits = adapter.template_fix(w.index, v.bound, path, where)
        if relation is not None and ref.parts[i] in ("count", "exists") and v.bound.orm == "django":
            # counting each row's children: one aggregate beats loading every child to count it
            rel = "__".join(path)
            lookup = adapter.count_lookup(w.index, v.bound.model, rel)
            fix = f'annotate it on {where} (`.annotate(n=Count("{lookup}"))`, then `{{{{ {ref.parts[0]}.n }}}}`), or prefetch it there (`.prefetch_related("{rel}")`)'
    else:
        if m is not None:
            chain = " -> ".join(p.rsplit(".", 1)[-1] + "()" for p in m.call_path[:-1]) + " -> " + m.call_path[-1]
            notes += (f"call path: {chain}",)
        fix = "compute it for every row in one query in the view (an aggregate with GROUP BY, a subquery, or a prefetch of what it reads)"
    w.problems.append(Problem(relpath, ref.line, column, len(_text(ref, i)), pattern, v.bound.orm, message, fix, r.view, r.path, notes, edits))

