"""What a request may cost the service: its headers' count and size, and how long its body takes.

uvicorn bounds none of these itself, so each is checked through the ASGI client and through a real
uvicorn server on loopback, with httptools (what ``uvicorn[standard]`` runs) and with h11.
"""

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from {{ cookiecutter.package_name }}.config import Settings
from {{ cookiecutter.package_name }}.core.middleware import EdgeMiddleware

from ..factories import DEFAULT_PASSWORD
from ..support import GIVE_UP_SECONDS, assert_envelope, running, serve

REGISTER = "/api/v1/auth/register"
BODY_TIMEOUT_SECONDS = 0.2
PROTOCOLS = ["httptools", "h11"]


def too_many_headers(settings: Settings) -> dict[str, str]:
    return {f"x-filler-{n}": "v" for n in range(settings.max_request_header_count + 1)}


def one_large_header(settings: Settings) -> dict[str, str]:
    return {"x-large": "a" * (settings.max_request_header_bytes + 1)}


@pytest.mark.error_path
class TestThroughTheAsgiClient:
    @pytest.mark.parametrize(
        "oversized", [too_many_headers, one_large_header], ids=["count", "bytes"]
    )
    async def test_an_oversized_head_is_a_431_envelope(
        self,
        client: AsyncClient,
        settings: Settings,
        oversized: Callable[[Settings], dict[str, str]],
    ) -> None:
        response = await client.get("/health", headers=oversized(settings))

        assert response.status_code == 431
        assert_envelope(response.json(), "REQUEST_HEADER_FIELDS_TOO_LARGE")
        assert response.headers["x-request-id"]

    async def test_a_stalled_body_is_a_408_envelope_that_closes_the_connection(
        self, make_settings: Callable[..., Settings]
    ) -> None:
        async def stalls() -> AsyncIterator[bytes]:
            yield b'{"email": '
            await asyncio.Event().wait()  # the rest never comes

        settings = make_settings(request_body_timeout_seconds=BODY_TIMEOUT_SECONDS)
        async with serve(settings) as client, asyncio.timeout(GIVE_UP_SECONDS):
            response = await client.post(
                REGISTER, content=stalls(), headers={"Content-Type": "application/json"}
            )

        assert response.status_code == 408
        assert_envelope(response.json(), "REQUEST_TIMEOUT")
        assert response.headers["connection"] == "close"

    async def test_an_answer_before_the_body_was_read_closes_the_connection(
        self, client: AsyncClient
    ) -> None:
        """The unread rest of the body would otherwise keep the connection busy."""
        response = await client.post("/nowhere", content=b"x" * 100)

        assert response.status_code == 404
        assert response.headers["connection"] == "close"


async def test_a_body_read_to_the_end_keeps_the_connection(client: AsyncClient) -> None:
    response = await client.post(
        REGISTER, json={"email": "a@example.com", "password": DEFAULT_PASSWORD}
    )

    assert response.status_code == 201
    assert "connection" not in response.headers


def edge_around(app: ASGIApp, body_timeout_seconds: float = 10) -> EdgeMiddleware:
    return EdgeMiddleware(
        app,
        max_body_bytes=1024,
        max_header_count=100,
        max_header_bytes=16_384,
        body_timeout_seconds=body_timeout_seconds,
        access_log=lambda method, path, status, duration_ms: None,
    )


def post_scope(http_version: str, headers: list[tuple[bytes, bytes]]) -> Scope:
    return {
        "type": "http",
        "http_version": http_version,
        "method": "POST",
        "path": "/",
        "headers": [(b"host", b"x"), *headers],
    }


def recorder() -> tuple[list[Message], Send]:
    """What the app sends, and the ``send`` that records it."""
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    return sent, send


async def test_after_the_body_waiting_for_a_disconnect_has_no_deadline() -> None:
    """A streaming response listens for the client's disconnect for as long as it streams."""
    deadline = 0.05
    messages: list[Message] = [
        {"type": "http.request", "body": b"{}", "more_body": False},
        {"type": "http.disconnect"},
    ]

    async def client_receive() -> Message:
        if len(messages) == 1:  # the disconnect comes long after the body's deadline
            await asyncio.sleep(deadline * 4)
        return messages.pop(0)

    seen: list[Message] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.extend([await receive(), await receive()])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    sent, send = recorder()
    scope = post_scope("1.1", [(b"content-length", b"2")])
    await edge_around(app, deadline)(scope, client_receive, send)

    assert [message["type"] for message in seen] == ["http.request", "http.disconnect"]
    assert sent[0]["status"] == 200


async def test_http2_answers_carry_no_connection_header() -> None:
    """HTTP/2 forbids the header: the server resets the stream of an unread body by itself."""

    async def unread(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def client_receive() -> Message:
        return {"type": "http.request", "body": b"{}", "more_body": True}

    sent, send = recorder()
    # An HTTP/2 body needs no Content-Length.
    await edge_around(unread)(post_scope("2", []), client_receive, send)

    assert sent[0]["status"] == 200
    assert b"connection" not in dict(sent[0]["headers"])


# A real server, on loopback.


@pytest.fixture
def limited_settings(make_settings: Callable[..., Settings], engine: AsyncEngine) -> Settings:
    return make_settings(request_body_timeout_seconds=BODY_TIMEOUT_SECONDS)


async def exchange(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send *request* and read until the server closes the connection: the status, headers and
    body of its answer."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        async with asyncio.timeout(GIVE_UP_SECONDS):
            answer = await reader.read()  # to the end: returns once the server has closed
    finally:
        writer.close()
        await writer.wait_closed()
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in header_lines)
    return int(status_line.split()[1]), headers, body


def request_head(headers: dict[str, str], path: str = "/health", method: str = "GET") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: localhost"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@pytest.mark.error_path
@pytest.mark.parametrize("http", PROTOCOLS)
class TestThroughUvicorn:
    async def test_a_body_shorter_than_its_content_length_gets_408_and_the_connection_closes(
        self, limited_settings: Settings, http: str, project_root: Path
    ) -> None:
        head = {"Content-Type": "application/json", "Content-Length": "100"}
        async with running(limited_settings, http, project_root) as port:
            status, headers, body = await exchange(
                port, request_head(head, REGISTER, "POST") + b'{"email": '
            )

        assert status == 408
        assert_envelope(json.loads(body), "REQUEST_TIMEOUT")
        assert headers["connection"] == "close"

    @pytest.mark.parametrize(
        "oversized", [too_many_headers, one_large_header], ids=["count", "bytes"]
    )
    async def test_an_oversized_head_gets_431(
        self,
        limited_settings: Settings,
        http: str,
        project_root: Path,
        oversized: Callable[[Settings], dict[str, str]],
    ) -> None:
        head = {**oversized(limited_settings), "Connection": "close"}
        async with running(limited_settings, http, project_root) as port:
            status, _, body = await exchange(port, request_head(head))

        assert status == 431
        assert_envelope(json.loads(body), "REQUEST_HEADER_FIELDS_TOO_LARGE")


@pytest.mark.error_path
@pytest.mark.parametrize(
    "head",
    [
        {"X-Large": "a" * 1_000_000},
        {f"X-Filler-{n}": "v" for n in range(10_000)},
    ],
    ids=["one-megabyte-header", "ten-thousand-headers"],
)
async def test_the_reported_heads_get_431_from_httptools(
    limited_settings: Settings, head: dict[str, str], project_root: Path
) -> None:
    """Both were answered 200."""
    async with running(limited_settings, "httptools", project_root) as port:
        status, _, body = await exchange(port, request_head({**head, "Connection": "close"}))

    assert status == 431
    assert_envelope(json.loads(body), "REQUEST_HEADER_FIELDS_TOO_LARGE")
