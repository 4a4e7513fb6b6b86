"""How routes get an ItemService and the list filters."""

import uuid
from typing import Annotated

from fastapi import Depends, Query, Request

from ...core.schemas import NO_NUL
from ...dependencies import SessionDep, resources_of
from .models import ItemStatus
from .schemas import ItemFilters
from .service import ItemService


async def get_item_service(request: Request, session: SessionDep) -> ItemService:
    return ItemService(session, resources_of(request).shared_cache)


async def item_filters(
    status: Annotated[ItemStatus | None, Query(description="Only items in this status")] = None,
    q: Annotated[
        str | None,
        Query(min_length=1, max_length=200, pattern=NO_NUL, description="Title contains"),
    ] = None,
    owner_id: Annotated[uuid.UUID | None, Query(description="Admins only: one owner")] = None,
) -> ItemFilters:
    return ItemFilters(status=status, title_contains=q, owner_id=owner_id)


ItemServiceDep = Annotated[ItemService, Depends(get_item_service)]
ItemFiltersDep = Annotated[ItemFilters, Depends(item_filters)]
