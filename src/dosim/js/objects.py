"""``js.Object``, ``js.Map``, ``js.Error`` (and ``TypeError``, ``RangeError``), ``js.Uint8Array``.

``Object.keys`` / ``values`` / ``entries`` read a JavaScript object's own enumerable
properties; ``Object.fromEntries`` builds a plain object, which makes it the
``dict_converter`` Cloudflare's Python examples pass to ``to_js`` so that a ``dict``
becomes an object whatever the Pyodide version (before 0.29 ``to_js`` made a ``Map`` of
it); ``Map.new`` is the converter for a ``Map``. A Python ``dict`` passed to these functions
directly crosses as a PyProxy; what JavaScript then sees of it was observed in Pyodide
314.0.7 (the version dosim's sandbox ships): ``Object.keys`` lists the dict's keys, a
PyProxy of any other Python object has no own keys, and ``Object.fromEntries`` of a
``dict`` fails because iterating it yields keys, not ``[key, value]`` entries.

``Error.new("boom")`` is what Pyodide returns for a JavaScript error: a
``pyodide.ffi.JsException`` (dosim's :class:`~dosim.errors.JsException`), ready to
``raise``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..boundary import js_method
from ..errors import JsException
from ..ffi import (
    JsArray,
    JsBuffer,
    JsMap,
    JsObject,
    JsProxy,
    JsSet,
    PyProxy,
    from_js,
    into_js,
    js_to_string,
    jsnull,
)
from .base import JsClass, JsFunction

__all__ = [
    "ErrorConstructor",
    "MapConstructor",
    "ObjectConstructor",
    "TypedArrayConstructor",
    "Error",
    "Map",
    "Object",
    "Uint8Array",
    "own_entries",
]

MSG_NULL_TO_OBJECT = "Cannot convert undefined or null to object"
MSG_NOT_ITERABLE = "object is not iterable (cannot read property Symbol(Symbol.iterator))"
MSG_NOT_ENTRY = "Iterator value {value} is not an entry object"


def own_entries(value: Any) -> list[tuple[str, Any]]:
    """A JavaScript value's own enumerable properties, as ``Object.entries`` lists them.

    Args:
        value: A JavaScript value of dosim's model (as a raw JS API receives it).

    Returns:
        ``(key, JavaScript value)`` pairs; keys are strings.

    Raises:
        JsException: ``TypeError`` for ``undefined`` or ``null``.
    """
    if value is None or value is jsnull:
        raise JsException(MSG_NULL_TO_OBJECT, name="TypeError")
    if isinstance(value, str):
        return [(str(index), char) for index, char in enumerate(value)]
    if isinstance(value, JsArray):
        return [(str(index), item) for index, item in enumerate(value._items)]
    if isinstance(value, JsBuffer) and value._kind != "ArrayBuffer":
        return [(str(index), byte) for index, byte in enumerate(value._data)]
    if isinstance(value, JsMap | JsSet | JsBuffer):
        return []
    if isinstance(value, JsObject):
        return list(value._props.items())
    if isinstance(value, PyProxy) and isinstance(value.obj, Mapping):
        value.check_alive()
        return [(js_to_string(key), into_js(item, keep=True)) for key, item in value.obj.items()]
    return []


class ObjectConstructor(JsFunction):
    """JavaScript's ``Object`` (``js.Object``)."""

    def __init__(self) -> None:
        super().__init__("Object")

    @js_method
    def new(self) -> JsObject:
        """``new Object()``: an empty plain object."""
        return JsObject()

    @js_method
    def keys(self, value: Any) -> JsArray:
        """``Object.keys(value)``: the own enumerable property names, as an Array."""
        return JsArray(key for key, _ in own_entries(value))

    @js_method
    def values(self, value: Any) -> JsArray:
        """``Object.values(value)``: the own enumerable property values, as an Array."""
        return JsArray(item for _, item in own_entries(value))

    @js_method
    def entries(self, value: Any) -> JsArray:
        """``Object.entries(value)``: ``[key, value]`` Arrays, in an Array."""
        return JsArray(JsArray([key, item]) for key, item in own_entries(value))

    @js_method
    def fromEntries(self, entries: Any) -> JsObject:  # noqa: N802 - the JavaScript name
        """``Object.fromEntries(entries)``: a plain object from ``[key, value]`` pairs.

        Pass it as ``to_js(d, dict_converter=js.Object.fromEntries)``.

        Args:
            entries: An iterable of two-element entries: an Array of Arrays, a ``Map``,
                or a Python list of pairs (which crosses as an iterable PyProxy).

        Returns:
            A :class:`~dosim.ffi.JsObject`.

        Raises:
            JsException: ``TypeError`` when ``entries`` is not iterable or yields
                something that is not an entry (a ``dict`` yields its keys).
        """
        props: dict[str, Any] = {}
        for entry in _iterate(entries):
            key, value = _entry(entry)
            props[js_to_string(key)] = value
        return JsObject(props)


def _iterate(value: Any) -> list[Any]:
    if isinstance(value, JsArray):
        return list(value._items)
    if isinstance(value, JsMap):
        return [JsArray([key, item]) for key, item in value._map.items()]
    if isinstance(value, JsSet):
        return list(value._members)
    if isinstance(value, str):
        return list(value)
    if isinstance(value, PyProxy):
        value.check_alive()
        try:
            return [into_js(item, keep=True) for item in value.obj]
        except TypeError:
            pass
    raise JsException(MSG_NOT_ITERABLE, name="TypeError")


def _entry(entry: Any) -> tuple[Any, Any]:
    if isinstance(entry, JsArray):
        items = entry._items + [None, None]
        return items[0], items[1]
    if isinstance(entry, PyProxy) and isinstance(entry.obj, list | tuple):
        items = [*entry.obj, None, None]
        return items[0], into_js(items[1], keep=True)
    if isinstance(entry, JsProxy) and not isinstance(entry, JsMap | JsSet):
        return None, None  # an object without "0" and "1" gives undefined for both
    raise JsException(MSG_NOT_ENTRY.format(value=js_to_string(entry)), name="TypeError")


class MapConstructor(JsClass):
    """JavaScript's ``Map`` (``js.Map``)."""

    @js_method
    def new(self, entries: Any = None) -> JsMap:
        """``new Map(entries)``: a Map of ``[key, value]`` entries (none: empty).

        Pass it as ``to_js(d, dict_converter=js.Map.new)`` for a ``Map``.

        Raises:
            JsException: ``TypeError`` when ``entries`` is not iterable or yields
                something that is not an entry.
        """
        if entries is None or entries is jsnull:
            return JsMap()
        return JsMap(_entry(entry) for entry in _iterate(entries))


class SetConstructor(JsClass):
    """JavaScript's ``Set`` (``js.Set``)."""

    @js_method
    def new(self, values: Any = None) -> JsSet:
        """``new Set(values)``: a Set of the iterable's values (none: empty).

        Raises:
            JsException: ``TypeError`` when ``values`` is not iterable.
        """
        if values is None or values is jsnull:
            return JsSet()
        return JsSet(from_js(value) for value in _iterate(values))


class NumberConstructor(JsFunction):
    """JavaScript's ``Number`` (``js.Number``); ``Number.new(x)`` is a Number object."""

    @js_method
    def new(self, value: Any = 0) -> Any:
        """``new Number(value)``: Python receives the number a Number object holds.

        A boxed Number reaches Python as a ``JsProxy``; its ``valueOf()`` is the number.
        dosim hands back the number itself (what the SDK's RPC conversion gives).
        """
        return _to_number(value)


class ArrayBufferConstructor(JsClass):
    """JavaScript's ``ArrayBuffer`` (``js.ArrayBuffer``)."""

    @js_method
    def new(self, length: Any = 0) -> JsBuffer:
        """``new ArrayBuffer(length)``: ``length`` zero bytes."""
        return JsBuffer(bytes(int(_to_number(length))), "ArrayBuffer")


def _to_number(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        try:
            number = float(value.strip() or "0")
        except ValueError:
            return float("nan")
        return int(number) if number.is_integer() else number
    return float("nan")


class ErrorConstructor(JsFunction):
    """A JavaScript error class (``js.Error``, ``js.TypeError``, ``js.RangeError``).

    Args:
        name: The class name, which becomes the error's ``name``.
    """

    @js_method
    def new(self, message: Any = None) -> JsException:
        """``new Error(message)``: the error as Pyodide hands it to Python.

        Args:
            message: The message (``String(message)``; none gives an empty message).

        Returns:
            A :class:`~dosim.errors.JsException` with this ``name``; raise it to throw.
        """
        text = "" if message is None else js_to_string(message)
        error = JsException(text, name=self.name)
        if not text:
            error.args = (self.name,)
        return error


class TypedArrayConstructor(JsClass):
    """``js.Uint8Array``: enough to make a buffer for ``crypto.getRandomValues``."""

    @js_method
    def new(self, init: Any = 0) -> JsBuffer:
        """``new Uint8Array(length)`` or ``new Uint8Array(arrayOfBytes)``.

        Args:
            init: A length, an Array of numbers, or a buffer.

        Returns:
            A :class:`~dosim.ffi.JsBuffer` of kind ``Uint8Array``.
        """
        if isinstance(init, int | float) and not isinstance(init, bool):
            return JsBuffer(bytes(int(init)), self.name)
        if isinstance(init, JsBuffer):
            return JsBuffer(init._data, self.name)
        if isinstance(init, JsArray):
            return JsBuffer(bytes(int(from_js(item)) % 256 for item in init._items), self.name)
        return JsBuffer(b"", self.name)


Object = ObjectConstructor()
"""``js.Object``."""
Map = MapConstructor("Map")
"""``js.Map``."""
Error = ErrorConstructor("Error")
"""``js.Error``."""
Set = SetConstructor("Set")
"""``js.Set``."""
Number = NumberConstructor("Number")
"""``js.Number``."""
ArrayBuffer = ArrayBufferConstructor("ArrayBuffer")
"""``js.ArrayBuffer``."""
Uint8Array = TypedArrayConstructor("Uint8Array")
"""``js.Uint8Array``."""
