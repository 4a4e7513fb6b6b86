"""The users API: your own profile, and admin-only user management."""

import uuid
from collections.abc import Callable

import pytest
from httpx import AsyncClient
from sqlalchemy import update

from {{ cookiecutter.package_name }}.config import Settings
from {{ cookiecutter.package_name }}.core.base import col
from {{ cookiecutter.package_name }}.dependencies import Resources
from {{ cookiecutter.package_name }}.features.users.models import Role, User

from ..factories import UserFactory
from ..support import bearer, serve

ME = "/api/v1/users/me"
USERS = "/api/v1/users"


async def test_update_me_changes_the_full_name(
    client: AsyncClient, user_headers: dict[str, str]
) -> None:
    response = await client.patch(ME, json={"full_name": "Ada Lovelace"}, headers=user_headers)

    assert response.status_code == 200
    assert response.json()["full_name"] == "Ada Lovelace"


async def test_admin_lists_users_a_page_at_a_time(
    client: AsyncClient, admin_headers: dict[str, str], users: UserFactory
) -> None:
    for _ in range(3):
        await users.create()

    body = (await client.get(USERS, params={"page_size": 2}, headers=admin_headers)).json()

    assert body["total"] == 4
    assert len(body["items"]) == 2
    assert body["has_next"] is True


async def test_admin_promotes_a_user(
    client: AsyncClient, admin_headers: dict[str, str], user: User
) -> None:
    response = await client.patch(
        f"{USERS}/{user.id}/role", json={"role": "admin"}, headers=admin_headers
    )

    assert response.status_code == 200
    assert response.json()["role"] == "admin"


async def test_an_admin_can_step_down_when_another_admin_remains(
    client: AsyncClient, admin: User, admin_headers: dict[str, str], users: UserFactory
) -> None:
    await users.create(role=Role.ADMIN)

    response = await client.patch(
        f"{USERS}/{admin.id}/role", json={"role": "user"}, headers=admin_headers
    )

    assert response.status_code == 200


@pytest.mark.error_path
class TestUserErrors:
    @pytest.mark.parametrize(
        "body",
        [{"role": "admin"}, {"is_active": False}, {"email": "new@example.com"}, {"id": "x"}],
        ids=["role", "is_active", "email", "id"],
    )
    async def test_a_user_cannot_set_server_owned_fields(
        self, client: AsyncClient, user_headers: dict[str, str], body: dict[str, object]
    ) -> None:
        response = await client.patch(ME, json=body, headers=user_headers)
        me = (await client.get(ME, headers=user_headers)).json()

        assert response.status_code == 422
        assert me["role"] == "user"
        assert me["is_active"] is True

    async def test_a_user_cannot_list_users(
        self, client: AsyncClient, user_headers: dict[str, str]
    ) -> None:
        response = await client.get(USERS, headers=user_headers)

        assert response.status_code == 403
        assert response.json()["error"]["details"] == {"required_roles": ["admin"]}

    async def test_a_user_cannot_change_roles(
        self, client: AsyncClient, user: User, user_headers: dict[str, str]
    ) -> None:
        response = await client.patch(
            f"{USERS}/{user.id}/role", json={"role": "admin"}, headers=user_headers
        )

        assert response.status_code == 403

    async def test_role_change_of_an_unknown_user_is_not_found(
        self, client: AsyncClient, admin_headers: dict[str, str]
    ) -> None:
        response = await client.patch(
            f"{USERS}/{uuid.uuid4()}/role", json={"role": "admin"}, headers=admin_headers
        )

        assert response.status_code == 404

    async def test_role_must_be_a_known_role(
        self, client: AsyncClient, user: User, admin_headers: dict[str, str]
    ) -> None:
        response = await client.patch(
            f"{USERS}/{user.id}/role", json={"role": "superuser"}, headers=admin_headers
        )

        assert response.status_code == 422

    async def test_the_last_admin_cannot_be_demoted(
        self, client: AsyncClient, admin: User, admin_headers: dict[str, str]
    ) -> None:
        response = await client.patch(
            f"{USERS}/{admin.id}/role", json={"role": "user"}, headers=admin_headers
        )

        assert response.status_code == 409

    @pytest.mark.parametrize(
        "authorization",
        ["", "Bearer", "Bearer not-a-jwt", "Basic dXNlcjpwYXNz", "Bearer a.b.c"],
        ids=["empty", "no-token", "garbage", "basic", "three-parts"],
    )
    async def test_me_rejects_missing_or_malformed_credentials(
        self, client: AsyncClient, authorization: str
    ) -> None:
        response = await client.get(ME, headers={"Authorization": authorization})

        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.error_path
class TestCachedPrincipals:
    """Who the caller is comes from a short-lived per-process cache. A change made through this
    process's API applies at once (the test settings keep entries 60 s, so only the eviction can
    make these pass); changes made elsewhere apply within the TTL, or at once with TTL 0."""

    async def test_a_demoted_admin_loses_admin_rights_at_once(
        self, client: AsyncClient, admin_headers: dict[str, str], users: UserFactory
    ) -> None:
        other = await users.create(role=Role.ADMIN)
        other_headers = await bearer(client, other)
        assert (await client.get(USERS, headers=other_headers)).status_code == 200  # cached

        demoted = await client.patch(
            f"{USERS}/{other.id}/role", json={"role": "user"}, headers=admin_headers
        )
        after = await client.get(USERS, headers=other_headers)

        assert demoted.status_code == 200
        assert after.status_code == 403

    async def test_without_the_cache_a_deactivated_user_is_refused_at_once(
        self, make_settings: Callable[..., Settings], users: UserFactory, resources: Resources
    ) -> None:
        user = await users.create()
        async with serve(make_settings(auth_user_cache_seconds=0)) as uncached:
            headers = await bearer(uncached, user)
            before = await uncached.get(ME, headers=headers)
            async with resources.session_factory() as session:  # as another worker would
                await session.execute(
                    update(User).where(col(User.id) == user.id).values(is_active=False)
                )
                await session.commit()
            after = await uncached.get(ME, headers=headers)

        assert before.status_code == 200
        assert after.status_code == 401
