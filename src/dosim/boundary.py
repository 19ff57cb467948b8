"""What happens when Python code calls a raw JavaScript API, and JavaScript calls back.

The rules of :mod:`dosim.ffi` applied at a call: :func:`js_method` gives a method the
argument conversion and borrowed-proxy lifetime of a call from Pyodide into JavaScript;
:func:`call_from_js` is JavaScript calling a function it holds (a dead borrowed proxy
fails); :func:`relaxed_call` is how workerd calls the ``alarm`` and WebSocket handlers
(extra arguments dropped); :func:`structured_clone` is what ``serializeAttachment`` and
``postMessage``-like APIs do to a value (a PyProxy cannot be cloned).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from .errors import JsException
from .ffi import (
    MSG_ASYNC_BORROWED_DESTROYED,
    MSG_BORROWED_DESTROYED,
    JsArray,
    JsBuffer,
    JsDate,
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

__all__ = [
    "call_from_js",
    "end_call",
    "js_method",
    "relaxed_call",
    "structured_clone",
    "to_plain",
]

# Values that cross into JavaScript unchanged (exact types: a subclass takes the long way).
_PRIMITIVES = frozenset({str, int, float, bool, type(None), type(jsnull)})


def call_from_js(function: Any, *js_args: Any) -> Any:
    """Call a function JavaScript holds (a listener, a callback) as JavaScript would.

    Args:
        function: A :class:`PyProxy` (possibly destroyed) or a model function.
        *js_args: The JavaScript arguments.

    Returns:
        The result (awaitables unchanged).

    Raises:
        JsException: When ``function`` is a destroyed proxy.
        TypeError: When ``function`` is not callable.
    """
    if isinstance(function, PyProxy):
        return function.call(*js_args)
    if callable(function):
        return function(*js_args)
    raise JsException(f"{js_to_string(function)} is not a function", name="TypeError")


def end_call(borrowed: list[PyProxy], result: Any) -> Any:
    """Destroy the borrowed proxies of a finished call (after its Promise, if any).

    Args:
        borrowed: The PyProxies :func:`into_js` made for the call.
        result: What the call returned.

    Returns:
        ``result``; an awaitable is wrapped so the proxies die when it settles.
    """
    if not borrowed:
        return result
    if inspect.isawaitable(result):

        async def settle() -> Any:
            try:
                return await result
            finally:
                for proxy in borrowed:
                    proxy.destroy(MSG_ASYNC_BORROWED_DESTROYED)

        return settle()
    for proxy in borrowed:
        proxy.destroy(MSG_BORROWED_DESTROYED)
    return result


def js_method(function: Callable[..., Any]) -> Callable[..., Any]:
    """Make a method behave as a raw JavaScript API called from Pyodide.

    Positional arguments arrive as :func:`into_js` makes them (a Python ``list`` as a
    borrowed :class:`PyProxy`, not an Array); keyword arguments arrive together as one
    object, the last argument (Pyodide docs, "Calling JavaScript functions from
    Python"), so ``ws.close(code=1000)`` passes an object, not a code; the borrowed
    proxies die when the method
    returns, or when the awaitable it returns settles; the result goes back through
    :func:`from_js`.

    Args:
        function: The method, written against JavaScript values.
    """

    @functools.wraps(function)
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        if not kwargs:
            # The common call (``ws.send(text)``, ``ws.deserializeAttachment()``): every
            # argument a primitive, which crosses as it is and borrows no proxy.
            for arg in args:
                if type(arg) not in _PRIMITIVES:
                    break
            else:
                return from_js(function(self, *args))
        borrowed: list[PyProxy] = []
        js_args = [into_js(arg, borrowed=borrowed) for arg in args]
        if kwargs:  # Pyodide passes keyword arguments as one object, the last argument
            options = {key: into_js(value, borrowed=borrowed) for key, value in kwargs.items()}
            js_args.append(JsObject(options))
        try:
            result = function(self, *js_args)
        except BaseException:
            end_call(borrowed, None)
            raise
        return from_js(end_call(borrowed, result))

    return call


def relaxed_call(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call ``function`` with as many of ``args`` as it accepts (``pyodide.code.relaxed_call``).

    workerd calls a Durable Object's ``alarm`` and WebSocket handlers this way, so
    ``async def alarm(self)`` works although the runtime passes ``alarm_info``.

    Args:
        function: The handler.
        *args: Positional arguments; extra ones are dropped.
        **kwargs: Keyword arguments; unknown names are dropped.
    """
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return function(*args, **kwargs)
    if not any(p.kind is p.VAR_POSITIONAL for p in parameters):
        positional = sum(
            1 for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        )
        args = args[:positional]
    if not any(p.kind is p.VAR_KEYWORD for p in parameters):
        names = {p.name for p in parameters if p.kind is not p.POSITIONAL_ONLY}
        kwargs = {key: value for key, value in kwargs.items() if key in names}
    return function(*args, **kwargs)


def structured_clone(value: Any) -> Any:
    """Copy a JavaScript value as the structured clone algorithm does.

    Args:
        value: A value of this model.

    Returns:
        A deep copy.

    Raises:
        JsException: ``DataCloneError`` for a PyProxy (V8 refuses proxies), anywhere in
            ``value``.
    """
    if value is None or value is jsnull or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, PyProxy):
        raise JsException("[object Object] could not be cloned.", name="DataCloneError")
    if isinstance(value, JsArray):
        return JsArray(structured_clone(item) for item in value._items)
    if isinstance(value, JsMap):
        return JsMap(
            (structured_clone(key), structured_clone(item)) for key, item in value._map.items()
        )
    if isinstance(value, JsSet):
        return JsSet(structured_clone(item) for item in value._members)
    if isinstance(value, JsBuffer):
        return JsBuffer(value._data, value._kind)
    if isinstance(value, JsDate):
        return JsDate(value._ms)
    if isinstance(value, JsObject):
        return JsObject({key: structured_clone(item) for key, item in value._props.items()})
    raise JsException(f"{js_to_string(value)} could not be cloned.", name="DataCloneError")


def to_plain(value: Any) -> Any:
    """Return a JavaScript value of this model as plain Python data (to size or show it).

    Args:
        value: A value :func:`structured_clone` accepts.
    """
    if value is jsnull:
        return None
    if isinstance(value, JsDate):
        return value.getTime()
    if isinstance(value, JsBuffer):
        return value.to_bytes()
    if isinstance(value, JsArray | JsSet):
        return [to_plain(item) for item in (value._items if isinstance(value, JsArray) else value)]
    if isinstance(value, JsMap):
        return {str(key): to_plain(item) for key, item in value._map.items()}
    if isinstance(value, JsObject):
        return {key: to_plain(item) for key, item in value._props.items()}
    if isinstance(value, JsProxy | PyProxy):
        return repr(value)
    return value
