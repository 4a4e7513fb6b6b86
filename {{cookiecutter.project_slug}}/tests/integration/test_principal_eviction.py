"""A committed change to a user's role or active flag, made through any session of the process,
evicts the user's cached principal at once and is handed to the cache's publishers (which may
tell other processes); nothing else does."""

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from {{ cookiecutter.package_name }}.features.auth.principals import (
    Principal,
    PrincipalCache,
)
from {{ cookiecutter.package_name }}.features.users.models import Role, User


@pytest.fixture
def cached(principals: PrincipalCache) -> Callable[[User], None]:
    def cache(user: User) -> None:
        principals.put(Principal.of(user), principals.ticket())
        assert principals.get(user.id) is not None

    return cache


@pytest.fixture
def published(principals: PrincipalCache) -> list[set[uuid.UUID]]:
    """The user ids each commit hands to the cache's publishers."""
    published: list[set[uuid.UUID]] = []
    principals.publishers.append(lambda user_ids: published.append(set(user_ids)))
    return published


@pytest.mark.parametrize(
    "change", [{"role": Role.ADMIN}, {"is_active": False}], ids=["role", "active-flag"]
)
async def test_a_committed_access_change_evicts_the_principal(
    session: AsyncSession,
    principals: PrincipalCache,
    cached: Callable[[User], None],
    user: User,
    change: dict[str, Any],
) -> None:
    cached(user)
    row = await session.get(User, user.id)
    assert row is not None

    for name, value in change.items():
        setattr(row, name, value)
    await session.commit()

    assert principals.get(user.id) is None


async def test_deleting_the_user_evicts_the_principal(
    session: AsyncSession, principals: PrincipalCache, cached: Callable[[User], None], user: User
) -> None:
    cached(user)
    row = await session.get(User, user.id)

    await session.delete(row)
    await session.commit()

    assert principals.get(user.id) is None


@pytest.mark.error_path
async def test_a_rolled_back_change_keeps_the_principal(
    session: AsyncSession, principals: PrincipalCache, cached: Callable[[User], None], user: User
) -> None:
    cached(user)
    row = await session.get(User, user.id)
    assert row is not None

    row.role = Role.ADMIN
    await session.flush()
    await session.rollback()

    assert principals.get(user.id) == Principal(id=user.id, role=Role.USER)


async def test_a_change_to_other_fields_keeps_the_principal(
    session: AsyncSession, principals: PrincipalCache, cached: Callable[[User], None], user: User
) -> None:
    cached(user)
    row = await session.get(User, user.id)
    assert row is not None

    row.full_name = "Renamed"
    await session.commit()

    assert principals.get(user.id) is not None


async def test_a_committed_access_change_is_published_once(
    session: AsyncSession, published: list[set[uuid.UUID]], user: User
) -> None:
    row = await session.get(User, user.id)
    assert row is not None

    row.role = Role.ADMIN
    row.is_active = False
    await session.commit()

    assert published == [{user.id}]


@pytest.mark.error_path
async def test_a_rolled_back_change_is_not_published(
    session: AsyncSession, published: list[set[uuid.UUID]], user: User
) -> None:
    row = await session.get(User, user.id)
    assert row is not None

    row.is_active = False
    await session.flush()
    await session.rollback()

    assert published == []
