"""Tortoise ORM: the model graph and awaited-statement inference (:mod:`.models`), the N+1
detectors (:mod:`.n_plus_one`) and the adapter the pattern rules ask. Everything Tortoise knows
lives in this folder: adding it took this folder and one line in the adapter registry."""
from querylint.frameworks.tortoise.adapter import TortoiseAdapter

ADAPTER = TortoiseAdapter()
