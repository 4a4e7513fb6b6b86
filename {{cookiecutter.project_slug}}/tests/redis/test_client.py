"""The Redis pack's client: one per app, reported by /ready, closed with the app, and its URL
(a secret) never shown."""

import asyncio
from collections.abc import Callable

import pytest
import redis.utils
from httpx import AsyncClient

from {{ cookiecutter.package_name }}.config import Settings
from {{ cookiecutter.package_name }}.main import create_app
from {{ cookiecutter.package_name }}.redis.client import redis_of
from {{ cookiecutter.package_name }}.redis.revocation import revocation_relay_of

from ..support import assert_envelope, serve

# Nothing listens on port 1; the password must never appear anywhere.
UNREACHABLE_REDIS = "redis://:hunter2-secret@127.0.0.1:1/0"


async def test_ready_reports_redis(client: AsyncClient) -> None:
    response = await client.get("/ready")

    assert response.status_code == 200
    assert response.json()["checks"]["redis"] == "ok"


async def test_the_client_is_the_apps_and_is_closed_with_it(
    make_settings: Callable[..., Settings],
) -> None:
    app = create_app(make_settings())
    async with app.router.lifespan_context(app):
        client = redis_of(app)
        assert await client.ping()
        assert client.connection_pool.connection_kwargs["socket_timeout"] == 1.0

    pool = client.connection_pool
    assert not any(connection.is_connected for connection in pool._available_connections)


async def test_a_new_connection_does_not_read_the_librarys_version_again(
    make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    """redis-py reads its version from the package metadata for each connection it opens unless
    the client gives it one (redis/connection.py gives it once per process)."""
    reads: list[str] = []

    def version() -> str:
        reads.append("read")
        return "0"

    monkeypatch.setattr(redis.utils, "get_lib_version", version)
    app = create_app(make_settings())
    async with app.router.lifespan_context(app):
        client = redis_of(app)
        pool = client.connection_pool
        connections = len(pool._available_connections) + len(pool._in_use_connections)
        # At once, so the pool opens new connections.
        assert all(await asyncio.gather(*(client.ping() for _ in range(5))))
        opened = len(pool._available_connections) + len(pool._in_use_connections) - connections

    assert opened >= 4
    assert reads == []


async def test_the_one_listener_connects_as_the_pool_does(
    make_settings: Callable[..., Settings],
) -> None:
    """Both are built from the settings in one place (redis/connection.py); the bus's listening
    connection, which the revocation relay hears on too, is named, for CLIENT LIST."""
    app = create_app(make_settings(redis_socket_timeout_seconds=0.5))
    async with app.router.lifespan_context(app):
        relay = revocation_relay_of(app)
        pooled = redis_of(app).connection_pool.connection_kwargs
        listening = app.state.resources.bus._listening.connection_pool.connection_kwargs

    assert listening["socket_timeout"] == pooled["socket_timeout"] == 0.5
    assert listening["client_name"] == relay.name


@pytest.mark.error_path
async def test_ready_is_503_when_redis_is_unreachable(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(redis_url=UNREACHABLE_REDIS)
    async with serve(settings) as client:
        response = await client.get("/ready")

    assert response.status_code == 503
    assert_envelope(response.json(), "SERVICE_UNAVAILABLE")
    checks = response.json()["error"]["details"]["checks"]
    assert (checks["database"], checks["redis"]) == ("ok", "error")
    assert "hunter2" not in response.text


@pytest.mark.error_path
def test_the_url_is_a_secret_in_settings_and_their_errors(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(redis_url=UNREACHABLE_REDIS)

    assert "hunter2" not in repr(settings)
    assert "hunter2" not in str(settings.model_dump())


@pytest.mark.error_path
async def test_a_failed_check_logs_no_url(
    make_settings: Callable[..., Settings], capsys: pytest.CaptureFixture[str]
) -> None:
    async with serve(make_settings(redis_url=UNREACHABLE_REDIS, log_level="DEBUG")) as client:
        await client.get("/ready")

    logged = capsys.readouterr()
    assert "readiness_check_failed" in logged.out + logged.err
    assert "hunter2" not in logged.out + logged.err
