"""Queries on the files table, nothing else."""

import uuid

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..core.base import col
from .models import StoredFile

_BY_ID = select(StoredFile).where(col(StoredFile.id) == bindparam("file_id"))
_BY_ID_AND_OWNER = _BY_ID.where(col(StoredFile.owner_id) == bindparam("owner_id"))


class FileRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, file_id: uuid.UUID, owner_id: uuid.UUID | None) -> StoredFile | None:
        """The file, if it exists and (when *owner_id* is given) belongs to that owner."""
        if owner_id is None:
            return await self.session.scalar(_BY_ID, {"file_id": file_id})
        return await self.session.scalar(
            _BY_ID_AND_OWNER, {"file_id": file_id, "owner_id": owner_id}
        )

    async def add(self, stored: StoredFile) -> StoredFile:
        self.session.add(stored)
        await self.session.flush()
        return stored

    async def delete(self, stored: StoredFile) -> None:
        await self.session.delete(stored)
        await self.session.flush()

    async def list_page(
        self, owner_id: uuid.UUID | None, *, offset: int, limit: int
    ) -> tuple[list[StoredFile], int]:
        """A page of files newest first (one owner's, or everyone's), and how many there are."""
        query = select(StoredFile)
        count = select(func.count()).select_from(StoredFile)
        if owner_id is not None:
            query = query.where(col(StoredFile.owner_id) == owner_id)
            count = count.where(col(StoredFile.owner_id) == owner_id)
        query = query.order_by(col(StoredFile.created_at).desc(), col(StoredFile.id).desc())
        rows = await self.session.scalars(query.offset(offset).limit(limit))
        return list(rows), await self.session.scalar(count) or 0
