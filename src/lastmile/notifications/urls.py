"""Which webhook URLs the server may call."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit


def url_shape_problem(url: str) -> str | None:
    """Why ``url`` is not an acceptable webhook URL by its form alone, or None."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError as exc:
        return f"is not a valid URL ({exc})"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an absolute http or https URL"
    if parts.username or parts.password:
        return "must not carry credentials (the signature authenticates the request)"
    return None


def private_target(url: str) -> bool:
    """Whether ``url``'s host resolves to a loopback, private, link-local or otherwise
    non-public address (a host that does not resolve now is not refused: sending retries)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        infos = socket.getaddrinfo(host, parts.port or 443, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError):
        return False
    return any(not ipaddress.ip_address(info[4][0]).is_global for info in infos)
