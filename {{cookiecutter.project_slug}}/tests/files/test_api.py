"""The files API on local storage, through the ASGI client: uploads are checked and stored
under generated keys, downloads are attachments with ranges, owners see only their own."""

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from urllib.parse import quote

import pytest
from httpx import AsyncClient

from {{ cookiecutter.package_name }}.config import Settings

from ..factories import UserFactory
from ..support import SECURITY_HEADERS, assert_envelope, bearer, serve
from .support import FILES, HTML, PDF, SCRIPT, SVG, png, stored_objects, upload


async def test_an_upload_is_stored_under_a_generated_key_with_its_sniffed_type(
    client: AsyncClient, user_headers: dict[str, str], files_dir: Path
) -> None:
    content = png(5000)

    response = await upload(client, user_headers, content, "holiday.png", "text/plain")

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["filename"] == "holiday.png"
    assert body["content_type"] == "image/png"  # from the bytes, not the client's text/plain
    assert body["size"] == len(content)
    objects = stored_objects(files_dir)
    assert len(objects) == 1
    assert "holiday" not in objects[0]


async def test_a_pdf_is_accepted(client: AsyncClient, user_headers: dict[str, str]) -> None:
    response = await upload(client, user_headers, PDF, "report.pdf", "application/pdf")

    assert response.status_code == 201, response.text
    assert response.json()["content_type"] == "application/pdf"


async def test_the_owner_lists_reads_and_downloads_their_file(
    client: AsyncClient, user_headers: dict[str, str]
) -> None:
    content = png(3000)
    created = (await upload(client, user_headers, content, "café ☕.png")).json()

    listed = await client.get(FILES, headers=user_headers)
    read = await client.get(f"{FILES}/{created['id']}", headers=user_headers)
    download = await client.get(f"{FILES}/{created['id']}/content", headers=user_headers)

    assert listed.status_code == 200
    assert [f["id"] for f in listed.json()["items"]] == [created["id"]]
    assert listed.json()["total"] == 1
    assert read.json() == created
    assert download.status_code == 200
    assert download.content == content
    assert download.headers["content-type"] == "image/png"
    assert download.headers["content-length"] == str(len(content))
    assert download.headers["accept-ranges"] == "bytes"
    disposition = download.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote('café ☕.png')}" in disposition
    for name, value in SECURITY_HEADERS.items():
        assert download.headers[name] == value


async def test_files_are_listed_newest_first_a_page_at_a_time(
    client: AsyncClient, user_headers: dict[str, str]
) -> None:
    ids = [(await upload(client, user_headers, png(100 + n))).json()["id"] for n in range(3)]

    first = await client.get(FILES, headers=user_headers, params={"page_size": 2})
    second = await client.get(FILES, headers=user_headers, params={"page_size": 2, "page": 2})

    assert [f["id"] for f in first.json()["items"] + second.json()["items"]] == ids[::-1]
    assert first.json()["pages"] == 2


async def test_a_file_of_exactly_the_limit_is_accepted(
    make_settings: Callable[..., Settings], users: UserFactory
) -> None:
    async with serve(make_settings(max_upload_bytes=4096)) as client:
        headers = await bearer(client, await users.create())
        response = await upload(client, headers, png(4096))

    assert response.status_code == 201, response.text
    assert response.json()["size"] == 4096


@pytest.mark.parametrize(
    ("header", "status", "expected", "content_range"),
    [
        ("bytes=0-9", 206, slice(0, 10), "bytes 0-9/2000"),
        ("bytes=1990-", 206, slice(1990, 2000), "bytes 1990-1999/2000"),
        ("bytes=-5", 206, slice(1995, 2000), "bytes 1995-1999/2000"),
        ("bytes=100-100000", 206, slice(100, 2000), "bytes 100-1999/2000"),
        ("bytes=0-9, 20-29", 200, slice(0, 2000), None),  # several ranges: the whole file
        ("items=0-9", 200, slice(0, 2000), None),  # a unit we do not serve: the whole file
    ],
)
async def test_a_range_is_served_as_206_with_its_content_range(
    client: AsyncClient,
    user_headers: dict[str, str],
    header: str,
    status: int,
    expected: slice,
    content_range: str | None,
) -> None:
    content = png(2000)
    file_id = (await upload(client, user_headers, content)).json()["id"]

    response = await client.get(
        f"{FILES}/{file_id}/content", headers={**user_headers, "Range": header}
    )

    assert response.status_code == status
    assert response.content == content[expected]
    assert response.headers["content-length"] == str(len(content[expected]))
    assert response.headers.get("content-range") == content_range


async def test_admins_see_everyones_files(
    client: AsyncClient, user_headers: dict[str, str], admin_headers: dict[str, str]
) -> None:
    file_id = (await upload(client, user_headers, png())).json()["id"]

    listed = await client.get(FILES, headers=admin_headers)
    download = await client.get(f"{FILES}/{file_id}/content", headers=admin_headers)

    assert [f["id"] for f in listed.json()["items"]] == [file_id]
    assert download.status_code == 200


async def test_a_deleted_file_and_its_object_are_gone(
    client: AsyncClient, user_headers: dict[str, str], files_dir: Path
) -> None:
    file_id = (await upload(client, user_headers, png())).json()["id"]

    deleted = await client.delete(f"{FILES}/{file_id}", headers=user_headers)

    assert deleted.status_code == 204
    assert (await client.get(f"{FILES}/{file_id}", headers=user_headers)).status_code == 404
    assert stored_objects(files_dir) == []


@pytest.mark.parametrize(
    "name",
    [
        "../../etc/passwd",
        "..\\..\\windows\\x.png",
        "evil\x00.png",
        "a" * 4096 + ".png",
        "invoice\u202egnp.exe",
        "/absolute/path.png",
    ],
)
async def test_a_hostile_filename_never_reaches_storage_and_is_shown_sanitised(
    client: AsyncClient, user_headers: dict[str, str], files_dir: Path, name: str
) -> None:
    response = await upload(client, user_headers, png(), name)

    assert response.status_code == 201, response.text
    shown = response.json()["filename"]
    for forbidden in ("/", "\\", "\x00", "\u202e", ".."):
        assert forbidden not in shown
    assert len(shown.encode()) <= 255
    (stored,) = stored_objects(files_dir)
    assert Path(stored).name.isalnum()  # the generated key, nothing of the client's name


# Sad paths.


@pytest.mark.error_path
@pytest.mark.parametrize(
    ("content", "name", "declared"),
    [
        (SCRIPT, "cat.png", "image/png"),
        (SVG, "logo.svg", "image/svg+xml"),
        (HTML, "page.png", "image/png"),
        (b"MZ\x90\x00" + b"\x00" * 200, "setup.pdf", "application/pdf"),
        (b"just some text\n" * 20, "notes.png", "image/png"),
    ],
    ids=["script-named-png", "svg", "html-named-png", "executable-named-pdf", "text"],
)
async def test_contents_of_a_type_not_allowed_get_415_and_leave_nothing(
    client: AsyncClient,
    user_headers: dict[str, str],
    files_dir: Path,
    content: bytes,
    name: str,
    declared: str,
) -> None:
    response = await upload(client, user_headers, content, name, declared)

    assert response.status_code == 415
    assert_envelope(response.json(), "UNSUPPORTED_FILE_TYPE")
    assert "image/png" in response.json()["error"]["details"]["allowed"]
    assert stored_objects(files_dir) == []
    assert (await client.get(FILES, headers=user_headers)).json()["total"] == 0


@pytest.mark.error_path
async def test_an_empty_file_gets_422_and_leaves_nothing(
    client: AsyncClient, user_headers: dict[str, str], files_dir: Path
) -> None:
    response = await upload(client, user_headers, b"")

    assert response.status_code == 422
    assert_envelope(response.json(), "EMPTY_FILE")
    assert stored_objects(files_dir) == []


@pytest.mark.error_path
async def test_one_byte_over_the_limit_gets_413_and_leaves_nothing(
    make_settings: Callable[..., Settings], users: UserFactory, files_dir: Path
) -> None:
    async with serve(make_settings(max_upload_bytes=4096)) as client:
        headers = await bearer(client, await users.create())
        response = await upload(client, headers, png(4097))
        listed = await client.get(FILES, headers=headers)

    assert response.status_code == 413
    assert_envelope(response.json(), "FILE_TOO_LARGE")
    assert response.json()["error"]["details"] == {"max_bytes": 4096}
    assert stored_objects(files_dir) == []
    assert listed.json()["total"] == 0


@pytest.mark.error_path
async def test_a_body_far_over_the_limit_is_refused_before_it_is_read(
    make_settings: Callable[..., Settings], users: UserFactory, files_dir: Path
) -> None:
    async with serve(make_settings(max_upload_bytes=4096)) as client:
        headers = await bearer(client, await users.create())
        response = await upload(client, headers, png(300_000))

    assert response.status_code == 413
    assert_envelope(response.json(), "REQUEST_ENTITY_TOO_LARGE")
    assert stored_objects(files_dir) == []


@pytest.mark.error_path
async def test_a_streamed_body_without_a_length_is_counted_as_it_arrives(
    make_settings: Callable[..., Settings], users: UserFactory, files_dir: Path
) -> None:
    """No Content-Length to refuse up front (chunked): the cap holds on the bytes themselves."""
    boundary = "b0undary"
    content = png(100_000)

    async def body() -> AsyncIterator[bytes]:
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="x.png"\r\n'
            "Content-Type: image/png\r\n\r\n"
        ).encode()
        for start in range(0, len(content), 8192):
            yield content[start : start + 8192]
        yield f"\r\n--{boundary}--\r\n".encode()

    async with serve(make_settings(max_upload_bytes=50_000)) as client:
        headers = await bearer(client, await users.create())
        response = await client.post(
            FILES,
            headers={**headers, "Content-Type": f"multipart/form-data; boundary={boundary}"},
            content=body(),
        )

    assert response.status_code == 413
    assert_envelope(response.json(), "FILE_TOO_LARGE")
    assert stored_objects(files_dir) == []


@pytest.mark.error_path
@pytest.mark.parametrize(
    ("make_request"),
    [
        lambda: {"json": {"file": "x"}},
        lambda: {"files": {"other": ("x.png", png(), "image/png")}},
        lambda: {
            "files": [
                ("file", ("a.png", png(), "image/png")),
                ("file", ("b.png", png(), "image/png")),
            ]
        },
        lambda: {
            "headers": {"Content-Type": "multipart/form-data; boundary=xyz"},
            "content": b"--xyz\r\nthis is not a part",
        },
    ],
    ids=["json", "no-file-field", "two-files", "malformed"],
)
async def test_a_body_that_is_not_one_file_gets_400_and_leaves_nothing(
    client: AsyncClient,
    user_headers: dict[str, str],
    files_dir: Path,
    make_request: Callable[[], dict[str, object]],
) -> None:
    options = make_request()
    headers = {**user_headers, **options.pop("headers", {})}  # type: ignore[dict-item]

    response = await client.post(FILES, headers=headers, **options)  # type: ignore[arg-type]

    assert response.status_code == 400, response.text
    assert_envelope(response.json(), "INVALID_MULTIPART")
    assert stored_objects(files_dir) == []
    assert (await client.get(FILES, headers=user_headers)).json()["total"] == 0


@pytest.mark.error_path
@pytest.mark.parametrize("header", ["bytes=5000-", "bytes=2000-2001", "bytes=-0", "bytes=x-y"])
async def test_a_range_outside_the_file_gets_416_with_the_size(
    client: AsyncClient, user_headers: dict[str, str], header: str
) -> None:
    file_id = (await upload(client, user_headers, png(2000))).json()["id"]

    response = await client.get(
        f"{FILES}/{file_id}/content", headers={**user_headers, "Range": header}
    )

    assert response.status_code == 416
    assert_envelope(response.json(), "RANGE_NOT_SATISFIABLE")
    assert response.headers["content-range"] == "bytes */2000"


@pytest.mark.error_path
async def test_a_file_whose_object_is_missing_is_a_404(
    client: AsyncClient, user_headers: dict[str, str], files_dir: Path
) -> None:
    file_id = (await upload(client, user_headers, png())).json()["id"]
    for stored in stored_objects(files_dir):
        (files_dir / stored).unlink()

    response = await client.get(f"{FILES}/{file_id}/content", headers=user_headers)

    assert response.status_code == 404
    assert_envelope(response.json(), "NOT_FOUND")


@pytest.mark.error_path
async def test_an_unknown_file_is_a_404(client: AsyncClient, user_headers: dict[str, str]) -> None:
    unknown = "00000000-0000-4000-8000-000000000000"

    for path in (f"{FILES}/{unknown}", f"{FILES}/{unknown}/content"):
        response = await client.get(path, headers=user_headers)
        assert response.status_code == 404
        assert_envelope(response.json(), "NOT_FOUND")
