"""Engine and sessions, tuned per backend. Nothing connects at import time."""

import time
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

from ..config import Settings

SQLITE_BUSY_TIMEOUT_MS = 15_000


def _configure_sqlite(dbapi_connection: Any, _: Any) -> None:
    """Per connection: enforce foreign keys, let readers run beside the writer (WAL), and wait
    for a busy writer instead of failing at once."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def create_engine(settings: Settings, *, statement_timeout: bool = True) -> AsyncEngine:
    """Create the engine for the configured database, tuned per backend. Without
    *statement_timeout* (the migrations: an index built on a large table, a backfill) a
    statement on PostgreSQL takes as long as it needs."""
    url = settings.sqlalchemy_url
    if url.startswith("sqlite"):
        engine = create_async_engine(
            url,
            hide_parameters=True,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        )
        event.listen(engine.sync_engine, "connect", _configure_sqlite)
        return engine
    engine = create_async_engine(
        url,
        hide_parameters=True,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout_seconds,
        connect_args={
            "timeout": settings.db_connect_timeout_seconds,
            "command_timeout": (
                settings.db_statement_timeout_seconds if statement_timeout else None
            ),
        },
    )
    ping_idle_connections(engine, settings.db_ping_idle_seconds)
    return engine


def ping_idle_connections(engine: AsyncEngine, idle_seconds: float) -> None:
    """Check a pooled connection before use only when it sat idle for *idle_seconds* or more.

    SQLAlchemy's ``pool_pre_ping`` checks every checkout; with asyncpg that is three round trips
    (BEGIN, an empty query, ROLLBACK) per request, more than a typical request's own queries.
    Under load connections go back to work within milliseconds and are not checked; one that
    idled long enough for a database restart or a proxy's idle timeout is. A failed check
    discards every pooled connection older than now, and the checkout retries with a fresh one.
    A connection that breaks between checks fails its request with a 503 and triggers the same
    discard, so the next request gets a working connection.
    """
    dialect = engine.sync_engine.dialect

    @event.listens_for(engine.sync_engine, "checkin")
    def _idle_from(_: Any, record: ConnectionPoolEntry) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _ping_if_idle(
        dbapi_connection: Any, record: ConnectionPoolEntry, _: PoolProxiedConnection
    ) -> None:
        idle_since = record.info.pop("idle_since", None)
        if idle_since is None or time.monotonic() - idle_since < idle_seconds:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as error:
            raise exc.InvalidatePoolError from error


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


class ReadOnlySession(Session):
    """The session of a read-only request: refuses ORM writes and INSERT/UPDATE/DELETE
    statements (raw SQL text is not inspected).

    On PostgreSQL it reads in autocommit mode: each statement is its own transaction, so a read
    costs no BEGIN and no ROLLBACK, two round trips per request; a read of several statements,
    such as a page and its total, does not see one snapshot. SQLite starts no transaction for a
    read anyway, so there it keeps the engine's mode.
    """


READ_ONLY_MESSAGE = "This session is read-only: GET and HEAD requests must not change data"


@event.listens_for(ReadOnlySession, "before_flush")
def _refuse_flush(session: Session, *_: Any) -> None:
    raise exc.InvalidRequestError(READ_ONLY_MESSAGE)


@event.listens_for(ReadOnlySession, "do_orm_execute")
def _refuse_dml(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        raise exc.InvalidRequestError(READ_ONLY_MESSAGE)


def create_read_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    if engine.dialect.name != "sqlite":
        engine = engine.execution_options(isolation_level="AUTOCOMMIT")
    return async_sessionmaker(
        engine, sync_session_class=ReadOnlySession, expire_on_commit=False, autoflush=False
    )
