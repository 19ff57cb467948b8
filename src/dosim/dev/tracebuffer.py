"""The recent trace events of the served app, for the inspector's live view.

A :class:`TraceBuffer` subscribes to the app's trace and keeps the last ``size`` events,
each with a *cursor*: a number that keeps increasing across reloads (a reloaded app's
trace starts its ``seq`` again at 0), so a page that polls
``/__dosim/api/trace?after=<cursor>`` never misses or repeats events.

Listening is on the path of every storage call and every WebSocket message the app
sends, so the listener takes the event's fields (``Trace.subscribe(..., fields=True)``:
no event object is built for it) and only keeps them; they become a plain dict when a
page asks for them (:meth:`TraceBuffer.after`). Trace events do not change once
recorded, so the dict is the same either way.
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
        self._events: deque[tuple[Any, ...]] = deque(maxlen=size)
        self._cursor = 0

    @property
    def cursor(self) -> int:
        """The cursor of the newest event (0 before any)."""
        return self._cursor

    def listener(
        self,
        seq: int,
        time: int,
        kind: str,
        namespace: str | None,
        object_id: str | None,
        name: str | None,
        detail: dict[str, Any],
    ) -> None:
        """A trace listener of the fields form (``trace.subscribe(listener, fields=True)``).

        Args:
            seq: The event's sequence number.
            time: Its virtual time in ms.
            kind: Its kind.
            namespace: Its namespace binding, or ``None``.
            object_id: Its object's hex id, or ``None``.
            name: Its object's name, or ``None``.
            detail: Its detail dict.
        """
        self._cursor += 1
        self._events.append((self._cursor, seq, time, kind, namespace, object_id, name, detail))

    def after(self, cursor: int, limit: int = 500) -> list[dict[str, Any]]:
        """Return up to ``limit`` events newer than ``cursor``, oldest first.

        Args:
            cursor: The last cursor the caller has seen (0 for everything kept).
            limit: Largest number of events returned (the newest ones win).
        """
        if limit <= 0:
            return []
        newer = [entry for entry in self._events if entry[0] > cursor][-limit:]
        return [_as_dict(*entry) for entry in newer]


def _as_dict(
    cursor: int,
    seq: int,
    time: int,
    kind: str,
    namespace: str | None,
    object_id: str | None,
    name: str | None,
    detail: dict[str, Any],
) -> dict[str, Any]:
    """The inspector's form of one event: its fields, its cursor, a JSON-ready detail."""
    return {
        "cursor": cursor,
        "seq": seq,
        "time": time,
        "kind": kind,
        "namespace": namespace,
        "object_id": object_id,
        "name": name,
        "detail": {key: _plain(value) for key, value in detail.items()},
    }
