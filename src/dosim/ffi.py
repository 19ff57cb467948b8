"""A model of Pyodide's ``pyodide.ffi``: what Python code sees of JavaScript values.

On Cloudflare, Python Workers code runs in Pyodide. Whenever it calls a JavaScript API
that the Workers SDK does not wrap (everything on ``ctx`` except ``storage``, everything on
a WebSocket, the ``js`` globals), Pyodide converts the arguments *implicitly*: ``str``,
``int``, ``float``, ``bool`` and ``None`` become JavaScript values; every other Python
object (a ``list``, a ``dict``, ``bytes``, a function) crosses as a *PyProxy*, a JavaScript
handle on the Python object. A PyProxy made for one call is *borrowed*: Pyodide destroys
it when the call returns (or, when the call returns a Promise, when that Promise
settles), so a JavaScript API that keeps it (an event listener) finds it dead later. The
explicit conversions are :func:`to_js` (a ``list`` becomes an Array, a ``dict`` an Object
unless ``dict_converter`` says otherwise, ``bytes`` a ``Uint8Array``) and
:func:`create_proxy` (a PyProxy that lives until destroyed). Values coming back from
JavaScript are :class:`JsProxy` objects (:class:`JsArray`, :class:`JsMap`,
:class:`JsBuffer`, plain objects) with ``to_py()``.

This module models those rules on CPython, for the raw JavaScript surfaces dosim
simulates (:mod:`dosim.context`, :mod:`dosim.websockets`, :mod:`dosim.js`). Under dosim,
``pyodide.ffi`` *is* this module on CPython; inside Pyodide (the docs' sandbox) app code
keeps the real ``pyodide.ffi``, and dosim's surfaces accept real ``JsProxy`` values too
(:func:`into_js` converts them into this model), so the same app code behaves the same
in both.

Sources: Pyodide's type-conversion documentation (``docs/usage/type-conversions.md``,
Pyodide 0.28, the sections on implicit conversions, ``to_js``, and "Calling JavaScript
functions from Python", which describes borrowed proxies) and the destroyed-proxy
messages in Pyodide's runtime (``pyodide.asm`` of the npm package 314.0.7 the site ships).
"""

from __future__ import annotations

import datetime
import math
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from . import compat
from .errors import JsException

__all__ = [
    "JsProxy",
    "JsObject",
    "JsArray",
    "JsMap",
    "JsSet",
    "JsBuffer",
    "JsDoubleProxy",
    "JsException",
    "ConversionError",
    "PyProxy",
    "jsnull",
    "run_sync",
    "to_js",
    "create_proxy",
    "create_once_callable",
    "destroy_proxies",
    "into_js",
    "as_model",
    "from_js",
    "js_to_string",
    "JsDate",
    "MAX_TIME_MS",
    "time_clip",
    "MSG_BORROWED_DESTROYED",
    "PYODIDE_VERSION",
    "MSG_ASYNC_BORROWED_DESTROYED",
    "MSG_DESTROYED_HINT",
]

PYODIDE_VERSION = "314.0.7"
"""``pyodide.__version__`` under dosim on CPython: the Pyodide the docs' sandbox ships."""

MSG_BORROWED_DESTROYED = (
    "This borrowed proxy was automatically destroyed at the end of a function call. "
    "Try using create_proxy or create_once_callable."
)
MSG_ASYNC_BORROWED_DESTROYED = (
    "This borrowed proxy was automatically destroyed at the end of an asynchronous "
    "function call. Try using create_proxy or create_once_callable."
)
MSG_DESTROYED = "Object has already been destroyed"
MSG_DESTROYED_HINT = (
    "\nFor more information about the cause of this error, use `pyodide.setDebug(true)`"
)
MSG_ONCE_CALLED = "OnceProxy can only be called once"


class ConversionError(Exception):
    """Raised by :func:`to_js` for a value it may not turn into a PyProxy."""


class _JsNull:
    """JavaScript's ``null`` as Python sees it (``undefined`` arrives as ``None``)."""

    _instance: _JsNull | None = None

    def __new__(cls) -> _JsNull:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "jsnull"


jsnull = _JsNull()
"""JavaScript ``null`` (``pyodide.ffi.jsnull``); ``undefined`` becomes ``None``."""


class _Constructor:
    """What ``proxy.constructor`` gives: enough for ``proxy.constructor.name``."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"[Function: {self.name}]"


# --- the JavaScript side of Python objects ------------------------------------------------
class PyProxy:
    """A JavaScript handle on a Python object (what JavaScript holds after a call).

    Attributes:
        obj: The Python object.
        borrowed: True for a proxy Pyodide made for one call (destroyed when it returns).
    """

    def __init__(self, obj: Any, *, borrowed: bool = False, once: bool = False) -> None:
        self.obj = obj
        self.borrowed = borrowed
        self.once = once
        self.destroyed_message: str | None = None

    def destroy(self, message: str = MSG_DESTROYED) -> None:
        """Release the Python object; later uses raise ``message``."""
        if self.destroyed_message is None:
            self.destroyed_message = message + MSG_DESTROYED_HINT

    def check_alive(self) -> None:
        """Raise the JavaScript error Pyodide throws when a destroyed proxy is used.

        Raises:
            JsException: ``Error`` with Pyodide's destroyed-proxy message.
        """
        if self.destroyed_message is not None:
            raise JsException(self.destroyed_message, name="Error")

    def call(self, *js_args: Any) -> Any:
        """Call the Python object from JavaScript with JavaScript arguments.

        Args:
            *js_args: JavaScript values; they arrive in Python as :func:`from_js` makes them.

        Returns:
            What the Python callable returned (an awaitable is returned as is).

        Raises:
            JsException: When the proxy was destroyed, or a once-callable was called again.
        """
        self.check_alive()
        if self.once:
            self.destroy(MSG_ONCE_CALLED)
        return self.obj(*(from_js(arg) for arg in js_args))

    def __repr__(self) -> str:
        state = " destroyed" if self.destroyed_message else ""
        return f"<PyProxy{state} of {type(self.obj).__name__}>"


# --- JavaScript values as Python sees them --------------------------------------------------
class JsProxy:
    """Base of every JavaScript object Python code receives (``pyodide.ffi.JsProxy``).

    Equality is identity, as for Pyodide's proxies: a ``JsArray`` never equals a ``list``.
    """

    _js_type = "Object"

    @property
    def constructor(self) -> _Constructor:
        """The JavaScript constructor; ``.name`` is e.g. ``"Array"`` or ``"Map"``."""
        return _Constructor(self._js_type)

    @property
    def typeof(self) -> str:
        """JavaScript's ``typeof`` of the value."""
        return "object"

    @property
    def js_id(self) -> int:
        """A number identifying the JavaScript object."""
        return id(self)

    def to_py(self, *, depth: int = -1, default_converter: Any = None) -> Any:
        """Convert into Python values (see the subclasses)."""
        return self

    def __repr__(self) -> str:
        return f"[object {self._js_type}]"


class JsObject(JsProxy):
    """A plain JavaScript object: attribute access to its properties, no ``.get``.

    ``to_py()`` gives a ``dict``.
    """

    __slots__ = ("_props", "_js_name")

    def __init__(self, props: dict[str, Any] | None = None, js_type: str = "Object") -> None:
        object.__setattr__(self, "_props", dict(props or {}))
        object.__setattr__(self, "_js_name", js_type)

    @property
    def _js_type(self) -> str:  # type: ignore[override]
        return self._js_name

    def __getattr__(self, name: str) -> Any:
        props = object.__getattribute__(self, "_props")
        if name in props:
            return from_js(props[name])
        raise AttributeError(name)

    def __setattr__(self, name: str, value: Any) -> None:
        self._props[name] = into_js(value, keep=True)

    def __delattr__(self, name: str) -> None:
        if name not in self._props:
            raise AttributeError(name)
        del self._props[name]

    def __dir__(self) -> list[str]:
        return sorted(set(self._props))

    def object_keys(self) -> JsArray:
        """``Object.keys`` of the object."""
        return JsArray(list(self._props))

    def object_values(self) -> JsArray:
        """``Object.values`` of the object."""
        return JsArray(list(self._props.values()))

    def object_entries(self) -> JsArray:
        """``Object.entries`` of the object."""
        return JsArray([JsArray([key, value]) for key, value in self._props.items()])

    def to_py(self, *, depth: int = -1, default_converter: Any = None) -> Any:
        """Return a ``dict`` of the properties, converting nested values ``depth`` deep."""
        return {key: _to_py(value, depth - 1) for key, value in self._props.items()}


class JsArray(JsProxy):
    """A JavaScript Array: a mutable sequence; ``to_py()`` gives a ``list``."""

    __slots__ = ("_items",)
    _js_type = "Array"

    def __init__(self, items: Iterable[Any] = ()) -> None:
        self._items = list(items)

    @property
    def length(self) -> int:
        """The array's ``length``."""
        return len(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return JsArray(self._items[index])
        return from_js(self._items[index])

    def __setitem__(self, index: int, value: Any) -> None:
        self._items[index] = into_js(value, keep=True)

    def __iter__(self) -> Iterator[Any]:
        return (from_js(item) for item in list(self._items))

    def __reversed__(self) -> Iterator[Any]:
        return (from_js(item) for item in reversed(self._items))

    def __contains__(self, value: Any) -> bool:
        return any(from_js(item) == value for item in self._items)

    def append(self, value: Any) -> None:
        """``push`` one value."""
        self._items.append(into_js(value, keep=True))

    def extend(self, values: Iterable[Any]) -> None:
        """``push`` each of ``values``."""
        for value in values:
            self.append(value)

    def pop(self, index: int = -1) -> Any:
        """Remove and return the value at ``index`` (the last by default)."""
        return from_js(self._items.pop(index))

    def index(self, value: Any) -> int:
        """Position of the first element equal to ``value``."""
        for position, item in enumerate(self._items):
            if from_js(item) == value:
                return position
        raise ValueError(f"{value!r} is not in list")

    def count(self, value: Any) -> int:
        """How many elements equal ``value``."""
        return sum(1 for item in self._items if from_js(item) == value)

    def to_py(self, *, depth: int = -1, default_converter: Any = None) -> Any:
        """Return a ``list``, converting nested values ``depth`` deep."""
        return [_to_py(item, depth - 1) for item in self._items]

    def __repr__(self) -> str:
        return ",".join(js_to_string(item) for item in self._items)


class JsMap(JsProxy):
    """A JavaScript Map: a mutable mapping; ``to_py()`` gives a ``dict``."""

    __slots__ = ("_map",)
    _js_type = "Map"

    def __init__(self, entries: Iterable[tuple[Any, Any]] = ()) -> None:
        self._map = dict(entries)

    @property
    def size(self) -> int:
        """The map's ``size``."""
        return len(self._map)

    def __len__(self) -> int:
        return len(self._map)

    def __getitem__(self, key: Any) -> Any:
        return from_js(self._map[key])

    def __setitem__(self, key: Any, value: Any) -> None:
        self._map[key] = into_js(value, keep=True)

    def __delitem__(self, key: Any) -> None:
        del self._map[key]

    def __contains__(self, key: Any) -> bool:
        return key in self._map

    def __iter__(self) -> Iterator[Any]:
        return iter(list(self._map))

    def get(self, key: Any, default: Any = None) -> Any:
        """The value for ``key``, or ``default``."""
        return from_js(self._map[key]) if key in self._map else default

    def keys(self) -> list[Any]:
        """The keys, in insertion order."""
        return list(self._map)

    def values(self) -> list[Any]:
        """The values, in insertion order."""
        return [from_js(value) for value in self._map.values()]

    def items(self) -> list[tuple[Any, Any]]:
        """``(key, value)`` pairs, in insertion order."""
        return [(key, from_js(value)) for key, value in self._map.items()]

    def to_py(self, *, depth: int = -1, default_converter: Any = None) -> Any:
        """Return a ``dict``, converting nested values ``depth`` deep."""
        return {key: _to_py(value, depth - 1) for key, value in self._map.items()}


class JsSet(JsProxy):
    """A JavaScript Set; ``to_py()`` gives a ``set``."""

    __slots__ = ("_members",)
    _js_type = "Set"

    def __init__(self, members: Iterable[Any] = ()) -> None:
        self._members = dict.fromkeys(members)

    def __len__(self) -> int:
        return len(self._members)

    def __iter__(self) -> Iterator[Any]:
        return iter(list(self._members))

    def __contains__(self, value: Any) -> bool:
        return value in self._members

    def to_py(self, *, depth: int = -1, default_converter: Any = None) -> Any:
        """Return a ``set``."""
        return set(self._members)


class JsBuffer(JsProxy):
    """An ArrayBuffer or typed array (``Uint8Array``); ``to_py()`` gives a ``memoryview``.

    Attributes:
        byteLength: The length in bytes (the JavaScript property).
    """

    __slots__ = ("_data", "_kind")

    def __init__(self, data: bytes | bytearray | memoryview, kind: str = "ArrayBuffer") -> None:
        self._data = bytes(data)
        self._kind = kind

    @property
    def _js_type(self) -> str:  # type: ignore[override]
        return self._kind

    @property
    def byteLength(self) -> int:  # noqa: N802 - the JavaScript property name
        """The length in bytes."""
        return len(self._data)

    def to_bytes(self) -> bytes:
        """Return a copy of the bytes."""
        return self._data

    def to_memoryview(self) -> memoryview:
        """Return the bytes as a read-only ``memoryview``."""
        return memoryview(self._data)

    def to_py(self, *, depth: int = -1, default_converter: Any = None) -> Any:
        """Return what Pyodide's ``to_py()`` gives for a buffer: a ``memoryview``."""
        return memoryview(self._data)

    def to_string(self, encoding: str | None = None) -> str:
        """Decode the bytes (UTF-8 unless ``encoding`` is given)."""
        return self._data.decode(encoding or "utf-8")

    def __len__(self) -> int:
        if self._kind == "ArrayBuffer":
            raise TypeError("object of type 'JsBuffer' has no len()")
        return len(self._data)

    def __repr__(self) -> str:
        if self._kind == "ArrayBuffer":
            return "[object ArrayBuffer]"
        return ",".join(str(byte) for byte in self._data)


class JsDoubleProxy(JsProxy):
    """What :func:`create_proxy` returns: a handle Python keeps on a long-lived PyProxy.

    Call it like the function; ``destroy()`` releases it (later calls from JavaScript
    fail); ``unwrap()`` returns the Python object.
    """

    __slots__ = ("_proxy",)
    _js_type = "Function"

    def __init__(self, proxy: PyProxy) -> None:
        self._proxy = proxy

    @property
    def typeof(self) -> str:
        """``"function"`` for a callable, ``"object"`` otherwise."""
        return "function" if callable(self._proxy.obj) else "object"

    def destroy(self) -> None:
        """Release the Python object; JavaScript that still holds it gets an error."""
        self._proxy.destroy()

    def unwrap(self) -> Any:
        """Return the Python object."""
        self._proxy.check_alive()
        return self._proxy.obj

    def __call__(self, *args: Any) -> Any:
        """Call the function through the proxy (fails once it was destroyed)."""
        return self._proxy.call(*(into_js(arg, keep=True) for arg in args))

    def __repr__(self) -> str:
        return repr(self._proxy)


class JsDate(JsProxy):
    """A JavaScript ``Date`` (Pyodide does not turn it into a ``datetime``).

    Holds a time value in milliseconds since the epoch, clipped as JavaScript's TimeClip
    does (truncated to a whole number; NaN, an "Invalid Date", outside +-8.64e15). Its
    string forms are those of V8 in UTC, the time zone of Pyodide on Cloudflare.

    Args:
        ms: Milliseconds since the Unix epoch (any number; NaN for an invalid date).
    """

    __slots__ = ("_ms",)
    _js_type = "Date"

    def __init__(self, ms: float) -> None:
        self._ms = time_clip(ms)

    def getTime(self) -> int | float:  # noqa: N802 - the JavaScript method name
        """Milliseconds since the epoch (an ``int``; ``nan`` for an invalid date)."""
        return self._ms if math.isnan(self._ms) else int(self._ms)

    def valueOf(self) -> int | float:  # noqa: N802 - the JavaScript method name
        """Milliseconds since the epoch, as :meth:`getTime`."""
        return self.getTime()

    def toISOString(self) -> str:  # noqa: N802 - the JavaScript method name
        """The time as ``YYYY-MM-DDTHH:MM:SS.mmmZ``.

        Raises:
            JsException: ``RangeError: Invalid time value`` for an invalid date.
        """
        if math.isnan(self._ms):
            raise JsException("Invalid time value", name="RangeError")
        moment = self._moment()
        year = moment.year
        text = f"{year:04d}" if 0 <= year <= 9999 else f"{year:+07d}"
        return text + moment.strftime("-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"

    def toJSON(self) -> str | None:  # noqa: N802 - the JavaScript method name
        """What ``JSON.stringify`` writes: the ISO string, ``None`` (null) when invalid."""
        return None if math.isnan(self._ms) else self.toISOString()

    def toString(self) -> str:  # noqa: N802 - the JavaScript method name
        """V8's form in UTC: ``Wed Jan 01 2025 00:00:00 GMT+0000 (Coordinated Universal Time)``."""
        if math.isnan(self._ms):
            return "Invalid Date"
        return self._moment().strftime("%a %b %d %Y %H:%M:%S") + _UTC_SUFFIX

    def toUTCString(self) -> str:  # noqa: N802 - the JavaScript method name
        """The HTTP date form: ``Wed, 01 Jan 2025 00:00:00 GMT``."""
        if math.isnan(self._ms):
            return "Invalid Date"
        return self._moment().strftime("%a, %d %b %Y %H:%M:%S GMT")

    def _moment(self) -> datetime.datetime:
        return _EPOCH + datetime.timedelta(milliseconds=self._ms)

    def __str__(self) -> str:
        return self.toString()

    def __repr__(self) -> str:
        return self.toString()


_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
_UTC_SUFFIX = " GMT+0000 (Coordinated Universal Time)"
MAX_TIME_MS = 8.64e15
"""The largest time value a JavaScript ``Date`` holds, in ms either side of the epoch."""


def time_clip(ms: Any) -> float:
    """JavaScript's TimeClip: a whole number of ms, or NaN when out of range or not a number.

    Args:
        ms: A number (anything else gives NaN).
    """
    if isinstance(ms, bool) or not isinstance(ms, int | float):
        return math.nan
    if math.isnan(ms) or math.isinf(ms) or abs(ms) > MAX_TIME_MS:
        return math.nan
    return float(math.trunc(ms)) + 0.0


# --- explicit conversions ---------------------------------------------------------------------
def to_js(
    obj: Any,
    *,
    depth: int = -1,
    pyproxies: Any = None,
    create_pyproxies: bool = True,
    dict_converter: Callable[[Iterable[Any]], Any] | None = None,
    default_converter: Callable[[Any, Callable[[Any], Any], Any], Any] | None = None,
    eager_converter: Any = None,
) -> Any:
    """Convert a Python value into a JavaScript value, as ``pyodide.ffi.to_js`` does.

    ``list`` and ``tuple`` become Arrays, ``dict`` a plain object (or what
    ``dict_converter`` makes of its ``[key, value]`` entries, e.g. ``js.Map.new``); for an
    app whose compatibility date is before 2026-09-08 Cloudflare runs Pyodide 0.28, which
    makes a Map of a ``dict``, and so does this model (:mod:`dosim.compat`);
    ``set`` a Set, ``bytes``-like values a ``Uint8Array``; ``str``, numbers, ``bool`` and
    ``None`` stay as they are; anything else becomes a PyProxy (``default_converter``
    gets a chance first).

    Args:
        obj: The value to convert.
        depth: How many levels to convert (``-1``: all).
        pyproxies: A list that collects the PyProxies made, for :func:`destroy_proxies`.
        create_pyproxies: When False, a value that would need a PyProxy raises instead.
        dict_converter: Builds the JavaScript value for a ``dict`` from its entries.
        default_converter: ``(value, convert, cache)`` for values with no conversion.
        eager_converter: Accepted for signature compatibility; not used.

    Returns:
        The JavaScript value, as Python receives it back (a :class:`JsProxy` or a
        primitive).

    Raises:
        ConversionError: With ``create_pyproxies=False``, for a value needing a PyProxy.
    """
    del eager_converter

    def convert(value: Any, level: int) -> Any:
        if value is None or isinstance(value, bool | int | float | str) or value is jsnull:
            return value
        if isinstance(value, JsProxy) or _is_real_jsproxy(value):
            return value
        if level == 0:
            return proxy_of(value)
        if isinstance(value, list | tuple):
            return JsArray(convert(item, level - 1) for item in value)
        if isinstance(value, dict):
            entries = [JsArray([key, convert(item, level - 1)]) for key, item in value.items()]
            if dict_converter is None and compat.active().pyodide_314:
                # An Object since Pyodide 0.29 (pyodide/pyodide#5912); a Map before.
                return JsObject({str(entry._items[0]): entry._items[1] for entry in entries})
            if dict_converter is None:
                return JsMap((entry._items[0], entry._items[1]) for entry in entries)
            return dict_converter(JsArray(entries))
        if isinstance(value, set | frozenset):
            return JsSet(value)
        if isinstance(value, bytes | bytearray | memoryview):
            return JsBuffer(bytes(value), "Uint8Array")
        if default_converter is not None:
            return default_converter(value, lambda inner: convert(inner, level - 1), {})
        return proxy_of(value)

    def proxy_of(value: Any) -> Any:
        if not create_pyproxies:
            raise ConversionError(
                f"No conversion known for x of type {type(value).__name__} "
                "and create_pyproxies is False"
            )
        proxy = PyProxy(value)
        if pyproxies is not None:
            pyproxies.append(JsDoubleProxy(proxy))
        return proxy

    result = convert(obj, depth)
    return JsDoubleProxy(result) if isinstance(result, PyProxy) else result


def create_proxy(obj: Any, *, capture_this: bool = False, roundtrip: bool = True) -> JsDoubleProxy:
    """Make a PyProxy of ``obj`` that lives until ``destroy()`` is called.

    Pass the result (not the plain function) to JavaScript APIs that keep it, such as
    ``ws.addEventListener``.

    Args:
        obj: Usually a function.
        capture_this: Accepted for compatibility; not modelled.
        roundtrip: Accepted for compatibility; not modelled.
    """
    del capture_this, roundtrip
    return JsDoubleProxy(PyProxy(obj))


def create_once_callable(obj: Callable[..., Any], *, _may_syncify: bool = False) -> JsDoubleProxy:
    """Make a PyProxy of ``obj`` that destroys itself after its first call.

    Args:
        obj: A function.
    """
    return JsDoubleProxy(PyProxy(obj, once=True))


def destroy_proxies(proxies: Iterable[Any]) -> None:
    """Destroy every proxy in ``proxies`` (for example those ``to_js`` collected).

    Args:
        proxies: :class:`JsDoubleProxy` values.
    """
    for proxy in proxies:
        proxy.destroy()


def run_sync(awaitable: Any) -> Any:
    """Wait for ``awaitable`` from synchronous code (Pyodide's JSPI ``run_sync``).

    On Cloudflare the JavaScript event loop keeps running meanwhile. CPython cannot
    suspend a running event loop's task, so dosim runs the awaitable on its own event loop
    in a helper thread: fine for self-contained work (``asyncio.sleep``, computation,
    ``workers.fetch`` through an outbound handler that does not touch objects); an
    awaitable that uses an object's storage, stubs or virtual clock is not supported
    there (see the Differences page).

    Args:
        awaitable: A coroutine or other awaitable.

    Returns:
        Its result.
    """
    # Imported here: run_sync is rare, and these cost start-up time for every import of dosim.
    import asyncio
    import concurrent.futures

    real = _real_ffi()
    if real is not None:  # pragma: no cover - inside Pyodide: its own JSPI run_sync
        return real.run_sync(awaitable)

    async def wait() -> Any:
        return await awaitable

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(wait())
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, wait()).result()


# --- implicit conversions (what happens at a call into JavaScript) ---------------------------
def into_js(value: Any, *, keep: bool = False, borrowed: list[PyProxy] | None = None) -> Any:
    """Return the JavaScript value a raw JavaScript API receives for ``value``.

    ``str``, numbers, ``bool``, ``None`` (``undefined``) and ``jsnull`` cross as they are; a
    :class:`JsProxy` crosses as the JavaScript object it stands for; a real Pyodide
    ``JsProxy`` (app code in the browser calling the real ``to_js``) is converted into this
    model; anything else becomes a :class:`PyProxy`.

    Args:
        value: What Python code passed.
        keep: True when JavaScript keeps the value (an assigned property): the PyProxy is
            not borrowed.
        borrowed: Collects borrowed PyProxies, destroyed when the call ends.

    Returns:
        A primitive, a :class:`JsProxy` of this model, or a :class:`PyProxy`.
    """
    if value is None or value is jsnull or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, JsDoubleProxy):
        return value._proxy
    if isinstance(value, JsProxy | PyProxy):
        return value
    if _is_real_jsproxy(value):
        return _from_real_jsproxy(value)
    proxy = PyProxy(value, borrowed=not keep)
    if borrowed is not None and not keep:
        borrowed.append(proxy)
    return proxy


def from_js(value: Any) -> Any:
    """Return what Python receives for a JavaScript value (the other direction).

    Args:
        value: A primitive, :class:`JsProxy` or :class:`PyProxy`.

    Returns:
        The primitive or proxy itself; a PyProxy gives back its Python object.
    """
    if isinstance(value, PyProxy):
        return value.obj
    return value


def js_to_string(value: Any) -> str:
    """JavaScript's ``String(value)`` for a value of this model.

    A PyProxy converts as Pyodide's ``toString`` does, to the Python ``str`` of the object.
    """
    if value is None:
        return "undefined"
    if value is jsnull:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    if isinstance(value, PyProxy):
        return str(value.obj)
    return str(value) if not isinstance(value, JsProxy) else repr(value)


def _to_py(value: Any, depth: int) -> Any:
    if isinstance(value, PyProxy):
        return value.obj
    if isinstance(value, JsProxy) and depth != 0:
        return value.to_py(depth=depth)
    return value


# --- real Pyodide values (app code in the browser) -------------------------------------------
def _real_ffi() -> Any:
    module = sys.modules.get("pyodide.ffi")
    if module is None or module is sys.modules.get(__name__):
        return None
    return module if getattr(module, "JsProxy", None) is not JsProxy else None


def _is_real_jsproxy(value: Any) -> bool:
    ffi = _real_ffi()
    return ffi is not None and isinstance(value, ffi.JsProxy)


def as_model(value: Any) -> Any:
    """Return a real Pyodide ``JsProxy`` as this model's value; anything else unchanged.

    Args:
        value: Any value app code passed.
    """
    return _from_real_jsproxy(value) if _is_real_jsproxy(value) else value


def _from_real_jsproxy(value: Any) -> Any:  # pragma: no cover - exercised in Pyodide only
    """Convert a real Pyodide ``JsProxy`` into this model (deep copy of its data)."""
    ffi = _real_ffi()
    if isinstance(value, ffi.JsDoubleProxy):
        return PyProxy(value.unwrap())
    kind = getattr(getattr(value, "constructor", None), "name", "Object")
    if kind == "Array":
        return JsArray(into_js(item, keep=True) for item in value)
    if kind == "Map":
        return JsMap((key, into_js(item, keep=True)) for key, item in value.to_py(depth=1).items())
    if kind == "Set":
        return JsSet(value.to_py())
    if kind == "Date":
        return JsDate(value.getTime())
    if kind in ("Number", "Boolean", "String"):
        return value.valueOf()
    if kind.endswith("Error"):
        return JsException(str(value.message), name=str(value.name))
    if kind in ("ArrayBuffer", "Uint8Array") or hasattr(value, "to_bytes"):
        return JsBuffer(value.to_bytes(), kind if kind == "Uint8Array" else "ArrayBuffer")
    if kind == "Object":
        entries = value.to_py(depth=1).items()
        return JsObject({key: into_js(item, keep=True) for key, item in entries})
    return value
