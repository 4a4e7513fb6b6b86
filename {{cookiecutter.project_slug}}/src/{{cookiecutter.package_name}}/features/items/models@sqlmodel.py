"""The item table."""

import uuid
from enum import StrEnum

from sqlalchemy import Index, Text
from sqlmodel import Field

from ...core.base import Base, Timestamps, UUIDPrimaryKey
from ...core.columns import enum_as_string


class ItemStatus(StrEnum):
    TODO = "todo"
    IN_PROGRESS = "in_progress"
    DONE = "done"


class Item(UUIDPrimaryKey, Timestamps, Base, table=True):
    __tablename__ = "items"
    # Serves the default listing (an owner's items, newest first) and the cursor pages.
    __table_args__ = (Index("ix_items_owner_id_created_at", "owner_id", "created_at"),)

    owner_id: uuid.UUID = Field(foreign_key="users.id", ondelete="CASCADE")
    title: str = Field(max_length=200)
    description: str | None = Field(default=None, sa_type=Text)
    status: ItemStatus = Field(default=ItemStatus.TODO, sa_type=enum_as_string(ItemStatus))
    priority: int = 3
