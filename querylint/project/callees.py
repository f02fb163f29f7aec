"""Which project function a call reaches, when plain data flow tells (functions by name or import,
``self.method()``, ``Class.method()``, methods of objects built from a project class or annotated with one)."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Collection, List, Optional, Sequence, Set, Tuple, cast

import libcst as cst

from querylint import nodes as N
if TYPE_CHECKING:  # pragma: no cover
    from querylint.context import Context


def resolve_callee(call: cst.Call, ctx: Context) -> Optional[str]:
    """Qualname of the project function a call reaches, when plain data flow tells."""
    func = call.func
    index = ctx.index
    fn_facts = ctx.function_facts()
    name = N.dotted(func)
    if name is None:
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Call):
            owner = _constructed_class(func.value, ctx)  # ``PermissionDAO().by_user(uid)``
            made = index.find_method(owner, func.attr.value) if owner is not None else None
            return made.qualname if made is not None else None
        return None
    head = name.split(".")[0]
    if head in ("self", "cls") and name.count(".") == 1:
        cls = ctx.class_frame
        if cls is None:
            return None
        hit = index.find_method(cls.qualname, name.split(".")[1])
        return hit.qualname if hit else None
    if head in ("self", "cls"):
        owner = _instance_attr_class(name.split(".")[1], ctx) if name.count(".") == 2 else None
        if owner is None:
            return None
        hit = index.find_method(owner, name.split(".")[2])
        return hit.qualname if hit else None
    # a local variable shadows module names: only plain functions, imported names, Class.method,
    # and methods of a local bound to an instance of a project class (``svc = PriceService(); svc.price()``)
    b = ctx.binding(head, at=call)
    if b is not None and b.kind == "assign" and b.is_simple and "." not in name and isinstance(b.value, cst.Attribute):
        return _bound_method_alias(b, ctx)  # ``is_president = collection._is_president``
    if b is not None and b.kind not in ("import", "def", "class"):
        if name.count(".") != 1:
            return None
        if b.kind == "param" and isinstance(b.node, cst.Param):
            owner = annotation_class(b.node.annotation, ctx)  # ``def f(repo: CustomerRepository)``
        elif not b.is_simple or b.kind not in ("assign", "annassign", "with"):
            return None
        else:
            owner = _constructed_class(b.value, ctx)
            if owner is None and b.kind == "annassign" and isinstance(b.node, cst.AnnAssign):
                owner = annotation_class(b.node.annotation, ctx)
        if owner is None:
            return None
        hit = index.find_method(owner, name.split(".")[1])
        return hit.qualname if hit else None
    qual = ctx.qualify(func)
    if qual is None:
        return None
    hit = index.resolve_function(qual, fn_facts)
    if hit is None and "." not in name:
        hit = index.functions.get(f"{ctx.module}.{name}")
    return hit.qualname if hit else None


def _bound_method_alias(b, ctx: Context) -> Optional[str]:
    """A local bound to ``obj.method`` (or ``self.method``): that method, when ``obj`` is an
    instance of a project class built or annotated in the function."""
    alias = N.dotted(b.value)
    if alias is None or alias.count(".") != 1:
        return None
    obj, method = alias.split(".")
    if obj in ("self", "cls"):
        owner = ctx.class_frame.qualname if ctx.class_frame is not None else None
    else:
        ob = ctx.binding(obj, at=b.node)
        owner = None
        if ob is not None and ob.kind in ("assign", "annassign") and ob.is_simple:
            owner = _constructed_class(ob.value, ctx)
        elif ob is not None and ob.kind == "param" and isinstance(ob.node, cst.Param):
            owner = annotation_class(ob.node.annotation, ctx)
    hit = ctx.index.find_method(owner, method) if owner else None
    return hit.qualname if hit else None


def _constructed_class(value, ctx: Context) -> Optional[str]:
    """Qualname of the project class ``value`` constructs (``PriceService(conn)``), else None."""
    if not isinstance(value, cst.Call):
        return None
    qual = ctx.qualify(value.func)
    if not qual:
        return None
    # ``from pkg.services import PriceService`` re-exported by ``pkg/services/__init__.py``, or a
    # ``src/`` layout: the name as the project defines it
    cls = ctx.index.classes.get(qual) or ctx.index.classes.get(ctx.index.canonical(qual))
    return cls.qualname if cls is not None else None


def annotation_class(annotation, ctx: Context, depth: int = 0) -> Optional[str]:
    """Qualname of the project class an annotation names: ``X``, ``mod.X``, ``X | None``, ``Optional[X]``, ``"X"``."""
    ann = annotation.annotation if isinstance(annotation, cst.Annotation) else annotation
    if depth > 8:
        return None  # ``Optional[Optional[...]]`` or strings in strings, nested without end
    depth += 1
    if isinstance(ann, cst.SimpleString):
        try:
            ann = cst.parse_expression(cast(str, ann.evaluated_value))
        except (cst.ParserSyntaxError, SyntaxError, ValueError):  # not an expression; bytes in no known encoding; a bad escape
            return None
    if isinstance(ann, cst.BinaryOperation) and isinstance(ann.operator, cst.BitOr):
        sides = [s for s in (ann.left, ann.right) if not (isinstance(s, cst.Name) and s.value == "None")]
        return annotation_class(sides[0], ctx, depth) if len(sides) == 1 else None
    if isinstance(ann, cst.Subscript):
        if (N.dotted(ann.value) or "").rsplit(".", 1)[-1] != "Optional" or len(ann.slice) != 1:
            return None
        el = ann.slice[0].slice
        return annotation_class(el.value, ctx, depth) if isinstance(el, cst.Index) else None
    if N.dotted(ann) is None:
        return None
    qual = ctx.qualify(N.dotted(ann))
    cls = ctx.index.classes.get(qual) if qual else None
    return cls.qualname if cls is not None else None


def _value_class(value, params, ctx: Context) -> Optional[str]:
    """Project class of a value stored on ``self``: a constructor call, an annotated parameter, or
    ``param or Class()`` / ``Class() if param is None else param`` whose parts agree."""
    if isinstance(value, cst.Call):
        return _constructed_class(value, ctx)
    if isinstance(value, cst.Name):
        p = params.get(value.value)
        return annotation_class(p.annotation, ctx) if p is not None and p.annotation is not None else None
    if isinstance(value, cst.BooleanOperation) and isinstance(value.operator, cst.Or):
        parts = [value.left, value.right]
    elif isinstance(value, cst.IfExp):
        parts = [value.body, value.orelse]
    else:
        return None
    found = set()
    for part in parts:
        c = _value_class(part, params, ctx)
        if c is not None:
            found.add(c)
        elif not (isinstance(part, cst.Name) and part.value in params):
            return None  # something else we cannot type
    return found.pop() if len(found) == 1 else None


def _instance_attr_class(attr: str, ctx: Context) -> Optional[str]:
    """The project class of ``self.<attr>`` when the enclosing class assigns it exactly once, from a
    constructor or an annotated parameter (see ``_value_class``)."""
    frame = ctx.class_frame
    if frame is None or not isinstance(frame.node, cst.ClassDef):
        return None

    got = self_attr_source(attr, ctx)
    if got is None:
        return None
    value, params, annotation = got
    owner = _value_class(value, params, ctx)
    if owner is None and annotation is not None:
        owner = annotation_class(annotation, ctx)
    return owner


def self_attr_source(attr: str, ctx: Context):
    """``(value, params, annotation)`` of the one assignment to ``self.<attr>`` in the enclosing class
    (``params``: the parameters of the method holding it, by name), else None."""
    frame = ctx.class_frame
    if frame is None or not isinstance(frame.node, cst.ClassDef):
        return None

    def compute():
        found = []
        for stmt in frame.node.body.body:
            if not isinstance(stmt, cst.FunctionDef):
                continue
            p = stmt.params
            params = {x.name.value: x for x in (*p.posonly_params, *p.params, *p.kwonly_params)}
            for node in N.walk(stmt.body):
                if isinstance(node, cst.Assign):
                    for t in node.targets:
                        if N.dotted(t.target) == f"self.{attr}":
                            found.append((node.value, params, None))
                elif isinstance(node, cst.AnnAssign) and N.dotted(node.target) == f"self.{attr}" and node.value is not None:
                    found.append((node.value, params, node.annotation))
        return found[0] if len(found) == 1 else None

    return ctx.memo(("self-attr-source", id(frame.node), attr), compute)


_WRITE_ENDS = frozenset({
    "commit", "flush", "refresh", "save", "create", "bulk_create", "bulk_update", "get_or_create",
    "update_or_create", "update", "delete", "add", "add_all", "merge", "insert", "upsert",
})
_SQL_WRITE = re.compile(r"\((INSERT|UPDATE|DELETE|REPLACE|MERGE|UPSERT) \.\.\.\)")


def query_writes(desc: str) -> Optional[str]:
    """Whether the query a call path ends at (:meth:`ProjectIndex.query_path`'s last element)
    writes or ends a transaction: ``"raw"`` for a raw ``INSERT``/``UPDATE``/... statement,
    ``"orm"`` for an ORM write (``self.save()``, ``db.session.commit()``), else None."""
    if _SQL_WRITE.search(desc):
        return "raw"
    calls = re.findall(r"\.(\w+)\(", desc)
    return "orm" if calls and calls[-1] in _WRITE_ENDS else None


def writes_through(qualname: str, ctx: Context, limit: int = 60) -> bool:
    """The project function, or one it calls (up to ``limit`` functions), writes to the
    database: the rows a query reads may differ after a call to it."""
    def compute() -> bool:
        index = ctx.index
        seen: Set[str] = set()
        todo = [qualname]
        while todo and len(seen) < limit:
            q = todo.pop()
            if q in seen:
                continue
            seen.add(q)
            if any(query_writes(d) for d in index.direct_queries.get(q, ())):
                return True
            todo.extend(c for c in index.callees(q) if index.query_path(c))
        return False

    return bool(ctx.memo(("writes-through", qualname), compute))


# method names common APIs (Django, DRF, SQLAlchemy, the standard library) define: a call of one
# on an object of unknown type says nothing about which class it reaches
_COMMON_METHODS = frozenset({
    "get_queryset", "get_object", "get_context_data", "to_representation", "to_internal_value",
    "get_absolute_url", "is_authenticated", "has_permission", "has_object_permission", "get_serializer",
    "serialize", "validate", "full_clean", "save_model", "get_form", "as_view", "dispatch", "from_dict",
    "to_dict", "as_dict", "model_dump", "json", "refresh_from_db", "get_or_create", "update_or_create",
})
# the last part of a base class name that makes a class an ORM model, for guesses by name
MODEL_BASES = ("Model", "DeclarativeBase", "Base", "AbstractUser", "AbstractBaseUser")


def unique_model_method(call: cst.Call, ctx: "Context") -> Optional[str]:
    """``room.getAttributeValueByName(name)`` on a receiver of unknown type (not ``self``, not a
    module or class): the qualname of the one function in the project with that name, when it is a
    method of an ORM model class (a base named ``Model``, ``Base``, ``DeclarativeBase``, ...) and
    the name is distinctive (public, at least 8 characters, not a name common APIs define)."""
    func = call.func
    if not isinstance(func, cst.Attribute):
        return None
    method = func.attr.value
    if method.startswith("_") or len(method) < 8 or method in _COMMON_METHODS:
        return None
    root = N.root_name(func.value)
    if root is None or root in ("self", "cls"):
        return None
    b = ctx.binding(root, at=call)
    if b is None or b.kind in ("import", "class", "def"):
        return None  # a module, a class or a global of unknown kind: library objects too

    def compute() -> Optional[str]:
        index = ctx.index
        same = index.functions_by_name.get(method, ())
        if len(same) != 1 or same[0].cls is None:
            return None
        cls = index.classes.get(same[0].cls)
        if cls is None:
            return None
        bases = [a.rsplit(".", 1)[-1] for a in index.ancestors(cls)]
        if not any(b in MODEL_BASES or b.endswith("Model") for b in bases):
            return None
        return same[0].qualname

    return ctx.index.derived(f"unique-model-method:{method}", lambda _i: compute())


def refined_argument(call: cst.Call, ctx: Context, neutral: Collection[str]) -> Optional[cst.BaseExpression]:
    """``query = self._negate_filter(session, query, ...)`` where the project function only
    refines a parameter and hands it back (``query = query.filter(...)``; ``return query``) with
    methods that are all in ``neutral``: the argument given for that parameter (the result is
    the same kind of query, loading the same relations). None otherwise."""
    target = resolve_callee(call, ctx)
    fn = ctx.index.functions.get(target) if target else None
    if fn is None or not fn.refined_param or any(m not in neutral for m in fn.refined_param[1:]):
        return None
    param = fn.refined_param[0]
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == param:
            return arg.value
    params = list(fn.params)
    bound = fn.cls is not None and not any(d.rsplit(".", 1)[-1] == "staticmethod" for d in fn.decorators)
    if bound and params and params[0] in ("self", "cls"):
        params = params[1:]
    if param not in params:
        return None
    pos = params.index(param)
    positional = [a for a in call.args if a.keyword is None]
    if any(a.star for a in positional[: pos + 1]) or pos >= len(positional):
        return None
    return positional[pos].value


def read_chains(facts, param: Optional[str], call: cst.Call, params: Sequence[str]) -> List[Tuple[str, ...]]:
    """The attribute chains the project function ``facts`` reads off its parameter ``param``
    when ``call`` calls it (``params``: its parameters as the call's positions bind them): every
    chain read unconditionally, and those read under ``if <flag>:`` unless the call turns the
    flag off (``include_metrics=False``, or leaves a falsy default)."""
    out = [c for p, c in facts.param_reads if p == param]
    for p, chain, flag, falsy_default in facts.flagged_reads:
        if p == param and not _flag_off(call, params, flag, falsy_default):
            out.append(chain)
    return out


def _flag_off(call: cst.Call, params: Sequence[str], flag: str, falsy_default: bool) -> bool:
    for i, a in enumerate(call.args):
        if a.star:
            return False  # ``**options``: it may set the flag
        name = a.keyword.value if a.keyword is not None else (params[i] if i < len(params) else None)
        if name == flag:
            return N.falsy_literal(a.value)
    return falsy_default


def flagged_off(call: cst.Call, ctx: Context) -> bool:
    """The project function ``call`` reaches runs no query of its own, and every function it
    calls that queries is called only under a flag parameter this call turns off
    (``_query_item(proxy, entitysets=False)`` where ``entitysets`` guards the lookup)."""
    got = callee_params(call, ctx)
    if got is None:
        return False
    fn, params = got
    index = ctx.index
    if not fn.flag_calls or fn.qualname in index.direct_queries:
        return False
    guarded = {t: (flag, falsy) for t, flag, falsy in fn.flag_calls}
    covered: Set[str] = set()
    for target in fn.calls:
        hit = index.resolve_function(target, fn)
        if hit is None or not index.query_path(hit.qualname):
            continue
        g = guarded.get(target)
        if g is None or not _flag_off(call, params, g[0], g[1]):
            return False
        covered.add(hit.qualname)
    return bool(covered) and all(c in covered for c in index.callees(fn.qualname) if index.query_path(c))


def callee_params(call: cst.Call, ctx: Context):
    """(facts, parameter names as the call's positions bind them) of the project function
    ``call`` reaches: ``self``/``cls`` left out for a method called on an object or through a
    bound alias."""
    qual = resolve_callee(call, ctx)
    fn = ctx.index.functions.get(qual) if qual else None
    if fn is None:
        return None
    params = list(fn.params)
    if params and params[0] in ("self", "cls") and (N.receiver(call) is not None or isinstance(call.func, cst.Name)):
        params = params[1:]
    return fn, params
