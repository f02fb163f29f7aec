from django.db import connection


def orders_for(user_id, status):
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT o.id, o.total
            FROM app_order o
            JOIN app_user u ON u.id = o.user_id
            WHERE u.id = %(user)s AND o.status = %(status)s
            ORDER BY o.id
            """,
            {"user": user_id, "status": status},
        )
        return cursor.fetchall()


def top_products(limit):
    with connection.cursor() as cursor:
        cursor.execute("SELECT product_id, SUM(qty) FROM app_line GROUP BY product_id ORDER BY 2 DESC LIMIT %s", [limit])
        return cursor.fetchall()
