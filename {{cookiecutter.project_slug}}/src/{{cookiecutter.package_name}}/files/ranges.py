"""The ``Range`` request header, for resumable and partial downloads (RFC 9110 §14).

One range is served as a 206; anything this service does not serve partially (no header, another
unit, several ranges) gets the whole file as a 200, which RFC 9110 §14.2 always allows.
"""

import re
from dataclasses import dataclass
from http import HTTPStatus

from {{ cookiecutter.package_name }}.core.errors import AppError

_RANGE_SPEC = re.compile(r"([0-9]*)-([0-9]*)")  # ASCII digits only: int() takes others


class RangeNotSatisfiableError(AppError):
    """A bytes range that is malformed or lies wholly past the end of the file (416)."""

    status_code = HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE
    code = "RANGE_NOT_SATISFIABLE"

    def __init__(self, size: int) -> None:
        super().__init__(
            "The requested range cannot be served",
            details={"size": size},
            headers={"Content-Range": f"bytes */{size}"},
        )


@dataclass(frozen=True, slots=True)
class ByteRange:
    """Bytes ``[start, end)`` of a file: *end* is exclusive, as in slicing and ``Storage.get``."""

    start: int
    end: int

    @property
    def length(self) -> int:
        """The ``Content-Length`` of the 206 response."""
        return self.end - self.start

    def content_range(self, size: int) -> str:
        """The ``Content-Range`` header of the 206 response (its last byte is inclusive)."""
        return f"bytes {self.start}-{self.end - 1}/{size}"


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The single byte range *header* asks for in a file of *size* bytes, or None for all of it.

    ``a-b``, ``a-`` and ``-n`` (the last n bytes) are served, the end clamped to the file.
    Raises ``RangeNotSatisfiableError`` for a malformed bytes range or one past the end.
    """
    if header is None:
        return None
    unit, equals, ranges = header.partition("=")
    if not equals or unit.strip().lower() != "bytes":
        return None  # RFC 9110 §14.2: a server ignores a range unit it does not understand
    if "," in ranges:
        # Several ranges would need a multipart/byteranges body, and the overlapping-ranges
        # trick makes them a denial-of-service tool; the whole file answers any of them.
        return None
    match = _RANGE_SPEC.fullmatch(ranges.strip())
    if match is None or match.group(1) == match.group(2) == "":
        raise RangeNotSatisfiableError(size)
    first, last = match.groups()
    try:
        return _resolve(first, last, size)
    except ValueError:  # more digits than int() accepts
        raise RangeNotSatisfiableError(size) from None


def _resolve(first: str, last: str, size: int) -> ByteRange:
    if not first:  # "-n": the last n bytes
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiableError(size)
        return ByteRange(max(size - suffix, 0), size)
    start = int(first)
    if last and int(last) < start:
        raise RangeNotSatisfiableError(size)
    if start >= size:
        raise RangeNotSatisfiableError(size)
    end = size if not last else min(int(last) + 1, size)
    return ByteRange(start, end)
