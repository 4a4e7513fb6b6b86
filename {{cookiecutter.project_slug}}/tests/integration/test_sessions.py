"""Which session a request gets: GET and HEAD read without a transaction and cannot write."""

import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.exc import InvalidRequestError
from starlette.requests import Request

from {{ cookiecutter.package_name }}.core.base import col
from {{ cookiecutter.package_name }}.core.database import ReadOnlySession
from {{ cookiecutter.package_name }}.dependencies import Resources, get_session
from {{ cookiecutter.package_name }}.features.items.models import Item
from {{ cookiecutter.package_name }}.features.users.models import User

from ..factories import ItemFactory, UserFactory


def request_for(app: FastAPI, method: str) -> Request:
    return Request({"type": "http", "method": method, "headers": [], "app": app})


@pytest.mark.parametrize(
    ("method", "read_only"),
    [("GET", True), ("HEAD", True), ("POST", False), ("PATCH", False), ("DELETE", False)],
)
async def test_safe_methods_get_the_read_only_session(
    app: FastAPI, method: str, *, read_only: bool
) -> None:
    sessions = get_session(request_for(app, method))
    session = await anext(sessions)
    try:
        assert isinstance(session.sync_session, ReadOnlySession) is read_only
    finally:
        await sessions.aclose()


async def test_the_read_only_session_reads_what_was_committed(
    resources: Resources, users: UserFactory, items: ItemFactory
) -> None:
    item = await items.create(await users.create(), title="committed")

    async with resources.read_session_factory() as session:
        title = await session.scalar(select(col(Item.title)).where(col(Item.id) == item.id))

    assert title == "committed"


@pytest.mark.error_path
async def test_the_read_only_session_refuses_to_write(
    resources: Resources, users: UserFactory
) -> None:
    user = await users.create(full_name="Before")

    async with resources.read_session_factory() as session:
        loaded = await session.get(User, user.id)
        assert loaded is not None
        loaded.full_name = "After"
        with pytest.raises(InvalidRequestError, match="read-only"):
            await session.flush()

    async with resources.session_factory() as session:
        assert (await session.get(User, user.id)).full_name == "Before"  # type: ignore[union-attr]
