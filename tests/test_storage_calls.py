"""Storage calls start when called, not when awaited, as on Cloudflare.

The SDK's storage wrapper calls the JavaScript method at once and returns a coroutine that
awaits its promise (workers-runtime-sdk 1.9.5, ``workers/rpc.py``, ``_BindingWrapper``,
lines 289-298). workerd's own Python Durable Object test relies on it: it calls
``self.storage.setAlarm(...)`` without ``await`` and asserts that the alarm fired
(workerd ``src/workerd/server/tests/python/durable-object/worker.py``, line 42 and lines
133-142, at commit 6552d999c79e).
"""

import asyncio
import inspect
import time
import warnings

import pytest

from dosim import App
from workers import DurableObject


class Eager(DurableObject):
    def arm_without_await(self):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # "never awaited", as in Pyodide
            self.ctx.storage.setAlarm(time.time() * 1000 + 1_000)
            self.ctx.storage.put("noted", "yes")

    async def noted(self):
        return await self.ctx.storage.get("noted")

    async def fired(self):
        return await self.ctx.storage.get("fired")

    async def alarm(self):
        await self.ctx.storage.put("fired", True)

    async def as_task(self):
        task = asyncio.ensure_future(self.ctx.storage.put("t", 1))
        await task
        return await asyncio.create_task(self.ctx.storage.get("t"))

    async def failing_call_raises_when_awaited(self):
        pending = self.ctx.storage.put("k", (1, 2))  # a tuple cannot be stored
        assert inspect.isawaitable(pending)
        try:
            await pending
        except TypeError as error:
            return str(error)
        return "no error"


@pytest.fixture
def stub():
    return App(None, {"E": Eager}).env.E.getByName("e")


async def test_an_unawaited_set_alarm_and_put_take_effect():
    app = App(None, {"E": Eager})
    stub = app.env.E.getByName("e")
    await stub.arm_without_await()
    assert await stub.noted() == "yes"
    await app.advance(2)
    assert await stub.fired() is True


async def test_storage_calls_are_coroutines_tasks_can_run(stub):
    assert await stub.as_task() == 1


async def test_errors_surface_where_the_call_is_awaited(stub):
    assert "tuple" in (await stub.failing_call_raises_when_awaited())
