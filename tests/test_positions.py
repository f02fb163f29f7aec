"""querylint's node positions are libcst's PositionProvider's, node for node."""
from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from querylint.positions import Positions

ROOT = Path(__file__).resolve().parent.parent

SHAPES = {
    "decorators and comments": '''# header
import os


@decorator(  # why
    arg=1,
)
# between
@other
class A(Base):
    """Doc."""

    x: int = 1  # trailing

    def f(self, a, *, b=2):
        for row in (yield_rows()):
            if a: pass
            elif (b and
                  a):
                pass
        # footer comment
''',
    "windows newlines": "def f():\r\n    x = 1\r\n\r\n    return [y for y in x\r\n            if y]\r\n",
    "old mac newlines": "x = 1\ry = (2 +\r     3)\r",
    "strings spanning lines": 'sql = """\nSELECT *\nFROM t\n""" + f"{a!r:>{w}} and {b}"\nq = ("a" "b"\n     "c")\n',
    "no trailing newline": "a = [1,\n 2]",
    "empty": "",
    "only comments": "# one\n\n# two\n",
    "semicolons and continuations": "a = 1; b = 2\nc = a + \\\n    b\nwith open(p) as f, open(q) as g: pass\n",
    "async and match": "async def f():\n    async with s() as c:\n        async for r in c:\n            match r:\n                case {'k': v} if v:\n                    await g(v)\n",
}


def _pairs(module: cst.Module):
    ours = Positions(module)
    theirs = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    assert theirs, "libcst gave no positions"
    for node, r in theirs.items():
        yield type(node).__name__, ours.get(node), (r.start.line, r.start.column, r.end.line, r.end.column)


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_positions_match_libcst_on_every_node(name):
    for kind, got, want in _pairs(cst.parse_module(SHAPES[name])):
        assert got == want, (kind, got, want)


def test_positions_match_libcst_over_the_fixtures():
    files = sorted((ROOT / "fixtures").rglob("*.py"))
    assert len(files) > 100
    compared = 0
    for path in files:
        try:
            module = cst.parse_module(path.read_text(encoding="utf-8"))
        except cst.ParserSyntaxError:
            continue
        for kind, got, want in _pairs(module):
            assert got == want, (str(path), kind, got, want)
            compared += 1
    assert compared > 50_000


def test_a_node_of_another_tree_has_no_position():
    positions = Positions(cst.parse_module("x = 1\n"))
    assert positions.get(cst.parse_expression("x")) is None
