"""The `Storage` contract, checked against every backend (local disk, and S3 on moto's server):
what a put stores, what a get streams back, and that a failed put leaves nothing at all."""

import asyncio
import os
from collections.abc import AsyncIterator, Iterable

import anyio
import pytest

from {{ cookiecutter.package_name }}.files.storage import (
    ObjectNotFoundError,
    Storage,
)

from .support import KEY, Backend, MiB, chunks_of


async def read(storage: Storage, key: str, start: int = 0, end: int | None = None) -> bytes:
    return b"".join([chunk async for chunk in storage.get(key, start, end)])


async def test_a_stored_object_reads_back_whole(storage: Storage) -> None:
    data = os.urandom(100_000)

    assert await storage.put(KEY, chunks_of(data)) == len(data)

    assert await read(storage, KEY) == data
    assert await storage.size(KEY) == len(data)


@pytest.mark.parametrize(
    ("start", "end"),
    [(0, 10), (10, 20), (99_990, None), (5, None), (0, None), (99_995, 200_000), (7, 7)],
    ids=["head", "middle", "tail", "from-offset", "whole", "end-past-size", "empty-range"],
)
async def test_a_range_reads_bytes_start_to_end(
    storage: Storage, start: int, end: int | None
) -> None:
    data = os.urandom(100_000)
    await storage.put(KEY, chunks_of(data))

    assert await read(storage, KEY, start, end) == data[start:end]


async def test_an_empty_object_is_stored(storage: Storage) -> None:
    assert await storage.put(KEY, chunks_of(b"")) == 0

    assert await read(storage, KEY) == b""
    assert await storage.size(KEY) == 0


async def test_a_large_object_streams_in_and_out_in_pieces(storage: Storage) -> None:
    data = os.urandom(12 * MiB)  # S3: a multipart upload of three parts

    assert await storage.put(KEY, chunks_of(data)) == len(data)

    pieces = [chunk async for chunk in storage.get(KEY)]
    assert b"".join(pieces) == data
    assert len(pieces) > 1
    assert await storage.size(KEY) == len(data)


async def test_a_pending_key_is_an_object_of_its_own(storage: Storage) -> None:
    await storage.put(f"pending/{KEY}", chunks_of(b"pending"))
    await storage.put(KEY, chunks_of(b"final"))

    assert await read(storage, f"pending/{KEY}") == b"pending"
    assert await read(storage, KEY) == b"final"


async def test_a_deleted_object_is_gone(backend: Backend) -> None:
    await backend.storage.put(KEY, chunks_of(b"data"))

    await backend.storage.delete(KEY)

    assert await backend.storage.size(KEY) is None
    assert await backend.contents() == []


class UploadRefusedError(Exception):
    """What a caller's iterator raises: the size cap, a refused type, a lost client."""


async def failing_after(data: Iterable[bytes], error: BaseException) -> AsyncIterator[bytes]:
    for chunk in data:
        yield chunk
    raise error


@pytest.mark.error_path
@pytest.mark.parametrize("sent", [0, 100, 7 * MiB], ids=["nothing", "a-little", "a-part"])
async def test_a_put_whose_chunks_fail_leaves_nothing(backend: Backend, sent: int) -> None:
    error = UploadRefusedError("too large")
    chunks = [b"x" * min(sent, MiB)] * max(1, sent // MiB) if sent else []

    with pytest.raises(UploadRefusedError) as raised:
        await backend.storage.put(KEY, failing_after(chunks, error))

    assert raised.value is error
    assert await backend.contents() == []


@pytest.mark.error_path
async def test_a_put_whose_chunks_are_cancelled_leaves_nothing(backend: Backend) -> None:
    with pytest.raises(asyncio.CancelledError):
        await backend.storage.put(KEY, failing_after([b"x" * MiB] * 7, asyncio.CancelledError()))

    assert await backend.contents() == []


class SlowClient:
    """A client that sends *sent* bytes, then nothing more until it is cancelled."""

    def __init__(self, sent: int) -> None:
        self.sent = sent
        self.waiting = asyncio.Event()  # everything sent, the rest never comes
        self.closed = asyncio.Event()

    async def body(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in chunks_of(b"x" * self.sent):
                yield chunk
            self.waiting.set()
            await asyncio.Event().wait()
            yield b"never"
        finally:
            self.closed.set()


@pytest.mark.error_path
@pytest.mark.parametrize("sent", [100, 7 * MiB], ids=["a-little", "a-part"])
async def test_a_cancelled_put_leaves_nothing(backend: Backend, sent: int) -> None:
    """The request's task is cancelled while the client is sending (the server shuts down):
    the upload is undone, and the read of the body in progress ends too."""
    client = SlowClient(sent)
    put = asyncio.create_task(backend.storage.put(KEY, client.body()))
    await client.waiting.wait()

    put.cancel()

    with pytest.raises(asyncio.CancelledError):
        await put
    await asyncio.wait_for(client.closed.wait(), 5)
    assert await backend.contents() == []


@pytest.mark.error_path
@pytest.mark.parametrize("sent", [100, 7 * MiB], ids=["a-little", "a-part"])
async def test_a_put_cut_off_by_a_cancel_scope_leaves_nothing(backend: Backend, sent: int) -> None:
    """As Starlette cancels (anyio cancel scopes, which cancel again at every await until the
    task leaves the scope): the clean-up still runs to its end."""
    client = SlowClient(sent)
    scope = anyio.CancelScope()

    async def put() -> None:
        with scope:
            await backend.storage.put(KEY, client.body())

    task = asyncio.create_task(put())
    await client.waiting.wait()

    scope.cancel()

    await task
    assert scope.cancelled_caught
    await asyncio.wait_for(client.closed.wait(), 5)
    assert await backend.contents() == []


@pytest.mark.error_path
@pytest.mark.parametrize("size", [100, 7 * MiB], ids=["small", "multipart"])
async def test_a_put_cancelled_after_its_last_chunk_leaves_nothing(
    backend: Backend, size: int
) -> None:
    """The body was all read, but the object is not yet in place (written to disk, or the
    upload completed) when the request is cancelled: the caller records nothing, so nothing
    may stay."""
    read_all = asyncio.Event()

    async def body() -> AsyncIterator[bytes]:
        async for chunk in chunks_of(b"x" * size):
            yield chunk
        read_all.set()

    put = asyncio.create_task(backend.storage.put(KEY, body()))
    await read_all.wait()

    assert put.cancel()

    with pytest.raises(asyncio.CancelledError):
        await put
    assert await backend.contents() == []


async def test_deleting_a_missing_object_is_no_error(backend: Backend) -> None:
    await backend.storage.delete(KEY)

    assert await backend.contents() == []


async def test_a_missing_object_has_no_size(storage: Storage) -> None:
    assert await storage.size(KEY) is None


@pytest.mark.error_path
async def test_reading_a_missing_object_raises_object_not_found(storage: Storage) -> None:
    with pytest.raises(ObjectNotFoundError) as raised:
        await read(storage, KEY)

    assert raised.value.key == KEY


INVALID_KEYS = [
    "../x",
    "a/b",
    "",
    KEY.upper(),
    KEY[:-1] + "\x00",
    KEY + "\n",
    KEY + "0",
    KEY[:-1],
    f"pending/../{KEY}",
    f"/{KEY}",
    f"other/{KEY}",
]


@pytest.mark.error_path
@pytest.mark.parametrize("key", INVALID_KEYS)
async def test_a_key_the_service_did_not_generate_is_refused(backend: Backend, key: str) -> None:
    storage = backend.storage
    touched = False

    async def body() -> AsyncIterator[bytes]:
        nonlocal touched
        touched = True
        yield b"data"

    with pytest.raises(ValueError, match="not a storage key"):
        await storage.put(key, body())
    with pytest.raises(ValueError, match="not a storage key"):
        storage.get(key)
    with pytest.raises(ValueError, match="not a storage key"):
        await storage.size(key)
    with pytest.raises(ValueError, match="not a storage key"):
        await storage.delete(key)

    assert not touched
    assert await backend.contents() == []


@pytest.mark.error_path
@pytest.mark.parametrize(("start", "end"), [(-1, None), (10, 5)], ids=["negative", "backwards"])
async def test_a_backwards_range_is_refused(storage: Storage, start: int, end: int | None) -> None:
    with pytest.raises(ValueError, match="not a byte range"):
        storage.get(KEY, start, end)
