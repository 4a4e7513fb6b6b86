"""Settings read from the environment (and ``.env``), validated once at start-up."""

from enum import StrEnum
from functools import lru_cache
from typing import Annotated, Literal, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEVELOPMENT_JWT_SECRET = "development-only-secret-change-me-please-0123456789"  # noqa: S105
DEVELOPMENT_DATABASE_URL = "sqlite+aiosqlite:///./app.db"
MIN_JWT_SECRET_BYTES = 32
# OWASP Password Storage Cheat Sheet: argon2id with at least 19 MiB, 2 iterations, 1 lane.
OWASP_MIN_ARGON2_MEMORY_KIB = 19_456
OWASP_MIN_ARGON2_TIME_COST = 2

CommaSeparated = Annotated[list[str], NoDecode]


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    STAGING = "staging"
    PRODUCTION = "production"


class Settings(BaseSettings):
    """Every setting of the service; names are the environment variables, case-insensitive."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    app_name: str = {{ cookiecutter.project_name | quoted }}
    environment: Environment = Environment.DEVELOPMENT
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
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
        "and looking for one costs every request about a tenth of a /health request.",
    )
    docs_enabled: bool | None = Field(
        default=None, description="Serve /docs and /openapi.json; defaults to off in production."
    )

    database_url: SecretStr | None = None
    db_pool_size: int = Field(default=20, ge=1)
    db_max_overflow: int = Field(
        default=0,
        ge=0,
        description="Connections beyond the pool size, closed again as soon as they are returned "
        "while the pool is full: under steady load that opens and closes a connection per "
        "request or two, so the default is a fixed pool.",
    )
    db_pool_timeout_seconds: float = Field(default=10.0, gt=0)
    db_statement_timeout_seconds: float = Field(default=5.0, gt=0)
    db_ping_idle_seconds: float = Field(
        default=10.0,
        ge=0,
        description="Check a pooled connection that sat idle this long before using it "
        "(a restarted database or a proxy's idle timeout may have closed it); 0 checks every one.",
    )

    jwt_secret: SecretStr = SecretStr(DEVELOPMENT_JWT_SECRET)
    jwt_algorithm: Literal["HS256", "HS384", "HS512"] = "HS256"
    access_token_expire_minutes: int = Field(default=15, ge=1, le=60)
    refresh_token_expire_days: int = Field(default=7, ge=1, le=7)

    argon2_memory_kib: int = Field(default=65_536, ge=OWASP_MIN_ARGON2_MEMORY_KIB)
    argon2_time_cost: int = Field(default=3, ge=OWASP_MIN_ARGON2_TIME_COST)
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

    @field_validator("cors_origins", "allowed_hosts", mode="before")
    @classmethod
    def split_commas(cls, value: object) -> object:
        """Accept ``a,b`` in the environment as well as a list."""
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @model_validator(mode="after")
    def refuse_unsafe_secrets(self) -> Self:
        """Fail at start-up on a short secret, or on development defaults in production."""
        secret = self.jwt_secret.get_secret_value()
        if len(secret.encode()) < MIN_JWT_SECRET_BYTES:
            raise ValueError(f"JWT_SECRET must be at least {MIN_JWT_SECRET_BYTES} bytes long")
        if self.environment is not Environment.PRODUCTION:
            return self
        if self.database_url is None:
            raise ValueError("DATABASE_URL must be set in production")
        if secret == DEVELOPMENT_JWT_SECRET:
            raise ValueError("JWT_SECRET must be set to a random value in production")
        return self

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


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, parsed on first use."""
    return Settings()
