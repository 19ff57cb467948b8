"""Settling: let every task that can run, run, until all of them wait on something.

Tests and the simulator's own drivers need a point where "everything that was started has
gone as far as it can": a message a client sent has reached the object's handler, a
``waitUntil`` task has written what it writes before its next timer, a socket's close has
been delivered. :func:`wait_all_tasks_blocked` is that point, after Trio's helper of the
same name: it yields to the event loop until no other task is ready to run.

A task counts as *ready* when it has not finished, its code is not on the stack, and it
is not waiting on an unfinished future: it was just created, it yielded with
``await asyncio.sleep(0)``, or what it awaited has completed and it has yet to resume.
A task waiting on a timer (virtual-time timers are driven by :meth:`dosim.App.advance`),
a socket or a queue counts as blocked.

Where dosim chooses: plain loop callbacks (``call_soon``) are not tasks and cannot be
seen, so the loop must be quiet for :data:`QUIET_TURNS` turns in a row, which covers the
callbacks asyncio chains between a finished task and the task awaiting it (``gather``,
``wait_for``, nested a few deep). A task that never blocks
(``while True: await asyncio.sleep(0)``) would keep the loop busy forever: the wait gives
up after :data:`MAX_TURNS` turns.
"""

from __future__ import annotations

import asyncio

__all__ = ["wait_all_tasks_blocked", "QUIET_TURNS", "MAX_TURNS"]

QUIET_TURNS = 8
"""Loop turns in a row with no task ready before the wait ends (the number of turns
dosim used to wait in all, so the old guarantee is the floor)."""
MAX_TURNS = 1_000
"""Loop turns after which the wait ends even if a task is still ready."""


def _ready(task: asyncio.Task[object]) -> bool:
    if task.done():
        return False
    # A task whose code is on the stack is not waiting for the loop: the caller's own, or
    # in Pyodide one suspended inside ``run_sync`` (the task that runs the test session).
    if getattr(task.get_coro(), "cr_running", False):
        return False
    # The task's own record of the future it is suspended on; None while it is scheduled.
    waiter = getattr(task, "_fut_waiter", None)
    return waiter is None or waiter.done()


async def wait_all_tasks_blocked() -> None:
    """Return once every other task of the running loop is blocked or finished.

    Yields at least :data:`QUIET_TURNS` times; see the module docstring for what counts as
    blocked and why the wait is bounded.
    """
    me = asyncio.current_task()
    quiet = 0
    for _ in range(MAX_TURNS):
        await asyncio.sleep(0)
        if any(_ready(task) for task in asyncio.all_tasks() if task is not me):
            quiet = 0
            continue
        quiet += 1
        if quiet >= QUIET_TURNS:
            return
