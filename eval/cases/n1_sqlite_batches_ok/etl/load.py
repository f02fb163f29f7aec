import sqlite3
from itertools import islice

INSERT = "INSERT INTO events (kind, payload) VALUES (?, ?)"


def _chunks(it, n):
    it = iter(it)
    while chunk := list(islice(it, n)):
        yield chunk


def load(path, events):
    conn = sqlite3.connect(path)
    try:
        for batch in _chunks(events, 1000):
            conn.executemany(INSERT, batch)
            conn.commit()
    finally:
        conn.close()


def ids_in(conn, ids):
    marks = ",".join("?" for _ in ids)
    return conn.execute(f"SELECT id, kind FROM events WHERE id IN ({marks})", ids).fetchall()
