"""Type sniffing: images and PDFs are recognised, and markup never passes for an image."""

import io
import struct
import zipfile
import zlib

import pytest

from {{ cookiecutter.package_name }}.files.sniff import (
    SCRIPTABLE_TYPES,
    SNIFF_BYTES,
    sniff_type,
)


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0\0\0\0"))
        + chunk(b"IEND", b"")
    )


def zip_archive() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hello")
    return buffer.getvalue()


JFIF = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
EXIF = b"\xff\xd8\xff\xe1\x00\x16Exif\x00\x00MM\x00*"
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01"
WEBP = b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00/\x00\x00\x00\x10\x07\x10\x11\x11\x88"
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (png(), "image/png"),
        (JFIF + b"\0" * 64, "image/jpeg"),
        (EXIF + b"\0" * 64, "image/jpeg"),
        (GIF, "image/gif"),
        (b"GIF87a\x01\x00\x01\x00", "image/gif"),
        (WEBP, "image/webp"),
        (PDF, "application/pdf"),
    ],
    ids=["png", "jpeg-jfif", "jpeg-exif", "gif89a", "gif87a", "webp", "pdf"],
)
def test_common_upload_types_are_recognised(head: bytes, expected: str) -> None:
    assert sniff_type(head) == expected


def test_only_the_head_is_needed() -> None:
    assert sniff_type(png() + b"\0" * 100_000) == "image/png"
    assert sniff_type(PDF[:8]) == "application/pdf"


def test_a_zip_is_a_zip_not_a_guess_between_formats_sharing_its_signature() -> None:
    assert sniff_type(zip_archive()) == "application/zip"


@pytest.mark.parametrize(
    "head",
    [
        b"<script>alert(document.cookie)</script>",
        b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><script>x()</script></svg>',
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
        b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>",
        b"<html><img src=x onerror=alert(1)></html>",
        b"  \n<html>leading whitespace</html>",
        b"\xef\xbb\xbf<html>byte order mark</html>",
        b"BM<script>alert(1)</script>",
        b"MZ<html></html>",
        b"plain text, nothing else\n",
    ],
    ids=[
        "script",
        "svg-with-prolog",
        "svg",
        "html-doctype",
        "html",
        "html-whitespace",
        "html-bom",
        "bmp-prefix",
        "exe-prefix",
        "text",
    ],
)
def test_markup_and_scripts_never_come_back_as_a_raster_image(head: bytes) -> None:
    kind = sniff_type(head)

    assert kind is None or kind in SCRIPTABLE_TYPES


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"<!DOCTYPE html><html></html>", "text/html"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"/>', "image/svg+xml"),
    ],
)
def test_markup_gets_its_real_scriptable_type(head: bytes, expected: str) -> None:
    assert sniff_type(head) == expected
    assert expected in SCRIPTABLE_TYPES


def test_a_closing_svg_tag_at_the_end_of_the_head_is_not_a_signature() -> None:
    # puremagic matches "</svg>" at the end of a file; the head's end is not the file's end.
    head = b"just text " * 100 + b"</svg>"

    assert sniff_type(head) is None


def test_empty_bytes_have_no_type() -> None:
    assert sniff_type(b"") is None


def test_a_signature_past_the_sniffed_bytes_is_ignored() -> None:
    assert sniff_type(b"\0" * SNIFF_BYTES + png()) is None
