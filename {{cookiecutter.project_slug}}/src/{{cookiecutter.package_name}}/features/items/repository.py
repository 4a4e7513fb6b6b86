"""Queries on the item table, nothing else."""

import uuid
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped

from ...core.base import col
from ...core.pagination import Cursor
from .models import Item
from .schemas import ItemFilters, ItemSort

_SORT_COLUMNS: dict[str, Mapped[Any]] = {
    "created_at": col(Item.created_at),
    "title": col(Item.title),
    "priority": col(Item.priority),
}


# Built once: SQLAlchemy then computes their cache keys once, not on every read of the hot path.
_BY_ID = select(Item).where(col(Item.id) == bindparam("item_id"))
_BY_ID_AND_OWNER = _BY_ID.where(col(Item.owner_id) == bindparam("owner_id"))


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _conditions(filters: ItemFilters) -> list[ColumnElement[bool]]:
    conditions = []
    if filters.owner_id is not None:
        conditions.append(col(Item.owner_id) == filters.owner_id)
    if filters.status is not None:
        conditions.append(col(Item.status) == filters.status)
    if filters.title_contains:
        pattern = f"%{_escape_like(filters.title_contains.lower())}%"
        conditions.append(func.lower(col(Item.title)).like(pattern, escape="\\"))
    return conditions


class ItemRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, item_id: uuid.UUID, owner_id: uuid.UUID | None) -> Item | None:
        """The item, if it exists and (when *owner_id* is given) belongs to that owner."""
        if owner_id is None:
            return await self.session.scalar(_BY_ID, {"item_id": item_id})
        return await self.session.scalar(
            _BY_ID_AND_OWNER, {"item_id": item_id, "owner_id": owner_id}
        )

    async def add(self, item: Item) -> Item:
        self.session.add(item)
        await self.session.flush()
        return item

    async def delete(self, item: Item) -> None:
        await self.session.delete(item)

    async def list_page(
        self, filters: ItemFilters, sort: ItemSort, offset: int, limit: int
    ) -> tuple[list[Item], int]:
        conditions = _conditions(filters)
        count_query = select(func.count()).select_from(Item).where(*conditions)
        total = await self.session.scalar(count_query) or 0
        column = _SORT_COLUMNS[sort.removeprefix("-")]
        order = column.desc() if sort.startswith("-") else column.asc()
        tie_breaker = col(Item.id).desc() if sort.startswith("-") else col(Item.id).asc()
        query = select(Item).where(*conditions).order_by(order, tie_breaker)
        rows = await self.session.scalars(query.offset(offset).limit(limit))
        return list(rows), total

    async def list_after(
        self, filters: ItemFilters, after: Cursor | None, limit: int
    ) -> list[Item]:
        """Items newest first, starting after *after*; keyset pagination, stable under inserts."""
        query = select(Item).where(*_conditions(filters))
        if after is not None:
            query = query.where(
                or_(
                    col(Item.created_at) < after.created_at,
                    and_(col(Item.created_at) == after.created_at, col(Item.id) < after.id),
                )
            )
        query = query.order_by(col(Item.created_at).desc(), col(Item.id).desc()).limit(limit)
        return list(await self.session.scalars(query))
