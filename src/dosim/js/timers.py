"""``js.setTimeout``, ``js.clearTimeout`` and ``js.queueMicrotask``.

The callback is a JavaScript function: pass ``create_proxy(fn)`` or
``create_once_callable(fn)``. A plain Python function crosses as a borrowed PyProxy that
Pyodide destroys when the call returns, so when the timer fires it fails with Pyodide's
destroyed-proxy error, as on the platform (the error goes to the event loop's exception
handler, as an uncaught error goes to the console).

Where dosim differs: a timeout waits in real time on the running event loop, as
``asyncio.sleep`` does under dosim (see ``dosim.clock``); the virtual clock does not
move. A microtask runs at the loop's next turn, not before the current task resumes.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from ..boundary import call_from_js, js_method

__all__ = ["Timers", "clearTimeout", "queueMicrotask", "setTimeout"]

_ids = itertools.count(1)
_handles: dict[int, asyncio.TimerHandle] = {}


def _run(callback: Any, args: tuple[Any, ...], timer_id: int | None = None) -> None:
    if timer_id is not None:
        _handles.pop(timer_id, None)
    result = call_from_js(callback, *args)
    if asyncio.iscoroutine(result):
        asyncio.ensure_future(result)


class Timers:
    """The timer globals; the module exposes its bound methods as ``js`` names."""

    @js_method
    def setTimeout(self, callback: Any, delay: Any = 0, *args: Any) -> int:  # noqa: N802
        """``setTimeout(callback, delay, ...args)``: call ``callback`` after ``delay`` ms.

        Args:
            callback: A JavaScript function (``create_proxy(fn)``).
            delay: Milliseconds (real time; see the module docstring).
            *args: Passed to the callback.

        Returns:
            The timer's id, for :func:`clearTimeout`.
        """
        seconds = max(0.0, float(delay or 0)) / 1000
        timer_id = next(_ids)
        loop = asyncio.get_running_loop()
        _handles[timer_id] = loop.call_later(seconds, _run, callback, args, timer_id)
        return timer_id

    @js_method
    def clearTimeout(self, timer_id: Any = None) -> None:  # noqa: N802
        """``clearTimeout(id)``: cancel a timer that has not fired (an unknown id is ignored)."""
        handle = _handles.pop(timer_id, None) if isinstance(timer_id, int) else None
        if handle is not None:
            handle.cancel()

    @js_method
    def queueMicrotask(self, callback: Any) -> None:  # noqa: N802
        """``queueMicrotask(callback)``: call ``callback`` soon (the loop's next turn)."""
        asyncio.get_running_loop().call_soon(_run, callback, ())


_timers = Timers()
setTimeout = _timers.setTimeout
"""``js.setTimeout``."""
clearTimeout = _timers.clearTimeout
"""``js.clearTimeout``."""
queueMicrotask = _timers.queueMicrotask
"""``js.queueMicrotask``."""
