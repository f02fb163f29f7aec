"""Line and column of libcst nodes, the positions libcst's ``PositionProvider`` gives, at a
fraction of its cost.

``PositionProvider`` tracks the line and column after every token with a regular expression,
builds a position object and a generator-based context manager per node, and its resolver then
visits the whole tree again for batchable providers it was not asked for. Here the codegen only
records, per node, how many tokens had been written when it started and ended; the few nodes a
report asks about are turned into lines and columns afterwards, by bisecting the newline offsets
of the generated text. The rules for which token starts and ends a node (a node's syntactic
start, positions hoisted from child nodes) are libcst's own: the same codegen calls are followed.
"""
from __future__ import annotations

import bisect
import re
from itertools import accumulate
from typing import Dict, List, Optional, Tuple

import libcst as cst
from libcst._nodes.internal import CodegenState

NEWLINE_RE = re.compile(r"\r\n?|\n")

Range = Tuple[int, int, int, int]  # start line (1-based), start column (0-based), end line, end column


class _Syntactic:
    """The context manager a node opens around its syntactic part (libcst's
    ``record_syntactic_position``), without a generator per node."""

    __slots__ = ("state", "node", "start_node", "end_node", "start")

    def __init__(self, state: "_TokenCounter", node, start_node, end_node) -> None:
        self.state = state
        self.node = node
        self.start_node = start_node
        self.end_node = end_node
        self.start = 0

    def __enter__(self) -> None:
        self.start = len(self.state.tokens)

    def __exit__(self, *_exc) -> None:
        marks = self.state.marks
        start = marks[self.start_node][0] if self.start_node is not None else self.start
        end = marks[self.end_node][1] if self.end_node is not None else len(self.state.tokens)
        marks[self.node] = (start, end)


class _TokenCounter(CodegenState):
    """Codegen that marks each node with the token counts at its start and end."""

    def __init__(self, module: cst.Module) -> None:
        super().__init__(default_indent=module.default_indent, default_newline=module.default_newline)
        self.marks: Dict[cst.CSTNode, Tuple[int, int]] = {}
        self.stack: List[int] = []

    def before_codegen(self, node: cst.CSTNode) -> None:
        self.stack.append(len(self.tokens))

    def after_codegen(self, node: cst.CSTNode) -> None:
        start = self.stack.pop()
        if node not in self.marks:  # a syntactic position already recorded wins
            self.marks[node] = (start, len(self.tokens))

    def pop_trailing_newline(self) -> None:
        pass  # positions were taken with it; the text itself is never used

    def record_syntactic_position(self, node, *, start_node=None, end_node=None):  # type: ignore[override]
        return _Syntactic(self, node, start_node, end_node)


class Positions:
    """The position of any node of one module, computed on first use."""

    def __init__(self, module: cst.Module) -> None:
        state = _TokenCounter(module)
        module._codegen(state)
        self._marks = state.marks
        tokens = state.tokens
        self._offsets = [0, *accumulate(map(len, tokens))]  # characters before token i
        self._newline_ends = [m.end() for m in NEWLINE_RE.finditer("".join(tokens))]

    def _point(self, token_count: int) -> Tuple[int, int]:
        offset = self._offsets[token_count]
        lines = bisect.bisect_right(self._newline_ends, offset)
        return lines + 1, offset - (self._newline_ends[lines - 1] if lines else 0)

    def get(self, node: cst.CSTNode) -> Optional[Range]:
        mark = self._marks.get(node)
        if mark is None:
            return None
        return (*self._point(mark[0]), *self._point(mark[1]))
