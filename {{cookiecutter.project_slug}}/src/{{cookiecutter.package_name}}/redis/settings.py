"""The Redis pack's settings (mixed into config.Settings; names are the environment variables)."""

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings


class RedisSettings(BaseSettings):
    redis_url: SecretStr = Field(
        default=SecretStr("redis://localhost:6379/0"),
        description="redis:// or rediss:// (TLS), with the password in it if the server has one; "
        "a secret: it never reaches a log line.",
    )
    redis_key_prefix: str = Field(
        default="{{ cookiecutter.project_slug }}:",
        min_length=1,
        description="Every key this service writes starts with it, so services (and test runs) "
        "can share one Redis.",
    )
    redis_connect_timeout_seconds: float = Field(
        default=1.0, gt=0, description="Opening a connection: longer means Redis is down."
    )
    redis_socket_timeout_seconds: float = Field(
        default=1.0,
        gt=0,
        description="One command's round trip; Redis answers in well under a millisecond, so a "
        "longer wait means the link or the server stalled.",
    )
    redis_max_connections: int = Field(
        default=50, ge=1, description="Connections per worker process, shared by every request."
    )
    redis_cache_retry_after_seconds: float = Field(
        default=5.0,
        ge=0,
        description="After Redis failed to answer, the cache reads the database without trying "
        "Redis for this long, so a stalled link does not add a timeout to every read.",
    )
