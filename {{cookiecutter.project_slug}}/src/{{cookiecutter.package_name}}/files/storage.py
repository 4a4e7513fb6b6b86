"""Where uploaded bytes live: the `Storage` protocol and its local-disk backend.

The service streams an upload into `Storage.put` as it arrives and streams a download out of
`Storage.get`, so no file is ever held in memory. Two promises make that safe: an upload that
fails for any reason (the client went away, the size cap, a refused type, a full disk, the task
was cancelled) leaves nothing behind under its key, and a key is only ever one the service
generated (`uuid4().hex`, optionally under `pending/`), never text from a client, so no key
can name a path outside the storage root. `s3.py` holds the S3 backend.
"""

import os
import re
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from pathlib import Path
from typing import Protocol

import anyio
import anyio.to_thread

# A download is streamed in pieces of this size: big enough to keep thread hops rare, small
# enough that many concurrent downloads hold little memory.
READ_CHUNK_BYTES = 1024 * 1024
# An upload arrives in small pieces (~64 KiB from the ASGI server); they are gathered into
# writes of about this size, one thread hop each.
WRITE_CHUNK_BYTES = 1024 * 1024

KEY_PATTERN = re.compile(r"(pending/)?[0-9a-f]{32}")
PENDING_PREFIX = "pending/"


class StorageError(Exception):
    """Something about a stored object the caller asked for is wrong."""


class ObjectNotFoundError(StorageError):
    """No object is stored under the key."""

    def __init__(self, key: str) -> None:
        super().__init__(f"no object stored under {key}")
        self.key = key


class Storage(Protocol):
    """An object store holding uploaded files under keys the service generates."""

    async def put(self, key: str, chunks: AsyncIterable[bytes]) -> int:
        """Store the object from *chunks*; return its size. If iterating *chunks* raises (the
        client went away, the size cap, a refused type) or the write fails, nothing is left
        under *key* (no partial object) and the exception propagates unchanged."""
        ...

    def get(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """Stream bytes [start, end) (end None: to the end). Missing key: ObjectNotFoundError."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the object; a missing key is no error."""
        ...

    async def size(self, key: str) -> int | None:
        """The object's size in bytes; None when missing."""
        ...

    async def aclose(self) -> None:
        """Release what the backend holds (connections); called once at shutdown."""
        ...


def check_key(key: str) -> str:
    """Return *key* if the service could have generated it; raise ValueError otherwise.

    Only 32 lowercase hex digits (a `uuid4().hex`), optionally prefixed with `pending/`: no
    separator, dot, NUL or client text can reach a path or an S3 request.
    """
    if not KEY_PATTERN.fullmatch(key):
        raise ValueError(f"not a storage key: {key!r}")
    return key


def check_range(start: int, end: int | None) -> None:
    """Refuse a range that is not `0 <= start <= end`."""
    if start < 0 or (end is not None and end < start):
        raise ValueError(f"not a byte range: [{start}, {end})")


def _private_file(path: str, flags: int) -> int:
    """Open a new file readable and writable by its owner only (0600)."""
    return os.open(path, flags, 0o600)


class LocalStorage:
    """Objects as files under *root*: `root/<key[:2]>/<key>` (`root/pending/...` for pending
    keys), so no directory grows past a few thousand entries.

    An upload is written to `root/.partial/` and renamed into place once complete, so a reader
    never sees half a file; the rename is atomic because both are on the same file system.
    Directories are private to the service's user (0700), files too (0600). The directories are
    created here, at start-up, so a root that cannot be written to stops the service at once.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.partial = root / ".partial"
        for directory in (root, self.partial, root / "pending"):
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)

    def path(self, key: str) -> Path:
        """The file holding the object under *key* (which is checked)."""
        name = check_key(key).removeprefix(PENDING_PREFIX)
        base = self.root / "pending" if key.startswith(PENDING_PREFIX) else self.root
        return base / name[:2] / name

    async def put(self, key: str, chunks: AsyncIterable[bytes]) -> int:
        """Stream *chunks* to a temporary file, then move it into place; see `Storage.put`."""
        final = self.path(key)
        partial = self.partial / f"{uuid.uuid4().hex}.part"
        size = 0
        renaming = False
        try:
            async with await anyio.open_file(partial, "xb", opener=_private_file) as file:
                # Gathered and joined once per write: growing a bytearray would copy every chunk
                # twice.
                pending: list[bytes] = []
                held = 0
                async for chunk in chunks:
                    size += len(chunk)
                    pending.append(chunk)
                    held += len(chunk)
                    if held >= WRITE_CHUNK_BYTES:
                        await file.write(b"".join(pending))
                        pending.clear()
                        held = 0
                if pending:
                    await file.write(b"".join(pending))
                await file.flush()
                # On disk before the rename makes it visible: a crash leaves no truncated object.
                await anyio.to_thread.run_sync(os.fsync, file.wrapped.fileno())
            renaming = True
            await anyio.to_thread.run_sync(_move_into_place, partial, final)
        except BaseException:
            # Shielded: a cancelled request must still clean up before its task ends.
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(_discard, partial, final if renaming else None)
            raise
        return size

    def get(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """Stream bytes [start, end) of the object; see `Storage.get`."""
        path = self.path(key)
        check_range(start, end)
        return self._read(key, path, start, end)

    async def _read(
        self, key: str, path: Path, start: int, end: int | None
    ) -> AsyncIterator[bytes]:
        if end == start:
            return
        try:
            file = await anyio.open_file(path, "rb")
        except FileNotFoundError:
            raise ObjectNotFoundError(key) from None
        async with file:
            await file.seek(start)
            left = None if end is None else end - start
            while left is None or left > 0:
                chunk = await file.read(
                    READ_CHUNK_BYTES if left is None else min(left, READ_CHUNK_BYTES)
                )
                if not chunk:
                    return
                if left is not None:
                    left -= len(chunk)
                yield chunk

    async def delete(self, key: str) -> None:
        """Remove the object's file; a missing key is no error."""
        await anyio.to_thread.run_sync(self.path(key).unlink, True)

    async def size(self, key: str) -> int | None:
        """The object's size in bytes; None when missing."""
        path = self.path(key)
        try:
            stat = await anyio.to_thread.run_sync(path.stat)
        except FileNotFoundError:
            return None
        return stat.st_size

    async def aclose(self) -> None:
        """Nothing to release: every file is closed when its operation ends."""


def _move_into_place(partial: Path, final: Path) -> None:
    final.parent.mkdir(mode=0o700, exist_ok=True)
    os.replace(partial, final)


def _discard(partial: Path, final: Path | None) -> None:
    """Remove what a failed put left. *final* too when the failure (a cancellation) may have
    come while the rename ran: keys are unique, so it can only be this put's object."""
    partial.unlink(missing_ok=True)
    if final is not None:
        final.unlink(missing_ok=True)
