"""querylint's built-in rules, one module per family.

Each family module ends with ``RULES = (...)`` (and optionally ``QUERY_DETECTORS``); this
package gathers them so the ``builtin = "querylint_rules"`` entry point exposes them all.
Keep the folder flat: every module here is listed in ``_FAMILIES`` so it ships in the wheel.
"""
from __future__ import annotations

import importlib
import pkgutil

RULES = ()
QUERY_DETECTORS = ()

for _info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    if _info.name.startswith("_"):
        continue
    _mod = importlib.import_module(f"{__name__}.{_info.name}")
    RULES += tuple(getattr(_mod, "RULES", ()))
    QUERY_DETECTORS += tuple(getattr(_mod, "QUERY_DETECTORS", ()))
