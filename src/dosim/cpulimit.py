"""The CPU limit: app code that computes too long without yielding is stopped.

On Cloudflare each invocation (an HTTP request, an RPC call, an alarm, a WebSocket
message) may use ``limits.cpu_ms`` of CPU time: 30 s by default, configurable up to 5
minutes. Time spent waiting (I/O, timers, other objects) does not count. For a Python
Worker, workerd sets ``SIGXCPU`` in Pyodide's signal buffer when the limit is nearly
reached, and Python raises :class:`CpuLimitExceeded` (``"Python Worker exceeded CPU time
limit"``), a ``BaseException``, wherever the code is (workerd
``src/pyodide/internal/introspection.py`` and ``python.ts``). A Durable Object that
exceeds the limit is reset; its callers get ``"Durable Object exceeded its CPU time limit
and was reset."`` (:data:`dosim.errors.MSG_CPU_RESET`).

dosim does the same on CPython when the event loop runs in the main thread (``dosim
dev``, and tests of app code): :func:`enter` and :func:`leave` bracket each event the
runtime delivers (to an object, and the Worker's ``fetch``): they mark the code that
runs for the event, and the tasks it starts, with the event's limit. From the first event
on, a watchdog thread posts a heartbeat to that event loop every few milliseconds (every
100 ms with the default limit); when the loop has
not run it while the main thread used more than the limit of **CPU time** (the main
thread's CPU clock, ``time.pthread_getcpuclockid``; wall time where the system has no
such clock, as on macOS), the watchdog sends ``SIGXCPU`` to the main thread, and the
handler raises :class:`CpuLimitExceeded` in the running code if an event is running there.
The host resets the object (:meth:`dosim.host.Incarnation.reset`).

What dosim measures is the CPU time of one stretch of code that does not give the loop a
turn: a handler that never returns (or never awaits anything that waits) is stopped; a
handler that awaits I/O or a timer is never stopped however long it waits; one that
computes in many short steps separated by ``await asyncio.sleep(0)`` is not stopped
either (the platform adds those steps up). Code that catches ``BaseException`` and goes
on computing is interrupted again after each further limit (the platform would end the
isolate). A stretch inside one long C call (a single huge regular expression) is only
interrupted when that call returns, because Python runs signal handlers between
bytecodes.

Without threads or ``SIGXCPU`` (Pyodide, Windows) or off the main thread, the limit is not
enforced and the rest of dosim works unchanged. A ``SIGXCPU`` handler installed by someone
else is left alone (and the limit not enforced).
"""

from __future__ import annotations

import asyncio
import contextvars
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

__all__ = [
    "CpuLimitExceeded",
    "DEFAULT_CPU_MS",
    "MAX_CPU_MS",
    "MSG_PYTHON_CPU_LIMIT",
    "enforced",
    "enter",
    "leave",
]

DEFAULT_CPU_MS = 30_000
"""CPU time per invocation when the config sets no ``limits.cpu_ms`` (the platform's)."""
MAX_CPU_MS = 300_000
"""The largest ``limits.cpu_ms`` the platform accepts (5 minutes)."""
MSG_PYTHON_CPU_LIMIT = "Python Worker exceeded CPU time limit"
"""What :class:`CpuLimitExceeded` says (workerd ``introspection.py``)."""


class CpuLimitExceeded(BaseException):
    """Raised inside Python code that used more than its CPU time limit.

    A ``BaseException``, as on Cloudflare, so that ``except Exception`` does not swallow
    it. Leaving a Durable Object's handler, it resets the object; leaving the Worker's
    ``fetch``, it fails the request.
    """


_limit: contextvars.ContextVar[int | None] = contextvars.ContextVar("dosim_cpu_limit", default=None)
_MAIN = threading.main_thread().ident


def _cpu_clock() -> Callable[[], float]:
    """The main thread's CPU clock in seconds, readable from any thread (wall time else)."""
    try:
        clock_id = time.pthread_getcpuclockid(_MAIN)  # type: ignore[arg-type]
        time.clock_gettime(clock_id)
    except (AttributeError, OSError, OverflowError, TypeError):
        return time.monotonic
    return lambda: time.clock_gettime(clock_id)


class _Watchdog:
    """Notices a main-thread event loop stuck in one callback and interrupts it."""

    def __init__(self) -> None:
        self.threshold_ms = MAX_CPU_MS  # the smallest limit of the loop's events
        self.loop: asyncio.AbstractEventLoop | None = None
        self.clock = _cpu_clock()
        # The heartbeat in flight: a number, and the main thread's CPU clock when it
        # was posted. The loop clears ``pending`` when it runs the heartbeat.
        self.pending: int | None = None
        self.posted_at = 0.0
        self.next_signal_at = 0.0
        self.sequence = 0
        self.thread: threading.Thread | None = None
        self.usable: bool | None = None

    def start(self) -> bool:
        """Install the handler and start the thread (main thread, once). Returns usability."""
        if self.usable is None:
            self.usable = False
            current = signal.getsignal(signal.SIGXCPU)
            if current in (signal.SIG_DFL, signal.SIG_IGN, None):
                signal.signal(signal.SIGXCPU, _on_sigxcpu)
                self.thread = threading.Thread(target=self.run, name="dosim-cpu-limit", daemon=True)
                self.thread.start()
                self.usable = True
        return self.usable

    def beat(self, sequence: int) -> None:
        if self.pending == sequence:
            self.pending = None

    def run(self) -> None:  # pragma: no cover - timing is exercised by the tests
        while True:
            threshold = self.threshold_ms / 1000
            time.sleep(min(0.1, max(0.005, threshold / 10)))
            loop = self.loop
            if loop is None or loop.is_closed() or not loop.is_running():
                self.pending = None
                continue
            now = self.clock()
            if self.pending is None:
                self.sequence += 1
                self.posted_at = self.next_signal_at = now
                self.pending = self.sequence
                try:
                    loop.call_soon_threadsafe(self.beat, self.sequence)
                except RuntimeError:  # the loop closed meanwhile
                    self.pending = None
            elif now - self.next_signal_at >= threshold:
                self.next_signal_at = now
                try:
                    signal.pthread_kill(_MAIN, signal.SIGXCPU)  # type: ignore[arg-type]
                except (OSError, ValueError):
                    pass


def _on_sigxcpu(signum: int, frame: Any) -> None:
    """The ``SIGXCPU`` handler: raise in the running code if it is an event over its limit."""
    limit = _limit.get()
    dog = _watchdog
    if limit is None or dog is None or dog.pending is None:
        return
    if (dog.clock() - dog.posted_at) * 1000 >= limit:
        raise CpuLimitExceeded(MSG_PYTHON_CPU_LIMIT)


_watchdog: _Watchdog | None = (
    _Watchdog()
    if sys.platform != "emscripten"
    and hasattr(signal, "SIGXCPU")
    and hasattr(signal, "pthread_kill")
    else None
)


def enforced() -> bool:
    """Whether the CPU limit can be enforced here (CPython with threads and ``SIGXCPU``)."""
    return _watchdog is not None and _watchdog.usable is not False


def enter(limit_ms: int) -> contextvars.Token[int | None] | None:
    """An event with a CPU limit of ``limit_ms`` starts running in this context.

    Call from the event loop's thread; does nothing off the main thread or where the
    limit cannot be enforced.

    Args:
        limit_ms: The event's CPU time limit in ms.

    Returns:
        The token to pass to :func:`leave` (``None`` where the limit is not enforced).
    """
    dog = _watchdog
    if dog is None or threading.get_ident() != _MAIN:
        return None
    loop = asyncio.get_running_loop()
    if loop is not dog.loop:
        if not dog.start():
            return None
        dog.pending = None
        dog.threshold_ms = limit_ms
        dog.loop = loop
    elif limit_ms < dog.threshold_ms:
        dog.threshold_ms = limit_ms
    return _limit.set(limit_ms)


def leave(token: contextvars.Token[int | None] | None) -> None:
    """The event :func:`enter` announced has finished.

    Args:
        token: What :func:`enter` returned.
    """
    if token is None:
        return
    try:
        _limit.reset(token)
    except ValueError:  # left from another context (a coroutine closed by the collector)
        pass
