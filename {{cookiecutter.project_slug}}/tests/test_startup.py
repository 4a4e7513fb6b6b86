"""Invalid settings stop the server, the management command and the migrations the same way:
one line per problem on stderr, naming the variable and never its value, and a non-zero exit."""

import subprocess
import sys
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }} import cli, server
from {{ cookiecutter.package_name }}.config import INVALID_SETTINGS_EXIT_CODE

pytestmark = pytest.mark.error_path

SECRET = "short-secret-value"
PRODUCTION_WITHOUT_A_DATABASE = {"ENVIRONMENT": "production", "JWT_SECRET": SECRET}
EXPECTED = "DATABASE_URL: must be set in production\nJWT_SECRET: must be at least 32 bytes long\n"


def start(
    command: list[str], variables: dict[str, str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    """Run *command* with only *variables* set, in *cwd* (no .env there)."""
    return subprocess.run(  # noqa: S603 - the test's own commands
        command,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        cwd=cwd,
        env={"PATH": "", **variables},
        timeout=120,
        check=False,
    )


def test_the_server_as_the_image_starts_it(tmp_path: Path) -> None:
    """The Dockerfile's command: ``serve`` (uvicorn on ``<package>.main:create_app``)."""
    variables = {**PRODUCTION_WITHOUT_A_DATABASE, "DB_POOL_SIZE": "twenty"}

    result = start([sys.executable, "-m", server.__name__], variables, tmp_path)

    assert result.returncode == INVALID_SETTINGS_EXIT_CODE
    assert result.stderr == (
        "DATABASE_URL: must be set in production\n"
        "DB_POOL_SIZE: Input should be a valid integer, unable to parse string as an integer\n"
        "JWT_SECRET: must be at least 32 bytes long\n"
    )
    assert SECRET not in result.stdout


def test_the_management_command(tmp_path: Path) -> None:
    command = [sys.executable, "-m", cli.__name__, "create-admin", "--email", "a@example.com"]

    result = start(command, PRODUCTION_WITHOUT_A_DATABASE, tmp_path)

    assert (result.returncode, result.stderr) == (INVALID_SETTINGS_EXIT_CODE, EXPECTED)
    assert SECRET not in result.stdout


def test_the_migrations(tmp_path: Path, project_root: Path) -> None:
    command = [sys.executable, "-m", "alembic", "-c", str(project_root / "alembic.ini")]

    result = start([*command, "upgrade", "head"], PRODUCTION_WITHOUT_A_DATABASE, tmp_path)

    assert (result.returncode, result.stderr) == (INVALID_SETTINGS_EXIT_CODE, EXPECTED)
    assert SECRET not in result.stdout
