"""How routes get a UserService."""

from typing import Annotated

from fastapi import Depends

from ...dependencies import SessionDep
from .service import UserService


async def get_user_service(session: SessionDep) -> UserService:
    return UserService(session)


UserServiceDep = Annotated[UserService, Depends(get_user_service)]
