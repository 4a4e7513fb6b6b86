"""Refresh tokens issued, one row per token; the token itself is a signed JWT naming its row."""

import uuid
from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field

from ...core.base import Base
from ...core.clock import utc_now
from ...core.columns import UTCDateTime


class RefreshToken(Base, table=True):
    __tablename__ = "refresh_tokens"
    __table_args__ = (
        Index("ix_refresh_tokens_family_id", "family_id"),
        # The retention purge looks for expired rows (features/auth/retention.py).
        Index("ix_refresh_tokens_expires_at", "expires_at"),
    )

    # The JWT's jti: a lookup key, not a secret (the signature is what cannot be forged).
    id: uuid.UUID = Field(primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="users.id", ondelete="CASCADE", index=True)
    # Every token rotated from the same login shares a family; reuse revokes all of it.
    family_id: uuid.UUID
    issued_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
