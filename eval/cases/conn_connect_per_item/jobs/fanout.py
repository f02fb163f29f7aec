import mysql.connector

CONFIG = {"host": "db", "user": "app", "database": "app"}


def mark_sent(message_ids):
    for mid in message_ids:
        cnx = mysql.connector.connect(**CONFIG)  # expect[conn]
        try:
            cur = cnx.cursor()
            cur.execute("UPDATE outbox SET sent = 1 WHERE id = %s", (mid,))  # expect[n+1]
            cnx.commit()
        finally:
            cnx.close()
