"""Business rules for user accounts."""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from ...core.audit import AuditEvent, audit
from ...core.errors import ConflictError, NotFoundError
from ...core.pagination import PageParams
from ..auth.principals import Principal
from .models import Role, User
from .repository import UserRepository
from .schemas import UserUpdate


class UserService:
    def __init__(self, session: AsyncSession, client: str | None = None) -> None:
        self.session = session
        self.client = client  # the caller's address, for the audit trail
        self.users = UserRepository(session)

    async def profile(self, principal: Principal) -> User:
        """The caller's whole account."""
        user = await self.users.get(principal.id)
        if user is None:
            raise NotFoundError("User")
        return user

    async def update_profile(self, principal: Principal, changes: UserUpdate) -> User:
        user = await self.profile(principal)
        for field, value in changes.model_dump(exclude_unset=True).items():
            setattr(user, field, value)
        await self.session.commit()
        return user

    async def list_users(self, params: PageParams) -> tuple[list[User], int]:
        return await self.users.list(offset=params.offset, limit=params.page_size)

    async def change_role(self, actor: Principal, user_id: uuid.UUID, role: Role) -> User:
        """Set a user's role, as the admin *actor* asks; the last admin cannot be demoted, so the
        service never locks out."""
        user = await self.users.get(user_id)
        if user is None:
            raise NotFoundError("User")
        if role is not Role.ADMIN and await self._is_last_active_admin(user):
            raise ConflictError("The last admin cannot be demoted", details={"field": "role"})
        previous, user.role = user.role, role
        # The commit evicts the user's cached principal in this process at once (the session
        # events of features/auth/principals.py); other processes follow within the cache TTL.
        await self.session.commit()
        audit(
            AuditEvent.ROLE_CHANGED,
            actor=actor.id,
            subject=user.id,
            client=self.client,
            old_role=previous.value,
            new_role=role.value,
        )
        return user

    async def set_active(self, actor: Principal, user_id: uuid.UUID, active: bool) -> User:
        """Deactivate a user (they can no longer sign in, and their tokens stop working) or
        reactivate them, as the admin *actor* asks; the last active admin stays active."""
        user = await self.users.get(user_id)
        if user is None:
            raise NotFoundError("User")
        if user.is_active == active:
            return user  # nothing changes, so nothing to audit
        if not active and await self._is_last_active_admin(user):
            raise ConflictError(
                "The last admin cannot be deactivated", details={"field": "is_active"}
            )
        user.is_active = active
        await self.session.commit()  # evicts the cached principal, as for a role change
        event = AuditEvent.USER_REACTIVATED if active else AuditEvent.USER_DEACTIVATED
        audit(event, actor=actor.id, subject=user.id, client=self.client)
        return user

    async def _is_last_active_admin(self, user: User) -> bool:
        """Whether *user* is the one admin who can still sign in: who would manage users then?"""
        return (
            user.role is Role.ADMIN
            and user.is_active
            and await self.users.count_active_admins() == 1
        )
