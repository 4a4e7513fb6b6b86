"""The security audit trail: one line per security event, with who acted, on whom, from which
address and in which request, and never a password, a token or a hash."""

import json
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from {{ cookiecutter.package_name }}.config import Settings
from {{ cookiecutter.package_name }}.core.audit import AuditEvent
from {{ cookiecutter.package_name }}.features.users.models import Role, User
from {{ cookiecutter.package_name }}.features.users.repository import (
    UserRepository,
)
from {{ cookiecutter.package_name }}.main import create_app

from ..factories import DEFAULT_PASSWORD, UserFactory
from ..support import assert_envelope, bearer, client_for, login, serve

REGISTER = "/api/v1/auth/register"
LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
USERS = "/api/v1/users"
CALLER = "203.0.113.9"  # the client address every request of these tests comes from


@pytest.fixture
async def caller(app: FastAPI) -> AsyncIterator[AsyncClient]:
    async with client_for(app, address=CALLER) as client:
        yield client


def audit_lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    """The audit lines written so far (each stdout line is one JSON object)."""
    lines = map(json.loads, capsys.readouterr().out.splitlines())
    return [line for line in lines if line.get("audit") is True]


def the_line(capsys: pytest.CaptureFixture[str], event: AuditEvent) -> dict[str, Any]:
    """The one audit line of *event* written so far."""
    found = [line for line in audit_lines(capsys) if line["event"] == event]
    assert len(found) == 1, found
    return found[0]


async def test_registering_is_audited_with_the_new_account_as_subject(
    capsys: pytest.CaptureFixture[str], caller: AsyncClient
) -> None:
    response = await caller.post(
        REGISTER,
        json={"email": "new@example.com", "password": DEFAULT_PASSWORD},
        headers={"X-Request-ID": "register-1"},
    )

    line = the_line(capsys, AuditEvent.USER_REGISTERED)
    assert line | {"timestamp": ""} == {
        "event": "auth.register.succeeded",
        "audit": True,
        "level": "info",
        "actor": None,
        "subject": response.json()["id"],
        "client": CALLER,
        "request_id": "register-1",
        "timestamp": "",
    }


async def test_a_login_is_audited_with_the_user_as_actor_and_subject(
    capsys: pytest.CaptureFixture[str], caller: AsyncClient, user: User
) -> None:
    await login(caller, user.email)

    line = the_line(capsys, AuditEvent.LOGIN_SUCCEEDED)
    assert (line["actor"], line["subject"], line["client"]) == (str(user.id), str(user.id), CALLER)
    assert line["level"] == "info"
    assert "request_id" in line


async def test_a_logout_is_audited_with_its_family(
    capsys: pytest.CaptureFixture[str], caller: AsyncClient, user: User
) -> None:
    tokens = await login(caller, user.email)

    response = await caller.post(LOGOUT, json={"refresh_token": tokens["refresh_token"]})

    assert response.status_code == 204
    line = the_line(capsys, AuditEvent.LOGOUT)
    assert (line["actor"], line["subject"], line["client"]) == (str(user.id), str(user.id), CALLER)
    assert uuid.UUID(line["family_id"])


async def test_a_role_change_is_audited_with_the_admin_as_actor(
    capsys: pytest.CaptureFixture[str], caller: AsyncClient, admin: User, user: User
) -> None:
    response = await caller.patch(
        f"{USERS}/{user.id}/role", json={"role": "admin"}, headers=await bearer(caller, admin)
    )

    assert response.status_code == 200
    line = the_line(capsys, AuditEvent.ROLE_CHANGED)
    assert line | {"timestamp": "", "request_id": ""} == {
        "event": "users.role.changed",
        "audit": True,
        "level": "info",
        "actor": str(admin.id),
        "subject": str(user.id),
        "client": CALLER,
        "old_role": "user",
        "new_role": "admin",
        "request_id": "",
        "timestamp": "",
    }


async def test_deactivating_and_reactivating_are_audited(
    capsys: pytest.CaptureFixture[str], caller: AsyncClient, admin: User, user: User
) -> None:
    headers = await bearer(caller, admin)

    off = await caller.patch(
        f"{USERS}/{user.id}/active", json={"is_active": False}, headers=headers
    )
    on = await caller.patch(f"{USERS}/{user.id}/active", json={"is_active": True}, headers=headers)

    assert (off.json()["is_active"], on.json()["is_active"]) == (False, True)
    lines = [line for line in audit_lines(capsys) if line["event"].startswith("users.")]
    assert [(line["event"], line["actor"], line["subject"]) for line in lines] == [
        (AuditEvent.USER_DEACTIVATED, str(admin.id), str(user.id)),
        (AuditEvent.USER_REACTIVATED, str(admin.id), str(user.id)),
    ]


async def test_a_change_to_the_state_a_user_is_in_already_is_not_audited(
    capsys: pytest.CaptureFixture[str], caller: AsyncClient, admin: User, user: User
) -> None:
    response = await caller.patch(
        f"{USERS}/{user.id}/active", json={"is_active": True}, headers=await bearer(caller, admin)
    )

    assert response.status_code == 200
    assert [line["event"] for line in audit_lines(capsys)] == [AuditEvent.LOGIN_SUCCEEDED]


@pytest.mark.error_path
class TestFailuresAreAudited:
    async def test_unknown_email_and_wrong_password_look_alike_to_the_client_only(
        self, capsys: pytest.CaptureFixture[str], caller: AsyncClient, user: User
    ) -> None:
        unknown = await caller.post(
            LOGIN, data={"username": "nobody@example.com", "password": DEFAULT_PASSWORD}
        )
        wrong = await caller.post(LOGIN, data={"username": user.email, "password": "wrong-one!"})

        assert unknown.status_code == wrong.status_code == 401
        assert unknown.json() == wrong.json()
        assert_envelope(wrong.json(), "UNAUTHORIZED")
        lines = [line for line in audit_lines(capsys) if line["event"] == AuditEvent.LOGIN_FAILED]
        assert [(line["subject"], line["reason"], line["level"]) for line in lines] == [
            (None, "unknown_email", "warning"),
            (str(user.id), "wrong_password", "warning"),
        ]
        assert all(line["actor"] is None and line["client"] == CALLER for line in lines)

    async def test_an_inactive_account_is_the_reason_recorded(
        self, capsys: pytest.CaptureFixture[str], caller: AsyncClient, users: UserFactory
    ) -> None:
        inactive = await users.create(is_active=False)

        response = await caller.post(
            LOGIN, data={"username": inactive.email, "password": DEFAULT_PASSWORD}
        )

        assert response.status_code == 401
        line = the_line(capsys, AuditEvent.LOGIN_FAILED)
        assert (line["subject"], line["reason"]) == (str(inactive.id), "inactive")

    async def test_a_reused_refresh_token_is_audited_with_the_family_revoked(
        self, capsys: pytest.CaptureFixture[str], caller: AsyncClient, user: User
    ) -> None:
        tokens = await login(caller, user.email)
        first = await caller.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})

        reused = await caller.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})
        rotated = await caller.post(REFRESH, json={"refresh_token": first.json()["refresh_token"]})

        assert (reused.status_code, rotated.status_code) == (401, 401)  # the family is revoked
        lines = [
            line
            for line in audit_lines(capsys)
            if line["event"] == AuditEvent.REFRESH_REUSE_DETECTED
        ]
        # Each token of the revoked family presented again is a reuse: the thief's and the owner's.
        assert len(lines) == 2
        assert {line["family_id"] for line in lines} == {lines[0]["family_id"]}
        line = lines[0]
        assert (line["actor"], line["subject"], line["client"]) == (None, str(user.id), CALLER)
        assert line["level"] == "warning"
        assert uuid.UUID(line["family_id"])

    async def test_a_refused_role_change_is_not_audited(
        self, capsys: pytest.CaptureFixture[str], caller: AsyncClient, admin: User
    ) -> None:
        response = await caller.patch(
            f"{USERS}/{admin.id}/role", json={"role": "user"}, headers=await bearer(caller, admin)
        )

        assert response.status_code == 409
        assert AuditEvent.ROLE_CHANGED not in {line["event"] for line in audit_lines(capsys)}

    async def test_the_last_active_admin_cannot_be_deactivated(
        self, capsys: pytest.CaptureFixture[str], caller: AsyncClient, admin: User
    ) -> None:
        response = await caller.patch(
            f"{USERS}/{admin.id}/active",
            json={"is_active": False},
            headers=await bearer(caller, admin),
        )

        assert response.status_code == 409
        assert_envelope(response.json(), "CONFLICT")
        assert AuditEvent.USER_DEACTIVATED not in {line["event"] for line in audit_lines(capsys)}

    async def test_a_user_cannot_deactivate_anyone(
        self, caller: AsyncClient, user: User, admin: User
    ) -> None:
        response = await caller.patch(
            f"{USERS}/{admin.id}/active",
            json={"is_active": False},
            headers=await bearer(caller, user),
        )

        assert response.status_code == 403

    async def test_deactivating_an_unknown_user_is_not_found(
        self, caller: AsyncClient, admin: User
    ) -> None:
        response = await caller.patch(
            f"{USERS}/{uuid.uuid4()}/active",
            json={"is_active": False},
            headers=await bearer(caller, admin),
        )

        assert response.status_code == 404
        assert_envelope(response.json(), "NOT_FOUND")

    async def test_a_deactivated_user_can_no_longer_sign_in_or_refresh(
        self, caller: AsyncClient, admin: User, user: User
    ) -> None:
        tokens = await login(caller, user.email)
        await caller.patch(
            f"{USERS}/{user.id}/active",
            json={"is_active": False},
            headers=await bearer(caller, admin),
        )

        refreshed = await caller.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})
        logged_in = await caller.post(
            LOGIN, data={"username": user.email, "password": DEFAULT_PASSWORD}
        )

        assert (refreshed.status_code, logged_in.status_code) == (401, 401)

    async def test_the_address_limit_refusing_is_audited(
        self, capsys: pytest.CaptureFixture[str], make_settings: Callable[..., Settings]
    ) -> None:
        settings = make_settings(auth_rate_limit_per_minute=1, auth_rate_limit_burst=1)
        async with serve(settings) as client:
            form = {"username": "a@example.com", "password": "guess-guess-guess"}
            await client.post(LOGIN, data=form)
            response = await client.post(LOGIN, data=form)

        assert response.status_code == 429
        line = the_line(capsys, AuditEvent.RATE_LIMITED)
        assert line | {"timestamp": "", "request_id": ""} == {
            "event": "auth.rate_limited",
            "audit": True,
            "level": "warning",
            "actor": None,
            "subject": None,
            "client": "127.0.0.1",
            "limit": "client-address",
            "path": LOGIN,
            "retry_after": 60,
            "request_id": "",
            "timestamp": "",
        }

    async def test_the_account_limit_refusing_is_audited(
        self, capsys: pytest.CaptureFixture[str], make_settings: Callable[..., Settings]
    ) -> None:
        app = create_app(make_settings(auth_rate_limit_per_minute=1, auth_rate_limit_burst=1))
        async with app.router.lifespan_context(app), client_for(app) as first:
            await first.post(LOGIN, data={"username": "v@example.com", "password": "guess-1-guess"})
            async with client_for(app, address=CALLER) as elsewhere:  # past the address limit
                response = await elsewhere.post(
                    LOGIN, data={"username": "v@example.com", "password": "guess-2-guess"}
                )

        assert response.status_code == 429
        line = the_line(capsys, AuditEvent.RATE_LIMITED)
        assert (line["limit"], line["client"], line["subject"]) == ("login-account", CALLER, None)


async def test_no_password_token_or_hash_is_ever_written(
    capsys: pytest.CaptureFixture[str], caller: AsyncClient, admin: User, session: AsyncSession
) -> None:
    """Every event, with the secrets in play: none of them appears in any line at all."""
    registered = await caller.post(
        REGISTER, json={"email": "secret@example.com", "password": DEFAULT_PASSWORD}
    )
    user_id = registered.json()["id"]
    await caller.post(LOGIN, data={"username": "secret@example.com", "password": "wrong-pass!"})
    tokens = await login(caller, "secret@example.com")
    rotated = (await caller.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})).json()
    await caller.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})  # a reuse
    fresh = await login(caller, "secret@example.com")
    await caller.post(LOGOUT, json={"refresh_token": fresh["refresh_token"]})
    headers = await bearer(caller, admin)
    await caller.patch(f"{USERS}/{user_id}/role", json={"role": "admin"}, headers=headers)
    await caller.patch(f"{USERS}/{user_id}/active", json={"is_active": False}, headers=headers)

    output = capsys.readouterr().out
    lines = [json.loads(line) for line in output.splitlines()]
    events = {line["event"] for line in lines if line.get("audit")}
    assert events == set(AuditEvent) - {
        AuditEvent.USER_REACTIVATED,
        AuditEvent.ADMIN_CREATED,  # the CLI's: tests/test_cli.py
        AuditEvent.RATE_LIMITED,
    }
    registered_user = await UserRepository(session).get_by_email("secret@example.com")
    assert registered_user is not None
    hashes = [admin.password_hash, registered_user.password_hash]
    secrets = [DEFAULT_PASSWORD, "wrong-pass!", *hashes, headers["Authorization"][7:]]
    secrets += [tokens[k] for k in ("access_token", "refresh_token")]
    secrets += [rotated[k] for k in ("access_token", "refresh_token")]
    secrets += [fresh[k] for k in ("access_token", "refresh_token")]
    for secret in secrets:
        assert secret not in output
    assert Role.ADMIN.value in output  # the role change was written: the check saw real lines
