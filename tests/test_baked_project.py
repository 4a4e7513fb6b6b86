"""The default bake passes its own checks: lint, types, tests and migrations, on both databases."""

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from .helpers import run

pytestmark = pytest.mark.slow

ALEMBIC_CYCLE = (
    ["uv", "run", "alembic", "upgrade", "head"],
    ["uv", "run", "alembic", "check"],
    ["uv", "run", "alembic", "downgrade", "base"],
    ["uv", "run", "alembic", "upgrade", "head"],
)


def test_ruff_format_check(synced_project: Path) -> None:
    run(["uv", "run", "ruff", "format", "--check", "."], synced_project)


def test_ruff_check(synced_project: Path) -> None:
    run(["uv", "run", "ruff", "check", "."], synced_project)


def test_mypy_strict(synced_project: Path) -> None:
    run(["uv", "run", "mypy"], synced_project)


def test_pytest_on_sqlite_meets_the_coverage_gate(synced_project: Path) -> None:
    result = run(["uv", "run", "pytest", "-q", "-p", "no:cacheprovider"], synced_project)

    assert "Required test coverage of 90" in result.stdout


def test_pytest_on_postgresql(synced_project: Path, postgres_database: Callable[[], str]) -> None:
    run(
        ["uv", "run", "pytest", "-q", "-p", "no:cacheprovider"],
        synced_project,
        env={"TEST_DATABASE_URL": postgres_database()},
    )


def test_at_least_40_percent_of_tests_are_error_paths(synced_project: Path) -> None:
    def count(*marker: str) -> int:
        output = run(
            ["uv", "run", "pytest", "--collect-only", "-q", "--no-cov", "-p", "no:cacheprovider"]
            + list(marker),
            synced_project,
        ).stdout
        return int(re.search(r"(\d+)(?:/\d+)? tests? (?:collected|selected)", output).group(1))

    total, errors = count(), count("-m", "error_path")

    assert errors / total >= 0.40, f"{errors} of {total} tests exercise error paths"


def test_migrations_on_sqlite(synced_project: Path, tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'migrations.db'}"}
    for command in ALEMBIC_CYCLE:
        run(command, synced_project, env=env)


def test_migrations_on_postgresql(
    synced_project: Path, postgres_database: Callable[[], str]
) -> None:
    env = {"DATABASE_URL": postgres_database()}
    for command in ALEMBIC_CYCLE:
        run(command, synced_project, env=env)
