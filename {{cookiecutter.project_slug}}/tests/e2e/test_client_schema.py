"""What generated clients read in the schema: named models, enums with named members, typed
errors whose codes are an enum, and the headers of a 401 and a 429."""

import keyword
import re
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any

import pytest
from httpx import AsyncClient

from {{ cookiecutter.package_name }}.core.errors import (
    AppError,
    InvalidRequestError,
    error_codes,
)

from ..support import assert_envelope, operations

MODEL_NAME = re.compile(r"[A-Z][A-Za-z0-9]*")
MEMBER_NAME = re.compile(r"[A-Z][A-Z0-9_]*")


def enums(node: Any) -> Iterator[dict[str, Any]]:
    """Every schema with an ``enum``, wherever it is."""
    if isinstance(node, dict):
        if "enum" in node:
            yield node
        for value in node.values():
            yield from enums(value)
    elif isinstance(node, list):
        for value in node:
            yield from enums(value)


def test_every_model_has_a_name_a_class_can_have(openapi_document: dict[str, Any]) -> None:
    """No `Body_auth-login` or `Page_ItemResponse_`: each is a model of its own."""
    names = set(openapi_document["components"]["schemas"])

    assert {name for name in names if not MODEL_NAME.fullmatch(name)} == set()
    assert {"LoginForm", "ItemPage", "ItemCursorPage", "UserPage"} <= names


def test_the_sort_parameter_names_its_members(openapi_document: dict[str, Any]) -> None:
    sort = openapi_document["components"]["schemas"]["ItemSort"]

    named = dict(zip(sort["x-enum-varnames"], sort["enum"], strict=True))
    assert named["CREATED_AT_DESC"] == "-created_at"
    assert named["TITLE"] == "title"


def test_every_enum_has_member_names_a_client_can_use(openapi_document: dict[str, Any]) -> None:
    """Either named (`x-enum-varnames`) or made of values that are names already."""
    for enum in enums(openapi_document):
        values = [str(value) for value in enum["enum"]]
        names = enum.get("x-enum-varnames", [value.upper() for value in values])
        assert len(names) == len(set(names)) == len(values), enum
        for name in names:
            assert MEMBER_NAME.fullmatch(name), (name, enum)
            assert not keyword.iskeyword(name.lower()), (name, enum)


def test_error_codes_are_an_enum_every_error_body_refers_to(
    openapi_document: dict[str, Any],
) -> None:
    schemas = openapi_document["components"]["schemas"]

    assert schemas["ErrorCode"]["enum"] == error_codes()
    for body in ("ErrorBody", "ValidationErrorBody"):
        assert schemas[body]["properties"]["code"]["$ref"] == "#/components/schemas/ErrorCode"
    # The details of a 422 are a model: a list of field errors.
    details = schemas["ValidationDetails"]["properties"]["errors"]
    assert details["items"] == {"$ref": "#/components/schemas/FieldError"}
    assert schemas["FieldError"]["required"] == ["field", "message", "type"]


def subclasses(cls: type[AppError]) -> Iterator[type[AppError]]:
    for subclass in cls.__subclasses__():
        yield subclass
        yield from subclasses(subclass)


def test_every_error_of_the_service_is_in_the_enum_and_every_422_is_typed(
    openapi_document: dict[str, Any],
) -> None:
    """What keeps the enum and the 422's model true as errors are added."""
    published = set(openapi_document["components"]["schemas"]["ErrorCode"]["enum"])
    service = AppError.__module__.partition(".")[0]
    errors = [error for error in subclasses(AppError) if error.__module__.startswith(service)]

    assert {error.code for error in errors} <= published
    for error in errors:
        if error.status_code == HTTPStatus.UNPROCESSABLE_ENTITY:
            assert issubclass(error, InvalidRequestError), error


@pytest.mark.parametrize(
    ("status", "header"),
    [
        pytest.param(HTTPStatus.UNAUTHORIZED, "WWW-Authenticate", id="401"),
        pytest.param(HTTPStatus.TOO_MANY_REQUESTS, "Retry-After", id="429"),
    ],
)
def test_the_headers_of_an_error_are_documented_wherever_it_is(
    openapi_document: dict[str, Any], status: HTTPStatus, header: str
) -> None:
    documented = [
        response
        for operation in operations(openapi_document).values()
        for code, response in operation["responses"].items()
        if int(code) == status
    ]

    assert documented
    for response in documented:
        assert response["headers"][header]["required"] is True


@pytest.mark.error_path
async def test_a_401_sends_the_documented_header(client: AsyncClient) -> None:
    response = await client.get("/api/v1/items")

    assert response.status_code == 401
    assert_envelope(response.json(), "UNAUTHORIZED")
    assert response.headers["www-authenticate"] == "Bearer"
