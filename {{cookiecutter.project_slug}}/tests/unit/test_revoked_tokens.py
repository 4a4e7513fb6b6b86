"""The denylist of access tokens: refused until they expire, bounded, and when full, refusing
more rather than fewer."""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from {{ cookiecutter.package_name }}.core.security import TokenClaims, TokenType
from {{ cookiecutter.package_name }}.features.auth.revocation import (
    RevokedToken,
    RevokedTokens,
)

from ..support import FakeClock


def claims(expires_at: float) -> TokenClaims:
    return TokenClaims(
        subject=uuid.uuid4(),
        token_id=uuid.uuid4(),
        token_type=TokenType.ACCESS,
        issued_at=datetime.fromtimestamp(expires_at - 900, tz=UTC),
        expires_at=datetime.fromtimestamp(expires_at, tz=UTC),
    )


def revoked(token: TokenClaims) -> RevokedToken:
    return RevokedToken(token.token_id, token.expires_at.timestamp())


def test_a_token_nobody_revoked_is_not_refused(clock: FakeClock) -> None:
    denylist = RevokedTokens(clock=clock)
    denylist.deny([revoked(claims(clock.now + 60))])

    assert not denylist.is_revoked(claims(clock.now + 60))


def recording(denylist: RevokedTokens) -> list[Sequence[RevokedToken]]:
    published: list[Sequence[RevokedToken]] = []

    async def publish(tokens: Sequence[RevokedToken]) -> None:
        published.append(tokens)

    denylist.publishers.append(publish)
    return published


async def test_revoking_refuses_here_and_hands_the_tokens_to_the_publishers(
    clock: FakeClock,
) -> None:
    denylist = RevokedTokens(clock=clock)
    published = recording(denylist)
    token = claims(clock.now + 60)

    await denylist.revoke([revoked(token)])

    assert denylist.is_revoked(token)
    assert published == [[revoked(token)]]


def test_denying_what_another_process_revoked_publishes_nothing(clock: FakeClock) -> None:
    """What a publisher's receiving end applies is not sent back out."""
    denylist = RevokedTokens(clock=clock)
    published = recording(denylist)
    token = claims(clock.now + 60)

    denylist.deny([revoked(token)])

    assert denylist.is_revoked(token)
    assert published == []


def test_an_entry_leaves_once_its_token_expired(clock: FakeClock) -> None:
    denylist = RevokedTokens(clock=clock)
    denylist.deny([revoked(claims(clock.now + 60))])
    clock.now += 60

    denylist.deny([revoked(claims(clock.now + 60))])

    assert len(denylist) == 1


@pytest.mark.error_path
class TestRefused:
    def test_a_revoked_token(self, clock: FakeClock) -> None:
        denylist = RevokedTokens(clock=clock)
        token = claims(clock.now + 60)

        denylist.deny([revoked(token)])

        assert denylist.is_revoked(token)

    def test_a_dropped_token_when_the_list_is_full(self, clock: FakeClock) -> None:
        denylist = RevokedTokens(max_entries=2, clock=clock)
        first, second, third = (claims(clock.now + 60 + n) for n in range(3))

        denylist.deny(revoked(token) for token in (first, second, third))

        assert len(denylist) == 2
        assert all(denylist.is_revoked(token) for token in (first, second, third))
        # Dropping one refuses every token expiring no later: their holders refresh.
        assert denylist.is_revoked(claims(clock.now + 60))
        assert not denylist.is_revoked(claims(clock.now + 61))


def test_an_expired_token_is_not_stored(clock: FakeClock) -> None:
    denylist = RevokedTokens(clock=clock)

    denylist.deny([revoked(claims(clock.now))])

    assert len(denylist) == 0
