"""The adapters querylint knows, in the order they are asked. Adding an ORM: one line here."""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Callable, List, Tuple

if TYPE_CHECKING:  # pragma: no cover
    from querylint.context import Context
    from querylint.frameworks.base import Adapter

ADAPTER_MODULES: Tuple[str, ...] = (
    "querylint.frameworks.django",
    "querylint.frameworks.sqlalchemy",
    "querylint.frameworks.peewee",
    "querylint.frameworks.tortoise",
)

_LOADED: List["Adapter"] = []


def adapters() -> Tuple["Adapter", ...]:
    """Every adapter (each module's ``ADAPTER``), loaded once per process."""
    if not _LOADED:
        _LOADED.extend(importlib.import_module(m).ADAPTER for m in ADAPTER_MODULES)
    return tuple(_LOADED)


def orm_query_detectors() -> Tuple[Callable, ...]:
    """Every ORM's query-site detectors, ``(node, ctx) -> description | None``, in adapter order."""
    return tuple(det for adapter in adapters() for det in adapter.query_detectors())


def active_adapters(ctx: "Context") -> Tuple["Adapter", ...]:
    """The adapters whose ORM this file can use (memoised per file)."""
    return ctx.memo(("active-adapters",), lambda: tuple(a for a in adapters() if a.active(ctx)))
