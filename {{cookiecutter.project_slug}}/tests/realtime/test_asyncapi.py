"""The AsyncAPI document describes the frames the endpoint really sends and accepts."""

from collections.abc import Callable
from typing import Any

import jsonschema_rs
import pytest
from httpx import AsyncClient

from {{ cookiecutter.package_name }}.config import Settings
from {{ cookiecutter.package_name }}.realtime.frames import CloseCode

from ..support import serve
from .support import next_frame, opened, send


def payload_validator(document: dict[str, Any], message: str) -> Any:
    """A validator of one message's payload, its references resolved within the document."""
    schema = {
        **document["components"]["messages"][message]["payload"],
        "components": document["components"],
    }
    return jsonschema_rs.validator_for(schema)


async def test_the_document_lists_every_frame_and_close_code(client: AsyncClient) -> None:
    response = await client.get("/asyncapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["asyncapi"] == "3.0.0"
    assert document["channels"]["events"]["address"] == "/api/v1/ws"
    received = document["operations"]["receiveClientFrames"]["messages"]
    sent = document["operations"]["sendServerFrames"]["messages"]
    assert len(received) == 6
    assert len(sent) == 8
    for code in CloseCode:
        assert str(code.value) in document["info"]["description"]


async def test_what_the_server_sends_validates_against_the_document(
    client: AsyncClient, ws_url: str, token: str
) -> None:
    document = (await client.get("/asyncapi.json")).json()
    async with opened(ws_url, token) as connection:
        welcome = await next_frame(connection)
        await send(connection, type="join", room="lobby")
        joined = await next_frame(connection)
        await send(connection, type="dance")
        error = await next_frame(connection)
    for frame, message in ((welcome, "Welcome"), (joined, "Joined"), (error, "ErrorFrame")):
        payload_validator(document, message).validate(frame)


async def test_a_frame_the_server_refuses_does_not_validate_against_the_document(
    client: AsyncClient,
) -> None:
    document = (await client.get("/asyncapi.json")).json()
    validator = payload_validator(document, "Join")
    assert validator.is_valid({"type": "join", "room": "lobby"})
    assert not validator.is_valid({"type": "join", "room": "no spaces"})
    assert not validator.is_valid({"type": "join"})


@pytest.mark.error_path
async def test_no_document_where_the_docs_are_off(make_settings: Callable[..., Settings]) -> None:
    async with serve(make_settings(docs_enabled=False)) as client:
        assert (await client.get("/asyncapi.json")).status_code == 404
