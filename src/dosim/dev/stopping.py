"""Stopping ``dosim dev``: Ctrl+C or SIGTERM always stops it, a second signal at once.

uvicorn handles SIGINT and SIGTERM by setting a flag its main loop reads every 100 ms, so
a handler that keeps the event loop busy (a Worker that loops forever) used to make the
server ignore both. :class:`StoppableServer` keeps uvicorn's graceful stop for the first
signal (running requests get up to ``timeout_graceful_shutdown`` seconds, then the app
closes) and adds two guarantees:

* a watcher thread started by the first signal exits the process when the event loop has
  not had a turn for :data:`STUCK_SECONDS` (a handler is still computing; the CPU limit,
  :mod:`dosim.cpulimit`, may be minutes away), or when the stop as a whole takes longer
  than the graceful timeout plus :data:`EXTRA_SECONDS`;
* a second SIGINT or SIGTERM exits at once.

Exiting this way skips closing the databases: every acknowledged write is already
committed to disk (see :mod:`dosim.dev.server`), and what a running handler wrote and did
not commit is lost, as when an object is reset. Python runs signal handlers between
bytecodes, so a handler stuck inside one long C call holding the interpreter (a single
huge regular expression) delays even the second signal until that call returns.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
from types import FrameType

import uvicorn

__all__ = ["StoppableServer", "STUCK_SECONDS", "EXTRA_SECONDS"]

STUCK_SECONDS = 2.0
"""After a stop signal, exit when the event loop has had no turn for this long."""
EXTRA_SECONDS = 5.0
"""After a stop signal, exit when the graceful stop took this much longer than allowed."""


def _say(text: str) -> None:
    # os.write, not logging: this may run in a signal handler or beside a stuck loop.
    try:
        os.write(sys.stderr.fileno(), text.encode() + b"\n")
    except (OSError, ValueError):
        pass


class StoppableServer(uvicorn.Server):
    """uvicorn's server, made to stop on a signal whatever the app is doing.

    Args:
        config: The uvicorn settings.
    """

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._signals = 0

    async def serve(self, sockets: list | None = None) -> None:  # type: ignore[override]
        """Serve until stopped (see the module docstring)."""
        self._loop = asyncio.get_running_loop()
        await super().serve(sockets=sockets)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        """A stop signal: the first stops gracefully and starts the watcher, the second exits."""
        self._signals += 1
        if self._signals > 1:
            _say("dosim dev: second stop signal; exiting now")
            os._exit(128 + int(sig))
        super().handle_exit(sig, frame)
        loop = self._loop
        if loop is not None:
            deadline = self.config.timeout_graceful_shutdown or 0
            threading.Thread(
                target=_watch_stop,
                args=(loop, int(sig), deadline + EXTRA_SECONDS),
                name="dosim-dev-stop",
                daemon=True,
            ).start()


def _watch_stop(loop: asyncio.AbstractEventLoop, sig: int, limit: float) -> None:
    """Exit the process if the loop is stuck, or if the stop takes longer than ``limit``."""
    started = time.monotonic()
    last_turn = [started]

    def turn() -> None:
        last_turn[0] = time.monotonic()

    while True:
        time.sleep(0.1)
        if loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(turn)
        except RuntimeError:  # closed meanwhile: the stop finished
            return
        now = time.monotonic()
        if not loop.is_running():  # asyncio.run cleaning up: no handler can be stuck
            last_turn[0] = now
        if now - last_turn[0] > STUCK_SECONDS:
            _say(
                f"dosim dev: a handler has kept the server busy for {now - last_turn[0]:.1f} s;"
                " stopping without waiting for it"
            )
            os._exit(128 + sig)
        if now - started > limit:
            _say(f"dosim dev: the stop took longer than {limit:.0f} s; exiting now")
            os._exit(128 + sig)
