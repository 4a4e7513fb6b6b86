"""Outages: while the database is gone the service answers 503 (never 500), and once it is back
the same process serves again, without a restart. A statement past its time limit fails a
request, never a migration."""

import os
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from {{ cookiecutter.package_name }}.config import Settings
from {{ cookiecutter.package_name }}.core.database import create_engine
from {{ cookiecutter.package_name }}.models import Base

from ..factories import DEFAULT_PASSWORD
from ..support import serve
from ..tcp_proxy import TcpProxy

pytestmark = pytest.mark.error_path

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
REGISTER = "/api/v1/auth/register"


async def create_schema(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    await engine.dispose()


async def test_sqlite_service_recovers_when_its_volume_appears(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    volume = tmp_path / "volume"
    url = f"sqlite+aiosqlite:///{volume / 'app.db'}"
    async with serve(make_settings(database_url=url)) as client:
        ready_while_down = await client.get("/ready")
        api_while_down = await client.post(
            REGISTER, json={"email": "a@example.com", "password": DEFAULT_PASSWORD}
        )
        volume.mkdir()
        await create_schema(url)
        ready_after = await client.get("/ready")
        api_after = await client.post(
            REGISTER, json={"email": "a@example.com", "password": DEFAULT_PASSWORD}
        )

    assert (ready_while_down.status_code, api_while_down.status_code) == (503, 503)
    assert (ready_after.status_code, api_after.status_code) == (200, 201)


requires_postgresql = pytest.mark.skipif(
    not TEST_DATABASE_URL.startswith("postgresql"),
    reason="needs TEST_DATABASE_URL pointing at PostgreSQL",
)


@pytest.fixture
async def proxy(database_url: str) -> AsyncIterator[TcpProxy]:
    real = make_url(database_url)
    proxy = TcpProxy(real.host or "127.0.0.1", real.port or 5432)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.stop()


@pytest.fixture
def proxied_url(proxy: TcpProxy, database_url: str) -> str:
    """The test database, reached through *proxy*."""
    url = make_url(database_url).set(host="127.0.0.1", port=proxy.port)
    return url.render_as_string(hide_password=False)


@requires_postgresql
async def test_postgresql_service_recovers_after_a_network_partition(
    make_settings: Callable[..., Settings], proxy: TcpProxy, proxied_url: str
) -> None:
    async with serve(make_settings(database_url=proxied_url)) as client:
        before = await client.get("/ready")
        proxy.cut()
        ready_while_down = await client.get("/ready")
        api_while_down = await client.post(
            "/api/v1/auth/login", data={"username": "a@example.com", "password": "x"}
        )
        proxy.restore()
        ready_after = await client.get("/ready")
        api_after = await client.post(
            REGISTER, json={"email": "b@example.com", "password": DEFAULT_PASSWORD}
        )

    assert before.status_code == 200
    assert (ready_while_down.status_code, api_while_down.status_code) == (503, 503)
    assert api_while_down.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert (ready_after.status_code, api_after.status_code) == (200, 201)


@requires_postgresql
@pytest.mark.parametrize(
    ("ping_idle_seconds", "first_status"),
    [(0, 200), (3_600, 503)],
    ids=["idle-long-enough-to-be-checked", "not-checked"],
)
async def test_a_pooled_connection_that_broke_while_idle(
    make_settings: Callable[..., Settings],
    proxy: TcpProxy,
    proxied_url: str,
    ping_idle_seconds: float,
    first_status: int,
) -> None:
    """A connection that broke while idle (the database restarted, a proxy timed it out) is
    caught by the idle check and replaced unseen. Unchecked, it fails one request with a 503,
    which discards the pool: the next request is served."""
    settings = make_settings(database_url=proxied_url, db_ping_idle_seconds=ping_idle_seconds)
    async with serve(settings) as client:
        before = await client.get("/ready")
        proxy.cut()
        proxy.restore()
        first = await client.get("/ready")
        second = await client.get("/ready")

    assert before.status_code == 200
    assert (first.status_code, second.status_code) == (first_status, 200)


@requires_postgresql
async def test_a_stalled_link_gets_a_503_when_opening_a_connection_times_out(
    make_settings: Callable[..., Settings], proxy: TcpProxy, proxied_url: str
) -> None:
    """The link accepts connections and forwards nothing (packets silently dropped, a hung
    host): opening a connection gives up after DB_CONNECT_TIMEOUT_SECONDS, not after the
    pool's timeout, and the request gets a 503."""
    settings = make_settings(
        database_url=proxied_url, db_connect_timeout_seconds=0.2, db_pool_timeout_seconds=60
    )
    proxy.stall()
    async with serve(settings) as client:
        started = time.monotonic()
        response = await client.post(
            "/api/v1/auth/login", data={"username": "a@example.com", "password": "x"}
        )
        waited = time.monotonic() - started

    assert response.status_code == 503
    error = response.json()["error"]
    assert (error["code"], error.keys()) == ("SERVICE_UNAVAILABLE", {"code", "message", "details"})
    assert waited < 30  # sanity: the pool timeout (60 s) played no part


@requires_postgresql
async def test_the_migrations_have_no_statement_timeout(
    make_settings: Callable[..., Settings],
) -> None:
    """A migration may build an index on a large table or backfill one, which a request's limit
    (DB_STATEMENT_TIMEOUT_SECONDS) would cancel half done: migrations/env.py builds its engine
    without it, and the service's engine keeps it."""
    settings = make_settings(db_statement_timeout_seconds=0.2)
    longer = text("SELECT pg_sleep(0.5)")
    service, migrations = create_engine(settings), create_engine(settings, statement_timeout=False)
    try:
        async with migrations.connect() as connection:
            await connection.execute(longer)
        with pytest.raises(TimeoutError):
            async with service.connect() as connection:
                await connection.execute(longer)
    finally:
        await service.dispose()
        await migrations.dispose()


@requires_postgresql
async def test_a_link_that_stalls_under_a_pooled_connection_gets_a_503(
    make_settings: Callable[..., Settings], proxy: TcpProxy, proxied_url: str
) -> None:
    """The link of a pooled connection stalls: the statement gives up after
    DB_STATEMENT_TIMEOUT_SECONDS, the request gets a 503, and once the link flows again the
    service serves."""
    settings = make_settings(
        database_url=proxied_url,
        db_connect_timeout_seconds=0.2,
        db_statement_timeout_seconds=0.2,
        db_pool_timeout_seconds=60,
    )
    account = {"email": "a@example.com", "password": DEFAULT_PASSWORD}
    async with serve(settings) as client:
        before = await client.post(REGISTER, json=account)
        proxy.stall()
        while_stalled = await client.post(REGISTER, json={**account, "email": "b@example.com"})
        proxy.restore()
        after = await client.post(REGISTER, json={**account, "email": "c@example.com"})

    assert (before.status_code, while_stalled.status_code, after.status_code) == (201, 503, 201)
    assert while_stalled.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
