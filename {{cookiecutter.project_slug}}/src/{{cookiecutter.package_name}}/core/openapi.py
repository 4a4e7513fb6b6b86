"""What each operation documents: the error statuses it can really return, in the envelope.

Generated clients and the contract tests (tests/e2e/test_api_contract.py) take the list of an
operation's responses at its word, so it names what the operation can return and nothing else:

- every operation: 500, the unexpected failure (not ``5XX``: the service sends no other 5xx but
  the 503s documented where they happen; a proxy's 502 or 504 is neither its nor enveloped);
- a request body: 400 (it cannot be parsed: not UTF-8, a multipart body without a boundary),
  408 (it did not all arrive in time), 413 (too large) and 422 (invalid);
- parameters: 422. FastAPI documents a 422 of its own, with another body, on any operation with
  parameters, so a path parameter counts even when its convertor (``{id:uuid}``) already turns
  a malformed value into a 404;
- a security scheme (the padlock in /docs): 401;
- a dependency marked with :func:`fails_with` (role check 403, rate limit 429, the database
  503 of a session or of reading the caller's row): its statuses;
- the rest, which only the route knows, on the route: ``responses=errors(HTTPStatus.NOT_FOUND)``.

Answers that no operation gives are in :data:`API_DESCRIPTION` instead: the 405 for a method a
path does not offer (that method is not an operation: a client calling a documented one never
gets it), and the refusals of requests that never reach an operation.

For generated clients, each error is typed: a 422 is a ``ValidationErrorEnvelope`` whose
``details.errors`` lists each invalid field, every other error an ``ErrorEnvelope``; ``code`` is
one of the ``ErrorCode`` enum; a 401 documents its ``WWW-Authenticate`` header, a 429 and a 503
their ``Retry-After``.
"""

from collections.abc import Callable, Iterator
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security.base import SecurityBase
from pydantic import BaseModel

from .errors import (
    ErrorBody,
    ErrorEnvelope,
    ValidationErrorBody,
    ValidationErrorEnvelope,
    error_codes,
)

API_DESCRIPTION = """\
Every error has one body: `{"error": {"code", "message", "details"}}`. Each operation lists the \
statuses it can return. A request may also be refused before it reaches an operation: 400 \
`INVALID_HOST` for a `Host` the service does not answer to, 404 for an unknown path, 405 with an \
`Allow` header for a method the path does not offer, 413 for a body over the size limit, 431 for \
too many or too large headers."""

type Responses = dict[int | str, dict[str, Any]]

# Per status: the description, then an example of the envelope as the service sends it.
_ERRORS: dict[HTTPStatus, tuple[str, str, str, dict[str, Any]]] = {
    HTTPStatus.BAD_REQUEST: (
        "The body cannot be parsed",
        "BAD_REQUEST",
        "There was an error parsing the body",
        {},
    ),
    HTTPStatus.UNAUTHORIZED: (
        "Missing, invalid or expired credentials",
        "UNAUTHORIZED",
        "Could not validate credentials",
        {},
    ),
    HTTPStatus.FORBIDDEN: (
        "The signed-in user may not do this",
        "FORBIDDEN",
        "You do not have permission to do this",
        {"required_roles": ["admin"]},
    ),
    HTTPStatus.NOT_FOUND: (
        "No such resource, or not one the caller may see",
        "NOT_FOUND",
        "Item not found",
        {"resource": "Item"},
    ),
    HTTPStatus.CONFLICT: (
        "The change conflicts with the current state",
        "CONFLICT",
        "This email is already registered",
        {"field": "email"},
    ),
    HTTPStatus.REQUEST_TIMEOUT: (
        "The body did not all arrive within REQUEST_BODY_TIMEOUT_SECONDS",
        "REQUEST_TIMEOUT",
        "The request body did not arrive within 10 seconds",
        {},
    ),
    HTTPStatus.REQUEST_ENTITY_TOO_LARGE: (
        "The body is over MAX_REQUEST_BODY_BYTES",
        "REQUEST_ENTITY_TOO_LARGE",
        "The request body exceeds 1048576 bytes",
        {},
    ),
    HTTPStatus.UNPROCESSABLE_ENTITY: (
        "The request is invalid; details.errors names each field",
        "VALIDATION_ERROR",
        "The request is invalid",
        {"errors": [{"field": "body.title", "message": "Field required", "type": "missing"}]},
    ),
    HTTPStatus.TOO_MANY_REQUESTS: (
        "Too many requests; retry after Retry-After seconds",
        "RATE_LIMITED",
        "Too many requests, retry later",
        {"retry_after": 6},
    ),
    HTTPStatus.INTERNAL_SERVER_ERROR: (
        "An unexpected error; the response says nothing of its cause",
        "INTERNAL_ERROR",
        "An unexpected error occurred",
        {},
    ),
    HTTPStatus.SERVICE_UNAVAILABLE: (
        "The database is unavailable; retry after Retry-After seconds",
        "SERVICE_UNAVAILABLE",
        "The service is temporarily unavailable, retry later",
        {},
    ),
}

# Python 3.13 gave these statuses RFC 9110's names and phrases; the document must not change
# with the interpreter, so a status documented without a table entry takes these.
_RFC9110_NAMES: dict[HTTPStatus, tuple[str, str]] = {
    HTTPStatus.REQUEST_ENTITY_TOO_LARGE: ("Content Too Large", "CONTENT_TOO_LARGE"),
    HTTPStatus.REQUEST_URI_TOO_LONG: ("URI Too Long", "URI_TOO_LONG"),
    HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE: ("Range Not Satisfiable", "RANGE_NOT_SATISFIABLE"),
    HTTPStatus.UNPROCESSABLE_ENTITY: ("Unprocessable Content", "UNPROCESSABLE_CONTENT"),
}

_MARK = "documented_error_statuses"

_SECONDS = {"type": "integer"}
# The headers an error of a status carries, as OpenAPI describes them.
_HEADERS: dict[HTTPStatus, dict[str, dict[str, Any]]] = {
    HTTPStatus.UNAUTHORIZED: {
        "WWW-Authenticate": {
            "description": "How to authenticate: `Bearer`",
            "required": True,
            "schema": {"type": "string"},
        },
    },
    HTTPStatus.TOO_MANY_REQUESTS: {
        "Retry-After": {
            "description": "Seconds to wait before trying again",
            "required": True,
            "schema": _SECONDS,
        },
    },
    HTTPStatus.SERVICE_UNAVAILABLE: {
        "Retry-After": {
            "description": "Seconds to wait before trying again, when the service can tell",
            "schema": _SECONDS,
        },
    },
}
# The error bodies whose `code` is one of ErrorCode.
_CODED = (ErrorBody.__name__, ValidationErrorBody.__name__)


def errors(*statuses: HTTPStatus) -> Responses:
    """The ``responses=`` of a route that can also fail with *statuses*, each in the envelope."""
    return {int(status): error_response_doc(status) for status in statuses}


def error_response_doc(
    status: HTTPStatus,
    *,
    description: str | None = None,
    message: str | None = None,
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """How an error response of *status* is documented: the envelope, and an example; a route
    whose error says more than the usual one overrides its description, message or details."""
    phrase, name = _RFC9110_NAMES.get(status, (status.phrase, status.name))
    usual_description, code, usual_message, usual_details = _ERRORS.get(
        status, (phrase, name, phrase, {})
    )
    description = usual_description if description is None else description
    message = usual_message if message is None else message
    details = usual_details if details is None else details
    example = {"error": {"code": code, "message": message, "details": details}}
    model: type[BaseModel] = (
        ValidationErrorEnvelope if status == HTTPStatus.UNPROCESSABLE_ENTITY else ErrorEnvelope
    )
    documented: dict[str, Any] = {
        "model": model,
        "description": description,
        "content": {"application/json": {"example": example}},
    }
    if status in _HEADERS:
        documented["headers"] = _HEADERS[status]
    return documented


def fails_with[F: Callable[..., Any]](*statuses: HTTPStatus) -> Callable[[F], F]:
    """Mark a dependency that can answer *statuses*: every operation that uses it, however
    indirectly, documents them."""

    def mark(dependency: F) -> F:
        setattr(dependency, _MARK, frozenset(statuses))
        return dependency

    return mark


class DocumentedRoute(APIRoute):
    """An APIRoute whose OpenAPI responses list the errors it can return (the rules above),
    sorted by status. Use it as the ``route_class`` of every router."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **options: Any) -> None:
        super().__init__(path, endpoint, **options)
        declared: Responses = self.responses
        implied = errors(*(status for status in implied_errors(self) if status not in declared))
        if implied:
            responses = dict(sorted({**implied, **declared}.items(), key=lambda kv: str(kv[0])))
            # FastAPI reads the responses while it builds the route: build it again with them.
            super().__init__(path, endpoint, **{**options, "responses": responses})


def implied_errors(route: APIRoute) -> set[HTTPStatus]:
    """What *route* can answer because of what it reads and depends on."""
    implied = {HTTPStatus.INTERNAL_SERVER_ERROR}
    if route.body_field is not None:
        implied |= {
            HTTPStatus.BAD_REQUEST,
            HTTPStatus.REQUEST_TIMEOUT,
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            HTTPStatus.UNPROCESSABLE_ENTITY,
        }
    for dependant in _dependants(route.dependant):
        if (
            dependant.path_params
            or dependant.query_params
            or dependant.header_params
            or dependant.cookie_params
        ):
            implied.add(HTTPStatus.UNPROCESSABLE_ENTITY)
        if isinstance(dependant.call, SecurityBase):
            implied.add(HTTPStatus.UNAUTHORIZED)
        implied |= getattr(dependant.call, _MARK, frozenset())
    return implied


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for dependency in dependant.dependencies:
        yield from _dependants(dependency)


class DocumentedApp(FastAPI):
    """A FastAPI app whose schema publishes the error codes as the enum ``ErrorCode``: the
    codes are the AppErrors' of every module the app imported, known once it is built."""

    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is None:
            publish_error_codes(super().openapi())
        return super().openapi()


def publish_error_codes(document: dict[str, Any]) -> None:
    """Add the ``ErrorCode`` enum to *document*, and point the errors' ``code`` at it."""
    schemas = document.get("components", {}).get("schemas", {})
    coded = [name for name in _CODED if name in schemas]
    if not coded:
        return
    schemas["ErrorCode"] = {
        "type": "string",
        "enum": error_codes(),
        "title": "ErrorCode",
        "description": "What went wrong, for programs: the `code` of every error body",
    }
    for name in coded:
        properties = schemas[name]["properties"]
        properties["code"] = {
            "$ref": "#/components/schemas/ErrorCode",
            **{key: properties["code"][key] for key in ("description", "examples")},
        }
    document["components"]["schemas"] = dict(sorted(schemas.items()))
