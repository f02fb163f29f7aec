import psycopg

DSN = "dbname=app"


def refresh_scores(user_ids):
    with psycopg.connect(DSN) as conn:
        for uid in user_ids:
            conn.execute("UPDATE users SET score = score + 1 WHERE id = %s", (uid,))  # expect[n+1]


def refresh_scores_once(user_ids):
    with psycopg.connect(DSN) as conn:
        conn.execute("UPDATE users SET score = score + 1 WHERE id = ANY(%s)", (list(user_ids),))
