"""Factories for test data: each call makes a new, valid row; pass only what the test is about."""

import itertools
from typing import Any

from {{ cookiecutter.package_name }}.dependencies import Resources
from {{ cookiecutter.package_name }}.features.items.models import Item
from {{ cookiecutter.package_name }}.features.users.models import Role, User

DEFAULT_PASSWORD = "correct horse battery staple"
_sequence = itertools.count(1)


class UserFactory:
    def __init__(self, resources: Resources) -> None:
        self._resources = resources
        self._hashes: dict[str, str] = {}

    async def create(
        self,
        *,
        email: str | None = None,
        password: str = DEFAULT_PASSWORD,
        role: Role = Role.USER,
        is_active: bool = True,
        full_name: str | None = None,
    ) -> User:
        if password not in self._hashes:  # hashing is slow by design; reuse within a test
            self._hashes[password] = await self._resources.password_hasher.hash(password)
        user = User(
            email=email or f"user{next(_sequence)}@example.com",
            password_hash=self._hashes[password],
            role=role,
            is_active=is_active,
            full_name=full_name,
        )
        async with self._resources.session_factory() as session:
            session.add(user)
            await session.commit()
        return user


class ItemFactory:
    def __init__(self, resources: Resources) -> None:
        self._resources = resources

    async def create(self, owner: User, **fields: Any) -> Item:
        item = Item(owner_id=owner.id, **{"title": f"Item {next(_sequence)}", **fields})
        async with self._resources.session_factory() as session:
            session.add(item)
            await session.commit()
        return item
