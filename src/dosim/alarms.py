"""Alarms: the one alarm an object may have scheduled, firing on the virtual clock.

The stored alarm time lives in the object's database (``setAlarm`` writes it through the
storage API, so it commits or rolls back with the event's other writes). This module keeps
the *schedule* in step with what is committed and runs the alarm:

1. **Set** — after every commit or rollback the scheduler reads the stored time and moves
   its timer on the virtual clock (:meth:`AlarmScheduler.sync`).
2. **Fire** — at the due time the alarm is delivered as an event (gates apply). While the
   handler runs, ``getAlarm()`` reports ``None`` until the handler sets a new alarm; the
   clearing joins the event's implicit transaction.
3. **Retry** — a handler that raises (or an instance reset while it runs) is retried with
   exponential backoff: 2 s, 4 s, 8 s, ... plus up to 25 % seeded jitter, at most
   :data:`ALARM_MAX_RETRIES` times; then the alarm is dropped. A new alarm set by the
   failed handler runs instead of a retry.
4. **Run now** — tests may fire a scheduled alarm at once
   (:func:`dosim.testing.run_durable_object_alarm`).

A class without ``alarm()`` may set an alarm, as a Python class on Cloudflare may (the
JavaScript wrapper workerd puts around it answers every handler name); when it fires, the
call fails with ``TypeError: Method alarm does not exist`` and is retried like any failing
alarm (see :mod:`dosim.workers.entrypoints`).

The scheduler talks to its object through :class:`AlarmHost` and never imports the host.
"""

from __future__ import annotations

import asyncio
import inspect
import random
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

from .boundary import relaxed_call
from .ffi import JsObject
from .workers.entrypoints import MSG_METHOD_MISSING

if TYPE_CHECKING:
    from .clock import Timer, VirtualClock
    from .storage import ObjectDatabase

__all__ = [
    "AlarmScheduler",
    "AlarmHost",
    "AlarmInvocationInfo",
    "ALARM_MAX_RETRIES",
    "ALARM_FIRST_BACKOFF_MS",
]

ALARM_MAX_RETRIES = 6
"""A raising alarm handler is retried this many times, then the alarm is dropped."""
ALARM_FIRST_BACKOFF_MS = 2_000
"""First retry delay; each further retry doubles it (plus up to 25 % seeded jitter)."""


class AlarmInvocationInfo(JsObject):
    """What ``alarm(alarm_info)`` receives: a JavaScript object, not a ``dict``.

    workerd passes its ``AlarmInvocationInfo`` to the handler unconverted (the handler is
    called "relaxed": src/pyodide/python-entrypoint-helper.ts), so Python reads its two
    properties as attributes (``alarm_info.retryCount``); it has no ``.get``.

    Attributes:
        retryCount: How many earlier attempts of this alarm failed.
        isRetry: ``retryCount > 0``.
    """

    def __init__(self, retry_count: int) -> None:
        super().__init__(
            {"retryCount": retry_count, "isRetry": retry_count > 0}, "AlarmInvocationInfo"
        )

    def __repr__(self) -> str:
        return f"AlarmInvocationInfo(retryCount={self.retryCount}, isRetry={self.isRetry})"


class AlarmHost(Protocol):
    """What the scheduler needs from the object it belongs to (an ``ObjectHost``)."""

    clock: VirtualClock

    @property
    def database(self) -> ObjectDatabase:
        """The object's database, opened on first use."""

    def record(self, kind: str, **detail: Any) -> None:
        """Append a trace event about the object.

        Args:
            kind: The event kind (``alarm.set``, ``alarm.fire``, ...).
            **detail: Kind-specific facts.
        """

    def has_live_instance(self) -> bool:
        """Whether an instance is in memory and not reset."""

    def writes_pending(self) -> None:
        """A write opened the live instance's implicit transaction: commit after its turn."""

    def commit(self) -> None:
        """Commit the implicit transaction now."""

    async def run_event(self, label: str, invoke: Callable[[Any], Awaitable[Any]]) -> Any:
        """Deliver an event no stub carries to the current instance (constructing one).

        Args:
            label: The event's name in the trace.
            invoke: Runs the handler: ``await invoke(instance)``.
        """


class AlarmScheduler:
    """Keeps one object's alarm timer in step with its stored alarm, fires and retries it.

    Args:
        host: The object the alarm belongs to.
        seed: Seeds the retry jitter (the app's seed and the object's id), so a run
            repeats exactly.
    """

    def __init__(self, host: AlarmHost, seed: str) -> None:
        self._host = host
        self._timer: Timer | None = None
        self._time: int | None = None
        self._retry: tuple[int, int] | None = None  # (scheduled time, retry count)
        self._random = random.Random(seed)

    @property
    def time(self) -> int | None:
        """The scheduled time in ms since the epoch, or ``None``.

        The committed time, or what the running alarm event wrote (``None`` while a
        handler runs until it sets a new alarm; a retry's time after it failed).
        """
        return self._time

    def sync(self, record: bool) -> None:
        """Move the timer to the stored alarm time (after a commit, a rollback or an open).

        Args:
            record: Trace the change as ``alarm.set`` (not when the database just opened).
        """
        when = self._host.database.read_alarm()
        if when == self._time:
            return
        self._schedule(when)
        if record:
            self._host.record("alarm.set", time=when)

    def _schedule(self, when: int | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._time = when
        if when is not None:
            self._timer = self._host.clock.call_at(when, self._fire, "alarm")

    def _write(self, when: int | None) -> None:
        """Change the stored alarm the way a storage call would: through the output gate.

        Inside an event the write joins that event's implicit transaction. Outside one
        (retries after a reset) there is no live instance, so nothing else is pending and
        the write commits at once.
        """
        host = self._host
        database = host.database
        live = host.has_live_instance()
        if database.begin_write() and live:
            host.writes_pending()
        if database.write_alarm(when):
            host.record("alarm.set", time=when)
        self._schedule(when)
        if not live:
            host.commit()

    async def _fire(self) -> None:
        scheduled = self._time
        self._timer = None
        if scheduled is None:
            return
        retry_count = self._retry[1] if self._retry and self._retry[0] == scheduled else 0
        self._retry = None
        host = self._host
        info = AlarmInvocationInfo(retry_count)
        host.record("alarm.fire", retryCount=retry_count, scheduledTime=scheduled)
        handled = False

        async def invoke(instance: Any) -> Any:
            nonlocal handled
            # While the handler runs, getAlarm() reports None until it sets a new alarm.
            self._write(None)
            try:
                return await _call_alarm(instance, info)
            except Exception as error:
                handled = True
                self._after_failure(scheduled, retry_count, error)
                raise

        try:
            await host.run_event("alarm", invoke)
        except asyncio.CancelledError:
            raise
        except BaseException as error:  # noqa: BLE001 - any failure means a retry
            if not handled:  # the instance was reset: its writes, the alarm's too, are gone
                self._after_failure(scheduled, retry_count, error)

    def _after_failure(self, scheduled: int, retry_count: int, error: BaseException) -> None:
        host = self._host
        # After a reset the rollback brought back ``scheduled``; anything else is an alarm
        # the handler set, which runs instead of a retry.
        if host.database.read_alarm() not in (None, scheduled):
            return
        if retry_count >= ALARM_MAX_RETRIES:
            self._write(None)
            host.record("alarm.drop", reason="retries exhausted", error=str(error))
            return
        delay = ALARM_FIRST_BACKOFF_MS << min(retry_count, 9)
        delay += int(self._random.random() * 0.25 * delay)
        when = host.clock.now_ms() + delay
        self._write(when)
        self._retry = (when, retry_count + 1)
        host.record("alarm.retry", delay_ms=delay, retryCount=retry_count + 1, error=str(error))

    async def run_now(self) -> bool:
        """Run the scheduled alarm immediately, whatever its time.

        Returns:
            True if an alarm was scheduled (and ran), False otherwise.
        """
        self._host.database  # noqa: B018 - opens the database and loads the stored alarm
        if self._time is None:
            return False
        if self._timer is not None:
            self._timer.cancel()
        await self._fire()
        return True


async def _call_alarm(instance: Any, info: AlarmInvocationInfo) -> Any:
    handler = getattr(instance, "alarm", None)
    if not callable(handler):
        raise TypeError(MSG_METHOD_MISSING.format(name="alarm"))
    # Called relaxed, as workerd does: ``async def alarm(self)`` gets no argument.
    result = relaxed_call(handler, info)
    if inspect.isawaitable(result):
        result = await result
    return result
