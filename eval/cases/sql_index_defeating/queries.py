def by_email(conn, email):
    with conn.cursor() as cur:
        cur.execute("SELECT id FROM users WHERE lower(email) = %s", (email.lower(),))  # expect[sql]
        return cur.fetchone()


def random_quote(conn):
    with conn.cursor() as cur:
        cur.execute("SELECT id, text FROM quotes ORDER BY random() LIMIT 1")  # expect[sql]
        return cur.fetchone()


def orphans(conn):
    with conn.cursor() as cur:
        cur.execute("SELECT id FROM accounts WHERE id NOT IN (SELECT account_id FROM owners)")  # expect[sql]
        return cur.fetchall()


def search(conn, term):
    with conn.cursor() as cur:
        cur.execute("SELECT id, title FROM posts WHERE title ILIKE %s LIMIT 20", (f"%{term}%",))  # expect[sql]
        return cur.fetchall()


def search_prefix(conn, term):
    with conn.cursor() as cur:
        cur.execute("SELECT id, title FROM posts WHERE title LIKE %s LIMIT 20", (f"{term}%",))
        return cur.fetchall()
