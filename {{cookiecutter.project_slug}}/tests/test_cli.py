"""The management command that creates the first admin."""

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from {{ cookiecutter.package_name }} import cli
from {{ cookiecutter.package_name }}.config import Settings, get_settings
from {{ cookiecutter.package_name }}.features.users.models import Role
from {{ cookiecutter.package_name }}.features.users.repository import (
    UserRepository,
)

from .factories import DEFAULT_PASSWORD


@pytest.fixture
def cli_settings(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    """Point the command (which reads the environment) at the test database."""
    monkeypatch.setattr(cli, "get_settings", lambda: settings)
    monkeypatch.setenv("ADMIN_PASSWORD", DEFAULT_PASSWORD)


@pytest.mark.usefixtures("cli_settings")
async def test_create_admin_makes_an_admin(session: AsyncSession) -> None:
    await cli.create_admin("Root@Example.com", DEFAULT_PASSWORD, "Root")

    user = await UserRepository(session).get_by_email("root@example.com")
    assert user is not None
    assert user.role is Role.ADMIN


def test_get_settings_is_cached() -> None:
    assert get_settings() is get_settings()


@pytest.mark.error_path
class TestCreateAdminErrors:
    @pytest.mark.usefixtures("cli_settings")
    def test_an_invalid_email_is_explained(self) -> None:
        with pytest.raises(SystemExit, match="error: email"):
            cli.main(["create-admin", "--email", "not-an-email"])

    def test_a_short_password_is_explained(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("ADMIN_PASSWORD", "short")

        with pytest.raises(SystemExit, match="error: password"):
            cli.main(["create-admin", "--email", "a@example.com"])

    def test_mismatched_prompted_passwords_are_refused(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.delenv("ADMIN_PASSWORD", raising=False)
        answers = iter([DEFAULT_PASSWORD, "something else entirely"])
        monkeypatch.setattr("getpass.getpass", lambda _: next(answers))

        with pytest.raises(SystemExit, match="do not match"):
            cli.main(["create-admin", "--email", "a@example.com"])

    def test_a_missing_email_is_a_usage_error(self) -> None:
        with pytest.raises(SystemExit) as exit_info:
            cli.main(["create-admin"])

        assert exit_info.value.code == 2
