"""Queries on refresh tokens."""

import uuid
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Select, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ...core.base import col
from .models import RefreshToken


class RefreshTokenRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, token: RefreshToken) -> None:
        self.session.add(token)
        await self.session.flush()

    async def get_for_update(self, token_id: uuid.UUID) -> RefreshToken | None:
        """Load a token, locking its row (PostgreSQL) so two rotations cannot both succeed."""
        return await self.session.get(RefreshToken, token_id, with_for_update=True)

    async def issued_since(
        self, family_id: uuid.UUID, since: datetime
    ) -> list[tuple[uuid.UUID, datetime]]:
        """Id and issue time of the family's tokens issued after *since*, revoked or not."""
        rows = await self.session.execute(
            select(col(RefreshToken.id), col(RefreshToken.issued_at)).where(
                col(RefreshToken.family_id) == family_id, col(RefreshToken.issued_at) > since
            )
        )
        return [(token_id, issued_at) for token_id, issued_at in rows]

    async def revoke_family(self, family_id: uuid.UUID, at: datetime) -> None:
        await self.session.execute(
            update(RefreshToken)
            .where(col(RefreshToken.family_id) == family_id, col(RefreshToken.revoked_at).is_(None))
            .values(revoked_at=at)
        )

    async def delete_expired(self, now: datetime, limit: int) -> int:
        """Delete up to *limit* tokens that expired before *now*; return how many went. A
        bounded ``DELETE ... WHERE id IN (SELECT id ... LIMIT n)``: one statement on SQLite and
        PostgreSQL alike, holding its locks briefly however many rows have piled up."""
        result = await self.session.execute(
            delete(RefreshToken).where(col(RefreshToken.id).in_(expired_ids(now, limit)))
        )
        return cast(CursorResult[Any], result).rowcount


def expired_ids(now: datetime, limit: int) -> Select[uuid.UUID]:
    """The ids of up to *limit* tokens that expired before *now*, found through the index on
    ``expires_at`` (a purge must not read the whole table)."""
    return select(col(RefreshToken.id)).where(col(RefreshToken.expires_at) < now).limit(limit)
