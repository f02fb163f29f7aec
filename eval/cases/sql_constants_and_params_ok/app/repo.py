from psycopg2 import sql

USERS = "users"
USER_COLS = "id, email, created_at"
ORDER_BY = {"new": "created_at DESC", "email": "email"}


def find(cur, email):
    cur.execute(f"SELECT {USER_COLS} FROM {USERS} WHERE email = %s", (email,))
    return cur.fetchone()


def page(cur, sort, last_id):
    clause = ORDER_BY.get(sort, "id")
    cur.execute(
        "SELECT " + USER_COLS + " FROM " + USERS + " WHERE id > %s ORDER BY " + clause + " LIMIT 50",
        (last_id,),
    )
    return cur.fetchall()


def count_in(cur, table, col, value):
    stmt = sql.SQL("SELECT count(*) FROM {} WHERE {} = %s").format(sql.Identifier(table), sql.Identifier(col))
    cur.execute(stmt, (value,))
    return cur.fetchone()[0]
