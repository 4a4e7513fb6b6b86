"""What the S3 backend adds to the contract: presigned POST uploads straight to the bucket, and
reading the first bytes of such an upload back to sniff its type.

moto's server stores what a POST sends without checking the policy, its signature or its
`content-length-range`, so an upload over the limit is not refused here: the policy's conditions
are checked by decoding it, and its signature against botocore's SigV4 implementation.
"""

import base64
import json
import os
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from botocore.auth import SigV4Auth  # type: ignore[import-untyped]
from botocore.awsrequest import AWSRequest  # type: ignore[import-untyped]
from botocore.credentials import Credentials  # type: ignore[import-untyped]

from {{ cookiecutter.package_name }}.files.s3 import S3Storage
from {{ cookiecutter.package_name }}.files.storage import ObjectNotFoundError

from .s3server import ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY, create_bucket, s3_storage
from .support import chunks_of

PENDING_KEY = "pending/0123456789abcdef0123456789abcdef"


@pytest.fixture
async def s3(s3_endpoint: str) -> S3Storage:
    return s3_storage(s3_endpoint, await create_bucket(s3_endpoint))


async def test_a_browser_uploads_with_a_presigned_post(s3: S3Storage) -> None:
    data = os.urandom(50_000)
    post = s3.presigned_post(PENDING_KEY, min_bytes=1, max_bytes=100_000, expires_in_seconds=600)

    async with httpx.AsyncClient() as browser:
        response = await browser.post(
            post.url, data=post.fields, files={"file": ("photo.jpg", data, "image/jpeg")}
        )

    assert response.status_code == 204
    assert await s3.size(PENDING_KEY) == len(data)
    assert await s3.head(PENDING_KEY, 16) == data[:16]


def test_the_policy_fixes_the_key_the_size_range_and_the_expiry(s3: S3Storage) -> None:
    before = datetime.now(UTC).replace(microsecond=0)

    post = s3.presigned_post(PENDING_KEY, min_bytes=10, max_bytes=2_000, expires_in_seconds=300)

    policy = json.loads(base64.b64decode(post.fields["policy"]))
    conditions = policy["conditions"]
    assert {"bucket": s3.bucket} in conditions
    assert {"key": PENDING_KEY} in conditions
    assert ["content-length-range", 10, 2_000] in conditions
    for field in ("x-amz-algorithm", "x-amz-credential", "x-amz-date"):
        assert {field: post.fields[field]} in conditions
    expires = datetime.strptime(policy["expiration"], "%Y-%m-%dT%H:%M:%S.000Z").replace(tzinfo=UTC)
    assert before + timedelta(seconds=300) <= expires <= before + timedelta(seconds=302)
    assert post.fields["key"] == PENDING_KEY
    assert post.fields["x-amz-credential"].startswith(f"{ACCESS_KEY_ID}/")
    assert post.fields["x-amz-credential"].endswith(f"/{REGION}/s3/aws4_request")


def test_the_policy_signature_is_aws_sigv4(s3: S3Storage) -> None:
    post = s3.presigned_post(PENDING_KEY, min_bytes=1, max_bytes=10, expires_in_seconds=60)

    signer = SigV4Auth(
        Credentials(ACCESS_KEY_ID, SECRET_ACCESS_KEY.get_secret_value()), "s3", REGION
    )
    request = AWSRequest(method="POST", url=post.url)
    request.context["timestamp"] = post.fields["x-amz-date"]
    assert post.fields["x-amz-signature"] == signer.signature(post.fields["policy"], request)


def test_a_post_goes_to_the_bucket_on_aws_without_an_endpoint() -> None:
    s3 = S3Storage(
        bucket="uploads",
        region="eu-west-3",
        access_key_id=ACCESS_KEY_ID,
        secret_access_key=SECRET_ACCESS_KEY,
    )

    post = s3.presigned_post(PENDING_KEY, min_bytes=1, max_bytes=10, expires_in_seconds=60)

    assert post.url == "https://uploads.s3.eu-west-3.amazonaws.com"


@pytest.mark.error_path
@pytest.mark.parametrize("key", ["../x", "pending/", "a" * 31])
def test_no_policy_is_signed_for_a_key_the_service_did_not_generate(
    s3: S3Storage, key: str
) -> None:
    with pytest.raises(ValueError, match="not a storage key"):
        s3.presigned_post(key, min_bytes=1, max_bytes=10, expires_in_seconds=60)


async def test_the_head_of_a_short_object_is_all_of_it(s3: S3Storage) -> None:
    await s3.put(PENDING_KEY, chunks_of(b"tiny"))

    assert await s3.head(PENDING_KEY, 16) == b"tiny"


async def test_the_head_of_an_empty_upload_is_empty(s3: S3Storage) -> None:
    """S3 answers a range of an empty object with 416: head does not ask for one."""
    post = s3.presigned_post(PENDING_KEY, min_bytes=0, max_bytes=10, expires_in_seconds=60)
    async with httpx.AsyncClient() as browser:
        response = await browser.post(post.url, data=post.fields, files={"file": ("e", b"")})
    assert response.status_code == 204

    assert await s3.head(PENDING_KEY, 16) == b""


@pytest.mark.error_path
async def test_the_head_of_a_missing_upload_raises_object_not_found(s3: S3Storage) -> None:
    with pytest.raises(ObjectNotFoundError):
        await s3.head(PENDING_KEY, 16)


@pytest.mark.error_path
@pytest.mark.parametrize(
    ("min_bytes", "max_bytes", "expires_in_seconds"),
    [(-1, 10, 60), (11, 10, 60), (1, 10, 0)],
    ids=["negative-size", "min-over-max", "expired"],
)
def test_no_policy_is_signed_that_no_upload_could_meet(
    s3: S3Storage, min_bytes: int, max_bytes: int, expires_in_seconds: int
) -> None:
    with pytest.raises(ValueError, match="POST policy"):
        s3.presigned_post(
            PENDING_KEY,
            min_bytes=min_bytes,
            max_bytes=max_bytes,
            expires_in_seconds=expires_in_seconds,
        )
