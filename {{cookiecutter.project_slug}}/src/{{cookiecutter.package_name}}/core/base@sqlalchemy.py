"""The declarative base and the columns every table shares (SQLAlchemy 2.0 typed mappings)."""

import uuid
from datetime import datetime

from sqlalchemy import MetaData, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from .clock import utc_now
from .columns import NAMING_CONVENTION, UTCDateTime


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime, uuid.UUID: Uuid}  # noqa: RUF012 - SQLAlchemy API


class UUIDPrimaryKey:
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)


def col[T](attribute: T) -> T:
    """A model attribute as a column expression. Mapped attributes already are one; the SQLModel
    variant of this module needs the conversion, so repositories are written once for both."""
    return attribute
