"""Settings refuse unsafe values at start-up, not at the first request."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from {{ cookiecutter.package_name }}.config import (
    DEVELOPMENT_DATABASE_URL,
    DEVELOPMENT_JWT_SECRET,
    INVALID_SETTINGS_EXIT_CODE,
    Settings,
    get_settings,
)

PRODUCTION = {"environment": "production", "database_url": "postgresql+asyncpg://db/app"}
STRONG_SECRET = "s" * 48


def settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)


def test_development_defaults_to_sqlite_console_logs_and_docs() -> None:
    config = settings()

    assert config.sqlalchemy_url == DEVELOPMENT_DATABASE_URL
    assert config.json_logs is False
    assert config.serve_docs is True


def test_production_defaults_to_json_logs_and_no_docs() -> None:
    config = settings(**PRODUCTION, jwt_secret=STRONG_SECRET)

    assert config.json_logs is True
    assert config.serve_docs is False
    assert config.is_production


def test_comma_separated_lists_are_split() -> None:
    config = settings(cors_origins="https://a.example, https://b.example", allowed_hosts="a,b")

    assert config.cors_origins == ["https://a.example", "https://b.example"]
    assert config.allowed_hosts == ["a", "b"]


def test_lists_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ORIGINS", "https://a.example,https://b.example")

    assert settings().cors_origins == ["https://a.example", "https://b.example"]


@pytest.mark.parametrize("spelling", ["warning", "Warning", "WARNING"])
def test_log_level_is_accepted_in_any_case(spelling: str) -> None:
    assert settings(log_level=spelling).log_level == "WARNING"


def test_special_use_email_domains_are_normalized() -> None:
    config = settings(email_special_use_domains="Local, .test,corp.LOCAL")

    assert config.email_special_use_domains == ["local", "test", "corp.local"]


def test_explicit_choices_override_the_environment_defaults() -> None:
    config = settings(log_json=True, docs_enabled=False)

    assert config.json_logs is True
    assert config.serve_docs is False


@pytest.mark.error_path
class TestUnsafeSettings:
    def test_production_requires_a_database_url(self) -> None:
        with pytest.raises(ValidationError, match=r"database_url\n.*must be set in production"):
            settings(environment="production", jwt_secret=STRONG_SECRET)

    def test_production_refuses_the_development_secret(self) -> None:
        with pytest.raises(ValidationError, match="random value"):
            settings(**PRODUCTION, jwt_secret=DEVELOPMENT_JWT_SECRET)

    @pytest.mark.parametrize("environment", ["development", "production"])
    def test_a_short_secret_is_refused_everywhere(self, environment: str) -> None:
        with pytest.raises(ValidationError, match="at least 32 bytes"):
            settings(**{**PRODUCTION, "environment": environment}, jwt_secret="too-short")

    @pytest.mark.parametrize(
        "values",
        [
            {"argon2_memory_kib": 1024},
            {"argon2_time_cost": 1},
            {"refresh_token_expire_days": 30},
            {"access_token_expire_minutes": 240},
            {"environment": "qa"},
            {"jwt_algorithm": "none"},
            {"gc_gen0_threshold": -1},
            {"log_level": "verbose"},
            {"email_special_use_domains": "local,example.com"},
        ],
        ids=[
            "argon2-memory",
            "argon2-time",
            "refresh-days",
            "access-minutes",
            "env",
            "alg",
            "gc",
            "log-level",
            "public-email-domain",
        ],
    )
    def test_weak_or_unknown_values_are_refused(self, values: dict[str, Any]) -> None:
        with pytest.raises(ValidationError):
            settings(**values)

    @pytest.mark.parametrize("environment", ["development", "staging", "production"])
    def test_hashing_below_the_owasp_minimum_is_refused_outside_tests(
        self, environment: str
    ) -> None:
        with pytest.raises(ValidationError) as refused:
            settings(
                **{**PRODUCTION, "environment": environment},
                jwt_secret=STRONG_SECRET,
                argon2_memory_kib=8,
                argon2_time_cost=1,
            )

        assert {error["loc"][0] for error in refused.value.errors()} == {
            "argon2_memory_kib",
            "argon2_time_cost",
        }


SECRET_URL = "postgresql+asyncpg://app:hunter2-db-password@db/app"


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[pytest.MonkeyPatch]:
    """The process environment get_settings reads, emptied of settings, without a .env file."""
    monkeypatch.chdir(tmp_path)
    for variable in Settings.model_fields:
        monkeypatch.delenv(variable.upper(), raising=False)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


@pytest.mark.error_path
@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        (
            {"JWT_SECRET": STRONG_SECRET},
            "DATABASE_URL: must be set in production\n",
        ),
        (
            {"DATABASE_URL": SECRET_URL, "JWT_SECRET": "short-secret-value"},
            "JWT_SECRET: must be at least 32 bytes long\n",
        ),
        (
            {"DATABASE_URL": SECRET_URL, "JWT_SECRET": STRONG_SECRET, "DB_POOL_SIZE": "twenty"},
            "DB_POOL_SIZE: Input should be a valid integer, unable to parse string as an integer\n",
        ),
        (
            {"DATABASE_URL": SECRET_URL, "JWT_SECRET": DEVELOPMENT_JWT_SECRET},
            "JWT_SECRET: must be set to a random value in production\n",
        ),
    ],
    ids=["no-database-url", "short-secret", "pool-size", "development-secret"],
)
def test_invalid_settings_end_the_process_with_one_line_each(
    environment: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    variables: dict[str, str],
    expected: str,
) -> None:
    for name, value in {"ENVIRONMENT": "production", **variables}.items():
        environment.setenv(name, value)

    with pytest.raises(SystemExit) as exit_info:
        get_settings()

    assert exit_info.value.code == INVALID_SETTINGS_EXIT_CODE
    assert capsys.readouterr().err == expected


@pytest.mark.error_path
def test_every_invalid_setting_is_reported_without_its_value(
    environment: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    environment.setenv("ENVIRONMENT", "production")
    environment.setenv("DATABASE_URL", SECRET_URL)
    environment.setenv("JWT_SECRET", "short-secret-value")
    environment.setenv("LOG_LEVEL", "loud")

    with pytest.raises(SystemExit):
        get_settings()

    lines = capsys.readouterr().err.splitlines()
    assert [line.split(":")[0] for line in lines] == ["LOG_LEVEL", "JWT_SECRET"]
    assert not any("short-secret-value" in line or "hunter2" in line for line in lines)
