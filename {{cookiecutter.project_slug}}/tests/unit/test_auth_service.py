"""AuthService rules, called directly (no HTTP), on the test database."""

import uuid
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from {{ cookiecutter.package_name }}.core.clock import utc_now
from {{ cookiecutter.package_name }}.core.errors import ConflictError
from {{ cookiecutter.package_name }}.core.security import TokenType
from {{ cookiecutter.package_name }}.dependencies import Resources
from {{ cookiecutter.package_name }}.features.auth.exceptions import (
    InvalidCredentialsError,
    InvalidTokenError,
)
from {{ cookiecutter.package_name }}.features.auth.models import RefreshToken
from {{ cookiecutter.package_name }}.features.auth.principals import PrincipalCache
from {{ cookiecutter.package_name }}.features.auth.revocation import RevokedTokens
from {{ cookiecutter.package_name }}.features.auth.service import AuthService
from {{ cookiecutter.package_name }}.features.users.models import Role

from ..factories import DEFAULT_PASSWORD, UserFactory
from ..support import auth_service


@pytest.fixture
def service(
    session: AsyncSession,
    resources: Resources,
    principals: PrincipalCache,
    revoked_tokens: RevokedTokens,
) -> AuthService:
    return auth_service(session, resources, principals, revoked_tokens)


async def test_create_user_normalizes_the_email(service: AuthService) -> None:
    user = await service.create_user("Mixed@Example.COM", DEFAULT_PASSWORD, role=Role.ADMIN)

    assert user.email == "mixed@example.com"
    assert user.role is Role.ADMIN


async def test_login_then_authenticate(service: AuthService, users: UserFactory) -> None:
    user = await users.create()

    tokens = await service.login(user.email, DEFAULT_PASSWORD)

    assert (await service.authenticate(tokens.access_token)).id == user.id


@pytest.mark.error_path
class TestAuthServiceErrors:
    async def test_duplicate_email_is_a_conflict(
        self, service: AuthService, users: UserFactory
    ) -> None:
        user = await users.create()

        with pytest.raises(ConflictError):
            await service.create_user(user.email, DEFAULT_PASSWORD)

    async def test_wrong_password(self, service: AuthService, users: UserFactory) -> None:
        user = await users.create()

        with pytest.raises(InvalidCredentialsError):
            await service.login(user.email, "not the password")

    async def test_an_expired_refresh_token_is_refused(
        self, service: AuthService, session: AsyncSession, users: UserFactory
    ) -> None:
        user = await users.create()
        tokens = await service.login(user.email, DEFAULT_PASSWORD)
        claims = service.codec.decode(tokens.refresh_token, TokenType.REFRESH)
        stored = await session.get(RefreshToken, claims.token_id)
        assert stored is not None
        stored.expires_at = utc_now() - timedelta(seconds=1)
        await session.commit()

        with pytest.raises(InvalidTokenError):
            await service.refresh(tokens.refresh_token)

    async def test_a_deactivated_user_cannot_refresh(
        self, service: AuthService, session: AsyncSession, users: UserFactory
    ) -> None:
        user = await users.create()
        tokens = await service.login(user.email, DEFAULT_PASSWORD)
        user.is_active = False
        await session.merge(user)
        await session.commit()

        with pytest.raises(InvalidTokenError):
            await service.refresh(tokens.refresh_token)

    async def test_a_token_for_an_unknown_row_is_refused(self, service: AuthService) -> None:
        token, _ = service.codec.issue(uuid.uuid4(), TokenType.REFRESH)

        with pytest.raises(InvalidTokenError):
            await service.refresh(token)


@pytest.mark.error_path
async def test_unknown_email_still_pays_for_a_password_check(
    service: AuthService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Login spends the same hashing work whether or not the email exists (no user oracle)."""
    checked: list[str | None] = []
    verify = service.hasher.verify

    async def spy(password: str, password_hash: str | None) -> bool:
        checked.append(password_hash)
        return await verify(password, password_hash)

    monkeypatch.setattr(service.hasher, "verify", spy)

    with pytest.raises(InvalidCredentialsError):
        await service.login("nobody@example.com", DEFAULT_PASSWORD)

    assert checked == [None]
