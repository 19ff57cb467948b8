"""Tests of the counter starter app, through HTTP and through RPC."""

import asyncio

from dosim.testing import evict_durable_object, run_in_durable_object


async def test_http_increment_returns_new_value(dosim_app):
    first = await dosim_app.fetch("/apples/increment", method="POST")
    second = await dosim_app.fetch("/apples/increment", method="POST")
    assert (first.status, await first.text()) == (200, "1")
    assert await second.text() == "2"


async def test_http_get_reads_without_changing(dosim_app):
    await dosim_app.fetch("/pears/increment", method="POST")
    response = await dosim_app.fetch("/pears")
    assert await response.text() == "1"
    assert await (await dosim_app.fetch("/pears")).text() == "1"


async def test_unknown_route_is_404(dosim_app):
    response = await dosim_app.fetch("/a/b/c")
    assert response.status == 404


async def test_counters_are_independent_per_name(dosim_app):
    a = dosim_app.env.COUNTER.getByName("a")
    b = dosim_app.env.COUNTER.getByName("b")
    await a.increment(5)
    await b.increment()
    assert (await a.get(), await b.get()) == (5, 1)


async def test_value_survives_eviction(dosim_app):
    stub = dosim_app.env.COUNTER.getByName("kept")
    await stub.increment(3)
    assert evict_durable_object(stub) is True
    assert await stub.get() == 3
    constructions = dosim_app.trace.filter("constructor", name="kept")
    assert len(constructions) == 2


async def test_idle_object_is_evicted_after_ten_seconds(dosim_app):
    stub = dosim_app.env.COUNTER.getByName("idle")
    await stub.increment()
    await dosim_app.advance(9.9)
    assert dosim_app.trace.filter("eviction") == []
    await dosim_app.advance(0.2)
    assert len(dosim_app.trace.filter("eviction", name="idle")) == 1
    assert await stub.get() == 1


async def test_concurrent_increments_are_not_lost(dosim_app):
    stub = dosim_app.env.COUNTER.getByName("busy")
    await asyncio.gather(*(stub.increment() for _ in range(100)))
    assert await stub.get() == 100


async def test_storage_is_seeded_and_read_inside_the_object(dosim_app):
    stub = dosim_app.env.COUNTER.getByName("seeded")
    await run_in_durable_object(stub, lambda obj, ctx: ctx.storage.put("value", 41))
    assert await stub.increment() == 42


async def test_reset_forgets_the_value(dosim_app):
    stub = dosim_app.env.COUNTER.getByName("r")
    await stub.increment()
    await stub.reset()
    assert await stub.get() == 0
