import sqlite3


def find_by_name(db_path, name):
    conn = sqlite3.connect(db_path)
    try:
        sql = "SELECT id, name FROM products WHERE name = '%s'" % name  # expect[sql]
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def find_by_sku(db_path, sku):
    conn = sqlite3.connect(db_path)
    try:
        query = "SELECT id, name FROM products WHERE sku = '{}'".format(sku)  # expect[sql]
        return conn.execute(query).fetchall()
    finally:
        conn.close()


def find_by_id(db_path, product_id):
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute("SELECT id, name FROM products WHERE id = ?", (product_id,)).fetchone()
    finally:
        conn.close()
