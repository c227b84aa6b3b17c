"""``LiveEvent``: one message pushed to live views, as it travels between server processes."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class LiveEvent:
    """A named event with a JSON-able payload.

    ``kind`` becomes the SSE ``event:`` name (``position``, ``eta``, ``status``, ...), ``data``
    its JSON ``data:`` and ``id`` the optional SSE ``id:``. One event is usually delivered to
    many subscribers, so its encodings are computed once and shared.
    """

    kind: str
    data: Mapping[str, Any]
    id: str | None = None
    _data_json: str | None = field(default=None, init=False, repr=False, compare=False)
    _sse: bytes | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # One line each, or a value could smuggle extra fields into the SSE stream.
        if not self.kind or any(c in self.kind for c in "\r\n:"):
            raise ValueError(f"bad event kind {self.kind!r}")
        if self.id is not None and any(c in self.id for c in "\r\n\0"):
            raise ValueError(f"bad event id {self.id!r}")

    def data_json(self) -> str:
        """``data`` as compact JSON (always one line), encoded on first use and then reused."""
        cached = self._data_json
        if cached is None:
            # A cache, not state: two threads racing here store equal values.
            cached = json.dumps(self.data, separators=(",", ":"))
            object.__setattr__(self, "_data_json", cached)
        return cached

    def sse(self) -> bytes:
        """The event in the ``text/event-stream`` wire format, encoded once and then reused."""
        cached = self._sse
        if cached is None:
            event_id = "" if self.id is None else f"id: {self.id}\n"
            cached = f"event: {self.kind}\ndata: {self.data_json()}\n{event_id}\n".encode()
            object.__setattr__(self, "_sse", cached)
        return cached

    def to_json(self) -> str:
        """The event as one JSON document (the wire format between processes)."""
        head = json.dumps({"kind": self.kind, "id": self.id}, separators=(",", ":"))
        return f'{head[:-1]},"data":{self.data_json()}}}'

    @classmethod
    def from_json(cls, raw: str | bytes) -> LiveEvent:
        """Read an event written by ``to_json``; raises ``ValueError`` on anything else."""
        doc = json.loads(raw)
        if not isinstance(doc, dict) or not isinstance(doc.get("kind"), str):
            raise ValueError("not a live event")
        data, event_id = doc.get("data"), doc.get("id")
        if not isinstance(data, dict) or not (event_id is None or isinstance(event_id, str)):
            raise ValueError("not a live event")
        return cls(kind=doc["kind"], data=data, id=event_id)
