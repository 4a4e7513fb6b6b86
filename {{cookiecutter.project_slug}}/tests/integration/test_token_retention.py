"""Refresh-token retention: rows past their expiry go, a bounded batch at a time, while every
row that reuse detection may still need stays."""

import json
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from {{ cookiecutter.package_name }}.core.clock import utc_now
from {{ cookiecutter.package_name }}.core.security import TokenType
from {{ cookiecutter.package_name }}.dependencies import Resources
from {{ cookiecutter.package_name }}.features.auth.exceptions import (
    InvalidTokenError,
)
from {{ cookiecutter.package_name }}.features.auth.models import RefreshToken
from {{ cookiecutter.package_name }}.features.auth.principals import PrincipalCache
from {{ cookiecutter.package_name }}.features.auth.repository import (
    RefreshTokenRepository,
    expired_ids,
)
from {{ cookiecutter.package_name }}.features.auth.retention import (
    PURGE_BATCH_SIZE,
    TokenRetention,
    purge_expired,
)
from {{ cookiecutter.package_name }}.features.auth.revocation import RevokedTokens
from {{ cookiecutter.package_name }}.features.auth.service import AuthService

from ..factories import DEFAULT_PASSWORD, UserFactory
from ..support import FakeClock, auth_service

INTERVAL = 60.0
DAYS = 30  # simulated, one login and one refresh a day


@pytest.fixture
async def retention(clock: FakeClock, resources: Resources) -> AsyncIterator[TokenRetention]:
    retention = TokenRetention(
        resources.session_factory, interval_seconds=INTERVAL, batch_size=3, clock=clock
    )
    yield retention
    await retention.wait()


@pytest.fixture
def service(
    retention: TokenRetention,
    session: AsyncSession,
    resources: Resources,
    principals: PrincipalCache,
    revoked_tokens: RevokedTokens,
) -> AuthService:
    return auth_service(session, resources, principals, revoked_tokens, retention=retention)


async def row_count(session: AsyncSession) -> int:
    return await session.scalar(select(func.count()).select_from(RefreshToken)) or 0


async def a_day_passes(session: AsyncSession) -> None:
    """Age every row by a day: the database's view of a day going by (the tokens' signatures
    are checked against the real clock, so the rows move rather than the time)."""
    for row in await session.scalars(select(RefreshToken)):
        row.issued_at -= timedelta(days=1)
        row.expires_at -= timedelta(days=1)
    await session.commit()


async def test_logins_and_refreshes_day_after_day_keep_the_table_bounded(
    service: AuthService,
    retention: TokenRetention,
    session: AsyncSession,
    users: UserFactory,
    clock: FakeClock,
) -> None:
    user = await users.create()
    lifetime_days = service.codec.lifetime(TokenType.REFRESH).days
    counts = []
    for _ in range(DAYS):
        tokens = await service.login(user.email, DEFAULT_PASSWORD)
        await retention.wait()  # the purge the login started
        await service.refresh(tokens.refresh_token)
        await a_day_passes(session)
        clock.now += INTERVAL  # the next login may purge again
        counts.append(await row_count(session))

    # Two rows a day, kept for their lifetime: never more than a lifetime's worth (plus the
    # day's own two), where without the purge there would be 2 * DAYS.
    assert max(counts) <= 2 * (lifetime_days + 1)
    assert counts[-1] == counts[-2]  # a steady state: each day removes as many as it adds


async def test_a_family_still_valid_keeps_its_revoked_rows_so_reuse_is_caught(
    service: AuthService,
    retention: TokenRetention,
    session: AsyncSession,
    users: UserFactory,
    clock: FakeClock,
) -> None:
    user = await users.create()
    await service.login(user.email, DEFAULT_PASSWORD)  # a family that expires
    await retention.wait()
    for _ in range(8):
        await a_day_passes(session)
    tokens = await service.login(user.email, DEFAULT_PASSWORD)
    await service.refresh(tokens.refresh_token)  # a rotated token, revoked but still valid
    clock.now += INTERVAL

    await service.login(user.email, DEFAULT_PASSWORD)  # purges the expired family only
    await retention.wait()

    with pytest.raises(InvalidTokenError):  # the rotated token's row is still there: a reuse
        await service.refresh(tokens.refresh_token)
    assert await row_count(session) == 3  # the rotated, its successor, the last login's


async def test_a_purge_runs_in_the_background_and_is_logged(
    service: AuthService,
    retention: TokenRetention,
    session: AsyncSession,
    users: UserFactory,
    clock: FakeClock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    user = await users.create()
    await service.login(user.email, DEFAULT_PASSWORD)
    await retention.wait()
    for _ in range(8):
        await a_day_passes(session)
    clock.now += INTERVAL

    await service.login(user.email, DEFAULT_PASSWORD)
    await retention.wait()

    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["removed"] for line in lines if line["event"] == "refresh_tokens.purged"] == [1]


async def test_a_purge_runs_at_most_once_per_interval(
    retention: TokenRetention, clock: FakeClock
) -> None:
    assert retention.claim()
    assert not retention.claim()
    clock.now += INTERVAL - 1
    assert not retention.claim()
    clock.now += 1
    assert retention.claim()


async def test_the_purge_finds_expired_rows_through_their_index(session: AsyncSession) -> None:
    """Every process purges every few minutes: without the index on ``expires_at`` each purge
    would read the whole table. The plan of the purge's own query names the index (PostgreSQL
    is told to avoid a full scan where it can, as a large table would make it)."""
    connection = await session.connection()
    query = expired_ids(utc_now(), PURGE_BATCH_SIZE).compile(
        dialect=connection.dialect, compile_kwargs={"literal_binds": True}
    )
    if connection.dialect.name == "postgresql":
        await connection.execute(text("SET LOCAL enable_seqscan = off"))
        plan = list((await connection.execute(text(f"EXPLAIN {query}"))).scalars())
    else:
        plan = [row[-1] for row in await connection.execute(text(f"EXPLAIN QUERY PLAN {query}"))]

    assert any("ix_refresh_tokens_expires_at" in line for line in plan), plan


async def test_purge_expired_deletes_every_batch_until_none_is_left(
    session: AsyncSession, users: UserFactory, service: AuthService
) -> None:
    user = await users.create()
    for _ in range(7):
        await service.login(user.email, DEFAULT_PASSWORD)
    later = utc_now() + timedelta(days=8)

    assert await purge_expired(session, later, batch_size=2) == 7
    assert await row_count(session) == 0


@pytest.mark.error_path
class TestRetentionErrors:
    async def test_a_failing_purge_never_fails_the_login(
        self,
        service: AuthService,
        retention: TokenRetention,
        users: UserFactory,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        user = await users.create()

        async def unreachable(*_: object) -> int:
            raise OperationalError("DELETE", {}, ConnectionError("database went away"))

        monkeypatch.setattr(RefreshTokenRepository, "delete_expired", unreachable)

        tokens = await service.login(user.email, DEFAULT_PASSWORD)
        await retention.wait()

        assert (await service.authenticate(tokens.access_token)).id == user.id
        lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        failed = [line for line in lines if line["event"] == "refresh_tokens.purge_failed"]
        assert len(failed) == 1
        assert failed[0]["level"] == "warning"
        assert "OperationalError" in json.dumps(failed[0]["exception"])

    @pytest.mark.parametrize("batch_size", [0, -5])
    async def test_a_batch_size_below_one_is_refused(
        self, session: AsyncSession, batch_size: int
    ) -> None:
        with pytest.raises(ValueError, match="at least 1"):
            await purge_expired(session, utc_now(), batch_size)
