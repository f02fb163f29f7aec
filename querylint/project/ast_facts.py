"""Per-file facts for the project index, over Python's ``ast`` (the fast facts pass).

The contract: :func:`collect_facts_ast` gives exactly the :class:`FileFacts` (``==``) that
:func:`querylint.project.facts.collect_facts` gives from libcst's tree of the same source. Each
function here mirrors its namesake in ``facts.py``; the function-level analyses are in
:mod:`querylint.project.ast_function_facts` (``F``), called where ``facts.py`` calls theirs, with
the ``ast`` nodes that stand for libcst's: ``loops`` = ``For``/``AsyncFor``/``While`` and the
comprehensions; ``flow`` = ``Return``/``Assign``/``AnnAssign``/``AugAssign``/``For``/``AsyncFor``/
``withitem``/``NamedExpr`` in walk order; ``keeping`` = ``Yield``/``YieldFrom`` and the calls
``F.keeps_args`` accepts; ``targets`` = ``{id(call): (call, its entry in calls)}``; ``flag_ifs`` =
the ``If`` nodes whose test is a parameter's ``Name``. Walks follow libcst's order
(:mod:`querylint.project.ast_nodes`).
"""
from __future__ import annotations

import ast
from pathlib import PurePosixPath
from typing import Any, Dict, List, Optional, Set, Tuple, cast

from querylint.project import ast_function_facts as F
from querylint.project import ast_nodes as A
from querylint.project.facts import (
    HTTP_METHODS,
    REGISTER_FUNCS,
    ROUTE_DECORATORS,
    ROUTE_FUNCS,
    SCHEDULERS,
    STARLETTE_ROUTES,
    STDLIB,
    TEARDOWN_HOOKS,
    expression_indexes,
    indexed_columns,
    prefetched_names,
    signal_senders,
    CallSummary,
    ClassAttr,
    ClassFacts,
    FileFacts,
    FunctionFacts,
    Resolver,
    Value,
    module_name,
)

_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
_LOOP_NODES = frozenset({ast.For, ast.AsyncFor, ast.While, ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp})
_FLOW_NODES = frozenset({ast.Return, ast.Assign, ast.AnnAssign, ast.AugAssign, ast.For, ast.AsyncFor, ast.withitem, ast.NamedExpr})
# compound statements other than defs and classes (libcst's statements with an indented body)
_COMPOUND = frozenset({ast.If, ast.For, ast.AsyncFor, ast.While, ast.Try, ast.With, ast.AsyncWith, ast.Match} | (
    {getattr(ast, "TryStar")} if hasattr(ast, "TryStar") else set()))


def _element(node: ast.expr) -> ast.expr:
    """libcst's ``element.value``: a starred element's own expression."""
    return node.value if type(node) is ast.Starred else node  # type: ignore[attr-defined]


def _indented(body: List[ast.stmt]) -> bool:
    """A statement list that is libcst's ``IndentedBlock`` (not a suite after the colon)."""
    return bool(body) and A.begins_line(body[0])


def _resolve_relative(module: str, is_package: bool, level: int, target: Optional[str]) -> str:
    parts = module.split(".") if module else []
    if not is_package:
        parts = parts[:-1]
    if level > 1:
        parts = parts[: max(0, len(parts) - (level - 1))]
    if target:
        parts.append(target)
    return ".".join(p for p in parts if p)


def _unique_constraint_fields(value: ast.expr) -> List[Tuple[str, ...]]:
    """``constraints = [UniqueConstraint(fields=["a", "b"], name=...)]``: the field tuples of the
    unique constraints that hold for every row (no ``condition=``)."""
    out: List[Tuple[str, ...]] = []
    for el in value.elts if isinstance(value, (ast.List, ast.Tuple)) else ():
        call = _element(el)
        if not isinstance(call, ast.Call) or not (A.dotted(call.func) or "").endswith("UniqueConstraint"):
            continue
        kw = {k.arg: k.value for k in call.keywords if k.arg is not None}
        seq = kw.get("fields")
        fields = [A.string_value(_element(e)) for e in seq.elts] if isinstance(seq, (ast.List, ast.Tuple)) else []
        if "condition" not in kw and fields and all(isinstance(f, str) for f in fields):
            out.append(tuple(cast(List[str], fields)))
    return out


def summarise_value(node: Optional[ast.AST], resolver: Resolver) -> Value:
    if node is None:
        return ("lit", None)
    lit = A.literal(node)
    if lit is not A.NOT_LITERAL:
        return ("str", lit) if isinstance(lit, str) else ("lit", lit)
    name = A.dotted(node)
    if name:
        return ("name", resolver.qualify(name))
    if isinstance(node, (ast.List, ast.Tuple)):
        return ("list", tuple(summarise_value(_element(e), resolver) for e in node.elts))
    if isinstance(node, ast.Call):
        inner = A.dotted(node.func)
        return ("call", resolver.qualify(inner) if inner else A.short(node))
    return ("expr", A.short(node, 120))


def summarise_call(call: ast.Call, resolver: Resolver, _depth: int = 0) -> Optional[CallSummary]:
    func = A.dotted(call.func)
    if func is None and isinstance(call.func, ast.Call) and not call.args and not call.keywords and A.call_name(call.func) == "from_queryset":
        return summarise_call(call.func, resolver, _depth)  # ``Manager.from_queryset(QS)()``: the class it builds
    if func is None:
        return None
    args = tuple(summarise_value(a, resolver) for a in call.args if type(a) is not ast.Starred)
    kwargs = tuple((k.arg, summarise_value(k.value, resolver)) for k in call.keywords if k.arg is not None)
    calls = []
    if _depth < 2:
        position = 0
        for keyword, star, value in A.call_args(call):
            key = None
            if keyword is not None:
                key = keyword
            elif not star:
                key = str(position)
                position += 1
            if key is not None and isinstance(value, ast.Call):
                inner = summarise_call(value, resolver, _depth + 1)
                if inner is not None:
                    calls.append((key, inner))
    return CallSummary(resolver.qualify(func) or func, args, kwargs, tuple(calls))


def _statements(body: List[ast.stmt]):
    """Pre-order walk of statements only, in libcst's order (a compound statement's body, then
    its handlers, ``else`` and ``finally``; a ``match``'s cases)."""
    for stmt in body:
        yield stmt
        t = type(stmt)
        if t is ast.Match:
            for case in stmt.cases:  # type: ignore[attr-defined]
                yield from _statements(case.body)
        elif t in _COMPOUND or t in _FUNCTIONS or t is ast.ClassDef:
            yield from _statements(stmt.body)  # type: ignore[attr-defined]
            for handler in getattr(stmt, "handlers", ()):
                yield from _statements(handler.body)
            yield from _statements(getattr(stmt, "orelse", None) or [])
            yield from _statements(getattr(stmt, "finalbody", None) or [])


def collect_imports(module_node: ast.Module, module: str, is_package: bool) -> Dict[str, str]:
    """Every import in the file (any depth: conditional and function-level imports count too)."""
    imports: Dict[str, str] = {}
    for node in _statements(module_node.body):
        if type(node) is ast.Import:
            for alias in node.names:  # type: ignore[attr-defined]
                full = alias.name
                if alias.asname is not None:
                    imports[alias.asname] = full
                else:
                    head = full.split(".")[0]
                    imports.setdefault(head, head)
        elif type(node) is ast.ImportFrom:
            base = node.module  # type: ignore[attr-defined]
            level = node.level  # type: ignore[attr-defined]
            if level:
                base = _resolve_relative(module, is_package, level, base)
            elif base and base.startswith("flask.ext."):
                base = "flask_" + base[len("flask.ext."):]  # Flask < 1.0: ``from flask.ext.sqlalchemy import SQLAlchemy``
            if node.names and node.names[0].name == "*":  # type: ignore[attr-defined]
                if base:
                    imports[f"*{base}"] = base  # no local name: the module is imported all the same
                continue
            for alias in node.names:  # type: ignore[attr-defined]
                name = alias.name
                local = alias.asname if alias.asname is not None else name
                imports[local] = f"{base}.{name}" if base else name
    return imports


def collect_facts_ast(tree: ast.Module, text: str, relpath: str) -> FileFacts:
    """:func:`querylint.project.facts.collect_facts` over ``ast``: the same facts."""
    A.set_source(text)
    try:
        return _collect(tree, relpath, text)
    finally:
        A.set_source(None)


def _collect(module_node: ast.Module, relpath: str, text: str) -> FileFacts:
    module = module_name(relpath)
    is_package = PurePosixPath(relpath).name == "__init__.py"
    imports = collect_imports(module_node, module, is_package)
    module_defs: Dict[str, str] = {}
    for stmt in module_node.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            module_defs[stmt.name] = f"{module}.{stmt.name}"
    resolver = Resolver(module, imports, module_defs)
    c = _Collector(module, relpath, imports, resolver)
    c.module_names.extend(module_defs)
    c.visit_block(module_node.body)
    return FileFacts(
        path=relpath,
        module=module,
        imports=tuple(sorted(imports.items())),
        classes=tuple(c.classes),
        functions=tuple(c.functions),
        module_names=tuple(dict.fromkeys(c.module_names)),
        module_calls=tuple(c.module_calls),
        module_strings=tuple(c.module_strings),
        aliases=tuple(c.aliases),
        routes=tuple(dict.fromkeys(c.routes)),
        route_paths=tuple(dict.fromkeys(c.route_paths)),
        url_includes=tuple(dict.fromkeys(c.url_includes)),
        dependencies=_dependencies(module_node, imports, resolver),
        value_refs=tuple(sorted(c.value_refs)),
        scheduled=tuple(dict.fromkeys(c.scheduled)),
        teardowns=tuple(c.teardowns),
        expression_indexes=expression_indexes(text),
        indexed_columns=indexed_columns(text),
        prefetched_names=prefetched_names(text),
        signal_senders=signal_senders(text),
    )


class _Walk:
    """What the walk of one function body gathers (the locals of libcst's ``visit_function``)."""

    def __init__(self) -> None:
        self.calls: List[str] = []
        self.has_yield = False
        self.doubles_quotes = False
        self.sql_params: List[str] = []
        self.sql_names: List[Tuple[str, str]] = []
        self.flow: List[ast.AST] = []  # returns and bindings, for ``const_returns``
        self.call_consts: List[Tuple[str, ast.Call]] = []  # calls of project functions, for ``F.call_consts``
        self.keeping: List[ast.AST] = []  # yields and calls that keep their arguments, for ``kept_params``
        self.targets: Dict[int, Tuple[ast.Call, str]] = {}  # id(call) -> (call, its entry in ``calls``)
        self.loops: List[ast.AST] = []
        self.spread: List[str] = []  # names unpacked with ``**`` into a call
        self.reads: Dict[Tuple[str, Tuple[str, ...]], int] = {}
        self.flag_ifs: List[ast.If] = []  # ``if <parameter>:``


class _Collector:
    """One pass over a module for :func:`collect_facts_ast`: module-level statements, then every
    class and function (nested ones too), each appended in source order."""

    def __init__(self, module: str, relpath: str, imports: Dict[str, str], resolver: Resolver):
        self.module = module
        self.relpath = relpath
        self.imports = imports
        self.resolver = resolver
        self.classes: List[ClassFacts] = []
        self.functions: List[FunctionFacts] = []
        self.module_names: List[str] = []
        self.module_calls: List[Tuple[str, CallSummary]] = []
        self.module_strings: List[Tuple[str, str]] = []
        self.aliases: List[Tuple[str, str]] = []
        self.routes: List[str] = []
        self.route_paths: List[Tuple[str, str]] = []
        self.url_includes: List[Tuple[str, str]] = []
        self.value_refs: Set[str] = set()
        self.scheduled: List[str] = []
        self.teardowns: List[str] = []

    # ------------------------------------------------------------------------------ functions

    def visit_function(self, fn: Any, prefix: str, cls: Optional[str], nested_in: Optional[str]) -> None:
        qual = f"{prefix}.{fn.name}"
        self.route_paths.extend(_decorator_routes(fn, qual) if fn.decorator_list else ())
        params = tuple(A.param_names(fn.args))
        w = self._walk(fn, qual, cls, params)
        self.functions.append(self._function_facts(fn, qual, cls, nested_in, params, w))

    def _walk(self, fn: Any, qual: str, cls: Optional[str], params: Tuple[str, ...]) -> _Walk:
        """The walk of the body (nested defs and classes visited, not entered)."""
        imports, resolver, w = self.imports, self.resolver, _Walk()
        called: Set[int] = set()
        project_prefix = self.module.split(".")[0] + "."
        param_set = frozenset(params) - {"self", "cls"}
        value_refs, reads, loops, flow = self.value_refs, w.reads, w.loops, w.flow
        for node in A.body_walk(fn):
            t = type(node)
            if t in _LOOP_NODES:
                loops.append(node)
            if t is ast.Attribute:
                if id(node) not in called:
                    value_refs.add(node.attr)  # type: ignore[attr-defined]
                if param_set:
                    F.param_read(cast(ast.Attribute, node), param_set, reads)
            elif t is ast.If and type(node.test) is ast.Name and node.test.id in param_set:  # type: ignore[attr-defined]
                w.flag_ifs.append(cast(ast.If, node))
            elif t is ast.Import or t is ast.ImportFrom:
                for attr in A.import_attributes(node):  # libcst's dotted names are attributes
                    value_refs.add(attr.attr)
                    if param_set:
                        F.param_read(attr, param_set, reads)
            if t is ast.Call:
                call = cast(ast.Call, node)
                called.add(id(call.func))
                w.spread.extend(A.name_of(k.value) for k in call.keywords if k.arg is None and A.is_name(k.value))
                param, name = F.sql_argument(call, params, imports, resolver)
                w.sql_params.extend(param)
                w.sql_names.extend(name)
                _record_call(call, cls, resolver, imports, project_prefix, w.calls, w.targets, w.call_consts)
                self._registrations(call, cls)
                if not w.doubles_quotes and F.doubles_quotes(call):
                    w.doubles_quotes = True
                if F.keeps_args(call):
                    w.keeping.append(call)
            elif t is ast.Yield or t is ast.YieldFrom:
                w.has_yield = True
                w.keeping.append(node)
            elif t in _FLOW_NODES:
                flow.append(node)
            elif t is ast.FunctionDef or t is ast.AsyncFunctionDef:
                self.visit_function(node, qual, None, qual)
            elif t is ast.ClassDef:
                self.visit_class(cast(ast.ClassDef, node), qual)
        return w

    def _function_facts(self, fn: Any, qual: str, cls: Optional[str], nested_in: Optional[str], params: Tuple[str, ...], w: _Walk) -> FunctionFacts:
        resolver, has_yield, flow = self.resolver, w.has_yield, w.flow
        param_set = frozenset(params) - {"self", "cls"}
        followed = F.followed(w.targets, self.imports)
        return FunctionFacts(
            qualname=qual,
            name=fn.name,
            module=self.module,
            path=self.relpath,
            cls=cls,
            params=params,
            decorators=tuple(resolver.qualify(d) or d for d in A.decorator_names(fn)),
            is_async=type(fn) is ast.AsyncFunctionDef,
            calls=tuple(dict.fromkeys(w.calls)),
            returns_yield=has_yield, hands_out_slices=F.hands_out_slices(fn),
            const_returns=0 if has_yield else F.constant_returns(flow),
            returned_names=F.returned_names(flow, resolver) if fn.name.startswith("get_") else (),
            list_returned_names=F.list_returned_names(fn, resolver),
            placeholder_returns=() if has_yield else F.placeholder_returns(flow),
            call_consts=F.call_consts(w.call_consts, fn, params),
            nested_in=nested_in,
            sql_params=tuple(dict.fromkeys(w.sql_params)),
            sql_names=tuple(dict.fromkeys(w.sql_names)),
            memo_guarded=F.first_statement_memo_guard(fn),
            returned_calls=() if has_yield else F.returned_calls(fn, resolver),
            class_chain_returns=() if has_yield or cls is None else F.class_chain_returns(flow),
            refined_param=() if has_yield else F.refined_param(flow, params),
            returned_query=() if has_yield else F.returned_query(flow, resolver),
            spread_params=F.spread_params(w.spread, w.loops, params),
            **F.reads_facts(fn, w.reads, w.flag_ifs, param_set),
            doubles_quotes=w.doubles_quotes,
            kept_params=F.kept_params(flow + w.keeping, params),
            loop_calls=F.per_item_calls(w.loops, followed),
            param_calls=F.calls_given_params(followed, params),
            retry_only_calls=F.retry_only_calls(w.loops, w.targets),
            failure_calls=F.failure_only_calls(fn, w.targets),
            flag_calls=F.flag_only_calls(fn, w.targets, w.flag_ifs, param_set),
        )

    # -------------------------------------------------------------------------------- classes

    def visit_class(self, node: ast.ClassDef, prefix: str) -> None:
        qual = f"{prefix}.{node.name}"
        resolver = self.resolver
        bases = tuple(resolver.qualify(A.dotted(_element(b))) or A.short(_element(b)) for b in node.bases)
        keywords = tuple((k.arg, summarise_value(k.value, resolver)) for k in node.keywords if k.arg)
        attrs: List[ClassAttr] = []
        methods: List[str] = []
        meta: List[Tuple[str, Value]] = []
        for stmt in node.body if _indented(node.body) else ():
            t = type(stmt)
            if t is ast.FunctionDef or t is ast.AsyncFunctionDef:
                fn = cast(Any, stmt)
                methods.append(fn.name)
                self.visit_function(fn, qual, qual, None)
                declared = _declared_attr(fn)
                if declared is not None:
                    attrs.append(_class_attr(fn.name, declared, None, resolver))
            elif t is ast.ClassDef:
                if cast(ast.ClassDef, stmt).name == "Meta":
                    meta.extend(self._meta(cast(ast.ClassDef, stmt)))
                else:
                    self.visit_class(cast(ast.ClassDef, stmt), qual)
            elif t in _COMPOUND:
                # if/try blocks in class bodies: methods defined inside still count
                for inner in A.walk(stmt, into_functions=False):
                    if type(inner) is ast.FunctionDef or type(inner) is ast.AsyncFunctionDef:
                        methods.append(cast(Any, inner).name)
                        self.visit_function(inner, qual, qual, None)
            else:
                attrs.extend(self._class_attrs(stmt))
        self.classes.append(
            ClassFacts(
                qualname=qual,
                name=node.name,
                module=self.module,
                path=self.relpath,
                bases=bases,
                decorators=tuple(resolver.qualify(d) or d for d in A.decorator_names(node)),
                attrs=tuple(attrs),
                methods=tuple(methods),
                meta=tuple(meta),
                keywords=keywords,
            )
        )

    def _meta(self, meta_class: ast.ClassDef) -> List[Tuple[str, Value]]:
        """``class Meta:`` assignments, summarised."""
        out: List[Tuple[str, Value]] = []
        for small in meta_class.body if _indented(meta_class.body) else ():
            if type(small) is ast.Assign:
                assign = cast(ast.Assign, small)
                for t in assign.targets:
                    for name in A.target_names(t):
                        out.append((name, summarise_value(assign.value, self.resolver)))
                        if name == "constraints":
                            out += [("unique_constraint_fields", ("lit", f)) for f in _unique_constraint_fields(assign.value)]
        return out

    def _class_attrs(self, small: ast.stmt) -> List[ClassAttr]:
        """Class attributes assigned (or annotated) by one small statement of a class body."""
        out: List[ClassAttr] = []
        if type(small) is ast.Assign:
            for t in small.targets:  # type: ignore[attr-defined]
                for name in A.target_names(t):
                    out.append(_class_attr(name, small.value, None, self.resolver))  # type: ignore[attr-defined]
        elif type(small) is ast.AnnAssign and type(small.target) is ast.Name:  # type: ignore[attr-defined]
            ann = cast(ast.AnnAssign, small)
            out.append(_class_attr(cast(ast.Name, ann.target).id, ann.value, A.code_in(ann.annotation, ann), self.resolver))
        return out

    # ------------------------------------------------------------------------- module level

    def visit_block(self, stmts: List[ast.stmt]) -> None:
        for stmt in stmts:
            t = type(stmt)
            if t is ast.FunctionDef or t is ast.AsyncFunctionDef:
                self.visit_function(stmt, self.module, None, None)
                self._global_calls(stmt)
            elif t is ast.ClassDef:
                self.visit_class(cast(ast.ClassDef, stmt), self.module)
            elif t in _COMPOUND:
                # module-level if/try/with blocks: definitions inside still count
                self._inner_blocks(stmt)
            else:
                self._module_statement(stmt)

    def _inner_blocks(self, stmt: ast.stmt) -> None:
        """libcst's ``body``/``orelse``/``handlers``/``finalbody`` of a compound statement, each
        visited when an indented block: of an ``elif``, only its own body."""
        body = getattr(stmt, "body", None) or []
        if _indented(body):
            self.visit_block(body)
        orelse = getattr(stmt, "orelse", None) or []
        if type(stmt) is ast.If and len(orelse) == 1 and type(orelse[0]) is ast.If and A.starts_with(orelse[0], "elif"):
            orelse = orelse[0].body
        if _indented(orelse):
            self.visit_block(orelse)
        for handler in getattr(stmt, "handlers", None) or ():
            if _indented(handler.body):
                self.visit_block(handler.body)
        finalbody = getattr(stmt, "finalbody", None) or []
        if _indented(finalbody):
            self.visit_block(finalbody)

    def _global_calls(self, fn: ast.stmt) -> None:
        """``def init(config): global Session; Session = sessionmaker(bind=engine)``: a module-level
        name an initialiser binds to a call (statements at the top of the function's body)."""
        declared: Set[str] = set()
        for small in getattr(fn, "body", ()):
            t = type(small)
            if t is ast.Global:
                declared.update(cast(ast.Global, small).names)
            elif t is ast.Assign:
                a = cast(ast.Assign, small)
                if len(a.targets) == 1 and type(a.targets[0]) is ast.Name and cast(ast.Name, a.targets[0]).id in declared and type(a.value) is ast.Call:
                    summary = summarise_call(cast(ast.Call, a.value), self.resolver)
                    if summary:
                        self.module_calls.append((cast(ast.Name, a.targets[0]).id, summary))

    def _module_statement(self, small: ast.stmt) -> None:
        """A module-level assignment (names, calls, strings, ``urlpatterns``) or route registration."""
        resolver = self.resolver
        t = type(small)
        if t is ast.Assign or t is ast.AnnAssign:
            value = cast(Any, small).value
            targets = cast(ast.Assign, small).targets if t is ast.Assign else [cast(ast.AnnAssign, small).target]
            for target in targets:
                for name in A.target_names(target):
                    self.module_names.append(name)
                    if type(value) is ast.Call:
                        summary = summarise_call(value, resolver)
                        if summary:
                            self.module_calls.append((name, summary))
                    s = A.string_value(value) if value is not None else None
                    if s is not None:
                        self.module_strings.append((name, s))
                    if type(target) is ast.Name and (A.is_name(value) or type(value) is ast.Attribute) and resolver.is_imported(A.dotted(value) or ""):
                        # ``get_dbconn = database.get_dbconn``: another name for an imported one
                        self.aliases.append((name, cast(str, resolver.qualify(A.dotted(value)))))
            if isinstance(value, (ast.List, ast.Tuple)) and any(n == "urlpatterns" for target in targets for n in A.target_names(target)):
                self._add_routes(_route_views(value, resolver))
                self.url_includes.extend(_url_includes(value, resolver))
            elif isinstance(value, (ast.List, ast.Tuple, ast.Call)):
                self._add_routes(_starlette_routes(value, resolver))
        elif t is ast.AugAssign and A.dotted(cast(ast.AugAssign, small).target) == "urlpatterns":
            self._add_routes(_route_views(cast(ast.AugAssign, small).value, resolver))
            self.url_includes.extend(_url_includes(cast(ast.AugAssign, small).value, resolver))
        elif t is ast.Expr and type(cast(ast.Expr, small).value) is ast.Call and A.call_name(cast(Any, small).value) in REGISTER_FUNCS:
            self._add_routes(_registered_views(cast(Any, small).value, resolver))
        elif t is ast.Expr and type(cast(ast.Expr, small).value) is ast.Call:
            for node in A.walk(cast(ast.Expr, small).value):  # ``threading.Timer(30, report).start()``
                if type(node) is ast.Call:
                    self._registrations(cast(ast.Call, node), None)
        elif t is ast.Expr and type(cast(ast.Expr, small).value) is ast.Call and A.call_name(cast(Any, small).value) in TEARDOWN_HOOKS:
            self.teardowns.append(A.code(cast(Any, small).value.func))  # (never reached, as in ``facts.py``)

    def _registrations(self, call: ast.Call, cls: Optional[str]) -> None:
        """A call that registers a view (``app.add_url_rule("/", view_func=index)``) or a
        scheduled callback (``io_loop.call_later(5, on_timeout)``)."""
        if A.call_name(call) in REGISTER_FUNCS:
            self._add_routes(_registered_views(call, self.resolver))
        callback = _scheduled_callback(call, self.resolver, cls)
        if callback is not None:
            self.scheduled.append(callback)

    def _add_routes(self, pairs: List[Tuple[str, Optional[str]]]) -> None:
        for name, route in pairs:
            self.routes.append(name)
            if route is not None:
                self.route_paths.append((name, route))


def _declared_attr(fn: Any) -> Optional[ast.Call]:
    """The call a SQLAlchemy ``@declared_attr`` method ends by returning (``return
    relationship("Comment")``): the attribute it declares on every mapped subclass."""
    if not any(d.split(".")[-1] in ("declared_attr", "cascading", "directive") and "declared_attr" in d for d in A.decorator_names(fn)):
        return None
    body = fn.body if _indented(fn.body) else []
    if not body:
        return None
    i = len(body) - 1
    while i > 0 and not A.begins_line(body[i]):
        i -= 1  # libcst looks at the first statement of the last line (``x = 1; return f()``: none)
    first = body[i]
    if type(first) is ast.Return and type(first.value) is ast.Call:  # type: ignore[attr-defined]
        return first.value  # type: ignore[attr-defined]
    return None


def _scheduled_callback(call: ast.Call, resolver: Resolver, cls: Optional[str]) -> Optional[str]:
    """The function ``call`` hands to a scheduler (qualified; ``self.tick`` as the method of
    ``cls``), or None."""
    name = A.call_name(call)
    spec = SCHEDULERS.get(name or "")
    if spec is None:
        return None
    dotted = A.dotted(call.func) or ""
    if name == "Timer" and resolver.qualify(dotted) != "threading.Timer":
        return None  # timeit's, a test double's
    if name == "do" and "every(" not in A.code(call.func):
        return None  # only ``schedule.every(10).minutes.do(job)``
    if name in ("enter", "enterabs") and len(call.args) + len(call.keywords) < 3:
        return None
    callback = A.arg(call, cast(int, spec[0]), cast(str, spec[1]))
    target = A.dotted(callback) if callback is not None else None
    if not target:
        return None
    if target.startswith("self.") and target.count(".") == 1:
        return f"{cls}.{target[5:]}" if cls else None
    return resolver.qualify(target) or target


def _class_attr(name: str, value: Optional[ast.AST], annotation: Optional[str], resolver: Resolver) -> ClassAttr:
    if isinstance(value, ast.Call):
        return ClassAttr(name, summarise_call(value, resolver), annotation)
    return ClassAttr(name, None, annotation, summarise_value(value, resolver) if value is not None else None)


def _registered_views(call: ast.Call, resolver: Resolver) -> List[Tuple[str, Optional[str]]]:
    """The view a registration call names: ``view_func=``/``endpoint=``/``handler=`` or by
    position, with the route it is registered under (``add_url_rule("/x", ...)``,
    ``router.register("books", BookViewSet)``, aiohttp's ``add_route("POST", "/x", handler)``)."""
    view = A.arg(call, keyword="view_func") or A.arg(call, keyword="endpoint") or A.arg(call, keyword="handler") or A.arg(call, keyword="viewset")
    if view is None or A.string_value(view) is not None:
        position = 2 if A.call_name(call) == "add_url_rule" else (0 if A.call_name(call) == "add_resource" else 1)
        view = A.arg(call, position)
    if isinstance(view, ast.Call) and A.call_name(view) == "as_view":
        view = view.func.value if isinstance(view.func, ast.Attribute) else view
    elif isinstance(view, ast.Call) and not view.args and not view.keywords:
        view = view.func  # ``app.add_route("/x", Resource())`` (falcon): an instance of a class
    name = A.dotted(view) if view is not None else None
    if not name:
        return []
    strings = [v for v in (A.string_value(value) for kw, _star, value in A.call_args(call) if kw is None) if v is not None]
    method = (A.call_name(call) or "").rpartition("_")[2].upper()
    if len(strings) >= 2 and strings[0].upper() in HTTP_METHODS:
        route: Optional[str] = f"{strings[0].upper()} {strings[1]}"
    elif strings:
        route = f"{method} {strings[0]}" if method in HTTP_METHODS else strings[0]
    else:
        route = None
    return [(resolver.qualify(name) or name, route)]


def _route_views(node: ast.AST, resolver: Resolver) -> List[Tuple[str, Optional[str]]]:
    """Views named in ``path("x/", views.thing)`` / ``path(..., View.as_view())`` entries, with the
    route as written (relative to where the module is included)."""
    out: List[Tuple[str, Optional[str]]] = []
    for n in A.walk(node):
        if type(n) is ast.Call and A.call_name(n) in ROUTE_FUNCS and len(n.args) + len(n.keywords) >= 2:  # type: ignore[attr-defined, arg-type]
            args = A.call_args(cast(ast.Call, n))
            view = args[1][2]
            if isinstance(view, ast.Call) and A.call_name(view) == "as_view":
                view = view.func.value if isinstance(view.func, ast.Attribute) else view
            name = A.dotted(view)
            if name:
                out.append((resolver.qualify(name) or name, A.string_value(args[0][2])))
    return out


def _starlette_routes(node: ast.expr, resolver: Resolver) -> List[Tuple[str, Optional[str]]]:
    """``routes = [Route("/users", list_users, methods=["GET"])]`` and ``Starlette(routes=[...])``."""
    if isinstance(node, ast.Call) and A.call_name(node) not in ("Starlette", "Router", "Mount", "FastAPI"):
        return []
    out: List[Tuple[str, Optional[str]]] = []
    for n in A.walk(node):
        if type(n) is ast.Call and A.call_name(n) in STARLETTE_ROUTES and (n.args or n.keywords):  # type: ignore[attr-defined, arg-type]
            call = cast(ast.Call, n)
            path = A.string_value(A.call_args(call)[0][2])
            endpoint = A.arg(call, 1) or A.arg(call, keyword="endpoint")
            name = A.dotted(endpoint) if endpoint is not None else None
            if path is None or not name:
                continue
            methods_arg = A.arg(call, keyword="methods")
            methods = [m.upper() for m in (A.string_value(_element(e)) for e in methods_arg.elts) if m] if isinstance(methods_arg, (ast.List, ast.Tuple)) else []
            out.append((resolver.qualify(name) or name, f"{'|'.join(methods)} {path}" if methods else path))
    return out


def _url_includes(node: ast.AST, resolver: Resolver) -> List[Tuple[str, str]]:
    """``path("api/", include("shop.urls"))`` / ``include(shop_urls)``: (prefix, module)."""
    out = []
    for n in A.walk(node):
        if type(n) is ast.Call and A.call_name(n) in ROUTE_FUNCS and len(n.args) + len(n.keywords) >= 2:  # type: ignore[attr-defined, arg-type]
            args = A.call_args(cast(ast.Call, n))
            prefix, inc = A.string_value(args[0][2]), args[1][2]
            if prefix is None or not (isinstance(inc, ast.Call) and A.call_name(inc) == "include" and (inc.args or inc.keywords)):
                continue
            target = A.call_args(inc)[0][2]
            if isinstance(target, ast.Tuple) and target.elts:  # ``include(("shop.urls", "shop"))``
                target = _element(target.elts[0])
            module = A.string_value(target)
            if module is None and (A.is_name(target) or isinstance(target, ast.Attribute)):
                module = resolver.qualify(A.dotted(target) or "") or A.dotted(target)
            if module:
                out.append((prefix, module))
    return out


def _decorator_routes(fn: Any, qualname: str) -> List[Tuple[str, str]]:
    """``("app.views.checkout", "POST /checkout")`` for ``@bp.route("/checkout", methods=["POST"])``."""
    out = []
    for call in fn.decorator_list:
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr in ROUTE_DECORATORS and (call.args or call.keywords)):
            continue
        keyword, _star, first = A.call_args(call)[0]
        path = A.string_value(first) if keyword is None else None
        if path is None:
            continue
        verb = call.func.attr.upper()
        methods_arg = A.arg(call, keyword="methods")
        methods = [m.upper() for m in (A.string_value(_element(e)) for e in methods_arg.elts) if m] if isinstance(methods_arg, (ast.List, ast.Tuple)) else []
        if verb in HTTP_METHODS:
            methods = [verb]
        out.append((qualname, f"{'|'.join(methods)} {path}" if methods else path))
    return out


def _dependencies(module_node: ast.Module, imports: Dict[str, str], resolver: Resolver) -> Tuple[str, ...]:
    """Functions named in ``Depends(get_db)`` / ``Security(f)`` anywhere in the file (FastAPI).

    Only files that import ``Depends``/``Security`` are walked (cheap for everything else).
    """
    local = {k for k, v in imports.items() if v.rsplit(".", 1)[-1] in ("Depends", "Security")}
    if not local and not any(v.split(".")[0] == "fastapi" for v in imports.values()):
        return ()
    out: List[str] = []
    for node in A.walk(module_node):
        if type(node) is ast.Call and (node.args or node.keywords) and (A.call_name(node) in ("Depends", "Security") or A.dotted(node.func) in local):  # type: ignore[attr-defined, arg-type]
            name = A.dotted(A.call_args(cast(ast.Call, node))[0][2])
            if name:
                out.append(resolver.qualify(name) or name)
    return tuple(dict.fromkeys(out))


def _record_call(node: ast.Call, cls: Optional[str], resolver: Resolver, imports: Dict[str, str], project_prefix: str,
                 calls: List[str], targets: dict, call_consts: list) -> None:
    """A call's target in ``calls`` (and ``targets``), and in ``call_consts`` when a project
    function may own it."""
    target = A.call_target(node.func)
    if not target:
        return
    head = target.split(".")[0]
    if head in ("self", "cls") and cls:
        calls.append(target)
    else:
        calls.append(resolver.qualify(target) or target)
    targets[id(node)] = (node, calls[-1])
    if (node.args or node.keywords) and (
        calls[-1].startswith(project_prefix)
        or head in ("self", "cls")
        or (head in imports and calls[-1].split(".")[0] not in STDLIB)
    ):  # a call another top-level package of the project may own (``util.migrate.copy_table(...)`` from ``data/``)
        call_consts.append((calls[-1], node))
