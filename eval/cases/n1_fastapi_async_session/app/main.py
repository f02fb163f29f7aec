from typing import AsyncIterator

from fastapi import Depends, FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from .models import Item

engine = create_async_engine("postgresql+asyncpg://app@db/app")
Session = async_sessionmaker(engine, expire_on_commit=False)
app = FastAPI()


async def get_db() -> AsyncIterator[AsyncSession]:
    async with Session() as session:
        yield session


@app.post("/items/prices")
async def prices(ids: list[int], db: AsyncSession = Depends(get_db)):
    out = {}
    for item_id in ids:
        item = await db.get(Item, item_id)  # expect[n+1]
        out[item_id] = item.price if item else None
    return out


@app.post("/items/prices-fast")
async def prices_fast(ids: list[int], db: AsyncSession = Depends(get_db)):
    rows = await db.execute(select(Item.id, Item.price).where(Item.id.in_(ids)))
    return {i: p for i, p in rows}
