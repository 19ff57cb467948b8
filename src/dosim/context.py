"""``ctx``: the ``DurableObjectState`` an object receives in its constructor.

Same camelCase names as on Cloudflare: ``id``, ``storage``, ``blockConcurrencyWhile``,
``waitUntil``, ``abort``. Each instance gets its own ``ctx``; after a reset or eviction the
old ``ctx`` keeps failing (its storage raises), as the platform's does.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from .boundary import js_method
from .errors import MSG_BCW_NESTED, MSG_BCW_TIMEOUT, JsException, platform_error
from .ffi import JsArray, JsDate, js_to_string, jsnull
from .websockets import WebSocket, WebSocketRequestResponsePair
from .workers.entrypoints import DurableObjectAbort, DurableObjectContext

if TYPE_CHECKING:
    from .host import Incarnation
    from .ids import DurableObjectId

__all__ = ["DurableObjectState", "BCW_TIMEOUT_MS", "BCW_MAX_DEPTH"]

BCW_TIMEOUT_MS = 30_000
"""``blockConcurrencyWhile`` callbacks running longer (virtual time) reset the object."""
BCW_MAX_DEPTH = 64
"""Nesting limit of ``blockConcurrencyWhile``."""


class DurableObjectState(DurableObjectContext):
    """The state object passed as ``ctx`` to a Durable Object's constructor.

    A :class:`workers.entrypoints.DurableObjectContext`, as the SDK's ``self.ctx`` is.

    Attributes:
        id: This object's :class:`~dosim.ids.DurableObjectId`; ``id.name`` is set when the
            object was reached by name (as Cloudflare does since 2026).
        storage: The object's :class:`~dosim.storage.DurableObjectStorage`.
    """

    def __init__(self, incarnation: Incarnation, object_id: DurableObjectId, storage: Any):
        self._incarnation = incarnation
        self._sockets = incarnation.host.websockets
        self.id = object_id
        self.storage = storage
        self._bcw_depth = 0

    def blockConcurrencyWhile(  # noqa: N802 - platform name
        self, callback: Callable[[], Any]
    ) -> asyncio.Task[Any]:
        """Run ``callback`` while no other event is delivered to this object.

        The callback starts at once, even if the result is not awaited (the usual pattern
        in a constructor). Await the returned task for its result.

        An exception inside the callback, or a run longer than 30 s of virtual time,
        resets the object — the platform does this to avoid half-initialised state.

        Args:
            callback: An ``async def`` function (or a plain function) taking no arguments.

        Returns:
            A task resolving to the callback's result.

        Raises:
            Error: ``blockConcurrencyWhile() calls are nested too deeply.`` past 64 levels.
        """
        if self._bcw_depth >= BCW_MAX_DEPTH:
            raise platform_error("Error", MSG_BCW_NESTED)
        incarnation = self._incarnation
        incarnation.input_gate.close()
        self._bcw_depth += 1
        timed_out = False

        async def run() -> Any:
            try:
                result = callback()
                if inspect.isawaitable(result):
                    result = await result
                return result
            except asyncio.CancelledError:
                if not timed_out:
                    raise  # cancelled because the object was reset for another reason
                error = platform_error("Error", MSG_BCW_TIMEOUT)
                incarnation.reset(error, reason="blockConcurrencyWhile timeout")
                raise error from None
            except BaseException as error:
                incarnation.reset(error, reason="exception in blockConcurrencyWhile")
                raise
            finally:
                self._bcw_depth -= 1
                incarnation.input_gate.open()

        task = asyncio.get_running_loop().create_task(run())
        incarnation.track(task)

        async def time_out() -> None:
            nonlocal timed_out
            if not task.done():
                timed_out = True
                task.cancel()
                try:
                    await task
                except BaseException:  # noqa: S110 - the reset already reported it
                    pass

        timer = incarnation.clock.call_at(
            incarnation.clock.now_ms() + BCW_TIMEOUT_MS, time_out, "blockConcurrencyWhile timeout"
        )
        task.add_done_callback(lambda _t: timer.cancel())
        return task

    # -- WebSocket hibernation API (dosim.websockets.hibernation) ----------------------
    # On Cloudflare everything on ``ctx`` except ``storage`` is the raw JavaScript object
    # (workers-runtime-sdk 1.9.5, workers/entrypoints.py, DurableObjectContext.__getattr__
    # wraps only DurableObjectStorage), so these methods convert as Pyodide does.
    @js_method
    def acceptWebSocket(self, ws: Any, tags: Any = None) -> None:  # noqa: N802
        """Accept ``ws`` as a hibernatable WebSocket (a raw JavaScript method).

        Its messages and closes go to the class's ``webSocketMessage(ws, message)`` and
        ``webSocketClose(ws, code, reason, wasClean)``; the object may hibernate (be
        evicted after 10 s idle) while the socket stays connected.

        Args:
            ws: The server end of a ``WebSocketPair``.
            tags: ``to_js([...])`` of up to 10 distinct strings of ≤ 256 characters, for
                ``getWebSockets(tag)``. A Python list is not a JavaScript Array: it fails
                as on Cloudflare.

        Raises:
            JsException: ``TypeError`` for a ``ws`` that is not a WebSocket or ``tags``
                that are not an Array; ``Error`` if ``ws`` was accepted with ``accept()``,
                was used in a Response, or the tags break the limits.
        """
        _check_socket(ws, "acceptWebSocket", 1)
        if tags is not None and not isinstance(tags, JsArray):
            raise _parameter_error("acceptWebSocket", 2, "Array")
        names = [] if tags is None else [js_to_string(tag) for tag in tags._items]
        self._sockets.accept(ws, names)

    @js_method
    def getWebSockets(self, tag: Any = None) -> JsArray:  # noqa: N802
        """Return the open hibernatable WebSockets, optionally only those tagged ``tag``.

        Args:
            tag: A tag given to ``acceptWebSocket``, or ``None`` for all.

        Returns:
            A JavaScript Array (``JsArray``): iterate it, index it, or ``len()`` it.
        """
        return JsArray(self._sockets.get_websockets(None if tag is None else js_to_string(tag)))

    @js_method
    def getTags(self, ws: Any) -> JsArray:  # noqa: N802
        """Return the tags ``ws`` was accepted with, as a JavaScript Array of strings.

        Args:
            ws: A hibernatable WebSocket of this object.

        Raises:
            JsException: ``TypeError`` for a socket not accepted with ``acceptWebSocket``.
        """
        _check_socket(ws, "getTags", 1)
        return JsArray(self._sockets.get_tags(ws))

    @js_method
    def setWebSocketAutoResponse(self, pair: Any = None) -> None:  # noqa: N802
        """Answer ``pair.request`` with ``pair.response`` without waking the object.

        Args:
            pair: ``WebSocketRequestResponsePair.new(request, response)``, or nothing to
                clear it (the recorded timestamps are kept).
        """
        if pair is not None and not isinstance(pair, WebSocketRequestResponsePair):
            raise _parameter_error("setWebSocketAutoResponse", 1, "WebSocketRequestResponsePair")
        self._sockets.set_auto_response(pair)

    @js_method
    def getWebSocketAutoResponse(self) -> Any:  # noqa: N802
        """Return the current auto-response pair, or ``jsnull``."""
        pair = self._sockets.get_auto_response()
        return jsnull if pair is None else pair

    @js_method
    def getWebSocketAutoResponseTimestamp(self, ws: Any) -> Any:  # noqa: N802
        """Return when ``ws`` last got an auto-response (a JavaScript ``Date``), or ``jsnull``.

        Args:
            ws: A hibernatable WebSocket of this object.
        """
        _check_socket(ws, "getWebSocketAutoResponseTimestamp", 1)
        when = self._sockets.auto_response_timestamp(ws)
        return jsnull if when is None else JsDate(when)

    @js_method
    def setHibernatableWebSocketEventTimeout(self, ms: Any = None) -> None:  # noqa: N802
        """Limit how long a WebSocket handler may run (recorded; dosim does not enforce it).

        Args:
            ms: Milliseconds; nothing or 0 clears the limit.

        Raises:
            JsException: Above 604,800,000 ms (7 days).
        """
        self._sockets.set_event_timeout(ms)

    @js_method
    def getHibernatableWebSocketEventTimeout(self) -> Any:  # noqa: N802
        """Return the limit set by :meth:`setHibernatableWebSocketEventTimeout`, or ``jsnull``."""
        timeout = self._sockets.get_event_timeout()
        return jsnull if timeout is None else timeout

    def waitUntil(self, awaitable: Awaitable[Any]) -> None:  # noqa: N802 - platform name
        """Keep the object alive until ``awaitable`` finishes.

        On Cloudflare this is rarely needed inside an object (its request context lasts
        long enough); dosim keeps the object from idle eviction until it finishes.

        Args:
            awaitable: A coroutine or future to keep running.
        """
        self._incarnation.wait_until(awaitable)

    def abort(self, reason: str | None = None) -> None:
        """Reset the object now: discard this event's writes and raise ``DurableObjectAbort``.

        The stub that reached this instance keeps failing with ``durableObjectReset``; a
        new stub reaches a fresh instance (the constructor runs again, storage is kept).

        Args:
            reason: Message the callers see; defaults to the platform's text.

        Raises:
            DurableObjectAbort: Always (a ``BaseException``, as in the Python SDK).
        """
        self._incarnation.abort(reason)
        raise DurableObjectAbort(reason or "Durable Object abort requested")


def _parameter_error(method: str, position: int, expected: str) -> JsException:
    # jsg's wording for an argument of the wrong type (inferred from workerd's jsg type
    # errors; not observed on Cloudflare for these methods).
    return JsException(
        f"Failed to execute '{method}' on 'DurableObjectState': parameter {position} "
        f"is not of type '{expected}'.",
        name="TypeError",
    )


def _check_socket(ws: Any, method: str, position: int) -> None:
    if not isinstance(ws, WebSocket):
        raise _parameter_error(method, position, "WebSocket")
