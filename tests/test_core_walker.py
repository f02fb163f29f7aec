"""The walker's frame/loop stacks, bindings and loop classification (the engine's contract with rules)."""
import libcst as cst

from querylint.run.config import Config
from querylint.context import Context
from querylint.project.facts import collect_facts
from querylint.project.index import ProjectIndex
from querylint.loops import classify_loop, per_item_loop
from querylint.rule import dedent
from querylint.walker import Walker


class Recorder:
    """Records, for every call to a function named ``probe``, what the context says."""

    code = "TEST"

    def __init__(self, ctx):
        self.ctx = ctx
        self.seen = []

    def visit_Call(self, node):
        if isinstance(node.func, cst.Name) and node.func.value == "probe":
            label = node.args[0].value.evaluated_value if node.args else None
            loop = per_item_loop(self.ctx)
            self.seen.append(
                (
                    label,
                    len(self.ctx.loops),
                    classify_loop(self.ctx.loop, self.ctx) if self.ctx.loop else None,
                    loop is not None,
                    self.ctx.function.qualname if self.ctx.function else None,
                )
            )


def run(source, relpath="pkg/mod.py", visitor_cls=Recorder):
    module = cst.parse_module(dedent(source))
    facts = collect_facts(module, relpath)
    ctx = Context(path=relpath, relpath=relpath, source=source, module=module, facts=facts, index=ProjectIndex([facts]), config=Config())
    v = visitor_cls(ctx)
    errors = []
    Walker(ctx, [v], lambda vis, node, exc: errors.append(exc)).run()
    assert errors == []
    return {s[0]: s[1:] for s in v.seen}, ctx


def test_for_body_is_per_item_but_iterable_and_else_are_not():
    seen, _ = run(
        """
        def f(items):
            for x in probe("iter"):
                probe("body")
            else:
                probe("else")
        """
    )
    assert seen["iter"][0] == 0
    assert seen["body"] == (1, "items", True, "pkg.mod.f")
    assert seen["else"][0] == 0


def test_comprehension_first_iterable_runs_once_later_clauses_per_item():
    seen, _ = run(
        """
        def f(rows):
            return [probe("elt") for r in probe("first") if probe("cond") for c in probe("second")]
        """
    )
    assert seen["first"][0] == 0
    assert seen["cond"][0] == 1
    assert seen["second"][0] == 1
    assert seen["elt"][0] == 2


def test_def_inside_loop_starts_a_fresh_frame():
    seen, _ = run(
        """
        def outer(items):
            for x in items:
                def inner():
                    probe("inner")
                lam = lambda: probe("lambda")
                probe("after")
        """
    )
    assert seen["inner"][0] == 0
    assert seen["inner"][3] == "pkg.mod.outer.inner"
    assert seen["lambda"][0] == 0
    assert seen["after"][0] == 1


def test_while_test_is_outside_body_inside():
    seen, _ = run(
        """
        def f(queue):
            while probe("test") and queue:
                queue.pop()
                probe("body")
        """
    )
    assert seen["test"][0] == 0
    assert seen["body"][:3] == (1, "items", True)


def test_a_while_loop_is_per_item_only_when_it_walks_a_collection():
    seen, _ = run(
        """
        def f(codes, cur, node, queue, done, rounds):
            i = 0
            while i < len(codes):
                probe("index")
                code = codes[i]
                i += 1
            while queue:
                item = queue.popleft()
                probe("queue")
            row = cur.fetchone()
            while row is not None:
                probe("cursor")
                row = cur.fetchone()
            while node is not None:
                probe("chain")
                node = node.parent
            has_changes = True
            while has_changes:
                has_changes = probe("fixed-point")
            while len(done) < MAX_TEAMS:
                done.add(probe("bounded"))
            not_unique = True
            while not_unique:
                not_unique = probe("retry-until-unique")
            to_visit = set(queue)
            while to_visit:
                batch = list(to_visit)
                to_visit = probe("level")
        """
    )
    for label in ("index", "queue", "cursor", "chain"):
        assert seen[label][1:3] == ("items", True), label
    for label in ("fixed-point", "bounded", "retry-until-unique", "level"):
        assert seen[label][1:3] == ("poll", False), label


def test_loop_classification():
    seen, _ = run(
        """
        NAMES = ["a", "b"]
        def f(ids, rows, retries):
            for t in ("x", "y"):
                probe("literal")
            for n in NAMES:
                probe("upper-constant")
            for i in range(3):
                probe("range-literal")
            for chunk in chunked(ids, 100):
                probe("chunk")
            for start in range(0, len(ids), 500):
                probe("range-step")
            for attempt in range(retries):
                probe("retry")
            while True:
                probe("poll")
                break
            for row in rows:
                probe("items")
            for i in range(len(rows)):
                probe("range-len")
        """
    )
    assert seen["literal"][1] == "constant"
    assert seen["upper-constant"][1] == "constant"
    assert seen["range-literal"][1] == "constant"
    assert seen["chunk"][1] == "batch"
    assert seen["range-step"][1] == "batch"
    assert seen["retry"][1] == "retry"
    assert seen["poll"][1] == "poll"
    assert seen["items"][1:3] == ("items", True)
    assert seen["range-len"][1:3] == ("items", True)


def test_nested_loops_report_the_per_item_one():
    seen, _ = run(
        """
        def f(rows):
            for row in rows:
                for attempt in range(3):
                    probe("inner")
        """
    )
    # the retry loop is not per item, but the outer loop is
    assert seen["inner"][0] == 2 and seen["inner"][2] is True


class BindingRecorder:
    code = "TEST"

    def __init__(self, ctx):
        self.ctx = ctx
        self.seen = {}

    def visit_Call(self, node):
        if isinstance(node.func, cst.Name) and node.func.value == "probe":
            name = node.args[0].value.evaluated_value
            b = self.ctx.binding(name, at=node)
            self.seen[(name, self.ctx.line(node))] = (b.kind, cst.Module([]).code_for_node(b.value)) if b and b.value is not None else (b.kind if b else None)


def test_binding_is_the_latest_before_the_use():
    source = """
        import psycopg2
        def f(request):
            qs = make()
            probe("qs")
            qs = qs.filter(a=1)
            probe("qs")
            for row in qs:
                probe("row")
            probe("request")
            probe("psycopg2")
        """
    module = cst.parse_module(dedent(source))
    facts = collect_facts(module, "m.py")
    ctx = Context(path="m.py", relpath="m.py", source=source, module=module, facts=facts, index=ProjectIndex([facts]), config=Config())
    v = BindingRecorder(ctx)
    Walker(ctx, [v], lambda *a: None).run()
    assert v.seen[("qs", 4)] == ("assign", "make()")
    assert v.seen[("qs", 6)] == ("assign", "qs.filter(a=1)")
    assert v.seen[("row", 8)] == ("for", "qs")
    assert v.seen[("request", 9)] == "param"
    assert v.seen[("psycopg2", 10)] == "import"


def test_qualify_resolves_imports_and_relative_imports():
    _, ctx = run(
        """
        from .models import Book as B
        from ..db import conn
        import sqlalchemy.orm as orm
        """,
        relpath="shop/sub/views.py",
    )
    assert ctx.resolver.qualify("B.objects") == "shop.sub.models.Book.objects"
    assert ctx.resolver.qualify("conn") == "shop.db.conn"
    assert ctx.resolver.qualify("orm.Session") == "sqlalchemy.orm.Session"


def test_a_branch_that_picks_one_item_of_the_loop_runs_at_most_once():
    seen, _ = run(
        """
        def f(fields, posts, thread):
            for field in fields:
                if field == "font_color":
                    probe("literal-pick")
            for post in posts:
                if post.id == thread.solution_id and thread.open:
                    probe("pk-pick")
                if post.status == "paid":
                    probe("attribute-filter")
                if post is None:
                    probe("none-check")
                if post == post.parent:
                    probe("item-vs-item")
                save_thread = False
                if thread.solution_id == post.id:
                    save_thread = True
                if thread.last_post_id == post.pk:
                    save_thread = True
                if save_thread:
                    probe("flag-of-picks")
                dirty = False
                if post.edited:
                    dirty = True
                if dirty:
                    probe("flag-of-filter")
        """
    )
    assert seen["literal-pick"][2] is False
    assert seen["pk-pick"][2] is False
    assert seen["flag-of-picks"][2] is False
    for label in ("attribute-filter", "none-check", "item-vs-item", "flag-of-filter"):
        assert seen[label][2] is True, label
