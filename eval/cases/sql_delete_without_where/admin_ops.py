def remove_user(conn, user_id):
    with conn.cursor() as cur:
        cur.execute("DELETE FROM sessions")  # expect[sql]
    conn.commit()


def disable_user(conn, user_id):
    with conn.cursor() as cur:
        cur.execute("UPDATE users SET active = false")  # expect[sql]
    conn.commit()
