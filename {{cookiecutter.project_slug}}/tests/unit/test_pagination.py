"""Cursors are opaque, round-trip exactly, and reject anything forged."""

import base64
import uuid
from datetime import UTC, datetime

import pytest

from {{ cookiecutter.package_name }}.core.errors import InvalidRequestError
from {{ cookiecutter.package_name }}.core.pagination import (
    Cursor,
    Page,
    PageParams,
)


def test_a_cursor_round_trips() -> None:
    cursor = Cursor(datetime(2026, 1, 2, 3, 4, 5, 678, tzinfo=UTC), uuid.uuid4())

    assert Cursor.decode(cursor.encode()) == cursor


def test_the_last_page_has_no_next() -> None:
    page = Page[int].build([1, 2], total=4, params=PageParams(page=2, page_size=2))

    assert (page.pages, page.has_next) == (2, False)


@pytest.mark.error_path
@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b'{"created_at": "2026-01-01T00:00:00"}',
        b'{"created_at": "2026-01-01T00:00:00", "id": "x"}',
        b'{"created_at": "2026-01-01T00:00:00", "id": "00000000-0000-0000-0000-000000000000"}',
        b"[]",
    ],
    ids=["not-json", "no-id", "bad-id", "naive-time", "list"],
)
def test_a_forged_cursor_is_rejected(raw: bytes) -> None:
    with pytest.raises(InvalidRequestError):
        Cursor.decode(base64.urlsafe_b64encode(raw).decode())
