"""Page-based and cursor-based pagination shared by every list endpoint."""

import base64
import binascii
import math
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Self

import orjson
from fastapi import Depends, Query
from pydantic import BaseModel, ConfigDict

from .errors import InvalidRequestError

MAX_PAGE_SIZE = 100


class Page[T](BaseModel):
    """One page of results with the totals a client needs to render pagination."""

    model_config = ConfigDict(frozen=True)

    items: list[T]
    total: int
    page: int
    page_size: int
    pages: int
    has_next: bool

    @classmethod
    def build(cls, items: list[T], total: int, params: "PageParams") -> Self:
        return cls(
            items=items,
            total=total,
            page=params.page,
            page_size=params.page_size,
            pages=math.ceil(total / params.page_size),
            has_next=params.offset + len(items) < total,
        )


class CursorPage[T](BaseModel):
    """A slice of results in a stable order; pass ``next_cursor`` back to continue."""

    model_config = ConfigDict(frozen=True)

    items: list[T]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class PageParams:
    page: int
    page_size: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


async def page_params(
    page: Annotated[int, Query(ge=1, le=1_000_000, description="1-based page number")] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Items per page")] = 20,
) -> PageParams:
    return PageParams(page=page, page_size=page_size)


PageParamsDep = Annotated[PageParams, Depends(page_params)]


@dataclass(frozen=True, slots=True)
class Cursor:
    """A position in a (created_at, id) ordering, opaque to clients."""

    created_at: datetime
    id: uuid.UUID

    def encode(self) -> str:
        raw = orjson.dumps({"created_at": self.created_at.isoformat(), "id": str(self.id)})
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str) -> "Cursor":
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
            data = orjson.loads(raw)
            cursor = cls(
                created_at=datetime.fromisoformat(data["created_at"]), id=uuid.UUID(data["id"])
            )
        except (binascii.Error, orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise _invalid_cursor() from exc
        if cursor.created_at.tzinfo is None:
            raise _invalid_cursor()
        return cursor


def _invalid_cursor() -> InvalidRequestError:
    return InvalidRequestError(
        "The cursor is invalid", field="query.cursor", reason="invalid_cursor"
    )
