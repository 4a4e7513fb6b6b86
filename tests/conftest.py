"""Bake each variant once per session; every check then runs on the same bake."""

import asyncio
import json
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from .helpers import run

TEMPLATE_DIR = Path(__file__).resolve().parent.parent
# The administrative connection used to create one database per bake.
POSTGRES_ADMIN_URL = os.environ.get(
    "TEMPLATE_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def cookiecutter_json() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((TEMPLATE_DIR / "cookiecutter.json").read_text())
    return data


@pytest.fixture(scope="session")
def bake(cookies_session: Any) -> Callable[..., Path]:
    """Bake the template with *context* overrides, at most once per distinct context."""
    baked: dict[str, Path] = {}

    def bake(**context: str) -> Path:
        key = json.dumps(context, sort_keys=True)
        if key not in baked:
            result = cookies_session.bake(extra_context=context, template=str(TEMPLATE_DIR))
            assert result.exit_code == 0, result.exception
            baked[key] = Path(result.project_path)
        return baked[key]

    return bake


@pytest.fixture(scope="session")
def default_project(bake: Callable[..., Path]) -> Path:
    return bake()


@pytest.fixture(scope="session")
def synced_project(default_project: Path) -> Path:
    """The default bake with its locked dependencies installed."""
    run(["uv", "sync", "--locked"], default_project)
    return default_project


def _asyncpg_url(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def _execute(sql: str) -> None:
    connection = await asyncpg.connect(_asyncpg_url(POSTGRES_ADMIN_URL), timeout=10)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[Callable[[], str]]:
    """Create fresh PostgreSQL databases on the real server; drop them at the end of the run."""
    created: list[str] = []

    def create() -> str:
        name = f"fastapi_prod_{uuid.uuid4().hex[:12]}"
        asyncio.run(_execute(f'CREATE DATABASE "{name}"'))
        created.append(name)
        base = _asyncpg_url(POSTGRES_ADMIN_URL).rsplit("/", 1)[0]
        return base.replace("postgresql://", "postgresql+asyncpg://", 1) + f"/{name}"

    yield create
    for name in created:
        asyncio.run(_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
