"""SQLAlchemy's side of the template analysis (Flask's ``render_template``, Starlette's
``TemplateResponse``): what a view hands its template, and what ``order.customer`` /
``order.items`` / ``order.items.count()`` means on a mapped class.

A relationship read in a template loads like one read in Python: lazily (one query per row)
unless the query's loader options or the relationship's ``lazy=`` load it; ``lazy="dynamic"``
collections are queries, run again on every call.
"""
from __future__ import annotations

import re
from dataclasses import replace
from typing import Optional, Set, Tuple

import libcst as cst

from querylint.context import Context
from querylint.frameworks.sqlalchemy.infer import infer
from querylint.frameworks.sqlalchemy.models import EAGER, NOLOAD, QUERYING, RAISE, mappings
from querylint.frameworks.sqlalchemy.n_plus_one import loaders_imported, missing_loaders, names_in_module, options_anchor
from querylint.rule import line_after_imports
from querylint.project.index import ProjectIndex
from querylint.templates.model import ONE, ROWS, Bound, Member

DYNAMIC_QUERIES = frozenset({"all", "count", "first", "one", "one_or_none", "filter", "filter_by", "order_by", "limit", "paginate"})


def bound(name: str, expr: cst.BaseExpression, ctx: Context) -> Optional[Bound]:
    """``name`` bound to ``expr`` in a view: rows (or one instance) of a mapped class, else None."""
    v = infer(expr, ctx)
    if v is None or v.elem is None or v.elem.kind != "entity" or v.elem.entity is None:
        return None
    entity: str = v.elem.entity
    if v.kind in ("rows", "query", "result", "page"):
        kind = ROWS
    elif v.kind == "instance":
        kind = ONE
    else:
        return None
    elem = v.elem
    if mappings(ctx.index).get(elem.entity) is None:
        return None
    loaded: Set[str] = set()
    base = elem.path
    for _owner, path, strategy in elem.loaders.options:
        if path[: len(base)] != base or len(path) <= len(base) or "*" in path:
            continue
        if strategy in EAGER or strategy in RAISE or strategy in NOLOAD:
            rel = path[len(base):]
            for i in range(1, len(rel) + 1):
                loaded.add("__".join(rel[:i]))
    origin = elem.origin if elem.origin is not None else v.origin
    line = ctx.line(origin) if origin is not None and ctx.in_this_file(origin) else None
    at = options_anchor(elem, ctx) if line is not None else None
    b = Bound(name, "sqlalchemy", kind, entity, frozenset(loaded), elem.loaders.opaque, False, line, at)
    if at is None:
        return b
    # what the fix may name in the view's module (its mapped classes) and must import
    mapped = {c.name for c in mappings(ctx.index).classes.values()}
    names = frozenset(n for n in names_in_module(ctx) if n in mapped)
    return replace(b, names=names, imported=frozenset(loaders_imported(ctx)), imports_at=line_after_imports(ctx))


def member(index: ProjectIndex, model: str, name: str) -> Optional[Member]:
    """``obj.<name>`` on a mapped class, as a Jinja2 template reads it."""
    m = mappings(index)
    rel = m.relationship(model, name)
    if rel is not None:
        if rel.lazy in RAISE or rel.lazy in NOLOAD or rel.lazy == "write_only":
            return None
        if rel.lazy in QUERYING:  # ``lazy="dynamic"``: a query object, run by what is called on it
            return Member("many", rel.target, rel.label, manager=True, query_methods=DYNAMIC_QUERIES, loadable=False)
        kind = "many" if rel.collection else "single"
        # the rows of a collection point back at their owner through the identity map
        back = rel.back_populates if rel.collection else None
        return Member(kind, rel.target, rel.label, loaded_by_default=rel.lazy in EAGER, back_reference=back, identity_mapped=rel.collection is False)
    fn = index.find_method(model, name)
    if fn is None:
        return None
    path = index.query_path(fn.qualname)
    if path is None:
        return None
    return Member("query", None, f"{model.rsplit('.', 1)[-1]}.{name}", call_path=path)


def fix(index: ProjectIndex, b: Bound, path: Tuple[str, ...], where: str) -> Tuple[str, Tuple[Tuple[int, int, str], ...]]:
    """``add .options(selectinload(Order.items).joinedload(Item.product)) to the query in app/views.py:14``."""
    m = mappings(index)
    owner: Optional[str] = b.model
    parts = []
    for i, name in enumerate(path):
        rel = m.relationship(owner, name)
        loader = "joinedload" if rel is not None and rel.collection is False else "selectinload"
        cls = (owner or "").rsplit(".", 1)[-1]
        parts.append(f"{loader}({cls}.{name})" if i == 0 else f".{loader}({cls}.{name})")
        owner = rel.target if rel is not None else None
    hint = "".join(parts)
    text = f"add .options({hint}) to {where.replace('the queryset', 'the query')}"
    # the edit, when the query is built in the view's file and every class it names is bound there
    if b.append_at is None or any(cls not in b.names for cls in re.findall(r"\(([A-Za-z_]\w*)\.", hint)):
        return text, ()
    edits = [(b.append_at[0], b.append_at[1], f".options({hint})")]
    missing = missing_loaders(hint, b.imported)
    if missing and b.imports_at is not None:
        edits.append((b.imports_at, 1, f"from sqlalchemy.orm import {', '.join(missing)}\n"))
    return text, tuple(edits)
