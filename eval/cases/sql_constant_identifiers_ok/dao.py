USERS_TABLE = "users"
COLUMNS = "id, email, created_at"


def user_by_id(conn, user_id):
    with conn.cursor() as cur:
        cur.execute(f"SELECT {COLUMNS} FROM {USERS_TABLE} WHERE id = %s", (user_id,))
        return cur.fetchone()


def users_by_ids(conn, ids):
    placeholders = ", ".join(["%s"] * len(ids))
    with conn.cursor() as cur:
        cur.execute(f"SELECT {COLUMNS} FROM {USERS_TABLE} WHERE id IN ({placeholders})", tuple(ids))
        return cur.fetchall()
