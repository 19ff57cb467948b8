"""How values cross an object boundary: RPC arguments and results, and stored values.

On Cloudflare a Python value sent over RPC or stored with the KV API goes through the
Python Workers SDK's ``python_to_rpc`` (Python → JS), V8's structured clone, and
``python_from_rpc`` (JS → Python) on the other side. What arrives is a *copy* whose types
follow fixed rules:

============================  ======================================================
sent                          received
============================  ======================================================
``None``, bool, int, str      the same value
``float``                     ``float``; a whole number (``2.0``) within JavaScript's
                              safe integers arrives as ``int`` (``2``)
``list``                      ``list``
``dict`` (any mapping)        :class:`JsDict` — a ``dict`` that also allows
                              ``row.key`` attribute access
``set``                       ``set``
``bytes``, ``memoryview``     ``memoryview``
``datetime.datetime``         naive ``datetime`` in UTC, millisecond precision
``Exception``                 ``Exception("Error: <message>")``
a function (a callable that   over RPC: a :class:`FunctionStub`; ``await stub(args)``
is not a class)               calls it (arguments and result copied); in storage:
                              ``DataCloneError``
``tuple``, ``bytearray``      ``TypeError: <class 'tuple'> cannot be sent over RPC.``
awaitable                     ``TypeError: Awaitable <type> cannot be sent over RPC.``
other objects                 :class:`~dosim.errors.JsException` ``DataCloneError``
============================  ======================================================

dosim applies the same rules with plain Python, so mutations after a call never leak
across the boundary and unsupported values fail where they would fail in production.

Chosen where the platform is silent: naive datetimes are read as UTC (Pyodide's local
time zone is UTC); non-string dict keys become strings as JavaScript property keys do.

Stored values use a compact typed encoding (:func:`encode_value` / :func:`decode_value`)
built on :mod:`marshal`; its length stands in for the V8-serialized size that the KV
value limit counts.
"""

from __future__ import annotations

import datetime as _dt
import inspect
import marshal
from decimal import Decimal
from typing import Any

from . import compat
from .eager import start_now
from .errors import JsException, cross_exception
from .ffi import JsArray, JsBuffer, JsDate, JsMap, JsObject, JsSet, as_model, jsnull

__all__ = [
    "JsDict",
    "FunctionStub",
    "rpc_copy",
    "to_wire",
    "from_wire",
    "encode_value",
    "decode_value",
    "js_number",
    "wire_date",
    "wire_date_ms",
    "wire_map",
    "wire_tag",
]

_UTC = _dt.UTC
_DATETIME_TAG = "\x00datetime"
_EXCEPTION_TAG = "\x00error"
_FUNCTION_TAG = "\x00function"
_MAP_TAG = "\x00map"  # a JavaScript Map: keys keep their types (an object's become str)
_SCALARS = (str, int, float, bool)
_TAG_NAMES = {
    _DATETIME_TAG: "date",
    _MAP_TAG: "map",
    _EXCEPTION_TAG: "error",
    _FUNCTION_TAG: "function",
}
_MAX_SAFE_INTEGER = 2**53 - 1


def wire_date(ms: int) -> tuple[str, int]:
    """Return the wire form of a JavaScript ``Date`` (what a binding returns for one).

    Args:
        ms: Milliseconds since the epoch.
    """
    return (_DATETIME_TAG, int(ms))


def wire_date_ms(value: Any) -> int | None:
    """Return the milliseconds of a wire ``Date``, or ``None`` when ``value`` is not one.

    Args:
        value: Any wire value.
    """
    if type(value) is tuple and len(value) == 2 and value[0] == _DATETIME_TAG:
        return int(value[1])
    return None


def wire_map(pairs: list[list[Any]]) -> tuple[str, list[list[Any]]]:
    """Return the wire form of a JavaScript ``Map`` (it reaches Python as a ``JsDict``).

    Args:
        pairs: ``[key, value]`` pairs of wire values, in insertion order.
    """
    return (_MAP_TAG, pairs)


def wire_tag(value: Any) -> str | None:
    """Tell which tagged wire form ``value`` is.

    Args:
        value: Any wire value.

    Returns:
        ``"date"``, ``"map"``, ``"error"`` or ``"function"``; ``None`` for plain values.
    """
    if type(value) is not tuple or len(value) != 2:
        return None
    return _TAG_NAMES.get(value[0])


def js_number(number: float) -> float | int:
    """Return what a float becomes after a trip through a JavaScript ``Number``.

    Pyodide converts a JS number that is a safe integer (``Number.isSafeInteger``) to a
    Python ``int``, anything else to ``float``: ``2.0`` sent over RPC or stored arrives
    as ``2``; ``2.5``, ``nan``, ``inf`` and ``1e300`` stay floats.

    Args:
        number: A float.
    """
    if number.is_integer() and -_MAX_SAFE_INTEGER <= number <= _MAX_SAFE_INTEGER:
        return int(number)
    return number


class JsDict(dict):
    """A ``dict`` that also allows attribute access to its keys.

    This is what a JavaScript object becomes when it reaches Python code on Cloudflare
    (SQL rows, RPC results, stored objects): ``row["name"]`` and ``row.name`` both work.
    Keys that clash with ``dict`` methods (``row.items``) are reachable by subscript only.
    """

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value


def js_number_to_string(number: float) -> str:
    """Spell a float the way JavaScript's ``String(number)`` does.

    Shortest round-trip digits (as Python's ``repr``), but plain decimals from 1e-7
    (exclusive) up to 1e21 (exclusive) and an unpadded exponent otherwise: ``1e-05`` in
    Python is ``0.00001`` in JavaScript, ``1e+21`` stays ``1e+21``.

    Args:
        number: Any float.

    Returns:
        The JavaScript spelling (``"NaN"``, ``"Infinity"`` included).
    """
    if number != number:
        return "NaN"
    if number in (float("inf"), float("-inf")):
        return "Infinity" if number > 0 else "-Infinity"
    if number == 0:
        return "0"
    sign = "-" if number < 0 else ""
    # repr gives the shortest round-trip digits, as JavaScript does; only the layout differs.
    _, digit_tuple, exponent = Decimal(repr(abs(number))).normalize().as_tuple()
    digits = "".join(map(str, digit_tuple))
    k = len(digits)
    n = k + int(exponent)  # the decimal point sits after n digits
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * (-n) + digits
    tail = "." + digits[1:] if k > 1 else ""
    return f"{sign}{digits[0]}{tail}e{'+' if n - 1 > 0 else '-'}{abs(n - 1)}"


def _js_key(key: Any) -> str:
    """Return the property name JavaScript gives a dict key."""
    if isinstance(key, str):
        return key
    if key is True:
        return "true"
    if key is False:
        return "false"
    if key is None:
        return "null"
    if isinstance(key, int):
        return str(key)
    if isinstance(key, float):
        return js_number_to_string(key)
    raise _clone_error(key)


def _clone_error(value: Any) -> JsException:
    return JsException(f"{type(value).__name__} object could not be cloned.", name="DataCloneError")


def _disabled_type_error(value: Any) -> TypeError:
    return TypeError(f"{type(value)} cannot be sent over RPC.")


def to_wire(value: Any, *, functions: bool = False) -> Any:
    """Validate ``value`` for crossing a boundary and return its wire form.

    The wire form is built from ``None``, scalars, ``list``, ``dict``, ``set``, ``bytes``
    and tagged tuples (datetimes and exceptions); tuples cannot occur in user values, so
    they are free to carry tags. Raises the platform's errors for values that cannot be
    sent.

    Args:
        value: Any Python value app code passes.
        functions: Whether callables may cross (as :class:`FunctionStub` on the other
            side): true for RPC, false for storage and attachments, which clone.

    Returns:
        A fresh structure sharing nothing mutable with ``value``.

    Raises:
        TypeError: For tuples, bytearrays and awaitables (as the SDK raises them).
        JsException: ``DataCloneError`` for other objects V8 cannot clone.
    """
    if value is None or type(value) in (str, int, float, bool):
        return value
    if isinstance(value, (list, dict, set, frozenset)):
        _check_disabled(value)
        return _wire_container(value, functions)
    if isinstance(value, (tuple, bytearray)):
        raise _disabled_type_error(value)
    return _wire_leaf(value, functions)


def _check_disabled(value: Any) -> None:
    """Mirror the SDK's pre-check: any nested tuple/bytearray/awaitable fails first."""
    items = value.values() if isinstance(value, dict) else value
    for item in items:
        if isinstance(item, (tuple, bytearray)):
            raise _disabled_type_error(item)
        if inspect.isawaitable(item):
            raise TypeError(f"Awaitable {type(item)} cannot be sent over RPC.")
        if isinstance(item, (list, dict, set, frozenset)):
            _check_disabled(item)


def _wire_container(value: Any, functions: bool) -> Any:
    if isinstance(value, list):
        return [to_wire(item, functions=functions) for item in value]
    if isinstance(value, dict):
        return {_js_key(key): to_wire(item, functions=functions) for key, item in value.items()}
    return {to_wire(item, functions=functions) for item in value}


def _wire_leaf(value: Any, functions: bool) -> Any:
    if isinstance(value, _SCALARS):  # subclasses such as IntEnum or str enums
        for base in (bool, int, float, str):
            if isinstance(value, base):
                return base(value)
    if isinstance(value, (bytes, memoryview)):
        return bytes(value)
    if isinstance(value, _dt.datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=_UTC)
        return (_DATETIME_TAG, int(aware.timestamp() * 1000))
    if isinstance(value, BaseException):
        return (_EXCEPTION_TAG, str(value))
    if inspect.isawaitable(value):
        raise TypeError(f"Awaitable {type(value)} cannot be sent over RPC.")
    wire = getattr(value, "__dosim_wire__", None)
    if wire is not None:
        return wire()
    model = as_model(value)  # a real Pyodide JsProxy (app code in the browser)
    if model is not value:
        return to_wire(model, functions=functions)
    if isinstance(value, _JS_DATA) or value is jsnull:
        return _wire_js_value(value, functions)
    if functions and isinstance(value, FunctionStub):
        # Sent on as the same function, not nested, still answering for its own app.
        return (_FUNCTION_TAG, (value._function, value._compatibility))
    if functions and callable(value) and not isinstance(value, type):
        return (_FUNCTION_TAG, (value, compat.active()))  # the sending app's
    raise _clone_error(value)


_JS_DATA = (JsArray, JsObject, JsMap, JsSet, JsBuffer, JsDate)


def _wire_js_value(value: Any, functions: bool) -> Any:
    # A JavaScript value Python code holds (``to_js([...])``, ``js.Date.new()``) crosses as
    # the value it stands for: the SDK's python_to_rpc passes it through to JavaScript.
    if value is jsnull:
        return None
    if isinstance(value, JsDate):
        return (_DATETIME_TAG, int(value.getTime()))
    if isinstance(value, JsBuffer):
        return value.to_bytes()
    if isinstance(value, JsMap):
        return (
            _MAP_TAG,
            [
                [to_wire(key, functions=functions), to_wire(item, functions=functions)]
                for key, item in value.to_py().items()
            ],
        )
    return to_wire(value.to_py(), functions=functions)


def from_wire(wire: Any) -> Any:
    """Turn a wire form back into the values the receiving Python code sees.

    Args:
        wire: A structure produced by :func:`to_wire` (or decoded from storage).

    Returns:
        ``dict`` → :class:`JsDict`, ``bytes`` → ``memoryview``, tagged datetimes →
        naive UTC ``datetime``, tagged exceptions → ``Exception("Error: ...")``.
    """
    if wire is None or type(wire) in (str, int, bool):
        return wire
    if type(wire) is float:
        return js_number(wire)
    if type(wire) is list:
        return [from_wire(item) for item in wire]
    if type(wire) is dict:
        return JsDict({key: from_wire(item) for key, item in wire.items()})
    if type(wire) in (set, frozenset):
        return {from_wire(item) for item in wire}
    if type(wire) is bytes:
        return memoryview(wire)
    if type(wire) is tuple:
        tag, payload = wire
        if tag == _DATETIME_TAG:
            moment = _dt.datetime.fromtimestamp(payload / 1000, tz=_UTC)
            return moment.replace(tzinfo=None)
        if tag == _EXCEPTION_TAG:
            return Exception(f"Error: {payload}")
        if tag == _FUNCTION_TAG:
            return FunctionStub(*payload)
        if tag == _MAP_TAG:
            return JsDict({from_wire(key): from_wire(item) for key, item in payload})
    return wire  # objects with their own wire form (Request, Response) pass through


class FunctionStub:
    """A function that crossed an RPC boundary: calling it calls the original, remotely.

    On Cloudflare the SDK sends a Python callable as a proxy and the other side receives
    an RPC stub for it (workers-runtime-sdk 1.9.5 ``workers/rpc.py``; workers-py's RPC
    test passes and returns closures). ``await stub(args)`` runs the original with copies
    of the arguments (keyword arguments as one trailing dict, as for stub methods) and
    returns a copy of its result; its exceptions cross as RPC errors do. The call starts
    when made. A stub can be sent on over RPC again.

    Where dosim differs: the original runs directly in this process, not as an event of
    the object that sent it (its input gate does not apply).

    Args:
        function: The original callable.
        compatibility: The sending app's (default: the active one).
    """

    __slots__ = ("_function", "_compatibility")

    def __init__(self, function: Any, compatibility: compat.Compatibility | None = None) -> None:
        self._function = function
        # Its errors cross as the sending app's compatibility date says (dosim.compat).
        self._compatibility = compatibility or compat.active()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the original with copies of the arguments; await the result.

        Args:
            *args: Positional arguments (copied with the RPC rules).
            **kwargs: Keyword arguments, sent as one trailing dict.

        Returns:
            A coroutine that returns a copy of the original's result.
        """
        sent = [rpc_copy(arg) for arg in args]
        if kwargs:
            sent.append(rpc_copy(kwargs))
        return start_now(_call_original(self._function, sent, self._compatibility))

    def __repr__(self) -> str:
        name = getattr(self._function, "__qualname__", type(self._function).__name__)
        return f"FunctionStub({name})"


async def _call_original(
    function: Any, sent: list[Any], compatibility: compat.Compatibility
) -> Any:
    try:
        result = function(*sent)
        if inspect.isawaitable(result):
            result = await result
    except Exception as error:
        raise cross_exception(error, compatibility) from None
    return rpc_copy(result)


def rpc_copy(value: Any) -> Any:
    """Copy ``value`` across an RPC boundary with the Python Workers conversion rules.

    Args:
        value: An argument or a return value.

    Returns:
        What the other side receives (see the module table).
    """
    if value is None or type(value) in (str, int, bool):
        return value
    if type(value) is float:
        return js_number(value)
    return from_wire(to_wire(value, functions=True))


def encode_value(value: Any) -> bytes:
    """Encode a value for the KV store (validating it like an RPC argument).

    Args:
        value: The value passed to ``put``.

    Returns:
        Bytes whose length is the value's stored size.
    """
    kind = type(value)
    if kind is str:
        return b"s" + value.encode("utf-8", "surrogatepass")
    if kind is int and -(2**63) <= value < 2**63:
        return b"i" + value.to_bytes(8, "little", signed=True)
    return b"m" + marshal.dumps(to_wire(value))


def decode_value(blob: bytes) -> Any:
    """Decode bytes written by :func:`encode_value` into the value app code reads.

    Args:
        blob: Stored bytes.

    Returns:
        A fresh value; containers and bytes follow :func:`from_wire`.
    """
    tag = blob[:1]
    if tag == b"s":
        return blob[1:].decode("utf-8", "surrogatepass")
    if tag == b"i":
        return int.from_bytes(blob[1:], "little", signed=True)
    return from_wire(marshal.loads(blob[1:]))
