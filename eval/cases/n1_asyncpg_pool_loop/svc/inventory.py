import asyncpg


class InventoryRepo:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def reserve(self, items: list[tuple[int, int]]) -> None:
        async with self.pool.acquire() as conn:
            async with conn.transaction():
                for sku_id, qty in items:
                    await conn.execute(  # expect[n+1]
                        "UPDATE stock SET qty = qty - $1 WHERE sku_id = $2", qty, sku_id
                    )

    async def reserve_fast(self, items: list[tuple[int, int]]) -> None:
        async with self.pool.acquire() as conn:
            await conn.executemany(
                "UPDATE stock SET qty = qty - $1 WHERE sku_id = $2",
                [(q, s) for s, q in items],
            )
