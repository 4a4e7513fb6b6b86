"""The type of an upload from its first bytes, never from what the client declared.

A stored file is later served with the type found here, so a ``<script>`` named ``x.png`` and
sent as ``image/png`` must not come back as an image: the type comes from a signature puremagic
knows (three bytes or more, at the start of the file), markup comes back as its own scriptable
type (SCRIPTABLE_TYPES) or None, and None means "serve it as ``application/octet-stream``".
"""

import puremagic

# Enough for every common signature (images, PDF, archives, media, SVG's XML prolog).
SNIFF_BYTES = 2048
# Types a browser runs scripts in when served inline: send these as attachments only.
SCRIPTABLE_TYPES = frozenset(
    {"text/html", "image/svg+xml", "application/xml", "text/xml", "application/xhtml+xml"}
)
# One or two matching bytes (BMP's "BM", an executable's "MZ") are chance, not evidence.
_MIN_CONFIDENCE = 0.3
# Signatures several types share: the container is the honest answer (an Office document is
# a zip, an FDF is a PDF) without reading further than the head.
_SHARED_SIGNATURE_TYPES = ("application/pdf", "application/zip")


def sniff_type(head: bytes) -> str | None:
    """The MIME type of a file whose first bytes are *head* (SNIFF_BYTES of them), or None."""
    head = head[:SNIFF_BYTES]
    if not head:
        return None
    types_by_confidence: dict[float, set[str]] = {}
    for match in puremagic.magic_string(head):
        # A negative offset is a footer signature: the end of the head is not the end of the file.
        if match.offset >= 0 and match.mime_type and match.confidence >= _MIN_CONFIDENCE:
            types_by_confidence.setdefault(match.confidence, set()).add(str(match.mime_type))
    if not types_by_confidence:
        return None
    best = types_by_confidence[max(types_by_confidence)]
    if len(best) == 1:
        return best.pop()
    return next((kind for kind in _SHARED_SIGNATURE_TYPES if kind in best), None)
