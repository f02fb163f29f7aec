"""What SQLAlchemy rows meet on their way out: pydantic / SQLModel response models, FastAPI
routes' ``response_model`` and marshmallow schemas with nested fields (the relationships they read)."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Optional, Tuple

import libcst as cst

from querylint.rule import nodes as N
from querylint.frameworks.sqlalchemy.models import mappings
from querylint.project.subclasses import subclass_test
if TYPE_CHECKING:  # pragma: no cover
    from querylint.context import Context


_ANN_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
_ANN_SKIP = {"list", "List", "Optional", "None", "Sequence", "set", "Set", "Union", "typing", "Annotated", "tuple", "Tuple"}


def pydantic_models(index):
    """Qualnames of project classes that are pydantic models (BaseModel / non-table SQLModel subclasses)."""
    def compute(ix):
        check = subclass_test(ix, lambda base: base in ("pydantic.BaseModel", "pydantic.main.BaseModel", "sqlmodel.SQLModel"), 8)

        m = mappings(ix)
        return frozenset(c.qualname for c in ix.classes.values() if check(c) and c.qualname not in m.classes)

    return index.derived("pydantic.models", compute)


def nested_fields(model_q: str, ctx: Context, depth: int = 0):
    """(field, nested model qualname) for fields of a pydantic model annotated with another pydantic model."""
    index = ctx.index
    models = pydantic_models(index)
    cls = index.classes.get(model_q)
    if cls is None or depth > 3:
        return []
    out = []
    for c in index.mro_classes(cls):
        for a in c.attrs:
            if not a.annotation or a.name.startswith("_") or a.name == "model_config":
                continue
            for w in _ANN_WORD.findall(a.annotation.replace("\"", " ").replace("'", " ")):
                if w.split(".")[-1] in _ANN_SKIP:
                    continue
                target = index.resolve_class(w, c.module)
                if target is not None and target.qualname in models:
                    out.append((a.name, target.qualname))
                    break
    return out


def route_response_model(fn_node: cst.FunctionDef, ctx: Context) -> Optional[str]:
    """The pydantic model a FastAPI route serialises its result with (``response_model=`` or the return annotation)."""
    candidates = []
    for dec in fn_node.decorators:
        call = dec.decorator
        if isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute) and call.func.attr.value in (
            "get", "post", "put", "patch", "delete", "api_route",
        ):
            rm = N.arg(call, keyword="response_model")
            if rm is not None:
                candidates.append((rm, None))
            elif fn_node.returns is not None:
                candidates.append((fn_node.returns.annotation, None))
    models = pydantic_models(ctx.index)
    for node, _ in candidates:
        text = N.code(node)
        for w in _ANN_WORD.findall(text):
            if w.split(".")[-1] in _ANN_SKIP:
                continue
            q = ctx.qualify(w) or w
            cls = ctx.index.resolve_class(q, ctx.module)
            if cls is not None and cls.qualname in models:
                return cls.qualname
    return None



def inside_function(node, fn_node, ctx: Context) -> bool:
    for anc in ctx.ancestors(node):
        if anc is fn_node:
            return True
    return False


_SCHEMA_BASES = {"Schema", "SQLAlchemySchema", "SQLAlchemyAutoSchema", "ModelSchema", "TableSchema"}
_NESTED_FIELDS = {"Nested", "Pluck"}


def _is_schema_base(base: str) -> bool:
    last = base.rsplit(".", 1)[-1]
    return last in _SCHEMA_BASES and (base.startswith(("marshmallow", "flask_marshmallow")) or base.split(".")[0] in ("ma", "marshmallow") or "." in base and base.split(".")[-2] in ("ma", "marshmallow"))


def _schema_fields(ix):
    """(schema class, its class attributes with the inherited ones) for every marshmallow schema."""
    is_schema = subclass_test(ix, _is_schema_base, 8)
    for cls in ix.classes.values():
        if is_schema(cls):
            yield cls, [a for c in ix.mro_classes(cls) for a in c.attrs]


def marshmallow_schemas(index):
    """Schema qualname -> (field name, attribute read) for its ``fields.Nested`` / ``Pluck`` fields."""
    def compute(ix):
        out = {}
        for cls, attrs in _schema_fields(ix):
            nested = []
            for a in attrs:
                call = a.call
                if call is None:
                    continue
                last = call.func.rsplit(".", 1)[-1]
                if last == "List" and call.calls:
                    inner = call.nested("0")
                    if inner is not None and inner.func.rsplit(".", 1)[-1] in _NESTED_FIELDS:
                        call, last = inner, inner.func.rsplit(".", 1)[-1]
                if last in _NESTED_FIELDS:
                    attr = a.name
                    for k, v in call.kwargs:
                        if k == "attribute" and v[0] == "str":
                            attr = str(v[1]).split(".")[0]
                    nested.append((a.name, attr))
            out[cls.qualname] = tuple(nested)
        return out

    return index.derived("marshmallow.schemas", compute)


def schema_of(expr, ctx: Context, depth: int = 0) -> Optional[Tuple[str, bool]]:
    """(schema qualname, many) for ``PostSchema(many=True)`` or a name bound to it (module constants too)."""
    if depth > 4:
        return None
    if isinstance(expr, (cst.Name, cst.Attribute)):
        b = ctx.binding(N.root_name(expr) or "", at=expr)
        if isinstance(expr, cst.Name) and b is not None and b.kind in ("assign", "annassign") and b.is_simple and b.value is not None:
            return schema_of(b.value, ctx, depth + 1)
        if b is not None and b.kind == "import":
            # ``articles_schema = ArticleSchema(many=True)`` in another module
            q = ctx.qualify(expr) or ""
            mod, _, var = q.rpartition(".")
            facts = ctx.index.modules.get(mod)
            for name, call in facts.module_calls if facts is not None else ():
                if name == var:
                    cls = ctx.index.resolve_class(call.func, mod)
                    if cls is not None and cls.qualname in marshmallow_schemas(ctx.index):
                        return cls.qualname, call.kwarg("many") == ("lit", True)
        return None
    if not isinstance(expr, cst.Call):
        return None
    d = N.dotted(expr.func)
    if d is None:
        return None
    cls = ctx.index.resolve_class(ctx.qualify(expr.func) or d, ctx.module)
    if cls is None or cls.qualname not in marshmallow_schemas(ctx.index):
        return None
    many = N.arg(expr, keyword="many")
    return cls.qualname, isinstance(many, cst.Name) and many.value == "True"




def marshmallow_method_fields(index):
    """Schema qualname -> {method name: field name} of its ``fields.Method("get_x")`` fields
    (``serialize="get_x"`` too; inherited ones included): marshmallow calls the method once for
    every object it dumps."""
    def compute(ix):
        out = {}
        for cls, attrs in _schema_fields(ix):
            methods: dict = {}
            for a in attrs:
                call = a.call
                if call is None or call.func.rsplit(".", 1)[-1] != "Method":
                    continue
                named = call.kwarg("serialize") or (call.args[0] if call.args else None)
                if named is not None and named[0] == "str":
                    methods.setdefault(str(named[1]), a.name)
            if methods:
                out[cls.qualname] = methods
        return out

    return index.derived("marshmallow.method-fields", compute)


def marshmallow_dumped_many(index):
    """Schemas known to dump a list, one object at a time: nested per element by another schema
    (``fields.List(fields.Nested(S))``, ``fields.Nested(S, many=True)``), built with ``many=True``
    (at module level or in a function), or a module-level instance told ``dump(..., many=True)``;
    and their project bases (a base's method runs for the
    subclass's rows)."""
    def compute(ix):
        schemas = marshmallow_schemas(ix)
        known = set()

        def add(value, module: str) -> None:
            if value is None or value[0] not in ("name", "str"):
                return
            cls = ix.resolve_class(str(value[1]), module)
            if cls is not None and cls.qualname in schemas:
                known.add(cls.qualname)

        for cls in ix.classes.values():
            if cls.qualname not in schemas:
                continue
            for a in cls.attrs:
                call = a.call
                if call is None:
                    continue
                last = call.func.rsplit(".", 1)[-1]
                inner = call.nested("0") if last == "List" else None
                if inner is not None and inner.func.rsplit(".", 1)[-1] == "Nested" and inner.args:
                    add(inner.args[0], cls.module)
                elif last == "Nested" and call.args and call.kwarg("many") == ("lit", True):
                    add(call.args[0], cls.module)
        for facts in ix.modules.values():
            for _name, call in facts.module_calls:
                if call.kwarg("many") == ("lit", True):
                    add(("name", call.func), facts.module)
        for fn in ix.functions.values():
            for target, _pos, keywords, _short in fn.call_consts:
                if "many" not in keywords:
                    continue
                if target in schemas:
                    known.add(target)  # ``ArticleSchema(many=True)``
                elif target.endswith((".dump", ".dumps")):  # ``article_schema.dump(rows, many=True)``
                    made = ix.instance_class(target.rsplit(".", 1)[0])
                    if made is not None and made.qualname in schemas:
                        known.add(made.qualname)
        for q in list(known):
            known.update(b for b in ix.ancestors(ix.classes[q]) if b in schemas)
        return frozenset(known)

    return index.derived("marshmallow.dumped-many", compute)
