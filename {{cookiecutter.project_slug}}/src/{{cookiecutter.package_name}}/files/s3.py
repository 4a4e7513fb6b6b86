"""The S3 backend of `Storage` (any S3-compatible store: AWS, MinIO, R2, ...) on obstore, and
presigned POST uploads that let a browser send a file straight to the bucket.

obstore streams a put as a multipart upload and aborts it when the chunks' iterator raises, so
a failed upload leaves no object and no hidden parts. A cancelled task is the one case obstore
does not cover (it drops the upload without aborting it, and leaves its read of the iterator
pending), so `put` turns a cancellation into an error of the iterator, which obstore handles.

obstore has no POST policies; `presigned_post` signs one itself (AWS Signature Version 4), with
the key fixed and a `content-length-range` condition, so S3 refuses a file of the wrong size.
"""

import asyncio
import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Self

import anyio
import obstore
from obstore.store import S3Store
from pydantic import SecretStr

from .storage import ObjectNotFoundError, check_key, check_range

if TYPE_CHECKING:
    from obstore import GetOptions, PutResult

# Downloads are streamed in pieces of this size (obstore's default is 10 MB).
READ_CHUNK_BYTES = 256 * 1024
# Parts of a multipart upload (S3's minimum is 5 MiB), at most this many in flight: an upload
# holds about (1 + concurrency) parts in memory, and S3 allows 10,000 parts (48 GiB).
PART_BYTES = 5 * 1024 * 1024
PART_CONCURRENCY = 2
SIGNING_ALGORITHM = "AWS4-HMAC-SHA256"


@dataclass(frozen=True, slots=True)
class PresignedPost:
    """Where and what a browser POSTs (multipart/form-data) to upload one object: every field,
    in this order, then the file as the last field, named `file`."""

    url: str
    fields: dict[str, str]


class _Feed:
    """The chunks of a put as obstore reads them, counted, and stoppable from outside: after
    `stop()`, the read in progress (or the next one) raises CancelledError, which makes obstore
    abort the multipart upload."""

    def __init__(self, chunks: AsyncIterable[bytes]) -> None:
        self._chunks = aiter(chunks)
        self._reading: asyncio.Task[object] | None = None
        self._stopped = False
        self.size = 0

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> bytes:
        if self._stopped:
            raise asyncio.CancelledError
        # obstore awaits each read in a task of its own.
        self._reading = asyncio.current_task()
        try:
            chunk = await anext(self._chunks)
        finally:
            self._reading = None
        self.size += len(chunk)
        return chunk

    def stop(self) -> None:
        self._stopped = True
        if self._reading is not None:
            self._reading.cancel()


class S3Storage:
    """Objects in one S3 bucket, under their keys as they are.

    *endpoint* is None for AWS, or the URL of another S3-compatible service (plain HTTP is
    allowed when the URL says so, for a server on loopback). Credentials come from the caller
    (the settings); obstore still reads `AWS_*` variables for anything not given here.
    """

    def __init__(
        self,
        *,
        bucket: str,
        region: str,
        access_key_id: str,
        secret_access_key: SecretStr,
        endpoint: str | None = None,
        transfer_timeout: timedelta = timedelta(hours=1),
    ) -> None:
        self.bucket = bucket
        self.region = region
        self.endpoint = endpoint.rstrip("/") if endpoint else None
        self._access_key_id = access_key_id
        self._secret_access_key = secret_access_key
        self._store = S3Store(
            bucket,
            config={
                "region": region,
                "access_key_id": access_key_id,
                "secret_access_key": secret_access_key.get_secret_value(),
                **({"endpoint": self.endpoint} if self.endpoint else {}),
            },
            client_options={
                "allow_http": bool(self.endpoint and self.endpoint.startswith("http://")),
                "connect_timeout": timedelta(seconds=5),
                # From connecting to the body's end: a download to a slow client takes long.
                "timeout": transfer_timeout,
            },
        )

    async def put(self, key: str, chunks: AsyncIterable[bytes]) -> int:
        """Stream *chunks* as a multipart upload; see `Storage.put`."""
        check_key(key)
        feed = _Feed(chunks)
        upload = asyncio.ensure_future(
            obstore.put_async(
                self._store,
                key,
                feed,
                chunk_size=PART_BYTES,
                max_concurrency=PART_CONCURRENCY,
            )
        )
        try:
            # Shielded: cancelling the put must not drop the upload before it is aborted.
            await asyncio.shield(upload)
        except asyncio.CancelledError:
            if not upload.done():
                with anyio.CancelScope(shield=True):
                    await self._abort(upload, feed, key)
            raise
        finally:
            feed.stop()  # no read of the caller's iterator outlives the put
        return feed.size

    async def _abort(self, upload: "asyncio.Future[PutResult]", feed: _Feed, key: str) -> None:
        feed.stop()
        await asyncio.wait({upload})
        if not upload.cancelled() and upload.exception() is None:
            # The chunks had all been read: the object was completed, so remove it.
            await obstore.delete_async(self._store, key)

    def get(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """Stream bytes [start, end) with one ranged GET; see `Storage.get`. The range must
        start inside the object unless it is empty (S3 answers 416 otherwise)."""
        check_key(key)
        check_range(start, end)
        return self._read(key, start, end)

    async def _read(self, key: str, start: int, end: int | None) -> AsyncIterator[bytes]:
        if end == start:
            return
        options: GetOptions = {}
        if end is not None:
            options["range"] = (start, end)
        elif start:
            options["range"] = {"offset": start}
        try:
            result = await obstore.get_async(self._store, key, options=options)
        except FileNotFoundError:  # obstore's NotFoundError, which it raises as this builtin
            raise ObjectNotFoundError(key) from None
        async for chunk in result.stream(min_chunk_size=READ_CHUNK_BYTES):
            yield chunk

    async def delete(self, key: str) -> None:
        """Remove the object; a missing key is no error (S3's DELETE succeeds)."""
        await obstore.delete_async(self._store, check_key(key))

    async def move(self, source: str, target: str) -> None:
        """Move an object to another key, within the bucket (S3 copies it, then deletes the
        source): how a confirmed direct upload leaves ``pending/``."""
        await obstore.rename_async(self._store, check_key(source), check_key(target))

    async def size(self, key: str) -> int | None:
        """The object's size in bytes (a HEAD request); None when missing."""
        try:
            meta = await obstore.head_async(self._store, check_key(key))
        except FileNotFoundError:
            return None
        return meta["size"]

    async def head(self, key: str, n: int) -> bytes:
        """The object's first *n* bytes (fewer if it is shorter), to sniff the type of a file
        a browser uploaded directly. Missing key: ObjectNotFoundError."""
        size = await self.size(key)
        if size is None:
            raise ObjectNotFoundError(key)
        if size == 0 or n <= 0:
            return b""
        return b"".join([chunk async for chunk in self.get(key, 0, min(n, size))])

    async def aclose(self) -> None:
        """Nothing to release: obstore's connection pool goes with the store object."""

    def presigned_post(
        self, key: str, *, min_bytes: int, max_bytes: int, expires_in_seconds: int
    ) -> PresignedPost:
        """A POST policy allowing one upload to *key* of min_bytes..max_bytes bytes, valid for
        *expires_in_seconds*: the URL and the form fields a browser sends with the file."""
        check_key(key)
        if not 0 <= min_bytes <= max_bytes or expires_in_seconds <= 0:
            raise ValueError("a POST policy needs 0 <= min_bytes <= max_bytes and a future expiry")
        now = datetime.now(UTC)
        date = now.strftime("%Y%m%d")
        credential = f"{self._access_key_id}/{date}/{self.region}/s3/aws4_request"
        signed_fields = {
            "x-amz-algorithm": SIGNING_ALGORITHM,
            "x-amz-credential": credential,
            "x-amz-date": now.strftime("%Y%m%dT%H%M%SZ"),
        }
        expiration = now + timedelta(seconds=expires_in_seconds)
        policy = {
            "expiration": expiration.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "conditions": [
                {"bucket": self.bucket},
                {"key": key},
                ["content-length-range", min_bytes, max_bytes],
                *({name: value} for name, value in signed_fields.items()),
            ],
        }
        encoded = base64.b64encode(json.dumps(policy).encode()).decode()
        signature = hmac.new(self._signing_key(date), encoded.encode(), hashlib.sha256)
        fields = {
            "key": key,
            **signed_fields,
            "policy": encoded,
            "x-amz-signature": signature.hexdigest(),
        }
        return PresignedPost(url=self._bucket_url(), fields=fields)

    def _signing_key(self, date: str) -> bytes:
        """SigV4's key for one day, region and service, derived from the secret."""
        key = f"AWS4{self._secret_access_key.get_secret_value()}".encode()
        for part in (date, self.region, "s3", "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        return key

    def _bucket_url(self) -> str:
        if self.endpoint:  # path style, which S3-compatible services answer
            return f"{self.endpoint}/{self.bucket}"
        return f"https://{self.bucket}.s3.{self.region}.amazonaws.com"
