"""A memoised "does this project class derive from one of these bases" test, shared by rules."""
from __future__ import annotations

from typing import Callable, Dict


def subclass_test(ix, is_root: Callable[[str], bool], max_depth: int):
    """A function ``check(cls)``: some base of ``cls`` satisfies ``is_root``, directly or through project
    classes up to ``max_depth`` levels up. Results are memoised per call of ``subclass_test``."""
    memo: Dict[str, bool] = {}

    def check(cls, depth=0) -> bool:
        if cls.qualname in memo:
            return memo[cls.qualname]
        memo[cls.qualname] = False
        ok = False
        for base in cls.bases:
            if is_root(base):
                ok = True
            elif depth < max_depth:
                parent = ix.resolve_class(base, cls.module)
                if parent is not None and parent.qualname != cls.qualname and check(parent, depth + 1):
                    ok = True
            if ok:
                break
        memo[cls.qualname] = ok
        return ok

    return check
