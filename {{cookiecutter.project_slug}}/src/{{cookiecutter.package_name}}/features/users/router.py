"""Users API: your own profile, and user management for admins."""

import uuid

from fastapi import APIRouter

from ...core.pagination import Page, PageParamsDep
from ..auth.dependencies import AdminUser, CurrentUser
from .dependencies import UserServiceDep
from .schemas import RoleUpdate, UserResponse, UserUpdate

router = APIRouter(prefix="/users", tags=["users"])


@router.get("/me")
async def read_me(user: CurrentUser, service: UserServiceDep) -> UserResponse:
    """Return the signed-in user's profile."""
    return UserResponse.model_validate(await service.profile(user))


@router.patch("/me")
async def update_me(
    changes: UserUpdate, user: CurrentUser, service: UserServiceDep
) -> UserResponse:
    """Update the signed-in user's profile (only the fields a user owns)."""
    return UserResponse.model_validate(await service.update_profile(user, changes))


@router.get("")
async def list_users(
    _: AdminUser, params: PageParamsDep, service: UserServiceDep
) -> Page[UserResponse]:
    """List every user, a page at a time (admins only)."""
    users, total = await service.list_users(params)
    return Page.build([UserResponse.model_validate(u) for u in users], total, params)


@router.patch("/{user_id:uuid}/role")
async def change_role(
    user_id: uuid.UUID, body: RoleUpdate, _: AdminUser, service: UserServiceDep
) -> UserResponse:
    """Change a user's role (admins only)."""
    return UserResponse.model_validate(await service.change_role(user_id, body.role))
