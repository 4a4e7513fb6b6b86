"""The probes: /health (the process answers) and /ready (its database answers too)."""

from collections.abc import Callable
from importlib.util import find_spec

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from {{ cookiecutter.package_name }}.config import Settings
from {{ cookiecutter.package_name }}.features.health.router import READINESS_CHECKS

from ..support import assert_envelope, serve

# A database that cannot be opened: a SQLite file in a missing directory, and (where the driver
# is installed) a PostgreSQL port that refuses connections.
UNREACHABLE_DATABASES = ["sqlite+aiosqlite:////nonexistent-directory/app.db"] + (
    ["postgresql+asyncpg://nobody@127.0.0.1:1/none"] if find_spec("asyncpg") else []
)


async def test_health_is_ok(client: AsyncClient) -> None:
    response = await client.get("/health")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"status": "ok"}


def test_health_documents_the_answer_it_encodes_once(app: FastAPI) -> None:
    """The route returns a ready Response, which FastAPI does not check against a model: the
    document must still name the model the answer is."""
    ok = app.openapi()["paths"]["/health"]["get"]["responses"]["200"]
    assert ok["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/HealthStatus"
    }


async def test_ready_checks_the_database_and_each_packs_dependencies(client: AsyncClient) -> None:
    response = await client.get("/ready")

    assert response.json() == {
        "status": "ok",
        "checks": {check.name: "ok" for check in READINESS_CHECKS},
    }
    assert READINESS_CHECKS[0].name == "database"


@pytest.mark.error_path
class TestRefusals:
    @pytest.mark.parametrize("unreachable", UNREACHABLE_DATABASES)
    async def test_ready_is_503_when_the_database_is_unreachable(
        self, make_settings: Callable[..., Settings], unreachable: str
    ) -> None:
        async with serve(make_settings(database_url=unreachable)) as down:
            response = await down.get("/ready")

        assert response.status_code == 503
        assert response.json()["error"]["details"]["checks"]["database"] == "error"

    @pytest.mark.parametrize("unreachable", UNREACHABLE_DATABASES)
    async def test_api_is_a_503_envelope_when_the_database_is_unreachable(
        self, make_settings: Callable[..., Settings], unreachable: str
    ) -> None:
        async with serve(make_settings(database_url=unreachable)) as down:
            response = await down.post(
                "/api/v1/auth/login", data={"username": "a@example.com", "password": "whatever"}
            )

        assert response.status_code == 503
        assert_envelope(response.json(), "SERVICE_UNAVAILABLE")
