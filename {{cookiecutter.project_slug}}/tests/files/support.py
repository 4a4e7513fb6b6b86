"""What the storage tests share: a backend with a view of what it holds, and request bodies."""

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from {{ cookiecutter.package_name }}.files.storage import Storage

KEY = "0123456789abcdef0123456789abcdef"
MiB = 1024 * 1024


@dataclass
class Backend:
    storage: Storage
    # Everything stored, partial files and unfinished uploads included.
    contents: Callable[[], Awaitable[list[str]]]


async def chunks_of(data: bytes, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    """*data* the way an ASGI server delivers a request body: in small pieces."""
    for offset in range(0, len(data), size):
        yield data[offset : offset + size]
