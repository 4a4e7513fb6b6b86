"""Security regressions, one test per threat, named after the OWASP API Security Top 10 (2023).

Each docstring starts with the OWASP category the test guards against.
"""

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import jwt
import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from {{ cookiecutter.package_name }}.config import Settings
from {{ cookiecutter.package_name }}.core.clock import utc_now
from {{ cookiecutter.package_name }}.features.users.models import User

from ..factories import DEFAULT_PASSWORD, ItemFactory, UserFactory
from ..support import TEST_JWT_SECRET, bearer, login, serve

ME = "/api/v1/users/me"
ITEMS = "/api/v1/items"
SECURITY_HEADERS = ("x-content-type-options", "x-frame-options", "content-security-policy")
LEAK_MARKERS = ("Traceback", 'File "', "SELECT ", "INSERT ", "sqlalchemy", "asyncpg", "sqlite3")


def forged_token(user: User, key: str = TEST_JWT_SECRET, **overrides: Any) -> str:
    """A token with every claim valid (unless overridden), signed with *key*: a refusal is then
    for the one thing the test changed."""
    now = utc_now()
    claims = {
        "sub": str(user.id),
        "jti": str(uuid.uuid4()),
        "type": "access",
        "iat": now,
        "exp": now + timedelta(minutes=5),
        **overrides,
    }
    return jwt.encode(claims, key, algorithm="HS256")


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.error_path
async def test_another_users_object_is_not_found(
    client: AsyncClient, user_headers: dict[str, str], users: UserFactory, items: ItemFactory
) -> None:
    """API1:2023 Broken Object Level Authorization: another user's item reads as missing."""
    theirs = await items.create(await users.create())

    for method in ("GET", "PATCH", "DELETE"):
        response = await client.request(
            method, f"{ITEMS}/{theirs.id}", json={"title": "x"}, headers=user_headers
        )
        assert response.status_code == 404, method


@pytest.mark.error_path
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/v1/auth/register", {"email": "e@example.com", "password": DEFAULT_PASSWORD}),
        ("PATCH", ME, {}),
        ("POST", ITEMS, {"title": "t"}),
    ],
    ids=["register", "update-me", "create-item"],
)
@pytest.mark.parametrize(
    ("field", "value"),
    [
        # Values of the field's own type, so that only the field's being server-owned can
        # refuse them (a type error would give the same 422 for the wrong reason).
        ("role", "admin"),
        ("is_active", False),
        ("id", "5b0c7f3e-2f4d-4c84-9b57-1f6b2a9e8d10"),
        ("owner_id", "5b0c7f3e-2f4d-4c84-9b57-1f6b2a9e8d10"),
        ("password_hash", "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"),
    ],
)
async def test_no_body_field_escalates_privileges(
    client: AsyncClient,
    user_headers: dict[str, str],
    method: str,
    path: str,
    body: dict[str, Any],
    field: str,
    value: object,
) -> None:
    """API3:2023 Broken Object Property Level Authorization: server-owned fields are refused."""
    before = (await client.get(ME, headers=user_headers)).json()

    response = await client.request(method, path, json={**body, field: value}, headers=user_headers)
    me = (await client.get(ME, headers=user_headers)).json()

    assert response.status_code == 422
    assert field in response.text  # refused for that field, not for another reason
    assert me == before


@pytest.mark.error_path
async def test_a_user_cannot_reach_admin_functions(
    client: AsyncClient, user: User, user_headers: dict[str, str]
) -> None:
    """API5:2023 Broken Function Level Authorization: admin routes answer 403 to users."""
    listing = await client.get("/api/v1/users", headers=user_headers)
    promotion = await client.patch(
        f"/api/v1/users/{user.id}/role", json={"role": "admin"}, headers=user_headers
    )

    assert (listing.status_code, promotion.status_code) == (403, 403)


@pytest.mark.error_path
async def test_alg_none_token_is_refused(client: AsyncClient, user: User) -> None:
    """API2:2023 Broken Authentication: an unsigned token (alg=none) is not accepted."""
    now = utc_now()
    claims = {"sub": str(user.id), "jti": str(uuid.uuid4()), "type": "access"}
    token = jwt.encode(
        {**claims, "iat": now, "exp": now + timedelta(minutes=5)}, "", algorithm="none"
    )

    response = await client.get(ME, headers=auth(token))

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.error_path
async def test_expired_token_is_refused(client: AsyncClient, user: User) -> None:
    """API2:2023 Broken Authentication: an expired access token is not accepted."""
    token = forged_token(user, exp=utc_now() - timedelta(seconds=1))

    assert (await client.get(ME, headers=auth(token))).status_code == 401


@pytest.mark.error_path
async def test_refresh_token_is_not_an_access_token(client: AsyncClient, user: User) -> None:
    """API2:2023 Broken Authentication: a refresh token does not open API routes."""
    tokens = await login(client, user.email)

    assert (await client.get(ME, headers=auth(tokens["refresh_token"]))).status_code == 401


@pytest.mark.error_path
async def test_tampered_token_is_refused(client: AsyncClient, user: User, admin: User) -> None:
    """API2:2023 Broken Authentication: changing the claims breaks the signature."""
    header, _, signature = forged_token(user).split(".")
    _, admin_claims, _ = forged_token(admin).split(".")

    response = await client.get(ME, headers=auth(f"{header}.{admin_claims}.{signature}"))

    assert response.status_code == 401


@pytest.mark.error_path
async def test_token_signed_with_another_key_is_refused(client: AsyncClient, user: User) -> None:
    """API2:2023 Broken Authentication: only the service's own key signs valid tokens."""
    token = forged_token(user, key="k" * 64)  # every claim valid: only the key is wrong

    assert (await client.get(ME, headers=auth(token))).status_code == 401


@pytest.mark.error_path
async def test_refresh_token_reuse_revokes_the_family(client: AsyncClient, user: User) -> None:
    """API2:2023 Broken Authentication: a replayed refresh token ends every session of it."""
    stolen = await login(client, user.email)
    legitimate = (
        await client.post("/api/v1/auth/refresh", json={"refresh_token": stolen["refresh_token"]})
    ).json()

    replay = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": stolen["refresh_token"]}
    )
    after = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": legitimate["refresh_token"]}
    )

    assert (replay.status_code, after.status_code) == (401, 401)


@pytest.mark.error_path
@pytest.mark.parametrize(
    "body",
    [
        {"title": "nul\x00byte"},
        {"title": "x" * 201},
        {"title": "ok", "description": "y" * 10_001},
        {"title": "ok", "description": "\x00"},
    ],
    ids=["nul-title", "long-title", "long-description", "nul-description"],
)
async def test_nul_bytes_and_oversize_strings_are_422(
    client: AsyncClient, user_headers: dict[str, str], body: dict[str, str]
) -> None:
    """API4:2023 Unrestricted Resource Consumption / API8 input handling: 422, never a 500."""
    response = await client.post(ITEMS, json=body, headers=user_headers)

    assert response.status_code == 422


@pytest.mark.error_path
async def test_nul_byte_in_login_is_422(client: AsyncClient) -> None:
    """API4:2023 Unrestricted Resource Consumption: a NUL in the login form is refused early."""
    response = await client.post(
        "/api/v1/auth/login", data={"username": "a\x00@example.com", "password": "p"}
    )

    assert response.status_code == 422


@pytest.mark.error_path
async def test_login_is_rate_limited(make_settings: Callable[..., Settings]) -> None:
    """API4:2023 Unrestricted Resource Consumption: credential guessing gets 429 + Retry-After."""
    form = {"username": "victim@example.com", "password": "guess-guess-guess"}
    settings = make_settings(auth_rate_limit_per_minute=3, auth_rate_limit_burst=3)
    async with serve(settings) as limited:
        responses = [await limited.post("/api/v1/auth/login", data=form) for _ in range(4)]

    assert [r.status_code for r in responses] == [401, 401, 401, 429]
    assert int(responses[-1].headers["retry-after"]) > 0
    assert responses[-1].json()["error"]["code"] == "RATE_LIMITED"


@pytest.mark.error_path
async def test_security_headers_on_every_kind_of_response(
    app: FastAPI, client: AsyncClient
) -> None:
    """API8:2023 Security Misconfiguration: 2xx, 4xx and 5xx responses carry the headers."""

    async def fail() -> None:
        raise RuntimeError("boom")

    app.add_api_route("/fail", fail)
    responses = [
        await client.get("/health"),
        await client.get("/missing"),
        await client.get(ME),
        await client.get("/fail"),
    ]

    assert [r.status_code for r in responses] == [200, 404, 401, 500]
    for response in responses:
        assert all(header in response.headers for header in SECURITY_HEADERS), response


@pytest.mark.error_path
async def test_error_bodies_reveal_no_internals(
    app: FastAPI, client: AsyncClient, user_headers: dict[str, str]
) -> None:
    """API8:2023 Security Misconfiguration: no stack trace, SQL or driver name in any error."""

    async def fail() -> None:
        raise RuntimeError("SELECT password_hash FROM users -- in sqlalchemy")

    app.add_api_route("/fail", fail)
    responses = [
        await client.get("/fail"),
        await client.post(
            ITEMS, content=b"{", headers={**user_headers, "Content-Type": "application/json"}
        ),
        await client.get(f"{ITEMS}/{uuid.uuid4()}", headers=user_headers),
        await client.post("/api/v1/auth/refresh", json={"refresh_token": "x' OR 1=1 --"}),
    ]

    for response in responses:
        assert not any(marker in response.text for marker in LEAK_MARKERS), response.text


async def test_cors_refuses_an_unlisted_origin(make_settings: Callable[..., Settings]) -> None:
    """API8:2023 Security Misconfiguration: only listed origins may read responses."""
    settings = make_settings(cors_origins="https://app.example.com")
    async with serve(settings) as cors:
        response = await cors.get("/health", headers={"Origin": "https://evil.example"})

    assert "access-control-allow-origin" not in response.headers


@pytest.mark.error_path
async def test_unauthenticated_access_is_refused_everywhere(client: AsyncClient) -> None:
    """API2:2023 Broken Authentication: every non-public route needs a token."""
    protected = [("GET", ME), ("GET", ITEMS), ("POST", ITEMS), ("GET", "/api/v1/users")]

    statuses = [(await client.request(method, path)).status_code for method, path in protected]

    assert statuses == [401] * len(protected)


@pytest.mark.error_path
async def test_another_users_token_cannot_log_out_a_session(
    client: AsyncClient, users: UserFactory
) -> None:
    """API2:2023 Broken Authentication: a forged refresh token cannot revoke real sessions."""
    victim = await users.create()
    tokens = await login(client, victim.email)
    forged = jwt.encode(
        {**jwt.decode(tokens["refresh_token"], options={"verify_signature": False})},
        "k" * 64,
        algorithm="HS256",
    )

    logout = await client.post("/api/v1/auth/logout", json={"refresh_token": forged})
    still_works = await client.get(ME, headers=await bearer(client, victim))

    assert (logout.status_code, still_works.status_code) == (401, 200)
