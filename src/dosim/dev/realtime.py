"""Real time for ``dosim dev``: drive the app's virtual clock from the wall clock.

The simulator's :class:`~dosim.clock.VirtualClock` moves only when told to
(``await app.advance(seconds)``), which keeps tests deterministic. A dev server needs
the opposite: alarms that fire at the real time they were set for, and idle objects
evicted after 10 real seconds. The core is left untouched; instead:

1. the app is built with ``start_time`` = the real current time in ms, so virtual
   time starts equal to wall time (app code's ``time.time()`` reads the real date);
2. :class:`RealTimeDriver` runs a background task that, every ``interval`` seconds
   (50 ms by default), calls ``await app.advance(behind)`` where ``behind`` is how far
   the virtual clock lags the wall clock. ``advance`` runs every timer that fell due
   (alarms, alarm retries, idle evictions, ``blockConcurrencyWhile`` timeouts) in time
   order, then sets the clock to the target. When no timer falls due the driver only
   sets the clock (tasks already run in real time; there is nothing to order them
   against).

Consequences, by design:

* Timers fire up to one ``interval`` late (plus the time the callbacks before them
  take): an alarm set for 12:00:00.000 runs by about 12:00:00.050.
* Between ticks the virtual clock stands still, so ``time.time()`` inside app code
  trails the wall clock by at most about one interval. Time never goes backwards.
* The lag is recomputed from the wall clock at each tick (not accumulated), so ticks
  that run late do not make the simulation drift.
* ``advance`` awaits each due callback in turn: an alarm handler that runs for a
  second holds the clock for that second (other requests still run; only timers
  wait). A tick that runs timers also waits for ``waitUntil`` tasks to finish first
  (``App.settle``).
* An exception escaping a tick is logged and the driver keeps going.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

__all__ = ["RealTimeDriver", "wall_clock_ms", "DEFAULT_TICK_SECONDS"]

DEFAULT_TICK_SECONDS = 0.05
"""How often the driver moves the virtual clock to the wall clock."""

log = logging.getLogger("dosim.dev")


def wall_clock_ms() -> int:
    """Return the real time in milliseconds since the epoch.

    Called outside any simulation context, where dosim's patched ``time.time`` returns
    the real time.
    """
    return int(time.time() * 1000)


class RealTimeDriver:
    """Keep an app's virtual clock in step with the wall clock (see the module docstring).

    Args:
        current_app: Returns the app to drive; called at every tick, so a reload that
            swaps the app is followed without restarting the driver.
        interval: Seconds between ticks.
    """

    def __init__(
        self, current_app: Callable[[], Any], interval: float = DEFAULT_TICK_SECONDS
    ) -> None:
        self._current_app = current_app
        self.interval = interval
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    async def tick(self) -> None:
        """Advance the current app to the wall clock, running what fell due."""
        async with self._lock:
            app = self._current_app()
            now = wall_clock_ms()
            behind_ms = now - app.clock.now_ms()
            if behind_ms <= 0:
                return
            due = app.clock.next_time()
            if due is None or due > now:
                # Nothing falls due: move the clock without advance's settling, which
                # looks at every task of the loop several times (50 sockets are 200 tasks).
                app.clock.set(now)
                return
            await app.advance(behind_ms / 1000)

    @contextlib.asynccontextmanager
    async def paused(self) -> AsyncIterator[None]:
        """Hold the clock still (after any tick in progress ends) while the block runs.

        The server swaps apps on reload inside this block, so no tick runs on an app
        that is being replaced.
        """
        async with self._lock:
            yield

    async def start(self) -> None:
        """Catch up with the wall clock now, then tick in a background task."""
        await self.tick()
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="dosim-clock")

    async def stop(self) -> None:
        """Stop ticking and wait for the task to end."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - keep the clock running, say what broke
                log.exception("dosim dev: error while running timers")
