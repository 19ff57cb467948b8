"""JavaScript's ``String(value)`` and ``undefined``, for the bindings' argument checks.

The KV and R2 bindings turn keys, cursors, types and metadata values into strings the way
the runtime's JavaScript does (``String(value)``) before checking them; this module is
that conversion, for wire values (:func:`dosim.serialization.to_wire`).
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from ..serialization import js_number_to_string, wire_date_ms, wire_tag
from ..workers.body import ReadableStream
from .wrapper import JsClassObject

__all__ = ["UNDEFINED", "js_string"]


class _Undefined:
    """JavaScript's ``undefined``: an argument Python code did not pass."""

    def __repr__(self) -> str:
        return "undefined"


UNDEFINED: Any = _Undefined()


def js_string(value: Any) -> str:
    """Convert a wire value as JavaScript's ``String(value)`` does.

    Args:
        value: A wire value; ``None`` is ``null``, :data:`UNDEFINED` is ``undefined``.

    Returns:
        ``"null"``, ``"true"``, ``"1.5"``, ``"a,b"`` for an array, ``"[object Object]"``
        for an object, and so on.
    """
    if isinstance(value, str):
        return value
    if value is UNDEFINED:
        return "undefined"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return js_number_to_string(value)
    if isinstance(value, list):  # Array.prototype.join: null and undefined as ""
        return ",".join("" if item is None else js_string(item) for item in value)
    if isinstance(value, bytes):  # a Uint8Array
        return ",".join(str(byte) for byte in value)
    ms = wire_date_ms(value)
    if ms is not None:
        moment = _dt.datetime.fromtimestamp(ms / 1000, tz=_dt.UTC)
        return moment.strftime("%a %b %d %Y %H:%M:%S GMT+0000 (Coordinated Universal Time)")
    if isinstance(value, JsClassObject):
        return f"[object {value.js_class_name}]"
    if isinstance(value, ReadableStream):
        return "[object ReadableStream]"
    if isinstance(value, (set, frozenset)):
        return "[object Set]"
    if wire_tag(value) == "map":
        return "[object Map]"
    if wire_tag(value) == "error":
        return f"Error: {value[1]}"
    return "[object Object]"
