"""The OpenAPI document: each operation lists the statuses it can return, and only those."""

from http import HTTPStatus
from typing import Annotated, Any

from fastapi import Depends, FastAPI
from fastapi.routing import APIRoute
from pydantic import BaseModel

from {{ cookiecutter.package_name }}.core.openapi import (
    DocumentedRoute,
    errors,
    fails_with,
)
from {{ cookiecutter.package_name }}.dependencies import get_session
from {{ cookiecutter.package_name }}.features.auth.dependencies import CurrentUser
from {{ cookiecutter.package_name }}.main import pack_routers

from ..support import operations

# The rules (core/openapi.py): 500 everywhere; a body adds 400, 408, 413 and 422; parameters 422; a
# bearer token 401; the database 503; the rest is declared by the route. No operation can
# answer 405: a method a path does not offer is not one of its operations.
EXPECTED_STATUSES: dict[tuple[str, str], set[int]] = {
    ("GET", "/health"): {200, 500},
    ("GET", "/ready"): {200, 500, 503},
    ("POST", "/api/v1/auth/register"): {201, 400, 408, 409, 413, 422, 429, 500, 503},
    ("POST", "/api/v1/auth/login"): {200, 400, 401, 408, 413, 422, 429, 500, 503},
    ("POST", "/api/v1/auth/refresh"): {200, 400, 401, 408, 413, 422, 500, 503},
    ("POST", "/api/v1/auth/logout"): {204, 400, 401, 408, 413, 422, 500, 503},
    ("GET", "/api/v1/users/me"): {200, 401, 404, 500, 503},
    ("PATCH", "/api/v1/users/me"): {200, 400, 401, 404, 408, 413, 422, 500, 503},
    ("GET", "/api/v1/users"): {200, 401, 403, 422, 500, 503},
    ("PATCH", "/api/v1/users/{user_id}/role"): {
        200,
        400,
        401,
        403,
        404,
        408,
        409,
        413,
        422,
        500,
        503,
    },
    ("PATCH", "/api/v1/users/{user_id}/active"): {
        200,
        400,
        401,
        403,
        404,
        408,
        409,
        413,
        422,
        500,
        503,
    },
    ("POST", "/api/v1/items"): {201, 400, 401, 408, 413, 422, 500, 503},
    ("GET", "/api/v1/items"): {200, 401, 403, 422, 500, 503},
    ("GET", "/api/v1/items/cursor"): {200, 401, 403, 422, 500, 503},
    # FastAPI documents a 422 wherever there is a parameter, even one its route already checks.
    ("GET", "/api/v1/items/{item_id}"): {200, 401, 404, 422, 500, 503},
    ("PATCH", "/api/v1/items/{item_id}"): {200, 400, 401, 404, 408, 413, 422, 500, 503},
    ("DELETE", "/api/v1/items/{item_id}"): {204, 401, 404, 422, 500, 503},
}
ENVELOPE = {"$ref": "#/components/schemas/ErrorEnvelope"}
VALIDATION_ENVELOPE = {"$ref": "#/components/schemas/ValidationErrorEnvelope"}


def documented_statuses(document: dict[str, Any]) -> dict[tuple[str, str], set[int]]:
    return {
        operation: {int(status) for status in described["responses"]}
        for operation, described in operations(document).items()
    }


def pack_operations() -> set[tuple[str, str]]:
    """The operations of this bake's packs (main.py mounts them under /api/v1): each pack's
    tests check its own."""
    return {
        (method, f"/api/v1{route.path_format}")
        for router in pack_routers()
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods or ()
    }


def test_each_operation_documents_exactly_the_statuses_it_can_return(
    openapi_document: dict[str, Any],
) -> None:
    core = {
        operation: statuses
        for operation, statuses in documented_statuses(openapi_document).items()
        if operation not in pack_operations()
    }
    assert core == EXPECTED_STATUSES


def test_every_documented_error_shows_the_envelope(openapi_document: dict[str, Any]) -> None:
    for operation, described in operations(openapi_document).items():
        for status, response in described["responses"].items():
            if int(status) < HTTPStatus.BAD_REQUEST:
                continue
            content = response["content"]["application/json"]
            typed = (
                VALIDATION_ENVELOPE if int(status) == HTTPStatus.UNPROCESSABLE_ENTITY else ENVELOPE
            )
            assert content["schema"] == typed, (operation, status)
            assert content["example"]["error"].keys() == {"code", "message", "details"}
    # FastAPI's own validation error body, which the service never sends, is not described.
    assert "HTTPValidationError" not in openapi_document["components"]["schemas"]


def test_the_api_description_covers_what_no_operation_returns(
    openapi_document: dict[str, Any],
) -> None:
    description = openapi_document["info"]["description"]

    for refusal in ("400", "`INVALID_HOST`", "404", "405", "`Allow`", "413", "431"):
        assert refusal in description


class Note(BaseModel):
    text: str


def test_a_new_route_documents_what_its_body_and_dependencies_imply() -> None:
    """What a newcomer's routes get from the rules, and from one declaration."""

    @fails_with(HTTPStatus.TOO_MANY_REQUESTS)
    async def throttled() -> None:
        return None

    async def guarded(_: Annotated[None, Depends(throttled)]) -> None:
        return None

    app = FastAPI()
    app.router.route_class = DocumentedRoute

    @app.get("/plain")
    async def plain() -> None:
        return None

    @app.post("/notes", responses=errors(HTTPStatus.CONFLICT))
    async def add_note(note: Note, _: Annotated[None, Depends(guarded)]) -> None:
        return None

    assert documented_statuses(app.openapi()) == {
        ("GET", "/plain"): {200, 500},
        ("POST", "/notes"): {200, 400, 408, 409, 413, 422, 429, 500},
    }


def test_a_route_that_needs_only_the_caller_opens_no_session_and_documents_503() -> None:
    """The current user is read from the database on a cache miss, so its dependency documents
    the 503 itself: it depends on no session, which a route that needs none would open."""
    app = FastAPI()
    app.router.route_class = DocumentedRoute

    @app.get("/whoami")
    async def whoami(_: CurrentUser) -> None:
        return None

    route = next(route for route in app.routes if isinstance(route, APIRoute))
    pending, calls = [route.dependant], set()
    while pending:
        dependant = pending.pop()
        calls.add(dependant.call)
        pending.extend(dependant.dependencies)
    assert get_session not in calls
    assert documented_statuses(app.openapi()) == {("GET", "/whoami"): {200, 401, 500, 503}}
