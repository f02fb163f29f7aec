from flask import Flask, jsonify
from psycopg2.pool import ThreadedConnectionPool

app = Flask(__name__)
pool = ThreadedConnectionPool(2, 20, "dbname=shop")


@app.get("/orders/<int:order_id>")
def order(order_id):
    conn = pool.getconn()  # expect[conn]
    cur = conn.cursor()
    cur.execute("SELECT id, status FROM orders WHERE id = %s", (order_id,))
    row = cur.fetchone()
    cur.close()
    return jsonify({"id": row[0], "status": row[1]})


@app.get("/orders/<int:order_id>/status")
def order_status(order_id):
    conn = pool.getconn()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT status FROM orders WHERE id = %s", (order_id,))
            return jsonify({"status": cur.fetchone()[0]})
    finally:
        pool.putconn(conn)
