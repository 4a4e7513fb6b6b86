"""What the files tests share: file contents of known types, uploads, what storage holds,
and the storage tests' backends and request bodies."""

import os
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from httpx import AsyncClient, Response

from {{ cookiecutter.package_name }}.files.storage import Storage

FILES = "/api/v1/files"


def png(size: int = 1024) -> bytes:
    """A PNG of *size* bytes (at least 69): a 1x1 image, padded with an ancillary chunk."""
    signature = b"\x89PNG\r\n\x1a\n"

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

    header = chunk(b"IHDR", b"\x00\x00\x00\x01\x00\x00\x00\x01\x08\x00\x00\x00\x00")
    image = chunk(b"IDAT", zlib.compress(b"\x00\x00"))
    end = chunk(b"IEND", b"")
    fixed = len(signature) + len(header) + len(image) + len(end) + 12
    padding = chunk(b"tEXt", b"c\x00" + b"x" * max(0, size - fixed - 2))
    data = signature + header + padding + image + end
    assert len(data) == size, (len(data), size)
    return data


PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
SCRIPT = b"<script>alert(document.cookie)</script>\n"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"


async def upload(
    client: AsyncClient,
    headers: dict[str, str],
    content: bytes,
    filename: str = "picture.png",
    content_type: str = "image/png",
    **extra: Any,
) -> Response:
    return await client.post(
        FILES, headers=headers, files={"file": (filename, content, content_type)}, **extra
    )


def stored_objects(directory: Path) -> list[str]:
    """The objects local storage holds, partial ones included."""
    return sorted(
        os.path.relpath(os.path.join(root, name), directory)
        for root, _, names in os.walk(directory)
        for name in names
    )


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
