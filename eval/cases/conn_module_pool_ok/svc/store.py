import os
from contextlib import contextmanager

from psycopg2.pool import ThreadedConnectionPool

POOL = ThreadedConnectionPool(1, 10, dsn=os.environ["PG_DSN"])


@contextmanager
def checkout():
    conn = POOL.getconn()
    try:
        yield conn
        conn.commit()
    except Exception:
        conn.rollback()
        raise
    finally:
        POOL.putconn(conn)


def get_user(user_id):
    with checkout() as conn, conn.cursor() as cur:
        cur.execute("SELECT id, email FROM users WHERE id = %s", (user_id,))
        return cur.fetchone()
