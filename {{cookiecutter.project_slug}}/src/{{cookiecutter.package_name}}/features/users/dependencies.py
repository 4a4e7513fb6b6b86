"""How routes get a UserService."""

from typing import Annotated

from fastapi import Depends, Request

from ...dependencies import SessionDep, resources_of
from .service import UserService


async def get_user_service(request: Request, session: SessionDep) -> UserService:
    return UserService(session, resources_of(request).principals)


UserServiceDep = Annotated[UserService, Depends(get_user_service)]
