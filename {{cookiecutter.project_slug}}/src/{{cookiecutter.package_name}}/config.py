"""Settings read from the environment (and ``.env``), validated once at start-up."""

import sys
from collections.abc import Iterator
from enum import StrEnum
from functools import lru_cache
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from .core.emails import special_use_parent
from .core.metrics import MetricsSettings
from .core.observability import ErrorReportingSettings, TracingSettings
{%- if cookiecutter.use_file_uploads %}
from .files.settings import FilesSettings
{%- endif %}
{%- if cookiecutter.use_websockets %}
from .realtime.settings import RealtimeSettings
{%- endif %}
{%- if cookiecutter.use_redis %}
from .redis.settings import RedisSettings
{%- endif %}

DEVELOPMENT_JWT_SECRET = "development-only-secret-change-me-please-0123456789"  # noqa: S105
DEVELOPMENT_DATABASE_URL = "sqlite+aiosqlite:///./app.db"
MIN_JWT_SECRET_BYTES = 32
# OWASP Password Storage Cheat Sheet: argon2id with at least 19 MiB, 2 iterations, 1 lane.
OWASP_MIN_ARGON2_MEMORY_KIB = 19_456
OWASP_MIN_ARGON2_TIME_COST = 2

# uvicorn's STARTUP_FAILURE: with several workers, its supervisor stops instead of restarting
# workers that would fail the same way forever.
INVALID_SETTINGS_EXIT_CODE = 3

CommaSeparated = Annotated[list[str], NoDecode]


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    STAGING = "staging"
    PRODUCTION = "production"


# A pack's settings are a class of its own, mixed in here; so are metrics', traces' and error
# reports'.
class Settings(
{%- if cookiecutter.use_redis %}
    RedisSettings,
{%- endif %}
{%- if cookiecutter.use_websockets %}
    RealtimeSettings,
{%- endif %}
{%- if cookiecutter.use_file_uploads %}
    FilesSettings,
{%- endif %}
    MetricsSettings,
    TracingSettings,
    ErrorReportingSettings,
    BaseSettings,
):
    """Every setting of the service; names are the environment variables, case-insensitive."""

    # hide_input_in_errors: a validation error never shows a value (a secret, a database URL).
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", hide_input_in_errors=True
    )

    app_name: str = {{ cookiecutter.project_name | python_string(prefix="app_name: str = ") }}
    environment: Environment = Environment.DEVELOPMENT
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(
        default="INFO", description="Any case: uvicorn spells it `warning`."
    )
    log_json: bool | None = Field(
        default=None, description="JSON log lines; defaults to on outside development."
    )
    log_cache_loggers: bool = Field(
        default=True,
        description="Bind loggers once (fast); tests turn it off to reconfigure logging per app.",
    )
    gc_freeze_at_startup: bool = Field(
        default=True,
        description="Exempt everything alive after start-up from garbage collection "
        "(core/runtime.py).",
    )
    gc_gen0_threshold: int = Field(
        default=10_000,
        ge=0,
        description="Allocations between young-generation collections; 0 keeps Python's (700).",
    )
    telemetry_enabled: bool = Field(
        default=False,
        description="FastAPI's native OpenTelemetry spans, metrics and logs, through the "
        "providers an OpenTelemetry SDK set up. Off: with no SDK configured they record nothing, "
        "yet looking for one costs every request.",
    )
    docs_enabled: bool | None = Field(
        default=None, description="Serve /docs and /openapi.json; defaults to off in production."
    )

    database_url: SecretStr | None = Field(default=None, validate_default=True)
    db_pool_size: int = Field(default=20, ge=1)
    db_max_overflow: int = Field(
        default=0,
        ge=0,
        description="Connections beyond the pool size, closed again as soon as they are returned "
        "while the pool is full: under steady load that opens and closes a connection per "
        "request or two, so the default is a fixed pool.",
    )
    # Each wait ends in a 503 for the request; short enough that a client learns within seconds
    # that the database is unreachable, long enough for a healthy one under load.
    db_connect_timeout_seconds: float = Field(
        default=3.0,
        gt=0,
        description="Opening a connection (TCP, TLS, authentication): milliseconds on a healthy "
        "network; longer means the database or the link to it is down or stalled.",
    )
    db_pool_timeout_seconds: float = Field(
        default=5.0,
        gt=0,
        description="Waiting for a pooled connection while all are in use: absorbs a burst; a "
        "longer queue only delays the 503 a saturated service will give anyway.",
    )
    db_statement_timeout_seconds: float = Field(
        default=5.0,
        gt=0,
        description="One statement's round trip, timed by the client (asyncpg's command_timeout), "
        "so it also ends the wait on a link that stalled; closing that connection then takes up "
        "to 2 s more (SQLAlchemy tries a graceful close first).",
    )
    db_ping_idle_seconds: float = Field(
        default=10.0,
        ge=0,
        description="Check a pooled connection that sat idle this long before using it "
        "(a restarted database or a proxy's idle timeout may have closed it); 0 checks every one.",
    )

    jwt_secret: SecretStr = Field(default=SecretStr(DEVELOPMENT_JWT_SECRET), validate_default=True)
    jwt_algorithm: Literal["HS256", "HS384", "HS512"] = "HS256"
    access_token_expire_minutes: int = Field(default=15, ge=1, le=60)
    refresh_token_expire_days: int = Field(default=7, ge=1, le=7)

    argon2_memory_kib: int = Field(
        default=65_536,
        ge=8,
        description=f"At least {OWASP_MIN_ARGON2_MEMORY_KIB} (OWASP) outside ENVIRONMENT=test.",
    )
    argon2_time_cost: int = Field(
        default=3,
        ge=1,
        description=f"At least {OWASP_MIN_ARGON2_TIME_COST} (OWASP) outside ENVIRONMENT=test.",
    )
    argon2_parallelism: int = Field(default=1, ge=1)
    password_hash_concurrency: int = Field(
        default=2, ge=1, description="Password hashes computed at once per worker process."
    )

    auth_user_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        le=60,
        description="How long a worker trusts a user's role and active flag before reading them "
        "again; 0 reads them on every request.",
    )
    auth_rate_limit_per_minute: int = Field(default=10, ge=1)
    auth_rate_limit_burst: int = Field(default=5, ge=1)

    email_special_use_domains: CommaSeparated = Field(
        default_factory=list,
        description="Special-use domains (RFC 6761: local, test, localhost...) whose addresses may "
        "register, e.g. `local` or `corp.local` for an intranet; empty: public domains only.",
    )

    cors_origins: CommaSeparated = Field(default_factory=list)
    allowed_hosts: CommaSeparated = Field(default_factory=lambda: ["*"])
    max_request_body_bytes: int = Field(default=1_048_576, ge=1_024)
    request_body_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description="The whole request body must arrive within this time of the app starting to "
        "read it, or the request gets 408 and its connection is closed.",
    )
    max_request_header_count: int = Field(
        default=100, ge=1, description="Requests with more headers get 431."
    )
    max_request_header_bytes: int = Field(
        default=16_384,
        ge=1_024,
        description="Requests whose header names and values add up to more bytes get 431.",
    )
    gzip_min_bytes: int | None = Field(
        default=None,
        ge=0,
        description="Gzip responses at least this large, for clients that accept it. Unset: "
        "off, as the reverse proxy or CDN in front usually compresses, once, for every service.",
    )

    @field_validator("cors_origins", "allowed_hosts", "email_special_use_domains", mode="before")
    @classmethod
    def split_commas(cls, value: object) -> object:
        """Accept ``a,b`` in the environment as well as a list."""
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def upper_case(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    # Field validators, not one model validator, so that each problem names its variable and
    # all of them are reported at once (a model validator runs only once every field is valid).
    @field_validator("database_url")
    @classmethod
    def required_in_production(
        cls, value: SecretStr | None, info: ValidationInfo
    ) -> SecretStr | None:
        if value is None and info.data.get("environment") is Environment.PRODUCTION:
            raise ValueError("must be set in production")
        return value

    @field_validator("jwt_secret")
    @classmethod
    def refuse_unsafe_secret(cls, value: SecretStr, info: ValidationInfo) -> SecretStr:
        """Fail at start-up on a short secret, or on the development default in production."""
        secret = value.get_secret_value()
        if len(secret.encode()) < MIN_JWT_SECRET_BYTES:
            raise ValueError(f"must be at least {MIN_JWT_SECRET_BYTES} bytes long")
        production = info.data.get("environment") is Environment.PRODUCTION
        if production and secret == DEVELOPMENT_JWT_SECRET:
            raise ValueError("must be set to a random value in production")
        return value

    @field_validator("argon2_memory_kib", "argon2_time_cost")
    @classmethod
    def owasp_hashing_outside_tests(cls, value: int, info: ValidationInfo) -> int:
        """Tests may hash cheaply (hundreds of accounts per run); nothing else may."""
        minimum = {
            "argon2_memory_kib": OWASP_MIN_ARGON2_MEMORY_KIB,
            "argon2_time_cost": OWASP_MIN_ARGON2_TIME_COST,
        }[str(info.field_name)]
        if value < minimum and info.data.get("environment") is not Environment.TEST:
            raise ValueError(f"must be at least {minimum} (OWASP) outside ENVIRONMENT=test")
        return value

    @field_validator("email_special_use_domains")
    @classmethod
    def only_special_use_domains(cls, domains: list[str]) -> list[str]:
        """``local`` or ``.local`` alike, lower case; a public domain here is a mistake."""
        normalized = [domain.strip(".").lower() for domain in domains]
        public = [domain for domain in normalized if special_use_parent(domain) is None]
        if public:
            raise ValueError(f"not special-use domains: {', '.join(public)}")
        return normalized

    @property
    def is_production(self) -> bool:
        return self.environment is Environment.PRODUCTION

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url is None:
            return DEVELOPMENT_DATABASE_URL
        return self.database_url.get_secret_value()

    @property
    def json_logs(self) -> bool:
        if self.log_json is None:
            return self.environment is not Environment.DEVELOPMENT
        return self.log_json

    @property
    def serve_docs(self) -> bool:
        if self.docs_enabled is None:
            return not self.is_production
        return self.docs_enabled


def describe_problems(error: ValidationError) -> Iterator[str]:
    """One line per invalid setting: its variable and what is wrong, never its value."""
    problems: dict[str, list[str]] = {}
    for detail in error.errors(include_input=False, include_url=False):
        variable = str(detail["loc"][0]).upper() if detail["loc"] else "settings"
        problems.setdefault(variable, []).append(detail["msg"].removeprefix("Value error, "))
    for variable, messages in problems.items():
        yield f"{variable}: {'; '.join(messages)}"


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, parsed on first use. Invalid ones end the process (the
    server, a command, a migration) with one line per problem on stderr, not a traceback."""
    try:
        return Settings()
    except ValidationError as error:
        sys.stderr.write("".join(f"{line}\n" for line in describe_problems(error)))
        raise SystemExit(INVALID_SETTINGS_EXIT_CODE) from None
