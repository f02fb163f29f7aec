"""Django REST Framework N+1 rules: method fields that query (QL118), nested serializers over
querysets that do not load them (QL119)."""
from __future__ import annotations

from typing import Any, Optional, Set, Tuple, cast

import libcst as cst

from querylint.frameworks.django.models import GFK
from querylint.frameworks.django.n_plus_one import per_object_member_query
from querylint.frameworks.django.drf import drf_info
from querylint.frameworks.django.querysets import DEFEATING, DjType, is_model_admin, admin_object, infer, view_queryset
from querylint.frameworks.django.sites import is_loaded, relation_hop, site_of
from querylint.frameworks import orm_query_detectors
from querylint.frameworks.sqlalchemy.schemas import marshmallow_dumped_many, marshmallow_method_fields
from querylint.rule import Rule, dedent, is_store_target, nodes as N, resolve_callee
from querylint.rule import Context

# every ORM's query sites (``Model.query.filter(...).first()``, ``session.execute(...)``)
_QUERY_DETECTORS = orm_query_detectors()

_MODELS = dedent(
    """
    from django.db import models
    class Author(models.Model):
        name = models.CharField(max_length=9)
    class Book(models.Model):
        title = models.CharField(max_length=9)
        author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="books")
    """
)


class SerializerMethodFieldQuery(Rule):
    """
    ## What it does
    Flags a query inside a method that runs once per object of a list: the `get_<field>()`
    method of a DRF `SerializerMethodField` (or a serializer's `to_representation`), a
    Django admin `list_display` method, or the method a marshmallow `fields.Method("...")`
    field names. It reports a manager/queryset query, a related manager, or a ForeignKey /
    OneToOne read that the views serving the serializer (the admin's `list_select_related` /
    `get_queryset`) do not load; in a marshmallow method, any query the method runs, itself or
    through the project's functions (the call path is printed).

    ## Why is this bad?
    DRF calls `get_<field>()` once per object, and the admin calls a `list_display` method once
    per row: a list of 100 objects runs 100 more queries.

    ## Example
    ```python
    class AuthorSerializer(serializers.ModelSerializer):
        n_books = serializers.SerializerMethodField()

        def get_n_books(self, obj):
            return obj.books.count()
    ```

    ## Use instead
    ```python
    class AuthorViewSet(viewsets.ModelViewSet):
        queryset = Author.objects.annotate(n_books=Count("books"))

    class AuthorSerializer(serializers.ModelSerializer):
        n_books = serializers.IntegerField(read_only=True)
    ```

    ## Known problems
    A marshmallow schema is sure to dump lists when another schema nests it per element
    (`fields.List(fields.Nested(S))`, `fields.Nested(S, many=True)`) or code builds it with
    `many=True`; otherwise its method fields are reported at `medium` confidence. Relations the
    method reads lazily are QL127's (for `Nested` fields) and not followed here.
    A serializer used only nested inside another one is judged without the outer view's
    prefetches. A serializer no list view or `many=True` parent is known to use (built in a
    function view, picked by `get_serializer_class`) is reported at `medium` confidence: the
    queryset it is given may load what it reads.
    """

    code = "QL118"
    per_request_escalation = True
    loop_scaled = True
    name = "per-object-method-query"
    VALID = [
        {
            "lib/models.py": _MODELS,
            "lib/serializers.py": dedent(
                """
                from rest_framework import serializers
                from lib.models import Author
                class AuthorSerializer(serializers.ModelSerializer):
                    n_books = serializers.SerializerMethodField()
                    class Meta:
                        model = Author
                        fields = ["name", "n_books"]
                    def get_n_books(self, obj):
                        return len(obj.books.all())
                """
            ),
            "lib/views.py": dedent(
                """
                from rest_framework import viewsets
                from lib.models import Author
                from lib.serializers import AuthorSerializer
                class AuthorViewSet(viewsets.ModelViewSet):
                    queryset = Author.objects.prefetch_related("books")
                    serializer_class = AuthorSerializer
                """
            ),
        }
    ]
    INVALID = [
        {
            "lib/models.py": _MODELS,
            "lib/serializers.py": dedent(
                """
                from rest_framework import serializers
                from lib.models import Author
                class AuthorSerializer(serializers.ModelSerializer):
                    n_books = serializers.SerializerMethodField()
                    class Meta:
                        model = Author
                        fields = ["name", "n_books"]
                    def get_n_books(self, obj):
                        return obj.books.count()  # want: QL118
                """
            ),
            "lib/views.py": dedent(
                """
                from rest_framework import viewsets
                from lib.models import Author
                from lib.serializers import AuthorSerializer
                class AuthorViewSet(viewsets.ModelViewSet):
                    queryset = Author.objects.all()
                    serializer_class = AuthorSerializer
                """
            ),
        }
    ]

    def __init__(self, ctx: Context):
        super().__init__(ctx)
        self._seen: Set[Any] = set()

    def _in_method_field(self) -> Optional[str]:
        fn = self.ctx.function
        if fn is None:
            return None
        return self.ctx.memo(("dj-method-field", id(fn.node)), self._method_field_of)

    def _method_field_of(self) -> Optional[str]:
        fn = self.ctx.function
        cls = self.ctx.class_frame
        if fn is None or cls is None or not isinstance(fn.node, cst.FunctionDef):
            return None
        if len(self.ctx.frames) < 2 or self.ctx.frames[-1] is not fn or self.ctx.frames[-2].kind != "class":
            return None
        name = fn.node.name.value
        ser = drf_info(self.ctx.index).serializers.get(cls.qualname)
        if ser is not None:
            return ser.method_fields.get(name) and name
        if admin_object(self.ctx, cls, name) is not None:
            return name
        return None

    def _report_once(self, node, message, fix, what=None) -> None:
        """One finding per method and problem: ``what`` names it (a relation path: the first read
        loads it, later reads of the same relation in the method hit the loaded object)."""
        key: Tuple[Any, Any] = (id(self.ctx.function.node), what or (self.ctx.line(node), message))  # type: ignore[union-attr]  # callers check ctx.function
        if what is not None and what[0] == "serialized" and self.ctx.class_frame is not None:
            # the object's relation read by several method fields of one serializer: the first
            # field loads it for the rest, one finding names it
            key = (self.ctx.class_frame.qualname, what)
        if key in self._seen:
            return
        self._seen.add(key)
        self.report(node, message, fix=fix, confidence=self._confidence())

    def _confidence(self) -> str:
        """``high`` when a list view or a ``many=True`` parent is known to serialize with this
        class (or an admin changelist runs the method); one step less sure when no list use is
        known (instantiated in a view querylint cannot read, chosen by ``get_serializer_class``,
        or unused): the queryset it gets may load the relation."""
        cls = self.ctx.class_frame
        if cls is None or self._is_admin():
            return "high"
        info = drf_info(self.ctx.index)
        if cls.qualname not in info.list_known:
            return "medium"
        kept = info.list_methods.get(cls.qualname)
        fn = self.ctx.function
        if kept is not None and fn is not None and isinstance(fn.node, cst.FunctionDef) and fn.node.name.value not in kept:
            return "medium"  # a base's method field that every list subclass leaves out of ``Meta.fields``
        return "high"

    def _check_site(self, node) -> None:
        if self.ctx.function is None:
            return
        method = self._in_method_field()
        if method is None:
            return
        site = site_of(node, self.ctx)
        if site is None or site.kind not in ("read", "related", "defeat", "instance-read"):
            return
        t = site.qs
        if site.kind == "read" and site.method in ("iterate", "list", "len", "bool", "index", "contains", "tuple", "set", "sorted"):
            # evaluating a queryset the method built itself (not one passed in)
            root = N.root_name(site.expr)
            b = self.ctx.binding(root, at=node) if root else None
            if b is not None and b.kind == "param":
                return
        if site.kind in ("related", "defeat") and (t is None or t.per_object is None):
            return
        what = N.short(site.node, 60)
        admin = self._is_admin()
        per = "row of the admin changelist" if admin else f"object `{method}()` serializes"
        where = "the admin's `get_queryset`" if admin else "the queryset of the views using this serializer"
        if site.kind == "related":
            name = (cast(DjType, t).related or "").rsplit(".", 1)[-1]  # checked above for "related"
            if site.method in DEFEATING:
                # ``obj.review.get()``: a prefetch does not serve ``get``/``filter``, which always query
                fix = (f'annotate the value on {where}, or prefetch it there (prefetch_related("{name}")) and read '
                       f'`.all()` in Python instead of `.{site.method}()`, which queries even when prefetched')
            else:
                fix = f'add prefetch_related("{name}") (or annotate the value) to {where}'
        elif site.kind == "defeat":
            fix = "filter the prefetched relation in Python, or prefetch it with Prefetch(..., to_attr=...)"
        else:
            fix = f"annotate the value on {where}, or prefetch what it needs"
        self._report_once(site.node, f"`{what}` runs a query for every {per}", fix)

    def visit_Call(self, node: cst.Call) -> None:
        self._check_site(node)
        if self.ctx.function is not None:
            self._marshmallow_call(node)

    visit_Name = _check_site
    visit_Subscript = _check_site

    # ---------------------------------------------------------------- marshmallow

    def _marshmallow_field(self) -> Optional[Tuple[str, str]]:
        """(schema qualname, field name) when the current function is the method a marshmallow
        ``fields.Method("...")`` field names: marshmallow calls it once per object it dumps."""
        fn, cls = self.ctx.function, self.ctx.class_frame
        if fn is None or cls is None or not isinstance(fn.node, cst.FunctionDef):
            return None
        if len(self.ctx.frames) < 2 or self.ctx.frames[-1] is not fn or self.ctx.frames[-2].kind != "class":
            return None
        field = marshmallow_method_fields(self.ctx.index).get(cls.qualname, {}).get(fn.node.name.value)
        return (cls.qualname, field) if field else None

    def _marshmallow_call(self, node: cst.Call) -> None:
        """A call in a marshmallow method field that runs a query, itself or through the
        project's functions (``get_user()`` reading the session's row)."""
        fn = cast(Any, self.ctx.function)
        got = self.ctx.memo(("mm-method-field", id(fn.node)), self._marshmallow_field)
        if got is None or id(fn.node) in self._seen:
            return
        schema, field = got
        qual = resolve_callee(node, self.ctx)
        path = self.ctx.index.query_path(qual) if qual else None
        chain: Optional[str] = None
        if path is not None:
            chain = " -> ".join([q.rsplit(".", 1)[-1] + "()" for q in path[:-1]] + [path[-1]])
        else:
            chain = next((d for d in (det(node, self.ctx) for det in _QUERY_DETECTORS) if d), None)
        if chain is None:
            return
        self._seen.add(id(fn.node))
        name = schema.rsplit(".", 1)[-1]
        self.report(
            node,
            f"`{N.short(node.func, 50)}()` runs a query for every object `{name}` dumps (its `{field}` method field)",
            fix="compute it once for the whole dump (before it, or in the schema's `__init__`), or load it with the rows",
            notes=(f"call path: {fn.node.name.value}() -> {chain}",),
            confidence="high" if schema in marshmallow_dumped_many(self.ctx.index) else "medium",
        )

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self._check_site(node)
        if self.ctx.function is None or self._in_method_field() is None or is_store_target(node, self.ctx):
            return
        self._member(node)
        hop = relation_hop(node, self.ctx)
        if hop is None:
            return
        base, model, name = hop
        if base.per_object is None:
            return
        rel = model.relation(name)
        if is_loaded(base, name, rel):
            return
        parent = self.ctx.parent
        if isinstance(parent, cst.Attribute) and parent.value is node and relation_hop(parent, self.ctx) is not None:
            return
        method = self._in_method_field()
        if method is None:
            return
        path = [name]
        root = node.value
        while isinstance(root, cst.Attribute) and relation_hop(root, self.ctx) is not None:
            path.insert(0, root.attr.value)
            root = root.value
        p = "__".join(path)
        generic = rel is not None and rel.kind == GFK  # select_related cannot follow a GenericForeignKey
        if self._is_admin():
            fix = (f'add .prefetch_related("{p}") in the admin\'s `get_queryset`' if generic
                   else f'add "{p}" to `list_select_related` (or select_related("{p}") in `get_queryset`)')
            where = "row of the admin changelist"
        else:
            loader = "prefetch_related" if generic else "select_related"
            fix = f'add .{loader}("{p}") to the queryset of the views using this serializer'
            where = f"object `{method}()` serializes"
        b = self.ctx.binding(root.value, at=root) if isinstance(root, cst.Name) else None
        what = ("serialized", p) if b is not None and b.kind == "param" else (N.code(root), p)
        self._report_once(node, f"`{N.short(node, 50)}` loads a relation lazily for every {where}", fix, what=what)

    def _member(self, node: cst.Attribute) -> None:
        """``obj.best_identification``: a model property or method that queries (antenna's
        ``cached_property`` running ``Identification.objects.filter(...).first()``)."""
        parent = self.ctx.parent
        is_call = isinstance(parent, cst.Call) and parent.func is node
        path = per_object_member_query(node, is_call, self.ctx)
        if path is None:
            return
        method = self._in_method_field()
        per = "row of the admin changelist" if self._is_admin() else f"object `{method}()` serializes"
        chain = " -> ".join([f"{node.attr.value}()"] + [q.rsplit(".", 1)[-1] + "()" for q in path[1:-1]] + [path[-1]])
        what = f"`{N.short(node, 50)}()`" if is_call else f"the property `{N.short(node, 50)}`"
        key = (id(cast(Any, self.ctx.function).node), N.code(node))
        if key in self._seen:
            return
        self._seen.add(key)
        self.report(
            cast(cst.CSTNode, parent) if is_call else node,
            confidence=self._confidence(),
            message=f"{what} runs a query for every {per}",
            fix="load what it needs with the view's queryset (`annotate`, `select_related`, `prefetch_related` with `Prefetch(..., to_attr=...)`) and read that here",
            notes=(f"call path: {chain}",),
        )

    def _is_admin(self) -> bool:
        cls = self.ctx.class_frame
        return cls is not None and is_model_admin(self.ctx.index, cls.qualname)


class NestedSerializerWithoutPrefetch(Rule):
    """
    ## What it does
    Flags the `queryset` (or `get_queryset()` return) of a DRF list view whose serializer
    nests another serializer (`AuthorSerializer()`, `TagSerializer(many=True)`), or uses a
    related field that needs the related object (`StringRelatedField`, `SlugRelatedField`,
    a dotted `source="author.name"`, a `many=True` related field), when the queryset does
    not `select_related` / `prefetch_related` that relation.

    Also flags the queryset passed to `SomeSerializer(qs, many=True)` in a function view or a
    view action, on the line that builds it.

    ## Why is this bad?
    DRF reads the relation once per object of the list: a page of 100 objects runs 100 (or
    more, with several nested levels) extra queries. The fix belongs on the view's queryset.

    ## Example
    ```python
    class BookSerializer(serializers.ModelSerializer):
        author = AuthorSerializer()

    class BookViewSet(viewsets.ModelViewSet):
        queryset = Book.objects.all()
        serializer_class = BookSerializer
    ```

    ## Use instead
    ```python
    class BookViewSet(viewsets.ModelViewSet):
        queryset = Book.objects.select_related("author")
        serializer_class = BookSerializer
    ```

    ## Known problems
    A view whose project base class defines `get_queryset()` (netbox's and nautobot's model
    viewsets prefetch from the serializer's fields there) is not judged: the base decides what
    the queryset loads.
    """

    code = "QL119"
    per_request_escalation = True
    loop_scaled = True
    name = "nested-serializer-without-prefetch"
    VALID = [
        {
            "lib/models.py": _MODELS,
            "lib/api.py": dedent(
                """
                from rest_framework import serializers, viewsets
                from lib.models import Author, Book
                class AuthorSerializer(serializers.ModelSerializer):
                    class Meta:
                        model = Author
                        fields = ["name"]
                class BookSerializer(serializers.ModelSerializer):
                    author = AuthorSerializer(read_only=True)
                    class Meta:
                        model = Book
                        fields = ["title", "author"]
                class BookViewSet(viewsets.ReadOnlyModelViewSet):
                    queryset = Book.objects.select_related("author")
                    serializer_class = BookSerializer
                """
            ),
        }
    ]
    INVALID = [
        {
            "lib/models.py": _MODELS,
            "lib/api.py": dedent(
                """
                from rest_framework import serializers, viewsets
                from lib.models import Author, Book
                class AuthorSerializer(serializers.ModelSerializer):
                    class Meta:
                        model = Author
                        fields = ["name"]
                class BookSerializer(serializers.ModelSerializer):
                    author = AuthorSerializer(read_only=True)
                    class Meta:
                        model = Book
                        fields = ["title", "author"]
                class BookViewSet(viewsets.ReadOnlyModelViewSet):
                    queryset = Book.objects.all()  # want: QL119
                    serializer_class = BookSerializer
                """
            ),
        }
    ]

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        ctx = self.ctx
        qual = f"{ctx.frame.qualname}.{node.name.value}"
        drf = drf_info(ctx.index)
        ser_q = drf.views.get(qual)
        if ser_q is None:
            return
        ser = drf.serializers.get(ser_q)
        if ser is None or not ser.needs:
            return
        target = None
        cls = ctx.index.classes.get(qual)
        if cls is None:
            return
        if "get_queryset" not in cls.methods and any("get_queryset" in base.methods for base in ctx.index.mro_classes(cls)[1:]):
            return  # a project base view builds the queryset (often prefetching from the serializer's fields)
        if "get_queryset" in cls.methods:
            fn = next((s for s in node.body.body if isinstance(s, cst.FunctionDef) and s.name.value == "get_queryset"), None)
            if fn is None:
                return
            rets = [n for n in N.walk(fn.body, into_functions=False) if isinstance(n, cst.Return) and n.value is not None]
            if not rets:
                return
            target = rets[-1].value
        else:
            for stmt in node.body.body:
                if isinstance(stmt, cst.SimpleStatementLine):
                    for small in stmt.body:
                        if isinstance(small, cst.Assign) and any(N.dotted(t.target) == "queryset" for t in small.targets):
                            target = small.value
        if target is None:
            return
        t = view_queryset(ctx, qual)
        if t is None or t.kind != "qs" or t.model != ser.model or t.opaque:
            return
        found = _missing(ser, t)
        if found is None:
            return
        fields, fix = found
        ser_name = ser_q.rsplit(".", 1)[-1]
        self.report(
            target,
            f"`{ser_name}` reads {', '.join(f'`{f}`' for f in fields[:4])} for every object of this list view, but the "
            f"queryset does not load {'it' if len(fields) == 1 else 'them'} (one query per object)",
            fix=f"add {fix}",
        )

    def visit_Call(self, node: cst.Call) -> None:
        """``BookSerializer(qs, many=True)`` in a function view or a view action."""
        if not node.args or N.arg(node, None, "many") is None:
            return
        many = N.arg(node, None, "many")
        if N.literal(many) is not True:
            return
        name = N.dotted(node.func)
        if not name or not name.rsplit(".", 1)[-1][:1].isupper():
            return
        ctx = self.ctx
        drf = drf_info(ctx.index)
        if not drf.serializers:
            return
        cls = ctx.index.resolve_class(ctx.qualify(node.func) or name, ctx.module)
        if cls is None or cls.qualname not in drf.serializers:
            return
        ser = drf.serializers[cls.qualname]
        if not ser.needs:
            return
        data = N.arg(node, 0, "instance")
        if data is None:
            return
        t = infer(data, ctx)
        if t is None or t.kind not in ("qs", "list") or t.model != ser.model or t.opaque or t.related is not None:
            return
        found = _missing(ser, t)
        if found is None:
            return
        fields, fix = found
        target = t.origin if t.origin is not None and ctx.in_this_file(t.origin) else data
        self.report(
            target,
            f"`{cls.name}(..., many=True)` reads {', '.join(f'`{f}`' for f in fields[:4])} for every object, but the "
            f"queryset does not load {'it' if len(fields) == 1 else 'them'} (one query per object)",
            fix=f"add {fix}",
        )


def _missing(ser, t):
    """(fields, fix) for the relations a serializer reads that the queryset ``t`` does not load."""
    missing_select, missing_prefetch, fields = [], [], []
    for need in ser.needs:
        if need.path in t.covered:
            continue
        if not need.many and t.select_all:
            continue
        if any(need.path == p for p in missing_select + missing_prefetch):
            continue
        (missing_prefetch if need.many else missing_select).append(need.path)
        fields.append(need.field)
    if not missing_select and not missing_prefetch:
        return None

    def prune(paths):  # keep the longest paths (select_related("a__b") loads "a" too)
        return [p for p in paths if not any(o != p and o.startswith(p + "__") for o in paths)]

    fix = ""
    if missing_select:
        fix += ".select_related(" + ", ".join(f'"{p}"' for p in prune(missing_select)) + ")"
    if missing_prefetch:
        fix += ".prefetch_related(" + ", ".join(f'"{p}"' for p in prune(missing_prefetch)) + ")"
    return fields, fix


RULES = (SerializerMethodFieldQuery, NestedSerializerWithoutPrefetch)
