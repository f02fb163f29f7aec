"""The Tortoise adapter: its N+1 detectors and query sites (Tortoise has no over-fetch answers yet)."""
from __future__ import annotations

from querylint.frameworks.base import QUERY_IN_LOOP, WRITE_IN_LOOP, Adapter


class TortoiseAdapter(Adapter):
    name = "tortoise"
    codes = {QUERY_IN_LOOP: "QL135", WRITE_IN_LOOP: "QL136"}

    def detectors(self):
        from querylint.frameworks.tortoise import n_plus_one as n1

        return {QUERY_IN_LOOP: n1.TortoiseQueryInLoop, WRITE_IN_LOOP: n1.TortoiseWriteInLoop}

    def query_detectors(self):
        from querylint.frameworks.tortoise.n_plus_one import detect_tortoise_query

        return (detect_tortoise_query,)
