"""Files API: upload, list, read the metadata of, download and delete your files (admins:
everyone's)."""

import uuid
from collections.abc import AsyncIterator
from http import HTTPStatus
from typing import Annotated

import structlog
from fastapi import APIRouter, Header, Request, status
from fastapi.responses import StreamingResponse

from ..core.errors import NotFoundError
from ..core.openapi import DocumentedRoute, errors
from ..core.pagination import PageParamsDep
from ..features.auth.dependencies import CurrentUser
from .dependencies import FileServiceDep, tickets_of
from .multipart import read_file_part
from .names import content_disposition
from .ranges import parse_range
from .schemas import (
    DirectUpload,
    DirectUploadComplete,
    DirectUploadRequest,
    FilePage,
    FileResponse,
)
from .service import storage_errors
from .sniff import SCRIPTABLE_TYPES
from .storage import ObjectNotFoundError

logger = structlog.get_logger(__name__)

router = APIRouter(prefix="/files", tags=["files"], route_class=DocumentedRoute)

UPLOAD_FIELD = "file"
UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "additionalProperties": False,
                "required": [UPLOAD_FIELD],
                "properties": {UPLOAD_FIELD: {"type": "string", "format": "binary"}},
            }
        }
    },
}
_FILE_ID = {"file_id": "$response.body#/id"}
UPLOADED_FILE_LINKS = {
    "ReadFile": {"operationId": "files-read_file", "parameters": _FILE_ID},
    "DownloadFile": {"operationId": "files-download_file", "parameters": _FILE_ID},
    "DeleteFile": {"operationId": "files-delete_file", "parameters": _FILE_ID},
}
# The stored type, whichever of FILES_ALLOWED_TYPES it is (or application/octet-stream).
# application/octet-stream is named too, and second: generators that cannot read */* (such as
# openapi-python-client) then give the download as bytes instead of leaving it out.
_BYTES = {"schema": {"type": "string", "format": "binary"}}
ANY_BINARY = {"*/*": _BYTES, "application/octet-stream": _BYTES}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    openapi_extra={"requestBody": UPLOAD_BODY},
    responses={
        201: {"description": "The stored file", "links": UPLOADED_FILE_LINKS},
        **errors(
            HTTPStatus.BAD_REQUEST,
            HTTPStatus.REQUEST_TIMEOUT,
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            HTTPStatus.UNPROCESSABLE_ENTITY,
        ),
    },
)
async def upload_file(request: Request, user: CurrentUser, service: FileServiceDep) -> FileResponse:
    """Upload one file as the multipart field `file`. It is streamed to storage as it arrives;
    its type is decided from its first bytes (FILES_ALLOWED_TYPES), never from its name or the
    Content-Type the client sent."""
    settings = service.settings
    part = await read_file_part(
        request,
        field=UPLOAD_FIELD,
        max_fields=settings.files_max_form_fields,
        max_field_bytes=settings.files_max_form_field_bytes,
    )
    return FileResponse.model_validate(await service.upload(user, part))


@router.post(
    "/direct-uploads",
    status_code=status.HTTP_201_CREATED,
    responses=errors(HTTPStatus.NOT_FOUND, HTTPStatus.REQUEST_ENTITY_TOO_LARGE),
)
async def start_direct_upload(
    body: DirectUploadRequest, request: Request, user: CurrentUser, service: FileServiceDep
) -> DirectUpload:
    """S3 storage only: a presigned form to upload one file of exactly `size` bytes straight to
    the bucket. Then confirm it with its `upload_id`."""
    return await service.start_direct_upload(user, body, tickets_of(request))


@router.post(
    "/direct-uploads/complete",
    status_code=status.HTTP_201_CREATED,
    responses=errors(HTTPStatus.NOT_FOUND, HTTPStatus.UNSUPPORTED_MEDIA_TYPE),
)
async def complete_direct_upload(
    body: DirectUploadComplete, request: Request, user: CurrentUser, service: FileServiceDep
) -> FileResponse:
    """Confirm a direct upload: its size and type are checked before the file is recorded (a
    refused one is deleted from the bucket)."""
    stored = await service.complete_direct_upload(user, body.upload_id, tickets_of(request))
    return FileResponse.model_validate(stored)


@router.get("")
async def list_files(user: CurrentUser, service: FileServiceDep, params: PageParamsDep) -> FilePage:
    """List your files (admins: everyone's), newest first, a page at a time."""
    files, total = await service.list_page(user, params)
    return FilePage.build([FileResponse.model_validate(f) for f in files], total, params)


@router.get("/{file_id:uuid}", responses=errors(HTTPStatus.NOT_FOUND))
async def read_file(file_id: uuid.UUID, user: CurrentUser, service: FileServiceDep) -> FileResponse:
    """A file's metadata."""
    return FileResponse.model_validate(await service.get(user, file_id))


@router.get(
    "/{file_id:uuid}/content",
    response_class=StreamingResponse,
    responses={
        200: {"description": "The file", "content": ANY_BINARY},
        206: {"description": "The requested range", "content": ANY_BINARY},
        **errors(HTTPStatus.NOT_FOUND, HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE),
    },
)
async def download_file(
    file_id: uuid.UUID,
    user: CurrentUser,
    service: FileServiceDep,
    range_header: Annotated[
        str | None,
        Header(alias="Range", max_length=256, description="One range of bytes: bytes=0-1023"),
    ] = None,
) -> StreamingResponse:
    """Download a file, or one range of its bytes. Always as an attachment, never rendered."""
    stored = await service.get(user, file_id)
    byte_range = parse_range(range_header, stored.size)
    start, end = (0, stored.size) if byte_range is None else (byte_range.start, byte_range.end)
    chunks = service.read(stored.storage_key, start, end)
    try:  # before the response starts: a missing object is still a clean 404
        with storage_errors():
            first = await anext(chunks, b"")
    except ObjectNotFoundError:
        logger.error("file_object_missing", file_id=str(file_id))  # noqa: TRY400
        raise NotFoundError("File") from None
    media_type = stored.content_type
    if media_type in SCRIPTABLE_TYPES:  # a browser would run or render it: plain bytes
        media_type = "application/octet-stream"
    headers = {
        "Content-Disposition": content_disposition(stored.filename),
        "Content-Length": str(end - start),
        "Accept-Ranges": "bytes",
        "ETag": f'"{stored.id}"',
    }
    status_code = HTTPStatus.OK
    if byte_range is not None:
        status_code = HTTPStatus.PARTIAL_CONTENT
        headers["Content-Range"] = byte_range.content_range(stored.size)
    return StreamingResponse(
        _prepend(first, chunks), status_code=status_code, media_type=media_type, headers=headers
    )


@router.delete(
    "/{file_id:uuid}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=errors(HTTPStatus.NOT_FOUND),
)
async def delete_file(file_id: uuid.UUID, user: CurrentUser, service: FileServiceDep) -> None:
    """Delete a file and its contents."""
    await service.delete(user, file_id)


async def _prepend(first: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    if first:
        yield first
    async for chunk in rest:
        yield chunk
