"""The fixtures every test can use: a database per run, emptied after each test, apps, clients,
users and their tokens. tests/conftest.py loads this module in each process that runs tests.

Tests run on SQLite by default and on PostgreSQL when TEST_DATABASE_URL names a server, e.g.
``TEST_DATABASE_URL=postgresql+asyncpg://postgres@localhost:5432/postgres uv run pytest``: the
run creates a database of its own there and drops it at the end. The database the URL names is
only where it connects to do so; its data is never touched.
"""

import copy
import os
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import delete, make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

from {{ cookiecutter.package_name }}.config import (
    OWASP_MIN_ARGON2_MEMORY_KIB,
    OWASP_MIN_ARGON2_TIME_COST,
    Settings,
)
from {{ cookiecutter.package_name }}.dependencies import Resources
from {{ cookiecutter.package_name }}.features.auth.principals import PrincipalCache
from {{ cookiecutter.package_name }}.features.auth.revocation import RevokedTokens
from {{ cookiecutter.package_name }}.features.users.models import Role, User
from {{ cookiecutter.package_name }}.main import create_app
from {{ cookiecutter.package_name }}.models import Base

from .factories import ItemFactory, UserFactory
from .route_builds import keep_built_routes
from .support import TEST_JWT_SECRET, FakeClock, bearer, client_for


def pytest_configure(config: pytest.Config) -> None:
    # The tests build an app each: FastAPI builds their routes once (tests/route_builds.py).
    keep_built_routes()


@asynccontextmanager
async def database_of_our_own(server_url: str) -> AsyncIterator[str]:
    """A new database on the server *server_url* points at, dropped on exit: its name is
    the URL's database (only connected to, never changed) with a random suffix."""
    server = make_url(server_url)
    named = "".join(c if c.isalnum() else "_" for c in server.database or "postgres")
    name = f"{named[:40]}_test_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


@pytest.fixture(scope="session")
async def database_url(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """A database the run creates, so it may drop whatever it likes: a new SQLite file, or a
    new database on the PostgreSQL server TEST_DATABASE_URL points at."""
    server = os.environ.get("TEST_DATABASE_URL")
    if not server:
        yield f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        return
    async with database_of_our_own(server) as url:
        yield url


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """The schema, created once per run from the models (migrations have tests of their own)."""
    engine = create_async_engine(database_url)
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    yield engine
    await engine.dispose()


@pytest.fixture(autouse=True)
async def _empty_tables(engine: AsyncEngine) -> AsyncIterator[None]:
    """Every test starts from empty tables, whatever the previous one left behind."""
    yield
    async with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            await connection.execute(delete(table))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def make_settings(database_url: str) -> Callable[..., Settings]:
    """Settings for a test app; keyword arguments override the test defaults."""

    def make(**overrides: Any) -> Settings:
        defaults: dict[str, Any] = {
            "environment": "test",
            "log_cache_loggers": False,
            "database_url": database_url,
            "jwt_secret": TEST_JWT_SECRET,
            "auth_rate_limit_per_minute": 10_000,
            "auth_rate_limit_burst": 10_000,
            # Long enough that only an eviction, never the clock, empties it during a test.
            "auth_user_cache_seconds": 60,
            # The test process builds hundreds of apps: leave its collector alone.
            "gc_freeze_at_startup": False,
            "gc_gen0_threshold": 0,
        }
        values = {**defaults, **overrides}
        # argon2id at its cheapest: hundreds of accounts per run. Only ENVIRONMENT=test allows
        # it (an app of another environment gets the OWASP minimum); the production parameters
        # are checked in tests/unit/test_security.py.
        cheap = values["environment"] == "test"
        values.setdefault("argon2_memory_kib", 8 if cheap else OWASP_MIN_ARGON2_MEMORY_KIB)
        values.setdefault("argon2_time_cost", 1 if cheap else OWASP_MIN_ARGON2_TIME_COST)
        return Settings(_env_file=None, **values)

    return make


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@pytest.fixture(scope="session")
def _built_openapi_document(make_settings: Callable[..., Settings]) -> dict[str, Any]:
    """The app's OpenAPI document, built once per test process: it depends on the code only."""
    return create_app(make_settings()).openapi()


@pytest.fixture
def openapi_document(_built_openapi_document: dict[str, Any]) -> dict[str, Any]:
    """This test's copy of the app's OpenAPI document: what it changes, no other test sees. A
    test that needs another document builds its own app."""
    return copy.deepcopy(_built_openapi_document)


@pytest.fixture
async def app(settings: Settings, engine: AsyncEngine) -> AsyncIterator[FastAPI]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
def resources(app: FastAPI) -> Resources:
    resources: Resources = app.state.resources
    return resources


@pytest.fixture
def principals(app: FastAPI) -> PrincipalCache:
    """The app's cache of principals (the auth feature's own resource)."""
    cache: PrincipalCache = app.state.principals
    return cache


@pytest.fixture
def revoked_tokens(app: FastAPI) -> RevokedTokens:
    """The app's denylist of access tokens (the auth feature's own resource)."""
    denylist: RevokedTokens = app.state.revoked_tokens
    return denylist


@pytest.fixture
async def session(resources: Resources) -> AsyncIterator[AsyncSession]:
    async with resources.session_factory() as session:
        yield session


@pytest.fixture
def users(resources: Resources) -> UserFactory:
    return UserFactory(resources)


@pytest.fixture
def items(resources: Resources) -> ItemFactory:
    return ItemFactory(resources)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[AsyncClient]:
    async with client_for(app) as client:
        yield client


@pytest.fixture
async def user(users: UserFactory) -> User:
    return await users.create()


@pytest.fixture
async def admin(users: UserFactory) -> User:
    return await users.create(role=Role.ADMIN)


@pytest.fixture
async def user_headers(client: AsyncClient, user: User) -> dict[str, str]:
    return await bearer(client, user)


@pytest.fixture
async def admin_headers(client: AsyncClient, admin: User) -> dict[str, str]:
    return await bearer(client, admin)


@pytest.fixture
def project_root() -> Path:
    return Path(__file__).resolve().parent.parent
