"""HTTP headers: the JavaScript ``Headers`` object and the mapping Python code reads.

On Cloudflare a ``Request`` or ``Response`` holds a JavaScript ``Headers`` object.
Python code never sees it directly: ``request.headers`` and ``response.headers`` build a
fresh :class:`HeadersMapping` (an ``http.client.HTTPMessage`` that is also a
``Mapping``) on every access, so changing that mapping changes nothing in the request.

dosim keeps the JavaScript side as :class:`HeaderList` and converts it the way the
Python Workers SDK does under the compat flag ``python_request_headers_preserve_commas``
(default since 2026-02-17, the behaviour dosim models): every ``Set-Cookie`` value is its
own entry (named ``Set-Cookie``, listed first), and every other header is one entry with
a lower-case name and its values joined with ``", "`` as JavaScript ``Headers`` joins
them, in name order. Without the flag (older compat dates) the SDK also joins the values
but keeps ``set-cookie`` values in JavaScript iteration order; dosim does not model it.
"""

from __future__ import annotations

import http.client
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, TypeAlias

from .jserror import js_error

__all__ = ["Headers", "HeadersMapping", "HeaderList", "js_string"]

Headers: TypeAlias = "dict[str, str] | list[tuple[str, str]] | HeaderList"
"""What ``headers=`` accepts (the SDK's ``Headers`` is this kind of alias, not a class)."""

MSG_HEADERS_TYPE = "Received unexpected type for headers argument"
MSG_HEADER_PAIR = (
    "To initialize a Headers object from a sequence, each inner sequence must have exactly "
    "two elements."
)
MSG_HEADER_NAME = "Invalid header name."
MSG_HEADER_VALUE = "Invalid header value."

_TOKEN_CHARS = frozenset(
    "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)
_HTTP_WHITESPACE = " \t\r\n"


class HeadersMapping(http.client.HTTPMessage, Mapping):  # type: ignore[misc]
    """The headers of a request or response as Python code reads them.

    An ``http.client.HTTPMessage`` (so an ``email.message.Message``) that is also a
    ``collections.abc.Mapping``, exactly the type the Python Workers SDK returns. Name
    lookups are case-insensitive: ``get``, ``[]``, ``in`` and ``get_all``. ``items()``,
    ``keys()`` and iteration list every entry, repeated ``Set-Cookie`` entries included.

    As on Cloudflare, ``headers["missing"]`` returns ``None`` instead of raising
    ``KeyError`` (``Message`` behaviour), and the object is a copy: assigning to it does
    not change the request or response it came from.
    """


def js_string(value: Any) -> str:
    """Convert a Python value to a string the way JavaScript's ``String(value)`` would.

    Pyodide turns ``None`` into ``undefined``, booleans and numbers into JS values, and
    the runtime then stringifies them, so ``{"x-count": 5}`` sends ``x-count: 5`` and
    ``True`` becomes ``"true"``.

    Args:
        value: A header name or value (or a form field value).

    Returns:
        The string JavaScript would produce.
    """
    if isinstance(value, str):
        return value
    if value is None:
        return "undefined"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return str(value)


class HeaderList:
    """Stand-in for a JavaScript ``Headers`` object held by a request or response.

    Names are case-insensitive and stored lower-case; values are trimmed of HTTP
    whitespace and validated, with the runtime's errors (``Invalid header name.``,
    ``Invalid header value.``). A ``HeaderList`` is also accepted wherever ``headers=``
    is, as a JS ``Headers`` object is on Cloudflare.
    """

    __slots__ = ("_values",)

    def __init__(self, pairs: Iterable[tuple[Any, Any]] = ()) -> None:
        self._values: dict[str, list[str]] = {}
        for name, value in pairs:
            self.append(name, value)

    @classmethod
    def from_init(cls, init: Any) -> HeaderList:
        """Build headers from a ``headers=`` argument, as the SDK's conversion accepts it.

        Args:
            init: A ``dict``, a ``list`` of name/value pairs, or a :class:`HeaderList`.

        Returns:
            A new, independent :class:`HeaderList`.

        Raises:
            TypeError: ``Received unexpected type for headers argument`` for any other
                type (tuples and ``request.headers`` mappings included, as in the SDK).
            JsException: ``TypeError`` for a pair that is not two items long, or an
                invalid name or value.
        """
        if isinstance(init, HeaderList):
            return init.copy()
        if isinstance(init, dict):
            return cls(init.items())
        if isinstance(init, list):
            return cls(_pair(item) for item in init)
        raise TypeError(MSG_HEADERS_TYPE)

    def append(self, name: Any, value: Any) -> None:
        """Add a value to a header (``Headers.append``)."""
        key, text = _validated(name, value)
        self._values.setdefault(key, []).append(text)

    def set(self, name: Any, value: Any) -> None:
        """Replace every value of a header (``Headers.set``)."""
        key, text = _validated(name, value)
        self._values[key] = [text]

    def get(self, name: str) -> str | None:
        """Return the values of a header joined with ``", "``, or ``None``."""
        values = self._values.get(name.lower())
        return None if values is None else ", ".join(values)

    def has(self, name: str) -> bool:
        """Return whether the header is present (``Headers.has``)."""
        return name.lower() in self._values

    def delete(self, name: str) -> None:
        """Remove a header (``Headers.delete``); a missing header is ignored."""
        self._values.pop(name.lower(), None)

    def get_set_cookie(self) -> list[str]:
        """Return each ``Set-Cookie`` value separately (``Headers.getSetCookie``)."""
        return list(self._values.get("set-cookie", ()))

    def entries(self) -> list[tuple[str, str]]:
        """Return what iterating a JS ``Headers`` yields.

        Names are lower-case and sorted; each name appears once with its values joined
        by ``", "``, except ``set-cookie``, which appears once per value.
        """
        out: list[tuple[str, str]] = []
        for key in sorted(self._values):
            values = self._values[key]
            if key == "set-cookie":
                out.extend((key, value) for value in values)
            else:
                out.append((key, ", ".join(values)))
        return out

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.entries())

    def copy(self) -> HeaderList:
        """Return an independent copy."""
        clone = HeaderList()
        clone._values = {key: list(values) for key, values in self._values.items()}
        return clone

    def to_mapping(self) -> HeadersMapping:
        """Build the :class:`HeadersMapping` Python code sees (see the module docstring)."""
        mapping = HeadersMapping()
        for value in self.get_set_cookie():
            mapping.add_header("Set-Cookie", value)
        for key, value in self.entries():
            if key != "set-cookie":
                mapping.add_header(key, value)
        return mapping

    def __repr__(self) -> str:
        return f"HeaderList({self.entries()!r})"


def _pair(item: Any) -> tuple[Any, Any]:
    if isinstance(item, str | bytes) or not isinstance(item, Iterable):
        raise js_error("TypeError", MSG_HEADER_PAIR)
    pair = tuple(item)
    if len(pair) != 2:
        raise js_error("TypeError", MSG_HEADER_PAIR)
    return pair[0], pair[1]


def _validated(name: Any, value: Any) -> tuple[str, str]:
    name_text = js_string(name)
    if not name_text or any(char not in _TOKEN_CHARS for char in name_text):
        raise js_error("TypeError", MSG_HEADER_NAME)
    text = js_string(value).strip(_HTTP_WHITESPACE)
    if any(char in text for char in "\x00\r\n"):
        raise js_error("TypeError", MSG_HEADER_VALUE)
    return name_text.lower(), text
