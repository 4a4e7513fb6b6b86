"""A file's row and its object come and go together: an upload cut off half-way, or one whose
row cannot be written, leaves neither; a deleted user's files go with them."""

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from {{ cookiecutter.package_name }}.config import Settings
from {{ cookiecutter.package_name }}.features.users.models import User
from {{ cookiecutter.package_name }}.files.models import StoredFile
from {{ cookiecutter.package_name }}.files.repository import FileRepository

from ..factories import UserFactory
from ..support import assert_envelope, bearer, eventually, login, running
from .support import FILES, png, stored_objects, upload


async def count_files(engine: AsyncEngine) -> int:
    async with AsyncSession(engine) as session:
        return await session.scalar(select(func.count()).select_from(StoredFile)) or 0


@pytest.mark.error_path
async def test_an_upload_cut_off_half_way_leaves_no_object_and_no_row(
    make_settings: Callable[..., Settings],
    users: UserFactory,
    engine: AsyncEngine,
    files_dir: Path,
    project_root: Path,
) -> None:
    """Through a real server: the client sends the head and half the file, then goes away.
    While the body arrives it is already in storage (streamed, not buffered), and once the
    client is gone nothing of it is left."""
    user = await users.create()
    boundary = "cutoffboundary"
    content = png(2_000_000)
    opening = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\n'
        "Content-Type: image/png\r\n\r\n"
    ).encode()
    closing = f"\r\n--{boundary}--\r\n".encode()
    async with running(make_settings(), "httptools", project_root) as port:
        tokens = await _login(port, user.email)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        head = (
            f"POST {FILES} HTTP/1.1\r\nHost: localhost\r\n"
            f"Authorization: Bearer {tokens}\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
            f"Content-Length: {len(opening) + len(content) + len(closing)}\r\n\r\n"
        ).encode()
        writer.write(head + opening + content[: len(content) // 2])
        await writer.drain()
        await eventually(lambda: bool(stored_objects(files_dir)), seconds=10)
        writer.transport.abort()  # no FIN handshake niceties: the connection is simply gone

        await eventually(lambda: not stored_objects(files_dir), seconds=10)
    assert await count_files(engine) == 0
    del reader


@pytest.mark.error_path
async def test_an_upload_whose_row_cannot_be_written_leaves_no_object(
    client: AsyncClient,
    user_headers: dict[str, str],
    files_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def unavailable(self: FileRepository, stored: StoredFile) -> StoredFile:
        raise OperationalError("INSERT", {}, ConnectionRefusedError("the database is down"))

    monkeypatch.setattr(FileRepository, "add", unavailable)
    response = await upload(client, user_headers, png())

    assert response.status_code == 503
    assert_envelope(response.json(), "SERVICE_UNAVAILABLE")
    assert stored_objects(files_dir) == []


async def test_deleting_a_user_deletes_their_files(
    client: AsyncClient,
    user: User,
    user_headers: dict[str, str],
    users: UserFactory,
    session: AsyncSession,
    engine: AsyncEngine,
    files_dir: Path,
) -> None:
    other_headers = await bearer(client, await users.create())
    for owner_headers in (user_headers, user_headers, other_headers):
        response = await upload(client, owner_headers, png())
        assert response.status_code == 201

    await session.delete(await session.get_one(User, user.id))
    await session.commit()

    await eventually(lambda: len(stored_objects(files_dir)) == 1)
    assert await count_files(engine) == 1


async def _login(port: int, email: str) -> str:
    async with AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        tokens = await login(client, email)
    return str(tokens["access_token"])


@pytest.mark.error_path
async def test_an_upload_storage_cannot_take_is_a_503_and_leaves_no_row(
    client: AsyncClient, user_headers: dict[str, str], files_dir: Path, engine: AsyncEngine
) -> None:
    """The storage fails (here its directory for partial files is gone and a file stands in its
    way, as a full or broken disk would fail): the client is told to try later."""
    partial = files_dir / ".partial"
    partial.rmdir()
    partial.write_bytes(b"")

    response = await upload(client, user_headers, png())

    assert response.status_code == 503
    assert_envelope(response.json(), "STORAGE_UNAVAILABLE")
    assert await count_files(engine) == 0


@pytest.mark.error_path
async def test_a_download_storage_cannot_serve_is_a_503(
    client: AsyncClient, user_headers: dict[str, str], files_dir: Path
) -> None:
    file_id = (await upload(client, user_headers, png())).json()["id"]
    (stored,) = stored_objects(files_dir)
    (files_dir / stored).unlink()
    (files_dir / stored).mkdir()  # unreadable as a file

    response = await client.get(f"{FILES}/{file_id}/content", headers=user_headers)

    assert response.status_code == 503
    assert_envelope(response.json(), "STORAGE_UNAVAILABLE")
