"""Business rules for items: owners see and change only their own; admins see all."""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from ...core.errors import NotFoundError, PermissionDeniedError
from ...core.pagination import Cursor, PageParams
from ...core.shared_cache import NO_SHARED_CACHE, SharedCache
from ..auth.principals import Principal
from ..users.models import Role
from .models import Item
from .repository import ItemRepository
from .schemas import ItemCreate, ItemFilters, ItemResponse, ItemSort, ItemUpdate

# How long the shared cache (when the bake has one) keeps an item read by id; an update or a
# delete forgets it at once, so this bounds only what a missed invalidation can leave behind.
ITEM_CACHE_SECONDS = 300.0


def item_cache_key(item_id: uuid.UUID) -> str:
    # v1 names the shape of the cached value: a release that changes ItemResponse bumps it, so
    # it never reads what an older release wrote.
    return f"items:v1:{item_id}"


class ItemService:
    def __init__(self, session: AsyncSession, cache: SharedCache = NO_SHARED_CACHE) -> None:
        self.session = session
        self.cache = cache
        self.items = ItemRepository(session)

    async def create(self, owner: Principal, data: ItemCreate) -> Item:
        item = await self.items.add(Item(owner_id=owner.id, **data.model_dump()))
        await self.session.commit()
        return item

    async def get(self, user: Principal, item_id: uuid.UUID) -> Item:
        """The item if *user* may see it; another user's item is indistinguishable from none."""
        item = await self.items.get(item_id, owner_id=_owner_scope(user))
        if item is None:
            raise NotFoundError("Item")
        return item

    async def read(self, user: Principal, item_id: uuid.UUID) -> ItemResponse:
        """The item as the API shows it, from the shared cache when it holds it. The cache is
        shared by every user, so whether *user* may see the item is checked on every read."""
        item = await self.cache.get_or_load(
            item_cache_key(item_id),
            ItemResponse,
            lambda: self._load(item_id),
            ttl_seconds=ITEM_CACHE_SECONDS,
        )
        if item is None or not _may_see(user, item.owner_id):
            raise NotFoundError("Item")
        return item

    async def _load(self, item_id: uuid.UUID) -> ItemResponse | None:
        item = await self.items.get(item_id, owner_id=None)
        return None if item is None else ItemResponse.model_validate(item)

    async def update(self, user: Principal, item_id: uuid.UUID, changes: ItemUpdate) -> Item:
        item = await self.get(user, item_id)
        for field, value in changes.model_dump(exclude_unset=True).items():
            setattr(item, field, value)
        await self.session.commit()
        await self.cache.delete(item_cache_key(item_id))
        return item

    async def delete(self, user: Principal, item_id: uuid.UUID) -> None:
        item = await self.get(user, item_id)
        await self.items.delete(item)
        await self.session.commit()
        await self.cache.delete(item_cache_key(item_id))

    async def list_page(
        self, user: Principal, filters: ItemFilters, sort: ItemSort, params: PageParams
    ) -> tuple[list[Item], int]:
        return await self.items.list_page(
            _scoped(user, filters), sort, offset=params.offset, limit=params.page_size
        )

    async def list_after(
        self, user: Principal, filters: ItemFilters, cursor: str | None, limit: int
    ) -> tuple[list[Item], str | None]:
        """A page of items newest first, and the cursor of the next page (None at the end)."""
        after = Cursor.decode(cursor) if cursor else None
        # One extra row says whether there is a next page without a second query.
        rows = await self.items.list_after(_scoped(user, filters), after, limit + 1)
        page, more = rows[:limit], len(rows) > limit
        next_cursor = Cursor(page[-1].created_at, page[-1].id).encode() if more else None
        return page, next_cursor


def _owner_scope(user: Principal) -> uuid.UUID | None:
    return None if user.role is Role.ADMIN else user.id


def _may_see(user: Principal, owner_id: uuid.UUID) -> bool:
    return user.role is Role.ADMIN or user.id == owner_id


def _scoped(user: Principal, filters: ItemFilters) -> ItemFilters:
    """Restrict a non-admin to their own items; only admins may filter by another owner."""
    if user.role is Role.ADMIN:
        return filters
    if filters.owner_id not in {None, user.id}:
        raise PermissionDeniedError(
            "Only admins can list other users' items", details={"field": "owner_id"}
        )
    return ItemFilters(
        status=filters.status, title_contains=filters.title_contains, owner_id=user.id
    )
