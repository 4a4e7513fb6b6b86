"""Auth errors; each is a 401 so a client cannot tell which check failed."""

from ...core.errors import AuthenticationError


class InvalidCredentialsError(AuthenticationError):
    def __init__(self) -> None:
        super().__init__("Incorrect email or password")


class InvalidTokenError(AuthenticationError):
    def __init__(self) -> None:
        super().__init__("The token is invalid or expired")
