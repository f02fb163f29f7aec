def get_order(conn, order_id):
    with conn.cursor() as cur:
        cur.execute("SELECT * FROM orders WHERE id = %s", (order_id,))  # one table: medium (QL301), not the default output
        return cur.fetchone()


def has_orders(conn, customer_id):
    with conn.cursor() as cur:
        cur.execute("SELECT EXISTS (SELECT * FROM orders WHERE customer_id = %s)", (customer_id,))
        return cur.fetchone()[0]


def count_orders(conn, customer_id):
    with conn.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM orders WHERE customer_id = %s", (customer_id,))
        return cur.fetchone()[0]
