"""A short flow through a Python client generated from the committed openapi.json, against the
service running for real: what `make client-check` (and CI) runs, so that a schema change that
breaks generated clients fails before release.

    uv run python scripts/client_flow.py GENERATED_DIR

GENERATED_DIR holds the package openapi-python-client wrote (``--meta none``) as ``api_client``.
The service runs on a fresh SQLite file in a temporary directory, migrated first, on a free
loopback port. The flow: register, log in, create items, a sorted page (a named enum member), a
cursor page, and the typed errors a client handles (a 422 with its field errors, a 404, a 401).
"""

import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from http import HTTPStatus
from pathlib import Path
from typing import Any

import httpx

START_SECONDS = 30.0


def free_port() -> int:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        port: int = listener.getsockname()[1]
        return port


def serve(directory: Path, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{directory / 'flow.db'}",
        "ALLOWED_HOSTS": "127.0.0.1",
    }
    subprocess.run(["alembic", "upgrade", "head"], env=env, check=True)  # noqa: S607
    log = (directory / "server.log").open("wb")  # shown if the flow fails
    server = subprocess.Popen(  # noqa: S603 - the project's own server
        ["serve", "--host", "127.0.0.1", "--port", str(port), "--no-access-log"],  # noqa: S607
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health").status_code == HTTPStatus.OK:
                return server
        except httpx.TransportError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit(f"the service did not answer /health within {START_SECONDS:.0f} s")


def expect(response: Any, status: HTTPStatus, parsed: type) -> Any:
    """The response's parsed body, after checking its status and the type the client gave it."""
    if response.status_code != status or not isinstance(response.parsed, parsed):
        raise SystemExit(
            f"expected {status} as {parsed.__name__}, got {response.status_code} as "
            f"{type(response.parsed).__name__}: {response.content[:500]!r}"
        )
    return response.parsed


def flow(base_url: str) -> None:
    from api_client import AuthenticatedClient, Client  # noqa: PLC0415 - generated at run time
    from api_client.api.auth import auth_login, auth_register  # noqa: PLC0415
    from api_client.api.items import (  # noqa: PLC0415
        items_create_item,
        items_list_items,
        items_list_items_by_cursor,
        items_read_item,
    )
    from api_client.models import (  # noqa: PLC0415
        ErrorEnvelope,
        ItemCreate,
        ItemCursorPage,
        ItemPage,
        ItemResponse,
        ItemSort,
        LoginForm,
        RegisterRequest,
        TokenPair,
        UserResponse,
        ValidationErrorEnvelope,
    )

    anonymous = Client(base_url=base_url)
    email, password = f"flow-{uuid.uuid4().hex[:8]}@example.com", "a long enough passphrase 42"
    body = RegisterRequest(email=email, password=password)
    expect(
        auth_register.sync_detailed(client=anonymous, body=body), HTTPStatus.CREATED, UserResponse
    )
    login = LoginForm(username=email, password=password)
    tokens = expect(
        auth_login.sync_detailed(client=anonymous, body=login), HTTPStatus.OK, TokenPair
    )
    client = AuthenticatedClient(base_url=base_url, token=tokens.access_token)

    for title in ("beta", "alpha", "gamma"):
        create = items_create_item.sync_detailed(client=client, body=ItemCreate(title=title))
        expect(create, HTTPStatus.CREATED, ItemResponse)
    page = expect(
        items_list_items.sync_detailed(client=client, sort=ItemSort.TITLE_DESC),
        HTTPStatus.OK,
        ItemPage,
    )
    if [item.title for item in page.items] != ["gamma", "beta", "alpha"]:
        raise SystemExit(f"sorted page out of order: {[item.title for item in page.items]}")
    first = items_list_items_by_cursor.sync_detailed(client=client, limit=2)
    cursor_page = expect(first, HTTPStatus.OK, ItemCursorPage)
    second = items_list_items_by_cursor.sync_detailed(
        client=client, limit=2, cursor=cursor_page.next_cursor
    )
    if len(expect(second, HTTPStatus.OK, ItemCursorPage).items) != 1:
        raise SystemExit("the cursor's second page should hold the third item")

    blank = items_create_item.sync_detailed(client=client, body=ItemCreate(title=" "))
    invalid = expect(blank, HTTPStatus.UNPROCESSABLE_ENTITY, ValidationErrorEnvelope)
    if [error.field for error in invalid.error.details.errors] != ["body.title"]:
        raise SystemExit(f"422 should name body.title: {invalid.to_dict()}")
    missing = items_read_item.sync_detailed(uuid.uuid4(), client=client)
    expect(missing, HTTPStatus.NOT_FOUND, ErrorEnvelope)
    stranger = AuthenticatedClient(base_url=base_url, token="not-a-token")  # noqa: S106
    refused = items_list_items.sync_detailed(client=stranger)
    expect(refused, HTTPStatus.UNAUTHORIZED, ErrorEnvelope)


def main(generated: Path) -> None:
    sys.path.insert(0, str(generated.resolve()))
    port = free_port()
    with tempfile.TemporaryDirectory() as scratch:
        server = serve(Path(scratch), port)
        try:
            flow(f"http://127.0.0.1:{port}")
        except BaseException:
            sys.stderr.write((Path(scratch) / "server.log").read_text(errors="replace")[-5000:])
            raise
        finally:
            server.terminate()
            server.wait(timeout=10)
    sys.stdout.write(
        "client flow: register, login, items, sorted and cursor pages, typed errors: ok\n"
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]))
