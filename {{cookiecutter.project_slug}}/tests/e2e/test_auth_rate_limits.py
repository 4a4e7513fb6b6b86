"""Login is limited per client address and per account: guesses at one account from many
addresses meet the account's limit, guesses at many accounts from one address the address's."""

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response

from {{ cookiecutter.package_name }}.config import Settings

from ..support import assert_envelope, client_for

LOGIN = "/api/v1/auth/login"
# 3 a minute with bursts of 3: the 4th attempt waits for the first to age out, 20 s.
LIMITED = {"auth_rate_limit_per_minute": 3, "auth_rate_limit_burst": 3}
OTHER_ADDRESS = "198.51.100.7"


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(**LIMITED)


async def guess(client: AsyncClient, email: str) -> Response:
    return await client.post(LOGIN, data={"username": email, "password": "guess-guess-guess"})


def assert_rate_limited(response: Response, retry_after: int) -> None:
    assert response.status_code == 429
    assert response.headers["retry-after"] == str(retry_after)
    assert_envelope(response.json(), "RATE_LIMITED")
    assert response.json()["error"]["details"] == {"retry_after": retry_after}


@pytest.mark.error_path
async def test_another_address_cannot_bypass_the_account_limit(
    app: FastAPI, client: AsyncClient
) -> None:
    statuses = [(await guess(client, "victim@example.com")).status_code for _ in range(3)]
    async with client_for(app, address=OTHER_ADDRESS) as elsewhere:
        response = await guess(elsewhere, "victim@example.com")

    assert statuses == [401, 401, 401]
    assert_rate_limited(response, retry_after=20)


@pytest.mark.error_path
async def test_the_account_is_its_email_in_any_case(app: FastAPI, client: AsyncClient) -> None:
    for email in ("victim@example.com", "Victim@Example.com", "VICTIM@EXAMPLE.COM"):
        await guess(client, email)
    async with client_for(app, address=OTHER_ADDRESS) as elsewhere:
        response = await guess(elsewhere, "victim@EXAMPLE.com")

    assert_rate_limited(response, retry_after=20)


@pytest.mark.error_path
async def test_accounts_guessed_from_one_address_meet_the_address_limit(
    client: AsyncClient,
) -> None:
    responses = [await guess(client, f"user{n}@example.com") for n in range(4)]

    assert [r.status_code for r in responses[:3]] == [401, 401, 401]
    assert_rate_limited(responses[3], retry_after=20)


async def test_a_limited_account_leaves_other_accounts_alone(
    app: FastAPI, client: AsyncClient
) -> None:
    for _ in range(3):
        await guess(client, "victim@example.com")
    async with client_for(app, address=OTHER_ADDRESS) as elsewhere:
        response = await guess(elsewhere, "someone-else@example.com")

    assert response.status_code == 401
