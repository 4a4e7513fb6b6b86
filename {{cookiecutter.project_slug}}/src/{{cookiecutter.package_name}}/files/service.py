"""Business rules for files: owners see and remove only their own, admins everyone's; a row
and its stored object are created and removed together.

An upload streams to storage under a key the service generates, through a check that counts
its bytes (413 past MAX_UPLOAD_BYTES, whatever Content-Length said) and decides its type from
its first bytes (415 unless allowed). The row is written only once the object is complete, and
the object is removed again if the row cannot be: a refused, aborted or failed upload leaves
neither. A delete removes the row first, then the object, so a file is never listed without
its contents; an object a failed delete leaves behind is logged with its key
(``file_object_left_behind``).
"""

import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, cast

import structlog
from opentelemetry.trace import Tracer
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect

from ..core.errors import AppError, NotFoundError
from ..core.pagination import PageParams
from ..core.tracing import span
from ..features.auth.principals import Principal
from ..features.users.models import Role
from .direct import Ticket, Tickets
from .errors import (
    DirectUploadsUnavailableError,
    EmptyFileError,
    FileTooLargeError,
    InvalidDirectUploadError,
    StorageUnavailableError,
    UnsupportedFileTypeError,
)
from .models import StoredFile
from .multipart import FilePart
from .names import safe_filename
from .repository import FileRepository
from .schemas import DirectUpload, DirectUploadRequest
from .settings import FilesSettings
from .sniff import SNIFF_BYTES, sniff_type
from .storage import ObjectNotFoundError, Storage
from .tracing import STORE_SPAN, traced_read

if TYPE_CHECKING:
    from .s3 import S3Storage

logger = structlog.get_logger(__name__)


def new_storage_key() -> str:
    """An object's name: random, and never anything a client sent."""
    return uuid.uuid4().hex


@contextmanager
def storage_errors() -> Iterator[None]:
    """A failure of the storage itself (a full disk, S3 unreachable) is a 503 in the envelope;
    what the request did (a refused upload, a client gone, a body too large or too slow) and a
    missing object pass through as they are."""
    try:
        yield
    except (AppError, HTTPException, ClientDisconnect, ObjectNotFoundError):
        raise
    except Exception as exc:
        logger.exception("file_storage_failed")
        raise StorageUnavailableError from exc


def allowed_type(head: bytes, allowed: list[str]) -> str:
    """The type a file's first bytes show, if it is one of *allowed*."""
    if not head:
        raise EmptyFileError
    found = sniff_type(head)
    if found is None or found not in allowed:
        raise UnsupportedFileTypeError(allowed)
    return found


class CheckedUpload:
    """The bytes of an upload as they arrive, held back only until its type is known."""

    def __init__(self, chunks: AsyncIterator[bytes], *, max_bytes: int, allowed: list[str]):
        self._chunks = chunks
        self._max_bytes = max_bytes
        self._allowed = allowed
        self.content_type: str | None = None

    @property
    def decided_type(self) -> str:
        """The type its first bytes showed, once they have been read."""
        if self.content_type is None:
            raise RuntimeError("the upload has not been read yet")
        return self.content_type

    def _decide(self, head: bytes) -> None:
        self.content_type = allowed_type(head, self._allowed)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        head = bytearray()
        size = 0
        async for chunk in self._chunks:
            size += len(chunk)
            if size > self._max_bytes:
                raise FileTooLargeError(self._max_bytes)
            if self.content_type is not None:
                yield chunk
                continue
            head += chunk
            if len(head) >= SNIFF_BYTES:
                self._decide(bytes(head))
                yield bytes(head)
        if self.content_type is None:
            self._decide(bytes(head))
            yield bytes(head)


class FileService:
    def __init__(
        self,
        session: AsyncSession,
        storage: Storage,
        settings: FilesSettings,
        tracer: Tracer | None = None,
    ) -> None:
        self.session = session
        self.storage = storage
        self.settings = settings
        self.tracer = tracer  # with tracing on: spans around storing and reading objects
        self.files = FileRepository(session)

    async def upload(self, owner: Principal, part: FilePart) -> StoredFile:
        # The body may take minutes: hold no database connection meanwhile (whatever read
        # before it gives its connection back), or a few slow uploads would hold the whole pool.
        await self.session.close()
        key = new_storage_key()
        checked = CheckedUpload(
            part.chunks,
            max_bytes=self.settings.max_upload_bytes,
            allowed=self.settings.files_allowed_types,
        )
        with storage_errors(), span(self.tracer, STORE_SPAN, self._span_attributes()):
            size = await self.storage.put(key, aiter(checked))
        filename = safe_filename(part.filename)
        return await self._record(owner, key, filename, checked.decided_type, size)

    async def _record(
        self, owner: Principal, key: str, filename: str, content_type: str, size: int
    ) -> StoredFile:
        """The row of a complete object; if it cannot be written, the object goes."""
        try:
            stored = await self.files.add(
                StoredFile(
                    owner_id=owner.id,
                    storage_key=key,
                    filename=filename,
                    content_type=content_type,
                    size=size,
                )
            )
            await self.session.commit()
        except BaseException:
            await self._remove_object(key)
            raise
        logger.info("file_stored", file_id=str(stored.id), size=size)
        return stored

    def read(self, key: str, start: int, end: int) -> AsyncIterator[bytes]:
        """The object's bytes [start, end), streamed (ObjectNotFoundError on the first read)."""
        chunks = self.storage.get(key, start, end)
        if self.tracer is None:
            return chunks
        return traced_read(self.tracer, chunks, self._span_attributes())

    def _span_attributes(self) -> dict[str, str]:
        return {"files.storage": self.settings.files_storage}

    async def start_direct_upload(
        self, owner: Principal, request: DirectUploadRequest, tickets: Tickets
    ) -> DirectUpload:
        storage = self._s3()
        if request.size > self.settings.max_upload_bytes:
            raise FileTooLargeError(self.settings.max_upload_bytes)
        ticket = Ticket(owner.id, new_storage_key(), safe_filename(request.filename), request.size)
        seconds = self.settings.s3_direct_upload_seconds
        upload_id, expires_at = tickets.issue(ticket, seconds)
        post = storage.presigned_post(
            ticket.pending_key,
            min_bytes=request.size,
            max_bytes=request.size,
            expires_in_seconds=seconds,
        )
        return DirectUpload(
            upload_id=upload_id, url=post.url, fields=post.fields, expires_at=expires_at
        )

    async def complete_direct_upload(
        self, owner: Principal, upload_id: str, tickets: Tickets
    ) -> StoredFile:
        storage = self._s3()
        ticket = tickets.read(upload_id, owner.id)
        with storage_errors():
            size = await storage.size(ticket.pending_key)
        if size is None:
            raise InvalidDirectUploadError("Nothing was uploaded for this upload id")
        try:
            with storage_errors():
                content_type = await self._checked_pending(storage, ticket, size)
                await storage.move(ticket.pending_key, ticket.key)
        except BaseException:
            await self._remove_object(ticket.pending_key)
            raise
        return await self._record(owner, ticket.key, ticket.filename, content_type, size)

    async def _checked_pending(self, storage: "S3Storage", ticket: Ticket, size: int) -> str:
        """The type of a direct upload's object, if it is the size announced and allowed."""
        if size != ticket.size:
            raise InvalidDirectUploadError(
                f"The upload has {size} bytes, not the {ticket.size} announced"
            )
        head = await storage.head(ticket.pending_key, SNIFF_BYTES)
        return allowed_type(head, self.settings.files_allowed_types)

    async def get(self, user: Principal, file_id: uuid.UUID) -> StoredFile:
        """The file if *user* may see it; another user's file is indistinguishable from none."""
        stored = await self.files.get(file_id, owner_id=_owner_scope(user))
        if stored is None:
            raise NotFoundError("File")
        return stored

    async def list_page(self, user: Principal, params: PageParams) -> tuple[list[StoredFile], int]:
        return await self.files.list_page(
            _owner_scope(user), offset=params.offset, limit=params.page_size
        )

    async def delete(self, user: Principal, file_id: uuid.UUID) -> None:
        stored = await self.get(user, file_id)
        key = stored.storage_key
        await self.files.delete(stored)
        await self.session.commit()
        await self._remove_object(key)
        logger.info("file_deleted", file_id=str(file_id))

    def _s3(self) -> "S3Storage":
        if self.settings.files_storage != "s3":
            raise DirectUploadsUnavailableError
        return cast("S3Storage", self.storage)

    async def _remove_object(self, key: str) -> None:
        await remove_object(self.storage, key)


async def remove_object(storage: Storage, key: str) -> None:
    """Remove an object whose row is gone (or never was); if storage fails, the row's fate
    stands and the object's key is logged."""
    try:
        await storage.delete(key)
    except Exception:
        logger.exception("file_object_left_behind", storage_key=key)


def _owner_scope(user: Principal) -> uuid.UUID | None:
    return None if user.role is Role.ADMIN else user.id
