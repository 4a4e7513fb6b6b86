"""Users API: your own profile, and user management for admins."""

import uuid
from http import HTTPStatus

from fastapi import APIRouter

from ...core.openapi import DocumentedRoute, errors
from ...core.pagination import PageParamsDep
from ..auth.dependencies import AdminUser, CurrentUser
from .dependencies import UserServiceDep
from .schemas import ActiveUpdate, RoleUpdate, UserPage, UserResponse, UserUpdate

router = APIRouter(prefix="/users", tags=["users"], route_class=DocumentedRoute)

# The account may be gone while its token is still valid (and its role still cached).
ACCOUNT_GONE = errors(HTTPStatus.NOT_FOUND)


@router.get("/me", responses=ACCOUNT_GONE)
async def read_me(user: CurrentUser, service: UserServiceDep) -> UserResponse:
    """Return the signed-in user's profile."""
    return UserResponse.model_validate(await service.profile(user))


@router.patch("/me", responses=ACCOUNT_GONE)
async def update_me(
    changes: UserUpdate, user: CurrentUser, service: UserServiceDep
) -> UserResponse:
    """Update the signed-in user's profile (only the fields a user owns)."""
    return UserResponse.model_validate(await service.update_profile(user, changes))


@router.get("")
async def list_users(_: AdminUser, params: PageParamsDep, service: UserServiceDep) -> UserPage:
    """List every user, a page at a time (admins only)."""
    users, total = await service.list_users(params)
    return UserPage.build([UserResponse.model_validate(u) for u in users], total, params)


@router.patch("/{user_id:uuid}/role", responses=errors(HTTPStatus.NOT_FOUND, HTTPStatus.CONFLICT))
async def change_role(
    user_id: uuid.UUID, body: RoleUpdate, admin: AdminUser, service: UserServiceDep
) -> UserResponse:
    """Change a user's role (admins only)."""
    return UserResponse.model_validate(await service.change_role(admin, user_id, body.role))


@router.patch("/{user_id:uuid}/active", responses=errors(HTTPStatus.NOT_FOUND, HTTPStatus.CONFLICT))
async def set_active(
    user_id: uuid.UUID, body: ActiveUpdate, admin: AdminUser, service: UserServiceDep
) -> UserResponse:
    """Deactivate a user, who can then neither sign in nor use their tokens, or reactivate
    them (admins only)."""
    return UserResponse.model_validate(await service.set_active(admin, user_id, body.is_active))
