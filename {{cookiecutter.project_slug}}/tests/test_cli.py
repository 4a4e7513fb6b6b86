"""The management commands: create-admin, which makes the first admin, and purge-tokens."""

import asyncio
import io
import json
import subprocess
import sys
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from {{ cookiecutter.package_name }} import cli
from {{ cookiecutter.package_name }}.config import Settings, get_settings
from {{ cookiecutter.package_name }}.core.audit import AuditEvent
from {{ cookiecutter.package_name }}.core.clock import utc_now
from {{ cookiecutter.package_name }}.features.auth.models import RefreshToken
from {{ cookiecutter.package_name }}.features.users.models import Role
from {{ cookiecutter.package_name }}.features.users.repository import (
    UserRepository,
)

from .factories import DEFAULT_PASSWORD, UserFactory

# Nothing listens on port 9 (discard); the password must not reach the message.
UNREACHABLE_DATABASE = "postgresql+asyncpg://nobody:hunter2@127.0.0.1:9/none"


@pytest.fixture
def cli_settings(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    """Point the command (which reads the environment) at the test database."""
    monkeypatch.setattr(cli, "get_settings", lambda: settings)
    monkeypatch.setenv("ADMIN_PASSWORD", DEFAULT_PASSWORD)


async def test_create_admin_makes_an_admin(session: AsyncSession, settings: Settings) -> None:
    await cli.create_admin(settings, "Root@Example.com", DEFAULT_PASSWORD, "Root")

    user = await UserRepository(session).get_by_email("root@example.com")
    assert user is not None
    assert user.role is Role.ADMIN


async def test_create_admin_accepts_the_special_use_domains_the_settings_list(
    session: AsyncSession, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(email_special_use_domains=["local"])

    await cli.create_admin(settings, "admin@corp.local", DEFAULT_PASSWORD, None)

    assert await UserRepository(session).get_by_email("admin@corp.local") is not None


def test_get_settings_is_cached() -> None:
    assert get_settings() is get_settings()


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.error_path
class TestCreateAdminErrors:
    @pytest.mark.usefixtures("cli_settings")
    def test_an_invalid_email_is_explained(self) -> None:
        with pytest.raises(SystemExit, match="error: email"):
            cli.main(["create-admin", "--email", "not-an-email"])

    @pytest.mark.usefixtures("cli_settings")
    def test_a_short_password_is_explained(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("ADMIN_PASSWORD", "short")

        with pytest.raises(SystemExit, match="error: password"):
            cli.main(["create-admin", "--email", "a@example.com"])

    @pytest.mark.usefixtures("cli_settings")
    def test_a_special_use_domain_is_refused_by_default(self) -> None:
        with pytest.raises(SystemExit, match=r"error: .*special-use domain"):
            cli.main(["create-admin", "--email", "admin@corp.local"])

    @pytest.mark.usefixtures("cli_settings")
    def test_mismatched_prompted_passwords_are_refused(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.delenv("ADMIN_PASSWORD", raising=False)
        monkeypatch.setattr("sys.stdin", Terminal())
        answers = iter([DEFAULT_PASSWORD, "something else entirely"])
        monkeypatch.setattr("getpass.getpass", lambda _: next(answers))

        with pytest.raises(SystemExit, match="do not match"):
            cli.main(["create-admin", "--email", "a@example.com"])

    @pytest.mark.usefixtures("cli_settings")
    def test_end_of_input_at_the_prompt_says_where_the_password_comes_from(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.delenv("ADMIN_PASSWORD", raising=False)
        monkeypatch.setattr("sys.stdin", Terminal())

        def end_of_input(_: str) -> str:
            raise EOFError

        monkeypatch.setattr("getpass.getpass", end_of_input)

        with pytest.raises(SystemExit) as exit_info:
            cli.main(["create-admin", "--email", "a@example.com"])

        assert exit_info.value.code == cli.NO_PASSWORD

    def test_without_a_terminal_or_admin_password_it_says_how_to_give_one(
        self, tmp_path: Path
    ) -> None:
        """As in CI or ``docker compose exec -T``: no prompt is possible."""
        result = subprocess.run(  # noqa: S603 - the test's own command
            [sys.executable, "-m", cli.__name__, "create-admin", "--email", "a@example.com"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            cwd=tmp_path,  # no .env there
            env={"PATH": ""},
            timeout=60,
            check=False,
        )

        assert result.returncode == 1
        assert result.stderr == f"{cli.NO_PASSWORD}\n"
        assert "ADMIN_PASSWORD" in result.stderr

    def test_a_missing_email_is_a_usage_error(self) -> None:
        with pytest.raises(SystemExit) as exit_info:
            cli.main(["create-admin"])

        assert exit_info.value.code == 2


@pytest.mark.usefixtures("cli_settings")
async def test_create_admin_is_audited_as_the_cli(
    capsys: pytest.CaptureFixture[str], session: AsyncSession
) -> None:
    # The command as run (its own event loop, so a thread): it logs as the service does,
    # whatever an earlier test in this process configured.
    await asyncio.to_thread(cli.main, ["create-admin", "--email", "root@example.com"])

    admin = await UserRepository(session).get_by_email("root@example.com")
    assert admin is not None
    *logged, said = capsys.readouterr().out.splitlines()
    assert said == "Created admin root@example.com"
    lines = [json.loads(line) for line in logged]
    audited = [line for line in lines if line["event"] == AuditEvent.ADMIN_CREATED]
    assert [(line["actor"], line["subject"], line["client"]) for line in audited] == [
        ("cli", str(admin.id), None)
    ]
    assert DEFAULT_PASSWORD not in json.dumps(lines)
    assert admin.password_hash not in json.dumps(lines)


@pytest.fixture
async def tokens(session: AsyncSession, users: UserFactory) -> list[RefreshToken]:
    """Five refresh tokens of one user: three expired (one of them revoked), two still valid."""
    user = await users.create()
    now = utc_now()
    rows = [
        RefreshToken(
            id=uuid.uuid4(),
            user_id=user.id,
            family_id=uuid.uuid4(),
            issued_at=now - timedelta(days=10),
            expires_at=now + timedelta(days=days),
            revoked_at=now - timedelta(days=9) if days == -3 else None,
        )
        for days in (-3, -2, -1, 1, 2)
    ]
    session.add_all(rows)
    await session.commit()
    return rows


@pytest.mark.usefixtures("cli_settings")
def test_purge_tokens_deletes_the_expired_ones_and_says_how_many(
    capsys: pytest.CaptureFixture[str], tokens: list[RefreshToken], settings: Settings
) -> None:
    cli.main(["purge-tokens", "--batch-size", "2"])

    assert capsys.readouterr().out.splitlines()[-1] == "Purged 3 expired refresh tokens"
    assert asyncio.run(cli.purge_tokens(settings, batch_size=1)) == 0  # nothing left to purge


@pytest.mark.error_path
class TestPurgeTokensErrors:
    @pytest.mark.parametrize("batch_size", ["0", "-1", "many", "1.5"])
    @pytest.mark.usefixtures("cli_settings")
    def test_a_batch_size_that_is_not_a_positive_whole_number_is_a_usage_error(
        self, capsys: pytest.CaptureFixture[str], batch_size: str
    ) -> None:
        with pytest.raises(SystemExit) as exit_info:
            cli.main(["purge-tokens", "--batch-size", batch_size])

        assert exit_info.value.code == 2
        assert "--batch-size" in capsys.readouterr().err

    @pytest.mark.usefixtures("cli_settings")
    def test_an_unreachable_database_ends_the_command_in_one_line(
        self, monkeypatch: pytest.MonkeyPatch, make_settings: Callable[..., Settings]
    ) -> None:
        """One line that names no secret, as cron mails it; not a traceback."""
        pytest.importorskip("asyncpg", reason="no PostgreSQL driver in a SQLite-only bake")
        unreachable = make_settings(database_url=UNREACHABLE_DATABASE)
        monkeypatch.setattr(cli, "get_settings", lambda: unreachable)

        with pytest.raises(SystemExit) as exit_info:
            cli.main(["purge-tokens"])

        assert exit_info.value.code == f"{cli.DATABASE_UNREACHABLE} (ConnectionRefusedError)"
