"""Helpers for the embedded-SQL tests: run the extraction over a snippet, one fact per line."""
from __future__ import annotations

from typing import Dict, List, Optional

import libcst as cst

from querylint.run.config import Config
from querylint.context import Context
from querylint.project.facts import collect_facts
from querylint.project.index import ProjectIndex
from querylint.sql.extract import EmbeddedSql, extract
from querylint.walker import Walker


def extract_all(source: str, others: Optional[Dict[str, str]] = None, config: Optional[Config] = None, relpath: str = "app/example.py") -> List[EmbeddedSql]:
    """Every EmbeddedSql found in ``source`` (``others``: more project files for the index)."""
    module = cst.parse_module(source)
    facts = collect_facts(module, relpath)
    all_facts = [facts] + [collect_facts(cst.parse_module(text), rel) for rel, text in (others or {}).items()]
    index = ProjectIndex(all_facts)
    ctx = Context(path=relpath, relpath=relpath, source=source, module=module, facts=facts, index=index, config=config or Config())
    found: List[EmbeddedSql] = []

    class Collector:
        def visit_Call(self, node):
            found.extend(extract(node, ctx))

    def on_error(visitor, node, exc):
        raise exc

    Walker(ctx, [Collector()], on_error).run()
    return found


def one(source: str, **kw) -> EmbeddedSql:
    items = extract_all(source, **kw)
    assert len(items) == 1, [i.text for i in items]
    return items[0]


def kinds(item: EmbeddedSql) -> List[str]:
    return [h.kind for h in item.holes]
