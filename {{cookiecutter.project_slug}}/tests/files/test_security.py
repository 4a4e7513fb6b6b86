"""The files pack's cases of the security suite, named after the OWASP API Security Top 10
(2023); each docstring starts with the category the test guards against."""

from collections.abc import Callable
from pathlib import Path

import pytest
from httpx import AsyncClient

from {{ cookiecutter.package_name }}.config import Settings
from {{ cookiecutter.package_name }}.features.users.models import User

from ..factories import UserFactory
from ..support import SECURITY_HEADERS, assert_envelope, bearer, serve
from .support import FILES, HTML, png, stored_objects, upload

NOBODYS = "00000000-0000-4000-8000-000000000000"


@pytest.mark.error_path
@pytest.mark.parametrize(("method", "suffix"), [("GET", ""), ("GET", "/content"), ("DELETE", "")])
async def test_another_users_file_is_a_404(
    client: AsyncClient,
    user_headers: dict[str, str],
    users: UserFactory,
    method: str,
    suffix: str,
    files_dir: Path,
) -> None:
    """API1:2023 Broken Object Level Authorization: another user's file id reads, downloads and
    deletes nothing, and is indistinguishable from an unknown one."""
    file_id = (await upload(client, user_headers, png())).json()["id"]
    intruder = await bearer(client, await users.create())

    response = await client.request(method, f"{FILES}/{file_id}{suffix}", headers=intruder)

    assert response.status_code == 404
    assert_envelope(response.json(), "NOT_FOUND")
    assert len(stored_objects(files_dir)) == 1
    assert (await client.get(f"{FILES}/{file_id}", headers=user_headers)).status_code == 200


async def test_another_users_files_are_not_listed(
    client: AsyncClient, user_headers: dict[str, str], users: UserFactory
) -> None:
    """API1:2023 Broken Object Level Authorization: a listing shows the caller's files only."""
    await upload(client, user_headers, png())
    intruder = await bearer(client, await users.create())

    listed = await client.get(FILES, headers=intruder)

    assert listed.json()["items"] == []
    assert listed.json()["total"] == 0


@pytest.mark.error_path
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", ""),
        ("GET", ""),
        ("GET", f"/{NOBODYS}"),
        ("GET", f"/{NOBODYS}/content"),
        ("DELETE", f"/{NOBODYS}"),
        ("POST", "/direct-uploads"),
        ("POST", "/direct-uploads/complete"),
    ],
)
async def test_without_a_token_every_operation_gets_401(
    client: AsyncClient, files_dir: Path, method: str, path: str
) -> None:
    """API2:2023 Broken Authentication: no file operation answers an anonymous caller, and an
    anonymous upload stores nothing."""
    files = {"file": ("x.png", png(), "image/png")} if (method, path) == ("POST", "") else None

    response = await client.request(method, f"{FILES}{path}", files=files)

    assert response.status_code == 401
    assert_envelope(response.json(), "UNAUTHORIZED")
    assert stored_objects(files_dir) == []


async def test_an_owner_field_in_the_form_is_ignored(
    client: AsyncClient, user: User, user_headers: dict[str, str], admin: User
) -> None:
    """API3:2023 Broken Object Property Level Authorization: the uploader owns the file,
    whatever owner the form names."""
    response = await client.post(
        FILES,
        headers=user_headers,
        data={"owner_id": str(admin.id)},
        files={"file": ("x.png", png(), "image/png")},
    )

    assert response.status_code == 201, response.text
    assert response.json()["owner_id"] == str(user.id)


@pytest.mark.error_path
async def test_too_many_form_fields_are_refused_before_anything_is_stored(
    client: AsyncClient, user_headers: dict[str, str], files_dir: Path
) -> None:
    """API4:2023 Unrestricted Resource Consumption: a form of many fields is refused."""
    response = await client.post(
        FILES,
        headers=user_headers,
        data={f"f{n}": "x" for n in range(50)},
        files={"file": ("x.png", png(), "image/png")},
    )

    assert response.status_code == 400
    assert_envelope(response.json(), "INVALID_MULTIPART")
    assert stored_objects(files_dir) == []


async def test_a_document_type_is_never_served_as_one(
    make_settings: Callable[..., Settings], users: UserFactory
) -> None:
    """API8:2023 Security Misconfiguration: even where the settings allow HTML, a download is
    an attachment of plain bytes under a policy that runs nothing, so a stored page cannot run
    script in the API's origin."""
    async with serve(make_settings(files_allowed_types=["text/html"])) as client:
        headers = await bearer(client, await users.create())
        created = await upload(client, headers, HTML, "page.html", "text/html")
        assert created.status_code == 201, created.text
        download = await client.get(f"{FILES}/{created.json()['id']}/content", headers=headers)

    assert download.content == HTML
    assert download.headers["content-type"] == "application/octet-stream"
    assert download.headers["content-disposition"].startswith("attachment;")
    for name, value in SECURITY_HEADERS.items():
        assert download.headers[name] == value
