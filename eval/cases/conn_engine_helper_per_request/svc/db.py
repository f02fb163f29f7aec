import functools
import os

from sqlalchemy import create_engine

URL = os.environ.get("REPORTS_URL", "postgresql+psycopg://r@db/reports")


def reports_engine():
    return create_engine(URL)  # expect[conn]


@functools.lru_cache(maxsize=1)
def cached_engine():
    return create_engine(URL)
