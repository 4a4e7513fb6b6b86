"""Refresh tokens issued, one row per token; the token itself is a signed JWT naming its row."""

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from ...core.base import Base
from ...core.clock import utc_now


class RefreshToken(Base):
    __tablename__ = "refresh_tokens"
    __table_args__ = (
        Index("ix_refresh_tokens_family_id", "family_id"),
        # The retention purge looks for expired rows (features/auth/retention.py).
        Index("ix_refresh_tokens_expires_at", "expires_at"),
    )

    # The JWT's jti: a lookup key, not a secret (the signature is what cannot be forged).
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    # Every token rotated from the same login shares a family; reuse revokes all of it.
    family_id: Mapped[uuid.UUID]
    issued_at: Mapped[datetime] = mapped_column(default=utc_now)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
