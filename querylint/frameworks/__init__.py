"""What each library means: one subpackage per ORM or framework, behind one protocol.

Rules import this package (and :mod:`querylint.rule`), never a framework's internals:
:class:`Adapter`, :class:`Hit` and :func:`active_adapters` are the surface.
"""
from querylint.frameworks.base import LEN_AS_COUNT, PK_ONLY, TAKE_ONE, TRUTHINESS, Adapter, Hit, first_hit
from querylint.frameworks.registry import active_adapters, adapters

__all__ = [
    "Adapter", "Hit", "first_hit", "active_adapters", "adapters",
    "LEN_AS_COUNT", "TRUTHINESS", "TAKE_ONE", "PK_ONLY",
]
