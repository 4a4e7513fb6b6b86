"""The streaming multipart reader: the file streams out, every other body shape is refused."""

from collections.abc import Sequence
from typing import Any

import httpx
import pytest
from starlette.requests import ClientDisconnect, Request

from {{ cookiecutter.package_name }}.files.multipart import (
    DEFAULT_MAX_HEADER_BYTES,
    FilePart,
    InvalidMultipartError,
    read_file_part,
)

BOUNDARY = "----fastapiprodBoundary7MA4YWxk"
CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"
# Binary data with near-misses of the delimiter, which must come through as data.
PAYLOAD = (
    bytes(range(256)) * 64
    + f"\r\n--{BOUNDARY}X\r\n--{BOUNDARY}-X\r\n--{BOUNDARY[:-1]}\r\n-".encode()
    + b"\r\n--almost-a-boundary\r\nend\r"
)


class Body:
    """An ASGI ``receive`` that hands the body over in the given chunks, counting the reads."""

    def __init__(self, chunks: Sequence[bytes], *, disconnect: bool = False) -> None:
        self.chunks = list(chunks)
        self.disconnect = disconnect
        self.reads = 0

    async def __call__(self) -> dict[str, Any]:
        self.reads += 1
        if self.chunks:
            chunk = self.chunks.pop(0)
            more = bool(self.chunks) or self.disconnect
            return {"type": "http.request", "body": chunk, "more_body": more}
        return {"type": "http.disconnect"}


def make_request(body: Body, content_type: str | None = CONTENT_TYPE) -> Request:
    headers = [] if content_type is None else [(b"content-type", content_type.encode("latin-1"))]
    scope = {"type": "http", "method": "POST", "path": "/files", "headers": headers}
    return Request(scope, body)


def part(headers: str, data: bytes, boundary: str = BOUNDARY) -> bytes:
    return f"--{boundary}\r\n{headers}\r\n\r\n".encode() + data + b"\r\n"


def file_part(data: bytes = PAYLOAD, filename: str = "photo.png") -> bytes:
    return part(
        f'Content-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: image/png",
        data,
    )


def field_part(name: str, value: str) -> bytes:
    return part(f'Content-Disposition: form-data; name="{name}"', value.encode())


def body_of(*parts: bytes, boundary: str = BOUNDARY) -> bytes:
    return b"".join(parts) + f"--{boundary}--\r\n".encode()


def split(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


async def read(
    data: bytes | Sequence[bytes],
    content_type: str | None = CONTENT_TYPE,
    *,
    max_fields: int = 4,
    max_field_bytes: int = 64,
    max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES,
) -> tuple[FilePart, bytes]:
    """Read an upload to its end: the part, and the file's bytes joined."""
    chunks = [data] if isinstance(data, bytes) else data
    upload = await read_file_part(
        make_request(Body(chunks), content_type),
        max_fields=max_fields,
        max_field_bytes=max_field_bytes,
        max_header_bytes=max_header_bytes,
    )
    return upload, b"".join([chunk async for chunk in upload.chunks])


async def test_the_file_part_comes_back_with_its_name_type_and_bytes() -> None:
    upload, data = await read(body_of(file_part()))

    assert (upload.filename, upload.declared_type, upload.fields) == ("photo.png", "image/png", {})
    assert data == PAYLOAD


async def test_fields_before_the_file_are_returned() -> None:
    upload, data = await read(
        body_of(field_part("title", "Holiday \u2600"), field_part("album", "2026"), file_part())
    )

    assert upload.fields == {"title": "Holiday \u2600", "album": "2026"}
    assert data == PAYLOAD


@pytest.mark.parametrize("size", [1, 2, 7, 40, 41, 1000])
async def test_any_chunking_gives_the_same_file(size: int) -> None:
    # Small sizes split the boundary, the CRLF before it and the headers across chunks.
    upload, data = await read(split(body_of(field_part("title", "x"), file_part()), size))

    assert (upload.fields, data) == ({"title": "x"}, PAYLOAD)


async def test_file_bytes_stream_before_the_body_has_arrived() -> None:
    body = Body(split(body_of(file_part()), 1000))
    total = len(body.chunks)
    upload = await read_file_part(make_request(body), max_fields=1, max_field_bytes=1)

    first = await anext(upload.chunks)

    assert first == PAYLOAD[: len(first)]
    assert body.reads < total / 2


async def test_no_more_than_a_network_chunk_of_file_is_held() -> None:
    upload = await read_file_part(
        make_request(Body(split(body_of(file_part()), 1000))), max_fields=1, max_field_bytes=1
    )

    sizes = [len(chunk) async for chunk in upload.chunks]

    # A chunk may also carry the few bytes held back as a possible boundary.
    assert max(sizes) <= 1000 + len(BOUNDARY) + 4


async def test_a_body_built_by_httpx_is_read() -> None:
    built = httpx.Request(
        "POST",
        "http://test/files",
        data={"title": "Caf\u00e9"},
        files={"file": ("caf\u00e9.png", PAYLOAD, "image/png")},
    )

    upload, data = await read(split(built.read(), 4096), built.headers["content-type"])

    assert (upload.filename, upload.declared_type) == ("caf\u00e9.png", "image/png")
    assert (upload.fields, data) == ({"title": "Caf\u00e9"}, PAYLOAD)


async def test_an_empty_file_yields_no_bytes() -> None:
    upload, data = await read(body_of(file_part(b"")))

    assert (upload.filename, data) == ("photo.png", b"")


async def test_a_file_part_without_filename_or_type_is_still_the_file() -> None:
    upload, data = await read(body_of(part('Content-Disposition: form-data; name="file"', b"x")))

    assert (upload.filename, upload.declared_type, data) == (None, None, b"x")


async def test_a_utf8_filename_is_decoded() -> None:
    upload, _ = await read(body_of(file_part(filename="r\u00e9sum\u00e9 \u6587\u4ef6.pdf")))

    assert upload.filename == "r\u00e9sum\u00e9 \u6587\u4ef6.pdf"


async def test_the_client_filename_is_returned_unsanitised_for_names_py() -> None:
    upload, _ = await read(body_of(file_part(filename="../../etc/passwd")))

    assert upload.filename == "../../etc/passwd"


async def test_the_file_field_name_can_be_chosen() -> None:
    body = body_of(part('Content-Disposition: form-data; name="avatar"; filename="a.png"', b"a"))
    upload = await read_file_part(
        make_request(Body([body])), field="avatar", max_fields=0, max_field_bytes=0
    )

    assert [chunk async for chunk in upload.chunks] == [b"a"]


@pytest.mark.parametrize(
    "content_type",
    [
        f'multipart/form-data; boundary="{BOUNDARY}"',
        f"Multipart/Form-Data; charset=utf-8; boundary={BOUNDARY}",
    ],
)
async def test_quoted_boundaries_and_extra_parameters_are_accepted(content_type: str) -> None:
    _, data = await read(body_of(file_part()), content_type)

    assert data == PAYLOAD


async def test_a_trailing_crlf_and_transport_padding_are_accepted() -> None:
    # RFC 2046 allows spaces after a delimiter (python-multipart: not after the first one).
    padded = file_part().replace(f"--{BOUNDARY}\r\n".encode(), f"--{BOUNDARY} \t\r\n".encode())
    body = field_part("title", "x") + padded + f"--{BOUNDARY}--\r\n\r\n".encode()

    upload, data = await read(body)

    assert (upload.fields, data) == ({"title": "x"}, PAYLOAD)


async def test_a_body_without_a_final_crlf_is_accepted() -> None:
    _, data = await read(file_part() + f"--{BOUNDARY}--".encode())

    assert data == PAYLOAD


@pytest.mark.error_path
@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "application/json",
        "application/x-www-form-urlencoded",
        "multipart/mixed; boundary=abc",
        "multipart/form-data",
        "multipart/form-data; boundary=",
        "multipart/form-data; boundary=" + "a" * 71,
        "multipart/form-data; boundary=bad\u00e9",
        'multipart/form-data; boundary="ends with space "',
    ],
)
async def test_a_request_that_is_not_multipart_with_a_valid_boundary_is_refused(
    content_type: str | None,
) -> None:
    with pytest.raises(InvalidMultipartError) as caught:
        await read(body_of(file_part()), content_type)

    assert (caught.value.status_code, caught.value.code) == (400, "INVALID_MULTIPART")


@pytest.mark.error_path
@pytest.mark.parametrize(
    "body",
    [
        b"",
        f"--{BOUNDARY}--\r\n".encode(),
        body_of(field_part("title", "x")),
        body_of(part('Content-Disposition: form-data; name="other"', b"x")),
    ],
    ids=["empty", "no-parts", "only-a-field", "wrong-field"],
)
async def test_a_body_without_the_file_part_is_refused(body: bytes) -> None:
    with pytest.raises(InvalidMultipartError, match="no file part"):
        await read(body)


@pytest.mark.error_path
@pytest.mark.parametrize("size", [100, 100_000])
async def test_a_second_file_is_refused(size: int) -> None:
    # Whether the second part shows up while the first is read or after, it is refused.
    with pytest.raises(InvalidMultipartError, match="only one file"):
        await read(split(body_of(file_part(), file_part()), size))


@pytest.mark.error_path
async def test_a_field_after_the_file_is_refused() -> None:
    with pytest.raises(InvalidMultipartError, match="last part"):
        await read(body_of(file_part(), field_part("title", "late")))


@pytest.mark.error_path
async def test_a_file_in_another_field_is_refused() -> None:
    other = part('Content-Disposition: form-data; name="extra"; filename="x.txt"', b"x")

    with pytest.raises(InvalidMultipartError, match="Only one file"):
        await read(body_of(other, file_part()))


@pytest.mark.error_path
async def test_too_many_fields_are_refused() -> None:
    fields = [field_part(f"f{index}", "x") for index in range(3)]

    with pytest.raises(InvalidMultipartError, match="Too many") as caught:
        await read(body_of(*fields, file_part()), max_fields=2)

    assert caught.value.details == {"limit": 2}


@pytest.mark.error_path
async def test_a_field_over_its_size_limit_is_refused() -> None:
    body = body_of(field_part("title", "x" * 65), file_part())

    with pytest.raises(InvalidMultipartError, match="too large") as caught:
        await read(split(body, 7), max_field_bytes=64)

    assert caught.value.details == {"field": "title", "limit": 64}


async def test_a_field_at_its_size_limit_is_accepted() -> None:
    upload, _ = await read(body_of(field_part("title", "x" * 64), file_part()), max_field_bytes=64)

    assert upload.fields == {"title": "x" * 64}


@pytest.mark.error_path
async def test_a_repeated_field_is_refused() -> None:
    with pytest.raises(InvalidMultipartError, match="repeated"):
        await read(body_of(field_part("a", "1"), field_part("a", "2"), file_part()))


@pytest.mark.error_path
async def test_a_field_that_is_not_utf8_is_refused() -> None:
    bad = part('Content-Disposition: form-data; name="title"', b"\xff\xfe")

    with pytest.raises(InvalidMultipartError, match="UTF-8"):
        await read(body_of(bad, file_part()))


@pytest.mark.error_path
@pytest.mark.parametrize("size", [1, 1000])
async def test_headers_over_the_limit_are_refused(size: int) -> None:
    body = body_of(file_part(filename="a" * 2000 + ".png"))

    with pytest.raises(InvalidMultipartError, match="headers are too large"):
        await read(split(body, size), max_header_bytes=1024)


async def test_a_long_filename_within_the_header_limit_is_accepted() -> None:
    upload, _ = await read(body_of(file_part(filename="\u00e9" * 2000 + ".png")))

    assert upload.filename == "\u00e9" * 2000 + ".png"


@pytest.mark.error_path
@pytest.mark.parametrize(
    "headers",
    [
        "Content-Type: text/plain",
        'Content-Disposition: attachment; name="file"',
        "Content-Disposition: form-data",
        'Content-Disposition: form-data; name="file"\r\nContent-Disposition: form-data; name="x"',
        'Content-Disposition: form-data; name="\xff"',
    ],
    ids=["no-disposition", "not-form-data", "no-name", "repeated-header", "name-not-utf8"],
)
async def test_a_part_with_bad_headers_is_refused(headers: str) -> None:
    bad = f"--{BOUNDARY}\r\n".encode() + headers.encode("latin-1") + b"\r\n\r\nx\r\n"

    with pytest.raises(InvalidMultipartError):
        await read(body_of(bad))


@pytest.mark.error_path
@pytest.mark.parametrize(
    "body",
    [
        b"garbage before any boundary",
        f"--{BOUNDARY}X\r\n".encode(),
        f"--{BOUNDARY}\r\nno colon here\r\n\r\n".encode(),
        f"--{BOUNDARY}\r\nContent-Disposition: form-data\rX".encode(),
    ],
    ids=["no-boundary", "bad-boundary-line", "bad-header", "bare-cr"],
)
async def test_a_malformed_body_is_refused(body: bytes) -> None:
    with pytest.raises(InvalidMultipartError, match="malformed"):
        await read(body)


@pytest.mark.error_path
async def test_bare_lf_line_endings_are_refused() -> None:
    body = body_of(field_part("title", "x"), file_part()).replace(b"\r\n", b"\n")

    with pytest.raises(InvalidMultipartError, match="malformed"):
        await read(body)


@pytest.mark.error_path
@pytest.mark.parametrize("size", [1, 64, 100_000])
async def test_a_body_cut_inside_the_file_raises_instead_of_ending(size: int) -> None:
    body = body_of(file_part())
    upload = await read_file_part(
        make_request(Body(split(body[: len(body) // 2], size))), max_fields=1, max_field_bytes=1
    )

    with pytest.raises(InvalidMultipartError, match="ended inside the file"):
        [chunk async for chunk in upload.chunks]


@pytest.mark.error_path
@pytest.mark.parametrize(
    "ending",
    [b"", b"\r\n", f"--{BOUNDARY}".encode(), f"--{BOUNDARY}-".encode()],
    ids=["nothing", "crlf", "no-dashes", "one-dash"],
)
async def test_a_body_without_its_final_boundary_is_refused(ending: bytes) -> None:
    with pytest.raises(InvalidMultipartError):
        await read(file_part() + ending)


@pytest.mark.error_path
@pytest.mark.parametrize("size", [1, 1000])
async def test_data_after_the_final_boundary_is_refused(size: int) -> None:
    body = body_of(file_part()) + b"<script>smuggled</script>"

    with pytest.raises(InvalidMultipartError, match="after the final boundary"):
        await read(split(body, size))


@pytest.mark.error_path
async def test_endless_padding_after_the_final_boundary_is_refused() -> None:
    body = body_of(file_part()) + b"\r\n" * 1000

    with pytest.raises(InvalidMultipartError, match="after the final boundary"):
        await read(split(body, 100))


@pytest.mark.error_path
async def test_a_client_that_disconnects_mid_file_raises_client_disconnect() -> None:
    body = body_of(file_part())
    request = make_request(Body(split(body[:-200], 500), disconnect=True))
    upload = await read_file_part(request, max_fields=1, max_field_bytes=1)

    with pytest.raises(ClientDisconnect):
        [chunk async for chunk in upload.chunks]


@pytest.mark.error_path
async def test_a_client_that_disconnects_before_the_file_raises_client_disconnect() -> None:
    request = make_request(Body([field_part("title", "x")], disconnect=True))

    with pytest.raises(ClientDisconnect):
        await read_file_part(request, max_fields=1, max_field_bytes=8)


@pytest.mark.error_path
@pytest.mark.parametrize(
    "body",
    [file_part(), body_of(file_part()) + b"junk"],
    ids=["cut-in-file", "junk-after-end"],
)
async def test_a_failed_file_stream_keeps_failing(body: bytes) -> None:
    request = make_request(Body(split(body, 1000)))
    upload = await read_file_part(request, max_fields=1, max_field_bytes=1)
    with pytest.raises(InvalidMultipartError) as first:
        [chunk async for chunk in upload.chunks]

    with pytest.raises(InvalidMultipartError) as second:
        await anext(upload.chunks)

    assert second.value is first.value


@pytest.mark.error_path
async def test_many_short_headers_count_against_the_header_limit() -> None:
    headers = "".join(f"X-Padding-{index}: {'p' * 300}\r\n" for index in range(4))
    bad = part(f'{headers}Content-Disposition: form-data; name="file"', b"x")

    with pytest.raises(InvalidMultipartError, match="headers are too large") as caught:
        await read(body_of(bad), max_header_bytes=1024)

    assert caught.value.details == {"limit": 1024}


@pytest.mark.error_path
async def test_too_many_headers_in_a_part_are_refused() -> None:
    headers = "".join(f"X-Extra-{index}: x\r\n" for index in range(10))
    bad = part(f'{headers}Content-Disposition: form-data; name="file"', b"x")

    with pytest.raises(InvalidMultipartError, match="headers are too large"):
        await read(body_of(bad))
