"""Login is limited per client address and per account: guesses at one account from many
addresses meet the account's limit, guesses at many accounts from one address the address's.
The address's limit counts every request; the account's only failed logins."""

import asyncio
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response

from {{ cookiecutter.package_name }}.config import Settings
from {{ cookiecutter.package_name }}.features.users.models import User

from ..factories import DEFAULT_PASSWORD
from ..support import assert_envelope, client_for

LOGIN = "/api/v1/auth/login"
# 3 a minute with bursts of 3: the 4th attempt waits for the first to age out, 20 s.
LIMITED = {"auth_rate_limit_per_minute": 3, "auth_rate_limit_burst": 3}
OTHER_ADDRESS = "198.51.100.7"
# More than the burst of the account's allowance.
MANY = 6


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(**LIMITED)


async def guess(client: AsyncClient, email: str) -> Response:
    return await client.post(LOGIN, data={"username": email, "password": "guess-guess-guess"})


async def log_in_from(app: FastAPI, address: str, email: str) -> Response:
    """The right password, from *address* (a new one each time keeps the address limit away)."""
    async with client_for(app, address=address) as client:
        return await client.post(LOGIN, data={"username": email, "password": DEFAULT_PASSWORD})


def address(n: int) -> str:
    return f"203.0.113.{n}"


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


async def test_the_owner_logging_in_uses_none_of_the_account_allowance(
    app: FastAPI, user: User
) -> None:
    statuses = [(await log_in_from(app, address(n), user.email)).status_code for n in range(MANY)]
    async with client_for(app, address=OTHER_ADDRESS) as elsewhere:
        guesses = [(await guess(elsewhere, user.email)).status_code for _ in range(3)]

    assert statuses == [200] * MANY
    assert guesses == [401, 401, 401]  # the whole allowance is still there for failures


@pytest.mark.error_path
async def test_a_successful_login_does_not_forgive_earlier_failures(
    app: FastAPI, client: AsyncClient, user: User
) -> None:
    failures = [(await guess(client, user.email)).status_code for _ in range(2)]
    success = await log_in_from(app, address(1), user.email)
    async with client_for(app, address=OTHER_ADDRESS) as elsewhere:
        last_guess = await guess(elsewhere, user.email)
        refused = await guess(elsewhere, user.email)

    assert failures == [401, 401]
    assert success.status_code == 200
    assert last_guess.status_code == 401
    assert_rate_limited(refused, retry_after=20)


@pytest.mark.error_path
async def test_a_locked_account_refuses_even_the_right_password(
    app: FastAPI, client: AsyncClient, user: User
) -> None:
    for _ in range(3):
        await guess(client, user.email)

    response = await log_in_from(app, OTHER_ADDRESS, user.email)

    assert_rate_limited(response, retry_after=20)  # refused before the password is checked


@pytest.mark.error_path
async def test_logging_in_still_counts_against_the_address(client: AsyncClient, user: User) -> None:
    form = {"username": user.email, "password": DEFAULT_PASSWORD}
    responses = [await client.post(LOGIN, data=form) for _ in range(4)]

    assert [r.status_code for r in responses[:3]] == [200, 200, 200]
    assert_rate_limited(responses[3], retry_after=20)


@pytest.mark.error_path
async def test_concurrent_guesses_cannot_all_get_past_the_account_limit(
    app: FastAPI, user: User
) -> None:
    """Each guess takes its allowance before its password is checked: however many arrive at
    once, from however many addresses, only the burst's worth are checked."""

    async def guess_from(n: int) -> int:
        async with client_for(app, address=address(n)) as client:
            return (await guess(client, user.email)).status_code

    statuses = await asyncio.gather(*(guess_from(n) for n in range(MANY)))

    assert sorted(statuses) == [401] * 3 + [429] * (MANY - 3)
