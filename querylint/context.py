"""The per-file context rules read while the engine walks a tree.

One walk per file and per pass: the engine pushes a *frame* for the module and for every
``def``/``lambda``/``class``, and a *loop* for every per-item region inside the current frame:
``for``/``async for``/``while`` bodies, and a comprehension's element, conditions and every
``for`` clause after the first (the first iterable runs once, so does a loop's ``else:``).
A nested ``def`` inside a loop starts a fresh frame with no loops.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union, Callable, Dict, List, Optional, Sequence, Tuple

import libcst as cst

from querylint import nodes as N
from querylint.codes import finding_codes
from querylint.run.config import Config
from querylint.project.facts import FileFacts, FunctionFacts, Resolver
from querylint.project.index import ProjectIndex
from querylint.positions import Positions
from querylint.types import Severity, Span

COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)


@dataclass
class Loop:
    node: cst.CSTNode  # For, While, or the comprehension node
    kind: str  # "for", "async for", "while", "comprehension", "key" (a ``sorted(..., key=lambda r: ...)`` lambda)
    iter: Optional[cst.BaseExpression]
    target: Optional[cst.BaseExpression]
    clause: Optional[cst.CompFor] = None  # the comprehension clause

    def binds(self, name: str) -> bool:
        return self.target is not None and name in N.target_names(self.target)

    @property
    def is_async(self) -> bool:
        if self.kind == "async for":
            return True
        return self.clause is not None and self.clause.asynchronous is not None


@dataclass
class Frame:
    kind: str  # "module", "function", "lambda", "class"
    node: cst.CSTNode
    qualname: str
    loops: List[Loop] = field(default_factory=list)
    facts: Optional[FunctionFacts] = None


@dataclass
class Binding:
    name: str
    kind: str  # assign, annassign, augassign, for, comprehension, with, param, import, def, class, walrus, except, match
    node: cst.CSTNode  # the binding statement (Assign, For, WithItem, Param, ...)
    value: Optional[cst.BaseExpression]  # the value bound (RHS, iterable, context expression), when known
    target: Optional[cst.CSTNode]  # the whole target (to tell ``a`` from ``a, b = ...``)
    end: int  # ordinal after which the binding is visible
    scope: Optional["Scope"] = field(repr=False, default=None)

    @property
    def is_simple(self) -> bool:
        """True when the name is the whole target (``x = ...``, not ``x, y = ...``)."""
        return isinstance(self.target, cst.Name)


_SCOPE_TYPES = frozenset((cst.FunctionDef, cst.ClassDef, cst.Lambda))
_BINDERS = frozenset((
    cst.Assign, cst.AnnAssign, cst.AugAssign, cst.For, cst.WithItem, cst.NamedExpr, cst.FunctionDef,
    cst.ClassDef, cst.Import, cst.ImportFrom, cst.ExceptHandler, cst.Global, cst.Nonlocal,
))


class Scope:
    """Bindings of one function (or the module), in source order. Built on demand."""

    def __init__(self, node: cst.CSTNode, params: Sequence[cst.Param] = ()):
        self.node = node
        self.ordinal: Dict[int, int] = {}
        self.bindings: Dict[str, List[Binding]] = {}
        self.globals: set = set()
        for p in params:
            self._add(p.name.value, "param", p, p.default, p.name, -1)
        body = node.body if isinstance(node, (cst.FunctionDef, cst.Lambda)) else node
        self._walk(body)

    def _add(self, name, kind, node, value, target, end):
        self.bindings.setdefault(name, []).append(Binding(name, kind, node, value, target, end, self))

    def _walk(self, root: cst.CSTNode) -> None:
        counter = 0
        pending: List[Tuple[cst.CSTNode, bool]] = [(root, False)]
        ends: Dict[int, int] = {}
        order: List[cst.CSTNode] = []
        while pending:
            node, done = pending.pop()
            if done:
                ends[id(node)] = counter - 1
                continue
            self.ordinal[id(node)] = counter
            counter += 1
            order.append(node)
            pending.append((node, True))
            if node is not root and type(node) in _SCOPE_TYPES:
                continue
            kids = list(N.children(node))
            kids.reverse()
            pending.extend((k, False) for k in kids)
        self.ends = ends
        for node in order:
            self._bind(node, ends)

    def _bind(self, node, ends) -> None:
        if type(node) not in _BINDERS:  # most nodes bind nothing: skip the isinstance chain (hot path)
            return
        end = ends.get(id(node), self.ordinal.get(id(node), 0))
        if isinstance(node, cst.Assign):
            for t in node.targets:
                for name in N.target_names(t.target):
                    self._add(name, "assign", node, node.value, t.target, end)
        elif isinstance(node, cst.AnnAssign):
            for name in N.target_names(node.target):
                self._add(name, "annassign", node, node.value, node.target, end)
        elif isinstance(node, cst.AugAssign):
            for name in N.target_names(node.target):
                self._add(name, "augassign", node, node.value, node.target, end)
        elif isinstance(node, cst.For):
            iter_end = ends.get(id(node.iter), end)
            for name in N.target_names(node.target):
                self._add(name, "for", node, node.iter, node.target, iter_end)
        elif isinstance(node, cst.WithItem) and node.asname is not None:
            for name in N.target_names(node.asname.name):
                self._add(name, "with", node, node.item, node.asname.name, end)
        elif isinstance(node, cst.NamedExpr):
            for name in N.target_names(node.target):
                self._add(name, "walrus", node, node.value, node.target, end)
        elif isinstance(node, (cst.FunctionDef, cst.ClassDef)) and node is not self.node:
            self._add(node.name.value, "def" if isinstance(node, cst.FunctionDef) else "class", node, None, node.name, self.ordinal[id(node)])
        elif isinstance(node, (cst.Import, cst.ImportFrom)) and not isinstance(node.names, cst.ImportStar):
            for alias in node.names:
                if alias.asname is not None:
                    names = N.target_names(alias.asname.name)
                else:
                    names = [(N.dotted(alias.name) or "").split(".")[0]]
                for name in names:
                    self._add(name, "import", node, None, None, end)
        elif isinstance(node, cst.ExceptHandler) and node.name is not None:
            for name in N.target_names(node.name.name):
                self._add(name, "except", node, None, node.name.name, self.ordinal[id(node)])
        elif isinstance(node, (cst.Global, cst.Nonlocal)):
            for n in node.names:
                self.globals.add(n.name.value)

    def before(self, name: str, at: Optional[cst.CSTNode]) -> List[Binding]:
        """Bindings of ``name`` visible at ``at`` (all of them when ``at`` is not in this scope)."""
        found = self.bindings.get(name, [])
        if at is None or id(at) not in self.ordinal:
            return list(found)
        pos = self.ordinal[id(at)]
        return [b for b in found if b.end < pos]

    def is_reassigned(self, name: str) -> bool:
        return len([b for b in self.bindings.get(name, []) if b.kind != "param"]) > 1


class Context:
    """What a rule can ask about the file being linted. Read-only for rules except :meth:`report`."""

    def __init__(
        self,
        *,
        path: str,
        relpath: str,
        source: str,
        module: cst.Module,
        facts: FileFacts,
        index: ProjectIndex,
        config: Config,
        file: Optional[str] = None,
    ):
        self.path = path
        self.file = file  # the file's path as discovered (absolute, or relative to the process's cwd)
        self.relpath = relpath
        self.source = source
        self.module_node = module
        self.facts = facts
        self.index = index
        self.config = config
        self.module = facts.module
        imports = {**index.star_names(facts), **facts.import_map()}
        defs = {n: f"{facts.module}.{n}" for n in facts.module_names}
        self.resolver = Resolver(facts.module, imports, defs)
        self.is_migration = config.is_migration(relpath)
        self.is_test = config.is_test(relpath)
        self.stack: List[cst.CSTNode] = []
        self.frames: List[Frame] = []
        self._parents: Dict[int, Optional[cst.CSTNode]] = {}
        self._positions: Optional[Positions] = None
        self._scopes: Dict[int, Scope] = {}
        self._functions_by_qualname = {f.qualname: f for f in facts.functions}
        self._cache: Dict[Any, Any] = {}
        self.reports: List["Report"] = []

    # ------------------------------------------------------------------ structure

    @property
    def node(self) -> Optional[cst.CSTNode]:
        return self.stack[-1] if self.stack else None

    @property
    def parent(self) -> Optional[cst.CSTNode]:
        return self.stack[-2] if len(self.stack) > 1 else None

    def parent_of(self, node: cst.CSTNode) -> Optional[cst.CSTNode]:
        """The parent of ``node``. The walker records parents as it enters nodes; a node it has not
        reached yet (later in the function) gets its parent by filling the enclosing function's
        subtree once (then the module's), so rules never fill the map themselves."""
        parent = self._parents.get(id(node))
        if parent is not None or node is self.module_node:
            return parent
        fn = self.function
        for root in ((fn.node,) if fn is not None else ()) + (self.module_node,):
            if self._fill_parents(root):
                parent = self._parents.get(id(node))
                if parent is not None:
                    return parent
        return None

    def _fill_parents(self, root: cst.CSTNode) -> bool:
        """Record the parent of every node below ``root`` (once per root); False when done before."""
        key = ("parents-filled", id(root))
        if key in self._cache:
            return False
        self._cache[key] = True
        parents = self._parents
        stack = [root]
        while stack:
            cur = stack.pop()
            for c in N.children(cur):
                parents.setdefault(id(c), cur)
                stack.append(c)
        return True

    def ancestors(self, node: Optional[cst.CSTNode] = None):
        """Ancestors of ``node`` (default: the current node), innermost first."""
        node = node if node is not None else self.node
        current = self._parents.get(id(node)) if node is not None else None
        while current is not None:
            yield current
            current = self._parents.get(id(current))

    def statement_of(self, node: cst.CSTNode) -> cst.CSTNode:
        """The innermost statement containing ``node`` (a small statement or a compound one)."""
        current: Optional[cst.CSTNode] = node
        while current is not None:
            if isinstance(current, (cst.BaseSmallStatement, cst.BaseCompoundStatement)):
                return current
            current = self._parents.get(id(current))
        return node

    @property
    def frame(self) -> Frame:
        return self.frames[-1]

    @property
    def function(self) -> Optional[Frame]:
        """The innermost enclosing ``def`` frame (lambdas skipped), or None at module/class level."""
        for f in reversed(self.frames):
            if f.kind == "function":
                return f
        return None

    @property
    def class_frame(self) -> Optional[Frame]:
        """The class whose method we are in (``self``'s class), or the class body we are in."""
        for i in range(len(self.frames) - 1, -1, -1):
            f = self.frames[i]
            if f.kind == "class":
                return f
            if f.kind == "function":
                # a method: the frame right above is the class
                if i > 0 and self.frames[i - 1].kind == "class":
                    return self.frames[i - 1]
                return None
        return None

    @property
    def loops(self) -> List[Loop]:
        """Per-item regions enclosing the current node in the current frame, outermost first."""
        return self.frame.loops if self.frames else []

    @property
    def loop(self) -> Optional[Loop]:
        loops = self.loops
        return loops[-1] if loops else None

    def loop_binding(self, name: str) -> Optional[Loop]:
        """The innermost enclosing loop whose target binds ``name``."""
        for loop in reversed(self.loops):
            if loop.binds(name):
                return loop
        return None

    # ------------------------------------------------------------------ names

    def qualify(self, expr: Union[cst.CSTNode, str, None]) -> Optional[str]:
        """Dotted name of a Name/Attribute chain, its head resolved through imports and module defs."""
        name = N.dotted(expr) if not isinstance(expr, str) else expr
        if name is None:
            return None
        head = name.split(".")[0]
        # a local binding shadows an import of the same name
        if self.frames and self.function is not None:
            scope = self.scope()
            local = [b for b in scope.bindings.get(head, []) if b.kind != "import"]
            if local:
                return name
        q = self.resolver.qualify(name)
        # a library name imported through a project module (``from .compat import sqlite3``)
        return self.index.library_name(q) if q and head in self.resolver.imports else q

    def is_imported_from(self, expr, *modules: str) -> bool:
        q = self.qualify(expr)
        return q is not None and bool(q) and any(q == m or q.startswith(m + ".") for m in modules)

    def scope(self, frame: Optional[Frame] = None) -> Scope:
        frame = frame or self.function or (self.frames[0] if self.frames else None)
        node = frame.node if frame else self.module_node
        scope = self._scopes.get(id(node))
        if scope is None:
            params: Sequence[cst.Param] = ()
            if isinstance(node, (cst.FunctionDef, cst.Lambda)):
                p = node.params
                params = list(p.posonly_params) + list(p.params) + list(p.kwonly_params)
                if isinstance(p.star_arg, cst.Param):
                    params.append(p.star_arg)
                if p.star_kwarg is not None:
                    params.append(p.star_kwarg)
            scope = Scope(node, params)
            self._scopes[id(node)] = scope
        return scope

    def module_scope(self) -> Scope:
        return self.scope(self.frames[0]) if self.frames else Scope(self.module_node)

    def bindings(self, name: str, at: Optional[cst.CSTNode] = None) -> List[Binding]:
        """Bindings of ``name`` visible at ``at`` (default: the current node), in source order.

        Looks in the current function first, then enclosing functions, then the module.
        """
        at = at if at is not None else self.node
        for frame in reversed(self.frames):
            if frame.kind == "class":
                continue
            scope = self.scope(frame) if frame.kind != "module" else self.module_scope()
            found = scope.before(name, at) if frame is (self.function or self.frames[0]) else scope.bindings.get(name, [])
            if found:
                return found
        return []

    def binding(self, name: str, at: Optional[cst.CSTNode] = None) -> Optional[Binding]:
        """The latest binding of ``name`` before ``at``."""
        found = self.bindings(name, at)
        return found[-1] if found else None

    def function_facts(self, frame: Optional[Frame] = None) -> Optional[FunctionFacts]:
        frame = frame or self.function
        return frame.facts if frame else None

    # ------------------------------------------------------------------ positions

    def span(self, node: cst.CSTNode) -> Span:
        if self._positions is None:
            self._positions = Positions(self.module_node)
        pos = self._positions.get(node)
        if pos is None:
            return Span(1, 1, 1, 1)
        return Span(pos[0], pos[1] + 1, pos[2], pos[3] + 1)

    def line(self, node: cst.CSTNode) -> int:
        return self.span(node).line

    def loop_line(self, loop: Loop) -> int:
        if loop.clause is not None:
            return self.line(loop.clause)
        return self.line(loop.node)

    def loop_label(self, loop: Optional[Loop] = None) -> str:
        """``the loop at line 12`` / ``the comprehension at line 12`` / ``the while loop at line 12``."""
        loop = loop or self.loop
        if loop is None:
            return "the loop"
        word = {"for": "loop", "async for": "async for loop", "while": "while loop", "comprehension": "comprehension", "key": "sort key"}[loop.kind]
        return f"the {word} at line {self.loop_line(loop)}"

    # ------------------------------------------------------------------ memo

    def memo(self, key: Any, compute: Callable[[], Any]) -> Any:
        """Per-file memo shared by every rule (e.g. an inference over one expression)."""
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    def memo_guarded(self, key: Any, compute: Callable[[], Any]) -> Any:
        """:meth:`memo` for recursive inference: while ``key`` is being computed, asking for it
        again answers None (a cycle such as ``a = b; b = a`` ends instead of recursing)."""
        cache = self._cache
        if key in cache:
            return cache[key]
        cache[key] = None
        got = compute()
        cache[key] = got
        return got

    def remember(self, key: Any, value: Any) -> None:
        """Store ``value`` under ``key`` in the per-file memo (for answers found for many keys at once)."""
        self._cache[key] = value

    def fill_parents(self, root: cst.CSTNode) -> None:
        """Make :meth:`parent_of` answer for every node below ``root`` (a def entered out of order)."""
        self._fill_parents(root)
        self._parents.setdefault(id(root), None)

    def in_this_file(self, node: cst.CSTNode) -> bool:
        """Whether ``node`` belongs to this file's tree (not to another file's, read from the index)."""
        return node is self.module_node or self.parent_of(node) is not None

    def facts_of(self, qualname: str) -> Optional[FunctionFacts]:
        """The index facts of a function of this file, by qualified name."""
        return self._functions_by_qualname.get(qualname)

    # ------------------------------------------------------------------ reporting

    def report(self, rule, node: cst.CSTNode, message: str, severity: Optional[Severity] = None, notes: Sequence[str] = (), variant: Optional[str] = None, fix: Optional[str] = None, confidence: str = "high", edits: Sequence[Any] = (), fix_safety: str = "safe") -> None:
        fn = self.function
        self.reports.append(
            Report(
                rule=rule,
                node=node,
                message=message,
                severity=severity,
                notes=tuple(notes),
                function=fn.qualname if fn else None,
                codes=finding_codes(rule, variant),
                fix=fix,
                confidence=confidence,
                loops=tuple(self.loops),
                edits=tuple(edits),
                fix_safety=fix_safety,
            )
        )


@dataclass
class Report:
    rule: Any
    node: cst.CSTNode
    message: str
    severity: Optional[Severity]
    notes: Tuple[str, ...]
    function: Optional[str]
    codes: Tuple[str, ...] = ()  # the rule's code, then the alias of the variant that reported
    fix: Optional[str] = None
    confidence: str = "high"  # the rule's own; capped by where the code runs (querylint/project/contexts.py)
    loops: Tuple["Loop", ...] = ()  # the loops around the node when it was reported, outermost first
    edits: Tuple[Any, ...] = ()  # the fix as edits of the file (``querylint.types.Edit``)
    fix_safety: str = "safe"  # "unsafe": the fix may change behaviour beyond the number of queries
