"""peewee: the adapter the pattern rules ask (models and inference in :mod:`querylint.peewee_models`)."""
from querylint.frameworks.peewee.adapter import PeeweeAdapter

ADAPTER = PeeweeAdapter()
