"""SQLAlchemy 1.x and 2.x (plain, Flask-SQLAlchemy, SQLModel): the adapter the pattern rules ask.

Mappings and inference live in :mod:`querylint.frameworks.sqlalchemy.models` and
:mod:`querylint.frameworks.sqlalchemy.infer` (to move here as pure moves).
"""
from querylint.frameworks.sqlalchemy.adapter import SqlalchemyAdapter

ADAPTER = SqlalchemyAdapter()
