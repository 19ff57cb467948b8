"""``js.JSON``: ``JSON.stringify`` and ``JSON.parse`` on JavaScript values.

``JSON.parse`` returns JavaScript values as Pyodide hands them to Python: an object is a
:class:`~dosim.ffi.JsObject` (attribute access, ``to_py()``), an array a
:class:`~dosim.ffi.JsArray`, ``null`` is ``jsnull``, and a number is an ``int`` when it is
a safe integer (``2.0`` gives ``2``), else a ``float``.

``JSON.stringify`` serialises what JavaScript receives. For the values of dosim's model
that is ECMAScript's algorithm (``undefined`` members left out, NaN and infinities as
``null``, a ``Map`` or ``Set`` as ``{}``, a ``Date`` through ``toJSON``, ``replacer``
and ``space`` honoured). A Python value passed directly crosses as a PyProxy; what V8
then makes of it was observed in Pyodide 314.0.7 (the version dosim's sandbox ships)
and is reproduced: a ``dict`` serialises as an object of its keys (values ``None`` left
out), a ``list`` or ``tuple`` of primitives and ``bytes`` as an array, and a list holding
a list or dict fails with Pyodide's "borrowed proxy ... destroyed when an iterator was
exhausted" error; any other object gives ``{}`` and a function ``undefined``. Convert
with ``to_js(value, dict_converter=js.Object.fromEntries)`` first to be independent of
this.

Where dosim differs: ``JSON.parse``'s ``SyntaxError`` messages are Python's json
module's, not V8's; strings with lone surrogates are not escaped.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ..boundary import call_from_js, js_method
from ..errors import JsException
from ..ffi import (
    MSG_DESTROYED_HINT,
    JsArray,
    JsBuffer,
    JsDoubleProxy,
    JsObject,
    JsProxy,
    PyProxy,
    into_js,
    js_to_string,
    jsnull,
)

__all__ = ["JsonNamespace", "JSON", "js_number", "parse", "stringify"]

MAX_SAFE_INTEGER = 2**53 - 1
MSG_CIRCULAR = "Converting circular structure to JSON"
MSG_BIGINT = "Do not know how to serialize a BigInt"
MSG_ITERATOR_DESTROYED = (
    "This borrowed proxy was automatically destroyed when an iterator was exhausted."
)


def js_number(value: float) -> str:
    """ECMAScript's ``Number::toString`` for a finite number (``1e21`` -> ``"1e+21"``).

    Args:
        value: A finite ``int`` or ``float``.
    """
    if value == 0:
        return "0"
    if float(value).is_integer() and abs(value) < 1e21:
        return str(int(value))
    sign = "-" if value < 0 else ""
    _, digit_tuple, exponent = Decimal(repr(abs(float(value)))).normalize().as_tuple()
    digits = "".join(map(str, digit_tuple))
    k = len(digits)
    n = int(exponent) + k
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * -n + digits
    e = n - 1
    mantissa = digits if k == 1 else digits[0] + "." + digits[1:]
    return f"{sign}{mantissa}e{'+' if e >= 0 else '-'}{abs(e)}"


def stringify(value: Any, replacer: Any = None, space: Any = None) -> str | None:
    """Serialise a JavaScript value of dosim's model as ``JSON.stringify`` does.

    Args:
        value: The value as JavaScript received it (see the module docstring).
        replacer: A function ``(key, value)`` or an Array of property names to keep.
        space: Indentation: a number of spaces (at most 10) or a string (its first 10
            characters).

    Returns:
        The JSON text, or ``None`` (``undefined``) when ``value`` has no JSON form.

    Raises:
        JsException: ``TypeError`` for a circular structure or an integer beyond
            JavaScript's safe range (a BigInt); Pyodide's destroyed-proxy ``Error`` for a
            list holding containers.
    """
    if isinstance(space, int | float) and not isinstance(space, bool):
        gap = " " * max(0, min(10, int(space)))
    elif isinstance(space, str):
        gap = space[:10]
    else:
        gap = ""
    allow: list[str] | None = None
    function = None
    if isinstance(replacer, JsArray):
        allow = [js_to_string(item) for item in replacer._items]
    elif isinstance(replacer, PyProxy | JsDoubleProxy) or callable(replacer):
        function = replacer
    writer = _Writer(gap, allow, function)
    return writer.write(JsObject({"": value}), "", value, "")


class _Writer:
    def __init__(self, gap: str, allow: list[str] | None, function: Any) -> None:
        self.gap, self.allow, self.function = gap, allow, function
        self.stack: list[int] = []

    def write(self, holder: Any, key: str, value: Any, indent: str) -> str | None:
        if isinstance(value, JsProxy) and callable(getattr(value, "toJSON", None)):
            value = into_js(value.toJSON(), keep=True)
        if self.function is not None:
            value = into_js(call_from_js(self.function, key, value), keep=True)
        if value is jsnull:
            return "null"
        if value is None:
            return None
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, str):
            return json.dumps(value, ensure_ascii=False)
        if isinstance(value, int):
            if abs(value) > MAX_SAFE_INTEGER:
                raise JsException(MSG_BIGINT, name="TypeError")
            return str(value)
        if isinstance(value, float):
            return "null" if math.isnan(value) or math.isinf(value) else js_number(value)
        return self._container(value, indent)

    def _container(self, value: Any, indent: str) -> str | None:
        if isinstance(value, PyProxy):
            value.check_alive()
            obj = value.obj
            if isinstance(obj, Mapping):
                entries = [(js_to_string(k), into_js(v, keep=True)) for k, v in obj.items()]
                return self._object(value, entries, indent)
            if isinstance(obj, bytes | bytearray):
                return self._array(value, list(obj), indent)
            if isinstance(obj, list | tuple):
                items = [into_js(item, keep=True) for item in obj]
                if any(isinstance(item, PyProxy) for item in items):
                    raise JsException(MSG_ITERATOR_DESTROYED + MSG_DESTROYED_HINT, name="Error")
                return self._array(value, items, indent)
            return None if callable(obj) else "{}"
        if isinstance(value, JsArray):
            return self._array(value, value._items, indent)
        if isinstance(value, JsObject):
            return self._object(value, list(value._props.items()), indent)
        if isinstance(value, JsBuffer) and value._kind != "ArrayBuffer":
            return self._object(value, [(str(i), b) for i, b in enumerate(value._data)], indent)
        if getattr(value, "typeof", "object") == "function":
            return None
        return "{}"

    def _enter(self, value: Any) -> None:
        identity = id(value.obj) if isinstance(value, PyProxy) else id(value)
        if identity in self.stack:
            raise JsException(MSG_CIRCULAR, name="TypeError")
        self.stack.append(identity)

    def _object(self, holder: Any, entries: list[tuple[str, Any]], indent: str) -> str:
        self._enter(holder)
        inner = indent + self.gap
        parts = []
        for key, item in entries:
            if self.allow is not None and key not in self.allow:
                continue
            text = self.write(holder, key, item, inner)
            if text is not None:
                colon = ": " if self.gap else ":"
                parts.append(json.dumps(key, ensure_ascii=False) + colon + text)
        self.stack.pop()
        return self._join("{", parts, "}", indent, inner)

    def _array(self, holder: Any, items: list[Any], indent: str) -> str:
        self._enter(holder)
        inner = indent + self.gap
        parts = []
        for index, item in enumerate(items):
            text = self.write(holder, str(index), item, inner)
            parts.append("null" if text is None else text)
        self.stack.pop()
        return self._join("[", parts, "]", indent, inner)

    def _join(self, start: str, parts: list[str], end: str, indent: str, inner: str) -> str:
        if not parts:
            return start + end
        if not self.gap:
            return start + ",".join(parts) + end
        return f"{start}\n{inner}" + f",\n{inner}".join(parts) + f"\n{indent}{end}"


def parse(text: Any, reviver: Any = None) -> Any:
    """Parse JSON text into JavaScript values as ``JSON.parse`` does.

    Args:
        text: The JSON text (anything else is converted with ``String(text)`` first).
        reviver: A function ``(key, value)`` applied bottom-up; ``None`` (undefined) as
            its result removes the member.

    Returns:
        A :class:`~dosim.ffi.JsObject`, :class:`~dosim.ffi.JsArray`, ``str``, number,
        ``bool`` or ``jsnull``.

    Raises:
        JsException: ``SyntaxError`` for text that is not JSON.
    """
    source = text if isinstance(text, str) else js_to_string(text)
    try:
        data = json.loads(
            source, parse_float=_number, parse_int=_number, parse_constant=_no_constant
        )
    except json.JSONDecodeError as error:
        message = f"{error.msg} in JSON at position {error.pos}"
        raise JsException(message, name="SyntaxError") from None
    value = _to_js(data)
    if reviver is None:
        return value
    return _revive(JsObject({"": value}), "", reviver)


def _number(literal: str) -> int | float:
    number = float(literal)
    if number.is_integer() and abs(number) <= MAX_SAFE_INTEGER:
        return int(number)
    return number


def _no_constant(name: str) -> Any:
    raise json.JSONDecodeError(f"Unexpected token '{name[0]}'", name, 0)


def _to_js(data: Any) -> Any:
    if data is None:
        return jsnull
    if isinstance(data, dict):
        return JsObject({key: _to_js(item) for key, item in data.items()})
    if isinstance(data, list):
        return JsArray(_to_js(item) for item in data)
    return data


def _revive(holder: Any, key: str, reviver: Any) -> Any:
    value = holder._items[int(key)] if isinstance(holder, JsArray) else holder._props[key]
    if isinstance(value, JsArray):
        for index in range(len(value._items)):
            value._items[index] = _revive(value, str(index), reviver)
    elif isinstance(value, JsObject):
        for name in list(value._props):
            revived = _revive(value, name, reviver)
            if revived is None:
                del value._props[name]
            else:
                value._props[name] = revived
    return into_js(call_from_js(reviver, key, value), keep=True)


class JsonNamespace(JsProxy):
    """JavaScript's ``JSON`` object (``js.JSON``)."""

    _js_type = "JSON"

    @js_method
    def stringify(self, value: Any, replacer: Any = None, space: Any = None) -> str | None:
        """``JSON.stringify(value, replacer, space)``; see :func:`stringify`."""
        return stringify(value, replacer, space)

    @js_method
    def parse(self, text: Any, reviver: Any = None) -> Any:
        """``JSON.parse(text, reviver)``; see :func:`parse`."""
        return parse(text, reviver)


JSON = JsonNamespace()
"""``js.JSON``."""
