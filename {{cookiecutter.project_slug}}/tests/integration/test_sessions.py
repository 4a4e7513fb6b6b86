"""Which session a request gets: GET and HEAD read without a transaction and cannot write; a
cached caller is authenticated without one."""

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import cast

import pytest
from fastapi import FastAPI
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError, InvalidRequestError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request

from {{ cookiecutter.package_name }}.config import Settings
from {{ cookiecutter.package_name }}.core.base import col
from {{ cookiecutter.package_name }}.core.database import (
    ReadOnlySession,
    create_engine,
    create_read_session_factory,
    create_session_factory,
)
from {{ cookiecutter.package_name }}.core.security import TokenType
from {{ cookiecutter.package_name }}.dependencies import Resources, get_session
from {{ cookiecutter.package_name }}.features.auth.dependencies import authenticate
from {{ cookiecutter.package_name }}.features.auth.principals import PrincipalCache
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


async def _flush_a_change(session: AsyncSession, user_id: uuid.UUID) -> None:
    loaded = await session.get(User, user_id)
    assert loaded is not None
    loaded.full_name = "After"
    await session.flush()


async def _execute_an_update(session: AsyncSession, user_id: uuid.UUID) -> None:
    await session.execute(update(User).where(col(User.id) == user_id).values(full_name="After"))


@pytest.mark.error_path
@pytest.mark.parametrize("write", [_flush_a_change, _execute_an_update], ids=["orm", "statement"])
async def test_the_read_only_session_refuses_to_write(
    resources: Resources,
    users: UserFactory,
    write: Callable[[AsyncSession, uuid.UUID], Awaitable[None]],
) -> None:
    user = await users.create(full_name="Before")

    async with resources.read_session_factory() as session:
        with pytest.raises(InvalidRequestError, match="read-only"):
            await write(session, user.id)

    async with resources.session_factory() as session:
        assert (await session.get(User, user.id)).full_name == "Before"  # type: ignore[union-attr]


@pytest.mark.error_path
async def test_a_connection_used_for_reading_is_transactional_again_for_writing(
    make_settings: Callable[..., Settings], users: UserFactory
) -> None:
    """Autocommit is the read session's mode only: the pool restores it on check-in, so a
    rolled-back write on the same connection leaves nothing behind."""
    engine = create_engine(make_settings(db_pool_size=1))
    try:
        user = await users.create(full_name="Before")
        async with create_read_session_factory(engine)() as session:
            await session.get(User, user.id)
        async with create_session_factory(engine)() as session:
            loaded = await session.get(User, user.id)
            assert loaded is not None
            loaded.full_name = "After"
            await session.flush()
            await session.rollback()
        async with create_session_factory(engine)() as session:
            assert (await session.get(User, user.id)).full_name == "Before"  # type: ignore[union-attr]
    finally:
        await engine.dispose()


@pytest.mark.error_path
async def test_a_failed_statements_parameters_stay_out_of_its_error(
    make_settings: Callable[..., Settings],
) -> None:
    """SQLAlchemy writes a failed statement's parameters into the exception's message, which
    the log line of an unhandled exception records: they may be emails, hashes or tokens."""
    engine = create_engine(make_settings())
    try:
        async with engine.connect() as connection:
            with pytest.raises(DBAPIError) as failure:
                await connection.execute(
                    text("SELECT * FROM no_such_table WHERE name = :name"),
                    {"name": "secret@example.com"},
                )
    finally:
        await engine.dispose()

    assert "no_such_table" in str(failure.value)
    assert "secret@example.com" not in str(failure.value)


class CountedSessions:
    """A session factory that counts the sessions it opens."""

    def __init__(self, factory: async_sessionmaker[AsyncSession]) -> None:
        self.factory = factory
        self.opened = 0

    def __call__(self) -> AsyncSession:
        self.opened += 1
        return self.factory()


async def test_a_cached_caller_is_authenticated_without_opening_a_session(
    app: FastAPI, resources: Resources, principals: PrincipalCache, user: User
) -> None:
    """Every authenticated request asks who the caller is: only a cache miss opens a session
    (to read the user's row); a hit costs no session at all."""
    token, _ = resources.token_codec.issue(user.id, TokenType.ACCESS)
    counted = CountedSessions(resources.read_session_factory)
    app.state.resources = replace(
        resources, read_session_factory=cast(async_sessionmaker[AsyncSession], counted)
    )
    try:
        _, first = await authenticate(app, token)  # a miss: the row is read, the caller cached
        after_miss = counted.opened
        claims, cached = await authenticate(app, token)
        after_hit = counted.opened
        principals.evict(user.id)
        await authenticate(app, token)
    finally:
        app.state.resources = resources

    assert (after_miss, after_hit, counted.opened) == (1, 1, 2)
    assert (claims.subject, first, cached.id) == (user.id, cached, user.id)
