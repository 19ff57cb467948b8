"""Virtual time: the simulation's clock and its timer queue.

A simulation's clock starts at a fixed instant (:data:`DEFAULT_START_MS`,
2025-01-01T00:00:00Z) and moves only when the app is told to advance
(``await app.advance(seconds)``). Timers (alarms, alarm retries, idle eviction,
``blockConcurrencyWhile`` timeouts) run in time order while it advances, so the same
inputs give the same trace.

App code reads the clock the usual ways — ``time.time()``, ``time.time_ns()``,
``datetime.datetime.now()``, ``datetime.datetime.utcnow()`` — and sees the simulation's
time *while it runs inside the simulation* (its Worker handler, object events, alarm
handlers, and tasks they start). Code outside (pytest, the dev server's logs) keeps the
real clock. That scoping uses a :class:`contextvars.ContextVar`, which asyncio copies
into every task.

What dosim does not virtualise: ``time.monotonic()`` / ``time.perf_counter()`` (asyncio
itself schedules with them) and ``asyncio.sleep()``, which waits in real time. On
Cloudflare, awaiting a timer lets other events into the object; it does here too.
"""

from __future__ import annotations

import contextvars
import datetime as _datetime
import heapq
import time as _time
from collections.abc import Awaitable, Callable
from typing import Any

__all__ = [
    "DEFAULT_START_MS",
    "VirtualClock",
    "Timer",
    "simulation_time_ms",
    "install_time_patch",
]

DEFAULT_START_MS = 1_735_689_600_000
"""Where a simulation's clock starts: 2025-01-01T00:00:00Z, in ms since the epoch."""

_real_time = _time.time
_real_time_ns = _time.time_ns
_RealDatetime = _datetime.datetime
_UTC = _datetime.UTC

_active_clock: contextvars.ContextVar[VirtualClock | None] = contextvars.ContextVar(
    "dosim_active_clock", default=None
)


class Timer:
    """A scheduled callback on the virtual timeline; cancel it with :meth:`cancel`."""

    __slots__ = ("when", "seq", "callback", "label", "cancelled")

    def __init__(self, when: int, seq: int, callback: Callable[[], Awaitable[Any]], label: str):
        self.when = when
        self.seq = seq
        self.callback = callback
        self.label = label
        self.cancelled = False

    def cancel(self) -> None:
        """Prevent the callback from running."""
        self.cancelled = True

    def __lt__(self, other: Timer) -> bool:
        return (self.when, self.seq) < (other.when, other.seq)

    def __repr__(self) -> str:
        return f"Timer({self.label!r} at {self.when})"


class VirtualClock:
    """A clock that moves only when told, with a queue of timers.

    Args:
        start_ms: The initial time, in milliseconds since the Unix epoch.
    """

    def __init__(self, start_ms: int = DEFAULT_START_MS) -> None:
        self._now = int(start_ms)
        self._timers: list[Timer] = []
        self._seq = 0

    def now_ms(self) -> int:
        """Return the current virtual time in milliseconds since the epoch."""
        return self._now

    def call_at(self, when_ms: int, callback: Callable[[], Awaitable[Any]], label: str) -> Timer:
        """Schedule ``await callback()`` to run when the clock reaches ``when_ms``.

        Times in the past run at the next advance (even ``advance(0)``).

        Args:
            when_ms: Due time in milliseconds since the Unix epoch; timers due at the same
                time run in the order they were scheduled.
            callback: Function taking no arguments that returns an awaitable.
            label: Name shown in the timer's ``repr``.

        Returns:
            The :class:`Timer`; :meth:`Timer.cancel` drops it.
        """
        self._seq += 1
        timer = Timer(max(int(when_ms), self._now), self._seq, callback, label)
        heapq.heappush(self._timers, timer)
        return timer

    def next_due(self, until_ms: int) -> Timer | None:
        """Pop the earliest live timer due at or before ``until_ms``; move the clock to it.

        Cancelled timers on the way are discarded. The caller runs the timer's callback.

        Args:
            until_ms: Latest due time to consider, in milliseconds since the Unix epoch.

        Returns:
            The timer, or None if no live timer is due by then (the clock does not move).
        """
        while self._timers and self._timers[0].when <= until_ms:
            timer = heapq.heappop(self._timers)
            if not timer.cancelled:
                self._now = max(self._now, timer.when)
                return timer
        return None

    def next_time(self) -> int | None:
        """Return when the earliest live timer is due (ms since the epoch), or None.

        Looks without running anything or moving the clock; a driver that follows another
        clock (``dosim dev``'s wall clock) asks it to skip the turns where nothing is due.
        """
        timers = self._timers
        while timers and timers[0].cancelled:
            heapq.heappop(timers)
        return timers[0].when if timers else None

    def set(self, when_ms: int) -> None:
        """Move the clock forward to ``when_ms`` (never backwards).

        Timers due before ``when_ms`` do not run; :meth:`next_due` hands them out first.

        Args:
            when_ms: Target time in milliseconds since the Unix epoch; an earlier time is
                ignored.
        """
        self._now = max(self._now, int(when_ms))

    def pending(self) -> list[Timer]:
        """Return the live timers in the order they will run."""
        return sorted(t for t in self._timers if not t.cancelled)

    def activate(self) -> contextvars.Token:
        """Make this clock the one app code sees in the current context."""
        install_time_patch()
        return _active_clock.set(self)

    @staticmethod
    def deactivate(token: contextvars.Token) -> None:
        """Undo :meth:`activate`.

        Args:
            token: The token :meth:`activate` returned.
        """
        _active_clock.reset(token)


def simulation_time_ms() -> int | None:
    """Return the virtual time of the simulation running in this context, if any."""
    clock = _active_clock.get()
    return None if clock is None else clock.now_ms()


def _patched_time() -> float:
    clock = _active_clock.get()
    return _real_time() if clock is None else clock.now_ms() / 1000


def _patched_time_ns() -> int:
    clock = _active_clock.get()
    return _real_time_ns() if clock is None else clock.now_ms() * 1_000_000


class _DatetimeMeta(type(_RealDatetime)):  # type: ignore[misc]
    """Lets ``isinstance(x, datetime.datetime)`` keep working after the patch."""

    def __instancecheck__(cls, instance: Any) -> bool:
        return isinstance(instance, _RealDatetime)

    def __subclasscheck__(cls, subclass: type) -> bool:
        return issubclass(subclass, _RealDatetime)


class _SimulationDatetime(_RealDatetime, metaclass=_DatetimeMeta):
    """``datetime.datetime`` whose ``now``/``utcnow``/``today`` follow the active simulation."""

    @classmethod
    def now(cls, tz: _datetime.tzinfo | None = None) -> _RealDatetime:  # type: ignore[override]
        clock = _active_clock.get()
        if clock is None:
            return _RealDatetime.now(tz)
        moment = _RealDatetime.fromtimestamp(clock.now_ms() / 1000, tz=_UTC)
        # Pyodide (and Cloudflare) run in UTC, so naive local time is UTC there.
        return moment.astimezone(tz) if tz is not None else moment.replace(tzinfo=None)

    @classmethod
    def utcnow(cls) -> _RealDatetime:  # type: ignore[override]
        clock = _active_clock.get()
        if clock is None:
            return _RealDatetime.now(_UTC).replace(tzinfo=None)
        return _RealDatetime.fromtimestamp(clock.now_ms() / 1000, tz=_UTC).replace(tzinfo=None)

    @classmethod
    def today(cls) -> _RealDatetime:  # type: ignore[override]
        return cls.now()


_SimulationDatetime.__name__ = "datetime"
_SimulationDatetime.__qualname__ = "datetime"
_SimulationDatetime.__module__ = "datetime"
_installed = False


def install_time_patch() -> None:
    """Route ``time.time``, ``time.time_ns`` and ``datetime.datetime.now`` through the active clock.

    Idempotent. Outside a simulation the patched functions return the real time, so the
    patch is invisible to code that does not run inside one.
    """
    global _installed
    if _installed:
        return
    _time.time = _patched_time
    _time.time_ns = _patched_time_ns
    _datetime.datetime = _SimulationDatetime  # type: ignore[misc]
    _installed = True
