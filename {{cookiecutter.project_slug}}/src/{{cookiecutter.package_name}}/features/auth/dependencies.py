"""Who is calling: the current user, role checks, and the auth rate limits."""

from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Annotated, cast

from fastapi import Depends, FastAPI, Form, Request
from fastapi.requests import HTTPConnection
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from ...core.audit import AuditEvent, audit
from ...core.errors import AuthenticationError, PermissionDeniedError, RateLimitedError
from ...core.openapi import fails_with
from ...core.security import TokenClaims
from ...dependencies import SessionDep, app_resources, resources_of
from ..users.models import Role
from .principals import Principal, PrincipalCache
from .retention import TokenRetention
from .revocation import RevokedTokens
from .schemas import LoginForm
from .service import AuthService, access_claims

LOGIN_PATH = "/api/v1/auth/login"
# auto_error=False: a missing token is answered by our envelope, not FastAPI's default body.
bearer_token = OAuth2PasswordBearer(tokenUrl=LOGIN_PATH, auto_error=False)


def principals_of(app: FastAPI) -> PrincipalCache:
    """This feature's own process-wide resource, set by the lifespan in main.py."""
    return cast(PrincipalCache, app.state.principals)


def revoked_tokens_of(app: FastAPI) -> RevokedTokens:
    """This feature's denylist of access tokens, set by the lifespan in main.py."""
    return cast(RevokedTokens, app.state.revoked_tokens)


def token_retention_of(app: FastAPI) -> TokenRetention:
    """This feature's purge of expired refresh tokens, set by the lifespan in main.py."""
    return cast(TokenRetention, app.state.token_retention)


def client_address(connection: HTTPConnection) -> str | None:
    """The caller's address: the peer's, or the one a trusted proxy forwarded (uvicorn's
    FORWARDED_ALLOW_IPS decides whom to believe), for the audit trail and the rate limits."""
    return connection.client.host if connection.client else None


def auth_service_for(app: FastAPI, session: AsyncSession, client: str | None = None) -> AuthService:
    """The auth service of *app* working in *session* (a request's, or a WebSocket's) for the
    caller at *client*."""
    resources = app_resources(app)
    return AuthService(
        session,
        resources.password_hasher,
        resources.token_codec,
        principals_of(app),
        revoked_tokens_of(app),
        login_limiter=resources.auth_rate_limiter,
        special_use_domains=resources.settings.email_special_use_domains,
        retention=token_retention_of(app),
        client=client,
    )


async def get_auth_service(request: Request, session: SessionDep) -> AuthService:
    return auth_service_for(request.app, session, client_address(request))


AuthServiceDep = Annotated[AuthService, Depends(get_auth_service)]


async def authenticate(app: FastAPI, access_token: str) -> tuple[TokenClaims, Principal]:
    """The claims of a valid access token and its active user.

    Every authenticated request and WebSocket asks, so no session is opened while the principal
    cache knows the user: only a miss reads the row, in a read-only session of its own that is
    closed before the route runs.
    """
    resources = app_resources(app)
    claims = access_claims(resources.token_codec, revoked_tokens_of(app), access_token)
    principal = principals_of(app).get(claims.subject)
    if principal is None:
        async with resources.read_session_factory() as session:
            principal = await auth_service_for(app, session).principal_of(claims)
    return claims, principal


@fails_with(HTTPStatus.SERVICE_UNAVAILABLE)  # a principal not cached is read from the database
async def get_current_user(
    request: Request, token: Annotated[str | None, Depends(bearer_token)]
) -> Principal:
    """The caller (no session of the request's: a route that needs none opens none)."""
    if token is None:
        raise AuthenticationError("Not authenticated")
    _, principal = await authenticate(request.app, token)
    return principal


CurrentUser = Annotated[Principal, Depends(get_current_user)]


def require_role(*roles: Role) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that lets through only users holding one of *roles* (403 otherwise)."""

    @fails_with(HTTPStatus.FORBIDDEN)
    async def check_role(user: CurrentUser) -> Principal:
        if user.role not in roles:
            raise PermissionDeniedError(
                "You do not have permission to do this",
                details={"required_roles": [role.value for role in roles]},
            )
        return user

    return check_role


AdminUser = Annotated[Principal, Depends(require_role(Role.ADMIN))]


@fails_with(HTTPStatus.TOO_MANY_REQUESTS)
async def auth_rate_limit(request: Request) -> None:
    """Limit credential-guessing endpoints per client address and endpoint: every request
    counts, 429 with the exact wait once the allowance is spent. (Login is also limited per
    account, on failed attempts only: AuthService.login.)"""
    client = client_address(request)
    key = f"{request.url.path}:{client or 'unknown'}"
    retry_after = await resources_of(request).auth_rate_limiter.hit(key)
    if retry_after:
        audit(
            AuditEvent.RATE_LIMITED,
            actor=None,
            subject=None,
            client=client,
            limit="client-address",
            path=request.url.path,
            retry_after=retry_after,
        )
        raise RateLimitedError(retry_after)


LoginFormDep = Annotated[LoginForm, Form()]
