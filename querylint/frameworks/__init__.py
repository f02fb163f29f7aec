"""What each library means: one subpackage per ORM or framework, behind one protocol.

Rules import this package (and :mod:`querylint.rule`), never a framework's internals:
:class:`Adapter`, :class:`Hit` and :func:`active_adapters` are the surface.
"""
from querylint.frameworks.base import (
    LAZY_RELATION, LEN_AS_COUNT, MEMBER_QUERY, PK_ONLY, QUERY_IN_LOOP, TAKE_ONE, TRUTHINESS, WRITE_IN_LOOP,
    Adapter, Detector, Hit, first_hit,
)
from querylint.frameworks.registry import active_adapters, adapters, orm_query_detectors

__all__ = [
    "Adapter", "Detector", "Hit", "first_hit", "active_adapters", "adapters", "orm_query_detectors",
    "QUERY_IN_LOOP", "WRITE_IN_LOOP", "LAZY_RELATION", "MEMBER_QUERY",
    "LEN_AS_COUNT", "TRUTHINESS", "TAKE_ONE", "PK_ONLY",
]
