"""Request ids: the client's when it is well formed, else 128 random bits."""

import os
import re

_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def request_id_from(candidate: bytes) -> str:
    """The client's request id if it is well formed, else a new one."""
    text = candidate.decode("latin-1")
    return text if _VALID_REQUEST_ID.fullmatch(text) else new_request_id()


_spare_ids: list[str] = []
IDS_PER_SYSTEM_CALL = 256


def new_request_id() -> str:
    """128 random bits in hex, as random as ``uuid4().hex``, from the OS's CSPRNG. The bytes
    are read for 256 ids at once: a system call per request cost more than the rest of the id."""
    try:
        return _spare_ids.pop()  # atomic: no lock needed across threads
    except IndexError:
        block = os.urandom(16 * IDS_PER_SYSTEM_CALL).hex()
        _spare_ids.extend(block[start : start + 32] for start in range(32, len(block), 32))
        return block[:32]


# A forked worker must not hand out the ids its parent had read ahead.
os.register_at_fork(after_in_child=_spare_ids.clear)
