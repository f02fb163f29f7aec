import os
from contextlib import closing

import psycopg2
from celery import Celery
from sqlalchemy import create_engine, text

app = Celery("worker")
ENGINE = create_engine(os.environ["DATABASE_URL"], pool_size=5)


@app.task
def touch_user(user_id):
    with ENGINE.begin() as conn:
        conn.execute(text("UPDATE users SET seen_at = now() WHERE id = :id"), {"id": user_id})


@app.task
def vacuum_stats():
    with closing(psycopg2.connect(os.environ["PG_DSN"])) as conn:  # expect[conn]
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("VACUUM ANALYZE events")


@app.task
def count_events(kind):
    conn = psycopg2.connect(os.environ["PG_DSN"])  # expect[conn]
    cur = conn.cursor()
    cur.execute("SELECT count(*) FROM events WHERE kind = %s", (kind,))
    return cur.fetchone()[0]
