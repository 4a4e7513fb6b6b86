"""The SQLModel base and the columns every table shares."""

import uuid
from datetime import datetime

from sqlmodel import Field, SQLModel, col

from .clock import utc_now
from .columns import NAMING_CONVENTION, UTCDateTime

__all__ = ["Base", "Timestamps", "UUIDPrimaryKey", "col"]

# SQLModel keeps one metadata for every table; name its constraints for Alembic.
SQLModel.metadata.naming_convention = NAMING_CONVENTION


class Base(SQLModel):
    """Base of every table model (declare them with ``table=True``)."""


class UUIDPrimaryKey(SQLModel):
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)


class Timestamps(SQLModel):
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    updated_at: datetime = Field(
        default_factory=utc_now, sa_type=UTCDateTime, sa_column_kwargs={"onupdate": utc_now}
    )
