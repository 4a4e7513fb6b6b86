"""Item events from commits: whatever commits a change to an item through a session of an app
with a hub (the items API, or code run inside the app), tells the item's owner once the commit
is done. Like the principal cache's eviction (features/auth/principals.py), it listens to the
session, so the items feature knows nothing of WebSockets."""

import uuid
import weakref
from collections.abc import Iterable
from typing import Literal

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, UOWTransaction

from ..core.clock import utc_now
from ..features.items.models import Item
from .frames import ItemEvent
from .hub import Hub

ItemChange = Literal["item.created", "item.updated", "item.deleted"]

# The hub of each app's engine; an app's entry leaves with its engine.
_HUBS: "weakref.WeakKeyDictionary[Engine, Hub]" = weakref.WeakKeyDictionary()
_CHANGES = "realtime.item_changes"


def publish_item_events(engine: Engine, hub: Hub) -> None:
    """Send the item events of commits made through *engine* to *hub*."""
    _HUBS[engine] = hub


def stop_item_events(engine: Engine) -> None:
    _HUBS.pop(engine, None)


@event.listens_for(Session, "after_flush")
def _note_item_changes(session: Session, _: UOWTransaction) -> None:
    if not isinstance(session.bind, Engine) or session.bind not in _HUBS:
        return
    changes: list[tuple[ItemChange, uuid.UUID, uuid.UUID]] = [
        *(("item.created", item.id, item.owner_id) for item in _items(session.new)),
        *(
            ("item.updated", item.id, item.owner_id)
            for item in _items(session.dirty)
            if session.is_modified(item)
        ),
        *(("item.deleted", item.id, item.owner_id) for item in _items(session.deleted)),
    ]
    if changes:
        session.info.setdefault(_CHANGES, []).extend(changes)


@event.listens_for(Session, "after_commit")
def _send_committed_changes(session: Session) -> None:
    changes: list[tuple[ItemChange, uuid.UUID, uuid.UUID]] = session.info.pop(_CHANGES, [])
    hub = _HUBS.get(session.bind) if isinstance(session.bind, Engine) else None
    if hub is None or not changes:
        return
    at = utc_now()
    for change, item_id, owner_id in changes:
        hub.to_users_soon([owner_id], ItemEvent(type=change, item_id=item_id, at=at))


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back_changes(session: Session) -> None:
    session.info.pop(_CHANGES, None)


def _items(objects: Iterable[object]) -> list[Item]:
    return [item for item in objects if isinstance(item, Item)]
