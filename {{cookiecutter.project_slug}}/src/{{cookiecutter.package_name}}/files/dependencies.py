"""How routes get a FileService."""

from typing import Annotated, cast

from fastapi import Depends, FastAPI, Request

from ..dependencies import SessionDep, resources_of
from .service import FileService
from .storage import Storage


def storage_of(app: FastAPI) -> Storage:
    """The pack's storage, opened by its lifespan (pack.py)."""
    return cast(Storage, app.state.file_storage)


async def get_file_service(request: Request, session: SessionDep) -> FileService:
    return FileService(session, storage_of(request.app), resources_of(request).settings)


FileServiceDep = Annotated[FileService, Depends(get_file_service)]
