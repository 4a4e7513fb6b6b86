"""What the items API accepts and returns."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.json_schema import SkipJsonSchema

from ...core.pagination import CursorPage, Page
from ...core.schemas import JSON_NUMBER_ONLY, NO_NUL, VISIBLE_TEXT, NamedEnum
from .models import ItemStatus

MIN_PRIORITY, MAX_PRIORITY = 1, 5


class ItemSort(NamedEnum):
    """The order of a list of items: a field ascending, or `-` and the field descending."""

    CREATED_AT = "created_at"
    CREATED_AT_DESC = "-created_at"
    TITLE = "title"
    TITLE_DESC = "-title"
    PRIORITY = "priority"
    PRIORITY_DESC = "-priority"


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

    @field_validator("title", "status", "priority", mode="before")
    @classmethod
    def reject_null(cls, value: object) -> object:
        """Omitting a field keeps it (a default is not validated); sending null for a field that
        needs a value is an error, reported on that field."""
        if value is None:
            raise ValueError("Leave the field out to keep its value; it cannot be null")
        return value


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


class ItemPage(Page[ItemResponse]):
    """One page of items."""


class ItemCursorPage(CursorPage[ItemResponse]):
    """Items after a cursor; pass `next_cursor` back for the next ones."""
