"""How routes get a FileService."""

from typing import Annotated, cast

from fastapi import Depends, FastAPI, Request

from ..dependencies import SessionDep, resources_of
from .direct import Tickets, ticket_key
from .service import FileService
from .storage import Storage


def storage_of(app: FastAPI) -> Storage:
    """The pack's storage, opened by its lifespan (pack.py)."""
    return cast(Storage, app.state.file_storage)


def tickets_of(request: Request) -> Tickets:
    """Direct uploads' tickets, signed with a key derived from the service's secret."""
    secret = resources_of(request).settings.jwt_secret.get_secret_value()
    return Tickets(ticket_key(secret))


async def get_file_service(request: Request, session: SessionDep) -> FileService:
    app = request.app
    return FileService(
        session, storage_of(app), resources_of(request).settings, app.state.files_tracer
    )


FileServiceDep = Annotated[FileService, Depends(get_file_service)]
