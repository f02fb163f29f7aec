import sqlite3

DB_PATH = "app.db"


class CustomerSearch:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def by_name(self, name: str):
        query = f"SELECT id, name FROM customers WHERE name = '{name}'"  # expect[sql]
        return self.conn.execute(query).fetchall()

    def by_city(self, city: str):
        return self.conn.execute(
            "SELECT id, name FROM customers WHERE city = '{}'".format(city)  # expect[sql]
        ).fetchall()

    def by_id(self, cid: int):
        return self.conn.execute("SELECT id, name FROM customers WHERE id = ?", (cid,)).fetchone()
