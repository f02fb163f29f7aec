import os

from sqlalchemy import create_engine, text


def fetch_prices(symbol):
    eng = create_engine(os.environ["DATABASE_URL"])  # expect[conn]
    with eng.connect() as conn:
        rows = conn.execute(text("SELECT day, close FROM prices WHERE symbol = :s"), {"s": symbol})
        return [tuple(r) for r in rows]
