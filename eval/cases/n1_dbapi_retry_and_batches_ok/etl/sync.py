import time

import psycopg2
import psycopg2.extras


def upsert_rows(conn, rows, page_size=500):
    with conn.cursor() as cur:
        psycopg2.extras.execute_values(
            cur,
            "INSERT INTO items (id, name) VALUES %s ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name",
            rows,
            page_size=page_size,
        )
    conn.commit()


def ping(conn, attempts=5):
    for i in range(attempts):
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT 1")
            return True
        except psycopg2.OperationalError:
            time.sleep(i)
    return False


def delete_in_chunks(conn, ids, size=1000):
    with conn.cursor() as cur:
        for start in range(0, len(ids), size):
            cur.execute("DELETE FROM items WHERE id = ANY(%s)", (ids[start:start + size],))
    conn.commit()
