"""Business rules of authentication: accounts, credentials and refresh-token families."""

import uuid
from collections.abc import Collection

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ...core import security
from ...core.audit import Actor, AuditEvent, audit
from ...core.clock import utc_now
from ...core.emails import is_refused
from ...core.errors import ConflictError, InvalidRequestError, RateLimitedError
from ...core.rate_limit import RateLimiter
from ...core.security import PasswordHasher, TokenClaims, TokenCodec, TokenType
from ..users.models import Role, User
from ..users.repository import UserRepository
from .exceptions import InvalidCredentialsError, InvalidTokenError
from .models import RefreshToken
from .principals import Principal, PrincipalCache
from .repository import RefreshTokenRepository
from .retention import TokenRetention
from .revocation import RevokedToken, RevokedTokens
from .schemas import TokenPair


def access_token_id(refresh_token_id: uuid.UUID) -> uuid.UUID:
    """The jti of the access token issued with a refresh token: derived from the refresh token's
    row, so that revoking a family names its access tokens without storing them."""
    return uuid.uuid5(refresh_token_id, TokenType.ACCESS.value)


def access_claims(codec: TokenCodec, revoked: RevokedTokens, access_token: str) -> TokenClaims:
    """The claims of an access token that is well signed, unexpired and not revoked."""
    try:
        claims = codec.decode(access_token, TokenType.ACCESS)
    except security.InvalidTokenError as exc:
        raise InvalidTokenError from exc
    if revoked.is_revoked(claims):
        raise InvalidTokenError
    return claims


class AuthService:
    def __init__(
        self,
        session: AsyncSession,
        hasher: PasswordHasher,
        codec: TokenCodec,
        principals: PrincipalCache,
        revoked: RevokedTokens,
        *,
        login_limiter: RateLimiter,
        special_use_domains: Collection[str] = (),
        retention: TokenRetention | None = None,
        client: str | None = None,
    ) -> None:
        self.session = session
        self.hasher = hasher
        self.codec = codec
        self.principals = principals
        self.revoked = revoked
        self.login_limiter = login_limiter  # failed logins per account
        self.special_use_domains = special_use_domains  # accepted for new accounts
        self.retention = retention  # the process's opportunistic purge of expired tokens
        self.client = client  # the caller's address, for the audit trail
        self.users = UserRepository(session)
        self.tokens = RefreshTokenRepository(session)

    async def create_user(
        self, email: str, password: str, full_name: str | None = None, role: Role = Role.USER
    ) -> User:
        email = email.lower()
        if is_refused(email, self.special_use_domains):
            raise InvalidRequestError(
                "Addresses at this special-use domain are not accepted here",
                field="body.email",
                reason="special_use_domain",
            )
        if await self.users.get_by_email(email) is not None:
            raise ConflictError("This email is already registered", details={"field": "email"})
        user = User(
            email=email,
            password_hash=await self.hasher.hash(password),
            full_name=full_name,
            role=role,
        )
        try:
            await self.users.add(user)
            await self.session.commit()
        except IntegrityError as exc:  # a concurrent registration won the race
            await self.session.rollback()
            raise ConflictError(
                "This email is already registered", details={"field": "email"}
            ) from exc
        return user

    async def register(self, email: str, password: str, full_name: str | None = None) -> User:
        """Create an account with the user role, as its own owner asks."""
        user = await self.create_user(email, password, full_name)
        audit(AuditEvent.USER_REGISTERED, actor=None, subject=user.id, client=self.client)
        return user

    async def create_admin(
        self, email: str, password: str, full_name: str | None, *, actor: Actor
    ) -> User:
        """Create an account with the admin role (on the operator's command: *actor*)."""
        user = await self.create_user(email, password, full_name, Role.ADMIN)
        audit(AuditEvent.ADMIN_CREATED, actor=actor, subject=user.id, client=self.client)
        return user

    async def login(self, email: str, password: str) -> TokenPair:
        """Check credentials (in constant time for unknown emails) and start a token family.

        Failed logins are limited per account (its email, lower-case), however many addresses
        they come from. Each attempt takes one of the account's allowance before the password
        is checked, so concurrent guesses cannot all get past, and a successful login gives it
        back: the owner's own logins never use the allowance up.
        """
        email = email.lower()
        account = f"login-account:{email}"
        retry_after = await self.login_limiter.hit(account)
        if retry_after:
            audit(
                AuditEvent.RATE_LIMITED,
                actor=None,
                subject=None,
                client=self.client,
                limit="login-account",
                retry_after=retry_after,
            )
            raise RateLimitedError(retry_after)
        user = await self.users.get_by_email(email)
        password_ok = await self.hasher.verify(password, user.password_hash if user else None)
        if user is None or not password_ok or not user.is_active:
            self._audit_failed_login(user, password_ok)
            raise InvalidCredentialsError
        await self.login_limiter.refund(account)
        pair = await self._issue_pair(user.id, family_id=uuid.uuid4())
        audit(AuditEvent.LOGIN_SUCCEEDED, actor=user.id, subject=user.id, client=self.client)
        return pair

    async def refresh(self, refresh_token: str) -> TokenPair:
        """Rotate: revoke the presented token and issue a new pair in the same family.

        Presenting a token that was already rotated or revoked means it leaked: the whole family
        is revoked, with its access tokens, logging out both the attacker and the legitimate
        client.
        """
        stored = await self._stored_token(refresh_token)
        now = utc_now()
        if stored.revoked_at is not None:
            await self._revoke_family(stored.family_id)
            audit(
                AuditEvent.REFRESH_REUSE_DETECTED,
                actor=None,  # whoever presented it: the owner or a thief, no telling which
                subject=stored.user_id,
                client=self.client,
                family_id=str(stored.family_id),
            )
            raise InvalidTokenError
        if stored.expires_at <= now:
            raise InvalidTokenError
        user = await self.users.get(stored.user_id)
        if user is None or not user.is_active:
            raise InvalidTokenError
        stored.revoked_at = now
        return await self._issue_pair(user.id, family_id=stored.family_id)

    async def logout(self, refresh_token: str) -> None:
        """Revoke the token's whole family, access tokens included: that login is signed out."""
        stored = await self._stored_token(refresh_token)
        await self._revoke_family(stored.family_id)
        audit(
            AuditEvent.LOGOUT,
            actor=stored.user_id,
            subject=stored.user_id,
            client=self.client,
            family_id=str(stored.family_id),
        )

    async def authenticate(self, access_token: str) -> Principal:
        """The active user an access token belongs to (from the cache when it is fresh)."""
        return await self.principal_of(access_claims(self.codec, self.revoked, access_token))

    async def principal_of(self, claims: TokenClaims) -> Principal:
        """The active user of an access token's claims, checked by ``access_claims``."""
        principal = self.principals.get(claims.subject)
        if principal is not None:
            return principal
        ticket = self.principals.ticket()
        user = await self.users.get(claims.subject)
        if user is None or not user.is_active:
            raise InvalidTokenError
        principal = Principal.of(user)
        self.principals.put(principal, ticket)
        return principal

    def _audit_failed_login(self, user: User | None, password_ok: bool) -> None:
        """The client hears the same whatever the reason (no account enumeration); the audit
        line says which it was."""
        if user is None:
            reason = "unknown_email"
        elif not password_ok:
            reason = "wrong_password"
        else:
            reason = "inactive"
        subject = None if user is None else user.id
        audit(
            AuditEvent.LOGIN_FAILED, actor=None, subject=subject, client=self.client, reason=reason
        )

    async def _revoke_family(self, family_id: uuid.UUID) -> None:
        """Revoke the family's refresh tokens, then the access tokens issued with them that have
        not expired yet (each was issued just before its refresh token, with a fixed lifetime)."""
        now = utc_now()
        lifetime = self.codec.lifetime(TokenType.ACCESS)
        await self.tokens.revoke_family(family_id, now)
        issued = await self.tokens.issued_since(family_id, now - lifetime)
        await self.session.commit()
        await self.revoked.revoke(
            [
                RevokedToken(access_token_id(token_id), (issued_at + lifetime).timestamp())
                for token_id, issued_at in issued
            ]
        )

    async def _stored_token(self, refresh_token: str) -> RefreshToken:
        try:
            claims = self.codec.decode(refresh_token, TokenType.REFRESH)
        except security.InvalidTokenError as exc:
            raise InvalidTokenError from exc
        stored = await self.tokens.get_for_update(claims.token_id)
        if stored is None or stored.user_id != claims.subject:
            raise InvalidTokenError
        return stored

    async def _issue_pair(self, user_id: uuid.UUID, family_id: uuid.UUID) -> TokenPair:
        refresh_id = uuid.uuid4()
        # The access token first: it expires no later than its refresh token's row says.
        access_token, _ = self.codec.issue(user_id, TokenType.ACCESS, access_token_id(refresh_id))
        refresh_token, claims = self.codec.issue(user_id, TokenType.REFRESH, refresh_id)
        await self.tokens.add(
            RefreshToken(
                id=claims.token_id,
                user_id=user_id,
                family_id=family_id,
                issued_at=claims.issued_at,
                expires_at=claims.expires_at,
            )
        )
        await self.session.commit()
        if self.retention is not None:
            self.retention.purge_if_due()
        return TokenPair(
            access_token=access_token,
            refresh_token=refresh_token,
            expires_in=int(self.codec.lifetime(TokenType.ACCESS).total_seconds()),
        )
