import os
import sqlite3
from contextlib import closing

import psycopg2
from fastapi import Depends, FastAPI
from sqlalchemy import create_engine, text
from sqlalchemy.orm import sessionmaker

engine = create_engine(os.environ.get("DATABASE_URL", "sqlite:///./app.db"))
SessionLocal = sessionmaker(bind=engine, autoflush=False)
app = FastAPI()


def get_db():
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()


@app.get("/items")
def items(db=Depends(get_db)):
    return [dict(r._mapping) for r in db.execute(text("SELECT id, name FROM items ORDER BY id LIMIT 100"))]


def read_local_cache(path):
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute("SELECT k, v FROM cache WHERE k = 'x'").fetchall()


def main():
    conn = psycopg2.connect(os.environ["DSN"])
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
    finally:
        conn.close()


if __name__ == "__main__":
    main()
