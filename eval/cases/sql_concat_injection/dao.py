def find_orders(conn, customer):
    cur = conn.cursor()
    cur.execute("SELECT id, total FROM orders WHERE customer = '" + customer + "'")  # expect[sql]
    return cur.fetchall()


def find_orders_safe(conn, customer):
    cur = conn.cursor()
    cur.execute("SELECT id, total FROM orders WHERE customer = %s", (customer,))
    return cur.fetchall()


def order_by_column(conn, column):
    allowed = {"id", "total", "created_at"}
    if column not in allowed:
        raise ValueError(column)
    cur = conn.cursor()
    cur.execute(f"SELECT id, total FROM orders WHERE total > 0 ORDER BY {column} LIMIT 50")
    return cur.fetchall()
