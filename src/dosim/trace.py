"""The event trace: every request, RPC call, storage operation, alarm and lifecycle step.

Each :class:`TraceEvent` has a sequence number, the virtual time it happened at, a kind,
the object it concerns and a small JSON-serialisable detail dict. Given the same app,
inputs and seed, two runs produce the same trace — tests can compare traces, and the
sandbox and dev-server inspectors render them.

Kinds (``TraceEvent.kind``):

============================  ==================================================================
``request``                   an HTTP request reached the Worker (``detail``: method, url, status)
``fetch``                     a stub ``fetch`` reached an object
``rpc.call``                  an RPC call reached an object (``method``)
``rpc.return``                it returned (its result left through the output gate)
``rpc.raise``                 it raised (``error``)
``storage``                   a storage operation (``op``, plus op-specific detail)
``commit``                    the object's implicit transaction committed (``ok``)
``alarm.set``                 the committed alarm changed (``time`` ms or ``None``)
``alarm.fire``                the alarm handler started (``retryCount``)
``alarm.retry``               the handler raised; a retry is scheduled (``delay_ms``)
``alarm.drop``                retries exhausted; the alarm is dropped
``constructor``               an instance was constructed
``eviction``                  evicted when idle: memory gone, storage kept (``hibernated_sockets``)
``reset``                     the instance was reset (``reason``)
``fault``                     an injected fault fired (``fault``)
``websocket.accept``          a server end was accepted (``hibernatable``, ``tags``)
``websocket.message``         a message crossed (``direction`` in/out, ``size``)
``websocket.close``           a close (``code``, ``reason``, ``by``)
``websocket.autoresponse``    an auto-response answered without waking the object
``websocket.error``           a WebSocket handler raised (``error``)
``console``                   ``js.console`` called inside an object (``level``, ``message``)
``binding``                   a KV, D1, R2 or service binding was called (``binding``, ``type``,
                              ``op``, plus op-specific detail)
============================  ==================================================================
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["TraceEvent", "Trace"]


@dataclass(frozen=True, slots=True)
class TraceEvent:
    """One thing that happened in a simulation.

    Attributes:
        seq: Position in the trace, from 0.
        time: Virtual time in milliseconds since the Unix epoch.
        kind: What happened (see the module table).
        namespace: Binding name of the namespace, or ``None`` for Worker-level events.
        object_id: Hex id of the object, or ``None``.
        name: The object's name when it was reached by name.
        detail: Kind-specific, JSON-serialisable facts.
    """

    seq: int
    time: int
    kind: str
    namespace: str | None = None
    object_id: str | None = None
    name: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return the event as a plain dict (what :meth:`Trace.to_json` writes)."""
        return asdict(self)


class Trace:
    """The ordered list of :class:`TraceEvent` of one app.

    Iterable and indexable like a list. Listeners (the inspectors) can subscribe to new
    events with :meth:`subscribe`.

    Args:
        limit: Keep only the newest ``limit`` events (``None``: all of them). Also settable
            later as the ``limit`` attribute (the dev server runs for hours).

    Attributes:
        storage_log: While nobody listens and no limit is set, the list that
            :meth:`record_storage` appends its flat tuple ``(time, about, op, fact, value)``
            to, else ``None``. The object host appends that tuple to it itself: one call
            less per storage operation, the simulator's hottest path.
    """

    def __init__(self, limit: int | None = None) -> None:
        # Entries are TraceEvents or, with nobody listening, plain tuples turned into
        # TraceEvents when first read: (time, kind, namespace, object_id, name, detail),
        # or record_storage's (time, (namespace, object_id, name), op, fact, value). Every
        # event is one entry, so an entry's seq is its index plus the seq of the first
        # entry (_first), and the tuples need not carry it. With a limit, up to twice as
        # many are held and the oldest dropped in one go (dropping one per event moves
        # the whole list each time); every read trims to the limit first.
        self._entries: list[Any] = []
        self._listeners: list[Any] = []
        self._field_listeners: list[Any] = []  # subscribe(..., fields=True)
        self._first = 0
        self._limit = limit
        self.storage_log: list[Any] | None = None
        self._plain_changed()

    @property
    def limit(self) -> int | None:
        """Keep only the newest ``limit`` events (``None``: all of them)."""
        return self._limit

    @limit.setter
    def limit(self, limit: int | None) -> None:
        self._limit = limit
        self._plain_changed()

    def _plain_changed(self) -> None:
        """Keep :attr:`storage_log` in step with the listeners and the limit."""
        plain = not (self._listeners or self._field_listeners or self._limit is not None)
        self.storage_log = self._entries if plain else None

    def record(
        self,
        time: int,
        kind: str,
        namespace: str | None = None,
        object_id: str | None = None,
        name: str | None = None,
        /,
        **detail: Any,
    ) -> TraceEvent | None:
        """Append an event and tell the listeners.

        Args:
            time: Virtual time in milliseconds since the Unix epoch.
            kind: What happened (see the module table).
            namespace: Binding name of the namespace, or None for Worker-level events.
            object_id: Hex id of the object, or None.
            name: The object's name when it was reached by name, else None.
            **detail: Kind-specific, JSON-serialisable facts.

        Returns:
            The event when a listener took one (it had to be built), else ``None``.
        """
        if self._listeners:
            seq = self._first + len(self._entries)
            event = TraceEvent(seq, time, kind, namespace, object_id, name, detail)
            self._entries.append(event)
            for listener in self._listeners:
                listener(event)
        else:
            event = None
            self._entries.append((time, kind, namespace, object_id, name, detail))
        if self._field_listeners:
            seq = self._first + len(self._entries) - 1
            for listener in self._field_listeners:
                listener(seq, time, kind, namespace, object_id, name, detail)
        if self._limit is not None and len(self._entries) > 2 * self._limit:
            self._trim()
        return event

    def record_detail(
        self,
        time: int,
        kind: str,
        namespace: str | None,
        object_id: str | None,
        name: str | None,
        detail: dict[str, Any],
    ) -> None:
        """Like :meth:`record`, with the detail already in a dict (the storage hot path).

        Args:
            time: Virtual time in ms.
            kind: The event kind.
            namespace: Binding name, or ``None``.
            object_id: Hex id, or ``None``.
            name: The object's name, or ``None``.
            detail: Kind-specific facts; the trace keeps this dict.
        """
        if self._listeners or self._field_listeners:
            self.record(time, kind, namespace, object_id, name, **detail)
            return
        self._entries.append((time, kind, namespace, object_id, name, detail))
        if self._limit is not None and len(self._entries) > 2 * self._limit:
            self._trim()

    def record_storage(
        self,
        time: int,
        about: tuple[str | None, str | None, str | None],
        op: str,
        fact: str,
        value: Any,
    ) -> None:
        """A ``storage`` event with one fact besides ``op`` (the hottest path).

        The same event as ``record_detail(time, "storage", *about, {fact: value, "op":
        op})``; with nobody listening and no limit it is kept as one flat tuple, without
        the dict, until read: a tuple of strings and numbers leaves the garbage
        collector's lists at its first collection, where a dict stays on them, so a long
        trace costs the GC nothing.

        Args:
            time: Virtual time in ms.
            about: The object: ``(namespace, object_id, name)``, one tuple per object that
                every event about it shares.
            op: The storage method.
            fact: The detail key (``"key"``, ``"query"``).
            value: Its value.
        """
        if self.storage_log is None:
            self.record_detail(time, "storage", *about, {fact: value, "op": op})
            return
        self._entries.append((time, about, op, fact, value))

    def _trim(self) -> None:
        """Drop the events beyond :attr:`limit`, oldest first."""
        if self._limit is not None and len(self._entries) > self._limit:
            dropped = len(self._entries) - max(self._limit, 0)
            del self._entries[:dropped]
            self._first += dropped

    @property
    def _events(self) -> list[TraceEvent]:
        self._trim()
        entries = self._entries
        for index, entry in enumerate(entries):
            if type(entry) is tuple:
                seq = self._first + index
                if len(entry) == 5:  # record_storage's flat form
                    time, (namespace, object_id, name), op, fact, value = entry
                    detail = {fact: value, "op": op}
                    entries[index] = TraceEvent(
                        seq, time, "storage", namespace, object_id, name, detail
                    )
                else:
                    entries[index] = TraceEvent(seq, *entry)
        return entries

    def subscribe(self, listener: Any, *, fields: bool = False) -> None:
        """Call ``listener(event)`` for every event recorded from now on.

        Args:
            listener: Callable taking one :class:`TraceEvent`; it runs inside :meth:`record`.
            fields: Call ``listener(seq, time, kind, namespace, object_id, name, detail)``
                instead, with the event's fields: no :class:`TraceEvent` is built for it
                (the trace builds one when it is read). For listeners on hot paths (the
                dev server's see every storage call and every WebSocket message).
        """
        (self._field_listeners if fields else self._listeners).append(listener)
        self._plain_changed()

    def unsubscribe(self, listener: Any) -> None:
        """Stop calling ``listener``.

        Args:
            listener: A listener given to :meth:`subscribe`.

        Raises:
            ValueError: If ``listener`` is not subscribed.
        """
        if listener in self._field_listeners:
            self._field_listeners.remove(listener)
        else:
            self._listeners.remove(listener)
        self._plain_changed()

    def filter(self, kind: str | None = None, **match: Any) -> list[TraceEvent]:
        """Return the events of ``kind`` (a prefix such as ``"alarm"`` matches ``"alarm.fire"``).

        Args:
            kind: Kind or kind prefix; ``None`` keeps all kinds.
            **match: Attribute or detail values that must be equal, e.g. ``name="a"``.
        """
        chosen = []
        for event in self._events:
            if kind is not None and event.kind != kind and not event.kind.startswith(kind + "."):
                continue
            if all(
                getattr(event, key, event.detail.get(key)) == value for key, value in match.items()
            ):
                chosen.append(event)
        return chosen

    def kinds(self) -> list[str]:
        """Return the kinds of all events, in order (handy in tests and docs)."""
        return [event.kind for event in self._events]

    def to_json(self, **dumps_options: Any) -> str:
        """Serialise the whole trace as a JSON array.

        Args:
            **dumps_options: Passed to :func:`json.dumps` (e.g. ``indent=2``); values JSON
                cannot encode are written with ``str()``.
        """
        return json.dumps([e.to_dict() for e in self._events], default=str, **dumps_options)

    def clear(self) -> None:
        """Forget recorded events (sequence numbers keep counting)."""
        self._first += len(self._entries)
        self._entries.clear()

    def __iter__(self) -> Iterator[TraceEvent]:
        return iter(self._events)

    def __len__(self) -> int:
        self._trim()
        return len(self._entries)

    def __getitem__(self, index: int) -> TraceEvent:
        return self._events[index]
