"""What the template's tests share: running commands in bakes, the variants a run checks, the
PostgreSQL server they use. (conftest.py holds only fixtures and options.)"""

import os
import subprocess
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from scripts.variants import Variant, all_variants, pairwise_variants, variant_id

# The administrative connection used to create one database per bake.
POSTGRES_ADMIN_URL = os.environ.get(
    "TEMPLATE_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


# Variables that would point a baked project's tools at the template's own environment, and one
# that would make every run of a bake's tests compile every module again (bakes are throwaway
# directories: their bytecode caches may be written).
_LEAKING_VARIABLES = (
    "VIRTUAL_ENV",
    "UV_PROJECT_ENVIRONMENT",
    "UV_PYTHON",  # it would override a bake's .python-version (a 3.13 bake synced with 3.12)
    "DATABASE_URL",
    "TEST_DATABASE_URL",
    "PYTHONDONTWRITEBYTECODE",
)


def clean_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _LEAKING_VARIABLES}
    env.update(extra or {})
    return env


def run(
    command: Sequence[str],
    cwd: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = 600,
) -> subprocess.CompletedProcess[str]:
    """Run *command* in *cwd*; on failure, raise with its whole output."""
    result = subprocess.run(  # noqa: S603 - commands are the test's own
        list(command),
        cwd=cwd,
        env=clean_environment(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise AssertionError(
            f"`{' '.join(command)}` failed in {cwd} with exit code {result.returncode}\n"
            f"--- stdout ---\n{result.stdout[-20000:]}\n--- stderr ---\n{result.stderr[-20000:]}"
        )
    return result


# Git as a fresh clone has it: a fixed identity, no user or system configuration read.
GIT_ENV = {
    "GIT_AUTHOR_NAME": "A User",
    "GIT_AUTHOR_EMAIL": "user@example.com",
    "GIT_COMMITTER_NAME": "A User",
    "GIT_COMMITTER_EMAIL": "user@example.com",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(repository: Path, *arguments: str) -> str:
    """Run git in *repository* (see GIT_ENV); its output, stripped."""
    return run(["git", *arguments], repository, env=GIT_ENV).stdout.strip()


def selected_variants(spec: str) -> list[Variant]:
    if spec in {"all", "pairwise"}:
        return all_variants() if spec == "all" else pairwise_variants()
    by_id = {variant_id(variant): variant for variant in all_variants()}
    unknown = [name for name in spec.split(",") if name not in by_id]
    if unknown:
        raise pytest.UsageError(f"unknown variants {unknown}; known: {', '.join(by_id)}")
    return [by_id[name] for name in spec.split(",")]


def uses_postgresql(project: Path) -> bool:
    """Whether the baked service runs on PostgreSQL in production (it ships the driver)."""
    dependencies = tomllib.loads((project / "pyproject.toml").read_text())["project"][
        "dependencies"
    ]
    return any(dependency.startswith("asyncpg") for dependency in dependencies)


def _asyncpg_url(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def asyncpg_url(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def fetch_column(url: str, sql: str, *arguments: Any) -> list[Any]:
    """Run *sql* on the database *url* names; the first column of its rows."""
    connection = await asyncpg.connect(asyncpg_url(url), timeout=10)
    try:
        return [row[0] for row in await connection.fetch(sql, *arguments)]
    finally:
        await connection.close()


def workflows(root: Path) -> list[str]:
    """Every workflow file under *root*/.github/workflows, whatever its YAML suffix."""
    found = sorted(
        str(path)
        for suffix in ("*.yml", "*.yaml")
        for path in (root / ".github" / "workflows").glob(suffix)
    )
    assert found, f"no workflow in {root}"
    return found
