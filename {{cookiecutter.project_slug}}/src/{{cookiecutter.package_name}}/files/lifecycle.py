"""A deleted user's files go with them: the database removes their rows (ON DELETE CASCADE),
and whatever commits a user's deletion through a session of an app with this pack (an admin
script, a future endpoint) removes their stored objects once the commit is done. It listens to
the session, so the users feature knows nothing of files."""

import asyncio
import uuid
import weakref

from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session, UOWTransaction

from ..core.base import col
from ..features.users.models import User
from .models import StoredFile
from .service import remove_object
from .storage import Storage

_KEYS = "files.keys_of_deleted_users"


class _ObjectRemover:
    """Removes objects in the background and remembers what it has not finished."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.pending: set[asyncio.Task[None]] = set()

    def remove_soon(self, keys: list[str]) -> None:
        task = asyncio.get_running_loop().create_task(self._remove(keys))
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)

    async def _remove(self, keys: list[str]) -> None:
        for key in keys:
            await remove_object(self.storage, key)


# The remover of each app's engine; an app's entry leaves with its engine.
_REMOVERS: "weakref.WeakKeyDictionary[Engine, _ObjectRemover]" = weakref.WeakKeyDictionary()


def delete_objects_of_deleted_users(engine: Engine, storage: Storage) -> None:
    _REMOVERS[engine] = _ObjectRemover(storage)


async def stop_deleting_objects(engine: Engine) -> None:
    """Stop listening, and finish the removals under way."""
    remover = _REMOVERS.pop(engine, None)
    if remover is not None and remover.pending:
        await asyncio.gather(*remover.pending, return_exceptions=True)


@event.listens_for(Session, "before_flush")
def _note_keys_of_deleted_users(session: Session, _: UOWTransaction, __: object) -> None:
    if not isinstance(session.bind, Engine) or session.bind not in _REMOVERS:
        return
    user_ids: list[uuid.UUID] = [user.id for user in session.deleted if isinstance(user, User)]
    if not user_ids:
        return
    keys = session.scalars(
        select(col(StoredFile.storage_key)).where(col(StoredFile.owner_id).in_(user_ids))
    ).all()
    session.info.setdefault(_KEYS, []).extend(keys)


@event.listens_for(Session, "after_commit")
def _remove_objects_of_deleted_users(session: Session) -> None:
    keys: list[str] = session.info.pop(_KEYS, [])
    remover = _REMOVERS.get(session.bind) if isinstance(session.bind, Engine) else None
    if remover is not None and keys:
        remover.remove_soon(keys)


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back_deletions(session: Session) -> None:
    session.info.pop(_KEYS, None)
