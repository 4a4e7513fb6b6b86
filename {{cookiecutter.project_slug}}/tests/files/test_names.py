"""Client filenames: only a harmless display name survives, and it goes back out intact."""

from urllib.parse import unquote

import pytest

from {{ cookiecutter.package_name }}.files.names import (
    MAX_FILENAME_BYTES,
    content_disposition,
    safe_filename,
)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("photo.png", "photo.png"),
        ("r\u00e9sum\u00e9 final.pdf", "r\u00e9sum\u00e9 final.pdf"),
        ("\u6587\u4ef6.pdf", "\u6587\u4ef6.pdf"),
        ("notes.tar.gz", "notes.tar.gz"),
        ("a  b \t\n c.txt", "a b c.txt"),
    ],
)
def test_an_ordinary_name_is_kept(name: str, expected: str) -> None:
    assert safe_filename(name) == expected


def test_a_decomposed_name_is_nfc_normalised() -> None:
    assert safe_filename("e\u0301t\u0065\u0301.txt") == "\u00e9t\u00e9.txt"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\x.png", "x.png"),
        ("C:\\Users\\eve\\Desktop\\cv.pdf", "cv.pdf"),
        ("/absolute/path/report.csv", "report.csv"),
        ("..\\../mixed\\..//x.png", "x.png"),
        ("dir/", "file"),
        ("../..", "file"),
    ],
)
def test_path_parts_are_dropped(name: str, expected: str) -> None:
    assert safe_filename(name) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("evil\x00.png", "evil.png"),
        ("a\x1b[31mred\x7f.txt", "a[31mred.txt"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
        ("\u2066isolated\u2069\u200b.txt", "isolated.txt"),
        ("bom\ufeff.txt", "bom.txt"),
        ("half\ud800surrogate.txt", "halfsurrogate.txt"),
    ],
    ids=["nul", "escape-and-del", "rtl-override", "isolates-zero-width", "bom", "surrogate"],
)
def test_control_and_format_characters_are_dropped(name: str, expected: str) -> None:
    assert safe_filename(name) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (".htaccess", "htaccess"),
        ("...hidden", "hidden"),
        ("  . spaced .  ", "spaced"),
        ("trailing.", "trailing"),
    ],
)
def test_leading_dots_and_edge_spaces_are_stripped(name: str, expected: str) -> None:
    assert safe_filename(name) == expected


@pytest.mark.parametrize("name", [None, "", "   ", "...", "\x00\x01", "\u202e", "a/..", "/"])
def test_a_name_with_nothing_left_becomes_file(name: str | None) -> None:
    assert safe_filename(name) == "file"


def test_a_4kb_name_is_cut_to_255_bytes_keeping_its_extension() -> None:
    result = safe_filename("x" * 4096 + ".png")

    assert len(result.encode()) == MAX_FILENAME_BYTES
    assert result == "x" * (MAX_FILENAME_BYTES - 4) + ".png"


@pytest.mark.parametrize("char", ["\u00e9", "\u6587", "\U0001f600"])
def test_truncation_never_splits_a_character(char: str) -> None:
    result = safe_filename(char * 2000 + ".jpeg")

    assert len(result.encode()) <= MAX_FILENAME_BYTES
    assert result.endswith(".jpeg")
    assert set(result.removesuffix(".jpeg")) == {char}


def test_a_long_extension_is_not_kept_whole() -> None:
    result = safe_filename("name." + "e" * 400)

    assert len(result.encode()) == MAX_FILENAME_BYTES
    assert result.startswith("name.eee")


def test_a_name_of_exactly_255_bytes_is_kept() -> None:
    name = "n" * 251 + ".txt"

    assert safe_filename(name) == name


@pytest.mark.parametrize(
    "name", ["../a\u202eb.png", "x" * 4096 + ".png", "  .a  b ", "\u00e9" * 300, "a\\b/c"]
)
def test_sanitising_twice_changes_nothing(name: str) -> None:
    once = safe_filename(name)

    assert safe_filename(once) == once


def test_an_ascii_name_is_sent_in_both_forms() -> None:
    assert content_disposition("report 2026.pdf") == (
        "attachment; filename=\"report 2026.pdf\"; filename*=UTF-8''report%202026.pdf"
    )


def test_a_unicode_name_gets_an_ascii_fallback_and_the_exact_utf8_name() -> None:
    header = content_disposition("r\u00e9sum\u00e9 \u6587\u4ef6.pdf")

    fallback = header.split('filename="')[1].split('"')[0]
    encoded = header.split("filename*=UTF-8''")[1]
    assert fallback == "resume __.pdf"
    assert unquote(encoded, errors="strict") == "r\u00e9sum\u00e9 \u6587\u4ef6.pdf"


def test_the_disposition_can_be_inline() -> None:
    assert content_disposition("a.png", "inline").startswith('inline; filename="a.png"')


@pytest.mark.parametrize(
    "name",
    ['quo"te.txt', "back\\slash.txt", "semi;colon=x.txt", "pct%41.txt", "new\r\nline.txt"],
)
def test_the_header_stays_one_well_formed_value(name: str) -> None:
    header = content_disposition(name)

    fallback = header.split('filename="')[1].split('"; filename*=')[0]
    encoded = header.split("filename*=UTF-8''")[1]
    assert header.isascii()
    assert header.isprintable()
    assert '"' not in fallback
    assert "\\" not in fallback
    assert "%" not in fallback
    assert all(char.isalnum() or char in "%!#$&+-.^_`|~" for char in encoded)


def test_content_disposition_sanitises_what_it_is_given() -> None:
    header = content_disposition("../../\u202eevil.png")

    assert "filename*=UTF-8''evil.png" in header
    assert ".." not in header


def test_a_name_with_no_ascii_gets_an_underscored_fallback() -> None:
    assert content_disposition("\u6587\u4ef6").startswith('attachment; filename="__"')
