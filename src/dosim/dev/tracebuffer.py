"""The recent trace events of the served app, for the inspector's live view.

A :class:`TraceBuffer` subscribes to the app's trace and keeps the last ``size`` events
as plain dicts, each with a *cursor*: a number that keeps increasing across reloads
(a reloaded app's trace starts its ``seq`` again at 0), so a page that polls
``/__dosim/api/trace?after=<cursor>`` never misses or repeats events.
"""

from __future__ import annotations

import json
from collections import deque
from typing import Any

__all__ = ["TraceBuffer"]

_MAX_DETAIL_CHARS = 2_000


def _plain(value: Any) -> Any:
    """Return ``value`` as something :func:`json.dumps` accepts (``str()`` otherwise)."""
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        text = str(value)
        return text if len(text) <= _MAX_DETAIL_CHARS else text[:_MAX_DETAIL_CHARS] + "…"


class TraceBuffer:
    """A bounded, cursor-numbered copy of the trace events recorded since startup.

    Args:
        size: How many events to keep.
    """

    def __init__(self, size: int = 2_000) -> None:
        self._events: deque[dict[str, Any]] = deque(maxlen=size)
        self._cursor = 0

    @property
    def cursor(self) -> int:
        """The cursor of the newest event (0 before any)."""
        return self._cursor

    def listener(self, event: Any) -> None:
        """A trace listener: keep ``event``.

        Args:
            event: A :class:`~dosim.trace.TraceEvent`.
        """
        self._cursor += 1
        self._events.append(
            {
                "cursor": self._cursor,
                "seq": event.seq,
                "time": event.time,
                "kind": event.kind,
                "namespace": event.namespace,
                "object_id": event.object_id,
                "name": event.name,
                "detail": {key: _plain(value) for key, value in event.detail.items()},
            }
        )

    def after(self, cursor: int, limit: int = 500) -> list[dict[str, Any]]:
        """Return up to ``limit`` events newer than ``cursor``, oldest first.

        Args:
            cursor: The last cursor the caller has seen (0 for everything kept).
            limit: Largest number of events returned (the newest ones win).
        """
        newer = [event for event in self._events if event["cursor"] > cursor]
        return newer[-limit:] if limit > 0 else []
