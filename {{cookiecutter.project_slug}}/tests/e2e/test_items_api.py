"""Items over HTTP: CRUD, ownership, filters, sorting and both kinds of pagination."""

import uuid
from typing import Any

import pytest
from httpx import AsyncClient

from {{ cookiecutter.package_name }}.features.users.models import User

from ..factories import ItemFactory, UserFactory
from ..support import bearer

ITEMS = "/api/v1/items"


async def test_create_item_belongs_to_the_caller(
    client: AsyncClient, user: User, user_headers: dict[str, str]
) -> None:
    response = await client.post(
        ITEMS, json={"title": "Write docs", "priority": 2}, headers=user_headers
    )

    assert response.status_code == 201
    body = response.json()
    assert body["title"] == "Write docs"
    assert body["owner_id"] == str(user.id)
    assert body["status"] == "todo"


async def test_read_update_delete_an_own_item(
    client: AsyncClient, user: User, user_headers: dict[str, str], items: ItemFactory
) -> None:
    item = await items.create(user)
    url = f"{ITEMS}/{item.id}"

    assert (await client.get(url, headers=user_headers)).json()["title"] == item.title
    updated = await client.patch(url, json={"status": "done"}, headers=user_headers)
    assert updated.json()["status"] == "done"
    assert updated.json()["title"] == item.title
    assert (await client.delete(url, headers=user_headers)).status_code == 204
    assert (await client.get(url, headers=user_headers)).status_code == 404


async def test_admin_sees_every_item(
    client: AsyncClient, user: User, admin_headers: dict[str, str], items: ItemFactory
) -> None:
    item = await items.create(user)

    response = await client.get(f"{ITEMS}/{item.id}", headers=admin_headers)

    assert response.status_code == 200


async def test_list_shows_only_own_items(
    client: AsyncClient,
    user: User,
    user_headers: dict[str, str],
    users: UserFactory,
    items: ItemFactory,
) -> None:
    other = await users.create()
    mine = await items.create(user)
    await items.create(other)

    body = (await client.get(ITEMS, headers=user_headers)).json()

    assert [entry["id"] for entry in body["items"]] == [str(mine.id)]
    assert body["total"] == 1


async def test_list_paginates(
    client: AsyncClient, user: User, user_headers: dict[str, str], items: ItemFactory
) -> None:
    for _ in range(5):
        await items.create(user)

    body = (
        await client.get(ITEMS, params={"page": 2, "page_size": 2}, headers=user_headers)
    ).json()

    assert len(body["items"]) == 2
    assert body | {"items": []} == {
        "items": [],
        "total": 5,
        "page": 2,
        "page_size": 2,
        "pages": 3,
        "has_next": True,
    }


async def test_list_filters_by_status_and_title(
    client: AsyncClient, user: User, user_headers: dict[str, str], items: ItemFactory
) -> None:
    await items.create(user, title="Buy milk", status="done")
    await items.create(user, title="Buy 100% juice", status="todo")
    await items.create(user, title="Sell car", status="todo")

    by_status = await client.get(ITEMS, params={"status": "todo"}, headers=user_headers)
    by_title = await client.get(ITEMS, params={"q": "100%"}, headers=user_headers)

    assert {item["title"] for item in by_status.json()["items"]} == {"Buy 100% juice", "Sell car"}
    assert [item["title"] for item in by_title.json()["items"]] == ["Buy 100% juice"]


@pytest.mark.parametrize(
    ("sort", "expected"), [("priority", [1, 2, 3]), ("-priority", [3, 2, 1]), ("title", [2, 3, 1])]
)
async def test_list_sorts_by_whitelisted_fields(
    client: AsyncClient,
    user: User,
    user_headers: dict[str, str],
    items: ItemFactory,
    sort: str,
    expected: list[int],
) -> None:
    for title, priority in (("c", 1), ("a", 2), ("b", 3)):
        await items.create(user, title=title, priority=priority)

    body = (await client.get(ITEMS, params={"sort": sort}, headers=user_headers)).json()

    assert [item["priority"] for item in body["items"]] == expected


async def test_admin_filters_by_owner(
    client: AsyncClient,
    user: User,
    admin_headers: dict[str, str],
    users: UserFactory,
    items: ItemFactory,
) -> None:
    await items.create(user)
    await items.create(await users.create())

    body = (
        await client.get(ITEMS, params={"owner_id": str(user.id)}, headers=admin_headers)
    ).json()

    assert body["total"] == 1


async def test_cursor_pages_walk_every_item_once(
    client: AsyncClient, user: User, user_headers: dict[str, str], items: ItemFactory
) -> None:
    created = {str((await items.create(user)).id) for _ in range(5)}
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 2}
    while True:
        page = (await client.get(f"{ITEMS}/cursor", params=params, headers=user_headers)).json()
        seen += [item["id"] for item in page["items"]]
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]

    assert sorted(seen) == sorted(created)
    assert len(seen) == len(created)


@pytest.mark.error_path
class TestItemErrors:
    async def test_unknown_item_is_not_found(
        self, client: AsyncClient, user_headers: dict[str, str]
    ) -> None:
        response = await client.get(f"{ITEMS}/{uuid.uuid4()}", headers=user_headers)

        assert response.status_code == 404

    async def test_a_malformed_item_id_matches_no_route(
        self, client: AsyncClient, user_headers: dict[str, str]
    ) -> None:
        response = await client.get(f"{ITEMS}/not-a-uuid", headers=user_headers)

        assert response.status_code == 404
        assert response.json()["error"]["code"] == "NOT_FOUND"

    @pytest.mark.parametrize(
        "body",
        [
            {},
            {"title": ""},
            {"title": "   "},
            {"title": "x" * 201},
            {"title": "nul\x00"},
            {"title": "ok", "priority": 9},
            {"title": "ok", "priority": True},
            {"title": "ok", "priority": "3"},
            {"title": "ok", "status": "archived"},
            {"title": "ok", "owner_id": str(uuid.uuid4())},
            {"title": "ok", "id": str(uuid.uuid4())},
        ],
        ids=[
            "empty",
            "blank",
            "spaces",
            "long",
            "nul",
            "priority",
            "bool",
            "str",
            "status",
            "owner",
            "id",
        ],
    )
    async def test_create_rejects_invalid_bodies(
        self, client: AsyncClient, user_headers: dict[str, str], body: dict[str, Any]
    ) -> None:
        response = await client.post(ITEMS, json=body, headers=user_headers)

        assert response.status_code == 422
        assert response.json()["error"]["code"] == "VALIDATION_ERROR"

    @pytest.mark.parametrize("body", [{"title": None}, {"owner_id": str(uuid.uuid4())}])
    async def test_update_rejects_null_and_server_owned_fields(
        self,
        client: AsyncClient,
        user: User,
        user_headers: dict[str, str],
        items: ItemFactory,
        body: dict[str, Any],
    ) -> None:
        item = await items.create(user)

        response = await client.patch(f"{ITEMS}/{item.id}", json=body, headers=user_headers)

        assert response.status_code == 422

    @pytest.mark.parametrize(
        "params",
        [
            {"page": 0},
            {"page_size": 101},
            {"sort": "password_hash"},
            {"status": "nope"},
            {"q": ""},
        ],
        ids=["page", "page-size", "sort", "status", "q"],
    )
    async def test_list_rejects_invalid_parameters(
        self, client: AsyncClient, user_headers: dict[str, str], params: dict[str, Any]
    ) -> None:
        response = await client.get(ITEMS, params=params, headers=user_headers)

        assert response.status_code == 422

    async def test_a_user_cannot_list_another_owner(
        self, client: AsyncClient, user_headers: dict[str, str], users: UserFactory
    ) -> None:
        other = await users.create()

        response = await client.get(ITEMS, params={"owner_id": str(other.id)}, headers=user_headers)

        assert response.status_code == 403

    @pytest.mark.parametrize("cursor", ["garbage!", "eyJ4IjogMX0", "bm90IGpzb24"])
    async def test_invalid_cursor_is_rejected(
        self, client: AsyncClient, user_headers: dict[str, str], cursor: str
    ) -> None:
        response = await client.get(
            f"{ITEMS}/cursor", params={"cursor": cursor}, headers=user_headers
        )

        assert response.status_code == 422
        assert response.json()["error"]["code"] == "INVALID_REQUEST"

    async def test_items_need_authentication(self, client: AsyncClient) -> None:
        response = await client.get(ITEMS)

        assert response.status_code == 401
        assert response.json()["error"]["message"] == "Not authenticated"

    async def test_a_deleted_users_token_stops_working(
        self, client: AsyncClient, users: UserFactory, session: Any
    ) -> None:
        victim = await users.create()
        headers = await bearer(client, victim)
        await session.delete(await session.get(User, victim.id))
        await session.commit()

        response = await client.get(ITEMS, headers=headers)

        assert response.status_code == 401
