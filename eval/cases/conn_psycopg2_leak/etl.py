import os

import psycopg2

DSN = os.environ.get("DSN", "dbname=etl")


def load_rates():
    conn = psycopg2.connect(DSN)  # expect[conn]
    cur = conn.cursor()
    cur.execute("SELECT code, rate FROM fx_rates WHERE day = current_date")
    return dict(cur.fetchall())


def load_rates_safely():
    conn = psycopg2.connect(DSN)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT code, rate FROM fx_rates WHERE day = current_date")
            return dict(cur.fetchall())
    finally:
        conn.close()
