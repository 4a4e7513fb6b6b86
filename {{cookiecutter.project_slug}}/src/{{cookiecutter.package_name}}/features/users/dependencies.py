"""How routes get a UserService."""

from typing import Annotated

from fastapi import Depends, Request

from ...dependencies import SessionDep
from ..auth.dependencies import client_address
from .service import UserService


async def get_user_service(request: Request, session: SessionDep) -> UserService:
    return UserService(session, client_address(request))


UserServiceDep = Annotated[UserService, Depends(get_user_service)]
