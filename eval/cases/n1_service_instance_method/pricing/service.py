class PriceService:
    def __init__(self, conn):
        self.conn = conn

    def price(self, sku):
        with self.conn.cursor() as cur:
            cur.execute("SELECT price FROM prices WHERE sku = %s", (sku,))
            return cur.fetchone()[0]

    def fmt(self, value):
        return f"{value:.2f}"
