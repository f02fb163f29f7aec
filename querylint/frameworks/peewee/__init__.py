"""peewee: the adapter the pattern rules ask (models and inference in :mod:`querylint.frameworks.peewee.models`)."""
from querylint.frameworks.peewee.adapter import PeeweeAdapter

ADAPTER = PeeweeAdapter()
