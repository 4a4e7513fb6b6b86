"""What the auth API accepts and returns."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ...core.emails import EmailAddress
from ...core.schemas import NO_NUL, VISIBLE_TEXT

MIN_PASSWORD_LENGTH = 12
# argon2 hashes any length, but an unbounded password is a cheap way to burn CPU.
MAX_PASSWORD_LENGTH = 128


class RegisterRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailAddress
    password: str = Field(
        min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH, pattern=NO_NUL
    )
    full_name: str | None = Field(default=None, max_length=200, pattern=VISIBLE_TEXT)


class LoginForm(BaseModel):
    """The OAuth2 password form, its fields bounded (length, no NUL). Other fields of the
    flow (`grant_type`, `scope`, `client_id`) are accepted and ignored."""

    username: str = Field(max_length=320, pattern=NO_NUL, description="Your email")
    password: str = Field(max_length=MAX_PASSWORD_LENGTH, pattern=NO_NUL)


class RefreshRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: str = Field(min_length=1, max_length=4096)


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - a scheme name, not a secret
    expires_in: int = Field(description="Seconds until the access token expires")
