"""Input and output gates, with the acceptance figures measured on workerd."""

import asyncio

import pytest

from dosim import App
from dosim.errors import JsException
from workers import DurableObject


class Counter(DurableObject):
    async def increment(self):
        value = (await self.ctx.storage.get("value") or 0) + 1
        await self.ctx.storage.put("value", value)
        return value

    async def increment_with_sleep(self):
        value = (await self.ctx.storage.get("value") or 0) + 1
        await asyncio.sleep(0.001)
        await self.ctx.storage.put("value", value)
        return value

    async def increment_blocking(self):
        async def critical():
            value = (await self.ctx.storage.get("value") or 0) + 1
            await asyncio.sleep(0.001)
            await self.ctx.storage.put("value", value)
            return value

        return await self.ctx.blockConcurrencyWhile(critical)

    async def value(self):
        return await self.ctx.storage.get("value")


def counter():
    app = App(None, {"COUNTER": Counter})
    return app, app.env.COUNTER.getByName("c")


async def test_storage_awaits_do_not_let_other_events_in():
    _, stub = counter()
    await asyncio.gather(*(stub.increment() for _ in range(100)))
    assert await stub.value() == 100


async def test_awaiting_a_timer_lets_other_events_in_and_updates_are_lost():
    _, stub = counter()
    await asyncio.gather(*(stub.increment_with_sleep() for _ in range(100)))
    assert await stub.value() < 50


async def test_block_concurrency_while_serialises_events_again():
    _, stub = counter()
    results = await asyncio.gather(*(stub.increment_blocking() for _ in range(100)))
    assert await stub.value() == 100
    assert sorted(results) == list(range(1, 101))


class Journal(DurableObject):
    async def write_two(self, fail_between):
        self.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS j(v)")
        self.ctx.storage.sql.exec("INSERT INTO j VALUES (1)")
        if fail_between:
            raise ValueError("stop")
        self.ctx.storage.sql.exec("INSERT INTO j VALUES (2)")

    async def rows(self):
        self.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS j(v)")
        return [row["v"] for row in self.ctx.storage.sql.exec("SELECT v FROM j")]


async def test_writes_before_an_exception_still_commit():
    app = App(None, {"J": Journal})
    stub = app.env.J.getByName("j")
    with pytest.raises(JsException, match="\nValueError: stop$"):
        await stub.write_two(True)
    assert await stub.rows() == [1]


async def test_failed_commit_turns_the_held_result_into_an_error_and_resets():
    app = App(None, {"J": Journal})
    stub = app.env.J.getByName("j")
    await stub.rows()
    app.faults.fail_next_commit(stub)
    with pytest.raises(JsException) as caught:
        await stub.write_two(False)
    assert caught.value.durableObjectReset is True
    assert "reset" in caught.value.message
    fresh = app.env.J.getByName("j")
    assert await fresh.rows() == []  # nobody ever saw the failed writes
    assert any(event.detail["ok"] is False for event in app.trace.filter("commit"))


class Gatekeeper(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.ready = False

        async def setup():
            await asyncio.sleep(0.001)
            self.ready = True

        ctx.blockConcurrencyWhile(setup)

    async def is_ready(self):
        return self.ready


async def test_constructor_block_concurrency_while_runs_before_any_event():
    app = App(None, {"G": Gatekeeper})
    stub = app.env.G.getByName("g")
    assert await asyncio.gather(stub.is_ready(), stub.is_ready()) == [True, True]


class Fragile(DurableObject):
    async def explode_in_critical_section(self):
        async def boom():
            raise RuntimeError("half-initialised")

        await self.ctx.blockConcurrencyWhile(boom)

    async def ping(self):
        return "pong"


async def test_exception_in_block_concurrency_while_resets_the_object():
    app = App(None, {"F": Fragile})
    stub = app.env.F.getByName("f")
    with pytest.raises(JsException, match="\nRuntimeError: .*half-initialised"):
        await stub.explode_in_critical_section()
    with pytest.raises(JsException, match="\nRuntimeError: .*half-initialised"):
        await stub.ping()  # the same stub keeps failing
    assert await app.env.F.getByName("f").ping() == "pong"
    assert app.trace.filter("reset")[0].detail["reason"] == "exception in blockConcurrencyWhile"


class Slow(DurableObject):
    async def hold(self):
        async def forever():
            await asyncio.Event().wait()

        return await self.ctx.blockConcurrencyWhile(forever)


async def test_block_concurrency_while_times_out_after_30_virtual_seconds():
    app = App(None, {"S": Slow})
    stub = app.env.S.getByName("s")
    call = asyncio.ensure_future(stub.hold())
    await asyncio.sleep(0)
    await app.advance(29)
    assert not call.done()
    await app.advance(1)
    with pytest.raises(JsException, match="waited for too long"):
        await call
