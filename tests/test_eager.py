"""Calls that start when made: dosim.eager, and stubs and storage built on it.

Sources: the SDK's binding wrapper calls the JavaScript method before returning its
coroutine (workers-runtime-sdk 1.9.5, ``workers/rpc.py``, ``_BindingWrapper``, lines
289-298); workerd's Python Durable Object test leaves ``setAlarm`` un-awaited and expects
the alarm (``src/workerd/server/tests/python/durable-object/worker.py`` line 42, commit
6552d999c79e).
"""

import asyncio
import contextvars
import sys
import warnings

import pytest

from dosim import App, JsException
from dosim.eager import settled, start_now
from dosim.settle import wait_all_tasks_blocked
from workers import DurableObject

_mark: contextvars.ContextVar[str] = contextvars.ContextVar("mark", default="caller")


async def test_settled_runs_the_body_at_once_and_raises_where_awaited():
    ran = []

    async def body(fail):
        ran.append(fail)
        if fail:
            raise ValueError("boom")
        return 7

    ok, bad = settled(body(False)), settled(body(True))
    assert ran == [False, True]
    assert await ok == 7
    with pytest.raises(ValueError, match="boom"):
        await bad


async def test_start_now_runs_the_call_in_a_task_of_its_own_without_an_await():
    steps = []
    gate = asyncio.Event()
    caller = asyncio.current_task()

    async def body():
        token = _mark.set("callee")
        steps.append(asyncio.current_task() is not caller)
        await gate.wait()
        steps.append("resumed")
        _mark.reset(token)  # same context as the set, across the suspension
        return "done"

    pending = start_now(body())
    await wait_all_tasks_blocked()
    assert steps == [True] and _mark.get() == "caller"
    gate.set()
    await wait_all_tasks_blocked()
    assert steps == [True, "resumed"]  # finished before anyone awaited it
    assert await pending == "done"


async def test_a_timeout_inside_the_call_stays_inside_it():
    async def body():
        try:
            async with asyncio.timeout(0.01):
                await asyncio.sleep(1)
        except TimeoutError:
            return "timed out inside"

    assert await start_now(body()) == "timed out inside"


@pytest.mark.skipif(sys.platform == "emscripten", reason="Pyodide's loop is always running")
def test_without_a_running_loop_the_call_starts_when_awaited():
    async def body():
        return 5

    assert asyncio.run(start_now(body())) == 5


async def test_cancelling_the_waiter_does_not_cancel_the_call():
    gate = asyncio.Event()
    finished = []

    async def body():
        await gate.wait()
        finished.append(True)

    waiter = asyncio.ensure_future(start_now(body()))
    await asyncio.sleep(0)
    waiter.cancel()
    gate.set()
    await wait_all_tasks_blocked()
    assert finished == [True]


class Inbox(DurableObject):
    async def note(self, items):
        seen = await self.ctx.storage.get("seen") or []
        await self.ctx.storage.put("seen", seen + [items])

    async def seen(self):
        return await self.ctx.storage.get("seen") or []

    async def fail(self):
        raise ValueError("nope")


class Sender(DurableObject):
    async def send_and_forget(self):
        items = ["first"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # "never awaited", as in Pyodide
            self.env.INBOX.getByName("in").note(items)
        items.append("changed after the call")  # the arguments were copied at the call
        return "returned"


async def test_an_unawaited_rpc_call_is_delivered_with_the_arguments_it_had():
    app = App(None, {"INBOX": Inbox, "SENDER": Sender})
    assert await app.env.SENDER.getByName("s").send_and_forget() == "returned"
    await app.settle()
    assert await app.env.INBOX.getByName("in").seen() == [["first"]]


async def test_an_rpc_error_is_raised_where_the_call_is_awaited():
    app = App(None, {"INBOX": Inbox})
    pending = app.env.INBOX.getByName("in").fail()
    await app.settle()  # the call already ran and failed; nothing was raised here
    with pytest.raises(JsException, match="\nValueError: .*nope"):
        await pending
