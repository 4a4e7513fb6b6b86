"""Baseline: the least code that reads one row of the baked project's ``items`` table.

FastAPI + an async SQLAlchemy engine created in the lifespan, no auth, no ORM session, no
middleware. The engine gets the baked app's pool size so that the two differ by code, not by
pool capacity. ``DATABASE_URL`` names the database (``postgresql+asyncpg://...``).
"""

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, HTTPException
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text, Uuid, select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

items = Table(
    "items",
    MetaData(),
    Column("id", Uuid, primary_key=True),
    Column("owner_id", Uuid),
    Column("title", String(200)),
    Column("description", Text),
    Column("status", String(16)),
    Column("priority", Integer),
    Column("created_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True)),
)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    engine = create_async_engine(os.environ["DATABASE_URL"], pool_size=20, max_overflow=0)
    app.state.engine = engine
    try:
        yield
    finally:
        await engine.dispose()


app = FastAPI(lifespan=lifespan)


@app.get("/items/{item_id}")
async def read_item(item_id: uuid.UUID) -> dict[str, Any]:
    engine: AsyncEngine = app.state.engine
    async with engine.connect() as connection:
        result = await connection.execute(select(items).where(items.c.id == item_id))
        row = result.mappings().first()
    if row is None:
        raise HTTPException(status_code=404, detail="Item not found")
    return dict(row)
