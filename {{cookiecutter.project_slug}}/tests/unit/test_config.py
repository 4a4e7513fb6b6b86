"""Settings refuse unsafe values at start-up, not at the first request."""

from typing import Any

import pytest
from pydantic import ValidationError

from {{ cookiecutter.package_name }}.config import (
    DEVELOPMENT_DATABASE_URL,
    DEVELOPMENT_JWT_SECRET,
    Settings,
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


def test_explicit_choices_override_the_environment_defaults() -> None:
    config = settings(log_json=True, docs_enabled=False)

    assert config.json_logs is True
    assert config.serve_docs is False


@pytest.mark.error_path
class TestUnsafeSettings:
    def test_production_requires_a_database_url(self) -> None:
        with pytest.raises(ValidationError, match="DATABASE_URL must be set"):
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
        ],
        ids=["argon2-memory", "argon2-time", "refresh-days", "access-minutes", "env", "alg", "gc"],
    )
    def test_weak_or_unknown_values_are_refused(self, values: dict[str, Any]) -> None:
        with pytest.raises(ValidationError):
            settings(**values)
