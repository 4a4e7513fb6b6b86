"""Logout and refresh-token reuse end the access tokens of that login too, not only its refresh
tokens: the next request with one gets the 401 envelope."""

import pytest
from httpx import AsyncClient

from {{ cookiecutter.package_name }}.features.users.models import User

from ..support import assert_envelope, login

REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
ME = "/api/v1/users/me"


def bearer_of(tokens: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def refreshed(client: AsyncClient, tokens: dict[str, str]) -> dict[str, str]:
    response = await client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})
    assert response.status_code == 200
    pair: dict[str, str] = response.json()
    return pair


async def assert_refused(client: AsyncClient, tokens: dict[str, str]) -> None:
    response = await client.get(ME, headers=bearer_of(tokens))

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert_envelope(response.json(), "UNAUTHORIZED")


@pytest.mark.error_path
class TestRevokedAccessTokens:
    async def test_logout_revokes_the_access_token_of_the_login(
        self, client: AsyncClient, user: User
    ) -> None:
        tokens = await login(client, user.email)
        assert (await client.get(ME, headers=bearer_of(tokens))).status_code == 200

        await client.post(LOGOUT, json={"refresh_token": tokens["refresh_token"]})

        await assert_refused(client, tokens)

    async def test_logout_revokes_the_access_tokens_of_earlier_rotations(
        self, client: AsyncClient, user: User
    ) -> None:
        first = await login(client, user.email)
        second = await refreshed(client, first)

        await client.post(LOGOUT, json={"refresh_token": second["refresh_token"]})

        await assert_refused(client, first)
        await assert_refused(client, second)

    async def test_refresh_token_reuse_revokes_every_access_token_of_the_family(
        self, client: AsyncClient, user: User
    ) -> None:
        stolen = await login(client, user.email)
        rotated = await refreshed(client, stolen)

        reuse = await client.post(REFRESH, json={"refresh_token": stolen["refresh_token"]})

        assert reuse.status_code == 401
        await assert_refused(client, stolen)
        await assert_refused(client, rotated)


async def test_logout_leaves_other_logins_signed_in(client: AsyncClient, user: User) -> None:
    laptop = await login(client, user.email)
    phone = await login(client, user.email)

    await client.post(LOGOUT, json={"refresh_token": laptop["refresh_token"]})

    assert (await client.get(ME, headers=bearer_of(phone))).status_code == 200


async def test_a_rotation_leaves_the_previous_access_token_valid(
    client: AsyncClient, user: User
) -> None:
    """Refreshing before the access token expires is routine, not a sign of theft."""
    first = await login(client, user.email)
    await refreshed(client, first)

    assert (await client.get(ME, headers=bearer_of(first))).status_code == 200
