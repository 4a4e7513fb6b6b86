"""Items API: create, read, update, delete and list your items (admins: everyone's)."""

import uuid
from http import HTTPStatus
from typing import Annotated

from fastapi import APIRouter, Query, status

from ...core.openapi import DocumentedRoute, errors
from ...core.pagination import MAX_PAGE_SIZE, PageParamsDep
from ..auth.dependencies import CurrentUser
from .dependencies import ItemFiltersDep, ItemServiceDep
from .schemas import (
    ItemCreate,
    ItemCursorPage,
    ItemPage,
    ItemResponse,
    ItemSort,
    ItemUpdate,
)

router = APIRouter(prefix="/items", tags=["items"], route_class=DocumentedRoute)

# OpenAPI links: what a client (or a stateful test) can do with the item it just created.
_ITEM_ID = {"item_id": "$response.body#/id"}
CREATED_ITEM_LINKS = {
    "ReadItem": {"operationId": "items-read_item", "parameters": _ITEM_ID},
    "UpdateItem": {"operationId": "items-update_item", "parameters": _ITEM_ID},
    "DeleteItem": {"operationId": "items-delete_item", "parameters": _ITEM_ID},
}
# Only admins may list another user's items (the owner_id filter).
OWNER_FILTER_REFUSED = errors(HTTPStatus.FORBIDDEN)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses={201: {"description": "The created item", "links": CREATED_ITEM_LINKS}},
)
async def create_item(body: ItemCreate, user: CurrentUser, service: ItemServiceDep) -> ItemResponse:
    """Create an item owned by the signed-in user."""
    return ItemResponse.model_validate(await service.create(user, body))


@router.get("", responses=OWNER_FILTER_REFUSED)
async def list_items(
    user: CurrentUser,
    service: ItemServiceDep,
    filters: ItemFiltersDep,
    params: PageParamsDep,
    sort: Annotated[ItemSort, Query(description="Field to sort by; prefix - for descending")] = (
        ItemSort.CREATED_AT_DESC
    ),
) -> ItemPage:
    """List items a page at a time, filtered and sorted."""
    items, total = await service.list_page(user, filters, sort, params)
    return ItemPage.build([ItemResponse.model_validate(item) for item in items], total, params)


@router.get("/cursor", responses=OWNER_FILTER_REFUSED)
async def list_items_by_cursor(
    user: CurrentUser,
    service: ItemServiceDep,
    filters: ItemFiltersDep,
    cursor: Annotated[
        str | None, Query(max_length=512, description="next_cursor of a page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 20,
) -> ItemCursorPage:
    """List items newest first with a cursor: stable while items are being added."""
    items, next_cursor = await service.list_after(user, filters, cursor, limit)
    return ItemCursorPage(
        items=[ItemResponse.model_validate(item) for item in items], next_cursor=next_cursor
    )


@router.get("/{item_id:uuid}", responses=errors(HTTPStatus.NOT_FOUND))
async def read_item(item_id: uuid.UUID, user: CurrentUser, service: ItemServiceDep) -> ItemResponse:
    """Return one item."""
    return await service.read(user, item_id)


@router.patch("/{item_id:uuid}", responses=errors(HTTPStatus.NOT_FOUND))
async def update_item(
    item_id: uuid.UUID, body: ItemUpdate, user: CurrentUser, service: ItemServiceDep
) -> ItemResponse:
    """Change some fields of an item."""
    return ItemResponse.model_validate(await service.update(user, item_id, body))


@router.delete(
    "/{item_id:uuid}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=errors(HTTPStatus.NOT_FOUND),
)
async def delete_item(item_id: uuid.UUID, user: CurrentUser, service: ItemServiceDep) -> None:
    """Delete an item."""
    await service.delete(user, item_id)
