"""Tokens and password hashes: what verifies, and everything that must not."""

import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import jwt
import pytest
from pydantic import SecretStr

from {{ cookiecutter.package_name }}.config import Settings
from {{ cookiecutter.package_name }}.core.clock import utc_now
from {{ cookiecutter.package_name }}.core.security import (
    InvalidTokenError,
    PasswordHasher,
    TokenCodec,
    TokenType,
)

from ..support import FakeClock

SECRET = "unit-test-secret-that-is-long-enough-0123456789"


@pytest.fixture(scope="module")
def codec() -> TokenCodec:
    return TokenCodec(Settings(_env_file=None, jwt_secret=SecretStr(SECRET)))


@pytest.fixture(scope="module")
def hasher() -> PasswordHasher:
    """Hashing as in production: the settings' defaults, not the tests' cheap parameters."""
    return PasswordHasher(Settings(_env_file=None))


@pytest.fixture(scope="module")
def cheap_hasher(make_settings: Callable[..., Settings]) -> PasswordHasher:
    """Hashing at the parameters of the other tests: a refusal does not depend on the cost."""
    return PasswordHasher(make_settings())


def forge(secret: str = SECRET, /, **claims: Any) -> str:
    """A token whose claims are all valid but those given (None drops one), signed with
    *secret*: a test that changes one thing is refused for that thing."""
    now = utc_now()
    payload = {
        "sub": str(uuid.uuid4()),
        "jti": str(uuid.uuid4()),
        "type": "access",
        "iat": now,
        "exp": now + timedelta(minutes=5),
        **claims,
    }
    return jwt.encode({k: v for k, v in payload.items() if v is not None}, secret)


@pytest.fixture
def jwt_decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records every token PyJWT is asked to verify."""
    calls: list[str] = []
    real_decode = jwt.decode

    def decode(token: str, *args: Any, **kwargs: Any) -> Any:
        calls.append(token)
        return real_decode(token, *args, **kwargs)

    monkeypatch.setattr(jwt, "decode", decode)
    return calls


def test_an_access_token_is_verified_once_until_it_expires(jwt_decodes: list[str]) -> None:
    clock = FakeClock(time.time())
    codec = TokenCodec(Settings(_env_file=None, jwt_secret=SecretStr(SECRET)), clock=clock)
    token, issued = codec.issue(uuid.uuid4(), TokenType.ACCESS)

    first = [codec.decode(token, TokenType.ACCESS) for _ in range(3)]
    clock.now = issued.expires_at.timestamp()  # the cache's view: expired, so verify again
    codec.decode(token, TokenType.ACCESS)

    assert first == [first[0]] * 3
    assert first[0].subject == issued.subject
    assert jwt_decodes == [token, token]


def test_refresh_tokens_are_verified_every_time(codec: TokenCodec, jwt_decodes: list[str]) -> None:
    token, _ = codec.issue(uuid.uuid4(), TokenType.REFRESH)

    codec.decode(token, TokenType.REFRESH)
    codec.decode(token, TokenType.REFRESH)

    assert jwt_decodes == [token, token]


def test_an_issued_token_decodes_to_its_claims(codec: TokenCodec) -> None:
    subject = uuid.uuid4()
    token, issued = codec.issue(subject, TokenType.REFRESH)

    claims = codec.decode(token, TokenType.REFRESH)

    assert claims.subject == subject
    assert claims.token_id == issued.token_id
    assert claims.expires_at - claims.issued_at == timedelta(days=7)


async def test_a_password_verifies_against_its_hash(hasher: PasswordHasher) -> None:
    password_hash = await hasher.hash("correct horse battery staple")

    assert password_hash.startswith("$argon2id$v=19$m=65536,t=3,p=1$")
    assert await hasher.verify("correct horse battery staple", password_hash)


@pytest.mark.error_path
class TestRejectedTokens:
    def test_a_remembered_access_token_is_still_not_a_refresh_token(
        self, codec: TokenCodec
    ) -> None:
        token, _ = codec.issue(uuid.uuid4(), TokenType.ACCESS)
        codec.decode(token, TokenType.ACCESS)

        with pytest.raises(InvalidTokenError, match="expected a refresh token"):
            codec.decode(token, TokenType.REFRESH)

    def test_a_remembered_token_changed_by_one_byte(self, codec: TokenCodec) -> None:
        token, _ = codec.issue(uuid.uuid4(), TokenType.ACCESS)
        codec.decode(token, TokenType.ACCESS)
        tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]

        with pytest.raises(InvalidTokenError, match="Signature verification failed"):
            codec.decode(tampered, TokenType.ACCESS)

    def test_expired(self, codec: TokenCodec) -> None:
        token = forge(exp=utc_now() - timedelta(seconds=1))

        with pytest.raises(InvalidTokenError, match="Signature has expired"):
            codec.decode(token, TokenType.ACCESS)

    def test_wrong_type(self, codec: TokenCodec) -> None:
        token, _ = codec.issue(uuid.uuid4(), TokenType.ACCESS)

        with pytest.raises(InvalidTokenError, match="expected a refresh token"):
            codec.decode(token, TokenType.REFRESH)

    def test_alg_none(self, codec: TokenCodec) -> None:
        now = utc_now()
        claims = {"sub": str(uuid.uuid4()), "jti": str(uuid.uuid4()), "type": "access"}
        token = jwt.encode(
            {**claims, "iat": now, "exp": now + timedelta(minutes=5)}, "", algorithm="none"
        )

        with pytest.raises(InvalidTokenError, match="alg value is not allowed"):
            codec.decode(token, TokenType.ACCESS)

    def test_tampered_payload(self, codec: TokenCodec) -> None:
        header, _, signature = forge().split(".")
        _, payload, _ = forge(sub=str(uuid.uuid4())).split(".")

        with pytest.raises(InvalidTokenError, match="Signature verification failed"):
            codec.decode(f"{header}.{payload}.{signature}", TokenType.ACCESS)

    def test_signed_with_another_secret(self, codec: TokenCodec) -> None:
        token = forge("another-secret-that-is-long-enough-0123456789")  # claims valid

        with pytest.raises(InvalidTokenError, match="Signature verification failed"):
            codec.decode(token, TokenType.ACCESS)

    @pytest.mark.parametrize("claim", ["sub", "jti", "type", "exp", "iat"])
    def test_missing_claim(self, codec: TokenCodec, claim: str) -> None:
        with pytest.raises(InvalidTokenError, match=f'missing the "{claim}" claim'):
            codec.decode(forge(**{claim: None}), TokenType.ACCESS)

    @pytest.mark.parametrize("claims", [{"sub": "not-a-uuid"}, {"type": "session"}, {"jti": "123"}])
    def test_malformed_claim(self, codec: TokenCodec, claims: dict[str, str]) -> None:
        with pytest.raises(InvalidTokenError):
            codec.decode(forge(**claims), TokenType.ACCESS)


@pytest.mark.error_path
class TestRejectedPasswords:
    async def test_a_wrong_password_does_not_verify(self, cheap_hasher: PasswordHasher) -> None:
        password_hash = await cheap_hasher.hash("correct horse battery staple")

        assert not await cheap_hasher.verify("wrong horse battery staple", password_hash)

    async def test_no_stored_hash_never_verifies(self, cheap_hasher: PasswordHasher) -> None:
        assert not await cheap_hasher.verify("anything at all", None)
