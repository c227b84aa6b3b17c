"""What kind of image a file is, read from its first bytes (pure: the client's content type is
not trusted)."""

from __future__ import annotations

JPEG, PNG, WEBP = "image/jpeg", "image/png", "image/webp"
PHOTO_TYPES = (JPEG, PNG, WEBP)
SIGNATURE_TYPES = (PNG,)
# Enough of a file's start to recognise every type above.
HEAD_BYTES = 12


def sniff_image(head: bytes) -> str | None:
    """The media type ``head`` (a file's first bytes) starts like, or None if no known image."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if len(head) >= HEAD_BYTES and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    return None
