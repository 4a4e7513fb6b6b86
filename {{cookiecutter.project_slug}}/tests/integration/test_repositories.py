"""Repositories against the real database: the queries themselves."""

import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from {{ cookiecutter.package_name }}.core.clock import utc_now
from {{ cookiecutter.package_name }}.core.pagination import Cursor
from {{ cookiecutter.package_name }}.features.auth.models import RefreshToken
from {{ cookiecutter.package_name }}.features.auth.repository import (
    RefreshTokenRepository,
)
from {{ cookiecutter.package_name }}.features.items.repository import (
    ItemRepository,
)
from {{ cookiecutter.package_name }}.features.items.schemas import (
    ItemFilters,
    ItemSort,
)
from {{ cookiecutter.package_name }}.features.users.models import Role
from {{ cookiecutter.package_name }}.features.users.repository import (
    UserRepository,
)

from ..factories import ItemFactory, UserFactory


async def test_user_lookup_by_email(session: AsyncSession, users: UserFactory) -> None:
    user = await users.create(email="find@example.com")

    found = await UserRepository(session).get_by_email("find@example.com")

    assert found is not None
    assert found.id == user.id


async def test_count_active_admins(session: AsyncSession, users: UserFactory) -> None:
    await users.create(role=Role.ADMIN)
    await users.create(role=Role.ADMIN, is_active=False)
    await users.create()

    assert await UserRepository(session).count_active_admins() == 1


async def test_delete_expired_refresh_tokens_deletes_at_most_a_batch(
    session: AsyncSession, users: UserFactory
) -> None:
    user = await users.create()
    now = utc_now()
    family = uuid.uuid4()
    for expires_in in (-3, -2, -1, 1):  # days; one token still valid
        session.add(
            RefreshToken(
                id=uuid.uuid4(),
                user_id=user.id,
                family_id=family,
                issued_at=now - timedelta(days=7),
                expires_at=now + timedelta(days=expires_in),
                revoked_at=now if expires_in < 0 else None,
            )
        )
    await session.commit()
    tokens = RefreshTokenRepository(session)

    assert await tokens.delete_expired(now, limit=2) == 2
    assert await tokens.delete_expired(now, limit=2) == 1
    assert await tokens.delete_expired(now, limit=2) == 0
    await session.commit()
    assert len(await tokens.issued_since(family, now - timedelta(days=8))) == 1  # the valid one


async def test_title_filter_treats_like_wildcards_literally(
    session: AsyncSession, users: UserFactory, items: ItemFactory
) -> None:
    owner = await users.create()
    await items.create(owner, title="50% off")
    await items.create(owner, title="500 off")
    await items.create(owner, title="under_score")
    await items.create(owner, title="underXscore")

    repository = ItemRepository(session)
    percent, _ = await repository.list_page(
        ItemFilters(title_contains="50%"), ItemSort.TITLE, 0, 10
    )
    underscore, _ = await repository.list_page(
        ItemFilters(title_contains="r_s"), ItemSort.TITLE, 0, 10
    )

    assert [item.title for item in percent] == ["50% off"]
    assert [item.title for item in underscore] == ["under_score"]


async def test_keyset_page_starts_after_the_cursor(
    session: AsyncSession, users: UserFactory, items: ItemFactory
) -> None:
    owner = await users.create()
    base = utc_now()
    created = [
        await items.create(owner, created_at=base - timedelta(minutes=minute))
        for minute in range(4)
    ]

    after = Cursor(created[1].created_at, created[1].id)
    rows = await ItemRepository(session).list_after(ItemFilters(), after, limit=10)

    assert [row.id for row in rows] == [created[2].id, created[3].id]


async def test_revoke_family_revokes_only_that_family(
    session: AsyncSession, users: UserFactory
) -> None:
    owner = await users.create()
    family, other = uuid.uuid4(), uuid.uuid4()
    expires = utc_now() + timedelta(days=1)
    tokens = [
        RefreshToken(id=uuid.uuid4(), user_id=owner.id, family_id=f, expires_at=expires)
        for f in (family, family, other)
    ]
    repository = RefreshTokenRepository(session)
    for token in tokens:
        await repository.add(token)

    await repository.revoke_family(family, utc_now())
    await session.commit()
    for token in tokens:
        await session.refresh(token)

    assert [token.revoked_at is not None for token in tokens] == [True, True, False]
