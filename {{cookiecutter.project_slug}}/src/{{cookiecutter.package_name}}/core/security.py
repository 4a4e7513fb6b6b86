"""Password hashing (argon2id via pwdlib) and JWT encoding/decoding (PyJWT)."""

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import anyio
import anyio.to_thread
import jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from ..config import Settings
from .cache import ExpiringCache
from .clock import utc_now


class PasswordHasher:
    """argon2id hashing in worker threads, a bounded number at a time.

    Each hash takes tens of milliseconds of CPU and memory by design. Unbounded, a login flood
    would run dozens at once and starve the event loop; the limiter queues them instead, so
    every other request keeps its share of the CPU.
    """

    def __init__(self, settings: Settings) -> None:
        self._hash = PasswordHash(
            (
                Argon2Hasher(
                    memory_cost=settings.argon2_memory_kib,
                    time_cost=settings.argon2_time_cost,
                    parallelism=settings.argon2_parallelism,
                ),
            )
        )
        self._limiter = anyio.CapacityLimiter(settings.password_hash_concurrency)
        # Verified against when the email is unknown, so that login takes the same time.
        self._dummy_hash = self._hash.hash(uuid.uuid4().hex)

    async def hash(self, password: str) -> str:
        return await anyio.to_thread.run_sync(self._hash.hash, password, limiter=self._limiter)

    async def verify(self, password: str, password_hash: str | None) -> bool:
        """Check *password*; with no stored hash, spend the same time and return False."""
        return await anyio.to_thread.run_sync(
            self._verify, password, password_hash, limiter=self._limiter
        )

    def _verify(self, password: str, password_hash: str | None) -> bool:
        if password_hash is None:
            self._hash.verify(password, self._dummy_hash)
            return False
        return self._hash.verify(password, password_hash)


class TokenType(StrEnum):
    ACCESS = "access"
    REFRESH = "refresh"


class InvalidTokenError(Exception):
    """The token is malformed, expired, tampered with or of the wrong type."""


@dataclass(frozen=True, slots=True)
class TokenClaims:
    subject: uuid.UUID
    token_id: uuid.UUID
    token_type: TokenType
    issued_at: datetime
    expires_at: datetime


REQUIRED_CLAIMS = ["sub", "exp", "iat", "jti", "type"]
MAX_VERIFIED_TOKENS = 10_000


class TokenCodec:
    """Signs and verifies the service's JWTs; the algorithm list is fixed, so ``alg=none`` fails.

    A client sends the same access token with every request for its whole lifetime, so verified
    access tokens are remembered, by their exact text, until they expire: a repeat costs a lookup
    instead of a signature check and claim parsing. A changed byte is a different key, verified
    afresh.
    """

    def __init__(self, settings: Settings, *, clock: Callable[[], float] = time.time) -> None:
        self._secret = settings.jwt_secret.get_secret_value()
        self._algorithm = settings.jwt_algorithm
        self._lifetimes = {
            TokenType.ACCESS: timedelta(minutes=settings.access_token_expire_minutes),
            TokenType.REFRESH: timedelta(days=settings.refresh_token_expire_days),
        }
        self._verified = ExpiringCache[str, TokenClaims](MAX_VERIFIED_TOKENS, clock=clock)

    def lifetime(self, token_type: TokenType) -> timedelta:
        return self._lifetimes[token_type]

    def issue(
        self, subject: uuid.UUID, token_type: TokenType, token_id: uuid.UUID | None = None
    ) -> tuple[str, TokenClaims]:
        now = utc_now()
        claims = TokenClaims(
            subject=subject,
            token_id=token_id or uuid.uuid4(),
            token_type=token_type,
            issued_at=now,
            expires_at=now + self._lifetimes[token_type],
        )
        payload: dict[str, Any] = {
            "sub": str(claims.subject),
            "jti": str(claims.token_id),
            "type": claims.token_type.value,
            "iat": claims.issued_at,
            "exp": claims.expires_at,
        }
        return jwt.encode(payload, self._secret, algorithm=self._algorithm), claims

    def decode(self, token: str, expected_type: TokenType) -> TokenClaims:
        claims = self._verified.get(token)
        if claims is None:
            claims = self._verify(token)
            if claims.token_type is TokenType.ACCESS:
                self._verified.put(token, claims, claims.expires_at.timestamp())
        if claims.token_type is not expected_type:
            raise InvalidTokenError(f"expected a {expected_type} token")
        return claims

    def _verify(self, token: str) -> TokenClaims:
        try:
            payload = jwt.decode(
                token,
                self._secret,
                algorithms=[self._algorithm],
                options={"require": REQUIRED_CLAIMS},
            )
            claims = TokenClaims(
                subject=uuid.UUID(payload["sub"]),
                token_id=uuid.UUID(payload["jti"]),
                token_type=TokenType(payload["type"]),
                issued_at=datetime.fromtimestamp(payload["iat"], tz=UTC),
                expires_at=datetime.fromtimestamp(payload["exp"], tz=UTC),
            )
        except (jwt.InvalidTokenError, ValueError, TypeError) as exc:
            raise InvalidTokenError(str(exc)) from exc
        return claims
