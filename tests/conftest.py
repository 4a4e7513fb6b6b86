"""Bake each variant once per session; every check then runs on the same bake."""

import asyncio
import json
import os
import tomllib
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from scripts.variants import TEMPLATE_DIR, Variant, all_variants, pairwise_variants, variant_id

from .helpers import run

__all__ = ["TEMPLATE_DIR"]

# The administrative connection used to create one database per bake.
POSTGRES_ADMIN_URL = os.environ.get(
    "TEMPLATE_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--variants",
        default="pairwise",
        help="variants that get the full checks: pairwise (default), all, or variant ids "
        "separated by commas, e.g. 3.13-sqlmodel-sqlite",
    )
    parser.addoption(
        "--upgrade-deps",
        action="store_true",
        help="run `uv lock --upgrade` in each variant before its full checks",
    )


def selected_variants(spec: str) -> list[Variant]:
    if spec in {"all", "pairwise"}:
        return all_variants() if spec == "all" else pairwise_variants()
    by_id = {variant_id(variant): variant for variant in all_variants()}
    unknown = [name for name in spec.split(",") if name not in by_id]
    if unknown:
        raise pytest.UsageError(f"unknown variants {unknown}; known: {', '.join(by_id)}")
    return [by_id[name] for name in spec.split(",")]


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
def synced(bake: Callable[..., Path], pytestconfig: pytest.Config) -> Callable[[Variant], Path]:
    """A variant's bake with its dependencies installed (once per variant): the locked ones,
    or the newest allowed ones with ``--upgrade-deps``."""
    installed: set[Path] = set()

    def sync(variant: Variant) -> Path:
        project = bake(**variant)
        if project not in installed:
            if pytestconfig.getoption("upgrade_deps"):
                run(["uv", "lock", "--upgrade"], project)
            run(["uv", "sync", "--locked"], project)
            installed.add(project)
        return project

    return sync


def uses_postgresql(project: Path) -> bool:
    """Whether the baked service runs on PostgreSQL in production (it ships the driver)."""
    dependencies = tomllib.loads((project / "pyproject.toml").read_text())["project"][
        "dependencies"
    ]
    return any(dependency.startswith("asyncpg") for dependency in dependencies)


def _asyncpg_url(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def _execute(sql: str) -> None:
    await fetch_column(POSTGRES_ADMIN_URL, sql)


async def fetch_column(url: str, sql: str, *arguments: Any) -> list[Any]:
    """Run *sql* on the database *url* names; the first column of its rows."""
    connection = await asyncpg.connect(_asyncpg_url(url), timeout=10)
    try:
        return [row[0] for row in await connection.fetch(sql, *arguments)]
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
