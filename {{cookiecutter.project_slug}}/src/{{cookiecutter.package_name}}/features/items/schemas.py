"""What the items API accepts and returns."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ...core.schemas import NO_NUL
from .models import ItemStatus

MIN_PRIORITY, MAX_PRIORITY = 1, 5

ItemSort = Literal["created_at", "-created_at", "title", "-title", "priority", "-priority"]


class ItemCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str = Field(min_length=1, max_length=200, pattern=NO_NUL)
    description: str | None = Field(default=None, max_length=10_000, pattern=NO_NUL)
    status: ItemStatus = ItemStatus.TODO
    priority: int = Field(default=3, ge=MIN_PRIORITY, le=MAX_PRIORITY)


class ItemUpdate(BaseModel):
    """A partial update; fields left out keep their value, ``owner_id`` and ``id`` are rejected."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str | None = Field(default=None, min_length=1, max_length=200, pattern=NO_NUL)
    description: str | None = Field(default=None, max_length=10_000, pattern=NO_NUL)
    status: ItemStatus | None = None
    priority: int | None = Field(default=None, ge=MIN_PRIORITY, le=MAX_PRIORITY)

    @model_validator(mode="after")
    def reject_null_for_required_fields(self) -> Self:
        """Omitting a field keeps it; sending null for a field that needs a value is an error."""
        for name in ("title", "status", "priority"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class ItemResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    owner_id: uuid.UUID
    title: str
    description: str | None
    status: ItemStatus
    priority: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ItemFilters:
    """Filters of the list endpoints; ``owner_id`` is set by the service, never trusted."""

    status: ItemStatus | None = None
    title_contains: str | None = None
    owner_id: uuid.UUID | None = None
