"""Registration, login, refresh-token rotation and logout over HTTP."""

from collections.abc import Callable
from typing import Any

import jwt
import pytest
from httpx import AsyncClient

from {{ cookiecutter.package_name }}.config import Settings
from {{ cookiecutter.package_name }}.features.users.models import User

from ..factories import DEFAULT_PASSWORD, UserFactory
from ..support import TEST_JWT_SECRET, login, serve

REGISTER = "/api/v1/auth/register"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
ME = "/api/v1/users/me"


def error_code(response: Any) -> str:
    code: str = response.json()["error"]["code"]
    return code


async def test_register_creates_a_user_with_the_user_role(client: AsyncClient) -> None:
    response = await client.post(
        REGISTER, json={"email": "New@Example.com", "password": DEFAULT_PASSWORD}
    )

    assert response.status_code == 201
    body = response.json()
    assert body["email"] == "new@example.com"
    assert body["role"] == "user"
    assert "password" not in body
    assert "password_hash" not in body


@pytest.mark.parametrize(
    ("accepted", "email"),
    [
        ("local", "admin@corp.local"),
        ("localhost,test", "admin@localhost"),
        ("test", "u@myapp.test"),
    ],
)
async def test_register_accepts_the_special_use_domains_the_settings_list(
    make_settings: Callable[..., Settings], accepted: str, email: str
) -> None:
    async with serve(make_settings(email_special_use_domains=accepted)) as client:
        response = await client.post(REGISTER, json={"email": email, "password": DEFAULT_PASSWORD})

    assert response.status_code == 201
    assert response.json()["email"] == email


async def test_the_schema_says_which_email_addresses_are_accepted(client: AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()

    email = schema["components"]["schemas"]["RegisterRequest"]["properties"]["email"]
    assert email["format"] == "email"
    assert ".local" in email["description"]
    assert "EMAIL_SPECIAL_USE_DOMAINS" in email["description"]


async def test_login_returns_a_token_pair(client: AsyncClient, user: User) -> None:
    tokens = await login(client, user.email)

    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] == 15 * 60
    claims = jwt.decode(tokens["access_token"], TEST_JWT_SECRET, algorithms=["HS256"])
    assert {"sub", "exp", "iat", "jti", "type"} <= claims.keys()
    assert claims["type"] == "access"


async def test_login_takes_the_whole_oauth2_password_form(client: AsyncClient, user: User) -> None:
    """What Swagger UI's Authorize sends: the fields of the flow that the service does not use
    are accepted and ignored, as the named LoginForm model says."""
    form = {
        "grant_type": "password",
        "username": user.email,
        "password": DEFAULT_PASSWORD,
        "scope": "",
        "client_id": "docs",
    }

    response = await client.post("/api/v1/auth/login", data=form)

    assert response.status_code == 200, response.text


async def test_access_token_reaches_a_protected_route(client: AsyncClient, user: User) -> None:
    tokens = await login(client, user.email)

    response = await client.get(ME, headers={"Authorization": f"Bearer {tokens['access_token']}"})

    assert response.status_code == 200
    assert response.json()["id"] == str(user.id)


async def test_refresh_rotates_the_pair(client: AsyncClient, user: User) -> None:
    tokens = await login(client, user.email)

    response = await client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})

    assert response.status_code == 200
    assert response.json()["refresh_token"] != tokens["refresh_token"]


async def test_rotated_refresh_token_chain_keeps_working(client: AsyncClient, user: User) -> None:
    tokens = await login(client, user.email)
    for _ in range(3):
        response = await client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})
        assert response.status_code == 200
        tokens = response.json()


async def test_logout_returns_no_content(client: AsyncClient, user: User) -> None:
    tokens = await login(client, user.email)

    response = await client.post(LOGOUT, json={"refresh_token": tokens["refresh_token"]})

    assert response.status_code == 204


@pytest.mark.error_path
class TestAuthErrors:
    async def test_register_rejects_a_taken_email(self, client: AsyncClient, user: User) -> None:
        response = await client.post(
            REGISTER, json={"email": user.email.upper(), "password": DEFAULT_PASSWORD}
        )

        assert response.status_code == 409
        assert error_code(response) == "CONFLICT"

    @pytest.mark.parametrize(
        "body",
        [
            {"email": "not-an-email", "password": DEFAULT_PASSWORD},
            {"email": "a@example.com", "password": "short"},
            {"email": "a@example.com", "password": "x" * 129},
            {"email": "a@example.com", "password": "nul\x00byte-password"},
            {"email": "a@example.com"},
            {"email": "a@example.com", "password": DEFAULT_PASSWORD, "full_name": "x" * 201},
        ],
        ids=["bad-email", "short-password", "long-password", "nul", "missing", "long-name"],
    )
    async def test_register_rejects_invalid_fields(
        self, client: AsyncClient, body: dict[str, Any]
    ) -> None:
        response = await client.post(REGISTER, json=body)

        assert response.status_code == 422
        assert error_code(response) == "VALIDATION_ERROR"

    @pytest.mark.parametrize("email", ["admin@corp.local", "user@myapp.test", "admin@localhost"])
    async def test_register_refuses_special_use_domains_by_default(
        self, client: AsyncClient, email: str
    ) -> None:
        response = await client.post(REGISTER, json={"email": email, "password": DEFAULT_PASSWORD})

        assert response.status_code == 422
        message = "Addresses at this special-use domain are not accepted here"
        assert response.json()["error"] == {
            "code": "INVALID_REQUEST",
            "message": message,
            "details": {
                "errors": [
                    {"field": "body.email", "message": message, "type": "special_use_domain"}
                ]
            },
        }

    async def test_accepting_one_special_use_domain_accepts_no_other(
        self, make_settings: Callable[..., Settings]
    ) -> None:
        async with serve(make_settings(email_special_use_domains="local")) as client:
            response = await client.post(
                REGISTER, json={"email": "user@myapp.test", "password": DEFAULT_PASSWORD}
            )

        assert response.status_code == 422
        [problem] = response.json()["error"]["details"]["errors"]
        assert problem["field"] == "body.email"

    @pytest.mark.parametrize("field", ["role", "is_active", "id"])
    async def test_register_rejects_server_owned_fields(
        self, client: AsyncClient, field: str
    ) -> None:
        body = {"email": "a@example.com", "password": DEFAULT_PASSWORD, field: "admin"}

        response = await client.post(REGISTER, json=body)

        assert response.status_code == 422
        assert response.json()["error"]["details"]["errors"][0]["field"] == f"body.{field}"

    async def test_login_rejects_a_wrong_password(self, client: AsyncClient, user: User) -> None:
        response = await client.post(
            "/api/v1/auth/login", data={"username": user.email, "password": "wrong password!"}
        )

        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"

    async def test_login_rejects_an_unknown_email_the_same_way(self, client: AsyncClient) -> None:
        response = await client.post(
            "/api/v1/auth/login",
            data={"username": "nobody@example.com", "password": DEFAULT_PASSWORD},
        )

        assert response.status_code == 401
        assert response.json()["error"]["message"] == "Incorrect email or password"

    async def test_login_rejects_an_inactive_user(
        self, client: AsyncClient, users: UserFactory
    ) -> None:
        inactive = await users.create(is_active=False)

        response = await client.post(
            "/api/v1/auth/login", data={"username": inactive.email, "password": DEFAULT_PASSWORD}
        )

        assert response.status_code == 401

    async def test_login_rejects_a_missing_form(self, client: AsyncClient) -> None:
        response = await client.post("/api/v1/auth/login", data={})

        assert response.status_code == 422

    async def test_refresh_after_logout_is_rejected(self, client: AsyncClient, user: User) -> None:
        tokens = await login(client, user.email)
        await client.post(LOGOUT, json={"refresh_token": tokens["refresh_token"]})

        response = await client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})

        assert response.status_code == 401

    async def test_refresh_rejects_an_access_token(self, client: AsyncClient, user: User) -> None:
        tokens = await login(client, user.email)

        response = await client.post(REFRESH, json={"refresh_token": tokens["access_token"]})

        assert response.status_code == 401

    async def test_refresh_rejects_garbage(self, client: AsyncClient) -> None:
        response = await client.post(REFRESH, json={"refresh_token": "not-a-jwt"})

        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"

    async def test_logout_rejects_an_unknown_token(self, client: AsyncClient) -> None:
        response = await client.post(LOGOUT, json={"refresh_token": "not-a-jwt"})

        assert response.status_code == 401
