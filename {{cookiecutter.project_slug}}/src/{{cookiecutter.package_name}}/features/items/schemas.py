"""What the items API accepts and returns."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.json_schema import SkipJsonSchema

from ...core.schemas import JSON_NUMBER_ONLY, NO_NUL, VISIBLE_TEXT
from .models import ItemStatus

MIN_PRIORITY, MAX_PRIORITY = 1, 5

ItemSort = Literal["created_at", "-created_at", "title", "-title", "priority", "-priority"]


# Constraints live on the types, so they hold wherever a field is optional too.
Title = Annotated[str, Field(max_length=200, pattern=VISIBLE_TEXT)]
Description = Annotated[str, Field(max_length=10_000, pattern=NO_NUL)]
Priority = Annotated[int, Field(ge=MIN_PRIORITY, le=MAX_PRIORITY), JSON_NUMBER_ONLY]


class ItemCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Title
    description: Description | None = None
    status: ItemStatus = ItemStatus.TODO
    priority: Priority = 3


class ItemUpdate(BaseModel):
    """A partial update; fields left out keep their value, ``owner_id`` and ``id`` are rejected."""

    model_config = ConfigDict(extra="forbid")

    # Optional but not nullable: the schema shows no null, and the validator below refuses one.
    title: Title | SkipJsonSchema[None] = None
    description: Description | None = None
    status: ItemStatus | SkipJsonSchema[None] = None
    priority: Priority | SkipJsonSchema[None] = None

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
