import asyncpg


async def enrich(pool: asyncpg.Pool, events):
    async with pool.acquire() as conn:
        for event in events:
            user = await conn.fetchrow("SELECT id, name FROM users WHERE id = $1", event["user_id"])  # expect[n+1]
            event["user"] = dict(user) if user else None
    return events


async def enrich_fast(pool: asyncpg.Pool, events):
    ids = list({e["user_id"] for e in events})
    async with pool.acquire() as conn:
        rows = await conn.fetch("SELECT id, name FROM users WHERE id = ANY($1::int[])", ids)
    users = {r["id"]: dict(r) for r in rows}
    for event in events:
        event["user"] = users.get(event["user_id"])
    return events
