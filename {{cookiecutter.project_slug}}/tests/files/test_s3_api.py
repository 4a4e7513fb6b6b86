"""The files API on S3 storage (a moto server on loopback): the same uploads and downloads as on
local storage, and direct uploads to the bucket, confirmed by the service."""

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from httpx import AsyncClient

from {{ cookiecutter.package_name }}.config import Settings

from ..factories import UserFactory
from ..support import assert_envelope, bearer, serve
from .s3server import ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY, bucket_contents, create_bucket
from .support import FILES, SCRIPT, png, upload

DIRECT = f"{FILES}/direct-uploads"


@pytest.fixture
async def bucket(s3_endpoint: str) -> str:
    return await create_bucket(s3_endpoint)


@pytest.fixture
def s3_settings(make_settings: Callable[..., Settings], s3_endpoint: str, bucket: str) -> Settings:
    return make_settings(
        files_storage="s3",
        s3_bucket=bucket,
        s3_endpoint_url=s3_endpoint,
        s3_region=REGION,
        s3_access_key_id=ACCESS_KEY_ID,
        s3_secret_access_key=SECRET_ACCESS_KEY,
        max_upload_bytes=100_000,
    )


@pytest.fixture
async def s3_client(s3_settings: Settings) -> AsyncIterator[AsyncClient]:
    async with serve(s3_settings) as client:
        yield client


@pytest.fixture
async def headers(s3_client: AsyncClient, users: UserFactory) -> dict[str, str]:
    return await bearer(s3_client, await users.create())


async def objects(s3_endpoint: str, bucket: str) -> list[str]:
    return await bucket_contents(s3_endpoint, bucket)


async def direct_upload(
    client: AsyncClient, headers: dict[str, str], content: bytes, announced: int | None = None
) -> dict[str, Any]:
    """Start a direct upload of *content* (announcing *announced* bytes) and send it to the
    bucket as a browser would; the service's answer to the start."""
    size = len(content) if announced is None else announced
    started = await client.post(DIRECT, headers=headers, json={"filename": "big.png", "size": size})
    assert started.status_code == 201, started.text
    form: dict[str, Any] = started.json()
    async with httpx.AsyncClient() as browser:
        sent = await browser.post(
            form["url"], data=form["fields"], files={"file": ("big.png", content, "image/png")}
        )
    assert sent.status_code in {200, 201, 204}, sent.text
    return form


async def test_a_file_goes_to_the_bucket_and_back(
    s3_client: AsyncClient, headers: dict[str, str], s3_endpoint: str, bucket: str
) -> None:
    content = png(50_000)

    created = await upload(s3_client, headers, content)
    file_id = created.json()["id"]
    whole = await s3_client.get(f"{FILES}/{file_id}/content", headers=headers)
    part = await s3_client.get(
        f"{FILES}/{file_id}/content", headers={**headers, "Range": "bytes=100-199"}
    )
    stored = await objects(s3_endpoint, bucket)
    deleted = await s3_client.delete(f"{FILES}/{file_id}", headers=headers)

    assert created.status_code == 201, created.text
    assert whole.content == content
    assert part.status_code == 206
    assert part.content == content[100:200]
    assert len(stored) == 1
    assert deleted.status_code == 204
    assert await objects(s3_endpoint, bucket) == []


async def test_a_direct_upload_is_recorded_once_confirmed(
    s3_client: AsyncClient, headers: dict[str, str], s3_endpoint: str, bucket: str
) -> None:
    content = png(60_000)

    form = await direct_upload(s3_client, headers, content)
    listed_before = await s3_client.get(FILES, headers=headers)
    completed = await s3_client.post(
        f"{DIRECT}/complete", headers=headers, json={"upload_id": form["upload_id"]}
    )

    assert listed_before.json()["total"] == 0  # nothing is a file until it is confirmed
    assert completed.status_code == 201, completed.text
    body = completed.json()
    assert (body["filename"], body["content_type"], body["size"]) == (
        "big.png",
        "image/png",
        len(content),
    )
    download = await s3_client.get(f"{FILES}/{body['id']}/content", headers=headers)
    assert download.content == content
    stored = await objects(s3_endpoint, bucket)
    assert len(stored) == 1
    assert not stored[0].startswith("pending/")


# Sad paths.


@pytest.mark.error_path
async def test_a_direct_upload_of_another_size_is_refused_and_deleted(
    s3_client: AsyncClient, headers: dict[str, str], s3_endpoint: str, bucket: str
) -> None:
    form = await direct_upload(s3_client, headers, png(5000), announced=4000)

    completed = await s3_client.post(
        f"{DIRECT}/complete", headers=headers, json={"upload_id": form["upload_id"]}
    )

    assert completed.status_code == 422
    assert_envelope(completed.json(), "INVALID_DIRECT_UPLOAD")
    assert await objects(s3_endpoint, bucket) == []


@pytest.mark.error_path
async def test_a_direct_upload_of_a_type_not_allowed_is_refused_and_deleted(
    s3_client: AsyncClient, headers: dict[str, str], s3_endpoint: str, bucket: str
) -> None:
    form = await direct_upload(s3_client, headers, SCRIPT)

    completed = await s3_client.post(
        f"{DIRECT}/complete", headers=headers, json={"upload_id": form["upload_id"]}
    )

    assert completed.status_code == 415
    assert_envelope(completed.json(), "UNSUPPORTED_FILE_TYPE")
    assert await objects(s3_endpoint, bucket) == []
    assert (await s3_client.get(FILES, headers=headers)).json()["total"] == 0


@pytest.mark.error_path
async def test_confirming_what_was_never_uploaded_is_refused(
    s3_client: AsyncClient, headers: dict[str, str]
) -> None:
    started = await s3_client.post(DIRECT, headers=headers, json={"filename": "x.png", "size": 100})

    completed = await s3_client.post(
        f"{DIRECT}/complete", headers=headers, json={"upload_id": started.json()["upload_id"]}
    )

    assert completed.status_code == 422
    assert_envelope(completed.json(), "INVALID_DIRECT_UPLOAD")


@pytest.mark.error_path
async def test_another_users_upload_id_confirms_nothing(
    s3_client: AsyncClient,
    headers: dict[str, str],
    users: UserFactory,
    s3_endpoint: str,
    bucket: str,
) -> None:
    """API1:2023 Broken Object Level Authorization: an upload id is its owner's alone."""
    form = await direct_upload(s3_client, headers, png(2000))
    intruder = await bearer(s3_client, await users.create())

    completed = await s3_client.post(
        f"{DIRECT}/complete", headers=intruder, json={"upload_id": form["upload_id"]}
    )

    assert completed.status_code == 422
    assert_envelope(completed.json(), "INVALID_DIRECT_UPLOAD")
    assert (await s3_client.get(FILES, headers=intruder)).json()["total"] == 0
    assert len(await objects(s3_endpoint, bucket)) == 1  # the owner may still confirm it


@pytest.mark.error_path
@pytest.mark.parametrize("upload_id", ["not-a-ticket", "e30.e30.e30"])
async def test_a_forged_upload_id_is_refused(
    s3_client: AsyncClient, headers: dict[str, str], upload_id: str
) -> None:
    completed = await s3_client.post(
        f"{DIRECT}/complete", headers=headers, json={"upload_id": upload_id}
    )

    assert completed.status_code == 422
    assert_envelope(completed.json(), "INVALID_DIRECT_UPLOAD")


@pytest.mark.error_path
async def test_an_access_token_is_not_an_upload_id(
    s3_client: AsyncClient, headers: dict[str, str]
) -> None:
    """API2:2023 Broken Authentication: tickets are signed with a key of their own."""
    token = headers["Authorization"].removeprefix("Bearer ")

    completed = await s3_client.post(
        f"{DIRECT}/complete", headers=headers, json={"upload_id": token}
    )

    assert completed.status_code == 422


@pytest.mark.error_path
async def test_a_direct_upload_over_the_limit_is_refused_up_front(
    s3_client: AsyncClient, headers: dict[str, str]
) -> None:
    started = await s3_client.post(
        DIRECT, headers=headers, json={"filename": "huge.png", "size": 100_001}
    )

    assert started.status_code == 413
    assert_envelope(started.json(), "FILE_TOO_LARGE")


@pytest.mark.error_path
async def test_direct_uploads_need_s3(client: AsyncClient, user_headers: dict[str, str]) -> None:
    started = await client.post(DIRECT, headers=user_headers, json={"filename": "x", "size": 1})
    completed = await client.post(
        f"{DIRECT}/complete", headers=user_headers, json={"upload_id": "x"}
    )

    for response in (started, completed):
        assert response.status_code == 404
        assert_envelope(response.json(), "DIRECT_UPLOADS_UNAVAILABLE")
