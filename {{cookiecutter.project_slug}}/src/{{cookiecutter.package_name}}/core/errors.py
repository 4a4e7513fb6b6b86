"""One error hierarchy and one response envelope: ``{"error": {"code", "message", "details"}}``.

Every error a client can see goes through :func:`error_response`: domain errors, request
validation, routing 404/405, database outages and unhandled exceptions alike.
"""

from collections.abc import Iterator, Mapping
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

from .field_errors import FieldError, ValidationDetails, validation_details

logger = structlog.get_logger(__name__)


class ErrorBody(BaseModel):
    code: str = Field(description="What went wrong, for programs", examples=["NOT_FOUND"])
    message: str = Field(description="What went wrong, for people", examples=["Item not found"])
    details: dict[str, Any] = Field(default_factory=dict)


class ErrorEnvelope(BaseModel):
    """The body of every error response but a 422's."""

    error: ErrorBody


class ValidationErrorBody(BaseModel):
    code: str = Field(description="What went wrong, for programs", examples=["VALIDATION_ERROR"])
    message: str = Field(description="What went wrong, for people")
    details: ValidationDetails


class ValidationErrorEnvelope(BaseModel):
    """The body of every 422: its details name each invalid field, whether the request broke
    its schema or a rule no schema states (a cursor the service never issued)."""

    error: ValidationErrorBody


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
    """A request that its schema allows but the service cannot act on (a cursor it never
    issued): a 422 whose details name the field, as a validation error's do. Every 422 the
    service raises is one of these."""

    status_code = HTTPStatus.UNPROCESSABLE_ENTITY
    code = "INVALID_REQUEST"

    def __init__(self, message: str, *, field: str, reason: str) -> None:
        problem = FieldError(field=field, message=message, type=reason)
        super().__init__(message, details=ValidationDetails(errors=[problem]).model_dump())


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


# The codes of the errors that are not AppErrors: the framework's (an HTTPException's code is
# its status's name) and the edge middleware's.
OTHER_ERROR_CODES = frozenset(
    {
        "BAD_REQUEST",
        "CORS_REJECTED",
        "INTERNAL_ERROR",
        "INVALID_HOST",
        "METHOD_NOT_ALLOWED",
        "NOT_FOUND",
        "REQUEST_ENTITY_TOO_LARGE",
        "REQUEST_HEADER_FIELDS_TOO_LARGE",
        "REQUEST_TIMEOUT",
        "SERVICE_UNAVAILABLE",
        "UNAUTHORIZED",
        "VALIDATION_ERROR",
    }
)


def error_codes() -> list[str]:
    """Every ``code`` an error body can carry: the AppErrors' of every module of the service
    imported so far (the app factory imports them all), and the others."""
    service = __name__.partition(".")[0]
    return sorted(
        OTHER_ERROR_CODES
        | {error.code for error in _subclasses(AppError) if error.__module__.startswith(service)}
    )


def _subclasses(cls: type[AppError]) -> Iterator[type[AppError]]:
    yield cls
    for subclass in cls.__subclasses__():
        yield from _subclasses(subclass)


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
        validation_details(exc.errors(), exc.body),
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
