"""A 422 speaks the API's language: each invalid field once, named by the request's own path
(`body.priority`, `query.limit`), with a message a person can act on; its body is the typed
`ValidationErrorEnvelope` of the schema."""

from typing import Any

import pytest
from httpx import AsyncClient, Response

from {{ cookiecutter.package_name }}.core.errors import ValidationErrorEnvelope
from {{ cookiecutter.package_name }}.core.schemas import (
    PATTERN_MESSAGES,
    VISIBLE_TEXT,
)
from {{ cookiecutter.package_name }}.features.users.models import User

from ..factories import ItemFactory

ITEMS = "/api/v1/items"

pytestmark = pytest.mark.error_path


def problems(response: Response) -> list[dict[str, Any]]:
    """The field errors of a 422, checked against the schema's model of it."""
    assert response.status_code == 422, response.text
    envelope = ValidationErrorEnvelope.model_validate(response.json())
    return [problem.model_dump() for problem in envelope.error.details.errors]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        pytest.param(
            {"priority": True},
            {"field": "body.priority", "message": "Input should be a JSON number"},
            id="boolean-priority",
        ),
        pytest.param(
            {"priority": 9},
            {"field": "body.priority", "message": "Input should be less than or equal to 5"},
            id="priority-too-high",
        ),
        pytest.param(
            {"status": "someday"},
            {"field": "body.status", "message": "Input should be 'todo', 'in_progress' or 'done'"},
            id="unknown-status",
        ),
        pytest.param(
            {"title": None},
            {
                "field": "body.title",
                "message": "Leave the field out to keep its value; it cannot be null",
            },
            id="null-title",
        ),
    ],
)
async def test_an_invalid_optional_field_is_one_error_at_its_own_path(
    client: AsyncClient,
    user: User,
    user_headers: dict[str, str],
    items: ItemFactory,
    changes: dict[str, Any],
    expected: dict[str, str],
) -> None:
    """`X | None` fields fail once, not once per member of the union (no `body.priority.none`),
    and pydantic's names for those members (`function-before[...]`) stay out of the path."""
    item = await items.create(user)

    response = await client.patch(f"{ITEMS}/{item.id}", json=changes, headers=user_headers)

    [problem] = problems(response)
    assert {key: problem[key] for key in ("field", "message")} == expected


async def test_a_blank_title_is_explained_in_words_not_as_a_regex(
    client: AsyncClient, user_headers: dict[str, str]
) -> None:
    response = await client.post(ITEMS, json={"title": "   "}, headers=user_headers)

    [problem] = problems(response)
    assert problem == {
        "field": "body.title",
        "message": PATTERN_MESSAGES[VISIBLE_TEXT],
        "type": "string_pattern_mismatch",
    }
    assert VISIBLE_TEXT not in response.text


async def test_each_invalid_field_is_reported_once_in_the_order_sent(
    client: AsyncClient, user_headers: dict[str, str]
) -> None:
    body = {"title": "", "priority": "high", "owner_id": "someone"}

    response = await client.post(ITEMS, json=body, headers=user_headers)

    assert [problem["field"] for problem in problems(response)] == [
        "body.title",
        "body.priority",
        "body.owner_id",
    ]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        pytest.param(
            {"limit": 0},
            {"field": "query.limit", "message": "Input should be greater than or equal to 1"},
            id="limit",
        ),
        pytest.param(
            {"owner_id": "not-a-uuid"},
            {"field": "query.owner_id", "message": "Input should be a valid UUID"},
            id="owner-id",
        ),
    ],
)
async def test_a_query_parameter_is_named_by_where_it_was_sent(
    client: AsyncClient,
    user_headers: dict[str, str],
    params: dict[str, Any],
    expected: dict[str, str],
) -> None:
    response = await client.get(f"{ITEMS}/cursor", params=params, headers=user_headers)

    [problem] = problems(response)
    assert {key: problem[key] for key in ("field", "message")} == expected


async def test_a_cursor_the_service_never_issued_is_a_field_error_too(
    client: AsyncClient, user_headers: dict[str, str]
) -> None:
    response = await client.get(f"{ITEMS}/cursor", params={"cursor": "abc"}, headers=user_headers)

    assert problems(response) == [
        {"field": "query.cursor", "message": "The cursor is invalid", "type": "invalid_cursor"}
    ]
    assert response.json()["error"]["code"] == "INVALID_REQUEST"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(b"[1, 2]", "Input should be a JSON object", id="an-array"),
        pytest.param(b"{not json", "The body is not valid JSON", id="not-json"),
        pytest.param(b"", "A body is required", id="no-body"),
    ],
)
async def test_a_body_that_is_not_an_object_is_one_error_on_the_body(
    client: AsyncClient, user_headers: dict[str, str], content: bytes, expected: str
) -> None:
    headers = {**user_headers, "Content-Type": "application/json"}

    response = await client.post(ITEMS, content=content, headers=headers)

    [problem] = problems(response)
    assert (problem["field"], problem["message"]) == ("body", expected)
    assert "ItemCreate" not in response.text  # no class names


async def test_a_form_field_is_named_like_a_json_one(client: AsyncClient) -> None:
    response = await client.post("/api/v1/auth/login", data={"username": "a@example.com"})

    [problem] = problems(response)
    assert (problem["field"], problem["type"]) == ("body.password", "missing")
