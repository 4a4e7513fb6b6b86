"""Range headers: one byte range is served, anything unservable is a 416 or the whole file."""

import pytest

from {{ cookiecutter.package_name }}.files.ranges import (
    ByteRange,
    RangeNotSatisfiableError,
    parse_range,
)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-0", ByteRange(0, 1)),
        ("bytes=0-99", ByteRange(0, 100)),
        ("bytes=10-19", ByteRange(10, 20)),
        ("bytes=990-", ByteRange(990, 1000)),
        ("bytes=999-999", ByteRange(999, 1000)),
        ("bytes=-1", ByteRange(999, 1000)),
        ("bytes=-100", ByteRange(900, 1000)),
        ("Bytes = 5-9 ", ByteRange(5, 10)),
    ],
)
def test_a_single_range_is_parsed_with_an_exclusive_end(header: str, expected: ByteRange) -> None:
    assert parse_range(header, 1000) == expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=500-5000", ByteRange(500, 1000)),
        ("bytes=0-" + "9" * 40, ByteRange(0, 1000)),
        ("bytes=-5000", ByteRange(0, 1000)),
    ],
)
def test_a_range_past_the_end_is_clamped_to_the_file(header: str, expected: ByteRange) -> None:
    assert parse_range(header, 1000) == expected


def test_the_range_gives_the_206_headers() -> None:
    byte_range = parse_range("bytes=10-19", 1000)

    assert byte_range is not None
    assert (byte_range.length, byte_range.content_range(1000)) == (10, "bytes 10-19/1000")


@pytest.mark.parametrize(
    "header",
    [None, "items=0-10", "0-10", "bytes=0-10,20-30", "bytes=-5, 0-1", "bytes=0-1,garbage"],
    ids=["no-header", "other-unit", "no-unit", "two-ranges", "suffix-and-range", "list"],
)
def test_what_is_not_one_byte_range_is_served_whole(header: str | None) -> None:
    assert parse_range(header, 1000) is None


@pytest.mark.error_path
@pytest.mark.parametrize(
    ("header", "size"),
    [
        ("bytes=1000-", 1000),
        ("bytes=1000-2000", 1000),
        ("bytes=-0", 1000),
        ("bytes=0-", 0),
        ("bytes=-10", 0),
        ("bytes=" + "9" * 5000 + "-", 1000),
    ],
    ids=[
        "start-at-size",
        "start-past-size",
        "empty-suffix",
        "empty-file",
        "suffix-empty-file",
        "huge-number",
    ],
)
def test_an_unsatisfiable_range_is_a_416_naming_the_size(header: str, size: int) -> None:
    with pytest.raises(RangeNotSatisfiableError) as caught:
        parse_range(header, size)

    error = caught.value
    assert (error.status_code, error.code) == (416, "RANGE_NOT_SATISFIABLE")
    assert error.headers == {"Content-Range": f"bytes */{size}"}


@pytest.mark.error_path
@pytest.mark.parametrize(
    "header",
    [
        "bytes=",
        "bytes=-",
        "bytes=abc",
        "bytes=5-1",
        "bytes=1-2-3",
        "bytes=+1-2",
        "bytes=0x10-",
        "bytes= 1 - 2",
        "bytes=\u0661-\u0662",
    ],
)
def test_a_malformed_bytes_range_is_a_416(header: str) -> None:
    with pytest.raises(RangeNotSatisfiableError):
        parse_range(header, 1000)
