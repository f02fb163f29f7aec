import pymysql
from celery import shared_task

from .settings import MYSQL


@shared_task
def sync_stock(sku):
    conn = pymysql.connect(**MYSQL)  # expect[conn]
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT qty FROM stock WHERE sku = %s", (sku,))
            return cur.fetchone()
    finally:
        conn.close()
