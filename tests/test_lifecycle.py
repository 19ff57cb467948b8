"""Eviction, abort, resets and injected faults."""

import pytest

from dosim import App
from dosim.errors import JsException
from dosim.testing import abort_all_durable_objects, list_durable_object_ids
from workers import DurableObject
from workers.entrypoints import DurableObjectAbort


class Memo(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.in_memory = 0

    async def bump(self):
        self.in_memory += 1
        stored = (await self.ctx.storage.get("n") or 0) + 1
        await self.ctx.storage.put("n", stored)
        return [self.in_memory, stored]

    async def write_then_abort(self):
        await self.ctx.storage.put("n", 999)
        self.ctx.abort("giving up")

    async def swallow_abort(self):
        try:
            self.ctx.abort()
        except Exception:
            return "caught"  # must not happen: DurableObjectAbort is a BaseException
        return "unreachable"


@pytest.fixture
def app():
    return App(None, {"MEMO": Memo})


async def test_eviction_forgets_memory_but_keeps_storage(app):
    stub = app.env.MEMO.getByName("m")
    assert await stub.bump() == [1, 1]
    await app.advance(10)
    assert await stub.bump() == [1, 2]


async def test_abort_discards_the_events_writes_and_breaks_the_stub(app):
    stub = app.env.MEMO.getByName("m")
    await stub.bump()
    with pytest.raises(JsException) as caught:
        await stub.write_then_abort()
    assert caught.value.message == "giving up" and caught.value.durableObjectReset
    with pytest.raises(JsException, match="giving up"):
        await stub.bump()
    assert await app.env.MEMO.getByName("m").bump() == [1, 2]


async def test_abort_is_not_caught_by_except_exception(app):
    with pytest.raises(JsException, match="Application called abort"):
        await app.env.MEMO.getByName("m").swallow_abort()


def test_durable_object_abort_is_a_base_exception():
    assert not issubclass(DurableObjectAbort, Exception)


async def test_reset_fault_during_a_call_discards_its_writes(app):
    stub = app.env.MEMO.getByName("m")
    await stub.bump()
    app.faults.reset_on_next_call(stub)
    with pytest.raises(
        JsException, match=r"^Error: Durable Object reset because its code was updated\.$"
    ):
        await stub.bump()
    assert await app.env.MEMO.getByName("m").bump() == [1, 2]


async def test_lost_connection_after_delivery_is_retryable_and_the_call_ran(app):
    stub = app.env.MEMO.getByName("m")
    app.faults.lose_connection_on_next_call(stub)
    with pytest.raises(JsException) as caught:
        await stub.bump()
    assert caught.value.message == "Network connection lost." and caught.value.retryable
    assert await stub.bump() == [2, 2]


async def test_lost_connection_before_delivery_never_reaches_the_object(app):
    stub = app.env.MEMO.getByName("m")
    app.faults.lose_connection_on_next_call(stub, after_delivery=False)
    with pytest.raises(JsException, match="Network connection lost."):
        await stub.bump()
    assert await stub.bump() == [1, 1]


async def test_faults_are_recorded_in_the_trace(app):
    stub = app.env.MEMO.getByName("m")
    app.faults.lose_connection_on_next_call(stub)
    with pytest.raises(JsException):
        await stub.bump()
    assert [e.detail["fault"] for e in app.trace.filter("fault")] == ["lose_connection"]


async def test_abort_all_resets_live_objects_and_keeps_data(app):
    for name in "abc":
        await app.env.MEMO.getByName(name).bump()
    assert abort_all_durable_objects(app) == 3
    assert await app.env.MEMO.getByName("a").bump() == [1, 2]


async def test_list_ids_shows_created_objects_in_order(app):
    for name in ("x", "y"):
        await app.env.MEMO.getByName(name).bump()
    ids = list_durable_object_ids(app.env.MEMO)
    assert [i.toString() for i in ids] == [app.env.MEMO.idFromName(n).toString() for n in "xy"]


async def test_same_inputs_same_seed_same_trace():
    async def run():
        app = App(None, {"MEMO": Memo}, seed=7)
        stub = app.env.MEMO.get(app.env.MEMO.newUniqueId())
        await stub.bump()
        await app.advance(15)
        await stub.bump()
        return app.trace.to_json()

    assert await run() == await run()
