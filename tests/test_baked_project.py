"""The pairwise set of variants passes each variant's own checks: lint, types, tests (with the
coverage gate) and migrations, on SQLite and, where the variant uses it, on PostgreSQL."""

import asyncio
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from scripts.variants import Variant, load_hook, variant_id

from .support import fetch_column, run, selected_variants, uses_postgresql

pytestmark = pytest.mark.slow

# Up, no drift from the models, all the way down and up again: `alembic upgrade head`, `check`,
# `downgrade base`, `upgrade head`, through the functions alembic's command line calls, in one
# process rather than four that each import the app (tests/test_processes.py runs the command
# line itself).
ALEMBIC_CYCLE = [
    "uv",
    "run",
    "python",
    "-c",
    "from alembic import command\n"
    "from alembic.config import Config\n"
    "config = Config('alembic.ini')\n"
    "command.upgrade(config, 'head')\n"
    "command.check(config)\n"
    "command.downgrade(config, 'base')\n"
    "command.upgrade(config, 'head')\n",
]
PYTEST = ["uv", "run", "pytest", "-q", "-p", "no:cacheprovider"]
# The skip reason of the baked tests that need PostgreSQL (tests/integration/test_faults.py and
# the WebSockets pack's): shown on SQLite, never on PostgreSQL.
POSTGRESQL_ONLY = "needs TEST_DATABASE_URL pointing at PostgreSQL"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "full_variant" in metafunc.fixturenames:
        variants = selected_variants(metafunc.config.getoption("variants"))
        metafunc.parametrize("full_variant", variants, ids=variant_id, scope="module")


@pytest.fixture(scope="module")
def project(full_variant: Variant, synced: Callable[[Variant], Path]) -> Path:
    return synced(full_variant)


@pytest.fixture
def postgresql_url(project: Path, postgres_database: Callable[[], str]) -> str | None:
    """A fresh database for a PostgreSQL variant; None for a SQLite-only one."""
    return postgres_database() if uses_postgresql(project) else None


def assert_sqlite_only(project: Path) -> None:
    """A SQLite-only variant ships no PostgreSQL driver and no database server."""
    assert '"asyncpg"' not in (project / "uv.lock").read_text()
    assert "postgres" not in (project / "compose.yaml").read_text()


# Every top-level import name the project's environment installs, standard library excluded.
LIST_IMPORT_NAMES = (
    "import importlib.metadata, json, sys; print(json.dumps(sorted("
    "n for n in importlib.metadata.packages_distributions() "
    "if n.isidentifier() and not n.startswith('_') and n not in sys.stdlib_module_names)))"
)


def test_every_installed_import_name_is_reserved(project: Path) -> None:
    installed = json.loads(run(["uv", "run", "python", "-c", LIST_IMPORT_NAMES], project).stdout)

    missing = sorted(set(installed) - load_hook("pre_gen_project").DEPENDENCY_NAMES)

    assert not missing, f"add to DEPENDENCY_NAMES in hooks/pre_gen_project.py: {missing}"


def test_the_venv_runs_the_python_the_variant_names(project: Path, full_variant: Variant) -> None:
    code = "import sys; print('%d.%d' % sys.version_info[:2])"

    version = run(["uv", "run", "python", "-c", code], project).stdout.strip()

    assert version == full_variant["python_version"]


def test_ruff_format_check(project: Path) -> None:
    run(["uv", "run", "ruff", "format", "--check", "."], project)


def test_ruff_check(project: Path) -> None:
    run(["uv", "run", "ruff", "check", "."], project)


def test_mypy_strict(project: Path, mypy: Callable[[Path], None]) -> None:
    mypy(project)


@pytest.fixture(scope="module")
def sqlite_run(project: Path) -> str:
    """What the variant's own test suite printed, run on SQLite (as `make test` runs it)."""
    return run(PYTEST, project).stdout


def test_pytest_on_sqlite_meets_the_coverage_gate(sqlite_run: str) -> None:
    assert "Required test coverage of 90" in sqlite_run
    assert POSTGRESQL_ONLY in sqlite_run  # the PostgreSQL run below looks for its absence


def test_pytest_on_postgresql_leaves_the_named_database_alone(
    project: Path, postgresql_url: str | None
) -> None:
    """TEST_DATABASE_URL names a server: the suite runs in a database it creates there and
    drops; the database in the URL, here one with a table of the same name as the suite's,
    keeps its rows."""
    if postgresql_url is None:
        assert_sqlite_only(project)
        return
    asyncio.run(fetch_column(postgresql_url, "CREATE TABLE users (email text)"))
    asyncio.run(fetch_column(postgresql_url, "INSERT INTO users VALUES ('keep@example.com')"))

    result = run(PYTEST, project, env={"TEST_DATABASE_URL": postgresql_url})

    assert POSTGRESQL_ONLY not in result.stdout, "PostgreSQL-only tests were skipped"

    assert asyncio.run(fetch_column(postgresql_url, "SELECT email FROM users")) == [
        "keep@example.com"
    ]
    named = postgresql_url.rsplit("/", 1)[1]
    left_behind = "SELECT datname FROM pg_database WHERE starts_with(datname, $1)"
    assert asyncio.run(fetch_column(postgresql_url, left_behind, f"{named}_test_")) == []


def test_at_least_40_percent_of_tests_are_error_paths(sqlite_run: str) -> None:
    """The suite counts them itself, at the end of every run (its conftest.py)."""
    found = re.search(r"^error paths: (\d+) of (\d+) tests", sqlite_run, re.MULTILINE)
    assert found, sqlite_run[-3000:]
    errors, total = int(found.group(1)), int(found.group(2))

    assert total > 300, f"only {total} tests ran"
    assert errors / total >= 0.40, f"{errors} of {total} tests exercise error paths"


def test_migrations_on_sqlite(project: Path, tmp_path: Path) -> None:
    run(
        ALEMBIC_CYCLE,
        project,
        env={"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'migrations.db'}"},
    )


def test_migrations_on_postgresql(project: Path, postgresql_url: str | None) -> None:
    if postgresql_url is None:
        assert_sqlite_only(project)
        return
    run(ALEMBIC_CYCLE, project, env={"DATABASE_URL": postgresql_url})
