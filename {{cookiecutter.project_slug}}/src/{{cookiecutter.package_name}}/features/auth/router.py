"""Auth API: register, log in (OAuth2 password form), refresh and log out."""

from http import HTTPStatus

from fastapi import APIRouter, Depends, status

from ...core.openapi import DocumentedRoute, errors
from ..users.schemas import UserResponse
from .dependencies import AuthServiceDep, LoginFormDep, auth_rate_limit
from .schemas import RefreshRequest, RegisterRequest, TokenPair

router = APIRouter(prefix="/auth", tags=["auth"], route_class=DocumentedRoute)


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(auth_rate_limit)],
    responses=errors(HTTPStatus.CONFLICT),
)
async def register(body: RegisterRequest, service: AuthServiceDep) -> UserResponse:
    """Create an account with the `user` role."""
    user = await service.register(body.email, body.password, body.full_name)
    return UserResponse.model_validate(user)


@router.post(
    "/login",
    dependencies=[Depends(auth_rate_limit)],
    responses=errors(HTTPStatus.UNAUTHORIZED),
)
async def login(form: LoginFormDep, service: AuthServiceDep) -> TokenPair:
    """Exchange email (as `username`, OAuth2 password form) for an access and a refresh token."""
    return await service.login(form.username, form.password)


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
