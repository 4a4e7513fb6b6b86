"""Auth API: register, log in (OAuth2 password form), refresh and log out."""

from http import HTTPStatus
from typing import Annotated

from fastapi import APIRouter, Depends, Form, status

from ...core.openapi import DocumentedRoute, errors
from ...core.schemas import NO_NUL
from ..users.schemas import UserResponse
from .dependencies import AuthServiceDep, auth_rate_limit
from .schemas import MAX_PASSWORD_LENGTH, RefreshRequest, RegisterRequest, TokenPair

router = APIRouter(prefix="/auth", tags=["auth"], route_class=DocumentedRoute)


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(auth_rate_limit)],
    responses=errors(HTTPStatus.CONFLICT),
)
async def register(body: RegisterRequest, service: AuthServiceDep) -> UserResponse:
    """Create an account with the `user` role."""
    user = await service.create_user(body.email, body.password, body.full_name)
    return UserResponse.model_validate(user)


@router.post(
    "/login",
    dependencies=[Depends(auth_rate_limit)],
    responses=errors(HTTPStatus.UNAUTHORIZED),
)
async def login(
    username: Annotated[str, Form(max_length=320, pattern=NO_NUL, description="Your email")],
    password: Annotated[str, Form(max_length=MAX_PASSWORD_LENGTH, pattern=NO_NUL)],
    service: AuthServiceDep,
) -> TokenPair:
    """Exchange email (as `username`, OAuth2 password form) for an access and a refresh token."""
    return await service.login(username, password)


@router.post("/refresh", responses=errors(HTTPStatus.UNAUTHORIZED))
async def refresh(body: RefreshRequest, service: AuthServiceDep) -> TokenPair:
    """Exchange a refresh token for a new pair; the old refresh token stops working."""
    return await service.refresh(body.refresh_token)


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=errors(HTTPStatus.UNAUTHORIZED),
)
async def logout(body: RefreshRequest, service: AuthServiceDep) -> None:
    """Revoke the refresh token and every token rotated from the same login."""
    await service.logout(body.refresh_token)
