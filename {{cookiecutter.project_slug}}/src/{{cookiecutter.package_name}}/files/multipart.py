"""Stream the one file of a ``multipart/form-data`` upload without buffering it.

Starlette's ``request.form()`` spools every file to a temporary file before the route runs;
here the body is read once from ``request.stream()`` and pushed through python-multipart's
parser, so the file part's bytes reach storage as they arrive and at most about one network
chunk of them is in memory. Small fields sent before the file are collected (with limits);
anything after the file except the final boundary is refused, so a truncated or smuggled body
never passes for a complete upload. The client's filename and Content-Type are returned for
display only: never trust them for a path or a type.
"""

import re
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from enum import Enum, auto
from http import HTTPStatus

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from {{ cookiecutter.package_name }}.core.errors import AppError

DEFAULT_MAX_HEADER_BYTES = 16 * 1024
# RFC 2046 §5.1.1: 1 to 70 characters from this set, the last one not a space.
_BOUNDARY = re.compile(r"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]")
# Clients end the body with "--boundary--" and often a CRLF; more than this is not padding.
_MAX_EPILOGUE_BYTES = 1024
_WHITESPACE = b" \t\r\n"


class InvalidMultipartError(AppError):
    """The upload body is not the one-file ``multipart/form-data`` request the route accepts."""

    status_code = HTTPStatus.BAD_REQUEST
    code = "INVALID_MULTIPART"


@dataclass(frozen=True, slots=True)
class FilePart:
    """The file part of an upload: what the client said about it, and its bytes as they arrive.

    ``chunks`` must be read to the end: only then is the rest of the body checked, and it raises
    (``InvalidMultipartError``, or Starlette's ``ClientDisconnect``) rather than ending quietly when
    the body is cut short.
    """

    filename: str | None
    declared_type: str | None
    fields: dict[str, str]
    chunks: AsyncIterator[bytes]


class _Stage(Enum):
    BEFORE_FILE = auto()
    IN_FILE = auto()
    AFTER_FILE = auto()


class _Reader:
    """Feeds the request body to the push parser and keeps the state its callbacks build."""

    def __init__(
        self,
        stream: AsyncGenerator[bytes, None],
        boundary: bytes,
        *,
        field: str,
        max_fields: int,
        max_field_bytes: int,
        max_header_bytes: int,
    ) -> None:
        self._stream = stream
        self._file_field = field
        self._max_fields = max_fields
        self._max_field_bytes = max_field_bytes
        self._max_header_bytes = max_header_bytes
        self._close_delimiter = b"\r\n--" + boundary + b"--"
        self._tail = b""  # the end of the bytes written so far, to find the close delimiter
        self._epilogue_bytes = 0
        self.stage = _Stage.BEFORE_FILE
        self.ended = False  # the parser has seen the close delimiter
        self.fields: dict[str, str] = {}
        self.filename: str | None = None
        self.declared_type: str | None = None
        self.file_data: list[bytes] = []
        self._headers: dict[str, str] = {}
        self._header_name = bytearray()
        self._header_value = bytearray()
        self._header_bytes = 0
        self._field_name: str | None = None
        self._field_value = bytearray()
        self._parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._on_part_begin,
                "on_header_field": self._on_header_field,
                "on_header_value": self._on_header_value,
                "on_header_end": self._on_header_end,
                "on_headers_finished": self._on_headers_finished,
                "on_part_data": self._on_part_data,
                "on_part_end": self._on_part_end,
                "on_end": self._on_end,
            },
            max_header_size=max_header_bytes,
        )

    async def feed(self) -> bool:
        """Read and parse the next body chunk; False once the body has ended."""
        chunk = await anext(self._stream, None)
        if chunk is None:
            return False
        try:
            self._feed(chunk)
        except InvalidMultipartError:
            await self._stream.aclose()
            raise
        return True

    def _feed(self, chunk: bytes) -> None:
        if self.ended:
            self._check_epilogue(chunk)
            return
        try:
            self._parser.write(chunk)
        except FormParserError as exc:
            if str(exc).startswith("Maximum header"):  # the parser's own per-line limit
                raise self._headers_too_large() from exc
            raise InvalidMultipartError("The multipart body is malformed") from exc
        if self.ended:
            # The parser drops what follows the close delimiter; find it to check that rest.
            window = self._tail + chunk
            position = window.find(self._close_delimiter)
            if position >= 0:
                self._check_epilogue(window[position + len(self._close_delimiter) :])
            return
        keep = len(self._close_delimiter) - 1
        self._tail = chunk[-keep:] if len(chunk) >= keep else (self._tail + chunk)[-keep:]

    def _check_epilogue(self, data: bytes) -> None:
        self._epilogue_bytes += len(data)
        if data.strip(_WHITESPACE) or self._epilogue_bytes > _MAX_EPILOGUE_BYTES:
            raise InvalidMultipartError("The request body goes on after the final boundary")

    # python-multipart callbacks, in the order it calls them for each part.

    def _on_part_begin(self) -> None:
        if self.stage is _Stage.AFTER_FILE:
            raise InvalidMultipartError(
                "The file must be the last part, and only one file is accepted",
                details={"field": self._file_field},
            )
        self._headers = {}
        self._header_bytes = 0

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._count_header_bytes(end - start)
        self._header_name += data[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._count_header_bytes(end - start)
        self._header_value += data[start:end]

    def _count_header_bytes(self, size: int) -> None:
        self._header_bytes += size
        if self._header_bytes > self._max_header_bytes:
            raise self._headers_too_large()

    def _headers_too_large(self) -> InvalidMultipartError:
        return InvalidMultipartError(
            "A part's headers are too large", details={"limit": self._max_header_bytes}
        )

    def _on_header_end(self) -> None:
        name = self._header_name.decode("latin-1").lower()
        if name in self._headers:
            # Two parsers could pick different copies: refuse rather than guess.
            raise InvalidMultipartError("A part repeats a header", details={"header": name})
        self._headers[name] = self._header_value.decode("latin-1")
        self._header_name.clear()
        self._header_value.clear()

    def _on_headers_finished(self) -> None:
        name, filename = self._disposition()
        if name == self._file_field:
            self.stage = _Stage.IN_FILE
            self.filename = filename
            self.declared_type = _media_type(self._headers.get("content-type"))
        elif filename is not None:
            raise InvalidMultipartError(
                "Only one file is accepted, in its own field",
                details={"field": self._file_field},
            )
        elif name in self.fields:
            raise InvalidMultipartError("A form field is repeated", details={"field": name})
        elif len(self.fields) >= self._max_fields:
            raise InvalidMultipartError("Too many form fields", details={"limit": self._max_fields})
        else:
            self._field_name = name
            self._field_value.clear()

    def _disposition(self) -> tuple[str, str | None]:
        """The part's field name and filename (RFC 7578 §4.2: only the plain parameters)."""
        header = self._headers.get("content-disposition")
        if header is None:
            raise InvalidMultipartError("A part has no Content-Disposition header")
        disposition, params = parse_options_header(header)
        name = params.get(b"name")
        if disposition != b"form-data" or name is None:
            raise InvalidMultipartError("A part is not a named form-data part")
        try:
            decoded_name = name.decode()
        except UnicodeDecodeError as exc:
            raise InvalidMultipartError("A part's name is not UTF-8") from exc
        filename = params.get(b"filename")
        # Header bytes came in as latin-1; browsers send the filename's UTF-8 bytes raw.
        return decoded_name, None if filename is None else filename.decode(errors="replace")

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.stage is _Stage.IN_FILE:
            self.file_data.append(data[start:end])
            return
        if len(self._field_value) + end - start > self._max_field_bytes:
            raise InvalidMultipartError(
                "A form field is too large",
                details={"field": self._field_name, "limit": self._max_field_bytes},
            )
        self._field_value += data[start:end]

    def _on_part_end(self) -> None:
        if self.stage is _Stage.IN_FILE:
            self.stage = _Stage.AFTER_FILE
        elif self._field_name is not None:
            try:
                self.fields[self._field_name] = self._field_value.decode()
            except UnicodeDecodeError as exc:
                raise InvalidMultipartError(
                    "A form field is not UTF-8", details={"field": self._field_name}
                ) from exc
            self._field_name = None

    def _on_end(self) -> None:
        self.ended = True


class _FileChunks:
    """The file part's bytes, read from the body on demand; then the rest of the body checked."""

    def __init__(self, reader: _Reader) -> None:
        self._reader = reader
        self._done = False
        self._failure: Exception | None = None

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self

    async def __anext__(self) -> bytes:
        # Once failed, always failed: a retry must not see the rest of a broken body as an end.
        if self._failure is not None:
            raise self._failure
        try:
            return await self._next()
        except StopAsyncIteration:
            raise
        except Exception as exc:
            self._failure = exc
            raise

    async def _next(self) -> bytes:
        reader = self._reader
        while not self._done:
            if reader.file_data:
                data = b"".join(reader.file_data)
                reader.file_data.clear()
                return data
            if reader.stage is _Stage.AFTER_FILE:
                await self._finish()
            elif not await reader.feed():
                raise InvalidMultipartError("The request body ended inside the file part")
        raise StopAsyncIteration

    async def _finish(self) -> None:
        """Read the rest of the body: only the final boundary may follow the file."""
        reader = self._reader
        while await reader.feed():
            pass
        # python-multipart ends the file part only at the close delimiter or before another
        # part (refused in _on_part_begin); this guards against that ever changing.
        if not reader.ended:  # pragma: no cover
            raise InvalidMultipartError("The request body has no final boundary")
        self._done = True


def _boundary(content_type: str | None) -> bytes:
    media_type, params = parse_options_header(content_type)
    if media_type != b"multipart/form-data":
        raise InvalidMultipartError("The request body must be multipart/form-data")
    boundary = params.get(b"boundary", b"")
    if not _BOUNDARY.fullmatch(boundary.decode("latin-1")):
        raise InvalidMultipartError("The multipart boundary is missing or invalid")
    return boundary


def _media_type(content_type: str | None) -> str | None:
    media_type = parse_options_header(content_type)[0].decode("latin-1")
    return media_type or None


async def read_file_part(
    request: Request,
    *,
    field: str = "file",
    max_fields: int,
    max_field_bytes: int,
    max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES,
) -> FilePart:
    """Read the body up to the start of the file in *field*; its bytes then stream from ``chunks``.

    Fields before the file are returned (at most *max_fields*, each at most *max_field_bytes*);
    every part's headers are capped at *max_header_bytes*. Any other shape of body raises
    ``InvalidMultipartError``; a client that goes away raises Starlette's ``ClientDisconnect``.
    """
    reader = _Reader(
        request.stream(),
        _boundary(request.headers.get("content-type")),
        field=field,
        max_fields=max_fields,
        max_field_bytes=max_field_bytes,
        max_header_bytes=max_header_bytes,
    )
    while reader.stage is _Stage.BEFORE_FILE:
        if reader.ended or not await reader.feed():
            raise InvalidMultipartError("The request has no file part", details={"field": field})
    return FilePart(
        filename=reader.filename,
        declared_type=reader.declared_type,
        fields=dict(reader.fields),
        chunks=_FileChunks(reader),
    )
