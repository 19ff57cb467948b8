"""One log line per request: method, path, status, duration and the objects it touched.

Which objects a request touched is read from the trace. The request handler opens a
:func:`recording` scope (a :class:`contextvars.ContextVar`); the trace listener
:func:`note_fields` runs inside ``Trace.record``, in the context of the code that
recorded the event, so events of this request's Worker and of the objects it called
(which run in the request's task) land in this request's set. Events of other
concurrent requests, alarms and evictions run in other contexts and do not.

A line reads::

    POST /apples/increment 200 3.1 ms  COUNTER:apples
    GET /x 500 0.4 ms  -  (error: ValueError: boom)

Everything in a line that came from a client or from app code (method, path, object
names, error text) goes through :func:`printable` first: the path is percent-decoded
before it gets here, so ``/%1b[2J`` would otherwise clear the developer's terminal.
"""

from __future__ import annotations

import collections
import contextvars
import logging
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["recording", "note_event", "note_fields", "format_line", "printable", "log"]

log = logging.getLogger("dosim.dev")

_touched: contextvars.ContextVar[dict[tuple[str, str], str | None] | None] = contextvars.ContextVar(
    "dosim_dev_touched", default=None
)


_MAX_PATH_CHARS = 200

_ALARM_LINES = {
    "alarm.fire": "alarm {label} fired (retryCount {retryCount})",
    "alarm.retry": "alarm {label} raised ({error}); retry {retryCount} in {delay_ms} ms",
    "alarm.drop": "alarm {label} dropped: {reason}",
}


_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}

_INVISIBLE_CATEGORIES = frozenset({"Cc", "Zl", "Zp"})
"""C0/C1 controls and DEL, line and paragraph separators."""

_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
"""Direction overrides and isolates: they reorder what the terminal shows (CVE-2021-42574)."""


def printable(text: str) -> str:
    r"""Escape the characters of ``text`` that a terminal would act on or hide.

    Controls become ``\x1b``, ``\n`` and the like; bidirectional controls and line
    separators become ``\u202e``; any other character, accented or emoji, is kept.

    Args:
        text: Text from a request or from app code.

    Returns:
        The text, safe to print on one terminal line.
    """
    if text.isprintable():
        return text  # the common case: no per-character work
    out = []
    for char in text:
        if char in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[char])
        elif char in _BIDI_CONTROLS or unicodedata.category(char) in _INVISIBLE_CATEGORIES:
            code = ord(char)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(char)
    return "".join(out)


@contextmanager
def recording() -> Iterator[dict[tuple[str, str], str | None]]:
    """Collect the objects touched while the block runs.

    Yields:
        A dict ``(binding, hex id) → name or None``, filled as trace events arrive.
    """
    touched: dict[tuple[str, str], str | None] = {}
    token = _touched.set(touched)
    try:
        yield touched
    finally:
        _touched.reset(token)


def note_event(event: Any) -> None:
    """A trace listener: :func:`note_fields` for a :class:`~dosim.trace.TraceEvent`.

    Args:
        event: The event.
    """
    note_fields(
        event.seq,
        event.time,
        event.kind,
        event.namespace,
        event.object_id,
        event.name,
        event.detail,
    )


def note_fields(
    seq: int,
    time: int,
    kind: str,
    namespace: str | None,
    object_id: str | None,
    name: str | None,
    detail: dict[str, Any],
) -> None:
    """A trace listener (``subscribe(note_fields, fields=True)``): note the event's object.

    Adds the event's object to the current request's set, if any. Outside requests,
    alarm runs get a line of their own (``alarm COUNTER:a ran``).

    Args:
        seq: The event's sequence number.
        time: Its virtual time in ms.
        kind: Its kind.
        namespace: Its namespace binding, or ``None``.
        object_id: Its object's hex id, or ``None``.
        name: Its object's name, or ``None``.
        detail: Its detail dict.
    """
    touched = _touched.get()
    if touched is None:
        if kind in _ALARM_LINES and namespace is not None:
            facts = collections.defaultdict(
                lambda: "?",
                {k: printable(v) if isinstance(v, str) else v for k, v in detail.items()},
            )
            facts["label"] = _label(namespace, object_id or "?", name)
            log.info(_ALARM_LINES[kind].format_map(facts))
        return
    if object_id is None or namespace is None:
        return
    key = (namespace, object_id)
    if touched.get(key) is None:
        touched[key] = name


def _label(binding: str, hex_id: str, name: str | None) -> str:
    shown = printable(name) if name is not None else f"{hex_id[:12]}…"
    return f"{printable(binding)}:{shown}"


def format_line(
    method: str,
    path: str,
    status: int,
    duration_ms: float,
    touched: dict[tuple[str, str], str | None],
    error: str | None = None,
) -> str:
    """Format the log line of one request.

    Args:
        method: HTTP method.
        path: Path and query string (escaped, then cut to 200 characters).
        status: Status code sent.
        duration_ms: Time from receiving the request to having the response, in ms.
        touched: From :func:`recording`.
        error: A short description of a Worker exception, if one was raised.
    """
    objects = ", ".join(_label(b, i, n) for (b, i), n in touched.items()) or "-"
    path = printable(path)
    if len(path) > _MAX_PATH_CHARS:
        path = path[: _MAX_PATH_CHARS - 1] + "…"
    line = f"{printable(method)} {path} {status} {duration_ms:.1f} ms  {objects}"
    if error:
        line += f"  (error: {printable(error)})"
    return line
