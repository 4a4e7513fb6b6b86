"""The item table."""

import uuid
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ...core.base import Base, Timestamps, UUIDPrimaryKey
from ...core.columns import enum_as_string


class ItemStatus(StrEnum):
    TODO = "todo"
    IN_PROGRESS = "in_progress"
    DONE = "done"


class Item(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "items"
    # Serves the default listing (an owner's items, newest first) and the cursor pages.
    __table_args__ = (Index("ix_items_owner_id_created_at", "owner_id", "created_at"),)

    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[ItemStatus] = mapped_column(enum_as_string(ItemStatus), default=ItemStatus.TODO)
    priority: Mapped[int] = mapped_column(default=3)
