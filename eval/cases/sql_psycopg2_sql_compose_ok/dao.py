from psycopg2 import sql


def rows_of(conn, table, limit):
    query = sql.SQL("SELECT id, name FROM {} ORDER BY id LIMIT %s").format(sql.Identifier(table))
    with conn.cursor() as cur:
        cur.execute(query, (limit,))
        return cur.fetchall()
