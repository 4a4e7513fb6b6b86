"""The buses events travel on between processes: in-process, and PostgreSQL's LISTEN/NOTIFY
(a pack's own bus is tested with the pack). Two buses stand for two processes."""

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from structlog.testing import capture_logs

from {{ cookiecutter.package_name }}.config import Settings
from {{ cookiecutter.package_name }}.core.bus import InProcessBus
from {{ cookiecutter.package_name }}.main import create_app
from {{ cookiecutter.package_name }}.realtime import postgres_bus
from {{ cookiecutter.package_name }}.realtime.pack import bus_for
from {{ cookiecutter.package_name }}.realtime.postgres_bus import (
    MAX_PAYLOAD_BYTES,
    PostgresBus,
)

from ..support import eventually
from ..tcp_proxy import TcpProxy
from .support import requires_postgresql


async def test_the_in_process_bus_delivers_to_every_subscriber_of_the_channel() -> None:
    bus = InProcessBus()
    heard: list[tuple[str, bytes]] = []
    await bus.subscribe("a", lambda message: heard.append(("first", message)))
    await bus.subscribe("a", lambda message: heard.append(("second", message)))
    await bus.subscribe("b", lambda message: heard.append(("b", message)))
    await bus.publish("a", b"hello")
    assert heard == [("first", b"hello"), ("second", b"hello")]


@pytest.mark.error_path
async def test_a_receiver_that_fails_does_not_stop_the_others() -> None:
    bus = InProcessBus()
    heard: list[bytes] = []

    def failing(_: bytes) -> None:
        raise RuntimeError("boom")

    await bus.subscribe("a", failing)
    await bus.subscribe("a", heard.append)
    await bus.publish("a", b"still delivered")
    assert heard == [b"still delivered"]


async def test_without_a_shared_bus_sqlite_stays_in_process_and_says_so(
    make_settings: Callable[..., Settings], database_url: str
) -> None:
    if database_url.startswith("postgresql"):
        pytest.skip("the bake's test database is PostgreSQL")
    app = create_app(make_settings())
    async with app.router.lifespan_context(app):
        resources = app.state.resources
        with capture_logs() as logs:
            bus, own = bus_for(resources)
    if resources.bus.reaches_other_processes:  # a pack's shared bus
        assert (bus, own, logs) == (resources.bus, False, [])
    else:
        assert (bus.reaches_other_processes, own) == (False, False)
        assert [log["event"] for log in logs] == ["realtime_single_process"]


@pytest.fixture
async def pg_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(database_url)
    yield engine
    await engine.dispose()


@requires_postgresql
async def test_postgresql_carries_messages_between_processes(pg_engine: AsyncEngine) -> None:
    one, other = PostgresBus(pg_engine), PostgresBus(pg_engine)
    heard: list[bytes] = []
    try:
        await other.subscribe("test_bus", heard.append)
        assert other.hearing
        await one.publish("test_bus", '{"é": 1}'.encode())
        await eventually(lambda: heard == ['{"é": 1}'.encode()])
    finally:
        await one.aclose()
        await other.aclose()


@requires_postgresql
async def test_postgresql_publishes_on_its_listening_connection_one_at_a_time_in_order(
    pg_engine: AsyncEngine,
) -> None:
    bus = PostgresBus(pg_engine)
    checkouts: list[object] = []
    heard: list[bytes] = []
    pool = pg_engine.sync_engine.pool

    def checked_out(*args: object) -> None:
        checkouts.append(args)

    try:
        await bus.subscribe("test_bus_own", heard.append)  # takes its own connection
        event.listen(pool, "checkout", checked_out)
        messages = [f"message {n}".encode() for n in range(30)]
        # At once: asyncpg refuses a second query while one runs on a connection.
        await asyncio.gather(*(bus.publish("test_bus_own", message) for message in messages))
        await eventually(lambda: heard == messages)
        assert checkouts == []  # not one pooled session for them
    finally:
        if event.contains(pool, "checkout", checked_out):
            event.remove(pool, "checkout", checked_out)
        await bus.aclose()


@requires_postgresql
@pytest.mark.error_path
async def test_postgresql_refuses_a_message_over_notifys_limit(pg_engine: AsyncEngine) -> None:
    bus = PostgresBus(pg_engine)
    with pytest.raises(ValueError, match="at most"):
        await bus.publish("test_bus", b"x" * (MAX_PAYLOAD_BYTES + 1))


@requires_postgresql
@pytest.mark.error_path
async def test_postgresql_listens_again_after_its_connection_is_killed(
    pg_engine: AsyncEngine,
) -> None:
    bus = PostgresBus(pg_engine)
    heard: list[bytes] = []
    try:
        await bus.subscribe("test_bus_again", heard.append)
        async with pg_engine.connect() as connection:
            await connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE query LIKE 'LISTEN%' AND datname = current_database()"
                )
            )
        await eventually(lambda: not bus.hearing, seconds=3)
        await eventually(lambda: bus.hearing, seconds=3)
        await bus.publish("test_bus_again", b"after")
        await eventually(lambda: heard == [b"after"])
    finally:
        await bus.aclose()


@pytest.fixture
async def proxied(database_url: str) -> AsyncIterator[tuple[TcpProxy, PostgresBus]]:
    """A bus whose engine reaches PostgreSQL through a proxy the test cuts or stalls."""
    real = make_url(database_url)
    proxy = TcpProxy(real.host or "127.0.0.1", real.port or 5432)
    await proxy.start()
    engine = create_async_engine(real.set(host="127.0.0.1", port=proxy.port))
    bus = PostgresBus(engine)
    try:
        yield proxy, bus
    finally:
        await bus.aclose()
        await engine.dispose()
        await proxy.stop()
        await asyncio.sleep(0)


@requires_postgresql
@pytest.mark.error_path
async def test_postgresql_listens_again_after_a_network_partition(
    proxied: tuple[TcpProxy, PostgresBus],
) -> None:
    proxy, bus = proxied
    heard: list[bytes] = []
    await bus.subscribe("test_bus_cut", heard.append)
    proxy.cut()
    await eventually(lambda: not bus.hearing, seconds=4)
    proxy.restore()
    await eventually(lambda: bus.hearing, seconds=5)
    await bus.publish("test_bus_cut", b"back")
    await eventually(lambda: heard == [b"back"])


@requires_postgresql
@pytest.mark.error_path
async def test_postgresql_a_publish_on_a_stalled_link_fails_in_time_and_the_bus_recovers(
    proxied: tuple[TcpProxy, PostgresBus],
) -> None:
    proxy, bus = proxied
    heard: list[bytes] = []
    await bus.subscribe("test_bus_stall", heard.append)
    proxy.stall()
    # The heartbeat gives up on the connection and drops it, failing the publish that waits on
    # it, before the publish's own time limit runs out.
    async with asyncio.timeout(postgres_bus.PUBLISH_SECONDS - 1):
        with pytest.raises(Exception, match="connection was closed"):  # asyncpg's words
            await bus.publish("test_bus_stall", b"lost")
    await eventually(lambda: not bus.hearing, seconds=4)
    proxy.restore()
    await eventually(lambda: bus.hearing, seconds=5)
    await bus.publish("test_bus_stall", b"back")
    await eventually(lambda: b"back" in heard)
