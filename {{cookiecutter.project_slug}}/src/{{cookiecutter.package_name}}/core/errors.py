"""One error hierarchy and one response envelope: ``{"error": {"code", "message", "details"}}``.

Every error a client can see goes through :func:`error_response`: domain errors, request
validation, routing 404/405, database outages and unhandled exceptions alike.
"""

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

logger = structlog.get_logger(__name__)


class ErrorBody(BaseModel):
    code: str = Field(examples=["NOT_FOUND"])
    message: str = Field(examples=["Item not found"])
    details: dict[str, Any] = Field(default_factory=dict)


class ErrorEnvelope(BaseModel):
    """The body of every error response."""

    error: ErrorBody


class AppError(Exception):
    """Base of every error the service raises on purpose."""

    status_code: int = HTTPStatus.INTERNAL_SERVER_ERROR
    code: str = "INTERNAL_ERROR"

    def __init__(
        self,
        message: str,
        *,
        details: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = dict(details or {})
        self.headers = dict(headers or {})


class NotFoundError(AppError):
    status_code = HTTPStatus.NOT_FOUND
    code = "NOT_FOUND"

    def __init__(self, resource: str) -> None:
        super().__init__(f"{resource} not found", details={"resource": resource})


class ConflictError(AppError):
    status_code = HTTPStatus.CONFLICT
    code = "CONFLICT"


class InvalidRequestError(AppError):
    """A well-formed request the service cannot act on (for example a bad cursor)."""

    status_code = HTTPStatus.UNPROCESSABLE_ENTITY
    code = "INVALID_REQUEST"


class AuthenticationError(AppError):
    status_code = HTTPStatus.UNAUTHORIZED
    code = "UNAUTHORIZED"

    def __init__(self, message: str = "Could not validate credentials") -> None:
        super().__init__(message, headers={"WWW-Authenticate": "Bearer"})


class PermissionDeniedError(AppError):
    status_code = HTTPStatus.FORBIDDEN
    code = "FORBIDDEN"


class RateLimitedError(AppError):
    status_code = HTTPStatus.TOO_MANY_REQUESTS
    code = "RATE_LIMITED"

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(
            "Too many requests, retry later",
            details={"retry_after": retry_after_seconds},
            headers={"Retry-After": str(retry_after_seconds)},
        )


class ServiceUnavailableError(AppError):
    status_code = HTTPStatus.SERVICE_UNAVAILABLE
    code = "SERVICE_UNAVAILABLE"


def error_response(
    status_code: int,
    code: str,
    message: str,
    details: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """Render the envelope; the only place an error body is built."""
    body = {"error": {"code": code, "message": message, "details": dict(details or {})}}
    return JSONResponse(body, status_code=int(status_code), headers=dict(headers or {}))


def internal_error_response() -> JSONResponse:
    """The 500 a client sees for any unexpected failure: nothing about the cause."""
    return error_response(
        HTTPStatus.INTERNAL_SERVER_ERROR, "INTERNAL_ERROR", "An unexpected error occurred"
    )


def validation_details(errors: Sequence[Any]) -> dict[str, Any]:
    """Field paths and messages only: the offending input is never echoed back."""
    return {
        "errors": [
            {
                "field": ".".join(str(part) for part in error["loc"]),
                "message": error["msg"],
                "type": error["type"],
            }
            for error in errors
        ]
    }


_PROBED_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


async def _handle_app_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)  # noqa: S101 - registered for AppError only
    return error_response(exc.status_code, exc.code, exc.message, exc.details, exc.headers)


async def _handle_validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)  # noqa: S101 - registered for it only
    return error_response(
        HTTPStatus.UNPROCESSABLE_ENTITY,
        "VALIDATION_ERROR",
        "The request is invalid",
        validation_details(exc.errors()),
    )


async def _handle_http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)  # noqa: S101 - registered for it only
    status = HTTPStatus(exc.status_code)
    message = exc.detail if isinstance(exc.detail, str) else status.phrase
    headers = exc.headers
    if status is HTTPStatus.METHOD_NOT_ALLOWED:
        headers = {**(headers or {}), "Allow": _allowed_methods(request)}
    return error_response(status, status.name, message, headers=headers)


def _allowed_methods(request: Request) -> str:
    """Every method the path answers (Starlette's 405 names only the first route that matched)."""
    scope = request.scope
    probe = {
        key: scope[key] for key in ("type", "path", "root_path", "headers", "app") if key in scope
    }
    return ", ".join(
        method
        for method in _PROBED_METHODS
        if any(
            route.matches({**probe, "method": method})[0] is Match.FULL
            for route in request.app.router.routes
        )
    )


async def _handle_database_unavailable(_: Request, exc: Exception) -> JSONResponse:
    logger.error("database_unavailable", error=type(exc).__name__)
    return error_response(
        HTTPStatus.SERVICE_UNAVAILABLE,
        ServiceUnavailableError.code,
        "The service is temporarily unavailable, retry later",
        headers={"Retry-After": "5"},
    )


# What a database that cannot be reached raises: SQLAlchemy's errors, or the driver's own
# (asyncpg's refused connection and timeouts reach the caller unwrapped).
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeoutError, OSError, TimeoutError)


def register_error_handlers(app: FastAPI) -> None:
    """Route every expected failure to the envelope (unexpected ones: EdgeMiddleware)."""
    app.add_exception_handler(AppError, _handle_app_error)
    app.add_exception_handler(RequestValidationError, _handle_validation_error)
    app.add_exception_handler(StarletteHTTPException, _handle_http_exception)
    # A lost database (refused connection, dropped socket, exhausted pool) is a 503, not a 500.
    for unavailable in DATABASE_UNAVAILABLE:
        app.add_exception_handler(unavailable, _handle_database_unavailable)
