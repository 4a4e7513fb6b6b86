"""Queries on the user table, nothing else."""

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ...core.base import col
from .models import Role, User


class UserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, user_id: uuid.UUID) -> User | None:
        return await self.session.get(User, user_id)

    async def get_by_email(self, email: str) -> User | None:
        return await self.session.scalar(select(User).where(col(User.email) == email))

    async def add(self, user: User) -> User:
        self.session.add(user)
        await self.session.flush()
        return user

    async def list(self, *, offset: int, limit: int) -> tuple[list[User], int]:
        total = await self.session.scalar(select(func.count()).select_from(User)) or 0
        rows = await self.session.scalars(
            select(User).order_by(col(User.created_at), col(User.id)).offset(offset).limit(limit)
        )
        return list(rows), total

    async def count_active_admins(self) -> int:
        query = (
            select(func.count())
            .select_from(User)
            .where(col(User.role) == Role.ADMIN, col(User.is_active).is_(True))
        )
        return await self.session.scalar(query) or 0
