"""Client filenames made safe to show and to send back in ``Content-Disposition``.

A filename is display text only: files are stored under generated keys, never under a name
the client chose. It still reaches browsers and users, so path parts, control characters and
bidi overrides (``invoice\\u202efdp.exe`` shows as ``invoiceexe.pdf``) are removed.
"""

import unicodedata
from typing import Literal
from urllib.parse import quote

DEFAULT_FILENAME = "file"
MAX_FILENAME_BYTES = 255  # the common file system limit, so a user can save it as named
# An extension this long is not one worth keeping when a name must be shortened.
_MAX_EXTENSION_BYTES = 16
# Cc: controls (NUL, CR, LF, ESC...); Cf: format (bidi overrides and isolates, zero widths);
# Cs: lone surrogates, which cannot even be encoded.
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs"})
# RFC 5987 attr-char, besides letters and digits: what filename* may carry unencoded.
_ATTR_CHARS = "!#$&+-.^_`|~"


def safe_filename(name: str | None) -> str:
    """A display name from a client's filename: last path part, no controls, <= 255 bytes."""
    if not name:
        return DEFAULT_FILENAME
    kept = "".join(
        " " if char.isspace() else char
        for char in name
        if char.isspace() or unicodedata.category(char) not in _DROPPED_CATEGORIES
    )
    last_part = kept.replace("\\", "/").rsplit("/", 1)[-1]
    text = " ".join(unicodedata.normalize("NFC", last_part).split())
    # Leading dots hide a file (or spell "..") and trailing dots and spaces vanish on Windows.
    text = text.lstrip(". ").rstrip(". ")
    return _truncate(text) or DEFAULT_FILENAME


def _truncate(name: str) -> str:
    """Cut *name* to MAX_FILENAME_BYTES of UTF-8, keeping a short extension."""
    if len(name.encode()) <= MAX_FILENAME_BYTES:
        return name
    stem, dot, extension = name.rpartition(".")
    suffix = dot + extension
    if not stem or len(suffix.encode()) > _MAX_EXTENSION_BYTES:
        stem, suffix = name, ""
    budget = MAX_FILENAME_BYTES - len(suffix.encode())
    # Cutting the bytes may split a character: decoding drops the partial one.
    cut = stem.encode()[:budget].decode(errors="ignore").rstrip(". ")
    return cut + suffix


def content_disposition(
    filename: str, disposition: Literal["attachment", "inline"] = "attachment"
) -> str:
    """The ``Content-Disposition`` value for *filename* (RFC 6266, ``filename*`` of RFC 5987).

    ``filename`` is an ASCII fallback for old clients; every current browser uses the exact
    UTF-8 name in ``filename*``.
    """
    name = safe_filename(filename)
    encoded = quote(name, safe=_ATTR_CHARS)
    return f"{disposition}; filename=\"{_ascii_fallback(name)}\"; filename*=UTF-8''{encoded}"


def _ascii_fallback(name: str) -> str:
    """*name* in printable ASCII: accents dropped, other characters as ``_``.

    Quotes and backslashes are dropped (they would need escaping that clients handle badly), and
    ``%`` is replaced: some clients percent-decode the fallback (RFC 6266 appendix D).
    """
    chars = []
    for char in unicodedata.normalize("NFKD", name):
        if unicodedata.combining(char) or char in '"\\':
            continue
        chars.append(char if " " <= char <= "~" and char != "%" else "_")
    fallback = "".join(chars).strip()
    return fallback or DEFAULT_FILENAME
